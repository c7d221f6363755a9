"""Safe, recorded repair of the problems :func:`agroforest_geo.validate` finds.

:func:`repair` changes only what it can fix without guessing, never drops a row
and records every change in the returned :class:`~agroforest_geo.validate.ValidationReport`
(codes ``swapped_axes``, ``extracted_polygons``, ``repaired_invalid``,
``removed_duplicate_vertices``, ``reoriented``), followed by the findings that
remain after the repair (what could not be fixed).
"""

from __future__ import annotations

from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.polygon import orient as _orient_one

from ._antimeridian import crosses_antimeridian, cut_antimeridian
from ._screen import blank, nonfinite
from .area import geodesic_area_m2
from .io import LAYER_SCHEMAS
from .validate import (
    RULES,
    LayerKind,
    ValidationReport,
    geometry_array,
    make_findings,
    resolve_id_column,
    validate,
)

__all__ = ["repair"]

_SWAP_AXES = ("auto", "never")
#: Changes whose message records the feature's area before and after.
_AREA_CHANGES = frozenset({"swapped_axes", "extracted_polygons", "repaired_invalid"})
_BAD_COORDS = (
    "swapped_lonlat",
    "coords_out_of_range",
    "projected_as_degrees",
    "degrees_as_projected",
    "nonfinite_coordinates",
)


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Return the polygons inside ``geom`` as one (Multi)Polygon, None when there are none."""
    polys: list[shapely.Geometry] = []
    stack = [geom]
    while stack:
        g = stack.pop()
        tid = shapely.get_type_id(g)
        if tid == 3 and not g.is_empty:
            polys.append(g)
        elif tid in (6, 7):
            stack.extend(reversed(shapely.get_parts(g).tolist()))
    if not polys:
        return None
    if len(polys) == 1:
        return polys[0]
    return shapely.MultiPolygon(polys)


def _make_valid(geom: shapely.Geometry) -> shapely.Geometry:
    try:
        return shapely.make_valid(geom, method="structure", keep_collapsed=False)
    except (TypeError, ValueError):  # shapely < 2.1 or GEOS < 3.10: linework method only
        return shapely.make_valid(geom)


def _orient(geoms: np.ndarray) -> np.ndarray:
    if hasattr(shapely, "orient_polygons"):  # shapely >= 2.1, vectorized
        return np.asarray(shapely.orient_polygons(geoms, exterior_cw=False), dtype=object)
    out = np.empty(geoms.size, dtype=object)
    for i, g in enumerate(geoms):
        if shapely.get_type_id(g) == 3:
            out[i] = _orient_one(g, 1.0)
        else:
            out[i] = shapely.MultiPolygon([_orient_one(p, 1.0) for p in g.geoms])
    return out


def _with_area_change(
    changes: list[tuple[int | None, str, str]], old: np.ndarray, new: np.ndarray, crs: Any
) -> list[tuple[int | None, str, str]]:
    """Append the area before and after to the messages of the changes that move it."""
    pos = sorted({p for p, code, _ in changes if p is not None and code in _AREA_CHANGES})
    if not pos:
        return changes
    idx = np.array(pos, dtype=np.int64)
    a, b = old[idx], new[idx]
    if crs is not None:
        ok = ~nonfinite(a) & ~nonfinite(b)
        before = np.full(idx.size, np.nan)
        after = np.full(idx.size, np.nan)
        before[ok] = geodesic_area_m2(a[ok], crs) / 10_000.0
        after[ok] = geodesic_area_m2(b[ok], crs) / 10_000.0
        unit = "ha"
    else:
        before, after, unit = shapely.area(a), shapely.area(b), "square map units (no CRS)"
    note = {
        p: f"; area {x:.6g} -> {y:.6g} {unit} (change {y - x:+.6g})"
        for p, x, y in zip(pos, before.tolist(), after.tolist(), strict=True)
    }
    return [
        (p, code, msg + note[p] if p is not None and code in _AREA_CHANGES else msg)
        for p, code, msg in changes
    ]


def repair(
    gdf: gpd.GeoDataFrame,
    *,
    kind: LayerKind | None = None,
    id_column: str | None = None,
    swap_axes: Literal["auto", "never"] = "auto",
    min_area_m2: float = 100.0,
    sliver_ratio: float = 0.05,
    spike_angle_deg: float = 25.0,
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Fix what can be fixed safely and report every change and what is left.

    In this order, on the features that need it:

    1. ``swapped_axes``: x and y exchanged where :func:`validate` flags
       ``swapped_lonlat`` (only with ``swap_axes="auto"``; exact, no rounding).
    2. ``extracted_polygons``: the polygons of a geometry collection are kept
       (only where the layer kind allows polygons).
    3. ``repaired_invalid``: invalid polygons go through
       ``shapely.make_valid(method="structure", keep_collapsed=False)`` and
       the polygonal part is kept (a bow-tie becomes a two-part MultiPolygon).
    4. ``removed_duplicate_vertices``: consecutive repeated vertices removed.
    5. ``reoriented``: exterior rings counter-clockwise, holes clockwise.
    6. ``cut_at_antimeridian``: a polygon across the antimeridian is cut at
       ±180° into parts (RFC 7946 §3.1.9; area unchanged).

    The messages of ``swapped_axes``, ``extracted_polygons`` and
    ``repaired_invalid`` record the feature's ellipsoidal area before and after
    (``area 0 -> 0.5 ha (change +0.5)``; planar map units without a CRS).

    Valid polygons keep their area (orientation and repeated vertices do not
    change it). A geometry that cannot be fixed (a point in a parcels layer, a
    ring that collapses to nothing, a missing geometry) is left as it is and
    its findings stay in the report. No row is dropped.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer; not modified.
    kind, id_column, min_area_m2, sliver_ratio, spike_angle_deg
        As for :func:`agroforest_geo.validate`.
    swap_axes : {"auto", "never"}
        Whether to swap coordinates flagged ``swapped_lonlat``.

    Returns
    -------
    repaired : GeoDataFrame
        Same index, columns and CRS as ``gdf``.
    report : ValidationReport
        The changes (one finding per change and feature) followed by the
        findings of :func:`validate` on the repaired layer.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd, shapely
    >>> bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    >>> gdf = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[bowtie], crs=32718)
    >>> fixed, report = agf.repair(gdf, kind="parcels")
    >>> fixed.geometry.iloc[0].geom_type, fixed.geometry.iloc[0].area
    ('MultiPolygon', 5000.0)
    >>> report.findings["code"].tolist()[:2]
    ['repaired_invalid', 'reoriented']
    >>> messy = agf.read_parcels(agf.datasets.get_path("parcels_messy"))
    >>> fixed, report = agf.repair(messy, kind="parcels")
    >>> len(fixed) == len(messy), fixed.index.equals(messy.index)
    (True, True)
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"gdf must be a GeoDataFrame, got {type(gdf).__name__}")
    if swap_axes not in _SWAP_AXES:
        raise ValueError(f"swap_axes must be one of {list(_SWAP_AXES)}, got {swap_axes!r}")
    options = {
        "kind": kind,
        "id_column": id_column,
        "min_area_m2": min_area_m2,
        "sliver_ratio": sliver_ratio,
        "spike_angle_deg": spike_angle_deg,
    }
    before = validate(gdf, **options)  # type: ignore[arg-type]
    id_col, _ = resolve_id_column(gdf, kind, id_column)
    ids = gdf[id_col].to_numpy(dtype=object) if id_col is not None else None
    geoms = geometry_array(gdf)
    changes: list[tuple[int | None, str, str]] = []

    # features whose coordinates stay implausible are not touched at all
    f = before.findings
    blocked = np.zeros(len(geoms), dtype=bool)
    bad_coords = f["code"].isin(_BAD_COORDS) & f["position"].notna()
    blocked[f.loc[bad_coords, "position"].to_numpy(dtype=np.int64)] = True

    # 1. swapped axes
    if swap_axes == "auto":
        pos = f.loc[f["code"] == "swapped_lonlat", "position"].to_numpy(dtype=np.int64)
        if pos.size:
            geoms[pos] = shapely.transform(geoms[pos], lambda c: c[:, ::-1])
            changes += [(int(p), "swapped_axes", "x and y swapped back") for p in pos]
            blocked[pos] = False

    # 2. polygons out of geometry collections
    polygons_allowed = kind is None or "Polygon" in LAYER_SCHEMAS[kind].geometry_types
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & ~blocked
    if polygons_allowed:
        for p in np.flatnonzero(present & (shapely.get_type_id(geoms) == 7)).tolist():
            part = _polygonal_part(geoms[p])
            if part is not None:
                geoms[p] = part
                changes.append(
                    (p, "extracted_polygons", f"kept the polygons ({part.geom_type}) only")
                )

    # 3. invalid polygons
    polygonal = present & np.isin(shapely.get_type_id(geoms), (3, 6))
    invalid = polygonal & ~np.asarray(shapely.is_valid(geoms), dtype=bool)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        for p, reason in zip(np.flatnonzero(invalid).tolist(), reasons, strict=True):
            fixed = _polygonal_part(_make_valid(geoms[p]))
            if fixed is None or not fixed.is_valid:
                continue  # cannot be fixed: left alone, still reported
            n_parts = shapely.get_num_geometries(fixed)
            changes.append(
                (
                    p,
                    "repaired_invalid",
                    f"made valid (GEOS reason was: {reason}); now a {fixed.geom_type} "
                    f"of {n_parts} part{'s' if n_parts != 1 else ''}",
                )
            )
            geoms[p] = fixed

    # 4 and 5: only on valid polygons, so nothing unfixable is touched
    ok = polygonal & np.asarray(shapely.is_valid(geoms), dtype=bool)
    if ok.any():
        idx = np.flatnonzero(ok)
        cur = geoms[idx]
        dedup = np.asarray(shapely.remove_repeated_points(cur, 0.0), dtype=object)
        n_before = shapely.get_num_coordinates(cur)
        removed = n_before - shapely.get_num_coordinates(dedup)
        fine = np.asarray(shapely.is_valid(dedup), dtype=bool) & (removed > 0)
        for j in np.flatnonzero(fine).tolist():
            changes.append(
                (
                    int(idx[j]),
                    "removed_duplicate_vertices",
                    f"removed {int(removed[j])} repeated vertices",
                )
            )
        cur = np.where(fine, dedup, cur)
        oriented = _orient(cur)
        turned = ~np.asarray(shapely.equals_exact(cur, oriented, tolerance=0.0), dtype=bool)
        changes += [
            (
                int(idx[j]),
                "reoriented",
                "rings oriented: exterior counter-clockwise, holes clockwise",
            )
            for j in np.flatnonzero(turned).tolist()
        ]
        geoms[idx] = np.where(turned, oriented, cur)

    # 6. polygons across the antimeridian: cut at ±180° (RFC 7946 §3.1.9)
    across = np.flatnonzero(crosses_antimeridian(blank(geoms, blocked), gdf.crs))
    if across.size:
        geoms[across] = cut_antimeridian(geoms[across], gdf.crs)
        changes += [(int(p), "cut_at_antimeridian", "cut at ±180° into parts") for p in across]
    changes = _with_area_change(changes, geometry_array(gdf), geoms, gdf.crs)

    out = gdf.copy()
    gname = gdf.geometry.name
    out[gname] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs).values
    # nothing changed: the layer's findings are those already found (no second validation)
    after = validate(out, **options) if changes else before  # type: ignore[arg-type]
    change_frame = make_findings(gdf.index, ids, changes)
    if change_frame.empty:
        findings = after.findings
    else:
        findings = pd.concat(
            [f for f in (change_frame, after.findings) if not f.empty], ignore_index=True
        )
        order = {c: i for i, c in enumerate(RULES)}
        is_change = np.r_[np.ones(len(change_frame)), np.zeros(len(findings) - len(change_frame))]
        findings = (
            findings.assign(
                _pos=findings["position"].fillna(-1).astype(int),
                _change=-is_change,
                _rule=findings["code"].map(order),
            )
            .sort_values(["_pos", "_change", "_rule"], kind="stable")
            .drop(columns=["_pos", "_change", "_rule"])
            .reset_index(drop=True)
        )
        findings["position"] = findings["position"].astype("Int64")
    return out, ValidationReport(findings, gdf.index.copy())

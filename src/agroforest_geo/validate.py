"""Validation of parcel, plot and protected-area layers, with stable rule codes.

:func:`validate` runs every rule of :data:`RULES` over a layer and returns a
:class:`ValidationReport`: one row per finding (feature, code, severity and a
message that names the reason and the fix). The rules are vectorized with
shapely 2; only the few flagged features are visited one by one to word their
messages. :func:`agroforest_geo.repair` fixes what can be fixed safely.

Findings about the whole layer (``missing_crs``, ``missing_id_column``) have no
row (``row`` and ``position`` are missing); they count for :attr:`ValidationReport.ok`
but not in the per-feature :meth:`ValidationReport.flags`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ._antimeridian import crosses_antimeridian
from ._points import POINT_MAX_HA, is_point, point_areas_ha
from ._screen import blank as blanked
from ._screen import nonfinite
from ._swaps import claimed_countries, position, swapped_lonlat
from .area import geodesic_area_m2, perimeter_m
from .crs import _crs_label, norm_crs
from .errors import MissingColumnError
from .findings import RULES, Rule, ValidationReport, make_findings
from .io import LAYER_SCHEMAS

__all__ = ["RULES", "Rule", "ValidationReport", "validate"]

LayerKind = Literal["parcels", "plots", "protected_areas"]

_KINDS: tuple[str, ...] = ("parcels", "plots", "protected_areas")


_POLY_TYPES = ("Polygon", "MultiPolygon")
_TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def geometry_array(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Return a copy of the geometries as an object array, missing ones as ``None``."""
    geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
    geoms[pd.isna(geoms)] = None
    return geoms


def resolve_id_column(
    gdf: gpd.GeoDataFrame, kind: str | None, id_column: str | None
) -> tuple[str | None, bool]:
    """Return ``(id column or None, whether the kind's default column is absent)``."""
    if kind is not None and kind not in _KINDS:
        raise ValueError(f"kind must be one of {list(_KINDS)} or None, got {kind!r}")
    if id_column is not None:
        if id_column not in gdf.columns:
            raise MissingColumnError(
                f"id_column {id_column!r} is not a column of the layer; its columns are "
                f"{[c for c in gdf.columns if c != gdf.geometry.name]}"
            )
        return id_column, False
    if kind is None:
        return None, False
    default = LAYER_SCHEMAS[kind].id_column
    if default in gdf.columns:
        return default, False
    return None, True


def _ring_table(geoms: np.ndarray) -> dict[str, np.ndarray]:
    """Rings of the polygonal geometries with their vertices (one flat array)."""
    tid = shapely.get_type_id(geoms)
    idx = np.flatnonzero(np.isin(tid, (3, 6)) & ~shapely.is_empty(geoms))
    parts, part_owner = shapely.get_parts(geoms[idx], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    exterior = np.ones(len(ring_part), dtype=bool)
    exterior[1:] = ring_part[1:] != ring_part[:-1]
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    return {
        "owner": idx[part_owner][ring_part],
        "exterior": exterior,
        "n": np.asarray(len(rings)),
        "xy": coords,
        "ring": ring_of,
    }


def _ring_checks(
    geoms: np.ndarray, geographic: bool, spike_angle_deg: float
) -> dict[str, np.ndarray]:
    """Per feature: bad orientation, duplicate vertices, too few vertices, spike location."""
    n = geoms.size
    out = {
        "orientation": np.zeros(n, dtype=bool),
        "duplicates": np.zeros(n, dtype=np.int64),
        "few": np.zeros(n, dtype=bool),
        "spike_xy": np.full((n, 2), np.nan),
        "spike_angle": np.full(n, np.nan),
    }
    t = _ring_table(geoms)
    nring = int(t["n"])
    if nring == 0:
        return out
    xy, ring, owner = t["xy"], t["ring"], t["owner"]
    start = np.searchsorted(ring, np.arange(nring))
    # centre each ring on its first vertex for precise cross products
    dxy = xy - xy[start][ring]
    if geographic:
        dxy[:, 0] *= np.cos(np.radians(xy[:, 1]))
    same_ring = ring[1:] == ring[:-1]
    # consecutive duplicates
    dup = same_ring & np.all(xy[1:] == xy[:-1], axis=1)
    np.add.at(out["duplicates"], owner[ring[1:][dup]], 1)
    # distinct vertices per ring
    uniq = np.unique(np.column_stack([ring, xy]), axis=0)
    distinct = np.bincount(uniq[:, 0].astype(np.int64), minlength=nring)
    few_ring = distinct < 3
    out["few"][owner[few_ring]] = True
    # orientation from the shoelace sum
    cross = np.where(same_ring, dxy[:-1, 0] * dxy[1:, 1] - dxy[1:, 0] * dxy[:-1, 1], 0.0)
    signed = np.bincount(ring[:-1], weights=cross, minlength=nring)
    bad = np.where(t["exterior"], signed < 0, signed > 0) & ~few_ring
    out["orientation"][owner[bad]] = True
    # spikes: angle at each vertex between the previous and next distinct vertex
    keep = np.ones(len(ring), dtype=bool)
    keep[1:] = ~dup
    last = np.r_[~same_ring, True]  # closing vertex repeats the first
    keep &= ~last
    keep &= ~few_ring[ring]
    v_ring, v = ring[keep], dxy[keep]
    if v_ring.size:
        vstart = np.searchsorted(v_ring, v_ring)
        vend = np.searchsorted(v_ring, v_ring, side="right") - 1
        i = np.arange(v_ring.size)
        prev = np.where(i == vstart, vend, i - 1)
        nxt = np.where(i == vend, vstart, i + 1)
        a, b = v[prev] - v, v[nxt] - v
        cross_ab = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        angle = np.degrees(np.arctan2(np.abs(cross_ab), np.sum(a * b, axis=1)))
        # convex vertex: the ring turns the same way as its orientation (sign of its area)
        convex = np.sign(-cross_ab) == np.sign(signed[v_ring])
        # a spike goes out and back: a sharp tip next to a vertex that turns the other way
        # (an ordinary sharp corner, as in a triangle, has convex neighbours)
        spiky = (angle < spike_angle_deg) & ((convex != convex[prev]) | (convex != convex[nxt]))
        sharp = np.flatnonzero(spiky)
        orig_xy = xy[keep]
        for j in sharp[::-1]:  # the first spike of each feature wins
            f = owner[v_ring[j]]
            out["spike_xy"][f] = orig_xy[j]
            out["spike_angle"][f] = angle[j]
    return out


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _invalid_message(geom: shapely.Geometry, reason: str) -> str:
    kind = reason.split("[")[0]
    extra = ""
    if (
        kind == "Self-intersection"
        and shapely.get_type_id(geom) == 3
        and shapely.get_num_interior_rings(geom) == 0
        and len({tuple(c) for c in shapely.get_coordinates(geom)}) == 4
    ):
        extra = " (a bow-tie: the boundary crosses itself)"
    return (
        f"invalid geometry, GEOS reason: {reason}{extra}; run agf.repair() "
        "(make_valid, keeps the polygonal part) or fix that vertex in a GIS"
    )


def _bounds_checks(
    geoms: np.ndarray,
    crs: pyproj.CRS,
    usable: np.ndarray,
    countries: np.ndarray | None = None,
    farmland: bool = False,
) -> dict[str, np.ndarray]:
    """Coordinate plausibility per feature (only rows in ``usable`` are judged).

    Besides each feature's own bounds, the whole layer is judged: features are
    swapped by the rules of :func:`agroforest_geo._swaps.swapped_lonlat` (or when
    they fit the CRS's area of use only once swapped), and a projected layer whose
    coordinates are *all* within ±180/±90 is in degrees.
    """
    n = geoms.size
    res = {
        c: np.zeros(n, dtype=bool)
        for c in (
            "coords_out_of_range",
            "swapped_lonlat",
            "projected_as_degrees",
            "degrees_as_projected",
            "outside_area_of_use",
        )
    }
    b = shapely.bounds(geoms)
    xmin, ymin, xmax, ymax = b.T
    finite = usable & np.all(np.isfinite(b), axis=1)
    aou = crs.area_of_use
    if crs.is_geographic:
        in_range = (xmin >= -180) & (xmax <= 180) & (ymin >= -90) & (ymax <= 90)
        swap_ok = (ymin >= -180) & (ymax <= 180) & (xmin >= -90) & (xmax <= 90)
        far = np.nanmax(np.abs(b), axis=1, initial=0.0) > 1_000
        res["projected_as_degrees"] = finite & ~in_range & ~swap_ok & far
        res["coords_out_of_range"] = finite & ~in_range & ~swap_ok & ~far
        res["swapped_lonlat"] = swapped_lonlat(b, finite, countries=countries, farmland=farmland)
        if aou is not None:
            cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
            ok = finite & in_range
            inside = _inside(cx, cy, aou)
            inside_sw = _inside(cy, cx, aou)
            res["swapped_lonlat"] |= ok & ~inside & inside_sw
            res["outside_area_of_use"] = ok & ~inside & ~inside_sw & ~res["swapped_lonlat"]
        return res
    # projected (or other) CRS
    looks_deg = (xmin >= -180) & (xmax <= 180) & (ymin >= -90) & (ymax <= 90)
    small = ((xmax - xmin) < 1.0) & ((ymax - ymin) < 1.0)
    whole_layer = bool(finite.any() and looks_deg[finite].all())  # no projected layer is that
    res["degrees_as_projected"] = finite & looks_deg & (small | whole_layer)
    todo = finite & ~res["degrees_as_projected"]
    if todo.any():
        geo = crs.geodetic_crs
        if geo is None:  # pragma: no cover - every CRS with a datum has one
            return res
        tr = pyproj.Transformer.from_crs(crs, geo, always_xy=True)
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        with np.errstate(invalid="ignore"):
            lon, lat = tr.transform(cx[todo], cy[todo], errcheck=False)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lat) > 90)
        res["coords_out_of_range"][np.flatnonzero(todo)[bad]] = True
        if aou is not None:
            outside = ~bad & ~_inside(lon, lat, aou)
            res["outside_area_of_use"][np.flatnonzero(todo)[outside]] = True
    return res


def _inside(lon: np.ndarray, lat: np.ndarray, aou: Any, margin: float = 1.0) -> np.ndarray:
    west, south, east, north = aou.west, aou.south, aou.east, aou.north
    in_lat = (lat >= south - margin) & (lat <= north + margin)
    if west <= east:
        in_lon = (lon >= west - margin) & (lon <= east + margin)
    else:  # crosses the antimeridian
        in_lon = (lon >= west - margin) | (lon <= east + margin)
    return np.asarray(in_lat & in_lon)


def validate(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    kind: LayerKind | None = None,
    id_column: str | None = None,
    country: str | None = None,
    min_area_m2: float = 100.0,
    sliver_ratio: float = 0.05,
    spike_angle_deg: float = 25.0,
) -> ValidationReport:
    """Check every feature of a layer against the rules of :data:`RULES`.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        Any layer, with or without CRS, in degrees or metres. Not modified.
    kind : {"parcels", "plots", "protected_areas"}, optional
        Layer kind: sets the allowed geometry types and the default id column
        from :data:`agroforest_geo.io.LAYER_SCHEMAS`. ``None``: any geometry
        type, no id column unless ``id_column`` is given.
    id_column : str, optional
        Column holding the feature ids (checked for blanks and duplicates).
    country : str, optional
        ISO 3166-1 alpha-2 code of the country the layer claims to be in (e.g.
        ``"PE"``); a ``country`` column, where filled, wins per feature. Features
        outside that country that fall inside it once x and y are swapped get
        ``swapped_lonlat``, as do features of a parcels or plots layer lying
        where nothing is grown (latitude below -60° or above 72°) that fit once
        swapped: a whole layer swapped (Peru read as latitude -76°) is caught
        even though each of its features has valid coordinates. A single
        feature far from the layer's other features (3 or more) that falls among
        them once swapped is ``swapped_lonlat`` too; a layer spread over several
        countries is not judged so (:mod:`agroforest_geo._swaps` gives the rules).
    min_area_m2 : float
        Polygons whose ellipsoidal area is below this get ``tiny_area``.
    sliver_ratio : float
        Polygons whose Polsby-Popper compactness 4πA/P² is below this get
        ``sliver`` (a square is 0.785, a 1:60 rectangle about 0.05).
    spike_angle_deg : float
        A vertex whose two edges meet at less than this angle, and whose two
        neighbours turn the other way (the boundary goes out and back), is a
        ``spike``. A sharp corner of a triangle is not a spike.

    Returns
    -------
    ValidationReport
        Area, sliver, orientation and spike rules are judged only on valid
        polygons with plausible coordinates; without a CRS the area rules are
        skipped and compactness is planar.

    Raises
    ------
    MissingColumnError
        If ``id_column`` is not a column.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd, shapely
    >>> x, y = 500_000, 9_200_000  # UTM 18S, near Juanjuí
    >>> bowtie = shapely.Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    >>> square = shapely.box(x, y, x + 100, y + 100)
    >>> gdf = gpd.GeoDataFrame({"parcel_id": ["a", "a"]}, geometry=[bowtie, square], crs=32718)
    >>> report = agf.validate(gdf, kind="parcels")
    >>> report.findings[["row", "id", "code"]]
       row id               code
    0    0  a   invalid_geometry
    1    0  a       duplicate_id
    2    1  a       duplicate_id
    >>> "Self-intersection" in report.findings.loc[0, "message"]
    True
    >>> messy = agf.read_parcels(agf.datasets.get_path("parcels_messy"))
    >>> agf.validate(messy, kind="parcels").ok
    False
    """
    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"gdf must be a GeoDataFrame or GeoSeries, got {type(gdf).__name__}")
    id_col, id_absent = resolve_id_column(gdf, kind, id_column)
    for name, value in (
        ("min_area_m2", min_area_m2),
        ("sliver_ratio", sliver_ratio),
        ("spike_angle_deg", spike_angle_deg),
    ):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    geoms = geometry_array(gdf)
    ids = gdf[id_col].to_numpy(dtype=object) if id_col is not None else None
    crs = norm_crs(gdf.crs)
    items: list[tuple[int | None, str, str]] = []

    def add(mask: np.ndarray, code: str, message: Any) -> None:
        for p in np.flatnonzero(mask).tolist():
            items.append((p, code, message(p) if callable(message) else message))

    # -- the layer ------------------------------------------------------------------
    if crs is None:
        items.append((None, "missing_crs", _missing_crs_message(geoms)))
    if id_absent:
        assert kind is not None
        want = LAYER_SCHEMAS[kind].id_column
        items.append(
            (
                None,
                "missing_id_column",
                f"the {kind} layer has no {want!r} column; rename the id column to {want!r} "
                "or pass id_column=...",
            )
        )
    # -- presence and type ------------------------------------------------------------
    missing = shapely.is_missing(geoms)
    empty = shapely.is_empty(geoms) & ~missing
    add(missing, "null_geometry", "no geometry (None); digitize the feature or drop the row")
    add(empty, "empty_geometry", "empty geometry; digitize the feature again or drop the row")
    present = ~missing & ~empty
    bad_xy = nonfinite(geoms) & present
    add(
        bad_xy,
        "nonfinite_coordinates",
        "a vertex is NaN or infinite; measures give NaN. Fix or delete that vertex, or drop "
        "the row",
    )
    present &= ~bad_xy
    geoms = blanked(geoms, bad_xy)  # never handed to GEOS
    type_id = shapely.get_type_id(geoms)
    if kind is not None:
        allowed = LAYER_SCHEMAS[kind].geometry_types
        ok_type = np.isin(type_id, [_TYPE_NAMES.index(t) for t in allowed])
        fix = (
            "repair() keeps its polygons"
            if "Polygon" in allowed
            else f"convert it to one of {list(allowed)}"
        )
        add(
            present & ~ok_type,
            "geometry_type",
            lambda p: (
                f"{_TYPE_NAMES[type_id[p]]} not allowed in a {kind} layer (allowed: "
                f"{', '.join(allowed)}); "
                + (fix if type_id[p] == 7 else "digitize it as one of the allowed types")
            ),
        )
    if kind == "parcels":
        point_ha = np.where(is_point(geoms), point_areas_ha(gdf, geoms.size), np.nan)
        add(
            point_ha > POINT_MAX_HA,
            "point_over_4_ha",
            lambda p: (
                f"a point standing for {point_ha[p]:g} ha (declared_area_ha); the EU allows "
                f"points only up to {POINT_MAX_HA:g} ha: digitize the plot's polygon"
            ),
        )
    # -- validity -----------------------------------------------------------------------
    valid = np.asarray(shapely.is_valid(geoms), dtype=bool) & present
    invalid = present & ~valid
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        reason_of = dict(zip(np.flatnonzero(invalid).tolist(), reasons, strict=True))
        add(invalid, "invalid_geometry", lambda p: _invalid_message(geoms[p], reason_of[p]))
    polygonal = present & np.isin(type_id, (3, 6))
    add(
        crosses_antimeridian(blanked(geoms, ~(polygonal & valid)), crs),
        "crosses_antimeridian",
        "the polygon spans more than 180° of longitude: it crosses the antimeridian; "
        "read_parcels / read_layer and repair() cut it at ±180° (RFC 7946 §3.1.9)",
    )
    geographic = bool(crs is not None and crs.is_geographic)
    poly_geoms = geoms.copy()
    poly_geoms[~polygonal] = None
    rings = _ring_checks(poly_geoms, geographic, spike_angle_deg)
    add(
        rings["few"],
        "too_few_vertices",
        "a ring has fewer than 3 distinct vertices (no area); digitize it again",
    )
    # -- coordinates ----------------------------------------------------------------------
    coords_ok = present.copy()
    if crs is not None:
        bounds = _bounds_checks(
            geoms,
            crs,
            present,
            claimed_countries(gdf, country),
            farmland=kind in ("parcels", "plots"),
        )
        for code in (
            "coords_out_of_range",
            "swapped_lonlat",
            "projected_as_degrees",
            "degrees_as_projected",
        ):
            add(bounds[code], code, lambda p, c=code: _coords_message(c, geoms[p], crs))
            coords_ok &= ~bounds[code]
        add(
            bounds["outside_area_of_use"],
            "outside_area_of_use",
            lambda p: (
                f"the feature lies outside the area of use of {_crs_label(crs)} "
                f"({_aou_label(crs)}); check the CRS (e.g. the UTM zone) or the coordinates"
            ),
        )
    # -- ids --------------------------------------------------------------------------------
    if ids is not None:
        blank = pd.isna(pd.Series(ids, dtype=object)).to_numpy() | np.array(
            [isinstance(v, str) and not v.strip() for v in ids], dtype=bool
        )
        add(blank, "missing_id", f"{id_col} is missing or blank; fill in the id")
        s = pd.Series(ids, dtype=object)
        dup = s.duplicated(keep=False).to_numpy() & ~blank
        counts = s[dup].value_counts()
        add(
            dup,
            "duplicate_id",
            lambda p: (
                f"{id_col} {ids[p]!r} is used by {counts[ids[p]]} features; "
                "give every feature its own id"
            ),
        )
    # -- shape of good polygons ---------------------------------------------------------------
    good = polygonal & valid & coords_ok & ~rings["few"]
    add(
        good & rings["orientation"],
        "wrong_orientation",
        "rings not oriented as RFC 7946 wants (exterior counter-clockwise, holes clockwise); "
        "repair() orients them without changing the area",
    )
    add(
        polygonal & rings["duplicates"].astype(bool),
        "duplicate_vertices",
        lambda p: (
            f"{rings['duplicates'][p]} consecutive duplicate vertices; repair() removes "
            "them without changing the area"
        ),
    )
    add(
        good & np.isfinite(rings["spike_angle"]),
        "spike",
        lambda p: (
            f"spike at ({_fmt(rings['spike_xy'][p, 0])}, {_fmt(rings['spike_xy'][p, 1])}): "
            f"the boundary turns back at {rings['spike_angle'][p]:.3g}° (< {spike_angle_deg}°); "
            "remove that vertex in a GIS"
        ),
    )
    if good.any():
        if crs is not None:
            area = np.full(geoms.size, np.nan)
            area[good] = geodesic_area_m2(geoms[good], crs)
            per = np.full(geoms.size, np.nan)
            sub = gpd.GeoSeries(geoms[good], crs=crs)
            per[good] = perimeter_m(sub).to_numpy()
            add(
                good & (area < min_area_m2),
                "tiny_area",
                lambda p: (
                    f"area {area[p]:.4g} m² is below min_area_m2={min_area_m2:g}; "
                    "check for a digitizing slip or confused units"
                ),
            )
        else:
            area = np.asarray(shapely.area(geoms), dtype=float)
            per = np.asarray(shapely.length(geoms), dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            pp = 4 * np.pi * area / per**2
        add(
            good & (per > 0) & (pp < sliver_ratio),
            "sliver",
            lambda p: (
                f"very thin polygon: compactness 4πA/P² = {pp[p]:.3g} < "
                f"sliver_ratio={sliver_ratio:g}; check for a gap or overlap between neighbours"
            ),
        )
    return ValidationReport(make_findings(gdf.index, ids, items), gdf.index.copy())


def _aou_label(crs: pyproj.CRS) -> str:
    a = crs.area_of_use
    if a is None:  # pragma: no cover - only reached when the CRS has an area of use
        return "no area of use"
    return f"longitude {a.west:g}..{a.east:g}, latitude {a.south:g}..{a.north:g}"


def _missing_crs_message(geoms: np.ndarray) -> str:
    b = shapely.total_bounds(geoms)
    hint = ""
    if np.all(np.isfinite(b)):
        if b[0] >= -180 and b[2] <= 180 and b[1] >= -90 and b[3] <= 90:
            hint = " (the coordinates look like longitude/latitude: EPSG:4326)"
        else:
            hint = " (the coordinates look like metres, e.g. UTM 18S: EPSG:32718)"
    return (
        "the layer has no CRS; set it with gdf.set_crs(...)" + hint + " before measuring hectares"
    )


def _coords_message(code: str, geom: shapely.Geometry, crs: pyproj.CRS) -> str:
    x0, y0, x1, y1 = shapely.bounds(geom)
    where = f"x {_fmt(x0)}..{_fmt(x1)}, y {_fmt(y0)}..{_fmt(y1)}"
    label = _crs_label(crs)
    if code == "swapped_lonlat":
        return (
            f"longitude and latitude look swapped ({where} in {label}); swapped, it is at "
            f"{position(shapely.bounds(geom), swapped=True)}: fix the coordinates in the "
            "source, or repair(swap_axes='auto') swaps them back"
        )
    if code == "projected_as_degrees":
        return (
            f"coordinates {where} are metres but {label} is in degrees; set the real CRS "
            "with gdf.set_crs('EPSG:32718', allow_override=True) (or your projection)"
        )
    if code == "degrees_as_projected":
        return (
            f"coordinates {where} look like degrees but {label} is projected; set "
            "gdf.set_crs('EPSG:4326', allow_override=True)"
        )
    return f"coordinates {where} are impossible in {label}; check the coordinates and the CRS"

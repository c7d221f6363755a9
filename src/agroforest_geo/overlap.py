"""Where mapped land is claimed twice, reaches into protected areas, or leaves its parcel.

Method
------
Candidate pairs come from a spatial index (:class:`shapely.STRtree`); everything
after that is vectorized shapely over blocks of candidate pairs taken by the
threads, never a Python loop over pairs (``_pairs``). Pairs a separating line
proves disjoint are dropped before GEOS sees them; only pairs whose bounding boxes
nest go through the exact predicates of the relation, and a polygon covered by the
other feature is its own intersection (no overlay); every other pair's one
intersection gives its area. Intersections are computed in the
layers' own CRS (degrees stay degrees) and their hectares are ellipsoidal, with the
same method as :func:`agroforest_geo.area_ha` (:func:`~agroforest_geo.area.geodesic_area_m2`).

A pair *overlaps* when its intersection has a positive area: polygons that only
touch along an edge or at a corner are not an overlap, and neither is a parcel
that fills the hole of another. Unlike ``shapely.overlaps``, a parcel inside
another and exact duplicates are overlaps too (``relation`` says which).

:func:`protected_overlap` lives in :mod:`agroforest_geo.protected`.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any, Literal, NamedTuple, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ._pairs import overlapping_pairs
from ._points import point_areas_ha, points_as_circles
from ._screen import screen, warn_nonfinite
from ._threads import is_valid, n_workers, unprepared
from .area import geodesic_area_m2
from .crs import require_crs, same_crs
from .errors import DuplicateIdError, GeometryWarning, InvalidGeometryError, MissingColumnError
from .io import LAYER_SCHEMAS

__all__ = ["containment", "overlaps"]

logger = logging.getLogger(__name__)

InvalidOption = Literal["raise", "repair", "nan"]
Relation = Literal["partial", "contains", "within", "duplicate"]

#: id columns looked for, in this order, when ``id_column`` is not given
_ID_CANDIDATES = ("plot_id", "area_id", "parcel_id")
_POLYGONAL = (3, 6, 7)  # Polygon, MultiPolygon, GeometryCollection (may hold polygons)
_MAX_LISTED = 10
#: Fewer rows than this per thread are not worth a thread (validity checks).
_MIN_ROWS_PER_JOB = 20_000


class _Layer(NamedTuple):
    name: str
    crs: pyproj.CRS
    id_name: str
    ids: np.ndarray  # object array of ids, one per row
    geoms: np.ndarray  # object array; None where empty or missing
    empty: np.ndarray  # bool: empty or missing geometry (screened rows included)
    nan: np.ndarray | None = None  # bool: rows whose results are NaN (bad coordinates, invalid)
    point_buffer_ha: np.ndarray | None = None  # hectares of point plots' circles, NaN elsewhere


# ---------------------------------------------------------------- input checks
def _check_option(value: Any, name: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _check_nonneg(value: float, name: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _listed(values: Any) -> str:
    vals = [str(v) for v in values]
    more = f" and {len(vals) - _MAX_LISTED} more" if len(vals) > _MAX_LISTED else ""
    return ", ".join(vals[:_MAX_LISTED]) + more


def _prepare(
    gdf: Any,
    name: str,
    id_column: str | None,
    invalid: str,
    *,
    circles: bool = False,
    n_jobs: int = 1,
) -> _Layer:
    """Check one input layer once: type, CRS, unique ids, validity; flag empties.

    Rows with a NaN or infinite vertex (and, with ``invalid="nan"``, invalid rows)
    take part in nothing and are warned about; with ``circles`` point plots become
    the geodesic circles of their declared area. Validity is checked on ``n_jobs``
    threads (blocks of rows).
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(
            f"{name} must be a GeoDataFrame, got {type(gdf).__name__}; read it with "
            "agf.read_parcels / read_plots / read_protected_areas"
        )
    crs = require_crs(gdf, name)
    if id_column is None:
        id_name = next((c for c in _ID_CANDIDATES if c in gdf.columns), None)
        ids = gdf[id_name].to_numpy(dtype=object) if id_name else gdf.index.to_numpy(dtype=object)
        id_name = id_name or str(gdf.index.name or "index")
    else:
        if id_column not in gdf.columns:
            raise MissingColumnError(
                f"{name} has no column {id_column!r}; its columns are "
                f"{[c for c in gdf.columns if c != gdf.geometry.name]}; pass id_column=..."
            )
        id_name = id_column
        ids = gdf[id_column].to_numpy(dtype=object)
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if dup.any():
        raise DuplicateIdError(
            f"{name} ids in {id_name!r} must be unique; duplicated: "
            f"{_listed(pd.unique(ids[dup]))}. Give each feature its own id "
            "(or pass another id column)."
        )
    # a caller's prepared geometries would be used prepared, by our threads or at the same
    # time by another call: GEOS prepares with no lock (see _threads.unprepared)
    geoms = unprepared(np.asarray(gdf.geometry.array, dtype=object))
    if invalid == "nan":
        nan = screen(geoms, ids, invalid="nan", name=name, stacklevel=4)
    else:  # invalid rows are raised or repaired below
        nan = warn_nonfinite(geoms, ids, name=name, stacklevel=4)
    geoms = _only(geoms, ~nan)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    bad = ~empty & ~_is_valid(geoms, n_jobs)
    if bad.any():
        if invalid == "raise":
            reasons = shapely.is_valid_reason(geoms[bad])
            detail = "; ".join(
                f"{i}: {r}" for i, r in list(zip(ids[bad], reasons, strict=True))[:_MAX_LISTED]
            )
            raise InvalidGeometryError(
                f"{int(bad.sum())} invalid geometries in {name} ({id_name}: {detail}"
                f"{' ...' if bad.sum() > _MAX_LISTED else ''}). Repair them first "
                "(agf.repair) or pass invalid='repair'."
            )
        geoms = _only(_repaired(gdf, name, id_name if id_name in gdf.columns else None), ~nan)
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        still = ~empty & ~shapely.is_valid(geoms)
        if still.any():
            raise InvalidGeometryError(
                f"{name}: repair left {int(still.sum())} invalid geometries "
                f"({id_name}: {_listed(ids[still])}); fix them by hand."
            )
    plain_empty = empty & ~nan
    if plain_empty.any():
        warnings.warn(
            f"{int(plain_empty.sum())} feature(s) of {name} have an empty or missing geometry "
            f"and take part in no overlap ({id_name}: {_listed(ids[plain_empty])}); fix or "
            "drop them.",
            GeometryWarning,
            stacklevel=3,
        )
    geoms = _only(geoms, ~empty)
    buffer_ha = None
    if circles:
        geoms, buffer_ha = points_as_circles(geoms, crs, point_areas_ha(gdf, geoms.size))
        if not np.isfinite(buffer_ha).any():
            buffer_ha = None
    return _Layer(name, crs, id_name, ids, geoms, empty, nan, buffer_ha)


def _is_valid(geoms: np.ndarray, n_jobs: int) -> np.ndarray:
    """``shapely.is_valid`` on blocks of rows, on up to ``n_jobs`` threads."""
    return is_valid(geoms, n_jobs)


def _repaired(gdf: gpd.GeoDataFrame, name: str, id_name: str | None) -> np.ndarray:
    """Geometries of ``gdf`` after :func:`agroforest_geo.repair`, on ``gdf``'s rows."""
    from .repair import repair  # lazy: only needed for invalid="repair"

    kind: Any = next((k for k, s in LAYER_SCHEMAS.items() if s.id_column == id_name), None)
    fixed, _report = repair(gdf, kind=kind, id_column=id_name)
    geo = fixed.geometry
    if not geo.index.equals(gdf.index):
        if not gdf.index.is_unique:
            raise InvalidGeometryError(
                f"{name}: repair changed the rows and the index is not unique, so results "
                "cannot be put back on the input rows; reset the index or repair first."
            )
        geo = geo.reindex(gdf.index)
    return np.asarray(geo.array, dtype=object)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of geometry collections (lines/points from touching)."""
    out = geoms.copy()
    coll = np.flatnonzero(shapely.get_type_id(out) == 7)
    if coll.size == 0:
        return out
    parts, owner = shapely.get_parts(out[coll], return_index=True)
    # one more level: a collection may hold a MultiPolygon
    parts, sub = shapely.get_parts(parts, return_index=True)
    owner = owner[sub]
    keep = shapely.get_type_id(parts) == 3
    res = np.full(coll.size, shapely.Polygon(), dtype=object)
    present, dense = np.unique(owner[keep], return_inverse=True)
    if present.size:
        res[present] = shapely.multipolygons(parts[keep], indices=dense)
    out[coll] = res
    return out


def _only(geoms: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Return a copy of ``geoms`` with None where ``keep`` is False."""
    out = np.array(geoms, dtype=object, copy=True)
    out[~np.asarray(keep, dtype=bool)] = None
    return out


def _polygons_only(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with None in place of points, lines and missing geometries."""
    return _only(geoms, np.isin(shapely.get_type_id(geoms), _POLYGONAL))


def _take(ids: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``ids[pos]`` with None where ``pos`` is -1."""
    out = np.full(pos.size, None, dtype=object)
    ok = pos >= 0
    out[ok] = ids[pos[ok]]
    return out


def _measured(inter: np.ndarray, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """Keep the polygonal parts of intersections; return them and their ellipsoidal m²."""
    pieces = _polygonal(inter)
    return pieces, geodesic_area_m2(pieces, crs, n_jobs=1)  # already on a thread of its own


def _areas_m2(
    geoms: np.ndarray, idx: tuple[np.ndarray, ...], crs: pyproj.CRS, n_jobs: int
) -> tuple[np.ndarray, ...]:
    """Ellipsoidal m² of ``geoms[i]`` for each ``i`` in ``idx``, once per distinct feature."""
    uniq, inv = np.unique(np.concatenate(idx), return_inverse=True)
    m2 = geodesic_area_m2(geoms[uniq], crs, n_jobs=n_jobs)[inv] if uniq.size else np.zeros(0)
    return tuple(np.split(m2, np.cumsum([i.size for i in idx])[:-1]))


# ---------------------------------------------------------------- overlaps
def overlaps(
    layer: gpd.GeoDataFrame,
    other: gpd.GeoDataFrame | None = None,
    *,
    min_overlap_m2: float = 0.0,
    id_column: str | None = None,
    other_id_column: str | None = None,
    invalid: InvalidOption = "raise",
    n_jobs: int = -1,
) -> gpd.GeoDataFrame:
    """Pairs of features whose areas overlap, with ellipsoidal hectares and the relation.

    With ``other=None`` every unordered pair inside ``layer`` is reported once
    (left is the feature that comes first in ``layer``); with ``other`` every
    overlapping (``layer``, ``other``) pair. Pairs that only touch along an edge or
    at a point are not overlaps; a parcel inside another and exact duplicates are.

    Parameters
    ----------
    layer : GeoDataFrame
        Polygons (or point plots) with a CRS (lines never overlap anything).
    other : GeoDataFrame, optional
        A second layer in the same CRS.
    min_overlap_m2 : float, keyword-only
        Drop pairs whose overlap is smaller than this many ellipsoidal m²
        (slivers). The default 0 keeps every pair with a positive area; the
        number dropped is logged and stored in ``result.attrs["n_below_min_overlap"]``.
    id_column, other_id_column : str, optional
        Id columns; by default the first of ``plot_id``, ``area_id``,
        ``parcel_id`` present, else the index. Ids must be unique.
    invalid : {"raise", "repair", "nan"}, keyword-only
        Invalid geometries raise :class:`InvalidGeometryError` listing their ids,
        are repaired with :func:`agroforest_geo.repair`, or (``"nan"``) take part
        in no pair, with a :class:`GeometryWarning` naming them. Features with a
        NaN or infinite vertex always take part in no pair (and are warned about).
        Point plots stand for the geodesic circle of their declared area
        (``declared_area_ha``, else 4 ha); the pairs then get
        ``point_buffer_ha_left`` / ``point_buffer_ha_right`` columns.
    n_jobs : int, default -1, keyword-only
        Threads checking validity, querying the index and computing the
        intersections (``-1``: all cores); fewer when there are fewer than
        20,000 features or 2,000 candidate pairs per thread. GEOS releases the GIL, so
        no processes are needed. Results are identical for any ``n_jobs``: each
        pair is computed once, by one thread, in the same way.

    Returns
    -------
    GeoDataFrame
        One row per pair, in the order of ``layer`` then ``other``, with columns
        ``<id>_left``, ``<id>_right`` (e.g. ``parcel_id_left``, ``parcel_id_right``
        or ``area_id_right``), ``overlap_ha`` (ellipsoidal; sums across pairs only
        where the pairs are disjoint), ``share_of_left`` and ``share_of_right``
        (0-1, overlap over the feature's own ellipsoidal area), ``relation``:
        ``"duplicate"`` (same point set), ``"contains"`` (left covers right),
        ``"within"`` (left covered by right) or ``"partial"``; and the
        intersection ``geometry`` (polygonal parts only) in the layer's CRS.

    Raises
    ------
    MissingCRSError, CRSMismatchError, DuplicateIdError, InvalidGeometryError

    Warns
    -----
    GeometryWarning
        For empty or missing geometries (they take part in no pair).

    Examples
    --------
    Two 100 m squares in UTM 18S, offset by 50 m, overlap by 0.5 ha on the map
    (0.5008 ha on the ellipsoid, the UTM scale factor being 0.9996 there):

    >>> import geopandas as gpd, shapely
    >>> sq = gpd.GeoDataFrame(
    ...     {"parcel_id": ["a", "b", "c"]},
    ...     geometry=[shapely.box(500_000, 9_200_000, 500_100, 9_200_100),
    ...               shapely.box(500_050, 9_200_000, 500_150, 9_200_100),
    ...               shapely.box(500_150, 9_200_000, 500_250, 9_200_100)],  # touches b
    ...     crs=32718)
    >>> pairs = overlaps(sq)
    >>> pairs[["parcel_id_left", "parcel_id_right", "relation"]].values.tolist()
    [['a', 'b', 'partial']]
    >>> round(float(pairs.overlap_ha.iloc[0]), 4), round(float(pairs.share_of_left.iloc[0]), 3)
    (0.5004, 0.5)

    On the sample parcels:

    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> pairs = agf.overlaps(parcels)
    >>> {"duplicate", "within"} <= set(pairs.relation) or {"duplicate", "contains"} <= set(
    ...     pairs.relation)
    True
    """
    _check_option(invalid, "invalid", get_args(InvalidOption))
    min_m2 = _check_nonneg(min_overlap_m2, "min_overlap_m2")
    jobs = n_workers(n_jobs)
    left = _prepare(layer, "layer", id_column, invalid, circles=True, n_jobs=jobs)
    if other is None:
        right = left
    else:
        same_crs(layer, other, "layer", "other")
        right = _prepare(other, "other", other_id_column, invalid, circles=True, n_jobs=jobs)
    crs = left.crs

    lg = _polygons_only(left.geoms)
    rg = lg if other is None else _polygons_only(right.geoms)
    pairs = overlapping_pairs(
        lg, rg, within=other is None, n_jobs=jobs, measure=lambda g: _measured(g, crs)
    )
    li, ri, inter, m2, relation = pairs
    keep = (m2 > 0) & (m2 >= min_m2)
    n_small = int((~keep).sum())
    if n_small:
        logger.info("overlaps: %d pair(s) below min_overlap_m2=%s dropped", n_small, min_m2)
    li, ri, inter, m2, relation = li[keep], ri[keep], inter[keep], m2[keep], relation[keep]

    if other is None:  # one layer: each feature measured once, whichever side it is on
        area_l, area_r = _areas_m2(lg, (li, ri), crs, jobs)
    else:
        (area_l,), (area_r,) = _areas_m2(lg, (li,), crs, jobs), _areas_m2(rg, (ri,), crs, jobs)
    # a covered feature overlaps by its own area, exactly (no rounding of the intersection)
    left_in = np.isin(relation, ("within", "duplicate"))
    m2[left_in] = area_l[left_in]
    right_in = relation == "contains"
    m2[right_in] = area_r[right_in]
    with np.errstate(invalid="ignore", divide="ignore"):
        share_l = np.clip(m2 / area_l, 0.0, 1.0)
        share_r = np.clip(m2 / area_r, 0.0, 1.0)
    out = gpd.GeoDataFrame(
        {
            f"{left.id_name}_left": left.ids[li],
            f"{right.id_name}_right": right.ids[ri],
            "overlap_ha": m2 / 10_000.0,
            "share_of_left": share_l,
            "share_of_right": share_r,
            "relation": relation,
        },
        geometry=gpd.GeoSeries(inter, crs=crs),
        crs=crs,
    )
    for side, lay, pos in (("left", left, li), ("right", right, ri)):
        if lay.point_buffer_ha is not None:
            out[f"point_buffer_ha_{side}"] = lay.point_buffer_ha[pos]
    out.attrs["n_below_min_overlap"] = n_small
    return out


# ---------------------------------------------------------------- tiling
def containment(
    plots: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    parent_column: str | None = "parcel_id",
    id_column: str | None = None,
    parcel_id_column: str | None = None,
    invalid: InvalidOption = "raise",
) -> pd.DataFrame:
    """Whether each plot lies inside its parent parcel, and how much sticks out.

    The parent is the parcel declared in ``plots[parent_column]``; when the
    column is absent (or ``parent_column=None``) or a plot's value is missing,
    it is the parcel holding most of the plot's area. Point plots are contained
    by location: ``inside_share`` is 1 when the parent covers the point (boundary
    included), else 0.

    Parameters
    ----------
    plots : GeoDataFrame
        Plot polygons or points with a CRS.
    parcels : GeoDataFrame
        Parcel polygons in the same CRS, with unique ids.
    parent_column : str or None, keyword-only
        Column of ``plots`` with the declared parent parcel id.
    id_column, parcel_id_column : str, optional
        Id columns (default: ``plot_id`` / ``parcel_id`` when present, else the index).
    invalid : {"raise", "repair", "nan"}, keyword-only
        Invalid geometries raise :class:`InvalidGeometryError`, are repaired, or
        (``"nan"``) get NaN shares with a :class:`GeometryWarning`.

    Returns
    -------
    pandas.DataFrame
        On the index of ``plots``, one row per plot, columns:

        - ``parent_parcel_id``: declared parent, else the majority parcel;
        - ``parent_declared``: True when the parent comes from ``parent_column``;
        - ``parent_found``: the parent id exists in ``parcels``;
        - ``majority_parcel_id``: the parcel holding most of the plot (for points:
          the first parcel covering it), None when the plot meets no parcel;
        - ``plot_ha``: ellipsoidal area of the plot (0 for points);
        - ``inside_share`` (0-1): share of the plot inside its parent (NaN for an
          empty plot); ``outside_ha``: ellipsoidal hectares outside its parent;
        - ``parent_mismatch``: the declared parent holds less of the plot than the
          majority parcel (False when the plot meets no parcel at all: see
          ``inside_share``; ties are no mismatch).

    Raises
    ------
    MissingCRSError, CRSMismatchError, DuplicateIdError, InvalidGeometryError,
    MissingColumnError

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> res = agf.containment(plots, parcels)
    >>> res.index.equals(plots.index)
    True
    >>> int(res.parent_mismatch.sum()) >= 1, bool((res.outside_ha > 0).any())
    (True, True)
    """
    _check_option(invalid, "invalid", get_args(InvalidOption))
    crs = same_crs(plots, parcels, "plots", "parcels")
    if parent_column is not None and parent_column not in plots.columns:
        if parent_column != "parcel_id":
            raise MissingColumnError(
                f"plots has no column {parent_column!r}; pass parent_column=None to use the "
                "parcel holding most of each plot"
            )
        parent_column = None
    plo = _prepare(plots, "plots", id_column, invalid)
    par = _prepare(parcels, "parcels", parcel_id_column, invalid)
    n = plo.geoms.size
    qg = _polygons_only(par.geoms)
    pg = plo.geoms
    is_poly = np.isin(shapely.get_type_id(pg), _POLYGONAL)
    plot_m2 = np.where(is_poly, geodesic_area_m2(_only(pg, is_poly), crs), 0.0)
    plot_m2[plo.empty] = 0.0

    pi, qi = shapely.STRtree(qg).query(pg, predicate="intersects")
    score = np.ones(pi.size)  # points: 1 per covering parcel
    poly_pair = is_poly[pi]
    covered = np.zeros(pi.size, dtype=bool)
    covered[poly_pair] = shapely.covers(qg[qi[poly_pair]], pg[pi[poly_pair]])
    score[covered] = plot_m2[pi[covered]]  # inside its parcel: exactly its own area
    cut = poly_pair & ~covered
    if cut.any():
        inter = _polygonal(shapely.intersection(pg[pi[cut]], qg[qi[cut]]))
        score[cut] = geodesic_area_m2(inter, crs)
    pos = score > 0
    pi, qi, score = pi[pos], qi[pos], score[pos]

    # majority parcel: largest area, ties to the first parcel
    order = np.lexsort((qi, -score, pi))
    first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]] if order.size else order
    majority = np.full(n, -1, dtype=np.intp)
    majority[pi[first]] = qi[first]
    majority_score = np.zeros(n)
    majority_score[pi[first]] = score[first]

    parent = majority.copy()
    declared = np.zeros(n, dtype=bool)
    if parent_column is not None:
        decl_ids = plots[parent_column].to_numpy(dtype=object)
        declared = ~pd.isna(decl_ids)
        parent = np.where(declared, pd.Index(par.ids).get_indexer(decl_ids), majority)
    parent_ids = _take(par.ids, parent)
    if parent_column is not None:
        parent_ids[declared] = decl_ids[declared]

    # area (or coverage, for points) of each plot inside its parent
    m = max(int(qg.size), 1)
    keys = pi.astype(np.int64) * m + qi
    sorter = np.argsort(keys)
    want = np.arange(n, dtype=np.int64) * m + parent
    at = np.searchsorted(keys[sorter], want)
    at = np.minimum(at, max(keys.size - 1, 0))
    hit = (parent >= 0) & (keys.size > 0)
    if keys.size:
        hit &= keys[sorter][at] == want
    inside = np.zeros(n)
    inside[hit] = score[sorter][at[hit]]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(is_poly, np.clip(inside / plot_m2, 0.0, 1.0), (inside > 0) * 1.0)
    share[plo.empty] = np.nan
    outside_m2 = np.where(is_poly, np.clip(plot_m2 - inside, 0.0, None), 0.0)
    return pd.DataFrame(
        {
            "parent_parcel_id": parent_ids,
            "parent_declared": declared,
            "parent_found": parent >= 0,
            "majority_parcel_id": _take(par.ids, majority),
            "plot_ha": plot_m2 / 10_000.0,
            "inside_share": share,
            "outside_ha": outside_m2 / 10_000.0,
            # ties (a plot split 50/50, a point on a shared edge) are not a mismatch
            "parent_mismatch": declared
            & (majority >= 0)
            & (parent != majority)
            & (inside < majority_score * (1 - 1e-9)),
        },
        index=plots.index,
    )

"""Parcels against protected and REDD+ areas: hectares inside, which areas, how far.

Method
------
Large protected polygons (thousands of vertices) never meet a parcel whole.
Their boundaries are cut into short linestrings, so that one index query finds
the parcels crossing or touching a boundary; a parcel that meets no boundary of
an area lies entirely inside or outside it, which one point-in-polygon test
(prepared) decides, and a parcel inside needs no intersection at all. Only the
parcels across a boundary are intersected, with tiles of at most
``max_tile_vertices`` vertices cut by recursive quartering of the area's bounding
box (the idea of PostGIS ``ST_Subdivide``). Distances to the nearest protected
area are searched coarse to fine (:mod:`._nearest`): blocks of parcels pick the
boundary pieces that can be nearest once, box bounds prune them per parcel, a
compiled loop finds the nearest pair of segments exactly, and GEOS computes the
closest points of that pair, the points it finds against one prepared geometry
holding every boundary (see ``_nearest_distance_m``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from ._gc import paused_gc
from ._geosrings import coordinates
from ._nearest import Outlines, closest_points, closest_points_prepared, compiled
from ._threads import copies, n_workers
from .area import _densify, geodesic_area_m2
from .crs import geodetic_crs, same_crs, transform_geoms
from .errors import MissingColumnError
from .overlap import (
    _POLYGONAL,
    InvalidOption,
    _check_nonneg,
    _check_option,
    _polygonal,
    _polygons_only,
    _prepare,
)

__all__ = ["protected_overlap"]

logger = logging.getLogger(__name__)

#: With ``n_jobs > 1``, fewer parcels than this per thread are not worth a thread.
_MIN_ROWS_PER_JOB = 20_000
#: Distances are searched for this many parcels at a time (their metric copies).
_DISTANCE_BLOCK = 50_000


def _subdivide(
    geoms: np.ndarray,
    owner: np.ndarray,
    max_vertices: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut polygons into pieces of at most ``max_vertices`` vertices (quartering bboxes).

    Pieces of one polygon have disjoint interiors and cover it exactly, and
    depend on that polygon alone (never on the parcels of the call). Quarters
    are cut with GEOS rectangle clipping (~20x faster than a general
    intersection), whose result may be invalid: the final pieces are checked
    once, and every piece of a rectangle that gave an invalid one is cut again
    from the original (valid) polygon with the general intersection.
    """
    parts, sub = shapely.get_parts(geoms, return_index=True)
    g, o = parts, owner[sub]
    src = np.arange(parts.size)  # the part each piece comes from
    cut_by = np.full(parts.size, -1)  # the rectangle it was cut with (-1: none)
    rects, rect_src, rect_own = [np.zeros((0, 4))], [src[:0]], [o[:0]]
    n_rects = 0
    done: list[tuple[np.ndarray, ...]] = []
    for _ in range(24):  # depth limit: 4**24 tiles is more than any polygon needs
        small = shapely.get_num_coordinates(g) <= max_vertices
        done.append((g[small], o[small], cut_by[small]))
        g, o, src = g[~small], o[~small], src[~small]
        if g.size == 0:
            break
        x0, y0, x1, y1 = shapely.bounds(g).T
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        quads = [(x0, y0, xm, ym), (xm, y0, x1, ym), (x0, ym, xm, y1), (xm, ym, x1, y1)]
        level = np.column_stack([np.concatenate(c) for c in zip(*quads, strict=True)])
        big, o, src = np.tile(g, 4), np.tile(o, 4), np.tile(src, 4)
        rects.append(level)
        rect_src.append(src)
        rect_own.append(o)
        pieces = np.array(
            [shapely.clip_by_rect(gi, *r) for gi, r in zip(big, level.tolist(), strict=True)],
            dtype=object,
        )
        pieces, psub = shapely.get_parts(_polygonal(pieces), return_index=True)
        nz = shapely.area(pieces) > 0
        g, psub = pieces[nz], psub[nz]
        o, src, cut_by = o[psub], src[psub], n_rects + psub
        n_rects += level.shape[0]
    g, o, cut_by = (np.concatenate(a) for a in zip(*done, strict=True))
    checked = np.flatnonzero(cut_by >= 0)
    bad = np.unique(cut_by[checked[~shapely.is_valid(g[checked])]])
    if bad.size == 0:
        return g, o
    all_rects, all_src, all_own = (np.concatenate(a) for a in (rects, rect_src, rect_own))
    fixed = shapely.intersection(parts[all_src[bad]], shapely.box(*all_rects[bad].T))
    fixed, fsub = shapely.get_parts(_polygonal(fixed), return_index=True)
    nz = shapely.area(fixed) > 0
    keep = ~np.isin(cut_by, bad)
    return (
        np.concatenate([g[keep], fixed[nz]]),
        np.concatenate([o[keep], all_own[bad][fsub[nz]]]),
    )


class _Tiling:
    """Tiles of the protected areas, each area cut once per call and shared by its jobs.

    An area is cut the first time a job needs it (the areas near the job's parcels that
    cross a boundary), under a lock: the cutting runs GEOS one rectangle at a time and
    holds the GIL, so jobs that each cut the same area would only wait for each other.
    Each area is tiled whole and alone, so its tiles, and their order, never depend on
    the other parcels or areas of the call.
    """

    def __init__(self, areas: np.ndarray, owner: np.ndarray, max_vertices: int) -> None:
        self._areas, self._owner, self._max = areas, owner, max_vertices
        self._bounds = shapely.bounds(areas)
        self._lock = threading.Lock()
        self._cut: dict[int, np.ndarray] = {}  # position in ``areas`` -> its tiles, in order

    def near(self, box: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the tiles of the areas whose bounds meet ``box``, in area order.

        With them, the area (``owner``) of each tile and its rank in its area's tiling.
        """
        x0, y0, x1, y1 = box
        b = self._bounds
        want = np.flatnonzero((b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0))
        with self._lock:
            new = np.array([k for k in want.tolist() if k not in self._cut], dtype=np.intp)
            if new.size:
                tiles, pos = _subdivide(self._areas[new], new, self._max)
                if pos.size:
                    order = np.argsort(pos, kind="stable")  # an area's tiles keep their order
                    cuts = np.flatnonzero(np.diff(pos[order])) + 1
                    for k, idx in zip(np.unique(pos), np.split(order, cuts), strict=True):
                        self._cut[int(k)] = tiles[idx]
                for k in new.tolist():
                    self._cut.setdefault(k, np.empty(0, dtype=object))  # nothing with area
            parts = [self._cut[k] for k in want.tolist()]
        sizes = np.array([t.size for t in parts], dtype=np.int64)
        tiles = np.concatenate(parts) if parts else np.empty(0, dtype=object)
        tile_owner = np.repeat(self._owner[want], sizes)
        rank = np.arange(tiles.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return tiles, tile_owner, rank


def _boundary_chunks(
    polys: np.ndarray, owner: np.ndarray, max_vertices: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Cut all rings of ``polys`` into linestrings of at most ``max_vertices`` vertices.

    Returns the linestrings and, for each, the ``owner`` of its polygon.
    """
    parts, psub = shapely.get_parts(polys, return_index=True)
    rings, rsub = shapely.get_rings(parts, return_index=True)
    lines, chunk_ring = _ring_chunks(rings, max_vertices)
    return lines, np.asarray(owner)[psub[rsub[chunk_ring]]]


def _ring_chunks(rings: np.ndarray, max_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``rings`` into linestrings of at most ``max_vertices`` vertices, and their ring."""
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    if coords.shape[0] == 0:
        return np.array([], dtype=object), np.array([], dtype=np.intp)
    c0, c1, chunk_ring = _chunk_ranges(ring, rings.size, max_vertices)
    return _linestrings(coords, c0, c1), chunk_ring


def _chunk_ranges(
    ring: np.ndarray, n_rings: int, max_vertices: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last (inclusive) vertex of each chunk of the rings, and its ring.

    ``ring`` is the ring of every vertex (sorted); consecutive chunks of a ring
    share their end vertex.
    """
    start = np.searchsorted(ring, np.arange(n_rings))
    nseg = np.diff(np.append(start, ring.size)) - 1
    seg = max_vertices - 1
    nchunk = np.maximum(np.ceil(nseg / seg).astype(np.int64), 0)
    chunk_ring = np.repeat(np.arange(n_rings), nchunk)
    k = np.arange(chunk_ring.size) - np.repeat(np.cumsum(nchunk) - nchunk, nchunk)
    c0 = start[chunk_ring] + k * seg
    c1 = np.minimum(c0 + seg, start[chunk_ring] + nseg[chunk_ring])
    return c0, c1, chunk_ring


def _linestrings(coords: np.ndarray, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    """Linestrings of the vertices ``coords[c0[i] : c1[i] + 1]``."""
    length = c1 - c0 + 1
    line = np.repeat(np.arange(c0.size), length)
    pos = np.arange(line.size) - np.repeat(np.cumsum(length) - length, length) + c0[line]
    return np.asarray(shapely.linestrings(coords[pos], indices=line), dtype=object)


def _finite(geoms: np.ndarray) -> np.ndarray:
    """Return True where a geometry has finite bounds (not missing or empty, no inf or NaN)."""
    return np.isfinite(shapely.bounds(geoms)).all(axis=1)


def _map_units_per_m(metric: pyproj.CRS, geo: pyproj.CRS, bounds: np.ndarray) -> float:
    """Largest length in ``metric`` units of one metre on the ground, over ``bounds``.

    Measured, not read from the projection's parameters: geodesic steps of
    100 m in eight directions from a 9 x 9 grid over the box (in ``metric``)
    are projected and measured, so map units (feet, kilometres) and the scale
    factor of any projection are both accounted for.
    """
    x0, y0, x1, y1 = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 9), np.linspace(y0, y1, 9))
    to_geo = pyproj.Transformer.from_crs(metric, geo, always_xy=True)
    to_map = pyproj.Transformer.from_crs(geo, metric, always_xy=True)
    lon, lat = to_geo.transform(gx.ravel(), gy.ravel())
    lon, lat = np.repeat(lon, 8), np.repeat(lat, 8)
    az = np.tile(np.arange(8) * 45.0, gx.size)
    geod = geo.get_geod()
    assert geod is not None
    lon2, lat2, _ = geod.fwd(lon, lat, az, np.full(lon.size, 100.0))
    xa, ya = to_map.transform(lon, lat)
    xb, yb = to_map.transform(lon2, lat2)
    scale = np.hypot(np.subtract(xb, xa), np.subtract(yb, ya)) / 100.0
    scale = scale[np.isfinite(scale)]
    return float(scale.max()) if scale.size else np.inf  # inf: no bound, search everything


def _nearest_distance_m(
    geoms: np.ndarray,
    areas: np.ndarray,
    crs: pyproj.CRS,
    *,
    max_distance_m: float | None = None,
) -> np.ndarray:
    """Geodesic length of the shortest line from each geometry to the nearest of ``areas``.

    The geometries lie outside every area, so the nearest point is on a
    boundary. The closest points are those GEOS finds against the boundaries as
    one prepared multi-linestring in a metric projection (``IndexedFacetDistance``);
    from 10,000 geometries on, the compiled coarse-to-fine search of
    :mod:`._nearest` finds the nearest pair of segments first and GEOS measures
    that pair alone (the same points, see there). The distance is the geodesic
    (``pyproj.Geod.inv``) between those two points.

    The projection is the layer's CRS when projected. For a layer in degrees,
    see :func:`_nearest_geographic`: each geometry is measured in a conformal
    projection centred on its own 4-degree cell, against the pieces of boundary
    that can be nearest to it.

    With ``max_distance_m``, geometries that cannot come within that distance
    of a boundary are not measured; they, and any measured farther, get
    ``inf``. Geometries that cannot be placed (impossible coordinates) get NaN,
    as when no area exists.
    """
    out = np.full(geoms.size, np.nan)
    rows = np.flatnonzero(_finite(geoms))
    rings = shapely.get_rings(shapely.get_parts(areas[_finite(areas)]))
    if rows.size == 0 or rings.size == 0:
        return out
    geo = geodetic_crs(crs)
    geod = geo.get_geod()
    assert geod is not None
    if crs.is_geographic:
        out[rows] = _nearest_geographic(geoms[rows], rings, geod, max_distance_m)
        return out
    edges = shapely.multilinestrings(rings)
    shapely.prepare(edges)
    pieces = _ring_chunks(rings, 16)[0]
    back = pyproj.Transformer.from_crs(crs, geo, always_xy=True)
    piece_tree = None
    for lo in range(0, rows.size, _DISTANCE_BLOCK):  # bounded memory
        sub = rows[lo : lo + _DISTANCE_BLOCK]
        g = geoms[sub]
        if max_distance_m is not None:
            out[sub] = np.inf
            box = shapely.total_bounds(np.append(g, edges))
            pad = max_distance_m * _map_units_per_m(crs, geo, box) * 1.05 + 1e-6
            if np.isfinite(pad):
                if piece_tree is None:
                    piece_tree = shapely.STRtree(pieces)
                gb = shapely.bounds(g)
                reach = shapely.box(*(gb[:, :2] - pad).T, *(gb[:, 2:] + pad).T)
                hit = np.unique(piece_tree.query(reach)[0])
                sub, g = sub[hit], g[hit]
        if sub.size:
            pts = closest_points(pieces, Outlines.of(g), functools.partial(np.asarray, g), edges)
            out[sub] = _closest_geodesic_m(pts, back, geod, max_distance_m)
    return out


def _closest_geodesic_m(
    pts: np.ndarray, back: Any, geod: pyproj.Geod, max_distance_m: float | None
) -> np.ndarray:
    """Geodesic between pairs of closest points ``pts`` (metric, two rows per geometry).

    The points are those of the whole boundary, found coarse to fine
    (:func:`._nearest.closest_points`).
    """
    lon, lat = back.transform(pts[:, 0], pts[:, 1])
    _, _, dist = geod.inv(lon[0::2], lat[0::2], lon[1::2], lat[1::2])
    dist = np.asarray(dist, dtype=float)
    if max_distance_m is not None:
        dist[dist > max_distance_m] = np.inf
    return dist


#: Geometries in degrees are measured in cells of this many degrees, each with its own
#: conformal (oblique stereographic) projection.
_CELL_DEG = 4.0
#: Boundary edges longer than this get points on the geodesic before they are projected.
_MAX_EDGE_M = 1_000.0
#: Geometries with no boundary within this distance are measured vertex to vertex (to the
#: nearest boundary vertex, edges being at most _MAX_EDGE_M): within 1e-4 at this range.
_FAR_M = 5_000_000.0


def _ecef(lon: np.ndarray, lat: np.ndarray, geod: pyproj.Geod) -> np.ndarray:
    """Earth-centred cartesian coordinates (m) of points on the ellipsoid."""
    phi, lam = np.radians(lat), np.radians(lon)
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = geod.a / np.sqrt(1.0 - geod.es * sin_phi * sin_phi)
    out = np.empty((phi.size, 3))
    out[:, 0] = n * cos_phi * np.cos(lam)
    out[:, 1] = n * cos_phi * np.sin(lam)
    out[:, 2] = n * (1 - geod.es) * sin_phi
    return out


def _balls(
    v: np.ndarray, starts: np.ndarray, ends: np.ndarray, first_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Centre (the ``first_of`` vertex) and radius of groups ``v[starts[i] : ends[i] + 1]``.

    The radius reaches every vertex and half of the longest edge beyond it, plus
    1 m: a geodesic edge leaves its chord by far less than that.
    """
    count = ends - starts + 1
    offset = np.cumsum(count) - count  # where each group starts in the gathered arrays
    idx = np.repeat(np.arange(starts.size), count)
    pos = np.arange(idx.size) - np.repeat(offset, count) + starts[idx]
    centre = v[first_of]
    radius = np.maximum.reduceat(np.linalg.norm(v[pos] - centre[idx], axis=1), offset)
    step = np.linalg.norm(v[pos[1:]] - v[pos[:-1]], axis=1)
    step[idx[1:] != idx[:-1]] = 0.0  # between two groups
    longest = np.maximum.reduceat(np.append(step, 0.0), offset)
    return centre, radius * (1 + 1e-9) + longest / 2 + 1.0


def _reach_m(
    bounds: np.ndarray, lon0: np.ndarray, lat0: np.ndarray, geod: pyproj.Geod
) -> np.ndarray:
    """Return a radius around (lon0, lat0) whose ball (ECEF) holds each geometry of ``bounds``.

    From its box in degrees, without the geometry's vertices: a path along the
    meridian of ``p``, then along a parallel, reaches any point of the box and is
    no shorter than the chord; neither arc's radius of curvature exceeds
    ``a**2 / b``. Points on edges lie within half an edge (at most the box's
    span) of a vertex. 1 m more, as for the boundary's balls.
    """
    c = geod.a**2 / geod.b
    x0, y0, x1, y1 = np.radians(bounds).T
    lam, phi = np.radians(lon0), np.radians(lat0)
    cos_max = np.where((y0 <= 0) & (y1 >= 0), 1.0, np.maximum(np.cos(y0), np.cos(y1)))
    to_vertex = c * (np.maximum(phi - y0, y1 - phi) + cos_max * np.maximum(lam - x0, x1 - lam))
    span = c * ((y1 - y0) + cos_max * (x1 - x0))
    return (to_vertex + span / 2) * (1 + 1e-9) + 1.0


def _upper_m(
    lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray, geod: pyproj.Geod
) -> np.ndarray:
    """Return an upper bound of the geodesic distance between two points (m), exact when far.

    The path along the meridian, then along the parallel, is no shorter than the
    geodesic and its arcs' radii of curvature do not exceed ``a**2 / b``; where
    that path is longer than ``_FAR_M`` the geodesic itself is measured (so
    whether a parcel counts as far never depends on the bound).
    """
    c = geod.a**2 / geod.b
    dlam = np.abs(np.remainder(np.radians(lon1 - lon0) + np.pi, 2 * np.pi) - np.pi)
    path = c * (np.abs(np.radians(lat1 - lat0)) + np.cos(np.radians(lat1)) * dlam)
    upper = path * (1 + 1e-9) + 1e-6
    far = np.flatnonzero(upper > _FAR_M)
    if far.size:
        _, _, d = geod.inv(lon0[far], lat0[far], lon1[far], lat1[far])
        upper[far] = np.asarray(d, dtype=float) * (1 + 1e-9) + 1e-6
    return upper


class _Inverse:
    """The inverse direction of a transformer, with the same ``transform`` signature."""

    def __init__(self, transformer: pyproj.Transformer) -> None:
        self._t = transformer

    def transform(self, x: Any, y: Any) -> Any:
        return self._t.transform(x, y, direction="INVERSE")


def _nearest_geographic(
    geoms: np.ndarray,
    rings: np.ndarray,
    geod: pyproj.Geod,
    max_distance_m: float | None,
) -> np.ndarray:
    """:func:`_nearest_distance_m` for geometries and boundary ``rings`` in degrees.

    Boundary edges are geodesics, as for areas: edges longer than
    ``_MAX_EDGE_M`` first get points on the geodesic. The boundary is cut into
    pieces of 16 vertices, each bounded by a ball in earth-centred coordinates
    (its bounding box's corners, plus one edge), where a straight (chord)
    distance never exceeds the geodesic one. The geodesic from a geometry's
    first vertex ``p`` to a vertex of the piece nearest to it bounds its distance
    ``U`` from above, so a piece whose ball lies farther than ``U + D`` from ``p``
    (``D``: the geometry's radius around ``p``) cannot hold the nearest point.
    Per cell of ``_CELL_DEG`` degrees (taken at ``p``, so a geometry's cell never
    depends on the others), the pieces that can be nearest to one of its
    geometries go into an oblique stereographic projection centred on the cell:
    conformal, so closest points come out right. GEOS finds the closest points
    there exactly; the distance is the geodesic between them. Parcel edges are
    straight in that projection (geodesics, to within millimetres at parcel
    sizes). A geometry with no boundary within ``_FAR_M`` (5,000 km) gets the
    geodesic to the nearest boundary vertex instead (within 1e-4 at that range),
    since no one projection holds both sides well.
    """
    # the boundary once: vertices (long geodesic edges densified), pieces, their balls
    rxy, rown = shapely.get_coordinates(rings, return_index=True)
    rlon, rlat, rown = _densify(rxy[:, 0], rxy[:, 1], rown, geod, _MAX_EDGE_M)
    c0, c1, _ = _chunk_ranges(rown, rings.size, 16)
    pv = _ecef(rlon, rlat, geod)
    centre, reach = _balls(pv, c0, c1, (c0 + c1) // 2)
    bnd = _Boundary(np.column_stack([rlon, rlat]), c0, c1, pv, reach, cKDTree(centre))
    out = np.full(geoms.size, np.nan)
    for lo in range(0, geoms.size, _DISTANCE_BLOCK):  # bounded memory
        block = slice(lo, lo + _DISTANCE_BLOCK)
        out[block] = _nearest_geographic_block(geoms[block], bnd, geod, max_distance_m)
    return out


@dataclasses.dataclass
class _Boundary:
    """Boundary vertices (lon, lat), pieces ``c0..c1``, vertices in ECEF, balls, index."""

    coords: np.ndarray
    c0: np.ndarray
    c1: np.ndarray
    pv: np.ndarray
    reach: np.ndarray
    tree: Any

    @functools.cached_property
    def vertex_tree(self) -> Any:
        """Index of every boundary vertex (ECEF), built once, only if a parcel needs it."""
        return cKDTree(self.pv)


def _nearest_geographic_block(
    geoms: np.ndarray, bnd: _Boundary, geod: pyproj.Geod, max_distance_m: float | None
) -> np.ndarray:
    """:func:`_nearest_geographic` for one block of geometries."""
    n = geoms.size
    out = np.full(n, np.nan)
    # p: the first vertex; D: the radius around p that reaches all of the geometry
    xy, owner = coordinates(geoms)  # the GIL released where it can be
    start = np.searchsorted(owner, np.arange(n))
    end = np.append(start[1:], owner.size) - 1
    lon0, lat0 = xy[start, 0], xy[start, 1]
    gb = shapely.bounds(geoms)
    rows = np.flatnonzero((gb[:, 1] >= -90.0) & (gb[:, 3] <= 90.0))  # impossible: NaN
    lon0, lat0 = lon0[rows], lat0[rows]
    p = _ecef(lon0, lat0, geod)
    radius = _reach_m(gb[rows], lon0, lat0, geod)
    coords, c0, c1, reach, tree = bnd.coords, bnd.c0, bnd.c1, bnd.reach, bnd.tree
    rlon, rlat = coords[:, 0], coords[:, 1]
    gap, nearest = tree.query(p)
    upper = _upper_m(lon0, lat0, rlon[c0[nearest]], rlat[c0[nearest]], geod)
    todo = np.ones(rows.size, dtype=bool)
    if max_distance_m is not None:
        out[rows] = np.inf
        # no piece within the bound: even the nearest ball is too far
        todo = gap - reach.max() - radius <= max_distance_m
        upper = np.minimum(upper, max_distance_m * (1 + 1e-9) + 1e-6)
    far = todo & (upper > _FAR_M)
    if far.any():
        # nothing within _FAR_M: no local projection holds both sides; the nearest boundary
        # vertex (by chord) of each of the geometry's vertices, measured on the geodesic
        todo &= ~far
        f_rows = np.flatnonzero(far)
        f_start, f_end = start[rows[f_rows]], end[rows[f_rows]]
        count = f_end - f_start + 1
        pos = np.repeat(f_start - np.cumsum(count) + count, count) + np.arange(count.sum())
        _, hit = bnd.vertex_tree.query(_ecef(xy[pos, 0], xy[pos, 1], geod))
        _, _, d = geod.inv(xy[pos, 0], xy[pos, 1], rlon[hit], rlat[hit])
        d = np.minimum.reduceat(np.asarray(d, dtype=float), np.cumsum(count) - count)
        if max_distance_m is not None:
            d[d > max_distance_m] = np.inf
        out[rows[f_rows]] = d
    ix = np.floor(lon0 / _CELL_DEG).astype(np.int64)
    iy = np.floor(lat0 / _CELL_DEG).astype(np.int64)
    cell = ix * 1_000 + iy  # |iy| < 46
    order = np.flatnonzero(todo)[np.argsort(cell[todo], kind="stable")]
    groups = np.split(order, np.flatnonzero(np.diff(cell[order])) + 1) if order.size else []
    for members in groups:
        cx, cy = int(ix[members[0]]), int(iy[members[0]])
        mid = p[members].mean(axis=0)
        spread = np.linalg.norm(p[members] - mid, axis=1)
        ball = float((spread + upper[members] + radius[members]).max() + reach.max())
        cand = np.sort(np.asarray(tree.query_ball_point(mid, ball), dtype=np.intp))
        # the projection on the layer's own ellipsoid, as a pipeline: no datum step, and
        # far cheaper to build than a transformer between two CRSs
        fwd = pyproj.Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=sterea "
            f"+lat_0={min(max((cy + 0.5) * _CELL_DEG, -89.0), 89.0)!r} "
            f"+lon_0={(cx + 0.5) * _CELL_DEG!r} +k=1 +a={geod.a!r} +b={geod.b!r}"
        )
        near = transform_geoms(_linestrings(coords, c0[cand], c1[cand]), fwd)
        near = near[_finite(near)]
        if near.size == 0:
            continue
        sub = rows[members]  # the block is already bounded (_DISTANCE_BLOCK)
        out[sub] = _closest_in_cell(near, geoms[sub], fwd, geod, max_distance_m)
    return out


def _closest_in_cell(
    near: np.ndarray,
    geoms: np.ndarray,
    fwd: pyproj.Transformer,
    geod: pyproj.Geod,
    max_distance_m: float | None,
) -> np.ndarray:
    """Distances of ``geoms`` (degrees) to the boundary ``near`` (pieces projected by ``fwd``).

    Geometries that the projection cannot take get NaN.
    """
    out = np.full(geoms.size, np.nan)
    outlines = Outlines.of(geoms).moved(fwd) if compiled(geoms.size) else None
    if outlines is not None and outlines.finite().all():
        pts = closest_points(near, outlines, lambda: transform_geoms(geoms, fwd))
        return _closest_geodesic_m(pts, _Inverse(fwd), geod, max_distance_m)
    g = transform_geoms(geoms, fwd)
    good = _finite(g)
    if good.any():
        edges = shapely.multilinestrings(near)
        shapely.prepare(edges)
        pts = closest_points_prepared(edges, g[good])
        out[good] = _closest_geodesic_m(pts, _Inverse(fwd), geod, max_distance_m)
    return out


# ---------------------------------------------------------------- protected areas
def protected_overlap(
    parcels: gpd.GeoDataFrame,
    protected: gpd.GeoDataFrame,
    *,
    buffer_m: float = 0.0,
    id_column: str | None = None,
    protected_id_column: str | None = None,
    category_column: str | None = "category",
    max_distance_m: float | None = None,
    invalid: InvalidOption = "raise",
    max_tile_vertices: int = 256,
    n_jobs: int = -1,
) -> pd.DataFrame:
    """How much of each parcel lies in protected areas, which ones, and how far away they are.

    Protected areas may overlap each other (a national park and its buffer
    zone): ``protected_ha`` is the area of the parcel inside the *union* of all
    protected areas, so nothing is counted twice.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcel polygons with a CRS.
    protected : GeoDataFrame
        Protected / REDD+ areas in the same CRS.
    buffer_m : float, keyword-only
        Width of the band around protected areas to flag (``in_buffer_band``).
    id_column, protected_id_column : str, optional
        Id columns (default: ``parcel_id`` / ``area_id`` when present, else the index).
    category_column : str or None, keyword-only
        Column of ``protected`` listed in ``protected_categories``; None to skip.
    max_distance_m : float or None, keyword-only
        Search the nearest protected area only this far (metres, at least
        ``buffer_m``); parcels farther get ``distance_to_protected_m = inf``.
        Like ``max_distance`` of :func:`geopandas.sjoin_nearest`, it bounds the
        nearest-area search, the costliest step when most parcels lie far from
        every area. None or ``inf`` (default None): every parcel gets its distance.
    invalid : {"raise", "repair", "nan"}, keyword-only
        Invalid geometries raise :class:`InvalidGeometryError`, are repaired
        with :func:`agroforest_geo.repair`, or (``"nan"``) get NaN hectares,
        share and distance with a :class:`~agroforest_geo.errors.GeometryWarning`
        naming them. Parcels with a NaN or infinite vertex always get NaN (and a
        warning). Point plots are measured as the geodesic circle of their
        declared area (``declared_area_ha``, else 4 ha), flagged in a
        ``point_buffer_ha`` column.
    max_tile_vertices : int, keyword-only
        Protected polygons are cut into tiles of at most this many vertices.
    n_jobs : int, default -1, keyword-only
        Threads working on separate blocks of parcels (``-1``, the default: all
        cores; blocks of fewer than 20,000 parcels are not split further). GEOS and
        numpy release the GIL, so no processes are needed. Results are
        identical to ``n_jobs=1``: a parcel's results never depend on the
        other parcels of the call.

    Returns
    -------
    pandas.DataFrame
        On the index of ``parcels``, one row per parcel (parcels touching nothing
        get zeros and empty strings), columns:

        - ``area_ha``: ellipsoidal area of the parcel (sums across parcels);
        - ``protected_ha``: ellipsoidal hectares inside the union of the protected
          areas (sums across parcels);
        - ``protected_share``: ``protected_ha / area_ha`` (0-1; does not sum);
        - ``n_protected_areas``, ``protected_area_ids``, ``protected_categories``:
          how many and which areas the parcel overlaps with a positive area
          (``"; "``-joined, in the order of ``protected``; categories distinct);
        - ``distance_to_protected_m``: 0 when the parcel touches or overlaps a
          protected area, else the geodesic distance between the closest points
          (found in a conformal projection centred on the parcel's 4-degree cell
          for layers in degrees, in the layer's CRS when projected; boundary
          edges are geodesics, as for areas), NaN without any protected area or
          for a parcel whose coordinates are impossible, ``inf`` beyond
          ``max_distance_m``;
        - ``in_buffer_band``: True when the parcel does not overlap a protected
          area but comes within ``buffer_m`` of one (always False for ``buffer_m=0``).

        Empty parcels get ``area_ha`` 0 and NaN share and distance.

    Raises
    ------
    MissingCRSError, CRSMismatchError, DuplicateIdError, InvalidGeometryError,
    MissingColumnError

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    >>> res = agf.protected_overlap(parcels, protected, buffer_m=500)
    >>> res.index.equals(parcels.index)
    True
    >>> bool((res.protected_ha <= res.area_ha + 1e-9).all())
    True
    >>> bool((res.protected_ha > 0).any()), bool(res.in_buffer_band.any())
    (True, True)
    """
    _check_option(invalid, "invalid", get_args(InvalidOption))
    buffer = _check_nonneg(buffer_m, "buffer_m")
    if max_distance_m is not None and float(max_distance_m) == np.inf:
        max_distance_m = None  # no bound
    reach = None if max_distance_m is None else _check_nonneg(max_distance_m, "max_distance_m")
    if reach is not None and reach < buffer:
        raise ValueError(
            f"max_distance_m ({max_distance_m!r}) is smaller than buffer_m ({buffer_m!r}): the "
            "buffer band needs distances up to buffer_m; pass max_distance_m >= buffer_m or None"
        )
    if int(max_tile_vertices) < 8:
        raise ValueError(f"max_tile_vertices must be >= 8, got {max_tile_vertices!r}")
    crs = same_crs(parcels, protected, "parcels", "protected")
    if category_column is not None and category_column not in protected.columns:
        raise MissingColumnError(
            f"protected has no column {category_column!r}; pass category_column=None or "
            f"the name of its category column (columns: {list(protected.columns)})"
        )
    jobs = n_workers(n_jobs)
    with paused_gc():  # many short-lived geometries, no cycles (see ._gc)
        par = _prepare(parcels, "parcels", id_column, invalid, circles=True, n_jobs=jobs)
        pro = _prepare(protected, "protected", protected_id_column, invalid, n_jobs=jobs)
        area_m2, protected_m2, key, dist = _measure(
            par, pro, crs, jobs, int(max_tile_vertices), reach
        )
    n = par.geoms.size
    npa = max(pro.ids.size, 1)
    # which areas each parcel overlaps, by name
    pp, aa = key // npa, key % npa  # sorted by parcel, then by area
    n_areas = np.bincount(pp, minlength=n)
    ids_txt = np.full(n, "", dtype=object)
    cats_txt = np.full(n, "", dtype=object)
    id_str = np.array([str(v) for v in pro.ids], dtype=object)
    cat_str = np.full(pro.ids.size, "", dtype=object)
    if category_column is not None:
        cat_str[:] = [str(c) for c in protected[category_column].to_numpy(dtype=object)]
    one = n_areas[pp] == 1
    ids_txt[pp[one]] = id_str[aa[one]]
    cats_txt[pp[one]] = cat_str[aa[one]]
    mp, ma = pp[~one], aa[~one]
    if mp.size:  # the few parcels in several areas: join their names
        groups = np.flatnonzero(mp[1:] != mp[:-1]) + 1
        for grp in np.split(np.arange(mp.size), groups):
            ids_txt[mp[grp[0]]] = "; ".join(id_str[ma[grp]])
            cats_txt[mp[grp[0]]] = "; ".join(dict.fromkeys(cat_str[ma[grp]]))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area_m2 > 0, protected_m2 / area_m2, np.nan)
    overlapping = protected_m2 > 0
    out = pd.DataFrame(
        {
            "area_ha": area_m2 / 10_000.0,
            "protected_ha": protected_m2 / 10_000.0,
            "protected_share": np.clip(share, 0.0, 1.0),
            "n_protected_areas": n_areas,
            "protected_area_ids": ids_txt,
            "protected_categories": cats_txt,
            "distance_to_protected_m": dist,
            "in_buffer_band": (buffer > 0) & ~overlapping & (dist <= buffer),
        },
        index=parcels.index,
    )
    out.loc[par.empty, "protected_share"] = np.nan
    if par.nan is not None and par.nan.any():
        num = ["area_ha", "protected_ha", "protected_share", "distance_to_protected_m"]
        out.loc[par.nan, num] = np.nan
    if par.point_buffer_ha is not None:
        out["point_buffer_ha"] = par.point_buffer_ha
    return out


def _measure(
    par: Any,
    pro: Any,
    crs: pyproj.CRS,
    jobs: int,
    max_tile_vertices: int,
    reach: float | None,
) -> tuple[np.ndarray, ...]:
    """Areas, hectares inside, (parcel, area) keys and distances, on ``jobs`` threads.

    Threads take contiguous blocks of parcels (at least ``_MIN_ROWS_PER_JOB``
    each); a parcel's results never depend on the other parcels, so the
    results are the same bits for any number of threads.
    """
    n = par.geoms.size
    pg = _polygons_only(par.geoms)
    pa_idx = np.flatnonzero(np.isin(shapely.get_type_id(pro.geoms), _POLYGONAL))
    areas = _polygonal(pro.geoms[pa_idx])
    npa = max(pro.ids.size, 1)
    area_m2 = geodesic_area_m2(pg, crs)  # here, so that a warning about it comes once
    area_m2[par.empty] = 0.0
    jobs = min(jobs, max(n // _MIN_ROWS_PER_JOB, 1))
    cuts = np.linspace(0, n, jobs + 1).astype(np.int64)
    tiling = _Tiling(areas, pa_idx, max_tile_vertices)

    def job(lo: int, hi: int) -> tuple[np.ndarray, ...]:
        # the areas get prepared below, and GEOS builds (and frees) a prepared geometry's
        # indexes with no lock: every job prepares its own copies, never the caller's
        # geometries, which another thread (or another call) may be using at the same time
        own = copies(areas)
        protected_m2, key, dist = _against_areas(
            pg[lo:hi],
            par.empty[lo:hi],
            area_m2[lo:hi],
            own,
            pa_idx,
            npa,
            crs,
            tiling,
            reach,
        )
        return protected_m2, key + lo * npa, dist

    if jobs == 1:
        parts = [job(0, n)]
    else:
        with ThreadPoolExecutor(jobs) as pool:
            parts = list(pool.map(job, cuts[:-1].tolist(), cuts[1:].tolist()))
    protected_m2, key, dist = (np.concatenate(c) for c in zip(*parts, strict=True))
    return area_m2, protected_m2, key, dist


def _against_areas(
    pg: np.ndarray,
    empty: np.ndarray,
    area_m2: np.ndarray,
    areas: np.ndarray,
    pa_idx: np.ndarray,
    npa: int,
    crs: pyproj.CRS,
    tiling: _Tiling,
    reach: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parcels ``pg`` (of ellipsoidal area ``area_m2``) against the protected ``areas``.

    ``areas`` are the rows ``pa_idx`` of the protected layer, copies that this call
    owns: they get prepared, which is not safe on geometries another thread uses.
    Returns, per parcel, the ellipsoidal m² inside the union of the areas and the distance
    (m); and the sorted keys ``row * npa + area`` of the (parcel, area) pairs
    whose interiors meet. A parcel's results depend on the parcel and the areas
    alone, never on the other parcels.
    """
    n = pg.size
    protected_m2 = np.zeros(n)
    dist = np.full(n, np.nan)
    if pa_idx.size == 0 or not np.any(~shapely.is_missing(pg)):
        return protected_m2, np.zeros(0, dtype=np.int64), dist
    # 1. parcels meeting a boundary: an index of short boundary pieces stays tight
    lines, line_owner = _boundary_chunks(areas, pa_idx, 16)
    ci, cj = shapely.STRtree(lines).query(pg, predicate="intersects")
    crossing = np.unique(ci.astype(np.int64) * npa + line_owner[cj])
    # 2. a single polygon meeting no boundary of an area lies inside it or outside
    # it entirely: one of its vertices tells which (prepared point-in-polygon)
    ai, aj = shapely.STRtree(areas).query(pg)
    akey = ai.astype(np.int64) * npa + pa_idx[aj]
    single = shapely.get_type_id(pg) == 3
    free = np.flatnonzero(single[ai] & ~np.isin(akey, crossing))
    xy, at = coordinates(pg[ai[free]])
    first = xy[np.searchsorted(at, np.arange(free.size))]
    shapely.prepare(areas)  # this job's own copies (see _measure)
    inside = free[shapely.intersects_xy(areas[aj[free]], first[:, 0], first[:, 1])]
    whole = np.zeros(n, dtype=bool)
    whole[ai[inside]] = True  # the overlap is the whole parcel: no intersection
    # 3. parcels across a boundary (and multi-part parcels): intersect with tiles
    multi = np.unique(ai[~single[ai]])
    cut_rows = np.union1d(np.unique(ci), multi)
    ui = np.zeros(0, dtype=np.intp)
    uo = np.zeros(0, dtype=np.intp)
    meets = np.zeros(0, dtype=bool)
    if cut_rows.size:
        ui, uo, meets, protected_m2 = _cut_overlaps(
            pg, cut_rows, whole, tiling, crs, (akey[inside], npa)
        )
    protected_m2[whole] = area_m2[whole]
    protected_m2 = np.minimum(protected_m2, area_m2)
    # (parcel, area) pairs whose interiors meet
    key = np.unique(np.concatenate([akey[inside], ui[meets].astype(np.int64) * npa + uo[meets]]))
    touching = whole.copy()
    touching[ci] = True
    touching[ui] = True
    dist[touching] = 0.0
    far = np.flatnonzero(~touching & ~empty & ~shapely.is_missing(pg))
    if far.size:
        # the whole protected polygons, not only the part near the parcels
        dist[far] = _nearest_distance_m(pg[far], areas, crs, max_distance_m=reach)
    return protected_m2, key, dist


def _cut_overlaps(
    pg: np.ndarray,
    rows: np.ndarray,
    whole: np.ndarray,
    tiling: _Tiling,
    crs: pyproj.CRS,
    known: tuple[np.ndarray, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Overlap of the parcels ``pg[rows]`` with the tiles of the protected areas near them.

    Returns, per (parcel, tile) pair that intersects, the parcel row, the owner
    of the tile and whether their interiors meet (``known``: the keys
    ``row * npa + owner`` of pairs already known to, and ``npa``, are not asked
    again, but may come out False); and per parcel of ``pg``, the
    ellipsoidal m² inside the union of the areas (0 where ``whole``, whose
    pairs only get the predicate). The tiles of one area are disjoint, so a
    parcel in one area sums its pieces; the pieces of a parcel in several
    (possibly overlapping) areas are merged first, so nothing counts twice.
    """
    # only the areas near these parcels, but each tiled whole (see _Tiling)
    tiles, tile_owner, rank = tiling.near(shapely.total_bounds(pg[rows]))
    ti, tj = shapely.STRtree(tiles).query(pg[rows], predicate="intersects")
    # the index visits a parcel's tiles in an order that depends on the other tiles in it:
    # put them in the order of their own area's tiling, so sums of pieces are the same bits
    # whichever parcels (and so areas) the call holds
    order = np.lexsort((rank[tj], tile_owner[tj], ti))
    ti, tj = ti[order], tj[order]
    ui, uo = rows[ti], tile_owner[tj]
    meets = np.zeros(ui.size, dtype=bool)
    m2 = np.zeros(pg.size)
    cut = ~whole[ui]
    # parcels inside an area: only which other areas they meet (not the area they lie in)
    keys, npa_known = known
    ask = np.flatnonzero(~cut)
    ask = ask[~np.isin(ui[ask].astype(np.int64) * npa_known + uo[ask], keys)]
    meets[ask] = shapely.relate_pattern(tiles[tj[ask]], pg[ui[ask]], "T********")
    ci, co = ui[cut], uo[cut]
    pieces = _polygonal(shapely.intersection(pg[ci], tiles[tj[cut]]))
    pos = shapely.area(pieces) > 0
    # a piece with no area: edge contact, unless rounding lost it (ask the predicate)
    zero = np.flatnonzero(~pos)
    met = pos.copy()
    met[zero] = shapely.relate_pattern(tiles[tj[cut][zero]], pg[ci[zero]], "T********")
    meets[cut] = met
    ci, co, pieces = ci[pos], co[pos], pieces[pos]
    if ci.size == 0:
        return ui, uo, meets, m2
    npa = int(tile_owner.max()) + 1
    pairs = np.unique(ci.astype(np.int64) * npa + co)
    n_own = np.bincount(pairs // npa, minlength=pg.size)
    one = n_own[ci] == 1
    m2 += np.bincount(ci[one], weights=geodesic_area_m2(pieces[one], crs), minlength=pg.size)
    if not one.all():
        # parcels in several areas: merge their pieces (one row per parcel, padded)
        mi, mp = ci[~one], pieces[~one]
        order = np.argsort(mi, kind="stable")
        mi, mp = mi[order], mp[order]
        rows_m, start, count = np.unique(mi, return_index=True, return_counts=True)
        grid = np.full((rows_m.size, int(count.max())), None, dtype=object)
        col = np.arange(mi.size) - np.repeat(start, count)
        grid[np.repeat(np.arange(rows_m.size), count), col] = mp
        merged = _polygonal(np.asarray(shapely.union_all(grid, axis=1)))
        m2[rows_m] = geodesic_area_m2(merged, crs)
    return ui, uo, meets, m2


# ---------------------------------------------------------------- containment

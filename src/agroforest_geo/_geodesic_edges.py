"""Polygons taken to a raster's CRS with their edges kept on the geodesics.

Method
------
The area of a polygon (:mod:`agroforest_geo.area`) is the area of its
*geodesic* polygon: vertices on the ellipsoid joined by geodesics. Pixel
coverage is computed on the raster's grid, where an edge is the straight
segment between its two vertices in the raster's CRS, and that segment is not
the geodesic in any CRS: in longitude/latitude a geodesic bends poleward of
the straight segment by about ``L² tan φ / 8R`` (2 cm on a 3 km east-west edge
at 7° S: 23 m², 6.5e-6, missing from a triangle of 3 km edges; 0.19 % of a
triangle of 30 km edges at 60° N); in UTM it bends by about ``L² x / 8R²`` at
a distance ``x`` from the central meridian.

So, before the transformation, each long edge is cut into ``n`` pieces by
points *on the geodesic* (:meth:`pyproj.Geod.fwd`, as
:mod:`~agroforest_geo.area` does), in the polygons' own longitude/latitude.
``n`` comes from the edge itself: the distance ``d``, in the raster's CRS,
from the edge's straight segment to the geodesic's midpoint. A piece ``1/n``
as long deviates about ``d / n²``, so ``n = ceil(sqrt(d / MAX_DEVIATION_M))``
keeps every piece within 2 µm of the geodesic, and the covered area differs
from the geodesic polygon's by at most about ``2/3 × 2 µm × perimeter``
(1.2e-2 m², 3e-9 relative, for a triangle of 3 km edges; 2.4e-8 for a thin
one of 35 ha; 3e-10 with 30 km edges). Pieces are at most 1 km long, which
also covers the geodesics whose image crosses its chord (across the equator
in longitude/latitude), where the midpoint understates the deviation. What
is left is the pixel's own approximation on degree grids: a partly covered
cell counts its covered fraction of the cell's area, as if the area were
spread evenly over the cell's latitudes (up to ``tan φ × Δφ / 2`` relative
per partial cell: 9e-8 of a thin 35 ha triangle at 55°, 1e-8 at 7°).

Edges shorter than ``MIN_EDGE_M`` (200 m) are left straight: they deviate by
less than 0.1 mm at 7° and 0.8 mm at 45° of latitude (at most 0.013 m² and
0.1 m² per edge). They are nearly all the edges of farm parcels (98 % of the
sample parcels'), and they are recognised from the map coordinates by numpy
alone, so polygons without long edges cost one pass over their vertices and
come out exactly as a plain transformation gives them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
import shapely

from .area import _insert_on_geodesics, _polygon_rings, _row_longest_edges, _to_lonlat, _transformer
from .crs import geodetic_crs, transform_geoms

#: The straight pieces of a densified edge stay within this distance (m) of the geodesic.
MAX_DEVIATION_M = 2e-6
#: Edges shorter than this (on the ground) are left as they are.
MIN_EDGE_M = 200.0
#: No piece is made shorter than this, whatever the deviation (near the poles).
_MIN_PIECE_M = 1.0
#: Nor longer than this: where the image of a geodesic turns from one side of its chord to
#: the other (across the equator in lon/lat, the central meridian in UTM), the deviation at
#: the midpoint understates it; pieces of 1 km stay within 1 µm of such a geodesic.
_MAX_PIECE_M = 1_000.0
#: Lower bound of the linear scale of a projected CRS over a layer: a map length over
#: this factor bounds the ground length (UTM: 0.9996; Web Mercator: >= 1).
_MIN_MAP_SCALE = 0.5
#: Upper bound of the metres in one degree of latitude or longitude.
_M_PER_DEG_MAX = 111_700.0
#: Metres in one degree on the ellipsoid's equator, to measure deviations in degrees.
_M_PER_DEG = 111_320.0


def to_crs_geodesic(
    geoms: np.ndarray, crs: pyproj.CRS, dst: pyproj.CRS, *, max_step: np.ndarray | None = None
) -> np.ndarray:
    """``geoms`` (in ``crs``, None where missing) in ``dst``, long edges cut along geodesics.

    Polygons without an edge longer than :data:`MIN_EDGE_M` come out exactly as
    :func:`~agroforest_geo.crs.transform_geoms` gives them. ``max_step``, the longest
    edge of each polygon in the units of ``crs`` when the caller has it (the area pass
    finds it), saves reading every vertex again.
    """
    tr = None if crs.equals(dst, ignore_axis_order=True) else _transformer(crs, dst)
    out = geoms if tr is None else transform_geoms(geoms, tr)
    long_ = _with_long_edges(geoms, crs, max_step)
    if long_.size == 0:
        return out
    out = out.copy()
    types = shapely.get_type_id(geoms[long_])
    for type_id in (3, 6):  # Polygon, MultiPolygon: one ragged layout each
        sel = long_[types == type_id]
        if sel.size:
            out[sel] = _densified(geoms[sel], out[sel], crs, dst)
    return out


def _map_metres(crs: pyproj.CRS) -> float:
    """Upper bound of the ground metres in one map unit of ``crs``."""
    if crs.is_geographic:
        return _M_PER_DEG_MAX
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return float(unit) / _MIN_MAP_SCALE


def _with_long_edges(
    geoms: np.ndarray, crs: pyproj.CRS, max_step: np.ndarray | None = None
) -> np.ndarray:
    """Positions of the polygons that may have an edge longer than :data:`MIN_EDGE_M`.

    From each polygon's longest edge in map units (``max_step``, or read here), by the
    map-length bound of ``crs``.
    """
    if max_step is None:
        max_step = _row_longest_edges(_polygon_rings(geoms), geoms.size)
    with np.errstate(invalid="ignore"):  # NaN (a non-finite vertex) is not long
        return np.flatnonzero(max_step * _map_metres(crs) > MIN_EDGE_M)


def _densified(geoms: np.ndarray, in_dst: np.ndarray, crs: pyproj.CRS, dst: pyproj.CRS) -> Any:
    """Polygons of one type, their long edges cut along geodesics, in ``dst``.

    ``in_dst`` are the same polygons already transformed to ``dst``: their
    vertices are kept, bit for bit, and the new points are placed between them.
    """
    gtype, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    _, xy_dst, _ = shapely.to_ragged_array(in_dst, include_z=False)
    nring = offsets[0].size - 1
    ring = np.repeat(np.arange(nring), np.diff(offsets[0]))
    lon, lat, geod = _to_lonlat(coords, crs)
    # the map-length bound again, now per ring, then the true length of the long ones only
    scale = _map_metres(crs)
    step = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1])) * scale
    edge = np.flatnonzero((step > MIN_EDGE_M) & (ring[1:] == ring[:-1]))
    # edges across the antimeridian stay as they are (the raster path does not split them)
    edge = edge[np.abs(lon[edge + 1] - lon[edge]) <= 180.0]
    az, _, dist = geod.inv(lon[edge], lat[edge], lon[edge + 1], lat[edge + 1])
    az, dist = np.asarray(az), np.asarray(dist)
    keep = np.isfinite(dist) & (dist > MIN_EDGE_M)
    edge, az, dist = edge[keep], az[keep], dist[keep]
    to_dst = _transformer(geodetic_crs(crs), dst)
    nseg = _pieces(lon, lat, xy_dst, edge, az, dist, geod, to_dst, dst)
    lon, lat, ring, new = _insert_on_geodesics(lon, lat, ring, geod, edge, az, dist, nseg)
    xy = np.empty((lon.size, 2))
    xy[~new] = xy_dst
    if new.any():
        xy[new] = np.column_stack(to_dst.transform(lon[new], lat[new]))
    ring_off = np.concatenate([[0], np.cumsum(np.bincount(ring, minlength=nring))])
    return shapely.from_ragged_array(gtype, xy, (ring_off, *offsets[1:]))


def _pieces(
    lon: np.ndarray,
    lat: np.ndarray,
    xy_dst: np.ndarray,
    edge: np.ndarray,
    az: np.ndarray,
    dist: np.ndarray,
    geod: pyproj.Geod,
    to_dst: pyproj.Transformer,
    dst: pyproj.CRS,
) -> np.ndarray:
    """Count the geodesic pieces each edge needs, from its chord's deviation in ``dst``."""
    if edge.size == 0:
        return np.zeros(0, dtype=np.int64)
    mlon, mlat, _ = geod.fwd(lon[edge], lat[edge], az, dist / 2)
    mx, my = to_dst.transform(np.asarray(mlon), np.asarray(mlat))
    p1, p2 = xy_dst[edge], xy_dst[edge + 1]
    cx, cy = p2[:, 0] - p1[:, 0], p2[:, 1] - p1[:, 1]
    ox, oy = np.asarray(mx) - p1[:, 0], np.asarray(my) - p1[:, 1]
    if dst.is_geographic:  # degrees to local metres (within 1 %: enough to choose n)
        shrink = np.cos(np.radians(np.asarray(mlat)))
        cx, ox = cx * shrink, ox * shrink
        unit = _M_PER_DEG
    else:
        unit = dst.axis_info[0].unit_conversion_factor if dst.axis_info else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = np.abs(cx * oy - cy * ox) / np.hypot(cx, cy) * unit
    dev = np.nan_to_num(dev, nan=0.0, posinf=0.0)
    nseg = np.maximum(np.ceil(np.sqrt(dev / MAX_DEVIATION_M)), np.ceil(dist / _MAX_PIECE_M))
    nseg = np.minimum(nseg, np.ceil(dist / _MIN_PIECE_M))
    return np.maximum(nseg, 1).astype(np.int64)

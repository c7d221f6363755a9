"""Polygons across the antimeridian, cut at ±180° (RFC 7946 §3.1.9).

A parcel in Fiji digitized as ``(179.99, -16), (-179.99, -16), ...`` is, to GEOS,
a band 359.98° wide around the whole Earth: it "overlaps" parcels 19,000 km
away. In longitude/latitude such a polygon is recognised by a longitude span
over 180° (no parcel is that wide); it is shifted to the 0..360 range, cut
along the 180° meridian and its western half shifted back, so it becomes a
MultiPolygon with one part on each side, as RFC 7946 asks. Its ellipsoidal
area is unchanged (:func:`agroforest_geo.area_ha` already measured it right).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry.polygon import orient

__all__ = ["crosses_antimeridian", "cut_antimeridian", "cut_layer_at_antimeridian"]

_POLYGONAL = (3, 6)


def crosses_antimeridian(geoms: Any, crs: Any) -> np.ndarray:
    """Tell which polygons of a longitude/latitude layer span more than 180° of longitude.

    Always False in a projected CRS (the problem does not arise there) or without a CRS.

    Examples
    --------
    >>> import shapely
    >>> east, west = shapely.box(179.99, -16.01, 180, -16), shapely.box(-180, -16.01, -179.99, -16)
    >>> fiji = shapely.MultiPolygon([east, west])  # already cut
    >>> band = shapely.Polygon([(179.99, -16), (-179.99, -16), (-179.99, -16.01), (179.99, -16.01)])
    >>> crosses_antimeridian([band, fiji, shapely.box(0, 0, 1, 1)], 4326).tolist()
    [True, False, False]
    """
    arr = np.asarray(geoms, dtype=object).ravel()
    out = np.zeros(arr.size, dtype=bool)
    if crs is None or not pyproj.CRS.from_user_input(crs).is_geographic or arr.size == 0:
        return out
    poly = np.isin(shapely.get_type_id(arr), _POLYGONAL)
    poly[poly] = ~shapely.is_empty(arr[poly])
    if not poly.any():
        return out
    b = shapely.bounds(arr[poly])
    with np.errstate(invalid="ignore"):
        wide = (b[:, 2] - b[:, 0] > 180.0) & (b[:, 0] >= -180.0) & (b[:, 2] <= 180.0)
    # a cut polygon (or Antarctica, closed along the pole) has parts touching ±180 and no
    # edge across the map: no edge longer than 180° of longitude; the band has one
    cand = np.flatnonzero(poly)[wide]
    for i in cand.tolist():
        xy, ring = shapely.get_coordinates(
            shapely.get_rings(shapely.get_parts(arr[i])), return_index=True
        )
        x0, x1, y0, y1 = xy[:-1, 0], xy[1:, 0], xy[:-1, 1], xy[1:, 1]
        # an edge from +180 to -180 (the same meridian) or along a pole has no such extent
        seam = (np.abs(x0) == 180.0) & (np.abs(x1) == 180.0)
        pole = (np.abs(y0) == 90.0) & (np.abs(y1) == 90.0)
        long_edge = (np.abs(x1 - x0) > 180.0) & ~seam & ~pole
        out[i] = bool(np.any(long_edge[ring[1:] == ring[:-1]]))
    return out


def cut_antimeridian(geoms: Any, crs: Any) -> np.ndarray:
    """Return the geometries with every polygon across the antimeridian cut at ±180°.

    Other geometries are returned as they are (the same objects).

    Examples
    --------
    >>> import shapely
    >>> band = shapely.Polygon([(179.99, -16), (-179.99, -16), (-179.99, -16.01), (179.99, -16.01)])
    >>> cut = cut_antimeridian([band], 4326)[0]
    >>> cut.geom_type, [round(b, 2) for b in cut.bounds]
    ('MultiPolygon', [-180.0, -16.01, 180.0, -16.0])
    >>> round(cut.geoms[0].area + cut.geoms[1].area, 6)  # 0.02° x 0.01°, not 359.98° x 0.01°
    0.0002
    """
    arr = np.array(np.asarray(geoms, dtype=object).ravel(), dtype=object, copy=True)
    cross = np.flatnonzero(crosses_antimeridian(arr, crs))
    for i in cross.tolist():
        shifted = shapely.transform(
            arr[i],
            lambda xy: np.column_stack(
                [np.where(xy[:, 0] < 0, xy[:, 0] + 360, xy[:, 0]), xy[:, 1]]
            ),
        )
        east = shapely.clip_by_rect(shifted, 0.0, -90.0, 180.0, 90.0)
        west = shapely.transform(
            shapely.clip_by_rect(shifted, 180.0, -90.0, 360.0, 90.0), lambda xy: xy - [360.0, 0.0]
        )
        parts = [
            orient(p, 1.0)  # exterior counter-clockwise, as RFC 7946 wants
            for g in (east, west)
            for p in shapely.get_parts(g)
            if shapely.get_type_id(p) == 3 and not p.is_empty
        ]
        arr[i] = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
    return arr


def cut_layer_at_antimeridian(gdf: Any) -> Any:
    """Return ``gdf`` with its antimeridian-crossing polygons cut (a copy only when needed)."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if not crosses_antimeridian(geoms, gdf.crs).any():
        return gdf
    out = gdf.copy()
    out[gdf.geometry.name] = type(gdf.geometry)(
        cut_antimeridian(geoms, gdf.crs), index=gdf.index, crs=gdf.crs
    ).values
    return out

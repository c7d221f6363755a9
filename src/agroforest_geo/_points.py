"""Point plots as areas: the geodesic circle of a point's declared area.

The EU rules (EUDR Art. 2(28) and the information system's GeoJSON description)
allow a plot of at most 4 ha to be given as one point. Wherever this library
needs an area (hectares, raster shares, protected and parcel overlaps) a point
stands for a *geodesic circle* around it whose area is the point's declared
area: the ``declared_area_ha`` column when it holds a positive number, else
:data:`DEFAULT_POINT_AREA_HA` (4 ha, the largest area a point may stand for, so
the evidence gathered around a point never covers less than the plot can be).

Method
------
The circle is a regular polygon of :data:`CIRCLE_VERTICES` vertices, each at the
same geodesic distance ``r`` from the point (``pyproj.Geod.fwd`` on equally
spaced azimuths, on the ellipsoid of the layer's CRS), then taken to the layer's
CRS. ``r`` is chosen so that the polygon, not the circle, has the declared area:
a regular n-gon of circumradius ``r`` has area ``n/2 r² sin(2π/n)`` in the plane,
and for radii of a few hundred metres the ellipsoid changes that by less than
1e-9 relative (tested against :func:`agroforest_geo.area_ha`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from .crs import geodetic_crs

__all__ = [
    "CIRCLE_VERTICES",
    "DEFAULT_POINT_AREA_HA",
    "POINT_AREA_COLUMN",
    "POINT_MAX_HA",
    "declared_areas_ha",
    "is_point",
    "point_areas_ha",
    "points_as_circles",
]

#: The largest plot the EU lets one give as a point (hectares; EUDR Art. 2(28)).
POINT_MAX_HA = 4.0
#: Hectares a point without a declared area stands for: the largest a point may be.
DEFAULT_POINT_AREA_HA = POINT_MAX_HA
#: The column read for a point's declared area (hectares), as in ``declared_vs_measured``.
POINT_AREA_COLUMN = "declared_area_ha"
#: Vertices of the polygon standing for a point's circle.
CIRCLE_VERTICES = 64


def is_point(geoms: np.ndarray) -> np.ndarray:
    """Tell which geometries are non-empty Points."""
    arr = np.asarray(geoms, dtype=object)
    return (shapely.get_type_id(arr) == 0) & ~shapely.is_empty(arr)


def declared_areas_ha(data: Any, n: int) -> np.ndarray:
    """Each row's declared hectares where ``declared_area_ha`` holds a positive number, else NaN.

    ``data`` is the layer (a GeoDataFrame may hold the column; a GeoSeries never does).
    """
    out = np.full(n, np.nan)
    if isinstance(data, pd.DataFrame) and POINT_AREA_COLUMN in data.columns:
        declared = pd.to_numeric(data[POINT_AREA_COLUMN], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(declared) & (declared > 0)
        out[ok] = declared[ok]
    return out


def point_areas_ha(data: Any, n: int) -> np.ndarray:
    """Hectares each row's point stands for: ``declared_area_ha`` if positive, else 4 ha.

    ``data`` is the layer (a GeoDataFrame may hold the column; a GeoSeries never does).
    """
    declared = declared_areas_ha(data, n)
    return np.where(np.isfinite(declared), declared, DEFAULT_POINT_AREA_HA)


def _circles_lonlat(
    lon: np.ndarray, lat: np.ndarray, area_m2: np.ndarray, geod: pyproj.Geod
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (n × CIRCLE_VERTICES+1) of the circles, the last closing the ring."""
    k = CIRCLE_VERTICES
    radius = np.sqrt(area_m2 / (k / 2 * np.sin(2 * np.pi / k)))
    az = np.linspace(0.0, 360.0, k, endpoint=False)
    az = 360.0 - az  # counter-clockwise seen from above: exterior rings as RFC 7946 wants
    n = lon.size
    lo, la, _ = geod.fwd(np.repeat(lon, k), np.repeat(lat, k), np.tile(az, n), np.repeat(radius, k))
    lo = np.asarray(lo).reshape(n, k)
    la = np.asarray(la).reshape(n, k)
    # keep longitudes continuous around the centre (a circle next to the antimeridian)
    lo = lon[:, None] + (lo - lon[:, None] + 180.0) % 360.0 - 180.0
    return np.c_[lo, lo[:, :1]], np.c_[la, la[:, :1]]


def points_as_circles(
    geoms: np.ndarray, crs: Any, areas_ha: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Replace every Point of ``geoms`` by the geodesic circle of its area.

    Parameters
    ----------
    geoms : array of shapely geometries
        In ``crs``; other geometries are returned as they are.
    crs : CRS-like
    areas_ha : array of float
        Hectares of each row's circle (only the points' entries are read).

    Returns
    -------
    geoms : numpy.ndarray
        A copy, points replaced by polygons.
    buffer_ha : numpy.ndarray of float
        The hectares used for each point, NaN for the other rows.

    Examples
    --------
    >>> import shapely, numpy as np
    >>> from agroforest_geo.area import geodesic_area_m2
    >>> g, ha = points_as_circles(np.array([shapely.Point(-76.5, -7.2)]), 4326, np.array([2.5]))
    >>> g[0].geom_type, float(ha[0]), round(float(geodesic_area_m2(g, 4326)[0]) / 1e4, 6)
    ('Polygon', 2.5, 2.5)
    """
    arr = np.array(geoms, dtype=object, copy=True)
    buffer_ha = np.full(arr.size, np.nan)
    pts = np.flatnonzero(is_point(arr))
    if pts.size == 0:
        return arr, buffer_ha
    src = pyproj.CRS.from_user_input(crs)
    geo = geodetic_crs(src)
    geod = geo.get_geod()
    assert geod is not None  # every geodetic CRS has an ellipsoid
    xy = shapely.get_coordinates(arr[pts])
    if src.is_geographic and src.equals(geo, ignore_axis_order=True):
        lon, lat = xy[:, 0], xy[:, 1]
    else:
        to_geo = pyproj.Transformer.from_crs(src, geo, always_xy=True)
        lon, lat = (np.asarray(v, dtype=float) for v in to_geo.transform(xy[:, 0], xy[:, 1]))
    area_ha = np.asarray(areas_ha, dtype=float)[pts]
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) < 90) & np.isfinite(area_ha)
    pts, lon, lat, area_ha = pts[ok], lon[ok], lat[ok], area_ha[ok]
    if pts.size == 0:
        return arr, buffer_ha
    clon, clat = _circles_lonlat(lon, lat, area_ha * 10_000.0, geod)
    if not (src.is_geographic and src.equals(geo, ignore_axis_order=True)):
        to_src = pyproj.Transformer.from_crs(geo, src, always_xy=True)
        cx, cy = to_src.transform(clon.ravel(), clat.ravel())
        clon = np.asarray(cx).reshape(clon.shape)
        clat = np.asarray(cy).reshape(clat.shape)
    rings = shapely.linearrings(np.stack([clon, clat], axis=-1))
    arr[pts] = shapely.polygons(rings)
    buffer_ha[pts] = area_ha
    return arr, buffer_ha


def point_buffer_column(gdf: Any) -> pd.Series | None:
    """Return the ``point_buffer_ha`` column of a layer: hectares each point stands for.

    None when the layer has no point; NaN on the rows that are not points.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"declared_area_ha": [1.5, None]},
    ...     geometry=[shapely.Point(-76.5, -7.2), shapely.box(0, 0, 1, 1)], crs=4326)
    >>> point_buffer_column(gdf).tolist()
    [1.5, nan]
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    pts = is_point(geoms)
    if not pts.any():
        return None
    out = np.where(pts, point_areas_ha(gdf, geoms.size), np.nan)
    return pd.Series(out, index=gdf.index, name="point_buffer_ha")

"""CRS handling: normalise user input once, guard against missing or mismatched CRSs.

A CRS is data: nothing here reprojects a layer behind the caller's back. The
guards raise errors whose message names the fix.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from .errors import CRSMismatchError, MissingCRSError

__all__ = [
    "geodetic_crs",
    "norm_crs",
    "require_crs",
    "same_crs",
    "transform_geoms",
    "utm_crs_for",
    "utm_epsg",
]


def norm_crs(crs: Any) -> pyproj.CRS | None:
    """Normalise anything pyproj understands (EPSG int, string, WKT, CRS) to ``pyproj.CRS``.

    Parameters
    ----------
    crs : Any
        ``None``, an EPSG code, an authority string, WKT, PROJ string or ``pyproj.CRS``.

    Returns
    -------
    pyproj.CRS or None

    Examples
    --------
    >>> norm_crs(32718).to_epsg()
    32718
    >>> norm_crs(None) is None
    True
    """
    if crs is None:
        return None
    return pyproj.CRS.from_user_input(crs)


def require_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, name: str = "layer") -> pyproj.CRS:
    """Return the CRS of ``gdf`` or raise :class:`MissingCRSError` naming the fix.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        The layer to check.
    name : str
        How the layer is called in the error message.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> require_crs(gpd.GeoSeries([shapely.Point(0, 0)], crs=4326)).to_epsg()
    4326
    """
    if gdf.crs is None:
        exc = MissingCRSError(
            f"{name} has no CRS. Set the CRS the coordinates are in, e.g. "
            f"`{name} = {name}.set_crs('EPSG:4326')` for longitude/latitude or "
            f"`.set_crs('EPSG:32718')` for UTM 18S metres (a Shapefile needs its .prj)."
        )
        exc.cli_message = (
            f"{name} has no CRS. Give the CRS the coordinates are in, e.g. --crs EPSG:4326 "
            "for longitude/latitude or --crs EPSG:32718 for UTM 18S metres (a Shapefile needs "
            "its .prj)."
        )
        raise exc
    return pyproj.CRS.from_user_input(gdf.crs)


def same_crs(
    left: gpd.GeoDataFrame | gpd.GeoSeries,
    right: gpd.GeoDataFrame | gpd.GeoSeries,
    left_name: str = "left",
    right_name: str = "right",
) -> pyproj.CRS:
    """Check that two layers share one CRS and return it.

    Raises :class:`CRSMismatchError` whose message gives the ``to_crs`` call that fixes it.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoSeries([shapely.Point(0, 0)], crs=4326)
    >>> same_crs(a, a).to_epsg()
    4326
    """
    lcrs = require_crs(left, left_name)
    rcrs = require_crs(right, right_name)
    if not lcrs.equals(rcrs, ignore_axis_order=True):
        head = f"{left_name} is in {_crs_label(lcrs)} but {right_name} is in {_crs_label(rcrs)}; "
        exc = CRSMismatchError(
            head + "reproject one of them first, e.g. "
            f"`{right_name} = {right_name}.to_crs({left_name}.crs)`."
        )
        exc.cli_message = head + (
            "reproject one of the files to the other's CRS first, e.g. "
            f"ogr2ogr -t_srs {_crs_label(lcrs)} reprojected.gpkg {right_name.upper()}_FILE"
        )
        raise exc
    return lcrs


def geodetic_crs(crs: Any) -> pyproj.CRS:
    """Return the longitude/latitude CRS on the datum (ellipsoid) of ``crs``.

    Examples
    --------
    >>> geodetic_crs(32718).ellipsoid.name
    'WGS 84'
    """
    c = pyproj.CRS.from_user_input(crs)
    g = c.geodetic_crs
    if g is None:  # pragma: no cover - every CRS with a datum has one
        raise MissingCRSError(f"{_crs_label(c)} has no geodetic datum; areas cannot be computed.")
    return g


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS 84 / UTM zone CRS that contains the point ``(lon, lat)``.

    Examples
    --------
    >>> utm_crs_for(-76.7, -7.2).to_epsg()
    32718
    """
    return pyproj.CRS.from_epsg(int(utm_epsg(np.asarray(lon), np.asarray(lat))))


def utm_epsg(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """EPSG codes of the WGS 84 / UTM zones of points (vectorized :func:`utm_crs_for`).

    Examples
    --------
    >>> utm_epsg(np.array([-76.7, 113.0, 179.9]), np.array([-7.2, 1.0, -17.0])).tolist()
    [32718, 32649, 32760]
    """
    zone = np.floor_divide(np.asarray(lon, dtype=float) + 180.0, 6.0).astype(np.int64) % 60 + 1
    return np.where(np.asarray(lat) < 0, 32700, 32600) + zone


def transform_geoms(geoms: Any, transformer: pyproj.Transformer) -> np.ndarray:
    """Geometries with every vertex through ``transformer`` (built with ``always_xy=True``).

    Examples
    --------
    >>> import shapely
    >>> tr = pyproj.Transformer.from_crs(4326, 32718, always_xy=True)
    >>> g = transform_geoms([shapely.Point(-75.0, -7.0)], tr)[0]
    >>> round(g.x), round(g.y)
    (500000, 9226251)
    """
    return np.asarray(
        shapely.transform(
            np.asarray(geoms, dtype=object),
            lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
        ),
        dtype=object,
    )


def _crs_label(crs: pyproj.CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else (crs.name or crs.to_string())

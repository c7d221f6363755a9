"""Opening and checking the inputs of zonal statistics: rasters and polygons.

Rasters must have a CRS and a north-up geotransform, the requested band, and
share one grid when several are read together; a raster without a nodata value
and without a mask gets a :class:`~agroforest_geo.errors.NoDataWarning`.
Polygons must be (Multi)Polygons with a CRS whose coordinates look like that
CRS (degrees vs metres); they are transformed to the raster's CRS and their
exact ellipsoidal areas computed here, once.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import shapely
from affine import Affine
from rasterio.io import DatasetReader

from ._geodesic_edges import to_crs_geodesic
from ._network import check_source, is_remote, raster_env
from ._points import point_areas_ha, points_as_circles
from ._screen import screen_with_validity
from ._threads import unprepared
from .area import (
    _DEFAULT_MAX_SEGMENT_M,
    _measure_m2,
    _Measured,
    _warn_impossible,
)
from .crs import require_crs
from .errors import (
    CRSMismatchError,
    GeometryWarning,
    InvalidGeometryError,
    NoDataWarning,
    RasterError,
)

__all__ = ["RasterLike"]

RasterLike = Union[str, Path, DatasetReader]  # noqa: UP007 - a runtime alias on Python 3.10


# ---------------------------------------------------------------------------
# rasters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    crs: pyproj.CRS
    transform: Affine
    width: int
    height: int

    @functools.cached_property
    def wkt(self) -> str:
        return self.crs.to_wkt()

    @property
    def dx(self) -> float:
        return float(self.transform.a)

    @property
    def dy(self) -> float:
        return float(self.transform.e)  # negative for north-up rasters


def _open(raster: RasterLike, stack: ExitStack) -> DatasetReader:
    if isinstance(raster, DatasetReader):
        if raster.closed:
            raise RasterError(f"raster {raster.name} is closed; open it again or pass its path")
        return raster
    if isinstance(raster, (str, Path)):
        if is_remote(raster):  # allowed only with allow_network(); rasterio reads the URL
            check_source(raster, what="raster")
            stack.enter_context(raster_env())
            return stack.enter_context(rasterio.open(raster))
        path = Path(raster)
        if not path.exists():
            raise RasterError(f"raster {path} does not exist; check the path")
        check_source(path, what="raster")  # a VRT may only read local files
        stack.enter_context(raster_env())  # no network request while it is read
        try:
            return stack.enter_context(rasterio.open(path))
        except rasterio.errors.RasterioIOError as exc:
            raise RasterError(f"cannot open {path} as a raster ({exc}); is it a GeoTIFF?") from exc
    raise TypeError(
        f"raster must be a path or an open rasterio dataset, got {type(raster).__name__}"
    )


def _grid_of(src: DatasetReader, name: str) -> _Grid:
    if src.crs is None:
        raise RasterError(
            f"raster {name!r} ({src.name}) has no CRS; set it, e.g. "
            "`rio edit-info --crs EPSG:4326 FILE` or rasterio `dst.crs = ...`"
        )
    t = src.transform
    if t == Affine.identity():
        raise RasterError(
            f"raster {name!r} ({src.name}) has no geotransform (pixel coordinates only); "
            "georeference it first, e.g. `gdal_translate -a_ullr ulx uly lrx lry -a_srs EPSG:...`"
        )
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise RasterError(
            f"raster {name!r} ({src.name}) is rotated or not north-up ({tuple(t)[:6]}); "
            "warp it to a north-up grid first, e.g. `gdalwarp IN OUT`"
        )
    return _Grid(pyproj.CRS.from_user_input(src.crs), t, src.width, src.height)


def _band_list(src: DatasetReader, k: int = 12) -> str:
    descs = src.descriptions or (None,) * src.count
    items = [f"{i} {d!r}" if d else f"{i} (no description)" for i, d in enumerate(descs, 1)]
    more = f" … ({src.count} bands)" if len(items) > k else ""
    return ", ".join(items[:k]) + more


def _resolve_band(src: DatasetReader, band: int | str | None, name: str) -> int:
    """Return the 1-based band to read: a number, a band description, or None (the only band)."""
    if band is None:
        if src.count == 1:
            return 1
        raise RasterError(
            f"raster {name!r} ({src.name}) has {src.count} bands; say which one to read with "
            f"band= its number or description: {_band_list(src)}"
        )
    if isinstance(band, str):
        descs = [(d or "").strip().lower() for d in (src.descriptions or (None,) * src.count)]
        if band.strip().lower() in descs:
            return descs.index(band.strip().lower()) + 1
        if src.count == 1 and not descs[0]:
            return 1  # a single band without a description can only be the one asked for
        raise RasterError(
            f"raster {name!r} ({src.name}) has no band described {band!r}; its bands are "
            f"{_band_list(src)}. Pass band= a number or one of these descriptions."
        )
    _check_band(src, band, name)
    return int(band)


def _check_band(src: DatasetReader, band: int, name: str) -> None:
    if not isinstance(band, (int, np.integer)) or isinstance(band, bool):
        raise TypeError(f"band must be an int, a band description or None, got {band!r}")
    if band < 1 or band > src.count:
        raise RasterError(
            f"raster {name!r} ({src.name}) has {src.count} band(s); band={band} does not exist. "
            f"Pass band=1..{src.count}: {_band_list(src)}."
        )


def _same_grid(a: _Grid, b: _Grid, name_a: str, name_b: str) -> None:
    ok = (
        a.width == b.width
        and a.height == b.height
        and a.crs.equals(b.crs, ignore_axis_order=True)
        and a.transform.almost_equals(b.transform, precision=1e-9 * abs(a.dx))
    )
    if not ok:
        raise RasterError(
            f"rasters {name_a!r} and {name_b!r} are not on the same grid "
            f"({a.width}x{a.height} {a.transform[:6]} vs {b.width}x{b.height} "
            f"{b.transform[:6]}); align one to the other first, e.g. "
            "`gdalwarp -tr DX DY -te XMIN YMIN XMAX YMAX -r near IN OUT`"
        )


def _has_no_nodata(src: DatasetReader, band: int) -> bool:
    flags = src.mask_flag_enums[band - 1]
    return src.nodata is None and all(f == rasterio.enums.MaskFlags.all_valid for f in flags)


def _open_all(
    rasters: Mapping[str, RasterLike],
    bands: Mapping[str, int | str | None] | None,
    stack: ExitStack,
) -> tuple[dict[str, DatasetReader], dict[str, int], _Grid]:
    if not rasters:
        raise ValueError("rasters must name at least one raster, e.g. {'cover': path}")
    srcs = {name: _open(r, stack) for name, r in rasters.items()}
    bands_d = {
        name: _resolve_band(src, (bands or {}).get(name, 1), name) for name, src in srcs.items()
    }
    first = next(iter(srcs))
    grid = _grid_of(srcs[first], first)
    for name, src in srcs.items():
        if name != first:
            _same_grid(grid, _grid_of(src, name), first, name)
        if _has_no_nodata(src, bands_d[name]):
            warnings.warn(
                f"raster {name!r} ({src.name}) has no nodata value and no mask: every value is "
                "treated as valid data (NaN excepted). If a value means 'no data', set it, "
                "e.g. `rio edit-info --nodata 255 FILE`.",
                NoDataWarning,
                stacklevel=4,
            )
    return srcs, bands_d, grid


# ---------------------------------------------------------------------------
# polygons
# ---------------------------------------------------------------------------


def _check_coordinates(geoms: np.ndarray, crs: pyproj.CRS, name: str) -> None:
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return
    b = shapely.bounds(geoms[present])
    minx, miny = np.nanmin(b[:, 0]), np.nanmin(b[:, 1])
    maxx, maxy = np.nanmax(b[:, 2]), np.nanmax(b[:, 3])
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        raise InvalidGeometryError(f"{name} has non-finite coordinates; repair the geometries")
    if crs.is_geographic:
        if minx < -360 or maxx > 360 or miny < -90.5 or maxy > 90.5:
            raise CRSMismatchError(
                f"{name} is declared in {crs.name} (degrees) but has coordinates up to "
                f"({maxx:.6g}, {maxy:.6g}), which are not longitudes/latitudes; they look like "
                "metres. Declare the CRS they are in, e.g. "
                f"`{name} = {name}.set_crs('EPSG:32718', allow_override=True)`"
            )
    elif max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
        inside_aou = True
        aou = crs.area_of_use
        if aou is not None:
            try:
                tr = pyproj.Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True)
                ax0, ay0, ax1, ay1 = tr.transform_bounds(aou.west, aou.south, aou.east, aou.north)
                inside_aou = ax0 <= maxx and minx <= ax1 and ay0 <= maxy and miny <= ay1
            except pyproj.exceptions.ProjError:
                inside_aou = True
        if not inside_aou:
            raise CRSMismatchError(
                f"{name} is declared in {crs.name} (metres) but all its coordinates are within "
                f"±180/±90 ({minx:.6g}, {miny:.6g}, {maxx:.6g}, {maxy:.6g}); they look like "
                f"degrees. Declare the CRS they are in, e.g. "
                f"`{name} = {name}.set_crs('EPSG:4326', allow_override=True)`"
            )


def _polygon_array(polygons: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> np.ndarray:
    if isinstance(polygons, gpd.GeoDataFrame):
        gs = polygons.geometry
    elif isinstance(polygons, gpd.GeoSeries):
        gs = polygons
    else:
        raise TypeError(
            f"{name} must be a GeoDataFrame or GeoSeries, got {type(polygons).__name__}"
        )
    return unprepared(np.asarray(gs.values, dtype=object))  # never read prepared (_threads)


@dataclass
class _Prepared:
    """Polygons ready for extraction: positions, geometries in the raster CRS, exact areas."""

    n: int
    geoms: np.ndarray  # in the raster CRS; None where missing/empty
    area_m2: np.ndarray  # exact ellipsoidal polygon area; NaN where missing/empty
    empty: np.ndarray  # bool
    point_buffer_ha: np.ndarray | None = None  # hectares of point plots' circles; NaN elsewhere
    valid: np.ndarray | None = None  # True where GEOS found the geometry as given here valid


def _none_where(mask: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    out = geoms.copy()
    out[mask] = None
    return out


def _measurable(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    geoms: np.ndarray,
    crs: pyproj.CRS,
    invalid: str,
    name: str,
    proved: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Geometries safe to measure: screened rows None, point plots as circles of their area.

    The third item says which of the returned geometries GEOS found valid (or
    ``proved`` says are).
    """
    nan, valid = screen_with_validity(
        geoms, polygons.index, invalid=invalid, name=name, stacklevel=5, proved=proved
    )
    geoms = _none_where(nan, geoms)
    out, buffer_ha = points_as_circles(geoms, crs, point_areas_ha(polygons, geoms.size))
    return out, (buffer_ha if np.isfinite(buffer_ha).any() else None), valid & _same(out, geoms)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where the two object arrays hold the very same geometry objects."""
    return np.fromiter((x is y for x, y in zip(a, b, strict=True)), dtype=bool, count=a.size)


def with_point_buffer(out: pd.DataFrame, prepared: _Prepared) -> pd.DataFrame:
    """Add the ``point_buffer_ha`` column (hectares a point plot stood for) if any."""
    if prepared.point_buffer_ha is not None:
        out["point_buffer_ha"] = prepared.point_buffer_ha
    return out


def _prepare(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    grid: _Grid,
    name: str = "polygons",
    *,
    invalid: str = "warn",
) -> _Prepared:
    crs = require_crs(polygons, name)
    geoms = _polygon_array(polygons, name)
    # one pass over the vertices: the areas, the validity proof, the longest edges
    found = _measure_m2(
        geoms, crs, max_segment_m=_DEFAULT_MAX_SEGMENT_M, n_jobs=-1, prove=True, max_step=True
    )
    given = geoms
    geoms, buffer_ha, valid = _measurable(polygons, geoms, crs, invalid, name, found.proved)
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(_none_where(missing, geoms))
    types = shapely.get_type_id(geoms)
    bad = ~empty & ~np.isin(types, (3, 6))  # Polygon, MultiPolygon
    if bad.any():
        labels = list(polygons.index[np.flatnonzero(bad)[:5]])
        kinds = sorted({shapely.GeometryType(int(k)).name for k in types[bad]})
        raise InvalidGeometryError(
            f"{name} must be polygons; {int(bad.sum())} row(s) are "
            f"{', '.join(k.title() for k in kinds)} (e.g. index {labels}). Buffer points "
            "or lines to the area they stand for, e.g. `gdf.to_crs(32718).buffer(10)`, "
            "or drop them."
        )
    if empty.any():
        warnings.warn(
            f"{int(empty.sum())} {name} row(s) have empty or missing geometry; their results "
            "are NaN",
            GeometryWarning,
            stacklevel=3,
        )
    geoms = _none_where(empty, geoms)
    _check_coordinates(geoms, crs, name)
    area, max_step = _areas_of(geoms, given, found, crs)
    # long edges are cut along their geodesics, so that the pixels cover the polygon of area
    in_crs = geoms
    geoms = to_crs_geodesic(geoms, crs, grid.crs, max_step=max_step)
    valid &= _same(geoms, in_crs)  # known valid where the geometry was not transformed
    if not crs.equals(grid.crs, ignore_axis_order=True):
        b = shapely.bounds(geoms[~empty])
        if b.size and not np.isfinite(b).all():
            raise CRSMismatchError(
                f"{name} cannot be transformed to the raster's CRS {grid.crs.name}; "
                "some coordinates fall outside its domain. Check the CRS of both inputs."
            )
    return _Prepared(len(geoms), geoms, area, empty, buffer_ha, valid & ~empty)


def _areas_of(
    geoms: np.ndarray, given: np.ndarray, found: _Measured, crs: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Return the m² and longest edges of ``geoms``, from the pass over the ``given`` rows.

    ``geoms`` are the given rows screened or emptied (None: NaN) or replaced (point
    plots as their circles, measured here); a row left as given keeps what the pass
    found. The same numbers as :func:`~agroforest_geo.area.geodesic_area_m2` of
    ``geoms``, with its warning about impossible vertices.
    """
    same = _same(geoms, given)
    area = np.where(same, found.m2, np.nan)
    max_step = np.where(same, found.max_step, 0.0)
    n_bad = int((found.bad & same).sum())
    redo = np.flatnonzero(~same & ~shapely.is_missing(geoms))
    if redo.size:
        part = _measure_m2(
            geoms[redo],
            crs,
            max_segment_m=_DEFAULT_MAX_SEGMENT_M,
            n_jobs=-1,
            prove=False,
            max_step=True,
        )
        area[redo], max_step[redo] = part.m2, part.max_step
        n_bad += int(part.bad.sum())
    _warn_impossible(n_bad, stacklevel=4)
    return area, max_step


#: GDAL block cache while reading (MB). Every block is read once, in window order, so a
#: larger cache only holds memory: GDAL's default (5 % of RAM) grows with the raster read.
_BLOCK_CACHE_MB = 128


def bounded_block_cache() -> Any:
    """Return a ``rasterio.Env`` bounding GDAL's block cache (unless the caller set one)."""
    configured = "GDAL_CACHEMAX" in os.environ or (
        rasterio.env.hasenv() and "GDAL_CACHEMAX" in rasterio.env.getenv()
    )
    return contextlib.nullcontext() if configured else rasterio.Env(GDAL_CACHEMAX=_BLOCK_CACHE_MB)

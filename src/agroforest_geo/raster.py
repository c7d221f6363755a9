"""Raster access for zonal statistics: windows, nodata, exact coverage, ellipsoidal pixel areas.

Method
------
Polygons are transformed to the raster's CRS (the raster is never resampled)
and grouped by the raster tile (``tile_px`` × ``tile_px`` pixels) that holds
the centre of their bounding box; a polygon wider than a tile is cut into
per-tile pieces with :func:`shapely.clip_by_rect` (the pieces partition it, so
coverage fractions add up exactly). For each group, one window around its
polygons is read from every raster, once, and `exactextract
<https://isciences.github.io/exactextract/>`_ gives the exact fraction of each
pixel covered by each polygon (``cell_id`` and ``coverage`` operations on the
window in memory). Memory is bounded by the window size, whatever the size of
the raster.

Every covered pixel piece gets an ellipsoidal area, ``coverage × cell area``:

* geographic rasters (EPSG:4326 ...): a cell is bounded by two meridians and
  two parallels, and its area on the ellipsoid is exact and closed-form,
  ``R_q² Δλ (sin β₂ − sin β₁)`` with ``β`` the authalic latitude and ``R_q``
  the authalic radius. It depends only on the row.
* projected rasters (UTM ...): the true area of a cell is its map area divided
  by the projection's areal scale, which varies slowly. The ratio
  ``geodesic_area / map_area`` of single cells is computed exactly
  (:func:`agroforest_geo.area.geodesic_area_m2`) on a lattice of cells at most
  ~1 km apart and interpolated bilinearly. The interpolation error is below
  1e-8 relative for UTM up to 300 km from the central meridian; the ratio of
  a single cell is exact to ~1e-12.

Coverage fractions are planar in the raster's CRS; within one pixel the area
density is taken as uniform, and exactextract returns fractions as float32
(~6e-8 relative per partial pixel; whole pixels are exact). For a 0.00025°
pixel the sum of the pieces of a polygon agrees with its exact ellipsoidal
area (:func:`agroforest_geo.area_ha`) to ~1e-7 relative, for 30 m UTM pixels to
~1e-8; ``nodata`` residues below 1e-6 of the polygon's area are set to 0.

Parallelism: exactextract holds the GIL, so threads do not help; one core is used.

Nodata rule: a pixel is missing when it equals the band's nodata value, is
masked by the dataset's mask band, or is NaN. A raster without a nodata value
and without a mask has all its (non-NaN) values treated as valid; a
:class:`~agroforest_geo.errors.NoDataWarning` says so. The part of a polygon
outside the raster counts as nodata, so a parcel half outside the raster is
visible in ``nodata_m2``, never silently scaled.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import shapely
from affine import Affine
from rasterio.io import DatasetReader
from rasterio.windows import Window

from .area import geodesic_area_m2
from .crs import require_crs
from .errors import (
    CRSMismatchError,
    GeometryWarning,
    InvalidGeometryError,
    NoDataWarning,
    RasterError,
)

__all__ = [
    "PixelPieces",
    "RasterLike",
    "cell_area_m2",
    "integrate",
    "iter_pixel_pieces",
]

RasterLike = Union[str, Path, DatasetReader]  # noqa: UP007 - a runtime alias on Python 3.10
Method = Literal["exact", "centroid"]
_METHODS: tuple[str, ...] = ("exact", "centroid")

#: Fallback size of the tiles polygons are grouped by, in pixels (by default the
#: size is chosen from the polygons' layout, see ``_choose_tile``). A window read
#: is at most about twice the tile on each side.
DEFAULT_TILE_PX = 512
#: Polygons wider than this many pixels are cut into per-tile pieces.
_SPLIT_PX = 1024
#: Show a progress bar by default from this many polygons on.
PROGRESS_MIN_FEATURES = 20_000
#: Lattice spacing, in metres, of the areal-scale samples on projected rasters.
_SCALE_LATTICE_M = 1_000.0
_MAX_LATTICE = 2048


# ---------------------------------------------------------------------------
# raster opening and checks
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
        path = Path(raster)
        if not path.exists():
            raise RasterError(f"raster {path} does not exist; check the path")
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


def _check_band(src: DatasetReader, band: int, name: str) -> None:
    if not isinstance(band, (int, np.integer)) or isinstance(band, bool):
        raise TypeError(f"band must be an int, got {band!r}")
    if band < 1 or band > src.count:
        raise RasterError(
            f"raster {name!r} ({src.name}) has {src.count} band(s); band={band} does not exist. "
            f"Pass band=1..{src.count}."
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


# ---------------------------------------------------------------------------
# ellipsoidal cell areas
# ---------------------------------------------------------------------------


def _authalic_sin(lat_deg: np.ndarray, e2: float) -> np.ndarray:
    """``q(φ)/q_p = sin β`` (authalic latitude) for the ellipsoid of squared eccentricity e2."""
    s = np.sin(np.radians(lat_deg))
    if e2 == 0:
        return s
    e = math.sqrt(e2)

    def q(x: np.ndarray | float) -> Any:
        return (1 - e2) * (x / (1 - e2 * x**2) - np.log((1 - e * x) / (1 + e * x)) / (2 * e))

    return np.asarray(q(s) / q(1.0))


class _CellArea:
    """Ellipsoidal area in m² of whole cells of one grid, evaluated at (row, col)."""

    def __init__(self, grid: _Grid) -> None:
        self.grid = grid
        if grid.crs.is_geographic:
            geod = grid.crs.get_geod()
            assert geod is not None
            a, e2 = geod.a, geod.es
            if e2 == 0:
                rq2 = a**2
            else:  # authalic radius squared
                e = math.sqrt(e2)
                rq2 = a**2 / 2 * (1 + (1 - e2) / e * math.atanh(e))
            edges = grid.transform.f + grid.dy * np.arange(grid.height + 1)
            sb = _authalic_sin(np.clip(edges, -90.0, 90.0), e2)
            self.row_area = rq2 * math.radians(grid.dx) * np.abs(sb[:-1] - sb[1:])
            self.lattice: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        else:
            self.row_area = np.empty(0)
            self.lattice = self._scale_lattice()

    def _scale_lattice(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = self.grid
        unit = g.crs.axis_info[0].unit_conversion_factor if g.crs.axis_info else 1.0
        cell_m = abs(g.dx) * unit
        step = max(1, int(_SCALE_LATTICE_M // max(cell_m, 1e-9)))
        step = max(step, math.ceil(max(g.width, g.height) / _MAX_LATTICE))
        rows = np.unique(np.append(np.arange(0, g.height, step), g.height - 1)).astype(float)
        cols = np.unique(np.append(np.arange(0, g.width, step), g.width - 1)).astype(float)
        # filled lazily, only around the cells asked for (see _fill)
        return rows, cols, np.full((rows.size, cols.size), np.nan)

    def _fill(self, flat: np.ndarray) -> None:
        """Compute the lattice ratios at flat lattice indices ``flat`` not yet known."""
        assert self.lattice is not None
        lr, lc, ratio = self.lattice
        flat = np.unique(flat)
        flat = flat[np.isnan(ratio.ravel()[flat])]
        if flat.size == 0:
            return
        g = self.grid
        rr, cc = lr[flat // lc.size], lc[flat % lc.size]
        x0 = g.transform.c + g.dx * cc
        y1 = g.transform.f + g.dy * rr
        boxes = shapely.box(x0, y1 + g.dy, x0 + g.dx, y1)
        ratio.ravel()[flat] = geodesic_area_m2(boxes, g.crs) / abs(g.dx * g.dy)

    def prefill(self, windows: list[Window]) -> None:
        """Compute, in one call, the lattice ratios every window will need."""
        if self.lattice is None or not windows:
            return
        lr, lc, _ = self.lattice
        flat = []
        for w in windows:
            i0 = max(int(np.searchsorted(lr, w.row_off, side="right")) - 1, 0)
            i1 = min(int(np.searchsorted(lr, w.row_off + w.height - 1, side="right")), lr.size - 1)
            j0 = max(int(np.searchsorted(lc, w.col_off, side="right")) - 1, 0)
            j1 = min(int(np.searchsorted(lc, w.col_off + w.width - 1, side="right")), lc.size - 1)
            ii, jj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1), indexing="ij")
            flat.append((ii * lc.size + jj).ravel())
        self._fill(np.concatenate(flat))

    def __call__(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if self.lattice is None:
            return np.asarray(self.row_area[rows])
        lr, lc, ratio = self.lattice
        nominal = abs(self.grid.dx * self.grid.dy)
        if ratio.shape == (1, 1):
            self._fill(np.array([0]))
            return np.full(rows.shape, nominal * ratio[0, 0])
        # bilinear interpolation of the scale ratio in (row, col)
        i = np.clip(np.searchsorted(lr, rows, side="right") - 1, 0, max(len(lr) - 2, 0))
        j = np.clip(np.searchsorted(lc, cols, side="right") - 1, 0, max(len(lc) - 2, 0))
        if len(lr) == 1:
            ti = np.zeros(rows.shape)
            i1 = i
        else:
            i1 = i + 1
            ti = (rows - lr[i]) / (lr[i1] - lr[i])
        if len(lc) == 1:
            tj = np.zeros(cols.shape)
            j1 = j
        else:
            j1 = j + 1
            tj = (cols - lc[j]) / (lc[j1] - lc[j])
        n = lc.size
        self._fill(np.concatenate([i * n + j, i1 * n + j, i * n + j1, i1 * n + j1]))
        r = (
            ratio[i, j] * (1 - ti) * (1 - tj)
            + ratio[i1, j] * ti * (1 - tj)
            + ratio[i, j1] * (1 - ti) * tj
            + ratio[i1, j1] * ti * tj
        )
        return nominal * r


def cell_area_m2(raster: RasterLike, rows: Any, cols: Any) -> np.ndarray:
    """Ellipsoidal area in m² of whole raster cells at ``(rows, cols)``.

    Exact for geographic rasters (cells bounded by meridians and parallels);
    for projected rasters the cell's map area divided by the projection's areal
    scale (see the module notes for the accuracy).

    Parameters
    ----------
    raster : path or rasterio dataset
    rows, cols : array-like of int
        Pixel row and column indices.

    Returns
    -------
    numpy.ndarray of float

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> a = cell_area_m2(agf.datasets.get_path("treecover"), [0], [0])
    >>> round(float(a[0]), 1)  # a 0.00025° pixel at 7.02° S: ~27.6 m × 27.6 m
    763.7
    """
    with ExitStack() as stack:
        src = _open(raster, stack)
        grid = _grid_of(src, "raster")
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    if r.size and (r.min() < 0 or r.max() >= grid.height or c.min() < 0 or c.max() >= grid.width):
        raise IndexError(f"rows/cols outside the raster ({grid.height} rows, {grid.width} cols)")
    return _CellArea(grid)(r, c)


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
    return np.asarray(gs.values, dtype=object)


@dataclass
class _Prepared:
    """Polygons ready for extraction: positions, geometries in the raster CRS, exact areas."""

    n: int
    geoms: np.ndarray  # in the raster CRS; None where missing/empty
    area_m2: np.ndarray  # exact ellipsoidal polygon area; NaN where missing/empty
    empty: np.ndarray  # bool


def _none_where(mask: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    out = geoms.copy()
    out[mask] = None
    return out


def _prepare(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries, grid: _Grid, name: str = "polygons"
) -> _Prepared:
    crs = require_crs(polygons, name)
    geoms = _polygon_array(polygons, name)
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
    area = geodesic_area_m2(geoms, crs)
    area[empty] = np.nan
    if not crs.equals(grid.crs, ignore_axis_order=True):
        tr = pyproj.Transformer.from_crs(crs, grid.crs, always_xy=True)
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
        )
        b = shapely.bounds(geoms[~empty])
        if b.size and not np.isfinite(b).all():
            raise CRSMismatchError(
                f"{name} cannot be transformed to the raster's CRS {grid.crs.name}; "
                "some coordinates fall outside its domain. Check the CRS of both inputs."
            )
    return _Prepared(len(geoms), geoms, area, empty)


# ---------------------------------------------------------------------------
# the extraction engine
# ---------------------------------------------------------------------------


@dataclass
class PixelPieces:
    """The covered pixel pieces of a batch of polygons (one entry per polygon × pixel).

    Attributes
    ----------
    feature : numpy.ndarray of int
        Position (0 … n-1) of the polygon in the input rows.
    row, col : numpy.ndarray of int
        Pixel indices in the raster.
    coverage : numpy.ndarray of float
        Fraction (0–1] of the pixel covered by the polygon.
    area_m2 : numpy.ndarray of float
        Ellipsoidal area of the piece, coverage × cell area.
    values : dict of str to numpy.ndarray
        Pixel values of each raster (raw dtype).
    valid : dict of str to numpy.ndarray of bool
        Whether each raster has data at the pixel.
    """

    feature: np.ndarray
    row: np.ndarray
    col: np.ndarray
    coverage: np.ndarray
    area_m2: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)
    valid: dict[str, np.ndarray] = field(default_factory=dict)


def _validate_method(method: str) -> None:
    if method not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS)}, got {method!r}")


def _pixel_bounds(geoms: np.ndarray, grid: _Grid) -> np.ndarray:
    """(c0, r0, c1, r1) pixel bounds of each geometry, clipped to the raster; -1 rows if none."""
    b = shapely.bounds(geoms)
    t = grid.transform
    with np.errstate(invalid="ignore"):
        c0 = np.floor((b[:, 0] - t.c) / grid.dx)
        c1 = np.ceil((b[:, 2] - t.c) / grid.dx)
        r0 = np.floor((b[:, 3] - t.f) / grid.dy)
        r1 = np.ceil((b[:, 1] - t.f) / grid.dy)
    out = np.column_stack(
        [
            np.clip(c0, 0, grid.width),
            np.clip(r0, 0, grid.height),
            np.clip(c1, 0, grid.width),
            np.clip(r1, 0, grid.height),
        ]
    )
    none = ~np.isfinite(out).all(axis=1) | (out[:, 2] <= out[:, 0]) | (out[:, 3] <= out[:, 1])
    out[none] = -1
    return out.astype(np.int64)


def _split_large(
    geoms: np.ndarray, owner: np.ndarray, pb: np.ndarray, grid: _Grid, tile: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut polygons wider than a tile into per-tile pieces."""
    big = ((pb[:, 2] - pb[:, 0]) > tile) | ((pb[:, 3] - pb[:, 1]) > tile)
    if not big.any():
        return geoms, owner, pb
    t = grid.transform
    new_g, new_o = [], []
    for k in np.flatnonzero(big):
        c0, r0, c1, r1 = pb[k]
        for tr in range(r0 // tile, (r1 - 1) // tile + 1):
            for tc in range(c0 // tile, (c1 - 1) // tile + 1):
                xa = t.c + grid.dx * max(tc * tile, c0)
                xb = t.c + grid.dx * min((tc + 1) * tile, c1)
                ya = t.f + grid.dy * min((tr + 1) * tile, r1)
                yb = t.f + grid.dy * max(tr * tile, r0)
                piece = shapely.clip_by_rect(geoms[k], xa, ya, xb, yb)
                if not piece.is_empty and piece.area > 0:
                    new_g.append(piece)
                    new_o.append(owner[k])
    g2 = np.concatenate([geoms[~big], np.array(new_g, dtype=object)])
    o2 = np.concatenate([owner[~big], np.array(new_o, dtype=np.int64)])
    pb2 = _pixel_bounds(g2, grid)
    keep = pb2[:, 0] >= 0
    return g2[keep], o2[keep], pb2[keep]


def _wkb_feature_source(wkbs: list[bytes], wkt: str) -> Any:
    """Return an exactextract feature source handing over WKB (GeoPandas' source goes through JSON).

    Passing WKB makes the per-feature overhead of exactextract ~4x smaller.
    """
    from exactextract.feature import Feature, FeatureSource

    class _WkbFeature(Feature):  # type: ignore[misc]
        def __init__(self, wkb: bytes) -> None:
            super().__init__()
            self.wkb = wkb

        def geometry(self) -> bytes:
            return self.wkb

        def fields(self) -> list[str]:
            return []

        def get(self, name: str) -> Any:
            raise KeyError(name)

    class _WkbSource(FeatureSource):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()

        def count(self) -> int:
            return len(wkbs)

        def __iter__(self) -> Iterator[Any]:
            for w in wkbs:
                yield _WkbFeature(w)

        def srs_wkt(self) -> str:
            return wkt

    return _WkbSource()


def _coverage_exact(
    geoms: np.ndarray, win: Window, grid: _Grid, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact coverage of window cells by each geometry: (geometry position, flat cell, fraction)."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    t = grid.transform
    xmin = t.c + grid.dx * win.col_off
    xmax = xmin + grid.dx * win.width
    ymax = t.f + grid.dy * win.row_off
    ymin = ymax + grid.dy * win.height
    wkt = grid.wkt
    src = NumPyRasterSource(np.zeros(shape, dtype=np.uint8), xmin, ymin, xmax, ymax, srs_wkt=wkt)
    vec = _wkb_feature_source(list(shapely.to_wkb(geoms)), wkt)
    df = exact_extract(src, vec, ["cell_id", "coverage"], output="pandas")
    cells = list(df["cell_id"])
    cov = list(df["coverage"])
    lengths = np.fromiter((len(c) for c in cells), dtype=np.int64, count=len(cells))
    if lengths.sum() == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    pos = np.repeat(np.arange(len(cells)), lengths)
    return pos, np.concatenate(cells).astype(np.int64), np.concatenate(cov).astype(float)


def _coverage_centroid(
    geoms: np.ndarray, win: Window, grid: _Grid, pb: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel-centre rule: coverage 1 for cells whose centre is inside the geometry."""
    t = grid.transform
    pos_l, cell_l = [], []
    for k, g in enumerate(geoms):
        c0, r0, c1, r1 = pb[k]
        rr, cc = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
        x = t.c + grid.dx * (cc + 0.5)
        y = t.f + grid.dy * (rr + 0.5)
        inside = shapely.contains_xy(g, x, y)
        cell = (rr[inside] - win.row_off) * win.width + (cc[inside] - win.col_off)
        pos_l.append(np.full(cell.size, k, dtype=np.int64))
        cell_l.append(cell.astype(np.int64))
    if not pos_l:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    pos = np.concatenate(pos_l)
    return pos, np.concatenate(cell_l), np.ones(pos.size)


def _read(src: DatasetReader, band: int, win: Window) -> tuple[np.ndarray, np.ndarray]:
    arr = src.read(band, window=win, masked=True)
    data = np.asarray(arr.data)
    valid = ~np.ma.getmaskarray(arr)
    if np.issubdtype(data.dtype, np.floating):
        valid &= ~np.isnan(data)
    return data, valid


def _progress_bar(total: int, progress: bool | None, desc: str) -> Any:
    show = total >= PROGRESS_MIN_FEATURES if progress is None else bool(progress)
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="polygon")


@dataclass
class _Plan:
    prepared: _Prepared
    grid: _Grid
    batches: list[tuple[Window, np.ndarray, np.ndarray, np.ndarray]]
    """(window, geometries, owner positions, pixel bounds) per batch."""


def _group(pb: np.ndarray, grid: _Grid, tile: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group pixel boxes by tile: (order, group starts, group window boxes (c0, r0, c1, r1))."""
    key_r = ((pb[:, 1] + pb[:, 3]) // 2) // tile
    key_c = ((pb[:, 0] + pb[:, 2]) // 2) // tile
    key = key_r * (grid.width // tile + 1) + key_c
    order = np.argsort(key, kind="stable")
    key_s = key[order]
    starts = np.flatnonzero(np.r_[True, key_s[1:] != key_s[:-1]])
    b = pb[order]
    win = np.column_stack(
        [
            np.minimum.reduceat(b[:, 0], starts),
            np.minimum.reduceat(b[:, 1], starts),
            np.maximum.reduceat(b[:, 2], starts),
            np.maximum.reduceat(b[:, 3], starts),
        ]
    )
    return order, starts, win


#: Cost model used to choose the tile size: seconds per batch (one exactextract
#: call and one read per raster) and per pixel read and decoded.
_COST_PER_BATCH_S = 2e-3
_COST_PER_PIXEL_S = 5e-9
_TILE_CANDIDATES = (64, 128, 256, 512, 1024, 2048)


def _choose_tile(pb: np.ndarray, grid: _Grid, n_rasters: int) -> int:
    """Tile size minimising batches × overhead + pixels read × decode cost."""
    best, best_cost = DEFAULT_TILE_PX, np.inf
    for tile in _TILE_CANDIDATES:
        _, starts, win = _group(pb, grid, tile)
        px = float(((win[:, 2] - win[:, 0]) * (win[:, 3] - win[:, 1])).sum())
        cost = starts.size * _COST_PER_BATCH_S + px * n_rasters * _COST_PER_PIXEL_S
        if cost < best_cost:
            best, best_cost = tile, cost
    return best


def _plan(prepared: _Prepared, grid: _Grid, tile: int | None = None, n_rasters: int = 1) -> _Plan:
    idx = np.flatnonzero(~prepared.empty)
    geoms = prepared.geoms[idx]
    pb = _pixel_bounds(geoms, grid) if idx.size else np.empty((0, 4), np.int64)
    keep = pb[:, 0] >= 0 if idx.size else np.zeros(0, bool)
    geoms, owner, pb = geoms[keep], idx[keep], pb[keep]
    if geoms.size:
        geoms, owner, pb = _split_large(geoms, owner, pb, grid, tile or _SPLIT_PX)
    batches = []
    if geoms.size:
        if tile is None:
            tile = _choose_tile(pb, grid, n_rasters)
        order, starts, win = _group(pb, grid, tile)
        ends = np.r_[starts[1:], order.size]
        for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
            sel = order[s:e]
            c0, r0, c1, r1 = (int(v) for v in win[k])
            batches.append((Window(c0, r0, c1 - c0, r1 - r0), geoms[sel], owner[sel], pb[sel]))
    return _Plan(prepared, grid, batches)


def _open_all(
    rasters: Mapping[str, RasterLike], bands: Mapping[str, int] | None, stack: ExitStack
) -> tuple[dict[str, DatasetReader], dict[str, int], _Grid]:
    if not rasters:
        raise ValueError("rasters must name at least one raster, e.g. {'cover': path}")
    srcs = {name: _open(r, stack) for name, r in rasters.items()}
    bands_d = {name: int((bands or {}).get(name, 1)) for name in srcs}
    first = next(iter(srcs))
    grid = _grid_of(srcs[first], first)
    for name, src in srcs.items():
        _check_band(src, bands_d[name], name)
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


def iter_pixel_pieces(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    rasters: Mapping[str, RasterLike],
    *,
    bands: Mapping[str, int] | None = None,
    method: Method = "exact",
    progress: bool | None = None,
    tile_px: int | None = None,
) -> Iterator[PixelPieces]:
    """Yield, batch by batch, every pixel piece covered by the polygons, with all rasters' values.

    The building block of :func:`integrate`, :func:`agroforest_geo.forest_cover`
    and :func:`agroforest_geo.forest_loss`: several rasters on one grid are read
    in the same pass, each window once. Aggregate the pieces with
    ``numpy.bincount(pieces.feature, weights=..., minlength=len(polygons))``.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
        Polygons in any CRS; transformed to the rasters' CRS.
    rasters : mapping of str to path or rasterio dataset
        Rasters on the same grid, by name.
    bands : mapping of str to int, optional
        Band of each raster (default 1).
    method : {"exact", "centroid"}
        ``"exact"``: exact covered fraction of each pixel; ``"centroid"``: pixels
        whose centre is inside, coverage 1 (only for comparison with other tools).
    progress : bool, optional
        Show a progress bar (default: from 20,000 polygons on).
    tile_px : int, optional
        Tile size, in pixels, polygons are grouped by; by default chosen from
        the polygons' layout (few large windows for dense polygons, many small
        ones for scattered polygons).

    Yields
    ------
    PixelPieces

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> rasters = {"cover": agf.datasets.get_path("treecover")}
    >>> pieces = list(iter_pixel_pieces(parcels.head(3), rasters))
    >>> sum(p.coverage.size for p in pieces) > 0
    True
    """
    _validate_method(method)
    with ExitStack() as stack:
        srcs, bands_d, grid = _open_all(rasters, bands, stack)
        prepared = _prepare(polygons, grid)
        plan = _plan(prepared, grid, tile_px, len(srcs))
        yield from _run(plan, srcs, bands_d, method, progress)


def _run(
    plan: _Plan,
    srcs: Mapping[str, DatasetReader],
    bands: Mapping[str, int],
    method: str,
    progress: bool | None,
) -> Iterator[PixelPieces]:
    grid = plan.grid
    cell_area = _CellArea(grid)
    cell_area.prefill([b[0] for b in plan.batches])
    bar = _progress_bar(plan.prepared.n, progress, "pixels")
    try:
        for win, geoms, owner, pb in plan.batches:
            shape = (int(win.height), int(win.width))
            if method == "exact":
                pos, cell, cov = _coverage_exact(geoms, win, grid, shape)
            else:
                pos, cell, cov = _coverage_centroid(geoms, win, grid, pb)
            keep = cov > 0
            pos, cell, cov = pos[keep], cell[keep], cov[keep]
            wr, wc = np.divmod(cell, shape[1])
            values, valid = {}, {}
            for name, src in srcs.items():
                data, ok = _read(src, bands[name], win)
                values[name] = data[wr, wc]
                valid[name] = ok[wr, wc]
            rows = wr + int(win.row_off)
            cols = wc + int(win.col_off)
            yield PixelPieces(
                feature=owner[pos],
                row=rows,
                col=cols,
                coverage=cov,
                area_m2=cov * cell_area(rows, cols),
                values=values,
                valid=valid,
            )
            if bar is not None:
                bar.update(int(np.unique(owner).size))
    finally:
        if bar is not None:
            bar.close()


def _warn_no_data(valid_m2: np.ndarray, prepared: _Prepared, what: str) -> None:
    none = (~prepared.empty) & ~(valid_m2 > 0)
    if none.any():
        warnings.warn(
            f"{int(none.sum())} of {prepared.n} polygons have no valid {what} pixels (outside "
            "the raster or all nodata); they are kept, with no valid area",
            NoDataWarning,
            stacklevel=3,
        )


def _nodata_m2(area_m2: np.ndarray, valid_m2: np.ndarray) -> np.ndarray:
    """Polygon area not covered by valid pixels; residue below 1e-6 relative set to 0."""
    with np.errstate(invalid="ignore"):
        nod = area_m2 - valid_m2
        nod[nod < 1e-6 * area_m2] = 0.0
    return nod


def integrate(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    raster: RasterLike,
    *,
    band: int = 1,
) -> pd.DataFrame:
    """Integrate a raster over each polygon: Σ value × covered ellipsoidal m².

    A density raster integrates to a count: for trees per hectare,
    ``trees = value_x_m2 / 10_000``. Partial pixels count by their exact
    covered fraction.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
        Polygons in any CRS.
    raster : path or rasterio dataset
    band : int
        Band to read (1-based).

    Returns
    -------
    pandas.DataFrame
        On the polygons' index: ``value_x_m2`` (Σ value × covered m² over valid
        pixel pieces), ``valid_m2`` (covered m² with data) and ``nodata_m2``
        (the rest of the polygon's ellipsoidal area, including any part outside
        the raster). Empty geometries give NaN. These three add up across polygons.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> out = integrate(parcels.head(3), agf.datasets.get_path("treecover"))
    >>> list(out.columns)
    ['value_x_m2', 'valid_m2', 'nodata_m2']
    >>> bool((out["valid_m2"] + out["nodata_m2"] > 0).all())
    True
    """
    n = len(polygons)
    vx = np.zeros(n)
    vm = np.zeros(n)
    prepared_holder: list[_Prepared] = []
    with ExitStack() as stack:
        srcs, bands_d, grid = _open_all({"value": raster}, {"value": band}, stack)
        prepared = _prepare(polygons, grid)
        prepared_holder.append(prepared)
        plan = _plan(prepared, grid)
        for p in _run(plan, srcs, bands_d, "exact", None):
            ok = p.valid["value"]
            a = p.area_m2[ok]
            vx += np.bincount(p.feature[ok], weights=p.values["value"][ok] * a, minlength=n)
            vm += np.bincount(p.feature[ok], weights=a, minlength=n)
    _warn_no_data(vm, prepared, "raster")
    nod = _nodata_m2(prepared.area_m2, vm)
    out = pd.DataFrame({"value_x_m2": vx, "valid_m2": vm, "nodata_m2": nod}, index=polygons.index)
    out.loc[prepared.empty, :] = np.nan
    return out

"""Tree tops and crowns from a canopy height model (CHM).

Method
------
:func:`detect_trees` is a *variable window filter* (Popescu & Wynne 2004): a
cell is a tree top when it is the highest cell of a circular window whose
radius grows with the cell's own height. The conventions are those of the
``vwf`` function of the R package ForestTools (1.0.x), so results can be
cross-checked against it:

* cells below ``min_height`` (and nodata / NaN cells) are ignored: they are
  never tops and never count in a window;
* the window radius of a cell of height ``h`` is ``window(h)`` in metres,
  **snapped to the nearest multiple of the cell size** (a radius, not a
  diameter); a radius of one cell uses the full 3 x 3 (queen) window, and
  radii below one cell are raised to one cell;
* the window holds the cells whose centre lies within the radius; at the
  raster edge it is simply truncated;
* a cell is a top when its value **equals** the window maximum.

Ties: ForestTools keeps every tied cell, so a flat-topped crown gives as many
"trees" as it has top cells. With ``ties="merge"`` (the default) tops that
touch (8-connectivity; touching tops always have the same height) are merged
into one tree placed on the cell of the group nearest the group's centroid.
``ties="keep"`` reproduces ForestTools.

Speed and memory: a 3 x 3 maximum filter (every window contains the 3 x 3
neighbourhood) first keeps only the local maxima, typically well under 1 % of
the cells; the full circular window is then evaluated only at those
candidates, grouped by window radius, by gathering the window cells offset by
offset (nearest first, dropping a candidate as soon as a higher cell is
found). The cost therefore grows with the number of candidates, not with
pixels x distinct radii, which is what one ``maximum_filter`` per radius over
the whole raster would cost. The raster is read in blocks of
``block_size`` cells with an overlap of at least twice the largest window
radius (grown automatically when a block needs more), and a top is reported
only by the block whose core holds it, so trees on block edges are found
exactly once and memory does not depend on the raster size.

Window presets (:data:`WINDOW_PRESETS`; radius in metres, ``h`` height in metres)

=================== ========================================== ================================
name                radius_m                                   source
=================== ========================================== ================================
popescu_wynne       (2.51503 + 0.00901 h²) / 2                 Popescu & Wynne 2004, combined
popescu_wynne_decid (3.09632 + 0.00895 h²) / 2                 Popescu & Wynne 2004, deciduous
popescu_wynne_pine  (3.75105 - 0.17919 h + 0.01241 h²) / 2     Popescu & Wynne 2004, pines
linear_0.06         0.06 h + 0.5                               ForestTools documentation example
=================== ========================================== ================================

The Popescu & Wynne formulas give the crown *width* (m) from the height (m); the window
radius is half of it.

Popescu, S. C. & Wynne, R. H. (2004). Seeing the trees in the forest: using lidar and
multispectral data fusion with local filtering and variable window size for estimating tree
height. Photogrammetric Engineering & Remote Sensing 70(5), 589-604.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import rasterio.features
import shapely
import shapely.geometry
from rasterio.io import DatasetReader
from rasterio.windows import Window
from scipy import ndimage

from ._network import check_source, raster_env
from .errors import InputNotFoundError, NoDataWarning, RasterError, UnreadableInputError
from .inputs import bounded_block_cache

__all__ = ["WINDOW_PRESETS", "WindowPreset", "detect_trees", "segment_crowns"]

WindowFunction: TypeAlias = Callable[[np.ndarray], np.ndarray]
ChmInput: TypeAlias = str | os.PathLike[str] | DatasetReader
Ties: TypeAlias = Literal["merge", "keep"]

TOP_COLUMNS = ["tree_id", "height_m", "window_radius_m"]


@dataclass(frozen=True)
class WindowPreset:
    """A named allometric window: search radius (m) as a function of height (m)."""

    name: str
    formula: str
    source: str
    function: WindowFunction


def _pw(a: float, b: float, c: float) -> WindowFunction:
    # crown width CW = a + b h + c h^2 (metres); the window radius is half of it
    def radius_m(h: np.ndarray) -> np.ndarray:
        h = np.asarray(h, dtype=float)
        return (a + b * h + c * h * h) / 2.0

    return radius_m


def _linear(slope: float, intercept: float) -> WindowFunction:
    def radius_m(h: np.ndarray) -> np.ndarray:
        return slope * np.asarray(h, dtype=float) + intercept

    return radius_m


#: Named window functions; see the module docstring for the table and references.
WINDOW_PRESETS: dict[str, WindowPreset] = {
    p.name: p
    for p in (
        WindowPreset(
            "popescu_wynne",
            "(2.51503 + 0.00901 h^2) / 2",
            "Popescu & Wynne 2004, combined",
            _pw(2.51503, 0.0, 0.00901),
        ),
        WindowPreset(
            "popescu_wynne_decid",
            "(3.09632 + 0.00895 h^2) / 2",
            "Popescu & Wynne 2004, deciduous",
            _pw(3.09632, 0.0, 0.00895),
        ),
        WindowPreset(
            "popescu_wynne_pine",
            "(3.75105 - 0.17919 h + 0.01241 h^2) / 2",
            "Popescu & Wynne 2004, pines",
            _pw(3.75105, -0.17919, 0.01241),
        ),
        WindowPreset(
            "linear_0.06", "0.06 h + 0.5", "ForestTools documentation example", _linear(0.06, 0.5)
        ),
    )
}


def _window_function(window: str | WindowFunction) -> WindowFunction:
    if callable(window):
        return window
    if isinstance(window, str) and window in WINDOW_PRESETS:
        return WINDOW_PRESETS[window].function
    raise ValueError(
        f"window must be a callable f(height_m) -> radius_m or one of "
        f"{sorted(WINDOW_PRESETS)}, got {window!r}"
    )


def _radius_m(fn: WindowFunction, heights: np.ndarray) -> np.ndarray:
    try:
        r = np.asarray(fn(heights), dtype=float)
    except (TypeError, ValueError):  # a scalar-only callable: apply it per value
        r = np.array([float(fn(h)) for h in heights], dtype=float)  # type: ignore[arg-type]
    if r.shape != heights.shape:
        r = np.broadcast_to(r, heights.shape).astype(float)
    if r.size and not (np.isfinite(r).all() and (r > 0).all()):
        bad = heights[~(np.isfinite(r) & (r > 0))][:3]
        raise ValueError(
            f"the window function must return a positive finite radius in metres; it gave "
            f"{r[~(np.isfinite(r) & (r > 0))][:3].tolist()} for heights {bad.tolist()} m"
        )
    return r


@contextmanager
def _open_raster(src: ChmInput, name: str = "chm") -> Iterator[DatasetReader]:
    if isinstance(src, DatasetReader):
        if src.closed:
            raise RasterError(f"{name} is a closed dataset; open it again with rasterio.open")
        yield src
        return
    path = os.fspath(src)
    if not os.path.exists(path):
        raise InputNotFoundError(f"{path} does not exist; check the {name} path")
    check_source(path, what=name)  # a VRT may only read local files
    try:
        with raster_env():
            ds = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise UnreadableInputError(
            f"cannot read {path} as a raster ({exc}); give a GeoTIFF or another GDAL raster"
        ) from exc
    try:
        yield ds
    finally:
        ds.close()


def _check_metric(ds: DatasetReader, name: str = "chm") -> tuple[float, float]:
    """Return (x, y) cell size in metres or raise RasterError naming the fix."""
    if ds.crs is None:
        raise RasterError(
            f"{name} has no CRS; assign the one it is in, e.g. "
            f"`gdal_edit.py -a_srs EPSG:32718 {name}.tif`"
        )
    if ds.crs.is_geographic:
        raise RasterError(
            f"{name} is in degrees ({ds.crs.to_string()}); tree detection needs cells in metres. "
            f"Reproject it to a metric CRS first, e.g. `gdalwarp -t_srs EPSG:32718 -tr 0.5 0.5 "
            f"-r bilinear in.tif out.tif` or rasterio.warp.reproject to the local UTM zone."
        )
    unit, factor = ds.crs.linear_units_factor
    if abs(factor - 1.0) > 1e-9:
        raise RasterError(
            f"{name} has cells in {unit}; reproject it to a CRS in metres, e.g. "
            f"`gdalwarp -t_srs EPSG:32718 in.tif out.tif`"
        )
    t = ds.transform
    if t.b != 0 or t.d != 0:
        raise RasterError(f"{name} is rotated; warp it to a north-up grid with gdalwarp first")
    xres, yres = abs(t.a), abs(t.e)
    if abs(xres - yres) > 0.01 * xres:
        raise RasterError(
            f"{name} has non-square cells ({xres} x {yres} m); resample it, e.g. "
            f"`gdalwarp -tr {xres} {xres} in.tif out.tif`"
        )
    return xres, yres


@dataclass
class _Footprints:
    xres: float
    yres: float
    cache: dict[int, tuple[np.ndarray, np.ndarray]]

    def offsets(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Row/col offsets of the window of radius ``k`` cells, nearest first, centre excluded."""
        if k not in self.cache:
            d = np.arange(-k, k + 1)
            dy, dx = np.meshgrid(d, d, indexing="ij")
            dist2 = (dx * self.xres) ** 2 + (dy * self.yres) ** 2
            inside = dist2 <= (k * self.xres) ** 2 * (1 + 1e-9)
            if k == 1:  # ForestTools: a one-cell radius uses the full queen window
                inside[:] = True
            inside[k, k] = False
            order = np.argsort(dist2[inside], kind="stable")
            self.cache[k] = (dy[inside][order], dx[inside][order])
        return self.cache[k]


def _tops_in_block(
    work: np.ndarray,
    fn: WindowFunction,
    fp: _Footprints,
    eval_box: tuple[int, int, int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tops among cells of ``work`` inside ``eval_box`` (r0, r1, c0, c1).

    ``work`` holds heights with ignored cells at ``-inf``. Returns rows, cols,
    heights and window radii (cells) of the top cells (ties kept).
    """
    r0, r1, c0, c1 = eval_box
    m3 = ndimage.maximum_filter(work, size=3, mode="constant", cval=-np.inf)
    sub = work[r0:r1, c0:c1]
    cand = (sub == m3[r0:r1, c0:c1]) & (sub > -np.inf)
    rows, cols = np.nonzero(cand)
    rows += r0
    cols += c0
    h = work[rows, cols]
    k = np.maximum(np.rint(_radius_m(fn, h.astype(float)) / fp.xres).astype(np.int64), 1)
    keep = np.zeros(rows.size, dtype=bool)
    if rows.size == 0:
        return rows, cols, h, k
    # pad by the largest radius so every window offset is a valid flat index
    pad = int(k.max())
    nr, nc = work.shape
    width = nc + 2 * pad
    padded = np.full((nr + 2 * pad, width), -np.inf, dtype=work.dtype)
    padded[pad : pad + nr, pad : pad + nc] = work
    flat = padded.ravel()
    base = (rows + pad) * width + (cols + pad)
    for kk in np.unique(k):
        alive = np.flatnonzero(k == kk)
        at = base[alive]
        ha = h[alive]
        dys, dxs = fp.offsets(int(kk))
        for step in dys * width + dxs:
            if alive.size == 0:
                break
            still = flat[at + step] <= ha
            if not still.all():
                alive, at, ha = alive[still], at[still], ha[still]
        keep[alive] = True
    return rows[keep], cols[keep], h[keep], k[keep]


def _merge_ties(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Return the index of one representative per 8-connected group of top cells.

    The representative is the cell nearest the group's centroid (first in
    raster order on a tie).
    """
    if rows.size == 0:
        return np.array([], dtype=np.intp)
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    lab = labels[rows, cols]
    cnt = np.bincount(lab, minlength=n + 1)
    mr = np.bincount(lab, weights=rows, minlength=n + 1) / np.maximum(cnt, 1)
    mc = np.bincount(lab, weights=cols, minlength=n + 1) / np.maximum(cnt, 1)
    d2 = (rows - mr[lab]) ** 2 + (cols - mc[lab]) ** 2
    order = np.lexsort((cols, rows, d2, lab))
    first = np.ones(order.size, dtype=bool)
    first[1:] = lab[order][1:] != lab[order][:-1]
    return np.asarray(order[first])


def _prepare(
    arr: np.ndarray,
    nodata: float | None,
    min_height: float,
    max_height: float,
    core: tuple[slice, slice] | None = None,
) -> tuple[np.ndarray, int, int]:
    """Return heights with ignored cells at -inf, and the absurd and negative counts.

    Ignored: NaN, the nodata value, heights below ``min_height`` or above
    ``max_height``. Counts are taken over ``core`` (default: everything). float64
    data stay float64, anything else becomes float32. A float array that owns its
    data (a block just read) is modified in place.
    """
    c = core if core is not None else (slice(None), slice(None))
    a = arr[c]
    finite_nodata = nodata is not None and bool(np.isfinite(nodata))
    with np.errstate(invalid="ignore"):
        th = a > max_height
        neg = a < 0
    if finite_nodata:
        th &= a != nodata
        neg &= a != nodata
    if arr.dtype in (np.float32, np.float64) and arr.flags.writeable and arr.flags.owndata:
        work = arr  # a freshly read block: modified in place, no copy
    else:
        work = arr.astype(np.float32)
    with np.errstate(invalid="ignore"):
        bad = ~(work >= min_height)  # also NaN
        bad |= work > max_height
        if finite_nodata and nodata is not None and nodata >= min_height:
            bad |= work == nodata  # (a nodata value below min_height is already out)
    np.copyto(work, -np.inf, where=bad)
    return work, int(th.sum()), int(neg.sum())


def detect_trees(
    chm: ChmInput,
    *,
    min_height: float = 2.0,
    window: str | WindowFunction = "popescu_wynne",
    ties: Ties = "merge",
    max_height: float = 100.0,
    block_size: int = 2048,
) -> gpd.GeoDataFrame:
    """Find tree tops in a canopy height model with a variable-window local-maximum filter.

    See the module docstring for the method, the ForestTools ``vwf`` conventions it
    follows and the table of window presets.

    Parameters
    ----------
    chm : path or rasterio dataset
        Canopy height in metres (band 1) on a metric, north-up, square-cell grid.
        Nodata cells (the nodata value, and NaN whether or not declared) are ignored.
    min_height : float
        Cells lower than this (metres) are ignored; no top is lower.
    window : str or callable
        A name from :data:`WINDOW_PRESETS` or ``f(height_m: ndarray) -> radius_m``,
        e.g. ``lambda h: 0.06 * h + 0.5``. The radius is snapped to whole cells.
    ties : {"merge", "keep"}
        ``"merge"``: touching equal-height tops (a flat crown) give one tree;
        ``"keep"``: every tied cell is a tree, as in ForestTools.
    max_height : float
        Heights above this (metres) are treated as nodata with a
        :class:`~agroforest_geo.NoDataWarning` (spikes, clouds, birds). Negative
        heights are below ``min_height`` and so ignored; their number is in
        ``.attrs["negative_cells"]``.
    block_size : int
        Cells per side of the blocks the raster is read in (memory ~ 20 bytes per
        cell of a block, independent of the raster size).

    Returns
    -------
    GeoDataFrame
        One point per tree at the top cell's centre, in the raster's CRS, sorted by
        row then column: ``tree_id`` (0, 1, ...), ``height_m``, ``window_radius_m``
        (the snapped radius used). Empty, with these columns and the CRS, when no
        cell reaches ``min_height``.

    Raises
    ------
    RasterError
        No CRS, cells in degrees or feet (reproject with ``gdalwarp -t_srs EPSG:32718``),
        rotated or non-square cells.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> tops = agf.detect_trees(agf.datasets.get_path("chm"), min_height=6)  # shade trees
    >>> list(tops.columns), tops.crs.to_epsg()
    (['tree_id', 'height_m', 'window_radius_m', 'geometry'], 32718)
    >>> bool(tops["height_m"].between(6, 30.5).all()), 300 < len(tops) < 400
    (True, True)

    A tiny CHM in memory: two cone crowns of 10 m and 6 m.

    >>> import numpy as np, rasterio
    >>> from rasterio.io import MemoryFile
    >>> yy, xx = np.mgrid[0:40, 0:40]
    >>> cone = lambda r, c, h: h - np.hypot(yy - r, xx - c) * 0.5
    >>> heights = np.maximum(cone(10, 10, 10.0), cone(28, 30, 6.0)).astype("float32")
    >>> profile = dict(driver="GTiff", width=40, height=40, count=1, dtype="float32",
    ...                crs="EPSG:32718", transform=rasterio.transform.from_origin(0, 20, 0.5, 0.5))
    >>> with MemoryFile() as mem:
    ...     with mem.open(**profile) as ds:
    ...         ds.write(heights, 1)
    ...     with mem.open() as ds:
    ...         tops = detect_trees(ds, window="linear_0.06")
    >>> tops[["height_m", "window_radius_m"]].values.tolist()
    [[10.0, 1.0], [6.0, 1.0]]
    >>> [(p.x, p.y) for p in tops.geometry]
    [(5.25, 14.75), (15.25, 5.75)]
    """
    if ties not in ("merge", "keep"):
        raise ValueError(f"ties must be one of ['keep', 'merge'], got {ties!r}")
    if not np.isfinite(min_height) or min_height < 0:
        raise ValueError(f"min_height must be a finite height >= 0 in metres, got {min_height}")
    if not max_height > min_height:
        raise ValueError(f"max_height ({max_height}) must exceed min_height ({min_height})")
    if block_size < 16:
        raise ValueError(f"block_size must be at least 16 cells, got {block_size}")
    fn = _window_function(window)
    with _open_raster(chm) as ds, bounded_block_cache():
        xres, yres = _check_metric(ds)
        fp = _Footprints(xres, yres, {})
        nodata = ds.nodata
        height, width = ds.height, ds.width
        # first guess of the overlap: twice the window of a 30 m tree (grown when needed)
        r30 = float(_radius_m(fn, np.array([min(30.0, max_height)]))[0])
        halo = 2 * max(int(np.rint(r30 / xres)), 1) + 8
        out_r: list[np.ndarray] = []
        out_c: list[np.ndarray] = []
        out_h: list[np.ndarray] = []
        out_k: list[np.ndarray] = []
        too_high = negative = 0
        for br in range(0, height, block_size):
            for bc in range(0, width, block_size):
                core = (br, min(br + block_size, height), bc, min(bc + block_size, width))
                while True:
                    res = _block(ds, core, halo, nodata, min_height, max_height, fn, fp, ties)
                    if isinstance(res, int):  # windows reach beyond the overlap: read wider
                        halo = res
                        continue
                    break
                rows, cols, h, k, th, neg = res
                too_high += th
                negative += neg
                out_r.append(rows)
                out_c.append(cols)
                out_h.append(h)
                out_k.append(k)
        crs = ds.crs
        transform = ds.transform
    rows = np.concatenate(out_r) if out_r else np.array([], dtype=np.int64)
    cols = np.concatenate(out_c) if out_c else np.array([], dtype=np.int64)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    hv = np.concatenate(out_h)[order].astype(float) if out_h else np.array([], dtype=float)
    kv = np.concatenate(out_k)[order] if out_k else np.array([], dtype=np.int64)
    if too_high:
        warnings.warn(
            f"{too_high} CHM cells higher than max_height={max_height} m were treated as nodata "
            "(spikes or errors); raise max_height if they are real trees",
            NoDataWarning,
            stacklevel=2,
        )
    # cell centres (north-up grid, checked above)
    xs = transform.c + (cols + 0.5) * transform.a
    ys = transform.f + (rows + 0.5) * transform.e
    tops = gpd.GeoDataFrame(
        {
            "tree_id": np.arange(rows.size, dtype=np.int64),
            "height_m": hv,
            "window_radius_m": kv.astype(float) * xres,
        },
        geometry=gpd.points_from_xy(xs, ys),
        crs=crs,
    )
    tops.attrs["negative_cells"] = negative
    tops.attrs["cells_above_max_height"] = too_high
    return tops


def _block(
    ds: DatasetReader,
    core: tuple[int, int, int, int],
    halo: int,
    nodata: float | None,
    min_height: float,
    max_height: float,
    fn: WindowFunction,
    fp: _Footprints,
    ties: Ties,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int] | int:
    """Tops whose cell lies in ``core``, reading ``halo`` extra cells around it.

    Returns the halo needed instead when a window (or, with ties merged, a tie
    group) could reach beyond this one, so the caller reads again.
    """
    cr0, cr1, cc0, cc1 = core
    r0, r1 = max(cr0 - halo, 0), min(cr1 + halo, ds.height)
    c0, c1 = max(cc0 - halo, 0), min(cc1 + halo, ds.width)
    arr = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
    work, too_high, negative = _prepare(
        arr,
        nodata,
        min_height,
        max_height,
        (slice(cr0 - r0, cr1 - r0), slice(cc0 - c0, cc1 - c0)),
    )
    # cells whose window must be complete: the core, plus (to merge ties across the core
    # edge) the cells up to half the halo around it; the halo beyond serves the windows
    margin = halo // 2 if ties == "merge" else 0
    e0, e1 = max(cr0 - margin, 0) - r0, min(cr1 + margin, ds.height) - r0
    f0, f1 = max(cc0 - margin, 0) - c0, min(cc1 + margin, ds.width) - c0
    rows, cols, h, k = _tops_in_block(work, fn, fp, (e0, e1, f0, f1))
    kmax = int(k.max()) if k.size else 0
    # a window of radius k around a cell in the evaluated box must stay inside what was read
    need = kmax + margin
    limited = r0 > 0 or c0 > 0 or r1 < ds.height or c1 < ds.width
    if limited and need > halo:
        return 2 * kmax + 8  # the halo that holds these windows and tie groups
    if ties == "merge":
        # a tie group reaching beyond the evaluated box (a plateau wider than half the
        # overlap) is only partly seen here; such plateaus are not real crowns
        sel = _merge_ties(rows, cols, work.shape)
        rows, cols, h, k = rows[sel], cols[sel], h[sel], k[sel]
    incore = (rows >= cr0 - r0) & (rows < cr1 - r0) & (cols >= cc0 - c0) & (cols < cc1 - c0)
    return (
        rows[incore] + r0,
        cols[incore] + c0,
        h[incore],
        k[incore],
        too_high,
        negative,
    )


def segment_crowns(
    chm: ChmInput,
    tops: gpd.GeoDataFrame,
    *,
    min_height: float = 2.0,
) -> gpd.GeoDataFrame:
    """Delineate one crown polygon per tree top by marker-controlled watershed.

    The watershed (:func:`skimage.segmentation.watershed`) runs on the inverted
    canopy heights, flooding from the tops, over the cells at least
    ``min_height`` high. The whole CHM is read into memory: use it on plot-sized
    rasters.

    Parameters
    ----------
    chm : path or rasterio dataset
        Canopy height in metres, as for :func:`detect_trees`.
    tops : GeoDataFrame
        Tree tops in the CHM's CRS, e.g. from :func:`detect_trees`.
    min_height : float
        Cells lower than this are not part of any crown.

    Returns
    -------
    GeoDataFrame
        On the index of ``tops``: ``crown_area_m2`` (cells x cell area, in the
        CRS's metres; sums across trees) and the crown polygon (``None`` and
        area 0 for a top outside the raster or below ``min_height``).

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> chm = agf.datasets.get_path("chm")
    >>> tops = agf.detect_trees(chm, min_height=6)
    >>> crowns = agf.segment_crowns(chm, tops, min_height=6)
    >>> crowns.index.equals(tops.index), bool((crowns["crown_area_m2"] > 0).all())
    (True, True)
    """
    from skimage.segmentation import watershed

    with _open_raster(chm) as ds:
        xres, yres = _check_metric(ds)
        if tops.crs is None or not pyproj.CRS.from_user_input(ds.crs).equals(tops.crs):
            raise RasterError(
                f"tops are in {tops.crs} but the CHM in {ds.crs}; use "
                "`tops = tops.to_crs(chm_crs)` (detect_trees returns the CHM's CRS)"
            )
        arr = ds.read(1)
        transform = ds.transform
        crs = ds.crs
        nodata = ds.nodata
    work, _, _ = _prepare(arr, nodata, min_height, np.inf)
    mask = work > -np.inf
    markers = np.zeros(work.shape, dtype=np.int32)
    xs = tops.geometry.x.to_numpy()
    ys = tops.geometry.y.to_numpy()
    rr, cc = rasterio.transform.rowcol(transform, xs, ys, op=np.floor)
    rr = np.asarray(rr, dtype=np.int64)
    cc = np.asarray(cc, dtype=np.int64)
    ok = (rr >= 0) & (rr < work.shape[0]) & (cc >= 0) & (cc < work.shape[1])
    ok[ok] &= mask[rr[ok], cc[ok]]
    ids = np.flatnonzero(ok) + 1
    markers[rr[ok], cc[ok]] = ids
    elevation = np.where(mask, -work, 0).astype(np.float64)
    labels = watershed(elevation, markers=markers, mask=mask)
    area = np.bincount(labels.ravel(), minlength=len(tops) + 1)[1:] * xres * yres
    geoms: list[Any] = [None] * len(tops)
    shapes = rasterio.features.shapes(labels, mask=labels > 0, transform=transform)
    parts: dict[int, list[Any]] = {}
    for geom, value in shapes:
        parts.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    for value, polys in parts.items():
        geoms[value - 1] = polys[0] if len(polys) == 1 else shapely.union_all(polys)
    return gpd.GeoDataFrame(
        {"crown_area_m2": pd.Series(area.astype(float), index=tops.index)},
        geometry=gpd.GeoSeries(geoms, index=tops.index, crs=crs),
        crs=crs,
    )

"""Pixel pieces of polygons: batches by tile, exact coverage on the raster's grid, pixel values.

The planning and extraction steps behind :mod:`agroforest_geo.raster` (see its
notes for the method). A *part* is a polygon, or a piece of a polygon cut along
the fixed tile lines; a *batch* is the parts grouped in one tile, read through
one window per raster.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from rasterio.windows import Window

from ._blocks import BlockStore
from ._coverage import compiled_coverage, use_compiled
from .cellarea import _CellArea
from .inputs import _Grid, _Prepared

__all__ = ["PixelPieces"]

Method = Literal["exact", "centroid"]
_METHODS: tuple[str, ...] = ("exact", "centroid")

#: Fallback size of the tiles polygons are grouped by, in pixels (by default the
#: size is chosen from the polygons' layout, see ``_choose_tile``). A window read
#: is at most about twice the tile on each side.
DEFAULT_TILE_PX = 512
#: Polygons wider than this many pixels are cut into per-tile pieces.
_SPLIT_PX = 1024


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


def _grid_source(grid: _Grid) -> Any:
    """Return an exactextract raster source on the raster's whole grid (holding no pixels).

    Coverage is always computed on the full grid, so the cell edges (and the
    numbers) of a polygon never depend on the window of the batch it is in.
    """
    from exactextract.raster import NumPyRasterSource

    t = grid.transform
    zeros = np.broadcast_to(np.zeros((1, 1), dtype=np.uint8), (grid.height, grid.width))
    return NumPyRasterSource(
        zeros,
        t.c,
        t.f + grid.dy * grid.height,
        t.c + grid.dx * grid.width,
        t.f,
        srs_wkt=grid.wkt,
    )


def _coverage_exact(
    geoms: np.ndarray, grid: _Grid, known_valid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact coverage of cells by each geometry: (geometry position, row, col, fraction).

    The compiled pass (:mod:`agroforest_geo._coverage`) for the geometries it is
    sure of, exactextract for the others (and for all without numba).
    """
    if not use_compiled():
        return _coverage_exactextract(geoms, grid)
    t = grid.transform
    pos, rows, cols, cov, unsure = compiled_coverage(
        geoms, t.c, t.f, grid.dx, grid.dy, grid.width, grid.height, known_valid=known_valid
    )
    if unsure.size == 0:
        return pos, rows, cols, cov
    p2, r2, c2, f2 = _coverage_exactextract(geoms[unsure], grid)
    return (
        np.concatenate([pos, unsure[p2]]),
        np.concatenate([rows, r2]),
        np.concatenate([cols, c2]),
        np.concatenate([cov, f2]),
    )


def _coverage_exactextract(
    geoms: np.ndarray, grid: _Grid
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact coverage of cells by each geometry, computed by exactextract."""
    from exactextract import exact_extract

    vec = _wkb_feature_source(list(shapely.to_wkb(geoms)), grid.wkt)
    df = exact_extract(_grid_source(grid), vec, ["cell_id", "coverage"], output="pandas")
    cells = list(df["cell_id"])
    cov = list(df["coverage"])
    lengths = np.fromiter((len(c) for c in cells), dtype=np.int64, count=len(cells))
    if lengths.sum() == 0:
        e = np.empty(0, np.int64)
        return e, e, e, np.empty(0)
    pos = np.repeat(np.arange(len(cells)), lengths)
    rows, cols = np.divmod(np.concatenate(cells).astype(np.int64), grid.width)
    return pos, rows, cols, np.concatenate(cov).astype(float)


def _coverage_centroid(
    geoms: np.ndarray, grid: _Grid, pb: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixel-centre rule: coverage 1 for cells whose centre is inside the geometry."""
    t = grid.transform
    pos_l, row_l, col_l = [], [], []
    for k, g in enumerate(geoms):
        c0, r0, c1, r1 = pb[k]
        rr, cc = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
        x = t.c + grid.dx * (cc + 0.5)
        y = t.f + grid.dy * (rr + 0.5)
        inside = shapely.contains_xy(g, x, y)
        row_l.append(rr[inside].astype(np.int64))
        col_l.append(cc[inside].astype(np.int64))
        pos_l.append(np.full(row_l[-1].size, k, dtype=np.int64))
    if not pos_l:
        e = np.empty(0, np.int64)
        return e, e, e, np.empty(0)
    pos = np.concatenate(pos_l)
    return pos, np.concatenate(row_l), np.concatenate(col_l), np.ones(pos.size)


@dataclass
class _Batch:
    """Polygon parts read together: the window read and, per part, geometry, id, pixel box."""

    window: Window
    geoms: np.ndarray
    part: np.ndarray
    pb: np.ndarray
    valid: np.ndarray | None = None
    """True where the part is known valid (GEOS, on this very geometry); None: unknown."""


@dataclass
class _Plan:
    prepared: _Prepared
    grid: _Grid
    batches: list[_Batch]
    part_owner: np.ndarray
    """Input position of each part (a polygon, or a piece of a polygon cut along tile lines)."""


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


#: Cost model used to choose the tile size: seconds per batch (the calls of one
#: batch) and per pixel of its windows. Blocks are read once whatever the tiles
#: (:mod:`agroforest_geo._blocks`) and a window is filled only from the blocks its
#: polygons touch, so a window's pixels cost little (measured on ``bench_cover.py``:
#: 2048 px tiles were the fastest at 1,000 to 100,000 parcels, by up to 1.8x).
_COST_PER_BATCH_S = 1e-3
_COST_PER_PIXEL_S = 2e-10
_TILE_CANDIDATES = (64, 128, 256, 512, 1024, 2048)


def _choose_tile(pb: np.ndarray, grid: _Grid, n_rasters: int) -> int:
    """Tile size minimising batches × overhead + window pixels × copy cost.

    Candidates are tried from the largest down, until the cost rises (with
    blocks read once, large tiles nearly always win: two groupings of the
    polygons instead of six). Only the grouping (hence speed and memory)
    depends on it, not the numbers.
    """
    best, best_cost = DEFAULT_TILE_PX, np.inf
    for tile in sorted(_TILE_CANDIDATES, reverse=True):
        _, starts, win = _group(pb, grid, tile)
        px = float(((win[:, 2] - win[:, 0]) * (win[:, 3] - win[:, 1])).sum())
        cost = starts.size * _COST_PER_BATCH_S + px * n_rasters * _COST_PER_PIXEL_S
        if cost >= best_cost:
            break
        best, best_cost = tile, cost
    return best


def _plan(prepared: _Prepared, grid: _Grid, tile: int | None = None, n_rasters: int = 1) -> _Plan:
    idx = np.flatnonzero(~prepared.empty)
    geoms = prepared.geoms[idx]
    pb = _pixel_bounds(geoms, grid) if idx.size else np.empty((0, 4), np.int64)
    keep = pb[:, 0] >= 0 if idx.size else np.zeros(0, bool)
    geoms, owner, pb = geoms[keep], idx[keep], pb[keep]
    if geoms.size:
        whole = geoms
        geoms, owner, pb = _split_large(geoms, owner, pb, grid, tile or _SPLIT_PX)
        valid = _known_valid(prepared, geoms, owner, whole)
    batches = []
    if geoms.size:
        if tile is None:
            tile = _choose_tile(pb, grid, n_rasters)
        order, starts, win = _group(pb, grid, tile)
        ends = np.r_[starts[1:], order.size]
        for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
            sel = order[s:e]
            # one pixel of margin: cells exactextract touches at a polygon's bounding box edge
            c0 = max(int(win[k, 0]) - 1, 0)
            r0 = max(int(win[k, 1]) - 1, 0)
            c1 = min(int(win[k, 2]) + 1, grid.width)
            r1 = min(int(win[k, 3]) + 1, grid.height)
            batches.append(
                _Batch(Window(c0, r0, c1 - c0, r1 - r0), geoms[sel], sel, pb[sel], valid[sel])
            )
    return _Plan(prepared, grid, batches, owner.astype(np.int64))


def _known_valid(
    prepared: _Prepared, parts: np.ndarray, owner: np.ndarray, whole: np.ndarray
) -> np.ndarray:
    """Parts known valid: the polygon itself (not a piece cut from it), found valid before."""
    if prepared.valid is None:
        return np.zeros(parts.size, dtype=bool)
    same = np.fromiter(
        (p is prepared.geoms[o] for p, o in zip(parts, owner, strict=True)),
        dtype=bool,
        count=parts.size,
    )
    return same & prepared.valid[owner]


def _needs(batch: _Batch) -> np.ndarray:
    """Pixel boxes ``(c0, r0, c1, r1)`` the batch's pieces lie in: its parts' boxes, 1 px more.

    The margin is the window's: cells exactextract may list at a box's edge.
    """
    w = batch.window
    c0, r0 = int(w.col_off), int(w.row_off)
    c1, r1 = c0 + int(w.width), r0 + int(w.height)
    pb = batch.pb
    return np.column_stack(
        [
            np.maximum(pb[:, 0] - 1, c0),
            np.maximum(pb[:, 1] - 1, r0),
            np.minimum(pb[:, 2] + 1, c1),
            np.minimum(pb[:, 3] + 1, r1),
        ]
    ).astype(np.int64)


def _pieces(
    batch: _Batch,
    store: BlockStore,
    grid: _Grid,
    cell_area: _CellArea,
    method: str,
    k: int,
) -> PixelPieces:
    """Pixel pieces of batch ``k``; ``feature`` is the position of the part in the batch.

    The cell-area lattice around the batch's parts is computed here (on the
    batch's thread), and the batch is released from ``store`` once its values
    are gathered.
    """
    cell_area.prefill(store.boxes(k))
    if method == "exact":
        pos, rows, cols, cov = _coverage_exact(batch.geoms, grid, batch.valid)
    else:
        pos, rows, cols, cov = _coverage_centroid(batch.geoms, grid, batch.pb)
    win = batch.window
    r0, c0 = int(win.row_off), int(win.col_off)
    inside = rows.size == 0 or (
        cov.min() > 0
        and rows.min() >= r0
        and rows.max() < r0 + win.height
        and cols.min() >= c0
        and cols.max() < c0 + win.width
    )
    if not inside:  # exactextract's zero-coverage cells, cells off the window
        wr, wc = rows - r0, cols - c0
        keep = (cov > 0) & (wr >= 0) & (wr < win.height) & (wc >= 0) & (wc < win.width)
        pos, rows, cols, cov = (a[keep] for a in (pos, rows, cols, cov))
    values, valid = {}, {}
    try:
        for name in store.rasters:
            values[name], valid[name] = store.gather(name, k, win, rows, cols)
    finally:
        store.release(k)
    return PixelPieces(
        feature=pos,
        row=rows,
        col=cols,
        coverage=cov,
        area_m2=cov * cell_area(rows, cols),
        values=values,
        valid=valid,
    )

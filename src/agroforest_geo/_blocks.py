"""Raster blocks read once each, in the order the batches need them, shared by threads.

The windows of the batches of a pass (:mod:`agroforest_geo.pixelpieces`) overlap
where polygons straddle tile lines and are rarely aligned on the raster's
blocks: read window by window, the blocks on the edges of every window are
asked for two to four times (1.93x on ``bench_cover.py``), and between scattered
polygons a window holds blocks no polygon touches. Here the pass is planned on
*units* (the raster's blocks, grouped into at least 512 × 512 pixels when
blocks are small strips): every unit the pixel boxes of a batch's parts touch
is read once, whole, the first time a batch asks for it, kept while later
batches still need it (a count per unit, known from the plan), and dropped
after its last one. A batch's window is copied together from its units only,
and gathering a cell outside them raises (a planning error, never a silent
value).

Values and their validity are exactly those of a masked read of the window:
for an integer band whose only mask is its nodata value the validity is
``value != nodata`` (GDAL's nodata mask of an integer band); otherwise GDAL's
mask band is read with the unit (alpha, per-dataset masks, float nodata).

Several threads may ask at once: a raster's dataset is read under its own lock
(GDAL handles are not shared between threads; the read releases the GIL), so
units of different rasters are read in parallel and no unit is read twice.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import rasterio
from rasterio.io import DatasetReader
from rasterio.windows import Window

__all__ = ["BlockStore"]

#: Values gathered at some cells, and whether each is valid.
Gathered = tuple[np.ndarray, np.ndarray]

#: Units are at least this many pixels on a side (when the raster is that large).
_MIN_UNIT_PX = 512


@dataclass
class _Counters:
    """What a pass read: units read, unit reads asked for by windows, pixels read and needed."""

    units_read: int = 0
    units_asked: int = 0
    pixels_read: int = 0
    pixels_in_windows: int = 0
    reads_per_unit: dict[tuple[str, int, int], int] = field(default_factory=dict)


def _nodata_compare(src: DatasetReader, band: int) -> int | None:
    """Return the integer nodata to compare with when it is the band's only mask, else None."""
    flags = src.mask_flag_enums[band - 1]
    dtype = np.dtype(src.dtypes[band - 1])
    if list(flags) != [rasterio.enums.MaskFlags.nodata] or dtype.kind not in "iu":
        return None
    nod = src.nodatavals[band - 1]
    if nod is None or not math.isfinite(nod) or nod != int(nod):
        return None
    info = np.iinfo(dtype)
    if not info.min <= nod <= info.max:
        return None
    return int(nod)


class _Raster:
    """One raster's units: their size, the lock on its dataset, the units held."""

    def __init__(self, src: DatasetReader, band: int, lock: threading.Lock) -> None:
        self.src, self.band = src, band
        bh, bw = src.block_shapes[band - 1]
        self.uh = bh * max(1, math.ceil(min(_MIN_UNIT_PX, src.height) / bh))
        self.uw = bw * max(1, math.ceil(min(_MIN_UNIT_PX, src.width) / bw))
        self.nodata = _nodata_compare(src, band)
        self.all_valid = all(
            f == rasterio.enums.MaskFlags.all_valid for f in src.mask_flag_enums[band - 1]
        )
        self.lock = lock  # the dataset's: shared by every name it is read under
        self.units: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None]] = {}

    def keys(self, boxes: np.ndarray) -> list[tuple[int, int]]:
        """Return the units (row, col), in order, that pixel boxes ``(c0, r0, c1, r1)`` touch."""
        if boxes.size == 0:
            return []
        i0, i1 = boxes[:, 1] // self.uh, (boxes[:, 3] - 1) // self.uh
        j0, j1 = boxes[:, 0] // self.uw, (boxes[:, 2] - 1) // self.uw
        ni, nj = i1 - i0 + 1, j1 - j0 + 1
        rep = np.repeat(np.arange(boxes.shape[0]), ni * nj)
        k = np.arange(rep.size) - np.repeat(np.cumsum(ni * nj) - ni * nj, ni * nj)
        ii, jj = i0[rep] + k // nj[rep], j0[rep] + k % nj[rep]
        ncol = -(-self.src.width // self.uw)
        flat = np.unique(ii * ncol + jj)
        return [(int(f // ncol), int(f % ncol)) for f in flat]

    def window(self, key: tuple[int, int]) -> Window:
        """Return the window of unit ``key`` (cut at the raster's edges)."""
        i, j = key
        h = min(self.uh, self.src.height - i * self.uh)
        return Window(j * self.uw, i * self.uh, min(self.uw, self.src.width - j * self.uw), h)

    def read(self, key: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
        """Read one unit: its values, and its mask (None: validity comes from the values)."""
        src = self.src
        w = self.window(key)
        data = src.read(self.band, window=w)
        if self.nodata is not None or self.all_valid:
            return data, None
        return data, src.read_masks(self.band, window=w) != 0

    def valid(self, values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Return whether values gathered from units are valid (``mask``: theirs, if read)."""
        if mask is not None:
            ok = mask
        elif self.nodata is not None:
            ok = values != values.dtype.type(self.nodata)
        else:
            ok = np.ones(values.shape, dtype=bool)
        if values.dtype.kind == "f":
            ok &= ~np.isnan(values)
        return ok


class BlockStore:
    """Values of several rasters at the cells of batches, from units each read once.

    Parameters
    ----------
    srcs, bands
        The open rasters (on one grid) and the band of each.
    needs
        Per batch, in the order they will be asked for, the pixel boxes
        ``(c0, r0, c1, r1)`` (end exclusive, inside the raster) its cells lie in;
        every batch must be gathered from, then released, exactly once.
    """

    def __init__(
        self,
        srcs: Mapping[str, DatasetReader],
        bands: Mapping[str, int],
        needs: Sequence[np.ndarray],
    ) -> None:
        # one lock per dataset, not per name: a GDAL dataset is never read by two threads at
        # once, even when one dataset is two of the rasters (cover and loss in two bands)
        locks: dict[int, threading.Lock] = {}
        self.rasters = {
            name: _Raster(src, bands[name], locks.setdefault(id(src), threading.Lock()))
            for name, src in srcs.items()
        }
        self.counters = _Counters()
        self._keys: dict[str, list[list[tuple[int, int]]]] = {}
        self._left: dict[str, dict[tuple[int, int], int]] = {}
        for name, r in self.rasters.items():
            keys = [r.keys(np.asarray(b, dtype=np.int64).reshape(-1, 4)) for b in needs]
            left: dict[tuple[int, int], int] = {}
            for ks in keys:
                for key in ks:
                    left[key] = left.get(key, 0) + 1
            self._keys[name], self._left[name] = keys, left
        self._boxes = list(needs)
        self._count_lock = threading.Lock()

    def boxes(self, batch: int) -> np.ndarray:
        """Return the pixel boxes batch ``batch`` needs (as given)."""
        return np.asarray(self._boxes[batch], dtype=np.int64).reshape(-1, 4)

    def _unit(self, name: str, key: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
        r = self.rasters[name]
        with r.lock:
            got = r.units.get(key)
            if got is None:
                got = r.units[key] = r.read(key)
                c = self.counters
                c.units_read += 1
                c.pixels_read += got[0].size
                k = (name, *key)
                c.reads_per_unit[k] = c.reads_per_unit.get(k, 0) + 1
        return got

    def gather(
        self, name: str, batch: int, win: Window, rows: np.ndarray, cols: np.ndarray
    ) -> Gathered:
        """Values and validity of raster ``name`` at cells ``(rows, cols)`` of batch ``batch``.

        ``win`` is a window holding the cells; only the units the batch needs are
        copied into it, and a cell outside them raises (a planning error).
        """
        r = self.rasters[name]
        keys = self._keys[name][batch]
        data, mask, have = self._window(name, keys, win)
        wr, wc = rows - int(win.row_off), cols - int(win.col_off)
        ui = (rows // r.uh - have[1]) * have[0].shape[1] + cols // r.uw - have[2]
        if not have[0].ravel()[ui].all():
            raise RuntimeError("a pixel piece lies outside the raster blocks planned for it")
        values = data[wr, wc]
        return values, r.valid(values, None if mask is None else mask[wr, wc])

    def _window(
        self, name: str, keys: list[tuple[int, int]], win: Window
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[np.ndarray, int, int]]:
        """``win`` filled from the units ``keys``; and which units of its span those are."""
        r = self.rasters[name]
        r0, c0 = int(win.row_off), int(win.col_off)
        h, w = int(win.height), int(win.width)
        units = [self._unit(name, k) for k in keys]
        with self._count_lock:
            self.counters.units_asked += len(keys)
            self.counters.pixels_in_windows += h * w
        i0, j0 = r0 // r.uh, c0 // r.uw
        have = np.zeros(((r0 + h - 1) // r.uh - i0 + 1, (c0 + w - 1) // r.uw - j0 + 1), bool)
        data = np.empty((h, w), dtype=units[0][0].dtype if units else r.src.dtypes[r.band - 1])
        mask = None if not units or units[0][1] is None else np.empty((h, w), dtype=bool)
        for (i, j), (d, m) in zip(keys, units, strict=True):
            ua, ub = max(r0, i * r.uh), min(r0 + h, i * r.uh + d.shape[0])
            va, vb = max(c0, j * r.uw), min(c0 + w, j * r.uw + d.shape[1])
            if ua >= ub or va >= vb:
                continue
            have[i - i0, j - j0] = True
            src_sl = (slice(ua - i * r.uh, ub - i * r.uh), slice(va - j * r.uw, vb - j * r.uw))
            dst_sl = (slice(ua - r0, ub - r0), slice(va - c0, vb - c0))
            data[dst_sl] = d[src_sl]
            if mask is not None and m is not None:
                mask[dst_sl] = m[src_sl]
        return data, mask, (have, i0, j0)

    def release(self, batch: int) -> None:
        """Say that batch ``batch`` is done: units no later batch needs are dropped."""
        for name, r in self.rasters.items():
            left = self._left[name]
            for key in self._keys[name][batch]:
                with self._count_lock:
                    left[key] -= 1
                    done = left[key] == 0
                if done:
                    with r.lock:
                        r.units.pop(key, None)

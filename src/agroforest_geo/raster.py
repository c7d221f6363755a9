"""Raster access for zonal statistics: windows, nodata, exact coverage, ellipsoidal pixel areas.

Method
------
Polygons are transformed to the raster's CRS (the raster is never resampled)
and grouped by the raster tile (``tile_px`` × ``tile_px`` pixels) that holds
the centre of their bounding box; a polygon wider than ``tile_px`` (default
1024) pixels is cut into pieces along the fixed lines every ``tile_px`` pixels
from the raster's origin with :func:`shapely.clip_by_rect` (the pieces
partition it, so coverage fractions add up exactly). The exact fraction of each
pixel covered by each polygon comes from one compiled pass over its edges
(:mod:`agroforest_geo._coverage`) for valid polygons inside the grid, and from
`exactextract <https://isciences.github.io/exactextract/>`_ (``cell_id`` and
``coverage`` operations) for the others (and for all without numba); the two
agree cell by cell (``tests/test_coverage.py``). The values come from the
raster blocks the polygons' pixel boxes touch, each block read and
decompressed once in the pass, in batch order, and dropped after the last
batch that needs it (:mod:`agroforest_geo._blocks`). Memory is bounded by the
batches in flight, whatever the size of the raster.

Every covered pixel piece gets an ellipsoidal area, ``coverage × cell area``
(:mod:`agroforest_geo.cellarea`: closed-form on geographic rasters, the exact
areal scale interpolated from a lattice fixed by the grid on projected ones).

Determinism: the numbers of a polygon depend only on that polygon and the
raster grid, never on the other polygons of the call nor on how they are
batched. Coverage is computed on the raster's whole grid (same origin and
cell edges for every batch; only the pixels read are windowed), polygons are
cut along fixed lines, and the pieces of a polygon are summed per part, in a
fixed order, before parts are added up. A subset of polygons, a shuffled
order, a Dask partition or ``n_jobs > 1`` give bit-identical results.

Coverage fractions are planar in the raster's CRS; within one pixel the area
density is taken as uniform, and fractions are float32, as exactextract returns
them (~6e-8 relative per partial pixel; whole pixels are exact). For a 0.00025°
pixel the sum of the pieces of a polygon agrees with its exact ellipsoidal
area (:func:`agroforest_geo.area_ha`) to ~1e-7 relative, for 30 m UTM pixels to
~1e-8; ``nodata`` residues below 1e-6 of the polygon's area are set to 0.

Parallelism: the verbs that take ``n_jobs`` process batches on that many
threads (the coverage pass, the cell-area kernels, GDAL's reads and numpy
release the GIL; a raster's dataset is read under its own lock); every batch
is reduced on its own and the per-part sums are combined in batch order, so
the numbers are the same for any ``n_jobs``.

Nodata rule: a pixel is missing when it equals the band's nodata value, is
masked by the dataset's mask band, or is NaN. A raster without a nodata value
and without a mask has all its (non-NaN) values treated as valid; a
:class:`~agroforest_geo.errors.NoDataWarning` says so. The part of a polygon
outside the raster counts as nodata, so a parcel half outside the raster is
visible in ``nodata_m2``, never silently scaled.
"""

from __future__ import annotations

import logging
import warnings
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from rasterio.io import DatasetReader

from ._blocks import BlockStore
from ._encoding import _Encoding, band_of, density_encoding, is_stat, plain_encoding
from ._screen import InvalidPolicy
from ._threads import n_workers
from .cellarea import _CellArea, cell_area_m2
from .errors import NoDataWarning
from .inputs import (
    RasterLike,
    _Grid,
    _open_all,
    _prepare,
    _Prepared,
    bounded_block_cache,
    with_point_buffer,
)
from .pixelpieces import (
    Method,
    PixelPieces,
    _Batch,
    _needs,
    _pieces,
    _Plan,
    _plan,
    _validate_method,
)
from .products import Product

__all__ = [
    "PixelPieces",
    "RasterLike",
    "cell_area_m2",
    "integrate",
    "iter_pixel_pieces",
]

_log = logging.getLogger(__name__)

#: Show a progress bar by default from this many polygons on.
PROGRESS_MIN_FEATURES = 20_000
#: With ``n_jobs > 1``, batches submitted ahead per thread (bounds the memory held).
_AHEAD_PER_WORKER = 2


def _progress_bar(total: int, progress: bool | None, desc: str) -> Any:
    show = total >= PROGRESS_MIN_FEATURES if progress is None else bool(progress)
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="polygon")


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
    The pieces of a polygon (coverage, area, values) do not depend on the other
    polygons passed, nor on ``tile_px`` except where a polygon wider than
    ``tile_px`` is cut.

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
    store = BlockStore(srcs, bands, [_needs(b) for b in plan.batches])
    bar = _progress_bar(plan.prepared.n, progress, "pixels")
    try:
        for k, batch in enumerate(plan.batches):
            p = _pieces(batch, store, grid, cell_area, method, k)
            owner = plan.part_owner[batch.part]
            p.feature = owner[p.feature]
            yield p
            if bar is not None:
                bar.update(int(np.unique(owner).size))
    finally:
        if bar is not None:
            bar.close()


# ---------------------------------------------------------------------------
# reductions: per-polygon sums, in one process or several
# ---------------------------------------------------------------------------

#: A reducer turns the pieces of one batch (``feature`` = position of the part
#: in the batch, 0 … nb-1) into named sums per part, each an array of length nb,
#: e.g. ``{"valid": np.bincount(p.feature[ok], weights=p.area_m2[ok], minlength=nb)}``.
#: Reducers run on several threads at once (pure functions of the pieces) and must be
#: picklable (module-level classes) for the Dask path.
#: Keys ``("stat", name, "max" | "min" | ...)`` carry per-batch check statistics
#: (:mod:`agroforest_geo._encoding`): "max" and "min" are combined by max and min,
#: the others summed; only their overall value is meaningful, not the per-polygon one.
Reducer = Callable[[PixelPieces, int], Mapping[Hashable, np.ndarray]]


def _fill(key: Hashable) -> float:
    """Neutral value of a reducer key: 0 for sums, -inf/+inf for "max"/"min" statistics."""
    if is_stat(key):
        return {"max": -np.inf, "min": np.inf}.get(key[2], 0.0)  # type: ignore[index]
    return 0.0


def _per_polygon(key: Hashable, v: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Combine the per-part values of a key per polygon (sum, or max/min for statistics)."""
    fill = _fill(key)
    if fill == 0.0:
        return np.bincount(owner, weights=v, minlength=n)[:n]
    out = np.full(n, fill)
    (np.maximum if fill < 0 else np.minimum).at(out, owner, v)
    return out


_Sums = tuple[np.ndarray, dict[Hashable, np.ndarray]]


def _reduce_batch(
    batch: _Batch,
    store: BlockStore,
    grid: _Grid,
    cell_area: _CellArea,
    method: str,
    reducer: Reducer,
    k: int,
) -> _Sums:
    """Sum batch ``k`` per part: (part ids, {key: sums aligned with the ids})."""
    pieces = _pieces(batch, store, grid, cell_area, method, k)
    sums = dict(reducer(pieces, batch.part.size))
    return batch.part, sums


def _in_threads(fn: Callable[[int], _Sums], n: int, workers: int) -> Iterator[_Sums]:
    """``fn(k)`` of every batch ``k < n``, in order, on ``workers`` threads (a few ahead).

    Each thread reads under the GDAL options of the calling thread (rasterio
    keeps them per thread outside the main one).
    """
    opts = rasterio.env.getenv() if rasterio.env.hasenv() else {}

    def run(k: int) -> _Sums:
        with rasterio.Env(**opts):
            return fn(k)

    with ThreadPoolExecutor(workers) as ex:
        pending: deque[Future[_Sums]] = deque()
        try:
            for k in range(n):
                pending.append(ex.submit(run, k))
                if len(pending) > _AHEAD_PER_WORKER * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


def _reduce(
    plan: _Plan,
    srcs: Mapping[str, DatasetReader],
    bands: Mapping[str, int],
    method: str,
    reducer: Reducer,
    progress: bool | None,
    n_jobs: int = 1,
) -> dict[Hashable, np.ndarray]:
    """Per-polygon sums (arrays of length ``plan.prepared.n``) of the reducer's keys.

    Sums are taken per part (each part lies in one batch), then parts are added
    per polygon in part order: the result does not depend on batching or on
    ``n_jobs`` (threads over batches).
    """
    workers = min(n_workers(n_jobs), max(len(plan.batches), 1))
    n_parts = plan.part_owner.size
    acc: dict[Hashable, np.ndarray] = {}
    bar = _progress_bar(plan.prepared.n, progress, "pixels")
    try:
        with bounded_block_cache():
            cell_area = _CellArea(plan.grid)
            store = BlockStore(srcs, bands, [_needs(b) for b in plan.batches])

            def one(k: int) -> _Sums:
                return _reduce_batch(
                    plan.batches[k], store, plan.grid, cell_area, method, reducer, k
                )

            n_b = len(plan.batches)
            results = map(one, range(n_b)) if workers == 1 else _in_threads(one, n_b, workers)
            for parts, sums in results:
                for key, v in sums.items():
                    if key not in acc:
                        acc[key] = np.full(n_parts, _fill(key))
                    acc[key][parts] = v
                if bar is not None:
                    bar.update(int(np.unique(plan.part_owner[parts]).size))
    finally:
        if bar is not None:
            bar.close()
    c = store.counters
    _log.debug(
        "raster pass: %d batches; %d block units read (%d distinct, asked %d times by the "
        "windows); %d px read, %d px in the windows",
        len(plan.batches), c.units_read, len(c.reads_per_unit), c.units_asked,
        c.pixels_read, c.pixels_in_windows,
    )  # fmt: skip
    n = plan.prepared.n
    return {key: _per_polygon(key, v, plan.part_owner, n) for key, v in acc.items()}


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


@dataclass(frozen=True)
class _IntegrateReducer:
    """Σ value × m² and Σ m² over the valid pieces of raster ``"value"`` (decoded, checked)."""

    enc: _Encoding | None = None

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        ok = p.valid["value"]
        if self.enc is not None:
            ok = self.enc.valid(p.values["value"], ok)
        f, a = p.feature[ok], p.area_m2[ok]
        raw = p.values["value"][ok]
        v = raw.astype(float) if self.enc is None else self.enc.read(raw)
        return {
            "vx": np.bincount(f, weights=v * a, minlength=nb),
            "valid": np.bincount(f, weights=a, minlength=nb),
        }


def integrate(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    raster: RasterLike,
    *,
    band: int | str | None = 1,
    product: Product | str | None = None,
    n_jobs: int = 1,
    invalid: InvalidPolicy = "warn",
) -> pd.DataFrame:
    """Integrate a raster over each polygon: Σ value × covered ellipsoidal m².

    A density raster integrates to a count: for trees per hectare,
    ``trees = value_x_m2 / 10_000``. Partial pixels count by their exact
    covered fraction. The band's scale/offset (or the product's) are applied
    after nodata masking, as exactextract does.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
        Polygons in any CRS.
    raster : path or rasterio dataset
    band : int, str or None, default 1
        Band to read: its number (1-based), its description, or None (the only
        band; a multi-band raster then raises, listing its bands).
    product : Product or str, optional
        A ``trees_per_ha`` :class:`~agroforest_geo.products.Product` (or a
        built-in name): its band, nodata, scale/offset and valid range apply,
        and values outside the range raise. Without it values are read as they
        are, scale/offset of the band applied.
    n_jobs : int, default 1
        Threads (-1: all cores); see :func:`agroforest_geo.forest_cover`.
    invalid : {"warn", "nan", "raise"}, default "warn"
        Invalid polygons: see :func:`agroforest_geo.forest_cover` (point plots too).

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
    with ExitStack() as stack:
        srcs, bands_d, grid = _open_all({"value": raster}, {"value": band_of(band, product)}, stack)
        if product is not None:
            enc: _Encoding | None = density_encoding(
                "value", srcs["value"], bands_d["value"], product
            )
        else:
            enc = plain_encoding("value", srcs["value"], bands_d["value"])
        prepared = _prepare(polygons, grid, invalid=invalid)
        plan = _plan(prepared, grid)
        sums = _reduce(plan, srcs, bands_d, "exact", _IntegrateReducer(enc), None, n_jobs)
    zeros = np.zeros(n)
    vx, vm = sums.get("vx", zeros), sums.get("valid", zeros)
    _warn_no_data(vm, prepared, "raster")
    nod = _nodata_m2(prepared.area_m2, vm)
    out = pd.DataFrame({"value_x_m2": vx, "valid_m2": vm, "nodata_m2": nod}, index=polygons.index)
    out.loc[prepared.empty, :] = np.nan
    return with_point_buffer(out, prepared)

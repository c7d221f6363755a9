"""Forest cover and forest loss per polygon, from tree-cover, land-cover and loss-year rasters.

Every result is a DataFrame on the polygons' index, one row per polygon, with
hectares that are ellipsoidal and pixels that count by the exact fraction
covered (see :mod:`agroforest_geo.raster` for the method). Hectares add up
across polygons; shares (``forest_share``, ``valid_share``) and means
(``mean_cover_pct``) do not: sum the hectares, then divide.

Shares of the forest are shares of the part *with data*: ``forest_share =
forest_ha / valid_ha``. How much of the polygon that is, is ``valid_share``
(``valid_ha / area_ha``), and the rest, ``nodata_ha``, includes any part of the
polygon outside the raster.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Hashable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._screen import InvalidPolicy
from .errors import RasterError
from .inputs import RasterLike, _open_all, _prepare, with_point_buffer
from .raster import (
    Method,
    PixelPieces,
    _nodata_m2,
    _plan,
    _reduce,
    _validate_method,
    _warn_no_data,
)

__all__ = [
    "DEFAULT_FOREST_THRESHOLD_PCT",
    "HANSEN_LOSSYEAR",
    "class_shares",
    "forest_cover",
    "forest_cover_and_loss",
    "forest_loss",
]

#: Canopy cover (percent) from which a pixel counts as forest. 10 % is the FAO
#: Forest Resources Assessment definition used by the EU Deforestation
#: Regulation (EUDR, Art. 2(4)); pass ``threshold=30`` for the common Global
#: Forest Watch default.
DEFAULT_FOREST_THRESHOLD_PCT: float = 10.0

#: Encoding of the Hansen et al. Global Forest Change ``lossyear`` layer
#: (v1.0 … v1.11): ``0`` is no loss; a value ``k`` in ``1 … N`` is loss in year
#: ``base_year + k``. ``N`` grows with each release and is read from the data.
HANSEN_LOSSYEAR: dict[str, int] = {"no_loss": 0, "base_year": 2000}

#: Default EUDR cutoff date: forest loss after it makes a commodity non-compliant.
EUDR_CUTOFF = _dt.date(2020, 12, 31)


def _check_threshold(threshold: float) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise TypeError(f"threshold must be a number of percent, got {threshold!r}") from None
    if not 0.0 <= t <= 100.0:
        raise ValueError(
            f"threshold is a canopy-cover percentage and must be within 0-100, got {threshold!r} "
            f"(the FAO/EUDR forest definition is {DEFAULT_FOREST_THRESHOLD_PCT:g})"
        )
    return t


def _as_int_classes(values: np.ndarray, name: str) -> np.ndarray:
    """Class codes as int64; float rasters must hold whole numbers."""
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    frac = values != np.round(values)
    if np.any(frac):
        raise RasterError(
            f"raster {name!r} is categorical here but has non-integer values "
            f"(e.g. {values[frac][:3].tolist()}); classify it first, e.g. "
            "`np.round(arr)` or `gdal_calc.py --calc='round(A)' --type=Int16`"
        )
    return values.astype(np.int64)


def _base_columns(
    index: pd.Index, area_m2: np.ndarray, valid_m2: np.ndarray
) -> dict[str, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip(valid_m2 / area_m2, 0.0, 1.0)
    share[area_m2 == 0] = 0.0
    return {
        "area_ha": area_m2 / 1e4,
        "valid_share": share,
        "nodata_ha": _nodata_m2(area_m2, valid_m2) / 1e4,
    }


# ---------------------------------------------------------------------------
# per-batch sums (picklable, so that worker processes can run them)
# ---------------------------------------------------------------------------


def _sum(f: np.ndarray, a: np.ndarray, nb: int) -> np.ndarray:
    return np.bincount(f, weights=a, minlength=nb)


@dataclass(frozen=True)
class _CoverSums:
    """valid m², forest m² and Σ cover × m² (continuous rasters) of raster ``name``."""

    name: str
    threshold: float
    forest_values: tuple[int, ...] | None = None

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        ok = p.valid[self.name]
        f, a, v = p.feature[ok], p.area_m2[ok], p.values[self.name][ok]
        out: dict[Hashable, np.ndarray] = {"valid": _sum(f, a, nb)}
        if self.forest_values is not None:
            is_forest = np.isin(_as_int_classes(v, "raster"), self.forest_values)
        else:
            vf = v.astype(float)
            is_forest = vf >= self.threshold
            out["vsum"] = _sum(f, vf * a, nb)
        out["forest"] = _sum(f[is_forest], a[is_forest], nb)
        return out


def _sums_by_code(
    f: np.ndarray, a: np.ndarray, code: np.ndarray, nb: int
) -> dict[Hashable, np.ndarray]:
    """m² per part and code, one bincount (pieces are added in order, as one bincount per code)."""
    codes, inv = np.unique(code, return_inverse=True)
    if codes.size == 0:
        return {}
    m = np.bincount(f * codes.size + inv, weights=a, minlength=nb * codes.size)
    m = m.reshape(nb, codes.size)
    return {int(c): m[:, k] for k, c in enumerate(codes)}


@dataclass(frozen=True)
class _ClassSums:
    """valid m² and m² per class code of raster ``name``."""

    name: str

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        ok = p.valid[self.name]
        f, a = p.feature[ok], p.area_m2[ok]
        cls = _as_int_classes(p.values[self.name][ok], "raster")
        out: dict[Hashable, np.ndarray] = {"valid": _sum(f, a, nb)}
        out.update({("class", c): v for c, v in _sums_by_code(f, a, cls, nb).items()})
        return out


@dataclass(frozen=True)
class _LossSums:
    """valid m² and lost forest m² per loss code; with ``cover``, forest pixels only."""

    loss: str
    cover: str | None
    threshold: float

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        ok = p.valid[self.loss].copy()
        if self.cover is not None:
            ok &= p.valid[self.cover]
        f, a = p.feature[ok], p.area_m2[ok]
        code = _as_int_classes(p.values[self.loss][ok], "lossyear")
        if code.size and code.min() < 0:
            raise RasterError(
                f"lossyear has negative codes ({int(code.min())}); expected 0 (no loss) and "
                "k > 0 for year base_year + k. Is it a loss-year raster?"
            )
        out: dict[Hashable, np.ndarray] = {"valid": _sum(f, a, nb)}
        lost = code != HANSEN_LOSSYEAR["no_loss"]
        if self.cover is not None:
            lost &= p.values[self.cover][ok].astype(float) >= self.threshold
        by_code = _sums_by_code(f[lost], a[lost], code[lost], nb)
        out.update({("loss", c): v for c, v in by_code.items()})
        return out


@dataclass(frozen=True)
class _BothSums:
    """Cover sums (keys ``("cover", k)``) and loss sums (``("loss", k)``) of the same pieces."""

    cover: _CoverSums
    loss: _LossSums

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        out: dict[Hashable, np.ndarray] = {("cover", k): v for k, v in self.cover(p, nb).items()}
        out.update({("loss", k): v for k, v in self.loss(p, nb).items()})
        return out


def _forest_columns(
    sums: dict[Hashable, np.ndarray], n: int, categorical: bool
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Return valid m² and the forest columns of forest_cover from _CoverSums' sums."""
    zeros = np.zeros(n)
    valid, forest = sums.get("valid", zeros), sums.get("forest", zeros)
    cols: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        if not categorical:
            cols["mean_cover_pct"] = np.where(valid > 0, sums.get("vsum", zeros) / valid, np.nan)
        cols["forest_ha"] = forest / 1e4
        cols["forest_share"] = np.where(valid > 0, forest / valid, np.nan)
    return valid, cols


def _loss_columns(
    sums: dict[Hashable, np.ndarray], n: int, base_year: int, cut: _dt.date
) -> dict[str, Any]:
    """Return the loss columns of forest_loss from _LossSums' sums."""
    per_code = {k[1]: v for k, v in sums.items() if isinstance(k, tuple) and k[0] == "loss"}
    cols: dict[str, Any] = {}
    years = {base_year + c: per_code[c] for c in sorted(per_code)}
    zeros = np.zeros(n)
    cols["loss_ha"] = sum(years.values(), zeros) / 1e4
    cols["loss_after_cutoff_ha"] = sum((v for y, v in years.items() if y > cut.year), zeros) / 1e4
    cols["loss_in_cutoff_year_ha"] = years.get(cut.year, zeros) / 1e4
    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    for y, v in years.items():  # years ascending
        has = v > 0
        first[has & (first < 0)] = y
        last[has] = y
    cols["first_loss_year"] = pd.array(first, dtype="Int64")
    cols["last_loss_year"] = pd.array(last, dtype="Int64")
    cols["first_loss_year"][first < 0] = pd.NA
    cols["last_loss_year"][last < 0] = pd.NA
    for y, v in years.items():
        cols[f"loss_ha_{y}"] = v / 1e4
    return cols


def _nan_where_empty(out: pd.DataFrame, empty: np.ndarray) -> pd.DataFrame:
    if empty.any():
        num = [c for c in out.columns if c not in ("first_loss_year", "last_loss_year")]
        out.loc[empty, num] = np.nan
    return out


def forest_cover(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    raster: RasterLike,
    *,
    threshold: float = DEFAULT_FOREST_THRESHOLD_PCT,
    forest_values: Sequence[int] | None = None,
    band: int = 1,
    method: Method = "exact",
    progress: bool | None = None,
    n_jobs: int = 1,
    invalid: InvalidPolicy = "warn",
) -> pd.DataFrame:
    """Forest area, share and mean canopy cover of each polygon.

    Two kinds of raster:

    * continuous tree-cover percent (Hansen ``treecover2000``, 0–100): a pixel
      is forest when its cover is ≥ ``threshold``; ``mean_cover_pct`` is the
      coverage- and area-weighted mean cover;
    * categorical (land-cover classes, 0/1 forest masks such as JRC GFC2020):
      pass ``forest_values``, the class codes that are forest; no
      ``mean_cover_pct`` column then. Float rasters must hold whole numbers.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
        Polygons in any CRS (transformed to the raster's).
    raster : path or rasterio dataset
    threshold : float, default 10
        Canopy cover percent (0–100) from which a pixel is forest; see
        :data:`DEFAULT_FOREST_THRESHOLD_PCT`. Ignored with ``forest_values``.
    forest_values : sequence of int, optional
        Class codes that are forest (categorical rasters).
    band : int, default 1
    method : {"exact", "centroid"}
        ``"exact"`` counts partial pixels by their covered fraction;
        ``"centroid"`` (pixel centre inside) only for comparison with other tools.
    progress : bool, optional
        Progress bar (default: from 20,000 polygons on).
    n_jobs : int, default 1
        Worker processes that extract groups of raster windows in parallel
        (``-1``: all cores). Results are identical to ``n_jobs=1``. Pays off
        from ~10,000 polygons; each worker opens the rasters from their paths
        (open in-memory datasets fall back to one process, with a warning) and
        costs ~200 MB. Scripts using it on macOS/Windows need an
        ``if __name__ == "__main__":`` guard.
    invalid : {"warn", "nan", "raise"}, default "warn"
        Invalid polygons (bow-tie, overlapping parts, hole outside its shell):
        measured as stored with a :class:`~agroforest_geo.errors.GeometryWarning`
        naming the rows, NaN, or :class:`~agroforest_geo.errors.InvalidGeometryError`.
        Rows with a NaN or infinite vertex are always NaN (with a warning). Point
        plots are measured as geodesic circles of their declared area (4 ha by
        default) and flagged in a ``point_buffer_ha`` column.

    Returns
    -------
    pandas.DataFrame
        On the polygons' index: ``area_ha`` (ellipsoidal), ``valid_share``
        (0–1, share of the polygon with data), ``nodata_ha``, ``mean_cover_pct``
        (continuous rasters only), ``forest_ha`` and ``forest_share`` (0–1, of
        the part with data). Empty geometries give NaN.

    Raises
    ------
    RasterError
        No CRS/transform, missing band, non-integer classes.
    ValueError
        ``threshold`` outside 0–100, unknown ``method``.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> fc = agf.forest_cover(parcels, agf.datasets.get_path("treecover"), threshold=30)
    >>> list(fc.columns)
    ['area_ha', 'valid_share', 'nodata_ha', 'mean_cover_pct', 'forest_ha', 'forest_share']
    >>> len(fc) == len(parcels) and bool((fc["forest_ha"] <= fc["area_ha"] * (1 + 1e-6)).all())
    True
    """
    _validate_method(method)
    categorical = forest_values is not None
    t = _check_threshold(threshold)
    fv = None
    if categorical:
        fv = tuple(int(c) for c in np.unique(np.asarray(list(forest_values or []), np.int64)))
    n = len(polygons)
    with ExitStack() as stack:
        srcs, bands, grid = _open_all({"raster": raster}, {"raster": band}, stack)
        prepared = _prepare(polygons, grid, invalid=invalid)
        plan = _plan(prepared, grid, None, len(srcs))
        reducer = _CoverSums("raster", t, fv)
        sums = _reduce(plan, srcs, bands, method, reducer, progress, n_jobs)
    valid, forest_cols = _forest_columns(sums, n, categorical)
    _warn_no_data(valid, prepared, "raster")
    cols = _base_columns(polygons.index, prepared.area_m2, valid)
    cols.update(forest_cols)
    out = pd.DataFrame(cols, index=polygons.index)
    out.loc[prepared.empty, :] = np.nan
    return with_point_buffer(out, prepared)


def class_shares(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    raster: RasterLike,
    *,
    band: int = 1,
    method: Method = "exact",
    progress: bool | None = None,
    n_jobs: int = 1,
    invalid: InvalidPolicy = "warn",
) -> pd.DataFrame:
    """Share of every class of a categorical raster in each polygon (wide table).

    Shares are of the part of the polygon with data; they sum to 1 for each
    polygon with data. Float rasters must hold whole numbers (class codes).

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
    raster : path or rasterio dataset
    band : int, default 1
    method : {"exact", "centroid"}
    progress : bool, optional
    n_jobs : int, default 1
        Worker processes (``-1``: all cores); see :func:`forest_cover`.
    invalid : {"warn", "nan", "raise"}, default "warn"
        Invalid polygons (bow-tie, overlapping parts, hole outside its shell):
        measured as stored with a :class:`~agroforest_geo.errors.GeometryWarning`
        naming the rows, NaN, or :class:`~agroforest_geo.errors.InvalidGeometryError`.
        Rows with a NaN or infinite vertex are always NaN (with a warning). Point
        plots are measured as geodesic circles of their declared area (4 ha by
        default) and flagged in a ``point_buffer_ha`` column.

    Returns
    -------
    pandas.DataFrame
        On the polygons' index: ``area_ha``, ``valid_share``, ``nodata_ha`` and
        one ``share_<class>`` column (0–1) per class present, sorted by class.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> cs = agf.class_shares(parcels.head(5), agf.datasets.get_path("lossyear"))
    >>> "share_0" in cs.columns
    True
    """
    _validate_method(method)
    n = len(polygons)
    with ExitStack() as stack:
        srcs, bands, grid = _open_all({"raster": raster}, {"raster": band}, stack)
        prepared = _prepare(polygons, grid, invalid=invalid)
        plan = _plan(prepared, grid, None, len(srcs))
        sums = _reduce(plan, srcs, bands, method, _ClassSums("raster"), progress, n_jobs)
    valid = sums.get("valid", np.zeros(n))
    _warn_no_data(valid, prepared, "raster")
    cols: dict[str, Any] = _base_columns(polygons.index, prepared.area_m2, valid)
    classes = sorted(k[1] for k in sums if isinstance(k, tuple))
    with np.errstate(invalid="ignore", divide="ignore"):
        for c in classes:
            cols[f"share_{c}"] = np.where(valid > 0, sums[("class", c)] / valid, np.nan)
    out = pd.DataFrame(cols, index=polygons.index)
    out.loc[prepared.empty, :] = np.nan
    return with_point_buffer(out, prepared)


def _cutoff_date(cutoff: str | _dt.date | int) -> _dt.date:
    if isinstance(cutoff, bool):
        raise TypeError(f"cutoff must be a date, an ISO date string or a year, got {cutoff!r}")
    if isinstance(cutoff, (int, np.integer)):
        return _dt.date(int(cutoff), 12, 31)
    if isinstance(cutoff, _dt.datetime):
        return cutoff.date()
    if isinstance(cutoff, _dt.date):
        return cutoff
    if isinstance(cutoff, str):
        try:
            return _dt.date.fromisoformat(cutoff.strip())
        except ValueError:
            raise ValueError(
                f"cutoff {cutoff!r} is not an ISO date; use e.g. '2020-12-31' or a year, 2020"
            ) from None
    raise TypeError(f"cutoff must be a date, an ISO date string or a year, got {cutoff!r}")


def forest_loss(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    lossyear: RasterLike,
    *,
    cover: RasterLike | None = None,
    threshold: float = DEFAULT_FOREST_THRESHOLD_PCT,
    cutoff: str | _dt.date | int = "2020-12-31",
    base_year: int = HANSEN_LOSSYEAR["base_year"],
    band: int = 1,
    cover_band: int = 1,
    method: Method = "exact",
    progress: bool | None = None,
    n_jobs: int = 1,
    invalid: InvalidPolicy = "warn",
) -> pd.DataFrame:
    """Forest loss per polygon and year from a loss-year raster (Hansen encoding).

    Value ``0`` is no loss, ``k > 0`` loss in year ``base_year + k``
    (:data:`HANSEN_LOSSYEAR`); the last year is read from the data. With
    ``cover`` (a tree-cover percent raster on the same grid, e.g. Hansen
    ``treecover2000``), only loss on pixels with cover ≥ ``threshold`` counts;
    both rasters are read in one pass, and a pixel is valid only where both
    have data.

    Cutoff rule: Hansen years are whole years, so loss in year ``Y`` is *after*
    the cutoff date ``D`` when ``Y > D.year``. Loss in ``D.year`` itself is
    reported in ``loss_in_cutoff_year_ha``: with a 31 December cutoff (the
    default, 2020-12-31 of the EUDR; an int year means 31 December of it) it
    all happened on or before the cutoff; with any other cutoff date it is
    ambiguous (before or after) and is *not* included in
    ``loss_after_cutoff_ha`` — look at it separately.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
    lossyear : path or rasterio dataset
        Loss-year raster, integer codes.
    cover : path or rasterio dataset, optional
        Tree-cover percent raster on the same grid.
    threshold : float, default 10
        Canopy cover percent (0–100) of a forest pixel; used with ``cover``.
    cutoff : str, datetime.date or int, default "2020-12-31"
    base_year : int, default 2000
        Year encoded by 0; loss code ``k`` is year ``base_year + k``.
    band, cover_band : int, default 1
    method : {"exact", "centroid"}
    progress : bool, optional
    n_jobs : int, default 1
        Worker processes (``-1``: all cores); see :func:`forest_cover`.
    invalid : {"warn", "nan", "raise"}, default "warn"
        Invalid polygons (bow-tie, overlapping parts, hole outside its shell):
        measured as stored with a :class:`~agroforest_geo.errors.GeometryWarning`
        naming the rows, NaN, or :class:`~agroforest_geo.errors.InvalidGeometryError`.
        Rows with a NaN or infinite vertex are always NaN (with a warning). Point
        plots are measured as geodesic circles of their declared area (4 ha by
        default) and flagged in a ``point_buffer_ha`` column.

    Returns
    -------
    pandas.DataFrame
        On the polygons' index: ``area_ha``, ``valid_share``, ``nodata_ha``,
        ``loss_ha``, ``loss_after_cutoff_ha``, ``loss_in_cutoff_year_ha``,
        ``first_loss_year``, ``last_loss_year`` (nullable Int64, NA without
        loss) and ``loss_ha_<year>`` for every year with loss in any polygon.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> fl = agf.forest_loss(parcels, agf.datasets.get_path("lossyear"),
    ...                      cover=agf.datasets.get_path("treecover"), threshold=30)
    >>> bool((fl["loss_after_cutoff_ha"] <= fl["loss_ha"] + 1e-12).all())
    True
    >>> str(fl["first_loss_year"].dtype)
    'Int64'
    >>> int(fl.filter(like="loss_ha_").sum(axis=1).sub(fl["loss_ha"]).abs().max() < 1e-9)
    1
    """
    _validate_method(method)
    t = _check_threshold(threshold)
    cut = _cutoff_date(cutoff)
    n = len(polygons)
    rasters: dict[str, RasterLike] = {"loss": lossyear}
    bands = {"loss": band}
    if cover is not None:
        rasters["cover"] = cover
        bands["cover"] = cover_band
    with ExitStack() as stack:
        srcs, bands_d, grid = _open_all(rasters, bands, stack)
        prepared = _prepare(polygons, grid, invalid=invalid)
        plan = _plan(prepared, grid, None, len(srcs))
        reducer = _LossSums("loss", None if cover is None else "cover", t)
        sums = _reduce(plan, srcs, bands_d, method, reducer, progress, n_jobs)
    valid = sums.get("valid", np.zeros(n))
    _warn_no_data(valid, prepared, "loss-year")
    cols: dict[str, Any] = _base_columns(polygons.index, prepared.area_m2, valid)
    cols.update(_loss_columns(sums, n, base_year, cut))
    out = _nan_where_empty(pd.DataFrame(cols, index=polygons.index), prepared.empty)
    return with_point_buffer(out, prepared)


def forest_cover_and_loss(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    cover: RasterLike,
    lossyear: RasterLike,
    *,
    threshold: float = DEFAULT_FOREST_THRESHOLD_PCT,
    cutoff: str | _dt.date | int = "2020-12-31",
    base_year: int = HANSEN_LOSSYEAR["base_year"],
    cover_band: int = 1,
    loss_band: int = 1,
    method: Method = "exact",
    progress: bool | None = None,
    n_jobs: int = 1,
    invalid: InvalidPolicy = "warn",
) -> pd.DataFrame:
    """Forest cover and forest loss of each polygon in one pass over both rasters.

    The same numbers as :func:`forest_cover` on ``cover`` followed by
    :func:`forest_loss` on ``lossyear`` with ``cover=cover``, in about half the
    time: every window of both rasters is read, and the coverage of every
    polygon computed, once.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
        Polygons in any CRS (transformed to the rasters').
    cover : path or rasterio dataset
        Tree-cover percent raster (e.g. Hansen ``treecover2000``, 0–100).
    lossyear : path or rasterio dataset
        Loss-year raster on the same grid, Hansen encoding (see :func:`forest_loss`).
    threshold : float, default 10
        Canopy cover percent (0–100) from which a pixel is forest, for the
        forest columns and for the loss that counts.
    cutoff : str, datetime.date or int, default "2020-12-31"
        See :func:`forest_loss` for the cutoff-year rule.
    base_year : int, default 2000
    cover_band, loss_band : int, default 1
    method : {"exact", "centroid"}
    progress : bool, optional
    n_jobs : int, default 1
        Worker processes (``-1``: all cores); see :func:`forest_cover`.
    invalid : {"warn", "nan", "raise"}, default "warn"
        Invalid polygons (bow-tie, overlapping parts, hole outside its shell):
        measured as stored with a :class:`~agroforest_geo.errors.GeometryWarning`
        naming the rows, NaN, or :class:`~agroforest_geo.errors.InvalidGeometryError`.
        Rows with a NaN or infinite vertex are always NaN (with a warning). Point
        plots are measured as geodesic circles of their declared area (4 ha by
        default) and flagged in a ``point_buffer_ha`` column.

    Returns
    -------
    pandas.DataFrame
        On the polygons' index, the columns of :func:`forest_cover` (``area_ha``,
        ``valid_share`` and ``nodata_ha`` of the cover raster,
        ``mean_cover_pct``, ``forest_ha``, ``forest_share``), then
        ``loss_valid_share`` (the ``valid_share`` of :func:`forest_loss`: share
        of the polygon where both rasters have data) and the loss columns of
        :func:`forest_loss` (``loss_ha`` … ``loss_ha_<year>``).

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> from agroforest_geo.cover import forest_cover_and_loss
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> cover = agf.datasets.get_path("treecover")
    >>> loss = agf.datasets.get_path("lossyear")
    >>> both = forest_cover_and_loss(parcels, cover, loss, threshold=30)
    >>> list(both.columns[:8])  # doctest: +NORMALIZE_WHITESPACE
    ['area_ha', 'valid_share', 'nodata_ha', 'mean_cover_pct', 'forest_ha', 'forest_share',
     'loss_valid_share', 'loss_ha']
    >>> fl = agf.forest_loss(parcels, loss, cover=cover, threshold=30)
    >>> bool((both["loss_ha"] == fl["loss_ha"]).all())
    True
    """
    _validate_method(method)
    t = _check_threshold(threshold)
    cut = _cutoff_date(cutoff)
    n = len(polygons)
    with ExitStack() as stack:
        srcs, bands, grid = _open_all(
            {"cover": cover, "loss": lossyear}, {"cover": cover_band, "loss": loss_band}, stack
        )
        prepared = _prepare(polygons, grid, invalid=invalid)
        plan = _plan(prepared, grid, None, len(srcs))
        reducer = _BothSums(_CoverSums("cover", t), _LossSums("loss", "cover", t))
        sums = _reduce(plan, srcs, bands, method, reducer, progress, n_jobs)
    cover_sums = {k[1]: v for k, v in sums.items() if isinstance(k, tuple) and k[0] == "cover"}
    loss_sums = {k[1]: v for k, v in sums.items() if isinstance(k, tuple) and k[0] == "loss"}
    valid, forest_cols = _forest_columns(cover_sums, n, categorical=False)
    loss_valid = loss_sums.get("valid", np.zeros(n))
    _warn_no_data(valid, prepared, "tree-cover")
    _warn_no_data(loss_valid, prepared, "loss-year")
    cols: dict[str, Any] = _base_columns(polygons.index, prepared.area_m2, valid)
    cols.update(forest_cols)
    cols["loss_valid_share"] = _base_columns(polygons.index, prepared.area_m2, loss_valid)[
        "valid_share"
    ]
    cols.update(_loss_columns(loss_sums, n, base_year, cut))
    out = _nan_where_empty(pd.DataFrame(cols, index=polygons.index), prepared.empty)
    return with_point_buffer(out, prepared)

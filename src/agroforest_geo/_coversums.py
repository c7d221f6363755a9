"""Per-batch sums and result columns of the forest verbs (:mod:`agroforest_geo.cover`).

The reducers are picklable (module-level frozen dataclasses) so that Dask
workers can run them, and pure, so that threads can; each decodes and checks
the values it reads through the :class:`~agroforest_geo._encoding._Encoding`
of its raster.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._cutoff import year_is_after_cutoff
from ._encoding import _Encoding, is_stat
from .pixelpieces import PixelPieces


def _sum(f: np.ndarray, a: np.ndarray, nb: int) -> np.ndarray:
    return np.bincount(f, weights=a, minlength=nb)


def _read(enc: _Encoding, p: PixelPieces) -> tuple[np.ndarray, np.ndarray]:
    """Return the valid mask and the decoded, checked values of ``enc``'s raster in a batch."""
    raw = p.values[enc.name]
    ok = enc.valid(raw, p.valid[enc.name])
    return ok, enc.read(raw[ok])


def _is_forest(enc: _Encoding, v: np.ndarray) -> np.ndarray:
    if enc.categorical:
        return np.isin(v, enc.forest_values)
    assert enc.threshold is not None
    return v >= enc.threshold


@dataclass(frozen=True)
class _CoverSums:
    """valid m², forest m² and Σ value × m² (continuous rasters) of a cover raster."""

    enc: _Encoding

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        ok, v = _read(self.enc, p)
        return self.sums(p, nb, ok, v, _is_forest(self.enc, v))

    def sums(
        self, p: PixelPieces, nb: int, ok: np.ndarray, v: np.ndarray, is_forest: np.ndarray
    ) -> dict[Hashable, np.ndarray]:
        f, a = p.feature[ok], p.area_m2[ok]
        out: dict[Hashable, np.ndarray] = {"valid": _sum(f, a, nb)}
        if not self.enc.categorical:
            out["vsum"] = _sum(f, v * a, nb)
        out["forest"] = _sum(f[is_forest], a[is_forest], nb)
        out.update(self.enc.stats(v, nb))
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
    """valid m² and m² per class code of a class raster."""

    enc: _Encoding

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        ok, cls = _read(self.enc, p)
        f, a = p.feature[ok], p.area_m2[ok]
        out: dict[Hashable, np.ndarray] = {"valid": _sum(f, a, nb)}
        out.update({("class", c): v for c, v in _sums_by_code(f, a, cls, nb).items()})
        return out


@dataclass(frozen=True)
class _LossSums:
    """valid m² and lost forest m² per loss code; with a cover raster, on forest pixels only."""

    loss: _Encoding
    cover: _Encoding | None

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        if self.cover is None:
            return self.sums(p, nb, None, None)
        cok, cv = _read(self.cover, p)
        out = self.sums(p, nb, cok, _is_forest(self.cover, cv))
        out.update(self.cover.stats(cv, nb))
        return out

    def sums(
        self, p: PixelPieces, nb: int, cover_ok: np.ndarray | None, forest: np.ndarray | None
    ) -> dict[Hashable, np.ndarray]:
        raw = p.values[self.loss.name]
        ok = self.loss.valid(raw, p.valid[self.loss.name])
        lost_forest = None
        if cover_ok is not None and forest is not None:
            on_forest = np.zeros(ok.size, dtype=bool)
            on_forest[cover_ok] = forest
            ok &= cover_ok
            lost_forest = on_forest[ok]
        f, a = p.feature[ok], p.area_m2[ok]
        code = self.loss.read(raw[ok])
        out: dict[Hashable, np.ndarray] = {"valid": _sum(f, a, nb)}
        lost = code != self.loss.no_change
        if lost_forest is not None:
            lost &= lost_forest
        by_code = _sums_by_code(f[lost], a[lost], code[lost], nb)
        out.update({("loss", c): v for c, v in by_code.items()})
        return out


@dataclass(frozen=True)
class _BothSums:
    """Cover sums (keys ``("cover", k)``) and loss sums (``("loss", k)``) of the same pieces."""

    cover: _CoverSums
    loss: _LossSums

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        ok, v = _read(self.cover.enc, p)  # decoded and checked once for both sums
        is_forest = _is_forest(self.cover.enc, v)
        cover = self.cover.sums(p, nb, ok, v, is_forest)
        out: dict[Hashable, np.ndarray] = {
            (k if is_stat(k) else ("cover", k)): x for k, x in cover.items()
        }
        loss = self.loss.sums(p, nb, ok, is_forest)
        out.update({("loss", k): x for k, x in loss.items()})
        return out


def _mean_column(enc: _Encoding) -> str | None:
    """Name of the mean-value column of a cover raster (None for classes)."""
    if enc.categorical:
        return None
    return (
        "mean_height_m"
        if enc.product is not None and enc.product.kind == "canopy_height_m"
        else ("mean_cover_pct")
    )


def _forest_columns(
    sums: dict[Hashable, np.ndarray], n: int, mean_col: str | None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Return valid m² and the forest columns of forest_cover from _CoverSums' sums."""
    zeros = np.zeros(n)
    valid, forest = sums.get("valid", zeros), sums.get("forest", zeros)
    cols: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        if mean_col is not None:
            cols[mean_col] = np.where(valid > 0, sums.get("vsum", zeros) / valid, np.nan)
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
    after = (v for y, v in years.items() if year_is_after_cutoff(y, cut))
    cols["loss_after_cutoff_ha"] = sum(after, zeros) / 1e4
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

"""How the raster verbs read values: band, nodata, scale/offset, and the checks on what is read.

Each raster a verb reads gets an :class:`_Encoding` for its *role* (tree cover or
forest mask, loss years, class codes, a density), built once from the open
dataset and the :class:`~agroforest_geo.products.Product` given (or, without
one, from what the verb expects: tree-cover percent 0-100, Hansen-style loss
years). The reducers of :mod:`agroforest_geo.cover` call it on the pixels of
every batch they sum, so the checks cost one min/max/unique of values already
read, never a second read:

* values outside the valid range or codes outside the product's codes raise
  :class:`~agroforest_geo.errors.RasterError` at once, naming the raster, the
  product, the values seen and the likely mix-up (a nodata code without a tag,
  swapped cover and loss rasters);
* scale/offset of the band (or of the product) are applied as
  ``raw × scale + offset`` after nodata masking, as exactextract does, and
  refused for code rasters (classes, years);
* without a product, a cover raster whose values over all polygons are only
  0-1 (a forest mask or a fraction) or look like loss years raises once the
  pass is done (:meth:`_Encoding.check_totals`), from min/max/count statistics
  the reducers carry as ``("stat", name, ...)`` keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from rasterio.io import DatasetReader

from .errors import RasterError
from .products import Product, _list, _resolve

Role = Literal["cover", "loss", "classes", "density"]

#: Forest from this canopy cover (percent) when neither threshold nor product says otherwise.
DEFAULT_THRESHOLD_PCT = 10.0

_COVER_KINDS = ("cover_percent", "canopy_height_m", "forest_mask", "categorical")
_CLASS_KINDS = ("forest_mask", "categorical", "loss_year")
#: Pixels read before a cover raster may be called loss-year-like (a few low-cover
#: pixels of one pasture parcel are not evidence of a swapped raster).
_MIN_PIXELS_LOSS_LIKE = 100
_NODATA_LIKE = (-32768, -9999, -3.4028234663852886e38, 254, 255, 32767, 65535)


def _stat(name: str, what: str) -> tuple[str, str, str]:
    return ("stat", name, what)


def is_stat(key: Hashable) -> bool:
    """Tell whether a reducer key is a check statistic (combined by min/max/sum)."""
    return isinstance(key, tuple) and len(key) == 3 and key[0] == "stat"


def _src_label(src: DatasetReader, band: int) -> str:
    desc = (src.descriptions or (None,) * src.count)[band - 1]
    return f"{src.name} band {band}" + (f" ({desc!r})" if desc else "")


@dataclass(frozen=True)
class _Encoding:
    """How to read and check the values of one raster (picklable: Dask workers use it)."""

    name: str
    role: Role
    label: str
    product: Product | None
    scale: float = 1.0
    offset: float = 0.0
    extra_nodata: float | None = None
    categorical: bool = False
    forest_values: tuple[int, ...] = ()
    threshold: float | None = None
    valid_range: tuple[float, float] | None = None
    codes: tuple[int, ...] | None = None
    base_year: int = 2000
    no_change: int = 0
    unit: str = "%"
    integer_values: bool = False

    # -- per batch ------------------------------------------------------------------

    def valid(self, values: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Return the valid mask with the product's own nodata code removed too."""
        if self.extra_nodata is None:
            return valid
        return valid & (values != self.extra_nodata)

    def read(self, raw: np.ndarray) -> np.ndarray:
        """Check the valid raw values of a batch and return them decoded.

        Codes (classes, loss years) come back as int64, continuous values as
        ``raw × scale + offset`` (float64).
        """
        if self.categorical or self.role in ("loss", "classes"):
            codes = _as_int_codes(raw, self.label)
            if self.codes is not None and codes.size and not self._codes_ok(codes):
                bad = np.setdiff1d(np.unique(codes), self.codes)
                raise RasterError(self._bad_codes(bad, codes))
            return codes
        phys = raw.astype(float)
        if self.scale != 1.0 or self.offset != 0.0:
            phys = phys * self.scale + self.offset
        if self.valid_range is not None and phys.size:
            lo, hi = self.valid_range
            if phys.min() < lo or phys.max() > hi:
                out = (phys < lo) | (phys > hi)
                raise RasterError(self._out_of_range(np.unique(phys[out]), phys))
        return phys

    def _codes_ok(self, codes: np.ndarray) -> bool:
        """Whether every code is valid (min/max only when the valid codes are a range)."""
        assert self.codes is not None
        lo, hi = int(codes.min()), int(codes.max())
        if lo < self.codes[0] or hi > self.codes[-1]:
            return False
        if len(self.codes) == self.codes[-1] - self.codes[0] + 1:
            return True
        return bool(np.isin(codes, self.codes).all())

    def stats(self, values: np.ndarray, nb: int) -> dict[Hashable, np.ndarray]:
        """Per-batch statistics for :meth:`check_totals` (stored at the batch's first part)."""
        if not self._heuristics or nb == 0:
            return {}

        def at0(x: float, fill: float) -> np.ndarray:
            out = np.full(nb, fill)
            out[0] = x
            return out

        n = float(values.size)
        return {
            _stat(self.name, "max"): at0(float(values.max()) if n else -np.inf, -np.inf),
            _stat(self.name, "min"): at0(float(values.min()) if n else np.inf, np.inf),
            _stat(self.name, "n"): at0(n, 0.0),
            _stat(self.name, "n0"): at0(float(np.count_nonzero(values == 0)), 0.0),
        }

    # -- after the pass -----------------------------------------------------------------

    @property
    def _heuristics(self) -> bool:
        return self.role == "cover" and self.product is None and not self.categorical

    def check_totals(self, sums: Mapping[Hashable, np.ndarray]) -> None:
        """Raise on a cover raster that, over all polygons, looks like a mask or loss years."""
        if not self._heuristics or _stat(self.name, "n") not in sums:
            return
        n = float(sums[_stat(self.name, "n")].sum())
        if n == 0:
            return
        vmax = float(sums[_stat(self.name, "max")].max())
        vmin = float(sums[_stat(self.name, "min")].min())
        zero_share = float(sums[_stat(self.name, "n0")].sum()) / n
        integral = self.integer_values
        seen = f"{vmin:g}-{vmax:g}"
        if 0 < vmax <= 1 and vmin >= 0:
            raise RasterError(
                f"{self.label}: values {seen} look like a 0/1 forest mask (or a 0-1 fraction), "
                f"not tree-cover percent: at a threshold of {self.threshold:g} % no pixel would be "
                "forest. For a forest mask pass product='jrc_gfc2020' (or your own forest_mask "
                "Product), or forest_values=[1] to forest_cover; for a 0-1 fraction describe it "
                "with a Product(kind='cover_percent', scale=100)."
            )
        loss_like_max = dt.date.today().year - 2000
        if (
            integral
            and n >= _MIN_PIXELS_LOSS_LIKE
            and 1 < vmax <= loss_like_max
            and vmin >= 0
            and zero_share >= 0.5
        ):
            raise RasterError(
                f"{self.label}: values {seen} ({zero_share:.0%} zeros) look like a loss-year "
                "raster (0 no loss, k = year 2000 + k), not tree-cover percent: did you swap "
                "cover and loss? If this really is percent cover, say so with "
                "product='hansen_treecover2000' (or your own cover_percent Product)."
            )

    # -- messages -------------------------------------------------------------------------

    def _bad_codes(self, bad: np.ndarray, codes: np.ndarray) -> str:
        seen = f"values seen {int(codes.min())}-{int(codes.max())}"
        head = f"{self.label}: {_list(bad)} {'is' if bad.size == 1 else 'are'} not "
        if self.role != "loss":
            return (
                head + f"among the classes of product {self.product.name!r} "  # type: ignore[union-attr]
                f"({self.product.describe_values()}) ({seen}). If a value means 'no data', set "  # type: ignore[union-attr]
                "the raster's nodata value (e.g. `rio edit-info --nodata 255 FILE`)."
            )
        years = sorted({self.base_year + int(b) for b in bad if b > 0})
        msg = head + f"a loss year of {self._loss_versions()} ({seen})."
        if years:
            msg += f" As loss years they would be {_list(np.array(years))}."
        hints = []
        if any(int(b) in _NODATA_LIKE or int(b) >= 200 for b in bad):
            hints.append(
                "a code like 255 usually means 'no data': set the nodata value "
                "(e.g. `rio edit-info --nodata 255 FILE`)"
            )
        if int(codes.max()) <= 100 and np.setdiff1d(codes, self.codes or ()).size > 1:
            hints.append(
                f"values up to {int(codes.max())} look like tree-cover percent: did you swap "
                "cover and loss?"
            )
        if not hints:
            hints.append("is it another product or version? pass product= the one it is")
        text = "; ".join(hints).rstrip("?")
        end = "?" if hints[-1].endswith("?") else "."
        return f"{msg} {text[0].upper()}{text[1:]}{end}"

    def _loss_versions(self) -> str:
        if self.product is not None:
            p = self.product
            return f"product {p.name!r} {p.version} ({p.describe_values()})".replace("  ", " ")
        last = self.base_year + max(self.codes or (0,))
        return (
            f"a Hansen-style loss-year raster (0 no loss, k = {self.base_year} + k, at most this "
            f"year, {last}; no product given)"
        )

    def _out_of_range(self, bad: np.ndarray, phys: np.ndarray) -> str:
        lo, hi = self.valid_range  # type: ignore[misc]
        unit = f" {self.unit}" if self.unit else ""
        what = f"product {self.product.name!r}" if self.product else f"{self.role} raster"
        msg = (
            f"{self.label}: values {_list(bad)}{unit} are outside {lo:g}-{hi:g}{unit}, the valid "
            f"range of the {what} (values seen {phys.min():g}-{phys.max():g})."
        )
        if any(float(b) in _NODATA_LIKE for b in bad) or bad.min() < 0:
            msg += (
                f" {_list(bad[:1])} looks like a nodata code: set the raster's nodata value "
                "(e.g. `rio edit-info --nodata 255 FILE`)."
            )
        elif self.role == "cover" and self.unit == "%":
            msg += (
                f" A tree cover of {bad.max():g} % is not a percent: is it another product "
                "(canopy height, biomass, a class map)? Pass product= the one it is."
            )
        return msg


def _as_int_codes(values: np.ndarray, label: str) -> np.ndarray:
    """Class codes as int64; float rasters must hold whole numbers."""
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    frac = values != np.round(values)
    if np.any(frac):
        raise RasterError(
            f"{label} is read as codes (classes or years) here but has non-integer values "
            f"(e.g. {values[frac][:3].tolist()}); classify it first, e.g. "
            "`np.round(arr)` or `gdal_calc.py --calc='round(A)' --type=Int16`"
        )
    return values.astype(np.int64)


# ---------------------------------------------------------------------------
# building the encoding of a raster
# ---------------------------------------------------------------------------


def _scale_offset(src: DatasetReader, band: int, p: Product | None, codes: bool, label: str):
    tag_s = float((src.scales or (1.0,) * src.count)[band - 1] or 1.0)
    tag_o = float((src.offsets or (0.0,) * src.count)[band - 1] or 0.0)
    scale = p.scale if p is not None and p.scale is not None else tag_s
    offset = p.offset if p is not None and p.offset is not None else tag_o
    if p is not None and (
        (p.scale is not None and tag_s not in (1.0, p.scale))
        or (p.offset is not None and tag_o not in (0.0, p.offset))
    ):
        raise RasterError(
            f"{label} has scale {tag_s:g} / offset {tag_o:g} in its metadata but product "
            f"{p.name!r} says {p.scale} / {p.offset}; fix one of them"
        )
    if codes and (scale, offset) != (1.0, 0.0):
        raise RasterError(
            f"{label} has scale {scale:g} / offset {offset:g}, but it is read as codes (classes "
            "or loss years), which a scale would turn into other codes; remove the tags "
            "(`gdal_edit.py -scale 1 -offset 0 FILE`) or pass a product of a continuous kind"
        )
    return float(scale), float(offset)


def _label(role: str, src: DatasetReader, band: int, p: Product | None) -> str:
    what = {"cover": "tree-cover raster", "loss": "loss-year raster", "classes": "class raster"}
    head = f"the {what.get(role, 'raster')} {_src_label(src, band)}"
    return head + (f" (product {p.name!r})" if p is not None else "")


def cover_encoding(
    name: str,
    src: DatasetReader,
    band: int,
    product: Product | str | None,
    *,
    threshold: float | None,
    forest_values: Any = None,
) -> _Encoding:
    """Return the encoding of a raster read as forest: percent cover, canopy height or classes."""
    p = _resolve(product)
    label = _label("cover", src, band, p)
    if p is not None and p.kind not in _COVER_KINDS:
        raise RasterError(
            f"{label} is a {p.kind} product, not a forest cover; forest cover needs one of "
            f"{list(_COVER_KINDS)} (did you mean it for another argument?)"
        )
    fv = None if forest_values is None else _forest_codes(forest_values)
    if fv is not None or (p is not None and p.is_categorical):
        if p is not None and not p.is_categorical:
            raise ValueError(f"forest_values are for class rasters; product {p.name!r} is {p.kind}")
        fv = fv if fv is not None else p.forest_values if p is not None else ()
        if not fv:
            raise ValueError(f"product {p.name!r} has no forest_values; pass forest_values=")  # type: ignore[union-attr]
        codes = p.valid_codes() if p is not None else None
        _scale_offset(src, band, p, True, label)
        return _Encoding(
            name, "cover", label, p, extra_nodata=p.nodata if p else None, categorical=True,
            forest_values=fv, codes=None if codes is None else tuple(int(c) for c in codes),
            unit="",
        )  # fmt: skip
    height = p is not None and p.kind == "canopy_height_m"
    t = _threshold(threshold, p, height)
    scale, offset = _scale_offset(src, band, p, False, label)
    default_range = (0.0, 100.0) if not height else None
    integer = np.issubdtype(np.dtype(src.dtypes[band - 1]), np.integer) and (scale, offset) == (
        1.0,
        0.0,
    )
    return _Encoding(
        name, "cover", label, p, scale, offset, extra_nodata=p.nodata if p else None,
        threshold=t, valid_range=p.valid_range if p is not None else default_range,
        unit=p.unit if p is not None else "%", integer_values=bool(integer),
    )  # fmt: skip


def _forest_codes(values: Any) -> tuple[int, ...]:
    return tuple(int(c) for c in np.unique(np.asarray(list(values), np.int64)))


def _threshold(threshold: float | None, p: Product | None, height: bool) -> float:
    if threshold is None:
        if p is not None and p.forest_threshold is not None:
            return float(p.forest_threshold)
        return 5.0 if height else DEFAULT_THRESHOLD_PCT
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise TypeError(f"threshold must be a number, got {threshold!r}") from None
    if height:
        if not t >= 0:
            raise ValueError(f"threshold is a canopy height in metres (>= 0), got {threshold!r}")
    elif not 0.0 <= t <= 100.0:
        raise ValueError(
            f"threshold is a canopy-cover percentage and must be within 0-100, got {threshold!r} "
            f"(the FAO/EUDR forest definition is {DEFAULT_THRESHOLD_PCT:g})"
        )
    return t


def loss_encoding(
    name: str,
    src: DatasetReader,
    band: int,
    product: Product | str | None,
    *,
    base_year: int | None,
) -> _Encoding:
    """Return the encoding of a loss-year raster: the product's years, or Hansen-style."""
    p = _resolve(product)
    label = _label("loss", src, band, p)
    if p is not None and p.kind != "loss_year":
        raise RasterError(f"{label} is a {p.kind} product, not a loss_year one")
    _scale_offset(src, band, p, True, label)
    if p is not None:
        assert p.base_year is not None and p.no_change_value is not None
        if base_year is not None and base_year != p.base_year:
            raise ValueError(
                f"base_year={base_year} contradicts product {p.name!r} (base_year {p.base_year})"
            )
        codes = p.valid_codes()
        assert codes is not None
        return _Encoding(
            name, "loss", label, p, extra_nodata=p.nodata, base_year=p.base_year,
            codes=tuple(int(c) for c in codes), no_change=p.no_change_value, unit="",
        )  # fmt: skip
    by = 2000 if base_year is None else int(base_year)
    last = dt.date.today().year - by
    if last < 1:
        raise ValueError(f"base_year {by} is not before this year")
    return _Encoding(name, "loss", label, None, base_year=by, codes=tuple(range(last + 1)), unit="")


def class_encoding(
    name: str, src: DatasetReader, band: int, product: Product | str | None
) -> _Encoding:
    """Return the encoding of a raster read as class codes (class_shares)."""
    p = _resolve(product)
    label = _label("classes", src, band, p)
    if p is not None and p.kind not in _CLASS_KINDS:
        raise RasterError(
            f"{label} is a {p.kind} product: class shares need codes ({list(_CLASS_KINDS)})"
        )
    _scale_offset(src, band, p, True, label)
    codes = p.valid_codes() if p is not None else None
    return _Encoding(
        name, "classes", label, p, extra_nodata=p.nodata if p else None,
        codes=None if codes is None else tuple(int(c) for c in codes), unit="",
    )  # fmt: skip


def density_encoding(
    name: str, src: DatasetReader, band: int, product: Product | str | None
) -> _Encoding:
    """Return the encoding of a trees-per-hectare raster: non-negative, scale/offset applied."""
    p = _resolve(product)
    label = f"the density raster {_src_label(src, band)}" + (
        f" (product {p.name!r})" if p is not None else ""
    )
    if p is not None and p.kind != "trees_per_ha":
        raise RasterError(f"{label} is a {p.kind} product, not a trees_per_ha one")
    scale, offset = _scale_offset(src, band, p, False, label)
    rng = p.valid_range if p is not None and p.valid_range is not None else (0.0, np.inf)
    return _Encoding(
        name, "density", label, p, scale, offset, extra_nodata=p.nodata if p else None,
        valid_range=rng, unit="trees/ha",
    )  # fmt: skip


def plain_encoding(name: str, src: DatasetReader, band: int) -> _Encoding | None:
    """Return an encoding applying only the band's scale/offset (None: nothing to apply)."""
    scale, offset = _scale_offset(src, band, None, False, f"the raster {_src_label(src, band)}")
    if (scale, offset) == (1.0, 0.0):
        return None
    return _Encoding(name, "density", _src_label(src, band), None, scale, offset, unit="")


def band_of(band: int | str | None, product: Product | str | None) -> int | str | None:
    """Return the band to read: the explicit one, else the product's, else None (the only band)."""
    if band is not None:
        return band
    p = _resolve(product)
    return p.band if p is not None else None

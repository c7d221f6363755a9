"""Raster products as data: what a raster holds, how its values are encoded, where it comes from.

A :class:`Product` says what the pixels of a raster mean: its *kind* (tree-cover
percent, a forest mask, land-cover classes, loss years, disturbance dates,
canopy height, a commodity probability, biomass, a tree density), its value
encoding (valid range, nodata, scale/offset, forest classes, the years of a
loss-year version, a date encoding and confidence codes), the year or date it
describes, the band to read, and its source, version, licence and citation (a
URL to the provider, never a copy of the data).

Every raster verb (:func:`~agroforest_geo.forest_cover`,
:func:`~agroforest_geo.forest_loss`, :func:`~agroforest_geo.forest_cover_and_loss`,
:func:`~agroforest_geo.class_shares`, :func:`~agroforest_geo.tree_density`)
takes ``product=`` (a :class:`Product` or the name of a built-in one) and checks
the values it reads against it; see ``docs/products.md``.

The built-in catalogue is one versioned TOML table shipped with the package
(``products.toml``); :func:`available` lists it and :func:`get` returns one
entry. A national map is a :class:`Product` written in a few lines, or read from
a small TOML/JSON file with :func:`from_file`.

Examples
--------
>>> import agroforest_geo as agf
>>> p = agf.products.get("hansen_lossyear_v1_13")
>>> p.kind, p.first_year, p.last_year
('loss_year', 2001, 2025)
>>> national = agf.products.Product(
...     name="peru_bosque_2020", kind="forest_mask", forest_values=[1],
...     reference_year=2020, source="MINAM/GeoBosques", licence="see provider",
...     url="https://geobosques.minam.gob.pe/")
>>> national.forest_values
(1,)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from .errors import RasterError, UnknownProductError

__all__ = ["DATE_ENCODINGS", "KINDS", "Kind", "Product", "available", "from_file", "get"]

Kind = Literal[
    "cover_percent",
    "forest_mask",
    "categorical",
    "loss_year",
    "disturbance_date",
    "canopy_height_m",
    "commodity_probability",
    "biomass_mg_ha",
    "trees_per_ha",
]
#: The kinds of raster a :class:`Product` can describe.
KINDS: tuple[str, ...] = get_args(Kind)

DateEncoding = Literal["days_since", "yyddd", "gfw_date_conf"]
#: How a ``disturbance_date`` product encodes dates: ``"days_since"`` (days after
#: ``date_base``), ``"yyddd"`` (two-digit year × 1000 + day of year, e.g. 21001 =
#: 1 January 2021) or ``"gfw_date_conf"`` (Global Forest Watch: confidence × 10000 +
#: days after ``date_base``, e.g. 30001 = high confidence, 1 January 2015).
DATE_ENCODINGS: tuple[str, ...] = get_args(DateEncoding)

#: Kinds whose pixels are codes (classes, years, dates): scale/offset are refused.
_CODE_KINDS = ("forest_mask", "categorical", "loss_year", "disturbance_date")


def _pairs(value: Any, what: str) -> tuple[tuple[int, str], ...]:
    """Normalise {code: label} (or pairs; TOML/JSON keys are strings) to sorted int pairs."""
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    try:
        out = sorted((int(k), str(v)) for k, v in items)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must map integer codes to labels, got {value!r}") from None
    return tuple(out)


def _opt_date(value: Any, what: str) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what} must be an ISO date 'YYYY-MM-DD', got {value!r}") from None
    raise TypeError(f"{what} must be a date, got {value!r}")


@dataclass(frozen=True)
class Product:
    """What a raster holds: kind, value encoding, reference date, band and provenance.

    Parameters
    ----------
    name : str
        Short identifier, e.g. ``"hansen_lossyear_v1_13"``.
    kind : str
        One of :data:`KINDS`.
    description : str
        One line on what the values are.
    unit : str
        Unit of the (scaled) values, e.g. ``"%"``, ``"m"``, ``"Mg/ha"``.
    valid_range : (float, float), optional
        Smallest and largest valid value, after scale/offset (continuous kinds).
    nodata : float, optional
        A raw value meaning "no data" even when the file does not tag it (e.g.
        255 of an 8-bit export); the file's own nodata and mask always apply too.
    scale, offset : float, optional
        Physical value = raw × scale + offset, applied after nodata masking (as
        exactextract and GDAL do). ``None``: taken from the raster's metadata.
        Refused for code kinds (masks, classes, years, dates).
    classes : mapping of int to str, optional
        Class codes and their labels (categorical kinds); other codes are invalid.
    forest_values : sequence of int, optional
        Codes that are forest (``forest_mask`` requires them).
    forest_threshold : float, optional
        Value from which a pixel is forest (in ``unit``), for continuous kinds:
        10 % canopy cover, 5 m canopy height.
    no_change_value : int, optional
        Code of "no loss" / "no alert" (default 0 for loss years).
    base_year, first_year, last_year : int, optional
        Loss years: code ``k`` is year ``base_year + k``; the version covers
        ``first_year`` … ``last_year`` (a code outside is an error, not a year).
    date_encoding : str, optional
        One of :data:`DATE_ENCODINGS` (``disturbance_date``).
    date_base : datetime.date, optional
        Day 0 of ``"days_since"`` / ``"gfw_date_conf"``.
    confidence_values : mapping of int to str, optional
        Confidence codes of alerts and their meaning.
    confidence_band : int or str, optional
        Band holding the confidence, when separate from the date band.
    reference_year : int, optional
        Year the values describe (e.g. 2000 for ``treecover2000``).
    reference_date : datetime.date, optional
        Day the values describe, when more precise than a year.
    band : int or str, optional
        Band to read, by number or description (``None``: the only band).
    source, version, licence, url, citation : str
        Provenance: producer, version, licence, the provider's page, how to cite.

    Examples
    --------
    >>> p = Product(name="my_cover", kind="cover_percent", valid_range=(0, 100), unit="%")
    >>> p.valid_range
    (0.0, 100.0)
    >>> Product(name="bad", kind="forest_mask")
    Traceback (most recent call last):
    ...
    ValueError: product 'bad' is a forest_mask: give forest_values, the codes that are forest ...
    """

    name: str
    kind: Kind
    description: str = ""
    unit: str = ""
    valid_range: tuple[float, float] | None = None
    nodata: float | None = None
    scale: float | None = None
    offset: float | None = None
    classes: tuple[tuple[int, str], ...] = ()
    forest_values: tuple[int, ...] = ()
    forest_threshold: float | None = None
    no_change_value: int | None = None
    base_year: int | None = None
    first_year: int | None = None
    last_year: int | None = None
    date_encoding: DateEncoding | None = None
    date_base: dt.date | None = None
    confidence_values: tuple[tuple[int, str], ...] = ()
    confidence_band: int | str | None = None
    reference_year: int | None = None
    reference_date: dt.date | None = None
    band: int | str | None = None
    source: str = ""
    version: str = ""
    licence: str = ""
    url: str = ""
    citation: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        put = functools.partial(object.__setattr__, self)
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"a product needs a name, got {self.name!r}")
        if self.kind not in KINDS:
            raise ValueError(
                f"product {self.name!r}: kind must be one of {list(KINDS)}, got {self.kind!r}"
            )
        if self.valid_range is not None:
            lo, hi = (float(v) for v in self.valid_range)
            if not lo <= hi:
                raise ValueError(f"product {self.name!r}: valid_range {self.valid_range} is empty")
            put("valid_range", (lo, hi))
        put("classes", _pairs(self.classes, "classes"))
        put("confidence_values", _pairs(self.confidence_values, "confidence_values"))
        put("forest_values", tuple(sorted({int(v) for v in (self.forest_values or ())})))
        put("date_base", _opt_date(self.date_base, "date_base"))
        put("reference_date", _opt_date(self.reference_date, "reference_date"))
        if self.kind in _CODE_KINDS and (
            self.scale not in (None, 1) or self.offset not in (None, 0)
        ):
            raise ValueError(
                f"product {self.name!r} is a {self.kind}: its pixels are codes, a scale/offset "
                "would turn them into other codes; leave scale and offset unset"
            )
        if self.url and not self.url.startswith(("https://", "http://")):
            raise ValueError(f"product {self.name!r}: url must be a web address, got {self.url!r}")
        self._check_kind_fields()

    def _check_kind_fields(self) -> None:
        if self.kind == "forest_mask" and not self.forest_values:
            raise ValueError(
                f"product {self.name!r} is a forest_mask: give forest_values, the codes that are "
                "forest (e.g. forest_values=[1])"
            )
        if self.classes and self.forest_values:
            unknown = sorted(set(self.forest_values) - {c for c, _ in self.classes})
            if unknown:
                raise ValueError(
                    f"product {self.name!r}: forest_values {unknown} are not among its classes"
                )
        if self.kind == "loss_year":
            if None in (self.base_year, self.first_year, self.last_year):
                raise ValueError(
                    f"product {self.name!r} is a loss_year: give base_year (code k is year "
                    "base_year + k), first_year and last_year (the years of the version)"
                )
            assert self.first_year is not None and self.last_year is not None
            if self.first_year > self.last_year:
                raise ValueError(f"product {self.name!r}: first_year is after last_year")
            if self.no_change_value is None:
                object.__setattr__(self, "no_change_value", 0)
        if self.kind == "disturbance_date":
            if self.date_encoding not in DATE_ENCODINGS:
                raise ValueError(
                    f"product {self.name!r} is a disturbance_date: date_encoding must be one of "
                    f"{list(DATE_ENCODINGS)}, got {self.date_encoding!r}"
                )
            if self.date_encoding != "yyddd" and self.date_base is None:
                raise ValueError(
                    f"product {self.name!r}: date_encoding {self.date_encoding!r} needs date_base"
                )

    # -- what the product accepts -------------------------------------------------

    @property
    def is_categorical(self) -> bool:
        """True when pixels are class codes (forest masks and land-cover classes)."""
        return self.kind in ("forest_mask", "categorical")

    def valid_codes(self) -> np.ndarray | None:
        """Return the codes a code raster may hold (``None``: not a code kind or not restricted).

        Examples
        --------
        >>> get("hansen_lossyear_v1_11").valid_codes()[[0, 1, -1]].tolist()
        [0, 1, 23]
        """
        if self.kind == "loss_year":
            assert self.base_year is not None and self.first_year is not None
            assert self.last_year is not None
            years = np.arange(self.first_year - self.base_year, self.last_year - self.base_year + 1)
            return np.union1d([self.no_change_value], years).astype(np.int64)
        if self.is_categorical and self.classes:
            return np.array([c for c, _ in self.classes], dtype=np.int64)
        return None

    def describe_values(self) -> str:
        """Return the valid values in words, for messages.

        Examples
        --------
        >>> get("hansen_lossyear_v1_13").describe_values()
        '0 (no loss) or 1-25 (loss in 2001-2025)'
        """
        if self.kind == "loss_year":
            assert self.base_year is not None and self.first_year is not None
            assert self.last_year is not None
            k0, k1 = self.first_year - self.base_year, self.last_year - self.base_year
            return (
                f"{self.no_change_value} (no loss) or {k0}-{k1} "
                f"(loss in {self.first_year}-{self.last_year})"
            )
        if self.classes:
            return ", ".join(f"{c} ({label})" for c, label in self.classes)
        if self.valid_range is not None:
            lo, hi = self.valid_range
            return f"{lo:g}-{hi:g}{(' ' + self.unit) if self.unit else ''}"
        return "any value"

    def check_values(self, values: Any) -> None:
        """Raise :class:`~agroforest_geo.RasterError` unless every value fits the encoding.

        ``values`` are raw pixel values with data (nodata already removed); scale
        and offset of the product are applied before the range is checked.

        Examples
        --------
        >>> p = get("hansen_lossyear_v1_13")
        >>> p.check_values([0, 1, 25])
        >>> p.check_values([0, 21, 255])
        Traceback (most recent call last):
        ...
        agroforest_geo.errors.RasterError: 255 is not a loss-year code of product ...
        """
        v = np.asarray(values)
        if v.size == 0:
            return
        codes = self.valid_codes()
        if codes is not None:
            if np.issubdtype(v.dtype, np.floating) and np.any(v != np.round(v)):
                raise RasterError(
                    f"product {self.name!r} holds integer codes, the raster has fractional "
                    f"values (e.g. {v[v != np.round(v)][:3].tolist()})"
                )
            bad = np.setdiff1d(np.unique(v.astype(np.int64)), codes)
            if bad.size:
                raise RasterError(_bad_codes_message(self, bad))
            return
        if self.kind == "disturbance_date":
            self.decode_dates(v)
            return
        if self.valid_range is not None:
            phys = v.astype(float) * (self.scale or 1.0) + (self.offset or 0.0)
            lo, hi = self.valid_range
            out = (phys < lo) | (phys > hi)
            if out.any():
                seen = np.unique(phys[out])
                raise RasterError(
                    f"values {_list(seen)} are outside the valid range {self.describe_values()} "
                    f"of product {self.name!r}; if a value means 'no data', set it as the "
                    "raster's nodata value (e.g. `rio edit-info --nodata 255 FILE`)"
                )

    def decode_dates(self, values: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """Decode disturbance-date values to ``datetime64[D]`` (and confidence codes, if packed).

        Values equal to ``no_change_value`` give NaT (and confidence 0).

        Examples
        --------
        >>> dates, conf = get("gfw_integrated_alerts").decode_dates([30001, 20365, 0])
        >>> [str(d) for d in dates], conf.tolist()
        (['2015-01-01', '2015-12-31', 'NaT'], [3, 2, 0])
        >>> dates, _ = get("radd_alerts").decode_dates([21001, 19365])
        >>> [str(d) for d in dates]
        ['2021-01-01', '2019-12-31']
        """
        if self.kind != "disturbance_date":
            raise ValueError(f"product {self.name!r} is a {self.kind}, not a disturbance_date")
        v = np.asarray(values).astype(np.int64)
        none = v == (self.no_change_value if self.no_change_value is not None else -(2**62))
        conf: np.ndarray | None = None
        if self.date_encoding == "gfw_date_conf":
            conf, days = np.divmod(v, 10_000)
        elif self.date_encoding == "days_since":
            days = v
        else:  # yyddd
            yy, doy = np.divmod(v, 1000)
            bad = ~none & ((doy < 1) | (doy > 366))
            if bad.any():
                raise RasterError(
                    f"values {_list(np.unique(v[bad]))} are not YYDDD dates (day of year 1-366) "
                    f"of product {self.name!r}"
                )
            first = (
                (2000 + yy - 1970).astype("datetime64[Y]").astype("datetime64[D]")
            )  # years since 1970
            dates = first + (doy - 1).astype("timedelta64[D]")
            dates[none] = np.datetime64("NaT")
            return dates, None
        assert self.date_base is not None
        if conf is not None and self.confidence_values:
            known = [c for c, _ in self.confidence_values]
            bad = ~none & ~np.isin(conf, known)
            if bad.any():
                raise RasterError(
                    f"values {_list(np.unique(v[bad]))} carry no known confidence code "
                    f"({', '.join(f'{c} {lab}' for c, lab in self.confidence_values)}) of product "
                    f"{self.name!r}; is it a {self.date_encoding} raster?"
                )
        dates = np.datetime64(self.date_base, "D") + days.astype("timedelta64[D]")
        dates[none] = np.datetime64("NaT")
        if conf is not None:
            conf[none] = 0
        return dates, conf

    def replace(self, **changes: Any) -> Product:
        """Return a copy with some fields changed (e.g. another ``reference_year`` or ``band``).

        Examples
        --------
        >>> get("fdap_cocoa_probability").replace(reference_year=2023).reference_year
        2023
        """
        return dataclasses.replace(self, **changes)


def _list(values: np.ndarray, k: int = 6) -> str:
    vals = [f"{v:g}" if isinstance(v, float) else str(v) for v in values.tolist()]
    return ", ".join(vals[:k]) + (f" … ({len(vals)} distinct)" if len(vals) > k else "")


def _bad_codes_message(p: Product, bad: np.ndarray) -> str:
    what = "a loss-year code" if p.kind == "loss_year" else "a class"
    head = f"{_list(bad)} {'is' if bad.size == 1 else 'are'} not {what} of product {p.name!r}"
    return (
        f"{head} ({p.describe_values()}); if a value means 'no data', set it as the raster's "
        "nodata value (e.g. `rio edit-info --nodata 255 FILE`); otherwise the raster is not "
        "this product (another version, or another layer?)"
    )


# ---------------------------------------------------------------------------
# the built-in catalogue and user files
# ---------------------------------------------------------------------------

_FIELDS = {f.name for f in dataclasses.fields(Product)}


def _from_mapping(name: str | None, data: Mapping[str, Any], where: str) -> Product:
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ValueError(
            f"{where}: unknown product field(s) {unknown}; the fields are {sorted(_FIELDS)}"
        )
    kw = dict(data)
    if name is not None:
        kw.setdefault("name", name)
    if "name" not in kw or "kind" not in kw:
        raise ValueError(f"{where}: a product needs at least 'name' and 'kind'")
    for key in ("valid_range", "forest_values"):
        if isinstance(kw.get(key), list):
            kw[key] = tuple(kw[key])
    return Product(**kw)


def _load_toml(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise ImportError(
                "reading TOML on Python 3.10 needs `tomli` (pip install tomli), or use JSON"
            ) from None
    return tomllib.loads(text)


@functools.cache
def _catalogue() -> dict[str, Product]:
    text = resources.files("agroforest_geo").joinpath("products.toml").read_text("utf-8")
    data = _load_toml(text)
    out = {name: _from_mapping(name, d, "products.toml") for name, d in data["products"].items()}
    for alias, target in data.get("aliases", {}).items():
        out[alias] = out[target]
    return out


def _aliases() -> dict[str, str]:
    return {n: p.name for n, p in _catalogue().items() if n != p.name}


def get(name: str) -> Product:
    """Return the built-in product called ``name``.

    Raises
    ------
    UnknownProductError
        Unknown name (a ``KeyError``); the message lists the names.

    Examples
    --------
    >>> get("jrc_gfc2020_v3").forest_values
    (1,)
    >>> get("hansen_lossyear").name  # an alias of the latest version
    'hansen_lossyear_v1_13'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    cat = _catalogue()
    if name not in cat:
        near = difflib.get_close_matches(name, sorted(cat), n=1, cutoff=0.6)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise UnknownProductError(
            f"no built-in product {name!r}.{hint} The built-in products are {sorted(cat)}. "
            "Describe your own with agroforest_geo.products.Product(...) or from_file(path)."
        )
    return cat[name]


def available() -> Any:
    """Return the built-in catalogue as a table, one row per product (aliases excluded).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``name``: ``kind``, ``reference_year``, ``version``, ``values``
        (the valid values in words), ``source``, ``licence``, ``url`` and ``aliases``.

    Examples
    --------
    >>> cat = available()
    >>> "hansen_treecover2000" in cat.index, cat.loc["jrc_gfc2020_v3", "kind"]
    (True, 'forest_mask')
    """
    import pandas as pd

    aliases = _aliases()
    rows = []
    for name, p in _catalogue().items():
        if name != p.name:
            continue
        rows.append(
            {
                "name": name,
                "kind": p.kind,
                "reference_year": p.reference_year,
                "version": p.version,
                "values": p.describe_values(),
                "source": p.source,
                "licence": p.licence,
                "url": p.url,
                "aliases": ", ".join(a for a, t in aliases.items() if t == name),
            }
        )
    df = pd.DataFrame(rows).set_index("name")
    df["reference_year"] = df["reference_year"].astype("Int64")
    return df


def from_file(path: str | os.PathLike[str], *, name: str | None = None) -> Product:
    """Read a product from a small TOML or JSON file.

    The file holds the fields of one :class:`Product` at the top level, or a
    table ``products`` of named products (then ``name`` picks one, unless there
    is only one).

    Parameters
    ----------
    path : str or path
        ``.toml`` or ``.json`` file (TOML on Python 3.10 needs ``tomli``).
    name : str, optional
        The product to read from a file of several.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "bosque.json"
    >>> _ = f.write_text(json.dumps({"name": "bosque_2020", "kind": "forest_mask",
    ...                              "forest_values": [1], "reference_year": 2020}))
    >>> from_file(f).forest_values
    (1,)
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"product file {p} does not exist")
    text = p.read_text("utf-8")
    if p.suffix.lower() == ".json":
        data = json.loads(text)
    elif p.suffix.lower() == ".toml":
        data = _load_toml(text)
    else:
        raise ValueError(f"product file {p} must be .toml or .json")
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a table of product fields")
    if "products" in data and isinstance(data["products"], dict):
        table = data["products"]
        if name is None and len(table) == 1:
            name = next(iter(table))
        if name not in table:
            raise UnknownProductError(
                f"{p} describes products {sorted(table)}; pass name= one of them"
            )
        return _from_mapping(name, table[name], str(p))
    return _from_mapping(None, data, str(p))


def _resolve(product: Product | str | None, what: str = "product") -> Product | None:
    """Normalise a ``product=`` argument: a Product, a built-in name, or None."""
    if product is None or isinstance(product, Product):
        return product
    if isinstance(product, str):
        return get(product)
    raise TypeError(f"{what} must be a Product or the name of a built-in product, got {product!r}")

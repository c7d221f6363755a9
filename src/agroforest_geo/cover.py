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
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._coversums import (
    _BothSums,
    _ClassSums,
    _CoverSums,
    _forest_columns,
    _loss_columns,
    _LossSums,
    _mean_column,
)
from ._cutoff import EUDR_CUTOFF, parse_cutoff
from ._deprecation import renamed_keywords
from ._encoding import (
    DEFAULT_THRESHOLD_PCT,
    _threshold,
    band_of,
    class_encoding,
    cover_encoding,
    loss_encoding,
)
from ._screen import InvalidPolicy
from ._zonal import zonal_pass
from .inputs import RasterLike
from .products import Product
from .raster import Method

__all__ = [
    "DEFAULT_FOREST_THRESHOLD_PCT",
    "EUDR_CUTOFF",
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
DEFAULT_FOREST_THRESHOLD_PCT: float = DEFAULT_THRESHOLD_PCT

#: Encoding of the Hansen et al. Global Forest Change ``lossyear`` layer without
#: a product: ``0`` is no loss; a value ``k`` is loss in year ``base_year + k``, at
#: most this year. The built-in products (``agf.products.get("hansen_lossyear_v1_13")``)
#: know the last year of each version.
HANSEN_LOSSYEAR: dict[str, int] = {"no_loss": 0, "base_year": 2000}


#: Columns that stay (NA) rather than NaN for empty polygons.
_YEAR_COLUMNS = ("first_loss_year", "last_loss_year")


@renamed_keywords(raster="cover")
def forest_cover(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    cover: RasterLike,
    *,
    threshold: float | None = None,
    forest_values: Sequence[int] | None = None,
    product: Product | str | None = None,
    band: int | str | None = None,
    method: Method = "exact",
    progress: bool | None = None,
    n_jobs: int = 1,
    invalid: InvalidPolicy = "warn",
) -> pd.DataFrame:
    """Forest area, share and mean canopy cover of each polygon.

    Three kinds of raster:

    * continuous tree-cover percent (Hansen ``treecover2000``, 0–100): a pixel
      is forest when its cover is ≥ ``threshold``; ``mean_cover_pct`` is the
      coverage- and area-weighted mean cover;
    * canopy height in metres (``product=`` a ``canopy_height_m`` product): forest
      from ``threshold`` metres (default the product's, 5 m); ``mean_height_m``;
    * categorical (land-cover classes, 0/1 forest masks such as JRC GFC2020):
      pass ``forest_values``, the class codes that are forest, or a
      ``forest_mask``/``categorical`` product; no mean column then. Float
      rasters must hold whole numbers.

    The values read are checked in the same pass (see ``docs/products.md``):
    values outside the valid range (cover of 249 %, a class the product does
    not have) raise :class:`~agroforest_geo.RasterError`, and without a product
    a raster that only holds 0/1 (a forest mask read as percent would lose every
    forest pixel) or that looks like loss years raises too.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
        Polygons in any CRS (transformed to the raster's).
    cover : path or rasterio dataset
        The tree-cover (or forest-mask, canopy-height) raster; ``raster=`` is the
        deprecated old name of this argument.
    threshold : float, optional
        Value from which a pixel is forest: canopy cover percent (0–100,
        default 10, :data:`DEFAULT_FOREST_THRESHOLD_PCT`), or metres for a
        canopy-height product. Ignored for class rasters.
    forest_values : sequence of int, optional
        Class codes that are forest (categorical rasters); overrides the
        product's.
    product : Product or str, optional
        What the raster holds (:mod:`agroforest_geo.products`), e.g.
        ``"hansen_treecover2000"``, ``"jrc_gfc2020_v3"``, ``"esa_worldcover_2021"``.
        Its band, nodata, scale/offset, valid values and forest classes apply.
    band : int, str or None
        Band number or description; None: the product's band, else the only
        band (a multi-band raster raises, listing its bands).
    method : {"exact", "centroid"}
        ``"exact"`` counts partial pixels by their covered fraction;
        ``"centroid"`` (pixel centre inside) only for comparison with other tools.
    progress : bool, optional
        Progress bar (default: from 20,000 polygons on).
    n_jobs : int, default 1
        Threads that process batches of polygons in parallel (``-1``: all
        cores): the coverage pass, the block reads (GDAL) and numpy release the
        GIL. Results are identical to ``n_jobs=1``. Pays off from ~10,000
        polygons; open and in-memory datasets work too (each raster is read
        under its own lock).
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
        (cover percent rasters; ``mean_height_m`` for canopy height),
        ``forest_ha`` and ``forest_share`` (0–1, of the part with data). Empty
        geometries give NaN.

    Raises
    ------
    RasterError
        No CRS/transform, missing or ambiguous band, values the product (or a
        percent cover) cannot hold, a 0/1 or loss-year-like raster read as percent.
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
    >>> fp = agf.forest_cover(parcels, agf.datasets.get_path("treecover"),
    ...                       product="hansen_treecover2000", threshold=30)
    >>> bool(fp.equals(fc))
    True
    """

    def encode(srcs: Any, bands: Any) -> _CoverSums:
        enc = cover_encoding(
            "raster", srcs["raster"], bands["raster"], product,
            threshold=threshold, forest_values=forest_values,
        )  # fmt: skip
        return _CoverSums(enc)

    zp = zonal_pass(
        polygons, {"raster": cover}, {"raster": band_of(band, product)}, encode,
        method=method, progress=progress, n_jobs=n_jobs, invalid=invalid,
    )  # fmt: skip
    enc = zp.reducer.enc
    enc.check_totals(zp.sums)
    valid, forest_cols = _forest_columns(zp.sums, zp.n, _mean_column(enc))
    zp.warn_no_data(valid, "raster")
    return zp.finish({**zp.base_columns(valid), **forest_cols})


def class_shares(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    raster: RasterLike,
    *,
    product: Product | str | None = None,
    band: int | str | None = None,
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
    product : Product or str, optional
        A ``categorical``, ``forest_mask`` or ``loss_year`` product: codes it
        does not have raise :class:`~agroforest_geo.RasterError`.
    band : int, str or None
        Band number or description (None: the product's, else the only band).
    method : {"exact", "centroid"}
    progress : bool, optional
    n_jobs : int, default 1
        Threads (``-1``: all cores); see :func:`forest_cover`.
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
    >>> cs = agf.class_shares(parcels.head(5), agf.datasets.get_path("lossyear"),
    ...                       product="hansen_lossyear_v1_11")
    >>> "share_0" in cs.columns
    True
    """
    zp = zonal_pass(
        polygons,
        {"raster": raster},
        {"raster": band_of(band, product)},
        lambda srcs, bands: _ClassSums(
            class_encoding("raster", srcs["raster"], bands["raster"], product)
        ),
        method=method,
        progress=progress,
        n_jobs=n_jobs,
        invalid=invalid,
    )
    valid = zp.get("valid")
    zp.warn_no_data(valid, "raster")
    cols: dict[str, Any] = zp.base_columns(valid)
    classes = zp.part("class")
    with np.errstate(invalid="ignore", divide="ignore"):
        for c in sorted(int(k) for k in classes):  # type: ignore[call-overload]
            cols[f"share_{c}"] = np.where(valid > 0, classes[c] / valid, np.nan)
    return zp.finish(cols)


def _loss_rasters(
    loss: RasterLike, band: int | str | None, cover: RasterLike | None, cover_band: Any
) -> tuple[dict[str, RasterLike], dict[str, int | str | None]]:
    rasters: dict[str, RasterLike] = {"loss": loss}
    bands: dict[str, int | str | None] = {"loss": band}
    if cover is not None:
        rasters["cover"] = cover
        bands["cover"] = cover_band
    return rasters, bands


@renamed_keywords(lossyear="loss")
def forest_loss(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    loss: RasterLike,
    *,
    cover: RasterLike | None = None,
    threshold: float | None = None,
    cutoff: str | _dt.date | int = "2020-12-31",
    product: Product | str | None = None,
    cover_product: Product | str | None = None,
    base_year: int | None = None,
    band: int | str | None = None,
    cover_band: int | str | None = None,
    method: Method = "exact",
    progress: bool | None = None,
    n_jobs: int = 1,
    invalid: InvalidPolicy = "warn",
) -> pd.DataFrame:
    """Forest loss per polygon and year from a loss-year raster (Hansen encoding).

    Value ``0`` is no loss, ``k > 0`` loss in year ``base_year + k``
    (:data:`HANSEN_LOSSYEAR`). With ``product=`` (e.g.
    ``"hansen_lossyear_v1_13"``, ``"jrc_tmf_deforestation_year"``) its encoding
    and the years of its version apply: a code outside them (``255`` without a
    nodata tag, ``40`` = 2040) raises :class:`~agroforest_geo.RasterError`;
    without a product a code is refused when its year would be after this year.
    With ``cover`` (a tree-cover percent raster, or with ``cover_product=`` a
    forest mask / class map, on the same grid), only loss on forest pixels
    counts (cover ≥ ``threshold``, or the mask's forest classes); both rasters
    are read in one pass, and a pixel is valid only where both have data.

    Cutoff rule (one for the library, :func:`agroforest_geo._cutoff.year_is_after_cutoff`):
    loss years are whole years, so loss in year ``Y`` is *after* the cutoff
    date ``D`` when ``Y > D.year``, or when ``Y == D.year`` and ``D`` is not
    31 December (the year straddles the cutoff; the conservative reading
    counts it as after). With the EUDR cutoff, 2020-12-31, loss in 2020 is
    before and from 2021 on after. ``loss_in_cutoff_year_ha`` reports the loss
    of ``D.year`` on its own.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
    loss : path or rasterio dataset
        Loss-year raster, integer codes.
    cover : path or rasterio dataset, optional
        Tree-cover raster on the same grid (percent, or a mask with ``cover_product``).
    threshold : float, optional
        Canopy cover percent (0–100, default 10) of a forest pixel; used with ``cover``.
    cutoff : str, datetime.date or int, default "2020-12-31"
        ISO date, date or year (31 December); None, NaT or an ambiguous string raise.
    product : Product or str, optional
        The loss-year product (a ``loss_year`` kind).
    cover_product : Product or str, optional
        The product of ``cover``: a ``forest_mask`` counts loss only on its forest pixels.
    base_year : int, optional
        Year encoded by 0 (default 2000, or the product's); code ``k`` is year ``base_year + k``.
    band, cover_band : int, str or None
        Bands of the two rasters (None: the product's, else the only band).
    method : {"exact", "centroid"}
    progress : bool, optional
    n_jobs : int, default 1
        Threads (``-1``: all cores); see :func:`forest_cover`.
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
    if threshold is not None:
        _threshold(threshold, None, False)
    cut = parse_cutoff(cutoff)
    rasters, bands_in = _loss_rasters(
        loss, band_of(band, product), cover, band_of(cover_band, cover_product)
    )

    def encode(srcs: Any, bands: Any) -> _LossSums:
        loss = loss_encoding("loss", srcs["loss"], bands["loss"], product, base_year=base_year)
        cov = None
        if cover is not None:
            cov = cover_encoding(
                "cover", srcs["cover"], bands["cover"], cover_product, threshold=threshold
            )
        return _LossSums(loss, cov)

    zp = zonal_pass(
        polygons, rasters, bands_in, encode,
        method=method, progress=progress, n_jobs=n_jobs, invalid=invalid,
    )  # fmt: skip
    if zp.reducer.cover is not None:
        zp.reducer.cover.check_totals(zp.sums)
    valid = zp.get("valid")
    zp.warn_no_data(valid, "loss-year")
    cols: dict[str, Any] = zp.base_columns(valid)
    cols.update(_loss_columns(zp.sums, zp.n, zp.reducer.loss.base_year, cut))
    return zp.finish(cols, keep=_YEAR_COLUMNS)


@renamed_keywords(lossyear="loss")
def forest_cover_and_loss(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    cover: RasterLike,
    loss: RasterLike,
    *,
    threshold: float | None = None,
    cutoff: str | _dt.date | int = "2020-12-31",
    cover_product: Product | str | None = None,
    loss_product: Product | str | None = None,
    base_year: int | None = None,
    cover_band: int | str | None = None,
    loss_band: int | str | None = None,
    method: Method = "exact",
    progress: bool | None = None,
    n_jobs: int = 1,
    invalid: InvalidPolicy = "warn",
) -> pd.DataFrame:
    """Forest cover and forest loss of each polygon in one pass over both rasters.

    The same numbers as :func:`forest_cover` on ``cover`` followed by
    :func:`forest_loss` on ``loss`` with ``cover=cover``, in about half the
    time: every window of both rasters is read, and the coverage of every
    polygon computed, once. A ``forest_mask`` ``cover_product`` (JRC GFC2020)
    gives forest from its classes and loss only on its forest pixels.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
        Polygons in any CRS (transformed to the rasters').
    cover : path or rasterio dataset
        Tree-cover raster (e.g. Hansen ``treecover2000``, 0–100), or a forest
        mask / class map with ``cover_product``.
    loss : path or rasterio dataset
        Loss-year raster on the same grid (see :func:`forest_loss`).
    threshold : float, optional
        Canopy cover percent (0–100, default 10) from which a pixel is forest,
        for the forest columns and for the loss that counts.
    cutoff : str, datetime.date or int, default "2020-12-31"
        See :func:`forest_loss` for the cutoff-year rule.
    cover_product, loss_product : Product or str, optional
        The products of the two rasters (see :func:`forest_cover`, :func:`forest_loss`).
    base_year : int, optional
    cover_band, loss_band : int, str or None
    method : {"exact", "centroid"}
    progress : bool, optional
    n_jobs : int, default 1
        Threads (``-1``: all cores); see :func:`forest_cover`.
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
        ``valid_share`` and ``nodata_ha`` of the cover raster, ``mean_cover_pct``
        for percent cover, ``forest_ha``, ``forest_share``), then
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
    cut = parse_cutoff(cutoff)

    def encode(srcs: Any, bands: Any) -> _BothSums:
        cov = cover_encoding(
            "cover", srcs["cover"], bands["cover"], cover_product, threshold=threshold
        )
        loss = loss_encoding("loss", srcs["loss"], bands["loss"], loss_product, base_year=base_year)
        return _BothSums(_CoverSums(cov), _LossSums(loss, cov))

    zp = zonal_pass(
        polygons,
        {"cover": cover, "loss": loss},
        {"cover": band_of(cover_band, cover_product), "loss": band_of(loss_band, loss_product)},
        encode,
        method=method,
        progress=progress,
        n_jobs=n_jobs,
        invalid=invalid,
    )
    cov, loss_enc = zp.reducer.cover.enc, zp.reducer.loss.loss
    cov.check_totals(zp.sums)
    valid, forest_cols = _forest_columns(zp.part("cover"), zp.n, _mean_column(cov))
    loss_sums = zp.part("loss")
    loss_valid = loss_sums.get("valid", np.zeros(zp.n))
    zp.warn_no_data(valid, "tree-cover")
    zp.warn_no_data(loss_valid, "loss-year")
    cols: dict[str, Any] = zp.base_columns(valid)
    cols.update(forest_cols)
    cols["loss_valid_share"] = zp.base_columns(loss_valid)["valid_share"]
    cols.update(_loss_columns(loss_sums, zp.n, loss_enc.base_year, cut))
    return zp.finish(cols, keep=_YEAR_COLUMNS)

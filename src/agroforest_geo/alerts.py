"""Disturbance alerts after a date, per polygon, from date-encoded alert rasters.

Alert products (RADD, GLAD-L, GLAD-S2, the GFW integrated alerts) store, per
pixel, the date of the first disturbance detected and a confidence, packed
into one band (GFW ``date_conf``) or in a band of their own (RADD ``Alert``).
How a product encodes them is data (:class:`~agroforest_geo.products.Product`,
``date_encoding`` / ``date_base`` / ``confidence_values`` / ``confidence_band``)
and decoded by :meth:`~agroforest_geo.products.Product.decode_dates`, the one
decoder of the library.

Method
------
One exact pixel pass (the pixel pieces of :mod:`agroforest_geo.raster`, each
piece weighted by its ellipsoidal area). A piece is *alerted* when its decoded
date is after the cut-off date (alerts are dated to the day, so no annual
rounding applies: an alert on 1 January 2021 is after 31 December 2020, one on
31 December 2020 is not). Per polygon: the hectares alerted, the first and last
alert dates among them and the highest confidence code among them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Hashable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._cutoff import parse_cutoff
from .errors import RasterError
from .inputs import RasterLike, _open_all, _prepare
from .pixelpieces import PixelPieces
from .products import Product, _resolve
from .raster import Method, _plan, _reduce, _validate_method, _warn_no_data

__all__ = ["disturbance_alerts"]

_EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class _AlertSums:
    """valid m², alerted m², first/last alert day and highest confidence of alerted pieces."""

    product: Product
    after_day: int  # days since 1970-01-01 of the cut-off date; alerts are later than it
    confidence_raster: bool

    def __call__(self, p: PixelPieces, nb: int) -> dict[Hashable, np.ndarray]:
        ok = p.valid["alerts"].copy()
        if self.confidence_raster:
            ok &= p.valid["confidence"]
        f, a = p.feature[ok], p.area_m2[ok]
        dates, packed = self.product.decode_dates(p.values["alerts"][ok])
        conf = packed
        if self.confidence_raster:
            conf = p.values["confidence"][ok].astype(np.int64)
        day = (dates - _EPOCH).astype(np.int64)  # NaT: the most negative int64, never after
        hit = ~np.isnat(dates) & (day > self.after_day)
        out: dict[Hashable, np.ndarray] = {
            "valid": np.bincount(f, weights=a, minlength=nb),
            "alert": np.bincount(f[hit], weights=a[hit], minlength=nb),
        }
        first, last = np.full(nb, np.inf), np.full(nb, -np.inf)
        np.minimum.at(first, f[hit], day[hit].astype(float))
        np.maximum.at(last, f[hit], day[hit].astype(float))
        out[("stat", "first_day", "min")] = first
        out[("stat", "last_day", "max")] = last
        if conf is not None:
            top = np.full(nb, -np.inf)
            np.maximum.at(top, f[hit], conf[hit].astype(float))
            out[("stat", "confidence", "max")] = top
        return out


def _days_to_dates(days: np.ndarray) -> pd.Series:
    finite = np.isfinite(days)
    out = np.full(days.size, np.datetime64("NaT"), dtype="datetime64[D]")
    out[finite] = _EPOCH + days[finite].astype(np.int64).astype("timedelta64[D]")
    return pd.Series(out.astype("datetime64[s]"))


def _alert_product(product: Product | str | None) -> Product:
    p = _resolve(product, "product")
    if p is None:
        raise ValueError(
            "disturbance_alerts needs product= the alert product (its date encoding), e.g. "
            "'radd_alerts', 'gfw_integrated_alerts', 'gfw_glad_s2_alerts'"
        )
    if p.kind != "disturbance_date":
        raise RasterError(
            f"product {p.name!r} is a {p.kind}, not a disturbance_date product; alerts need "
            "date-encoded rasters (e.g. 'radd_alerts', 'gfw_integrated_alerts')"
        )
    return p


def disturbance_alerts(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    raster: RasterLike,
    *,
    product: Product | str,
    cutoff: str | _dt.date | int = "2020-12-31",
    band: int | str | None = None,
    confidence_band: int | str | None = None,
    method: Method = "exact",
    progress: bool | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Alerted hectares after the cut-off, first alert date and confidence of each polygon.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
        Polygons in any CRS (transformed to the raster's).
    raster : path or rasterio dataset
        The alert raster (with its confidence band, when the product has one).
    product : Product or str
        A ``disturbance_date`` product, e.g. ``"radd_alerts"``,
        ``"gfw_integrated_alerts"``, ``"gfw_glad_l_alerts"``, ``"gfw_glad_s2_alerts"``.
    cutoff : str, datetime.date or int, default "2020-12-31"
        Alerts dated after this day count.
    band, confidence_band : int, str or None
        Bands of the dates and of the confidence (None: the product's).
    method : {"exact", "centroid"}
    progress : bool, optional
    n_jobs : int, default 1
        Threads (``-1``: all cores); see :func:`agroforest_geo.forest_cover`.

    Returns
    -------
    pandas.DataFrame
        On the polygons' index: ``area_ha``, ``valid_share``, ``alert_ha`` (alerted
        hectares after the cut-off; adds up), ``alert_share`` (of the polygon),
        ``first_alert_date`` and ``last_alert_date`` (NaT without an alert) and
        ``alert_confidence`` (highest confidence code of the alerted pixels, 0 without
        one; NaN when the product has no confidence) with ``alert_confidence_label``.

    Raises
    ------
    RasterError
        A product that is not a ``disturbance_date`` one, or values it cannot hold.

    Examples
    --------
    >>> import agroforest_geo as agf, numpy as np, rasterio, tempfile, pathlib
    >>> from rasterio.transform import from_origin
    >>> import geopandas as gpd, shapely
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "alerts.tif"
    >>> v = np.zeros((10, 10), "int32"); v[:5, :] = 32198  # high confidence, day 2198 = 2021-01-06
    >>> with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1,
    ...                    dtype="int32", crs=32718, nodata=-1,
    ...                    transform=from_origin(500_000, 9_200_100, 10, 10)) as dst:
    ...     dst.write(v, 1)
    >>> sq = gpd.GeoDataFrame(geometry=[shapely.box(500_000, 9_200_000, 500_100, 9_200_100)],
    ...                       crs=32718)
    >>> a = agf.disturbance_alerts(sq, path, product="gfw_integrated_alerts")
    >>> round(float(a.loc[0, "alert_ha"]), 3), str(a.loc[0, "first_alert_date"].date())
    (0.5, '2021-01-06')
    >>> a.loc[0, "alert_confidence_label"]
    'high'
    """
    _validate_method(method)
    p = _alert_product(product)
    cut = parse_cutoff(cutoff)
    rasters: dict[str, RasterLike] = {"alerts": raster}
    bands_in: dict[str, int | str | None] = {"alerts": band if band is not None else p.band}
    conf_band = confidence_band if confidence_band is not None else p.confidence_band
    if conf_band is not None:
        rasters["confidence"] = raster
        bands_in["confidence"] = conf_band
    with ExitStack() as stack:
        srcs, bands, grid = _open_all(rasters, bands_in, stack)
        prepared = _prepare(polygons, grid)
        plan = _plan(prepared, grid, None, len(srcs))
        after_day = int((np.datetime64(cut, "D") - _EPOCH).astype(np.int64))
        reducer = _AlertSums(p, after_day, conf_band is not None)
        sums = _reduce(plan, srcs, bands, method, reducer, progress, n_jobs)
    return _alert_table(polygons.index, prepared, sums, p)


def _alert_table(index: pd.Index, prepared: Any, sums: dict[Hashable, np.ndarray], p: Product):
    n = len(index)
    zeros = np.zeros(n)
    valid, alert = sums.get("valid", zeros), sums.get("alert", zeros)
    _warn_no_data(valid, prepared, "alert")
    area = prepared.area_m2
    out = pd.DataFrame(index=index)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["area_ha"] = area / 1e4
        out["valid_share"] = np.where(area > 0, np.clip(valid / area, 0, 1), 0.0)
        out["alert_ha"] = np.where(valid > 0, alert / 1e4, np.nan)
        out["alert_share"] = np.where(area > 0, alert / area, np.nan)
    out["first_alert_date"] = _days_to_dates(
        sums.get(("stat", "first_day", "min"), np.full(n, np.inf))
    ).to_numpy()
    out["last_alert_date"] = _days_to_dates(
        sums.get(("stat", "last_day", "max"), np.full(n, -np.inf))
    ).to_numpy()
    if p.confidence_values:
        top = sums.get(("stat", "confidence", "max"), np.full(n, -np.inf))
        code = np.where(np.isfinite(top), top, 0.0)
        code = np.where(valid > 0, code, np.nan)
        labels = dict(p.confidence_values)
        out["alert_confidence"] = code
        out["alert_confidence_label"] = [
            labels.get(int(c), "") if np.isfinite(c) and c > 0 else "" for c in code
        ]
    else:
        out["alert_confidence"] = np.nan
        out["alert_confidence_label"] = ""
    if prepared.empty.any():
        out.loc[prepared.empty, ["alert_ha", "alert_share", "valid_share"]] = np.nan
    return out

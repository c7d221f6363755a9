"""Evidence of land use on the cut-off date and of alerts after it, one function per source.

Re-exported by :mod:`agroforest_geo.eudr.evidence` (the home of every evidence
function): a 2020 forest map, a commodity probability map, a canopy-height raster,
the cooperative's own records, and date-encoded disturbance alerts. Each returns
a frame on the parcels' index; several sources of one role are combined by
:mod:`agroforest_geo.eudr.sources`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._cutoff import last_year_before_cutoff, parse_cutoff
from ._tables import _area_or, _col, _is_table, _measure_subset, _ok_mask, _on_index

__all__ = [
    "AGRICULTURAL_SYSTEMS",
    "alert_evidence",
    "canopy_height_evidence",
    "commodity_evidence",
    "forest_2020_evidence",
    "records_evidence",
]


# --------------------------------------------------------------------------------------


def _product_of(product: Any, role: str, kinds: tuple[str, ...]) -> Any:
    from ..products import _resolve

    p = _resolve(product, f"{role} product")
    if p is None:
        raise ValueError(
            f"a {role} raster needs its product (what its values mean), e.g. "
            f"{role}=[(raster, product)] with a product of kind {' or '.join(kinds)}"
        )
    if p.kind not in kinds:
        raise ValueError(
            f"{role}: product {p.name!r} is a {p.kind}; a {role} source needs a product of kind "
            f"{' or '.join(kinds)}"
        )
    return p


def _share_of_parcel(
    parcels: gpd.GeoDataFrame,
    ok: np.ndarray,
    raster: Any,
    *,
    product: Any,
    threshold: float | None,
    area_ha: pd.Series,
    verb_options: Mapping[str, Any],
) -> tuple[pd.Series, pd.Series]:
    """Share of each parcel (of its whole area) at or above ``threshold`` / in the forest classes.

    One exact pass of :func:`agroforest_geo.forest_cover`; returns the share and the
    share of the parcel with data. A precomputed ``forest_cover`` table is accepted.
    """
    from .. import cover as cover_mod

    idx = parcels.index
    if _is_table(raster):
        table = _on_index(raster, idx, "forest_cover")
    else:
        opts = {k: v for k, v in verb_options.items() if k in ("method", "n_jobs", "progress")}
        table = _measure_subset(
            parcels, ok, cover_mod.forest_cover, raster, threshold=threshold, product=product,
            **opts,
        )  # fmt: skip
    valid = _col(table, "valid_share", idx)
    forest_ha = _col(table, "forest_ha", idx)
    if "forest_ha" not in table.columns and "forest_share" in table.columns:
        forest_ha = _col(table, "forest_share", idx) * area_ha * valid.fillna(1.0)
    share = (forest_ha / area_ha).clip(upper=1.0).where(~(valid == 0)).where(ok)
    return share, valid.where(ok)


def forest_2020_evidence(
    parcels: gpd.GeoDataFrame,
    raster: Any,
    *,
    product: Any,
    cutoff: Any = "2020-12-31",
    area_ha: pd.Series | None = None,
    ok: Any = None,
    verb_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Forest on the cut-off date by a land-use map of that date (JRC GFC2020, a national map).

    Parameters
    ----------
    parcels : GeoDataFrame
    raster : path, dataset or DataFrame
        The map, or a precomputed :func:`~agroforest_geo.forest_cover` table.
    product : Product or str
        What the map holds: a ``forest_mask`` or ``categorical`` product with forest
        classes (e.g. ``"jrc_gfc2020"``, a national ``Product`` with
        ``reference_year=2020``). A map of another year than the cut-off's warns.
    cutoff : date-like
    area_ha : Series, optional
    ok : array of bool, optional
    verb_options : mapping, optional
        ``method``, ``n_jobs``, ``progress`` of the raster verb.

    Returns
    -------
    pandas.DataFrame
        ``forest_ha_2020``, ``forest_share_2020`` (of the parcel) and
        ``forest_2020_valid_share`` on the parcels' index.

    Examples
    --------
    >>> import agroforest_geo as agf, pandas as pd
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(2)
    >>> table = pd.DataFrame({"forest_ha": [0.0, 1.0], "valid_share": [1.0, 1.0]},
    ...                      index=parcels.index)
    >>> f = forest_2020_evidence(parcels, table, product="jrc_gfc2020")
    >>> f["forest_ha_2020"].tolist()
    [0.0, 1.0]
    """
    import warnings

    from ..errors import AgroforestGeoWarning

    p = _product_of(product, "forest_2020", ("forest_mask", "categorical"))
    cut = parse_cutoff(cutoff)
    if p.reference_year is not None and p.reference_year != cut.year:
        warnings.warn(
            f"forest_2020: product {p.name!r} describes {p.reference_year}, the cut-off is "
            f"{cut.isoformat()}; forest on the cut-off date needs a map of {cut.year}",
            AgroforestGeoWarning,
            stacklevel=2,
        )
    okm = _ok_mask(parcels, ok)
    area = _area_or(parcels, area_ha, okm)
    share, valid = _share_of_parcel(
        parcels, okm, raster, product=p, threshold=None, area_ha=area,
        verb_options=verb_options or {},
    )  # fmt: skip
    return pd.DataFrame(
        {"forest_ha_2020": share * area, "forest_share_2020": share,
         "forest_2020_valid_share": valid},
        index=parcels.index,
    )  # fmt: skip


def commodity_evidence(
    parcels: gpd.GeoDataFrame,
    raster: Any,
    *,
    product: Any,
    min_probability: float = 0.5,
    area_ha: pd.Series | None = None,
    ok: Any = None,
    verb_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Share of each parcel mapped as the commodity (probability at or above a threshold).

    Parameters
    ----------
    parcels : GeoDataFrame
    raster : path, dataset or DataFrame
        A ``commodity_probability`` raster (e.g. ``"fdap_cocoa_probability"``), or a
        precomputed table with ``forest_ha`` (hectares at or above the threshold).
    product : Product or str
        Its product; its ``reference_year`` says *when* the parcel was the commodity
        (the assessment counts a map of the cut-off year or before as land use on the
        cut-off date, a later one as land use now).
    min_probability : float
        Probability from which a pixel is the commodity (``commodity_min_probability``).
    area_ha, ok, verb_options
        As in :func:`forest_2020_evidence`.

    Returns
    -------
    pandas.DataFrame
        ``commodity_share`` (of the parcel) and ``commodity_valid_share``.

    Examples
    --------
    >>> import agroforest_geo as agf, pandas as pd
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(2)
    >>> table = pd.DataFrame({"forest_share": [0.25, 0.0], "valid_share": [1.0, 1.0]},
    ...                      index=parcels.index)
    >>> commodity_evidence(parcels, table, product="fdap_cocoa_probability")[
    ...     "commodity_share"].round(6).tolist()
    [0.25, 0.0]
    """
    p = _product_of(product, "commodity", ("commodity_probability",))
    if not 0.0 < float(min_probability) <= 1.0:
        raise ValueError(f"min_probability must be within (0, 1], got {min_probability!r}")
    okm = _ok_mask(parcels, ok)
    area = _area_or(parcels, area_ha, okm)
    # the cover verb's exact pass, reading probabilities as a continuous value with a threshold
    as_cover = p.replace(kind="cover_percent", forest_threshold=None)
    share, valid = _share_of_parcel(
        parcels, okm, raster, product=as_cover, threshold=float(min_probability), area_ha=area,
        verb_options=verb_options or {},
    )  # fmt: skip
    return pd.DataFrame(
        {"commodity_share": share, "commodity_valid_share": valid}, index=parcels.index
    )


def canopy_height_evidence(
    parcels: gpd.GeoDataFrame,
    raster: Any,
    *,
    product: Any,
    min_height_m: float = 5.0,
    area_ha: pd.Series | None = None,
    ok: Any = None,
    verb_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Share of each parcel under canopy taller than ``min_height_m`` (EUDR forest: 5 m).

    Parameters
    ----------
    parcels : GeoDataFrame
    raster : path, dataset or DataFrame
        A ``canopy_height_m`` raster (e.g. ``"eth_canopy_height_2020"``), or a
        precomputed :func:`~agroforest_geo.forest_cover` table of it.
    product : Product or str
    min_height_m : float
        Canopy height from which a pixel counts (``canopy_min_height_m``).
    area_ha, ok, verb_options
        As in :func:`forest_2020_evidence`.

    Returns
    -------
    pandas.DataFrame
        ``tall_canopy_share`` (of the parcel) and ``canopy_valid_share``.

    Examples
    --------
    >>> import agroforest_geo as agf, pandas as pd
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(1)
    >>> table = pd.DataFrame({"forest_share": [0.5], "valid_share": [1.0]}, index=parcels.index)
    >>> float(canopy_height_evidence(parcels, table, product="eth_canopy_height_2020")[
    ...     "tall_canopy_share"].round(6).iloc[0])
    0.5
    """
    p = _product_of(product, "canopy_height", ("canopy_height_m",))
    okm = _ok_mask(parcels, ok)
    area = _area_or(parcels, area_ha, okm)
    share, valid = _share_of_parcel(
        parcels, okm, raster, product=p, threshold=float(min_height_m), area_ha=area,
        verb_options=verb_options or {},
    )  # fmt: skip
    return pd.DataFrame(
        {"tall_canopy_share": share, "canopy_valid_share": valid}, index=parcels.index
    )


#: Plot systems that are agricultural use (cocoa, agroforestry); reforestation and forest
#: reserves are not.
AGRICULTURAL_SYSTEMS = ("cocoa", "cacao", "agroforestry", "coffee", "cafe")


def records_evidence(
    parcels: gpd.GeoDataFrame,
    *,
    plots: gpd.GeoDataFrame | None = None,
    cutoff: Any = "2020-12-31",
    crop_column: str = "crop",
    ok: Any = None,
) -> pd.DataFrame:
    """Agricultural use now and on the cut-off date, from the cooperative's own records.

    A parcel is in agricultural use now when it has a plot whose ``system`` is
    agricultural (:data:`AGRICULTURAL_SYSTEMS`: cocoa, agroforestry ...) or a
    non-empty ``crop``. Its agricultural use is recorded on or before the cut-off
    when one of those plots has a ``planting_year`` that is before the cut-off by
    the library's one annual rule (a year that straddles the cut-off is not
    before it: planting in 2020 is before 31 December 2020, not before 30 June 2020).

    Parameters
    ----------
    parcels : GeoDataFrame
        With ``parcel_id`` (and optionally ``crop_column``).
    plots : GeoDataFrame, optional
        With ``parcel_id``, ``system`` and ``planting_year``.
    cutoff : date-like
    crop_column : str
        The parcels' crop column (used when present).
    ok : array of bool, optional

    Returns
    -------
    pandas.DataFrame
        ``agri_plots`` (count of agricultural plots), ``first_planting_year``
        (earliest of them; NaN unknown), ``records_agri_now`` and
        ``records_agri_at_cutoff`` (1/0; 0 is "no record").

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> r = records_evidence(parcels, plots=plots)
    >>> bool((r["records_agri_at_cutoff"] <= r["records_agri_now"]).all())
    True
    """
    cut = parse_cutoff(cutoff)
    idx = parcels.index
    okm = _ok_mask(parcels, ok)
    ids = parcels["parcel_id"].astype(str) if "parcel_id" in parcels.columns else None
    n_plots = pd.Series(0.0, index=idx)
    first = pd.Series(np.nan, index=idx)
    if plots is not None and ids is not None and len(plots):
        system = plots.get("system", pd.Series("", index=plots.index)).astype(str).str.lower()
        agri = system.str.contains("|".join(AGRICULTURAL_SYSTEMS), na=False)
        sel = plots[agri.to_numpy()]
        years = pd.to_numeric(sel.get("planting_year"), errors="coerce")
        table = pd.DataFrame({"pid": sel["parcel_id"].astype(str).to_numpy(), "year": years})
        n_plots = ids.map(table.groupby("pid").size()).fillna(0).astype(float).set_axis(idx)
        first = ids.map(table.groupby("pid")["year"].min()).astype(float).set_axis(idx)
    crop = pd.Series(False, index=idx)
    if crop_column in parcels.columns:
        c = parcels[crop_column]
        crop = (c.notna() & (c.astype(str).str.strip() != "")).set_axis(idx)
    now = ((n_plots > 0) | crop).astype(float)
    before = (first <= last_year_before_cutoff(cut)).astype(float)
    out = pd.DataFrame(
        {"agri_plots": n_plots, "first_planting_year": first,
         "records_agri_now": now, "records_agri_at_cutoff": before},
        index=idx,
    )  # fmt: skip
    out.loc[~okm, :] = np.nan
    return out


# --------------------------------------------------------------------------------------
# alerts after the cut-off
# --------------------------------------------------------------------------------------


def alert_evidence(
    parcels: gpd.GeoDataFrame,
    raster: Any,
    *,
    product: Any,
    cutoff: Any = "2020-12-31",
    ok: Any = None,
    verb_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Disturbance alerts after the cut-off date (RADD, GLAD-L/S2, GFW integrated), per parcel.

    Parameters
    ----------
    parcels : GeoDataFrame
    raster : path, dataset or DataFrame
        A date-encoded alert raster, or a precomputed
        :func:`~agroforest_geo.disturbance_alerts` table on the parcels' index.
    product : Product or str
        Its ``disturbance_date`` product (the date and confidence encoding).
    cutoff : date-like
        Alerts dated after this day count (alerts are daily: no annual rounding).
    ok, verb_options
        As in :func:`forest_2020_evidence`.

    Returns
    -------
    pandas.DataFrame
        ``alert_ha_after_cutoff``, ``alert_share_after_cutoff``,
        ``first_alert_date_after_cutoff``, ``alert_confidence`` (highest code of the
        alerted pixels) and ``alert_valid_share``.

    Examples
    --------
    >>> import agroforest_geo as agf, pandas as pd
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(1)
    >>> t = pd.DataFrame({"alert_ha": [0.3], "alert_share": [0.1], "valid_share": [1.0],
    ...                   "first_alert_date": [pd.Timestamp("2021-03-05")],
    ...                   "alert_confidence": [3.0]}, index=parcels.index)
    >>> e = alert_evidence(parcels, t, product="radd_alerts")
    >>> str(e["first_alert_date_after_cutoff"].iloc[0].date())
    '2021-03-05'
    """
    from ..alerts import _alert_product, disturbance_alerts

    p = _alert_product(product)
    okm = _ok_mask(parcels, ok)
    idx = parcels.index
    if _is_table(raster):
        table = _on_index(raster, idx, "disturbance_alerts")
    else:
        opts = {k: v for k, v in (verb_options or {}).items() if k in ("method", "n_jobs")}
        table = _measure_subset(
            parcels, okm, disturbance_alerts, raster, product=p, cutoff=parse_cutoff(cutoff),
            **opts,
        )  # fmt: skip
    first = (
        pd.to_datetime(table["first_alert_date"])
        if "first_alert_date" in table.columns
        else pd.Series(pd.NaT, index=idx, dtype="datetime64[s]")
    )
    return pd.DataFrame(
        {
            "alert_ha_after_cutoff": _col(table, "alert_ha", idx).where(okm),
            "alert_share_after_cutoff": _col(table, "alert_share", idx).where(okm),
            "first_alert_date_after_cutoff": pd.Series(first, index=idx).where(okm),
            "alert_confidence": _col(table, "alert_confidence", idx).where(okm),
            "alert_valid_share": _col(table, "valid_share", idx).where(okm),
        },
        index=idx,
    )

"""Evidence for the deforestation-free assessment, one table per source.

Each public function here gathers the evidence of one source for every parcel
and returns a DataFrame **on the parcels' index** with the columns listed in
:data:`EVIDENCE_SCHEMA` (unit, meaning, whether the quantity adds up across
parcels). The rules of :mod:`agroforest_geo.eudr.rules` read these columns;
:func:`agroforest_geo.eudr.assess` and :func:`agroforest_geo.run_assessment`
put them side by side.

A source's evidence is computed from its raw input (a raster, a layer) or from
the precomputed result of the library verb that measures it (a
``forest_cover_and_loss`` table, a ``protected_overlap`` table, the pairs of
``overlaps``), so that a result computed elsewhere (e.g. on Dask) gives the
same evidence. Parcels whose geometry is unusable (``ok`` is False) get NaN
evidence and are never passed to a measuring verb.

Sources
-------
* :func:`geometry_evidence` - from the one validation of the parcels;
* :func:`area_evidence` - ellipsoidal and declared area;
* :func:`forest_evidence` - forest at the cut-off and loss after it (one raster
  pass over the cover and loss rasters);
* :func:`protected_evidence` - protected / REDD+ areas (every option of
  :func:`agroforest_geo.protected_overlap` passes through);
* :func:`overlap_evidence` - other parcels (from the pairs of
  :func:`parcel_overlap_pairs`, which are kept for the report);
* :func:`tree_evidence` - tree inventory, planting records;
* :func:`forest_2020_evidence` - forest on the cut-off date by a 2020 map;
* :func:`commodity_evidence` - a commodity (cocoa) probability map;
* :func:`canopy_height_evidence` - canopy over 5 m from a canopy-height raster;
* :func:`records_evidence` - the cooperative's records (plots' ``system`` and
  ``planting_year``, parcels' ``crop``): agricultural use now and on the cut-off date;
* :func:`alert_evidence` - date-encoded disturbance alerts after the cut-off;
* :func:`carbon_evidence` - biomass, carbon and CO₂e from the plots' inventory or a
  biomass map (not read by the default rules).

Several sources of one role (two loss products, two 2020 maps) are measured one
by one and combined by :mod:`agroforest_geo.eudr.sources`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._cutoff import last_year_before_cutoff, parse_cutoff, year_is_after_cutoff
from ._landuse import (
    AGRICULTURAL_SYSTEMS,
    alert_evidence,
    canopy_height_evidence,
    commodity_evidence,
    forest_2020_evidence,
    records_evidence,
)
from ._tables import _col, _is_table, _measure_subset, _ok_mask, _on_index, _year_columns

__all__ = [
    "AGRICULTURAL_SYSTEMS",
    "CARBON_SCHEMA",
    "EVIDENCE_SCHEMA",
    "EvidenceColumn",
    "alert_evidence",
    "area_evidence",
    "canopy_height_evidence",
    "carbon_evidence",
    "commodity_evidence",
    "evidence_schema",
    "forest_2020_evidence",
    "forest_evidence",
    "geometry_evidence",
    "overlap_evidence",
    "pairs_from_overlaps",
    "parcel_overlap_pairs",
    "protected_evidence",
    "records_evidence",
    "split_cover_and_loss",
    "tree_evidence",
]


@dataclass(frozen=True)
class EvidenceColumn:
    """One column of the evidence: its source, unit, meaning and whether it adds up."""

    name: str
    source: str
    unit: str
    additive: bool
    meaning: str


def _c(name: str, source: str, unit: str, additive: bool, meaning: str) -> EvidenceColumn:
    return EvidenceColumn(name, source, unit, additive, meaning)


#: Every evidence column, by source. ``additive``: the quantity adds up across parcels
#: (hectares, counts); shares, densities, means and distances do not (sum, then divide).
#: ``loss_ha_<year>`` stands for one column per year of the loss product.
EVIDENCE_SCHEMA: tuple[EvidenceColumn, ...] = (
    _c("n_geometry_errors", "geometry", "count", True, "validation errors of the geometry"),
    _c("geometry_problem", "geometry", "text", False, "the validation errors, in words"),
    _c(
        "country",
        "country",
        "ISO 3166-1 alpha-2",
        False,
        "country of production, from the geometry",
    ),
    _c("country_risk", "country", "low/standard/high", False, "EU country benchmarking tier"),
    _c("area_ha", "area", "ha", True, "ellipsoidal area of the parcel"),
    _c("declared_area_ha", "area", "ha", True, "area declared by the member"),
    _c("area_difference_ha", "area", "ha", True, "declared minus measured area"),
    _c("declared_ratio", "area", "ratio", False, "declared / measured area"),
    _c("declared_off", "area", "bool", False, "declared area more than 10 % off"),
    _c("forest_ha_cutoff", "forest", "ha", True, "forest on the cut-off date"),
    _c("forest_share_cutoff", "forest", "share 0-1", False, "forest_ha_cutoff / area_ha"),
    _c("mean_cover_pct", "forest", "percent 0-100", False, "mean canopy cover (cover year)"),
    _c("loss_after_cutoff_ha", "forest", "ha", True, "forest loss in years after the cut-off"),
    _c("loss_after_cutoff_share", "forest", "share 0-1", False, "loss_after_cutoff_ha / area_ha"),
    _c(
        "loss_before_cutoff_ha",
        "forest",
        "ha",
        True,
        "forest loss after the cover year, up to the cut-off",
    ),
    _c("first_loss_year_after_cutoff", "forest", "year", False, "first year of loss after it"),
    _c(
        "valid_share",
        "forest",
        "share 0-1",
        False,
        "share of the parcel with data in every raster given (the least covered)",
    ),
    _c("loss_ha_<year>", "forest", "ha", True, "forest loss in that year"),
    _c("cover_valid_share", "forest", "share 0-1", False, "share with data, cover pass"),
    _c("loss_valid_share", "forest", "share 0-1", False, "share with data, loss pass"),
    _c("forest_share_cutoff_source", "forest", "text", False, "cover source(s) that decided"),
    _c("loss_after_cutoff_ha_source", "forest", "text", False, "loss source(s) that decided"),
    _c("forest_ha_2020", "forest_2020", "ha", True, "forest on the cut-off date by a 2020 map"),
    _c("forest_share_2020", "forest_2020", "share 0-1", False, "forest_ha_2020 / area_ha"),
    _c("forest_2020_valid_share", "forest_2020", "share 0-1", False, "share with map data"),
    _c("forest_share_2020_source", "forest_2020", "text", False, "map(s) that decided"),
    _c(
        "commodity_share_cutoff",
        "commodity",
        "share 0-1",
        False,
        "share mapped as the commodity by maps of the cut-off year or before",
    ),
    _c("commodity_share_now", "commodity", "share 0-1", False, "the same by later maps"),
    _c("commodity_cutoff_valid_share", "commodity", "share 0-1", False, "data, cut-off maps"),
    _c("commodity_now_valid_share", "commodity", "share 0-1", False, "data, later maps"),
    _c("commodity_share_cutoff_source", "commodity", "text", False, "map(s) that decided"),
    _c("commodity_share_now_source", "commodity", "text", False, "map(s) that decided"),
    _c(
        "tall_canopy_share",
        "canopy_height",
        "share 0-1",
        False,
        "share of the parcel under canopy of at least canopy_min_height_m (5 m)",
    ),
    _c("canopy_valid_share", "canopy_height", "share 0-1", False, "share with height data"),
    _c("tall_canopy_share_source", "canopy_height", "text", False, "raster(s) that decided"),
    _c("agri_plots", "records", "count", True, "agricultural (cocoa, agroforestry) plots"),
    _c("first_planting_year", "records", "year", False, "earliest planting year of those"),
    _c("records_agri_now", "records", "bool", False, "an agricultural plot or a crop recorded"),
    _c(
        "records_agri_at_cutoff",
        "records",
        "bool",
        False,
        "an agricultural plot planted on or before the cut-off",
    ),
    _c("agri_use_now", "land_use", "bool", False, "agricultural use now (records or maps)"),
    _c(
        "agri_use_at_cutoff",
        "land_use",
        "bool",
        False,
        "agricultural use on or before the cut-off (records or maps); 0: no record",
    ),
    _c("agri_use_now_source", "land_use", "text", False, "what says so"),
    _c("agri_use_at_cutoff_source", "land_use", "text", False, "what says so"),
    _c("alert_ha_after_cutoff", "alerts", "ha", True, "area alerted after the cut-off"),
    _c("alert_share_after_cutoff", "alerts", "share 0-1", False, "of the parcel"),
    _c("first_alert_date_after_cutoff", "alerts", "date", False, "first alert after it"),
    _c("alert_confidence", "alerts", "code", False, "highest confidence code of those alerts"),
    _c("alert_valid_share", "alerts", "share 0-1", False, "share with alert data"),
    _c("alert_ha_after_cutoff_source", "alerts", "text", False, "alert product(s) that decided"),
    _c(
        "<label>_<column>",
        "per_source",
        "as the column",
        False,
        "the evidence of one source of a role, before the sources are combined",
    ),
    _c("protected_ha", "protected", "ha", True, "area inside protected / REDD+ areas"),
    _c("protected_share", "protected", "share 0-1", False, "protected_ha / area_ha"),
    _c("n_protected_areas", "protected", "count", False, "protected areas the parcel meets"),
    _c("protected_area_ids", "protected", "text", False, "ids of those areas"),
    _c("protected_categories", "protected", "text", False, "their categories"),
    _c("distance_to_protected_m", "protected", "m", False, "geodesic distance to the nearest"),
    _c("in_buffer_band", "protected", "bool", False, "within buffer_m of an area"),
    _c("parcel_overlap_ha", "overlaps", "ha", False, "area shared with other parcels"),
    _c("n_parcel_overlaps", "overlaps", "count", False, "other parcels overlapping it"),
    _c("overlapping_parcels", "overlaps", "text", False, "ids of those parcels"),
    _c("tree_count", "trees", "count", True, "trees counted or planted"),
    _c("trees_per_ha", "trees", "trees/ha", False, "tree density"),
    _c(
        "agroforestry_evidence",
        "trees",
        "bool",
        False,
        "tree cover at the cut-off with a tree density in the agroforestry range",
    ),
)

#: Carbon columns (added when an inventory with wood densities or a biomass map is given);
#: intervals (``_p2_5``, ``_p97_5``: Monte-Carlo 95 %) do not add up across parcels.
CARBON_SCHEMA: tuple[EvidenceColumn, ...] = (
    _c("inventory_tree_count", "carbon", "count", True, "inventoried trees in the parcel's plots"),
    _c("inventory_agb_mg", "carbon", "Mg", True, "above-ground biomass of those trees"),
    _c("inventory_carbon_mg", "carbon", "Mg C", True, "their carbon"),
    _c("inventory_co2e_t", "carbon", "t CO2e", True, "their CO2 equivalent"),
    _c("inventory_co2e_t_p2_5", "carbon", "t CO2e", False, "2.5 % quantile of it"),
    _c("inventory_co2e_t_p97_5", "carbon", "t CO2e", False, "97.5 % quantile of it"),
    _c("map_agb_mg", "carbon", "Mg", True, "above-ground biomass by the biomass map"),
    _c("map_co2e_t", "carbon", "t CO2e", True, "its CO2 equivalent"),
    _c("map_covered_share", "carbon", "share 0-1", False, "share of the parcel the map covers"),
)

# validation codes that make the geometry unusable for the assessment (id problems do not)
_NOT_GEOMETRY = frozenset({"duplicate_id", "missing_id", "missing_crs", "missing_id_column"})


def evidence_schema() -> pd.DataFrame:
    """Return :data:`EVIDENCE_SCHEMA` as a table (one row per column).

    Examples
    --------
    >>> from agroforest_geo.eudr.evidence import evidence_schema
    >>> s = evidence_schema()
    >>> s.loc[s["name"] == "loss_after_cutoff_ha", ["unit", "additive"]].values.tolist()
    [['ha', True]]
    """
    return pd.DataFrame([c.__dict__ for c in EVIDENCE_SCHEMA])


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


# geometry and area
# --------------------------------------------------------------------------------------


def geometry_evidence(parcels: gpd.GeoDataFrame, validation: Any) -> pd.DataFrame:
    """Geometry errors of each parcel, from the one validation of the layer.

    Parameters
    ----------
    parcels : GeoDataFrame
    validation : ValidationReport
        The report of :func:`agroforest_geo.validate` (or of
        :func:`agroforest_geo.repair`) on these parcels. Findings about ids
        (duplicates, blanks) do not make a geometry unusable.

    Returns
    -------
    pandas.DataFrame
        ``n_geometry_errors`` (int) and ``geometry_problem`` (text) on the
        parcels' index.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"parcel_id": ["a", "b"]}, crs=32718,
    ...     geometry=[shapely.box(0, 0, 100, 100),
    ...               shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])])
    >>> g = geometry_evidence(p, agf.validate(p, kind="parcels"))
    >>> g["n_geometry_errors"].tolist()
    [0, 1]
    """
    f = validation.findings
    if len(validation.index) != len(parcels):
        raise ValueError(
            f"the validation report is of a layer of {len(validation.index)} features, the parcels "
            f"have {len(parcels)}: validate the parcels that are assessed"
        )
    f = f[f["position"].notna() & (f["severity"] == "error") & ~f["code"].isin(_NOT_GEOMETRY)]
    n = np.zeros(len(parcels), dtype=np.int64)
    text = [""] * len(parcels)
    for pos, code, msg in zip(f["position"].astype(int), f["code"], f["message"], strict=True):
        n[pos] += 1
        item = f"{code}: {msg}"
        text[pos] = f"{text[pos]} | {item}" if text[pos] else item
    return pd.DataFrame({"n_geometry_errors": n, "geometry_problem": text}, index=parcels.index)


def area_evidence(
    parcels: gpd.GeoDataFrame,
    *,
    ok: Any = None,
    declared_column: str = "declared_area_ha",
) -> pd.DataFrame:
    """Ellipsoidal area of each parcel and, when declared, the declared area.

    Parameters
    ----------
    parcels : GeoDataFrame
    ok : array of bool, optional
        Parcels with a usable geometry (others get NaN).
    declared_column : str
        Column with the declared hectares; its evidence columns are added when present.

    Returns
    -------
    pandas.DataFrame
        ``area_ha``; with declared areas also ``declared_area_ha``,
        ``area_difference_ha``, ``declared_ratio``, ``declared_off``.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(3)
    >>> a = area_evidence(parcels)
    >>> list(a.columns)
    ['area_ha', 'declared_area_ha', 'area_difference_ha', 'declared_ratio', 'declared_off']
    """
    from ..area import area_ha

    okm = _ok_mask(parcels, ok)
    out = pd.DataFrame(index=parcels.index)
    out["area_ha"] = area_ha(parcels).where(okm)
    if declared_column in parcels.columns:
        from ..declared import declared_vs_measured

        d = declared_vs_measured(parcels, declared_column=declared_column)
        for c in ("declared_area_ha", "area_difference_ha", "declared_ratio", "declared_off"):
            out[c] = d[c]
    return out


# --------------------------------------------------------------------------------------
# forest at the cut-off and loss after it
# --------------------------------------------------------------------------------------


def _threshold_for(product: Any, threshold: float) -> float | None:
    """Return the canopy-cover threshold of a cover raster (only percent cover takes one)."""
    if product is None:
        return threshold
    from ..products import Product, get

    kind = (product if isinstance(product, Product) else get(product)).kind
    return threshold if kind == "cover_percent" else None


def forest_tables(
    cover: Any,
    loss: Any,
    *,
    threshold: float,
    cutoff: dt.date,
    cover_product: Any,
    loss_product: Any,
    verb_options: Mapping[str, Any],
    measure: Any,
) -> tuple[Any, Any]:
    """Measure the cover and loss rasters (both in one pass); tables pass through as given.

    ``measure(verb, *rasters, **options)`` runs a raster verb on the parcels and
    returns its table on their index: in this process, or partition by
    partition on Dask (:mod:`agroforest_geo._remote`), with the same choice of
    verb and options either way.
    """
    from .. import cover as cover_mod

    opts = dict(verb_options)
    cut = cutoff.isoformat()
    t = _threshold_for(cover_product, threshold)
    cover_raster = cover is not None and not _is_table(cover)
    loss_raster = loss is not None and not _is_table(loss)
    if cover_raster and loss_raster:
        both = measure(
            cover_mod.forest_cover_and_loss,
            cover,
            loss,
            threshold=t,
            cutoff=cut,
            cover_product=cover_product,
            loss_product=loss_product,
            **opts,
        )
        return split_cover_and_loss(both)
    if cover_raster:
        cover = measure(cover_mod.forest_cover, cover, threshold=t, product=cover_product, **opts)
    if loss_raster:
        loss = measure(
            cover_mod.forest_loss, loss, threshold=t, cutoff=cut, product=loss_product, **opts
        )
    return cover, loss


def _raw_forest_tables(
    parcels: gpd.GeoDataFrame,
    ok: np.ndarray,
    cover: Any,
    loss: Any,
    *,
    threshold: float,
    cutoff: dt.date,
    cover_product: Any,
    loss_product: Any,
    verb_options: Mapping[str, Any],
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Return the cover and loss tables, from rasters in one pass or from precomputed tables."""
    if _is_table(cover):
        cover = _on_index(cover, parcels.index, "forest_cover")
    if _is_table(loss):
        loss = _on_index(loss, parcels.index, "forest_loss")

    def measure(verb: Any, *rasters: Any, **options: Any) -> pd.DataFrame:
        return _measure_subset(parcels, ok, verb, *rasters, **options)

    cov, lss = forest_tables(
        cover,
        loss,
        threshold=threshold,
        cutoff=cutoff,
        cover_product=cover_product,
        loss_product=loss_product,
        verb_options=verb_options,
        measure=measure,
    )
    return (cov if _is_table(cov) else None), (lss if _is_table(lss) else None)


def split_cover_and_loss(both: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a :func:`~agroforest_geo.forest_cover_and_loss` table into its cover and loss parts.

    Examples
    --------
    >>> import pandas as pd
    >>> both = pd.DataFrame({"forest_ha": [1.0], "loss_valid_share": [1.0], "loss_ha": [0.5]})
    >>> cov, lss = split_cover_and_loss(both)
    >>> list(cov.columns), list(lss.columns)
    (['forest_ha'], ['valid_share', 'loss_ha'])
    """
    loss_cols = [c for c in both.columns if str(c).startswith(("loss", "first_", "last_"))]
    cov = both.drop(columns=loss_cols)
    lss = both[loss_cols].rename(columns={"loss_valid_share": "valid_share"})
    return cov, lss


def _cover_year(cover_year: int | None, product: Any) -> int:
    if cover_year is not None:
        return int(cover_year)
    if product is not None:
        from ..products import Product, get

        p = product if isinstance(product, Product) else get(product)
        if p.reference_year is not None:
            return int(p.reference_year)
    return 2000


def _loss_after(lss: pd.DataFrame | None, cutoff: dt.date, index: pd.Index) -> pd.Series:
    """Loss after the cut-off, by the library's one annual rule when years are known."""
    years = _year_columns(lss)
    if lss is None:
        return pd.Series(np.nan, index=index)
    if years:
        cols = [c for y, c in years.items() if year_is_after_cutoff(y, cutoff)]
        after = lss[cols].sum(axis=1) if cols else pd.Series(0.0, index=index)
        known = lss[list(years.values())].notna().any(axis=1)
        if "loss_ha" in lss.columns:
            known |= lss["loss_ha"].notna()
        return after.where(known).astype(float)
    if "loss_after_cutoff_ha" in lss.columns:
        return _col(lss, "loss_after_cutoff_ha", index)
    if "loss_ha" in lss.columns:  # a raster pass with no loss anywhere
        return _col(lss, "loss_ha", index) * 0.0
    return pd.Series(np.nan, index=index)


def _first_year_after(lss: pd.DataFrame | None, cutoff: dt.date, index: pd.Index) -> pd.Series:
    first = pd.Series(np.nan, index=index)
    for y, c in reversed(_year_columns(lss).items()):
        if year_is_after_cutoff(y, cutoff):
            hit = pd.to_numeric(lss[c], errors="coerce").fillna(0) > 0  # type: ignore[index]
            first = first.mask(hit, float(y))
    return first


def forest_evidence(
    parcels: gpd.GeoDataFrame,
    *,
    cover: Any = None,
    loss: Any = None,
    cutoff: Any = "2020-12-31",
    threshold: float = 10.0,
    cover_year: int | None = None,
    cover_product: Any = None,
    loss_product: Any = None,
    area_ha: pd.Series | None = None,
    ok: Any = None,
    verb_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Forest on the cut-off date and forest loss after it, per parcel.

    With a cover and a loss raster both are read in one pass
    (:func:`agroforest_geo.forest_cover_and_loss`); loss counts only on forest
    pixels of the cover raster. Forest on the cut-off date is forest in
    ``cover_year`` minus the loss of the years after ``cover_year`` up to the
    cut-off. Which loss years are after the cut-off follows the library's one
    rule for annual products (:func:`agroforest_geo.eudr.parse_cutoff`; a year
    that straddles the cut-off counts as after it).

    Parameters
    ----------
    parcels : GeoDataFrame
    cover, loss : path, dataset or DataFrame, optional
        The rasters, or precomputed :func:`~agroforest_geo.forest_cover` /
        :func:`~agroforest_geo.forest_loss` (or ``forest_cover_and_loss``) tables on
        the parcels' index.
    cutoff : date-like
    threshold : float
        Canopy cover percent of a forest pixel (EUDR: 10).
    cover_year : int, optional
        The year the cover raster describes: by default the cover product's
        ``reference_year`` (e.g. 2020 for JRC GFC2020: no loss is subtracted), else
        2000 (Hansen ``treecover2000``).
    cover_product, loss_product : Product or str, optional
        What the rasters hold (:mod:`agroforest_geo.products`); a forest mask counts
        its forest classes, and loss only on its forest pixels.
    area_ha : Series, optional
        The parcels' hectares (computed when not given).
    ok : array of bool, optional
        Parcels with a usable geometry (others get NaN).
    verb_options : mapping, optional
        Keyword options passed to the raster verbs (``method``, ``n_jobs``,
        ``progress``, products, bands).

    Returns
    -------
    pandas.DataFrame
        ``forest_ha_cutoff``, ``forest_share_cutoff``, ``mean_cover_pct``,
        ``loss_after_cutoff_ha``, ``loss_after_cutoff_share``,
        ``loss_before_cutoff_ha``, ``first_loss_year_after_cutoff``,
        ``valid_share`` and ``loss_ha_<year>`` on the parcels' index.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> f = forest_evidence(parcels, cover=agf.datasets.get_path("treecover"),
    ...                     loss=agf.datasets.get_path("lossyear"))
    >>> int((f["loss_after_cutoff_ha"] >= 0.5).sum())
    14
    """
    cut = parse_cutoff(cutoff)
    okm = _ok_mask(parcels, ok)
    idx = parcels.index
    if area_ha is None:
        from ..area import area_ha as _area_ha

        area_ha = _area_ha(parcels).where(okm)
    cover_year = _cover_year(cover_year, cover_product)
    cov, lss = _raw_forest_tables(
        parcels,
        okm,
        cover,
        loss,
        threshold=threshold,
        cutoff=cut,
        cover_product=cover_product,
        loss_product=loss_product,
        verb_options=verb_options or {},
    )
    years = _year_columns(lss)
    last_before = last_year_before_cutoff(cut)
    ev = pd.DataFrame(index=idx)
    loss_valid = _col(lss, "valid_share", idx)
    after = _loss_after(lss, cut, idx).where(~(loss_valid == 0)).where(okm)
    before_cols = [c for y, c in years.items() if cover_year < y <= last_before]
    before = (
        lss[before_cols].sum(axis=1, min_count=1).fillna(0.0).astype(float)  # type: ignore[index]
        if before_cols
        else pd.Series(0.0, index=idx)
    )
    forest_ha = _col(cov, "forest_ha", idx)
    if cov is not None and "forest_ha" not in cov.columns and "forest_share" in cov.columns:
        forest_ha = _col(cov, "forest_share", idx) * area_ha
    cover_valid = _col(cov, "valid_share", idx)
    forest_ha = forest_ha.where(~(cover_valid == 0))
    forest_cut = (forest_ha - before).clip(lower=0.0).where(okm)
    ev["forest_ha_cutoff"] = forest_cut
    ev["forest_share_cutoff"] = (forest_cut / area_ha).clip(upper=1.0)
    ev["mean_cover_pct"] = _col(cov, "mean_cover_pct", idx)
    ev["loss_after_cutoff_ha"] = after
    ev["loss_after_cutoff_share"] = after / area_ha
    ev["loss_before_cutoff_ha"] = before.where(after.notna())
    ev["first_loss_year_after_cutoff"] = _first_year_after(lss, cut, idx)
    ev["valid_share"] = pd.concat([cover_valid, loss_valid], axis=1).min(axis=1).where(okm)
    for y, c in years.items():
        ev[f"loss_ha_{y}"] = _col(lss, c, idx)
    return ev


# --------------------------------------------------------------------------------------
# protected areas, other parcels, trees
# --------------------------------------------------------------------------------------


def protected_evidence(
    parcels: gpd.GeoDataFrame,
    protected: Any,
    *,
    ok: Any = None,
    **options: Any,
) -> pd.DataFrame:
    """Overlap of each parcel with protected / REDD+ areas, and the distance to them.

    Parameters
    ----------
    parcels : GeoDataFrame
    protected : path, GeoDataFrame or DataFrame
        The protected-areas layer (same CRS as the parcels), or a precomputed
        :func:`agroforest_geo.protected_overlap` table on the parcels' index.
    ok : array of bool, optional
        Parcels with a usable geometry (others get NaN).
    **options
        Passed to :func:`agroforest_geo.protected_overlap` unchanged
        (``buffer_m``, ``max_distance_m``, ``category_column``, ``n_jobs`` ...).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`~agroforest_geo.protected_overlap` (``protected_ha``,
        ``protected_share``, ``n_protected_areas``, ``protected_area_ids``,
        ``protected_categories``, ``distance_to_protected_m``, ``in_buffer_band``)
        without its ``area_ha``.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> areas = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    >>> p = protected_evidence(parcels, areas, buffer_m=500)
    >>> bool((p["distance_to_protected_m"] >= 0).all())
    True
    """
    if _is_table(protected):
        table = _on_index(protected, parcels.index, "protected_overlap")
    else:
        from ..io import read_protected_areas
        from ..protected import protected_overlap

        layer = (
            protected
            if isinstance(protected, gpd.GeoDataFrame)
            else read_protected_areas(protected)
        )
        table = _measure_subset(parcels, _ok_mask(parcels, ok), protected_overlap, layer, **options)
    return table.drop(columns=[c for c in ("area_ha",) if c in table.columns])


def parcel_overlap_pairs(
    parcels: gpd.GeoDataFrame, *, ok: Any = None, id_column: str | None = None
) -> gpd.GeoDataFrame:
    """Every pair of parcels that share land, with the shared geometry.

    One run of :func:`agroforest_geo.overlaps` on the usable parcels. The
    pairs are by row position (``position_left`` < ``position_right``), so
    they do not depend on the ids being unique; ``id_left`` / ``id_right``
    hold the ids (or index labels) as text.

    Returns
    -------
    GeoDataFrame
        ``position_left``, ``position_right``, ``id_left``, ``id_right``,
        ``overlap_ha``, ``relation`` and the shared geometry.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> pairs = parcel_overlap_pairs(parcels, id_column="parcel_id")
    >>> bool((pairs["overlap_ha"] > 0).all()), len(pairs) > 0
    (True, True)
    """
    from ..overlap import overlaps

    okm = _ok_mask(parcels, ok)
    cols = ["position_left", "position_right", "id_left", "id_right", "overlap_ha", "relation"]
    positions = np.flatnonzero(okm)
    if len(positions) < 2:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=float) for c in cols}, geometry=[], crs=parcels.crs
        )
    sub = parcels.iloc[positions]
    layer = gpd.GeoDataFrame(
        {"_position": positions}, geometry=sub.geometry.to_numpy(), crs=parcels.crs
    )
    return pairs_from_overlaps(overlaps(layer, id_column="_position"), parcels, id_column)


def pairs_from_overlaps(
    raw: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, id_column: str | None
) -> gpd.GeoDataFrame:
    """Turn the pairs of :func:`agroforest_geo.overlaps` by ``_position`` into overlap pairs.

    Examples
    --------
    >>> import agroforest_geo as agf, numpy as np
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> raw = agf.overlaps(parcels.assign(_position=np.arange(len(parcels))), id_column="_position")
    >>> pairs_from_overlaps(raw, parcels, "parcel_id").equals(
    ...     parcel_overlap_pairs(parcels, id_column="parcel_id"))
    True
    """
    pairs = raw[raw["overlap_ha"] > 0]
    labels = (
        parcels[id_column].astype(str).to_numpy()
        if id_column
        else parcels.index.astype(str).to_numpy()
    )
    left = pairs["_position_left"].to_numpy(dtype=np.intp)
    right = pairs["_position_right"].to_numpy(dtype=np.intp)
    left, right = np.minimum(left, right), np.maximum(left, right)
    out = gpd.GeoDataFrame(
        {
            "position_left": left,
            "position_right": right,
            "id_left": labels[left],
            "id_right": labels[right],
            "overlap_ha": pairs["overlap_ha"].to_numpy(dtype=float),
            "relation": pairs["relation"].to_numpy(),
        },
        geometry=pairs.geometry.to_numpy(),
        crs=parcels.crs,
    )
    return out.sort_values(["position_left", "position_right"], ignore_index=True)


def overlap_evidence(
    parcels: gpd.GeoDataFrame, pairs: gpd.GeoDataFrame, *, ok: Any = None
) -> pd.DataFrame:
    """Land each parcel shares with other parcels, from the pairs of :func:`parcel_overlap_pairs`.

    Returns
    -------
    pandas.DataFrame
        ``parcel_overlap_ha`` (sum over the pairs of the parcel; does not add
        up across parcels: each pair counts for both), ``n_parcel_overlaps``,
        ``overlapping_parcels`` (ids, comma-joined).

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> pairs = parcel_overlap_pairs(parcels, id_column="parcel_id")
    >>> o = overlap_evidence(parcels, pairs)
    >>> int(o["n_parcel_overlaps"].sum()) == 2 * len(pairs)
    True
    """
    n = len(parcels)
    okm = _ok_mask(parcels, ok)
    left = pairs["position_left"].to_numpy(dtype=np.intp)
    right = pairs["position_right"].to_numpy(dtype=np.intp)
    ha = pairs["overlap_ha"].to_numpy(dtype=float)
    total = np.bincount(left, weights=ha, minlength=n) + np.bincount(right, weights=ha, minlength=n)
    count = (np.bincount(left, minlength=n) + np.bincount(right, minlength=n)).astype(float)
    names: list[list[str]] = [[] for _ in range(n)]
    for i, j, a, b in zip(left, right, pairs["id_left"], pairs["id_right"], strict=True):
        names[i].append(str(b))
        names[j].append(str(a))
    out = pd.DataFrame(
        {
            "parcel_overlap_ha": np.where(okm, total[:n], np.nan),
            "n_parcel_overlaps": np.where(okm, count[:n], np.nan),
            "overlapping_parcels": [",".join(sorted(x)) for x in names],
        },
        index=parcels.index,
    )
    return out


def tree_evidence(
    parcels: gpd.GeoDataFrame,
    *,
    trees: Any = None,
    plots: gpd.GeoDataFrame | None = None,
    area_ha: pd.Series | None = None,
    ok: Any = None,
) -> pd.DataFrame:
    """Trees and tree density of each parcel.

    With ``plots``: the trees of each parcel's agroforestry plots (the
    inventory count where a plot was inventoried, else its ``trees_planted``
    record; see :func:`agroforest_geo.eudr.parcel_tree_density`). Without
    plots: the inventory points inside each parcel. The layers must share the
    parcels' CRS (:func:`agroforest_geo.run_assessment` reprojects and records it).

    Parameters
    ----------
    parcels : GeoDataFrame
    trees : path, GeoDataFrame or DataFrame, optional
        Tree inventory points, or a precomputed :func:`agroforest_geo.tree_density`
        table on the parcels' index (``trees_per_ha``, optional ``tree_count``).
    plots : GeoDataFrame, optional
        Agroforestry plots with ``parcel_id`` (and ``system``, ``trees_planted``).
    area_ha : Series, optional
        The parcels' hectares, to derive a density from a count.
    ok : array of bool, optional

    Returns
    -------
    pandas.DataFrame
        ``tree_count`` and ``trees_per_ha`` on the parcels' index.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> t = tree_evidence(parcels, plots=plots)
    >>> bool(t["trees_per_ha"].dropna().between(20, 400).all())
    True
    """
    idx = parcels.index
    okm = _ok_mask(parcels, ok)
    if trees is None and plots is None:
        return pd.DataFrame({"tree_count": np.nan, "trees_per_ha": np.nan}, index=idx, dtype=float)
    if _is_table(trees):
        table = _on_index(trees, idx, "tree_density")
    elif plots is not None:
        from .assess import parcel_tree_density

        layer = _tree_layer(trees) if trees is not None else None
        table = parcel_tree_density(parcels, plots, layer)
    else:
        from ..trees import tree_density

        layer = _tree_layer(trees)
        table = _measure_subset(parcels, okm, tree_density, trees=layer)
    out = pd.DataFrame(index=idx)
    out["tree_count"] = _col(table, "tree_count", idx).where(okm)
    out["trees_per_ha"] = _col(table, "trees_per_ha", idx).where(okm)
    if "trees_per_ha" not in table.columns and "tree_count" in table.columns:
        if area_ha is None:
            from ..area import area_ha as _area_ha

            area_ha = _area_ha(parcels)
        out["trees_per_ha"] = out["tree_count"] / area_ha
    return out


def carbon_evidence(
    parcels: gpd.GeoDataFrame,
    *,
    plots: gpd.GeoDataFrame | None = None,
    trees: Any = None,
    biomass_map: Any = None,
    biomass_product: Any = None,
    options: Mapping[str, Any] | None = None,
    id_column: str = "parcel_id",
) -> pd.DataFrame:
    """Biomass, carbon and CO₂e of each parcel, from its plots' inventory and/or a biomass map.

    From an inventory (``plots`` with ``parcel_id`` and ``trees``): the trees of
    each parcel's plots through :func:`agroforest_geo.carbon.carbon_rollup`
    (``options`` are its keywords, e.g. ``wood_density_table``, ``n_draws``,
    ``seed``), with the Monte-Carlo 95 % interval of the CO₂e. From a biomass
    map (Mg/ha): the exact integral over the parcel
    (:func:`agroforest_geo.carbon.biomass_from_map`). Columns of
    :data:`CARBON_SCHEMA`; parcels without an inventoried plot get NaN.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd, warnings
    >>> get = agf.datasets.get_path
    >>> parcels, plots = agf.read_parcels(get("parcels")), agf.read_plots(get("plots"))
    >>> trees = gpd.read_file(get("tree_inventory"), layer="trees")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     c = carbon_evidence(parcels, plots=plots, trees=trees,
    ...                         options={"wood_density_table": get("wood_density"), "n_draws": 0})
    >>> bool((c["inventory_co2e_t"].dropna() > 0).all()), c.index.equals(parcels.index)
    (True, True)
    """
    return carbon_columns(
        parcels, plots=plots, trees=trees, biomass_map=biomass_map,
        biomass_product=biomass_product, options=options, id_column=id_column,
    )[0]  # fmt: skip


def carbon_columns(
    parcels: gpd.GeoDataFrame,
    *,
    plots: gpd.GeoDataFrame | None,
    trees: Any,
    biomass_map: Any,
    biomass_product: Any,
    options: Mapping[str, Any] | None,
    id_column: str,
    by_system: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """:func:`carbon_evidence`, and with ``by_system`` the per-system roll-up of the same draws."""
    from ..carbon import biomass_from_map
    from ..carbon._plots import rollups

    out = pd.DataFrame(index=parcels.index)
    system = None
    if plots is not None and trees is not None:
        groupings = [["parcel_id"], ["system"]] if by_system else [["parcel_id"]]
        tables = rollups(plots, _tree_layer(trees), groupings, **dict(options or {}))
        by = tables[0]
        system = tables[1] if by_system else None
        ids = parcels[id_column].astype(str) if id_column in parcels else parcels.index
        by.index = by.index.astype(str)
        for col, src in (
            ("inventory_tree_count", "tree_count"),
            ("inventory_agb_mg", "agb_mg"),
            ("inventory_carbon_mg", "carbon_mg"),
            ("inventory_co2e_t", "co2e_t"),
            ("inventory_co2e_t_p2_5", "co2e_t_p2_5"),
            ("inventory_co2e_t_p97_5", "co2e_t_p97_5"),
        ):
            out[col] = ids.map(by[src]).to_numpy(dtype=float) if src in by else np.nan
    if biomass_map is not None:
        m = biomass_from_map(parcels, biomass_map, product=biomass_product)
        out["map_agb_mg"] = m["agb_mg"]
        out["map_co2e_t"] = m["co2e_t"]
        out["map_covered_share"] = m["covered_share"]
    return out, system


def _tree_layer(trees: Any) -> gpd.GeoDataFrame:
    from ..io import read_raw

    if isinstance(trees, gpd.GeoDataFrame):
        return trees
    if isinstance(trees, str | Path):
        return read_raw(trees)
    raise TypeError(
        "trees must be a tree_density result (DataFrame on the parcels' index), a tree "
        f"inventory GeoDataFrame of points, or a path to one; got {type(trees).__name__}"
    )


# --------------------------------------------------------------------------------------
# land use on the cut-off date: 2020 maps, commodity maps, canopy height, own records

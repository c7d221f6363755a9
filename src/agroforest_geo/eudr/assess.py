"""Deforestation-free assessment of parcels under the EUDR.

:func:`assess` gathers the evidence of every source for every parcel (see
:mod:`agroforest_geo.eudr.evidence`: geometry, area, forest at the cut-off and
loss after it, protected areas, other parcels, trees) into one table on the
parcels' index, then applies the rule table of :mod:`agroforest_geo.eudr.rules`
to decide a ``status`` and list the ``reasons``. Evidence can be computed here
from rasters and layers, or passed in precomputed, as DataFrames on the
parcels' index. :func:`agroforest_geo.run_assessment` is the whole workflow
(reading, repair, validation, reprojection, the report) around the same steps.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from .._cutoff import parse_cutoff
from .._points import point_buffer_column
from ..crs import require_crs
from ..errors import MissingColumnError
from . import evidence as ev_mod
from ._apply import apply_rules
from ._combine import combine_evidence, measure_sources, without_each_source
from ._sensitivity import verdict_sensitivity
from .rules import RULES_VERSION, Rule, resolve_rules, rules_table
from .sources import Source, as_sources

__all__ = ["EVIDENCE_COLUMNS", "assess", "parcel_tree_density", "parse_cutoff"]

#: The evidence columns of the assessment table, in order (``loss_ha_<year>`` follow).
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "area_ha",
    "forest_ha_cutoff",
    "forest_share_cutoff",
    "mean_cover_pct",
    "loss_after_cutoff_ha",
    "loss_after_cutoff_share",
    "loss_before_cutoff_ha",
    "first_loss_year_after_cutoff",
    "valid_share",
    "protected_ha",
    "protected_share",
    "parcel_overlap_ha",
    "n_parcel_overlaps",
    "tree_count",
    "trees_per_ha",
    "agroforestry_evidence",
    "forest_share_2020",
    "commodity_share_cutoff",
    "commodity_share_now",
    "tall_canopy_share",
    "first_planting_year",
    "agri_use_now",
    "agri_use_at_cutoff",
    "alert_ha_after_cutoff",
    "first_alert_date_after_cutoff",
    "alert_confidence",
    "n_geometry_errors",
    "geometry_problem",
)

#: Descriptive columns of protected_overlap carried into the assessment table.
_PROTECTED_DETAIL = (
    "protected_area_ids",
    "protected_categories",
    "distance_to_protected_m",
    "in_buffer_band",
)


@dataclass(frozen=True)
class _Sources:
    """The inputs of the evidence, as given (raster roles as lists of :class:`Source`)."""

    cover: list[Source] = field(default_factory=list)
    loss: list[Source] = field(default_factory=list)
    protected: Any = None
    trees: Any = None
    plots: gpd.GeoDataFrame | None = None
    pairs: gpd.GeoDataFrame | None = None
    forest_2020: list[Source] = field(default_factory=list)
    commodity: list[Source] = field(default_factory=list)
    canopy_height: list[Source] = field(default_factory=list)
    alerts: list[Source] = field(default_factory=list)
    biomass_map: Any = None
    biomass_product: Any = None
    carbon_options: Mapping[str, Any] | None = None
    protected_options: Mapping[str, Any] = field(default_factory=dict)
    raster_options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, *, cover_product: Any = None, loss_product: Any = None, **given: Any) -> _Sources:
        """Normalise the raster inputs (one raster, a (raster, product) pair or a list)."""
        given["cover"] = as_sources(given.get("cover"), "cover", product=cover_product)
        given["loss"] = as_sources(given.get("loss"), "loss", product=loss_product)
        for role in ("forest_2020", "commodity", "canopy_height", "alerts"):
            given[role] = as_sources(given.get(role), role)
        return cls(**given)

    def roles_sources(self) -> dict[str, list[Source]]:
        """Return the sources of each raster role."""
        return {
            r: list(getattr(self, r))
            for r in ("cover", "loss", "forest_2020", "commodity", "canopy_height", "alerts")
        }


class Collected(NamedTuple):
    """What :func:`collect_evidence` gathers."""

    evidence: pd.DataFrame
    pairs: gpd.GeoDataFrame
    carbon_by_system: pd.DataFrame | None


def collect_evidence(
    parcels: gpd.GeoDataFrame,
    validation: Any,
    sources: _Sources,
    *,
    cutoff: dt.date,
    thresholds: Mapping[str, float],
    cover_year: int | None,
    id_column: str | None,
) -> Collected:
    """Every evidence column of every source, the parcel-overlap pairs and the carbon roll-up."""
    geom = ev_mod.geometry_evidence(parcels, validation)
    ok = (geom["n_geometry_errors"] == 0).to_numpy()
    area = ev_mod.area_evidence(parcels, ok=ok)
    per_source, roles = measure_sources(
        parcels, sources, ok=ok, area_ha=area["area_ha"], cutoff=cutoff,
        thresholds=thresholds, cover_year=cover_year,
    )  # fmt: skip
    if sources.protected is not None:
        prot = ev_mod.protected_evidence(
            parcels, sources.protected, ok=ok, **dict(sources.protected_options)
        )
    else:
        prot = pd.DataFrame(index=parcels.index)
    pairs = sources.pairs
    if pairs is None:
        pairs = ev_mod.parcel_overlap_pairs(parcels, ok=ok, id_column=id_column)
    over = ev_mod.overlap_evidence(parcels, pairs, ok=ok)
    trees = ev_mod.tree_evidence(
        parcels, trees=sources.trees, plots=sources.plots, area_ha=area["area_ha"], ok=ok
    )
    records = ev_mod.records_evidence(parcels, plots=sources.plots, cutoff=cutoff, ok=ok)
    carbon, carbon_by_system = _carbon(parcels, sources, id_column)
    country = _country(parcels, ok)
    evidence = pd.concat(
        [area, prot, over, trees, records, geom, country, carbon, per_source], axis=1
    )
    evidence = combine_evidence(evidence, roles, thresholds=thresholds, cutoff=cutoff)
    for col in ev_mod.EVIDENCE_SCHEMA:  # a source not given: its columns are unknown (NaN)
        if col.name not in evidence.columns and "<" not in col.name:
            evidence[col.name] = np.nan
    evidence.attrs["sources"] = roles
    return Collected(evidence, pairs, carbon_by_system)


def _country(parcels: gpd.GeoDataFrame, ok: np.ndarray) -> pd.DataFrame:
    """Country of production and its EU risk tier (Implementing Regulation (EU) 2025/1093)."""
    from .country import country_evidence

    out = pd.DataFrame({"country": pd.NA, "country_risk": pd.NA}, index=parcels.index, dtype=object)
    if ok.any():
        found = country_evidence(parcels[ok])
        rows = np.flatnonzero(ok)
        out.iloc[rows, 0] = found["country"].to_numpy(dtype=object)
        out.iloc[rows, 1] = found["country_risk"].to_numpy(dtype=object)
    return out


def _carbon(
    parcels: gpd.GeoDataFrame, sources: _Sources, id_column: str | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Carbon evidence when asked for, and the per-system roll-up of the same draws.

    Evidence from a biomass map or the plots' inventory; the roll-up when the
    plots have a ``system``.
    """
    inventory = sources.carbon_options is not None and sources.plots is not None
    if not inventory and sources.biomass_map is None:
        return pd.DataFrame(index=parcels.index), None
    trees = sources.trees if inventory and not ev_mod._is_table(sources.trees) else None
    plots = sources.plots if inventory else None
    return ev_mod.carbon_columns(
        parcels,
        plots=plots,
        trees=trees,
        biomass_map=sources.biomass_map,
        biomass_product=sources.biomass_product,
        options=sources.carbon_options,
        id_column=id_column or "parcel_id",
        by_system=plots is not None and trees is not None and "system" in plots.columns,
    )


def result_table(
    parcels: gpd.GeoDataFrame,
    evidence: pd.DataFrame,
    decided: pd.DataFrame,
    id_column: str | None,
) -> pd.DataFrame:
    """Assemble the assessment table: id, status, reasons, fired rules, then the evidence."""
    out = pd.DataFrame(index=parcels.index)
    if id_column is not None:
        out[id_column] = parcels[id_column]
    out = pd.concat([out, decided], axis=1)
    for c in EVIDENCE_COLUMNS:
        out[c] = evidence[c]
    out["overlapping_parcels"] = evidence["overlapping_parcels"]
    for c in ("country", "country_risk"):
        if c in evidence.columns:
            out[c] = evidence[c]
    buffer = point_buffer_column(parcels)  # point plots: measured as circles of this area
    if buffer is not None:
        out["point_buffer_ha"] = buffer
    for c in _PROTECTED_DETAIL:
        if c in evidence.columns:
            out[c] = evidence[c]
    for c in evidence.columns:
        if c.startswith("loss_ha_"):
            out[c] = evidence[c]
    for col in ev_mod.CARBON_SCHEMA:
        if col.name in evidence.columns:
            out[col.name] = evidence[col.name]
    return out


def _check_parcels(parcels: Any, id_column: str | None) -> str | None:
    if not isinstance(parcels, gpd.GeoDataFrame):
        raise TypeError(f"parcels must be a GeoDataFrame, got {type(parcels).__name__}")
    require_crs(parcels, "parcels")
    if id_column is not None and id_column not in parcels.columns:
        if id_column != "parcel_id":
            raise MissingColumnError(
                f"id_column {id_column!r} is not a column of parcels; its columns are "
                f"{[c for c in parcels.columns if c != parcels.geometry.name]}; "
                "pass id_column=None to go without ids"
            )
        return None
    return id_column


def decide(
    parcels: gpd.GeoDataFrame,
    evidence: pd.DataFrame,
    rule_set: Sequence[Rule],
    *,
    thresholds: Mapping[str, float],
    cutoff: dt.date,
    id_column: str | None,
    custom_rules: bool,
) -> pd.DataFrame:
    """Apply the rules to the evidence; the assessment table with its ``attrs``."""
    decided = apply_rules(evidence, rule_set)
    sources = {
        s: [c.name for c in ev_mod.EVIDENCE_SCHEMA if c.source == s]
        for s in ("forest", "protected", "overlaps", "trees")
    }
    sources["forest"] += [c for c in evidence.columns if c.startswith("loss_ha_")]
    variants = without_each_source(evidence, thresholds=thresholds, cutoff=cutoff)
    change = verdict_sensitivity(
        evidence, rule_set, decided["status"], sources=sources, variants=variants
    )
    decided["what_would_change"] = change["what_would_change"]
    out = result_table(parcels, evidence, decided, id_column)
    out.attrs["rules_version"] = "custom" if custom_rules else RULES_VERSION
    out.attrs["cutoff"] = cutoff.isoformat()
    out.attrs["rules"] = rules_table(rule_set)
    out.attrs["thresholds"] = dict(thresholds)
    return out


def assess(
    parcels: gpd.GeoDataFrame,
    *,
    cover: Any = None,
    loss: Any = None,
    protected: Any = None,
    trees: Any = None,
    plots: gpd.GeoDataFrame | None = None,
    cutoff: str | dt.date | pd.Timestamp = "2020-12-31",
    rules: Mapping[str, float] | Sequence[Rule] | None = None,
    cover_year: int | None = None,
    cover_product: Any = None,
    loss_product: Any = None,
    forest_2020: Any = None,
    commodity: Any = None,
    canopy_height: Any = None,
    alerts: Any = None,
    id_column: str | None = "parcel_id",
    validation: Any = None,
    protected_options: Mapping[str, Any] | None = None,
    raster_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Decide for every parcel whether it is deforestation-free since the cut-off.

    The evidence of every source (:mod:`agroforest_geo.eudr.evidence`) is
    gathered into columns on the parcels' index, then the rules of
    :data:`agroforest_geo.eudr.DEFAULT_RULES` (changed by ``rules``) are
    applied: each rule that fires is listed in ``reasons`` and the parcel gets
    the most severe status among them (``invalid_geometry`` >
    ``deforestation_detected`` > ``needs_review`` > ``deforestation_free``).
    Every parcel is kept, invalid ones included. Layers must share the
    parcels' CRS: nothing is reprojected here (:func:`agroforest_geo.run_assessment`
    reprojects and records it).

    Agroforestry: shade trees over cocoa are not forest under EUDR Art. 2(4)
    (agricultural plantations, agroforestry included, are excluded). The rules
    therefore never flag a parcel for *having* tree cover: high cover at the
    cut-off with no loss after it is ``deforestation_free``, and with a tree
    density in the agroforestry range it is noted as
    ``agroforestry_evidence``. Loss after the cut-off of at least
    ``loss_after_cutoff_min_ha`` is ``deforestation_detected`` on any parcel,
    agroforestry or not (the loss product cannot tell forest from shade trees),
    while smaller loss (canopy thinning, shade-tree management) is
    ``needs_review``. See :mod:`agroforest_geo.eudr.rules`.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcels with a CRS (any; hectares are ellipsoidal).
    cover : path or DataFrame, optional
        Tree-cover raster (percent canopy cover, e.g. Hansen treecover2000), or a
        precomputed :func:`agroforest_geo.forest_cover` table on the parcels' index
        (``forest_ha`` or ``forest_share``, optional ``valid_share``, ``mean_cover_pct``).
    loss : path or DataFrame, optional
        Loss-year raster (Hansen encoding), or a precomputed
        :func:`agroforest_geo.forest_loss` table on the parcels' index
        (``loss_after_cutoff_ha`` and/or ``loss_ha_<year>`` columns, optional ``valid_share``).
        With a cover raster, both are read in one pass and only loss in forest
        pixels of the cover counts.
    protected : path, GeoDataFrame or DataFrame, optional
        Protected / REDD+ areas layer, or a precomputed
        :func:`agroforest_geo.protected_overlap` table (``protected_ha``, ``protected_share``).
    trees : path, GeoDataFrame or DataFrame, optional
        Tree inventory points, or a precomputed :func:`agroforest_geo.tree_density`
        table (``trees_per_ha``, optional ``tree_count``).
    plots : GeoDataFrame, optional
        Agroforestry plots with ``parcel_id``: tree density of each parcel's plots
        (inventory counts, else ``trees_planted``).
    cutoff : str, datetime.date or pandas.Timestamp
        The cut-off date, ISO ``"YYYY-MM-DD"``; default 31 December 2020 (EUDR).
        Loss data are annual: with a cut-off other than 31 December, the loss of
        the cut-off year counts as *after* it (the conservative reading).
    rules : mapping or sequence of Rule, optional
        Threshold overrides by parameter name, e.g. ``{"loss_after_cutoff_min_ha": 0.1}``,
        or a full replacement rule table (see :func:`~agroforest_geo.eudr.rules.resolve_rules`);
        a rule may read any evidence column.
    cover_year : int, optional
        Year of the cover raster (default: the cover product's reference year, else
        2000). Forest at the cut-off is estimated as forest in ``cover_year`` minus
        the loss of the years after it up to the cut-off.
    cover_product, loss_product : Product or str, optional
        What the rasters hold (:mod:`agroforest_geo.products`), e.g.
        ``cover_product="jrc_gfc2020"`` for the JRC 2020 forest mask (forest on the
        cut-off date directly; loss counts only on its forest pixels). For one raster
        given alone; a list gives each source its product.
    forest_2020, commodity, canopy_height, alerts : source or list of sources, optional
        Land use on the cut-off date and alerts after it, each a raster with its
        product (``(raster, product)``, a :class:`~agroforest_geo.eudr.Source`, or a
        list of them): a 2020 forest map (``forest_mask``, e.g. ``"jrc_gfc2020"``),
        a commodity map (``commodity_probability``; its ``reference_year`` says
        whether it is the use on the cut-off date or now), a canopy-height raster
        (``canopy_height_m``) and date-encoded alerts (``disturbance_date``, e.g.
        ``"radd_alerts"``). ``cover`` and ``loss`` take lists too. Each source's
        evidence is kept in columns prefixed by its label; the combined columns
        keep their names, combined by the rule-table parameters
        ``<role>_sources_required`` (1: any source, the default; k: at least k;
        ``"all"``), see :mod:`agroforest_geo.eudr.sources`.
    id_column : str or None
        Parcel id column (copied to the result; used to name overlapping parcels).
    validation : ValidationReport, optional
        The validation of these parcels, when already done (else it is run once here).
    protected_options, raster_options : mapping, optional
        Keyword options of :func:`~agroforest_geo.protected_overlap` (``buffer_m``,
        ``max_distance_m`` ...) and of the raster verbs (``method``, ``n_jobs`` ...).

    Returns
    -------
    pandas.DataFrame
        On the parcels' index: the id column, ``status``, ``reasons``,
        ``rules_fired`` (";"-joined codes), ``what_would_change`` (the smallest
        change of one threshold, or one source less, that changes the status, in
        words; empty when none does), the evidence columns of
        :data:`EVIDENCE_COLUMNS`, ``overlapping_parcels`` and ``loss_ha_<year>``
        (when known). ``attrs`` holds ``rules_version``, ``cutoff`` and the rules used.
        Hectares add up across parcels; shares and densities do not.

    Examples
    --------
    >>> import agroforest_geo as agf, pandas as pd
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(3)
    >>> cover = pd.DataFrame({"forest_share": [0.8, 0.8, 0.0]}, index=parcels.index)
    >>> loss = pd.DataFrame({"loss_after_cutoff_ha": [0.0, 2.0, 0.0]}, index=parcels.index)
    >>> result = agf.eudr.assess(parcels, cover=cover, loss=loss)
    >>> result["status"].tolist()
    ['deforestation_free', 'deforestation_detected', 'deforestation_free']
    >>> result.loc[1, "rules_fired"]
    'deforestation_after_cutoff;loss_after_cutoff'
    """
    id_column = _check_parcels(parcels, id_column)
    cut = parse_cutoff(cutoff)
    rule_set, th = resolve_rules(rules)
    if validation is None:
        from ..validate import validate

        validation = validate(parcels, kind="parcels", id_column=id_column)
    sources = _Sources.of(
        cover=cover,
        loss=loss,
        protected=protected,
        trees=trees,
        plots=plots,
        cover_product=cover_product,
        loss_product=loss_product,
        forest_2020=forest_2020,
        commodity=commodity,
        canopy_height=canopy_height,
        alerts=alerts,
        protected_options=dict(protected_options or {}),
        raster_options=dict(raster_options or {}),
    )
    evidence = collect_evidence(
        parcels,
        validation,
        sources,
        cutoff=cut,
        thresholds=th,
        cover_year=cover_year,
        id_column=id_column,
    ).evidence
    custom = not (rules is None or isinstance(rules, Mapping))
    return decide(
        parcels,
        evidence,
        rule_set,
        thresholds=th,
        cutoff=cut,
        id_column=id_column,
        custom_rules=custom,
    )


def parcel_tree_density(
    parcels: gpd.GeoDataFrame, plots: gpd.GeoDataFrame, trees: gpd.GeoDataFrame | None
) -> pd.DataFrame:
    """Trees per hectare of each parcel's agroforestry plots, on the parcels' index.

    Per plot, the inventory count where the plot was inventoried, else the
    ``trees_planted`` record; counts and plot hectares are summed per parcel
    and then divided (densities do not add up). Only plots whose ``system``
    contains "agroforestry" count (all plots without a ``system`` column).

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    >>> d = agf.eudr.parcel_tree_density(parcels, plots, trees)
    >>> d.index.equals(parcels.index), bool(d["trees_per_ha"].dropna().between(20, 400).all())
    (True, True)
    """
    from ..area import area_ha
    from ..trees import tree_density

    sel = plots
    if "system" in plots.columns:
        sel = plots[plots["system"].astype(str).str.contains("agroforestry", na=False)]
    sel = sel[sel.geom_type.isin(["Polygon", "MultiPolygon"])]
    counts = pd.Series(np.nan, index=sel.index)
    if trees is not None and len(sel):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # points outside every plot: expected here
            obs = tree_density(sel, trees=trees.to_crs(sel.crs))
        counts = obs["tree_count"].where(obs["tree_count"] > 0)
    if "trees_planted" in sel.columns:
        counts = counts.fillna(pd.to_numeric(sel["trees_planted"], errors="coerce"))
    table = pd.DataFrame(
        {"parcel_id": sel["parcel_id"].astype(str), "count": counts, "ha": area_ha(sel)}
    ).dropna()
    agg = table.groupby("parcel_id")[["count", "ha"]].sum()
    ids = parcels["parcel_id"].astype(str)
    out = pd.DataFrame(index=parcels.index)
    out["tree_count"] = ids.map(agg["count"]).to_numpy()
    out["trees_per_ha"] = (ids.map(agg["count"]) / ids.map(agg["ha"])).to_numpy()
    return out

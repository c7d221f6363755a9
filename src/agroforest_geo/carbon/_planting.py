"""Biomass of planted plots from their planting records (census-based, VM0047 style)."""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd

from ..area import area_ha
from ..errors import MissingColumnError
from ._plots import CO2_PER_C, _assign, _read_trees

__all__ = ["planting_estimate"]


def _tree_classes(
    plots: gpd.GeoDataFrame,
    pts: gpd.GeoDataFrame,
    agb: pd.Series,
    year: pd.Series,
    survey_year: int,
    tree_species_column: str,
    age_class_years: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    ipt, ipl, _ = _assign(plots, pts)
    first = pd.Series(ipl, index=ipt).groupby(level=0).first()
    plot_of = np.full(len(pts), -1)
    plot_of[first.index.to_numpy()] = first.to_numpy()
    inside = plot_of >= 0
    ages = survey_year - year.to_numpy(float)[plot_of[inside]]
    ref = pd.DataFrame(
        {
            "species": pts[tree_species_column].to_numpy(dtype=object)[inside],
            "age_class": np.floor(ages / age_class_years),
            # a surviving tree below breast height has (almost) no above-ground biomass
            "agb_kg": np.nan_to_num(agb.to_numpy(float)[inside], nan=0.0),
        }
    )
    counts = np.bincount(plot_of[inside], minlength=len(plots))
    return ref, counts


def _survival(
    planted: np.ndarray, counts: np.ndarray, survival_rate: float | None, min_trees: int
) -> tuple[float, str]:
    if survival_rate is not None:
        if not 0 < survival_rate <= 1:
            raise ValueError(f"survival_rate must be in (0, 1], got {survival_rate}")
        return float(survival_rate), f"survival rate {survival_rate:.3g} as given"
    use = (counts >= min_trees) & (planted > 0)
    if not use.any():
        raise ValueError(
            "no plot has both planting records and an inventory to measure survival; pass "
            "survival_rate="
        )
    rate = float(counts[use].sum() / planted[use].sum())
    return rate, (
        f"survival rate {rate:.3g} measured on {int(use.sum())} inventoried plot(s) "
        "(trees found / trees planted), assuming those inventories are complete"
    )


def planting_estimate(
    plots: gpd.GeoDataFrame,
    trees: gpd.GeoDataFrame | str | os.PathLike[str],
    *,
    tree_agb_kg: pd.Series,
    planted_column: str = "trees_planted",
    year_column: str = "planting_year",
    species_column: str = "species",
    tree_species_column: str = "species",
    survey_year: int,
    survival_rate: float | None = None,
    age_class_years: int = 3,
    min_trees: int = 5,
    carbon_fraction: float = 0.47,
) -> pd.DataFrame:
    """Estimate the biomass of planted plots from trees planted × survival × per-tree biomass.

    For plots with planting records but few measured trees (VM0047's census-based
    approach): surviving trees = ``trees_planted × survival_rate``, each with the
    mean biomass of the measured trees of the same species and age class (trees
    below breast height count with 0). The result is an **estimate** resting on
    the assumptions listed in ``.attrs["assumptions"]`` and in the ``basis`` column.

    Parameters
    ----------
    plots : GeoDataFrame
        Plots with the planting records.
    trees : GeoDataFrame or path
        Measured trees (points in the plots' CRS), on the index of ``tree_agb_kg``.
    tree_agb_kg : Series
        Biomass of each tree in kg (``tree_biomass(...)["agb_kg"]``).
    planted_column, year_column : str
        Plot columns: trees planted, planting year.
    species_column : str
        Plot column with the planted species, ``;``-separated (planted in equal shares).
    tree_species_column : str
        Tree column with the species.
    survey_year : int
        Year the trees were measured; ages are ``survey_year - planting_year``.
    survival_rate : float, optional
        Share of planted trees alive; by default measured on the plots with at
        least ``min_trees`` inventoried trees (assumed complete inventories).
    age_class_years : int
        Width of the age classes.
    min_trees : int
        Trees needed in a plot to measure survival there.
    carbon_fraction : float
        Carbon per unit dry biomass.

    Returns
    -------
    pandas.DataFrame
        On the plots' index: ``trees_planted``, ``survival_rate``,
        ``surviving_trees``, ``age_years``, ``per_tree_agb_kg``,
        ``reference_trees``, ``basis`` (``species_age_class``, ``age_class`` or
        ``none``), ``agb_mg``, ``agb_mg_sd``, ``agb_mg_ha``, ``carbon_mg``,
        ``co2e_t``, ``co2e_t_ha`` and ``source`` = ``"planting_records_estimate"``.
        NaN without planting records or without reference trees.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd, warnings
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    >>> table = agf.datasets.get_path("wood_density")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     agb = agf.carbon.tree_biomass(trees, wood_density_table=table)["agb_kg"]
    ...     est = agf.carbon.planting_estimate(plots, trees, tree_agb_kg=agb, survey_year=2024)
    >>> est["source"].iloc[0], bool(0.7 < est["survival_rate"].iloc[0] < 0.95)
    ('planting_records_estimate', True)
    >>> print(est.attrs["assumptions"][0])  # doctest: +ELLIPSIS
    survival rate ... measured on ... inventoried plot(s) ...
    """
    for col in (planted_column, year_column, species_column):
        if col not in plots.columns:
            raise MissingColumnError(f"plots have no column {col!r}")
    pts = _read_trees(trees, plots)
    if tree_species_column not in pts.columns:
        raise MissingColumnError(f"trees have no column {tree_species_column!r}")
    if not tree_agb_kg.index.equals(pts.index):
        raise ValueError("tree_agb_kg must be on the trees' index (tree_biomass(trees)['agb_kg'])")
    planted = pd.to_numeric(plots[planted_column], errors="coerce").to_numpy(float)
    year = pd.to_numeric(plots[year_column], errors="coerce")
    ref, counts = _tree_classes(
        plots, pts, tree_agb_kg, year, survey_year, tree_species_column, age_class_years
    )
    rate, survival_note = _survival(planted, counts, survival_rate, min_trees)
    stats = ref.groupby(["species", "age_class"])["agb_kg"].agg(["mean", "var", "size"])
    by_age = ref.groupby("age_class")["agb_kg"].agg(["mean", "var", "size"])
    age = survey_year - year.to_numpy(float)
    cls = np.floor(age / age_class_years)
    rows = [
        _per_tree(str(sp), c, stats, by_age)
        for sp, c in zip(plots[species_column], cls, strict=True)
    ]
    per_tree = np.array([r[0] for r in rows])
    var = np.array([r[1] for r in rows])
    n_ref = np.array([r[2] for r in rows])
    basis = np.array([r[3] for r in rows], dtype=object)
    ok = (planted > 0) & np.isfinite(per_tree)
    basis = np.where(planted > 0, basis, "none")
    alive = planted * rate
    agb = np.where(ok, alive * per_tree / 1000.0, np.nan)
    # spread of the mean per-tree biomass, plus the tree-to-tree spread of the survivors
    se2 = np.where(n_ref > 0, var / np.maximum(n_ref, 1), np.nan)
    sd = np.where(ok, np.sqrt(alive**2 * se2 + alive * var) / 1000.0, np.nan)
    area = area_ha(plots).to_numpy(float)
    out = pd.DataFrame(index=plots.index)
    out["trees_planted"] = planted
    out["survival_rate"] = rate
    out["surviving_trees"] = alive
    out["age_years"] = age
    out["per_tree_agb_kg"] = per_tree
    out["reference_trees"] = n_ref
    out["basis"] = basis
    out["agb_mg"] = agb
    out["agb_mg_sd"] = sd
    out["agb_mg_ha"] = agb / np.where(area > 0, area, np.nan)
    out["carbon_mg"] = agb * carbon_fraction
    out["co2e_t"] = agb * carbon_fraction * CO2_PER_C
    out["co2e_t_ha"] = out["co2e_t"] / np.where(area > 0, area, np.nan)
    out["source"] = "planting_records_estimate"
    out.attrs["assumptions"] = [
        survival_note,
        "surviving trees have the mean biomass of the measured trees of the same species and "
        f"age class ({age_class_years}-year classes; species planted in equal shares); with no "
        "measured tree of the species, the mean of all species of the age class (basis "
        "'age_class')",
        "trees below breast height count with no biomass; the uncertainty (agb_mg_sd) covers "
        "the per-tree biomass only, not the survival rate nor the allometry",
        f"ages are survey_year ({survey_year}) - {year_column}",
    ]
    return out


def _per_tree(
    species: str, age_class: float, stats: pd.DataFrame, by_age: pd.DataFrame
) -> tuple[float, float, int, str]:
    """Mean and variance of per-tree kg, reference trees and basis for one plot."""
    if not np.isfinite(age_class):
        return np.nan, np.nan, 0, "none"
    names = [s.strip() for s in species.split(";") if s.strip()]
    found = [(sp, age_class) for sp in names if (sp, age_class) in stats.index]
    if found:
        sub = stats.loc[found]
        n = int(sub["size"].sum())
        return (
            float(sub["mean"].mean()),
            float(np.nanmean(sub["var"].fillna(0.0))),
            n,
            "species_age_class",
        )
    if age_class in by_age.index:
        vals = by_age[["mean", "var", "size"]].to_numpy(dtype=float)[by_age.index == age_class][0]
        return float(vals[0]), float(np.nan_to_num(vals[1])), int(vals[2]), "age_class"
    return np.nan, np.nan, 0, "none"

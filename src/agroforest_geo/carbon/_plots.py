"""Biomass, carbon and CO₂e per plot and per group of plots, with Monte-Carlo intervals."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from ..area import area_ha
from ..crs import require_crs, same_crs
from ..errors import AgroforestGeoWarning, GeometryWarning, InvalidGeometryError, MissingColumnError
from ..io import read_raw
from ._allometry import Allometry
from ._height import HeightModel
from ._montecarlo import TreeInputs, unit_sums
from ._trees import AllometryLike, ELike, HeightModelLike, tree_inputs

__all__ = ["QUANTITIES", "carbon_rollup", "plot_biomass"]

#: CO₂ per unit carbon (molar masses 44/12).
CO2_PER_C = 44.0 / 12.0
#: The quantities reported, in column order: (name, total it derives from, per hectare).
#: Totals add up across plots; per-hectare densities do not (sum totals and areas, then divide).
QUANTITIES = (
    ("agb_mg", "agb", False),
    ("agb_mg_ha", "agb", True),
    ("carbon_mg", "carbon", False),
    ("carbon_mg_ha", "carbon", True),
    ("co2e_t", "co2e", False),
    ("co2e_t_ha", "co2e", True),
)
_STATS = ("", "_sd", "_p2_5", "_p97_5")


@dataclass
class _Setup:
    inputs: pd.DataFrame
    allometry: Allometry
    height_model: HeightModel | None
    ipt: np.ndarray  # tree position of each (tree, plot) pair with a biomass
    ipl: np.ndarray  # plot position of that pair
    n_without_diameter: np.ndarray  # per plot
    unassigned: list[Any]


def _read_trees(
    trees: gpd.GeoDataFrame | str | os.PathLike[str], plots: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    pts = trees if isinstance(trees, gpd.GeoDataFrame) else read_raw(trees)
    require_crs(plots, "plots")
    require_crs(pts, "trees")
    same_crs(plots, pts, "plots", "trees")
    types = shapely.get_type_id(pts.geometry.to_numpy())
    if (~np.isin(types, (0, -1))).any():
        raise InvalidGeometryError("trees must be points, one per tree")
    return pts


def _assign(
    plots: gpd.GeoDataFrame, pts: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """(tree, plot) position pairs of trees inside or on a plot; labels of the others."""
    tree = shapely.STRtree(plots.geometry.to_numpy())
    ipt, ipl = tree.query(pts.geometry.to_numpy(), predicate="intersects")
    inside = np.zeros(len(pts), dtype=bool)
    inside[ipt] = True
    unassigned = list(pts.index[~inside])
    if unassigned:
        warnings.warn(
            f"{len(unassigned)} tree(s) lie outside every plot and are left out (index "
            f"{unassigned[:5]}...; all in .attrs['unassigned_trees'], or agf.unassigned_trees)",
            GeometryWarning,
            stacklevel=4,
        )
    return ipt, ipl, unassigned


def _setup(plots: gpd.GeoDataFrame, trees: Any, opts: dict[str, Any]) -> _Setup:
    pts = _read_trees(trees, plots)
    ipt, ipl, unassigned = _assign(plots, pts)
    stand = np.full(len(pts), -1, dtype=object)
    stand[ipt[::-1]] = ipl[::-1]  # a tree's stand is its first plot
    inputs, allometry, hm = tree_inputs(pts, stand=stand, **opts)
    ok = np.isfinite(inputs["agb_kg"].to_numpy())[ipt]
    no_d = np.bincount(ipl[~ok], minlength=len(plots)).astype(np.int64)
    return _Setup(inputs, allometry, hm, ipt[ok], ipl[ok], no_d, unassigned)


def _tree_arrays(s: _Setup, height_error_m: float) -> TreeInputs:
    t = s.inputs
    return TreeInputs(
        diameter_cm=t["diameter_cm"].to_numpy(float),
        height_m=t["height_m"].to_numpy(float),
        height_modelled=(t["height_source"] == "model").to_numpy(),
        height_sd_m=np.full(len(t), float(height_error_m)),
        wood_density=t["wood_density_g_cm3"].to_numpy(float),
        wood_density_sd=t["wood_density_sd"].to_numpy(float),
        e=t["e"].to_numpy(float),
        groups=t["height_group"].to_numpy(dtype=object) if "height_group" in t.columns else None,
    )


def _draw_stats(
    membership: sparse.csr_matrix, s: _Setup, n_draws: int, seed: Any, errors: dict[str, Any]
) -> np.ndarray:
    """(units × 3) sd, 2.5 % and 97.5 % percentiles of the summed AGB draws, in Mg."""
    n = membership.shape[0]
    out = np.full((n, 3), np.nan)
    if n_draws == 0:
        return out
    if not s.allometry.residual_sd:
        warnings.warn(
            f"{s.allometry.name} gives no residual standard error: the intervals leave out the "
            "allometric model's error",
            AgroforestGeoWarning,
            stacklevel=4,
        )
    t = _tree_arrays(s, errors["height_error_m"])
    for sl, sums in unit_sums(
        membership, t, n_draws, s.allometry, s.height_model, errors["diameter_error"], seed
    ):
        mg = sums / 1000.0
        out[sl, 0] = mg.std(axis=1, ddof=1) if n_draws > 1 else np.nan
        out[sl, 1:] = np.percentile(mg, [2.5, 97.5], axis=1).T
    return out


def _frame(
    index: pd.Index,
    count: np.ndarray,
    area: np.ndarray,
    agb_mg: np.ndarray,
    stats: np.ndarray,
    carbon_factor: float,
) -> pd.DataFrame:
    has = count > 0
    out = pd.DataFrame(index=index)
    out["tree_count"] = count.astype(np.int64)
    out["area_ha"] = area
    per_ha = np.where(area > 0, 1.0 / np.where(area > 0, area, 1.0), np.nan)
    base = np.column_stack([agb_mg, stats])  # value, sd, p2.5, p97.5
    base[~has] = np.nan
    factors = {"agb": 1.0, "carbon": carbon_factor, "co2e": carbon_factor * CO2_PER_C}
    for name, total, dense in QUANTITIES:
        scale = factors[total] * (per_ha[:, None] if dense else 1.0)
        vals = base * scale
        for j, suffix in enumerate(_STATS):
            out[name + suffix] = vals[:, j]
    return out


def _check_options(n_draws: int, carbon_fraction: float, root_shoot: float | None) -> None:
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 0:
        raise ValueError(f"n_draws must be an int >= 0 (0: no intervals), got {n_draws!r}")
    if not 0 < carbon_fraction <= 1:
        raise ValueError(f"carbon_fraction must be in (0, 1], got {carbon_fraction}")
    if root_shoot is not None and not 0 <= root_shoot < 5:
        raise ValueError(f"root_shoot must be a ratio in [0, 5), got {root_shoot}")


def _membership(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    data = np.ones(rows.size)
    return sparse.csr_matrix((data, (rows, cols)), shape=shape)


def plot_biomass(
    plots: gpd.GeoDataFrame,
    trees: gpd.GeoDataFrame | str | os.PathLike[str],
    *,
    diameter_column: str = "diameter_cm",
    height_column: str | None = "height_m",
    taxon_column: str | None = "taxon",
    allometry: AllometryLike = "chave2014",
    n_draws: int = 1000,
    seed: int | None = None,
    carbon_fraction: float = 0.47,
    root_shoot: float | None = None,
    wood_density_table: Any = None,
    wood_density_column: str | None = None,
    region: str | None = "South America (tropical)",
    height_model: HeightModelLike = None,
    height_error_m: float = 0.0,
    diameter_error: str | float = "chave2004",
    e: ELike = None,
    family_column: str | None = None,
) -> pd.DataFrame:
    """Above-ground biomass, carbon and CO₂e of each plot from its inventoried trees.

    Trees are assigned to the plots they lie in (or on the boundary of; a tree
    in two overlapping plots counts in both). Each tree's biomass comes from
    :func:`tree_biomass`; the plot's is their sum. The intervals come from a
    Monte-Carlo propagation of the diameter, height, wood-density and
    allometric errors (see ``docs/carbon.md``). Carbon is
    ``carbon_fraction × AGB × (1 + root_shoot)`` and CO₂e is carbon × 44/12.

    Parameters
    ----------
    plots : GeoDataFrame
        Plot polygons.
    trees : GeoDataFrame or path
        Tree points in the plots' CRS, one per tree.
    diameter_column, height_column, taxon_column : str
        DBH (cm), total height (m; NaN where not measured), taxon name.
    allometry : str, Allometry or callable
        See :func:`agb_kg`.
    n_draws : int
        Monte-Carlo draws (0: no intervals).
    seed : int, optional
        Seed of the draws: the same seed gives the same intervals.
    carbon_fraction : float
        Carbon per unit dry biomass (IPCC 2006 default for wood: 0.47).
    root_shoot : float, optional
        Below-ground / above-ground biomass ratio; when given, carbon and CO₂e
        include the roots (``agb_*`` stays above-ground).
    wood_density_table, wood_density_column, region
        See :func:`tree_biomass`.
    height_model : HeightModel or {"loglog", "michaelis", "weibull"}, optional
        For trees without a measured height.
    height_error_m : float
        Standard deviation of measured heights (m) for the Monte-Carlo.
    diameter_error : "chave2004" or float
        Diameter measurement error (see ``docs/carbon.md``) or its sd in cm.
    e : float, array or raster path, optional
        Chave et al. 2014's E, for Eq. 7 (no heights).
    family_column : str, optional
        Tree column with the family, for the wood-density family fallback.

    Returns
    -------
    pandas.DataFrame
        On the plots' index: ``tree_count`` (trees with a biomass),
        ``trees_without_diameter``, ``area_ha``, and for each of ``agb_mg``,
        ``agb_mg_ha``, ``carbon_mg``, ``carbon_mg_ha``, ``co2e_t``,
        ``co2e_t_ha`` the value and its ``_sd``, ``_p2_5``, ``_p97_5``. Plots
        without a tree with a biomass are NaN, never 0. ``.attrs`` holds
        ``unassigned_trees`` (index labels of trees outside every plot), the
        ``allometry``, ``seed`` and ``n_draws``.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd, warnings
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    >>> table = agf.datasets.get_path("wood_density")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     b = agf.carbon.plot_biomass(plots, trees, wood_density_table=table, n_draws=200,
    ...                                 seed=1)
    >>> int(b["agb_mg"].notna().sum()), len(b.attrs["unassigned_trees"])
    (5, 4)
    >>> row = b.dropna().iloc[0]
    >>> bool(row["agb_mg_p2_5"] < row["agb_mg"] < row["agb_mg_p97_5"])
    True
    >>> bool(abs(row["co2e_t"] - row["agb_mg"] * 0.47 * 44 / 12) < 1e-9)
    True
    """
    _check_options(n_draws, carbon_fraction, root_shoot)
    opts = {
        "diameter_column": diameter_column,
        "height_column": height_column,
        "taxon_column": taxon_column,
        "wood_density_column": wood_density_column,
        "wood_density_table": wood_density_table,
        "region": region,
        "allometry": allometry,
        "height_model": height_model,
        "e": e,
        "family_column": family_column,
    }
    s = _setup(plots, trees, opts)
    n = len(plots)
    agb_kg = s.inputs["agb_kg"].to_numpy(float)
    count = np.bincount(s.ipl, minlength=n)
    agb_mg = np.bincount(s.ipl, weights=agb_kg[s.ipt], minlength=n) / 1000.0
    m = _membership(s.ipl, s.ipt, (n, len(s.inputs)))
    errors = {"height_error_m": height_error_m, "diameter_error": diameter_error}
    stats = _draw_stats(m, s, n_draws, seed, errors)
    area = area_ha(plots).to_numpy(float)
    cf = carbon_fraction * (1.0 + (root_shoot or 0.0))
    out = _frame(plots.index, count, area, agb_mg, stats, cf)
    out.insert(1, "trees_without_diameter", s.n_without_diameter)
    out.attrs.update(
        unassigned_trees=s.unassigned,
        unassigned_tree_count=len(s.unassigned),
        allometry=s.allometry.name,
        seed=seed,
        n_draws=n_draws,
    )
    return out


def _group_keys(
    plots: gpd.GeoDataFrame, keys: list[str], parcels: gpd.GeoDataFrame | None
) -> pd.DataFrame:
    frame = pd.DataFrame(index=plots.index)
    for key in keys:
        if key in plots.columns:
            frame[key] = plots[key].to_numpy()
        elif key == "province" and parcels is not None and "parcel_id" in plots.columns:
            lookup = pd.Series(
                parcels["province"].to_numpy(), index=parcels["parcel_id"].astype(str)
            )
            lookup = lookup[~lookup.index.duplicated()]
            frame[key] = plots["parcel_id"].astype(str).map(lookup).to_numpy()
        else:
            raise MissingColumnError(
                f"cannot group by {key!r}: plots have no such column ('province' comes from "
                "parcels= joined on parcel_id)"
            )
    return frame


def carbon_rollup(
    plots: gpd.GeoDataFrame,
    trees: gpd.GeoDataFrame | str | os.PathLike[str],
    *,
    by: str | Sequence[str] = ("system",),
    parcels: gpd.GeoDataFrame | None = None,
    diameter_column: str = "diameter_cm",
    height_column: str | None = "height_m",
    taxon_column: str | None = "taxon",
    allometry: AllometryLike = "chave2014",
    n_draws: int = 1000,
    seed: int | None = None,
    carbon_fraction: float = 0.47,
    root_shoot: float | None = None,
    wood_density_table: Any = None,
    wood_density_column: str | None = None,
    region: str | None = "South America (tropical)",
    height_model: HeightModelLike = None,
    height_error_m: float = 0.0,
    diameter_error: str | float = "chave2004",
    e: ELike = None,
    family_column: str | None = None,
) -> pd.DataFrame:
    """Biomass, carbon and CO₂e per group of plots (system, province, programme).

    Totals (``agb_mg``, ``carbon_mg``, ``co2e_t``, ``tree_count``, ``area_ha``)
    add up over the group's plots; densities (``*_ha``) do not: each is the
    group's total over its summed hectares. Only plots with inventoried trees
    enter the sums (the others are NaN in :func:`plot_biomass`); they are
    counted in ``plots_without_trees``. Intervals come from the draws of the
    group's trees summed draw by draw, never from summed percentiles. Options
    are those of :func:`plot_biomass`.

    Parameters
    ----------
    plots, trees
        As for :func:`plot_biomass`.
    by : str or sequence of str
        Plot columns to group by; ``"province"`` may come from ``parcels=``
        (joined on ``parcel_id``); ``()`` gives one row, ``"total"``.
    parcels : GeoDataFrame, optional
        Parcels with ``parcel_id`` and ``province``.
    diameter_column, height_column, taxon_column, allometry, n_draws, seed, \
carbon_fraction, root_shoot, wood_density_table, wood_density_column, region, \
height_model, height_error_m, diameter_error, e, family_column
        As for :func:`plot_biomass`.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``plot_count``, ``plots_without_trees``, ``tree_count``,
        ``area_ha`` and the quantities of :func:`plot_biomass` with their intervals.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd, warnings
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    >>> table = agf.datasets.get_path("wood_density")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     r = agf.carbon.carbon_rollup(plots, trees, wood_density_table=table, n_draws=200,
    ...                                  seed=1)
    ...     b = agf.carbon.plot_biomass(plots, trees, wood_density_table=table, n_draws=0)
    >>> bool(abs(r["agb_mg"].sum() - b["agb_mg"].sum()) < 1e-9)
    True
    """
    keys = [by] if isinstance(by, str) else list(by)
    return rollups(
        plots, trees, [keys], parcels=parcels, diameter_column=diameter_column,
        height_column=height_column, taxon_column=taxon_column, allometry=allometry,
        n_draws=n_draws, seed=seed, carbon_fraction=carbon_fraction, root_shoot=root_shoot,
        wood_density_table=wood_density_table, wood_density_column=wood_density_column,
        region=region, height_model=height_model, height_error_m=height_error_m,
        diameter_error=diameter_error, e=e, family_column=family_column,
    )[0]  # fmt: skip


def _group_index(groups: pd.DataFrame, keys: list[str], n: int) -> tuple[np.ndarray, pd.Index]:
    """Group code of each plot and the index of the groups (sorted)."""
    if not keys:
        return np.zeros(n, dtype=np.int64), pd.Index(["total"])
    codes, uniques = pd.MultiIndex.from_frame(groups[keys]).factorize(sort=True)
    if len(keys) > 1:
        return codes, pd.MultiIndex.from_tuples(list(uniques), names=keys)
    return codes, pd.Index([u[0] for u in uniques], name=keys[0])


def rollups(
    plots: gpd.GeoDataFrame,
    trees: gpd.GeoDataFrame | str | os.PathLike[str],
    groupings: Sequence[Sequence[str]],
    *,
    parcels: gpd.GeoDataFrame | None = None,
    diameter_column: str = "diameter_cm",
    height_column: str | None = "height_m",
    taxon_column: str | None = "taxon",
    allometry: AllometryLike = "chave2014",
    n_draws: int = 1000,
    seed: int | None = None,
    carbon_fraction: float = 0.47,
    root_shoot: float | None = None,
    wood_density_table: Any = None,
    wood_density_column: str | None = None,
    region: str | None = "South America (tropical)",
    height_model: HeightModelLike = None,
    height_error_m: float = 0.0,
    diameter_error: str | float = "chave2004",
    e: ELike = None,
    family_column: str | None = None,
) -> list[pd.DataFrame]:
    """:func:`carbon_rollup` by several groupings at once, from one simulation.

    The trees are read, assigned and simulated once; each grouping's rows are
    sums of the same draws (while all groups fit in one block of
    ``_montecarlo._MAX_SUM_CELLS`` unit-draws), so e.g. a per-system interval
    and the per-parcel intervals come from the same simulated trees.
    """
    _check_options(n_draws, carbon_fraction, root_shoot)
    key_lists = [list(k) for k in groupings]
    groups = _group_keys(plots, sorted({k for ks in key_lists for k in ks}), parcels)
    opts = {
        "diameter_column": diameter_column,
        "height_column": height_column,
        "taxon_column": taxon_column,
        "wood_density_column": wood_density_column,
        "wood_density_table": wood_density_table,
        "region": region,
        "allometry": allometry,
        "height_model": height_model,
        "e": e,
        "family_column": family_column,
    }
    s = _setup(plots, trees, opts)
    n = len(plots)
    coded = [_group_index(groups, keys, n) for keys in key_lists]
    count_plot = np.bincount(s.ipl, minlength=n)
    has = count_plot > 0
    area = area_ha(plots).to_numpy(float)
    agb_kg = s.inputs["agb_kg"].to_numpy(float)
    agb_plot = np.bincount(s.ipl, weights=agb_kg[s.ipt], minlength=n) / 1000.0
    m = sparse.vstack(
        [_membership(codes[s.ipl], s.ipt, (len(index), len(s.inputs))) for codes, index in coded],
        format="csr",
    )
    errors = {"height_error_m": height_error_m, "diameter_error": diameter_error}
    stats = _draw_stats(m, s, n_draws, seed, errors)
    cf = carbon_fraction * (1.0 + (root_shoot or 0.0))
    out, row = [], 0
    for codes, index in coded:
        k = len(index)
        table = _frame(
            index,
            np.bincount(codes, weights=count_plot, minlength=k),
            np.bincount(codes, weights=np.where(has, area, 0.0), minlength=k),
            np.bincount(codes, weights=np.where(has, agb_plot, 0.0), minlength=k),
            stats[row : row + k],
            cf,
        )
        table.insert(0, "plot_count", np.bincount(codes, minlength=k).astype(np.int64))
        table.insert(
            1, "plots_without_trees", np.bincount(codes, weights=~has, minlength=k).astype(np.int64)
        )
        out.append(table)
        row += k
    return out

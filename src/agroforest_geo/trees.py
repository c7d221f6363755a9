"""Tree counts and densities per plot, and their roll-up per system or province.

Sources of a count
------------------
``tree_density`` counts the trees of each plot from one observed source,
optionally compared with the planting records:

================= ==================================== =========================================
source            argument                             tree_count is
================= ==================================== =========================================
inventory         ``trees=`` point layer               points inside or on the plot boundary
chm               ``chm=`` canopy height raster        tops found by :func:`detect_trees`
density_raster    ``density_raster=`` trees/ha raster  ∫ density dA / 10 000 (exact partial cells)
planting_records  ``count_column=`` on the plots       the recorded number planted
================= ==================================== =========================================

What adds up: ``tree_count`` and ``area_ha`` sum across plots (but see the
overlap rule); ``trees_per_ha`` and ``survival_rate`` do not — sum the counts
and the areas, then divide (:func:`tree_rollup` does).

Overlap rule: a tree inside two overlapping plots is counted in **both**
(``overlap="all"``, each plot's density is then right) or only in the first of
them in the plots' row order (``overlap="first"``, counts then add up without
double counting).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from typing import Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._screen import InvalidPolicy, check_policy, measurable
from .area import area_ha
from .crs import require_crs, same_crs
from .detect import ChmInput, Ties, WindowFunction, detect_trees
from .errors import (
    DuplicateIdError,
    GeometryWarning,
    InvalidGeometryError,
    MissingColumnError,
    NoDataWarning,
)
from .io import read_raw
from .products import Product

__all__ = ["tree_density", "tree_rollup", "unassigned_trees"]

Overlap: TypeAlias = Literal["all", "first"]

_OVERLAPS = ("all", "first")

#: What a density raster holds without a product: trees per hectare, never negative.
_DENSITY = Product(
    name="trees per hectare (no product given)", kind="trees_per_ha", unit="trees/ha",
    valid_range=(0.0, float("inf")),
)  # fmt: skip


def _read_points(trees: gpd.GeoDataFrame | str | os.PathLike[str]) -> gpd.GeoDataFrame:
    if isinstance(trees, gpd.GeoDataFrame):
        return trees
    return read_raw(trees)  # missing or unreadable files raise with the fix


def _check_points(trees: gpd.GeoDataFrame, plots: gpd.GeoDataFrame) -> None:
    require_crs(plots, "plots")
    require_crs(trees, "trees")
    same_crs(plots, trees, "plots", "trees")
    geoms = trees.geometry.to_numpy()
    types = shapely.get_type_id(geoms)
    bad = ~np.isin(types, (0, -1))  # Point, missing
    if bad.any():
        raise InvalidGeometryError(
            f"trees must be points (one per tree); {int(bad.sum())} are "
            f"{sorted(set(trees.geometry[bad].geom_type))}. Use `trees.representative_point()` "
            "or pass polygons as plots instead."
        )


def _assign(
    plots: gpd.GeoDataFrame, points: gpd.GeoSeries, overlap: Overlap
) -> tuple[np.ndarray, np.ndarray]:
    """Return (point position, plot position) pairs: points inside or on a plot."""
    pts = points.to_numpy()
    tree = shapely.STRtree(plots.geometry.to_numpy())
    ipt, ipl = tree.query(pts, predicate="intersects")
    if overlap == "first" and ipt.size:
        order = np.lexsort((ipl, ipt))
        ipt, ipl = ipt[order], ipl[order]
        first = np.ones(ipt.size, dtype=bool)
        first[1:] = ipt[1:] != ipt[:-1]
        ipt, ipl = ipt[first], ipl[first]
    return ipt, ipl


def unassigned_trees(
    plots: gpd.GeoDataFrame, trees: gpd.GeoDataFrame | str | os.PathLike[str]
) -> gpd.GeoDataFrame:
    """Return the tree points that lie outside every plot (GPS errors, missing plots).

    Parameters
    ----------
    plots : GeoDataFrame
        Plot polygons.
    trees : GeoDataFrame or path
        Tree points in the plots' CRS.

    Returns
    -------
    GeoDataFrame
        The rows of ``trees`` (their index and columns) not inside or on any plot.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    >>> len(agf.unassigned_trees(plots, trees))
    4
    """
    pts = _read_points(trees)
    _check_points(pts, plots)
    ipt, _ = _assign(plots, pts.geometry, "all")
    inside = np.zeros(len(pts), dtype=bool)
    inside[ipt] = True
    return pts[~inside]


def _column_name(value: object) -> str:
    text = re.sub(r"[^0-9a-zA-Z]+", "_", str(value)).strip("_").lower()
    return f"tree_count_{text or 'unknown'}"


def _plot_areas(plots: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    with warnings.catch_warnings():  # tree_density screened (and warned about) the plots
        warnings.simplefilter("ignore", GeometryWarning)
        area = area_ha(plots).astype(float)
    zero = ~(area > 0)
    if zero.any():
        ids = list(plots.index[zero][:5])
        warnings.warn(
            f"{int(zero.sum())} plot(s) have no area (empty, degenerate or impossible "
            f"geometries; index {ids}...): their trees_per_ha is NaN and `zero_area` is True",
            GeometryWarning,
            stacklevel=3,
        )
    return area, zero


def _count_points(
    plots: gpd.GeoDataFrame,
    points: gpd.GeoSeries,
    overlap: Overlap,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ipt, ipl = _assign(plots, points, overlap)
    counts = np.bincount(ipl, minlength=len(plots)).astype(np.int64)
    inside = np.zeros(len(points), dtype=bool)
    inside[ipt] = True
    return counts, ipt, ipl


def tree_density(
    plots: gpd.GeoDataFrame,
    *,
    trees: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
    count_column: str | None = None,
    species_column: str | None = None,
    chm: ChmInput | None = None,
    density_raster: ChmInput | None = None,
    product: Product | str | None = None,
    overlap: Overlap = "all",
    min_height: float = 2.0,
    window: str | WindowFunction = "popescu_wynne",
    ties: Ties = "merge",
    invalid: InvalidPolicy = "warn",
) -> pd.DataFrame:
    """Count the trees of each plot and divide by its ellipsoidal hectares.

    Give one observed source (``trees``, ``chm`` or ``density_raster``), the
    planting records (``count_column``), or one observed source *and* the
    planting records to get the survival rate. See the module docstring for the
    table of sources and the overlap rule.

    Parameters
    ----------
    plots : GeoDataFrame
        Plot polygons (any CRS; hectares are ellipsoidal).
    trees : GeoDataFrame or path, optional
        Inventory points, one per tree, in the plots' CRS. Points outside every
        plot are not counted: a :class:`~agroforest_geo.GeometryWarning` gives
        their number, ``.attrs["unassigned_tree_count"]`` holds it and
        :func:`unassigned_trees` lists them.
    count_column : str, optional
        Column of ``plots`` with the number of trees planted (e.g. ``"trees_planted"``).
    species_column : str, optional
        Column of ``trees`` with the species; adds one ``tree_count_<species>``
        column per species (name lower-cased, non-alphanumerics as ``_``).
    chm : path or rasterio dataset, optional
        Canopy height model in metres; tops are found with :func:`detect_trees`
        (``min_height``, ``window`` and ``ties`` are passed on) and counted in
        the plots, reprojected to the CHM's CRS for that.
    density_raster : path or rasterio dataset, optional
        A trees-per-hectare raster, integrated over each plot with exact partial
        pixels (:func:`agroforest_geo.raster.integrate`): counts are fractional.
        The band's scale/offset are applied; negative densities raise.
    product : Product or str, optional
        What ``density_raster`` holds: a ``trees_per_ha``
        :class:`~agroforest_geo.products.Product` (band, nodata, scale/offset,
        valid range). Only with ``density_raster``.
    overlap : {"all", "first"}
        A tree in overlapping plots counts in all of them, or in the first only.
    min_height, window, ties
        Passed to :func:`detect_trees` when ``chm`` is given.
    invalid : {"warn", "nan", "raise"}, default "warn"
        Invalid plot geometries: see :func:`agroforest_geo.forest_cover`. Plots
        with a NaN or infinite vertex get NaN; point plots are counted on the
        geodesic circle of their declared area (``point_buffer_ha`` column).

    Returns
    -------
    pandas.DataFrame
        On the plots' index: ``tree_count`` (float; adds up), ``area_ha`` (adds up),
        ``trees_per_ha`` (does not add up; NaN for a plot without area),
        ``source``, ``zero_area``; with a raster source ``covered_share`` (the
        part of the plot with data; count NaN when 0); with planting records and
        an observed source ``trees_planted``, ``planted_per_ha`` and
        ``survival_rate`` (observed / planted); with ``species_column`` the
        ``tree_count_<species>`` columns.

    Raises
    ------
    MissingCRSError, CRSMismatchError
        Plots or trees without a CRS or in different CRSs (the message gives the fix).
    MissingColumnError
        ``count_column`` or ``species_column`` is missing.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     d = agf.tree_density(plots, trees=trees, count_column="trees_planted")
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    4 tree(s) lie outside every plot and are not counted; list them with agf.unassigned_trees(...)
    >>> d.attrs["unassigned_tree_count"], int(d["tree_count"].sum()) + 4 == len(trees)
    (4, True)
    >>> row = d.loc[plots.index[plots["plot_id"] == "AF0007"][0]]
    >>> bool(0.7 <= row["survival_rate"] <= 0.9)
    True
    >>> planted = agf.tree_density(plots, count_column="trees_planted")
    >>> reserve = plots["system"] == "forest_reserve"
    >>> planted["source"].iloc[0], float(planted.loc[reserve, "tree_count"].sum())
    ('planting_records', 0.0)
    """
    if overlap not in _OVERLAPS:
        raise ValueError(f"overlap must be one of {list(_OVERLAPS)}, got {overlap!r}")
    given = [
        n
        for n, v in (("trees", trees), ("chm", chm), ("density_raster", density_raster))
        if v is not None
    ]
    if len(given) > 1:
        raise ValueError(
            f"give one observed source, not {given}; call tree_density once per source"
        )
    if not given and count_column is None:
        raise ValueError(
            "give a source: trees= (inventory points), chm= (canopy height raster), "
            "density_raster= (trees per ha) and/or count_column= (planting records)"
        )
    if product is not None and density_raster is None:
        raise ValueError("product= describes density_raster=; pass it with density_raster")
    if species_column is not None and trees is None:
        raise ValueError("species_column needs trees= (an inventory with a species column)")
    require_crs(plots, "plots")
    plots, nan_rows, point_buffer = measurable(plots, invalid=check_policy(invalid), name="plots")
    planted: pd.Series | None = None
    if count_column is not None:
        if count_column not in plots.columns:
            raise MissingColumnError(
                f"plots have no column {count_column!r}; their columns are "
                f"{[c for c in plots.columns if c != plots.geometry.name]}"
            )
        planted = pd.to_numeric(plots[count_column], errors="coerce").astype(float)

    pts = None
    if trees is not None:
        pts = _read_points(trees)
        _check_points(pts, plots)
    area, zero = _plot_areas(plots)
    out = pd.DataFrame(index=plots.index)
    extra: dict[str, pd.Series] = {}
    covered: pd.Series | None = None
    unassigned: int | None = None
    if pts is not None:
        counts, ipt, ipl = _count_points(plots, pts.geometry, overlap)
        inside = np.zeros(len(pts), dtype=bool)
        inside[ipt] = True
        unassigned = int((~inside).sum())
        if unassigned:
            warnings.warn(
                f"{unassigned} tree(s) lie outside every plot and are not counted; list them "
                "with agf.unassigned_trees(plots, trees)",
                GeometryWarning,
                stacklevel=2,
            )
        count = pd.Series(counts, index=plots.index, dtype="float64")
        source = "inventory"
        if species_column is not None:
            if species_column not in pts.columns:
                raise MissingColumnError(
                    f"trees have no column {species_column!r}; their columns are "
                    f"{[c for c in pts.columns if c != pts.geometry.name]}"
                )
            sp = pts[species_column].astype(object).where(pts[species_column].notna(), "unknown")
            codes, uniques = pd.factorize(sp.to_numpy()[ipt], sort=True)
            for j, name in enumerate(uniques):
                col = _column_name(name)
                c = np.bincount(ipl[codes == j], minlength=len(plots))
                extra[col] = extra.get(col, pd.Series(0, index=plots.index)) + c
    elif chm is not None:
        from .raster import integrate

        tops = detect_trees(chm, min_height=min_height, window=window, ties=ties)
        local = plots.to_crs(tops.crs)
        counts, _, _ = _count_points(local, tops.geometry, overlap)
        count = pd.Series(counts, index=plots.index, dtype="float64")
        with warnings.catch_warnings():  # reported once, below, in terms of trees
            warnings.simplefilter("ignore", NoDataWarning)
            warnings.simplefilter("ignore", GeometryWarning)
            covered = _coverage(integrate(plots, chm), area)
        source = "chm"
    elif density_raster is not None:
        from .raster import integrate

        with warnings.catch_warnings():  # reported once, below, in terms of trees
            warnings.simplefilter("ignore", NoDataWarning)
            warnings.simplefilter("ignore", GeometryWarning)
            integ = integrate(plots, density_raster, band=None, product=product or _DENSITY)
        count = (integ["value_x_m2"] / 10_000.0).astype(float)
        covered = _coverage(integ, area)
        source = "density_raster"
    else:
        assert planted is not None
        count = planted
        source = "planting_records"

    if covered is not None:
        count = count.where(covered > 0)
        partial = (covered > 0) & (covered < 0.999)
        if (covered == 0).any() or partial.any():
            warnings.warn(
                f"{int((covered == 0).sum())} plot(s) lie outside the raster or on nodata only "
                f"(tree_count NaN) and {int(partial.sum())} are only partly covered "
                "(tree_count covers the part with data; see covered_share)",
                NoDataWarning,
                stacklevel=2,
            )
    out["tree_count"] = count
    out["area_ha"] = area
    out["trees_per_ha"] = count / area.where(~zero)
    out["source"] = source
    out["zero_area"] = zero.to_numpy()
    if covered is not None:
        out["covered_share"] = covered
    if planted is not None and source != "planting_records":
        out["trees_planted"] = planted
        out["planted_per_ha"] = planted / area.where(~zero)
        out["survival_rate"] = count / planted.where(planted > 0)
    for col in sorted(extra):
        out[col] = extra[col].astype(np.int64)
    if unassigned is not None:
        out.attrs["unassigned_tree_count"] = unassigned
    out.attrs["overlap"] = overlap
    if nan_rows.any():
        num = [c for c in out.columns if pd.api.types.is_float_dtype(out[c])]
        out.loc[nan_rows, num] = np.nan
    if point_buffer is not None:
        out["point_buffer_ha"] = point_buffer
    return out


def _coverage(integ: pd.DataFrame, area: pd.Series) -> pd.Series:
    total = integ["valid_m2"] + integ["nodata_m2"]
    share = (integ["valid_m2"] / total.where(total > 0)).clip(0, 1)
    return share.where(area > 0, (integ["valid_m2"] > 0).astype(float))


def tree_rollup(
    plots: gpd.GeoDataFrame,
    density: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("system",),
    parcels: gpd.GeoDataFrame | None = None,
    target_trees: float | None = None,
    target_ha: float | None = None,
) -> pd.DataFrame:
    """Sum trees and hectares per group of plots and compare with a project target.

    Counts and hectares add up; densities do not: each group's ``trees_per_ha``
    is its summed ``tree_count`` divided by its summed ``area_ha``. Plots without
    a count (NaN, e.g. outside a raster) are left out of both sums and counted in
    ``plots_without_count``.

    Parameters
    ----------
    plots : GeoDataFrame
        The plots given to :func:`tree_density`.
    density : pandas.DataFrame
        The result of :func:`tree_density` on the same index.
    by : str or sequence of str
        Plot columns to group by, e.g. ``"system"``; ``"province"`` is taken from
        the parent parcel (``parcels=`` joined on ``parcel_id``) when the plots
        lack it. ``()`` gives one row, ``"total"``, for the whole project.
    parcels : GeoDataFrame, optional
        Parcels with ``parcel_id`` and ``province``.
    target_trees, target_ha : float, optional
        Project targets, e.g. 2 000 000 trees on 2 300 ha.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``plot_count``, ``plots_without_count``, ``tree_count``,
        ``area_ha``, ``trees_per_ha``, ``target_trees_per_ha`` (target_trees /
        target_ha), ``progress_share`` (tree_count / target_trees; adds up across
        groups) and ``area_share`` (area_ha / target_ha; adds up); target columns
        are NaN without targets.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> d = agf.tree_density(plots, count_column="trees_planted")
    >>> r = agf.tree_rollup(plots, d, target_trees=2_000_000, target_ha=2_300)
    >>> sorted(r.index)
    ['cocoa_agroforestry', 'forest_reserve', 'reforestation']
    >>> int(r["tree_count"].sum()) == int(plots["trees_planted"].sum())
    True
    >>> total = agf.tree_rollup(plots, d, by=())
    >>> bool(abs(total.loc["total", "trees_per_ha"] - d["tree_count"].sum() / d["area_ha"].sum())
    ...      < 1e-9)
    True
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing_cols = [c for c in ("tree_count", "area_ha") if c not in density.columns]
    if missing_cols:
        raise MissingColumnError(
            f"density lacks {missing_cols}; pass the result of tree_density(plots, ...)"
        )
    if not density.index.equals(plots.index):
        raise ValueError(
            "density is not on the plots' index; pass tree_density(plots, ...) for these plots"
        )
    frame = pd.DataFrame(
        {"tree_count": density["tree_count"], "area_ha": density["area_ha"]}, index=plots.index
    )
    for key in keys:
        if key in plots.columns:
            frame[key] = plots[key]
        elif key == "province":
            frame[key] = _province(plots, parcels)
        else:
            raise MissingColumnError(
                f"cannot group by {key!r}: plots have no such column (have "
                f"{[c for c in plots.columns if c != plots.geometry.name]}); 'province' comes "
                "from parcels=..."
            )
    usable = frame["tree_count"].notna() & frame["area_ha"].notna()
    frame["plots_without_count"] = (~usable).astype(np.int64)
    frame["plot_count"] = 1
    frame.loc[~usable, ["tree_count", "area_ha"]] = 0.0
    sums = ["plot_count", "plots_without_count", "tree_count", "area_ha"]
    if keys:
        out = frame.groupby(keys, dropna=False, sort=True)[sums].sum()
    else:
        out = frame[sums].sum().to_frame("total").T
    out["trees_per_ha"] = out["tree_count"] / out["area_ha"].where(out["area_ha"] > 0)
    tt = float(target_trees) if target_trees is not None else np.nan
    th = float(target_ha) if target_ha is not None else np.nan
    out["target_trees_per_ha"] = tt / th if th > 0 else np.nan
    out["progress_share"] = out["tree_count"] / tt if tt > 0 else np.nan
    out["area_share"] = out["area_ha"] / th if th > 0 else np.nan
    return out


def _province(plots: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None) -> pd.Series:
    if parcels is None:
        raise MissingColumnError(
            "plots have no 'province' column; pass parcels=agf.read_parcels(...) so the "
            "province of each plot's parent parcel is used"
        )
    for col in ("parcel_id", "province"):
        if col not in parcels.columns:
            raise MissingColumnError(f"parcels lack the {col!r} column needed for province")
    if "parcel_id" not in plots.columns:
        raise MissingColumnError("plots lack 'parcel_id', needed to find their parcel")
    ids = parcels["parcel_id"].astype(str)
    if ids.duplicated().any():
        dup = sorted(set(ids[ids.duplicated()]))[:5]
        raise DuplicateIdError(f"parcel_id values repeat in parcels: {dup}; make them unique")
    lookup = pd.Series(parcels["province"].to_numpy(), index=ids.to_numpy())
    prov = plots["parcel_id"].astype(str).map(lookup)
    return pd.Series(prov.to_numpy(), index=plots.index)

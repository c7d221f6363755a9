"""Tree-level inputs: diameters, heights (measured or modelled), wood density, biomass."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import MissingColumnError
from ._allometry import (
    Allometry,
    check_diameters,
    check_heights,
    check_wood_density,
    resolve_allometry,
)
from ._height import HeightModel, fit_height_model
from ._wood import wood_density as _wood_density

__all__ = ["tree_biomass"]

AllometryLike = str | Allometry | Callable[..., Any]
HeightModelLike = HeightModel | str | None
ELike = float | np.ndarray | pd.Series | str | os.PathLike[str] | None


def _column(trees: pd.DataFrame, name: str | None, what: str) -> np.ndarray | None:
    if name is None:
        return None
    if name not in trees.columns:
        raise MissingColumnError(
            f"trees have no {what} column {name!r}; their columns are "
            f"{[c for c in trees.columns if c != getattr(trees, '_geometry_column_name', None)]}"
        )
    return pd.to_numeric(trees[name], errors="coerce").to_numpy(dtype=float)


def _e_values(trees: pd.DataFrame, e: ELike) -> np.ndarray | None:
    if e is None:
        return None
    if isinstance(e, (str, os.PathLike)):
        import rasterio

        if not isinstance(trees, gpd.GeoDataFrame):
            raise TypeError("e= as a raster needs trees as a GeoDataFrame with point geometries")
        with rasterio.open(e) as src:
            pts = trees.geometry.to_crs(src.crs)
            vals = np.array([v[0] for v in src.sample(zip(pts.x, pts.y, strict=True))], dtype=float)
            if src.nodata is not None:
                vals[vals == src.nodata] = np.nan
        return vals
    return np.broadcast_to(np.asarray(e, dtype=float), (len(trees),)).copy()


def _height_model(
    trees: pd.DataFrame, d: np.ndarray, h: np.ndarray | None, model: HeightModelLike
) -> HeightModel | None:
    if model is None or isinstance(model, HeightModel):
        return model
    if h is None:
        raise ValueError(
            f"height_model={model!r} is fitted on the trees' heights: give height_column"
        )
    frame = pd.DataFrame({"d": d, "h": h})
    return fit_height_model(frame, diameter_column="d", height_column="h", method=model)  # type: ignore[arg-type]


def _heights(
    trees: pd.DataFrame,
    d: np.ndarray,
    h: np.ndarray | None,
    hm: HeightModel | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Heights used and whether each was modelled; raise when a height cannot be had."""
    has = np.isfinite(d)
    used = np.full(d.shape, np.nan) if h is None else h.copy()
    missing = has & ~np.isfinite(used)
    if missing.any():
        if hm is None:
            if missing.sum() == has.sum():
                raise ValueError(
                    "no tree has a height and no height model was given: pass height_model= "
                    "(a fitted or published model: agf.carbon.fit_height_model / "
                    "published_height_model), or use allometry='chave2014' without "
                    "height_column and with e= (Chave et al. 2014 Eq. 7)"
                )
            raise ValueError(
                f"{int(missing.sum())} of {int(has.sum())} trees with a diameter have no height: "
                "pass height_model='weibull' (fitted on the trees with both), a HeightModel, "
                "or drop those trees"
            )
        groups = None if hm.by is None else trees[hm.by].to_numpy(dtype=object)[missing]
        used[missing] = hm.predict(d[missing], groups)
    return used, missing


def tree_inputs(
    trees: pd.DataFrame,
    *,
    diameter_column: str,
    height_column: str | None,
    taxon_column: str | None,
    wood_density_column: str | None,
    wood_density_table: Any,
    region: str | None,
    allometry: AllometryLike,
    height_model: HeightModelLike,
    e: ELike,
    stand: np.ndarray | None,
    family_column: str | None = None,
) -> tuple[pd.DataFrame, Allometry, HeightModel | None]:
    """Per-tree inputs and point biomass, the allometry and the height model used."""
    d = _column(trees, diameter_column, "diameter")
    assert d is not None
    h = _column(trees, height_column, "height")
    check_diameters(d)
    if h is not None:
        check_heights(h)
    hm = _height_model(trees, d, h, height_model)
    has_h = hm is not None or (h is not None and bool(np.isfinite(h).any()))
    if h is not None and not has_h and e is None:
        raise ValueError(
            f"no tree has a height (column {height_column!r} is empty) and no height model was "
            "given: pass height_model= (agf.carbon.fit_height_model / published_height_model), "
            "or height_column=None with e= for Chave et al. 2014 Eq. 7"
        )
    model = resolve_allometry(allometry, has_height=has_h)
    check_diameters(d, model)
    out = pd.DataFrame(index=trees.index)
    out["diameter_cm"] = d
    if model.needs_height:
        used, modelled = _heights(trees, d, h, hm)
    else:
        used, modelled = np.full(d.shape, np.nan), np.zeros(d.shape, dtype=bool)
    out["height_m"] = used
    if hm is not None and hm.by is not None:
        out["height_group"] = trees[hm.by].to_numpy(dtype=object)
    out["height_source"] = np.where(
        ~np.isfinite(d) | ~np.isfinite(used), "none", np.where(modelled, "model", "measured")
    )
    columns = (taxon_column, family_column, wood_density_column)
    _wood_inputs(out, trees, model, columns, wood_density_table, region, stand)
    ee = _e_values(trees, e)
    if model.needs_e and (ee is None or not np.isfinite(ee[np.isfinite(d)]).all()):
        raise ValueError(
            f"{model.name} needs e= (the environmental stress factor E at each tree) when no "
            "height is available"
        )
    out["e"] = 0.0 if ee is None else ee
    with np.errstate(invalid="ignore", divide="ignore"):
        agb = model.equation(
            d, used, out["wood_density_g_cm3"].to_numpy(float), out["e"].to_numpy(float)
        )
    out["agb_kg"] = np.where(np.isfinite(d), agb, np.nan)
    return out, model, hm


def _wood_inputs(
    out: pd.DataFrame,
    trees: pd.DataFrame,
    model: Allometry,
    columns: tuple[str | None, str | None, str | None],
    table: Any,
    region: str | None,
    stand: np.ndarray | None,
) -> None:
    n = len(trees)
    taxon_column, family_column, wood_density_column = columns
    if wood_density_column is not None:
        wd = _column(trees, wood_density_column, "wood density")
        assert wd is not None
        check_wood_density(wd)
        out["wood_density_g_cm3"] = wd
        out["wood_density_sd"] = 0.0
        out["wood_density_level"] = "measured"
        return
    if not model.needs_wood_density:
        out["wood_density_g_cm3"] = np.nan
        out["wood_density_sd"] = 0.0
        out["wood_density_level"] = "unused"
        return
    if taxon_column is None:
        raise ValueError(
            f"{model.name} needs wood density: give taxon_column= and wood_density_table=, "
            "or wood_density_column="
        )
    if taxon_column not in trees.columns:
        raise MissingColumnError(f"trees have no taxon column {taxon_column!r}")
    found = _wood_density(
        trees[taxon_column].reset_index(drop=True),
        region=region,
        table=table,
        stand=None if stand is None else list(stand),
        families=None if family_column is None else trees[family_column].tolist(),
    )
    out["wood_density_g_cm3"] = found["wood_density_g_cm3"].to_numpy()
    out["wood_density_sd"] = found["wood_density_sd"].to_numpy()
    out["wood_density_level"] = found["wood_density_level"].to_numpy()
    assert len(out) == n


def tree_biomass(
    trees: pd.DataFrame,
    *,
    diameter_column: str = "diameter_cm",
    height_column: str | None = "height_m",
    taxon_column: str | None = "taxon",
    wood_density_table: Any = None,
    wood_density_column: str | None = None,
    region: str | None = "South America (tropical)",
    allometry: AllometryLike = "chave2014",
    height_model: HeightModelLike = None,
    e: ELike = None,
    stand_column: str | None = None,
    family_column: str | None = None,
) -> pd.DataFrame:
    """Above-ground biomass of each tree with the inputs used (wood density, heights).

    Heights missing from ``height_column`` are predicted by ``height_model``;
    wood density comes from the taxon (:func:`wood_density`) unless a measured
    ``wood_density_column`` is given. Trees without a diameter (below breast
    height) get NaN.

    Parameters
    ----------
    trees : DataFrame or GeoDataFrame
        One row per tree.
    diameter_column : str
        DBH in cm.
    height_column : str or None
        Total height in m (NaN where not measured); None: no heights.
    taxon_column : str or None
        Taxon names, for wood density.
    wood_density_table : DataFrame or path
        See :func:`wood_density`.
    wood_density_column : str, optional
        Measured wood density (g/cm³) per tree, instead of a taxon look-up.
    region : str or None
        Region of the wood-density records.
    allometry : str, Allometry or callable
        See :func:`agb_kg`.
    height_model : HeightModel, {"loglog", "michaelis", "weibull"} or None
        A model, or a method to fit on the trees that have both measures.
    e : float, array, or path of a raster, optional
        Environmental stress factor E (Chave et al. 2014 Eq. 7, without heights).
    stand_column : str, optional
        Stand (plot) of each tree, for the wood-density stand-mean fallback.
    family_column : str, optional
        Family of each tree, for the wood-density family fallback.

    Returns
    -------
    pandas.DataFrame
        On the trees' index: ``diameter_cm``, ``height_m`` (used), ``height_source``
        (measured, model, none), ``wood_density_g_cm3``, ``wood_density_sd``,
        ``wood_density_level``, ``e``, ``agb_kg``.

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd, warnings
    >>> trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    >>> table = agf.datasets.get_path("wood_density")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     tb = agf.carbon.tree_biomass(trees, wood_density_table=table)
    >>> tb["height_source"].value_counts().to_dict()
    {'measured': 888, 'none': 11}
    >>> bool((tb["agb_kg"].dropna() > 0).all())
    True
    """
    stand = None if stand_column is None else trees[stand_column].to_numpy(dtype=object)
    out, _, _ = tree_inputs(
        trees,
        diameter_column=diameter_column,
        height_column=height_column,
        taxon_column=taxon_column,
        wood_density_column=wood_density_column,
        wood_density_table=wood_density_table,
        region=region,
        allometry=allometry,
        height_model=height_model,
        e=e,
        stand=stand,
        family_column=family_column,
    )
    return out

"""Deforestation-free assessment of parcels under the EUDR.

:func:`assess` gathers the evidence for every parcel (tree cover at the
cut-off, tree-cover loss after it, protected-area and parcel overlaps, tree
density, geometry validity) into one table on the parcels' index, then applies
the rule table of :mod:`agroforest_geo.eudr.rules` to decide a ``status`` and
list the ``reasons``. Evidence can be computed here from rasters and layers, or
passed in precomputed, as DataFrames on the parcels' index.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._points import point_buffer_column
from ..area import area_ha
from ..crs import require_crs
from ..errors import MissingColumnError
from .rules import RULES_VERSION, STATUS_ORDER, Rule, resolve_rules

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

# validation codes that make the geometry unusable for the assessment (id problems do not)
_NOT_GEOMETRY = {"duplicate_id", "missing_id", "missing_crs", "missing_id_column"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOSS_YEAR = re.compile(r"^loss_ha_(\d{4})$")


def parse_cutoff(cutoff: str | dt.date | pd.Timestamp) -> dt.date:
    """Normalise a cut-off date: ISO string ``"YYYY-MM-DD"``, ``datetime.date`` or Timestamp.

    Day-first or month-first strings such as ``"31/12/2020"`` are refused:
    ``"01/02/2021"`` means different days in Lima and in Washington.

    Examples
    --------
    >>> parse_cutoff("2020-12-31")
    datetime.date(2020, 12, 31)
    >>> import pandas as pd
    >>> parse_cutoff(pd.Timestamp("2020-12-31 15:00"))
    datetime.date(2020, 12, 31)
    >>> parse_cutoff("31/12/2020")
    Traceback (most recent call last):
    ...
    ValueError: cutoff '31/12/2020' is not an ISO date; write it as 'YYYY-MM-DD' ...
    """
    if isinstance(cutoff, pd.Timestamp):
        if pd.isna(cutoff):
            raise ValueError("cutoff is NaT; give a date such as '2020-12-31'")
        return cutoff.date()
    if isinstance(cutoff, dt.datetime):
        return cutoff.date()
    if isinstance(cutoff, dt.date):
        return cutoff
    if isinstance(cutoff, str):
        text = cutoff.strip()
        if _ISO_DATE.match(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError as exc:
                raise ValueError(f"cutoff {cutoff!r} is not a valid date: {exc}") from None
        raise ValueError(
            f"cutoff {cutoff!r} is not an ISO date; write it as 'YYYY-MM-DD' (e.g. '2020-12-31'), "
            "or pass a datetime.date or pandas.Timestamp (day/month order is ambiguous)"
        )
    raise TypeError(
        f"cutoff must be an ISO date string 'YYYY-MM-DD', a datetime.date or a pandas.Timestamp, "
        f"got {type(cutoff).__name__}"
    )


def _is_table(x: Any) -> bool:
    """Tell whether ``x`` is a precomputed evidence table (a DataFrame, not a layer)."""
    return isinstance(x, pd.DataFrame) and not isinstance(x, gpd.GeoDataFrame)


def _on_index(table: pd.DataFrame, index: pd.Index, name: str) -> pd.DataFrame:
    if len(table) and not table.index.isin(index).any():
        raise ValueError(
            f"the {name} table shares no index label with the parcels; precomputed evidence must "
            f"be on the parcels' index (e.g. the result of agf.{name}(parcels, ...))"
        )
    if not table.index.is_unique:
        raise ValueError(f"the {name} table has repeated index labels; give one row per parcel")
    return table.reindex(index)


def _geometry_errors(parcels: gpd.GeoDataFrame, id_column: str | None) -> pd.DataFrame:
    from ..validate import validate

    report = validate(parcels, kind="parcels", id_column=id_column)
    f = report.findings
    f = f[f["position"].notna() & (f["severity"] == "error") & ~f["code"].isin(_NOT_GEOMETRY)]
    n = np.zeros(len(parcels), dtype=np.int64)
    text = [""] * len(parcels)
    for pos, code, msg in zip(f["position"].astype(int), f["code"], f["message"], strict=True):
        n[pos] += 1
        item = f"{code}: {msg}"
        text[pos] = f"{text[pos]} | {item}" if text[pos] else item
    return pd.DataFrame({"n_geometry_errors": n, "geometry_problem": text}, index=parcels.index)


def _cover_evidence(
    cover: Any, parcels: gpd.GeoDataFrame, ok: np.ndarray, threshold: float
) -> pd.DataFrame | None:
    if cover is None:
        return None
    if _is_table(cover):
        return _on_index(cover, parcels.index, "forest_cover")
    from ..cover import forest_cover

    sub = parcels[ok]
    res = forest_cover(sub, cover, threshold=threshold) if len(sub) else pd.DataFrame()
    return pd.DataFrame(res).reindex(parcels.index)


def _loss_evidence(
    loss: Any,
    cover: Any,
    parcels: gpd.GeoDataFrame,
    ok: np.ndarray,
    threshold: float,
    cutoff: dt.date,
) -> pd.DataFrame | None:
    if loss is None:
        return None
    if _is_table(loss):
        return _on_index(loss, parcels.index, "forest_loss")
    from ..cover import forest_loss

    sub = parcels[ok]
    cover_raster = None if (cover is None or _is_table(cover)) else cover
    if not len(sub):
        return pd.DataFrame(index=parcels.index)
    res = forest_loss(sub, loss, cover=cover_raster, threshold=threshold, cutoff=cutoff.isoformat())
    return pd.DataFrame(res).reindex(parcels.index)


def _year_columns(table: pd.DataFrame) -> dict[int, str]:
    out = {}
    for c in table.columns:
        m = _LOSS_YEAR.match(str(c))
        if m:
            out[int(m.group(1))] = str(c)
    return dict(sorted(out.items()))


def _protected_evidence(
    protected: Any, parcels: gpd.GeoDataFrame, ok: np.ndarray
) -> pd.DataFrame | None:
    if protected is None:
        return None
    if _is_table(protected):
        return _on_index(protected, parcels.index, "protected_overlap")
    from ..io import read_protected_areas
    from ..protected import protected_overlap

    layer = (
        protected if isinstance(protected, gpd.GeoDataFrame) else read_protected_areas(protected)
    )
    sub = parcels[ok]
    if not len(sub):
        return pd.DataFrame(index=parcels.index)
    return pd.DataFrame(protected_overlap(sub, layer)).reindex(parcels.index)


def _tree_evidence(trees: Any, parcels: gpd.GeoDataFrame, ok: np.ndarray) -> pd.DataFrame | None:
    if trees is None:
        return None
    if _is_table(trees):
        return _on_index(trees, parcels.index, "tree_density")
    from ..io import read_raw
    from ..trees import tree_density

    if isinstance(trees, gpd.GeoDataFrame):
        layer = trees
    elif isinstance(trees, str | Path):
        layer = read_raw(trees)
    else:
        raise TypeError(
            "trees must be a tree_density result (DataFrame on the parcels' index), a tree "
            f"inventory GeoDataFrame of points, or a path to one; got {type(trees).__name__}"
        )
    if layer.crs is not None and parcels.crs is not None and layer.crs != parcels.crs:
        layer = layer.to_crs(parcels.crs)  # an inventory of points: exact reprojection
    sub = parcels[ok]
    if not len(sub):
        return pd.DataFrame(index=parcels.index)
    return pd.DataFrame(tree_density(sub, trees=layer)).reindex(parcels.index)


def _parcel_overlap_evidence(
    parcels: gpd.GeoDataFrame, ok: np.ndarray, id_column: str | None
) -> pd.DataFrame:
    """Sum of the pairwise overlaps of each parcel with the other parcels (ha)."""
    out = pd.DataFrame(
        {"parcel_overlap_ha": 0.0, "n_parcel_overlaps": 0, "overlapping_parcels": ""},
        index=parcels.index,
    )
    out.loc[~ok, ["parcel_overlap_ha", "n_parcel_overlaps"]] = np.nan
    sub = parcels[ok]
    if len(sub) < 2:
        return out
    from ..overlap import overlaps

    # positions as ids: the evidence must not depend on the ids being unique
    pairs = overlaps(sub.assign(_position=np.arange(len(sub))), id_column="_position")
    pairs = pairs[pairs["overlap_ha"] > 0]
    if not len(pairs):
        return out
    left = pairs["_position_left"].to_numpy(dtype=np.intp)
    right = pairs["_position_right"].to_numpy(dtype=np.intp)
    ha = pairs["overlap_ha"].to_numpy(dtype=float)
    n = len(sub)
    total = np.bincount(left, weights=ha, minlength=n) + np.bincount(right, weights=ha, minlength=n)
    count = np.bincount(left, minlength=n) + np.bincount(right, minlength=n)
    labels = (
        sub[id_column].astype(str).to_numpy() if id_column else sub.index.astype(str).to_numpy()
    )
    names: list[list[str]] = [[] for _ in range(n)]
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        names[i].append(labels[j])
        names[j].append(labels[i])
    out.loc[sub.index, "parcel_overlap_ha"] = total
    out.loc[sub.index, "n_parcel_overlaps"] = count
    out.loc[sub.index, "overlapping_parcels"] = [",".join(sorted(x)) for x in names]
    return out


def _col(table: pd.DataFrame | None, name: str, index: pd.Index) -> pd.Series:
    if table is None or name not in table.columns:
        return pd.Series(np.nan, index=index, dtype=float)
    return pd.to_numeric(table[name], errors="coerce").astype(float)


def _fires(rule: Rule, values: pd.Series) -> np.ndarray:
    if rule.op == "missing":
        return values.isna().to_numpy()
    v = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    t = float(rule.threshold)  # type: ignore[arg-type]
    with np.errstate(invalid="ignore"):
        res = {
            ">": v > t,
            ">=": v >= t,
            "<": v < t,
            "<=": v <= t,
            "==": v == t,
        }[rule.op]
    return np.asarray(res & ~np.isnan(v), dtype=bool)


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return "nan" if np.isnan(v) else f"{float(v):.4g}"
    return str(v)


def assess(
    parcels: gpd.GeoDataFrame,
    *,
    cover: Any = None,
    loss: Any = None,
    protected: Any = None,
    trees: Any = None,
    cutoff: str | dt.date | pd.Timestamp = "2020-12-31",
    rules: Mapping[str, float] | Sequence[Rule] | None = None,
    cover_year: int = 2000,
    id_column: str | None = "parcel_id",
) -> pd.DataFrame:
    """Decide for every parcel whether it is deforestation-free since the cut-off.

    The evidence is gathered into columns on the parcels' index, then the
    rules of :data:`agroforest_geo.eudr.DEFAULT_RULES` (changed by ``rules``)
    are applied: each rule that fires is listed in ``reasons`` and the parcel
    gets the most severe status among them (``invalid_geometry`` >
    ``deforestation_detected`` > ``needs_review`` > ``deforestation_free``).
    Every parcel is kept, invalid ones included.

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
        With a cover raster, only loss in forest pixels of the year-2000 cover counts.
    protected : path, GeoDataFrame or DataFrame, optional
        Protected / REDD+ areas layer, or a precomputed
        :func:`agroforest_geo.protected_overlap` table (``protected_ha``, ``protected_share``).
    trees : path, GeoDataFrame or DataFrame, optional
        Tree inventory points, or a precomputed :func:`agroforest_geo.tree_density`
        table (``trees_per_ha``, optional ``tree_count``).
    cutoff : str, datetime.date or pandas.Timestamp
        The cut-off date, ISO ``"YYYY-MM-DD"``; default 31 December 2020 (EUDR).
        Loss data are annual: with a cut-off other than 31 December, the loss of
        the cut-off year counts as *after* it (the conservative reading).
    rules : mapping or sequence of Rule, optional
        Threshold overrides by parameter name, e.g. ``{"loss_after_cutoff_min_ha": 0.1}``,
        or a full replacement rule table (see :func:`~agroforest_geo.eudr.rules.resolve_rules`).
    cover_year : int
        Year of the cover raster. Forest at the cut-off is estimated as forest
        in ``cover_year`` minus the loss of the years after it up to the cut-off.
    id_column : str or None
        Parcel id column (copied to the result; used to name overlapping parcels).

    Returns
    -------
    pandas.DataFrame
        On the parcels' index: the id column, ``status``, ``reasons``,
        ``rules_fired`` (";"-joined codes), the evidence columns of
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
    if not isinstance(parcels, gpd.GeoDataFrame):
        raise TypeError(f"parcels must be a GeoDataFrame, got {type(parcels).__name__}")
    require_crs(parcels, "parcels")
    cut = parse_cutoff(cutoff)
    rule_set, th = resolve_rules(rules)
    if id_column is not None and id_column not in parcels.columns:
        if id_column != "parcel_id":
            raise MissingColumnError(
                f"id_column {id_column!r} is not a column of parcels; its columns are "
                f"{[c for c in parcels.columns if c != parcels.geometry.name]}; "
                "pass id_column=None to go without ids"
            )
        id_column = None
    idx = parcels.index
    geom_err = _geometry_errors(parcels, id_column)
    ok = (geom_err["n_geometry_errors"] == 0).to_numpy()

    ev = pd.DataFrame(index=idx)
    ev["area_ha"] = area_ha(parcels).where(ok)

    cov = _cover_evidence(cover, parcels, ok, th["cover_threshold_pct"])
    lss = _loss_evidence(loss, cover, parcels, ok, th["cover_threshold_pct"], cut)

    # --- loss before / after the cut-off -------------------------------------------
    years = _year_columns(lss) if lss is not None else {}
    # a loss year equal to the cut-off year counts before the cut-off only when the
    # cut-off is the year's last day (annual loss products cannot split a year)
    last_before = cut.year if (cut.month, cut.day) == (12, 31) else cut.year - 1
    if lss is not None and "loss_after_cutoff_ha" in lss.columns:
        after = _col(lss, "loss_after_cutoff_ha", idx)
        if last_before < cut.year and "loss_in_cutoff_year_ha" in lss.columns:
            # forest_loss leaves the ambiguous cut-off year out; count it (conservative)
            after = after + _col(lss, "loss_in_cutoff_year_ha", idx).fillna(0.0)
    elif lss is not None and years:
        cols = [c for y, c in years.items() if y > last_before]
        after = lss[cols].sum(axis=1) if cols else pd.Series(0.0, index=idx)
        after = after.where(lss[list(years.values())].notna().any(axis=1))
    else:
        after = _col(lss, "loss_after_cutoff_ha", idx)
    before_cols = [c for y, c in years.items() if cover_year < y <= last_before]
    if lss is not None and before_cols:
        before = lss[before_cols].sum(axis=1, min_count=1).fillna(0.0).astype(float)
    else:
        before = pd.Series(0.0, index=idx)
    loss_valid = _col(lss, "valid_share", idx)
    after = after.where(~(loss_valid == 0))
    after = after.where(ok)
    ev["loss_after_cutoff_ha"] = after
    ev["loss_after_cutoff_share"] = after / ev["area_ha"]
    ev["loss_before_cutoff_ha"] = before.where(after.notna())
    first_after = pd.Series(np.nan, index=idx)
    if years:
        for y, c in reversed(years.items()):
            if y > last_before:
                hit = pd.to_numeric(lss[c], errors="coerce").fillna(0) > 0  # type: ignore[index]
                first_after = first_after.mask(hit, float(y))
    ev["first_loss_year_after_cutoff"] = first_after

    # --- forest at the cut-off -----------------------------------------------------
    forest_ha = _col(cov, "forest_ha", idx)
    if cov is not None and "forest_ha" not in cov.columns and "forest_share" in cov.columns:
        forest_ha = _col(cov, "forest_share", idx) * ev["area_ha"]
    cover_valid = _col(cov, "valid_share", idx)
    forest_ha = forest_ha.where(~(cover_valid == 0))
    forest_cut = (forest_ha - before).clip(lower=0.0).where(ok)
    ev["forest_ha_cutoff"] = forest_cut
    ev["forest_share_cutoff"] = (forest_cut / ev["area_ha"]).clip(upper=1.0)
    ev["mean_cover_pct"] = _col(cov, "mean_cover_pct", idx)
    valid = pd.concat([cover_valid, loss_valid], axis=1).min(axis=1, skipna=True)
    ev["valid_share"] = valid.where(ok)

    # --- protected areas, other parcels, trees --------------------------------------
    prot = _protected_evidence(protected, parcels, ok)
    ev["protected_ha"] = _col(prot, "protected_ha", idx)
    ev["protected_share"] = _col(prot, "protected_share", idx)
    ov = _parcel_overlap_evidence(parcels, ok, id_column)
    ev["parcel_overlap_ha"] = ov["parcel_overlap_ha"].astype(float)
    ev["n_parcel_overlaps"] = ov["n_parcel_overlaps"].astype(float)
    tr = _tree_evidence(trees, parcels, ok)
    ev["tree_count"] = _col(tr, "tree_count", idx)
    ev["trees_per_ha"] = _col(tr, "trees_per_ha", idx)
    if tr is not None and "trees_per_ha" not in tr.columns and "tree_count" in tr.columns:
        ev["trees_per_ha"] = ev["tree_count"] / ev["area_ha"]
    known = ev["forest_share_cutoff"].notna() & ev["trees_per_ha"].notna()
    agro = (
        (ev["forest_share_cutoff"] >= th["agroforestry_min_cover_share"])
        & (ev["trees_per_ha"] >= th["agroforestry_min_trees_per_ha"])
        & (ev["trees_per_ha"] <= th["agroforestry_max_trees_per_ha"])
    )
    agro_known: pd.Series = agro.astype("boolean")
    agro_known[~known] = pd.NA
    ev["agroforestry_evidence"] = agro_known
    ev["n_geometry_errors"] = geom_err["n_geometry_errors"]
    ev["geometry_problem"] = geom_err["geometry_problem"]

    # --- rules ---------------------------------------------------------------------
    severity = {s: i for i, s in enumerate(STATUS_ORDER)}
    level = np.zeros(len(idx), dtype=np.int64)
    fired: list[list[str]] = [[] for _ in range(len(idx))]
    reasons: list[list[str]] = [[] for _ in range(len(idx))]
    for rule in rule_set:
        if rule.column not in ev.columns:
            raise MissingColumnError(
                f"rule {rule.code!r} reads column {rule.column!r}, which is not an evidence "
                f"column; use one of {list(ev.columns)}"
            )
        col = ev[rule.column]
        values = col.astype("Float64") if col.dtype == "boolean" else col
        mask = _fires(rule, values)
        for p in np.flatnonzero(mask).tolist():
            level[p] = max(level[p], severity[rule.status])
            fired[p].append(rule.code)
            if rule.code == "invalid_geometry" and ev["geometry_problem"].iloc[p]:
                detail = str(ev["geometry_problem"].iloc[p])
            elif rule.op == "missing":
                detail = f"{rule.column} unknown"
            else:
                detail = f"{rule.column}={_fmt(col.iloc[p])} {rule.op} {_fmt(rule.threshold)}"
            reasons[p].append(f"{rule.code}: {rule.description} ({detail})")

    out = pd.DataFrame(index=idx)
    if id_column is not None:
        out[id_column] = parcels[id_column]
    out["status"] = pd.Categorical([STATUS_ORDER[i] for i in level], categories=list(STATUS_ORDER))
    out["reasons"] = ["; ".join(r) for r in reasons]
    out["rules_fired"] = [";".join(f) for f in fired]
    for c in EVIDENCE_COLUMNS:
        out[c] = ev[c]
    out["overlapping_parcels"] = ov["overlapping_parcels"]
    buffer = point_buffer_column(parcels)  # point plots: measured as circles of this area
    if buffer is not None:
        out["point_buffer_ha"] = buffer
    # what the protected-area evidence was: which areas, of which category, how far
    for c in _PROTECTED_DETAIL:
        if prot is not None and c in prot.columns:
            out[c] = prot[c].reindex(idx)
    for y, c in years.items():
        out[f"loss_ha_{y}"] = _col(lss, c, idx)
    out.attrs["rules_version"] = (
        RULES_VERSION if rules is None or isinstance(rules, Mapping) else ("custom")
    )
    out.attrs["cutoff"] = cut.isoformat()
    out.attrs["rules"] = [
        {
            "code": r.code,
            "status": r.status,
            "column": r.column,
            "op": r.op,
            "threshold": r.threshold,
            "param": r.param,
        }
        for r in rule_set
    ]
    out.attrs["thresholds"] = dict(th)
    return out


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

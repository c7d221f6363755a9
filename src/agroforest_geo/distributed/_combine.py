"""Put the partitions' results back together, in the input's order, as the verb returns them."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ._plan import Kind, Plan, positions

_LOSS_YEAR = re.compile(r"^loss_ha_\d{4}$")


def _global_positions(plan: Plan) -> np.ndarray:
    if not plan.parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(
        [positions(s, n) for s, n in zip(plan.positions, plan.sizes, strict=True)]
    )


def _loss_years(out: pd.DataFrame, results: list[Any]) -> pd.DataFrame:
    """Loss-year columns exist per partition only where a year had loss; fill the rest with 0.

    ``forest_loss`` (and ``assess``) give ``loss_ha_<year>`` columns for every year
    with loss in *any* polygon, 0 for the others; a partition without loss in a
    year lacks the column, which the concatenation fills with NaN.
    """
    years = sorted(c for c in out.columns if _LOSS_YEAR.match(str(c)))
    if not years:
        return out
    for c in years:
        present = np.concatenate([np.full(len(r), c in r.columns) for r in results])
        if "n_geometry_errors" in out.columns:  # an assessment: measured unless invalid
            measured = out["n_geometry_errors"].to_numpy() == 0
        elif "area_ha" in out.columns:
            measured = out["area_ha"].notna().to_numpy()
        else:
            measured = np.ones(len(out), dtype=bool)
        fill = ~present & measured
        if fill.any():
            col = out[c].to_numpy(dtype=float, copy=True)
            col[fill] = 0.0
            out[c] = col
    rest = [c for c in out.columns if c not in years]
    return out[rest + years]


def _rows(results: list[Any], plan: Plan, kind: Kind) -> Any:
    out = pd.concat(results) if len(results) > 1 else results[0]
    if isinstance(out, pd.DataFrame):
        out = _loss_years(out, results)
    pos = _global_positions(plan)
    if pos.size and not np.array_equal(pos, np.arange(pos.size)):
        out = out.iloc[np.argsort(pos, kind="stable")]
    attrs = getattr(results[0], "attrs", {}) if results else {}
    if attrs:
        out.attrs = dict(attrs)
    return out


def _pairs(results: list[Any], kind: Kind) -> Any:
    # empty tables may carry other dtypes (object ids): leave them out when others have rows
    full = [r for r in results if len(r)] or results[:1]
    out = pd.concat(full) if len(full) > 1 else full[0]
    if kind == "overlaps":
        order = np.lexsort((out["_agf_r"].to_numpy(), out["_agf_l"].to_numpy()))
        out = out.iloc[order].drop(columns=["_agf_l", "_agf_r"])
    else:
        out = out.iloc[np.argsort(out["_agf_l"].to_numpy(), kind="stable")]
        out = out.drop(columns=["_agf_l"])
    out = out.reset_index(drop=True)
    out.attrs = {
        "n_below_min_overlap": int(sum(r.attrs.get("n_below_min_overlap", 0) for r in results))
    }
    return out


def _findings(parts: list[pd.DataFrame]) -> pd.DataFrame:
    from ..validate import RULES

    # findings about the whole layer (no position) come once, from the first partition
    kept = [parts[0]] + [f[f["position"].notna()] for f in parts[1:]]
    f = pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0]
    rank = {c: i for i, c in enumerate(RULES)}
    pos = f["position"].to_numpy(dtype=float, na_value=-1.0)
    code = f["code"].map(rank).fillna(len(rank)).to_numpy()
    order = np.lexsort((code, pos))
    return f.iloc[order].reset_index(drop=True)


def combine(kind: Kind, results: list[Any], plan: Plan) -> Any:
    """Assemble the verb's result from the partitions' results."""
    from ..validate import ValidationReport

    if kind in ("overlaps", "pairs"):
        return _pairs(results, kind)
    if kind in ("report", "repair"):
        firsts = [r[0] for r in results]
        findings = _findings([r[1] for r in results])
        if kind == "report":
            index = firsts[0].append(firsts[1:]) if len(firsts) > 1 else firsts[0]
            pos = _global_positions(plan)
            index = index[np.argsort(pos, kind="stable")] if pos.size else index
            return ValidationReport(findings=findings, index=index)
        layer = _rows(firsts, plan, "rows")
        return layer, ValidationReport(findings=findings, index=layer.index)
    return _rows(results, plan, kind)

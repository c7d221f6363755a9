"""What would change a verdict: the smallest change of one threshold, or one source less.

For every parcel and every overridable threshold (a rule condition with a
``param``), the threshold is moved to the parcel's own evidence value, just
across it, and the rules are applied again: if the status changes, that move
is a candidate. The candidate reported is the one with the smallest relative
change of its threshold (``|new - old| / max(|old|, |new|)``). Each evidence
source is also left out in turn (its columns unknown, as if not given); a
source whose absence makes the status milder (the verdict rests on that source) is
reported too; a source's absence that only makes "no data" rules fire is not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ._apply import apply_rules, levels
from .evidence import EVIDENCE_SCHEMA
from .rules import STATUS_ORDER, Condition, Rule

__all__ = ["verdict_sensitivity"]

_SEVERITY = {s: i for i, s in enumerate(STATUS_ORDER)}
_UNITS = {c.name: c.unit for c in EVIDENCE_SCHEMA}


def _params(rules: Sequence[Rule]) -> dict[str, list[Condition]]:
    out: dict[str, list[Condition]] = {}
    for r in rules:
        for c in r.conditions():
            if c.param and c.op in (">", ">=", "<", "<="):
                out.setdefault(c.param, []).append(c)
    return out


def _crossing(c: Condition, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the threshold just across each value ``v`` (the nearest that flips the condition).

    Also returns how to say it: ``"above"``, ``"below"``, ``"at most"`` or
    ``"at least"`` the value.
    """
    t = float(c.threshold)  # type: ignore[arg-type]
    holds = {">": v > t, ">=": v >= t, "<": v < t, "<=": v <= t}[c.op]
    up, down = np.nextafter(v, np.inf), np.nextafter(v, -np.inf)
    if c.op == ">=":  # holds iff v >= t: to stop, t above v; to start, t = v or below
        return np.where(holds, up, v), np.where(holds, "above", "at most")
    if c.op == ">":  # holds iff v > t: to stop, t = v or above; to start, t below v
        return np.where(holds, v, down), np.where(holds, "at least", "below")
    if c.op == "<=":
        return np.where(holds, down, v), np.where(holds, "below", "at least")
    return np.where(holds, v, up), np.where(holds, "at most", "above")  # "<"


def _domain_ok(column: str, new: np.ndarray) -> np.ndarray:
    """Thresholds a quantity can meaningfully take (no negative hectares, shares within 0-1)."""
    unit = _UNITS.get(column, "")
    ok = np.isfinite(new)
    if unit in ("ha", "m", "count", "trees/ha", "percent 0-100", "share 0-1"):
        ok &= new >= 0
    if unit == "share 0-1":
        ok &= new <= 1
    if unit == "percent 0-100":
        ok &= new <= 100
    return ok


def _level(status: pd.Series) -> np.ndarray:
    return status.astype(str).map(_SEVERITY).to_numpy()


def _threshold_candidates(
    evidence: pd.DataFrame, rules: Sequence[Rule], base: np.ndarray
) -> pd.DataFrame:
    """Find the threshold move with the smallest relative change that changes each status."""
    n = len(evidence)
    param_of = np.full(n, None, dtype=object)
    how_of = np.full(n, "", dtype=object)
    value_of = np.full(n, np.nan)
    level_of = np.full(n, -1, dtype=np.int64)
    cost_of = np.full(n, np.inf)
    for param, conds in _params(rules).items():
        old = float(conds[0].threshold)  # type: ignore[arg-type]
        for c in conds:
            v = pd.to_numeric(evidence[c.column], errors="coerce").astype(float).to_numpy()
            finite = np.isfinite(v)
            if not finite.any():
                continue
            new, how = _crossing(c, np.where(finite, v, old))
            level = levels(evidence, rules, param, new)
            with np.errstate(invalid="ignore", divide="ignore"):
                cost = np.abs(new - old) / np.maximum(np.maximum(abs(old), np.abs(new)), 1e-300)
            # a move to or from zero (cost 1) is no small change: not reported
            take = finite & _domain_ok(c.column, new) & (level != base) & (cost < cost_of)
            take &= cost < 1.0
            param_of[take], value_of[take], how_of[take] = param, v[take], how[take]
            level_of[take], cost_of[take] = level[take], cost[take]
    status = np.array([STATUS_ORDER[k] if k >= 0 else None for k in level_of], dtype=object)
    return pd.DataFrame(
        {
            "change_param": param_of,
            "change_value": value_of,
            "change_status": status,
            "_how": how_of,
        }
    )


def _source_candidates(
    evidence: pd.DataFrame, rules: Sequence[Rule], base: np.ndarray, sources: dict[str, list[str]]
) -> pd.Series:
    out = pd.Series([""] * len(evidence), dtype=object)
    for source, columns in sources.items():
        cols = [c for c in columns if c in evidence.columns]
        if not cols:
            continue
        without = evidence.copy()
        without[cols] = np.nan
        status = apply_rules(without, rules)["status"].astype(str)
        # only a milder verdict says something: without a source, "no data" rules fire
        changed = _level(status) < base
        text = "becomes " + status + " without the " + source + " evidence"
        out[changed] = np.where(
            out[changed] == "", text[changed], out[changed] + "; " + text[changed]
        )
    return out


def _variant_candidates(
    rules: Sequence[Rule], base: np.ndarray, variants: Mapping[str, pd.DataFrame]
) -> pd.Series:
    """Status changes when one source is left out and the sources are combined again."""
    out = pd.Series([""] * len(base), dtype=object)
    for what, evidence in variants.items():
        status = apply_rules(evidence.reset_index(drop=True), rules)["status"].astype(str)
        changed = _level(status) != base
        text = "becomes " + status + " without the " + what + " evidence"
        out[changed] = np.where(
            out[changed] == "", text[changed], out[changed] + "; " + text[changed]
        )
    return out


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def verdict_sensitivity(
    evidence: pd.DataFrame,
    rules: Sequence[Rule],
    status: pd.Series,
    *,
    sources: dict[str, list[str]] | None = None,
    variants: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Say, per parcel, the smallest change of one threshold or one source less that flips it.

    Parameters
    ----------
    evidence : DataFrame
        The evidence table the rules were applied to.
    rules : sequence of Rule
        The rules applied.
    status : Series
        The status each parcel got.
    sources : dict, optional
        ``{source: [evidence columns]}`` to leave out one at a time.
    variants : mapping, optional
        ``{what: evidence}``: the evidence combined again without one source (one
        product of several); any status change is reported.

    Returns
    -------
    pandas.DataFrame
        On the evidence's index: ``change_param``, ``change_value`` (the threshold
        that flips the status), ``change_status`` (the status it would give) and
        ``what_would_change`` (in words; empty when nothing near changes it).

    Examples
    --------
    >>> import pandas as pd
    >>> from agroforest_geo.eudr.rules import DEFAULT_RULES
    >>> from agroforest_geo.eudr._apply import apply_rules
    >>> rules = [r for r in DEFAULT_RULES
    ...          if r.column == "loss_after_cutoff_ha" and r.op != "missing"]
    >>> ev = pd.DataFrame({"loss_after_cutoff_ha": [0.45]})
    >>> s = verdict_sensitivity(ev, rules, apply_rules(ev, rules)["status"])
    >>> s.loc[0, "what_would_change"]
    'needs_review; becomes deforestation_detected if loss_after_cutoff_min_ha were at most 0.45'
    """
    base = _level(status.reset_index(drop=True))
    ev = evidence.reset_index(drop=True)
    out = _threshold_candidates(ev, rules, base)
    by_source = _source_candidates(ev, rules, base, sources or {})
    by_variant = _variant_candidates(rules, base, variants or {})
    words = []
    for i in range(len(ev)):
        parts = []
        if isinstance(out["change_param"].iloc[i], str):
            parts.append(
                f"becomes {out['change_status'].iloc[i]} if {out['change_param'].iloc[i]} "
                f"were {out['_how'].iloc[i]} {_fmt(out['change_value'].iloc[i])}"
            )
        if by_source.iloc[i]:
            parts.append(by_source.iloc[i])
        if by_variant.iloc[i]:
            parts.append(by_variant.iloc[i])
        words.append(f"{status.iloc[i]}; " + "; ".join(parts) if parts else "")
    out = out.drop(columns="_how")
    out["what_would_change"] = words
    out.index = evidence.index
    return out

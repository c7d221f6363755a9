"""Apply a rule table to an evidence table: status, reasons and fired rules per parcel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MissingColumnError
from .rules import STATUS_ORDER, Condition, Rule

__all__ = ["apply_rules", "check_rule_columns", "levels"]


def check_rule_columns(rules: Sequence[Rule], columns: Sequence[str]) -> None:
    """Raise :class:`MissingColumnError` when a rule reads a column that is not evidence."""
    have = set(columns)
    for rule in rules:
        for col in rule.columns():
            if col not in have:
                raise MissingColumnError(
                    f"rule {rule.code!r} reads column {col!r}, which is not an evidence column; "
                    f"use one of {sorted(have)}"
                )


def _numeric(values: pd.Series) -> np.ndarray:
    if values.dtype == "boolean" or values.dtype == bool:
        values = values.astype("Float64")
    return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()


def _holds(cond: Condition, evidence: pd.DataFrame, threshold: Any = None) -> np.ndarray:
    """Where the condition holds; a missing value never satisfies a comparison.

    ``threshold`` (a number or one per row) replaces the condition's own.
    """
    col = evidence[cond.column]
    if cond.op == "missing":
        return col.isna().to_numpy()
    v = _numeric(col)
    t = float(cond.threshold) if threshold is None else threshold  # type: ignore[arg-type]
    with np.errstate(invalid="ignore"):
        res = {
            ">": v > t,
            ">=": v >= t,
            "<": v < t,
            "<=": v <= t,
            "==": v == t,
            "!=": v != t,
        }[cond.op]
    return np.asarray(res & ~np.isnan(v), dtype=bool)


def _fires(
    rule: Rule, evidence: pd.DataFrame, param: str | None = None, values: Any = None
) -> np.ndarray:
    """Where the rule fires; the conditions of ``param`` take the thresholds ``values``."""

    def holds(c: Condition) -> np.ndarray:
        return _holds(c, evidence, values if (param and c.param == param) else None)

    mask = np.ones(len(evidence), dtype=bool)
    own = rule.own_condition()
    if own is not None:
        mask &= holds(own)
    for c in rule.all_of:
        mask &= holds(c)
    if rule.any_of:
        mask &= np.logical_or.reduce([holds(c) for c in rule.any_of])
    return mask


def levels(
    evidence: pd.DataFrame, rules: Sequence[Rule], param: str | None = None, values: Any = None
) -> np.ndarray:
    """Severity (position in :data:`STATUS_ORDER`) of each parcel's status under the rules."""
    severity = {s: i for i, s in enumerate(STATUS_ORDER)}
    level = np.zeros(len(evidence), dtype=np.int64)
    for rule in rules:
        fires = _fires(rule, evidence, param, values)
        level = np.where(fires, np.maximum(level, severity[rule.status]), level)
    return level


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return "nan" if np.isnan(v) else f"{float(v):.4g}"
    if v is pd.NA or v is None:
        return "unknown"
    return str(v)


def _detail(rule: Rule, evidence: pd.DataFrame, p: int) -> str:
    if rule.code == "invalid_geometry" and "geometry_problem" in evidence.columns:
        text = evidence["geometry_problem"].iloc[p]
        if isinstance(text, str) and text:
            return text
    parts = []
    shown = [
        c for c in rule.conditions() if c not in rule.any_of or _holds(c, evidence.iloc[[p]])[0]
    ]
    for c in shown:
        if c.op == "missing":
            parts.append(f"{c.column} unknown")
            continue
        value = _fmt(evidence[c.column].iloc[p])
        text = f"{c.column}={value} {c.op} {_fmt(c.threshold)}"
        source = _source_of(evidence, c.column, p)
        parts.append(f"{text} by {source}" if source else text)
    return ", ".join(parts)


def _source_of(evidence: pd.DataFrame, column: str, p: int) -> str:
    """Return the source(s) that decided an evidence value (``<column>_source``), with its date."""
    name = f"{column}_source"
    if name not in evidence.columns:
        return ""
    source = evidence[name].iloc[p]
    if not isinstance(source, str) or not source:
        return ""
    if column == "alert_ha_after_cutoff" and "first_alert_date_after_cutoff" in evidence:
        first = evidence["first_alert_date_after_cutoff"].iloc[p]
        if not pd.isna(first):
            return f"{source}, first alert {pd.Timestamp(first).date().isoformat()}"
    return source


def apply_rules(evidence: pd.DataFrame, rules: Sequence[Rule]) -> pd.DataFrame:
    """Status, reasons and fired rule codes of every parcel, on the evidence's index.

    The parcel gets the most severe status (order of :data:`STATUS_ORDER`) of
    the rules that fire; ``deforestation_free`` when none escalates. Rules are
    reported in table order.

    Examples
    --------
    >>> import pandas as pd
    >>> from agroforest_geo.eudr.rules import DEFAULT_RULES, Rule
    >>> ev = pd.DataFrame({"loss_after_cutoff_ha": [0.0, 0.2, 2.0]})
    >>> rules = [r for r in DEFAULT_RULES
    ...          if r.column == "loss_after_cutoff_ha" and r.op != "missing"]
    >>> apply_rules(ev, rules)["status"].tolist()
    ['deforestation_free', 'needs_review', 'deforestation_detected']
    """
    check_rule_columns(rules, list(evidence.columns))
    severity = {s: i for i, s in enumerate(STATUS_ORDER)}
    n = len(evidence)
    level = np.zeros(n, dtype=np.int64)
    fired: list[list[str]] = [[] for _ in range(n)]
    reasons: list[list[str]] = [[] for _ in range(n)]
    for rule in rules:
        for p in np.flatnonzero(_fires(rule, evidence)).tolist():
            level[p] = max(level[p], severity[rule.status])
            fired[p].append(rule.code)
            reasons[p].append(f"{rule.code}: {rule.description} ({_detail(rule, evidence, p)})")
    out = pd.DataFrame(index=evidence.index)
    out["status"] = pd.Categorical([STATUS_ORDER[i] for i in level], categories=list(STATUS_ORDER))
    out["reasons"] = ["; ".join(r) for r in reasons]
    out["rules_fired"] = [";".join(f) for f in fired]
    return out

"""The reasons of each verdict written for people, with the numbers, in the report's language.

The words are built from what the assessment holds (the fired rule codes, the
evidence, the rule table and the cut-off); nothing is measured again. A rule
of a custom table that the catalogue does not know is shown with its own
description and the values of the columns it reads.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._cutoff import year_is_after_cutoff
from ._i18n import MESSAGES, Messages

__all__ = ["human_reasons", "loss_years_after"]

_LOSS_COLUMN = re.compile(r"^loss_ha_(\d{4})$")


def loss_years_after(evidence: pd.DataFrame, cutoff: dt.date) -> list[list[int]]:
    """Years after the cut-off with loss, per parcel (from the ``loss_ha_<year>`` columns)."""
    cols = sorted(
        (int(m.group(1)), c) for c in evidence.columns if (m := _LOSS_COLUMN.match(str(c)))
    )
    cols = [(y, c) for y, c in cols if year_is_after_cutoff(y, cutoff)]
    if not cols:
        return [[] for _ in range(len(evidence))]
    values = evidence[[c for _, c in cols]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    years = np.array([y for y, _ in cols])
    hit = np.nan_to_num(values) > 0
    return [years[row].tolist() for row in hit]


def _years_text(years: list[int], m: Messages) -> str:
    if not years:
        return m.t("unknown")
    if len(years) == 1:
        return str(years[0])
    return ", ".join(str(y) for y in years)


def _value(ev: Mapping[Any, Any], col: str) -> Any:
    return ev.get(col, np.nan)


def _sentence(rule: Any, ev: Mapping[Any, Any], years: list[int], m: Messages) -> str:
    """One fired rule of one parcel, in words with the numbers."""
    key = f"reason.{rule.code}"
    if key not in MESSAGES:
        values = ", ".join(
            f"{c.column} = {_plain(_value(ev, c.column), m)}" for c in rule.conditions()
        )
        return m.t("reason.custom", description=rule.description, values=values)
    if rule.code == "invalid_geometry":
        problem = _value(ev, "geometry_problem")
        return m.t(key, problem=problem if isinstance(problem, str) and problem else "-")
    if rule.code in ("deforestation_after_cutoff", "loss_after_cutoff"):
        return m.t(
            key,
            ha=m.num(_value(ev, "loss_after_cutoff_ha"), 2),
            years=_years_text(years, m),
            threshold=m.num(rule.threshold, 2),
        )
    if rule.code == "protected_area_overlap":
        names = _value(ev, "protected_area_ids")
        return m.t(
            key,
            ha=m.num(_value(ev, "protected_ha"), 2),
            share=m.pct(_value(ev, "protected_share")),
            names=names if isinstance(names, str) and names else "-",
        )
    if rule.code == "parcel_overlap":
        ids = _value(ev, "overlapping_parcels")
        return m.t(
            key,
            ha=m.num(_value(ev, "parcel_overlap_ha"), 2),
            ids=ids if isinstance(ids, str) and ids else "-",
        )
    if rule.code == "partial_raster_coverage":
        return m.t(key, share=m.pct(_value(ev, "valid_share")), threshold=m.pct(rule.threshold))
    if rule.code == "agroforestry_evidence":
        return m.t(key, trees=m.num(_value(ev, "trees_per_ha"), 0))
    return _land_use_sentence(rule.code, key, ev, m)


def _text(ev: Mapping[Any, Any], col: str) -> str:
    v = _value(ev, col)
    return v if isinstance(v, str) and v else "-"


def _land_use_sentence(code: str, key: str, ev: Mapping[Any, Any], m: Messages) -> str:
    """Return the land-use and alert rules in words, with the source that decided them."""
    if code == "possible_conversion_after_cutoff":
        share = m.pct(_value(ev, "forest_share_2020"))
        return m.t(key, share=share, source=_text(ev, "forest_share_2020_source"))
    if code == "alert_after_cutoff":
        first = _value(ev, "first_alert_date_after_cutoff")
        date = "-" if pd.isna(first) else pd.Timestamp(first).date().isoformat()
        return m.t(
            key,
            ha=m.num(_value(ev, "alert_ha_after_cutoff"), 2),
            source=_text(ev, "alert_ha_after_cutoff_source"),
            date=date,
        )
    if code == "agroforestry_before_cutoff":
        return m.t(key, source=_text(ev, "agri_use_at_cutoff_source"))
    return m.t(key)


def _plain(v: Any, m: Messages) -> str:
    if isinstance(v, bool | np.bool_):
        return m.yes_no(v)
    if isinstance(v, int | float | np.number):
        return m.num(v, 2)
    if v is None or v is pd.NA:
        return m.t("unknown")
    return str(v)


def human_reasons(
    result: pd.DataFrame,
    evidence: pd.DataFrame,
    rules: Sequence[Any],
    cutoff: dt.date,
    m: Messages,
) -> list[list[tuple[str, str]]]:
    """Per parcel, ``(rule code, sentence)`` of every fired rule, in rule-table order.

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> from agroforest_geo.eudr import DEFAULT_RULES
    >>> from agroforest_geo.reporting._i18n import messages
    >>> res = pd.DataFrame({"rules_fired": ["deforestation_after_cutoff"]})
    >>> ev = pd.DataFrame({"loss_after_cutoff_ha": [2.3], "loss_ha_2022": [2.3]})
    >>> words = human_reasons(res, ev, DEFAULT_RULES, dt.date(2020, 12, 31), messages("es"))
    >>> words[0][0][1][:54]
    '2,30 ha perdidas en 2022, después de la fecha de corte'
    """
    by_code = {r.code: r for r in rules}
    fired = result["rules_fired"].fillna("").astype(str).tolist()
    out: list[list[tuple[str, str]]] = [[] for _ in fired]
    todo = [i for i, f in enumerate(fired) if f]
    if not todo:
        return out
    rows = evidence.iloc[todo]
    years = loss_years_after(rows, cutoff)
    for k, (i, ev) in enumerate(zip(todo, rows.to_dict("records"), strict=True)):
        for code in fired[i].split(";"):
            rule = by_code.get(code)
            text = _sentence(rule, ev, years[k], m) if rule is not None else code
            out[i].append((code, text))
    return out

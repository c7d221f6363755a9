"""One evidence sheet per parcel: its map with neighbours and loss, evidence, rules, loss by year.

Sheets are HTML sections of the report (``#sheet-<row>``), each printable on
its own (a print stylesheet starts every sheet on a new page). The values are
the assessment's; formatting follows :data:`~agroforest_geo.eudr.EVIDENCE_SCHEMA`
units.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._i18n import Messages
from ._svg import _esc

__all__ = ["evidence_rows", "format_value", "loss_bars_svg", "sheet_html"]

_LOSS_COLUMN = re.compile(r"^loss_ha_(\d{4})$")

#: Units shown after a value, by schema unit.
_SUFFIX = {"ha": " ha", "m": " m", "trees/ha": " /ha"}
_DIGITS = {"ha": 2, "m": 0, "trees/ha": 0, "ratio": 2, "percent 0-100": 1, "count": 0}


def format_value(v: Any, unit: str, m: Messages) -> str:
    """Return a value in words for people, by its schema unit (share as percent, year as is)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    if unit == "bool":
        return m.yes_no(v)
    if unit == "text":
        return str(v)
    if unit in ("year", "code"):
        return str(int(float(v)))
    if unit == "date":
        return pd.Timestamp(v).date().isoformat()
    if unit == "share 0-1":
        return m.pct(v)
    if unit == "percent 0-100":
        return f"{m.num(v, 1)} %"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return m.num(f, _DIGITS.get(unit, 2)) + _SUFFIX.get(unit, "")


def evidence_rows(columns: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(source, column, unit)`` of the schema columns present, in schema order."""
    from ..eudr.evidence import EVIDENCE_SCHEMA

    have = set(columns)
    return [
        (c.source, c.name, c.unit)
        for c in EVIDENCE_SCHEMA
        if c.name in have and not c.name.startswith("loss_ha_")
    ]


def loss_bars_svg(values: dict[int, float], last_before: int, m: Messages) -> str:
    """Return a small bar chart of one parcel's loss by year, after the cut-off in red."""
    if not values:
        return f'<p class="muted">{_esc(m.t("chart.no_loss"))}</p>'
    years = sorted(values)
    w, h, bottom = 360, 110, 16
    vmax = max(max(values.values()), 1e-9)
    bw = (w - 10) / len(years)
    parts = [f'<svg class="bars" viewBox="0 0 {w} {h}" width="{w}" height="{h}">']
    for i, y in enumerate(years):
        v = values[y]
        bh = (h - bottom - 12) * (v / vmax if v == v else 0)
        colour = "#d73027" if y > last_before else "#a6a6a6"
        x = 5 + i * bw
        parts.append(
            f'<rect x="{x:.1f}" y="{h - bottom - bh:.1f}" width="{max(bw - 1, 1):.1f}" '
            f'height="{bh:.1f}" fill="{colour}"><title>{y}: {m.num(v, 2)} ha</title></rect>'
        )
        if i % 5 == 0 or i == len(years) - 1:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{h - 3}" text-anchor="middle">{y}</text>')
    parts.append(
        f'<text x="{w - 4}" y="10" text-anchor="end">max {_esc(m.num(vmax, 2))} ha</text></svg>'
    )
    return "".join(parts)


def minimap_svg(
    i: int,
    paths: Sequence[str],
    bounds: np.ndarray,
    neighbours: Sequence[int],
    status_class: Sequence[str],
    loss_paths: Sequence[str],
) -> str:
    """Draw the parcel (outlined), its neighbours and the loss after the cut-off around it."""
    x0, y0, x1, y1 = bounds[i]
    if not np.all(np.isfinite(bounds[i])):
        return ""
    side = max(x1 - x0, y1 - y0, 4.0) * 1.6
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    vb = f"{cx - side / 2:.0f} {cy - side / 2:.0f} {side:.0f} {side:.0f}"
    parts = [f'<svg class="minimap" viewBox="{vb}" width="260" height="260">']
    parts.extend(f'<path class="neighbour" d="{paths[j]}"/>' for j in neighbours if j != i)
    parts.append(f'<path class="parcel {status_class[i]} focus" d="{paths[i]}"/>')
    if loss_paths:
        parts.append(f'<path class="loss" d="{"".join(loss_paths)}"/>')
    parts.append("</svg>")
    return "".join(parts)


@functools.lru_cache(maxsize=512)
def _words(m: Messages, key: str) -> str:
    """Return a message (``source.*``) or a column's words, escaped, once per language."""
    return _esc(m.t(key) if key.startswith("source.") else m.column(key))


def sheet_html(
    i: int,
    pid: str,
    status: str,
    reasons: Sequence[tuple[str, str]],
    evidence: Mapping[Any, Any],
    rows: Sequence[tuple[str, str, str]],
    loss_by_year: dict[int, float],
    last_before: int,
    minimap: str,
    m: Messages,
) -> str:
    """One parcel's sheet."""
    items = "".join(
        f'<li>{_esc(text)} <code title="{_esc(code)}">{_esc(code)}</code></li>'
        for code, text in reasons
    )
    rules = f"<ul>{items}</ul>" if items else f"<p>{_esc(m.t('sheet.no_rule'))}</p>"
    body = []
    last_source = None
    for source, col, unit in rows:
        value = format_value(evidence.get(col), unit, m)
        if not value:
            continue
        src = _words(m, f"source.{source}") if source != last_source else ""
        last_source = source
        body.append(
            f'<tr><th>{src}</th><td title="{col}">{_words(m, col)}</td>'
            f'<td class="num">{_esc(value)}</td></tr>'
        )
    label = _esc(m.status(status))
    return (
        f'<section class="sheet" id="sheet-{i}" data-parcel-id="{_esc(pid)}">'
        f'<h3>{_esc(m.t("sheet.title", id=pid))} <span class="status s-{_esc(status)}" '
        f'title="{_esc(status)}">{label}</span></h3>'
        f'<div class="sheetgrid"><div>{minimap}</div><div><h4>{_esc(m.t("sheet.reasons"))}</h4>'
        f"{rules}<h4>{_esc(m.t('sheet.loss_by_year'))}</h4>"
        f"{loss_bars_svg(loss_by_year, last_before, m)}</div></div>"
        f'<h4>{_esc(m.t("sheet.evidence"))}</h4><table class="evidence">{"".join(body)}</table>'
        f'<p class="noprint"><a href="#parcels">{_esc(m.t("sheet.back"))}</a></p></section>'
    )


def neighbours_of(bounds: np.ndarray, tree: shapely.STRtree) -> list[np.ndarray]:
    """Return the indices of the shapes within a parcel-size margin of each parcel."""
    finite = np.all(np.isfinite(bounds), axis=1)
    side = np.fmax(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    pad = np.where(finite, np.fmax(side * 0.3, 2.0), 0)
    boxes = shapely.box(
        bounds[:, 0] - pad, bounds[:, 1] - pad, bounds[:, 2] + pad, bounds[:, 3] + pad
    )
    boxes = np.where(finite, boxes, None)
    q = tree.query(boxes)
    out: list[np.ndarray] = [np.empty(0, dtype=np.int64) for _ in range(len(bounds))]
    if q.size:
        order = np.argsort(q[0], kind="stable")
        src, dst = q[0][order], q[1][order]
        cuts = np.searchsorted(src, np.arange(len(bounds) + 1))
        for k in range(len(bounds)):
            out[k] = dst[cuts[k] : cuts[k + 1]]
    return out

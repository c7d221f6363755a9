"""Inline SVG charts of the report (the map is drawn by :mod:`._map`)."""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._cutoff import last_year_before_cutoff

PathLike = str | os.PathLike[str]


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def loss_chart_svg(
    evidence: pd.DataFrame, cutoff: dt.date, *, years: Sequence[int] = (), m: Any = None
) -> str:
    """Bar chart of tree-cover loss per year in the parcels (ha), after the cut-off in red.

    ``years`` is the loss product's range (every year has a bar, 0 without loss).
    """
    have = {
        int(str(c)[8:]): c
        for c in evidence.columns
        if str(c).startswith("loss_ha_") and str(c)[8:].isdigit()
    }
    years = list(years) or (list(range(min(have), max(have) + 1)) if have else [])
    if not years:
        return f'<p class="muted">{_esc(m.t("chart.no_loss"))}</p>'
    values = [
        float(pd.to_numeric(evidence[have[y]], errors="coerce").sum()) if y in have else 0.0
        for y in years
    ]
    last_before = last_year_before_cutoff(cutoff)
    w, h, left, bottom, top = 760, 260, 50, 30, 14
    vmax = max(max(values), 1e-9)
    bw = (w - left - 10) / len(years)
    parts = [f'<svg class="chart" id="loss-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}">']
    for k in range(5):
        v = vmax * k / 4
        y = h - bottom - (h - bottom - top) * k / 4
        parts.append(
            f'<line x1="{left}" x2="{w - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{m.num(v, 1)}</text>'
        )
    for i, (yr, v) in enumerate(zip(years, values, strict=True)):
        bh = (h - bottom - top) * v / vmax
        x = left + i * bw
        colour = "#d73027" if yr > last_before else "#a6a6a6"
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{h - bottom - bh:.1f}" width="{bw - 2:.1f}" '
            f'height="{bh:.1f}" fill="{colour}" data-tip="{yr}: {m.num(v, 2)} ha"/>'
        )
        if len(years) <= 30 or i % 2 == 0:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{h - bottom + 14}" text-anchor="middle">{yr}</text>'
            )
    parts.append(
        f'<text x="12" y="{(h - bottom) / 2:.0f}" '
        f'transform="rotate(-90 12 {(h - bottom) / 2:.0f})" '
        f'text-anchor="middle">{_esc(m.t("chart.loss_axis"))}</text></svg>'
    )
    return "".join(parts)


def declared_chart_svg(
    measured: pd.Series,
    declared: pd.Series,
    ids: pd.Series,
    tolerance: float = 0.1,
    *,
    m: Any = None,
    max_points: int = 5000,
) -> str:
    """Scatter of declared against measured hectares with the 1:1 line and ±tolerance.

    Above ``max_points`` parcels the points are one path (no tooltip each).
    """
    msg = m
    ok = (measured.notna() & declared.notna()).to_numpy()
    if not ok.any():
        return f'<p class="muted">{_esc(msg.t("chart.no_declared"))}</p>'
    mv = measured[ok].astype(float).to_numpy()
    dv = declared[ok].astype(float).to_numpy()
    names = ids[ok].astype(str).to_numpy()
    vmax = float(max(mv.max(), dv.max())) * 1.05
    size, pad = 420, 40
    s = (size - 2 * pad) / vmax

    def px(v: float) -> float:
        return pad + v * s

    def py(v: float) -> float:
        return size - pad - v * s

    parts = [
        f'<svg class="chart" id="declared-chart" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}">'
    ]
    parts.append(
        f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(vmax):.1f}" y2="{py(vmax):.1f}" '
        'stroke="#333"/>'
    )
    for f in (1 + tolerance, 1 - tolerance):
        parts.append(
            f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(vmax / max(f, 1)):.1f}" '
            f'y2="{py(vmax / max(f, 1) * f):.1f}" stroke="#999" stroke-dasharray="4 3"/>'
        )
    for k in range(5):
        v = vmax * k / 4
        parts.append(
            f'<text x="{px(v):.1f}" y="{size - pad + 14}" text-anchor="middle">{msg.num(v, 1)}'
            f'</text><text x="{pad - 4}" y="{py(v) + 4:.1f}" text-anchor="end">{msg.num(v, 1)}'
            "</text>"
        )
    off = np.where(mv > 0, np.abs(dv / np.where(mv > 0, mv, 1) - 1) > tolerance, True)
    if len(mv) > max_points:
        for flag, colour in ((False, "#1f78b4"), (True, "#d73027")):
            sel = off == flag
            d = "".join(
                f"M{px(a):.1f} {py(b):.1f}h2v2h-2z"
                for a, b in zip(mv[sel].tolist(), dv[sel].tolist(), strict=True)
            )
            parts.append(f'<path d="{d}" fill="{colour}" fill-opacity=".6"/>')
    else:
        for a, b, n, o in zip(mv.tolist(), dv.tolist(), names, off.tolist(), strict=True):
            colour = "#d73027" if o else "#1f78b4"
            tip = _esc(f"{n}: {msg.num(a, 2)} ha / {msg.num(b, 2)} ha")
            parts.append(
                f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="3" fill="{colour}" '
                f'fill-opacity=".7" data-tip="{tip}"/>'
            )
    parts.append(
        f'<text x="{size / 2}" y="{size - 6}" text-anchor="middle">'
        f"{_esc(msg.t('chart.measured'))}</text>"
        f'<text x="12" y="{size / 2}" transform="rotate(-90 12 {size / 2})" '
        f'text-anchor="middle">{_esc(msg.t("chart.declared"))}</text></svg>'
    )
    return "".join(parts)

"""Inline SVG drawings of the report: the map and the charts.

The map is drawn in the local UTM zone of the parcels (metres, so shapes are
not stretched), y pointing down as SVG wants it. Coordinates are written with
0.1 m precision.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._network import check_source, raster_env
from ..crs import utm_crs_for
from ..errors import NoDataWarning
from ._assets import STATUS_COLOURS

PathLike = str | os.PathLike[str]


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


class _Frame:
    """Map from projected metres to SVG user units (origin top-left, y down)."""

    def __init__(self, bounds: Sequence[float], margin: float = 0.04) -> None:
        x0, y0, x1, y1 = bounds
        w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        self.x0 = x0 - margin * w
        self.y1 = y1 + margin * h
        self.w = w * (1 + 2 * margin)
        self.h = h * (1 + 2 * margin)

    def path(self, geom: shapely.Geometry) -> str:
        if geom is None or geom.is_empty:
            return ""
        parts = []
        rings = shapely.get_rings(shapely.get_parts(geom))
        for ring in rings:
            xy = shapely.get_coordinates(ring)
            if len(xy) < 3:
                continue
            sx = xy[:, 0] - self.x0
            sy = self.y1 - xy[:, 1]
            pts = " ".join(f"{a:.1f} {b:.1f}" for a, b in zip(sx, sy, strict=True))
            parts.append(f"M{pts}Z")
        return "".join(parts)


def working_crs(parcels: gpd.GeoDataFrame) -> Any:
    """Return the UTM zone containing the centre of the parcels."""
    ll = parcels.geometry.to_crs("EPSG:4326")
    x0, y0, x1, y1 = ll.total_bounds
    if not np.all(np.isfinite([x0, y0, x1, y1])):
        return "EPSG:32718"
    return utm_crs_for((x0 + x1) / 2, (y0 + y1) / 2)


def loss_after_cutoff_shapes(
    lossyear: PathLike, bounds_ll: Sequence[float], cutoff: dt.date, base_year: int = 2000
) -> gpd.GeoSeries:
    """Pixels of a Hansen loss-year raster with loss after the cut-off, as polygons (EPSG:4326).

    When the raster does not cover the parcels (a wrong tile) the result is empty
    and ``attrs["note"]`` says so; the map shows that note instead of loss.
    """
    import rasterio
    from rasterio.features import shapes
    from rasterio.warp import transform_bounds
    from rasterio.windows import from_bounds

    last_before = cutoff.year if (cutoff.month, cutoff.day) == (12, 31) else cutoff.year - 1
    check_source(lossyear, what="loss raster")
    with raster_env(), rasterio.open(lossyear) as src:
        if src.crs is None:
            return gpd.GeoSeries([], crs="EPSG:4326")
        b = transform_bounds("EPSG:4326", src.crs, *bounds_ll)
        win = from_bounds(*b, transform=src.transform).round_offsets().round_lengths()
        try:
            win = win.intersection(rasterio.windows.Window(0, 0, src.width, src.height))
        except rasterio.errors.WindowError:
            return _no_loss_note(src.bounds, bounds_ll)
        data = src.read(1, window=win)
        tr = src.window_transform(win)
        nodata = src.nodata
        crs = src.crs
    mask = data > (last_before - base_year)
    if nodata is not None:
        mask &= data != nodata
    geoms = [
        shapely.geometry.shape(g) for g, _ in shapes(mask.astype(np.uint8), mask=mask, transform=tr)
    ]
    if not geoms:
        return gpd.GeoSeries([], crs="EPSG:4326")
    merged = shapely.union_all(np.asarray(geoms, dtype=object))
    return gpd.GeoSeries(shapely.get_parts(merged), crs=crs).to_crs("EPSG:4326")


def _no_loss_note(raster_bounds: Sequence[float], bounds_ll: Sequence[float]) -> gpd.GeoSeries:
    """Return empty loss shapes whose ``attrs["note"]`` says the raster misses the parcels."""
    out = gpd.GeoSeries([], crs="EPSG:4326")
    rb = ", ".join(f"{v:.4g}" for v in raster_bounds)
    pb = ", ".join(f"{v:.4g}" for v in bounds_ll)
    out.attrs["note"] = (
        f"the loss raster (bounds {rb}) covers none of the parcels (lon/lat bounds {pb}): "
        "no loss is shown; check the tile (e.g. the right Hansen granule)"
    )
    warnings.warn(out.attrs["note"], NoDataWarning, stacklevel=3)
    return out


def map_svg(
    parcels: gpd.GeoDataFrame,
    assessment: pd.DataFrame,
    *,
    id_column: str | None,
    protected: gpd.GeoDataFrame | None,
    loss_shapes: gpd.GeoSeries | None,
    conflicts: gpd.GeoDataFrame | None = None,
) -> str:
    """Draw the map: parcels by status, protected areas, conflicts, loss after the cut-off.

    ``conflicts`` holds the land claimed twice and the parcels' parts inside protected
    areas, as geometries with a ``kind`` ("parcel overlap" or "in protected area") and
    a ``label`` for the tooltip.
    """
    crs = working_crs(parcels)
    geo = parcels.geometry.to_crs(crs)
    finite = geo[~(geo.isna() | geo.is_empty)]
    bounds = finite.total_bounds if len(finite) else np.array([0.0, 0.0, 1.0, 1.0])
    frame = _Frame([float(v) for v in bounds])
    box = (frame.x0, frame.y1 - frame.h, frame.x0 + frame.w, frame.y1)
    out = [
        f'<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.w:.1f} '
        f'{frame.h:.1f}" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-label="map of the parcels coloured by status">'
    ]
    out.append('<g id="layer-protected">')
    if protected is not None and len(protected):
        pgeo = protected.geometry.to_crs(crs)
        names = protected["name"] if "name" in protected.columns else pd.Series("", protected.index)
        cats = (
            protected["category"]
            if "category" in protected.columns
            else pd.Series("", protected.index)
        )
        for g, name, cat in zip(pgeo.values, names, cats, strict=True):
            if g is None or g.is_empty:
                continue
            clipped = shapely.clip_by_rect(g, *box)
            d = frame.path(clipped)
            if d:
                tip = _esc(f"{name} ({cat})")
                out.append(f'<path class="protected" d="{d}" data-tip="{tip}"/>')
    out.append("</g>")
    out.append('<g id="layer-parcels">')
    status = assessment["status"].astype(str).reindex(parcels.index)
    reasons = assessment["reasons"].reindex(parcels.index) if "reasons" in assessment else None
    area = assessment["area_ha"].reindex(parcels.index) if "area_ha" in assessment else None
    ids = parcels[id_column].astype(str) if id_column else parcels.index.astype(str).to_series()
    for i, g in enumerate(geo.values):
        st = str(status.iloc[i])
        pid = str(ids.iloc[i])
        colour = STATUS_COLOURS.get(st, "#999999")
        lines = [f"parcel {pid}", f"status: {st}"]
        if area is not None and pd.notna(area.iloc[i]):
            lines.append(f"area: {float(area.iloc[i]):.2f} ha")
        if reasons is not None and str(reasons.iloc[i]):
            lines.extend(str(reasons.iloc[i]).split("; "))
        d = frame.path(g) if g is not None else ""
        out.append(
            f'<path class="parcel" d="{d}" fill="{colour}" data-parcel-id="{_esc(pid)}" '
            f'data-status="{_esc(st)}" data-tip="{_esc(chr(10).join(lines))}"/>'
        )
    out.append("</g>")
    out.append('<g id="layer-conflicts">')
    if conflicts is not None and len(conflicts):
        cgeo = conflicts.geometry.to_crs(crs)
        for g, kind, label in zip(cgeo.values, conflicts["kind"], conflicts["label"], strict=True):
            d = frame.path(shapely.clip_by_rect(g, *box)) if g is not None else ""
            if d:
                css = "overlap" if kind == "parcel overlap" else "encroach"
                out.append(f'<path class="{css}" d="{d}" data-tip="{_esc(str(label))}"/>')
    out.append("</g>")
    out.append('<g id="layer-loss">')
    if loss_shapes is not None and len(loss_shapes):
        lgeo = loss_shapes.to_crs(crs)
        d = "".join(frame.path(shapely.clip_by_rect(g, *box)) for g in lgeo.values)
        if d:
            out.append(f'<path class="loss" d="{d}" data-tip="tree-cover loss after the cut-off"/>')
    note = loss_shapes.attrs.get("note") if loss_shapes is not None else None
    if note:
        out.append(
            f'<text class="note" x="{frame.w * 0.02:.1f}" y="{frame.h * 0.05:.1f}" '
            f'font-size="{frame.h * 0.025:.1f}" fill="#b10026">{_esc(note)}</text>'
        )
    out.append("</g>")
    # scale bar
    km = _nice(frame.w / 5)
    y = frame.h * 0.97
    x = frame.w * 0.97 - km
    out.append(
        f'<g class="scalebar"><rect x="{x:.1f}" y="{y:.1f}" width="{km:.1f}" '
        f'height="{frame.h * 0.006:.1f}" fill="#222"/><text x="{x:.1f}" '
        f'y="{y - frame.h * 0.008:.1f}" font-size="{frame.h * 0.022:.1f}">'
        f"{km / 1000:g} km</text></g>"
    )
    out.append("</svg>")
    return "".join(out)


def _nice(x: float) -> float:
    """Return a round length (1, 2 or 5 times a power of ten) not above ``x``."""
    if x <= 0:
        return 1.0
    p = 10 ** np.floor(np.log10(x))
    for m in (5, 2, 1):
        if m * p <= x:
            return float(m * p)
    return float(p)


def loss_chart_svg(assessment: pd.DataFrame, cutoff: dt.date) -> str:
    """Bar chart of tree-cover loss per year in the parcels (ha), after the cut-off in red."""
    cols = sorted(
        (int(c[8:]), c)
        for c in assessment.columns
        if str(c).startswith("loss_ha_") and str(c)[8:].isdigit()
    )
    if not cols:
        return '<p class="muted">No per-year loss data (no loss raster given).</p>'
    years = list(range(cols[0][0], cols[-1][0] + 1))
    have = dict(cols)
    values = [
        float(pd.to_numeric(assessment[have[y]], errors="coerce").sum()) if y in have else 0.0
        for y in years
    ]
    last_before = cutoff.year if (cutoff.month, cutoff.day) == (12, 31) else cutoff.year - 1
    w, h, left, bottom, top = 760, 260, 50, 30, 14
    vmax = max(max(values), 1e-9)
    bw = (w - left - 10) / len(years)
    parts = [f'<svg class="chart" id="loss-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}">']
    for k in range(5):
        v = vmax * k / 4
        y = h - bottom - (h - bottom - top) * k / 4
        parts.append(
            f'<line x1="{left}" x2="{w - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{v:.1f}</text>'
        )
    for i, (yr, v) in enumerate(zip(years, values, strict=True)):
        bh = (h - bottom - top) * v / vmax
        x = left + i * bw
        colour = "#d73027" if yr > last_before else "#a6a6a6"
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{h - bottom - bh:.1f}" width="{bw - 2:.1f}" '
            f'height="{bh:.1f}" fill="{colour}" data-tip="{yr}: {v:.2f} ha"/>'
        )
        if len(years) <= 30 or i % 2 == 0:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{h - bottom + 14}" text-anchor="middle">{yr}</text>'
            )
    parts.append(
        f'<text x="12" y="{(h - bottom) / 2:.0f}" '
        f'transform="rotate(-90 12 {(h - bottom) / 2:.0f})" '
        'text-anchor="middle">loss (ha)</text></svg>'
    )
    return "".join(parts)


def declared_chart_svg(
    measured: pd.Series, declared: pd.Series, ids: pd.Series, tolerance: float = 0.1
) -> str:
    """Scatter of declared against measured hectares with the 1:1 line and ±tolerance."""
    ok = measured.notna() & declared.notna()
    if not ok.any():
        return '<p class="muted">No declared areas to compare.</p>'
    m = measured[ok].astype(float).to_numpy()
    d = declared[ok].astype(float).to_numpy()
    names = ids[ok].astype(str).to_numpy()
    vmax = float(max(m.max(), d.max())) * 1.05
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
            f'<text x="{px(v):.1f}" y="{size - pad + 14}" text-anchor="middle">{v:.1f}</text>'
            f'<text x="{pad - 4}" y="{py(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>'
        )
    for a, b, n in zip(m.tolist(), d.tolist(), names, strict=True):
        off = abs(b / a - 1) > tolerance if a > 0 else True
        colour = "#d73027" if off else "#1f78b4"
        tip = _esc(f"{n}: measured {a:.2f} ha, declared {b:.2f} ha")
        parts.append(
            f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="3" fill="{colour}" '
            f'fill-opacity=".7" data-tip="{tip}"/>'
        )
    parts.append(
        f'<text x="{size / 2}" y="{size - 6}" text-anchor="middle">'
        "measured (ha, ellipsoidal)</text>"
        f'<text x="12" y="{size / 2}" transform="rotate(-90 12 {size / 2})" '
        'text-anchor="middle">declared (ha)</text></svg>'
    )
    return "".join(parts)

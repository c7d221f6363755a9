"""The map section of the report: the drawing of every cluster, the overview, the legend.

Drawn from what the assessment holds (overlap pairs, protected areas, the loss
raster read in blocks under the parcels by :func:`._map.loss_shapes`).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._assets import STATUS_COLOURS
from ._map import Drawing, _nice_length, draw, loss_shapes
from ._svg import _esc

__all__ = ["drawing", "map_html"]

_ReportData = Any
_Shared = Any


def _conflict_shapes(d: _ReportData, sh: _Shared) -> gpd.GeoDataFrame | None:
    """Land claimed twice (the assessment's overlap pairs) and parts inside protected areas."""
    m, crs = sh.m, d.parcels.crs
    shapes = []
    pairs = d.pairs
    if pairs is not None and len(pairs):
        labels = [
            m.t("map.claimed_twice", a=a, b=b, ha=m.num(ha, 2))
            for a, b, ha in zip(
                pairs["id_left"], pairs["id_right"], pairs["overlap_ha"], strict=True
            )
        ]
        g = gpd.GeoSeries(pairs.geometry.to_numpy(), crs=pairs.crs)
        shapes.append(
            gpd.GeoDataFrame({"kind": "parcel overlap", "label": labels}, geometry=g.to_crs(crs))
        )
    prot = d.protected
    inside = pd.to_numeric(
        d.assessment.get("protected_ha", pd.Series(np.nan, index=d.assessment.index)),
        errors="coerce",
    )
    if prot is not None and len(prot):
        usable = (sh.status != "invalid_geometry").to_numpy()
        sel = d.parcels[(inside.to_numpy() > 0) & usable]
        if len(sel):
            near = prot.geometry.to_numpy()[
                np.unique(prot.sindex.query(sel.geometry.to_numpy())[1])
            ]
            union = shapely.union_all(near)
            labels = [m.t("map.inside_protected", id=i) for i in sh.ids[sel.index]]
            shapes.append(
                gpd.GeoDataFrame(
                    {"kind": "in protected area", "label": labels},
                    geometry=shapely.intersection(sel.geometry.to_numpy(), union),
                    crs=crs,
                )
            )
    if not shapes:
        return None
    return gpd.GeoDataFrame(pd.concat(shapes, ignore_index=True), geometry="geometry", crs=crs)


def drawing(d: _ReportData, sh: _Shared) -> Drawing:
    loss = None
    if d.lossyear is not None:
        usable = (sh.status != "invalid_geometry").to_numpy()
        loss = loss_shapes(d.lossyear, d.parcels[usable], d.cutoff)
    prot = d.protected
    tips: list[str] = []
    if prot is not None:
        names = prot["name"] if "name" in prot.columns else pd.Series("", index=prot.index)
        cats = prot["category"] if "category" in prot.columns else pd.Series("", index=prot.index)
        tips = [f"{n} ({c})" for n, c in zip(names.astype(str), cats.astype(str), strict=True)]
    dr = draw(
        d.parcels,
        protected=prot,
        protected_tips=tips,
        conflicts=_conflict_shapes(d, sh),
        loss=loss,
    )
    dr.note = "" if loss is None else str(loss.attrs.get("note", ""))
    return dr


def _cluster_svg(k: int, dr: Drawing, sh: _Shared) -> str:
    cl = dr.clusters[k]
    members = cl.members.tolist()
    out = [
        f'<svg class="map" id="map-{k}" data-cluster="{k}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {cl.width} {cl.height}" preserveAspectRatio="xMidYMid meet" role="img"'
        f"{'' if k == 0 else ' hidden'}>"
    ]
    out.append('<g class="layer-protected">')
    out.extend(
        f'<path class="protected" d="{p}" data-tip="{_esc(t)}"/>' for p, t in dr.protected[k]
    )
    out.append('</g><g class="layer-parcels">')
    codes = sh.status.to_numpy()
    ids = sh.ids.to_numpy()
    for i in members:
        tiny = " tiny" if dr.tiny[i] else ""
        out.append(
            f'<path class="parcel s-{codes[i]}{tiny}" d="{dr.paths[i]}" data-i="{i}" '
            f'data-parcel-id="{_esc(ids[i])}"/>'
        )
    out.append('</g><g class="layer-conflicts">')
    out.extend(f'<path class="{c}" d="{p}" data-tip="{_esc(t)}"/>' for c, p, t in dr.conflicts[k])
    out.append('</g><g class="layer-loss">')
    if dr.loss[k]:
        out.append(
            f'<path class="loss" d="{"".join(dr.loss[k])}" data-tip="{_esc(sh.m.t("map.loss"))}"/>'
        )
    metres = _nice_length(cl.width / cl.scale / 5)
    bar = metres * cl.scale
    x, y = cl.width * 0.97 - bar, cl.height * 0.97
    label = f"{sh.m.num(metres / 1000, 0 if metres >= 1000 else 1)} km"
    out.append(
        f'</g><g class="scalebar"><rect x="{x:.0f}" y="{y:.0f}" width="{bar:.0f}" '
        f'height="{cl.height * 0.006:.0f}"/><text x="{x:.0f}" y="{y - cl.height * 0.01:.0f}" '
        f'font-size="{cl.height * 0.025:.0f}">{label}</text></g></svg>'
    )
    return "".join(out)


def _overview_svg(dr: Drawing, sh: _Shared) -> str:
    """Draw the clusters on a longitude/latitude overview, each a button to its map."""
    m = sh.m
    grid = "".join(
        f'<path class="graticule" d="M{x} -90V90"/>' for x in range(-180, 181, 30)
    ) + "".join(f'<path class="graticule" d="M-180 {y}H180"/>' for y in range(-90, 91, 30))
    dots = []
    for k, cl in enumerate(dr.clusters):
        label = m.t("map.cluster", k=k + 1, n=len(dr.clusters), count=len(cl.members))
        r = 2.5 + 1.5 * np.log10(len(cl.members))
        dots.append(
            f'<circle class="cluster-dot" cx="{cl.lon:.2f}" cy="{-cl.lat:.2f}" r="{r:.1f}" '
            f'data-show-cluster="{k}" data-tip="{_esc(label)}"/>'
        )
    buttons = "".join(
        f'<button data-show-cluster="{k}"{" class=on" if k == 0 else ""} title="'
        f'{_esc(m.t("map.cluster", k=k + 1, n=len(dr.clusters), count=len(cl.members)))}">'
        f"{k + 1}</button>"
        for k, cl in enumerate(dr.clusters)
    )
    return (
        '<div class="clusters"><svg class="overview" viewBox="-180 -90 360 180" '
        f'width="360" height="180">{grid}{"".join(dots)}</svg><div>{buttons}</div></div>'
    )


def map_html(d: _ReportData, sh: _Shared, dr: Drawing) -> str:
    m = sh.m
    counts = sh.status.value_counts()
    legend = "".join(
        f'<label><i class="s-{s}"></i>{_esc(m.status(s))} ({int(counts.get(s, 0))})</label>'
        for s in STATUS_COLOURS
    )
    legend += (
        f'<label><input type="checkbox" checked data-layer="layer-protected"> '
        f'<i class="k-protected"></i>{_esc(m.t("map.protected"))}</label>'
        f'<label><input type="checkbox" checked data-layer="layer-conflicts"> '
        f'<i class="k-conflict"></i>{_esc(m.t("map.conflicts"))}</label>'
        f'<label><input type="checkbox" checked data-layer="layer-loss"> '
        f'<i class="k-loss"></i>{_esc(m.t("map.loss"))}</label>'
    )
    n = len(dr.clusters)
    tabs = _overview_svg(dr, sh) if n > 1 else ""
    svgs = "".join(_cluster_svg(k, dr, sh) for k in range(n))
    crs = "; ".join(
        m.t("map.crs", lat=m.num(cl.lat, 3), lon=m.num(cl.lon, 3)) for cl in dr.clusters[:3]
    ) + ("; …" if n > 3 else "")
    return (
        f'<section id="map-section"><h2>{_esc(m.t("nav.map"))}</h2>{tabs}'
        f'<div class="mapwrap">{svgs}<div class="maptools noprint">'
        f'<button id="zoom-in" title="{_esc(m.t("map.zoom_in"))}">+</button>'
        f'<button id="zoom-out" title="{_esc(m.t("map.zoom_out"))}">&minus;</button>'
        f'<button id="zoom-reset" title="{_esc(m.t("map.reset"))}">&#8962;</button></div>'
        f'<div class="legend">{legend}</div></div>'
        f'<p class="muted">{_esc(m.t("map.help", crs=crs))}</p>'
        + (f'<p class="note">{_esc(dr.note)}</p>' if dr.note else "")
        + "</section>"
    )

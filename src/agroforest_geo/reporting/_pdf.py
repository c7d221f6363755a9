"""The archivable PDF of an assessment: a summary page, then one page per parcel.

Written by a small PDF writer of this package (:mod:`._pdfdoc`: no browser, no
dependency; standard fonts, compressed pages written one at a time): the summary
(counts by status, inputs with their SHA-256, rule-set version, cut-off), then
per parcel its map (parcel, neighbours, loss after the cut-off), status, the
rules that fired in words, the evidence per source and the loss by year. The
values are the assessment's; nothing is measured again.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .._cutoff import last_year_before_cutoff
from .._version import __version__
from ._pdfdoc import Page, PdfDocument, wrap

__all__ = ["write_pdf"]

PathLike = str | os.PathLike[str]

#: Light status colours for the parcel on its map (the loss in dark red stays visible).
_LIGHT = {
    "deforestation_free": "#a6d9b5",
    "needs_review": "#f8cd89",
    "deforestation_detected": "#eb9892",
    "invalid_geometry": "#bb94c1",
}


def _rings(g: Any) -> list[np.ndarray]:
    """Return the rings of a geometry's polygons."""
    out: list[np.ndarray] = []
    for part in shapely.get_parts(g):
        if part.geom_type == "Polygon":
            out.extend(np.asarray(r.coords) for r in (part.exterior, *part.interiors))
    return out


def _draw(page: Page, geoms: Any, frame: tuple[float, ...], **style: Any) -> None:
    x0, y0, sx, sy, px, py = frame
    for g in geoms:
        if g is None or g.is_empty:
            continue
        rings = [
            [(px + (x - x0) * sx, py + (y - y0) * sy) for x, y in r.tolist()] for r in _rings(g)
        ]
        page.polygon(rings, **style)


def _map(page: Page, i: int, st: str, ctx: dict[str, Any]) -> None:
    """Draw the parcel (in its status colour), its neighbours and the loss after the cut-off."""
    box_x, box_y, box = 40.0, 470.0, 240.0
    page.rect(box_x, box_y, box, box, stroke="#999999")
    g = ctx["geoms"][i]
    if g is None or g.is_empty:
        return
    x0, y0, x1, y1 = g.bounds
    side = max(x1 - x0, y1 - y0)
    pad = side * 0.3 if side > 0 else (1e-4 if ctx["geographic"] else 10.0)
    view = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    k = float(np.cos(np.radians((y0 + y1) / 2))) if ctx["geographic"] else 1.0
    w, h = (view[2] - view[0]) * k, view[3] - view[1]
    scale = box / max(w, h)
    frame = (
        view[0],
        view[1],
        scale * k,
        scale,
        box_x + (box - w * scale) / 2,
        box_y + (box - h * scale) / 2,
    )
    clip = shapely.box(*view)
    near = ctx["tree"].query(clip)
    others = shapely.clip_by_rect(ctx["geoms"][near], *view)
    _draw(page, others, frame, fill="#eeeeee", stroke="#888888", width=0.5)
    own = [shapely.clip_by_rect(g, *view)]
    _draw(page, own, frame, fill=ctx["light"].get(st, "#cccccc"), stroke="#000000", width=1.2)
    if ctx["loss_tree"] is not None:
        hit = ctx["loss"][ctx["loss_tree"].query(clip)]
        _draw(page, shapely.clip_by_rect(hit, *view), frame, fill="#b10026")


def _summary_page(doc: PdfDocument, d: Any, sh: Any) -> None:
    from ._assets import STATUS_COLOURS

    m = sh.m
    page = Page()
    page.text(40, 800, d.title or m.t("title"), size=16, bold=True)
    header = m.t(
        "header",
        n=m.num(len(d.parcels), 0),
        cutoff=m.date(d.cutoff),
        rules=d.assessment.attrs.get("rules_version", ""),
        version=__version__,
    )
    page.text(40, 782, header, size=9)
    counts = sh.status.value_counts()
    y = 750.0
    for s, colour in STATUS_COLOURS.items():
        page.rect(40, y - 2, 10, 10, fill=colour)
        page.text(120, y, m.num(counts.get(s, 0), 0), size=11, align="right")
        page.text(130, y, m.status(s), size=11)
        y -= 18
    y -= 10
    page.text(40, y, m.t("inputs.files"), size=12, bold=True)
    y -= 16
    inputs = d.inputs if d.inputs is not None else pd.DataFrame()
    for r in inputs.to_dict("records"):
        page.text(48, y, f"{r.get('role', '')}: {r.get('file', '')}  {r.get('crs', '') or ''}")
        page.text(48, y - 11, f"SHA-256 {r.get('sha256', '') or '-'}", size=7, colour="#555555")
        y -= 26
    page.text(40, 40, m.t("inputs.generated", when=dt.date.today().isoformat()), size=7)
    doc.add(page)


def _parcel_page(doc: PdfDocument, sh: Any, i: int, ctx: dict[str, Any]) -> None:
    from ._sheets import format_value

    m = sh.m
    page = Page()
    st = sh.status.iloc[i]
    page.text(40, 800, m.t("sheet.title", id=sh.ids.iloc[i]), size=15, bold=True)
    status = f"{m.t('sheet.status')}: {m.status(st)}  [{st}]"
    page.text(40, 782, status, size=11, colour=ctx["colours"].get(st, "#222222"))
    _map(page, i, st, ctx)
    y = 700.0
    page.text(300, y, m.t("sheet.reasons"), size=10, bold=True)
    y -= 14
    reasons = [f"- {t} [{c}]" for c, t in sh.reasons[i]] or [m.t("sheet.no_rule")]
    for line in (ln for r in reasons for ln in wrap(r, 8, 255)):
        page.text(300, y, line, size=8)
        y -= 10
    rec = ctx["records"][i]
    y = 445.0
    page.text(40, y, m.t("sheet.evidence"), size=11, bold=True)
    y -= 15
    last = None
    for source, col, unit in ctx["rows"]:
        value = format_value(rec.get(col), unit, m)
        if not value or y < 150:
            continue
        if source != last:
            page.text(48, y, m.t(f"source.{source}"), size=7.5, colour="#555555")
        last = source
        label = m.column(col)
        page.text(150, y, f"{label}  ({col})" if label != col else col, size=7.5)
        page.text(550, y, value, size=7.5, align="right")
        y -= 10.5
    _bars(page, i, ctx, m)
    doc.add(page)


def _bars(page: Page, i: int, ctx: dict[str, Any], m: Any) -> None:
    years = ctx["years"]
    if not years:
        return
    vals = np.nan_to_num(ctx["loss_by_year"][i])
    top = float(vals.max()) if len(vals) else 0.0
    page.text(40, 130, f"{m.t('sheet.loss_by_year')}: max {m.num(top, 2)} ha", size=8)
    x, w, h = 40.0, 515.0 / len(years), 70.0
    for k, (yr, v) in enumerate(zip(years, vals.tolist(), strict=True)):
        colour = "#d73027" if yr > ctx["last_before"] else "#a6a6a6"
        bh = h * v / top if top > 0 else 0.0
        page.rect(x + k * w + 0.5, 50, max(w - 1, 0.5), bh, fill=colour)
    page.text(40, 40, str(years[0]), size=7)
    page.text(555, 40, str(years[-1]), size=7, align="right")


def write_pdf(assessment: Any, path: PathLike, *, lang: str = "es") -> Path:
    r"""Write the assessment as an archivable PDF: a summary page, then one page per parcel.

    Parameters
    ----------
    assessment : Assessment
        The result of :func:`agroforest_geo.run_assessment`.
    path : path
        The ``.pdf`` file to write.
    lang : {"es", "en", "fr", "pt"}
        Language of the words, numbers and dates.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import agroforest_geo as agf, tempfile, pathlib, dataclasses
    >>> a = agf.run_assessment(agf.datasets.get_path("parcels"))
    >>> few = dataclasses.replace(a, parcels=a.parcels.head(3), result=a.result.head(3),
    ...                           evidence=a.evidence.head(3))
    >>> out = write_pdf(few, pathlib.Path(tempfile.mkdtemp()) / "assessment.pdf", lang="en")
    >>> import re
    >>> len(re.findall(rb"/Type\s*/Page\b(?!s)", out.read_bytes()))  # summary + 3 parcels
    4
    """
    from . import _report_data
    from ._assets import STATUS_COLOURS
    from ._page import shared

    d = _report_data(assessment, lang=lang)  # type: ignore[arg-type]
    sh = shared(d)
    geoms = d.parcels.geometry.to_numpy()
    loss = None
    if d.lossyear is not None:
        from ._map import loss_shapes

        usable = (sh.status != "invalid_geometry").to_numpy()
        shapes = loss_shapes(d.lossyear, d.parcels[usable], d.cutoff)
        loss = shapes.to_crs(d.parcels.crs).to_numpy() if len(shapes) else None
    years = list(d.loss_years)
    ev = d.evidence.reset_index(drop=True)
    ctx = {
        "geoms": geoms,
        "tree": shapely.STRtree(geoms),
        "loss": loss,
        "loss_tree": shapely.STRtree(loss) if loss is not None else None,
        "colours": STATUS_COLOURS,
        "light": _LIGHT,
        "records": ev.to_dict("records"),
        "rows": evidence_rows_of(ev),
        "years": years,
        "loss_by_year": ev.reindex(columns=[f"loss_ha_{y}" for y in years])
        .apply(pd.to_numeric, errors="coerce")
        .to_numpy(float),
        "last_before": last_year_before_cutoff(d.cutoff),
        "geographic": bool(d.parcels.crs is not None and d.parcels.crs.is_geographic),
    }
    doc = PdfDocument(path, title=d.title or sh.m.t("title"))
    _summary_page(doc, d, sh)
    for i in range(len(d.parcels)):
        _parcel_page(doc, sh, i, ctx)
    return doc.close()


def evidence_rows_of(ev: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Return the schema rows of the evidence columns present (for the parcel pages)."""
    from ._sheets import evidence_rows

    return evidence_rows(list(ev.columns))

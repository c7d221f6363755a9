"""The archivable PDF of an assessment: a summary page, then one page per parcel.

Written with matplotlib's multi-page PDF backend (no browser): the summary
(counts by status, inputs with their SHA-256, rule-set version, cut-off), then
per parcel its map (parcel, neighbours, loss after the cut-off), status, the
rules that fired in words, the evidence per source and the loss by year. The
values are the assessment's; nothing is measured again. matplotlib is the
``pdf`` extra: ``pip install agroforest-geo[pdf]``.
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

__all__ = ["write_pdf"]

PathLike = str | os.PathLike[str]

_A4 = (8.27, 11.69)


def _matplotlib() -> Any:
    try:
        from matplotlib.backends.backend_pdf import PdfPages
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("write_pdf needs matplotlib: pip install 'agroforest-geo[pdf]'") from exc
    return PdfPages


def _draw_geoms(ax: Any, geoms: Any, **style: Any) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    for g in geoms:
        if g is None or g.is_empty:
            continue
        for part in shapely.get_parts(g):
            if part.geom_type == "Point":
                ax.plot(part.x, part.y, "o", color=style.get("edgecolor", "k"), ms=4)
                continue
            if part.geom_type != "Polygon":
                continue
            verts, codes = [], []
            for ring in (part.exterior, *part.interiors):
                xy = np.asarray(ring.coords)
                verts.append(xy)
                codes.append(
                    [MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY]
                )
            ax.add_patch(PathPatch(MplPath(np.concatenate(verts), np.concatenate(codes)), **style))


def _summary_page(pdf: Any, d: Any, sh: Any) -> None:
    from matplotlib.figure import Figure

    m = sh.m
    fig = Figure(figsize=_A4)
    fig.text(0.06, 0.95, d.title or m.t("title"), fontsize=16, weight="bold")
    header = m.t(
        "header",
        n=m.num(len(d.parcels), 0),
        cutoff=m.date(d.cutoff),
        rules=d.assessment.attrs.get("rules_version", ""),
        version=__version__,
    )
    fig.text(0.06, 0.925, header, fontsize=9)
    counts = sh.status.value_counts()
    y = 0.88
    from ._assets import STATUS_COLOURS

    for s, colour in STATUS_COLOURS.items():
        fig.text(0.08, y, f"{int(counts.get(s, 0)):>7}", fontsize=12, family="monospace")
        fig.text(0.2, y, m.status(s), fontsize=12, color=colour)
        y -= 0.025
    y -= 0.02
    fig.text(0.06, y, m.t("inputs.files"), fontsize=12, weight="bold")
    y -= 0.025
    inputs = d.inputs if d.inputs is not None else pd.DataFrame()
    for r in inputs.to_dict("records"):
        line = f"{r.get('role', '')}: {r.get('file', '')}  {r.get('crs', '') or ''}"
        fig.text(0.08, y, line, fontsize=8)
        fig.text(
            0.08,
            y - 0.014,
            f"SHA-256 {r.get('sha256', '') or '-'}",
            fontsize=6.5,
            family="monospace",
        )
        y -= 0.034
    fig.text(0.06, 0.04, m.t("inputs.generated", when=dt.date.today().isoformat()), fontsize=7)
    pdf.savefig(fig)


def _parcel_page(pdf: Any, d: Any, sh: Any, i: int, ctx: dict[str, Any]) -> None:
    from matplotlib.figure import Figure

    from ._sheets import format_value

    m = sh.m
    fig = Figure(figsize=_A4)
    st = sh.status.iloc[i]
    fig.text(0.06, 0.955, m.t("sheet.title", id=sh.ids.iloc[i]), fontsize=15, weight="bold")
    fig.text(
        0.06,
        0.93,
        f"{m.t('sheet.status')}: {m.status(st)}  [{st}]",
        fontsize=11,
        color=ctx["colours"].get(st, "k"),
    )
    ax = fig.add_axes((0.06, 0.6, 0.4, 0.3))
    g = ctx["geoms"][i]
    if g is not None and not g.is_empty:
        x0, y0, x1, y1 = g.bounds
        side = max(x1 - x0, y1 - y0)
        pad = side * 0.3 if side > 0 else (1e-4 if ctx["geographic"] else 10.0)
        box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        near = ctx["tree"].query(shapely.box(*box))
        _draw_geoms(ax, ctx["geoms"][near], facecolor="#eeeeee", edgecolor="#888888", lw=0.5)
        _draw_geoms(
            ax, [g], facecolor=ctx["colours"].get(st, "#999"), edgecolor="k", lw=1.2, alpha=0.6
        )
        if ctx["loss_tree"] is not None:
            hit = ctx["loss"][ctx["loss_tree"].query(shapely.box(*box))]
            _draw_geoms(ax, hit, facecolor="#b10026", edgecolor="none")
        ax.set_xlim(box[0], box[2])
        ax.set_ylim(box[1], box[3])
    # degrees: one degree of longitude is cos(latitude) of one of latitude
    lat = (g.bounds[1] + g.bounds[3]) / 2 if g is not None and not g.is_empty else 0.0
    ax.set_aspect(1 / max(np.cos(np.radians(lat)), 0.01) if ctx["geographic"] else "equal")
    ax.set_xticks([])
    ax.set_yticks([])
    text = [m.t("sheet.reasons") + ":"] + [f"• {t} [{c}]" for c, t in sh.reasons[i]]
    if not sh.reasons[i]:
        text.append(m.t("sheet.no_rule"))
    import textwrap

    wrapped = "\n".join(textwrap.fill(t, 55, subsequent_indent="  ") for t in text)
    fig.text(0.5, 0.9, wrapped, fontsize=7.5, va="top")
    rec = ctx["records"][i]
    fig.text(0.06, 0.56, m.t("sheet.evidence"), fontsize=11, weight="bold")
    cols: list[list[str]] = [[], [], []]
    last = None
    for source, col, unit in ctx["rows"]:
        value = format_value(rec.get(col), unit, m)
        if not value:
            continue
        cols[0].append(m.t(f"source.{source}") if source != last else "")
        cols[1].append(f"{m.column(col)}  ({col})" if m.column(col) != col else col)
        cols[2].append(value)
        last = source
    for x, lines, ha in ((0.08, cols[0], "left"), (0.25, cols[1], "left"), (0.9, cols[2], "right")):
        fig.text(x, 0.54, "\n".join(lines), fontsize=7, va="top", ha=ha, linespacing=1.5)
    years = ctx["years"]
    if years:
        axb = fig.add_axes((0.08, 0.05, 0.84, 0.1))
        vals = np.nan_to_num(ctx["loss_by_year"][i])
        colours = ["#d73027" if yv > ctx["last_before"] else "#a6a6a6" for yv in years]
        axb.bar(years, vals, color=colours)
        axb.set_axis_off()
        top = float(vals.max()) if len(vals) else 0.0
        fig.text(0.08, 0.165, f"{m.t('sheet.loss_by_year')}: max {m.num(top, 2)} ha", fontsize=8)
        fig.text(0.08, 0.035, str(years[0]), fontsize=7)
        fig.text(0.92, 0.035, str(years[-1]), fontsize=7, ha="right")
    pdf.savefig(fig)


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
    from . import assessment_data
    from ._assets import STATUS_COLOURS
    from ._page import shared

    PdfPages = _matplotlib()
    d = assessment_data(assessment, lang=lang)  # type: ignore[arg-type]
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
        "records": ev.to_dict("records"),
        "rows": evidence_rows_of(ev),
        "years": years,
        "loss_by_year": ev.reindex(columns=[f"loss_ha_{y}" for y in years])
        .apply(pd.to_numeric, errors="coerce")
        .to_numpy(float),
        "last_before": last_year_before_cutoff(d.cutoff),
        "geographic": bool(d.parcels.crs is not None and d.parcels.crs.is_geographic),
    }
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with PdfPages(
        tmp, metadata={"Title": d.title or sh.m.t("title"), "Creator": "agroforest_geo"}
    ) as pdf:
        _summary_page(pdf, d, sh)
        for i in range(len(d.parcels)):
            _parcel_page(pdf, d, sh, i, ctx)
    os.replace(tmp, out)
    return out


def evidence_rows_of(ev: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Return the schema rows of the evidence columns present (for the parcel pages)."""
    from ._sheets import evidence_rows

    return evidence_rows(list(ev.columns))

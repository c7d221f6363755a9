"""The report's page, section by section, from a :class:`_ReportData` (nothing is measured).

The per-parcel table is data (one JSON block) drawn by the page's script: all
rows up to :data:`ALL_ROWS`, pages of :data:`PAGE_ROWS` above (every row when
printing); the map is inline SVG, one drawing per cluster of parcels
(:mod:`._map`); each parcel has its sheet up to ``max_sheets`` parcels.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._cutoff import last_year_before_cutoff
from .._version import __version__
from ._assets import CSP, CSS, JS, STATUS_COLOURS
from ._i18n import Messages, messages
from ._map import Drawing
from ._mapview import drawing, map_html
from ._sheets import evidence_rows, format_value, minimap_svg, neighbours_of, sheet_html
from ._svg import _esc, declared_chart_svg, loss_chart_svg
from ._words import human_reasons

PathLike = Any

#: Up to this many parcels the table shows every row at once.
ALL_ROWS = 5000
#: Rows per page of the table above :data:`ALL_ROWS`.
PAGE_ROWS = 500

#: Columns of the per-parcel table after id, status and reasons (those present are shown).
TABLE_COLUMNS: tuple[str, ...] = (
    "area_ha",
    "declared_area_ha",
    "forest_share_cutoff",
    "loss_after_cutoff_ha",
    "first_loss_year_after_cutoff",
    "valid_share",
    "protected_share",
    "parcel_overlap_ha",
    "trees_per_ha",
    "agroforestry_evidence",
)


@dataclass(frozen=True)
class _ReportData:
    """Everything the report draws, computed before: the report computes no evidence."""

    assessment: pd.DataFrame
    parcels: gpd.GeoDataFrame
    id_column: str | None
    cutoff: dt.date
    evidence: pd.DataFrame
    rules: Sequence[Any]
    protected: gpd.GeoDataFrame | None = None
    plots: gpd.GeoDataFrame | None = None
    lossyear: Any = None
    pairs: gpd.GeoDataFrame | None = None
    findings: pd.DataFrame | None = None
    declared: pd.DataFrame | None = None
    inputs: pd.DataFrame | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, PathLike] = field(default_factory=dict)
    title: str | None = None
    max_findings: int = 2000
    lang: str = "es"
    group_by: Sequence[str] = ()
    max_sheets: int = 2000
    loss_years: Sequence[int] = ()
    carbon: pd.DataFrame | None = None


@dataclass
class _Shared:
    """What several sections need, computed once per page."""

    m: Messages
    status: pd.Series
    ids: pd.Series
    systems: pd.Series
    reasons: list[list[tuple[str, str]]]
    units: dict[str, str]


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    """Return a column as floats (NaN where missing; all NaN without the column)."""
    if col not in df.columns:
        return pd.Series(np.nan, index=df.index)
    return pd.to_numeric(df[col], errors="coerce").astype(float)


def _ids(parcels: gpd.GeoDataFrame, id_column: str | None) -> pd.Series:
    if id_column:
        return parcels[id_column].astype(str)
    return parcels.index.astype(str).to_series(index=parcels.index)


def _systems(d: _ReportData, m: Messages) -> pd.Series:
    """Agroforestry systems of each parcel's plots ("+"-joined), or its crop without plots."""
    plots, parcels = d.plots, d.parcels
    if plots is not None and d.id_column and {"system", "parcel_id"} <= set(plots.columns):
        by = plots.groupby("parcel_id")["system"].agg(lambda s: "+".join(sorted(set(map(str, s)))))
        out = parcels[d.id_column].map(by).fillna(m.t("system.no_plot"))
    elif "crop" in parcels.columns:
        out = parcels["crop"].astype(str)
    else:
        out = pd.Series(m.t("unknown"), index=parcels.index)
    return out.rename("system")


def _table(df: pd.DataFrame, *, heads: Sequence[str] | None = None, cls: str = "") -> str:
    """Return a small static table (summaries, provenance), every cell escaped."""
    head = "".join(f"<th>{_esc(c)}</th>" for c in (heads or [str(c) for c in df.columns]))
    rows = df.astype(object).where(df.notna(), "").astype(str).to_numpy().tolist()
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in r) + "</tr>" for r in rows)
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _crosstab(rows: pd.Series, sh: _Shared, label: str) -> str:
    t = pd.crosstab(rows.fillna(sh.m.t("summary.none")).astype(str), sh.status)
    codes = list(STATUS_COLOURS)
    t = t.reindex(columns=codes, fill_value=0)
    t[sh.m.t("summary.total")] = t.sum(axis=1)
    t = t.reset_index()
    heads = [label, *(sh.m.status(c) for c in codes), sh.m.t("summary.total")]
    return _table(t, heads=heads)


# --------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------


def _country_html(d: _ReportData, sh: _Shared) -> str:
    """Parcels per country of production and EU risk tier (empty without the evidence)."""
    ev = d.evidence
    if "country" not in ev.columns or "country_risk" not in ev.columns:
        return ""
    m = sh.m
    risk = ev["country_risk"].astype(object).where(ev["country_risk"].notna(), "none")
    country = ev["country"].astype(object).where(ev["country"].notna(), "")
    counts = pd.DataFrame({"c": country, "r": risk}).value_counts(sort=False).sort_index()
    items = "".join(
        f'<li title="{_esc(r)}">{_esc(c or "—")}: {_esc(m.t(f"risk.{r}"))} ({m.num(n, 0)})</li>'
        for (c, r), n in zip(counts.index.tolist(), counts.tolist(), strict=True)
    )
    return f"<h3>{_esc(m.t('summary.country'))}</h3><ul>{items}</ul>"


def _summary_html(d: _ReportData, sh: _Shared) -> str:
    m = sh.m
    counts = sh.status.value_counts()
    cards = "".join(
        f'<div class="card s-{s}" title="{s}"><b>{m.num(counts.get(s, 0), 0)}</b>'
        f"{_esc(m.status(s))}</div>"
        for s in STATUS_COLOURS
    )
    area_by = _num(d.assessment, "area_ha").groupby(sh.status).sum()
    areas = ", ".join(f"{m.status(s)}: {m.num(area_by.get(s, 0.0), 2)} ha" for s in STATUS_COLOURS)
    groups = "".join(
        f"<h3>{_esc(m.t('summary.by', column=m.column(c)))}</h3>"
        f"{_crosstab(d.parcels[c], sh, m.column(c))}"
        for c in d.group_by
    )
    return (
        f'<section id="summary"><h2>{_esc(m.t("nav.summary"))}</h2><div class="cards">{cards}'
        f'</div><p class="muted">{_esc(m.t("summary.area", areas=areas))}</p>'
        f"{_country_html(d, sh)}{groups}"
        f"<h3>{_esc(m.t('summary.by_system'))}</h3>{_crosstab(sh.systems, sh, m.column('system'))}"
        f'<p class="muted">{_esc(m.t("summary.note"))}</p></section>'
    )


def _carbon_html(d: _ReportData, sh: _Shared) -> str:
    """Biomass and CO₂e per agroforestry system, with the 95 % interval of the totals."""
    m = sh.m
    rows = []
    if d.carbon is not None and len(d.carbon):
        c = d.carbon
        for system, r in c.iterrows():
            rows.append(
                [
                    _esc(system),
                    m.num(r.get("plot_count"), 0),
                    m.num(r.get("tree_count"), 0),
                    m.num(r.get("agb_mg"), 1),
                    m.num(r.get("co2e_t"), 1),
                    f"{m.num(r.get('co2e_t_p2_5'), 1)} – {m.num(r.get('co2e_t_p97_5'), 1)}",
                    m.num(r.get("co2e_t_ha"), 1),
                ]
            )
    map_html = ""
    if "map_co2e_t" in d.evidence.columns:
        by = pd.to_numeric(d.evidence["map_co2e_t"], errors="coerce").groupby(sh.systems).sum()
        items = "".join(f"<li>{_esc(k)}: {m.num(v, 1)} t CO₂e</li>" for k, v in by.items())
        map_html = f"<h3>{_esc(m.t('carbon.map'))}</h3><ul>{items}</ul>"
    if not rows and not map_html:
        return ""
    heads = [m.t(f"carbon.{k}") for k in ("system", "plots", "trees", "agb", "co2e", "ci", "ha")]
    table = ""
    if rows:
        head = "".join(f"<th>{_esc(h)}</th>" for h in heads)
        body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in rows)
        table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return (
        f'<section id="carbon"><h2>{_esc(m.t("nav.carbon"))}</h2>{table}{map_html}'
        f'<p class="muted">{_esc(m.t("carbon.note"))}</p></section>'
    )


def _charts_html(d: _ReportData, sh: _Shared) -> str:
    m = sh.m
    loss_chart = loss_chart_svg(d.evidence, d.cutoff, years=d.loss_years, m=m)
    declared = d.declared
    if declared is not None and {"area_ha", "declared_area_ha"} <= set(declared.columns):
        chart = declared_chart_svg(declared["area_ha"], declared["declared_area_ha"], sh.ids, m=m)
        n_off = int(declared["declared_off"].sum()) if "declared_off" in declared else 0
        note = m.t("chart.declared_off", n=n_off) + " ±10 %."
    else:
        chart, note = f'<p class="muted">{_esc(m.t("chart.no_declared"))}</p>', ""
    return (
        f'<section id="loss"><h2>{_esc(m.t("nav.loss"))}</h2>{loss_chart}'
        f'<p class="muted">{_esc(m.t("chart.loss_note"))}</p></section>'
        f'<section id="declared"><h2>{_esc(m.t("nav.declared"))}</h2>{chart}'
        f'<p class="muted">{_esc(note)}</p></section>'
    )


def _column_values(d: _ReportData, sh: _Shared, col: str) -> pd.Series | None:
    if col == "system":
        return sh.systems
    for src in (d.assessment, d.evidence, d.declared, d.parcels):
        if src is not None and col in src.columns and col != d.parcels.geometry.name:
            return src[col]
    return None


def _cells(values: pd.Series, unit: str, m: Messages) -> tuple[list[str], list[Any]]:
    """Display texts and sort keys of one column, vectorised by unit."""
    num = pd.to_numeric(values, errors="coerce") if unit not in ("text", "bool") else None
    if num is None or unit == "text":
        text = values.astype(object).where(values.notna(), "").astype(str).tolist()
        if unit == "bool":
            text = [
                m.yes_no(v) if v != "" else ""
                for v in values.astype(object).where(values.notna(), "").tolist()
            ]
        return text, text
    arr = num.to_numpy(float)
    keys = [None if v != v else v for v in arr.tolist()]
    if unit == "share 0-1":
        text = [f"{t} %" if t else "" for t in m.nums(arr * 100, 1)]
    elif unit == "year":
        text = ["" if v != v else str(int(v)) for v in arr.tolist()]
    else:
        digits = {"count": 0, "m": 0, "trees/ha": 0, "percent 0-100": 1}.get(unit, 2)
        text = m.nums(arr, digits)
    return text, keys


def _table_data(d: _ReportData, sh: _Shared, sheets: bool) -> dict[str, Any]:
    m = sh.m
    cols: list[dict[str, Any]] = []
    reasons = ["; ".join(t for _, t in r) for r in sh.reasons]
    codes = (
        d.assessment["rules_fired"].fillna("").astype(str).tolist()
        if "rules_fired" in d.assessment
        else [""] * len(reasons)
    )
    columns = [*d.group_by, "system", *TABLE_COLUMNS]
    for col in dict.fromkeys(columns):
        values = _column_values(d, sh, col)
        if values is None:
            continue
        unit = sh.units.get(col, "ha" if pd.api.types.is_numeric_dtype(values.dtype) else "text")
        text, keys = _cells(values, unit, m)
        cols.append(
            {
                "name": col,
                "label": m.column(col),
                "num": unit not in ("text", "bool"),
                "text": text,
                "keys": keys,
            }
        )
    return {
        "ids": sh.ids.tolist(),
        "status": sh.status.tolist(),
        "labels": {s: m.status(s) for s in STATUS_COLOURS},
        "heads": {
            "id": d.id_column or "id",
            "status": m.column("status"),
            "reasons": m.column("reasons"),
        },
        "parcel": m.t("sheet.title", id="{id}"),
        "reasons": reasons,
        "codes": codes,
        "area": m.nums(d.assessment.get("area_ha", pd.Series(np.nan, index=d.parcels.index)), 2),
        "cols": cols,
        "sheets": sheets,
        "all_rows": ALL_ROWS,
        "page_rows": PAGE_ROWS,
        "shown": m.t("table.rows_shown", shown="{shown}", n="{n}"),
    }


def _parcels_html(sh: _Shared) -> str:
    m = sh.m
    return (
        f'<section id="parcels"><h2>{_esc(m.t("nav.parcels"))}</h2>'
        f'<p class="muted noprint">{_esc(m.t("table.help"))}</p><div id="pager" class="noprint">'
        f'</div><div class="scroll"><table class="sortable" id="parcel-table"></table></div>'
        "</section>"
    )


def _sheets_html(d: _ReportData, sh: _Shared, dr: Drawing) -> str:
    m = sh.m
    n = len(d.parcels)
    title = f"<h2>{_esc(m.t('nav.sheets'))}</h2>"
    if n > d.max_sheets:
        note = _esc(m.t("sheet.omitted", limit=d.max_sheets, n=n))
        return f'<section id="sheets">{title}<p class="muted">{note}</p></section>'
    rows = evidence_rows(list(d.evidence.columns))
    years = list(d.loss_years)
    last_before = last_year_before_cutoff(d.cutoff)
    ev = d.evidence.reset_index(drop=True)
    records = ev.to_dict("records")
    loss = (
        ev.reindex(columns=[f"loss_ha_{y}" for y in years])
        .apply(pd.to_numeric, errors="coerce")
        .to_numpy(float)
    )
    classes = [f"s-{s}" for s in sh.status.tolist()]
    minimaps = [""] * n
    for k, cl in enumerate(dr.clusters):
        members = cl.members
        ub = dr.unit_bounds[members]
        finite = np.all(np.isfinite(ub), axis=1)
        tree = shapely.STRtree(shapely.box(*np.where(finite[:, None], ub, 0).T))
        near = neighbours_of(ub, tree)
        lb = dr.loss_bounds[k]
        ltree = shapely.STRtree(shapely.box(*lb.T)) if len(lb) else None
        for j, i in enumerate(members.tolist()):
            if not finite[j]:
                continue
            lp: list[str] = []
            if ltree is not None:
                lp = [dr.loss[k][q] for q in ltree.query(shapely.box(*ub[j])).tolist()]
            nb = members[near[j]].tolist()
            minimaps[i] = minimap_svg(i, dr.paths, dr.unit_bounds, nb, classes, lp)
    ids, status = sh.ids.tolist(), sh.status.tolist()
    out = [f'<section id="sheets">{title}']
    for i in range(n):  # in the table's order, for printing
        by_year = {y: float(v) for y, v in zip(years, loss[i], strict=True) if v == v}
        out.append(
            sheet_html(
                i,
                ids[i],
                status[i],
                sh.reasons[i],
                records[i],
                rows,
                by_year,
                last_before,
                minimaps[i],
                m,
            )
        )
    out.append("</section>")
    return "".join(out)


def _validation_html(d: _ReportData, sh: _Shared) -> str:
    m, findings = sh.m, d.findings
    if findings is None:
        body = f'<p class="muted">{_esc(m.t("validation.not_run"))}</p>'
    elif not len(findings):
        body = f"<p>{_esc(m.t('validation.none'))}</p>"
    else:
        summary = findings.groupby(["layer", "code", "severity"]).size().rename("n").reset_index()
        shown = findings.head(d.max_findings)
        more = len(findings) - len(shown)
        body = (
            _table(summary)
            + f'<div class="scroll">{_table(shown, cls="findings")}</div>'
            + (f'<p class="muted">{_esc(m.t("validation.more", n=more))}</p>' if more > 0 else "")
        )
    return f'<section id="validation"><h2>{_esc(m.t("validation.title"))}</h2>{body}</section>'


def _provenance_html(d: _ReportData, sh: _Shared, now: dt.datetime) -> str:
    m = sh.m
    inputs = d.inputs if d.inputs is not None else pd.DataFrame()
    params = {
        "cutoff": d.cutoff.isoformat(),
        "rules version": d.assessment.attrs.get("rules_version", ""),
        **{f"threshold {k}": v for k, v in d.assessment.attrs.get("thresholds", {}).items()},
        **{str(k): v for k, v in d.parameters.items()},
    }
    params_df = pd.DataFrame(
        {"parameter": list(params), "value": [str(v) for v in params.values()]}
    )
    rules_df = pd.DataFrame(d.assessment.attrs.get("rules", []))
    outputs_df = pd.DataFrame(
        {"role": list(d.outputs), "file": [Path(p).name for p in d.outputs.values()]}
    )
    none = f'<p class="muted">{_esc(m.t("none"))}</p>'
    files = _table(inputs) if len(inputs) else f'<p class="muted">{_esc(m.t("inputs.none"))}</p>'
    return (
        f'<section id="inputs"><h2>{_esc(m.t("inputs.title"))}</h2>'
        f"<h3>{_esc(m.t('inputs.files'))}</h3>{files}"
        f"<h3>{_esc(m.t('inputs.parameters'))}</h3>{_table(params_df)}"
        f"<h3>{_esc(m.t('inputs.rules'))}</h3>{_table(rules_df) if len(rules_df) else none}"
        f"<h3>{_esc(m.t('inputs.outputs'))}</h3>{_table(outputs_df) if len(outputs_df) else none}"
        f"<h3>{_esc(m.t('inputs.software'))}</h3>{_table(versions())}"
        f'<p class="muted">{_esc(m.t("inputs.generated", when=now.isoformat()))}</p></section>'
    )


def versions() -> pd.DataFrame:
    """Versions of the library, Python and the core packages."""
    import importlib.metadata as md

    rows = [("agroforest_geo", __version__), ("python", platform.python_version())]
    for pkg in (
        "numpy",
        "pandas",
        "shapely",
        "geopandas",
        "pyproj",
        "pyogrio",
        "rasterio",
        "exactextract",
    ):
        try:
            rows.append((pkg, md.version(pkg)))
        except md.PackageNotFoundError:
            rows.append((pkg, "not installed"))
    return pd.DataFrame(rows, columns=["package", "version"])


def shared(d: _ReportData) -> _Shared:
    """Texts and columns every section needs, in the report's language."""
    from ..eudr.evidence import EVIDENCE_SCHEMA

    m = messages(d.lang)
    status = d.assessment["status"].astype(str)
    units = {c.name: c.unit for c in EVIDENCE_SCHEMA}
    reasons = human_reasons(d.assessment, d.evidence, d.rules, d.cutoff, m)
    return _Shared(m, status, _ids(d.parcels, d.id_column), _systems(d, m), reasons, units)


def _json_block(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/")


def render(d: _ReportData) -> str:
    """Render the whole page of the report."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    sh = shared(d)
    m = sh.m
    dr = drawing(d, sh)
    sheets = len(d.parcels) <= d.max_sheets
    title = d.title or m.t("title")
    rules_version = d.assessment.attrs.get("rules_version", "")
    header = m.t(
        "header",
        n=m.num(len(d.parcels), 0),
        cutoff=m.date(d.cutoff),
        rules=rules_version,
        version=__version__,
    )
    nav = "".join(
        f'<a href="#{a}">{_esc(m.t(k))}</a>'
        for a, k in (
            ("summary", "nav.summary"),
            ("map-section", "nav.map"),
            ("loss", "nav.loss"),
            ("declared", "nav.declared"),
            ("parcels", "nav.parcels"),
            ("sheets", "nav.sheets"),
            ("validation", "nav.validation"),
            ("inputs", "nav.inputs"),
        )
    )
    body = (
        f"<header><h1>{_esc(title)}</h1><p>{_esc(header)} · {now.isoformat()}</p></header>"
        f'<nav class="noprint">{nav}</nav><main>{_summary_html(d, sh)}{map_html(d, sh, dr)}'
        f"{_charts_html(d, sh)}{_carbon_html(d, sh)}{_parcels_html(sh)}"
        f"{_sheets_html(d, sh, dr)}"
        f'{_validation_html(d, sh)}{_provenance_html(d, sh, now)}</main><div id="tip"></div>'
        f'<script type="application/json" id="agf-data">{_json_block(_table_data(d, sh, sheets))}'
        "</script>"
    )
    colours = "".join(
        f".s-{s}{{background:{c};fill:{c};color:{c}}}" for s, c in STATUS_COLOURS.items()
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{d.lang}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{CSS}{colours}</style></head><body>{body}"
        f"<script>{JS}</script></body></html>\n"
    )


__all__ = ["TABLE_COLUMNS", "_ReportData", "format_value", "render", "shared", "versions"]

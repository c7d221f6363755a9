"""The cooperative's HTML report: one self-contained file that opens offline.

:func:`report` writes a single HTML file with no external resource (no CDN,
no web fonts, no tile server; a Content-Security-Policy forbids any fetch):
summary counts, an inline-SVG map with pan/zoom and tooltips, a per-year loss
chart, a declared-versus-measured chart, the sortable per-parcel table, the
validation findings and the provenance of every input (file, SHA-256, CRS),
so that a result can be audited years later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._cutoff import parse_cutoff
from .._network import check_source, raster_env, vector_env
from .._version import __version__
from ..errors import MissingColumnError
from ._assets import CSP, CSS, JS, STATUS_COLOURS
from ._svg import _esc, declared_chart_svg, loss_after_cutoff_shapes, loss_chart_svg, map_svg

__all__ = ["describe_inputs", "report", "report_assessment"]

PathLike = str | os.PathLike[str]

#: Columns of the per-parcel table in the report (those present are shown).
TABLE_COLUMNS: tuple[str, ...] = (
    "status",
    "province",
    "district",
    "system",
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
    "reasons",
)


def sha256_file(path: PathLike) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _crs_of(path: Path) -> str:
    """CRS of a vector or raster file as 'EPSG:xxxx' (or its name); '' when unknown."""
    import pyogrio
    import pyproj
    import rasterio
    from rasterio.errors import RasterioIOError

    wkt: Any = None
    try:
        check_source(path, what="input")
        with vector_env():
            wkt = pyogrio.read_info(path).get("crs")
    except pyogrio.errors.DataSourceError:  # not a vector file: try it as a raster
        try:
            with raster_env(), rasterio.open(path) as src:
                wkt = src.crs
        except RasterioIOError:
            return ""
    if not wkt:
        return ""
    try:
        c = pyproj.CRS.from_user_input(wkt)
    except pyproj.exceptions.CRSError:
        return str(wkt)[:60]
    return f"EPSG:{c.to_epsg()}" if c.to_epsg() else c.name


def describe_inputs(inputs: Mapping[str, PathLike | None]) -> pd.DataFrame:
    """File name, size, SHA-256 checksum and CRS of every input file (for the audit trail).

    Parameters
    ----------
    inputs : mapping
        ``{role: path}``, e.g. ``{"parcels": "parcels.gpkg", "cover": "treecover2000.tif"}``;
        ``None`` values are skipped.

    Returns
    -------
    pandas.DataFrame
        Columns ``role``, ``file``, ``path``, ``bytes``, ``sha256``, ``crs``.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> t = describe_inputs({"parcels": agf.datasets.get_path("parcels")})
    >>> t.loc[0, "file"], t.loc[0, "crs"], len(t.loc[0, "sha256"])
    ('parcels.gpkg', 'EPSG:4326', 64)
    """
    rows = []
    for role, p in inputs.items():
        if p is None:
            continue
        path = Path(p)
        rows.append(
            {
                "role": role,
                "file": path.name,
                "path": str(path),
                "bytes": path.stat().st_size,
                "sha256": sha256_file(path),
                "crs": _crs_of(path),
            }
        )
    return pd.DataFrame(rows, columns=["role", "file", "path", "bytes", "sha256", "crs"])


def _fmt(v: Any, col: str = "") -> tuple[str, str]:
    """(display text, sort value) of a table cell."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "", ""
    if isinstance(v, bool | np.bool_):
        return ("yes" if v else "no"), ("1" if v else "0")
    if isinstance(v, int | np.integer):
        return str(int(v)), str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if col.endswith("_share"):
            return f"{100 * f:.1f} %", repr(f)
        if col.endswith("year") or col.endswith("_year_after_cutoff"):
            return f"{f:.0f}", repr(f)
        return f"{f:.3f}" if abs(f) < 1000 else f"{f:,.0f}", repr(f)
    return str(v), str(v)


def _table(
    df: pd.DataFrame, *, sortable: bool = True, row_ids: pd.Series | None = None, table_id: str = ""
) -> str:
    cls = ' class="sortable"' if sortable else ""
    tid = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{_esc(c)}</th>" for c in df.columns)
    body = []
    for i in range(len(df)):
        cells = []
        for c in df.columns:
            v = df[c].iloc[i]
            if c == "status" and isinstance(v, str):
                colour = STATUS_COLOURS.get(v, "#999")
                cells.append(
                    f'<td data-v="{_esc(v)}"><span class="status" style="background:{colour}">'
                    f"{_esc(v)}</span></td>"
                )
                continue
            text, key = _fmt(v, str(c))
            num = ' class="num"' if isinstance(v, int | float | np.number) else ""
            cells.append(f'<td{num} data-v="{_esc(key)}">{_esc(text)}</td>')
        rid = f' data-id="{_esc(row_ids.iloc[i])}"' if row_ids is not None else ""
        body.append(f"<tr{rid}>{''.join(cells)}</tr>")
    return f"<table{cls}{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _crosstab(rows: pd.Series, status: pd.Series, label: str) -> pd.DataFrame:
    t = pd.crosstab(rows.fillna("(none)").astype(str), status.astype(str))
    for s in STATUS_COLOURS:
        if s not in t.columns:
            t[s] = 0
    t = t[list(STATUS_COLOURS)]
    t["total"] = t.sum(axis=1)
    t = t.reset_index().rename(columns={"row_0": label, rows.name: label})
    t.columns = [label, *t.columns[1:]]
    return t


def _systems(
    parcels: gpd.GeoDataFrame,
    plots: gpd.GeoDataFrame | None,
    id_column: str | None,
) -> pd.Series:
    """Agroforestry systems of each parcel's plots ("+"-joined), or its crop without plots."""
    if plots is not None and id_column and "system" in plots.columns and "parcel_id" in plots:
        by = plots.groupby("parcel_id")["system"].agg(lambda s: "+".join(sorted(set(map(str, s)))))
        out = parcels[id_column].map(by).fillna("no plot")
    elif "crop" in parcels.columns:
        out = parcels["crop"].astype(str)
    else:
        out = pd.Series("unknown", index=parcels.index)
    return out.rename("system")


def _findings_frame(validation: Any) -> pd.DataFrame:
    """Combine the findings of one or several layers into one frame with a ``layer`` column."""
    if validation is None:
        return pd.DataFrame(columns=["layer", "row", "id", "code", "severity", "message"])
    items = validation.items() if isinstance(validation, Mapping) else [("parcels", validation)]
    frames = []
    for layer, v in items:
        f = v.findings if hasattr(v, "findings") else pd.DataFrame(v)
        f = f.drop(columns=[c for c in ("position",) if c in f.columns]).copy()
        f.insert(0, "layer", layer)
        frames.append(f)
    if not frames:
        return pd.DataFrame(columns=["layer", "row", "id", "code", "severity", "message"])
    return pd.concat(frames, ignore_index=True)


def _conflict_shapes(
    parcels: gpd.GeoDataFrame,
    assessment: pd.DataFrame,
    protected: gpd.GeoDataFrame | None,
    pairs: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame | None:
    """Land claimed twice (the assessment's overlap pairs) and parts inside protected areas."""
    shapes = []
    if pairs is not None and len(pairs):
        shapes.append(
            gpd.GeoDataFrame(
                {
                    "kind": "parcel overlap",
                    "label": [
                        f"claimed twice: {a} and {b} ({ha:.2f} ha)"
                        for a, b, ha in zip(
                            pairs["id_left"], pairs["id_right"], pairs["overlap_ha"], strict=True
                        )
                    ],
                },
                geometry=pairs.geometry.to_numpy(),
                crs=pairs.crs,
            ).to_crs(parcels.crs)
        )
    if protected is not None and len(protected) and "protected_ha" in assessment.columns:
        inside = pd.to_numeric(assessment["protected_ha"], errors="coerce").to_numpy() > 0
        sel = parcels[inside]
        if len(sel):
            union = shapely.union_all(protected.geometry.to_numpy())
            ids = _ids(sel, None if "parcel_id" not in sel.columns else "parcel_id")
            shapes.append(
                gpd.GeoDataFrame(
                    {
                        "kind": "in protected area",
                        "label": [f"parcel {i} inside a protected area" for i in ids],
                    },
                    geometry=shapely.intersection(sel.geometry.to_numpy(), union),
                    crs=parcels.crs,
                )
            )
    if not shapes:
        return None
    out = pd.concat(shapes, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=parcels.crs)


def _ids(parcels: gpd.GeoDataFrame, id_column: str | None) -> pd.Series:
    if id_column:
        return parcels[id_column].astype(str)
    return parcels.index.astype(str).to_series(index=parcels.index)


@dataclass(frozen=True)
class _ReportData:
    """Everything the report draws, computed before: the report computes no evidence."""

    assessment: pd.DataFrame
    parcels: gpd.GeoDataFrame
    id_column: str | None
    cutoff: dt.date
    protected: gpd.GeoDataFrame | None = None
    plots: gpd.GeoDataFrame | None = None
    lossyear: Any = None
    pairs: gpd.GeoDataFrame | None = None
    findings: pd.DataFrame | None = None
    declared: pd.DataFrame | None = None
    inputs: pd.DataFrame | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, PathLike] = field(default_factory=dict)
    title: str = "Deforestation-free assessment (EUDR)"
    max_findings: int = 2000


def _summary_html(d: _ReportData, status: pd.Series, systems: pd.Series) -> str:
    counts = status.value_counts()
    cards = "".join(
        f'<div class="card" style="background:{c}"><b>{int(counts.get(s, 0))}</b>'
        f"{_esc(s.replace('_', ' '))}</div>"
        for s, c in STATUS_COLOURS.items()
    )
    if "area_ha" in d.assessment.columns:
        area_by = pd.to_numeric(d.assessment["area_ha"], errors="coerce").groupby(status).sum()
    else:
        area_by = pd.Series(dtype=float)
    area_line = ", ".join(f"{s}: {area_by.get(s, 0.0):.2f} ha" for s in STATUS_COLOURS)
    by_province = (
        _table(_crosstab(d.parcels["province"], status, "province"), sortable=False)
        if "province" in d.parcels.columns
        else '<p class="muted">No province column.</p>'
    )
    by_system = _table(_crosstab(systems, status, "system"), sortable=False)
    return f"""<section id="summary"><h2>Summary</h2><div class="cards">{cards}</div>
<p class="muted">Area by status: {_esc(area_line)}.</p>
<h3>By province</h3>{by_province}<h3>By agroforestry system</h3>{by_system}
<p class="muted">Agroforestry is not forest under EUDR Art. 2(4): tree cover alone never makes a
parcel non-compliant; loss after the cut-off does (see the rule table below).</p></section>"""


def _map_html(d: _ReportData, status: pd.Series) -> str:
    loss_shapes = None
    if d.lossyear is not None:
        bounds_ll = d.parcels.geometry.to_crs("EPSG:4326").total_bounds
        if np.all(np.isfinite(bounds_ll)):
            loss_shapes = loss_after_cutoff_shapes(d.lossyear, bounds_ll, d.cutoff)
    prot = d.protected.to_crs(d.parcels.crs) if d.protected is not None else None
    usable = (status != "invalid_geometry").to_numpy()
    conflicts = _conflict_shapes(d.parcels[usable], d.assessment[usable], prot, d.pairs)
    svg = map_svg(
        d.parcels,
        d.assessment,
        id_column=d.id_column,
        protected=prot,
        loss_shapes=loss_shapes,
        conflicts=conflicts,
    )
    counts = status.value_counts()
    legend = "".join(
        f'<label><i style="background:{c}"></i>{_esc(s)} ({int(counts.get(s, 0))})</label>'
        for s, c in STATUS_COLOURS.items()
    )
    legend += (
        '<label><input type="checkbox" checked data-layer="layer-protected"> '
        '<i style="background:#2c7fb8;opacity:.4"></i>protected / REDD+ areas</label>'
        '<label><input type="checkbox" checked data-layer="layer-conflicts"> '
        '<i style="background:#c51b8a"></i>land claimed twice / '
        '<i style="border:2px dashed #08306b;background:none"></i>inside protected areas</label>'
        '<label><input type="checkbox" checked data-layer="layer-loss"> '
        '<i style="background:#b10026"></i>loss after the cut-off</label>'
    )
    return f"""<section id="map-section"><h2>Map</h2>
<div class="mapwrap">{svg}
<div class="maptools"><button id="zoom-in" title="zoom in">+</button>
<button id="zoom-out" title="zoom out">&minus;</button>
<button id="zoom-reset" title="whole area">&#8962;</button></div>
<div class="legend">{legend}</div></div>
<p class="muted">Scroll to zoom, drag to pan, hover a parcel for its status and reasons.
Drawn in {_esc(_utm_label(d.parcels))}.</p></section>"""


def _charts_html(d: _ReportData, ids: pd.Series) -> str:
    loss_chart = loss_chart_svg(d.assessment, d.cutoff)
    declared = d.declared
    if declared is not None and {"area_ha", "declared_area_ha"} <= set(declared.columns):
        declared_chart = declared_chart_svg(declared["area_ha"], declared["declared_area_ha"], ids)
        n_off = int(declared["declared_off"].sum()) if "declared_off" in declared else 0
        declared_note = f"{n_off} parcel(s) declared more than 10 % off the measured area (red)."
    else:
        declared_chart, declared_note = '<p class="muted">No declared areas.</p>', ""
    return f"""<section id="loss"><h2>Tree-cover loss per year in the parcels</h2>{loss_chart}
<p class="muted">Grey: on or before the cut-off; red: after it. Hectares add up across
parcels.</p></section>
<section id="declared"><h2>Declared vs measured area</h2>{declared_chart}
<p class="muted">{_esc(declared_note)} Dashed: &plusmn;10 %.</p></section>"""


def _parcel_table_html(d: _ReportData, ids: pd.Series, systems: pd.Series) -> str:
    table = pd.DataFrame(index=d.parcels.index)
    table[d.id_column or "parcel"] = ids
    extra = {"system": systems}
    declared = d.declared if d.declared is not None else pd.DataFrame(index=d.parcels.index)
    for c in TABLE_COLUMNS:
        if c in d.assessment.columns:
            table[c] = d.assessment[c].astype(str) if c == "status" else d.assessment[c]
        elif c in extra:
            table[c] = extra[c]
        elif c in declared.columns:
            table[c] = declared[c]
        elif c in d.parcels.columns and c != d.parcels.geometry.name:
            table[c] = d.parcels[c]
    parcel_table = _table(table, row_ids=ids, table_id="parcel-table")
    return f"""<section id="parcels"><h2>Parcels</h2><p class="muted">Click a header to sort,
a row to show the parcel on the map.</p><div class="scroll">{parcel_table}</div></section>"""


def _validation_html(d: _ReportData) -> str:
    findings = d.findings
    if findings is None:
        body = '<p class="muted">Validation was not run.</p>'
    elif not len(findings):
        body = "<p>No validation findings.</p>"
    else:
        summary = (
            findings.groupby(["layer", "code", "severity"]).size().rename("count").reset_index()
        )
        shown = findings.head(d.max_findings)
        more = len(findings) - len(shown)
        body = (
            _table(summary, sortable=True)
            + f'<div class="scroll">{_table(shown, table_id="findings-table")}</div>'
            + (f'<p class="muted">{more} more findings not listed.</p>' if more > 0 else "")
        )
    return f'<section id="validation"><h2>Validation findings of the inputs</h2>{body}</section>'


def _provenance_html(d: _ReportData, now: dt.datetime) -> str:
    inputs_df = d.inputs if d.inputs is not None else pd.DataFrame()
    params = _parameters(d)
    params_df = pd.DataFrame(
        {"parameter": list(params), "value": [str(v) for v in params.values()]}
    )
    rules_df = pd.DataFrame(d.assessment.attrs.get("rules", []))
    outputs_df = pd.DataFrame(
        {"role": list(d.outputs), "file": [Path(p).name for p in d.outputs.values()]}
    )
    none = '<p class="muted">None.</p>'
    inputs_html = (
        _table(inputs_df, sortable=False)
        if len(inputs_df)
        else '<p class="muted">No input files recorded.</p>'
    )
    return f"""<section id="inputs"><h2>Inputs, parameters and versions</h2>
<h3>Input files</h3>{inputs_html}
<h3>Parameters</h3>{_table(params_df, sortable=False)}
<h3>Rule table</h3>{_table(rules_df, sortable=False) if len(rules_df) else ""}
<h3>Other outputs</h3>{_table(outputs_df, sortable=False) if len(outputs_df) else none}
<h3>Software</h3>{_table(_versions(), sortable=False)}
<p class="muted">Generated {now.isoformat()}.</p></section>"""


def _parameters(d: _ReportData) -> dict[str, Any]:
    return {
        "cut-off date": d.cutoff.isoformat(),
        "rules version": d.assessment.attrs.get("rules_version", ""),
        **{f"threshold {k}": v for k, v in d.assessment.attrs.get("thresholds", {}).items()},
        **{str(k): v for k, v in d.parameters.items()},
    }


def _render(d: _ReportData) -> str:
    """Render the whole page of the report."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    status = d.assessment["status"].astype(str)
    ids = _ids(d.parcels, d.id_column)
    systems = _systems(d.parcels, d.plots, d.id_column)
    rules_version = d.assessment.attrs.get("rules_version", "")
    body = f"""
<header><h1>{_esc(d.title)}</h1>
<p>{len(d.parcels)} parcels &middot; cut-off {d.cutoff.isoformat()} &middot; rules
{_esc(rules_version)} &middot; agroforest_geo {_esc(__version__)} &middot; {now.isoformat()}</p>
</header>
<nav><a href="#summary">Summary</a><a href="#map-section">Map</a><a href="#loss">Loss per year</a>
<a href="#declared">Declared vs measured</a><a href="#parcels">Parcels</a>
<a href="#validation">Validation</a><a href="#inputs">Inputs &amp; parameters</a></nav>
<main>
{_summary_html(d, status, systems)}
{_map_html(d, status)}
{_charts_html(d, ids)}
{_parcel_table_html(d, ids, systems)}
{_validation_html(d)}
{_provenance_html(d, now)}
</main><div id="tip"></div>
"""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(d.title)}</title><style>{CSS}</style></head><body>{body}"
        f"<script>{JS}</script></body></html>\n"
    )


def _write(page: str, path: PathLike) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out


def report_assessment(
    assessment: Any,
    path: PathLike,
    *,
    outputs: Mapping[str, PathLike] | None = None,
    title: str = "Deforestation-free assessment (EUDR)",
) -> Path:
    """Write the report of an :class:`~agroforest_geo.Assessment`; nothing is recomputed.

    Called by :meth:`agroforest_geo.Assessment.report`. The overlap pairs,
    validation findings, declared areas and input records are the ones the
    assessment holds; the loss raster is read only inside the map's window.
    """
    declared = assessment.evidence if "declared_area_ha" in assessment.evidence else None
    data = _ReportData(
        assessment=assessment.result,
        parcels=assessment.parcels,
        id_column=assessment.id_column,
        cutoff=assessment.cutoff,
        protected=assessment.protected,
        plots=assessment.plots,
        lossyear=assessment.loss_raster,
        pairs=assessment.overlap_pairs,
        findings=_findings_frame(assessment.validation) if assessment.validation else None,
        declared=declared,
        inputs=assessment.inputs,
        parameters=assessment.parameters,
        outputs=dict(outputs or {}),
        title=title,
    )
    return _write(_render(data), path)


def report(
    assessment: pd.DataFrame,
    parcels: gpd.GeoDataFrame,
    path: PathLike,
    *,
    protected: gpd.GeoDataFrame | None = None,
    plots: gpd.GeoDataFrame | None = None,
    lossyear: PathLike | None = None,
    validation: Any = None,
    declared: pd.DataFrame | None = None,
    inputs: Mapping[str, PathLike | None] | None = None,
    parameters: Mapping[str, Any] | None = None,
    outputs: Mapping[str, PathLike] | None = None,
    title: str = "Deforestation-free assessment (EUDR)",
    id_column: str | None = "parcel_id",
    max_findings: int = 2000,
    overlap_pairs: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write the self-contained HTML report of an assessment table.

    The file opens offline in any browser: styles, scripts and drawings are
    inline (a Content-Security-Policy forbids fetching anything). Sections:
    summary counts by status, province and agroforestry system; a map
    (parcels coloured by status, protected areas, loss after the cut-off),
    drawn as inline SVG in the local UTM zone with pan/zoom and tooltips
    (parcel id, status, reasons); loss per year; declared against measured
    area; the per-parcel table (click a header to sort, a row to show the
    parcel on the map); the validation findings; and the inputs (file names,
    SHA-256, CRS), parameters, rule table, library versions and date.

    With an :class:`~agroforest_geo.Assessment` from
    :func:`agroforest_geo.run_assessment`, call its ``report(path)`` instead:
    it draws what the assessment holds and computes nothing again. This
    function, for a table from :func:`agroforest_geo.eudr.assess`, finds the
    overlap pairs itself unless ``overlap_pairs`` is given.

    Parameters
    ----------
    assessment : DataFrame
        Result of :func:`agroforest_geo.eudr.assess` on the parcels' index.
    parcels : GeoDataFrame
        The parcels assessed.
    path : path
        The HTML file to write.
    protected : GeoDataFrame, optional
        Protected / REDD+ areas drawn on the map.
    plots : GeoDataFrame, optional
        Agroforestry plots (``parcel_id``, ``system``) for the counts by system.
    lossyear : path, optional
        Hansen loss-year raster: loss after the cut-off is drawn on the map.
    validation : ValidationReport, DataFrame or mapping of them, optional
        Findings of :func:`agroforest_geo.validate` / :func:`agroforest_geo.repair`,
        one per layer as ``{"parcels": report, "plots": ...}``.
    declared : DataFrame, optional
        :func:`agroforest_geo.declared_vs_measured` result; by default computed
        from the ``declared_area_ha`` column when present.
    inputs : mapping, optional
        ``{role: path}`` of the input files (checksummed into the report).
    parameters : mapping, optional
        Parameters of the run (shown verbatim).
    outputs : mapping, optional
        ``{role: path}`` of the other files written with the report (listed).
    title : str
        Title of the page.
    id_column : str or None
        Parcel id column.
    max_findings : int
        At most this many validation findings are listed (all are counted).
    overlap_pairs : GeoDataFrame, optional
        :func:`agroforest_geo.eudr.evidence.parcel_overlap_pairs` of the parcels.

    Returns
    -------
    pathlib.Path
        The report's path.

    Examples
    --------
    >>> import agroforest_geo as agf, pandas as pd, tempfile, pathlib
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(5)
    >>> loss = pd.DataFrame({"loss_after_cutoff_ha": [0, 0, 1.0, 0, 0]}, index=parcels.index)
    >>> cover = pd.DataFrame({"forest_share": [0.9] * 5}, index=parcels.index)
    >>> result = agf.eudr.assess(parcels, cover=cover, loss=loss)
    >>> out = agf.report(result, parcels, pathlib.Path(tempfile.mkdtemp()) / "report.html")
    >>> text = out.read_text(encoding="utf-8")
    >>> text.count("data-parcel-id="), "http://" in text.replace("http://www.w3.org", "")
    (5, False)
    """
    _check_report_inputs(assessment, parcels)
    if id_column is not None and id_column not in parcels.columns:
        id_column = None
    if overlap_pairs is None:
        from ..eudr.evidence import parcel_overlap_pairs

        usable = (assessment["status"].astype(str) != "invalid_geometry").to_numpy()
        overlap_pairs = parcel_overlap_pairs(parcels, ok=usable, id_column=id_column)
    if declared is None and "declared_area_ha" in parcels.columns:
        from ..declared import declared_vs_measured

        declared = declared_vs_measured(parcels)
    data = _ReportData(
        assessment=assessment,
        parcels=parcels,
        id_column=id_column,
        cutoff=parse_cutoff(assessment.attrs.get("cutoff", "2020-12-31")),
        protected=protected,
        plots=plots,
        lossyear=lossyear,
        pairs=overlap_pairs,
        findings=None if validation is None else _findings_frame(validation),
        declared=declared,
        inputs=describe_inputs(inputs or {}),
        parameters=dict(parameters or {}),
        outputs=dict(outputs or {}),
        title=title,
        max_findings=max_findings,
    )
    return _write(_render(data), path)


def _check_report_inputs(assessment: pd.DataFrame, parcels: Any) -> None:
    if not isinstance(parcels, gpd.GeoDataFrame):
        raise TypeError(f"parcels must be a GeoDataFrame, got {type(parcels).__name__}")
    if "status" not in assessment.columns:
        raise MissingColumnError(
            "assessment has no 'status' column; pass the result of agf.eudr.assess(parcels, ...)"
        )
    if not assessment.index.equals(parcels.index):
        raise ValueError(
            "assessment and parcels must share the same index (assess returns results on the "
            "parcels' index); do not reset or filter one of them"
        )


def _utm_label(parcels: gpd.GeoDataFrame) -> str:
    from ._svg import working_crs

    crs = working_crs(parcels)
    import pyproj

    c = pyproj.CRS.from_user_input(crs)
    return f"{c.name} (EPSG:{c.to_epsg()})"


def _versions() -> pd.DataFrame:
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

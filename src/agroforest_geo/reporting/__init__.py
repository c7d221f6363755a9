"""The cooperative's report: one self-contained HTML file, a PDF, and evidence records.

:func:`report_assessment` (:meth:`agroforest_geo.Assessment.report`) writes a
single HTML file with no external resource (no CDN, no web fonts, no tile
server; a Content-Security-Policy forbids any fetch), in the language asked
(``lang="es" | "en" | "fr" | "pt"``): summary counts by status and by the
columns named in ``group_by``, a map per cluster of parcels with pan/zoom and
tooltips, the loss per year, declared against measured area, the sortable
per-parcel table, one evidence sheet per parcel (printable; printing the
report prints every parcel), the validation findings and the provenance of
every input (file, SHA-256, CRS). :func:`write_pdf` writes the same as an
archivable PDF (summary + one page per parcel), and
:func:`write_evidence_records` / :func:`verify_evidence_records` keep and
re-check each verdict from its recorded evidence.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .._atomic import atomic_write
from .._cutoff import parse_cutoff
from .._network import check_source, raster_env, vector_env
from ..errors import MissingColumnError
from ._i18n import LANGUAGES, Lang
from ._page import _ReportData, render
from ._pdf import write_pdf
from ._records import read_evidence_records, verify_evidence_records, write_evidence_records

__all__ = [
    "LANGUAGES",
    "describe_inputs",
    "read_evidence_records",
    "report",
    "report_assessment",
    "verify_evidence_records",
    "write_evidence_records",
    "write_pdf",
]

PathLike = str | os.PathLike[str]


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


def _write(page: str, path: PathLike) -> Path:
    out = Path(path)
    with atomic_write(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out


def _group_by(parcels: gpd.GeoDataFrame, group_by: Sequence[str] | None) -> tuple[str, ...]:
    """Return the columns the summary counts by (default: province, district when present)."""
    if group_by is None:
        return tuple(c for c in ("province", "district") if c in parcels.columns)
    if isinstance(group_by, str):
        group_by = [group_by]
    missing = [c for c in group_by if c not in parcels.columns]
    if missing:
        raise MissingColumnError(
            f"group_by columns {missing} are not columns of the parcels; they have "
            f"{[c for c in parcels.columns if c != parcels.geometry.name]}"
        )
    return tuple(group_by)


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}, got {lang!r}")
    return lang


def _report_data(
    assessment: Any,
    *,
    lang: Lang = "es",
    group_by: Sequence[str] | None = None,
    outputs: Mapping[str, PathLike] | None = None,
    title: str | None = None,
    max_sheets: int = 2000,
) -> _ReportData:
    """Return what the report of an :class:`~agroforest_geo.Assessment` draws (no measure)."""
    from .._outputs import loss_year_range

    ev = assessment.evidence
    return _ReportData(
        assessment=assessment.result,
        parcels=assessment.parcels,
        id_column=assessment.id_column,
        cutoff=assessment.cutoff,
        evidence=ev.assign(overlapping_parcels=assessment.result["overlapping_parcels"])
        if "overlapping_parcels" not in ev
        else ev,
        rules=assessment.rules,
        protected=assessment.protected,
        plots=assessment.plots,
        lossyear=assessment.loss_raster,
        pairs=assessment.overlap_pairs,
        findings=_findings_frame(assessment.validation) if assessment.validation else None,
        declared=ev if "declared_area_ha" in ev else None,
        inputs=assessment.inputs,
        parameters=assessment.parameters,
        outputs=dict(outputs or {}),
        title=title,
        lang=_check_lang(lang),
        group_by=_group_by(assessment.parcels, group_by),
        max_sheets=max_sheets,
        loss_years=tuple(loss_year_range(assessment)),
        carbon=assessment.carbon,
    )


def report_assessment(
    assessment: Any,
    path: PathLike,
    *,
    lang: Lang = "es",
    group_by: Sequence[str] | None = None,
    outputs: Mapping[str, PathLike] | None = None,
    title: str | None = None,
    max_sheets: int = 2000,
) -> Path:
    """Write the report of an :class:`~agroforest_geo.Assessment`; nothing is recomputed.

    Called by :meth:`agroforest_geo.Assessment.report`. The overlap pairs,
    validation findings, declared areas and input records are the ones the
    assessment holds; the loss raster is read only in blocks under the
    parcels (:mod:`agroforest_geo.reporting._map`).

    Parameters
    ----------
    assessment : Assessment
        The result of :func:`agroforest_geo.run_assessment`.
    path : path
        The HTML file to write.
    lang : {"es", "en", "fr", "pt"}
        Language of the words, numbers and dates (statuses and rule codes stay
        available in tooltips; the CSV keeps the codes).
    group_by : sequence of str, optional
        Parcel columns the summary counts by (default: ``province`` and
        ``district`` when present).
    outputs : mapping, optional
        ``{role: path}`` of the other files written with the report (listed).
    title : str, optional
        Title of the page (default: the title in ``lang``).
    max_sheets : int
        Write one evidence sheet per parcel up to this many parcels (the PDF
        of :func:`write_pdf` and the evidence records have one per parcel
        whatever the number).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import agroforest_geo as agf, tempfile, pathlib
    >>> a = agf.run_assessment(agf.datasets.get_path("parcels"))
    >>> out = report_assessment(a, pathlib.Path(tempfile.mkdtemp()) / "r.html", lang="en")
    >>> text = out.read_text(encoding="utf-8")
    >>> text.count('class="sheet"') == len(a.parcels), "deforestation-free" in text
    (True, True)
    """
    data = _report_data(
        assessment,
        lang=lang,
        group_by=group_by,
        outputs=outputs,
        title=title,
        max_sheets=max_sheets,
    )
    return _write(render(data), path)


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
    title: str | None = None,
    id_column: str | None = "parcel_id",
    max_findings: int = 2000,
    overlap_pairs: gpd.GeoDataFrame | None = None,
    lang: Lang = "es",
    group_by: Sequence[str] | None = None,
    max_sheets: int = 2000,
) -> Path:
    """Write the self-contained HTML report of an assessment table.

    The file opens offline in any browser: styles, scripts and drawings are
    inline (a Content-Security-Policy forbids fetching anything). Sections:
    summary counts by status, province and agroforestry system; a map
    (parcels coloured by status, protected areas, loss after the cut-off),
    drawn as inline SVG, one drawing per cluster of parcels in a projection
    centred on it, with pan/zoom and tooltips (parcel id, status, reasons);
    loss per year; declared against measured area; the per-parcel table
    (click a header to sort, a row to show the parcel on the map); one
    evidence sheet per parcel; the validation findings; and the inputs (file
    names, SHA-256, CRS), parameters, rule table, library versions and date.

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
    title : str, optional
        Title of the page (default: the title in ``lang``).
    id_column : str or None
        Parcel id column.
    max_findings : int
        At most this many validation findings are listed (all are counted).
    overlap_pairs : GeoDataFrame, optional
        :func:`agroforest_geo.eudr.evidence.parcel_overlap_pairs` of the parcels.
    lang, group_by, max_sheets
        As in :func:`report_assessment`.

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
    >>> text.count('class="sheet"'), "http://" in text.replace("http://www.w3.org", "")
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
    cutoff = parse_cutoff(assessment.attrs.get("cutoff", "2020-12-31"))
    years = sorted(
        int(c[8:])
        for c in assessment.columns
        if str(c)[8:].isdigit() and str(c).startswith("loss_ha_")
    )
    data = _ReportData(
        assessment=assessment,
        parcels=parcels,
        id_column=id_column,
        cutoff=cutoff,
        evidence=assessment,
        rules=_rules_of(assessment),
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
        lang=_check_lang(lang),
        group_by=_group_by(parcels, group_by),
        max_sheets=max_sheets,
        loss_years=tuple(range(min(2001, *years), max(*years, cutoff.year) + 1)) if years else (),
    )
    return _write(render(data), path)


def _rules_of(assessment: pd.DataFrame) -> tuple[Any, ...]:
    """Return the rules a table was decided by (its ``attrs``; else the default rules)."""
    from ..eudr.rules import DEFAULT_RULES

    recorded = {r["code"]: r for r in assessment.attrs.get("rules", [])}
    if not recorded:
        return DEFAULT_RULES
    out = []
    for rule in DEFAULT_RULES:
        if rule.code in recorded:
            t = recorded[rule.code].get("threshold")
            out.append(dataclasses.replace(rule, threshold=t) if t is not None else rule)
    return tuple(out)


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

"""The deforestation-free workflow in one call: :func:`run_assessment` -> :class:`Assessment`.

One pass, data moving one way::

    read (once) -> repair the parcels (once; its report is their validation)
    -> validate the other layers (once each) -> reproject to the parcels' CRS
    (here only, each reprojection recorded) -> evidence per source
    (:mod:`agroforest_geo.eudr.evidence`; the cover and loss rasters in one pass,
    the parcel overlaps once) -> rules -> :class:`Assessment`

The :class:`Assessment` holds everything the outputs need, so that
:meth:`Assessment.write` and :meth:`Assessment.report` compute nothing again:
the report draws the object (the overlap pairs it keeps, the layers as
read) and reads the loss raster only inside the windows it draws.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ._cutoff import parse_cutoff
from .crs import _crs_label as crs_label
from .errors import CRSMismatchError

__all__ = ["Assessment", "run_assessment"]

log = logging.getLogger(__name__)

_LAYER_READERS = {
    "parcels": "read_parcels",
    "protected": "read_protected_areas",
    "plots": "read_plots",
}


@dataclass(frozen=True)
class Assessment:
    """The result of :func:`run_assessment`: the verdicts with everything behind them.

    Attributes
    ----------
    parcels : GeoDataFrame
        The parcels assessed (repaired; the input's index, ids and columns).
    evidence : DataFrame
        Every evidence column of every source on the parcels' index
        (:data:`agroforest_geo.eudr.EVIDENCE_SCHEMA`).
    result : DataFrame
        The assessment table: id, ``status``, ``reasons``, ``rules_fired`` and
        the evidence columns of :data:`agroforest_geo.eudr.EVIDENCE_COLUMNS`.
    validation : dict
        ``{layer: ValidationReport}``, one validation per layer.
    overlap_pairs : GeoDataFrame
        The pairs of parcels that share land (the one ``overlaps`` run).
    cutoff : datetime.date
    rules : tuple of Rule
    thresholds : dict
    inputs : DataFrame
        One row per input: ``role``, ``file``, ``path``, ``bytes``, ``sha256``,
        ``crs``, ``features`` and ``note`` (e.g. the reprojection done).
    protected, plots, trees : GeoDataFrame or None
        The other layers as used (in the parcels' CRS).
    loss_raster : path or None
        The loss raster, for the report's map.
    id_column : str or None
    parameters : dict
        The options of the run, for the record.
    carbon : DataFrame or None
        With ``carbon_options``: biomass, carbon and CO₂e per agroforestry system
        (:func:`agroforest_geo.carbon.carbon_rollup`; intervals from the summed draws).
    """

    parcels: gpd.GeoDataFrame
    evidence: pd.DataFrame
    result: pd.DataFrame
    validation: dict[str, Any]
    overlap_pairs: gpd.GeoDataFrame
    cutoff: dt.date
    rules: tuple[Any, ...]
    thresholds: dict[str, float]
    inputs: pd.DataFrame
    protected: gpd.GeoDataFrame | None = None
    plots: gpd.GeoDataFrame | None = None
    trees: gpd.GeoDataFrame | None = None
    loss_raster: Any = None
    id_column: str | None = "parcel_id"
    parameters: dict[str, Any] = field(default_factory=dict)
    carbon: pd.DataFrame | None = None

    @property
    def status_counts(self) -> dict[str, int]:
        """Number of parcels per status, most common first.

        Examples
        --------
        >>> import agroforest_geo as agf
        >>> a = agf.run_assessment(agf.datasets.get_path("parcels"))
        >>> sum(a.status_counts.values()) == len(a.parcels)
        True
        """
        counts = self.result["status"].astype(str).value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def table(self) -> pd.DataFrame:
        """Return the per-parcel table of :meth:`write`: the result and the parcels' attributes.

        Examples
        --------
        >>> import agroforest_geo as agf
        >>> a = agf.run_assessment(agf.datasets.get_path("parcels"))
        >>> t = a.table()
        >>> list(t.columns[:3]), len(t) == len(a.parcels)
        (['parcel_id', 'status', 'reasons'], True)
        """
        from ._outputs import assessment_table

        return assessment_table(self)

    def write(
        self,
        directory: str | Path,
        *,
        country: str | None = None,
        producer_name_column: str = "producer_name",
        production_place_column: str | None = "district",
    ) -> dict[str, Path]:
        """Write the per-parcel table (CSV, GeoPackage), the EU GeoJSON and the findings.

        Files: ``assessment.csv`` (rounded), ``assessment.gpkg`` and ``assessment.parquet``
        (full precision), ``evidence_records.jsonl`` (one record per parcel, to re-verify
        each verdict: :func:`agroforest_geo.reporting.verify_evidence_records`),
        ``eudr_geolocation.geojson``
        (numbered when split; only with a producer-name column; parcels with an
        invalid geometry are left out) and ``validation_findings.csv``.

        Returns
        -------
        dict
            ``{what: path}`` of every file written.

        Examples
        --------
        >>> import agroforest_geo as agf, tempfile
        >>> a = agf.run_assessment(agf.datasets.get_path("parcels"))
        >>> sorted(a.write(tempfile.mkdtemp()))  # doctest: +NORMALIZE_WHITESPACE
        ['EU GeoJSON', 'evidence records', 'table (CSV)', 'table (GeoPackage)',
         'table (GeoParquet)', 'validation findings']
        """
        from ._outputs import write_outputs

        return write_outputs(
            self,
            Path(directory),
            country=country,
            producer_name_column=producer_name_column,
            production_place_column=production_place_column,
        )

    def report(
        self,
        path: str | Path,
        *,
        lang: str = "es",
        group_by: Sequence[str] | None = None,
        outputs: Mapping[str, str | Path] | None = None,
        title: str | None = None,
        max_sheets: int = 2000,
    ) -> Path:
        """Write the self-contained HTML report of this assessment; nothing is recomputed.

        ``lang`` is ``"es"``, ``"en"``, ``"fr"`` or ``"pt"``; ``group_by`` names
        the parcel columns the summary counts by. See
        :func:`agroforest_geo.reporting.report_assessment`.

        Examples
        --------
        >>> import agroforest_geo as agf, tempfile, pathlib
        >>> a = agf.run_assessment(agf.datasets.get_path("parcels"))
        >>> out = a.report(pathlib.Path(tempfile.mkdtemp()) / "report.html", lang="es")
        >>> out.read_text(encoding="utf-8").count("data-parcel-id=") == 2 * len(a.parcels)
        True
        """
        from .reporting import report_assessment

        return report_assessment(
            self,
            path,
            lang=lang,  # type: ignore[arg-type]
            group_by=group_by,
            outputs=outputs,
            title=title,
            max_sheets=max_sheets,
        )


# --------------------------------------------------------------------------------------
# reading and aligning the inputs
# --------------------------------------------------------------------------------------


def _read(role: str, source: Any, **read_options: Any) -> gpd.GeoDataFrame:
    from . import io

    if role == "trees":
        if isinstance(source, gpd.GeoDataFrame):
            return source
        return io.read_raw(source)
    reader = getattr(io, _LAYER_READERS[role])
    return reader(source, **read_options)


def _input_row(role: str, source: Any, layer: gpd.GeoDataFrame | None) -> dict[str, Any]:
    from .reporting import describe_inputs

    row: dict[str, Any] = {"role": role, "file": "", "path": "", "bytes": pd.NA, "sha256": ""}
    if isinstance(source, str | Path):
        row.update({str(k): v for k, v in describe_inputs({role: source}).iloc[0].items()})
    else:
        row.update(file="(in memory)", crs=_crs_label(layer))
    row["features"] = len(layer) if layer is not None else pd.NA
    row["note"] = ""
    return row


def _crs_label(layer: gpd.GeoDataFrame | None) -> str:
    return "" if layer is None or layer.crs is None else crs_label(layer.crs)


def _align(
    role: str, layer: gpd.GeoDataFrame, crs: Any, reproject: bool, row: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Return the layer in the parcels' CRS, recording a reprojection in the input's row."""
    if layer.crs is None or crs is None or layer.crs.equals(crs):
        return layer
    if not reproject:
        raise CRSMismatchError(
            f"{role} are in {_crs_label(layer)}, the parcels in {crs.to_string()}; reproject "
            f"them first ({role} = {role}.to_crs(parcels.crs)) or pass reproject=True"
        )
    note = f"reprojected from {_crs_label(layer)} to {crs.to_string()}"
    log.info("%s: %s", role, note)
    row["note"] = note
    return layer.to_crs(crs)


@dataclass
class _Inputs:
    parcels: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame]
    validation: dict[str, Any]
    rows: list[dict[str, Any]]


def _prepare_inputs(
    sources: Mapping[str, Any],
    *,
    id_column: str | None,
    repair: bool,
    reproject: bool,
    read_options: Mapping[str, Mapping[str, Any]],
) -> _Inputs:
    """Read every layer once, repair the parcels, validate each layer once, align CRSs."""
    from .repair import repair as repair_layer
    from .validate import validate

    opts = dict(read_options.get("parcels", {}))
    if id_column is not None:
        opts.setdefault("id_column", id_column)
    raw = _read("parcels", sources["parcels"], **opts)
    rows = [_input_row("parcels", sources["parcels"], raw)]
    if repair:
        parcels, report = repair_layer(raw, kind="parcels", id_column=id_column)
    else:
        parcels, report = raw, validate(raw, kind="parcels", id_column=id_column)
    validation: dict[str, Any] = {"parcels": report}
    layers: dict[str, gpd.GeoDataFrame] = {}
    for role in ("protected", "plots", "trees"):
        source = sources.get(role)
        if source is None:
            continue
        layer = _read(role, source, **dict(read_options.get(role, {})))
        row = _input_row(role, source, layer)
        if role == "protected":
            validation["protected_areas"] = validate(layer, kind="protected_areas")
        elif role == "plots":
            validation["plots"] = validate(layer, kind="plots")
        layers[role] = _align(role, layer, parcels.crs, reproject, row)
        rows.append(row)
    return _Inputs(parcels, layers, validation, rows)


def _raster_rows(sources: Any) -> list[dict[str, Any]]:
    rows = []
    for role, items in sources.roles_sources().items():
        for s in items:
            source = s.raster
            if source is None or isinstance(source, pd.DataFrame):
                continue
            if isinstance(source, str | Path):
                row = _input_row(role, source, None)
            else:
                row = {"role": role, "file": "(dataset)", "path": str(getattr(source, "name", ""))}
            row["note"] = f"source {s.label}" + (
                f", product {s.resolved_product().name}" if s.product is not None else ""
            )
            rows.append(row)
    return rows


def _first_raster(items: list[Any]) -> Any:
    raster = items[0].raster if items else None
    return None if isinstance(raster, pd.DataFrame) else raster


# --------------------------------------------------------------------------------------
# the workflow
# --------------------------------------------------------------------------------------


def run_assessment(
    parcels: Any,
    *,
    cover: Any = None,
    loss: Any = None,
    protected: Any = None,
    plots: Any = None,
    trees: Any = None,
    cutoff: Any = "2020-12-31",
    rules: Any = None,
    id_column: str | None = "parcel_id",
    cover_year: int | None = None,
    cover_product: Any = None,
    loss_product: Any = None,
    forest_2020: Any = None,
    commodity: Any = None,
    canopy_height: Any = None,
    alerts: Any = None,
    biomass_map: Any = None,
    biomass_product: Any = None,
    carbon_options: Mapping[str, Any] | None = None,
    repair: bool = True,
    reproject: bool = True,
    read_options: Mapping[str, Mapping[str, Any]] | None = None,
    protected_options: Mapping[str, Any] | None = None,
    raster_options: Mapping[str, Any] | None = None,
    client: Any = None,
    workers: int = 0,
) -> Assessment:
    """Read, repair, validate, measure and assess the parcels: the whole EUDR workflow.

    Every input may be a path or an in-memory layer. Each layer is read once
    and validated once (the parcels' validation is the report of their
    repair); the other layers are reprojected to the parcels' CRS here and
    only here, each reprojection recorded in :attr:`Assessment.inputs`
    (``reproject=False`` refuses instead). The cover and loss rasters are read
    in one pass, the parcel overlaps computed once; the rules then decide
    each parcel's status (:func:`agroforest_geo.eudr.assess` is the same
    decision on evidence you bring yourself).

    Parameters
    ----------
    parcels : path or GeoDataFrame
        The member parcels (:func:`agroforest_geo.read_parcels`).
    cover, loss : path, dataset or DataFrame, optional
        Tree-cover percent raster and loss-year raster (or precomputed tables on
        the parcels' index), as in :func:`agroforest_geo.eudr.assess`.
    protected, plots : path or GeoDataFrame, optional
        Protected / REDD+ areas; agroforestry plots (``parcel_id``, ``system``,
        ``trees_planted``).
    trees : path or GeoDataFrame, optional
        Tree inventory points.
    cutoff : date-like
        The cut-off date (default 31 December 2020, EUDR).
    rules : mapping or sequence of Rule, optional
        Rule overrides or a whole rule table (:func:`~agroforest_geo.eudr.rules.resolve_rules`).
    id_column : str or None
        The parcels' id column.
    cover_year : int, optional
        Year of the cover raster (default: the cover product's reference year, else 2000).
    cover_product, loss_product : Product or str, optional
        What the cover and loss rasters hold (:mod:`agroforest_geo.products`); without
        them the rasters are taken as Hansen tree-cover percent and loss years, and
        their values are checked for the usual mix-ups. ``cover`` and ``loss`` also
        take a list of sources (``[(raster, product), ...]`` or
        :class:`~agroforest_geo.eudr.Source`), combined as in
        :func:`agroforest_geo.eudr.assess`.
    forest_2020, commodity, canopy_height, alerts : source or list of sources, optional
        Land use on the cut-off date and alerts after it, as in
        :func:`agroforest_geo.eudr.assess` (a 2020 forest map, a commodity map, a
        canopy-height raster, date-encoded alerts; each with its product).
    biomass_map, biomass_product : path and Product or str, optional
        An above-ground biomass raster (Mg/ha) and what it is: the table gains the
        parcels' biomass and CO₂e by the map (``map_agb_mg``, ``map_co2e_t``).
    carbon_options : mapping, optional
        With ``plots`` and ``trees``: the keywords of
        :func:`agroforest_geo.carbon.carbon_rollup` (``wood_density_table`` is
        required unless the inventory has wood densities; ``n_draws``, ``seed``
        ...); the table gains each parcel's inventory biomass, carbon and CO₂e with
        its 95 % interval. Carbon columns are not read by the default rules.
    repair : bool
        Repair the parcels' geometries first (never drops a row).
    reproject : bool
        Reproject the other layers to the parcels' CRS (recorded); ``False`` refuses.
    read_options : mapping, optional
        ``{"parcels"|"protected"|"plots": {reader keyword: value}}`` (``layer``,
        ``columns``, ``crs``, ``id_column``).
    protected_options, raster_options : mapping, optional
        Keyword options of :func:`~agroforest_geo.protected_overlap` and of the
        raster verbs.
    client : dask.distributed.Client, optional
        Measure on this cluster (same results).
    workers : int
        Without a client: measure on a local Dask cluster of this many worker
        processes (0: in this process).

    Returns
    -------
    Assessment

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> get = agf.datasets.get_path
    >>> a = agf.run_assessment(get("parcels"), cover=get("treecover"), loss=get("lossyear"),
    ...                        protected=get("protected_areas"), plots=get("plots"))
    >>> a.status_counts["deforestation_detected"]
    14
    >>> a.result.index.equals(a.parcels.index), a.cutoff.isoformat()
    (True, '2020-12-31')
    """
    from .eudr.assess import _check_parcels, _Sources, decide
    from .eudr.rules import resolve_rules

    cut = parse_cutoff(cutoff)
    rule_set, th = resolve_rules(rules)
    inputs = _prepare_inputs(
        {"parcels": parcels, "protected": protected, "plots": plots, "trees": trees},
        id_column=id_column,
        repair=repair,
        reproject=reproject,
        read_options=read_options or {},
    )
    p = inputs.parcels
    id_column = _check_parcels(p, id_column)
    sources = _Sources.of(
        cover=cover,
        loss=loss,
        protected=inputs.layers.get("protected"),
        trees=inputs.layers.get("trees"),
        plots=inputs.layers.get("plots"),
        cover_product=cover_product,
        loss_product=loss_product,
        forest_2020=forest_2020,
        commodity=commodity,
        canopy_height=canopy_height,
        alerts=alerts,
        biomass_map=biomass_map,
        biomass_product=biomass_product,
        carbon_options=None if carbon_options is None else dict(carbon_options),
        protected_options=dict(protected_options or {}),
        raster_options=dict(raster_options or {}),
    )
    log.info("assessing %d parcels", len(p))
    collected, sources = _collect(
        p, inputs.validation["parcels"], sources, cutoff=cut, thresholds=th,
        cover_year=cover_year, id_column=id_column, client=client, workers=workers,
    )  # fmt: skip
    custom = not (rules is None or isinstance(rules, Mapping))
    result = decide(
        p, collected.evidence, rule_set, thresholds=th, cutoff=cut, id_column=id_column,
        custom_rules=custom,
    )  # fmt: skip
    parameters = _parameters(cut, rules, cover_year, protected_options, raster_options, sources)
    return _assessment(inputs, sources, collected, result, rule_set, th, cut, id_column,
                       parameters)  # fmt: skip


def _collect(
    parcels: gpd.GeoDataFrame,
    validation: Any,
    sources: Any,
    *,
    cutoff: dt.date,
    thresholds: Mapping[str, float],
    cover_year: int | None,
    id_column: str | None,
    client: Any,
    workers: int,
) -> tuple[Any, Any]:
    """Collect the evidence (measured here, or on Dask); return it and the sources as measured."""
    from .eudr.assess import collect_evidence

    def collect(given: Any) -> Any:
        return collect_evidence(
            parcels, validation, given, cutoff=cutoff, thresholds=thresholds,
            cover_year=cover_year, id_column=id_column,
        )  # fmt: skip

    if client is None and not workers:
        return collect(sources), sources
    from ._remote import measure_remotely, on_dask

    with on_dask(client, workers) as c:
        sources = measure_remotely(parcels, validation, sources, id_column=id_column, client=c)
        return collect(sources), sources


def _assessment(
    inputs: _Inputs,
    sources: Any,
    collected: Any,
    result: pd.DataFrame,
    rule_set: Any,
    thresholds: Mapping[str, float],
    cut: dt.date,
    id_column: str | None,
    parameters: dict[str, Any],
) -> Assessment:
    """Assemble the :class:`Assessment` of a run from what it read and computed."""
    return Assessment(
        parcels=inputs.parcels,
        evidence=collected.evidence,
        result=result,
        validation=inputs.validation,
        overlap_pairs=collected.pairs,
        cutoff=cut,
        rules=tuple(rule_set),
        thresholds=dict(thresholds),
        inputs=pd.DataFrame(inputs.rows + _raster_rows(sources)),
        protected=inputs.layers.get("protected"),
        plots=inputs.layers.get("plots"),
        trees=inputs.layers.get("trees"),
        loss_raster=_first_raster(sources.loss),
        id_column=id_column,
        parameters=parameters,
        carbon=collected.carbon_by_system,
    )


def _parameters(
    cut: dt.date,
    rules: Any,
    cover_year: int | None,
    protected_options: Mapping[str, Any] | None,
    raster_options: Mapping[str, Any] | None,
    sources: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {"cutoff": cut.isoformat(), "cover year": cover_year or "default"}
    for role, items in sources.roles_sources().items():
        named = [s.resolved_product().name for s in items if s.product is not None]
        if named:
            out[f"{role.replace('_', ' ')} product"] = ", ".join(named)
    if isinstance(rules, Mapping):
        out["rule overrides"] = dict(rules) or "none"
    elif isinstance(rules, Sequence):
        out["rule table"] = "custom"
    else:
        out["rule overrides"] = "none"
    for k, v in (protected_options or {}).items():
        out[f"protected {k}"] = v
    for k, v in (raster_options or {}).items():
        out[f"raster {k}"] = v
    return out

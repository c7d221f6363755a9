"""``agroforest-geo assess``: the whole deforestation-free workflow in one command.

Reads and validates the inputs, repairs the parcels, measures (areas, declared
vs measured, overlaps, protected areas, forest cover and loss, tree density),
assesses every parcel, and writes into ``--output-dir``:

* ``report.html`` - the self-contained report (its path is printed);
* ``assessment.gpkg`` and ``assessment.csv`` - the per-parcel table;
* ``eudr_geolocation.geojson`` (split into numbered files above 25 MB) - the
  EU information-system GeoJSON of the parcels with a valid geometry;
* ``validation_findings.csv`` - the findings of every input layer.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the ``assess`` subcommand."""
    p = subparsers.add_parser(
        "assess",
        help="EUDR deforestation-free assessment with HTML report and EU GeoJSON export",
        description="Validate, repair and measure the parcels, assess them against the EUDR "
        "rules, and write the report, the per-parcel table (GeoPackage + CSV), the EU "
        "GeoJSON and the validation findings into --output-dir. Prints the report's path.",
    )
    p.add_argument("parcels", metavar="PARCELS", help="parcels layer (GeoPackage, GeoJSON, ...)")
    p.add_argument("--cover", metavar="RASTER", help="tree-cover percent raster (e.g. 2000)")
    p.add_argument("--loss", metavar="RASTER", help="loss-year raster (Hansen encoding)")
    p.add_argument("--protected", metavar="LAYER", help="protected / REDD+ areas layer")
    p.add_argument("--plots", metavar="LAYER", help="agroforestry plots layer")
    p.add_argument("--trees", metavar="POINTS", help="tree inventory points")
    p.add_argument(
        "--cutoff",
        default="2020-12-31",
        metavar="DATE",
        help="cut-off date, ISO YYYY-MM-DD (default 2020-12-31)",
    )
    p.add_argument("--cover-year", type=int, default=2000, help="year of the cover raster")
    p.add_argument("--country", default="PE", help="ISO 3166-1 alpha-2 country of production")
    p.add_argument(
        "--producer-name-column",
        default="producer_name",
        metavar="C",
        help="column with the producer's name (EU GeoJSON)",
    )
    p.add_argument(
        "--production-place-column",
        default="district",
        metavar="C",
        help="column with the production place (EU GeoJSON)",
    )
    p.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="override a rule threshold, e.g. --rule loss_after_cutoff_min_ha=0.1",
    )
    p.add_argument("--output-dir", required=True, metavar="DIR", help="directory for the outputs")
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="assess on a local Dask cluster of N worker processes (needs agroforest-geo[dask]); "
        "0 (default) runs in this process",
    )
    p.set_defaults(func=_run_assess)


def _rule_overrides(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(
                f"--rule {item!r}: write PARAM=NUMBER, e.g. loss_after_cutoff_min_ha=0.1"
            )
    return out


def _run_assess(args: argparse.Namespace) -> int:
    from .. import eudr
    from ..declared import declared_vs_measured
    from ..eudr.rules import resolve_rules
    from ..io import read_parcels, read_plots, read_protected_areas, read_raw, write_table
    from ..repair import repair
    from ..reporting import report
    from ..validate import validate

    outdir = Path(args.output_dir)
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        rules = _rule_overrides(args.rule)
        cutoff = eudr.parse_cutoff(args.cutoff)
        resolve_rules(rules or None)
    except ValueError as exc:
        print(f"agroforest-geo assess: error: {exc}", file=sys.stderr)
        return 2

    log.info("reading and validating the inputs")
    raw = read_parcels(args.parcels)
    parcels, parcel_report = repair(raw, kind="parcels")
    validation: dict[str, Any] = {"parcels": parcel_report}
    protected = plots = trees = None
    if args.protected:
        protected = read_protected_areas(args.protected)
        validation["protected_areas"] = validate(protected, kind="protected_areas")
        if parcels.crs is not None and not protected.crs.equals(parcels.crs):
            protected = protected.to_crs(parcels.crs)
    if args.plots:
        plots = read_plots(args.plots)
        validation["plots"] = validate(plots, kind="plots")
        if parcels.crs is not None and not plots.crs.equals(parcels.crs):
            plots = plots.to_crs(parcels.crs)
    if args.trees:
        trees = read_raw(args.trees)

    tree_table = None
    if plots is not None:
        log.info("tree density of the agroforestry plots")
        tree_table = eudr.parcel_tree_density(parcels, plots, trees)
    elif trees is not None:
        tree_table = trees.to_crs(parcels.crs)

    log.info("assessing %d parcels", len(parcels))
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        options: dict[str, Any] = {
            "cover": args.cover,
            "loss": args.loss,
            "protected": protected,
            "trees": tree_table,
            "cutoff": cutoff,
            "rules": rules or None,
            "cover_year": args.cover_year,
        }
        if args.workers > 0:
            from ..distributed import run

            result = run(eudr.assess, parcels, n_workers=args.workers, **options)
        else:
            result = eudr.assess(parcels, **options)

    declared = declared_vs_measured(parcels) if "declared_area_ha" in parcels.columns else None
    outputs: dict[str, Path] = {}
    table = result.copy()
    table["status"] = table["status"].astype(str)
    table["agroforestry_evidence"] = table["agroforestry_evidence"].astype(object)
    for c in ("province", "district", "member_id", "crop"):
        if c in parcels.columns and c not in table.columns:
            table[c] = parcels[c]
    if declared is not None:
        for c in ("declared_area_ha", "area_difference_ha", "declared_ratio", "declared_off"):
            table[c] = declared[c]
    table.attrs = {}
    outputs["table (CSV)"] = write_table(table, outdir / "assessment.csv")
    geo = gpd.GeoDataFrame(table, geometry=parcels.geometry.values, crs=parcels.crs)
    outputs["table (GeoPackage)"] = write_table(geo, outdir / "assessment.gpkg")

    exportable = parcels[result["status"].astype(str) != "invalid_geometry"]
    if args.producer_name_column in parcels.columns and not len(exportable):
        log.error(
            "EU GeoJSON not written: none of the %d parcels can be exported (all have invalid "
            "geometry; see validation_findings.csv)",
            len(parcels),
        )
    elif args.producer_name_column in parcels.columns:
        place = args.production_place_column
        paths = eudr.to_geojson(
            exportable,
            outdir / "eudr_geolocation.geojson",
            producer_name_column=args.producer_name_column,
            country=args.country,
            production_place_column=place if place in parcels.columns else None,
        )
        for k, pth in enumerate(paths):
            outputs[f"EU GeoJSON {k + 1}" if len(paths) > 1 else "EU GeoJSON"] = pth
        problems = pd.concat([eudr.check_geojson(pth) for pth in paths], ignore_index=True)
        if len(problems):
            log.warning("the EU GeoJSON has %d problem(s)", len(problems))
        skipped = len(parcels) - len(exportable)
        if skipped:
            log.warning("%d parcel(s) with invalid geometry left out of the EU GeoJSON", skipped)
    else:
        log.warning(
            "no %r column: EU GeoJSON not written (use --producer-name-column)",
            args.producer_name_column,
        )

    findings = pd.concat(
        [v.findings.assign(layer=k) for k, v in validation.items()], ignore_index=True
    )
    outputs["validation findings"] = write_table(findings, outdir / "validation_findings.csv")

    inputs = {
        "parcels": args.parcels,
        "cover": args.cover,
        "loss": args.loss,
        "protected": args.protected,
        "plots": args.plots,
        "trees": args.trees,
    }
    parameters = {
        f"--{k.replace('_', '-')}": v
        for k, v in vars(args).items()
        if k not in {"func", "command", "verbose"} and v not in (None, [])
    }
    parameters["rule overrides"] = rules or "none"
    path = report(
        result,
        parcels,
        outdir / "report.html",
        protected=protected,
        plots=plots,
        lossyear=args.loss,
        validation=validation,
        declared=declared,
        inputs=inputs,
        parameters=parameters,
        outputs=outputs,
    )
    counts = result["status"].astype(str).value_counts()
    summary = ", ".join(f"{k}={int(v)}" for k, v in counts.items())
    print(f"assessed {len(result)} parcels: {summary}", file=sys.stderr)
    for name, written in outputs.items():
        print(f"  {name}: {written}", file=sys.stderr)
    print(f"  HTML report: {path}", file=sys.stderr)
    print(path)  # the report's path alone on standard output, for scripts
    return 0

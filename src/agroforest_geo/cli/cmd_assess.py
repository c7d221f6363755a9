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
from pathlib import Path
from typing import Any

from ._options import (
    add_input_options,
    add_overwrite_option,
    check_outputs,
    reader_options,
    unused_columns,
)

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
    p.add_argument(
        "--protected",
        metavar="LAYER",
        nargs="+",
        action="extend",
        help="protected / REDD+ areas layer(s): several files (or --protected given several "
        "times) are read as one layer with a source_file column",
    )
    p.add_argument("--plots", metavar="LAYER", help="agroforestry plots layer")
    p.add_argument("--trees", metavar="POINTS", help="tree inventory points")
    p.add_argument(
        "--cutoff",
        default="2020-12-31",
        metavar="DATE",
        help="cut-off date, ISO YYYY-MM-DD (default 2020-12-31)",
    )
    p.add_argument(
        "--cover-year",
        type=int,
        default=None,
        help="year of the cover raster (default: its product's reference year, else 2000)",
    )
    p.add_argument(
        "--country",
        default=None,
        help="ISO 3166-1 alpha-2 country of production (default: from each parcel's geometry)",
    )
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
    _add_source_options(p)
    p.add_argument("--output-dir", required=True, metavar="DIR", help="directory for the outputs")
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="assess on a local Dask cluster of N worker processes (needs agroforest-geo[dask]); "
        "0 (default) runs in this process",
    )
    add_input_options(p)
    add_overwrite_option(p)
    _add_carbon_options(p)
    report = p.add_argument_group("report")
    report.add_argument(
        "--lang",
        choices=["es", "en", "fr", "pt"],
        default="es",
        help="language of the report's words, numbers and dates (default es)",
    )
    p.set_defaults(func=_run_assess)


_SOURCE_OPTIONS = {
    "forest_2020": "a forest map of the cut-off date (e.g. RASTER:jrc_gfc2020)",
    "commodity": "a commodity probability map (e.g. RASTER:fdap_cocoa_probability)",
    "canopy_height": "a canopy-height raster (e.g. RASTER:eth_canopy_height_2020)",
    "alerts": "a date-encoded alert raster (e.g. RASTER:radd_alerts)",
}


def _add_carbon_options(p: Any) -> None:
    """Carbon next to the verdict: from the plots' inventory and/or a biomass map."""
    g = p.add_argument_group("carbon (reported next to the verdict, never deciding it)")
    g.add_argument(
        "--wood-density",
        metavar="TABLE",
        help="wood-density table (CSV: family, genus, species, wd): adds each parcel's and "
        "each system's biomass and CO2e from the plots' tree inventory (--plots, --trees)",
    )
    g.add_argument(
        "--carbon-draws",
        type=int,
        default=1000,
        metavar="N",
        help="Monte-Carlo draws for the carbon intervals (default %(default)s)",
    )
    g.add_argument(
        "--biomass-map",
        metavar="RASTER[:PRODUCT]",
        help="above-ground biomass raster in Mg/ha (e.g. RASTER:esa_cci_biomass_2020)",
    )


def _carbon_arguments(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.wood_density:
        out["carbon_options"] = {
            "wood_density_table": args.wood_density,
            "n_draws": args.carbon_draws,
            "seed": 0,
        }
    if args.biomass_map:
        raster, sep, product = args.biomass_map.rpartition(":")
        if not sep or "/" in product or "\\" in product or "." in product:
            raster, product = args.biomass_map, ""
        out["biomass_map"] = raster
        out["biomass_product"] = product or None
    return out


def _add_source_options(p: Any) -> None:
    """Add the repeatable land-use and alert sources and the products of --cover/--loss."""
    for role, what in _SOURCE_OPTIONS.items():
        p.add_argument(
            f"--{role.replace('_', '-')}",
            action="append",
            default=[],
            metavar="RASTER[:PRODUCT]",
            help=f"{what}; repeat for several sources (combined by --rule {role}"
            "_sources_required=...)",
        )
    for flag in ("--cover-product", "--loss-product"):
        p.add_argument(
            flag,
            metavar="NAME|FILE",
            help=f"what --{flag[2:6]} holds: a built-in product (docs/products.md) or a "
            ".toml/.json file describing one",
        )


def _source(text: str) -> Any:
    """Parse RASTER[:PRODUCT]; PRODUCT is a built-in name or a .toml/.json product file."""
    from ..products import from_file

    raster, sep, product = text.rpartition(":")
    if product.endswith((".toml", ".json")) and raster:
        return (raster, from_file(product))
    if not sep and text.endswith((".toml", ".json")):  # a --cover-product / --loss-product file
        return from_file(text)
    if not sep or len(raster) < 2 or "/" in product or "\\" in product:
        return text  # no product (a Windows drive letter is not one)
    return (raster, product)


def _sources(items: list[str]) -> Any:
    return [_source(x) for x in items] or None


#: the files assess writes into --output-dir (none may be an input)
_OUTPUT_NAMES = (
    "report.html",
    "assessment.csv",
    "assessment.gpkg",
    "assessment.parquet",
    "evidence_records.jsonl",
    "eudr_geolocation.geojson",
    "validation_findings.csv",
)


def _rule_overrides(items: list[str]) -> dict[str, float | str]:
    out: dict[str, float | str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            words = key.strip().endswith("_sources_required") and value in ("any", "all")
            out[key.strip()] = value if words else float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(
                f"--rule {item!r}: write PARAM=NUMBER, e.g. loss_after_cutoff_min_ha=0.1"
            )
    return out


def _run_assess(args: argparse.Namespace) -> int:
    from ..workflow import run_assessment

    rules = _rule_overrides(args.rule)
    protected = args.protected or []
    outdir = Path(args.output_dir)
    inputs = [args.parcels, args.cover, args.loss, *protected, args.plots, args.trees]
    inputs += [x for x in (args.wood_density, args.biomass_map) if x]
    check_outputs(inputs, [outdir / n for n in _OUTPUT_NAMES], overwrite=args.overwrite)
    read_options = {"parcels": reader_options(args.parcels, args, main=True)}
    if protected:
        read_options["protected"] = reader_options(protected, args)
    if args.plots:
        read_options["plots"] = reader_options(args.plots, args)
    unused_columns(args)
    assessment = run_assessment(
        args.parcels,
        cover=args.cover,
        loss=args.loss,
        protected=(protected[0] if len(protected) == 1 else protected) or None,
        plots=args.plots,
        trees=args.trees,
        read_options=read_options,
        cutoff=args.cutoff,
        rules=rules or None,
        cover_year=args.cover_year,
        cover_product=args.cover_product and _source(args.cover_product),
        loss_product=args.loss_product and _source(args.loss_product),
        **{role: _sources(getattr(args, role)) for role in _SOURCE_OPTIONS},
        **_carbon_arguments(args),
        workers=args.workers,
    )
    outputs = assessment.write(
        outdir,
        country=args.country,
        producer_name_column=args.producer_name_column,
        production_place_column=args.production_place_column,
    )
    path = assessment.report(outdir / "report.html", outputs=outputs, lang=args.lang)
    summary = ", ".join(f"{k}={v}" for k, v in assessment.status_counts.items())
    print(f"assessed {len(assessment.result)} parcels: {summary}", file=sys.stderr)
    for name, written in outputs.items():
        print(f"  {name}: {written}", file=sys.stderr)
    print(f"  HTML report: {path}", file=sys.stderr)
    print(path)  # the report's path alone on standard output, for scripts
    return 0

"""Subcommand ``carbon``: biomass, carbon and CO₂e per plot (or per group) from an inventory."""

from __future__ import annotations

import argparse
from typing import Any

from ..carbon import (
    ALLOMETRIES,
    FELDPAUSCH2012,
    biomass_from_map,
    carbon_rollup,
    plot_biomass,
    published_height_model,
)
from ..io import read_plots
from ._common import add_output_argument, emit

__all__ = ["register"]


def _height_model(args: argparse.Namespace) -> object:
    if args.height_model is None:
        return None
    if args.height_model.startswith("feldpausch2012:"):
        return published_height_model("feldpausch2012", region=args.height_model.split(":", 1)[1])
    return args.height_model


def _inventory_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "diameter_column": args.diameter_column,
        "height_column": None if args.no_heights else args.height_column,
        "taxon_column": args.taxon_column,
        "family_column": args.family_column,
        "allometry": args.allometry,
        "n_draws": args.draws,
        "seed": args.seed,
        "carbon_fraction": args.carbon_fraction,
        "root_shoot": args.root_shoot,
        "wood_density_table": args.wood_density,
        "region": None if args.region.lower() == "world" else args.region,
        "height_model": _height_model(args),
        "height_error_m": args.height_error,
        "e": args.e,
    }


def _run_carbon(args: argparse.Namespace) -> int:
    plots = read_plots(args.plots)
    if args.biomass_map is not None:
        result = biomass_from_map(plots, args.biomass_map, carbon_fraction=args.carbon_fraction)
    elif args.inventory is None:
        raise ValueError("give --trees TREES (tree points) or --biomass-map RASTER (Mg/ha)")
    elif args.by:
        by = [c.strip() for c in args.by.split(",") if c.strip()]
        result = carbon_rollup(plots, args.inventory, by=by, **_inventory_options(args))
        emit(result.reset_index(), args.output)
        return 0
    else:
        result = plot_biomass(plots, args.inventory, **_inventory_options(args))
    result.insert(0, "plot_id", plots["plot_id"].to_numpy())
    emit(result, args.output)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``carbon`` subcommand.

    Examples
    --------
    >>> from agroforest_geo.cli import build_parser
    >>> args = build_parser().parse_args(
    ...     ["carbon", "plots.gpkg", "--inventory", "t.gpkg", "--wood-density", "wd.csv"]
    ... )
    >>> args.allometry, args.draws, args.carbon_fraction, args.by
    ('chave2014', 1000, 0.47, None)
    """
    p = subparsers.add_parser(
        "carbon",
        help="above-ground biomass, carbon and CO2e per plot, with intervals",
        description=(
            "Biomass, carbon and CO2e of each plot (or group of plots with --by) from an "
            "inventory of trees (Chave et al. 2014 by default; Monte-Carlo intervals), or from "
            "a biomass map in Mg/ha. Methods: docs/carbon.md."
        ),
    )
    p.add_argument("plots", metavar="PLOTS", help="plots layer (GeoPackage, GeoJSON, ...)")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--trees",
        "--inventory",
        dest="inventory",
        metavar="TREES",
        help="tree inventory points, one per tree (--trees, as in the other subcommands; "
        "--inventory is the same option)",
    )
    src.add_argument("--biomass-map", metavar="RASTER", help="above-ground biomass raster, Mg/ha")
    p.add_argument(
        "--wood-density",
        metavar="TABLE",
        help="wood-density table (e.g. the Global Wood Density Database, CSV); none is bundled",
    )
    p.add_argument(
        "--region", default="South America (tropical)", help="wood-density region, or World"
    )
    p.add_argument("--diameter-column", default="diameter_cm", metavar="COLUMN")
    p.add_argument("--height-column", default="height_m", metavar="COLUMN")
    p.add_argument("--no-heights", action="store_true", help="ignore heights (Eq. 7, needs --e)")
    p.add_argument("--taxon-column", default="taxon", metavar="COLUMN")
    p.add_argument("--family-column", metavar="COLUMN")
    p.add_argument(
        "--allometry",
        default="chave2014",
        choices=["chave2014", *sorted(ALLOMETRIES)],
        help="allometric model (default chave2014: Eq. 4 with heights, Eq. 7 without)",
    )
    p.add_argument(
        "--height-model",
        metavar="MODEL",
        choices=[
            "loglog",
            "michaelis",
            "weibull",
            *(f"feldpausch2012:{r}" for r in FELDPAUSCH2012),
        ],
        help="for trees without a height: fit loglog/michaelis/weibull on the trees with both, "
        "or a Feldpausch et al. 2012 region, e.g. feldpausch2012:WAmazonia",
    )
    p.add_argument(
        "--height-error", type=float, default=0.0, metavar="M", help="sd of measured heights"
    )
    p.add_argument("--e", type=float, help="Chave et al. 2014 environmental stress factor E")
    p.add_argument("--draws", type=int, default=1000, help="Monte-Carlo draws (0: no intervals)")
    p.add_argument("--seed", type=int, help="seed of the draws (reproducible intervals)")
    p.add_argument("--carbon-fraction", type=float, default=0.47)
    p.add_argument("--root-shoot", type=float, metavar="RATIO", help="below/above-ground ratio")
    p.add_argument(
        "--by",
        metavar="COLUMNS",
        help="roll up per plot column(s), comma-separated (e.g. system): totals add, densities "
        "are totals over summed hectares",
    )
    add_output_argument(p)
    p.set_defaults(func=_run_carbon)

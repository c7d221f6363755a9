"""Subcommands ``trees`` (density per plot) and ``detect-trees`` (tops from a CHM)."""

from __future__ import annotations

import argparse

from ..detect import WINDOW_PRESETS, detect_trees
from ..io import read_plots
from ..trees import tree_density
from ._common import add_output_argument, emit, with_input_columns
from ._options import (
    add_input_options,
    add_overwrite_option,
    check_outputs,
    read_input,
    unused_columns,
)
from .cmd_cover import _product, add_product_argument

__all__ = ["register"]


def _run_trees(args: argparse.Namespace) -> int:
    inputs = [args.plots, args.inventory, args.chm, args.density]
    check_outputs(inputs, [args.output], overwrite=args.overwrite)
    plots = read_input(read_plots, args.plots, args, main=True)
    unused_columns(args)
    result = tree_density(
        plots,
        trees=args.inventory,
        chm=args.chm,
        density_raster=args.density,
        product=_product(args.density_product),
        count_column=args.planted_column,
        species_column=args.species_column,
        overlap=args.overlap,
        min_height=args.min_height,
        window=args.window,
    )
    emit(with_input_columns(result, plots, first="plot_id"), args.output)
    return 0


def _run_detect(args: argparse.Namespace) -> int:
    check_outputs([args.chm], [args.output], overwrite=args.overwrite)
    tops = detect_trees(args.chm, min_height=args.min_height, window=args.window, ties=args.ties)
    emit(tops, args.output)
    return 0


def _add_detection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min-height",
        type=float,
        default=2.0,
        metavar="M",
        help="ignore canopy lower than M metres (default 2)",
    )
    parser.add_argument(
        "--window",
        choices=sorted(WINDOW_PRESETS),
        default="popescu_wynne",
        help="window radius as a function of height (default popescu_wynne)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``trees`` and ``detect-trees`` subcommands.

    Examples
    --------
    >>> from agroforest_geo.cli import build_parser
    >>> args = build_parser().parse_args(["trees", "plots.gpkg", "--inventory", "t.gpkg"])
    >>> args.inventory, args.chm, args.overlap
    ('t.gpkg', None, 'all')
    >>> args = build_parser().parse_args(["detect-trees", "chm.tif", "-o", "tops.gpkg"])
    >>> args.min_height, args.window, args.output
    (2.0, 'popescu_wynne', 'tops.gpkg')
    """
    p = subparsers.add_parser(
        "trees",
        help="trees per plot and per ellipsoidal hectare",
        description=(
            "Count the trees of each plot from inventory points, a canopy height model or a "
            "trees-per-hectare raster, optionally against the planting records."
        ),
    )
    p.add_argument("plots", metavar="PLOTS", help="plots layer (GeoPackage, GeoJSON, ...)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--inventory", metavar="POINTS", help="tree points, one per tree")
    src.add_argument("--chm", metavar="RASTER", help="canopy height model in metres")
    src.add_argument("--density", metavar="RASTER", help="trees-per-hectare raster")
    add_product_argument(p, "--density-product", "the --density raster")
    p.add_argument(
        "--planted-column",
        metavar="COLUMN",
        help="plots column with the trees planted (e.g. trees_planted); with a source above, "
        "adds survival_rate",
    )
    p.add_argument(
        "--species-column", metavar="COLUMN", help="with --inventory: counts per species"
    )
    p.add_argument(
        "--overlap",
        choices=["all", "first"],
        default="all",
        help="a tree in overlapping plots counts in all of them (default) or the first",
    )
    _add_detection_options(p)
    add_input_options(p)
    add_output_argument(p)
    add_overwrite_option(p)
    p.set_defaults(func=_run_trees)

    d = subparsers.add_parser(
        "detect-trees",
        help="tree tops from a canopy height model",
        description="Find tree tops with a variable-window local-maximum filter.",
    )
    d.add_argument("chm", metavar="CHM", help="canopy height raster in metres")
    _add_detection_options(d)
    d.add_argument(
        "--ties",
        choices=["merge", "keep"],
        default="merge",
        help="flat crowns give one tree (merge, default) or one per tied cell (keep, ForestTools)",
    )
    add_output_argument(d)
    add_overwrite_option(d)
    d.set_defaults(func=_run_detect)

"""Subcommands ``forest-cover`` and ``forest-loss``."""

from __future__ import annotations

import argparse

import geopandas as gpd
import pandas as pd

from ..cover import DEFAULT_FOREST_THRESHOLD_PCT, forest_cover, forest_loss
from ..crs import require_crs
from ..io import read_raw
from ..products import Product, from_file
from ._common import add_output_argument, emit, with_input_columns
from ._options import (
    add_input_options,
    add_overwrite_option,
    check_outputs,
    read_input,
    unused_columns,
)

__all__ = ["register"]

_ID_COLUMNS = ("parcel_id", "plot_id", "area_id")


def _read_polygons(args: argparse.Namespace, rasters: list[str | None]) -> gpd.GeoDataFrame:
    check_outputs([args.polygons, *rasters], [args.output], overwrite=args.overwrite)
    layer = read_input(read_raw, args.polygons, args, main=True)
    unused_columns(args)
    require_crs(layer, "POLYGONS")
    return layer


def _with_ids(table: pd.DataFrame, layer: gpd.GeoDataFrame, id_column: str | None) -> pd.DataFrame:
    first = id_column or next((c for c in _ID_COLUMNS if c in layer.columns), None)
    return with_input_columns(table, layer, first=first)


def _product(value: str | None) -> Product | str | None:
    """Return the product named on the command line: a built-in name, or a .toml/.json file."""
    if value is not None and value.lower().endswith((".toml", ".json")):
        return from_file(value)
    return value


def _band(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


def add_product_argument(parser: argparse.ArgumentParser, flag: str, what: str) -> None:
    """Add a ``--product``-style option (a built-in name or a TOML/JSON file)."""
    parser.add_argument(
        flag,
        metavar="NAME|FILE",
        help=f"what {what} holds: a built-in product (see docs/products.md, e.g. "
        "hansen_treecover2000, jrc_gfc2020_v3) or a .toml/.json file describing one",
    )


def _run_cover(args: argparse.Namespace) -> int:
    layer = _read_polygons(args, [args.raster])
    result = forest_cover(
        layer,
        args.raster,
        threshold=args.threshold,
        forest_values=args.forest_values,
        product=_product(args.product),
        band=_band(args.band),
        progress=args.progress,
    )
    emit(_with_ids(result, layer, args.id_column), args.output)
    return 0


def _run_loss(args: argparse.Namespace) -> int:
    layer = _read_polygons(args, [args.lossyear, args.cover])
    cutoff: str | int = int(args.cutoff) if args.cutoff.isdigit() else args.cutoff
    result = forest_loss(
        layer,
        args.lossyear,
        cover=args.cover,
        threshold=args.threshold,
        cutoff=cutoff,
        product=_product(args.product),
        cover_product=_product(args.cover_product),
        base_year=args.base_year,
        band=_band(args.band),
        progress=args.progress,
    )
    emit(_with_ids(result, layer, args.id_column), args.output)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``forest-cover`` and ``forest-loss`` subcommands."""
    p = subparsers.add_parser(
        "forest-cover",
        help="forest area, share and mean canopy cover per polygon from a raster",
        description="Forest hectares per polygon; partial pixels count by their covered fraction.",
    )
    p.add_argument("polygons", metavar="POLYGONS", help="polygon layer with a CRS")
    p.add_argument("raster", metavar="RASTER", help="tree-cover percent or land-cover raster")
    grp = p.add_mutually_exclusive_group()
    grp.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="N",
        help="canopy cover percent from which a pixel is forest (default "
        f"{DEFAULT_FOREST_THRESHOLD_PCT:g}, or the product's: 5 m for canopy height)",
    )
    grp.add_argument(
        "--forest-values",
        type=int,
        nargs="+",
        metavar="V",
        help="class codes that are forest (categorical rasters)",
    )
    add_product_argument(p, "--product", "RASTER")
    p.add_argument(
        "--band", default=None, help="band number or description (default: the only band)"
    )
    p.add_argument("--progress", action="store_true", default=None, help="show a progress bar")
    add_input_options(p)
    add_output_argument(p)
    add_overwrite_option(p)
    p.set_defaults(func=_run_cover)

    q = subparsers.add_parser(
        "forest-loss",
        help="forest loss per polygon and year from a loss-year raster (Hansen encoding)",
        description="Loss hectares per polygon, per year and after the cutoff date.",
    )
    q.add_argument("polygons", metavar="POLYGONS", help="polygon layer with a CRS")
    q.add_argument("lossyear", metavar="LOSSYEAR", help="loss-year raster (0 none, k = year)")
    q.add_argument("--cover", metavar="RASTER", help="tree-cover percent raster, same grid")
    q.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="N",
        help="canopy cover percent of a forest pixel, with --cover "
        f"(default {DEFAULT_FOREST_THRESHOLD_PCT:g})",
    )
    q.add_argument(
        "--cutoff",
        default="2020-12-31",
        metavar="DATE",
        help="cutoff date (YYYY-MM-DD) or year (default %(default)s)",
    )
    q.add_argument(
        "--base-year", type=int, default=None, help="year of code 0 (default 2000 or the product's)"
    )
    add_product_argument(q, "--product", "LOSSYEAR")
    add_product_argument(q, "--cover-product", "the --cover raster")
    q.add_argument(
        "--band", default=None, help="band number or description (default: the only band)"
    )
    q.add_argument("--progress", action="store_true", default=None, help="show a progress bar")
    add_input_options(q)
    add_output_argument(q)
    add_overwrite_option(q)
    q.set_defaults(func=_run_loss)

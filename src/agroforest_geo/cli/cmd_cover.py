"""Subcommands ``forest-cover`` and ``forest-loss``."""

from __future__ import annotations

import argparse

import geopandas as gpd
import pandas as pd

from ..cover import DEFAULT_FOREST_THRESHOLD_PCT, forest_cover, forest_loss
from ..crs import require_crs
from ..io import read_raw
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


def _run_cover(args: argparse.Namespace) -> int:
    layer = _read_polygons(args, [args.raster])
    result = forest_cover(
        layer,
        args.raster,
        threshold=args.threshold,
        forest_values=args.forest_values,
        band=args.band,
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
        base_year=args.base_year,
        band=args.band,
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
        default=DEFAULT_FOREST_THRESHOLD_PCT,
        metavar="N",
        help="canopy cover percent from which a pixel is forest (default %(default)g)",
    )
    grp.add_argument(
        "--forest-values",
        type=int,
        nargs="+",
        metavar="V",
        help="class codes that are forest (categorical rasters)",
    )
    p.add_argument("--band", type=int, default=1, help="raster band (default 1)")
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
        default=DEFAULT_FOREST_THRESHOLD_PCT,
        metavar="N",
        help="canopy cover percent of a forest pixel, with --cover (default %(default)g)",
    )
    q.add_argument(
        "--cutoff",
        default="2020-12-31",
        metavar="DATE",
        help="cutoff date (YYYY-MM-DD) or year (default %(default)s)",
    )
    q.add_argument("--base-year", type=int, default=2000, help="year of code 0 (default 2000)")
    q.add_argument("--band", type=int, default=1, help="raster band (default 1)")
    q.add_argument("--progress", action="store_true", default=None, help="show a progress bar")
    add_input_options(q)
    add_output_argument(q)
    add_overwrite_option(q)
    q.set_defaults(func=_run_loss)

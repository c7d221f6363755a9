"""Subcommands ``overlaps``, ``protected`` and ``containment``."""

from __future__ import annotations

import argparse

import geopandas as gpd

from ..errors import MissingColumnError
from ..io import read_layer, read_parcels, read_plots, read_protected_areas
from ..overlap import containment, overlaps
from ..protected import protected_overlap
from ._common import add_output_argument, emit, with_input_columns
from ._options import (
    add_input_options,
    add_overwrite_option,
    check_outputs,
    read_input,
    unused_columns,
)

__all__ = ["register"]


def _read_any(path: str, args: argparse.Namespace) -> gpd.GeoDataFrame:
    """Read a layer of any kind: the first schema whose columns it has."""
    error: MissingColumnError | None = None
    for kind in ("protected_areas", "plots", "parcels"):
        try:
            return read_input(read_layer, path, args, kind=kind)
        except MissingColumnError as exc:
            error = exc
    assert error is not None
    raise error


def read_protected_files(paths: list[str], args: argparse.Namespace) -> gpd.GeoDataFrame:
    """Read one or several protected-areas files alike (several: with ``source_file``)."""
    return read_input(read_protected_areas, paths[0] if len(paths) == 1 else paths, args)


def _run_overlaps(args: argparse.Namespace) -> int:
    check_outputs([args.parcels, args.other], [args.output], overwrite=args.overwrite)
    layer = read_input(read_parcels, args.parcels, args, main=True)
    other = _read_any(args.other, args) if args.other else None
    unused_columns(args)
    result = overlaps(layer, other, min_overlap_m2=args.min_overlap_m2, invalid=args.invalid)
    emit(result, args.output)
    return 0


def _run_protected(args: argparse.Namespace) -> int:
    check_outputs([args.parcels, *args.protected], [args.output], overwrite=args.overwrite)
    parcels = read_input(read_parcels, args.parcels, args, main=True)
    protected = read_protected_files(args.protected, args)
    unused_columns(args)
    result = protected_overlap(
        parcels,
        protected,
        buffer_m=args.buffer_m,
        max_distance_m=args.max_distance_m,
        invalid=args.invalid,
    )
    emit(with_input_columns(result, parcels, first="parcel_id"), args.output)
    return 0


def _run_containment(args: argparse.Namespace) -> int:
    check_outputs([args.plots, args.parcels], [args.output], overwrite=args.overwrite)
    plots = read_input(read_plots, args.plots, args, main=True)
    parcels = read_input(read_parcels, args.parcels, args)
    unused_columns(args)
    result = containment(plots, parcels, invalid=args.invalid)
    emit(with_input_columns(result, plots, first="plot_id"), args.output)
    return 0


def _add_invalid(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--invalid",
        choices=["raise", "repair"],
        default="raise",
        help="invalid geometries: stop with their ids (default) or repair them first",
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``overlaps``, ``protected`` and ``containment`` subcommands.

    Examples
    --------
    >>> from agroforest_geo.cli import build_parser
    >>> args = build_parser().parse_args(["protected", "p.gpkg", "pa.gpkg", "--buffer-m", "500"])
    >>> args.buffer_m, args.protected
    (500.0, ['pa.gpkg'])
    """
    p = subparsers.add_parser(
        "overlaps",
        help="pairs of parcels that overlap (or parcels x another layer)",
        description="Overlapping pairs with ellipsoidal hectares, shares and relation "
        "(partial, contains, within, duplicate). Touching is not overlapping.",
    )
    p.add_argument("parcels", metavar="PARCELS", help="parcels layer")
    p.add_argument("--other", metavar="LAYER", help="a second layer (same CRS)")
    p.add_argument(
        "--min-overlap-m2",
        type=float,
        default=0.0,
        metavar="N",
        help="drop pairs overlapping by less than N m² (default 0: keep every pair)",
    )
    _add_invalid(p)
    add_input_options(p)
    add_output_argument(p)
    add_overwrite_option(p)
    p.set_defaults(func=_run_overlaps)

    p = subparsers.add_parser(
        "protected",
        help="hectares of each parcel in protected areas, and distance to them",
        description="One row per parcel: protected_ha (union of the areas, no double "
        "counting), protected_share, the areas touched, distance_to_protected_m.",
    )
    p.add_argument("parcels", metavar="PARCELS", help="parcels layer")
    p.add_argument(
        "protected",
        metavar="PROTECTED",
        nargs="+",
        help="protected / REDD+ areas layer(s); several files are read as one layer with a "
        "source_file column",
    )
    p.add_argument(
        "--buffer-m",
        type=float,
        default=0.0,
        metavar="N",
        help="flag parcels within N metres of a protected area (in_buffer_band)",
    )
    p.add_argument(
        "--max-distance-m",
        type=float,
        default=None,
        metavar="N",
        help="search the nearest protected area only N metres far (at least --buffer-m); "
        "parcels farther get distance_to_protected_m = inf (default: no limit)",
    )
    _add_invalid(p)
    add_input_options(p)
    add_output_argument(p)
    add_overwrite_option(p)
    p.set_defaults(func=_run_protected)

    p = subparsers.add_parser(
        "containment",
        help="whether each plot lies inside its parent parcel",
        description="One row per plot: parent parcel, inside_share, outside_ha and a "
        "flag when the declared parent is not the parcel holding most of the plot.",
    )
    p.add_argument("plots", metavar="PLOTS", help="plots layer (polygons or points)")
    p.add_argument("parcels", metavar="PARCELS", help="parcels layer")
    _add_invalid(p)
    add_input_options(p)
    add_output_argument(p)
    add_overwrite_option(p)
    p.set_defaults(func=_run_containment)

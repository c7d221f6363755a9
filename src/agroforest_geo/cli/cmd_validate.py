"""``agroforest-geo validate`` and ``agroforest-geo area``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .._names import declared_area_examples
from ..area import area_ha, perimeter_m
from ..declared import declared_vs_measured
from ..io import LAYER_SCHEMAS, read_raw, write_table
from ..repair import repair
from ..validate import validate
from ._common import add_output_argument, emit, with_input_columns
from ._options import (
    add_input_options,
    add_overwrite_option,
    check_outputs,
    read_input,
    unused_columns,
)

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``validate`` and ``area`` subcommands."""
    p = subparsers.add_parser(
        "validate",
        help="check a layer's geometries, coordinates and ids (exit 1 when errors are found)",
        description="Check every feature against the validation rules and print the findings. "
        "Exit status 0 when no error is found, 1 otherwise (after repair with --repair).",
    )
    _add_input_arguments(p)
    p.add_argument(
        "--repair",
        action="store_true",
        help="repair what can be fixed safely; the findings list the changes and what is left",
    )
    p.add_argument(
        "--output-repaired",
        metavar="FILE",
        help="with --repair: write the repaired layer to FILE (.gpkg, .geojson, .parquet, ...)",
    )
    add_output_argument(p)
    p.set_defaults(func=_run_validate)

    a = subparsers.add_parser(
        "area",
        help="ellipsoidal area and perimeter of every feature, with declared-area comparison",
        description="Print id, area_ha and perimeter_m; when the layer has declared_area_ha, "
        "also declared_minus_measured_ha and declared_ratio (declared / measured). With "
        "--kind parcels or plots the declared area is also found under its common names, in "
        f"any case, with accents or spaces: {declared_area_examples()}. Points are measured "
        "as circles of their declared area (4 ha without one).",
    )
    _add_input_arguments(a)
    add_output_argument(a)
    a.set_defaults(func=_run_area)


def _add_input_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "path", metavar="PATH", help="layer to read (GeoPackage, GeoJSON, KML, CSV, Excel, ...)"
    )
    p.add_argument(
        "--kind",
        choices=sorted(LAYER_SCHEMAS),
        help="layer kind: sets the id column and maps the kind's common column names",
    )
    add_input_options(p)
    add_overwrite_option(p)


def _read(args: argparse.Namespace) -> tuple[gpd.GeoDataFrame, str | None]:
    """Return the layer as stored (a missing CRS or column is reported, not refused) and its id."""
    gdf = read_input(read_raw, args.path, args, main=True, kind=args.kind)
    unused_columns(args)
    # with --kind the id column has the kind's name by now
    return gdf, (None if args.kind else args.id_column)


def _run_validate(args: argparse.Namespace) -> int:
    if args.output_repaired and not args.repair:
        print(
            "agroforest-geo validate: --output-repaired needs --repair; nothing written",
            file=sys.stderr,
        )
        return 2
    check_outputs([args.path], [args.output, args.output_repaired], overwrite=args.overwrite)
    gdf, id_column = _read(args)
    if args.repair:
        fixed, report = repair(gdf, kind=args.kind, id_column=id_column)
    else:
        report = validate(gdf, kind=args.kind, id_column=id_column)
    table = report.to_frame()
    # each finding with the geometry of its feature (layer-wide findings have none), so a
    # GeoPackage or GeoJSON of the findings opens in a GIS on top of the layer
    pos = table.pop("position")
    geoms = [None if pd.isna(p) else gdf.geometry.iloc[int(p)] for p in pos.tolist()]
    findings = gpd.GeoDataFrame(table, geometry=geoms, crs=gdf.crs)
    if args.repair and args.output_repaired:
        # the repaired layer first: the findings list what it holds
        path = write_table(fixed, Path(args.output_repaired))
        print(f"wrote the repaired layer ({len(fixed)} rows) to {path}", file=sys.stderr)
    if findings.empty and not args.output:
        print(f"{len(gdf)} features, no findings")
    else:
        emit(findings, args.output)
    print(
        f"{len(gdf)} features: {report.n_errors} errors, {report.n_warnings} warnings",
        file=sys.stderr,
    )
    return 0 if report.ok else 1


def _run_area(args: argparse.Namespace) -> int:
    check_outputs([args.path], [args.output], overwrite=args.overwrite)
    gdf, id_col = _read(args)
    if id_col is None:
        # plots also carry their parent's parcel_id: look for their own id first
        kinds = [args.kind] if args.kind is not None else ["plots", "protected_areas", "parcels"]
        known = [LAYER_SCHEMAS[k].id_column for k in kinds]
        id_col = next((c for c in known if c in gdf.columns), None)
    measures = pd.DataFrame(index=gdf.index)
    measures["area_ha"] = area_ha(gdf)
    measures["perimeter_m"] = perimeter_m(gdf)
    if "declared_area_ha" in gdf.columns:
        d = declared_vs_measured(gdf)
        measures["declared_minus_measured_ha"] = d["area_difference_ha"]
        measures["declared_ratio"] = d["declared_ratio"]
        measures["declared_off"] = d["declared_off"]
    emit(with_input_columns(measures, gdf, first=id_col), args.output)
    return 0

"""Helpers shared by the subcommands: output of result tables."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..io import write_table

__all__ = ["add_output_argument", "emit", "with_input_columns"]

log = logging.getLogger(__name__)


def add_output_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--output FILE`` (format from the extension) to a subcommand parser."""
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the table to FILE (.csv, .gpkg, .parquet, .geojson); default: print it",
    )


def emit(table: pd.DataFrame, output: str | None, *, keep_geometry: bool = True) -> None:
    """Write ``table`` to ``output`` or print it (without geometry) to standard output.

    Geometries go to the spatial formats (.gpkg, .geojson, .parquet, .fgb); a CSV gets
    the attributes only.
    """
    if output:
        out = table
        is_csv = Path(output).suffix.lower() == ".csv"
        if (is_csv or not keep_geometry) and isinstance(table, gpd.GeoDataFrame):
            out = pd.DataFrame(table.drop(columns=table.geometry.name))
        path = write_table(out, Path(output))
        print(f"wrote {len(table)} rows to {path}", file=sys.stderr)
        return
    shown = table
    if isinstance(table, gpd.GeoDataFrame):
        shown = pd.DataFrame(table.drop(columns=table.geometry.name))
    with pd.option_context("display.max_rows", 200, "display.width", 200):
        print(shown.to_string())


def with_input_columns(
    result: pd.DataFrame, layer: gpd.GeoDataFrame, *, first: str | None = None
) -> gpd.GeoDataFrame:
    """Return the input layer's columns (``first`` leading) followed by the result's.

    ``result`` is on the layer's index. An input column with the name of a result
    column is kept as ``<name>_input``. The geometry comes last, as in a GIS.
    """
    attrs = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    if first is not None and first in attrs.columns:
        attrs = attrs[[first, *[c for c in attrs.columns if c != first]]]
    clash = [c for c in attrs.columns if c in result.columns]
    if clash:
        log.warning("input column(s) %s kept as %s", clash, [f"{c}_input" for c in clash])
        attrs = attrs.rename(columns={c: f"{c}_input" for c in clash})
    table = pd.concat([attrs, result.set_axis(layer.index)], axis=1)
    table.attrs = {}
    return gpd.GeoDataFrame(table, geometry=layer.geometry.values, crs=layer.crs)

"""Options shared by the subcommands: one name and one help text for each.

Every subcommand that reads a layer takes the same input options
(:func:`add_input_options`): ``--id-column`` and ``--layer`` for its main layer,
``--columns OLD=NEW`` (repeatable) for every input layer that has a column
``OLD``, ``--crs`` for every input without a CRS of its own (and coordinates in
tables). Every subcommand that writes takes ``--overwrite``; without it no
output may be one of the inputs (:func:`check_outputs`). ``-v`` is accepted
before or after the subcommand.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from .._atomic import same_file
from ..errors import AgroforestGeoError, MissingColumnError, OutputConflictError
from ..io import column_names

__all__ = [
    "add_input_options",
    "add_overwrite_option",
    "add_verbose_option",
    "check_outputs",
    "parse_columns",
    "read_input",
    "reader_options",
    "unused_columns",
]

ID_COLUMN_HELP = (
    "column holding the feature ids of the main layer (default: the layer's id column, "
    "e.g. parcel_id, or its common names: codigo, id_parcela, ...)"
)
COLUMNS_HELP = (
    "rename column OLD of the input layers to NEW (repeatable), e.g. --columns "
    "anp_nombre=name; in a CSV or Excel table, --columns Este=x --columns Norte=y or "
    "--columns poligono=geometry pick the geometry"
)
LAYER_HELP = "layer of a multi-layer file (GeoPackage), or sheet of a workbook, of the main layer"
CRS_HELP = (
    "CRS of inputs that have none, e.g. EPSG:32718 for UTM Este/Norte coordinates in a CSV "
    "(default: EPSG:4326 for longitude/latitude); never reprojects"
)
OVERWRITE_HELP = "allow an output file to replace one of the inputs"
VERBOSE_HELP = "log progress (and the columns recognised) to stderr"


def add_input_options(parser: argparse.ArgumentParser, *, id_column: bool = True) -> None:
    """Add ``--id-column``, ``--columns``, ``--layer`` and ``--crs`` to a subcommand.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_input_options(p)
    >>> args = p.parse_args(["--columns", "anp_nombre=name", "--columns", "anp_cate=category"])
    >>> args.columns
    {'anp_nombre': 'name', 'anp_cate': 'category'}
    """
    group = parser.add_argument_group("input columns")
    if id_column:
        group.add_argument("--id-column", metavar="COLUMN", help=ID_COLUMN_HELP)
    group.add_argument(
        "--columns",
        action=_ColumnsAction,
        default={},
        metavar="OLD=NEW",
        help=COLUMNS_HELP,
    )
    group.add_argument("--layer", metavar="NAME", help=LAYER_HELP)
    group.add_argument("--crs", metavar="CRS", help=CRS_HELP)


def add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--overwrite`` to a subcommand that writes files."""
    parser.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)


def add_verbose_option(parser: argparse.ArgumentParser, *, after_command: bool = False) -> None:
    """Add ``-v/--verbose``; after the subcommand it must not reset a ``-v`` given before it."""
    default = argparse.SUPPRESS if after_command else False
    parser.add_argument("-v", "--verbose", action="store_true", default=default, help=VERBOSE_HELP)


def parse_columns(items: Iterable[str]) -> dict[str, str]:
    """Parse ``OLD=NEW`` items into a mapping; a malformed item raises ``ValueError``.

    Examples
    --------
    >>> parse_columns(["anp_nombre=name", "Código Parcela=parcel_id"])
    {'anp_nombre': 'name', 'Código Parcela': 'parcel_id'}
    """
    out: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise ValueError(f"--columns {item!r}: write OLD=NEW, e.g. --columns anp_nombre=name")
        if old in out and out[old] != new:
            raise ValueError(f"--columns: {old!r} is renamed twice ({out[old]!r} and {new!r})")
        out[old] = new
    return out


class _ColumnsAction(argparse.Action):
    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        current = dict(getattr(namespace, self.dest, None) or {})
        try:
            new = parse_columns([str(values)])
        except ValueError as exc:
            parser.error(str(exc))
        clash = [k for k in new if k in current and current[k] != new[k]]
        if clash:
            parser.error(f"--columns: {clash[0]!r} is renamed twice")
        current.update(new)
        setattr(namespace, self.dest, current)


def reader_options(
    path: str | list[str], args: argparse.Namespace, *, main: bool = False
) -> dict[str, Any]:
    """Return the reader keywords of one input (or one list of inputs) from the shared options.

    ``--id-column`` and ``--layer`` apply to the main layer only; ``--columns``
    entries whose ``OLD`` column the file(s) lack are left to the other inputs
    (:func:`unused_columns` then checks that each was used somewhere).
    """
    paths = [path] if isinstance(path, str) else list(path)
    wanted = dict(getattr(args, "columns", {}) or {})
    columns: dict[str, str] = {}
    for p in paths:
        columns.update(_present(p, wanted, main=main, args=args))
    options: dict[str, Any] = {"columns": columns or None, "crs": getattr(args, "crs", None)}
    if main:
        options["layer"] = getattr(args, "layer", None)
        options["id_column"] = getattr(args, "id_column", None)
    used = set(getattr(args, "_columns_used", set()))
    args._columns_used = used | set(columns)
    return options


def read_input(
    reader: Callable[..., gpd.GeoDataFrame],
    path: str | list[str],
    args: argparse.Namespace,
    *,
    main: bool = False,
    **extra: Any,
) -> gpd.GeoDataFrame:
    """Read one input layer (or a list of protected-area files) with the shared options."""
    return reader(path, **reader_options(path, args, main=main), **extra)


def _present(
    path: str, columns: Mapping[str, str], *, main: bool, args: argparse.Namespace
) -> dict[str, str]:
    if not columns or not Path(path).exists():
        return dict(columns)
    layer = getattr(args, "layer", None) if main else None
    try:
        have = set(column_names(path, layer=layer))
    except (AgroforestGeoError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        return dict(columns)  # the reader itself says what is wrong with the file
    return {k: v for k, v in columns.items() if k in have}


def unused_columns(args: argparse.Namespace) -> None:
    """Raise when a ``--columns OLD=NEW`` matched no input layer (a typo must not pass)."""
    used = set(getattr(args, "_columns_used", set()))
    unused = [k for k in (getattr(args, "columns", {}) or {}) if k not in used]
    if unused:
        raise MissingColumnError(
            f"--columns {unused[0]}={args.columns[unused[0]]}: no input layer has a column "
            f"{unused[0]!r}"
        )


def check_outputs(
    inputs: Iterable[str | Path | None],
    outputs: Iterable[str | Path | None],
    *,
    overwrite: bool,
) -> None:
    """Refuse outputs that are inputs (unless ``overwrite``) or that repeat each other.

    Examples
    --------
    >>> check_outputs(["parcels.gpkg"], ["out/parcels.csv"], overwrite=False)
    >>> check_outputs(["parcels.gpkg"], ["./parcels.gpkg"], overwrite=False)
    Traceback (most recent call last):
    ...
    agroforest_geo.errors.OutputConflictError: the output parcels.gpkg is the input ...: ...
    """
    ins = [Path(p) for p in inputs if p]
    outs = [Path(p) for p in outputs if p]
    for k, out in enumerate(outs):
        for other in outs[:k]:
            if same_file(out, other):
                raise OutputConflictError(f"two outputs are the same file: {out}; name them apart")
        if overwrite:
            continue
        for src in ins:
            if same_file(out, src):
                raise OutputConflictError(
                    f"the output {out} is the input {src}: writing it would replace your data. "
                    "Choose another output file, or pass --overwrite to replace the input"
                )

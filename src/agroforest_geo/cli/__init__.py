"""The ``agroforest-geo`` command line: thin wrappers around the Python API.

Each ``cmd_*.py`` module in this package defines ``register(subparsers)``,
which adds its subcommands and sets ``func`` (called with the parsed
arguments, returning the exit status) as the parser default.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
import warnings
from collections.abc import Sequence

from .._network import allow_network
from .._version import __version__
from ..errors import AgroforestGeoError
from ._options import add_verbose_option

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand.

    Examples
    --------
    >>> parser = build_parser()
    >>> parser.prog
    'agroforest-geo'
    """
    parser = argparse.ArgumentParser(
        prog="agroforest-geo",
        description="Parcel, agroforestry-plot and forest-cover analysis with exact hectares.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_verbose_option(parser)
    parser.add_argument(
        "--allow-network",
        action="store_true",
        help="let inputs be read from the network (URLs, /vsicurl/, GDAL's own requests); "
        "off by default: inputs are untrusted",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(sub)
    for subparser in sub.choices.values():  # -v after the subcommand too
        add_verbose_option(subparser, after_command=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 on an input error).

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    agroforest-geo 0.1.0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    # warnings are messages for the user here, not source locations for a developer
    previous_format = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        with allow_network(bool(getattr(args, "allow_network", False))):
            return int(args.func(args) or 0)
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (AgroforestGeoError, ValueError) as exc:
        # input errors (AgroforestGeoError) and bad option values (ValueError, e.g. a
        # threshold outside 0-100) are the user's to fix: a message, not a traceback,
        # worded with the command line's options where the library's differ
        message = getattr(exc, "cli_message", None) or exc
        print(f"agroforest-geo {args.command}: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        # a file that cannot be read or written (permissions, full disk, a folder given for
        # a file): one line naming it, not a traceback
        print(f"agroforest-geo {args.command}: error: {_os_error_message(exc)}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = previous_format


def _os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: what failed, on which file, and why."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    return f"{reason}: {where}" if where else reason


def _format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    # a warning of the library may carry its advice worded with the command line's options
    text = getattr(message, "cli_message", None) or message
    return f"agroforest-geo: {category.__name__}: {text}\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

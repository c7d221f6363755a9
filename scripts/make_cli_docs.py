"""Write docs/cli.md, the command-line reference, from the argparse parsers themselves.

Run after changing an option: ``python scripts/make_cli_docs.py``; the test suite checks
that the page is up to date (tests/test_docs.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agroforest_geo.cli import build_parser

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

HEADER = """# Command line

`agroforest-geo COMMAND ...` runs the library's verbs on files. This page is generated from
the parsers (`python scripts/make_cli_docs.py`); `agroforest-geo COMMAND --help` prints the
same.
"""


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    metavar = ""
    if action.nargs != 0:
        metavar = " " + str(action.metavar or action.dest.upper())
    return ", ".join(f"`{o}{metavar}`" for o in action.option_strings)


def _default(action: argparse.Action) -> str:
    if action.required or not action.option_strings or action.nargs == 0:
        return "required" if action.required else ""
    if action.default in (None, argparse.SUPPRESS, [], ""):
        return ""
    return f"`{action.default}`"


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if action.choices:
        text += f" (one of: {', '.join(map(str, action.choices))})"
    return _cell(text % {"default": action.default} if "%(" in text else text)


def _command(name: str, parser: argparse.ArgumentParser) -> list[str]:
    lines = [f"## `{name}`", "", _cell(parser.description or ""), ""]
    usage = " ".join(parser.format_usage().split())
    lines += ["```", usage.removeprefix("usage: "), "```", ""]
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if not isinstance(a, argparse._HelpAction)]
        if not actions:
            continue
        title = {"positional arguments": "arguments"}.get(str(group.title), group.title)
        lines += [f"### {title}", ""]
        lines += ["| option | default | what |", "| --- | --- | --- |"]
        lines += [f"| {_flags(a)} | {_default(a)} | {_help(a)} |" for a in actions]
        lines.append("")
    return lines


def render() -> str:
    """Return the Markdown of the command-line reference."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lines = [HEADER]
    for name, p in sub.choices.items():
        lines += _command(name, p)
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    PAGE.write_text(render(), encoding="utf-8")
    print(PAGE)
    return 0


if __name__ == "__main__":
    sys.exit(main())

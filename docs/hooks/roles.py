"""MkDocs hook: Sphinx-style roles in docstrings (``:func:`name```) become cross-reference links.

mkdocstrings renders a role as the role's name followed by inline code
(``:func:<code>name</code>``); this hook turns that into an autorefs reference,
which mkdocs-autorefs resolves to the object's anchor on the API page (and
leaves as plain code when the object is not documented). ``~`` (show the last
name only) and relative names (``report`` inside ``agroforest_geo.reporting``)
are understood: a name without a dot is looked up as written, then under
``agroforest_geo``.
"""

from __future__ import annotations

import html
import re
from typing import Any

ROLE = re.compile(
    r":(?:py:)?(func|class|meth|mod|data|attr|exc|obj):<code>(~?)([A-Za-z_][\w.]*)(\(\))?</code>"
)


def _identifier(name: str) -> str:
    return name if name.startswith("agroforest_geo") else f"agroforest_geo.{name}"


def convert(text: str) -> str:
    """Return the HTML with every role made an autorefs reference.

    Examples
    --------
    >>> convert("see :func:<code>agroforest_geo.area_ha</code>.")
    'see <autoref identifier="agroforest_geo.area_ha" optional><code>agroforest_geo.area_ha</code></autoref>.'
    >>> convert(":class:<code>~agroforest_geo.Assessment</code>")
    '<autoref identifier="agroforest_geo.Assessment" optional><code>Assessment</code></autoref>'
    """

    def link(m: re.Match[str]) -> str:
        _, tilde, name, call = m.groups()
        shown = name.rsplit(".", 1)[-1] if tilde else name
        ident = html.escape(_identifier(name), quote=True)
        return f'<autoref identifier="{ident}" optional><code>{shown}{call or ""}</code></autoref>'

    return ROLE.sub(link, text)


def on_page_content(html_text: str, **kwargs: Any) -> str:
    """Convert the roles of a rendered page (docstrings included) before autorefs runs."""
    return convert(html_text)

"""A minimal PDF writer: pages of text, lines, polygons and rectangles (no dependency).

Enough for the archive of an assessment: the standard Helvetica fonts (every
PDF reader has them, nothing is embedded) in WinAnsi encoding, which holds
the letters of Spanish, French and Portuguese; content streams compressed
with zlib; a cross-reference table, so that the file is valid PDF 1.4. Page
coordinates are points (1/72 inch) from the bottom-left corner; A4 is
595 x 842.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["Page", "PdfDocument"]

A4 = (595.0, 842.0)

#: Characters outside WinAnsi written as their nearest WinAnsi form.
_PLAIN = {"\u2212": "-", "\u2264": "<=", "\u2265": ">=", "\u202f": " ", "\u00a0": " "}


def _text(s: str) -> bytes:
    for k, v in _PLAIN.items():
        s = s.replace(k, v)
    raw = s.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _rgb(colour: str) -> str:
    c = colour.lstrip("#")
    r, g, b = (int(c[k : k + 2], 16) / 255 for k in (0, 2, 4))
    return f"{r:.3f} {g:.3f} {b:.3f}"


def text_width(s: str, size: float) -> float:
    """Approximate width of Helvetica text in points (0.52 em a character)."""
    return 0.52 * size * len(s)


def wrap(s: str, size: float, width: float) -> list[str]:
    """Cut text into lines no wider than ``width`` points (at spaces)."""
    per_line = max(int(width / (0.52 * size)), 8)
    lines: list[str] = []
    line = ""
    for word in s.split():
        if line and len(line) + 1 + len(word) > per_line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines or [""]


class Page:
    """One page's drawing operations."""

    def __init__(self) -> None:
        self.ops: list[bytes] = []

    def text(
        self,
        x: float,
        y: float,
        s: str,
        *,
        size: float = 9,
        bold: bool = False,
        colour: str = "#222222",
        align: str = "left",
    ) -> None:
        """Write one line of text; ``align`` "right" ends it at ``x``."""
        if align == "right":
            x -= text_width(s, size)
        font = "F2" if bold else "F1"
        self.ops.append(
            f"BT {_rgb(colour)} rg /{font} {size:g} Tf {x:.2f} {y:.2f} Td (".encode()
            + _text(s)
            + b") Tj ET"
        )

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str | None = None,
        stroke: str | None = None,
    ) -> None:
        """Draw a rectangle."""
        self._paint(f"{x:.2f} {y:.2f} {w:.2f} {h:.2f} re", fill, stroke, 0.8)

    def polygon(
        self,
        rings: Sequence[Sequence[tuple[float, float]]],
        *,
        fill: str | None = None,
        stroke: str | None = None,
        width: float = 0.8,
    ) -> None:
        """Draw a polygon (its rings: holes by the even-odd rule)."""
        parts = []
        for ring in rings:
            if len(ring) < 2:
                continue
            (x0, y0), rest = ring[0], ring[1:]
            parts.append(
                f"{x0:.2f} {y0:.2f} m " + " ".join(f"{x:.2f} {y:.2f} l" for x, y in rest) + " h"
            )
        if parts:
            self._paint(" ".join(parts), fill, stroke, width)

    def _paint(self, path: str, fill: str | None, stroke: str | None, width: float) -> None:
        ops = [path]
        if fill:
            ops.insert(0, f"{_rgb(fill)} rg")
        if stroke:
            ops.insert(0, f"{_rgb(stroke)} RG {width:g} w")
        op = "B*" if fill and stroke else ("f*" if fill else ("S" if stroke else "n"))
        self.ops.append((" ".join(ops) + f" {op}").encode())

    def content(self) -> bytes:
        """Return the page's content stream."""
        return b"\n".join(self.ops)


class PdfDocument:
    """Pages written to a file as they are added (memory holds one page at a time)."""

    def __init__(self, path: str | os.PathLike[str], *, title: str = "") -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp")
        self.f = open(self.tmp, "wb")
        self.offsets: dict[int, int] = {}
        self.pages: list[int] = []
        self.title = title
        self.f.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        # objects 1-4: catalog, page tree, fonts (written at the end for the tree)
        self.next_id = 5

    def _obj(self, num: int, body: bytes) -> None:
        self.offsets[num] = self.f.tell()
        self.f.write(f"{num} 0 obj\n".encode() + body + b"\nendobj\n")

    def add(self, page: Page, size: tuple[float, float] = A4) -> None:
        """Write one page."""
        data = zlib.compress(page.content(), 6)
        stream, page_id = self.next_id, self.next_id + 1
        self.next_id += 2
        self._obj(
            stream,
            f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode()
            + data
            + b"\nendstream",
        )
        self._obj(
            page_id,
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {size[0]:g} {size[1]:g}] "
                f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {stream} 0 R >>"
            ).encode(),
        )
        self.pages.append(page_id)

    def close(self) -> Path:
        """Write the page tree, fonts, information and cross-reference table; return the path."""
        self._obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        kids = " ".join(f"{p} 0 R" for p in self.pages)
        self._obj(2, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.pages)} >>".encode())
        for num, name in ((3, "Helvetica"), (4, "Helvetica-Bold")):
            self._obj(
                num,
                f"<< /Type /Font /Subtype /Type1 /BaseFont /{name} "
                "/Encoding /WinAnsiEncoding >>".encode(),
            )
        info = self.next_id
        self._obj(info, b"<< /Title (" + _text(self.title) + b") /Producer (agroforest_geo) >>")
        xref = self.f.tell()
        n = info + 1
        self.f.write(f"xref\n0 {n}\n0000000000 65535 f \n".encode())
        for k in range(1, n):
            self.f.write(f"{self.offsets.get(k, 0):010d} 00000 n \n".encode())
        trailer = f"trailer\n<< /Size {n} /Root 1 0 R /Info {info} 0 R >>\n"
        self.f.write(f"{trailer}startxref\n{xref}\n%%EOF\n".encode())
        self.f.close()
        os.replace(self.tmp, self.path)
        return self.path

"""Pairs of geometries proven apart by a separating line, before any overlay.

Method
------
Two point sets whose projections on some line are disjoint intervals are
disjoint; a polygon lies in the convex hull of its vertices, so projecting the
vertices is enough. The lines tried are the normals of each feature's own edges
(consecutive vertices of :func:`shapely.get_coordinates`; the jumps between rings
are lines too, as any line is a valid test). For two convex features one of them
always separates disjoint features (the separating axis theorem); for the
non-convex ones the test may find no line, and the pair is left undecided.

The test is one-sided: a pair is called *apart* only when the gap between the two
intervals exceeds ``1e-12 * M * (|nx| + |ny|)`` (``M`` the largest absolute
coordinate of the two features, ``(nx, ny)`` the normal), more than a thousand
times the rounding error of the projections, so an apart pair can have no point
in common; every other pair (touching, overlapping, closer than that margin, or
with a NaN coordinate) is undecided and goes to GEOS. The kernel is compiled with
numba (the ``fast`` extra) and releases the GIL; without numba (or with the
compiled kernels turned off, see :func:`available`) there is no test and every
pair goes to GEOS ``intersects``, which gives the same results more slowly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import shapely

from . import _jit
from ._ringarea import backend

__all__ = ["Vertices", "apart", "vertices"]

#: Relative margin of the test (the projections' rounding error is ~1e-15 relative).
MARGIN = 1e-12
_HUGE = 1e300


class Vertices(NamedTuple):
    """Vertices of some features, feature ``k``'s at ``x[start[k]:start[k + 1]]``."""

    x: np.ndarray
    y: np.ndarray
    start: np.ndarray  # int64, one more than the features; empty features have none


def vertices(geoms: np.ndarray) -> Vertices:
    """Return the 2-D vertices of ``geoms`` (None and empty geometries have none)."""
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    start = np.searchsorted(idx, np.arange(geoms.size + 1)).astype(np.int64)
    return Vertices(np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]), start)


def available() -> bool:
    """Whether the compiled test runs: where the area kernel is compiled (numba importable).

    ``AGROFOREST_GEO_AREA_KERNEL=numpy`` turns both off.
    """
    return backend("auto") == "numba"


def apart(left: Vertices, right: Vertices, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Whether feature ``li[k]`` of ``left`` and ``ri[k]`` of ``right`` are surely disjoint.

    False means *undecided*, never *intersecting*. Needs numba (see :func:`available`).
    """
    out = np.zeros(li.size, dtype=np.bool_)
    if li.size:
        _kernel()(left.x, left.y, left.start, right.x, right.y, right.start, li, ri, out)
    return out


def _apart_loop(  # pragma: no cover - compiled by numba; checked against GEOS in tests
    ax: np.ndarray,
    ay: np.ndarray,
    astart: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
    bstart: np.ndarray,
    li: np.ndarray,
    ri: np.ndarray,
    out: np.ndarray,
) -> None:
    for k in range(li.size):
        a0, a1 = astart[li[k]], astart[li[k] + 1]
        b0, b1 = bstart[ri[k]], bstart[ri[k] + 1]
        if a1 - a0 < 1 or b1 - b0 < 1:
            continue
        m = 0.0
        finite = True
        for v in range(a0, a1):
            m = max(m, abs(ax[v]), abs(ay[v]))
            finite = finite and abs(ax[v]) <= _HUGE and abs(ay[v]) <= _HUGE  # False for NaN
        for v in range(b0, b1):
            m = max(m, abs(bx[v]), abs(by[v]))
            finite = finite and abs(bx[v]) <= _HUGE and abs(by[v]) <= _HUGE
        if not finite:
            continue  # a NaN or infinite vertex: undecided
        scale = MARGIN * m
        found = False
        for side in range(2):  # the edges of a, then those of b
            ex, ey, e0, e1 = (ax, ay, a0, a1) if side == 0 else (bx, by, b0, b1)
            ox, oy, o0, o1 = (bx, by, b0, b1) if side == 0 else (ax, ay, a0, a1)
            for e in range(e0, e1 - 1):
                nx = ey[e] - ey[e + 1]
                ny = ex[e + 1] - ex[e]
                lo1 = np.inf
                hi1 = -np.inf
                for v in range(e0, e1):
                    p = nx * ex[v] + ny * ey[v]
                    lo1 = min(lo1, p)
                    hi1 = max(hi1, p)
                lo2 = np.inf
                hi2 = -np.inf
                for v in range(o0, o1):
                    p = nx * ox[v] + ny * oy[v]
                    lo2 = min(lo2, p)
                    hi2 = max(hi2, p)
                tol = scale * (abs(nx) + abs(ny))
                if lo2 > hi1 + tol or lo1 > hi2 + tol:
                    found = True
                    break
            if found:
                break
        out[k] = found


def _kernel() -> Callable[..., None]:
    """Return the compiled test (compiled on first use, cached on disk)."""
    return _jit.kernel(globals(), "_apart_loop")

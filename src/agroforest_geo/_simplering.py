"""A conservative proof that a polygon ring is valid, faster than asking GEOS.

:func:`proved_simple` tells, for every ring, whether it is *certainly* a valid
polygon shell as GEOS judges it (``shapely.is_valid`` of a polygon made of that
ring alone). It is a pre-filter: a ring it does not prove may be valid or not,
and the caller asks GEOS about it. It never answers "valid" for a ring that GEOS
finds invalid.

Method
------
GEOS's validity of a one-ring polygon (``IsValidOp``) asks for finite
coordinates, a closed ring of at least 4 coordinates with at least 3 distinct
points, and no invalid intersection between two of its segments: two segments
that are not neighbours in the ring must not meet at all (OGC rings do not touch
themselves), and neighbours must meet only at their shared vertex. GEOS finds
candidate pairs by their envelopes and decides each one with exact orientation
signs (``RobustLineIntersector``: the pair is disjoint when the envelopes are,
or when both ends of one segment lie strictly on the same side of the other).

First, the star test (:func:`_star_tile`, one pass over the vertices): a ring
whose every triangle with its centroid turns the same way, and that crosses the
half-line from the centroid along +x exactly once, goes once round the centroid
with each segment in its own angular sector, so only neighbours meet, at
their shared vertex. Most parcels pass it. The other rings get the pair tests,
which ask exactly GEOS's questions. Both accept an answer only when it is
certain in floating point:

* every turn ``(v[k-1], v[k], v[k+1])`` of the ring has a non-zero orientation,
  so neighbouring segments meet only at their shared vertex (no spike, no
  repeated or collinear point);
* every pair of non-neighbouring segments has disjoint envelopes (exact
  comparisons, as GEOS makes them) or is separated by orientation signs;
* an orientation sign counts only when the computed determinant exceeds the
  static error bound of Shewchuk (1997, "Adaptive precision floating-point
  arithmetic and fast robust geometric predicates", ``ccwerrboundA`` =
  (3 + 16ε)ε of ``|l| + |r|``): then its sign is the exact sign, the one GEOS
  computes. A determinant within the bound, an overflow or NaN, or terms so
  small that rounding is no longer relative (below 1e-290) leave the ring
  unproved.

Pairs are found by brute force in rings of up to :data:`BRUTE_FORCE_SEGMENTS`
segments and by a sweep along x (segments sorted by their left end) in longer
ones; a ring whose sweep needs more than :data:`MAX_PAIRS_PER_SEGMENT` pair
tests per segment (a long ring whose segments all overlap in x) is left to GEOS.

A polygon with holes, a multipolygon, a geometry collection or any other type is
never proved here: the callers send them to GEOS.

The compiled loop (numba, the ``fast`` extra) is the implementation; without
numba nothing is proved and every geometry goes to GEOS, which gives the same
answers more slowly. (The same tests written in numpy, vectorized over the rings of
each length, took 95 ms on the benchmark's 100,000 parcels, GEOS 104 ms and the
compiled loop 9.8 ms: not worth a second implementation.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _jit

__all__ = ["BRUTE_FORCE_SEGMENTS", "MAX_PAIRS_PER_SEGMENT", "available", "proved_simple"]

#: Shewchuk's ``ccwerrboundA``: (3 + 16ε)ε with ε = 2**-53, the relative error bound of the
#: two-product orientation determinant computed in double precision.
_ERRBOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53
#: Below this, a product may be subnormal and its error no longer relative: not proved.
_TINY = 1e-290
#: Rings with up to this many segments test every pair; longer ones sweep along x.
BRUTE_FORCE_SEGMENTS = 24
#: A sweep that needs more pair tests than this per segment gives up (GEOS decides).
MAX_PAIRS_PER_SEGMENT = 64
#: Vertices per tile of the star test (its scratch arrays stay in the L1/L2 cache).
_TILE = 1024


def available() -> bool:
    """Whether the compiled proof can run (numba is installed)."""
    return _jit.available()


def proved_simple(xy: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Tell which rings are certainly valid polygon shells (see the module's Method).

    Parameters
    ----------
    xy : numpy.ndarray of float, shape (n, 2)
        Vertices of the rings, one ring after another (as ``shapely.get_coordinates``
        gives them), in the coordinates GEOS would test.
    start : numpy.ndarray of int
        Index of every ring's first vertex, followed by ``n``.

    Returns
    -------
    numpy.ndarray of bool
        One per ring; True only where ``shapely.is_valid(shapely.Polygon(ring))``
        is certainly True. All False when numba is not installed.

    Examples
    --------
    >>> import shapely
    >>> rings = [shapely.box(0, 0, 1, 1), shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])]
    >>> xy, idx = shapely.get_coordinates(rings, return_index=True)
    >>> start = np.searchsorted(idx, np.arange(3))
    >>> proved_simple(xy, start).tolist() == [available(), False]  # a square, a bow-tie
    True
    """
    start = np.ascontiguousarray(start, dtype=np.int64)
    out = np.zeros(max(start.size - 1, 0), dtype=np.bool_)
    if out.size == 0 or not available():
        return out
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] < 2:
        raise ValueError(f"xy must have shape (n, 2), got {xy.shape}")
    # x and y as contiguous columns (no copy when xy is their transpose, as read from GEOS)
    _compiled()(np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]), start, out)
    return out


def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """Return the turn a -> b -> c when its sign is certain: 1 left, -1 right, else 0."""
    left = (bx - ax) * (cy - ay)
    right = (by - ay) * (cx - ax)
    det = left - right
    size = abs(left) + abs(right)
    if not (size > _TINY):  # both products tiny, or NaN
        return 0
    bound = _ERRBOUND * size  # infinite on overflow: then nothing exceeds it
    if det > bound:
        return 1
    if -det > bound:
        return -1
    return 0


def _separated(x: np.ndarray, y: np.ndarray, a: int, i: int, j: int) -> bool:
    """Segments i and j of the ring starting at vertex a certainly do not meet."""
    p1x, p1y = x[a + i], y[a + i]
    p2x, p2y = x[a + i + 1], y[a + i + 1]
    q1x, q1y = x[a + j], y[a + j]
    q2x, q2y = x[a + j + 1], y[a + j + 1]
    s1 = _orient(p1x, p1y, p2x, p2y, q1x, q1y)
    if s1 != 0 and s1 == _orient(p1x, p1y, p2x, p2y, q2x, q2y):
        return True
    t1 = _orient(q1x, q1y, q2x, q2y, p1x, p1y)
    return t1 != 0 and t1 == _orient(q1x, q1y, q2x, q2y, p2x, p2y)


def _boxes_apart(box: np.ndarray, i: int, j: int) -> bool:
    """Tell whether the envelopes of segments i and j are disjoint (GEOS's exact test)."""
    return bool(
        box[0, i] > box[1, j]
        or box[1, i] < box[0, j]
        or box[2, i] > box[3, j]
        or box[3, i] < box[2, j]
    )


def _star_tile(
    x: np.ndarray,
    y: np.ndarray,
    start: np.ndarray,
    r0: int,
    r1: int,
    kx: np.ndarray,
    ky: np.ndarray,
    flag: np.ndarray,
    out: np.ndarray,
) -> None:
    """Run the star test on rings ``r0..r1``: ``out[r]`` True for the rings it proves simple.

    A closed ring of ``m >= 3`` segments is proved when, with ``c`` the centroid of
    its area (any point would do; the centroid of a parcel is most often one from
    which it is star-shaped: 91 % of the area benchmark's parcels, against 82 % for
    the mean of the vertices), every triangle ``(c, v[k], v[k+1])`` turns the same way, certainly
    (the orientation sign beyond Shewchuk's bound, as :func:`_orient`), and the ring
    crosses the half-line from ``c`` along +x exactly once. Then the vertices'
    angles around ``c`` rise strictly, by less than a half-turn per segment, through
    exactly one turn: every segment lies in its own angular sector, sectors of
    non-neighbours share only ``c``, which no segment passes through, and neighbours
    share only their vertex. The crossings are counted with exact comparisons (a
    counter-clockwise ring crosses the +x half-line going up, from ``y < cy`` to
    ``y >= cy``; a clockwise one going down).

    The rings' vertices are one tile (``start[r0]`` to ``start[r1]``); ``kx``, ``ky``
    and ``flag`` are scratch of at least that many items. The edges of the whole tile
    are tested in one loop the compiler vectorizes (the centre of each edge's ring
    repeated at each vertex), then each ring counts the flags of its own edges.
    """
    t0 = start[r0]
    for r in range(r0, r1):
        a = start[r]
        m = start[r + 1] - a - 1
        # the centroid of the ring's area, from its first vertex (NaN if it has no area)
        a2 = 0.0
        sx = 0.0
        sy = 0.0
        for k in range(a, a + m):
            x0, y0 = x[k] - x[a], y[k] - y[a]
            x1, y1 = x[k + 1] - x[a], y[k + 1] - y[a]
            cross = x0 * y1 - x1 * y0
            a2 += cross
            sx += (x0 + x1) * cross
            sy += (y0 + y1) * cross
        cx = x[a] + sx / (3.0 * a2) if m > 0 else np.nan
        cy = y[a] + sy / (3.0 * a2) if m > 0 else np.nan
        for k in range(a - t0, start[r + 1] - t0):
            kx[k] = cx
            ky[k] = cy
    for k in range(start[r1] - t0 - 1):
        x0, y0 = x[t0 + k], y[t0 + k]
        x1, y1 = x[t0 + k + 1], y[t0 + k + 1]
        cx = kx[k]
        cy = ky[k]
        left = (x0 - cx) * (y1 - cy)
        right = (y0 - cy) * (x1 - cx)
        det = left - right
        size = abs(left) + abs(right)
        bound = _ERRBOUND * size
        sure = size > _TINY  # False for NaN too
        flag[k] = (
            ((det > bound) & sure) * 1
            + ((-det > bound) & sure) * 2
            + ((y0 < cy) & (y1 >= cy)) * 4
            + ((y0 >= cy) & (y1 < cy)) * 8
        )
    for r in range(r0, r1):
        a = start[r]
        m = start[r + 1] - a - 1
        if m < 3 or x[a] != x[a + m] or y[a] != y[a + m]:
            continue
        pos = 0
        neg = 0
        up = 0
        down = 0
        for k in range(a - t0, a - t0 + m):
            f = flag[k]
            pos += f & 1
            neg += (f >> 1) & 1
            up += (f >> 2) & 1
            down += (f >> 3) & 1
        out[r] = (pos == m and up == 1) or (neg == m and down == 1)


def _ring_proved(x: np.ndarray, y: np.ndarray, a: int, n: int, box: np.ndarray) -> bool:
    """Prove the ring of ``n`` coordinates from vertex ``a`` valid (``box``: scratch)."""
    m = n - 1  # segments
    if m < 3:
        return False
    if x[a] != x[a + m] or y[a] != y[a + m]:
        return False
    # the envelopes of the segments, and every turn strict (neighbouring segments meet only
    # at their shared vertex), without branches: the same test as _orient != 0
    certain = True
    px, py = x[a + m - 1], y[a + m - 1]
    for k in range(m):
        x0, y0 = x[a + k], y[a + k]
        x1, y1 = x[a + k + 1], y[a + k + 1]
        box[0, k] = min(x0, x1)
        box[1, k] = max(x0, x1)
        box[2, k] = min(y0, y1)
        box[3, k] = max(y0, y1)
        left = (x0 - px) * (y1 - py)
        right = (y0 - py) * (x1 - px)
        size = abs(left) + abs(right)
        certain &= (abs(left - right) > _ERRBOUND * size) & (size > _TINY)
        px, py = x0, y0
    if not certain:  # also a NaN or infinite coordinate
        return False
    if m > BRUTE_FORCE_SEGMENTS:
        return _swept(x, y, a, m, box)
    # most small rings have no two non-neighbouring segments with overlapping envelopes:
    # count those pairs without branches first
    overlaps = 0
    for i in range(m - 2):
        last = m if i > 0 else m - 1  # segments 0 and m - 1 are neighbours
        x0, x1, y0, y1 = box[0, i], box[1, i], box[2, i], box[3, i]
        for j in range(i + 2, last):
            overlaps += (
                (x0 <= box[1, j]) & (x1 >= box[0, j]) & (y0 <= box[3, j]) & (y1 >= box[2, j])
            )
    if overlaps == 0:
        return True
    for i in range(m - 2):
        last = m if i > 0 else m - 1
        for j in range(i + 2, last):
            if not _boxes_apart(box, i, j) and not _separated(x, y, a, i, j):
                return False
    return True


def _swept(x: np.ndarray, y: np.ndarray, a: int, m: int, box: np.ndarray) -> bool:
    """Test the segment pairs of a long ring by a sweep along x (see the module's Method)."""
    order = np.argsort(box[0, :m], kind="mergesort")
    budget = MAX_PAIRS_PER_SEGMENT * m
    for s in range(m):
        i = order[s]
        for t in range(s + 1, m):
            j = order[t]
            if box[0, j] > box[1, i]:
                break  # sorted by left end: no later segment reaches segment i
            lo, hi = min(i, j), max(i, j)
            if hi - lo < 2 or (lo == 0 and hi == m - 1):
                continue  # neighbours: their turn was checked already
            if _boxes_apart(box, i, j):
                continue
            budget -= 1
            if budget < 0 or not _separated(x, y, a, lo, hi):
                return False
    return True


def _proof_loop(x: np.ndarray, y: np.ndarray, start: np.ndarray, out: np.ndarray) -> None:
    """``out[r]``: ring r (vertices ``start[r]:start[r + 1]``) is proved valid.

    Tiles of whole rings (:data:`_TILE` vertices at most) get the star test; the
    rings it does not prove, and rings longer than a tile, get the segment-pair tests
    (the scratch arrays of the star test stay the size of a tile).
    """
    nring = start.size - 1
    longest = _TILE
    for r in range(nring):
        longest = max(longest, start[r + 1] - start[r])
    box = np.empty((4, longest))
    kx = np.empty(_TILE)
    ky = np.empty(_TILE)
    flag = np.empty(_TILE, dtype=np.int8)
    r0 = 0
    while r0 < nring:
        t0 = start[r0]
        r1 = r0 + 1
        while r1 < nring and start[r1 + 1] - t0 <= _TILE:
            r1 += 1
        if start[r1] - t0 <= _TILE:  # a ring longer than a tile goes to the pair tests
            _star_tile(x, y, start, r0, r1, kx, ky, flag, out)
        for r in range(r0, r1):
            if not out[r]:
                out[r] = _ring_proved(x, y, start[r], start[r + 1] - start[r], box)
        r0 = r1


def _compiled() -> Callable[..., None]:
    """Return the compiled proof (its helpers compiled first; on first use, cached on disk)."""
    helpers = ("_orient", "_boxes_apart", "_separated", "_swept", "_star_tile", "_ring_proved")
    return _jit.kernel(globals(), "_proof_loop", helpers=helpers)

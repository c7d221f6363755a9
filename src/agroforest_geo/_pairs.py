"""Overlapping pairs of two polygon arrays: candidates, intersections and relations, in threads.

Method
------
Candidate pairs are the bounding-box hits of one :class:`shapely.STRtree`, queried
in blocks of the left geometries (within one layer each unordered pair is kept
once: ``left < right``, so no pair is ever tested twice). The sorted pairs are cut
into blocks of :data:`PAIRS_PER_BLOCK` (the same blocks for any number of threads),
which the threads take one after the other as they become free. In each block:

1. pairs that a separating line proves disjoint are dropped
   (:mod:`agroforest_geo._separation`, ~0.3 µs a pair instead of GEOS
   ``intersects``' ~1.7 µs; it decides ~97 % of the disjoint candidates of a
   dense layer, and the rest go on to step 3, whose empty result drops them;
   without numba, GEOS ``intersects`` does this step);
2. the relation: only a pair whose bounding boxes nest can be ``within``,
   ``contains`` or ``duplicate``, so only those go through the exact predicates
   (``covered_by``, ``covers``, ``equals``); the others are ``partial``;
3. the intersection: for a covered polygon it is that polygon itself (no overlay);
   for the others GEOS ``intersection``; pairs whose intersection has no area
   (edge or corner contact, or disjoint) are dropped, and the rest are measured by
   the caller's ``measure`` (ellipsoidal m², whose compiled kernel releases the
   GIL too).

GEOS releases the GIL, so the threads run in parallel; each pair is computed once,
by one thread, with the same calls whatever the number of threads, so the results
are identical for any ``n_jobs``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import shapely

from . import _separation
from ._gc import paused_gc
from ._threads import map_blocks, unprepared

__all__ = ["Pairs", "overlapping_pairs"]

#: Fewer candidate pairs than this per thread are not worth a thread.
MIN_PAIRS_PER_JOB = 2_000
#: Fewer query geometries than this per thread are not worth a thread.
MIN_QUERIES_PER_JOB = 20_000
#: Candidate pairs per block of work (~0.2 s of GEOS on dense 10-gons).
PAIRS_PER_BLOCK = 10_000
#: Fewer candidate pairs than this skip the compiled disjointness test (no numba import).
MIN_PAIRS_COMPILED = 20_000
#: Geometry types whose intersection with a feature covering them is themselves.
_POLYGONS = (3, 6)


#: ``measure(intersections) -> (pieces, m2)``: what is kept of each intersection, its area.
Measure = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class Pairs(NamedTuple):
    """Overlapping pairs, sorted by (left, right)."""

    left: np.ndarray  # positions in the left array
    right: np.ndarray  # positions in the right array
    pieces: np.ndarray  # object array: the intersections (a covered polygon: itself), as
    # ``measure`` keeps them
    m2: np.ndarray  # float: their areas, from ``measure``
    relation: np.ndarray  # object array: "partial", "within", "contains" or "duplicate"


def overlapping_pairs(
    lg: np.ndarray, rg: np.ndarray, *, within: bool, n_jobs: int, measure: Measure
) -> Pairs:
    """Pairs of ``lg`` x ``rg`` whose intersection has a positive area, and their relations.

    Parameters
    ----------
    lg, rg : numpy.ndarray of geometries
        Valid polygonal geometries or None (``rg is lg`` for one layer).
    within : bool
        One layer: report each unordered pair once (left before right).
    n_jobs : int
        Threads at most (already resolved: >= 1); fewer when there are few pairs.
    measure : callable
        Applied to the intersections of each block, in its thread (it must be
        thread-safe and depend on each intersection alone).

    Returns
    -------
    Pairs
    """
    lg = unprepared(lg)  # threads (ours, or the caller's) never share a prepared geometry
    rg = lg if within else unprepared(rg)
    li, ri = _candidates(lg, rg, within=within, n_jobs=n_jobs)
    sides = _Sides.of(lg, rg, li, ri, within=within)
    with paused_gc():  # one new geometry per pair, no cycles (see ._gc)
        parts = map_blocks(
            lambda lo, hi: _block(sides, li[lo:hi], ri[lo:hi], measure),
            li.size,
            n_jobs=n_jobs,
            min_per_job=MIN_PAIRS_PER_JOB,
            chunk=PAIRS_PER_BLOCK,
        )
    return Pairs(*(np.concatenate(col) for col in zip(*parts, strict=True)))


def _candidates(
    lg: np.ndarray, rg: np.ndarray, *, within: bool, n_jobs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bounding-box pairs sorted by (left, right); within one layer, left < right only.

    Each block of left geometries sorts its own pairs (its lefts are a range of
    their own), in its thread.
    """
    tree = shapely.STRtree(rg)

    def query(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        qi, ti = tree.query(lg[lo:hi])
        qi += lo
        if within:
            keep = qi < ti
            qi, ti = qi[keep], ti[keep]
        order = np.lexsort((ti, qi))
        return qi[order], ti[order]

    found = map_blocks(query, lg.size, n_jobs=n_jobs, min_per_job=MIN_QUERIES_PER_JOB)
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


class _Sides(NamedTuple):
    """What the blocks read of both arrays, computed once per feature."""

    lg: np.ndarray
    rg: np.ndarray
    lbox: np.ndarray  # (n, 4) bounds
    rbox: np.ndarray
    lpoly: np.ndarray  # bool: Polygon or MultiPolygon
    rpoly: np.ndarray
    lvert: _separation.Vertices | None  # None: GEOS ``intersects`` decides instead
    rvert: _separation.Vertices | None

    @classmethod
    def of(
        cls, lg: np.ndarray, rg: np.ndarray, li: np.ndarray, ri: np.ndarray, *, within: bool
    ) -> _Sides:
        lbox = shapely.bounds(lg)
        lpoly = np.isin(shapely.get_type_id(lg), _POLYGONS)
        rbox, rpoly = (lbox, lpoly) if within else (shapely.bounds(rg), None)
        if rpoly is None:
            rpoly = np.isin(shapely.get_type_id(rg), _POLYGONS)
        lvert = rvert = None
        if li.size >= MIN_PAIRS_COMPILED and _separation.available():
            # the vertices of the features that are in some candidate pair only
            if within:
                lvert = rvert = _separation.vertices(_in_pairs(lg, li, ri))
            else:
                lvert = _separation.vertices(_in_pairs(lg, li))
                rvert = _separation.vertices(_in_pairs(rg, ri))
        return cls(lg, rg, lbox, rbox, lpoly, rpoly, lvert, rvert)


def _in_pairs(geoms: np.ndarray, *positions: np.ndarray) -> np.ndarray:
    """``geoms`` with None except at ``positions``."""
    out = np.full(geoms.size, None, dtype=object)
    for pos in positions:
        out[pos] = geoms[pos]
    return out


def _block(s: _Sides, li: np.ndarray, ri: np.ndarray, measure: Measure) -> Pairs:
    """Intersections, their measures and relations for one block of candidate pairs."""
    if s.lvert is not None and s.rvert is not None:
        near = ~_separation.apart(s.lvert, s.rvert, li, ri)
    else:
        near = shapely.intersects(s.lg[li], s.rg[ri])
    li, ri = li[near], ri[near]
    a, b = s.lg[li], s.rg[ri]
    relation = _relation(a, b, s.lbox[li], s.rbox[ri])
    # a polygon covered by the other feature is the intersection itself: no overlay
    whole_a = ((relation == "within") | (relation == "duplicate")) & s.lpoly[li]
    whole_b = (relation == "contains") & s.rpoly[ri]
    cut = ~(whole_a | whole_b)
    inter = np.empty(li.size, dtype=object)
    inter[whole_a] = a[whole_a]
    inter[whole_b] = b[whole_b]
    inter[cut] = shapely.intersection(a[cut], b[cut])
    pos = shapely.area(inter) > 0  # edge or corner contact gives a line or a point
    li, ri, inter, relation = li[pos], ri[pos], inter[pos], relation[pos]
    pieces, m2 = measure(inter)
    return Pairs(li, ri, pieces, m2, relation)


def _relation(a: np.ndarray, b: np.ndarray, abox: np.ndarray, bbox: np.ndarray) -> np.ndarray:
    """Relation of each pair; exact predicates only where the bounding boxes nest.

    ``b`` covers ``a`` only if ``a``'s bounding box lies inside ``b``'s, so the
    pairs whose boxes do not nest are ``partial`` without a predicate.
    """
    relation = np.full(a.size, "partial", dtype=object)
    a_in = np.all(abox[:, :2] >= bbox[:, :2], axis=1) & np.all(abox[:, 2:] <= bbox[:, 2:], axis=1)
    b_in = np.all(bbox[:, :2] >= abox[:, :2], axis=1) & np.all(bbox[:, 2:] <= abox[:, 2:], axis=1)
    within = np.zeros(a.size, dtype=bool)
    contains = np.zeros(a.size, dtype=bool)
    within[a_in] = shapely.covered_by(a[a_in], b[a_in])
    contains[b_in] = shapely.covers(a[b_in], b[b_in])
    relation[within] = "within"
    relation[contains] = "contains"
    both = within & contains
    relation[both] = np.where(shapely.equals(a[both], b[both]), "duplicate", "contains")
    return relation

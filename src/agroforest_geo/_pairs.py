"""Overlapping pairs of two polygon arrays: candidates, intersections and relations, in threads.

Method
------
Candidate pairs are the bounding-box hits of one :class:`shapely.STRtree`, queried
in blocks of the left geometries (within one layer each unordered pair is kept
once: ``left < right``, so no pair is ever tested twice). The sorted pairs are cut
into contiguous blocks, one per thread; each block runs ``intersects``, then
``intersection`` on the pairs that meet, keeps those whose intersection has a
positive area and measures them (the caller's ``measure``: ellipsoidal m², whose
compiled kernel releases the GIL too). GEOS releases the GIL, so the threads run
in parallel; each pair is computed once, by one thread, with the same calls
whatever the number of threads, so the results are identical for any ``n_jobs``.

The relation comes from the intersection already computed: a pair can only be
``within``, ``contains`` or ``duplicate`` when its intersection has (to 1e-9) the
whole planar area of the left or of the right feature; only those few pairs go
through the exact predicates (``covered_by``, ``covers``, ``equals``). A covered
feature's intersection is that feature itself, whose area the overlay reproduces
to rounding (~1e-15), far inside the 1e-9 margin, so no relation changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import shapely

from ._threads import map_blocks

__all__ = ["Pairs", "overlapping_pairs"]

#: Fewer candidate pairs than this per thread are not worth a thread.
MIN_PAIRS_PER_JOB = 2_000
#: Fewer query geometries than this per thread are not worth a thread.
MIN_QUERIES_PER_JOB = 20_000
#: An intersection below this share of both features' planar areas is "partial" outright.
_WHOLE = 1.0 - 1e-9


#: ``measure(intersections) -> (pieces, m2)``: what is kept of each intersection, its area.
Measure = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class Pairs(NamedTuple):
    """Overlapping pairs, sorted by (left, right)."""

    left: np.ndarray  # positions in the left array
    right: np.ndarray  # positions in the right array
    pieces: np.ndarray  # object array: the intersections, as ``measure`` keeps them
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
    if n_jobs > 1:
        # GEOS builds the indexes of prepared geometries lazily: threads never share one
        lg = _unprepared(lg)
        rg = lg if within else _unprepared(rg)
    tree = shapely.STRtree(rg)

    def query(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        qi, ti = tree.query(lg[lo:hi])
        return qi + lo, ti

    found = map_blocks(query, lg.size, n_jobs=n_jobs, min_per_job=MIN_QUERIES_PER_JOB)
    li = np.concatenate([f[0] for f in found])
    ri = np.concatenate([f[1] for f in found])
    if within:
        keep = li < ri
        li, ri = li[keep], ri[keep]
    order = np.lexsort((ri, li))
    li, ri = li[order], ri[order]
    parts = map_blocks(
        lambda lo, hi: _block(lg, rg, li[lo:hi], ri[lo:hi], measure),
        li.size,
        n_jobs=n_jobs,
        min_per_job=MIN_PAIRS_PER_JOB,
    )
    return Pairs(*(np.concatenate(col) for col in zip(*parts, strict=True)))


def _unprepared(geoms: np.ndarray) -> np.ndarray:
    """``geoms``, or exact copies of them if any is prepared."""
    if shapely.is_prepared(geoms).any():
        return shapely.from_wkb(shapely.to_wkb(geoms))
    return geoms


def _block(
    lg: np.ndarray, rg: np.ndarray, li: np.ndarray, ri: np.ndarray, measure: Measure
) -> Pairs:
    """Intersections, their measures and relations for one block of candidate pairs."""
    a, b = lg[li], rg[ri]
    meet = shapely.intersects(a, b)
    li, ri, a, b = li[meet], ri[meet], a[meet], b[meet]
    inter = shapely.intersection(a, b)
    area_i = shapely.area(inter)
    pos = area_i > 0  # edge or corner contact gives a line or a point
    li, ri, a, b, inter, area_i = li[pos], ri[pos], a[pos], b[pos], inter[pos], area_i[pos]
    pieces, m2 = measure(inter)
    return Pairs(li, ri, pieces, m2, _relation(a, b, area_i))


def _relation(a: np.ndarray, b: np.ndarray, area_i: np.ndarray) -> np.ndarray:
    """Relation of each pair; exact predicates only where the intersection is a whole feature."""
    relation = np.full(a.size, "partial", dtype=object)
    whole_a = area_i >= _WHOLE * shapely.area(a)
    whole_b = area_i >= _WHOLE * shapely.area(b)
    idx = np.flatnonzero(whole_a | whole_b)
    if idx.size:
        ca, cb = a[idx], b[idx]
        sub = relation[idx]
        sub[shapely.covered_by(ca, cb)] = "within"
        sub[shapely.covers(ca, cb)] = "contains"
        sub[shapely.equals(ca, cb)] = "duplicate"
        relation[idx] = sub
    return relation

"""Closest points between geometries and boundary pieces in one plane: bounds first, GEOS last.

Method
------
The boundary comes as short pieces (linestrings of a few vertices). The
geometries are grouped into the squares of a grid (blocks); each block asks
once for the pieces that can hold the nearest point of any of its geometries:
those whose bounding box lies within an upper bound of all their distances
(the distance from the block's centre to the nearest first vertex of a piece,
plus the block's half-diagonal). Per geometry, a compiled loop visits the block's
pieces in increasing order of the distance between the two bounding boxes (a
lower bound), computes the exact segment-to-segment distances only while that
bound does not exceed the best distance found, and keeps the nearest pair of
segments (boundary, geometry; the first in vertex order among equal
distances). GEOS then finds the closest points of that pair of segments alone,
with the same arithmetic it applies to the winning pair of a whole search, so
the geometries themselves need not exist in the plane: their vertices do.

The points are those GEOS finds against the whole boundary (a prepared
multi-linestring, indexed facet distance, :func:`closest_points_prepared`),
to the bit, whenever one pair of points is nearest. When several distinct
pairs are equally near in the plane (parallel edges), either search may return
another of them: their planar distance is the same, and a distance measured on
the ellipsoid between them then differs only by the variation of the
projection's scale along the tied edges.

The compiled loop needs numba (the ``fast`` extra); without it, or for fewer
than :data:`MIN_COMPILED` geometries, every geometry is measured against the
whole prepared boundary instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from . import _jit
from ._geosrings import coordinates

__all__ = [
    "MIN_COMPILED",
    "Outlines",
    "closest_points",
    "closest_points_prepared",
    "compiled",
    "nearest_segments",
]

#: Fewer geometries than this are measured against the prepared boundary: it takes less than
#: loading the compiled loop from its cache (~0.3 s, once per process).
MIN_COMPILED = 10_000
#: Blocks are squares of this many times the median diagonal of the geometries' bounding boxes.
_BLOCK_DIAGONALS = 6.0


def closest_points_prepared(edges: Any, geoms: np.ndarray) -> np.ndarray:
    """Closest points (boundary point, geometry point) against the whole boundary ``edges``.

    ``edges`` is one geometry, prepared (GEOS then indexes its segments once).
    Returns an array of shape ``(2 * geoms.size, 2)``: the boundary's point of
    geometry ``i`` in row ``2 i``, the geometry's point in row ``2 i + 1``.
    """
    return np.asarray(shapely.get_coordinates(shapely.shortest_line(edges, geoms)))


@dataclasses.dataclass(frozen=True)
class Outlines:
    """The vertices of geometries' rings (or lines), in a plane, ring by ring.

    Ring ``r`` is ``xy[ring_start[r] : ring_start[r + 1]]``; geometry ``i`` has
    rings ``geom_rings[i] : geom_rings[i + 1]``, in the order GEOS lists them.
    """

    xy: np.ndarray
    ring_start: np.ndarray
    geom_rings: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray) -> Outlines:
        """Return the outlines of ``geoms`` (their own coordinates)."""
        return cls(*_rings(geoms))

    def moved(self, transformer: Any) -> Outlines:
        """Return the same outlines with every vertex through ``transformer.transform``."""
        x, y = transformer.transform(self.xy[:, 0], self.xy[:, 1])
        return Outlines(np.column_stack([x, y]), self.ring_start, self.geom_rings)

    def finite(self) -> np.ndarray:
        """Return True per geometry whose vertices are all finite (and that has some)."""
        n = self.geom_rings.size - 1
        first = self.ring_start[self.geom_rings]
        count = np.diff(first)
        bad = np.repeat(np.arange(n), count)[~np.isfinite(self.xy).all(axis=1)]
        ok = count > 0
        ok[bad] = False
        return ok

    def bounds(self) -> np.ndarray:
        """Return the bounding box (xmin, ymin, xmax, ymax) of every geometry (all non-empty)."""
        first = self.ring_start[self.geom_rings[:-1]]
        x, y = self.xy[:, 0], self.xy[:, 1]
        return np.column_stack(
            [
                np.minimum.reduceat(x, first),
                np.minimum.reduceat(y, first),
                np.maximum.reduceat(x, first),
                np.maximum.reduceat(y, first),
            ]
        )


def compiled(n: int) -> bool:
    """Return whether :func:`closest_points` takes the compiled search for ``n`` geometries."""
    return n >= MIN_COMPILED and _jit.available()


def closest_points(
    pieces: np.ndarray,
    outlines: Outlines,
    planar: Callable[[], np.ndarray],
    edges: Any = None,
) -> np.ndarray:
    """:func:`closest_points_prepared`, with the coarse-to-fine search when it pays.

    ``pieces`` are linestrings of a few vertices and ``outlines`` those of the
    geometries (finite, non-empty), in the same plane. ``planar()`` gives the
    geometries in that plane and ``edges`` the whole boundary as one prepared
    geometry (default: the pieces in one): both are used only without the
    compiled search. The search gives the nearest pair of segments (boundary,
    geometry); GEOS finds the closest points of that pair alone.
    """
    n = outlines.geom_rings.size - 1
    if not compiled(n) or pieces.size == 0:
        if edges is None:
            edges = shapely.multilinestrings(pieces)
            shapely.prepare(edges)
        return closest_points_prepared(edges, planar())
    pxy, k, m = nearest_segments(pieces, outlines)
    gxy = outlines.xy
    a = shapely.linestrings(np.stack([pxy[k], pxy[k + 1]], axis=1))
    b = shapely.linestrings(np.stack([gxy[m], gxy[m + 1]], axis=1))
    return np.asarray(shapely.get_coordinates(shapely.shortest_line(a, b)))


def nearest_segments(
    pieces: np.ndarray, outlines: Outlines
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the vertices of ``pieces`` and, per geometry, its nearest pair of segments.

    The nearest pair of geometry ``i`` is the boundary segment from ``xy[k[i]]``
    to ``xy[k[i] + 1]`` and the geometry's segment from ``outlines.xy[m[i]]`` to
    ``outlines.xy[m[i] + 1]``: the first in vertex order (boundary, then
    geometry) among equally near pairs.
    """
    pxy, powner = shapely.get_coordinates(pieces, return_index=True)
    p_start = np.searchsorted(powner, np.arange(pieces.size + 1)).astype(np.int64)
    pb = np.asarray(shapely.bounds(pieces), dtype=float)
    gb = outlines.bounds()
    block, blk_start, blk_cand = _block_candidates(gb, pb, pxy[p_start[:-1]])
    n = gb.shape[0]
    k = np.empty(n, dtype=np.int64)
    m = np.empty(n, dtype=np.int64)
    _kernel()(
        np.ascontiguousarray(outlines.xy[:, 0]),
        np.ascontiguousarray(outlines.xy[:, 1]),
        outlines.ring_start,
        outlines.geom_rings,
        gb,
        block,
        np.ascontiguousarray(pxy[:, 0]),
        np.ascontiguousarray(pxy[:, 1]),
        p_start,
        pb,
        blk_start,
        blk_cand,
        k,
        m,
    )
    return pxy, k, m


def _rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of every ring of ``geoms``, where each ring starts, and each geometry's rings.

    Returns ``xy`` (vertices, geometry by geometry, ring by ring as GEOS lists
    them), ``ring_start`` (ring ``r`` is ``xy[ring_start[r] : ring_start[r + 1]]``)
    and ``geom_rings`` (geometry ``i`` has rings ``geom_rings[i] : geom_rings[i + 1]``).
    """
    xy, owner = coordinates(geoms)  # the GIL released where it can be
    n = geoms.size
    count = np.bincount(owner, minlength=n)
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    simple |= count == 0
    if simple.all():  # one ring (or none) per geometry
        lengths, ring_geom = count, np.arange(n)
    else:
        rest = np.flatnonzero(~simple)
        parts, psub = shapely.get_parts(geoms[rest], return_index=True)
        lines = shapely.get_rings(parts)
        lsub = shapely.get_rings(parts, return_index=True)[1]
        if shapely.get_type_id(parts).max(initial=0) != 3:  # lines and points: their parts
            lines = np.where(shapely.get_type_id(parts) == 3, None, parts)
            lsub = np.arange(parts.size)
            keep = ~shapely.is_missing(lines)
            poly = np.flatnonzero(~keep)
            rings, rsub = shapely.get_rings(parts[poly], return_index=True)
            lines = np.concatenate([lines[keep], rings])
            lsub = np.concatenate([lsub[keep], poly[rsub]])
        ring_geom_rest = rest[psub[lsub]]
        ring_len_rest = shapely.get_num_coordinates(lines)
        ring_geom = np.concatenate([np.flatnonzero(simple), ring_geom_rest])
        lengths = np.concatenate([count[simple], ring_len_rest])
        order = np.argsort(ring_geom, kind="stable")
        ring_geom, lengths = ring_geom[order], lengths[order]
    ring_start = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=ring_start[1:])
    geom_rings = np.searchsorted(ring_geom, np.arange(n + 1)).astype(np.int64)
    return xy, ring_start, geom_rings


def _block_candidates(
    gb: np.ndarray, pb: np.ndarray, pxy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each geometry's block, and per block the pieces that can be nearest to one of its geometries.

    ``gb`` and ``pb`` are the bounding boxes of the geometries and the pieces,
    ``pxy`` points of the boundary (the pieces' first vertices). Returns the
    block of every geometry and the candidates as
    ``blk_cand[blk_start[b] : blk_start[b + 1]]`` (sorted).
    """
    diag = np.hypot(gb[:, 2] - gb[:, 0], gb[:, 3] - gb[:, 1])
    cx, cy = (gb[:, 0] + gb[:, 2]) / 2, (gb[:, 1] + gb[:, 3]) / 2
    span = max(float(np.ptp(cx)), float(np.ptp(cy)))
    # at most 2**20 blocks a side (tiny geometries spread far apart), so keys fit int64
    size = max(float(np.median(diag)) * _BLOCK_DIAGONALS, span / 2**20, 1e-9)
    ix = np.floor((cx - cx.min()) / size).astype(np.int64)
    iy = np.floor((cy - cy.min()) / size).astype(np.int64)
    key = ix * (int(iy.max()) + 1) + iy
    cells, block = np.unique(key, return_inverse=True)
    nb = cells.size
    bb = np.empty((nb, 4))
    bb[:, 0] = np.full(nb, np.inf)
    bb[:, 1] = np.full(nb, np.inf)
    bb[:, 2] = np.full(nb, -np.inf)
    bb[:, 3] = np.full(nb, -np.inf)
    np.minimum.at(bb[:, 0], block, gb[:, 0])
    np.minimum.at(bb[:, 1], block, gb[:, 1])
    np.maximum.at(bb[:, 2], block, gb[:, 2])
    np.maximum.at(bb[:, 3], block, gb[:, 3])
    # every point of a block lies within its half-diagonal of its centre: no geometry of
    # the block is farther from the boundary than this bound
    centre = np.column_stack([(bb[:, 0] + bb[:, 2]) / 2, (bb[:, 1] + bb[:, 3]) / 2])
    half = np.hypot(bb[:, 2] - bb[:, 0], bb[:, 3] - bb[:, 1]) / 2
    near, _ = cKDTree(pxy).query(centre)
    upper = (near + half) * (1 + 1e-9) + 1e-9 * (np.abs(centre).max(axis=1) + 1.0)
    reach = shapely.box(bb[:, 0] - upper, bb[:, 1] - upper, bb[:, 2] + upper, bb[:, 3] + upper)
    bi, pj = shapely.STRtree(shapely.box(*pb.T)).query(reach)
    dx = np.maximum(np.maximum(pb[pj, 0] - bb[bi, 2], bb[bi, 0] - pb[pj, 2]), 0.0)
    dy = np.maximum(np.maximum(pb[pj, 1] - bb[bi, 3], bb[bi, 1] - pb[pj, 3]), 0.0)
    keep = np.hypot(dx, dy) <= upper[bi]
    bi, pj = bi[keep], pj[keep]
    order = np.lexsort((pj, bi))
    blk_start = np.searchsorted(bi[order], np.arange(nb + 1)).astype(np.int64)
    return block.astype(np.int64), blk_start, pj[order].astype(np.int64)


# ---------------------------------------------------------------- the compiled loop
def _seg_seg2(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float, dx: float, dy: float
) -> float:  # pragma: no cover - compiled
    """Squared distance between segments ab and cd (0 when they meet)."""
    # do they cross or touch? (orientations of each segment's ends about the other)
    o1 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    o2 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
    o3 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
    o4 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
    if ((o1 > 0 and o2 < 0) or (o1 < 0 and o2 > 0)) and (
        (o3 > 0 and o4 < 0) or (o3 < 0 and o4 > 0)
    ):
        return 0.0
    return min(
        _pt_seg2(ax, ay, cx, cy, dx, dy),
        _pt_seg2(bx, by, cx, cy, dx, dy),
        _pt_seg2(cx, cy, ax, ay, bx, by),
        _pt_seg2(dx, dy, ax, ay, bx, by),
    )


def _pt_seg2(
    px: float, py: float, ax: float, ay: float, bx: float, by: float
) -> float:  # pragma: no cover - compiled
    """Squared distance from point p to segment ab."""
    ux, uy = bx - ax, by - ay
    wx, wy = px - ax, py - ay
    den = ux * ux + uy * uy
    t = 0.0
    if den > 0.0:
        t = (wx * ux + wy * uy) / den
        t = min(max(t, 0.0), 1.0)
    ex, ey = wx - t * ux, wy - t * uy
    return ex * ex + ey * ey


def _box2(
    a0: float, a1: float, a2: float, a3: float, b0: float, b1: float, b2: float, b3: float
) -> float:  # pragma: no cover - compiled
    """Squared distance between two boxes (0 when they meet)."""
    dx = max(b0 - a2, a0 - b2, 0.0)
    dy = max(b1 - a3, a1 - b3, 0.0)
    return dx * dx + dy * dy


def _piece_dist2(
    gx: np.ndarray,
    gy: np.ndarray,
    ring_start: np.ndarray,
    r0: int,
    r1: int,
    g0: float,
    g1: float,
    g2: float,
    g3: float,
    px: np.ndarray,
    py: np.ndarray,
    q0: int,
    q1: int,
    bound: float,
) -> tuple[float, int, int]:  # pragma: no cover - compiled
    """Squared distance from a geometry (rings r0..r1) to a piece (vertices q0..q1), and where.

    Exact when it is at most ``bound``; segment pairs whose boxes lie farther
    than ``bound`` are skipped (so a larger result only says "farther than bound").
    The segments are the first nearest pair (``k``: the piece's from vertex ``k`` to
    ``k + 1``, ``m``: the geometry's from vertex ``m`` to ``m + 1``).
    """
    best = np.inf
    best_k = -1
    best_m = -1
    for k in range(q0, q1 - 1):
        cx, cy, dx, dy = px[k], py[k], px[k + 1], py[k + 1]
        s0, s1, s2, s3 = min(cx, dx), min(cy, dy), max(cx, dx), max(cy, dy)
        lim = min(best, bound)
        if _box2(g0, g1, g2, g3, s0, s1, s2, s3) > lim:
            continue
        for r in range(r0, r1):
            for m in range(ring_start[r], ring_start[r + 1] - 1):
                ax, ay, bx, by = gx[m], gy[m], gx[m + 1], gy[m + 1]
                lim = min(best, bound)
                t0, t1 = min(ax, bx), min(ay, by)
                t2, t3 = max(ax, bx), max(ay, by)
                if _box2(t0, t1, t2, t3, s0, s1, s2, s3) > lim:
                    continue
                d = _seg_seg2(ax, ay, bx, by, cx, cy, dx, dy)
                if d < best:
                    best, best_k, best_m = d, k, m
    return best, best_k, best_m


def _nearest_loop(
    gx: np.ndarray,
    gy: np.ndarray,
    ring_start: np.ndarray,
    geom_rings: np.ndarray,
    gb: np.ndarray,
    block: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    p_start: np.ndarray,
    pb: np.ndarray,
    blk_start: np.ndarray,
    blk_cand: np.ndarray,
    out_k: np.ndarray,
    out_m: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """For each geometry, the nearest of its block's candidate pieces (see the module)."""
    for i in range(gb.shape[0]):
        b = block[i]
        c0, c1 = blk_start[b], blk_start[b + 1]
        g0, g1, g2, g3 = gb[i, 0], gb[i, 1], gb[i, 2], gb[i, 3]
        r0, r1 = geom_rings[i], geom_rings[i + 1]
        nc = c1 - c0
        lb = np.empty(nc)
        first = 0
        for k in range(nc):
            p = blk_cand[c0 + k]
            lb[k] = _box2(g0, g1, g2, g3, pb[p, 0], pb[p, 1], pb[p, 2], pb[p, 3])
            if lb[k] < lb[first]:
                first = k
        p = blk_cand[c0 + first]
        best, best_k, best_m = _piece_dist2(
            gx, gy, ring_start, r0, r1, g0, g1, g2, g3, px, py, p_start[p], p_start[p + 1], np.inf
        )
        # the others that can be as near, nearest bound first
        m = 0
        idx = np.empty(nc, dtype=np.int64)
        for k in range(nc):
            if k != first and lb[k] <= best:
                idx[m] = k
                m += 1
        sel = idx[:m]
        sel = sel[np.argsort(lb[sel], kind="mergesort")]
        for k in sel:
            if lb[k] > best:
                break
            p = blk_cand[c0 + k]
            d, k, mm = _piece_dist2(
                gx, gy, ring_start, r0, r1, g0, g1, g2, g3, px, py, p_start[p], p_start[p + 1], best
            )
            if d < best or (d == best and 0 <= k < best_k):
                best, best_k, best_m = d, k, mm
        out_k[i] = best_k
        out_m[i] = best_m


def _kernel() -> Callable[..., None]:
    """Return the compiled loop (its helpers compiled first; on first use, cached on disk)."""
    return _jit.kernel(
        globals(), "_nearest_loop", helpers=("_pt_seg2", "_box2", "_seg_seg2", "_piece_dist2")
    )

"""Exact fractions of raster cells covered by valid polygons, in one compiled pass.

The coverage step of the zonal engine (:mod:`agroforest_geo.pixelpieces`) for the
polygons it can be sure of; the others go to exactextract, as before.

Method
------
Vertices are put in cell units of the raster's whole grid, ``u = (x - x0) / dx``
(column) and ``v = (y - y0) / dy`` (row), then shifted by the integer corner of
the polygon's cell box (an exact shift). Every edge is cut where it crosses a
cell line (points on the lines get the line's integer coordinate exactly), so
each piece lies in one cell ``c`` of a row. By Green's theorem a straight piece
rising by ``dv`` bounds, between itself and the right edge of its cell, the
area ``dv × (c + 1 - u_mid)``, and each cell further right in the row gets
``dv``: both go into an accumulation row (``acc[c] += dv (c + 1 - u_mid)``,
``acc[c + 1] += dv (u_mid - c)``), whose running sum along the row is the
signed area of the polygon in each cell (its winding number integrated over
the cell). Rings are signed by role (exteriors +, holes -) whatever their
stored orientation, so for a *valid* polygon that is its covered area, exact
but for the rounding of a few additions per cell (~1e-15 of a cell in the
polygon's local coordinates).

Running sums within ``_ZERO`` (1e-12 of a cell) of 0 are 0 (cells of the box
outside the polygon), and fractions are rounded to float32, as exactextract
returns them. Against exactextract the cells are the same, in the same order,
and the fractions equal or one float32 ulp apart (0.06 % of the partial cells
of the benchmark's parcels; in every case checked the pass's fraction is the
one nearer GEOS's exact intersection, exactextract's double being computed in
the grid's absolute coordinates, off by up to ~3e-8 of a cell); a sliver below
1e-12 of a cell is left out. A polygon the pass is not sure of is handed back
to exactextract: invalid ones (bow-ties, overlapping parts: their winding
numbers are not their coverage), ones not inside the raster's grid, boxes of
more than 4 M cells, and any whose running sums leave ``[-_ZERO, 1 + _ZERO]``.

Pieces come out polygon by polygon, row-major inside each (exactextract's
order), so per-polygon sums add the pieces in the same order.

Why a hand-written pass: exactextract, called per batch through its Python
bindings, took 3.3 s of CPU for the 100,000 parcels of ``bench_cover.py``
(~30 us per parcel, a third of it in per-feature Python); this pass takes
0.07 s, and 0.24 s with reading the vertices out of shapely and GEOS's
validity check. It also releases the GIL, so batches run on threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import shapely

from . import _geosrings, _jit
from ._threads import is_valid

__all__ = ["ENV_VAR", "compiled_coverage", "use_compiled"]

#: ``AGROFOREST_GEO_COVERAGE=exactextract`` sends every polygon to exactextract.
ENV_VAR = "AGROFOREST_GEO_COVERAGE"
#: Running sums within this (in cells) of 0 are 0; beyond it below 0 or above 1: unsure.
_ZERO = 1e-12
#: Polygons whose cell box has more cells than this go to exactextract (memory of one box).
_MAX_BOX_CELLS = 1 << 22


def use_compiled() -> bool:
    """Whether the compiled coverage pass is used (numba installed, not switched off)."""
    env = os.environ.get(ENV_VAR, "auto").strip().lower()
    if env not in ("auto", "exactextract"):
        raise ValueError(f"{ENV_VAR} must be 'auto' or 'exactextract', got {env!r}")
    return env == "auto" and _jit.available()


def compiled_coverage(
    geoms: np.ndarray,
    x0: float,
    y0: float,
    dx: float,
    dy: float,
    width: int,
    height: int,
    *,
    known_valid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cover fractions of the cells of a grid by each geometry, for those it is sure of.

    Returns ``(pos, row, col, fraction, unsure)``: the pieces (position of the
    geometry in ``geoms``, cell, fraction as float32 rounded, in float64), and the
    positions of the geometries left out, to be computed by exactextract.
    ``known_valid`` marks geometries GEOS already found valid (the others are checked).
    """
    n = geoms.size
    if n == 0:
        e = np.empty(0, np.int64)
        return e, e, e, np.empty(0), e
    ok = np.zeros(n, dtype=bool) if known_valid is None else known_valid.copy()
    check = np.flatnonzero(~ok)
    if check.size:
        ok[check] = is_valid(geoms[check], n_jobs=1)  # already on the pass's threads
    sure = np.flatnonzero(ok)
    if sure.size == 0:
        e = np.empty(0, np.int64)
        return e, e, e, np.empty(0), np.arange(n, dtype=np.int64)
    xy, ring_off, part_off, geom_off = _rings(geoms[sure])
    u = (xy[:, 0] - x0) / dx
    v = (xy[:, 1] - y0) / dy
    box, cells = _boxes(u, v, ring_off, part_off, geom_off, width, height)
    kernel = _compiled()
    total = int(cells.sum())
    pos = np.empty(total, np.int64)
    rows = np.empty(total, np.int64)
    cols = np.empty(total, np.int64)
    frac = np.empty(total, np.float64)
    bad = box[:, 0] < 0  # outside the grid, too large, empty: exactextract decides
    m = kernel(u, v, ring_off, part_off, geom_off, box, pos, rows, cols, frac, bad)
    pos, rows, cols, frac = pos[:m], rows[:m], cols[:m], frac[:m]
    if bad.any():  # the kernel wrote no piece of a bad geometry, but be explicit
        keep = ~bad[pos]
        pos, rows, cols, frac = pos[keep], rows[keep], cols[keep], frac[keep]
    pos = sure[pos]
    unsure = np.sort(np.concatenate([np.flatnonzero(~ok), sure[bad]]))
    return pos, rows, cols, frac, unsure


def _rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vertices and ``(ring, part, geometry)`` offsets of (Multi)Polygons, in order.

    When none has a hole or a second part (most batches of parcels), their shells are
    read straight from GEOS without Python's lock (:mod:`._geosrings`: the batches run
    on threads, and ``shapely.get_coordinates`` holds the lock), or with one
    ``get_coordinates`` call where that path is off (10x faster than
    ``to_ragged_array``, which reads the others).
    """
    one = np.arange(geoms.size + 1, dtype=np.int64)
    found = _geosrings.scan(geoms)
    if found is not None and bool((found.kind == _geosrings.SIMPLE).all()):
        got = _geosrings.rings(found.held, found)
        if got is not None:
            return got[0], got[1], one, one
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    if simple.all():
        xy, idx = shapely.get_coordinates(geoms, return_index=True)
        ring_off = np.zeros(geoms.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(idx, minlength=geoms.size), out=ring_off[1:])
        return xy, ring_off, one, one
    _, xy, offsets = shapely.to_ragged_array(geoms, include_z=False)
    ring_off = np.asarray(offsets[0], dtype=np.int64)
    part_off = np.asarray(offsets[1], dtype=np.int64)
    if len(offsets) == 3:
        return xy, ring_off, part_off, np.asarray(offsets[2], dtype=np.int64)
    return xy, ring_off, part_off, np.arange(part_off.size, dtype=np.int64)


def _boxes(
    u: np.ndarray,
    v: np.ndarray,
    ring_off: np.ndarray,
    part_off: np.ndarray,
    geom_off: np.ndarray,
    width: int,
    height: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cell box ``(c0, r0, c1, r1)`` of each geometry (-1 where unsure) and its cell count."""
    start = ring_off[part_off[geom_off[:-1]]]
    end = ring_off[part_off[geom_off[1:]]]
    ng = geom_off.size - 1
    box = np.full((ng, 4), -1, dtype=np.int64)
    has = end > start
    idx = np.flatnonzero(has)
    if idx.size:
        s = start[idx]
        with np.errstate(invalid="ignore"):
            c0 = np.floor(np.minimum.reduceat(u, s))
            c1 = np.ceil(np.maximum.reduceat(u, s))
            r0 = np.floor(np.minimum.reduceat(v, s))
            r1 = np.ceil(np.maximum.reduceat(v, s))
        inside = (c0 >= 0) & (r0 >= 0) & (c1 <= width) & (r1 <= height)
        inside &= (c1 > c0) & (r1 > r0)
        cells = (c1 - c0) * (r1 - r0)
        inside &= cells <= _MAX_BOX_CELLS
        sel = idx[inside]
        box[sel] = np.column_stack([c0, r0, c1, r1])[inside].astype(np.int64)
    cells = np.where(box[:, 0] >= 0, (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]), 0)
    return box, cells


def _compiled() -> Callable[..., int]:
    """Return the compiled pass (compiled on first use, cached on disk)."""
    return _jit.kernel(globals(), "_coverage_loop")


def _coverage_loop(u, v, ring_off, part_off, geom_off, box, pos, rows, cols, frac, bad):  # type: ignore[no-untyped-def]
    """Compiled pass: the pieces of every geometry with a box; returns how many were written.

    One function (numba compiles and caches it alone): per geometry, its
    accumulation rows; per edge, the walk across the cell lines; per piece, its
    two additions; then the running sums, row by row.
    """
    m = 0
    ng = geom_off.size - 1
    for g in range(ng):
        c0, r0, c1, r1 = box[g, 0], box[g, 1], box[g, 2], box[g, 3]
        if c0 < 0:
            continue
        w = c1 - c0
        h = r1 - r0
        w1 = w + 1
        acc = np.zeros(h * w1)
        for p in range(geom_off[g], geom_off[g + 1]):
            for k in range(part_off[p], part_off[p + 1]):
                a, b = ring_off[k], ring_off[k + 1]
                # signed area of the ring as accumulated (-∮ u dv), to orient it by role
                area = 0.0
                for i in range(a, b - 1):
                    area -= 0.5 * (u[i] + u[i + 1]) * (v[i + 1] - v[i])
                forward = area > 0
                if k != part_off[p]:
                    forward = not forward  # a hole counts negatively
                for i in range(a, b - 1):
                    j = i + 1 if forward else i
                    i0 = i if forward else i + 1
                    ua, va = u[i0] - c0, v[i0] - r0
                    ub, vb = u[j] - c0, v[j] - r0
                    du, dv = ub - ua, vb - va
                    # the integer lines crossed strictly inside the edge, in order along it
                    if du > 0:
                        ku, ku_end, su = int(np.floor(ua)) + 1, int(np.ceil(ub)) - 1, 1
                    else:
                        ku, ku_end, su = int(np.ceil(ua)) - 1, int(np.floor(ub)) + 1, -1
                    if dv > 0:
                        kv, kv_end, sv = int(np.floor(va)) + 1, int(np.ceil(vb)) - 1, 1
                    else:
                        kv, kv_end, sv = int(np.ceil(va)) - 1, int(np.floor(vb)) + 1, -1
                    pu, pv = ua, va
                    last = False
                    while not last:
                        tu = 2.0
                        if du != 0.0 and (ku - ku_end) * su <= 0:
                            tu = (ku - ua) / du
                        tv = 2.0
                        if dv != 0.0 and (kv - kv_end) * sv <= 0:
                            tv = (kv - va) / dv
                        if tu >= 1.0 and tv >= 1.0:
                            qu, qv = ub, vb
                            last = True
                        elif tu <= tv:
                            qu = float(ku)
                            qv = va + dv * tu
                            if tv == tu:
                                qv = float(kv)
                                kv += sv
                            ku += su
                        else:
                            qv = float(kv)
                            qu = ua + du * tv
                            kv += sv
                        d = qv - pv
                        if d != 0.0:
                            um = 0.5 * (pu + qu)
                            c = min(max(int(np.floor(um)), 0), w - 1)
                            r = min(max(int(np.floor(0.5 * (pv + qv))), 0), h - 1)
                            acc[r * w1 + c] += d * ((c + 1) - um)
                            acc[r * w1 + c + 1] += d * (um - c)
                        pu, pv = qu, qv
        start = m
        for r in range(h):
            run = 0.0
            for c in range(w):
                run += acc[r * w1 + c]
                if run > _ZERO:
                    if run > 1.0 + _ZERO:
                        bad[g] = True
                    pos[m] = g
                    rows[m] = r + r0
                    cols[m] = c + c0
                    frac[m] = np.float64(np.float32(min(run, 1.0)))
                    m += 1
                elif run < -_ZERO:
                    bad[g] = True
        if bad[g]:
            m = start
    return m

"""Contiguous blocks of work on threads (GEOS, numpy and the compiled kernels release the GIL).

Every block is computed by one call of the same function whatever the number of
threads, and the results come back in block order, so a caller whose blocks do
not depend on each other gets the same bits for any ``n_jobs``.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import shapely

__all__ = ["copies", "map_blocks", "n_workers", "run_blocks", "unprepared"]

T = TypeVar("T")


def unprepared(geoms: np.ndarray) -> np.ndarray:
    """``geoms``, or exact copies of them (WKB round trip) if any of them is prepared.

    GEOS builds and frees a prepared geometry's indexes lazily and with no lock, and
    shapely's predicates and indexed queries use a geometry's prepared state whenever it
    has one: a caller's prepared geometries, read by our threads or by another call on
    another thread, could crash the interpreter. Unprepared geometries are only read.
    """
    return copies(geoms) if shapely.is_prepared(geoms).any() else geoms


def copies(geoms: np.ndarray) -> np.ndarray:
    """Exact copies of ``geoms`` (WKB round trip: the same coordinates), never prepared."""
    return shapely.from_wkb(shapely.to_wkb(geoms))


def map_blocks(
    fn: Callable[[int, int], T],
    n: int,
    *,
    n_jobs: int,
    min_per_job: int,
    chunk: int | None = None,
) -> list[T]:
    """``[fn(lo, hi) for each block]`` over ``range(n)``, in block order.

    Without ``chunk``, ``range(n)`` is cut into at most ``n_jobs`` blocks of at
    least ``min_per_job`` items (one block when ``n`` is smaller). With ``chunk``,
    the blocks are ``chunk`` items long whatever ``n_jobs`` (so they are the same
    blocks for any thread count), and the threads take the next block as they
    become free, which keeps both cores busy when one is slowed by other work;
    still no more threads than ``n // min_per_job``.
    """
    jobs = max(1, min(int(n_jobs), n // max(int(min_per_job), 1)))
    if chunk is None:
        cuts = np.linspace(0, n, jobs + 1).astype(np.int64).tolist()
    else:
        cuts = [*range(0, n, max(int(chunk), 1)), n] if n else [0, 0]
    return run_blocks(fn, cuts, workers=jobs)


def run_blocks(fn: Callable[[int, int], T], cuts: list[int], *, workers: int) -> list[T]:
    """``[fn(lo, hi) for lo, hi in pairwise(cuts)]`` on up to ``workers`` threads.

    The calling thread works too, and every thread takes the next block as it
    becomes free. Results come back in block order. The other threads come from
    one pool kept for the process (starting threads cost ~0.5 ms each, a tenth
    of a call on 100,000 parcels); a helper that has not started when the
    caller has taken the last block is cancelled, so calls nested in a block
    never wait for a thread the pool cannot give.
    """
    nblocks = len(cuts) - 1
    workers = max(1, min(int(workers), nblocks))
    if workers == 1:
        return [fn(lo, hi) for lo, hi in itertools.pairwise(cuts)]
    results: list[T | None] = [None] * nblocks
    taken = itertools.count()  # next() on it is atomic: each block is taken once

    def work() -> None:
        while (k := next(taken)) < nblocks:
            results[k] = fn(cuts[k], cuts[k + 1])

    others = [_pool().submit(work) for _ in range(workers - 1)]
    try:
        work()
    finally:
        for f in others:
            if not f.cancel():
                f.result()  # running: it finishes its last block (or raises its error)
    return results  # type: ignore[return-value]


_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()
#: Threads the pool may hold at most (each made only when a call needs one more).
MAX_POOL_THREADS = 64


def _pool() -> ThreadPoolExecutor:
    """Return the process's pool of helper threads (made on first use)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(MAX_POOL_THREADS, thread_name_prefix="agroforest_geo"))
        return _POOL[0]


def _forget_pool() -> None:
    """In a forked child the parent's threads do not exist: start a new pool when needed."""
    global _POOL_LOCK
    _POOL.clear()
    _POOL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def n_workers(n_jobs: int) -> int:
    """Return the number of threads for ``n_jobs`` (-1: all cores).

    The one rule for every verb's ``n_jobs`` (threads in the vector verbs and in
    the raster pass alike).
    """
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)):
        raise TypeError(f"n_jobs must be an int (1, 2, ... or -1 for all cores), got {n_jobs!r}")
    if n_jobs == -1:
        try:
            return max(len(os.sched_getaffinity(0)), 1)
        except AttributeError:  # pragma: no cover - not on Linux
            return os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1, or -1 for all cores, got {n_jobs}")
    return int(n_jobs)


#: Rows per thread below which validity is checked on one thread (threads cost ~1 ms).
MIN_ROWS_PER_JOB = 20_000


def is_valid(geoms: np.ndarray, n_jobs: int = -1) -> np.ndarray:
    """``shapely.is_valid`` on blocks of rows, on up to ``n_jobs`` threads (same result).

    Polygons without holes are first proved valid by the compiled test of
    :mod:`._simplering` (when numba is installed, and already imported or the
    layer is large enough to pay for the import; it only ever answers "certainly
    valid", ~11× less CPU than GEOS); GEOS decides every other row. GEOS
    releases the GIL, so its blocks run in parallel; fewer than
    :data:`MIN_ROWS_PER_JOB` rows per thread stay on one.

    Examples
    --------
    >>> import shapely
    >>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> is_valid(np.array([shapely.box(0, 0, 1, 1), None, bowtie], dtype=object)).tolist()
    [True, False, False]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = _proved_polygons(geoms)
    todo = np.flatnonzero(~out)
    if todo.size:
        rest = geoms[todo]
        out[todo] = np.concatenate(
            map_blocks(
                lambda lo, hi: np.asarray(shapely.is_valid(rest[lo:hi]), dtype=bool),
                rest.size,
                n_jobs=n_workers(n_jobs),
                min_per_job=MIN_ROWS_PER_JOB,
            )
        )
    return out


def _proved_polygons(geoms: np.ndarray) -> np.ndarray:
    """Rows that are Polygons without holes proved valid (all False without numba)."""
    from . import _geosrings, _jit
    from ._ringarea import MIN_COMPILED_VERTICES
    from ._simplering import available, proved_simple

    out = np.zeros(geoms.size, dtype=bool)
    if geoms.size == 0:
        return out
    if geoms.size >= _geosrings.MIN_ROWS and _geosrings.available():
        # a large layer: its shells read straight from GEOS, without the GIL
        found = _geosrings.scan(geoms)
        got = None if found is None else _geosrings.rings(geoms, found)
        if got is not None:
            xy, start, owner, _, n_simple = got
            out[owner[:n_simple]] = proved_simple(xy, start[: n_simple + 1])
            return out
    rows = np.flatnonzero(shapely.get_type_id(geoms) == 3)
    rows = rows[shapely.get_num_interior_rings(geoms[rows]) == 0]
    if rows.size == 0:
        return out
    shells = geoms[rows]
    counts = shapely.get_num_coordinates(shells)
    if not _jit.loaded() and counts.sum() < MIN_COMPILED_VERTICES:
        return out  # a small layer: GEOS is cheaper than importing numba
    if not available():
        return out
    start = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    out[rows] = proved_simple(shapely.get_coordinates(shells), start)
    return out

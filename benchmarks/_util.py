"""Small helpers shared by the benchmark scripts: timing and peak memory."""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measure(
    fn: Callable[[], Any], *, repeat: int = 1, memory: bool = True
) -> tuple[float, float, Any]:
    """Return (best wall time in s, peak Python-allocated memory in MB, result).

    Time is measured without tracing (tracemalloc slows Python-level loops far
    more than vectorized code, which would flatter the vectorized side); the
    peak memory comes from one extra, traced run.
    """
    best = float("inf")
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    peak = float("nan")
    if memory:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return best, peak, result


def row(name: str, seconds: float, peak_mb: float, extra: str = "") -> str:
    return f"{name:<44s} {seconds:9.3f} s {peak_mb:9.1f} MB  {extra}"


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float, Any]:
    """Return (best wall time, least CPU time of the process, in s, over ``repeat`` runs; result).

    On a machine shared with other jobs the wall time of a run depends on how much of
    the cores it got; its CPU time (all threads) depends much less on that, so both
    are reported: a one-thread run's CPU time is what its wall time would be alone.
    """
    best = cpu = float("inf")
    result = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, cpu, result


def load_note() -> str:
    """The machine's load averages (1, 5, 15 min) against its core count, for the record."""
    one, five, fifteen = os.getloadavg()
    cores = os.cpu_count() or 1
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {cores} cores"


#: Lines of this form are collected by ``run_all.py`` into the summary that ends ``make bench``.
RATIO_TAG = "RATIO |"


def ratio(
    label: str,
    ours_s: float,
    theirs_s: float,
    *,
    against: str,
    goal: float | None = None,
    higher_is_better: bool = True,
) -> float:
    """Print one summary line: ``theirs / ours`` (or ``ours / theirs``), the goal and the load.

    ``higher_is_better=False`` is for a ratio to a floor (ours / the I/O floor), where
    the goal is an upper bound.
    """
    value = theirs_s / ours_s if higher_is_better else ours_s / theirs_s
    if goal is None:
        verdict = ""
    elif higher_is_better:
        verdict = f"goal >= {goal:g}x: {'met' if value >= goal else 'NOT met'}"
    else:
        verdict = f"goal <= {goal:g}x: {'met' if value <= goal else 'NOT met'}"
    print(
        f"{RATIO_TAG} {label} | {value:.2f}x {against} | ours {ours_s:.3f} s, "
        f"theirs {theirs_s:.3f} s | {verdict} | {load_note()}",
        flush=True,
    )
    return value


def limit(label: str, seconds: float, *, goal_s: float) -> None:
    """Print one summary line for an absolute goal (e.g. 1M parcels in under 5 s)."""
    verdict = f"goal < {goal_s:g} s: {'met' if seconds < goal_s else 'NOT met'}"
    print(f"{RATIO_TAG} {label} | {seconds:.2f} s | | {verdict} | {load_note()}", flush=True)

"""Blocks of work on threads: the same results for any number of threads, no deadlock."""

from __future__ import annotations

import itertools

import pytest

from agroforest_geo import _threads


def test_results_come_back_in_block_order_for_any_thread_count():
    cuts = [0, 3, 7, 7, 20, 21]
    want = [list(range(lo, hi)) for lo, hi in itertools.pairwise(cuts)]
    for workers in (1, 2, 3, 8):
        assert _threads.run_blocks(lambda a, b: list(range(a, b)), cuts, workers=workers) == want


def test_an_error_in_a_block_reaches_the_caller():
    def fail(lo: int, hi: int) -> int:
        if lo == 40:
            raise ValueError("block 40")
        return lo

    with pytest.raises(ValueError, match="block 40"):
        _threads.run_blocks(fail, list(range(0, 101, 10)), workers=4)


def test_blocks_nested_in_blocks_never_wait_for_a_thread():
    # the helper threads come from one pool: a block that itself runs blocks (more of them
    # than the pool could give at once) must still finish, with every block computed once
    def inner(lo: int, hi: int) -> int:
        return sum(_threads.run_blocks(lambda a, b: b - a, list(range(lo, hi + 1)), workers=200))

    cuts = list(range(0, 2_001, 100))
    assert _threads.run_blocks(inner, cuts, workers=_threads.MAX_POOL_THREADS + 5) == [100] * 20


def test_a_forked_child_runs_blocks_on_its_own_threads():
    import multiprocessing as mp

    _threads.run_blocks(lambda a, b: b - a, [0, 1, 2, 3], workers=3)  # the parent's pool exists
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply(_threads.run_blocks, (_sum_range, list(range(0, 101, 10))), {"workers": 4})
    assert got == [sum(range(lo, lo + 10)) for lo in range(0, 100, 10)]


def _sum_range(lo: int, hi: int) -> int:
    return sum(range(lo, hi))

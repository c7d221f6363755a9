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


def test_unprepared_copies_only_when_something_is_prepared():
    import numpy as np
    import shapely

    geoms = shapely.buffer(shapely.points(np.arange(5.0), np.zeros(5)), 0.4)
    assert _threads.unprepared(geoms) is geoms  # nothing prepared: no copy
    shapely.prepare(geoms[2])
    copies = _threads.unprepared(geoms)
    assert not shapely.is_prepared(copies).any()
    assert shapely.equals_identical(copies, geoms).all()  # the same coordinates, bit for bit
    assert shapely.is_prepared(geoms[2])  # the caller's geometry is left as it was


def test_the_verbs_never_read_a_callers_prepared_geometry():
    # GEOS prepares lazily with no lock: the layers as the verbs hold them are never prepared
    import geopandas as gpd
    import numpy as np
    import shapely

    from agroforest_geo import inputs, overlap

    geoms = shapely.buffer(shapely.points(np.arange(6.0) * 1e3 + 5e5, np.full(6, 9.2e6)), 300.0)
    shapely.prepare(geoms)
    layer = gpd.GeoDataFrame({"parcel_id": [f"p{i}" for i in range(6)]}, geometry=geoms, crs=32718)
    held = overlap._prepare(layer, "parcels", None, "raise")
    assert not shapely.is_prepared(held.geoms).any()
    assert not shapely.is_prepared(inputs._polygon_array(layer, "parcels")).any()
    assert shapely.is_prepared(layer.geometry.values).all()  # the caller's, untouched

"""Overlapping pairs in threads: the same bits for any thread count, the same relations."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st

import agroforest_geo as agf
from agroforest_geo import _pairs
from agroforest_geo import overlap as overlap_module

X0, Y0 = 500_000.0, 9_200_000.0
UTM = "EPSG:32718"


def _dense_layer(n: int, seed: int) -> gpd.GeoDataFrame:
    """Rotated rectangles on a tight grid, with exact copies, nested and enclosing ones."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    geoms = []
    for i in range(n):
        x, y = X0 + (i % side) * 60.0, Y0 + (i // side) * 60.0
        kind = rng.integers(0, 10)
        if kind == 0 and geoms:  # an exact copy of the previous one, vertices reordered
            prev = np.asarray(geoms[-1].exterior.coords)[:-1]
            geoms.append(shapely.Polygon(np.roll(prev, 2, axis=0)))
        elif kind == 1 and geoms:  # nested inside the previous one, sharing an edge
            b = geoms[-1].bounds
            geoms.append(shapely.box(b[0], b[1], (b[0] + b[2]) / 2, (b[1] + b[3]) / 2))
        elif kind == 2 and geoms:  # around the previous one: that one is within it
            b = geoms[-1].bounds
            geoms.append(shapely.box(b[0] - 5, b[1] - 5, b[2] + 5, b[3] + 5))
        else:
            g = shapely.box(x, y, x + rng.uniform(40, 110), y + rng.uniform(40, 110))
            geoms.append(shapely.affinity.rotate(g, rng.uniform(0, 90)))
    return gpd.GeoDataFrame({"parcel_id": [f"p{i}" for i in range(n)]}, geometry=geoms, crs=UTM)


def _small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pairs, "MIN_PAIRS_PER_JOB", 10)
    monkeypatch.setattr(_pairs, "MIN_QUERIES_PER_JOB", 7)
    monkeypatch.setattr(overlap_module, "_MIN_ROWS_PER_JOB", 7)


def _assert_identical(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert (shapely.to_wkb(a.geometry.values) == shapely.to_wkb(b.geometry.values)).all()


def test_overlaps_give_the_same_bits_for_any_thread_count(monkeypatch):
    parcels = _dense_layer(400, seed=5)
    other = _dense_layer(300, seed=6).rename(columns={"parcel_id": "area_id"})
    one = agf.overlaps(parcels, n_jobs=1)
    one_other = agf.overlaps(parcels, other, n_jobs=1)
    assert len(one) > 500 and set(one.relation) == {"partial", "within", "contains", "duplicate"}
    _small_blocks(monkeypatch)  # threads even on this small layer
    for n_jobs in (2, 3, -1):
        _assert_identical(agf.overlaps(parcels, n_jobs=n_jobs), one)
        _assert_identical(agf.overlaps(parcels, other, n_jobs=n_jobs), one_other)


def test_threads_and_prepared_inputs(monkeypatch):
    # a prepared geometry is never shared between threads (GEOS builds its index lazily)
    parcels = _dense_layer(200, seed=8)
    one = agf.overlaps(parcels, n_jobs=1)
    shapely.prepare(parcels.geometry.values)
    _small_blocks(monkeypatch)
    _assert_identical(agf.overlaps(parcels, n_jobs=3), one)


def test_n_jobs_is_checked():
    parcels = _dense_layer(4, seed=1)
    with pytest.raises(ValueError, match="n_jobs"):
        agf.overlaps(parcels, n_jobs=0)
    with pytest.raises(TypeError, match="n_jobs"):
        agf.overlaps(parcels, n_jobs="2")


def _planar(inter: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return inter, shapely.area(inter)


def _relation_by_predicates(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The relation from exact predicates on every pair (the method before the shortcut)."""
    rel = np.full(a.size, "partial", dtype=object)
    rel[shapely.covered_by(a, b)] = "within"
    rel[shapely.covers(a, b)] = "contains"
    rel[shapely.equals(a, b)] = "duplicate"
    return rel


def test_relations_from_the_intersection_match_exact_predicates_on_every_pair():
    geoms = np.asarray(_dense_layer(600, seed=11).geometry.values)
    pairs = _pairs.overlapping_pairs(geoms, geoms, within=True, n_jobs=1, measure=_planar)
    expected = _relation_by_predicates(geoms[pairs.left], geoms[pairs.right])
    assert (pairs.relation == expected).all()
    assert (pairs.relation != "partial").sum() > 50


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 200),
            st.floats(0, 200),
            st.floats(1, 150),
            st.floats(1, 150),
            st.sampled_from([0.0, 0.0, 15.0, 45.0]),
        ),
        min_size=2,
        max_size=8,
    ),
    st.integers(0, 3),
)
def test_relations_match_exact_predicates_on_random_layouts(rects, nested):
    geoms = [
        shapely.affinity.rotate(shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h), ang)
        for x, y, w, h, ang in rects
    ]
    # nested and duplicated features, inside touching an edge, shrunk by a hair
    for k in range(min(nested, len(geoms))):
        g = geoms[k]
        geoms.append(shapely.affinity.scale(g, 0.5, 0.5, origin=g.exterior.coords[0]))
        geoms.append(shapely.affinity.scale(g, 1 - 1e-12, 1 - 1e-12))
        geoms.append(shapely.Polygon(list(g.exterior.coords)[::-1]))
    arr = np.array(geoms, dtype=object)
    pairs = _pairs.overlapping_pairs(arr, arr, within=True, n_jobs=1, measure=_planar)
    expected = _relation_by_predicates(arr[pairs.left], arr[pairs.right])
    assert (pairs.relation == expected).all()
    # and the pairs are those whose intersection has an area, each unordered pair once
    li, ri = np.triu_indices(arr.size, k=1)
    positive = shapely.area(shapely.intersection(arr[li], arr[ri])) > 0
    assert set(zip(pairs.left, pairs.right, strict=True)) == set(
        zip(li[positive], ri[positive], strict=True)
    )

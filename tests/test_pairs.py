"""Overlapping pairs in threads: the same bits for any thread count, the same relations."""

from __future__ import annotations

import gc
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st

import agroforest_geo as agf
from agroforest_geo import _pairs, _ringarea, _separation
from agroforest_geo import overlap as overlap_module
from agroforest_geo._gc import paused_gc
from agroforest_geo._threads import map_blocks
from agroforest_geo.area import geodesic_area_m2

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
    monkeypatch.setattr(_pairs, "PAIRS_PER_BLOCK", 37)
    monkeypatch.setattr(_pairs, "MIN_PAIRS_COMPILED", 0)
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


# ------------------------------------------------------------ the fast paths against GEOS
def _star(cx: float, cy: float, radii: list[float], turn: float) -> shapely.Polygon:
    t = turn + np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    r = np.asarray(radii)
    return shapely.Polygon(np.column_stack([X0 + cx + r * np.cos(t), Y0 + cy + r * np.sin(t)]))


def _awkward(kind: int, g: shapely.Geometry, d: float) -> shapely.Geometry:
    """A feature placed against ``g`` in one of the awkward ways."""
    x0, y0, x1, y1 = g.bounds
    if kind == 0:  # an exact copy, vertices reordered
        return shapely.Polygon(np.roll(np.asarray(g.exterior.coords)[:-1], 3, axis=0))
    if kind == 1:  # nested, touching the boundary at a vertex
        return shapely.affinity.scale(g, 0.5, 0.5, origin=g.exterior.coords[0])
    if kind == 2:  # touching along the right edge of the bounding box
        return shapely.box(x1, y0, x1 + d, y1)
    if kind == 3:  # apart by a gap of d / 1000 (down to a tenth of a millimetre)
        return shapely.affinity.translate(g, x1 - x0 + d / 1000, 0)
    if kind == 4:  # a ring around it: g fills the hole, no overlap
        return shapely.Polygon(
            shapely.box(x0 - d, y0 - d, x1 + d, y1 + d).exterior.coords,
            [np.asarray(g.exterior.coords)[::-1]],
        )
    if kind == 5:  # a multipolygon with one part across g and one far away
        return shapely.MultiPolygon(
            [shapely.box(x0 - d, y0, (x0 + x1) / 2, y1), shapely.box(x1 + 500, y0, x1 + 600, y1)]
        )
    if kind == 6:  # with a hole that g pokes into
        outer = shapely.box(x0 - 2 * d, y0 - 2 * d, x1 + 2 * d, (y0 + y1) / 2)
        hole = shapely.box(x0 - d, y0 - d, x1 + d, (y0 + y1) / 2 - d / 10)
        return outer.difference(hole)
    return shapely.affinity.scale(g, 1 - 1e-12, 1 - 1e-12)  # shrunk by a hair: within


_features = st.lists(
    st.tuples(
        st.floats(0, 300),
        st.floats(0, 300),
        st.lists(st.floats(5, 80), min_size=3, max_size=12),
        st.floats(0, 6.3),
        st.integers(-1, 7),
        st.floats(0.1, 50),
    ),
    min_size=2,
    max_size=10,
)


def _layout(features: list) -> np.ndarray:
    geoms: list = []
    for cx, cy, radii, turn, kind, d in features:
        g = shapely.make_valid(_star(cx, cy, radii, turn))
        if g.geom_type != "Polygon":
            g = g.convex_hull
        geoms.append(g)
        if kind >= 0:
            geoms.append(shapely.make_valid(_awkward(kind, g, d)))
    return np.array(geoms, dtype=object)


def _reference(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every unordered pair through GEOS: intersection, positive area, exact predicates."""
    li, ri = np.triu_indices(arr.size, k=1)
    inter = shapely.intersection(arr[li], arr[ri])
    pos = shapely.area(inter) > 0
    li, ri, inter = li[pos], ri[pos], inter[pos]
    return li, ri, inter, _relation_by_predicates(arr[li], arr[ri])


def _compiled_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pairs, "MIN_PAIRS_COMPILED", 0)
    monkeypatch.setattr(_pairs, "PAIRS_PER_BLOCK", 7)


@settings(max_examples=80, deadline=None)
@given(_features)
def test_fast_paths_match_the_full_overlay_of_every_pair(features):
    arr = _layout(features)
    li, ri, inter, relation = _reference(arr)
    with pytest.MonkeyPatch.context() as mp:
        _compiled_everywhere(mp)
        pairs = _pairs.overlapping_pairs(arr, arr, within=True, n_jobs=1, measure=_planar)
    assert pairs.left.tolist() == li.tolist() and pairs.right.tolist() == ri.tolist()
    assert (pairs.relation == relation).all()
    partial = relation == "partial"
    # a partial pair's piece is GEOS's own intersection, bit for bit
    assert (shapely.to_wkb(pairs.pieces[partial]) == shapely.to_wkb(inter[partial])).all()
    # a covered feature is its own intersection: the same point set and area
    assert shapely.equals(pairs.pieces[~partial], inter[~partial]).all()
    np.testing.assert_allclose(pairs.m2, shapely.area(inter), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(_features)
def test_separating_lines_never_part_features_that_meet(features):
    arr = _layout(features)
    li, ri = np.triu_indices(arr.size, k=1)
    verts = _separation.vertices(arr)
    apart = _separation.apart(verts, verts, li, ri)
    assert not (apart & shapely.intersects(arr[li], arr[ri])).any()
    # and two convex features a gap apart are always told apart (the test can fail)
    hulls = shapely.convex_hull(arr)
    hv = _separation.vertices(hulls)
    gap = shapely.distance(hulls[li], hulls[ri]) > 1e-3
    assert _separation.apart(hv, hv, li[gap], ri[gap]).all()


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_separation_leaves_nan_touching_and_hairline_gaps_undecided():
    a = shapely.box(X0, Y0, X0 + 10, Y0 + 10)
    arr = np.array(
        [
            a,
            shapely.box(X0 + 10, Y0, X0 + 20, Y0 + 10),  # shares an edge
            shapely.box(X0 + 10 + 1e-7, Y0, X0 + 20, Y0 + 10),  # 0.1 µm away: below the margin
            shapely.box(X0 + 10.01, Y0, X0 + 20, Y0 + 10),  # 1 cm away
            shapely.Polygon([(X0 + 11, Y0), (np.nan, Y0), (X0 + 12, Y0 + 5)]),
            None,
        ],
        dtype=object,
    )
    verts = _separation.vertices(arr)
    got = _separation.apart(verts, verts, np.zeros(5, dtype=np.intp), np.arange(1, 6))
    assert got.tolist() == [False, False, True, False, False]


def test_without_numba_geos_decides_and_the_results_are_the_same(monkeypatch):
    parcels = _dense_layer(500, seed=21)
    other = _dense_layer(300, seed=22).rename(columns={"parcel_id": "area_id"})
    _compiled_everywhere(monkeypatch)
    fast = agf.overlaps(parcels, n_jobs=1), agf.overlaps(parcels, other, n_jobs=1)
    monkeypatch.setenv(_ringarea.ENV_VAR, "numpy")  # no compiled kernel at all
    assert not _separation.available()
    slow = agf.overlaps(parcels, n_jobs=1), agf.overlaps(parcels, other, n_jobs=1)
    for a, b in zip(fast, slow, strict=True):
        _assert_identical(a, b)


@pytest.mark.parametrize("invalid", ["raise", "repair", "nan"])
def test_invalid_policies_give_the_same_table_on_every_path(monkeypatch, invalid):
    parcels = _dense_layer(300, seed=31)
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 80, Y0 + 80), (X0 + 80, Y0), (X0, Y0 + 80)])
    if invalid != "raise":
        parcels.loc[[3, 40], "geometry"] = [bowtie, bowtie]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", agf.GeometryWarning)
        with monkeypatch.context() as mp:
            mp.setattr(_separation, "available", lambda: False)
            mp.setattr(_pairs, "PAIRS_PER_BLOCK", 10**9)
            slow = agf.overlaps(parcels, invalid=invalid, n_jobs=1)
        _compiled_everywhere(monkeypatch)
        monkeypatch.setattr(_pairs, "MIN_PAIRS_PER_JOB", 10)
        for n_jobs in (1, 2, -1):
            _assert_identical(agf.overlaps(parcels, invalid=invalid, n_jobs=n_jobs), slow)
        # and against the full overlay of every pair of the geometries the verb measured
        layer = overlap_module._prepare(parcels, "layer", None, invalid, circles=True)
    geoms = overlap_module._polygons_only(layer.geoms)
    li, ri, inter, relation = _reference(geoms)
    assert slow.parcel_id_left.tolist() == layer.ids[li].tolist()
    assert slow.parcel_id_right.tolist() == layer.ids[ri].tolist()
    assert slow.relation.tolist() == relation.tolist()
    if invalid == "repair":  # the bow-ties became two triangles each
        assert (shapely.get_type_id(geoms) == 6).sum() == 2
    assert {"partial", "within", "contains", "duplicate"} <= set(relation)
    partial = relation == "partial"
    full_ha = geodesic_area_m2(overlap_module._polygonal(inter), UTM) / 1e4
    assert (slow.overlap_ha.to_numpy()[partial] == full_ha[partial]).all()
    np.testing.assert_allclose(slow.overlap_ha, full_ha, rtol=1e-12)
    assert shapely.equals(slow.geometry.values, overlap_module._polygonal(inter)).all()


def test_empty_and_tiny_layers_on_the_compiled_path(monkeypatch):
    _compiled_everywhere(monkeypatch)
    geoms = np.array([None, shapely.box(X0, Y0, X0 + 10, Y0 + 10), None], dtype=object)
    for arr in (geoms[:0], geoms[:1], geoms, geoms[[1, 1]]):
        pairs = _pairs.overlapping_pairs(arr, arr, within=True, n_jobs=2, measure=_planar)
        expected = 1 if arr.size == 2 and arr[0] is not None else 0
        assert pairs.left.size == pairs.m2.size == pairs.relation.size == expected
    pairs = _pairs.overlapping_pairs(
        geoms[[1, 1]], geoms[[1, 1]], within=True, n_jobs=1, measure=_planar
    )
    assert pairs.relation.tolist() == ["duplicate"] and pairs.pieces[0] is geoms[1]


def test_blocks_are_the_same_for_any_thread_count():
    seen: dict[int, list[tuple[int, int]]] = {}
    for n_jobs in (1, 2, 5):
        seen[n_jobs] = map_blocks(
            lambda lo, hi: (lo, hi), 23, n_jobs=n_jobs, min_per_job=1, chunk=5
        )
    assert seen[1] == seen[2] == seen[5] == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 23)]
    assert map_blocks(lambda lo, hi: (lo, hi), 0, n_jobs=2, min_per_job=1, chunk=5) == [(0, 0)]
    assert map_blocks(lambda lo, hi: (lo, hi), 10, n_jobs=2, min_per_job=1) == [(0, 5), (5, 10)]


def test_collector_is_paused_and_restored():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError
    assert gc.isenabled()

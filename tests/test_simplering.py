"""The validity proof never says "valid" where GEOS says invalid, and changes no result.

:mod:`agroforest_geo._simplering` proves polygons valid so that ``shapely.is_valid``
runs only on the others. These tests hold it against GEOS on adversarial rings
(exact and near degeneracies: spikes, repeated and collinear points, self-touching
rings, vertices on edges and 1e-15 away from them, huge and tiny coordinates, NaN),
check that it does prove the ordinary parcels valid (else it would be useless), and
that ``area_ha``'s hectares and warnings are the same with and without it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import agroforest_geo as agf
import agroforest_geo.area as area_module
from agroforest_geo import _ringarea, _simplering
from agroforest_geo._screen import screen

pytestmark = pytest.mark.skipif(
    not _simplering.available(), reason="numba (the fast extra) is not installed"
)


def _proved_and_valid(rings: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The proof and GEOS on one-ring polygons built from ``rings`` (closed by shapely)."""
    polys = np.array([shapely.Polygon(r) for r in rings], dtype=object)
    xy, idx = shapely.get_coordinates(polys, return_index=True)
    start = np.searchsorted(idx, np.arange(polys.size + 1))
    finite = ~_nonfinite(polys)
    valid = np.zeros(polys.size, dtype=bool)
    valid[finite] = shapely.is_valid(polys[finite])
    return _simplering.proved_simple(xy, start), valid


def _nonfinite(polys: np.ndarray) -> np.ndarray:
    xy, idx = shapely.get_coordinates(polys, return_index=True)
    out = np.zeros(polys.size, dtype=bool)
    out[idx[~np.isfinite(xy).all(axis=1)]] = True
    return out


def _star(rng: np.random.Generator, k: int, wobble: float = 0.3) -> np.ndarray:
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    r = rng.uniform(1 - wobble, 1 + wobble, k)
    return np.c_[r * np.cos(ang), r * np.sin(ang)]


def _attack(ring: np.ndarray, rng: np.random.Generator, how: int) -> np.ndarray:
    """Move the ring towards a degenerate case, exactly or within a few ulps of it."""
    out = ring.copy()
    k = len(out)
    i, j = sorted(rng.choice(k, 2, replace=False))
    if how == 0:  # a vertex onto another one (self-touching ring)
        out[j] = out[i]
    elif how == 1:  # a vertex onto the middle of a non-neighbouring edge, as rounded
        e = (i + k // 2) % k
        out[i] = (out[e] + out[(e + 1) % k]) / 2
    elif how == 2:  # a repeated vertex
        out = np.insert(out, i, out[i], axis=0)
    elif how == 3:  # a spike: out to a point and back along the same line
        tip = out[i] + (out[i] - out[(i - 1) % k]) * 0.5
        out = np.insert(out, i + 1, [tip, out[i]], axis=0)
    elif how == 4:  # a collinear vertex between two neighbours
        out = np.insert(out, i + 1, (out[i] + out[(i + 1) % k]) / 2, axis=0)
    elif how == 5:  # a vertex 1e-15 (relative) from the middle of another edge
        e = (i + k // 2) % k
        mid = (out[e] + out[(e + 1) % k]) / 2
        out[i] = mid * (1 + rng.choice([-1, 1], 2) * 1e-15)
    elif how == 6:  # two vertices swapped (a bow-tie)
        out[[i, j]] = out[[j, i]]
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(3, 60),
    how=st.integers(-1, 6),
    scale=st.sampled_from([1.0, 1e-9, 3.7e-6, 1e6, 1e150, 1e-150, 1e300]),
    offset=st.sampled_from([0.0, -76.5, 5e5, 9.2e6, 1e15, -3.3e-7]),
)
def test_proof_never_contradicts_geos_on_stars_and_their_degenerate_neighbours(
    seed, k, how, scale, offset
):
    rng = np.random.default_rng(seed)
    ring = _star(rng, k)
    if how >= 0:
        ring = _attack(ring, rng, how)
    ring = ring * scale + offset
    proved, valid = _proved_and_valid([ring])
    assert not (proved & ~valid).any()


@settings(max_examples=300, deadline=None)
@given(
    pts=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=3, max_size=14),
    scale=st.sampled_from([1.0, 0.1, 1 / 3, 1e-12, 2.0**-1070, 1e200]),
    offset=st.sampled_from([0.0, 0.1, -76.7, 1e16]),
)
def test_proof_never_contradicts_geos_on_rings_of_a_small_grid(pts, scale, offset):
    # a 4 x 4 grid makes every exact degeneracy: collinear runs, touching, overlapping edges
    ring = np.asarray(pts, dtype=float) * scale + offset
    proved, valid = _proved_and_valid([ring])
    assert not (proved & ~valid).any()


@settings(max_examples=150, deadline=None)
@given(
    xs=st.lists(
        st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=6, max_size=40
    ).filter(lambda v: len(v) % 2 == 0)
)
def test_proof_never_contradicts_geos_on_arbitrary_floats(xs):
    ring = np.asarray(xs, dtype=float).reshape(-1, 2)
    try:
        shapely.Polygon(ring)
    except shapely.errors.GEOSException:  # e.g. NaN first and last: cannot be closed
        assume(False)
    proved, valid = _proved_and_valid([ring])
    assert not (proved & ~valid).any()


def test_hand_made_invalid_rings_are_not_proved():
    bowtie = [(0, 0), (1, 1), (1, 0), (0, 1)]
    spike = [(0, 0), (2, 0), (2, 2), (2, 3), (2, 2), (0, 2)]
    repeated = [(0, 0), (1, 0), (1, 0), (1, 1), (0, 1)]
    zero_area = [(0, 0), (1, 0), (2, 0)]
    touching = [(0, 0), (4, 0), (4, 4), (2, 0), (0, 4)]  # a vertex on the bottom edge
    figure8 = [(0, 0), (2, 2), (4, 0), (4, 4), (2, 2), (0, 4)]  # through one vertex twice
    near = [(0, 0), (4, 2), (4, 4), (2, 1 + 1e-15), (0, 4)]  # 1e-15 above the bottom edge
    nan = [(0, 0), (1, 0), (np.nan, 1), (0, 1)]
    rings = [np.asarray(r, dtype=float) for r in (bowtie, spike, repeated, zero_area)]
    rings += [np.asarray(r, dtype=float) for r in (touching, figure8, near, nan)]
    proved, valid = _proved_and_valid(rings)
    assert valid.tolist() == [False, False, True, False, False, False, True, False]
    assert not proved[[0, 1, 3, 4, 5, 7]].any()
    assert not proved[2]  # valid for GEOS, but a repeated point is left to it


def test_only_x_and_y_count_as_for_geos():
    # GEOS judges x and y: a NaN or infinite z leaves a polygon valid, and proved
    p = shapely.Polygon([(0, 0, np.nan), (1, 0, np.inf), (1, 1, 5.0)])
    xy = shapely.get_coordinates(p)
    assert shapely.is_valid(p)
    assert _simplering.proved_simple(xy, np.array([0, len(xy)])).tolist() == [True]


def test_ordinary_parcels_are_proved_so_geos_is_rarely_asked():
    # the proof must be worth its pass: well-shaped parcels (and the 1e-15-away case
    # that GEOS calls valid stays unproved, as it should) are proved as GEOS judges them
    rng = np.random.default_rng(7)
    rings = [_star(rng, int(k)) * 1e-3 + (-76.5, -7.2) for k in rng.integers(3, 200, 2_000)]
    proved, valid = _proved_and_valid(rings)
    assert not (proved & ~valid).any()
    assert proved.sum() >= 0.99 * valid.sum()
    squares = [np.asarray(shapely.box(x, 0, x + 1, 1).exterior.coords) for x in range(10)]
    assert _proved_and_valid(squares)[0].all()


def test_long_rings_are_swept_and_hopeless_sweeps_give_up():
    rng = np.random.default_rng(3)
    long_ok = _star(rng, 5_000, wobble=0.05)
    long_bad = _attack(_star(rng, 5_000, wobble=0.05), rng, 6)
    # half a sun of 1,000 long thin rays, closed through its centre: the envelopes of most
    # ray edges overlap each other, more pair tests than the sweep allows per segment; it
    # is star-shaped around its centre but not around its centroid (~20 units out), so the
    # star test does not prove it either
    ang = np.linspace(0, np.pi, 2_000)
    r = np.where(np.arange(2_000) % 2, 100.0, 1.0)
    sun = np.r_[np.c_[r * np.cos(ang), r * np.sin(ang)], [[0.0, 0.0]]]
    proved, valid = _proved_and_valid([long_ok, long_bad, sun])
    assert proved[0] and valid[0]
    assert not proved[1] and not valid[1]
    assert valid[2] and not proved[2]  # GEOS decides
    assert not (proved & ~valid).any()
    assert len(long_ok) > _simplering.BRUTE_FORCE_SEGMENTS


def test_compiled_proof_matches_its_python_source_on_random_rings(tmp_path):
    # numba's semantics (bool arithmetic, integer types) could differ from Python's: the
    # same source run by the interpreter (NUMBA_DISABLE_JIT) must give the same answers
    rng = np.random.default_rng(11)
    rings = [_attack(_star(rng, int(k)), rng, int(rng.integers(-1, 7))) for k in range(3, 80)]
    rings += [np.asarray(r, dtype=float) * 1e-3 for r in ([(0, 0), (2, 0), (1, 1)],) * 3]
    polys = np.array([shapely.Polygon(r) for r in rings], dtype=object)
    xy, idx = shapely.get_coordinates(polys, return_index=True)
    start = np.searchsorted(idx, np.arange(polys.size + 1))
    np.save(tmp_path / "xy.npy", xy)
    np.save(tmp_path / "start.npy", start)
    code = (
        "import numpy as np, sys; from agroforest_geo._simplering import proved_simple; "
        f"d = {str(tmp_path)!r}; "
        "np.save(d + '/out.npy', proved_simple(np.load(d + '/xy.npy'), np.load(d + '/start.npy')))"
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    interpreted = np.load(tmp_path / "out.npy")
    compiled = _simplering.proved_simple(xy, start)
    assert np.array_equal(compiled, interpreted)
    assert 0 < compiled.sum() < compiled.size


# --- area_ha: the same hectares and warnings with and without the proof ---------------


def _layer(rng: np.random.Generator, n: int) -> gpd.GeoDataFrame:
    geoms: list = []
    for i in range(n):
        ring = _star(rng, int(rng.integers(3, 40))) * 4e-4 + (-76.5 + i * 1e-3, -7.2)
        kind = i % 11
        if kind == 0:
            ring = _attack(ring, rng, int(rng.integers(0, 7)))
        geom = shapely.Polygon(ring)
        if kind == 1:
            geom = shapely.Polygon(ring, [ring[::-1] * 0.5 + ring.mean(axis=0) * 0.5])
        elif kind == 2:
            geom = shapely.MultiPolygon([geom, shapely.Polygon(ring + 1e-3)])
        elif kind == 3:
            geom = [None, shapely.Polygon(), shapely.Point(ring[0]), shapely.LineString(ring)][
                i % 4
            ]
        elif kind == 4:
            geom = shapely.Polygon(np.where(np.arange(len(ring))[:, None] == 1, np.nan, ring))
        elif kind == 5:
            geom = shapely.GeometryCollection([geom, shapely.LineString(ring[:2])])
        geoms.append(geom)
    return gpd.GeoDataFrame(geometry=geoms, index=np.arange(n) * 3 + 1, crs=4326)


def _area_and_warnings(layer, invalid, proof: bool, monkeypatch) -> tuple[pd.Series, list]:
    with monkeypatch.context() as m:
        m.setenv(_ringarea.ENV_VAR, "numba")  # the compiled kernel even on a small layer
        if not proof:
            m.setattr(area_module, "proved_simple", lambda xy, s: np.zeros(s.size - 1, bool))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out = agf.area_ha(layer, invalid=invalid)
            except agf.InvalidGeometryError as err:
                out = pd.Series([str(err)])
    return out, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("invalid", ["warn", "nan", "raise"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_area_ha_is_unchanged_by_the_proof(invalid, seed, monkeypatch):
    layer = _layer(np.random.default_rng(seed), 300)
    fast, fast_w = _area_and_warnings(layer, invalid, True, monkeypatch)
    slow, slow_w = _area_and_warnings(layer, invalid, False, monkeypatch)
    pd.testing.assert_series_equal(fast, slow, check_exact=True)
    assert fast_w == slow_w
    said = " ".join(msg for _, msg in fast_w) + str(fast.iloc[0])  # warned, or raised
    assert "invalid gdf geometries" in said  # the layer does hold invalid rows


def test_the_proof_is_used_and_agrees_with_screen_alone(monkeypatch):
    layer = _layer(np.random.default_rng(5), 400)
    geoms = np.asarray(layer.geometry.values, dtype=object)
    monkeypatch.setenv(_ringarea.ENV_VAR, "numba")
    found = area_module._measure_m2(geoms, 4326, max_segment_m=500.0, n_jobs=1, prove=True)
    types = shapely.get_type_id(geoms)
    simple = (types == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    finite = ~_nonfinite(geoms)
    valid = np.zeros(geoms.size, dtype=bool)
    valid[finite] = shapely.is_valid(geoms[finite])
    assert not (found.proved & ~(simple & valid)).any()
    # the plain polygons never reach GEOS, those in collections' blocks included (some
    # attacked rings that GEOS still calls valid, with a repeated or collinear point, do)
    assert found.proved.sum() >= 0.95 * (simple & valid & ~shapely.is_empty(geoms)).sum()
    with warnings.catch_warnings(record=True) as w1:
        warnings.simplefilter("always")
        a = screen(geoms, layer.index, invalid="nan", proved=found.proved)
    with warnings.catch_warnings(record=True) as w2:
        warnings.simplefilter("always")
        b = screen(geoms, layer.index, invalid="nan")
    assert np.array_equal(a, b)
    assert [str(w.message) for w in w1] == [str(w.message) for w in w2]


def test_threads_and_blocks_give_the_same_areas_and_proofs(monkeypatch):
    layer = _layer(np.random.default_rng(9), 500)
    geoms = np.asarray(layer.geometry.values, dtype=object)
    monkeypatch.setenv(_ringarea.ENV_VAR, "numba")
    one = area_module._measure_m2(geoms, 4326, max_segment_m=500.0, n_jobs=1, prove=True)
    monkeypatch.setattr(area_module, "_MIN_VERTICES_PER_JOB", 16)
    monkeypatch.setattr(area_module, "_MIN_ROWS_PER_JOB", 10)
    monkeypatch.setattr(area_module, "_BLOCK_VERTICES", 200)
    for n_jobs in (1, 2, 3, -1):
        many = area_module._measure_m2(geoms, 4326, max_segment_m=500.0, n_jobs=n_jobs, prove=True)
        for a, b in zip(one, many, strict=True):
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def test_a_projected_layer_is_proved_in_its_own_coordinates(monkeypatch):
    # GEOS judges the stored coordinates: the proof must too, not the lon/lat
    monkeypatch.setenv(_ringarea.ENV_VAR, "numba")
    rng = np.random.default_rng(1)
    rings = [_star(rng, 12) * 50 + (500_000 + 200 * i, 9_200_000) for i in range(200)]
    rings[7] = _attack(rings[7], rng, 6)
    layer = gpd.GeoDataFrame(geometry=[shapely.Polygon(r) for r in rings], crs=32718)
    geoms = np.asarray(layer.geometry.values, dtype=object)
    found = area_module._measure_m2(geoms, 32718, max_segment_m=500.0, n_jobs=1, prove=True)
    valid = shapely.is_valid(geoms)
    assert not (found.proved & ~valid).any()
    assert found.proved.sum() == valid.sum()
    assert math.isfinite(agf.area_ha(layer, invalid="nan").drop(index=7).sum())


@pytest.mark.parametrize(
    "name",
    ["peru_distrital_simple.geojson", "peru_provincial_simple.geojson"],
)
def test_real_boundaries_are_proved_as_geos_judges_them(shared_data, name, monkeypatch):
    # Peru's districts and provinces (INEI): rings of a few to thousands of vertices, so the
    # brute-force and the sweep paths both run on real shapes
    path = shared_data / "peru-geojson" / name
    if not path.exists():
        pytest.skip(f"{path} is not present")
    layer = gpd.read_file(path)
    geoms = np.asarray(layer.geometry.values, dtype=object)
    monkeypatch.setenv(_ringarea.ENV_VAR, "numba")
    found = area_module._measure_m2(geoms, layer.crs, max_segment_m=500.0, n_jobs=1, prove=True)
    valid = shapely.is_valid(geoms)
    assert not (found.proved & ~valid).any()
    polygons = shapely.get_type_id(geoms) == 3
    assert found.proved.sum() >= 0.95 * (polygons & valid).sum()
    fast, fast_w = _area_and_warnings(layer, "warn", True, monkeypatch)
    slow, slow_w = _area_and_warnings(layer, "warn", False, monkeypatch)
    pd.testing.assert_series_equal(fast, slow, check_exact=True)
    assert fast_w == slow_w


_MIXED = [
    shapely.box(0, 0, 1, 1),
    shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]),  # bow-tie
    shapely.Polygon([(0, 0), (2, 0), (1, 1), (2, 2), (0, 2), (1, 1), (0, 0)]),  # self-touching
    shapely.Polygon([(0, 0), (1, 0), (1, 0), (1, 1), (0, 0)]),  # repeated vertex
    shapely.Polygon([(0, 0), (1, 0), (2, 0), (0, 0)]),  # collinear: zero area
    shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 2, 2)),  # a hole
    shapely.Polygon(shapely.box(0, 0, 4, 4).exterior, [shapely.box(0, 0, 2, 2).exterior]),
    shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(0.5, 0, 2, 1)]),  # overlapping
    shapely.Polygon([(0, 0), (1, 0), (math.nan, 1), (0, 0)]),
    shapely.Polygon(),
    shapely.Point(0, 0),
    shapely.LineString([(0, 0), (1, 1)]),
    None,
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=3, max_size=9),
        min_size=1,
        max_size=12,
    )
)
def test_threaded_is_valid_is_geos_is_valid_with_the_proof_in_front(rings):
    """_threads.is_valid proves what it can and asks GEOS the rest: GEOS's answer every time."""
    from agroforest_geo._threads import is_valid

    polys = [shapely.Polygon(r) for r in rings]
    geoms = np.array(polys + _MIXED, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GEOS on NaN coordinates
        expected = np.asarray(shapely.is_valid(geoms), dtype=bool)
    for jobs in (1, 2):
        np.testing.assert_array_equal(is_valid(geoms, n_jobs=jobs), expected)
    if _simplering.available():  # the proof does the work for the valid simple shells
        from agroforest_geo._threads import _proved_polygons

        proved = _proved_polygons(geoms)
        assert proved[len(polys)]  # the unit box of _MIXED
        assert not (proved & ~expected).any()


def test_the_star_test_needs_one_turn_around_the_mean():
    # a pentagram turns the same way around its centre at every edge but goes round twice:
    # self-intersecting, never proved; a regular pentagon (once round) is
    ang = np.arange(5) * 4 * np.pi / 5
    pentagram = np.c_[np.cos(ang), np.sin(ang)]
    ang = np.arange(5) * 2 * np.pi / 5
    pentagon = np.c_[np.cos(ang), np.sin(ang)]
    proved, valid = _proved_and_valid([pentagram, pentagon, pentagon[::-1]])
    assert valid.tolist() == [False, True, True]
    assert proved.tolist() == [False, True, True]
    for m in (5, 7, 9):  # {m/2} and {m/3} stars: ~all turns certain, winding 2 or 3
        for k in range(2, (m + 1) // 2):
            a = np.arange(m) * 2 * np.pi * k / m
            p, v = _proved_and_valid([np.c_[np.cos(a), np.sin(a)]])
            assert not v[0] and not p[0]


def _comb(rng: np.random.Generator, teeth: int) -> np.ndarray:
    """A valid comb: a base bar with ``teeth`` thin teeth, not star-shaped around any point."""
    pts = [(0.0, 0.0), (float(teeth), 0.0)]
    for t in range(teeth - 1, -1, -1):
        w = rng.uniform(0.2, 0.6)
        h = rng.uniform(2.0, 10.0)
        pts += [(t + w + 0.2, 1.0), (t + w + 0.2, 1.0 + h), (t + 0.2, 1.0 + h), (t + 0.2, 1.0)]
    return np.asarray(pts)


def test_rings_that_are_not_star_shaped_are_proved_by_their_segment_pairs():
    # U shapes and combs: no edge-by-edge view from the centroid, so the star test
    # fails and the pair tests (brute force up to 24 segments, the sweep beyond) prove them
    rng = np.random.default_rng(5)
    u = np.array([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)], dtype=float)
    combs = [_comb(rng, int(k)) for k in (2, 4, 5, 40, 300)]
    proved, valid = _proved_and_valid([u, *combs])
    assert valid.all()
    assert proved.all()
    assert not _star_only([u, *combs]).any()
    # and broken combs (a tooth pushed through its neighbour) are never proved
    broken = []
    for c in combs:
        c = c.copy()
        c[3, 0] = c[7, 0] - 0.1  # a tooth's right edge moved past the next tooth's left edge
        broken.append(c)
    proved, valid = _proved_and_valid(broken)
    assert not (proved & ~valid).any()
    assert not valid.all()


def _star_only(rings: list[np.ndarray]) -> np.ndarray:
    """Which rings the star test alone proves (the compiled helper, called from Python)."""
    _simplering._compiled()  # compiles the helpers in place
    out = []
    for r in rings:
        xy = np.vstack([r, r[:1]]).astype(float)
        start = np.array([0, len(xy)])
        proved = np.zeros(1, dtype=bool)
        n = len(xy)
        scratch = np.empty(n), np.empty(n), np.empty(n, dtype=np.int8)
        _simplering._star_tile(xy[:, 0].copy(), xy[:, 1].copy(), start, 0, 1, *scratch, proved)
        out.append(bool(proved[0]))
    return np.array(out)


# --- the star test attacked: exact centres, the half-line, windings, ulps --------------


def _geos_valid(rings: list[np.ndarray]) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GEOS on NaN coordinates
        return np.array([bool(shapely.is_valid(shapely.Polygon(r))) for r in rings])


def _never_proved_if_invalid(rings: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Assert the invariant for the star test alone and for the whole proof; return both."""
    proved, valid = _proved_and_valid(rings)
    star = _star_only(rings)
    assert np.array_equal(valid, _geos_valid(rings))
    assert not (star & ~valid).any(), [rings[i].tolist() for i in np.flatnonzero(star & ~valid)]
    assert not (proved & ~valid).any(), [rings[i].tolist() for i in np.flatnonzero(proved & ~valid)]
    return star, proved


# an octagon of integer points symmetric about (0, 0), its centroid (exactly: integers), two
# of them on the x axis, the +x and -x half-lines from the centre
_OCTAGON = np.array([(4, 0), (3, 2), (0, 3), (-3, 2), (-4, 0), (-3, -2), (0, -3), (3, -2)], float)


def test_hand_made_rings_around_the_centre():
    twice = np.r_[_OCTAGON[::2], _OCTAGON[1::2]]  # {8/2}-like: every other vertex, twice round
    # a dart whose centroid is its notch, (0, 0): two triangles of centroids (+-1, 0)
    through_centre = np.array([(0, 0), (3, -3), (0, 3), (-3, -3)], float)
    on_edge = np.r_[_OCTAGON[:1], [(0.0, 0.0)], _OCTAGON[4:5]]  # no area: no centroid
    cases = {
        "octagon, vertices on the +x and -x half-lines": (_OCTAGON, True, True),
        "the same, clockwise": (_OCTAGON[::-1], True, True),
        "wound twice": (twice, False, False),
        "a vertex at the centroid": (through_centre, False, True),
        "three collinear through the centre": (on_edge, False, False),
        "triangle": (np.array([(0, 0), (4, 0), (0, 3)], float), True, True),
        "degenerate triangle": (np.array([(0, 0), (1, 1), (2, 2)], float), False, False),
        "spike out of the octagon": (np.r_[_OCTAGON[:1], [(9, 0)], _OCTAGON], False, False),
        "repeated vertex": (np.r_[_OCTAGON[:3], _OCTAGON[2:]], False, True),
        # a straight vertex is no self-intersection for GEOS, nor for the star test
        "collinear run": (np.r_[_OCTAGON[:1], [(3.5, 1.0)], _OCTAGON[1:]], True, True),
        "UTM parcel": (_OCTAGON * 12.5 + (500_000.0, 9_200_000.0), True, True),
        "parcel in degrees": (_OCTAGON * 1e-4 + (-76.51, -7.23), True, True),
        "subnormal octagon": (_OCTAGON * 2.0**-1070, False, None),
        "octagon of 1e300": (_OCTAGON * 1e300, False, None),
        "octagon at 1e16": (_OCTAGON + 1e16, None, None),  # rounded to even x
        "an infinite vertex": (np.r_[_OCTAGON[:3], [(np.inf, 1.0)], _OCTAGON[3:]], False, False),
        "a NaN vertex": (np.r_[_OCTAGON[:3], [(1.0, np.nan)], _OCTAGON[3:]], False, False),
    }
    rings = [r for r, _, _ in cases.values()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapely on NaN coordinates
        star, proved = _never_proved_if_invalid(rings)
        valid = _geos_valid(rings)
    for (name, (_, want_star, want_valid)), s, v in zip(cases.items(), star, valid, strict=True):
        if want_star is not None:
            assert s == want_star, name
        if want_valid is not None:
            assert v == want_valid, name
    assert proved[[0, 1, 5, 9, 10, 11]].all()


def test_rings_that_are_not_closed_or_too_short_are_never_proved():
    square = np.array([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], float)
    xy = np.r_[square[:-1], square, square[:3], square[[0, 1, 0]]]
    start = np.array([0, 4, 9, 12, 15])  # open square, closed square, 2 segments, a 2-gon
    assert _simplering.proved_simple(xy, start).tolist() == [False, True, False, False]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pts=st.lists(st.tuples(st.integers(-4, 4), st.integers(-4, 4)), min_size=2, max_size=8),
    by_angle=st.booleans(),
    turns=st.integers(1, 3),
    scale=st.sampled_from([1.0, 0.5, 2.0**-40, 2.0**-1000, 2.0**-1062, 2.0**600, 2.0**1000]),
    offset=st.sampled_from([(0.0, 0.0), (500_000.0, 9_200_000.0), (-76.5, -7.25), (2.0**53, 0.0)]),
)
def test_star_test_never_contradicts_geos_on_integer_rings_with_exact_centres(
    pts, by_angle, turns, scale, offset
):
    # integer points and their mirror images through (0, 0): the ring's centroid is (0, 0),
    # computed exactly (every term an integer), so vertices lie exactly on the half-line from
    # the centre (or at it); taken in their order round the centre, once or several times,
    # or as drawn
    half = np.asarray(pts, dtype=float)
    r = np.r_[half, -half]
    if by_angle:
        r = r[np.argsort(np.arctan2(r[:, 1], r[:, 0]), kind="stable")]
        if turns > 1:
            r = np.concatenate([r[k::turns] for k in range(turns)])
    _never_proved_if_invalid([r * scale + offset])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(3, 30),
    turns=st.integers(1, 3),
    wobble=st.floats(0.0, 0.95),
    ulps=st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), max_size=3),
    scale=st.sampled_from([1.0, 1e-10, 1e10, 2.0**-500]),
    offset=st.sampled_from([(0.0, 0.0), (1e-9, -1e-9), (-76.5, -7.2), (5e5, 9.2e6), (1e8, 0.3)]),
)
def test_star_test_never_contradicts_geos_on_windings_and_near_duplicate_vertices(
    seed, k, turns, wobble, ulps, scale, offset
):
    # rings going round their centre 1-3 times, with vertices 1-3 ulps from another vertex
    # (near-degenerate triangles with the centre, and segments a few ulps apart)
    rng = np.random.default_rng(seed)
    ang = np.sort(rng.uniform(0, 2 * np.pi * turns, k))
    rad = rng.uniform(1 - wobble, 1 + wobble, k)
    r = np.c_[rad * np.cos(ang), rad * np.sin(ang)] * scale + offset
    for dx, dy in ulps:
        i = int(rng.integers(len(r)))
        v = r[i].copy()
        for d, steps in ((0, dx), (1, dy)):
            for _ in range(abs(steps)):
                v[d] = np.nextafter(v[d], math.copysign(math.inf, steps))
        r = np.insert(r, i + 1, v, axis=0)
    _never_proved_if_invalid([r])

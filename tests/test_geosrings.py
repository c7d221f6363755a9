"""The rings read straight from GEOS are exactly shapely's, and change no area.

:mod:`agroforest_geo._geosrings` reads types, coordinate counts and polygon rings
through the GEOS C API, without Python's lock. These tests hold it to shapely's own
calls on random layers (holes, empty parts and rings, Z and M, points, lines,
collections, missing values), check that anything else in the array turns it off,
and that ``area_ha`` gives the same bits with and without it.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
import threading
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import agroforest_geo as agf
import agroforest_geo.area as area_module
from agroforest_geo import _geosrings, _jit

pytestmark = pytest.mark.skipif(
    not _jit.available(), reason="numba (the fast extra) is not installed"
)


def test_the_direct_path_is_on_where_it_is_supported():
    # without it the area benchmark's two cores are not used: CI on Linux must have it
    if not sys.platform.startswith("linux"):
        pytest.skip("the direct path is Linux only")
    assert _geosrings.available()


def _rings_both_ways(geoms: np.ndarray) -> None:
    found = _geosrings.scan(geoms)
    assert found is not None
    assert np.array_equal(found.types, shapely.get_type_id(geoms))
    assert np.array_equal(found.num_coords, shapely.get_num_coordinates(geoms))
    got = _geosrings.rings(geoms, found)
    if (found.types == 7).any():
        assert got is None  # collections take shapely's path
        return
    assert got is not None
    ref = area_module._polygon_rings(geoms)
    xy, start, owner, exterior, n_simple = got
    assert n_simple == ref.n_simple
    np.testing.assert_array_equal(xy, ref.xy)
    np.testing.assert_array_equal(start, ref.start)
    np.testing.assert_array_equal(owner, ref.owner)
    np.testing.assert_array_equal(exterior, ref.exterior)


def _polygon(rng: np.random.Generator, holes: int, dims: int = 2) -> shapely.Geometry:
    cx, cy = rng.uniform(-80, -70), rng.uniform(-10, 0)
    k = int(rng.integers(3, 30))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    shell = np.c_[cx + 0.005 * np.cos(ang), cy + 0.005 * np.sin(ang)]  # a ~1 km parcel
    inner = [
        np.c_[cx + 0.001 * h + 0.0003 * np.cos(ang[:3]), cy + 0.0003 * np.sin(ang[:3])]
        for h in range(holes)
    ]
    if dims == 3:
        shell = np.c_[shell, rng.uniform(0, 100, k)]
        inner = [np.c_[r, np.zeros(len(r))] for r in inner]
    return shapely.Polygon(shell, inner)


_KINDS = st.sampled_from(
    ["polygon", "holes", "multi", "multi_empty", "empty", "none", "point", "line", "z", "m"]
)


def _geometry(kind: str, rng: np.random.Generator) -> shapely.Geometry | None:
    if kind == "polygon":
        return _polygon(rng, 0)
    if kind == "holes":
        return _polygon(rng, int(rng.integers(1, 4)))
    if kind == "multi":
        return shapely.MultiPolygon([_polygon(rng, int(rng.integers(0, 3))) for _ in range(3)])
    if kind == "multi_empty":
        return shapely.from_wkt(
            "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), EMPTY, ((5 5, 9 5, 9 9, 5 5), EMPTY))"
        )
    if kind == "empty":
        return shapely.Polygon()
    if kind == "none":
        return None
    if kind == "point":
        return shapely.Point(rng.uniform(-80, -70), rng.uniform(-10, 0))
    if kind == "line":
        return shapely.LineString(rng.uniform(0, 1, (4, 2)))
    if kind == "z":
        return _polygon(rng, 1, dims=3)
    return shapely.from_wkt("POLYGON M ((0 0 1, 1 0 2, 1 1 3, 0 0 1))")


@settings(max_examples=60, deadline=None)
@given(st.lists(_KINDS, min_size=0, max_size=40), st.integers(0, 2**32 - 1), st.booleans())
def test_scan_and_rings_equal_shapely_on_random_layers(kinds, seed, collection):
    rng = np.random.default_rng(seed)
    geoms = [_geometry(k, rng) for k in kinds]
    if collection:
        geoms.append(shapely.GeometryCollection([shapely.Point(0, 0), _polygon(rng, 1)]))
    _rings_both_ways(np.array(geoms, dtype=object))


def test_anything_but_geometries_turns_the_path_off():
    geoms = np.array([shapely.box(0, 0, 1, 1), "POLYGON ((0 0, 1 0, 1 1, 0 0))"], dtype=object)
    assert _geosrings.scan(geoms) is None
    layer = np.array([shapely.box(0, 0, 1, 1)] * 20_000 + [3.5], dtype=object)
    with pytest.raises(TypeError):
        area_module.geodesic_area_m2(layer, "EPSG:4326")  # shapely's own error, as before


def test_a_slice_or_a_strided_array_is_read_as_its_rows():
    rng = np.random.default_rng(2)
    geoms = np.array([_polygon(rng, i % 3) for i in range(30)], dtype=object)
    _rings_both_ways(geoms[::3])
    _rings_both_ways(geoms[5:17])
    _rings_both_ways(geoms.reshape(5, 6)[:, 2])


def _parcels(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    geoms = [_geometry(k, rng) for k in rng.choice(["polygon", "holes", "multi"], n)]
    geoms[7] = None
    geoms[11] = shapely.Point(-76.5, -7.0)
    return gpd.GeoDataFrame(geometry=geoms, crs=4326)


def _areas_without_direct_path(monkeypatch: pytest.MonkeyPatch, gdf: gpd.GeoDataFrame):
    with monkeypatch.context() as m:
        m.setattr(area_module, "_MIN_SCANNED_ROWS", 10**12)
        return agf.area_m2(gdf)


def test_areas_are_the_same_bits_with_the_direct_path(monkeypatch):
    gdf = _parcels(30_000)
    assert len(gdf) >= area_module._MIN_SCANNED_ROWS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = agf.area_m2(gdf)
        shapely_path = _areas_without_direct_path(monkeypatch, gdf)
    np.testing.assert_array_equal(direct.to_numpy(), shapely_path.to_numpy())
    assert np.isnan(direct.iloc[7])
    assert direct.iloc[11] > 0  # the point, as a circle of the default area


def test_real_districts_are_the_same_bits_with_the_direct_path(monkeypatch, shared_data):
    path = shared_data / "peru-geojson" / "peru_distrital_simple.geojson"
    districts = gpd.read_file(path)
    # repeated to pass the row count from which the direct path is taken
    big = gpd.GeoDataFrame(geometry=np.tile(districts.geometry.to_numpy(), 8), crs=districts.crs)
    assert len(big) >= area_module._MIN_SCANNED_ROWS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = agf.area_m2(big)
        shapely_path = _areas_without_direct_path(monkeypatch, big)
    np.testing.assert_array_equal(direct.to_numpy(), shapely_path.to_numpy())


def test_threads_reading_at_once_get_their_own_answers():
    layers = [_parcels(15_000, seed) for seed in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = [agf.area_m2(g).to_numpy() for g in layers]
        together: list[np.ndarray | None] = [None] * 4

        def run(k: int) -> None:
            together[k] = agf.area_m2(layers[k]).to_numpy()

        threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a, b)


def test_validity_of_a_large_layer_is_geos_answer():
    # a large layer's shells are read straight from GEOS for the validity proof: the answers
    # are still GEOS's, row by row (bow-ties, spikes, holes, parts, empties, missing)
    from agroforest_geo import _threads

    rng = np.random.default_rng(9)
    kinds = rng.choice(["polygon", "holes", "multi", "empty", "none", "point"], 14_000)
    geoms = [_geometry(k, rng) for k in kinds]
    bowtie = shapely.Polygon([(-76, -7), (-75.99, -6.99), (-75.99, -7), (-76, -6.99)])
    spike = shapely.Polygon([(-76, -7), (-75.99, -7), (-75.98, -7), (-75.99, -7), (-76, -6.99)])
    for k in range(0, 14_000, 97):
        geoms[k] = bowtie if k % 2 else spike
    arr = np.array(geoms, dtype=object)
    assert arr.size >= area_module._MIN_SCANNED_ROWS
    expected = np.asarray(shapely.is_valid(arr), dtype=bool)
    np.testing.assert_array_equal(_threads.is_valid(arr), expected)
    assert (~expected).sum() > 144  # the planted rows, at least, are invalid


def test_the_path_can_be_turned_off_by_hand():
    import os
    import subprocess

    code = "from agroforest_geo import _geosrings; print(_geosrings.available())"
    env = {**os.environ, _geosrings.ENV_VAR: "off"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"


# --- adversarial cases: rows that change, object layout, unusual rows and arrays ----------


def _run_isolated(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter: a crash there fails the test, not the session."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_rows_replaced_after_the_scan_give_none_never_a_crash():
    # rings() promises None when the rows no longer hold what the scan found: a polygon row
    # replaced by None, a number or a string must not be followed as a GEOS geometry (it was:
    # the struct of None or of a float was read as a shapely geometry, a segfault)
    code = """
        import numpy as np, shapely
        from agroforest_geo import _geosrings
        holed = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 2, 2))
        geoms = np.array([shapely.box(0, 0, 1, 1), holed, shapely.box(2, 2, 3, 3)], dtype=object)
        found = _geosrings.scan(geoms)
        multi = shapely.MultiPolygon([shapely.box(5, 5, 6, 6)])
        for row in (0, 1):  # a SIMPLE row, a COMPLEX row
            for other in (None, 1.5, "POLYGON EMPTY", object(), shapely.Point(0, 0), multi,
                          shapely.Polygon(), holed if row == 0 else shapely.box(0, 0, 1, 1)):
                changed = geoms.copy()
                changed[row] = other
                assert _geosrings.rings(changed, found) is None, (row, other)
        assert _geosrings.rings(geoms, found) is not None
        try:
            _geosrings.rings(geoms[:2], found)
        except ValueError as err:
            assert "rows" in str(err)
        else:
            raise AssertionError("a scan of other rows was accepted")
        print("ok")
    """
    out = _run_isolated(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_the_scan_holds_its_rows_so_their_rings_outlive_the_callers_array():
    # rings() trusts what the scan found of its rows (their kinds and counts): the scan
    # must hold those objects. Here the caller's array is emptied (its rows' last
    # references), the allocator reuses their memory for new geometries, and the rings
    # read from the scan's rows are still shapely's (a freed row would be a crash or garbage)
    code = """
        import gc
        import numpy as np, shapely
        from agroforest_geo import _geosrings
        from agroforest_geo.area import _polygon_rings
        rng = np.random.default_rng(1)
        def layer(n):
            c = rng.uniform(-80, -70, (n, 1, 2))
            ang = np.linspace(0, 2 * np.pi, 9)[:-1]
            size = rng.uniform(1e-3, 1e-2, (n, 1, 1))
            ring = np.stack([np.cos(ang), np.sin(ang)], axis=-1) * size
            geoms = list(shapely.polygons(c + ring))
            holed = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 2, 2))
            return np.array(geoms[:-1] + [holed], dtype=object)
        geoms = layer(20_000)
        want = _polygon_rings(geoms.copy())
        found = _geosrings.scan(geoms)
        geoms[:] = None
        gc.collect()
        noise = [layer(20_000) for _ in range(3)]  # the freed memory, taken again
        assert _geosrings.rings(geoms, found) is None  # not the rows scanned
        got = _geosrings.rings(found.held, found)
        assert got is not None
        xy, start, owner, exterior, n_simple = got
        assert n_simple == want.n_simple
        assert np.array_equal(xy, want.xy) and np.array_equal(start, want.start)
        assert np.array_equal(owner, want.owner) and np.array_equal(exterior, want.exterior)
        print("ok")
    """
    out = _run_isolated(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_the_offset_search_reads_inside_the_geometry_objects(monkeypatch):
    # the GEOS address is looked for inside shapely's object struct only: reading past its
    # end (it was read up to 64 bytes in, the struct is 40) touches whatever the allocator
    # put next, out of bounds
    probes = [shapely.Point(1, 2), shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)])]
    spans = [(id(g), id(g) + type(g).__basicsize__) for g in probes]
    read: list[int] = []
    real = ctypes.c_int64

    class Spy:
        @staticmethod
        def from_address(addr: int):
            read.append(addr)
            return real.from_address(addr)

    monkeypatch.setattr(ctypes, "c_int64", Spy)
    offset = _geosrings._geom_offset(probes)
    monkeypatch.undo()
    assert offset == _geosrings._lib().geom_offset
    assert read
    outside = [a for a in read if not any(lo <= a and a + 8 <= hi for lo, hi in spans)]
    assert outside == []


def _big_polygon(n: int) -> shapely.Polygon:
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return shapely.Polygon(np.c_[np.cos(ang), np.sin(ang)] * (1 + 0.1 * np.cos(7 * ang))[:, None])


with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # shapely on NaN coordinates
    _NAN_POLYGON = shapely.Polygon([(0, 0), (np.nan, 0), (1, np.inf), (1, 1)])
_UNUSUAL_ROWS = {
    "linearring": shapely.LinearRing([(0, 0), (1, 0), (1, 1)]),
    "linearring empty": shapely.from_wkt("LINEARRING EMPTY"),
    "multipoint": shapely.MultiPoint([(0, 0), (1, 1)]),
    "multilinestring": shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3)]]),
    "multipolygon ZM": shapely.from_wkt("MULTIPOLYGON ZM (((0 0 1 2, 1 0 1 2, 1 1 1 2, 0 0 1 2)))"),
    "polygon M, a hole": shapely.from_wkt(
        "POLYGON M ((0 0 1, 10 0 2, 10 10 3, 0 0 1), (1 1 0, 2 1 0, 2 2 0, 1 1 0))"
    ),
    "NaN and inf vertices": _NAN_POLYGON,
    "100,000 vertices": _big_polygon(100_000),
    "300 holes": shapely.Polygon(
        [(0, 0), (1000, 0), (1000, 10), (0, 10)],
        [[(3 * k + 1, 1), (3 * k + 2, 1), (3 * k + 2, 2)] for k in range(300)],
    ),
    "50 parts with holes": shapely.MultiPolygon(
        [
            shapely.box(k, 0, k + 0.9, 1).difference(shapely.box(k + 0.4, 0.4, k + 0.5, 0.5))
            for k in range(50)
        ]
    ),
    "huge coordinates": shapely.box(-1e300, -1e300, 1e300, 1e300),
    "empty collection": shapely.GeometryCollection(),
    "nested collection": shapely.from_wkt(
        "GEOMETRYCOLLECTION (GEOMETRYCOLLECTION (POLYGON ((0 0, 1 0, 1 1, 0 0))))"
    ),
}


@pytest.mark.parametrize("name", list(_UNUSUAL_ROWS))
def test_unusual_rows_are_read_as_shapely_reads_them(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapely on NaN coordinates
        geoms = np.array(
            [
                shapely.box(0, 0, 1, 1),
                _UNUSUAL_ROWS[name],
                None,
                _polygon(np.random.default_rng(0), 2),
            ],
            dtype=object,
        )
        _rings_both_ways(geoms)


def test_arrays_of_any_layout_are_read_as_their_rows_in_order():
    rng = np.random.default_rng(4)
    flat = np.array(
        [_geometry(k, rng) for k in ["polygon", "holes", "multi", "none"] * 6], dtype=object
    )
    want = _geosrings.scan(flat)
    assert want is not None
    grid = flat.reshape(4, 6)
    readonly = flat.copy()
    readonly.flags.writeable = False
    fortran = np.asfortranarray(grid)
    series = gpd.GeoSeries(flat, crs=4326)
    for geoms, rows in [
        (grid, flat),  # 2-D: its rows in C order
        (fortran, flat),  # the same values, held column by column
        (grid.T, grid.T.ravel()),
        (readonly, flat),
        (flat[::-1], flat[::-1]),
        (series.values, flat),  # geopandas' GeometryArray
    ]:
        got = _geosrings.scan(geoms)
        assert got is not None
        ref = _geosrings.scan(np.array(list(rows), dtype=object))
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_array_equal(a, b)
        assert np.array_equal(got.types, shapely.get_type_id(np.asarray(rows, dtype=object)))
        _rings_both_ways(np.array(list(rows), dtype=object))
    np.testing.assert_array_equal(
        _geosrings.scan(grid).num_coords, shapely.get_num_coordinates(grid).ravel()
    )


def test_first_use_from_many_threads_at_once_and_forked_workers():
    # a fresh process: eight threads make the first call together (the checks, the compiled
    # loops and the GEOS handles are set up once, whoever comes first); then a worker forked
    # after first use reads with the parent's addresses and handles, and gets shapely's answers
    code = """
        import os, threading
        import numpy as np, shapely
        from agroforest_geo import _geosrings
        from agroforest_geo.area import _polygon_rings

        def layer(seed):
            rng = np.random.default_rng(seed)
            pts = shapely.points(rng.uniform(-1, 1, (400, 2)))
            geoms = shapely.buffer(pts, 0.01, quad_segs=int(rng.integers(1, 5)))
            geoms[::7] = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 2, 2))
            geoms[::11] = None
            return geoms

        def same(geoms):
            found = _geosrings.scan(geoms)
            xy, start, owner, exterior, n_simple = _geosrings.rings(geoms, found)
            ref = _polygon_rings(geoms)
            return (np.array_equal(found.types, shapely.get_type_id(geoms))
                    and np.array_equal(found.num_coords, shapely.get_num_coordinates(geoms))
                    and np.array_equal(xy, ref.xy) and np.array_equal(start, ref.start)
                    and np.array_equal(owner, ref.owner) and n_simple == ref.n_simple)

        layers = [layer(s) for s in range(8)]
        barrier = threading.Barrier(8)
        ok = [False] * 8

        def run(k):
            barrier.wait()
            ok[k] = all(same(layers[k]) for _ in range(5))

        threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(ok), ok
        pid = os.fork()
        if pid == 0:
            os._exit(0 if _geosrings.available() and all(same(g) for g in layers) else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        print("ok")
    """
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    out = _run_isolated(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_a_worker_forked_while_another_thread_holds_the_kernel_locks_does_not_hang():
    # after first use, a call takes no lock: a worker forked at the instant another thread
    # held one (it was taken on every call, and a forked child inherits it held, forever)
    # still reads its rings
    code = """
        import os, threading, time
        import numpy as np, shapely
        from agroforest_geo import _geosrings, _jit

        geoms = np.array([shapely.box(0, 0, 1, 1), None, shapely.Point(0, 0)], dtype=object)
        assert _geosrings.rings(geoms, _geosrings.scan(geoms)) is not None  # first use
        held = threading.Event()

        def hold():
            with _jit._LOCK, _geosrings._INSTALL_LOCK:
                held.set()
                time.sleep(5)

        threading.Thread(target=hold, daemon=True).start()
        held.wait()
        pid = os.fork()
        if pid == 0:
            found = _geosrings.scan(geoms)
            os._exit(0 if _geosrings.rings(geoms, found)[4] == 1 else 3)
        for _ in range(300):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.01)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise SystemExit("the forked worker hung")
        assert os.waitstatus_to_exitcode(status) == 0, status
        print("ok")
    """
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    out = _run_isolated(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_coordinates_equal_shapely_on_polygon_layers():
    rng = np.random.default_rng(4)
    kinds = rng.choice(["polygon", "holes", "multi", "multi_empty", "empty", "none", "z"], 13_000)
    arr = np.array([_geometry(k, rng) for k in kinds], dtype=object)
    assert arr.size >= _geosrings.MIN_ROWS
    xy, index = _geosrings.coordinates(arr)
    ref_xy, ref_index = shapely.get_coordinates(arr, return_index=True)
    np.testing.assert_array_equal(xy, ref_xy)
    np.testing.assert_array_equal(index, ref_index)
    # a layer with a point or a line goes to shapely, with the same answer
    arr[5] = shapely.Point(1, 2)
    xy, index = _geosrings.coordinates(arr)
    ref_xy, ref_index = shapely.get_coordinates(arr, return_index=True)
    np.testing.assert_array_equal(xy, ref_xy)
    np.testing.assert_array_equal(index, ref_index)

"""The rings read straight from GEOS are exactly shapely's, and change no area.

:mod:`agroforest_geo._geosrings` reads types, coordinate counts and polygon rings
through the GEOS C API, without Python's lock. These tests hold it to shapely's own
calls on random layers (holes, empty parts and rings, Z and M, points, lines,
collections, missing values), check that anything else in the array turns it off,
and that ``area_ha`` gives the same bits with and without it.
"""

from __future__ import annotations

import sys
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

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

import agroforest_geo._geodesic_edges as geodesic_edges
from agroforest_geo.area import geodesic_area_m2
from agroforest_geo.errors import (
    CRSMismatchError,
    GeometryWarning,
    InvalidGeometryError,
    NoDataWarning,
    RasterError,
)
from agroforest_geo.raster import cell_area_m2, integrate, iter_pixel_pieces

X0, Y0 = 500_000.0, 9_200_090.0  # UTM 18S, on the central meridian


def write_tif(path: Path, arr: np.ndarray, transform, crs="EPSG:32718", nodata=None) -> str:
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[None]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=arr.shape[2],
        height=arr.shape[1],
        count=arr.shape[0],
        dtype=arr.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(arr)
    return str(path)


@pytest.fixture
def grid3(tmp_path):
    """exactextract's analytic grid: 3x3 cells of 1 m, values 1..9 row-major from the top."""
    vals = np.arange(1, 10, dtype="float32").reshape(3, 3)
    return write_tif(tmp_path / "g3.tif", vals, from_origin(X0, Y0, 1, 1), nodata=-1)


def coverage_matrix(polys, raster, shape=(3, 3), **kw):
    m = np.zeros(shape)
    for p in iter_pixel_pieces(polys, {"v": raster}, **kw):
        np.add.at(m, (p.row, p.col), p.coverage)
    return m


def test_analytic_rectangle_coverage(grid3):
    poly = shapely.box(X0 + 0.5, Y0 - 2.5, X0 + 2.5, Y0 - 0.5)
    g = gpd.GeoSeries([poly], crs=32718)
    expected = [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]
    np.testing.assert_allclose(coverage_matrix(g, grid3), expected, atol=1e-12)
    out = integrate(g, grid3)
    assert out["value_x_m2"].iloc[0] / out["valid_m2"].iloc[0] == pytest.approx(5.0, rel=1e-9)


def test_analytic_non_rectangle_and_small_square(grid3):
    poly = shapely.Polygon(
        [
            (X0 + 0.5, Y0 - 2.5),
            (X0 + 2.5, Y0 - 2.5),
            (X0 + 2.5, Y0 - 1.0),
            (X0 + 2.0, Y0 - 1.0),
            (X0 + 2.0, Y0 - 0.5),
            (X0 + 0.5, Y0 - 0.5),
        ]
    )
    expected = [[0.25, 0.5, 0.0], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]
    np.testing.assert_allclose(
        coverage_matrix(gpd.GeoSeries([poly], crs=32718), grid3), expected, atol=1e-12
    )
    small = gpd.GeoSeries([shapely.box(X0 + 0.5, Y0 - 2.5, X0 + 1, Y0 - 2)], crs=32718)
    out = integrate(small, grid3)
    assert out["value_x_m2"].iloc[0] / out["valid_m2"].iloc[0] == pytest.approx(7.0)


def test_tiling_splits_large_polygons_exactly(grid3):
    poly = shapely.box(X0 + 0.5, Y0 - 2.5, X0 + 2.5, Y0 - 0.5)
    g = gpd.GeoSeries([poly], crs=32718)
    a = coverage_matrix(g, grid3, tile_px=1)
    b = coverage_matrix(g, grid3)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_centroid_method(grid3):
    poly = shapely.box(X0 + 0.4, Y0 - 2.6, X0 + 2.6, Y0 - 0.4)
    m = coverage_matrix(gpd.GeoSeries([poly], crs=32718), grid3, method="centroid")
    np.testing.assert_array_equal(m, np.ones((3, 3)))
    with pytest.raises(ValueError, match="exact"):
        list(iter_pixel_pieces(gpd.GeoSeries([poly], crs=32718), {"v": grid3}, method="x"))


def test_utm_polygon_of_12_5_pixels(tmp_path):
    path = write_tif(
        tmp_path / "a.tif", np.ones((10, 10), "uint8"), from_origin(X0, Y0, 30, 30), nodata=0
    )
    # 3 x 4 whole pixels plus half a pixel (a 30 x 15 m strip)
    poly = shapely.union(
        shapely.box(X0 + 30, Y0 - 150, X0 + 120, Y0 - 30),
        shapely.box(X0 + 30, Y0 - 165, X0 + 60, Y0 - 150),
    )
    g = gpd.GeoSeries([poly], crs=32718)
    cov = sum(p.coverage.sum() for p in iter_pixel_pieces(g, {"v": path}))
    assert cov == pytest.approx(12.5, rel=1e-12)
    out = integrate(g, path)
    exact = geodesic_area_m2([poly], 32718)[0]
    assert out["valid_m2"].iloc[0] == pytest.approx(exact, rel=1e-9)
    assert out["value_x_m2"].iloc[0] == pytest.approx(exact, rel=1e-9)
    assert out["nodata_m2"].iloc[0] == 0.0


def test_two_by_two_block_with_one_nodata_pixel(tmp_path):
    arr = np.array([[10, 20], [255, 40]], dtype="uint8")
    path = write_tif(tmp_path / "b.tif", arr, from_origin(X0, Y0, 30, 30), nodata=255)
    poly = shapely.box(X0, Y0 - 60, X0 + 60, Y0)
    out = integrate(gpd.GeoSeries([poly], crs=32718), path)
    cell = geodesic_area_m2([shapely.box(X0, Y0 - 30, X0 + 30, Y0)], 32718)[0]
    assert out["valid_m2"].iloc[0] == pytest.approx(3 * cell, rel=1e-9)
    assert out["nodata_m2"].iloc[0] == pytest.approx(cell, rel=1e-6)
    assert out["value_x_m2"].iloc[0] == pytest.approx(70 * cell, rel=1e-9)


@pytest.mark.parametrize("lat", [-7.02, 0.0, 45.3, 71.0])
def test_geographic_cell_area_vs_geod(tmp_path, lat):
    res = 0.00025
    path = write_tif(
        tmp_path / "g.tif",
        np.zeros((4, 4), "uint8"),
        from_origin(-76.9, lat, res, res),
        "EPSG:4326",
    )
    areas = cell_area_m2(path, np.arange(4), np.zeros(4, int))
    geod = pyproj.Geod(ellps="WGS84")
    n = 100  # densify the parallels: a cell is bounded by parallels, not geodesics
    for r in range(4):
        top, bot = lat - r * res, lat - (r + 1) * res
        lon = np.r_[np.linspace(-76.9, -76.9 + res, n), np.linspace(-76.9 + res, -76.9, n)]
        la = np.r_[np.full(n, top), np.full(n, bot)]
        ref = abs(geod.polygon_area_perimeter(lon, la)[0])
        assert areas[r] == pytest.approx(ref, rel=1e-9)


def test_projected_cell_area_vs_geodesic(tmp_path):
    # 300 km east of the central meridian, where the UTM scale differs most
    x0 = 800_000.0
    path = write_tif(
        tmp_path / "p.tif", np.zeros((200, 300), "uint8"), from_origin(x0, Y0, 30, 30), nodata=0
    )
    rows = np.array([0, 57, 199, 123])
    cols = np.array([0, 211, 299, 5])
    got = cell_area_m2(path, rows, cols)
    boxes = shapely.box(x0 + 30 * cols, Y0 - 30 * (rows + 1), x0 + 30 * (cols + 1), Y0 - 30 * rows)
    ref = geodesic_area_m2(boxes, 32718)
    np.testing.assert_allclose(got, ref, rtol=1e-8)


def test_projected_cell_areas_do_not_depend_on_the_fill_chunk(tmp_path, monkeypatch):
    # the scale lattice is filled in bounded chunks (memory flat on large rasters)
    import agroforest_geo.cellarea as cellarea

    path = write_tif(
        tmp_path / "big.tif",
        np.zeros((2000, 3000), "uint8"),
        from_origin(600_000.0, Y0, 30, 30),
        nodata=0,
    )
    rr, cc = np.meshgrid(np.arange(0, 2000, 37), np.arange(0, 3000, 53), indexing="ij")
    whole = cell_area_m2(path, rr.ravel(), cc.ravel())
    monkeypatch.setattr(cellarea, "_FILL_CHUNK", 7)
    chunked = cell_area_m2(path, rr.ravel(), cc.ravel())
    np.testing.assert_array_equal(chunked, whole)


def test_nan_is_nodata_and_no_nodata_value_warns(tmp_path):
    arr = np.array([[np.nan, 12.25], [7.0, 12.75]], dtype="float32")
    path = write_tif(tmp_path / "n.tif", arr, from_origin(X0, Y0, 30, 30))
    poly = gpd.GeoSeries([shapely.box(X0, Y0 - 60, X0 + 60, Y0)], crs=32718)
    with pytest.warns(NoDataWarning, match="no nodata value"):
        out = integrate(poly, path)
    cell = out["nodata_m2"].iloc[0]
    assert out["valid_m2"].iloc[0] == pytest.approx(3 * cell, rel=1e-6)
    assert out["value_x_m2"].iloc[0] / out["valid_m2"].iloc[0] == pytest.approx(32 / 3, rel=1e-9)


def test_no_overlap_keeps_rows_and_warns(grid3):
    g = gpd.GeoDataFrame(
        {"k": [1, 2]},
        geometry=[shapely.box(X0 + 0.5, Y0 - 2.5, X0 + 1, Y0 - 2), shapely.box(0, 0, 10, 10)],
        index=["b", "a"],
        crs=32718,
    )
    with pytest.warns(NoDataWarning, match="1 of 2"):
        out = integrate(g, grid3)
    assert list(out.index) == ["b", "a"]
    assert out.loc["a", "valid_m2"] == 0
    assert out.loc["a", "nodata_m2"] == pytest.approx(geodesic_area_m2([g.geometry["a"]], 32718)[0])


def test_empty_geometry_gives_nan_row(grid3):
    g = gpd.GeoSeries([shapely.box(X0, Y0 - 1, X0 + 1, Y0), shapely.Polygon(), None], crs=32718)
    with pytest.warns(GeometryWarning):
        out = integrate(g, grid3)
    assert len(out) == 3
    assert out.iloc[1:].isna().all().all()
    assert out["value_x_m2"].iloc[0] == pytest.approx(1.0 * out["valid_m2"].iloc[0])


def test_bad_inputs(tmp_path, grid3):
    poly = gpd.GeoSeries([shapely.box(X0, Y0 - 1, X0 + 1, Y0)], crs=32718)
    with pytest.raises(RasterError, match="1 band"):
        integrate(poly, grid3, band=2)
    nocrs = write_tif(tmp_path / "c.tif", np.ones((2, 2), "uint8"), from_origin(X0, Y0, 1, 1), None)
    with pytest.raises(RasterError, match="no CRS"):
        integrate(poly, nocrs)
    # a point plot is the 4 ha circle around it (no longer refused)
    pt = integrate(gpd.GeoSeries([shapely.Point(X0, Y0)], crs=32718), grid3)
    assert pt["point_buffer_ha"].tolist() == [4.0]
    with pytest.raises(InvalidGeometryError, match=r"(?i)linestring"):
        integrate(gpd.GeoSeries([shapely.LineString([(X0, Y0), (X0 + 1, Y0)])], crs=32718), grid3)
    # degrees declared as UTM metres, and metres declared as degrees
    with pytest.raises(CRSMismatchError, match="look like degrees"):
        integrate(gpd.GeoSeries([shapely.box(-76.9, -7.1, -76.8, -7.0)], crs=32718), grid3)
    with pytest.raises(CRSMismatchError, match="look like metres"):
        integrate(gpd.GeoSeries([shapely.box(X0, Y0 - 1, X0 + 1, Y0)], crs=4326), grid3)
    with pytest.raises(RasterError, match="does not exist"):
        integrate(poly, tmp_path / "missing.tif")


def test_no_transform_raises(tmp_path):
    path = tmp_path / "nt.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(
            path, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8"
        ) as dst:
            dst.write(np.ones((1, 2, 2), "uint8"))
    poly = gpd.GeoSeries([shapely.box(0, 0, 1, 1)], crs=32718)
    with pytest.raises(RasterError):
        integrate(poly, path)


def test_polygons_reprojected_to_raster_crs(tmp_path):
    path = write_tif(
        tmp_path / "r.tif", np.full((50, 50), 3, "uint8"), from_origin(X0, Y0, 30, 30), nodata=0
    )
    poly = shapely.box(X0 + 100, Y0 - 1000, X0 + 700, Y0 - 200)
    utm = gpd.GeoSeries([poly], crs=32718)
    ll = utm.to_crs(4326)
    a = integrate(utm, path)
    b = integrate(ll, path)
    assert b["valid_m2"].iloc[0] == pytest.approx(a["valid_m2"].iloc[0], rel=1e-6)
    assert b["value_x_m2"].iloc[0] == pytest.approx(3 * b["valid_m2"].iloc[0], rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    x=st.floats(0, 2000),
    y=st.floats(0, 2000),
    w=st.floats(1, 900),
    h=st.floats(1, 900),
    tile=st.sampled_from([1, 3, 16, 1024]),
)
def test_property_pieces_add_up_to_polygon_area(tmp_path_factory, x, y, w, h, tile):
    d = tmp_path_factory.getbasetemp()
    path = d / "prop.tif"
    if not path.exists():
        write_tif(path, np.ones((100, 100), "uint8"), from_origin(X0, Y0, 30, 30), nodata=0)
    poly = shapely.box(X0 + x, Y0 - y - h, X0 + x + w, Y0 - y)
    g = gpd.GeoSeries([poly], crs=32718)
    total = sum(p.area_m2.sum() for p in iter_pixel_pieces(g, {"v": path}, tile_px=tile))
    exact = geodesic_area_m2([poly], 32718)[0]
    # coverage fractions are float32: ~6e-8 relative per partial pixel; edges longer than
    # 200 m follow the geodesic to within MAX_DEVIATION_M, so the covered area may differ from
    # the geodesic polygon's by ~2/3 x MAX_DEVIATION_M x perimeter (_geodesic_edges): 2.5e-7
    # of a box 11 m x 700 m, found by hypothesis (1309, 0, 11, 700)
    slack = geodesic_edges.MAX_DEVIATION_M * poly.length
    assert total == pytest.approx(exact, rel=1e-7, abs=max(1e-4, slack))


def test_cross_check_exactextract_weighted(tmp_path):
    from exactextract import exact_extract

    rng = np.random.default_rng(1)
    x0 = 700_000.0
    vals = rng.integers(0, 101, (300, 300)).astype("uint8")
    vals[100:110, 100:130] = 255
    path = write_tif(tmp_path / "v.tif", vals, from_origin(x0, Y0, 30, 30), nodata=255)
    rr, cc = np.mgrid[0:300, 0:300]
    area = cell_area_m2(path, rr.ravel(), cc.ravel()).reshape(300, 300)
    wpath = write_tif(tmp_path / "w.tif", area, from_origin(x0, Y0, 30, 30))
    cx = rng.uniform(x0 + 500, x0 + 8500, 40)
    cy = rng.uniform(Y0 - 8500, Y0 - 500, 40)
    polys = gpd.GeoDataFrame(
        geometry=shapely.buffer(shapely.points(cx, cy), rng.uniform(30, 400, 40)), crs=32718
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDataWarning)
        ours = integrate(polys, path)
    with rasterio.open(path) as r, rasterio.open(wpath) as w:
        ref = exact_extract(r, polys, ["weighted_sum", "weighted_mean"], weights=w, output="pandas")
    np.testing.assert_allclose(ours["value_x_m2"], ref["weighted_sum"], rtol=1e-9)
    mean = ours["value_x_m2"] / ours["valid_m2"]
    np.testing.assert_allclose(mean, ref["weighted_mean"], rtol=1e-9)


@pytest.mark.shared
def test_shared_exactextract_gh178(shared_data, tmp_path):
    poly = gpd.read_file(shared_data / "exactextract" / "gh178_polygon.geojson")
    t = rasterio.Affine(
        8.983152841204135e-05, 0, 117.09683458943421, 0, -8.983152841195037e-05, 4.273195975028152
    )
    path = write_tif(tmp_path / "ones.tif", np.ones((34, 72), "uint8"), t, "EPSG:4326", 0)
    poly = poly.set_crs(4326, allow_override=True)
    cov = sum(p.coverage.sum() for p in iter_pixel_pieces(poly, {"v": path}))
    assert cov == pytest.approx(95.1929023920793, rel=1e-9)
    out = integrate(poly, path)
    assert out["valid_m2"].iloc[0] == pytest.approx(9429.998, rel=1e-6)


@pytest.mark.shared
def test_shared_exactextract_regression6(shared_data, tmp_path, monkeypatch):
    text = (shared_data / "exactextract" / "regression6.wkt").read_text()
    wkt = "".join(part for i, part in enumerate(text.split('"')) if i % 2 == 1)
    poly = gpd.GeoSeries([shapely.from_wkt(wkt)], crs=4326)
    nx, ny = round((147.375 - 145.925) / 0.05), round((-33.475 + 35.525) / 0.05)
    t = from_origin(145.925, -33.475, 0.05, 0.05)
    path = write_tif(tmp_path / "r6.tif", np.ones((ny, nx), "uint8"), t, "EPSG:4326", 0)
    # the geodesic polygon (edges of 5.5 km bend off the parallels): it covers its own area
    out = integrate(poly, path)
    area_m2 = geodesic_area_m2(poly.values, 4326)[0]
    assert out["valid_m2"].iloc[0] == pytest.approx(area_m2, rel=1e-7)
    # upstream's planar answer, with the edges left straight in lon/lat
    monkeypatch.setattr(geodesic_edges, "MIN_EDGE_M", np.inf)
    cov = np.concatenate([p.coverage for p in iter_pixel_pieces(poly, {"v": path})])
    assert cov.sum() == pytest.approx(823.0, abs=1e-9)
    assert cov.min() > 0 and cov.max() <= 1


@pytest.mark.shared
def test_shared_rasterstats(shared_data):
    d = shared_data / "python-rasterstats"
    polys = gpd.read_file(d / "polygons.shp")
    with rasterio.open(d / "slope.tif") as src:
        polys = polys.set_crs(src.crs, allow_override=True)
    # centre-in pixel counts as asserted by rasterstats
    counts = np.zeros(2)
    for p in iter_pixel_pieces(polys, {"v": d / "slope.tif"}, method="centroid"):
        counts += np.bincount(p.feature, weights=p.coverage, minlength=2)
    np.testing.assert_allclose(counts, [75, 50])
    # exact: equal-area projection on GRS80, so valid area = planar polygon area
    out = integrate(polys, d / "slope.tif")
    np.testing.assert_allclose(out["valid_m2"], [50_243.150, 33_987.799], rtol=1e-6)
    np.testing.assert_allclose(
        out["value_x_m2"] / out["valid_m2"], [15.021269, 55.613670], rtol=1e-6
    )
    with pytest.warns(NoDataWarning):
        none = integrate(polys, d / "all_nodata.tif")
    assert (none["valid_m2"] == 0).all()
    some = integrate(polys, d / "slope_nodata.tif")
    assert ((some["nodata_m2"] > 0) & (some["valid_m2"] > 0)).all()
    pd.testing.assert_index_equal(some.index, polys.index)


@pytest.fixture(scope="module")
def big_grid(tmp_path_factory):
    """1300 x 1300 px of 30 m (UTM 18S, off the central meridian), random values, some nodata."""
    rng = np.random.default_rng(7)
    arr = rng.integers(0, 100, (1300, 1300)).astype("uint8")
    arr[100:140, 200:260] = 255
    x0, y0 = 620_000.0, 9_150_000.0
    path = write_tif(
        tmp_path_factory.mktemp("det") / "big.tif", arr, from_origin(x0, y0, 30, 30), nodata=255
    )
    n = 300
    x = x0 + rng.uniform(-500, 1300 * 30 + 500, n)
    y = y0 - rng.uniform(-500, 1300 * 30 + 500, n)
    r = rng.uniform(20, 400, n)
    geoms = list(shapely.buffer(shapely.points(x, y), r, quad_segs=5))
    geoms.append(shapely.box(x0 + 1000.7, y0 - 36_000.3, x0 + 35_000.1, y0 - 2000.9))  # cut
    polys = gpd.GeoDataFrame({"k": np.arange(len(geoms))}, geometry=geoms, crs=32718)
    return path, polys.set_index(polys["k"] * 10)


@pytest.mark.filterwarnings("ignore::agroforest_geo.errors.NoDataWarning")
def test_results_do_not_depend_on_other_polygons(big_grid):
    path, polys = big_grid
    full = integrate(polys, path)
    rng = np.random.default_rng(3)
    subsets = [
        polys.iloc[::3],
        polys.iloc[rng.permutation(len(polys))],
        polys.sample(25, random_state=1),
        polys.iloc[[-1]],
        polys.iloc[5:6],
    ]
    for sub in subsets:
        part = integrate(sub, path)
        ref = full.loc[sub.index]
        np.testing.assert_allclose(part.to_numpy(), ref.to_numpy(), rtol=1e-12, atol=0)
    # pieces of a polygon do not depend on its neighbours either
    one = polys.iloc[[7]]
    a = [p for p in iter_pixel_pieces(one, {"v": path})]
    b = [p for p in iter_pixel_pieces(polys, {"v": path})]
    cov_a = np.concatenate([p.coverage for p in a])
    cov_b = np.concatenate([p.coverage[p.feature == 7] for p in b])
    area_b = np.concatenate([p.area_m2[p.feature == 7] for p in b])
    np.testing.assert_array_equal(cov_a, cov_b)
    np.testing.assert_array_equal(np.concatenate([p.area_m2 for p in a]), area_b)


@pytest.mark.filterwarnings("ignore::agroforest_geo.errors.NoDataWarning")
def test_n_jobs_gives_identical_results(big_grid):
    path, polys = big_grid
    one = integrate(polys, path)
    two = integrate(polys, path, n_jobs=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    with pytest.raises(ValueError, match="n_jobs"):
        integrate(polys.head(2), path, n_jobs=0)
    with pytest.raises(TypeError, match="n_jobs"):
        integrate(polys.head(2), path, n_jobs=1.5)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore::agroforest_geo.errors.NoDataWarning")
def test_n_jobs_with_in_memory_raster(big_grid):
    # threads share the open dataset (read under a lock): in-memory rasters take n_jobs too
    path, polys = big_grid
    from rasterio.io import MemoryFile

    with open(path, "rb") as f, MemoryFile(f.read()) as mem, mem.open() as src:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            out = integrate(polys, src, n_jobs=2)
    pd.testing.assert_frame_equal(out, integrate(polys, path), check_exact=True)

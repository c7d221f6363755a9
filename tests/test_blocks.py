"""Raster blocks read once each (``_blocks``), and the cell areas of the pass (``cellarea``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from rasterio.windows import Window

from agroforest_geo import cellarea
from agroforest_geo._blocks import BlockStore
from agroforest_geo.area import geodesic_area_m2
from agroforest_geo.inputs import _grid_of

X0, Y0 = 700_000.0, 9_200_000.0  # UTM 18S, 200 km east of the central meridian


def write(path: Path, arr: np.ndarray, *, nodata=None, tiled=True, block=64, mask=None) -> Path:
    prof = dict(driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                dtype=arr.dtype, crs="EPSG:32718", transform=from_origin(X0, Y0, 30, 30),
                nodata=nodata)  # fmt: skip
    if tiled:
        prof.update(tiled=True, blockxsize=block, blockysize=block, compress="deflate")
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **prof) as dst:
        dst.write(arr, 1)
        if mask is not None:
            dst.write_mask(mask)
    return path


def batches(rng, shape, n=40):
    """Random batches: a window and, inside it, a few pixel boxes (c0, r0, c1, r1)."""
    h, w = shape
    out = []
    for _ in range(n):
        r0, c0 = int(rng.integers(0, h - 1)), int(rng.integers(0, w - 1))
        width, height = int(rng.integers(1, w - c0 + 1)), int(rng.integers(1, h - r0 + 1))
        k = int(rng.integers(1, 6))
        a = np.column_stack([rng.integers(c0, c0 + width, k), rng.integers(r0, r0 + height, k)])
        b = np.column_stack(
            [rng.integers(a[:, 0], c0 + width) + 1, rng.integers(a[:, 1], r0 + height) + 1]
        )
        out.append((Window(c0, r0, width, height), np.column_stack([a, b]).astype(np.int64)))
    return out


def rasters(tmp_path):
    rng = np.random.default_rng(4)
    a8 = rng.integers(0, 256, (1100, 900)).astype("uint8")
    a16 = rng.integers(-5, 100, (1100, 900)).astype("int16")
    f32 = rng.normal(size=(1100, 900)).astype("float32")
    f32[rng.random(f32.shape) < 0.1] = np.nan
    fnd = np.where(rng.random(f32.shape) < 0.1, -9999.0, f32).astype("float32")
    m = np.where(rng.random(a8.shape) < 0.2, 0, 255).astype("uint8")
    return {
        "uint8 nodata, tiled": write(tmp_path / "a.tif", a8, nodata=255),
        "int16 nodata -5, striped": write(tmp_path / "b.tif", a16, nodata=-5, tiled=False),
        "float32 NaN, no nodata": write(tmp_path / "c.tif", f32),
        "float32 nodata -9999": write(tmp_path / "d.tif", fnd, nodata=-9999.0, block=128),
        "uint8 internal mask": write(tmp_path / "e.tif", a8, mask=m),
        "uint8, no nodata": write(tmp_path / "f.tif", a8),
    }


@pytest.mark.filterwarnings("ignore::rasterio.errors.NodataShadowWarning")
def test_windows_equal_masked_reads_and_each_unit_is_read_once(tmp_path):
    rng = np.random.default_rng(1)
    for label, path in rasters(tmp_path).items():
        with rasterio.open(path) as src:
            plan = batches(rng, src.shape)
            store = BlockStore({"v": src}, {"v": 1}, [boxes for _, boxes in plan])
            for k in rng.permutation(len(plan)):  # any order, as threads finish them
                win, boxes = plan[k]
                arr = src.read(1, window=win, masked=True)
                ref_valid = ~np.ma.getmaskarray(arr)
                if arr.dtype.kind == "f":
                    ref_valid &= ~np.isnan(arr.data)
                c0, r0, c1, r1 = boxes[0]
                rr, cc = np.mgrid[r0:r1, c0:c1]
                rows, cols = rr.ravel(), cc.ravel()
                values, valid = store.gather("v", k, win, rows, cols)
                wr, wc = rows - win.row_off, cols - win.col_off
                np.testing.assert_array_equal(values, arr.data[wr, wc], err_msg=label)
                np.testing.assert_array_equal(valid, ref_valid[wr, wc], err_msg=label)
                store.release(k)
            c = store.counters
            assert set(c.reads_per_unit.values()) == {1}, label
            assert c.units_read == len(c.reads_per_unit) < c.units_asked, label
            assert all(not r.units for r in store.rasters.values()), label  # all dropped


def test_only_the_units_of_the_boxes_are_read(tmp_path):
    path = write(tmp_path / "u.tif", np.zeros((2048, 2048), "uint8"), nodata=255)
    with rasterio.open(path) as src:
        # a window over 16 units, whose parts lie in two of them
        win = Window(0, 0, 2048, 2048)
        store = BlockStore({"v": src}, {"v": 1}, [np.array([[5, 5, 9, 9], [1500, 20, 1510, 30]])])
        values, _ = store.gather("v", 0, win, np.array([5, 25]), np.array([5, 1505]))
        assert values.tolist() == [0, 0]
        assert store.counters.units_read == 2
        with pytest.raises(RuntimeError, match="outside the raster blocks planned"):
            store.gather("v", 0, win, np.array([1000]), np.array([1000]))


def test_units_group_small_blocks(tmp_path):
    path = write(tmp_path / "s.tif", np.zeros((1200, 900), "uint8"), nodata=255, tiled=False)
    with rasterio.open(path) as src:
        store = BlockStore({"v": src}, {"v": 1}, [np.array([[0, 0, 900, 1200]])])
        r = store.rasters["v"]
        assert src.block_shapes[0][0] < 512
        assert (r.uh, r.uw) == (src.block_shapes[0][0] * -(-512 // src.block_shapes[0][0]), 900)


def test_lattice_cells_from_corners_are_the_polygon_path(tmp_path):
    path = write(tmp_path / "g.tif", np.zeros((3000, 2000), "uint8"), nodata=255)
    with rasterio.open(path) as src:
        g = _grid_of(src, "g")
    rng = np.random.default_rng(0)
    rr = rng.integers(0, 3000, 70_000).astype(float)
    cc = rng.integers(0, 2000, 70_000).astype(float)
    fast = cellarea._cell_areas_m2(g, rr, cc)
    x0, y1 = g.transform.c + g.dx * cc, g.transform.f + g.dy * rr
    ref = geodesic_area_m2(shapely.box(x0, y1 + g.dy, x0 + g.dx, y1), g.crs)
    np.testing.assert_array_equal(fast, ref)


def test_coarse_cells_take_the_polygon_path(tmp_path):
    arr = np.zeros((20, 20), "uint8")
    with rasterio.open(tmp_path / "k.tif", "w", driver="GTiff", width=20, height=20, count=1,
                       dtype="uint8", crs="EPSG:32718", nodata=255,
                       transform=from_origin(X0, Y0, 1000, 1000)) as dst:  # fmt: skip
        dst.write(arr, 1)
    with rasterio.open(tmp_path / "k.tif") as src:
        g = _grid_of(src, "k")
    # 1 km edges are densified by geodesic_area_m2: the corner path declines them
    assert cellarea._cell_areas_m2(g, np.array([3.0]), np.array([4.0])) is None
    a = cellarea.cell_area_m2(tmp_path / "k.tif", [3], [4])
    ref = geodesic_area_m2([shapely.box(X0 + 4000, Y0 - 4000, X0 + 5000, Y0 - 3000)], 32718)
    assert a[0] == pytest.approx(ref[0], rel=1e-8)  # the lattice interpolates the ratio


def test_compiled_bilinear_is_the_numpy_one(tmp_path):
    pytest.importorskip("numba")
    path = write(tmp_path / "b.tif", np.zeros((5000, 4000), "uint8"), nodata=255)
    with rasterio.open(path) as src:
        ca = cellarea._CellArea(_grid_of(src, "b"))
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 5000, 50_000)
    cols = rng.integers(0, 4000, 50_000)
    got = ca(rows, cols)  # compiled (>= 1,000 cells)
    lr, lc, ratio = ca.lattice
    ref = cellarea._bilinear(rows, cols, lr, lc, ratio, abs(ca.grid.dx * ca.grid.dy))
    np.testing.assert_array_equal(got, ref)


@pytest.mark.filterwarnings("ignore::agroforest_geo.errors.GeometryWarning")
@pytest.mark.filterwarnings("ignore::agroforest_geo.errors.NoDataWarning")
def test_any_number_of_threads_gives_the_same_bits(tmp_path):
    import geopandas as gpd
    import pandas as pd

    from agroforest_geo.cover import forest_cover_and_loss

    rng = np.random.default_rng(9)
    n = 3000
    cover = rng.integers(0, 101, (n, n)).astype("uint8")
    loss = np.where(rng.random((n, n)) < 0.1, rng.integers(1, 24, (n, n)), 0).astype("uint8")
    cpath = write(tmp_path / "cover.tif", cover, nodata=255)
    lpath = write(tmp_path / "loss.tif", loss, nodata=255, block=128)
    x = rng.uniform(X0, X0 + 30 * n, 1500)
    y = rng.uniform(Y0 - 30 * n, Y0, 1500)
    geoms = list(shapely.buffer(shapely.points(x, y), rng.uniform(20, 300, 1500), quad_segs=4))
    geoms += [
        shapely.box(X0 + 1000, Y0 - 80_000, X0 + 80_000, Y0 - 1000),  # cut across tiles
        # a bow-tie: measured by exactextract
        shapely.Polygon(
            [(X0 + 300, Y0 - 300), (X0 + 900, Y0 - 900), (X0 + 900, Y0 - 300), (X0 + 300, Y0 - 900)]
        ),
        shapely.box(X0 - 500, Y0 - 500, X0 + 500, Y0 + 500),  # across the raster's corner
        shapely.box(X0 + 5000, Y0 - 6000, X0 + 6000, Y0 - 5000).difference(
            shapely.box(X0 + 5300, Y0 - 5700, X0 + 5700, Y0 - 5300)
        ),
    ]
    polys = gpd.GeoDataFrame(geometry=geoms, crs=32718)
    one = forest_cover_and_loss(polys, cpath, lpath, n_jobs=1)
    for jobs in (2, 4):
        pd.testing.assert_frame_equal(
            forest_cover_and_loss(polys, cpath, lpath, n_jobs=jobs), one, check_exact=True
        )


def test_one_dataset_under_two_names_is_read_under_one_lock(tmp_path):
    # cover and loss as two bands of one file, passed as one open dataset: GDAL datasets
    # are not thread-safe, so both names must share the dataset's lock
    import geopandas as gpd
    import pandas as pd

    from agroforest_geo.cover import forest_cover_and_loss

    rng = np.random.default_rng(11)
    n = 1500
    cover = rng.integers(0, 101, (n, n)).astype("uint8")
    loss = np.where(rng.random((n, n)) < 0.1, rng.integers(1, 24, (n, n)), 0).astype("uint8")
    stack = tmp_path / "stack.tif"
    prof = dict(driver="GTiff", width=n, height=n, count=2, dtype="uint8", crs="EPSG:32718",
                transform=from_origin(X0, Y0, 30, 30), nodata=255, tiled=True,
                blockxsize=128, blockysize=128, compress="deflate")  # fmt: skip
    with rasterio.open(stack, "w", **prof) as dst:
        dst.write(np.stack([cover, loss]))
    with rasterio.open(stack) as src:
        store = BlockStore({"cover": src, "loss": src}, {"cover": 1, "loss": 2}, [])
        assert store.rasters["cover"].lock is store.rasters["loss"].lock
    cpath = write(tmp_path / "cover.tif", cover, nodata=255, block=128)
    lpath = write(tmp_path / "loss.tif", loss, nodata=255, block=128)
    x = rng.uniform(X0, X0 + 30 * n, 2000)
    y = rng.uniform(Y0 - 30 * n, Y0, 2000)
    geoms = shapely.buffer(shapely.points(x, y), rng.uniform(20, 300, 2000), quad_segs=4)
    polys = gpd.GeoDataFrame(geometry=geoms, crs=32718)
    want = forest_cover_and_loss(polys, cpath, lpath, n_jobs=1)
    with rasterio.open(stack) as src:
        got = forest_cover_and_loss(polys, src, src, cover_band=1, loss_band=2, n_jobs=2)
    pd.testing.assert_frame_equal(got, want, check_exact=True)

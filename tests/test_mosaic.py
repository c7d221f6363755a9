from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

import agroforest_geo as agf
from agroforest_geo.errors import RasterError
from agroforest_geo.mosaic import as_raster, build_vrt, split_raster

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


def _write(path, data, *, transform, crs="EPSG:4326", nodata=None):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture(scope="module")
def cover_tiles(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiles")
    return split_raster(agf.datasets.get_path("treecover"), out, nx=2, ny=2)


def test_vrt_of_tiles_reads_the_original_pixels(cover_tiles, tmp_path):
    vrt = build_vrt(cover_tiles, tmp_path / "m.vrt")
    with rasterio.open(vrt) as a, rasterio.open(agf.datasets.get_path("treecover")) as b:
        assert a.shape == b.shape
        assert a.transform.almost_equals(b.transform)
        assert a.nodata == b.nodata
        assert np.array_equal(a.read(1), b.read(1))
        # a window across all four tiles
        win = rasterio.windows.Window(550, 580, 100, 50)
        assert np.array_equal(a.read(1, window=win), b.read(1, window=win))


def test_glob_and_list_give_the_same_mosaic(cover_tiles, tmp_path):
    pattern = str(cover_tiles[0].parent / "*.tif")
    a = build_vrt(pattern, tmp_path / "a.vrt")
    b = build_vrt(list(reversed(cover_tiles)), tmp_path / "b.vrt")
    with rasterio.open(a) as ra, rasterio.open(b) as rb:
        assert np.array_equal(ra.read(1), rb.read(1))


def test_forest_cover_on_mosaic_equals_single_raster(cover_tiles, tmp_path):
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    single = agf.forest_cover(parcels, agf.datasets.get_path("treecover"))
    mosaic = agf.forest_cover(parcels, build_vrt(cover_tiles, tmp_path / "m.vrt"))
    np.testing.assert_allclose(mosaic.to_numpy(), single.to_numpy(), rtol=1e-12, equal_nan=True)
    assert single["forest_ha"].sum() > 10  # the comparison is not between zeros


def test_gap_between_tiles_is_nodata_with_and_without_nodata_value(tmp_path):
    t = Affine(0.001, 0, -77.0, 0, -0.001, -7.0)
    a = _write(tmp_path / "a.tif", np.full((10, 10), 50, np.uint8), transform=t)
    b = _write(
        tmp_path / "b.tif", np.full((10, 10), 60, np.uint8), transform=t * Affine.translation(20, 0)
    )
    vrt = build_vrt([a, b], tmp_path / "gap.vrt")
    with rasterio.open(vrt) as src:
        assert src.shape == (10, 30)
        arr = src.read(1, masked=True)
    # no nodata value on the tiles: the dataset mask marks the 10 x 10 gap
    assert int(arr.mask.sum()) == 100
    assert arr.mask[:, 10:20].all() and not arr.mask[:, :10].any()
    assert float(arr[:, 20:].mean()) == 60.0


def test_tiles_in_different_crs_raise(tmp_path):
    t = Affine(0.001, 0, -77.0, 0, -0.001, -7.0)
    a = _write(tmp_path / "a.tif", np.zeros((5, 5), np.uint8), transform=t)
    b = _write(tmp_path / "b.tif", np.zeros((5, 5), np.uint8), transform=t, crs="EPSG:4269")
    with pytest.raises(RasterError, match="different CRSs"):
        build_vrt([a, b])


def test_tiles_with_different_resolution_raise(tmp_path):
    t = Affine(0.001, 0, -77.0, 0, -0.001, -7.0)
    a = _write(tmp_path / "a.tif", np.zeros((5, 5), np.uint8), transform=t)
    t2 = Affine(0.002, 0, -77.0, 0, -0.002, -7.0)
    b = _write(tmp_path / "b.tif", np.zeros((5, 5), np.uint8), transform=t2)
    with pytest.raises(RasterError, match="different resolutions"):
        build_vrt([a, b])


def test_tile_off_the_grid_raises(tmp_path):
    t = Affine(0.001, 0, -77.0, 0, -0.001, -7.0)
    a = _write(tmp_path / "a.tif", np.zeros((5, 5), np.uint8), transform=t)
    b = _write(
        tmp_path / "b.tif", np.zeros((5, 5), np.uint8), transform=t * Affine.translation(5.5, 0)
    )
    with pytest.raises(RasterError, match="pixel grid"):
        build_vrt([a, b])


def test_empty_pattern_and_missing_tile_raise(tmp_path):
    with pytest.raises(RasterError, match="no raster matches"):
        build_vrt(str(tmp_path / "*.tif"))
    with pytest.raises(RasterError, match="does not exist"):
        build_vrt([tmp_path / "missing.tif"])


def test_as_raster_normalises_inputs(cover_tiles, tmp_path):
    path = agf.datasets.get_path("treecover")
    assert as_raster(path) == path
    with rasterio.open(path) as src:
        assert as_raster(src) == src.name
    out = as_raster(cover_tiles, vrt_path=tmp_path / "x.vrt")
    assert out == str(tmp_path / "x.vrt")
    assert as_raster(None) is None

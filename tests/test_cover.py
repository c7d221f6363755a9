from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

import agroforest_geo as agf
from agroforest_geo.area import geodesic_area_m2
from agroforest_geo.errors import NoDataWarning, RasterError

X0, Y0 = 500_000.0, 9_200_120.0


def write_tif(path: Path, arr, nodata=None, crs="EPSG:32718", res=30.0) -> str:
    arr = np.asarray(arr)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=arr.shape[1],
        height=arr.shape[0],
        count=1,
        dtype=arr.dtype,
        crs=crs,
        transform=from_origin(X0, Y0, res, res),
        nodata=nodata,
    ) as dst:
        dst.write(arr, 1)
    return str(path)


def cell(r: int, c: int) -> shapely.Polygon:
    return shapely.box(X0 + 30 * c, Y0 - 30 * (r + 1), X0 + 30 * (c + 1), Y0 - 30 * r)


CELL_M2 = geodesic_area_m2([cell(0, 0)], 32718)[0]


@pytest.fixture
def cover_tif(tmp_path):
    arr = np.array(
        [[0, 5, 10, 30], [50, 80, 100, 255], [9, 11, 29, 31], [100, 100, 0, 0]], dtype="uint8"
    )
    return write_tif(tmp_path / "cover.tif", arr, nodata=255)


@pytest.fixture
def loss_tif(tmp_path):
    arr = np.array([[0, 1, 20, 21], [23, 0, 21, 0], [22, 0, 20, 0], [21, 0, 0, 0]], dtype="uint8")
    return write_tif(tmp_path / "loss.tif", arr, nodata=255)


def whole(r0, c0, r1, c1):
    return shapely.box(X0 + 30 * c0, Y0 - 30 * r1, X0 + 30 * c1, Y0 - 30 * r0)


def test_forest_cover_continuous(cover_tif):
    polys = gpd.GeoDataFrame(
        {"pid": ["a", "b"]},
        geometry=[whole(0, 0, 2, 4), whole(2, 0, 3, 4)],
        index=[10, 5],
        crs=32718,
    )
    out = agf.forest_cover(polys, cover_tif)
    assert list(out.index) == [10, 5]
    # row 0-1: values 0 5 10 30 / 50 80 100 nodata; threshold 10 -> 10,30,50,80,100 forest
    a = out.loc[10]
    assert a["forest_ha"] == pytest.approx(5 * CELL_M2 / 1e4, rel=1e-9)
    assert a["nodata_ha"] == pytest.approx(CELL_M2 / 1e4, rel=1e-6)
    assert a["valid_share"] == pytest.approx(7 / 8, rel=1e-9)
    assert a["forest_share"] == pytest.approx(5 / 7, rel=1e-9)
    assert a["mean_cover_pct"] == pytest.approx(275 / 7, rel=1e-9)
    assert a["area_ha"] == pytest.approx(8 * CELL_M2 / 1e4, rel=1e-9)
    b30 = agf.forest_cover(polys, cover_tif, threshold=30).loc[5]
    assert b30["forest_ha"] == pytest.approx(CELL_M2 / 1e4, rel=1e-9)  # only 31
    assert agf.forest_cover(polys, cover_tif, threshold=0).loc[5]["forest_share"] == 1.0


def test_forest_cover_partial_pixels(cover_tif):
    # half of pixel (0,2) [10 %] and half of (0,1) [5 %]: forest = half a pixel
    poly = shapely.box(X0 + 45, Y0 - 30, X0 + 75, Y0)
    out = agf.forest_cover(gpd.GeoSeries([poly], crs=32718), cover_tif)
    assert out["forest_ha"].iloc[0] == pytest.approx(CELL_M2 / 2 / 1e4, rel=1e-9)
    assert out["mean_cover_pct"].iloc[0] == pytest.approx(7.5, rel=1e-9)


def test_forest_cover_categorical_and_class_shares(tmp_path):
    arr = np.array([[1, 1, 2], [3, 0, 2], [1, 9, 9]], dtype="int16")
    path = write_tif(tmp_path / "lc.tif", arr, nodata=9)
    g = gpd.GeoSeries([whole(0, 0, 3, 3)], crs=32718)
    out = agf.forest_cover(g, path, forest_values=[1, 2])
    assert "mean_cover_pct" not in out.columns
    assert out["forest_ha"].iloc[0] == pytest.approx(5 * CELL_M2 / 1e4, rel=1e-9)
    assert out["forest_share"].iloc[0] == pytest.approx(5 / 7, rel=1e-9)
    cs = agf.class_shares(g, path)
    assert [c for c in cs.columns if c.startswith("share_")] == [
        "share_0",
        "share_1",
        "share_2",
        "share_3",
    ]
    np.testing.assert_allclose(cs.filter(like="share_").iloc[0], [1 / 7, 3 / 7, 2 / 7, 1 / 7])


def test_float_categories(tmp_path):
    ok = write_tif(tmp_path / "f.tif", np.array([[1.0, 0.0]], dtype="float32"), nodata=-1)
    g = gpd.GeoSeries([whole(0, 0, 1, 2)], crs=32718)
    assert agf.forest_cover(g, ok, forest_values=[1])["forest_share"].iloc[0] == pytest.approx(0.5)
    bad = write_tif(tmp_path / "g.tif", np.array([[1.5, 0.0]], dtype="float32"), nodata=-1)
    with pytest.raises(RasterError, match="non-integer"):
        agf.class_shares(g, bad)


def test_options_validated(cover_tif):
    g = gpd.GeoSeries([whole(0, 0, 1, 1)], crs=32718)
    with pytest.raises(ValueError, match="0-100"):
        agf.forest_cover(g, cover_tif, threshold=101)
    with pytest.raises(ValueError, match="0-100"):
        agf.forest_loss(g, cover_tif, threshold=-1)
    with pytest.raises(ValueError, match="centroid"):
        agf.forest_cover(g, cover_tif, method="nearest")  # type: ignore[arg-type]
    with pytest.raises(RasterError, match="band"):
        agf.forest_cover(g, cover_tif, band=3)
    with pytest.raises(ValueError, match="ISO date"):
        agf.forest_loss(g, cover_tif, cutoff="31/12/2020")


def test_forest_loss_years_and_cutoff(loss_tif, cover_tif):
    g = gpd.GeoDataFrame(geometry=[whole(0, 0, 4, 4), whole(0, 1, 1, 2)], crs=32718)
    out = agf.forest_loss(g, loss_tif)
    years = [c for c in out.columns if c.startswith("loss_ha_")]
    assert years == [f"loss_ha_{y}" for y in (2001, 2020, 2021, 2022, 2023)]
    c = CELL_M2 / 1e4
    r = out.iloc[0]
    assert r["loss_ha"] == pytest.approx(8 * c, rel=1e-9)
    assert r["loss_ha_2021"] == pytest.approx(3 * c, rel=1e-9)
    assert r["loss_after_cutoff_ha"] == pytest.approx(5 * c, rel=1e-9)
    assert r["loss_in_cutoff_year_ha"] == pytest.approx(2 * c, rel=1e-9)
    assert r["first_loss_year"] == 2001 and r["last_loss_year"] == 2023
    assert out.iloc[1]["first_loss_year"] == 2001 and out.iloc[1]["loss_after_cutoff_ha"] == 0
    # an int year and a date are the same 31-Dec cutoff; a mid-year cutoff makes 2021 straddle
    # it, and a straddling year counts as after (conservative): 2021 (3) + 2022 + 2023 = 5
    for cut in (2020, dt.date(2020, 12, 31)):
        assert agf.forest_loss(g, loss_tif, cutoff=cut).equals(out)
    mid = agf.forest_loss(g, loss_tif, cutoff="2021-06-30").iloc[0]
    assert mid["loss_after_cutoff_ha"] == pytest.approx(5 * c, rel=1e-9)
    assert mid["loss_in_cutoff_year_ha"] == pytest.approx(3 * c, rel=1e-9)
    # with cover: only loss on pixels with cover >= threshold (cover nodata pixel (1,3) drops)
    wc = agf.forest_loss(g, loss_tif, cover=cover_tif, threshold=10).iloc[0]
    # loss pixels & cover: (0,1)=5 no, (0,2)=10 y, (0,3)=30 y, (1,0)=50 y, (1,2)=100 y,
    # (2,0)=9 no, (2,2)=29 y, (3,0)=100 y
    assert wc["loss_ha"] == pytest.approx(6 * c, rel=1e-9)
    assert wc["first_loss_year"] == 2020
    assert wc["valid_share"] == pytest.approx(15 / 16, rel=1e-9)


def test_forest_loss_no_loss_gives_na_years(tmp_path):
    path = write_tif(tmp_path / "z.tif", np.zeros((2, 2), "uint8"), nodata=255)
    out = agf.forest_loss(gpd.GeoSeries([whole(0, 0, 2, 2)], crs=32718), path)
    assert out["loss_ha"].iloc[0] == 0
    assert out["first_loss_year"].isna().all()
    assert not any(c.startswith("loss_ha_") for c in out.columns)


def test_nodata_everywhere_and_outside(tmp_path):
    path = write_tif(tmp_path / "n.tif", np.full((2, 2), 255, "uint8"), nodata=255)
    g = gpd.GeoSeries([whole(0, 0, 2, 2), shapely.box(0, 9_000_000, 100, 9_000_100)], crs=32718)
    with pytest.warns(NoDataWarning, match="2 of 2"):
        out = agf.forest_cover(g, path)
    assert (out["valid_share"] == 0).all()
    assert out["forest_share"].isna().all()
    np.testing.assert_allclose(out["nodata_ha"], out["area_ha"])


def test_centroid_vs_exact(cover_tif):
    poly = shapely.box(X0 + 10, Y0 - 40, X0 + 40, Y0 - 10)  # only pixel (0,0)'s centre inside
    g = gpd.GeoSeries([poly], crs=32718)
    cen = agf.forest_cover(g, cover_tif, method="centroid", threshold=0)
    assert cen["forest_ha"].iloc[0] == pytest.approx(CELL_M2 / 1e4, rel=1e-9)


def test_sample_data_truth():
    parcels = agf.read_parcels(agf.datasets.get_path("parcels")).set_index("parcel_id")
    truth = json.loads((Path(agf.datasets.get_path("parcels")).parent / "truth.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDataWarning)
        fc = agf.forest_cover(parcels, agf.datasets.get_path("treecover"))
        fl = agf.forest_loss(
            parcels, agf.datasets.get_path("lossyear"), cover=agf.datasets.get_path("treecover")
        )
    assert len(fc) == len(parcels) and (fc.index == parcels.index).all()
    edge = truth["raster_edge"]
    assert (fc.loc[edge, "valid_share"] < 0.99).all()
    cloud = truth["cloud_over_parcel"]  # nodata pixels over one parcel
    assert 0 < fc.loc[cloud, "valid_share"] < 1
    inside = fc.drop(index=[*edge, cloud])
    assert (inside["valid_share"] > 0.999).all()
    np.testing.assert_allclose(fc["area_ha"], agf.area_ha(parcels), rtol=1e-9)
    for pid, year in truth["loss_after_2020"].items():
        assert fl.loc[pid, "loss_after_cutoff_ha"] > 0, pid
        assert fl.loc[pid, f"loss_ha_{year}"] > 0, pid
    for pid in truth["loss_before_2020"]:
        assert fl.loc[pid, "loss_ha"] > 0
    # both rasters in one pass equals cover-masked loss computed by hand from class shares
    total_years = fl.filter(like="loss_ha_").sum(axis=1)
    np.testing.assert_allclose(total_years, fl["loss_ha"], rtol=1e-12)


@pytest.mark.shared
def test_shared_rasterstats_categorical(shared_data):
    d = shared_data / "python-rasterstats"
    polys = gpd.read_file(d / "polygons.shp")
    with rasterio.open(d / "slope_classes.tif") as src:
        polys = polys.set_crs(src.crs, allow_override=True)
        px = abs(src.transform.a * src.transform.e)
    cs = agf.class_shares(polys, d / "slope_classes.tif", method="centroid")
    # rasterstats: polygon 2 = {1: 1, 2: 9, 5: 40} pixel centres (equal-area CRS: equal weights)
    np.testing.assert_allclose(
        cs.loc[1, ["share_1", "share_2", "share_5"]], [1 / 50, 9 / 50, 40 / 50], rtol=1e-6
    )
    assert cs.loc[0, "share_1"] == pytest.approx(1.0)
    assert px > 0


def test_cli_forest_cover_and_loss(tmp_path, capsys):
    from agroforest_geo.cli import main

    parcels = agf.datasets.get_path("parcels")
    cover, loss = agf.datasets.get_path("treecover"), agf.datasets.get_path("lossyear")
    out = tmp_path / "fc.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDataWarning)
        assert main(["forest-cover", parcels, cover, "--threshold", "30", "-o", str(out)]) == 0
        assert main(["forest-loss", parcels, loss, "--cover", cover, "--cutoff", "2020"]) == 0
    import pandas as pd

    table = pd.read_csv(out)
    ref = agf.forest_cover(agf.read_parcels(parcels), cover, threshold=30)
    np.testing.assert_allclose(table["forest_ha"], ref["forest_ha"], rtol=1e-12)
    assert table["parcel_id"].iloc[0] == "P0001"
    printed = capsys.readouterr().out
    assert "loss_after_cutoff_ha" in printed and "P0006" in printed


@pytest.fixture(scope="module")
def cover_loss_grid(tmp_path_factory):
    """800 x 800 px of 30 m: cover and loss-year rasters, 200 random parcels."""
    rng = np.random.default_rng(11)
    d = tmp_path_factory.mktemp("cl")
    cov = rng.integers(0, 101, (800, 800)).astype("uint8")
    cov[10:30, 10:50] = 255
    loss = np.where(rng.random((800, 800)) < 0.1, rng.integers(1, 24, (800, 800)), 0)
    cover = write_tif(d / "cover.tif", cov, nodata=255)
    lossyear = write_tif(d / "loss.tif", loss.astype("uint8"), nodata=255)
    n = 200
    x = X0 + rng.uniform(0, 800 * 30, n)
    y = Y0 - rng.uniform(0, 800 * 30, n)
    geoms = shapely.buffer(shapely.points(x, y), rng.uniform(30, 300, n), quad_segs=5)
    polys = gpd.GeoDataFrame({"pid": [f"P{i}" for i in range(n)]}, geometry=geoms, crs=32718)
    return cover, lossyear, polys.set_index("pid")


def test_forest_cover_and_loss_equals_separate_calls(cover_loss_grid):
    import pandas as pd

    from agroforest_geo.cover import forest_cover_and_loss

    cover, lossyear, polys = cover_loss_grid
    both = forest_cover_and_loss(polys, cover, lossyear, threshold=30, cutoff=2020)
    fc = agf.forest_cover(polys, cover, threshold=30)
    fl = agf.forest_loss(polys, lossyear, cover=cover, threshold=30, cutoff=2020)
    shared = ["area_ha", "valid_share", "nodata_ha"]
    assert list(both.columns[:6]) == list(fc.columns)
    assert list(both.columns[7:]) == [c for c in fl.columns if c not in shared]
    pd.testing.assert_frame_equal(both[fc.columns], fc, check_exact=True)
    loss_cols = [c for c in fl.columns if c not in shared]
    pd.testing.assert_frame_equal(both[loss_cols], fl[loss_cols], check_exact=True)
    np.testing.assert_array_equal(both["loss_valid_share"], fl["valid_share"])
    assert (both["loss_valid_share"] <= both["valid_share"]).all()
    # subsets and shuffled order give the rows of the full call
    rng = np.random.default_rng(0)
    for sub in (polys.iloc[::3], polys.iloc[rng.permutation(len(polys))], polys.iloc[[4]]):
        part = forest_cover_and_loss(sub, cover, lossyear, threshold=30, cutoff=2020)
        ref = both.loc[sub.index, part.columns]
        num = [c for c in part.columns if c not in ("first_loss_year", "last_loss_year")]
        np.testing.assert_allclose(part[num].to_numpy(float), ref[num].to_numpy(float), rtol=1e-12)
        pd.testing.assert_series_equal(part["first_loss_year"], ref["first_loss_year"])


def test_n_jobs_identical(cover_loss_grid):
    import pandas as pd

    from agroforest_geo.cover import forest_cover_and_loss

    cover, lossyear, polys = cover_loss_grid
    for fn, args in [
        (forest_cover_and_loss, (cover, lossyear)),
        (agf.forest_cover, (cover,)),
        (agf.forest_loss, (lossyear,)),
        (agf.class_shares, (lossyear,)),
    ]:
        one = fn(polys, *args, progress=False, n_jobs=1)
        two = fn(polys, *args, progress=False, n_jobs=2)
        pd.testing.assert_frame_equal(one, two, check_exact=True)

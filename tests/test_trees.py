from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

import agroforest_geo as agf
from agroforest_geo import (
    CRSMismatchError,
    GeometryWarning,
    InvalidGeometryError,
    MissingColumnError,
    MissingCRSError,
    NoDataWarning,
)

X0, Y0 = 500_000.0, 9_200_000.0
UTM = "EPSG:32718"
# a 100 m x 100 m UTM square near the central meridian is 1 ha / k0^2 on the ellipsoid
# (k0 = 0.9996, the scale factor); 1e-4 relative covers the change of k over 400 m.
HA_UTM_SQUARE = 1 / 0.9996**2


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def pt(x, y):
    return shapely.Point(X0 + x, Y0 + y)


@pytest.fixture
def plots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "plot_id": ["A", "B", "C", "Z"],
            "parcel_id": ["p1", "p1", "p2", "p3"],
            "system": [
                "cocoa_agroforestry",
                "cocoa_agroforestry",
                "reforestation",
                "reforestation",
            ],
            "trees_planted": [10, 4, 8, 3],
        },
        geometry=[
            box(0, 0, 100, 100),
            box(50, 0, 150, 100),  # overlaps A on x 50..100
            box(300, 0, 400, 100),
            shapely.LineString([(X0 + 500, Y0), (X0 + 600, Y0)]).buffer(0),  # empty: no area
        ],
        crs=UTM,
        index=[10, 11, 12, 13],
    )


@pytest.fixture
def trees() -> gpd.GeoDataFrame:
    geoms = [
        pt(10, 10),
        pt(20, 20),
        pt(30, 30),  # A only
        pt(60, 50),
        pt(90, 50),  # A and B
        pt(120, 50),  # B only
        pt(700, 700),
        pt(-5, 50),  # outside every plot
    ]
    species = [
        "Inga edulis",
        "Inga edulis",
        "Cedrela odorata",
        "Inga edulis",
        None,
        "Cedrela odorata",
        "Inga edulis",
        "Inga edulis",
    ]
    return gpd.GeoDataFrame(
        {"species": species}, geometry=geoms, crs=UTM, index=[f"t{i}" for i in range(8)]
    )


def test_inventory_counts_overlap_all(plots, trees):
    with pytest.warns(GeometryWarning, match="2 tree\\(s\\) lie outside every plot"):
        d = agf.tree_density(plots, trees=trees)
    assert d.index.equals(plots.index)
    assert d["tree_count"].tolist()[:3] == [5, 3, 0]
    assert (d["source"] == "inventory").all()
    np.testing.assert_allclose(d["area_ha"].iloc[:3], HA_UTM_SQUARE, rtol=1e-4)
    np.testing.assert_allclose(d["trees_per_ha"].iloc[:3], np.array([5, 3, 0]) / d["area_ha"][:3])
    assert d.attrs["unassigned_tree_count"] == 2
    out = agf.unassigned_trees(plots, trees)
    assert list(out.index) == ["t6", "t7"]


def test_inventory_counts_overlap_first(plots, trees):
    with pytest.warns(GeometryWarning):
        d = agf.tree_density(plots, trees=trees, overlap="first")
    assert d["tree_count"].tolist()[:3] == [5, 1, 0]
    # with "first", counts add up to the trees inside some plot
    assert d["tree_count"].sum() + d.attrs["unassigned_tree_count"] == len(trees)
    # reversing the plot order gives the overlap trees to B
    rev = plots.iloc[::-1]
    with pytest.warns(GeometryWarning):
        d2 = agf.tree_density(rev, trees=trees, overlap="first")
    assert d2.loc[[10, 11], "tree_count"].tolist() == [3, 3]


def test_point_on_boundary_counts(plots):
    t = gpd.GeoDataFrame(geometry=[pt(100, 50), pt(150, 50)], crs=UTM)
    d = agf.tree_density(plots, trees=t)
    # (100, 50) is on A's edge and inside B; (150, 50) is on B's edge
    assert d["tree_count"].tolist()[:2] == [1, 2]


def test_zero_area_plot_is_nan_and_flagged(plots, trees):
    with pytest.warns(GeometryWarning) as rec:
        d = agf.tree_density(plots, trees=trees)
    assert any("no area" in str(w.message) for w in rec)
    assert d.loc[13, "zero_area"] and not d.loc[10, "zero_area"]
    assert np.isnan(d.loc[13, "trees_per_ha"])
    assert np.isfinite(d["trees_per_ha"].drop(13)).all()


def test_species_columns(plots, trees):
    with pytest.warns(GeometryWarning):
        d = agf.tree_density(plots, trees=trees, species_column="species")
    assert d.loc[10, "tree_count_inga_edulis"] == 3
    assert d.loc[10, "tree_count_cedrela_odorata"] == 1
    assert d.loc[10, "tree_count_unknown"] == 1
    assert d.loc[11, ["tree_count_inga_edulis", "tree_count_cedrela_odorata"]].tolist() == [1, 1]
    sp = [c for c in d.columns if c.startswith("tree_count_")]
    assert (d[sp].sum(axis=1) == d["tree_count"]).all()


def test_survival_rate(plots, trees):
    with pytest.warns(GeometryWarning):
        d = agf.tree_density(plots, trees=trees, count_column="trees_planted")
    assert d["trees_planted"].tolist() == [10, 4, 8, 3]
    np.testing.assert_allclose(d["survival_rate"], [0.5, 0.75, 0.0, 0.0])
    np.testing.assert_allclose(d["planted_per_ha"].iloc[:3], [10, 4, 8] / d["area_ha"][:3])


def test_planting_records_only(plots):
    with pytest.warns(GeometryWarning):
        d = agf.tree_density(plots, count_column="trees_planted")
    assert d["tree_count"].tolist() == [10, 4, 8, 3]
    assert (d["source"] == "planting_records").all()
    assert "survival_rate" not in d.columns


def test_trees_crs_errors(plots, trees):
    with pytest.raises(MissingCRSError, match="set_crs"):
        agf.tree_density(plots, trees=trees.set_crs(None, allow_override=True))
    with pytest.raises(CRSMismatchError, match="to_crs"):
        agf.tree_density(plots, trees=trees.to_crs(4326))
    with pytest.raises(MissingCRSError):
        agf.tree_density(plots.set_crs(None, allow_override=True), trees=trees)


def test_bad_inputs(plots, trees):
    polys = trees.copy()
    polys.geometry = trees.buffer(1)
    with pytest.raises(InvalidGeometryError, match="must be points"):
        agf.tree_density(plots, trees=polys)
    with pytest.raises(MissingColumnError, match="trees_planted_x"):
        agf.tree_density(plots, count_column="trees_planted_x")
    with pytest.raises(ValueError, match="'all', 'first'"):
        agf.tree_density(plots, trees=trees, overlap="both")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one observed source"):
        agf.tree_density(plots, trees=trees, chm="x.tif")
    with pytest.raises(ValueError, match="give a source"):
        agf.tree_density(plots)


def write_raster(path, a, *, res=1.0, origin=(X0 - 50, Y0 + 150), nodata=-1.0):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=a.shape[1],
        height=a.shape[0],
        count=1,
        dtype=a.dtype,
        crs=UTM,
        transform=from_origin(*origin, res, res),
        nodata=nodata,
    ) as ds:
        ds.write(a, 1)
    return path


def test_density_raster_integrates_exact_partial_pixels(tmp_path):
    # 400 trees/ha everywhere on a raster covering x -50..250 (3 m cells, offset from the plots)
    a = np.full((70, 100), 400.0, dtype="float32")
    path = write_raster(tmp_path / "d.tif", a, res=3.0, origin=(X0 - 50, Y0 + 150))
    p = gpd.GeoDataFrame(
        geometry=[box(0.5, 0.5, 100.5, 100.5), box(200, 0, 300, 100), box(600, 0, 700, 100)],
        crs=UTM,
    )
    with pytest.warns(NoDataWarning, match="1 plot\\(s\\) lie outside"):
        d = agf.tree_density(p, density_raster=path)
    assert d["source"].eq("density_raster").all()
    # raster ends at x = 250: plot 2 is half covered
    np.testing.assert_allclose(d["covered_share"].iloc[:2], [1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(d["tree_count"].iloc[0], 400 * d["area_ha"].iloc[0], rtol=1e-6)
    np.testing.assert_allclose(d["trees_per_ha"].iloc[0], 400.0, rtol=1e-6)
    np.testing.assert_allclose(d["tree_count"].iloc[1], 400 * d["area_ha"].iloc[1] / 2, rtol=1e-4)
    assert np.isnan(d["tree_count"].iloc[2]) and np.isnan(d["trees_per_ha"].iloc[2])


def test_density_raster_gradient(tmp_path):
    # density = 100 trees/ha in the left half of a plot and 300 in the right half
    a = np.zeros((100, 200), dtype="float32")
    a[:, :100] = 100.0
    a[:, 100:] = 300.0
    path = write_raster(tmp_path / "g.tif", a, res=1.0, origin=(X0 - 50, Y0 + 100))
    p = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=UTM)
    d = agf.tree_density(p, density_raster=path)
    np.testing.assert_allclose(d["trees_per_ha"].iloc[0], 200.0, rtol=1e-6)


def test_chm_source_counts_tops_per_plot(tmp_path):
    res = 0.5
    yy, xx = (np.mgrid[0:240, 0:480] + 0.5) * res  # metres from the raster origin
    # raster origin at (X0, Y0 + 120): plot A = x 0..100, B = x 50..150 overlapping
    centres = [(10, 20, 15), (40, 60, 20), (75, 30, 18), (130, 60, 12), (200, 50, 25)]
    a = np.zeros(yy.shape)
    for cx, cy, h in centres:
        a = np.maximum(a, h * np.exp(-((xx - cx) ** 2 + (yy - (120 - cy)) ** 2) / (2 * 1.5**2)))
    path = tmp_path / "chm.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=480,
        height=240,
        count=1,
        dtype="float32",
        crs=UTM,
        transform=from_origin(X0, Y0 + 120, res, res),
        nodata=-9999,
    ) as ds:
        ds.write(a.astype("float32"), 1)
    p = gpd.GeoDataFrame(
        {"system": ["a", "b", "c"]},
        geometry=[box(0, 0, 100, 100), box(50, 0, 150, 100), box(180, 0, 230, 100)],
        crs=UTM,
    ).to_crs(4326)  # the plots' CRS differs from the CHM's: reprojected for the count
    d = agf.tree_density(p, chm=path, min_height=5, window="linear_0.06")
    assert d["tree_count"].tolist() == [3, 2, 1]
    assert (d["source"] == "chm").all()
    np.testing.assert_allclose(d["covered_share"], 1.0, rtol=1e-6)


def test_rollup_sums_counts_then_divides(plots, trees):
    with pytest.warns(GeometryWarning):
        d = agf.tree_density(plots, trees=trees, overlap="first")
    r = agf.tree_rollup(plots, d, target_trees=100, target_ha=4)
    assert list(r.index) == ["cocoa_agroforestry", "reforestation"]
    assert r.loc["cocoa_agroforestry", "tree_count"] == 6
    assert r.loc["reforestation", "tree_count"] == 0
    assert r["plot_count"].tolist() == [2, 2]
    np.testing.assert_allclose(r.loc["cocoa_agroforestry", "area_ha"], 2 * HA_UTM_SQUARE, rtol=1e-4)
    # densities do not add up: 6 trees on ~2 ha, not the mean of 5/ha and 1/ha plot densities
    dens = r.loc["cocoa_agroforestry", "trees_per_ha"]
    np.testing.assert_allclose(dens, 6 / r.loc["cocoa_agroforestry", "area_ha"])
    assert r["target_trees_per_ha"].eq(25.0).all()
    np.testing.assert_allclose(r["progress_share"], [0.06, 0.0])
    np.testing.assert_allclose(r["area_share"].sum(), d["area_ha"].sum() / 4)
    total = agf.tree_rollup(plots, d, by=())
    assert total.index.tolist() == ["total"]
    assert total.loc["total", "tree_count"] == 6
    assert np.isnan(total.loc["total", "progress_share"])


def test_rollup_unequal_plots_density_is_not_mean():
    sq = gpd.GeoDataFrame(
        {"system": ["s", "s"]}, geometry=[box(0, 0, 100, 100), box(200, 0, 400, 100)], crs=UTM
    )
    t = gpd.GeoDataFrame(geometry=[pt(50, 50)] * 10 + [pt(250, 50)] * 10, crs=UTM)
    d = agf.tree_density(sq, trees=t)
    r = agf.tree_rollup(sq, d)
    # 20 trees on 3 ha: 6.67/ha, not (10 + 5) / 2 = 7.5
    np.testing.assert_allclose(r.loc["s", "trees_per_ha"], 20 / (3 * HA_UTM_SQUARE), rtol=1e-4)
    assert abs(d["trees_per_ha"].mean() - r.loc["s", "trees_per_ha"]) > 0.5


def test_rollup_by_province_from_parcels(plots, trees):
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["p1", "p2", "p3"], "province": ["Mariscal Cáceres", "Huallaga", "Huallaga"]},
        geometry=[box(0, 0, 1, 1)] * 3,
        crs=UTM,
    )
    with pytest.warns(GeometryWarning):
        d = agf.tree_density(plots, trees=trees, count_column="trees_planted")
    r = agf.tree_rollup(plots, d, by="province", parcels=parcels)
    assert r.loc["Mariscal Cáceres", "tree_count"] == 8
    assert r.loc["Huallaga", "tree_count"] == 0
    # the zero-area plot counts in area (0) and plots, not in the density
    assert r.loc["Huallaga", "plot_count"] == 2
    with pytest.raises(MissingColumnError, match="parcels="):
        agf.tree_rollup(plots, d, by="province")
    with pytest.raises(MissingColumnError, match="nope"):
        agf.tree_rollup(plots, d, by="nope")
    with pytest.raises(ValueError, match="index"):
        agf.tree_rollup(plots, d.iloc[:2], by="system")


def test_rollup_skips_plots_without_count():
    p = gpd.GeoDataFrame({"system": ["s", "s"]}, geometry=[box(0, 0, 100, 100)] * 2, crs=UTM)
    d = pd.DataFrame({"tree_count": [50.0, np.nan], "area_ha": [1.0, 1.0]}, index=p.index)
    r = agf.tree_rollup(p, d)
    assert r.loc["s", "tree_count"] == 50 and r.loc["s", "area_ha"] == 1.0
    assert r.loc["s", "plots_without_count"] == 1


@settings(max_examples=40, deadline=None)
@given(
    xy=st.lists(st.tuples(st.floats(-50, 450), st.floats(-50, 150)), min_size=0, max_size=60),
    overlap=st.sampled_from(["all", "first"]),
)
def test_counts_partition_the_points(xy, overlap):
    plots = gpd.GeoDataFrame(
        {"system": ["a", "b", "a", "b"]},
        geometry=[
            box(0, 0, 100, 100),
            box(50, 0, 150, 100),
            box(200, 0, 300, 100),
            box(300, 0, 400, 100),
        ],
        crs=UTM,
    )
    t = gpd.GeoDataFrame(geometry=[pt(x, y) for x, y in xy], crs=UTM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryWarning)
        d = agf.tree_density(plots, trees=t, overlap=overlap)
    n_out = len(agf.unassigned_trees(plots, t))
    inside_any = len(t) - n_out
    if overlap == "first":
        assert d["tree_count"].sum() == inside_any
    else:
        assert d["tree_count"].sum() >= inside_any
        # brute force: each plot counts the points it covers
        for i, g in enumerate(plots.geometry):
            assert d["tree_count"].iloc[i] == sum(g.covers(p) for p in t.geometry)
    r = agf.tree_rollup(plots, d)
    assert r["tree_count"].sum() == d["tree_count"].sum()
    np.testing.assert_allclose(r["area_ha"].sum(), d["area_ha"].sum())


def test_sample_data_inventory_vs_planting():
    plots = agf.read_plots(agf.datasets.get_path("plots"))
    trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    with pytest.warns(GeometryWarning, match="4 tree"):
        d = agf.tree_density(plots, trees=trees, count_column="trees_planted")
    surv = d.loc[plots["plot_id"].isin(["AF0007", "AF0011"]).to_numpy(), "survival_rate"]
    assert surv.between(0.7, 0.9).all() and len(surv) == 2


def test_cli_trees_and_detect(tmp_path, capsys):
    from agroforest_geo.cli import main

    out = tmp_path / "density.csv"
    rc = main(
        [
            "trees",
            agf.datasets.get_path("plots"),
            "--inventory",
            agf.datasets.get_path("tree_inventory"),
            "--planted-column",
            "trees_planted",
            "--output",
            str(out),
        ]
    )
    assert rc == 0
    table = pd.read_csv(out)
    assert len(table) == 120 and table["tree_count"].sum() == 899 - 4
    assert {"plot_id", "survival_rate", "trees_per_ha"} <= set(table.columns)
    tops = tmp_path / "tops.gpkg"
    rc = main(["detect-trees", agf.datasets.get_path("chm"), "--min-height", "6", "-o", str(tops)])
    assert rc == 0
    got = gpd.read_file(tops)
    assert got.crs.to_epsg() == 32718 and len(got) > 300
    assert got["height_m"].min() >= 6
    # a CHM in degrees exits with status 2 and the fix
    deg = tmp_path / "deg.tif"
    with rasterio.open(
        deg,
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(-76.7, -7.2, 1e-5, 1e-5),
    ) as ds:
        ds.write(np.ones((4, 4), dtype="float32"), 1)
    assert main(["detect-trees", str(deg)]) == 2
    assert "gdalwarp" in capsys.readouterr().err

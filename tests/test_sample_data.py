"""The sample data contract: files, CRSs, columns, value ranges, planted defects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

import agroforest_geo as agf
from agroforest_geo import datasets

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
SCRIPT = ROOT / "scripts" / "make_sample_data.py"

VECTORS = {
    # name: (layer, columns)
    "parcels": (
        "parcels",
        [
            "parcel_id",
            "member_id",
            "province",
            "district",
            "declared_area_ha",
            "crop",
            "producer_name",
        ],
    ),
    "protected_areas": ("protected_areas", ["area_id", "name", "category", "designated_year"]),
    "plots": (
        "plots",
        ["plot_id", "parcel_id", "system", "planting_year", "trees_planted", "species"],
    ),
    "tree_inventory": (
        "trees",
        [
            "tree_id",
            "plot_id",
            "species",
            "height_m",
            "dbh_cm",
            "survey_date",
            "diameter_cm",
            "taxon",
        ],
    ),
    "parcels_messy": (
        "parcels",
        [
            "parcel_id",
            "member_id",
            "province",
            "district",
            "declared_area_ha",
            "crop",
            "producer_name",
            "defect",
        ],
    ),
}
DEFECTS = {
    "bowtie",
    "swapped_lonlat",
    "duplicate_id",
    "duplicate_vertices",
    "hole_outside_shell",
    "wrong_orientation",
    "spike",
    "point_geometry",
    "empty_geometry",
    "missing_geometry",
    "utm_coordinates",
    "sliver",
    "tiny_polygon",
    "ring_self_touch",
}


def _read(name: str) -> gpd.GeoDataFrame:
    layer, _ = VECTORS[name]
    return gpd.read_file(datasets.get_path(name), layer=layer)


@pytest.fixture(scope="module")
def parcels() -> gpd.GeoDataFrame:
    return _read("parcels")


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


def test_all_files_exist_and_are_small():
    for name in datasets.available():
        assert Path(datasets.get_path(name)).is_file(), name
    total = sum(p.stat().st_size for p in SAMPLE.iterdir() if p.is_file())
    assert total < 10 * 2**20
    assert Path(datasets.get_path("chm")).stat().st_size < 3 * 2**20
    assert Path(datasets.get_path("tree_inventory")).stat().st_size < 1.5 * 2**20
    assert "synthetic" in (SAMPLE / "README.md").read_text(encoding="utf-8").lower()


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector_layers_crs_and_columns(name):
    gdf = _read(name)
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    _, cols = VECTORS[name]
    assert [c for c in gdf.columns if c != gdf.geometry.name] == cols
    assert len(gdf) > 0


def test_parcels(parcels, truth):
    assert 250 <= len(parcels) <= 350
    assert parcels.parcel_id.is_unique
    assert parcels.parcel_id.str.fullmatch(r"P\d{4}").all()
    assert parcels.member_id.str.fullmatch(r"M\d{4}").all()
    assert parcels.member_id.value_counts().max() == 2
    assert set(parcels.province) == {"Mariscal Cáceres", "Huallaga", "Bellavista", "Picota"}
    assert parcels.groupby("province").district.nunique().eq(1).all()
    assert set(parcels.geom_type) == {"Polygon", "MultiPolygon"}
    assert parcels.is_valid.all()
    area = agf.area_ha(parcels)
    assert area.between(0.5, 10).all()
    assert 3.5 < area.median() < 5.5
    rel = (parcels.declared_area_ha / area - 1).abs()
    assert 0.05 < (rel > 0.1).mean() < 0.15
    assert rel.max() < 0.41
    minx, miny, maxx, maxy = parcels.total_bounds
    assert -77.05 < minx and maxx < -76.35 and -7.55 < miny and maxy < -6.85
    assert set(parcels.crop) <= {"cocoa", "cocoa;banana", "coffee"}


def test_parcel_overlaps_match_truth(parcels, truth):
    utm = parcels.to_crs(32718)
    pairs = gpd.sjoin(utm, utm, predicate="intersects")
    pairs = pairs[pairs.parcel_id_left < pairs.parcel_id_right]
    found = {
        tuple(sorted(p)) for p in zip(pairs.parcel_id_left, pairs.parcel_id_right, strict=True)
    }
    expected = {tuple(sorted(p)) for p in truth["overlap_pairs"]}
    expected.add(tuple(sorted(truth["duplicate_geometry"])))
    expected.add(tuple(sorted(truth["contained"].values())))
    assert found == expected
    geom = utm.set_index("parcel_id").geometry
    for a, b in truth["overlap_pairs"]:
        assert 0.05e4 <= geom[a].intersection(geom[b]).area <= 0.5e4
    a, b = truth["duplicate_geometry"]
    assert geom[a].equals_exact(geom[b], 0)
    assert geom[truth["contained"]["outer"]].contains(geom[truth["contained"]["inner"]])


def test_protected_areas_and_encroachment(parcels, truth):
    pa = _read("protected_areas")
    assert {"redd_plus", "national_park", "buffer_zone"} <= set(pa.category)
    assert pa.area_id.is_unique
    assert pa.name.str.contains("synthetic").all()
    assert pa.is_valid.all()
    redd = pa[pa.category == "redd_plus"].geometry.iloc[0]
    assert shapely.get_num_coordinates(redd) >= 500
    with rasterio.open(datasets.get_path("treecover")) as src:
        extent = shapely.box(*src.bounds)
    assert 0 < redd.intersection(extent).area < 0.9 * redd.area
    encroach = set()
    for cat in ("redd_plus", "national_park"):
        g = pa[pa.category == cat].geometry.iloc[0]
        hit = parcels[parcels.intersects(g) & ~parcels.within(g)]
        encroach |= set(hit.parcel_id)
    assert 8 <= len(encroach) <= 15
    assert encroach == set(truth["encroach_redd_plus"]) | set(truth["encroach_national_park"])
    buffer_zone = pa[pa.category == "buffer_zone"].geometry.iloc[0]
    assert parcels.intersects(buffer_zone).sum() >= 3


def test_plots(parcels, truth):
    plots = _read("plots")
    assert 100 <= len(plots) <= 140
    assert plots.plot_id.is_unique
    assert set(plots.system) == {"cocoa_agroforestry", "reforestation", "forest_reserve"}
    assert set(plots.parcel_id) <= set(parcels.parcel_id)
    refo = plots[plots.system == "reforestation"]
    assert refo.planting_year.between(2015, 2023).all()
    cocoa = plots[plots.system == "cocoa_agroforestry"]
    assert (cocoa.planting_year < 2015).all()
    dens = plots.trees_planted / agf.area_ha(plots)
    assert dens[refo.index].between(500, 1200).all()
    assert dens[cocoa.index].between(60, 210).all()
    # exactly one plot sticks out, exactly one has the wrong parcel id
    utm_plots = plots.to_crs(32718)
    utm_parcels = parcels.to_crs(32718).set_index("parcel_id").geometry
    inside = gpd.sjoin(utm_plots, utm_parcels.reset_index(), predicate="within")
    outside = sorted(set(plots.plot_id) - set(inside.plot_id))
    assert outside == truth["plot_sticking_out"]
    out_geom = utm_plots.set_index("plot_id").geometry[outside[0]]
    frac = out_geom.difference(shapely.union_all(utm_parcels.values)).area / out_geom.area
    assert 0.2 < frac < 0.4
    wrong = inside[inside.parcel_id_left != inside.parcel_id_right]
    assert list(wrong.plot_id) == [truth["plot_wrong_parcel"][0]["plot_id"]]


def test_plot_points(parcels):
    pts = pd.read_csv(datasets.get_path("plot_points"))
    assert list(pts.columns) == [
        "plot_id",
        "parcel_id",
        "system",
        "trees_planted",
        "longitude",
        "latitude",
    ]
    assert 15 <= len(pts) <= 25
    plots = _read("plots")
    assert not set(pts.plot_id) & set(plots.plot_id)
    gpts = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(pts.longitude, pts.latitude), crs=4326)
    joined = gpd.sjoin(gpts, parcels, predicate="within")
    assert (joined.parcel_id_left == joined.parcel_id_right).all()
    assert len(joined) == len(pts)


def _profile(name):
    with rasterio.open(datasets.get_path(name)) as src:
        return src.profile, src.read(1), src.bounds, src.crs


def test_hansen_rasters(parcels, truth):
    prof_c, cover, bounds, crs = _profile("treecover")
    prof_l, loss, bounds_l, _ = _profile("lossyear")
    assert crs.to_epsg() == 4326
    assert bounds == bounds_l
    for prof in (prof_c, prof_l):
        assert prof["dtype"] == "uint8"
        assert prof["nodata"] == 255
        assert prof["tiled"] and prof["blockxsize"] == prof["blockysize"] == 256
        assert prof["compress"].lower() == "deflate"
        assert abs(prof["transform"].a - 0.00025) < 1e-12
    valid = cover[cover != 255]
    assert valid.max() <= 100
    assert 0 < (cover == 255).sum() < 1000
    years = np.unique(loss)
    n_last = int(years.max())  # last loss year present, 23 = 2023
    assert n_last == 23
    assert set(years.tolist()) <= set(range(n_last + 1))
    lost = loss > 0
    assert ((cover[lost] >= 30) | (cover[lost] == 255)).mean() > 0.95
    # parcels straddling the raster edge
    extent = shapely.box(*bounds)
    straddle = parcels[parcels.intersects(extent) & ~parcels.within(extent)]
    assert 2 <= len(straddle) <= 3
    assert sorted(straddle.parcel_id) == sorted(truth["raster_edge"])
    assert len(truth["loss_after_2020"]) >= 12
    assert len(truth["loss_before_2020"]) >= 15
    assert all(2021 <= y <= 2023 for y in truth["loss_after_2020"].values())
    assert all(0.05 <= f <= 0.6 for f in truth["loss_after_2020_pixel_fraction"].values())


def test_chm_and_inventory(truth):
    prof, chm, bounds, crs = _profile("chm")
    assert crs.to_epsg() == 32718
    assert prof["dtype"] == "float32" and prof["nodata"] == -9999
    assert prof["tiled"]
    assert abs(prof["transform"].a - 0.5) < 1e-9
    assert max(prof["width"], prof["height"]) <= 1500
    data = chm[chm != -9999]
    assert 0 <= data.min() and 25 < data.max() <= 30.5
    inv = _read("tree_inventory")
    assert inv.tree_id.is_unique
    assert set(truth["chm_plots"]) <= set(inv.plot_id)
    assert inv.survey_date.str.fullmatch(r"2024-\d\d-\d\d").all()
    plots = _read("plots").set_index("plot_id")
    in_chm = inv[inv.plot_id.isin(truth["chm_plots"])].to_crs(32718)
    box = shapely.box(*bounds)
    assert in_chm.within(box).all()
    in_plots = in_chm[~in_chm.tree_id.isin(truth["inventory"]["gps_errors"])]
    tall = in_plots[in_plots.height_m >= 8]
    assert len(tall) == truth["inventory"]["chm_shade_trees"]
    assert (in_plots.height_m < 2).sum() >= 3
    # the CHM holds the shade-tree heights at the inventory positions
    with rasterio.open(datasets.get_path("chm")) as src:
        sampled = np.array(
            [v[0] for v in src.sample(zip(tall.geometry.x, tall.geometry.y, strict=True))]
        )
    assert np.abs(sampled - tall.height_m.to_numpy()).max() < 0.6
    # GPS errors: points outside every plot
    all_plots = shapely.union_all(plots.geometry.values)
    stray = inv[~inv.within(all_plots)]
    assert sorted(stray.tree_id) == truth["inventory"]["gps_errors"]
    assert 3 <= len(stray) <= 5


def test_messy_parcels():
    messy = _read("parcels_messy")
    assert 30 <= len(messy) <= 50
    assert DEFECTS <= set(messy.defect)
    assert (messy.defect == "none").sum() > len(messy) / 2
    by = messy.set_index("defect").geometry
    assert not by["bowtie"].is_valid
    assert not by["hole_outside_shell"].is_valid
    assert not by["ring_self_touch"].is_valid
    assert by["missing_geometry"] is None
    assert by["empty_geometry"].is_empty
    assert by["point_geometry"].geom_type == "Point"
    assert by["utm_coordinates"].bounds[0] > 1000
    assert by["swapped_lonlat"].bounds[0] > -10
    assert messy.parcel_id.duplicated().sum() == 1
    bad = by["wrong_orientation"]
    assert not bad.exterior.is_ccw and bad.interiors[0].is_ccw
    coords = np.asarray(by["duplicate_vertices"].exterior.coords)
    assert (np.diff(coords, axis=0) == 0).all(axis=1).any()
    tiny = agf.area_ha(gpd.GeoSeries([by["tiny_polygon"], by["sliver"]], crs=4326))
    assert tiny[0] < 0.01 and tiny[1] < 0.05
    sliver = by["sliver"]
    assert sliver.area / sliver.length**2 < 1e-3  # long and thin
    clean = messy[messy.defect == "none"]
    assert clean.is_valid.all()


def test_generator_is_deterministic(tmp_path):
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name, (layer, _) in VECTORS.items():
        fname = Path(datasets.get_path(name)).name
        new = gpd.read_file(tmp_path / fname, layer=layer)
        old = _read(name)
        pd.testing.assert_frame_equal(
            pd.DataFrame(new.drop(columns="geometry")), pd.DataFrame(old.drop(columns="geometry"))
        )
        assert list(new.geometry.to_wkb()) == list(old.geometry.to_wkb()), name
    for name in ("plot_points", "wood_density"):
        fname = Path(datasets.get_path(name)).name
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / fname), pd.read_csv(datasets.get_path(name))
        )
    for name in ("treecover", "lossyear", "chm"):
        fname = Path(datasets.get_path(name)).name
        with rasterio.open(tmp_path / fname) as a, rasterio.open(datasets.get_path(name)) as b:
            assert np.array_equal(a.read(1), b.read(1)), name
    assert json.loads((tmp_path / "truth.json").read_text(encoding="utf-8")) == json.loads(
        (SAMPLE / "truth.json").read_text(encoding="utf-8")
    )


def test_inventory_diameters_follow_published_allometry():
    """diameter_cm: the heights through Feldpausch et al. 2012 (W. Amazonia), scatter sd 0.2."""
    inv = _read("tree_inventory")
    a, b, c = 46.263, 0.0876, 0.6072
    tall = inv.height_m >= 1.3
    assert inv.loc[~tall, "diameter_cm"].isna().all()  # below breast height: no DBH
    d = inv.loc[tall, "diameter_cm"].to_numpy()
    h = inv.loc[tall, "height_m"].to_numpy()
    assert (d >= 1.0).all() and np.isfinite(d).all()
    h_model = a * (1 - np.exp(-b * d**c))
    # the heights are the model's heights of the unscattered diameters (trees >= 8 m: the
    # smaller ones are clipped at 1 cm)
    big = h >= 8
    log_ratio = np.log(d[big]) - np.log((-np.log(1 - h[big] / a) / b) ** (1 / c))
    assert abs(np.median(log_ratio)) < 0.03
    assert 0.17 < np.std(log_ratio) < 0.23
    assert np.corrcoef(h, h_model)[0, 1] > 0.9
    genus_names = {f"{s.split()[0]} sp." for s in inv.species}
    assert set(inv.taxon) - set(inv.species) <= {"Indet.", *genus_names}
    genus_only = inv.taxon.str.endswith(" sp.")
    assert 0.05 < genus_only.mean() < 0.11 and 0.01 < (inv.taxon == "Indet.").mean() < 0.05
    named = ~genus_only & (inv.taxon != "Indet.")
    assert (inv.taxon[named] == inv.species[named]).all()


def test_wood_density_sample_table():
    wd = pd.read_csv(datasets.get_path("wood_density"))
    assert list(wd.columns) == ["family", "genus", "species", "wd", "region"]
    inv = _read("tree_inventory")
    names = set(wd.genus + " " + wd.species)
    assert set(inv.species) <= names
    assert wd.wd.between(0.2, 1.2).all()
    assert (wd.groupby(["genus", "species"]).size() == 12).all()


def test_field_exports_are_reproducible(tmp_path):
    script = SCRIPT.with_name("make_field_exports.py")
    subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True
    )
    for name in ("gps_points_es", "terratrac_farms"):
        fname = Path(datasets.get_path(name)).name
        assert (tmp_path / fname).read_bytes() == (SAMPLE / fname).read_bytes(), name

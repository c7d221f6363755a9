"""Tests of eudr.assess: every rule fires on the parcel built for it, and only there."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo.eudr import DEFAULT_RULES, Rule, assess, parse_cutoff

UTM = "EPSG:32718"
# a 100 m square in UTM 18S is 1 ha on the map and 1/k0² = 1.0008 ha on the ellipsoid
K0_FACTOR = 1 / 0.9996**2


def squares(n: int, *, side: float = 100.0, gap: float = 50.0) -> gpd.GeoDataFrame:
    geoms = [
        shapely.box(
            500_000 + i * (side + gap),
            9_200_000,
            500_000 + i * (side + gap) + side,
            9_200_000 + side,
        )
        for i in range(n)
    ]
    return gpd.GeoDataFrame({"parcel_id": [f"P{i}" for i in range(n)]}, geometry=geoms, crs=UTM)


def evidence(parcels: gpd.GeoDataFrame, **cols: list[float]) -> pd.DataFrame:
    return pd.DataFrame(cols, index=parcels.index)


def full_cover(parcels: gpd.GeoDataFrame, share: float = 0.8) -> pd.DataFrame:
    return evidence(parcels, forest_share=[share] * len(parcels), valid_share=[1.0] * len(parcels))


def no_loss(parcels: gpd.GeoDataFrame) -> pd.DataFrame:
    return evidence(parcels, loss_after_cutoff_ha=[0.0] * len(parcels))


def test_clean_parcels_are_deforestation_free_with_empty_reasons():
    p = squares(3)
    r = assess(p, cover=full_cover(p), loss=no_loss(p))
    assert r["status"].tolist() == ["deforestation_free"] * 3
    assert r["reasons"].tolist() == ["", "", ""]
    assert r.index.equals(p.index)
    np.testing.assert_allclose(r["area_ha"], K0_FACTOR, rtol=1e-6)
    np.testing.assert_allclose(r["forest_share_cutoff"], 0.8)
    assert r.attrs["rules_version"] == agf.eudr.RULES_VERSION
    assert r.attrs["cutoff"] == "2020-12-31"


def test_loss_after_cutoff_thresholds():
    p = squares(4)
    loss = evidence(p, loss_after_cutoff_ha=[0.0, 0.3, 0.5, 0.6])
    r = assess(p, cover=full_cover(p), loss=loss)
    assert r["status"].tolist() == [
        "deforestation_free",
        "needs_review",  # thinning below the forest minimum area
        "deforestation_detected",  # exactly 0.5 ha: >= threshold
        "deforestation_detected",
    ]
    assert r.loc[1, "rules_fired"] == "loss_after_cutoff"
    assert r.loc[3, "rules_fired"] == "deforestation_after_cutoff;loss_after_cutoff"
    assert "loss_after_cutoff_ha=0.6 >= 0.5" in r.loc[3, "reasons"]
    np.testing.assert_allclose(r.loc[3, "loss_after_cutoff_share"], 0.6 / K0_FACTOR, rtol=1e-6)


def test_threshold_override_by_parameter_name():
    p = squares(2)
    loss = evidence(p, loss_after_cutoff_ha=[0.05, 0.3])
    r = assess(p, cover=full_cover(p), loss=loss, rules={"loss_after_cutoff_min_ha": 0.1})
    assert r["status"].tolist() == ["needs_review", "deforestation_detected"]
    r2 = assess(
        p,
        cover=full_cover(p),
        loss=loss,
        rules={"loss_after_cutoff_min_ha": 0.1, "loss_after_cutoff_review_min_ha": 0.05},
    )
    assert r2["status"].tolist() == ["deforestation_free", "deforestation_detected"]
    with pytest.raises(ValueError, match="allowed"):
        assess(p, rules={"loss_min": 1})


def test_custom_rule_table():
    p = squares(2)
    only = (
        Rule(
            "big_loss",
            "deforestation_detected",
            "loss_after_cutoff_ha",
            ">",
            1.0,
            None,
            "more than 1 ha lost",
        ),
    )
    r = assess(p, loss=evidence(p, loss_after_cutoff_ha=[0.9, 1.1]), rules=only)
    assert r["status"].tolist() == ["deforestation_free", "deforestation_detected"]
    assert r.attrs["rules_version"] == "custom"
    with pytest.raises(ValueError, match="status must be one of"):
        Rule("x", "bad", "area_ha", ">", 1.0, None, "")


def test_agroforestry_tree_cover_is_not_deforestation():
    p = squares(5)
    cover = evidence(p, forest_share=[0.4, 0.4, 0.05, 0.4, 0.4], valid_share=[1.0] * 5)
    trees = evidence(p, trees_per_ha=[150.0, 800.0, 150.0, np.nan, 150.0])
    loss = evidence(p, loss_after_cutoff_ha=[0.0, 0.0, 0.0, 0.0, 0.7])
    r = assess(p, cover=cover, loss=loss, trees=trees)
    assert r["agroforestry_evidence"].tolist() == [True, False, False, pd.NA, True]
    # high tree cover with agroforestry density and no loss: free, with the note
    assert r.loc[0, "status"] == "deforestation_free"
    assert r.loc[0, "rules_fired"] == "agroforestry_evidence"
    assert "Art. 2(4)" in r.loc[0, "reasons"]
    assert r.loc[1, "rules_fired"] == ""  # plantation density: no note
    # large loss on an agroforestry parcel is still deforestation
    assert r.loc[4, "status"] == "deforestation_detected"
    assert "agroforestry_evidence" in r.loc[4, "rules_fired"]


def test_protected_overlap_from_table_and_layer():
    p = squares(2)
    r = assess(
        p,
        cover=full_cover(p),
        loss=no_loss(p),
        protected=evidence(p, protected_ha=[0.0, 0.25], protected_share=[0.0, 0.25]),
    )
    assert r["status"].tolist() == ["deforestation_free", "needs_review"]
    assert r.loc[1, "rules_fired"] == "protected_area_overlap"
    # a protected area covering the west half of parcel P1 (x 500150..500200)
    pa = gpd.GeoDataFrame(
        {"area_id": ["A1"], "name": ["park"], "category": ["national_park"]},
        geometry=[shapely.box(500_150, 9_199_000, 500_200, 9_201_000)],
        crs=UTM,
    )
    r2 = assess(p, cover=full_cover(p), loss=no_loss(p), protected=pa)
    assert r2["status"].tolist() == ["deforestation_free", "needs_review"]
    np.testing.assert_allclose(r2["protected_share"], [0.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(r2.loc[1, "protected_ha"], 0.5 * K0_FACTOR, rtol=1e-4)


def test_parcel_overlaps():
    p = squares(3)
    # P3 overlaps P0 on a 20 m x 100 m strip (0.2 ha); P4 only touches P2 (shared edge)
    extra = gpd.GeoDataFrame(
        {"parcel_id": ["P3", "P4"]},
        geometry=[
            shapely.box(499_920, 9_200_000, 500_020, 9_200_100),
            shapely.box(500_400, 9_200_000, 500_500, 9_200_100),
        ],
        crs=UTM,
    )
    both = pd.concat([p, extra], ignore_index=True)
    r = assess(both, cover=full_cover(both), loss=no_loss(both))
    assert r["status"].tolist() == [
        "needs_review",
        "deforestation_free",
        "deforestation_free",
        "needs_review",
        "deforestation_free",
    ]
    np.testing.assert_allclose(r.loc[0, "parcel_overlap_ha"], 0.2 * K0_FACTOR, rtol=1e-4)
    assert r.loc[0, "overlapping_parcels"] == "P3"
    assert r.loc[3, "overlapping_parcels"] == "P0"
    assert r.loc[4, "parcel_overlap_ha"] == 0.0


def test_no_data_needs_review():
    p = squares(3)
    cover = evidence(p, forest_share=[0.8, np.nan, 0.8], valid_share=[1.0, 0.0, 0.5])
    r = assess(p, cover=cover, loss=no_loss(p))
    assert r["status"].tolist() == ["deforestation_free", "needs_review", "needs_review"]
    assert r.loc[1, "rules_fired"] == "no_cover_data;partial_raster_coverage"
    assert r.loc[1, "reasons"].count("no data") == 2
    assert r.loc[2, "rules_fired"] == "partial_raster_coverage"
    # no loss evidence at all: needs review, reason "no data"
    r2 = assess(p, cover=full_cover(p))
    assert set(r2["status"]) == {"needs_review"}
    assert all("no_loss_data" in f for f in r2["rules_fired"])


def test_invalid_geometry_is_kept_and_flagged():
    p = squares(3)
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    p.loc[1, "geometry"] = shapely.affinity.translate(bowtie, 500_150, 9_200_000)
    p.loc[2, "geometry"] = shapely.Polygon()
    loss = evidence(p, loss_after_cutoff_ha=[0.0, 5.0, 0.0])
    r = assess(p, cover=full_cover(p), loss=loss)
    assert len(r) == 3 and r.index.equals(p.index)
    assert r["status"].tolist() == ["deforestation_free", "invalid_geometry", "invalid_geometry"]
    assert "Self-intersection" in r.loc[1, "reasons"]
    assert "empty_geometry" in r.loc[2, "reasons"]
    assert np.isnan(r.loc[1, "loss_after_cutoff_ha"])  # no evidence from a broken shape


def test_loss_year_columns_and_cutoff_forms():
    p = squares(1)
    cover = evidence(p, forest_ha=[0.9], valid_share=[1.0])
    loss = evidence(p, loss_ha_2010=[0.2], loss_ha_2020=[0.1], loss_ha_2021=[0.6])
    r = assess(p, cover=cover, loss=loss)
    assert r.loc[0, "loss_after_cutoff_ha"] == pytest.approx(0.6)
    assert r.loc[0, "loss_before_cutoff_ha"] == pytest.approx(0.3)
    assert r.loc[0, "forest_ha_cutoff"] == pytest.approx(0.6)  # 0.9 in 2000 - 0.3 lost by 2020
    assert r.loc[0, "first_loss_year_after_cutoff"] == 2021
    # a mid-year cut-off cannot split the annual 2020 loss: it counts after (conservative)
    r2 = assess(p, cover=cover, loss=loss, cutoff=dt.date(2020, 6, 30))
    assert r2.loc[0, "loss_after_cutoff_ha"] == pytest.approx(0.7)
    assert r2.attrs["cutoff"] == "2020-06-30"
    table = evidence(p, loss_after_cutoff_ha=[0.6], loss_in_cutoff_year_ha=[0.1])
    # a precomputed loss_after_cutoff_ha is taken as computed (forest_loss applies the same
    # one rule: the straddling year is already in it); years are only re-read from loss_ha_<year>
    r4 = assess(p, cover=cover, loss=table, cutoff="2020-06-30")
    assert r4.loc[0, "loss_after_cutoff_ha"] == pytest.approx(0.6)
    r5 = assess(p, cover=cover, loss=table)  # 31 December: the 2020 loss is before
    assert r5.loc[0, "loss_after_cutoff_ha"] == pytest.approx(0.6)
    r3 = assess(p, cover=cover, loss=loss, cutoff=pd.Timestamp("2021-12-31"))
    assert r3.loc[0, "loss_after_cutoff_ha"] == pytest.approx(0.0)


@pytest.mark.parametrize("bad", ["31/12/2020", "12/31/2020", "2020-13-01", "Dec 31 2020"])
def test_ambiguous_or_bad_cutoff_raises(bad):
    with pytest.raises(ValueError, match="cutoff"):
        parse_cutoff(bad)
    with pytest.raises(ValueError, match="not a year"):
        parse_cutoff(20201231)
    with pytest.raises(TypeError):
        parse_cutoff(2020.5)


def test_precomputed_tables_must_share_the_index():
    p = squares(2)
    wrong = pd.DataFrame({"loss_after_cutoff_ha": [0.0, 1.0]}, index=["a", "b"])
    with pytest.raises(ValueError, match="index"):
        assess(p, loss=wrong)


def _write_raster(path: Path, data: np.ndarray, x0: float, y0: float, res: float) -> None:
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype="uint8",
        crs=UTM,
        transform=from_origin(x0, y0, res, res),
        nodata=255,
    ) as dst:
        dst.write(data, 1)


def test_from_rasters_with_a_parcel_outside(tmp_path):
    # 10 m pixels over x 500000..500300, y 9199900..9200200
    cover = np.full((30, 30), 80, dtype=np.uint8)
    loss = np.zeros((30, 30), dtype=np.uint8)
    # parcel P0 = x 500000..500100, y 9200000..9200100 = columns 0..9, rows 10..19
    loss[10:20, 0:6] = 22  # 60 % of P0 lost in 2022
    loss[10:20, 6:8] = 15  # 20 % lost in 2015 (before the cut-off)
    _write_raster(tmp_path / "cover.tif", cover, 500_000, 9_200_200, 10)
    _write_raster(tmp_path / "loss.tif", loss, 500_000, 9_200_200, 10)
    p = squares(3)
    p.loc[2, "geometry"] = shapely.box(600_000, 9_200_000, 600_100, 9_200_100)  # off the rasters
    r = assess(p, cover=tmp_path / "cover.tif", loss=tmp_path / "loss.tif")
    assert r["status"].tolist() == ["deforestation_detected", "deforestation_free", "needs_review"]
    np.testing.assert_allclose(r.loc[0, "loss_after_cutoff_ha"], 0.6 * K0_FACTOR, rtol=1e-3)
    np.testing.assert_allclose(r.loc[0, "forest_ha_cutoff"], 0.8 * K0_FACTOR, rtol=1e-3)
    assert r.loc[0, "loss_ha_2022"] == pytest.approx(0.6 * K0_FACTOR, rel=1e-3)
    assert "no data" in r.loc[2, "reasons"]


def test_sample_data_matches_planted_truth():
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    truth = json.loads((Path(agf.datasets.get_path("parcels")).parent / "truth.json").read_text())
    r = assess(
        parcels,
        cover=agf.datasets.get_path("treecover"),
        loss=agf.datasets.get_path("lossyear"),
        protected=agf.datasets.get_path("protected_areas"),
    )
    assert len(r) == len(parcels)
    ids = r.set_index("parcel_id")
    lost = set(ids.index[ids["loss_after_cutoff_ha"] > 0])
    assert lost == set(truth["loss_after_2020"])
    assert set(ids.index[ids["status"] == "deforestation_detected"]) <= lost
    for pid in truth["encroach_redd_plus"] + truth["encroach_national_park"]:
        assert ids.loc[pid, "status"] != "deforestation_free"
    for a, b in truth["overlap_pairs"]:
        assert ids.loc[a, "parcel_overlap_ha"] > 0.05 and ids.loc[b, "parcel_overlap_ha"] > 0.05
    for pid in truth["raster_edge"]:
        assert "no data" in ids.loc[pid, "reasons"]
    assert len(DEFAULT_RULES) == len(r.attrs["rules"])

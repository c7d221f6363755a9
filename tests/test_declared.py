from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo.declared import declared_vs_measured
from agroforest_geo.errors import MissingColumnError, MissingCRSError

SQ = shapely.box(-76.70, -7.20, -76.69, -7.19)


def _geod_ha(geom) -> float:
    area, _ = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(geom)
    return abs(area) / 10_000


def test_numbers_against_pyproj_geod():
    gdf = gpd.GeoDataFrame(
        {"declared_area_ha": [150.0, 120.0, np.nan, 0.0]}, geometry=[SQ] * 4, crs=4326
    )
    t = declared_vs_measured(gdf)
    measured = _geod_ha(SQ)
    assert list(t.columns) == [
        "area_ha",
        "declared_area_ha",
        "area_difference_ha",
        "declared_ratio",
        "declared_off",
    ]
    np.testing.assert_allclose(t["area_ha"], measured, rtol=1e-7)
    np.testing.assert_allclose(
        t["area_difference_ha"][:2], [150 - measured, 120 - measured], rtol=1e-6
    )
    np.testing.assert_allclose(t["declared_ratio"][:2], [150 / measured, 120 / measured], rtol=1e-7)
    assert t["declared_off"].tolist() == [True, False, False, True]
    assert np.isnan(t.loc[2, "declared_ratio"])


def test_tolerance_and_index():
    gdf = gpd.GeoDataFrame(
        {"declared_area_ha": [130.0]}, geometry=[SQ], crs=4326, index=["p1"]
    )  # 6.4 % above the measured 122.147 ha
    assert declared_vs_measured(gdf).loc["p1", "declared_off"] is np.False_
    assert declared_vs_measured(gdf, tolerance=0.05).loc["p1", "declared_off"] is np.True_
    with pytest.raises(ValueError, match="tolerance"):
        declared_vs_measured(gdf, tolerance=-0.1)


def test_zero_measured_area_gives_nan_ratio():
    line = shapely.LineString([(-76, -7), (-76.1, -7)])  # a point would be a plot of 1 ha
    gdf = gpd.GeoDataFrame({"declared_area_ha": [1.0]}, geometry=[line], crs=4326)
    t = declared_vs_measured(gdf)
    assert t["area_ha"].item() == 0 and np.isnan(t["declared_ratio"].item())
    assert not t["declared_off"].item()


def test_errors_name_the_fix():
    gdf = gpd.GeoDataFrame({"declared": [1.0]}, geometry=[SQ], crs=4326)
    with pytest.raises(MissingColumnError, match="declared_column="):
        declared_vs_measured(gdf)
    assert declared_vs_measured(gdf, declared_column="declared")["declared_area_ha"].item() == 1
    with pytest.raises(MissingCRSError):
        declared_vs_measured(gdf.set_crs(None, allow_override=True), declared_column="declared")


def test_sample_parcels_off_by_ten_percent():
    # the sample generator records which parcels it declared 10 % off or more
    truth = json.loads((Path(agf.datasets.get_path("parcels")).parent / "truth.json").read_text())
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    t = declared_vs_measured(parcels, tolerance=0.1)
    flagged = set(parcels.loc[t["declared_off"].to_numpy(), "parcel_id"])
    assert flagged == set(truth["declared_area_off_by_10pct_or_more"])

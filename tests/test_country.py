"""Tests of the bundled country layer and the EU country benchmarking (2025/1093)."""

from __future__ import annotations

import csv
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo._countrylayer import (
    TOLERANCE_DEG,
    country_codes,
    country_of,
    distance_to_country,
)
from agroforest_geo.eudr import country_evidence, country_risk
from agroforest_geo.eudr.country import COUNTRY_RISK_SOURCE, RISK_TIERS
from agroforest_geo.eudr.rules import ISO_3166_ALPHA2


def _rows() -> list[dict[str, str]]:
    text = resources.files("agroforest_geo").joinpath("_data/eudr_country_risk.csv").read_text()
    return list(csv.DictReader(text.splitlines()))


def test_risk_tiers_of_the_regulation():
    # Implementing Regulation (EU) 2025/1093: the four high-risk countries of its Annex
    assert country_risk(["BY", "KP", "MM", "RU"]).tolist() == ["high"] * 4
    # standard: not listed in the Annex (the main cocoa, coffee, soy, palm producers)
    std = ["PE", "BR", "CO", "CI", "EC", "BO", "ID", "MY", "CM", "NG", "CD"]
    assert country_risk(std).tolist() == ["standard"] * len(std)
    # low: listed in the Annex
    low = ["DE", "FR", "ES", "NL", "US", "CN", "GH", "CG", "CR", "DO", "GB", "JP"]
    assert country_risk(low).tolist() == ["low"] * len(low)
    assert COUNTRY_RISK_SOURCE["date"] == "2025-05-22"


def test_risk_keeps_the_index_and_missing_codes():
    s = pd.Series(["pe", None, " de "], index=[10, 20, 30])
    out = country_risk(s)
    assert out.index.tolist() == [10, 20, 30] and out.name == "country_risk"
    assert out.tolist() == ["standard", None, "low"]


def test_code_outside_the_bundled_table_is_standard_with_a_warning():
    with pytest.warns(agf.AgroforestGeoWarning, match=r"\['IN'\].*standard"):
        assert country_risk(["IN"]).tolist() == ["standard"]


def test_bundled_table_is_consistent():
    rows = _rows()
    codes = [r["iso_a2"] for r in rows]
    assert len(codes) == len(set(codes))
    assert set(codes) <= ISO_3166_ALPHA2
    assert {r["risk"] for r in rows} <= set(RISK_TIERS)
    assert sorted(r["iso_a2"] for r in rows if r["risk"] == "high") == ["BY", "KP", "MM", "RU"]
    # the 27 EU Member States are all of low risk
    eu = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
    assert {r["iso_a2"] for r in rows if r["risk"] == "low"} >= set(eu.split())


def test_country_layer_is_iso_and_finds_capitals():
    codes = country_codes()
    assert len(codes) == 175 and codes <= ISO_3166_ALPHA2 | {"XK"}
    capitals = {
        "PE": (-77.04, -12.05),  # Lima
        "EC": (-78.50, -0.20),
        "BR": (-47.90, -15.80),
        "CI": (-5.30, 6.80),
        "GH": (-0.20, 5.60),  # Accra, on the coast
        "ID": (106.80, -6.20),  # Jakarta, on the coast
        "DE": (13.40, 52.50),
    }
    found = country_of(shapely.points(list(capitals.values())))
    assert found.tolist() == list(capitals)


def test_outside_every_country_and_missing():
    pts = np.array([shapely.Point(-30.0, 0.0), None, shapely.Point()], dtype=object)
    assert country_of(pts).tolist() == [None, None, None]
    # the nearest country is taken only within the tolerance: 0.3° off Lima's coast is Peru
    assert country_of(np.array([shapely.Point(-77.6, -12.05)])).tolist() == ["PE"]
    assert country_of(np.array([shapely.Point(-78.5, -12.05)])).tolist() == [None]


def test_distance_to_the_declared_country():
    tumbes, juanjui = shapely.Point(-80.45, -3.57), shapely.Point(-76.72, -7.25)
    d = distance_to_country(np.array([tumbes, juanjui, juanjui]), np.array(["EC", "EC", "PE"]))
    assert d[0] < TOLERANCE_DEG < d[1] and d[2] == 0
    assert np.isnan(distance_to_country(np.array([juanjui]), np.array(["SG"])))[0]


def test_country_evidence_on_the_parcels_index():
    geoms = [
        shapely.box(-76.72, -7.25, -76.71, -7.24),  # Peru
        shapely.box(-78.50, -0.20, -78.49, -0.19),  # Ecuador
        shapely.Point(13.40, 52.50),  # Germany
        shapely.Point(27.56, 53.90),  # Minsk
        shapely.Point(-30.0, 0.0),  # Atlantic
    ]
    parcels = gpd.GeoDataFrame({"x": range(5)}, geometry=geoms, crs=4326, index=list("abcde"))
    ev = country_evidence(parcels)
    assert ev.index.tolist() == list("abcde")
    assert ev["country"].iloc[:4].tolist() == ["PE", "EC", "DE", "BY"]
    assert ev["country_risk"].iloc[:4].tolist() == ["standard", "standard", "low", "high"]
    assert ev.loc["e"].isna().all()  # outside every country: missing, not a guess


def test_country_evidence_of_projected_parcels():
    utm = gpd.GeoDataFrame(
        geometry=[shapely.box(500_000, 9_200_000, 500_100, 9_200_100)], crs=32718
    )  # near 75°W 7.2°S: Peru
    assert country_evidence(utm).values.tolist() == [["PE", "standard"]]
    with pytest.raises(agf.MissingCRSError):
        country_evidence(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))

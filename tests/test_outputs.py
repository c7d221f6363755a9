"""The per-parcel table: stable columns, one share convention, rounding in the CSV only."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import agroforest_geo as agf
from agroforest_geo._outputs import loss_year_range, round_table


@pytest.fixture(scope="module")
def assessed():
    get = agf.datasets.get_path
    return agf.run_assessment(get("parcels"), cover=get("treecover"), loss=get("lossyear"))


def test_every_year_of_the_range_is_a_column(assessed):
    table = assessed.table()
    years = [int(c[8:]) for c in table.columns if c.startswith("loss_ha_")]
    # Hansen codes loss from 2001; the sample has loss up to 2023
    assert years == list(range(2001, 2024))
    # a year without loss anywhere is 0 where the raster was read, not missing
    seen = {c for c in assessed.evidence.columns if c.startswith("loss_ha_")}
    empty = [f"loss_ha_{y}" for y in years if f"loss_ha_{y}" not in seen]
    assert empty, "the sample should have years without loss"
    known = assessed.evidence["loss_after_cutoff_ha"].notna()
    for c in empty:
        assert (table.loc[known, c] == 0).all() and table.loc[~known, c].isna().all()
    # the per-year columns add up to the loss after the cut-off
    after = table[[f"loss_ha_{y}" for y in range(2021, 2024)]].sum(axis=1)
    np.testing.assert_allclose(after[known], table.loc[known, "loss_after_cutoff_ha"], atol=1e-9)
    # status and reasons come first, next to the id
    assert list(table.columns[:3]) == ["parcel_id", "status", "reasons"]


def test_a_product_with_stated_years_fixes_the_columns(assessed):
    product = SimpleNamespace(first_year=2001, last_year=2024)
    a = dataclasses.replace(assessed, parameters={**assessed.parameters, "loss product": product})
    assert loss_year_range(a) == range(2001, 2025)
    halves = [
        dataclasses.replace(
            a,
            result=a.result.iloc[k::2],
            evidence=a.evidence.iloc[k::2],
            parcels=a.parcels.iloc[k::2],
        )
        for k in (0, 1)
    ]
    assert list(halves[0].table().columns) == list(halves[1].table().columns)
    assert "loss_ha_2024" in halves[0].table().columns


def test_the_named_loss_product_fixes_the_range():
    get = agf.datasets.get_path
    a = agf.run_assessment(
        get("parcels"), loss=get("lossyear"), loss_product="hansen_lossyear_v1_13"
    )
    years = [int(c[8:]) for c in a.table().columns if c.startswith("loss_ha_")]
    assert years == list(range(2001, 2026))  # v1.13 codes loss up to 2025


def test_no_loss_raster_no_year_columns():
    a = agf.run_assessment(agf.datasets.get_path("parcels"))
    assert not [c for c in a.table().columns if c.startswith("loss_ha_")]


def test_csv_rounded_parquet_full_precision(assessed, tmp_path):
    out = assessed.write(tmp_path)
    csv = pd.read_csv(out["table (CSV)"])
    full = gpd.read_parquet(out["table (GeoParquet)"])
    assert len(full) == len(csv) == len(assessed.parcels)
    exact = assessed.table()["area_ha"].to_numpy()
    np.testing.assert_array_equal(full["area_ha"].to_numpy(), exact)
    np.testing.assert_array_equal(csv["area_ha"].to_numpy(), np.round(exact, 4))
    # shares stay 0-1 in every column of the file (one convention)
    for c in ("forest_share_cutoff", "valid_share", "loss_after_cutoff_share"):
        assert csv[c].dropna().between(0, 1).all(), c
    assert list(csv.columns) == list(full.drop(columns="geometry").columns)


def test_round_table_by_unit():
    t = pd.DataFrame(
        {"distance_to_protected_m": [1234.5678], "mean_cover_pct": [12.3456], "name": ["x"]}
    )
    r = round_table(t)
    assert r.iloc[0].tolist() == [1234.6, 12.35, "x"]

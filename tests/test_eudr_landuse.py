"""Land use on the cut-off date, several sources per role, and alerts after the cut-off.

Constructed parcels on a 10 m grid in EPSG:32718 whose answers are known by
hand: two 1 ha squares (100 pixels each), P1 on columns 0-9 and P2 on columns
10-19. Ellipsoidal hectares differ from the grid's by the UTM scale factor at
the central meridian (k0 = 0.9996: 1 / k0**2 = 1.0008), so hectares are
compared to 0.2 %.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

import agroforest_geo as agf
from agroforest_geo.cli import main as cli_main
from agroforest_geo.eudr import Source

X0, Y0, RES = 500_000.0, 9_200_100.0, 10.0
REL = 2e-3  # UTM scale factor at the central meridian, see the module docstring


def _tif(path: Path, bands: list[np.ndarray], *, nodata=None, descriptions=None) -> Path:
    arr = np.stack(bands)
    with rasterio.open(
        path, "w", driver="GTiff", width=arr.shape[2], height=arr.shape[1], count=arr.shape[0],
        dtype=arr.dtype, crs="EPSG:32718", nodata=nodata,
        transform=from_origin(X0, Y0, RES, RES),
    ) as dst:  # fmt: skip
        dst.write(arr)
        for i, d in enumerate(descriptions or [], start=1):
            dst.set_band_description(i, d)
    return path


def _grid(value, dtype) -> np.ndarray:
    return np.full((10, 20), value, dtype=dtype)


@pytest.fixture
def parcels() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"parcel_id": ["P1", "P2"], "crop": ["cocoa", "cocoa"]},
        geometry=[
            shapely.box(X0, Y0 - 100, X0 + 100, Y0),
            shapely.box(X0 + 100, Y0 - 100, X0 + 200, Y0),
        ],
        crs=32718,
    )


def _plots(parcels: gpd.GeoDataFrame, years: list[int]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "plot_id": ["A1", "A2"],
            "parcel_id": ["P1", "P2"],
            "system": ["cocoa_agroforestry"] * 2,
            "planting_year": years,
        },
        geometry=parcels.geometry.to_numpy(),
        crs=32718,
    )


@pytest.fixture
def rasters(tmp_path: Path) -> dict[str, Path]:
    return {
        "cover": _tif(tmp_path / "cover.tif", [_grid(80, "uint8")], nodata=255),
        "loss": _tif(tmp_path / "loss.tif", [_grid(0, "uint8")], nodata=255),
        "gfc": _tif(tmp_path / "gfc2020.tif", [_grid(1, "uint8")], nodata=255),
    }


def _assess(parcels, rasters, plots, **kw):
    return agf.eudr.assess(
        parcels, cover=rasters["cover"], loss=rasters["loss"], plots=plots, **kw
    ).set_index("parcel_id")


# -------------------------------------------------------------------------------------
# land use on the cut-off date
# -------------------------------------------------------------------------------------


def test_forest_2020_cocoa_planted_after_cutoff_no_loss_needs_review(parcels, rasters):
    r = _assess(parcels, rasters, _plots(parcels, [2022, 2022]),
                forest_2020=[(rasters["gfc"], "jrc_gfc2020")])  # fmt: skip
    assert r.loc["P1", "status"] == "needs_review"
    assert r.loc["P1", "rules_fired"] == "possible_conversion_after_cutoff"
    reason = r.loc["P1", "reasons"]
    assert "possible conversion of forest to agroforestry after the cut-off" in reason
    assert "forest_share_2020=1 >= 0.1 by jrc_gfc2020_v3" in reason
    assert r.loc["P1", "loss_after_cutoff_ha"] == 0.0
    assert r.loc["P1", "forest_share_2020"] == pytest.approx(1.0)
    assert r.loc["P1", "agri_use_now"] == 1.0 and r.loc["P1", "agri_use_at_cutoff"] == 0.0


def test_same_parcel_planted_2015_is_deforestation_free_with_the_agroforestry_note(
    parcels, rasters
):
    r = _assess(parcels, rasters, _plots(parcels, [2015, 2015]),
                forest_2020=[(rasters["gfc"], "jrc_gfc2020")])  # fmt: skip
    assert r.loc["P1", "status"] == "deforestation_free"
    assert r.loc["P1", "rules_fired"] == "agroforestry_before_cutoff"
    assert "plots planting_year 2015" in r.loc["P1", "reasons"]
    assert r.loc["P1", "first_planting_year"] == 2015


def test_the_verdict_changes_only_when_the_2020_map_is_added(parcels, rasters):
    plots = _plots(parcels, [2022, 2015])
    without = _assess(parcels, rasters, plots)
    with_map = _assess(parcels, rasters, plots, forest_2020=(rasters["gfc"], "jrc_gfc2020"))
    assert without["status"].tolist() == ["deforestation_free", "deforestation_free"]
    assert with_map["status"].tolist() == ["needs_review", "deforestation_free"]
    # the sensitivity column names the map whose removal changes the verdict
    assert (
        "becomes deforestation_free without the jrc_gfc2020_v3 (forest) evidence"
        in (with_map.loc["P1", "what_would_change"])
    )


@pytest.mark.parametrize(
    ("cutoff", "status"), [("2020-12-31", "deforestation_free"), ("2020-06-30", "needs_review")]
)
def test_planting_in_the_cutoff_year_follows_the_one_cutoff_rule(parcels, rasters, cutoff, status):
    # planting in 2020 is on or before 31 December 2020, not before 30 June 2020
    r = _assess(parcels, rasters, _plots(parcels, [2020, 2020]),
                forest_2020=(rasters["gfc"], "jrc_gfc2020"), cutoff=cutoff)  # fmt: skip
    assert r.loc["P1", "status"] == status


def test_a_map_of_another_year_than_the_cutoff_warns(parcels, rasters):
    other = agf.products.Product(
        name="bosque_2018", kind="forest_mask", forest_values=[1], reference_year=2018
    )
    with pytest.warns(agf.AgroforestGeoWarning, match="describes 2018"):
        _assess(parcels, rasters, None, forest_2020=(rasters["gfc"], other))


def test_commodity_map_now_or_at_the_cutoff(parcels, rasters, tmp_path):
    prob = _grid(0.2, "float32")
    prob[:4, :10] = 0.9  # 40 pixels of P1: 0.4 of the parcel
    path = _tif(tmp_path / "cocoa.tif", [prob], nodata=-1)
    no_records = parcels.drop(columns="crop")
    now = agf.products.get("fdap_cocoa_probability").replace(reference_year=2023)
    r = _assess(no_records, rasters, None, forest_2020=(rasters["gfc"], "jrc_gfc2020"),
                commodity=(path, now))  # fmt: skip
    assert r.loc["P1", "commodity_share_now"] == pytest.approx(0.4, rel=REL)
    assert r.loc["P2", "commodity_share_now"] == 0.0
    assert r["status"].tolist() == ["needs_review", "deforestation_free"]
    assert "agri_use_now=1 == 1 by fdap_cocoa_probability" in r.loc["P1", "reasons"]
    # the 2020 composite: cocoa on the cut-off date, so no conversion after it
    r2020 = _assess(no_records, rasters, None, forest_2020=(rasters["gfc"], "jrc_gfc2020"),
                    commodity=(path, "fdap_cocoa_probability"))  # fmt: skip
    assert r2020.loc["P1", "commodity_share_cutoff"] == pytest.approx(0.4, rel=REL)
    assert r2020.loc["P1", "agri_use_at_cutoff"] == 1.0
    assert r2020.loc["P1", "status"] == "deforestation_free"


def test_canopy_height_share_over_5_m(parcels, rasters, tmp_path):
    h = _grid(3, "uint8")
    h[:5, :10] = 12  # half of P1 under 12 m canopy
    h[:, 10:] = 5  # all of P2 exactly 5 m: "higher than 5 m" counts from 5 m (>=)
    path = _tif(tmp_path / "height.tif", [h], nodata=255)
    r = _assess(parcels, rasters, _plots(parcels, [2015, 2015]),
                canopy_height=(path, "eth_canopy_height_2020"))  # fmt: skip
    assert r.loc["P1", "tall_canopy_share"] == pytest.approx(0.5, rel=REL)
    assert r.loc["P2", "tall_canopy_share"] == pytest.approx(1.0, rel=REL)
    r6 = _assess(parcels, rasters, None, canopy_height=(path, "eth_canopy_height_2020"),
                 rules={"canopy_min_height_m": 6})  # fmt: skip
    assert r6.loc["P2", "tall_canopy_share"] == 0.0


def test_records_evidence_by_hand(parcels):
    plots = _plots(parcels, [2022, 2015])
    extra = plots.iloc[[0]].assign(plot_id="A3", system="reforestation", planting_year=2001)
    r = agf.eudr.evidence.records_evidence(parcels, plots=pd.concat([plots, extra]))
    # the reforestation plot is not agricultural use: P1's first planting stays 2022
    assert r["first_planting_year"].tolist() == [2022.0, 2015.0]
    assert r["records_agri_at_cutoff"].tolist() == [0.0, 1.0]
    assert r["agri_plots"].tolist() == [1.0, 1.0]


# -------------------------------------------------------------------------------------
# several sources, one verdict
# -------------------------------------------------------------------------------------


@pytest.fixture
def three_losses(tmp_path: Path) -> list[Source]:
    a = _grid(0, "uint8")
    a[:3, :10] = 22  # 30 pixels of P1 lost in 2022: 0.3 ha
    b = _grid(0, "uint16")  # TMF: the year itself; no loss in P1
    b[9, 10:] = 2019  # P2: loss before the cut-off only
    c = _grid(0, "uint8")
    c[:6, :10] = 21  # 60 pixels of P1 lost in 2021: 0.6 ha
    return [
        Source(_tif(tmp_path / "hansen.tif", [a], nodata=255), "hansen_lossyear_v1_13"),
        Source(_tif(tmp_path / "tmf.tif", [b], nodata=65535), "jrc_tmf_deforestation_year"),
        Source(_tif(tmp_path / "h2.tif", [c], nodata=255), "hansen_lossyear_v1_13", "second"),
    ]


@pytest.mark.parametrize(
    ("required", "loss_ha", "status", "source"),
    [
        ("any", 0.6, "deforestation_detected", "second"),
        (2, 0.3, "needs_review", "hansen_lossyear_v1_13,second"),
        ("all", 0.0, "deforestation_free", ""),
        (3, 0.0, "deforestation_free", ""),
    ],
)
def test_loss_sources_that_disagree_under_each_combination(
    parcels, rasters, three_losses, required, loss_ha, status, source
):
    r = agf.eudr.assess(
        parcels, cover=rasters["cover"], loss=three_losses,
        rules={"loss_sources_required": required},
    ).set_index("parcel_id")  # fmt: skip
    assert r.loc["P1", "loss_after_cutoff_ha"] == pytest.approx(loss_ha, rel=REL, abs=1e-12)
    assert r.loc["P1", "status"] == status
    if source:
        assert f"by {source})" in r.loc["P1", "reasons"]
    assert r.loc["P2", "status"] == "deforestation_free"


def test_each_source_keeps_its_own_columns(parcels, rasters, three_losses):
    a = agf.run_assessment(parcels, cover=rasters["cover"], loss=three_losses)
    ev = a.evidence.set_index(a.parcels["parcel_id"])
    assert ev.loc["P1", "hansen_lossyear_v1_13_loss_after_cutoff_ha"] == pytest.approx(0.3, rel=REL)
    assert ev.loc["P1", "jrc_tmf_deforestation_year_loss_after_cutoff_ha"] == 0.0
    assert ev.loc["P1", "second_loss_after_cutoff_ha"] == pytest.approx(0.6, rel=REL)
    assert ev.loc["P1", "first_loss_year_after_cutoff"] == 2021  # the earliest reporting source
    assert ev.loc["P2", "jrc_tmf_deforestation_year_loss_ha_2019"] == pytest.approx(0.1, rel=REL)
    # the sensitivity names the removal of one source
    assert (
        "becomes needs_review without the second (loss) evidence"
        in (a.result.loc[0, "what_would_change"])
    )
    assert a.inputs["role"].tolist().count("loss") == 3


def test_one_raster_calls_are_unchanged(parcels, rasters, three_losses):
    src = three_losses[0]
    old = agf.eudr.assess(parcels, cover=rasters["cover"], loss=src.raster,
                          loss_product="hansen_lossyear_v1_13")  # fmt: skip
    new = agf.eudr.assess(parcels, cover=rasters["cover"], loss=[src])
    pd.testing.assert_frame_equal(old, new)


def test_sources_required_is_validated():
    with pytest.raises(ValueError, match="how many sources must agree"):
        agf.eudr.rules.resolve_rules({"loss_sources_required": 0.5})
    _, th = agf.eudr.rules.resolve_rules({"alert_sources_required": "all"})
    assert th["alert_sources_required"] == math.inf


def test_two_sources_with_the_same_label_need_names(parcels, rasters):
    with pytest.raises(ValueError, match="give them names"):
        agf.eudr.assess(parcels, loss=[(rasters["loss"], "hansen_lossyear_v1_13")] * 2)


# -------------------------------------------------------------------------------------
# alerts after the cut-off
# -------------------------------------------------------------------------------------


def test_gfw_alert_after_the_cutoff_found_with_its_date(parcels, rasters, tmp_path):
    v = _grid(0, "int32")
    v[0, :10] = 32198  # 10 px, high confidence, day 2198 after 2014-12-31 = 2021-01-06
    v[1, :10] = 22200  # 10 px, low confidence, 2021-01-08
    v[2, :10] = 32192  # 10 px on 2020-12-31: on the cut-off date, not after it
    path = _tif(tmp_path / "gfw.tif", [v], nodata=-1)
    a = agf.disturbance_alerts(parcels, path, product="gfw_integrated_alerts")
    assert a.loc[0, "alert_ha"] == pytest.approx(0.2, rel=REL)
    assert a.loc[0, "first_alert_date"] == pd.Timestamp("2021-01-06")
    assert a.loc[0, "last_alert_date"] == pd.Timestamp("2021-01-08")
    assert a.loc[0, "alert_confidence"] == 3 and a.loc[0, "alert_confidence_label"] == "high"
    assert a.loc[1, "alert_ha"] == 0.0 and pd.isna(a.loc[1, "first_alert_date"])
    r = _assess(parcels, rasters, None, alerts=(path, "gfw_integrated_alerts"))
    assert r["status"].tolist() == ["needs_review", "deforestation_free"]
    assert "by gfw_integrated_alerts, first alert 2021-01-06" in r.loc["P1", "reasons"]


def test_radd_alerts_with_a_confidence_band(parcels, tmp_path):
    date = _grid(0, "int32")
    conf = _grid(0, "int32")
    date[5, 10:15], conf[5, 10:15] = 21100, 3  # P2, 2021-04-10, confirmed
    date[6, 10:20], conf[6, 10:20] = 21001, 2  # P2, 2021-01-01, unconfirmed
    date[7, 10:20], conf[7, 10:20] = 20366, 3  # P2, 2020-12-31 (leap year): not after
    path = _tif(tmp_path / "radd.tif", [date, conf], nodata=-1, descriptions=["Date", "Alert"])
    a = agf.disturbance_alerts(parcels, path, product="radd_alerts")
    assert a.loc[1, "alert_ha"] == pytest.approx(0.15, rel=REL)
    assert a.loc[1, "first_alert_date"] == pd.Timestamp("2021-01-01")
    assert a.loc[1, "alert_confidence"] == 3  # the highest among the alerted pixels
    assert a.loc[0, "alert_ha"] == 0.0


def test_two_alert_products_combine(parcels, rasters, tmp_path):
    g = _grid(0, "int32")
    g[0, :10] = 32198  # P1 2021-01-06
    date, conf = _grid(0, "int32"), _grid(0, "int32")
    date[0, :5], conf[0, :5] = 21003, 3  # P1 2021-01-03, 5 px
    gfw = _tif(tmp_path / "gfw.tif", [g], nodata=-1)
    radd = _tif(tmp_path / "radd.tif", [date, conf], nodata=-1, descriptions=["Date", "Alert"])
    alerts = [(gfw, "gfw_integrated_alerts"), (radd, "radd_alerts")]
    r = _assess(parcels, rasters, None, alerts=alerts)
    assert r.loc["P1", "alert_ha_after_cutoff"] == pytest.approx(0.1, rel=REL)
    assert r.loc["P1", "first_alert_date_after_cutoff"] == pd.Timestamp("2021-01-03")
    both = _assess(parcels, rasters, None, alerts=alerts, rules={"alert_sources_required": "all"})
    assert both.loc["P1", "alert_ha_after_cutoff"] == pytest.approx(0.05, rel=REL)


def test_alerts_refuse_another_kind(parcels, rasters):
    with pytest.raises(agf.RasterError, match="not a disturbance_date"):
        agf.disturbance_alerts(parcels, rasters["loss"], product="hansen_lossyear_v1_13")


# -------------------------------------------------------------------------------------
# the workflow, Dask and the CLI
# -------------------------------------------------------------------------------------


def test_sample_demo_unchanged_without_new_inputs():
    get = agf.datasets.get_path
    a = agf.run_assessment(
        get("parcels"), cover=get("treecover"), loss=get("lossyear"),
        protected=get("protected_areas"), plots=get("plots"), trees=get("tree_inventory"),
    )  # fmt: skip
    assert a.status_counts == {
        "deforestation_free": 247,
        "needs_review": 32,
        "deforestation_detected": 14,
    }
    assert not a.result["rules_fired"].str.contains("possible_conversion|alert_after").any()


@pytest.mark.dask
def test_land_use_alerts_and_several_sources_on_dask_give_the_same_verdicts(
    parcels, rasters, tmp_path, monkeypatch
):
    pytest.importorskip("distributed")
    h = _grid(3, "uint8")
    h[:5, :10] = 12
    height = _tif(tmp_path / "height.tif", [h], nodata=255)
    g = _grid(0, "int32")
    g[0, :10] = 32198  # P1, 2021-01-06
    gfw = _tif(tmp_path / "gfw.tif", [g], nodata=-1)
    loss2 = _grid(0, "uint8")
    loss2[:3, :10] = 22  # a second loss source: 30 px of P1 lost in 2022
    second = _tif(tmp_path / "loss2.tif", [loss2], nodata=255)
    kw = dict(
        cover=rasters["cover"],
        loss=[(rasters["loss"], "hansen_lossyear_v1_13"), Source(second, None, "second_loss")],
        plots=_plots(parcels, [2022, 2015]),
        forest_2020=(rasters["gfc"], "jrc_gfc2020"),
        canopy_height=(height, "eth_canopy_height_2020"),
        alerts=(gfw, "gfw_integrated_alerts"),
    )
    here = agf.run_assessment(parcels, **kw)
    ran: list[str] = []
    real_run = agf.distributed.run

    def counting_run(verb, *args, **kwargs):
        ran.append(verb.__name__)
        return real_run(verb, *args, **kwargs)

    monkeypatch.setattr(agf.distributed, "run", counting_run)
    remote = agf.run_assessment(parcels, workers=1, **kw)
    # every raster was measured on the workers: cover+loss in one pass, the second loss
    # source, the 2020 map and the canopy height (forest_cover), the alerts
    assert sorted(ran) == sorted(["forest_cover_and_loss", "forest_cover_and_loss",
                                  "forest_cover", "forest_cover", "disturbance_alerts",
                                  "overlaps"])  # fmt: skip
    # the sources really were measured, and they decide
    r = here.result.set_index("parcel_id")
    assert r.loc["P1", "status"] == "needs_review"
    fired = "loss_after_cutoff;possible_conversion_after_cutoff;alert_after_cutoff"
    assert r.loc["P1", "rules_fired"] == fired
    ev = here.evidence.set_index(here.parcels["parcel_id"])
    assert ev.loc["P1", "second_loss_loss_after_cutoff_ha"] == pytest.approx(0.3, rel=REL)
    pd.testing.assert_frame_equal(remote.evidence, here.evidence, check_exact=False, rtol=1e-9)
    assert r.loc["P1", "tall_canopy_share"] == pytest.approx(0.5, rel=REL)
    assert r.loc["P1", "alert_ha_after_cutoff"] == pytest.approx(0.1, rel=REL)
    pd.testing.assert_frame_equal(remote.result, here.result, check_exact=False, rtol=1e-9)


def test_cli_assess_takes_the_new_sources(parcels, rasters, tmp_path, capsys):
    parcels_path = tmp_path / "parcels.gpkg"
    parcels.to_file(parcels_path)
    plots_path = tmp_path / "plots.gpkg"
    _plots(parcels, [2022, 2015]).to_file(plots_path)
    out = tmp_path / "out"
    code = cli_main([
        "assess", str(parcels_path), "--cover", str(rasters["cover"]),
        "--loss", str(rasters["loss"]), "--loss-product", "hansen_lossyear_v1_13",
        "--plots", str(plots_path), "--forest-2020", f"{rasters['gfc']}:jrc_gfc2020",
        "--rule", "forest_2020_sources_required=all", "--output-dir", str(out),
    ])  # fmt: skip
    assert code == 0
    table = pd.read_csv(out / "assessment.csv").set_index("parcel_id")
    assert table["status"].tolist() == ["needs_review", "deforestation_free"]
    assert "possible_conversion_after_cutoff" in table.loc["P1", "rules_fired"]


def test_docs_methods_rule_table_lists_every_rule_with_its_basis():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "methods.md").read_text(encoding="utf-8")
    for r in agf.eudr.rules.rules_table(agf.eudr.DEFAULT_RULES):
        assert r["basis"].startswith("Art."), r["code"]
        assert f"| `{r['code']}` | {r['status']} | {r['conditions']} | {r['basis']} |" in doc


def test_a_loss_source_on_another_grid_is_measured_alone_with_a_warning(parcels, rasters, tmp_path):
    a = _grid(0, "uint8")
    a[:3, :10] = 22  # 0.3 ha in P1
    other = np.zeros((12, 22), "uint16")  # one pixel more on each side: another grid
    other[1:5, 1:11] = 2021  # 40 pixels of P1: 0.4 ha
    path = tmp_path / "tmf_other_grid.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=22, height=12, count=1, dtype="uint16",
        crs="EPSG:32718", nodata=65535, transform=from_origin(X0 - RES, Y0 + RES, RES, RES),
    ) as dst:  # fmt: skip
        dst.write(other, 1)
    losses = [
        (_tif(tmp_path / "hansen.tif", [a], nodata=255), "hansen_lossyear_v1_13"),
        (path, "jrc_tmf_deforestation_year"),
    ]
    with pytest.warns(agf.AgroforestGeoWarning, match="not on the grid of cover source"):
        r = agf.eudr.assess(parcels, cover=rasters["cover"], loss=losses)
    ev = r.set_index("parcel_id")
    assert ev.loc["P1", "loss_after_cutoff_ha"] == pytest.approx(0.4, rel=REL)
    assert ev.loc["P1", "first_loss_year_after_cutoff"] == 2021

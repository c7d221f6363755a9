"""run_assessment -> Assessment: one pass, each thing computed once, the CLI on top of it."""

from __future__ import annotations

import collections
import dataclasses
import importlib
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

import agroforest_geo as agf
from agroforest_geo.cli import main
from agroforest_geo.eudr import Condition, Rule

get = agf.datasets.get_path


def _full(**extra):
    return agf.run_assessment(
        get("parcels"),
        cover=get("treecover"),
        loss=get("lossyear"),
        protected=get("protected_areas"),
        plots=get("plots"),
        trees=get("tree_inventory"),
        **extra,
    )


@pytest.fixture(scope="module")
def assessment():
    return _full()


def test_sample_statuses_are_the_planted_ones(assessment):
    counts = assessment.status_counts
    assert counts == {"deforestation_free": 247, "needs_review": 32, "deforestation_detected": 14}
    assert assessment.result.index.equals(assessment.parcels.index)
    assert assessment.evidence.index.equals(assessment.parcels.index)
    assert assessment.cutoff.isoformat() == "2020-12-31"
    assert set(assessment.validation) == {"parcels", "protected_areas", "plots"}
    # the overlap pairs kept are the ones behind the evidence
    ev = assessment.evidence
    assert int(ev["n_parcel_overlaps"].sum()) == 2 * len(assessment.overlap_pairs)
    np.testing.assert_allclose(
        ev["parcel_overlap_ha"].sum(), 2 * assessment.overlap_pairs["overlap_ha"].sum()
    )


def test_cli_and_api_write_identical_tables(assessment, tmp_path):
    out_api = tmp_path / "api"
    written = assessment.write(out_api)
    assert set(written) == {
        "table (CSV)",
        "table (GeoPackage)",
        "table (GeoParquet)",
        "evidence records",
        "EU GeoJSON",
        "validation findings",
    }
    out_cli = tmp_path / "cli"
    rc = main(
        [
            "assess",
            str(get("parcels")),
            "--cover",
            str(get("treecover")),
            "--loss",
            str(get("lossyear")),
            "--protected",
            str(get("protected_areas")),
            "--plots",
            str(get("plots")),
            "--trees",
            str(get("tree_inventory")),
            "--output-dir",
            str(out_cli),
        ]
    )
    assert rc == 0
    for name in ("assessment.csv", "validation_findings.csv", "eudr_geolocation.geojson"):
        assert (out_api / name).read_bytes() == (out_cli / name).read_bytes(), name
    assert (out_cli / "report.html").exists()


class _Counter:
    """Count calls of the library's verbs and of rasterio.open during a run."""

    def __init__(self, monkeypatch):
        self.calls: collections.Counter = collections.Counter()
        vmod = sys.modules["agroforest_geo.validate"]
        rmod = sys.modules["agroforest_geo.repair"]
        omod = importlib.import_module("agroforest_geo.overlap")
        for mod, name in ((vmod, "validate"), (rmod, "validate"), (omod, "overlaps")):
            monkeypatch.setattr(mod, name, self._wrap(name, getattr(mod, name)))
        monkeypatch.setattr(rasterio, "open", self._wrap_open(rasterio.open))

    def _wrap(self, name, func):
        def wrapped(layer, *args, **kwargs):
            self.calls[(name, kwargs.get("kind"), len(layer))] += 1
            return func(layer, *args, **kwargs)

        return wrapped

    def _wrap_open(self, func):
        def wrapped(path, *args, **kwargs):
            self.calls[("open", Path(str(path)).name)] += 1
            return func(path, *args, **kwargs)

        return wrapped


def test_each_layer_validated_once_overlaps_once_rasters_one_pass(monkeypatch, tmp_path):
    counter = _Counter(monkeypatch)
    a = _full()
    calls = dict(counter.calls)
    validations = {k: v for k, v in calls.items() if k[0] == "validate"}
    assert validations == {
        ("validate", "parcels", 293): 1,
        ("validate", "protected_areas", len(a.protected)): 1,
        ("validate", "plots", len(a.plots)): 1,
    }
    assert sum(v for k, v in calls.items() if k[0] == "overlaps") == 1
    # one open for the pass over both rasters, one to describe the file for the record
    opens = {k[1]: v for k, v in calls.items() if k[0] == "open"}
    assert opens.get("treecover2000.tif", 0) <= 2 and opens.get("lossyear.tif", 0) <= 2
    counter.calls.clear()
    outputs = a.write(tmp_path)
    a.report(tmp_path / "report.html", outputs=outputs)
    after = dict(counter.calls)
    assert not [k for k in after if k[0] in ("validate", "overlaps")], after
    # the report reads only the loss raster, for the window it draws
    assert {k[1] for k in after if k[0] == "open"} <= {"lossyear.tif"}


def _squares_4326(n=3):
    # ~1 ha squares near Tarapoto, 200 m apart
    geoms = [
        shapely.box(-76.36 + i * 0.002, -6.49, -76.36 + i * 0.002 + 0.0009, -6.4891)
        for i in range(n)
    ]
    return gpd.GeoDataFrame({"parcel_id": [f"P{i}" for i in range(n)]}, geometry=geoms, crs=4326)


def test_reprojection_is_recorded_or_refused():
    parcels = _squares_4326()
    area = gpd.GeoDataFrame(
        {"area_id": ["A"], "name": ["park"], "category": ["ANP"]},
        geometry=[parcels.geometry.iloc[0].buffer(0.0002)],
        crs=4326,
    ).to_crs(32718)
    a = agf.run_assessment(parcels, protected=area)
    row = a.inputs.set_index("role").loc["protected"]
    assert "reprojected from EPSG:32718" in row["note"]
    assert a.protected.crs.equals(parcels.crs)
    assert a.evidence["protected_share"].iloc[0] == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(agf.CRSMismatchError, match="to_crs"):
        agf.run_assessment(parcels, protected=area, reproject=False)


def test_rules_read_any_evidence_column_and_combine():
    parcels = _squares_4326()
    area = gpd.GeoDataFrame(
        {"area_id": ["A"], "name": ["park"], "category": ["ANP"]},
        geometry=[shapely.box(-76.3605, -6.4909, -76.3601, -6.4881)],  # 10-50 m west of P0
        crs=4326,
    )
    loss = pd.DataFrame({"loss_after_cutoff_ha": [0.1, 0.1, 0.0]})
    near = Rule(
        "loss_near_protected",
        "deforestation_detected",
        None,
        None,
        None,
        None,
        "loss after the cut-off within 1 km of a protected area",
        all_of=(
            Condition("distance_to_protected_m", "<", 1000.0, "near_m"),
            Condition("loss_after_cutoff_ha", ">", 0.0),
        ),
    )
    rules = (*agf.eudr.DEFAULT_RULES, near)
    a = agf.run_assessment(parcels, loss=loss, protected=area, rules=rules)
    d = a.evidence["distance_to_protected_m"]
    # 0.0001, 0.0021 and 0.0041 degrees of longitude east of the area, at 6.49 S
    metres_per_degree = 111_320 * np.cos(np.radians(6.49))
    np.testing.assert_allclose(d, np.array([1e-4, 21e-4, 41e-4]) * metres_per_degree, rtol=1e-2)
    fired = a.result["rules_fired"].str.contains("loss_near_protected")
    assert fired.tolist() == [True, True, False]
    closer = Condition("distance_to_protected_m", "<", 100.0)
    a2 = agf.run_assessment(
        parcels,
        loss=loss,
        protected=area,
        rules=(*rules[:-1], dataclasses.replace(near, all_of=(closer, near.all_of[1]))),
    )
    assert a2.result["rules_fired"].str.contains("loss_near_protected").tolist() == [
        True,
        False,
        False,
    ]
    assert a.result.loc[fired, "status"].astype(str).eq("deforestation_detected").all()
    assert a.result.attrs["rules_version"] == "custom"
    # any_of: at least one
    either = Rule(
        "either",
        "needs_review",
        None,
        None,
        None,
        None,
        "either condition",
        any_of=(
            Condition("loss_after_cutoff_ha", ">", 0.05),
            Condition("distance_to_protected_m", ">", 1e9),
        ),
    )
    b = agf.eudr.assess(parcels, loss=loss, rules=[either])
    assert b["rules_fired"].tolist() == ["either", "either", ""]


def test_unknown_rule_column_is_refused():
    parcels = _squares_4326()
    bad = Rule("x", "needs_review", "no_such_column", ">", 0.0, None, "nope")
    with pytest.raises(agf.MissingColumnError, match="no_such_column"):
        agf.eudr.assess(parcels, rules=[bad])


def test_cutoff_nat_is_refused():
    with pytest.raises(ValueError, match="missing"):
        agf.run_assessment(_squares_4326(), cutoff=pd.NaT)
    with pytest.raises(ValueError, match="missing"):
        agf.eudr.assess(_squares_4326(), cutoff=None)


@pytest.mark.dask
def test_on_dask_the_same_assessment(assessment):
    pytest.importorskip("distributed")
    remote = _full(workers=2)
    pd.testing.assert_frame_equal(remote.result, assessment.result, check_exact=False, rtol=1e-9)
    assert len(remote.overlap_pairs) == len(assessment.overlap_pairs)


def test_docs_evidence_table_lists_the_schema():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "workflow.md").read_text(encoding="utf-8")
    for col in agf.eudr.EVIDENCE_SCHEMA:
        assert f"| `{col.name}` | {col.source} | {col.unit} |" in doc, col.name


def test_forest_mask_with_product_gives_the_percent_cover_verdicts(tmp_path, assessment):
    # a 0/1 mask of the pixels with >= 10 % cover in 2000, described as what it is
    with rasterio.open(get("treecover")) as src:
        cover = src.read(1)
        profile = src.profile
    mask_path = tmp_path / "forest_mask_2000.tif"
    profile.update(dtype="uint8", nodata=255)
    with rasterio.open(mask_path, "w", **profile) as dst:
        dst.write(np.where(cover == 255, 255, cover >= 10).astype("uint8"), 1)
    mask = agf.products.Product(
        name="mask_2000", kind="forest_mask", forest_values=[1], reference_year=2000
    )
    a = agf.run_assessment(
        get("parcels"),
        cover=mask_path,
        loss=get("lossyear"),
        protected=get("protected_areas"),
        plots=get("plots"),
        trees=get("tree_inventory"),
        cover_product=mask,
    )
    for col in ("loss_after_cutoff_ha", "forest_ha_cutoff"):
        np.testing.assert_allclose(a.result[col], assessment.result[col], rtol=1e-12, atol=1e-12)
    assert a.status_counts == assessment.status_counts
    assert a.parameters["cover product"] == "mask_2000"
    # without the product the mask is refused, naming the fix
    with pytest.raises(agf.RasterError, match="product"):
        agf.run_assessment(get("parcels"), cover=mask_path, loss=get("lossyear"))


def test_carbon_columns_from_the_inventory_and_a_biomass_map(tmp_path):
    import warnings

    import geopandas as gpd

    # a constant 100 Mg/ha map over the sample area, on the sample raster's grid
    with rasterio.open(get("treecover")) as src:
        profile = src.profile
        shape = (src.height, src.width)
    profile.update(dtype="float32", nodata=-1)
    path = tmp_path / "agb.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full(shape, 100.0, "float32"), 1)
    options = {"wood_density_table": get("wood_density"), "n_draws": 0, "seed": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = agf.run_assessment(
            get("parcels"),
            plots=get("plots"),
            trees=get("tree_inventory"),
            biomass_map=path,
            biomass_product="esa_cci_biomass_2020",
            carbon_options=options,
        )
        plots = agf.read_plots(get("plots"))
        trees = gpd.read_file(get("tree_inventory"), layer="trees")
        per_plot = agf.carbon.plot_biomass(plots, trees, **options)
    r = a.result
    inside = r["map_covered_share"] > 0.999
    np.testing.assert_allclose(
        r.loc[inside, "map_agb_mg"], 100 * r.loc[inside, "area_ha"], rtol=1e-6
    )
    # the parcels' inventory CO2e adds up to the plots' (plots of assessed parcels)
    by_parcel = per_plot["co2e_t"].groupby(plots["parcel_id"].astype(str)).sum(min_count=1)
    ids = a.parcels["parcel_id"].astype(str)
    expected = ids.map(by_parcel).to_numpy(dtype=float)
    np.testing.assert_allclose(r["inventory_co2e_t"].to_numpy(), expected, rtol=1e-9)


def test_docs_carbon_table_lists_the_schema():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "workflow.md").read_text(encoding="utf-8")
    for col in agf.eudr.evidence.CARBON_SCHEMA:
        assert f"| `{col.name}` | {col.unit} |" in doc, col.name


def test_every_evidence_source_has_words_in_every_language():
    from agroforest_geo.reporting._i18n import MESSAGES

    schema = agf.eudr.EVIDENCE_SCHEMA + agf.eudr.evidence.CARBON_SCHEMA
    for source in {c.source for c in schema}:
        entry = MESSAGES[f"source.{source}"]
        assert set(entry) >= {"es", "en", "fr", "pt"}, source


def test_carbon_per_system_in_the_assessment_and_its_report(tmp_path):
    import warnings

    import geopandas as gpd

    options = {"wood_density_table": get("wood_density"), "n_draws": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = agf.run_assessment(
            get("parcels"), plots=get("plots"), trees=get("tree_inventory"), carbon_options=options
        )
        plots = agf.read_plots(get("plots"))
        trees = gpd.read_file(get("tree_inventory"), layer="trees")
        per_plot = agf.carbon.plot_biomass(plots, trees, **options)
    expected = per_plot["co2e_t"].groupby(plots["system"]).sum(min_count=1)
    np.testing.assert_allclose(
        a.carbon["co2e_t"].reindex(expected.index), expected, rtol=1e-9, equal_nan=True
    )
    page = a.report(tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert '<section id="carbon">' in page
    total = a.carbon.loc["cocoa_agroforestry", "co2e_t"]
    assert f"<td>{total:,.1f}</td>" in page
    # without carbon options there is no carbon section
    b = agf.run_assessment(get("parcels"))
    assert b.carbon is None
    assert '<section id="carbon">' not in b.report(tmp_path / "b.html").read_text("utf-8")


def test_carbon_simulates_each_tree_once_for_parcels_and_systems(monkeypatch):
    """The per-parcel evidence and the per-system roll-up share one simulation."""
    import warnings

    import geopandas as gpd

    from agroforest_geo.carbon import _montecarlo

    simulated: list[int] = []
    real = _montecarlo.simulate_trees

    def counting(t, idx, *args, **kwargs):
        simulated.append(len(idx))
        return real(t, idx, *args, **kwargs)

    monkeypatch.setattr(_montecarlo, "simulate_trees", counting)
    options = {"wood_density_table": get("wood_density"), "n_draws": 200, "seed": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = agf.run_assessment(
            get("parcels"), plots=get("plots"), trees=get("tree_inventory"), carbon_options=options
        )
        plots = agf.read_plots(get("plots"))
        trees = gpd.read_file(get("tree_inventory"), layer="trees")
        in_plots = shapely.STRtree(plots.geometry.to_numpy()).query(
            trees.geometry.to_numpy(), predicate="intersects"
        )[0]
    # every tree in a plot (with a diameter) drawn exactly once, not once per grouping
    n_measured = int(trees.iloc[np.unique(in_plots)]["diameter_cm"].notna().sum())
    assert sum(simulated) == n_measured
    assert a.carbon is not None
    np.testing.assert_allclose(a.carbon["tree_count"].sum(), n_measured)
    # the groupings share the draws: the same grouping twice gives the same intervals
    # (two simulations of 200 draws would not)
    from agroforest_geo.carbon._plots import rollups

    opts = {k: v for k, v in options.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first, system, again = rollups(
            plots, trees, [["parcel_id"], ["system"], ["parcel_id"]], **opts
        )
    assert np.isfinite(first["co2e_t_p97_5"]).sum() >= 5
    pd.testing.assert_frame_equal(first, again)
    separate = agf.carbon.carbon_rollup(plots, trees, by="system", **{**opts, "seed": 4})
    assert not np.allclose(system["co2e_t_sd"].dropna(), separate["co2e_t_sd"].dropna())

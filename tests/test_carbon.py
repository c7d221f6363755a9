"""Carbon: allometry, wood density, height models, per-plot biomass and its uncertainty."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import agroforest_geo as agf
from agroforest_geo import AllometryDomainWarning, TaxonFallbackWarning, UnitError
from agroforest_geo.carbon import Allometry, agb_kg

X0, Y0 = 500_000.0, 9_200_000.0
UTM = "EPSG:32718"


def eq4(d, h, rho):
    return 0.0673 * (rho * d**2 * h) ** 0.976


# ----------------------------------------------------------------------------- allometry


def test_chave2014_eq4_worked_value():
    # 0.0673 × (0.6 × 30² × 20)^0.976 = 0.0673 × 10800^0.976 = 581.6 kg (by hand)
    assert float(agb_kg(30.0, 20.0, 0.6)) == pytest.approx(581.6, abs=0.05)


@pytest.mark.parametrize("d, rho", [(5.0, 0.3), (30.0, 0.6), (100.0, 0.9), (212.0, 1.1)])
def test_chave2014_eq7_with_e0_is_its_closed_form(d, rho):
    ln_d = np.log(d)
    closed = np.exp(-1.803 + 0.976 * np.log(rho) + 2.673 * ln_d - 0.0299 * ln_d**2)
    assert float(agb_kg(d, wood_density=rho, e=0.0)) == pytest.approx(closed, rel=1e-12)
    # E enters as the factor exp(-0.976 E)
    ratio = float(agb_kg(d, wood_density=rho, e=0.5)) / float(agb_kg(d, wood_density=rho, e=0.0))
    assert ratio == pytest.approx(np.exp(-0.976 * 0.5), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    d=st.floats(5, 200),
    h=st.floats(2, 60),
    rho=st.floats(0.1, 1.2),
    f=st.floats(1.001, 1.5),
    e=st.floats(-1, 1),
)
def test_monotone_in_d_h_rho(d, h, rho, f, e):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AllometryDomainWarning)
        base = float(agb_kg(d, h, rho))
        assert float(agb_kg(d * f, h, rho)) > base
        assert float(agb_kg(d, h * f, rho)) > base
        assert float(agb_kg(d, h, min(rho * f, 1.39))) >= base
        b7 = float(agb_kg(d, wood_density=rho, e=e))
        assert float(agb_kg(d * f, wood_density=rho, e=e)) > b7
        assert float(agb_kg(d, wood_density=min(rho * f, 1.39), e=e)) >= b7


def test_series_in_series_out_and_nan():
    d = pd.Series([10.0, np.nan, 30.0], index=["a", "b", "c"])
    out = agb_kg(d, pd.Series([12.0, 5.0, 20.0], index=d.index), 0.6)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b", "c"]
    assert np.isnan(out["b"]) and out["c"] == pytest.approx(eq4(30.0, 20.0, 0.6))


def test_named_allometries_hand_values():
    ln20 = np.log(20.0)
    moist = 0.6 * np.exp(-1.499 + 2.148 * ln20 + 0.207 * ln20**2 - 0.0281 * ln20**3)
    got = agb_kg(20.0, wood_density=0.6, allometry="chave2005_moist")
    assert float(got) == pytest.approx(moist, rel=1e-12)
    # cacao, D30 = 10 cm: 10^(-1.625 + 2.63) = 10^1.005
    assert float(agb_kg(10.0, allometry="andrade2008_cacao")) == pytest.approx(10**1.005)
    assert float(agb_kg(15.0, allometry="van_noordwijk2002_musa")) == pytest.approx(
        0.030 * 15**2.13
    )
    assert float(agb_kg(25.0, allometry="goodman2013_palm")) == pytest.approx(0.03781 * 25**2.7483)
    for a in agf.carbon.ALLOMETRIES.values():
        assert a.source and a.domain and a.diameter_range_cm[0] < a.diameter_range_cm[1]


def test_user_callable_allometry():
    out = agb_kg([10.0, 20.0], [5.0, 10.0], 0.5, allometry=lambda d, h, rho: rho * d * h)
    np.testing.assert_allclose(out, [25.0, 100.0])


def test_outside_calibration_range_warns():
    with pytest.warns(AllometryDomainWarning, match=r"1 of 2 tree.*5-212 cm"):
        agb_kg([2.0, 20.0], [3.0, 15.0], 0.6)


@pytest.mark.parametrize(
    "d, h, rho, match",
    [
        ([250.0, 320.0, 1200.0], 20.0, 0.6, "millimetres"),
        ([0.12, 0.30, 0.25], 20.0, 0.6, "metres"),
        ([10.0, 0.0], 20.0, 0.6, "zero or negative"),
        ([10.0, -3.0], 20.0, 0.6, "zero or negative"),
        ([10.0, 20.0], [1500.0, 2000.0], 0.6, "metres"),
        ([10.0, 20.0], [10.0, -1.0], 0.6, "zero or negative"),
        ([10.0, 20.0], 20.0, 600.0, "kg/m³"),
    ],
)
def test_bad_units_raise_naming_the_unit(d, h, rho, match):
    with pytest.raises(UnitError, match=match):
        agb_kg(d, h, rho)


def test_missing_inputs_raise():
    with pytest.raises(ValueError, match="e="):
        agb_kg(20.0, wood_density=0.6)
    with pytest.raises(ValueError, match="wood_density"):
        agb_kg(20.0, 15.0)
    with pytest.raises(ValueError, match="unknown allometry"):
        agb_kg(20.0, 15.0, 0.6, allometry="chave2099")


# ----------------------------------------------------------------------------- wood density


@pytest.fixture
def wd_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "family": ["Fabaceae"] * 3 + ["Meliaceae"] * 2 + ["Fabaceae"],
            "genus": ["Inga", "Inga", "Inga", "Cedrela", "Swietenia", "Inga"],
            "species": ["edulis", "edulis", "marginata", "odorata", "macrophylla", "edulis"],
            "wd": [0.50, 0.60, 0.70, 0.40, 0.50, 0.90],
            "region": ["South_America_(tropical)"] * 5 + ["Africa_(tropical)"],
        }
    )


def test_wood_density_levels_by_hand(wd_table):
    taxa = ["Inga edulis", "Inga sp.", "Guarea guidonia", "Indet.", "Cedrela odorata"]
    with pytest.warns(TaxonFallbackWarning, match=r"2 of 5 tree.*species level"):
        wd = agf.carbon.wood_density(
            taxa,
            table=wd_table,
            families=[None, None, "Meliaceae", None, None],
            stand=["p1", "p1", "p1", "p1", "p2"],
        )
    assert wd["wood_density_level"].tolist() == ["species", "genus", "family", "stand", "species"]
    expected = [
        0.55,  # mean of the two South-American records (the African one is left out)
        (0.55 + 0.70) / 2,  # genus: mean of its species
        (0.40 + 0.50) / 2,  # family Meliaceae: mean of its genera
        (0.55 + 0.625 + 0.45) / 3,  # stand p1: mean of the trees found there
        0.40,
    ]
    np.testing.assert_allclose(wd["wood_density_g_cm3"], expected)
    # small table: sd of taxa with >= 2 records (only Inga edulis: sd(0.5, 0.6))
    assert wd["wood_density_sd"].iloc[0] == pytest.approx(np.std([0.5, 0.6], ddof=1))


def test_wood_density_region_world_and_unknown(wd_table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TaxonFallbackWarning)
        world = agf.carbon.wood_density(["Inga edulis"], table=wd_table, region=None)
        assert world["wood_density_g_cm3"].iloc[0] == pytest.approx(np.mean([0.5, 0.6, 0.9]))
        with pytest.raises(ValueError, match="no wood density for region"):
            agf.carbon.wood_density(["Inga edulis"], table=wd_table, region="Europe")


def test_wood_density_needs_a_table():
    with pytest.raises(ValueError, match=r"none is bundled.*dryad"):
        agf.carbon.wood_density(["Inga edulis"])


def test_reads_the_published_gwdd_layout(tmp_path):
    dryad = pd.DataFrame(
        {
            "Number": [1, 2, 3],
            "Family": ["Fabaceae", "Fabaceae", "Meliaceae"],
            "Binomial": ["Inga edulis", "Inga edulis", "Cedrela odorata"],
            "Wood density (g/cm^3), oven dry mass/fresh volume": [0.5, 0.7, 0.44],
            "Region": ["South America (tropical)"] * 3,
            "Reference Number": [1, 2, 3],
        }
    )
    path = tmp_path / "gwdd.csv"
    dryad.to_csv(path, index=False)
    t = agf.carbon.read_wood_density_table(path)
    assert t["genus"].tolist() == ["Inga", "Inga", "Cedrela"]
    assert t["species"].tolist() == ["edulis", "edulis", "odorata"]
    wd = agf.carbon.wood_density(pd.Series(["Inga edulis"], index=[7]), table=path)
    assert wd.index.tolist() == [7] and wd["wood_density_g_cm3"].iloc[0] == pytest.approx(0.6)


def test_reads_taxon_summaries():
    summary = pd.DataFrame(
        {
            "family": ["Fabaceae", "Fabaceae", "Fabaceae"],
            "genus": ["Inga", "Inga", None],
            "species": ["Inga edulis", None, None],
            "wsg": [0.58, 0.6, 0.62],
            "sd": [0.05, 0.08, 0.11],
            "level_tax": ["species", "genus", "family"],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TaxonFallbackWarning)
        wd = agf.carbon.wood_density(
            ["Inga edulis", "Inga vera", "Acacia x"],
            table=summary,
            region=None,
            families=[None, None, "Fabaceae"],
        )
    np.testing.assert_allclose(wd["wood_density_g_cm3"], [0.58, 0.6, 0.62])
    np.testing.assert_allclose(wd["wood_density_sd"], [0.05, 0.08, 0.11])


# ----------------------------------------------------------------------------- heights


@pytest.mark.parametrize(
    "method, truth",
    [
        ("weibull", lambda d: 40 * (1 - np.exp(-0.05 * d**0.8))),
        ("michaelis", lambda d: 35 * d / (20 + d)),
        ("loglog", lambda d: np.exp(1.2 + 0.6 * np.log(d))),
    ],
)
def test_height_models_recover_exact_curves(method, truth):
    d = np.linspace(5, 100, 60)
    trees = pd.DataFrame({"diameter_cm": d, "height_m": truth(d)})
    m = agf.carbon.fit_height_model(trees, method=method)
    np.testing.assert_allclose(m.predict(d), truth(d), rtol=1e-5)
    assert m.params.loc["all", "rse"] < 1e-5 and m.params.loc["all", "n"] == 60


def test_height_model_rse_and_groups():
    rng = np.random.default_rng(3)
    d = rng.uniform(5, 80, 400)
    grp = np.where(np.arange(400) < 395, "a", "b")  # group b has 5 trees: pooled fit
    h = 40 * (1 - np.exp(-0.05 * d**0.8)) + rng.normal(0, 2.0, d.size)
    trees = pd.DataFrame({"diameter_cm": d, "height_m": h, "system": grp})
    m = agf.carbon.fit_height_model(trees, method="weibull", by="system")
    assert sorted(m.params.index) == ["a", "all"]
    assert m.params.loc["a", "rse"] == pytest.approx(2.0, rel=0.1)
    np.testing.assert_allclose(m.predict([30.0], ["b"]), m.predict([30.0]))
    with pytest.raises(ValueError, match="more than 3 trees"):
        agf.carbon.fit_height_model(trees.head(3), method="weibull")


def test_feldpausch_coefficients():
    m = agf.carbon.published_height_model("feldpausch2012", region="SAmerica")
    d = np.array([10.0, 50.0])
    np.testing.assert_allclose(m.predict(d), 42.574 * (1 - np.exp(-0.0482 * d**0.8307)))
    assert m.params.loc["all", "rse"] == 5.619
    with pytest.raises(ValueError, match="region must be one of"):
        agf.carbon.published_height_model("feldpausch2012", region="Mars")
    c = agf.carbon.published_height_model("chave2014", e=0.1)
    ln_d = np.log(d)
    median = np.exp(0.893 - 0.1 + 0.760 * ln_d - 0.0340 * ln_d**2)
    np.testing.assert_allclose(c.predict(d), median * np.exp(0.243**2 / 2))


# ----------------------------------------------------------------------------- per plot


def square(x, y, side=100.0):
    return shapely.box(X0 + x, Y0 + y, X0 + x + side, Y0 + y + side)


@pytest.fixture
def plots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"plot_id": ["A", "B", "C"], "system": ["cocoa", "cocoa", "reforestation"]},
        geometry=[square(0, 0), square(200, 0), square(400, 0)],
        crs=UTM,
        index=[10, 11, 12],
    )


@pytest.fixture
def trees() -> gpd.GeoDataFrame:
    d = [10.0, 25.0, 40.0, 15.0, 60.0, 30.0]
    h = [8.0, 16.0, 22.0, 11.0, 28.0, 20.0]
    rho = [0.5, 0.6, 0.7, 0.45, 0.65, 0.6]
    xy = [(10, 10), (50, 50), (100, 100), (250, 50), (290, 90), (900, 900)]  # last: outside
    return gpd.GeoDataFrame(
        {"diameter_cm": d, "height_m": h, "wd": rho, "taxon": ["x"] * 6},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy],
        crs=UTM,
        index=[f"t{i}" for i in range(6)],
    )


def _biomass(plots, trees, **kw):
    kw = {"wood_density_column": "wd", **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return agf.carbon.plot_biomass(plots, trees, **kw)


def test_plot_biomass_hand_values(plots, trees):
    with pytest.warns(agf.GeometryWarning, match="1 tree"):
        b = agf.carbon.plot_biomass(plots, trees, wood_density_column="wd", n_draws=0)
    agb = eq4(trees["diameter_cm"], trees["height_m"], trees["wd"]).to_numpy() / 1000
    a_ha = agf.area_ha(plots).to_numpy()
    assert b.index.equals(plots.index)
    assert b["tree_count"].tolist() == [3, 2, 0]
    assert b.loc[10, "agb_mg"] == pytest.approx(agb[:3].sum(), rel=1e-12)
    assert b.loc[11, "agb_mg"] == pytest.approx(agb[3:5].sum(), rel=1e-12)
    assert b.loc[12].drop(["tree_count", "trees_without_diameter", "area_ha"]).isna().all()
    assert b.loc[10, "agb_mg_ha"] == pytest.approx(agb[:3].sum() / a_ha[0])
    assert b.loc[10, "carbon_mg"] == pytest.approx(0.47 * agb[:3].sum())
    assert b.loc[10, "co2e_t_ha"] == pytest.approx(0.47 * 44 / 12 * agb[:3].sum() / a_ha[0])
    assert b.attrs["unassigned_trees"] == ["t5"] and b.attrs["unassigned_tree_count"] == 1
    assert b["agb_mg_sd"].isna().all()  # no draws, no intervals


def test_root_shoot_and_carbon_fraction(plots, trees):
    b = _biomass(plots, trees, n_draws=0, carbon_fraction=0.5, root_shoot=0.24)
    assert b.loc[10, "carbon_mg"] == pytest.approx(b.loc[10, "agb_mg"] * 0.5 * 1.24)
    with pytest.raises(ValueError, match="carbon_fraction"):
        _biomass(plots, trees, carbon_fraction=47)


def test_seeded_runs_are_reproducible(plots, trees):
    a = _biomass(plots, trees, n_draws=300, seed=42)
    b = _biomass(plots, trees, n_draws=300, seed=42)
    c = _biomass(plots, trees, n_draws=300, seed=43)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[10, "agb_mg_sd"] != c.loc[10, "agb_mg_sd"]


def test_no_error_sources_collapse_the_interval(plots, trees):
    exact = Allometry(
        "exact", lambda d, h, r, e: eq4(d, h, r), True, True, (0.0, np.inf), None, "test", "test"
    )
    b = _biomass(plots, trees, allometry=exact, diameter_error=0.0, n_draws=50, seed=0)
    for q in ("agb_mg", "co2e_t_ha"):
        np.testing.assert_allclose(b.loc[[10, 11], f"{q}_p2_5"], b.loc[[10, 11], q], rtol=1e-12)
        np.testing.assert_allclose(b.loc[[10, 11], f"{q}_p97_5"], b.loc[[10, 11], q], rtol=1e-12)


def test_allometric_error_matches_lognormal_closed_form(plots, trees):
    # only the model's residual (σ = 0.357): each tree is its value × exp(ε - σ²/2), whose
    # mean is the value and variance value² (exp(σ²) - 1); the plot sum adds the variances
    b = _biomass(plots, trees, diameter_error=0.0, n_draws=20_000, seed=5)
    agb = eq4(trees["diameter_cm"], trees["height_m"], trees["wd"]).to_numpy()[:3] / 1000
    sd = np.sqrt((agb**2).sum() * (np.exp(0.357**2) - 1))
    assert b.loc[10, "agb_mg_sd"] == pytest.approx(sd, rel=0.03)


def test_blocked_draws_agree(monkeypatch, plots, trees):
    from agroforest_geo.carbon import _montecarlo

    ref = _biomass(plots, trees, n_draws=4000, seed=1)
    monkeypatch.setattr(_montecarlo, "_MAX_CELLS", 500)  # 1 tree per chunk at 500 draws
    small = _biomass(plots, trees, n_draws=500, seed=1)
    assert small.loc[10, "agb_mg_sd"] == pytest.approx(ref.loc[10, "agb_mg_sd"], rel=0.15)
    pd.testing.assert_series_equal(small["agb_mg"], ref["agb_mg"])


def test_heights_missing(plots, trees):
    none = trees.assign(height_m=np.nan)
    with pytest.raises(ValueError, match=r"no tree has a height.*no height model"):
        _biomass(plots, none)
    some = trees.assign(height_m=[8.0, np.nan, 22.0, 11.0, 28.0, 20.0])
    with pytest.raises(ValueError, match=r"1 of 6 trees.*height_model"):
        _biomass(plots, some)
    model = agf.carbon.published_height_model("feldpausch2012", region="WAmazonia")
    tb = agf.carbon.tree_biomass(some, wood_density_column="wd", height_model=model)
    assert tb["height_source"].tolist() == ["measured", "model", *["measured"] * 4]
    assert tb["height_m"].iloc[1] == pytest.approx(float(model.predict([25.0])[0]))
    b = _biomass(plots, some, height_model=model, n_draws=200, seed=0)
    assert b.loc[10, "agb_mg_p2_5"] < b.loc[10, "agb_mg"] < b.loc[10, "agb_mg_p97_5"]


def test_without_heights_eq7_with_e(plots, trees):
    b = _biomass(plots, trees, height_column=None, e=0.2, n_draws=0)
    d, rho = trees["diameter_cm"].to_numpy()[:3], trees["wd"].to_numpy()[:3]
    ln_d = np.log(d)
    ref = np.exp(-1.803 - 0.976 * 0.2 + 0.976 * np.log(rho) + 2.673 * ln_d - 0.0299 * ln_d**2)
    assert b.loc[10, "agb_mg"] == pytest.approx(ref.sum() / 1000)
    assert b.attrs["allometry"] == "chave2014_eq7"


def test_trees_without_diameter_are_counted_not_zero(plots, trees):
    t = trees.assign(diameter_cm=[np.nan, 25.0, 40.0, np.nan, np.nan, 30.0])
    b = _biomass(plots, t, n_draws=0)
    assert b["tree_count"].tolist() == [2, 0, 0]
    assert b["trees_without_diameter"].tolist() == [1, 2, 0]
    assert np.isnan(b.loc[11, "agb_mg"])


def test_crs_mismatch(plots, trees):
    with pytest.raises(agf.CRSMismatchError):
        _biomass(plots, trees.to_crs(4326))


def test_rollup_adds_totals_and_divides_densities(plots, trees):
    b = _biomass(plots, trees, n_draws=0)
    r = _biomass_rollup(plots, trees, n_draws=2000, seed=3)
    assert r.loc["cocoa", "agb_mg"] == pytest.approx(b.loc[[10, 11], "agb_mg"].sum())
    area = b.loc[[10, 11], "area_ha"].sum()
    assert r.loc["cocoa", "agb_mg_ha"] == pytest.approx(b.loc[[10, 11], "agb_mg"].sum() / area)
    assert r.loc["reforestation", "plots_without_trees"] == 1
    assert np.isnan(r.loc["reforestation", "agb_mg"])
    # the interval of a sum is narrower than the sum of the plots' intervals
    p = _biomass(plots, trees, n_draws=2000, seed=3)
    width = r.loc["cocoa", "agb_mg_p97_5"] - r.loc["cocoa", "agb_mg_p2_5"]
    summed = (p.loc[[10, 11], "agb_mg_p97_5"] - p.loc[[10, 11], "agb_mg_p2_5"]).sum()
    assert width < 0.95 * summed
    sd = np.sqrt((p.loc[[10, 11], "agb_mg_sd"] ** 2).sum())
    assert r.loc["cocoa", "agb_mg_sd"] == pytest.approx(sd, rel=0.1)
    total = _biomass_rollup(plots, trees, by=(), n_draws=0)
    assert total.index.tolist() == ["total"]
    assert total.loc["total", "tree_count"] == 5


def _biomass_rollup(plots, trees, **kw):
    kw = {"wood_density_column": "wd", **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return agf.carbon.carbon_rollup(plots, trees, **kw)


def test_sample_data_end_to_end():
    plots = agf.read_plots(agf.datasets.get_path("plots"))
    trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    table = agf.datasets.get_path("wood_density")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = agf.carbon.plot_biomass(plots, trees, wood_density_table=table, n_draws=300, seed=2)
    assert b.index.equals(plots.index)
    inventoried = set(trees.plot_id)
    has = plots.loc[b["agb_mg"].notna(), "plot_id"]
    assert set(has) == inventoried
    cocoa = b.loc[plots["system"] == "cocoa_agroforestry", "agb_mg_ha"].dropna()
    assert cocoa.between(10, 150).all()  # shade trees of cocoa agroforestry, Mg/ha
    assert len(b.attrs["unassigned_trees"]) == 4


# ----------------------------------------------------------------------------- planting records


def test_planting_estimate_by_hand():
    plots = gpd.GeoDataFrame(
        {
            "trees_planted": [10, 100, 50, 0],
            "planting_year": [2020, 2020, 2010, 2020],
            "species": ["Inga edulis", "Inga edulis;Cedrela odorata", "Inga edulis", "x"],
        },
        geometry=[square(0, 0), square(200, 0), square(400, 0), square(600, 0)],
        crs=UTM,
    )
    # plot 0 is inventoried: 8 Inga of age 4 (two below breast height)
    kg = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, np.nan, np.nan]
    trees = gpd.GeoDataFrame(
        {"species": ["Inga edulis"] * 8},
        geometry=[shapely.Point(X0 + 10 + 5 * i, Y0 + 10) for i in range(8)],
        crs=UTM,
    )
    agb = pd.Series(kg, index=trees.index)
    est = agf.carbon.planting_estimate(plots, trees, tree_agb_kg=agb, survey_year=2024)
    per_tree = (10 + 20 + 30 + 40 + 50 + 60) / 8  # saplings count with 0
    assert est["survival_rate"].iloc[0] == pytest.approx(8 / 10)
    assert est["per_tree_agb_kg"].iloc[1] == pytest.approx(per_tree)
    assert est["basis"].tolist() == ["species_age_class", "species_age_class", "none", "none"]
    assert est["agb_mg"].iloc[1] == pytest.approx(100 * 0.8 * per_tree / 1000)
    assert np.isnan(est["agb_mg"].iloc[2])  # age 14: no measured tree of that age class
    assert np.isnan(est["agb_mg"].iloc[3])  # nothing planted
    assert any("survival rate 0.8" in a for a in est.attrs["assumptions"])
    given = agf.carbon.planting_estimate(
        plots, trees, tree_agb_kg=agb, survey_year=2024, survival_rate=0.5
    )
    assert given["agb_mg"].iloc[1] == pytest.approx(100 * 0.5 * per_tree / 1000)


# ----------------------------------------------------------------------------- biomass maps


def _constant_raster(tmp_path, value, *, nodata=-1.0, res=7.0, dtype="float32", fill=None):
    import rasterio
    from rasterio.transform import from_origin

    a = np.full((120, 120), value, dtype=dtype)
    if fill is not None:
        a[:, 60:] = fill
    path = tmp_path / "agb.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=120, height=120, count=1, dtype=dtype, crs=UTM,
        transform=from_origin(X0 - 13.0, Y0 + 700.0, res, res), nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(a, 1)
    return str(path)


def test_constant_map_integrates_to_value_times_area(tmp_path):
    path = _constant_raster(tmp_path, 100.0)
    polys = gpd.GeoDataFrame(
        geometry=[
            square(3.3, 2.1, 100.0),
            shapely.Polygon([(X0 + 10, Y0 + 200), (X0 + 300, Y0 + 230), (X0 + 120, Y0 + 520)]),
            square(401.7, 17.3, 211.9).difference(square(450, 60, 40)),  # with a hole
        ],
        crs=UTM,
    )
    out = agf.carbon.biomass_from_map(polys, path)
    np.testing.assert_allclose(out["agb_mg"], 100 * agf.area_ha(polys), rtol=1e-6)
    np.testing.assert_allclose(out["agb_mg_ha"], 100.0, rtol=1e-6)
    np.testing.assert_allclose(out["covered_share"], 1.0)
    assert out["co2e_t"].iloc[0] == pytest.approx(out["agb_mg"].iloc[0] * 0.47 * 44 / 12)


def test_map_nodata_and_product_encoding(tmp_path):
    path = _constant_raster(tmp_path, 50, nodata=255, dtype="uint8", fill=255)
    left_edge = X0 - 13.0 + 60 * 7.0  # columns 60+ are nodata
    half = gpd.GeoDataFrame(
        geometry=[shapely.box(left_edge - 50, Y0, left_edge + 50, Y0 + 100), square(-500, -500)],
        crs=UTM,
    )

    class Product:
        kind, scale, offset = "biomass_mg_ha", 2.0, 1.0

    with pytest.warns(agf.NoDataWarning, match=r"1 polygon.*outside.*1 are only partly"):
        out = agf.carbon.biomass_from_map(half, path, product=Product())
    assert out["covered_share"].iloc[0] == pytest.approx(0.5, rel=1e-6)
    # 50 stored → 101 Mg/ha over the covered 0.5 ha
    assert out["agb_mg"].iloc[0] == pytest.approx(101 * 0.5 * agf.area_ha(half).iloc[0], rel=1e-6)
    assert np.isnan(out["agb_mg"].iloc[1])

    class OtherNodata:
        kind, scale, offset, nodata = "biomass_mg_ha", None, None, 0

    with pytest.raises(agf.RasterError, match="rio edit-info --nodata 0"):
        agf.carbon.biomass_from_map(half, path, product=OtherNodata())

    class Cover:
        kind = "tree_cover_pct"

    with pytest.raises(agf.RasterError, match="biomass_mg_ha"):
        agf.carbon.biomass_from_map(half, path, product=Cover())


# ----------------------------------------------------------------------------- command line


def test_cli_carbon(tmp_path, capsys):
    from agroforest_geo.cli import main

    plots, trees = agf.datasets.get_path("plots"), agf.datasets.get_path("tree_inventory")
    table = agf.datasets.get_path("wood_density")
    out = tmp_path / "carbon.csv"
    args = ["carbon", plots, "--inventory", trees, "--wood-density", table, "--draws", "100"]
    assert main([*args, "--seed", "1", "-o", str(out)]) == 0
    got = pd.read_csv(out)
    assert len(got) == 120 and got["plot_id"].iloc[0] == "AF0001"
    assert got["agb_mg"].notna().sum() == 5 and {"co2e_t_p97_5", "agb_mg_ha"} <= set(got.columns)
    by = tmp_path / "by.csv"
    assert main([*args, "--by", "system", "-o", str(by)]) == 0
    rolled = pd.read_csv(by).set_index("system")
    assert rolled["agb_mg"].sum() == pytest.approx(got["agb_mg"].sum())
    assert main(["carbon", plots, "--inventory", trees]) == 2
    assert "none is bundled" in capsys.readouterr().err
    assert main(["carbon", plots]) == 2


def test_group_height_model_and_e_raster(tmp_path, plots, trees):
    import rasterio
    from rasterio.transform import from_origin

    t = trees.assign(system=["a"] * 3 + ["b"] * 3)
    fit = pd.DataFrame(
        {
            "diameter_cm": np.r_[np.linspace(5, 80, 20), np.linspace(5, 80, 20)],
            "height_m": np.r_[
                30 * (1 - np.exp(-0.06 * np.linspace(5, 80, 20) ** 0.8)),
                20 * (1 - np.exp(-0.06 * np.linspace(5, 80, 20) ** 0.8)),
            ],
            "system": ["a"] * 20 + ["b"] * 20,
        }
    )
    hm = agf.carbon.fit_height_model(fit, method="weibull", by="system")
    no_h = t.assign(height_m=np.nan)
    tb = agf.carbon.tree_biomass(no_h, wood_density_column="wd", height_model=hm)
    np.testing.assert_allclose(tb["height_m"].iloc[:3], hm.predict(t.diameter_cm[:3], ["a"] * 3))
    np.testing.assert_allclose(tb["height_m"].iloc[3:], hm.predict(t.diameter_cm[3:], ["b"] * 3))
    b = _biomass(plots, no_h, height_model=hm, n_draws=100, seed=0)
    assert b.loc[10, "agb_mg_p2_5"] < b.loc[10, "agb_mg"] < b.loc[10, "agb_mg_p97_5"]
    # E from a raster sampled at the trees (0.25 everywhere)
    path = tmp_path / "e.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=20, height=20, count=1, dtype="float32", crs=UTM,
        transform=from_origin(X0 - 100, Y0 + 1000, 60, 60), nodata=-9999,
    ) as dst:  # fmt: skip
        dst.write(np.full((1, 20, 20), 0.25, "float32"))
    with_raster = _biomass(plots, trees, height_column=None, e=str(path), n_draws=0)
    with_value = _biomass(plots, trees, height_column=None, e=0.25, n_draws=0)
    np.testing.assert_allclose(with_raster["agb_mg"], with_value["agb_mg"], rtol=1e-6)


def test_rollup_by_province_from_parcels():
    plots = agf.read_plots(agf.datasets.get_path("plots"))
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    table = agf.datasets.get_path("wood_density")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = agf.carbon.carbon_rollup(
            plots, trees, by="province", parcels=parcels, wood_density_table=table, n_draws=0
        )
        b = agf.carbon.plot_biomass(plots, trees, wood_density_table=table, n_draws=0)
    assert r["plot_count"].sum() == len(plots)
    assert r["agb_mg"].sum() == pytest.approx(b["agb_mg"].sum())
    with pytest.raises(agf.MissingColumnError, match="province"):
        agf.carbon.carbon_rollup(plots, trees, by="province", wood_density_table=table)


def test_map_product_by_name_from_the_catalogue(tmp_path):
    path = _constant_raster(tmp_path, 100.0)
    polys = gpd.GeoDataFrame(geometry=[square(0, 0)], crs=UTM)
    out = agf.carbon.biomass_from_map(polys, path, product="esa_cci_biomass_2020")
    assert out["agb_mg"].iloc[0] == pytest.approx(100 * out["area_ha"].iloc[0], rel=1e-6)
    with pytest.raises((ValueError, agf.AgroforestGeoError), match="biomass"):
        agf.carbon.biomass_from_map(polys, path, product="hansen_treecover2000")


@pytest.mark.parametrize("mean, sd, lo, hi", [(1.0, 1.0, 1.3, np.inf), (5.0, 2.0, 0.0, 6.0)])
def test_truncated_normal_draws(mean, sd, lo, hi):
    from scipy.stats import truncnorm

    from agroforest_geo.carbon._montecarlo import _truncnorm

    rng = np.random.default_rng(0)
    x = _truncnorm(rng, np.full(200_000, mean), np.full(200_000, sd), lo, hi)
    ref = truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)
    assert x.min() >= lo and x.max() <= hi
    assert x.mean() == pytest.approx(ref.mean(), abs=0.01)
    assert x.std() == pytest.approx(ref.std(), rel=0.01)

"""Cross-checks against BIOMASS's data and documented methods (``../shared``; skipped without).

The wood-density records (the Global Wood Density Database as BIOMASS ships it),
its ``sd_10`` level standard deviations, the Nouragues example inventory, the
Feldpausch et al. (2012) height models and the posterior draws of Chave et al.
(2014) Eq. 4 are read from the converted BIOMASS data; the expected values are
derived here from the published methods, by code independent of the library's.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def biomass_dir(shared_data):
    path = shared_data / "peer-fixtures" / "biomass"
    if not path.is_dir():
        pytest.skip("peer-fixtures/biomass is not present")
    return path


@pytest.fixture(scope="module")
def records(biomass_dir):
    return agf.carbon.read_wood_density_table(biomass_dir / "wdData.csv")


def _quiet(f, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **kw)


def test_level_sds_follow_sd_10(biomass_dir, records):
    """sd_10: mean sd of the taxa with >= 10 records (Réjou-Méchain et al. 2017)."""
    sd10 = pd.read_csv(biomass_dir / "sd_10.csv").set_index("taxo")["sd"]
    wd = _quiet(
        agf.carbon.wood_density,
        ["Dicorynia guianensis", "Dicorynia sp.", "Zzz yyy"],
        table=records,
        region=None,
        families=[None, None, "Fabaceae"],
    )
    assert wd["wood_density_level"].tolist() == ["species", "genus", "family"]
    assert wd["wood_density_sd"].iloc[0] == pytest.approx(sd10["species"], rel=1e-9)
    # BIOMASS computed its genus and family values before its 2021 taxonomy update of the
    # records: they agree to 0.7 %
    assert wd["wood_density_sd"].iloc[1] == pytest.approx(sd10["genus"], rel=0.01)
    assert wd["wood_density_sd"].iloc[2] == pytest.approx(sd10["family"], rel=0.01)


def test_named_taxa_are_their_records_means(biomass_dir, records):
    raw = pd.read_csv(biomass_dir / "wdData.csv")
    taxo = pd.read_csv(biomass_dir / "NouraguesTrees_correctTaxo.csv")
    named = taxo.dropna(subset=["speciesAccepted"]).drop_duplicates("nameAccepted").head(60)
    taxa = (named.genusAccepted + " " + named.speciesAccepted).tolist()
    for region, sub in (("South America (tropical)", "South_America_(tropical)"), (None, None)):
        wd = _quiet(agf.carbon.wood_density, taxa, table=records, region=region)
        rows = raw if sub is None else raw[raw.region == sub]
        means = rows.groupby(["genus", "species"])["wd"].mean()
        for (g, s), (_, got) in zip(
            zip(named.genusAccepted, named.speciesAccepted, strict=True), wd.iterrows(), strict=True
        ):
            if (g, s) in means.index:
                assert got["wood_density_level"] == "species"
                assert got["wood_density_g_cm3"] == pytest.approx(means[(g, s)], rel=1e-12)
            else:
                assert got["wood_density_level"] != "species"
    # e.g. Tapirira guianensis, South America (tropical)
    ref = raw[(raw.genus == "Tapirira") & (raw.species == "guianensis")]
    ref = ref[ref.region == "South_America_(tropical)"]["wd"].mean()
    got = _quiet(agf.carbon.wood_density, ["Tapirira guianensis"], table=records)
    assert got["wood_density_g_cm3"].iloc[0] == pytest.approx(ref)


@pytest.fixture(scope="module")
def plot201(biomass_dir, records):
    """Plot 201 in UTM 22N from its corners; its trees placed by the field-grid → UTM fit."""
    trees = pd.read_csv(biomass_dir / "NouraguesTrees.csv")
    taxo = pd.read_csv(biomass_dir / "NouraguesTrees_correctTaxo.csv")
    coords = pd.read_csv(biomass_dir / "NouraguesCoords.csv")
    c = coords[coords.Plot == 201]
    grid = np.column_stack([c.Xfield, c.Yfield, np.ones(4)])
    affine, *_ = np.linalg.lstsq(grid, c[["Xutm", "Yutm"]].to_numpy(), rcond=None)
    corner = {(x, y): (u, v) for x, y, u, v in c[["Xfield", "Yfield", "Xutm", "Yutm"]].to_numpy()}
    ring = [corner[k] for k in ((0, 0), (0, 100), (100, 100), (100, 0))]
    plot = gpd.GeoDataFrame({"plot": [201]}, geometry=[shapely.Polygon(ring)], crs=32622)
    t = trees.join(taxo)
    t = t[t.Plot == 201].copy()
    xy = np.column_stack([t.Xfield, t.Yfield, np.ones(len(t))]) @ affine
    inside = t.Xfield.between(0, 100) & t.Yfield.between(0, 100)
    t["taxon"] = t.genusAccepted.fillna("Indet.") + " " + t.speciesAccepted.fillna("sp.")
    t = gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32622)
    wd = _quiet(
        agf.carbon.wood_density,
        t["taxon"],
        table=records,
        region=None,
        families=t["familyAccepted"],
        stand=np.where(inside, 201, -1),  # the stand of a tree outside the plot is its own
    )
    return plot, t.join(wd)


FELD_GUIANA = (42.845, 0.0433, 0.9372, 5.285)  # Feldpausch et al. 2012 Table 3


def _feld(d):
    a, b, c, _ = FELD_GUIANA
    return a * (1 - np.exp(-b * d**c))


def test_plot_201_agb(plot201, records):
    plot, t = plot201
    hm = agf.carbon.published_height_model("feldpausch2012", region="GuianaShield")
    b = _quiet(
        agf.carbon.plot_biomass, plot, t, diameter_column="D", height_column=None,
        taxon_column="taxon", wood_density_table=records, region=None, height_model=hm,
        family_column="familyAccepted", n_draws=0,
    )  # fmt: skip
    # by hand: trees inside the 100 m square of the field grid, Feldpausch heights, Eq. 4
    inside = t.Xfield.between(0, 100) & t.Yfield.between(0, 100)
    d, rho = t.D[inside].to_numpy(), t.wood_density_g_cm3[inside].to_numpy()
    expected = (0.0673 * (rho * d**2 * _feld(d)) ** 0.976).sum() / 1000
    assert b["tree_count"].iloc[0] == inside.sum() == 537  # 3 recorded outside the square
    assert b["agb_mg"].iloc[0] == pytest.approx(expected, rel=1e-6)
    # old-growth Guiana Shield forest: 300-600 Mg/ha
    assert 300 < b["agb_mg_ha"].iloc[0] < 600


def test_monte_carlo_interval_against_biomass_procedure(biomass_dir, plot201, records):
    """Reference: AGBmonteCarlo's documented steps, with Eq. 4's posterior draws (param_4).

    Per draw: diameters with Chave et al. 2004's error, heights from the Feldpausch model of
    the drawn diameters plus N(0, RSE), wood densities N(ρ, sd), and AGB =
    exp(intercept + slope ln(ρ D² H) + N(0, σ)) with (intercept, slope, σ) one posterior draw.
    The library draws no coefficient uncertainty (published point coefficients, σ = 0.357):
    its 95 % bounds agree with the reference within 3 % of the plot's AGB.
    """
    plot, t = plot201
    inside = t.Xfield.between(0, 100) & t.Yfield.between(0, 100)
    d0 = t.D[inside].to_numpy()
    rho0 = t.wood_density_g_cm3[inside].to_numpy()
    rsd = t.wood_density_sd[inside].to_numpy()
    param = pd.read_csv(biomass_dir / "param_4.csv")
    rng = np.random.default_rng(11)
    n = 1000
    totals = np.empty(n)
    for j in range(n):  # the reference is written draw by draw, on purpose
        gross = rng.random(d0.size) < 0.05
        sd_d = np.where(gross, 4.64, 0.0062 * d0 + 0.0904)
        d = np.abs(d0 + sd_d * rng.standard_normal(d0.size))
        h = np.maximum(_feld(d) + FELD_GUIANA[3] * rng.standard_normal(d0.size), 1.3)
        rho = np.clip(rho0 + rsd * rng.standard_normal(d0.size), 0.08, 1.39)
        p = param.iloc[j % len(param)]
        ln = p.intercept + p.logagbt * np.log(rho * d**2 * h)
        totals[j] = np.exp(ln + p.sd * rng.standard_normal(d0.size)).sum() / 1000
    ref_lo, ref_hi = np.percentile(totals, [2.5, 97.5])
    hm = agf.carbon.published_height_model("feldpausch2012", region="GuianaShield")
    b = _quiet(
        agf.carbon.plot_biomass, plot, t, diameter_column="D", height_column=None,
        taxon_column="taxon", wood_density_table=records, region=None, height_model=hm,
        family_column="familyAccepted", n_draws=1000, seed=7,
    ).iloc[0]  # fmt: skip
    tol = 0.03 * b["agb_mg"]
    assert abs(b["agb_mg_p2_5"] - ref_lo) < tol
    assert abs(b["agb_mg_p97_5"] - ref_hi) < tol
    assert abs(b["agb_mg"] - np.mean(totals)) < tol


def test_eq7_residual_sd_is_biomass_posterior_mean(biomass_dir):
    param7 = pd.read_csv(biomass_dir / "param_7.csv")
    assert agf.carbon.ALLOMETRIES["chave2014_eq7"].residual_sd == pytest.approx(
        param7["sd"].mean(), abs=5e-4
    )
    param4 = pd.read_csv(biomass_dir / "param_4.csv")
    assert agf.carbon.ALLOMETRIES["chave2014_eq4"].residual_sd == pytest.approx(
        param4["sd"].mean(), abs=5e-4
    )
    # Chave's 0.0673 is exp(mean intercept + σ²/2): the log-bias correction is in it
    corrected = np.exp(param4["intercept"].mean() + param4["sd"].mean() ** 2 / 2)
    assert corrected == pytest.approx(0.0673, rel=0.002)


def test_feldpausch_table_matches_biomass_copy(biomass_dir):
    feld = pd.read_csv(biomass_dir / "feldCoef.csv").set_index("region")
    for region, (a, b, c, rse) in agf.carbon.FELDPAUSCH2012.items():
        assert tuple(feld.loc[region, ["a", "b", "c", "RSE"]]) == (a, b, c, rse)


def test_height_models_on_nouragues_hd(biomass_dir):
    hd = pd.read_csv(biomass_dir / "NouraguesHD.csv")
    both = hd.dropna(subset=["H"])
    for method in ("loglog", "michaelis", "weibull"):
        m = agf.carbon.fit_height_model(hd, diameter_column="D", height_column="H", method=method)
        assert m.params.loc["all", "n"] == len(both) == 888
        resid = both.H - m.predict(both.D.to_numpy())
        if method != "loglog":  # least squares on H: residual sd equals the RSE
            assert m.params.loc["all", "rse"] == pytest.approx(resid.std(ddof=0), rel=0.01)
        assert abs(resid.mean()) < 0.6  # no bias (m)
    by_plot = agf.carbon.fit_height_model(
        hd, diameter_column="D", height_column="H", method="weibull", by="plotId"
    )
    assert sorted(by_plot.params.index) == ["Plot1", "Plot2", "all"]

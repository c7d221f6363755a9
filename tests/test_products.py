"""Raster products as data, and the checks that stop the six silent wrong answers.

The six wrong answers (issue 11, "Why"), one test each:
1. a 0/1 forest mask passed as percent cover silently removed all loss;
2. cover and loss rasters swapped were accepted (loss years 2072-2099);
3. a multi-band raster was read as band 1 without a word;
4. a band's scale/offset was ignored;
5. loss codes 40/200/255 without a nodata tag became years 2040/2200/2255, cover 249 % percent;
6. ``cutoff=pd.NaT`` was accepted and loss vanished.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

import agroforest_geo as agf
from agroforest_geo import products
from agroforest_geo.area import geodesic_area_m2
from agroforest_geo.errors import NoDataWarning, RasterError
from agroforest_geo.products import Product

X0, Y0, RES = 500_000.0, 9_200_120.0, 30.0


def write_tif(path: Path, bands, *, nodata=None, scale=None, offset=None, descriptions=None):
    """A GeoTIFF in EPSG:32718 with 30 m pixels from X0, Y0 (one array per band)."""
    arrs = [np.asarray(b) for b in (bands if isinstance(bands, list) else [bands])]
    with rasterio.open(
        path, "w", driver="GTiff", width=arrs[0].shape[1], height=arrs[0].shape[0],
        count=len(arrs), dtype=arrs[0].dtype, crs="EPSG:32718",
        transform=from_origin(X0, Y0, RES, RES), nodata=nodata,
    ) as dst:  # fmt: skip
        for i, a in enumerate(arrs, 1):
            dst.write(a, i)
            if descriptions:
                dst.set_band_description(i, descriptions[i - 1])
        if scale is not None:
            dst.scales = (scale,) * len(arrs)
        if offset is not None:
            dst.offsets = (offset,) * len(arrs)
    return str(path)


def block(r0, c0, r1, c1) -> shapely.Polygon:
    return shapely.box(X0 + RES * c0, Y0 - RES * r1, X0 + RES * c1, Y0 - RES * r0)


CELL_HA = geodesic_area_m2([block(0, 0, 1, 1)], 32718)[0] / 1e4


def whole(shape) -> gpd.GeoSeries:
    return gpd.GeoSeries([block(0, 0, *shape)], crs=32718)


@pytest.fixture(scope="module")
def sample():
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    return parcels, agf.datasets.get_path("treecover"), agf.datasets.get_path("lossyear")


def sample_like(tmp_path: Path, name: str, arr: np.ndarray, **profile) -> str:
    """A raster on the sample grid (same CRS, transform, dtype unless given)."""
    with rasterio.open(agf.datasets.get_path("treecover")) as src:
        prof = src.profile | {"dtype": arr.dtype.name} | profile
    out = tmp_path / name
    with rasterio.open(out, "w", **prof) as dst:
        dst.write(arr, 1)
    return str(out)


@pytest.fixture(scope="module")
def sample_mask(tmp_path_factory, sample):
    """A JRC-style 0/1 forest mask: the sample tree cover thresholded at 10 % (255 kept nodata)."""
    _, cover, _ = sample
    with rasterio.open(cover) as src:
        a = src.read(1)
    mask = np.where(a == 255, 255, (a >= 10).astype("uint8")).astype("uint8")
    return sample_like(tmp_path_factory.mktemp("mask"), "gfc2020_like.tif", mask)


# ---------------------------------------------------------------------------
# 1. a 0/1 forest mask
# ---------------------------------------------------------------------------


def test_mask_with_product_equals_thresholded_cover(sample, sample_mask):
    """Done-when: the mask with product= gives the forest and loss of cover >= 10 %, exactly."""
    parcels, cover, loss = sample
    by_pct = agf.forest_cover(parcels, cover, threshold=10)
    by_mask = agf.forest_cover(parcels, sample_mask, product="jrc_gfc2020_v3")
    assert "mean_cover_pct" not in by_mask.columns
    np.testing.assert_array_equal(by_mask["forest_ha"], by_pct["forest_ha"])
    assert by_pct["forest_ha"].sum() > 1000  # the sample is mostly forest: not a vacuous check
    loss_pct = agf.forest_loss(parcels, loss, cover=cover, threshold=10)
    loss_mask = agf.forest_loss(parcels, loss, cover=sample_mask, cover_product="jrc_gfc2020")
    np.testing.assert_array_equal(
        loss_mask["loss_after_cutoff_ha"], loss_pct["loss_after_cutoff_ha"]
    )
    assert (loss_pct["loss_after_cutoff_ha"] > 0).sum() >= 14
    both = agf.forest_cover_and_loss(parcels, sample_mask, loss, cover_product="jrc_gfc2020_v2")
    np.testing.assert_array_equal(both["forest_ha"], by_pct["forest_ha"])
    np.testing.assert_array_equal(both["loss_ha"], loss_pct["loss_ha"])
    # forest_values=[1] without a product is the same categorical path
    fv = agf.forest_cover(parcels, sample_mask, forest_values=[1])
    np.testing.assert_array_equal(fv["forest_ha"], by_pct["forest_ha"])


def test_mask_without_product_raises(sample, sample_mask):
    """Before: the mask's 1 is below 10 % and all loss vanished (14 parcels -> 0)."""
    parcels, _, loss = sample
    with pytest.raises(RasterError, match=r"values 0-1 look like a 0/1 forest mask.*jrc_gfc2020"):
        agf.forest_cover(parcels, sample_mask)
    with pytest.raises(RasterError, match="forest_values=\\[1\\]"):
        agf.forest_loss(parcels, loss, cover=sample_mask)
    with pytest.raises(RasterError, match="forest mask"):
        agf.eudr.assess(parcels, cover=sample_mask, loss=loss)


# ---------------------------------------------------------------------------
# 2. cover and loss swapped
# ---------------------------------------------------------------------------


def test_swapped_cover_and_loss_raise(sample):
    parcels, cover, loss = sample
    with pytest.raises(RasterError, match="did you swap cover and loss"):
        agf.forest_cover_and_loss(parcels, loss, cover)
    with pytest.raises(RasterError, match=r"values 0-23 .* look like a loss-year raster"):
        agf.forest_cover(parcels, loss)
    with pytest.raises(RasterError, match="would be 2027, 2028"):
        agf.forest_loss(parcels, cover)
    with pytest.raises(RasterError, match="swap"):
        agf.eudr.assess(parcels, cover=loss, loss=cover)
    # a product says it is percent cover: the loss-year look-alike check stands down
    low = agf.forest_cover(parcels, loss, product="hansen_treecover2000")
    assert len(low) == len(parcels)


def test_loss_product_version_bounds(tmp_path):
    arr = np.array([[0, 23, 24, 25]], dtype="uint8")
    path = write_tif(tmp_path / "loss.tif", arr, nodata=255)
    g = whole(arr.shape)
    v13 = agf.forest_loss(g, path, product="hansen_lossyear_v1_13").iloc[0]
    assert v13["last_loss_year"] == 2025 and v13["loss_ha"] == pytest.approx(3 * CELL_HA)
    with pytest.raises(
        RasterError, match=r"24, 25 are not a loss year of product 'hansen_lossyear_v1_11'"
    ):
        agf.forest_loss(g, path, product="hansen_lossyear_v1_11")
    # TMF writes the year itself: base_year 0
    tmf = write_tif(tmp_path / "tmf.tif", np.array([[0, 2019, 2021, 2022]], dtype="uint16"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDataWarning)
        t = agf.forest_loss(g, tmf, product="jrc_tmf_deforestation_year").iloc[0]
    assert (t["first_loss_year"], t["last_loss_year"]) == (2019, 2022)
    assert t["loss_after_cutoff_ha"] == pytest.approx(2 * CELL_HA)
    with pytest.raises(ValueError, match="contradicts"):
        agf.forest_loss(g, tmf, product="jrc_tmf_deforestation_year", base_year=2000)


# ---------------------------------------------------------------------------
# 3. multi-band rasters
# ---------------------------------------------------------------------------


def test_multiband_needs_a_band(tmp_path):
    cover = np.array([[50, 50], [0, 0]], dtype="uint8")
    other = np.array([[0, 0], [0, 0]], dtype="uint8")
    path = write_tif(
        tmp_path / "stack.tif", [other, cover], nodata=255, descriptions=["Area", "tree_cover"]
    )
    g = whole(cover.shape)
    with pytest.raises(RasterError, match=r"2 bands.*1 'Area', 2 'tree_cover'"):
        agf.forest_cover(g, path)
    by_name = agf.forest_cover(g, path, band="tree_cover")
    by_number = agf.forest_cover(g, path, band=2)
    assert by_name.equals(by_number)
    assert by_name["forest_ha"].iloc[0] == pytest.approx(2 * CELL_HA, rel=1e-9)
    with pytest.raises(RasterError, match="no band described 'canopy'"):
        agf.forest_cover(g, path, band="canopy")
    # the product's band is used when band= is not given
    p = products.get("hansen_treecover2000").replace(band="tree_cover")
    assert agf.forest_cover(g, path, product=p).equals(by_name)
    single = write_tif(tmp_path / "one.tif", cover, nodata=255)
    assert agf.forest_cover(g, single, band=1).equals(agf.forest_cover(g, single))


@pytest.mark.shared
def test_whisp_stack_band_by_description(shared_data):
    """Whisp's 195-band 0/1 stack of real layers (Côte d'Ivoire, 10 ha plot)."""
    stack = shared_data / "whisp" / "local_10m_test" / "binary_int8.tif"
    plot = gpd.read_file(shared_data / "whisp" / "test_10ha.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDataWarning)
        with pytest.raises(RasterError, match=r"195 bands.*1 'Area', 2 'Oil_palm_Descals'"):
            agf.forest_cover(plot, stack, forest_values=[1])
        mask = Product(name="gfc_tc_2020_mask", kind="forest_mask", forest_values=[1])
        by_name = agf.forest_cover(plot, stack, product=mask, band="GFC_TC_2020")
        by_number = agf.forest_cover(plot, stack, product=mask, band=45)
    assert by_name.equals(by_number)
    assert 0 < by_name["forest_share"].iloc[0] < 1
    assert by_name["area_ha"].iloc[0] == pytest.approx(10, rel=0.01)


# ---------------------------------------------------------------------------
# 4. scale and offset
# ---------------------------------------------------------------------------


def test_scale_offset_applied_not_ignored(tmp_path):
    x = np.array([[10.0, 30.0], [50.0, 70.0]])  # percent cover
    stored = (2 * x - 1).astype("int16")  # stored as 2x - 1: x = 0.5 * stored + 0.5
    path = write_tif(tmp_path / "scaled.tif", stored, nodata=-9999, scale=0.5, offset=0.5)
    g = whole(x.shape)
    out = agf.forest_cover(g, path, threshold=40).iloc[0]
    assert out["mean_cover_pct"] == pytest.approx(40.0, rel=1e-9)  # raw mean would be 79
    assert out["forest_ha"] == pytest.approx(2 * CELL_HA, rel=1e-9)
    # a density raster of 12.5 trees/ha stored as 24 with the same tags
    dens = write_tif(
        tmp_path / "dens.tif", np.full((2, 2), 24, "int16"), nodata=-1, scale=0.5, offset=0.5
    )
    plots = gpd.GeoDataFrame({"plot_id": ["a"]}, geometry=[block(0, 0, 2, 2)], crs=32718)
    d = agf.tree_density(plots, density_raster=dens).iloc[0]
    assert d["tree_count"] == pytest.approx(12.5 * 4 * CELL_HA, rel=1e-9)
    # a product's own scale/offset applies when the file has no tags
    plain = write_tif(tmp_path / "plain.tif", stored, nodata=-9999)
    p = Product(name="scaled_cover", kind="cover_percent", valid_range=(0, 100), scale=0.5,
                offset=0.5, unit="%")  # fmt: skip
    assert agf.forest_cover(g, plain, product=p, threshold=40).iloc[0].equals(out)


def test_scale_offset_refused_for_codes(tmp_path):
    path = write_tif(tmp_path / "loss.tif", np.array([[0, 21]], dtype="uint8"), scale=2.0)
    with pytest.raises(RasterError, match=r"scale 2 / offset 0.*codes"):
        agf.forest_loss(whole((1, 2)), path)
    with pytest.raises(ValueError, match="codes"):
        Product(name="x", kind="loss_year", base_year=2000, first_year=2001, last_year=2020,
                scale=2.0)  # fmt: skip


# ---------------------------------------------------------------------------
# 5. untagged nodata codes, cover above 100 %
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", [40, 200, 255])
def test_untagged_loss_codes_raise(tmp_path, code):
    path = write_tif(tmp_path / "loss.tif", np.array([[0, 21, code]], dtype="uint8"))
    g = whole((1, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDataWarning)
        with pytest.raises(
            RasterError, match=rf"{code} is not a loss year .*would be {2000 + code}"
        ):
            agf.forest_loss(g, path)
        with pytest.raises(
            RasterError,
            match=rf"{code} is not a loss year of product 'hansen_lossyear_v1_13'.*2001-2025",
        ):
            agf.forest_loss(g, path, product="hansen_lossyear_v1_13")
        if code == 255:
            with pytest.raises(RasterError, match="set the nodata value"):
                agf.forest_loss(g, path, product="hansen_lossyear")
        tagged = write_tif(
            tmp_path / "t.tif", np.array([[0, 21, code]], dtype="uint8"), nodata=code
        )
        ok = agf.forest_loss(g, tagged, product="hansen_lossyear_v1_13").iloc[0]
    assert ok["loss_after_cutoff_ha"] == pytest.approx(CELL_HA, rel=1e-9)


def test_cover_above_100_percent_raises(tmp_path):
    path = write_tif(tmp_path / "cover.tif", np.array([[20, 90, 249]], dtype="uint8"))
    g = whole((1, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDataWarning)
        with pytest.raises(RasterError, match=r"249 % are outside 0-100.*not a percent"):
            agf.forest_cover(g, path)
        with pytest.raises(RasterError, match="product 'hansen_treecover2000'"):
            agf.forest_cover(g, path, product="hansen_treecover2000")
        with pytest.raises(RasterError, match=r"255 .*nodata"):
            agf.forest_cover(g, write_tif(tmp_path / "c2.tif", np.array([[20, 255]], "uint8")))


def test_class_codes_checked_against_product(tmp_path):
    wc = write_tif(tmp_path / "wc.tif", np.array([[10, 10, 40, 0]], dtype="uint8"), nodata=None)
    g = whole((1, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDataWarning)
        out = agf.forest_cover(g, wc, product="esa_worldcover_2021").iloc[0]
        # 0 is WorldCover's nodata: 3 valid pixels, 2 tree cover
        assert out["forest_share"] == pytest.approx(2 / 3, rel=1e-9)
        bad = write_tif(tmp_path / "bad.tif", np.array([[10, 12]], dtype="uint8"))
        with pytest.raises(RasterError, match="12 is not among the classes"):
            agf.class_shares(whole((1, 2)), bad, product="esa_worldcover_2020")
        with pytest.raises(RasterError, match="not a forest cover"):
            agf.forest_cover(g, wc, product="hansen_lossyear")


# ---------------------------------------------------------------------------
# 6. the cut-off
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [pd.NaT, None, float("nan"), "31/12/2020", "2020-13-01"])
def test_cutoff_missing_or_unparseable_raises(sample, bad):
    parcels, cover, loss = sample
    with pytest.raises((ValueError, TypeError), match="cutoff"):
        agf.forest_loss(parcels.head(2), loss, cutoff=bad)
    with pytest.raises((ValueError, TypeError), match="cutoff"):
        agf.forest_cover_and_loss(parcels.head(2), cover, loss, cutoff=bad)


def test_cutoff_year_that_straddles_counts_after(tmp_path):
    arr = np.array([[0, 20, 21, 22]], dtype="uint8")  # 2020, 2021, 2022
    path = write_tif(tmp_path / "loss.tif", arr, nodata=255)
    g = whole(arr.shape)
    eudr = agf.forest_loss(g, path, cutoff="2020-12-31").iloc[0]
    assert eudr["loss_after_cutoff_ha"] == pytest.approx(2 * CELL_HA)  # 2021, 2022
    mid = agf.forest_loss(g, path, cutoff="2020-06-30").iloc[0]
    assert mid["loss_after_cutoff_ha"] == pytest.approx(3 * CELL_HA)  # 2020 straddles: after
    assert mid["loss_in_cutoff_year_ha"] == pytest.approx(CELL_HA)
    # the sample: 2022 loss after the EUDR cut-off is kept (before: NaT made it vanish)
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    fl = agf.forest_loss(
        parcels, agf.datasets.get_path("lossyear"), cutoff=pd.Timestamp("2020-12-31")
    )
    assert fl["loss_ha_2022"].sum() > 0
    assert (fl["loss_after_cutoff_ha"] >= fl["loss_ha_2022"] - 1e-12).all()


# ---------------------------------------------------------------------------
# the catalogue, user products, files
# ---------------------------------------------------------------------------


def test_catalogue_lists_the_required_products():
    cat = products.available()
    required = {
        "hansen_treecover2000": "cover_percent",
        "hansen_lossyear_v1_11": "loss_year",
        "hansen_lossyear_v1_12": "loss_year",
        "hansen_lossyear_v1_13": "loss_year",
        "hansen_datamask": "categorical",
        "jrc_gfc2020_v2": "forest_mask",
        "jrc_gfc2020_v3": "forest_mask",
        "jrc_tmf_annual_change_2020": "categorical",
        "jrc_tmf_deforestation_year": "loss_year",
        "esa_worldcover_2020": "categorical",
        "esa_worldcover_2021": "categorical",
        "fdap_cocoa_probability": "commodity_probability",
        "eth_canopy_height_2020": "canopy_height_m",
        "radd_alerts": "disturbance_date",
        "gfw_integrated_alerts": "disturbance_date",
        "gfw_glad_l_alerts": "disturbance_date",
        "gfw_glad_s2_alerts": "disturbance_date",
        "esa_cci_biomass_2020": "biomass_mg_ha",
    }
    for name, kind in required.items():
        assert cat.loc[name, "kind"] == kind, name
        p = products.get(name)
        assert p.url.startswith("https://") and p.citation and p.licence, name
    years = {v: products.get(f"hansen_lossyear_{v}").last_year for v in ("v1_11", "v1_12", "v1_13")}
    assert years == {"v1_11": 2023, "v1_12": 2024, "v1_13": 2025}
    assert products.get("esa_worldcover_2021").forest_values == (10,)
    assert products.get("jrc_gfc2020").name == "jrc_gfc2020_v3"
    with pytest.raises(KeyError, match="hansen_treecover2000"):
        products.get("hansen_treecover")


def _valid_and_invalid(p: Product) -> tuple[np.ndarray, np.ndarray]:
    """Valid values of a product's encoding, and one invalid value, derived from its fields."""
    codes = p.valid_codes()
    if codes is not None:
        return codes, np.array([codes.max() + 1])
    if p.kind == "disturbance_date":
        if p.date_encoding == "yyddd":
            return np.array([0, 19001, 21365, 24366]), np.array([21400])
        conf = np.array([c for c, _ in p.confidence_values])
        return np.r_[0, conf * 10_000 + 1, conf * 10_000 + 3650], np.array([10_001])
    lo, hi = p.valid_range  # type: ignore[misc]
    hi_ok = hi if np.isfinite(hi) else 1e6
    return np.array([lo, (lo + hi_ok) / 2, hi_ok]), np.array([lo - 1])


@pytest.mark.parametrize("name", sorted(products.available().index))
def test_every_builtin_encoding_round_trips_through_its_checks(name):
    p = products.get(name)
    good, bad = _valid_and_invalid(p)
    p.check_values(good)
    with pytest.raises(RasterError, match=name):
        p.check_values(bad)
    # and the product survives a TOML/JSON round trip unchanged
    data = {k: v for k, v in dataclasses.asdict(p).items() if v not in (None, (), "")}
    for k in ("classes", "confidence_values"):
        if k in data:
            data[k] = {str(c): lab for c, lab in data[k]}
    for k in ("date_base", "reference_date"):
        if k in data:
            data[k] = data[k].isoformat()
    assert products._from_mapping(None, json.loads(json.dumps(data)), "test") == p


def test_date_encodings_decode_known_days():
    dates, conf = products.get("gfw_integrated_alerts").decode_dates([40001, 20365, 30366, 0])
    assert [str(d) for d in dates] == ["2015-01-01", "2015-12-31", "2016-01-01", "NaT"]
    assert conf.tolist() == [4, 2, 3, 0]
    radd, none = products.get("radd_alerts").decode_dates([20060, 21060, 0])
    assert none is None
    assert [str(d) for d in radd] == ["2020-02-29", "2021-03-01", "NaT"]  # 2020 is a leap year
    glad = products.get("gfw_glad_l_alerts")
    with pytest.raises(RasterError, match="confidence"):
        glad.decode_dates([40001])  # GLAD-L has no "highest" class


def test_national_map_in_a_few_lines_and_from_files(tmp_path, sample, sample_mask):
    parcels, cover, _ = sample
    bosque = Product(
        name="peru_bosque_2020", kind="forest_mask", forest_values=[1], reference_year=2020,
        source="national forest monitoring", url="https://geobosques.minam.gob.pe/",
    )  # fmt: skip
    expected = agf.forest_cover(parcels, cover, threshold=10)["forest_ha"]
    np.testing.assert_array_equal(
        agf.forest_cover(parcels, sample_mask, product=bosque)["forest_ha"], expected
    )
    toml = tmp_path / "bosque.toml"
    toml.write_text(
        'name = "peru_bosque_2020"\nkind = "forest_mask"\nforest_values = [1]\n'
        'reference_year = 2020\nsource = "national forest monitoring"\n'
        'url = "https://geobosques.minam.gob.pe/"\n'
    )
    assert products.from_file(toml) == bosque
    js = tmp_path / "several.json"
    js.write_text(json.dumps({"products": {
        "a": {"kind": "forest_mask", "forest_values": [1]},
        "b": {"kind": "cover_percent", "valid_range": [0, 100]},
    }}))  # fmt: skip
    assert products.from_file(js, name="b").valid_range == (0.0, 100.0)
    with pytest.raises(KeyError, match="pass name="):
        products.from_file(js)
    with pytest.raises(ValueError, match="unknown product field"):
        products._from_mapping("x", {"kind": "forest_mask", "forest_value": [1]}, "here")


def test_product_validation():
    with pytest.raises(ValueError, match="kind must be one of"):
        Product(name="x", kind="forest")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_year"):
        Product(name="x", kind="loss_year")
    with pytest.raises(ValueError, match="web address"):
        Product(name="x", kind="cover_percent", url="file:///data/cover.tif")
    with pytest.raises(ValueError, match="date_base"):
        Product(name="x", kind="disturbance_date", date_encoding="days_since")
    p = Product(name="x", kind="categorical", classes={1: "forest", 2: "crop"}, forest_values=[1])
    assert p.classes == ((1, "forest"), (2, "crop")) and hash(p)


def test_canopy_height_product_forest_from_5_m(tmp_path):
    h = np.array([[0, 4, 5, 30]], dtype="uint8")
    path = write_tif(tmp_path / "h.tif", h, nodata=255)
    out = agf.forest_cover(whole(h.shape), path, product="eth_canopy_height_2020").iloc[0]
    assert out["forest_ha"] == pytest.approx(2 * CELL_HA, rel=1e-9)
    assert out["mean_height_m"] == pytest.approx(39 / 4, rel=1e-9)


def test_cli_forest_cover_with_product(sample, sample_mask, capsys):
    from agroforest_geo.cli import main

    parcels_path = agf.datasets.get_path("parcels")
    assert main(["forest-cover", parcels_path, sample_mask, "--product", "jrc_gfc2020_v3"]) == 0
    assert "forest_ha" in capsys.readouterr().out
    loss = sample[2]
    args = ["forest-loss", parcels_path, loss, "--cover", sample_mask]
    code = main([*args, "--cover-product", "jrc_gfc2020", "--product", "hansen_lossyear_v1_11"])
    assert code == 0
    assert main(["forest-cover", parcels_path, sample_mask]) == 2
    assert "forest mask" in capsys.readouterr().err


def test_docs_page_lists_the_catalogue_and_its_snippets_parse(tmp_path):
    page = (Path(__file__).resolve().parents[1] / "docs" / "products.md").read_text("utf-8")
    for name in products.available().index:
        assert f"[`{name}`]" in page, name
    toml = page.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "bosque.toml").write_text(toml, "utf-8")
    assert products.from_file(tmp_path / "bosque.toml").forest_values == (1,)
    js = page.split("```json\n", 1)[1].split("```", 1)[0]
    (tmp_path / "loss.json").write_text(js, "utf-8")
    assert products.from_file(tmp_path / "loss.json").valid_codes()[-1] == 23


def test_checks_see_the_whole_pass_with_worker_processes(tmp_path, sample):
    """The look-alike checks use statistics of every batch, also when workers read them."""
    n = 3000
    arr = np.zeros((n, n), dtype="uint8")
    arr[:10, :10] = 1  # top-left corner: only 0/1 values
    arr[-10:, -10:] = 80  # bottom-right corner: real percent cover
    path = write_tif(tmp_path / "far.tif", arr, nodata=255)
    corners = gpd.GeoSeries([block(0, 0, 10, 10), block(n - 10, n - 10, n, n)], crs=32718)
    from agroforest_geo.inputs import _grid_of, _prepare
    from agroforest_geo.pixelpieces import _plan

    with rasterio.open(path) as src:
        grid = _grid_of(src, "far")
    assert len(_plan(_prepare(corners, grid), grid).batches) == 2  # two windows
    # per batch the first corner looks like a mask; over the pass it does not
    one = agf.forest_cover(corners, path)
    two = agf.forest_cover(corners, path, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert one["forest_share"].tolist() == [0.0, 1.0]
    mask = np.where(arr > 0, 1, 0).astype("uint8")
    mpath = write_tif(tmp_path / "farmask.tif", mask, nodata=255)
    with pytest.raises(RasterError, match="forest mask"):
        agf.forest_cover(corners, mpath, n_jobs=2)
    # a handful of low-cover pixels is not called a loss-year raster
    parcels, _, loss = sample
    tiny = parcels.head(1).copy()
    tiny["geometry"] = tiny.representative_point().buffer(0.0002)
    assert len(agf.forest_cover(tiny, loss)) == 1


def test_hand_computed_mask_and_cover_agree(tmp_path):
    """4 x 4 pixels: cover >= 10 % on 10 of 15 valid pixels, 4 of them lost after 2020."""
    cover = np.array(
        [[0, 5, 10, 30], [50, 80, 100, 255], [9, 11, 29, 31], [100, 100, 0, 0]], dtype="uint8"
    )
    loss = np.array([[0, 1, 20, 21], [23, 0, 21, 0], [22, 0, 20, 0], [21, 0, 0, 0]], dtype="uint8")
    mask = np.where(cover == 255, 255, cover >= 10).astype("uint8")
    c = write_tif(tmp_path / "c.tif", cover, nodata=255)
    m = write_tif(tmp_path / "m.tif", mask, nodata=255)
    lo = write_tif(tmp_path / "l.tif", loss, nodata=255)
    g = whole(cover.shape)
    by_pct = agf.forest_cover_and_loss(g, c, lo, threshold=10).iloc[0]
    by_mask = agf.forest_cover_and_loss(g, m, lo, cover_product="jrc_gfc2020").iloc[0]
    assert by_mask["forest_ha"] == pytest.approx(10 * CELL_HA, rel=1e-9)
    # forest pixels with loss after 2020: (0,3)=21, (1,0)=23, (1,2)=21, (3,0)=21 -> 4
    assert by_mask["loss_after_cutoff_ha"] == pytest.approx(4 * CELL_HA, rel=1e-9)
    for col in ("forest_ha", "loss_ha", "loss_after_cutoff_ha", "loss_in_cutoff_year_ha"):
        assert by_mask[col] == by_pct[col], col


def test_an_unknown_product_is_an_input_error_on_the_command_line(tmp_path, capsys):
    # a misspelt --product gave a Python traceback (a bare KeyError); it is one line naming
    # the built-in products, exit status 2, and still a KeyError for Python callers
    from agroforest_geo.cli import main

    with pytest.raises(KeyError):
        agf.products.get("eth_canopy_height")
    with pytest.raises(agf.UnknownProductError, match="eth_canopy_height_2020"):
        agf.products.get("eth_canopy_height")
    parcels = agf.datasets.get_path("parcels")
    cover = agf.datasets.get_path("treecover")
    code = main(["forest-cover", str(parcels), str(cover), "--product", "eth_canopy_height"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no built-in product 'eth_canopy_height'. Did you mean 'eth_canopy_height_2020'?" in err
    assert "eth_canopy_height_2020" in err and "Traceback" not in err

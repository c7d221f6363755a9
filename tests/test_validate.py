from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely import Polygon

import agroforest_geo as agf
from agroforest_geo.errors import MissingColumnError
from agroforest_geo.validate import RULES, ValidationReport, validate

X0, Y0 = 500_000.0, 9_200_000.0  # UTM 18S (EPSG:32718), near Juanjuí


def box(x: float = X0, y: float = Y0, w: float = 100.0, h: float = 100.0) -> Polygon:
    return shapely.box(x, y, x + w, y + h)


def layer(geoms, *, crs=32718, ids=None, id_name="parcel_id", index=None) -> gpd.GeoDataFrame:
    data = {} if ids is None else {id_name: ids}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs, index=index)


SQ = box()
BOWTIE = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
RING_SELF_TOUCH = Polygon(
    [(X0, Y0), (X0 + 200, Y0), (X0 + 200, Y0 + 200), (X0 + 100, Y0), (X0, Y0 + 200)]
)
HOLE_OUTSIDE = Polygon(SQ.exterior.coords, [box(X0 + 200, Y0 + 200, 10, 10).exterior.coords])
NESTED_SHELLS = shapely.MultiPolygon([box(w=300, h=300), box(X0 + 100, Y0 + 100)])
CW_SQUARE = SQ.reverse()
CCW_HOLE = Polygon(
    SQ.exterior.coords, [box(X0 + 40, Y0 + 40, 20, 20).exterior.coords]
)  # shapely.box rings are CCW
CW_HOLE = Polygon(SQ.exterior.coords, [box(X0 + 40, Y0 + 40, 20, 20).exterior.coords[::-1]])
DUP_VERTEX = Polygon(
    [(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 100), (X0, Y0 + 100)]
)
FEW = Polygon([(X0, Y0), (X0 + 1, Y0 + 1), (X0 + 1, Y0 + 1), (X0, Y0)])
SPIKE = Polygon(
    [
        (X0, Y0),
        (X0 + 100, Y0),
        (X0 + 100, Y0 + 45),
        (X0 + 400, Y0 + 50),
        (X0 + 100, Y0 + 55),
        (X0 + 100, Y0 + 100),
        (X0, Y0 + 100),
    ]
)
SHARP_TRIANGLE = Polygon([(X0, Y0), (X0 + 300, Y0), (X0, Y0 + 40)])  # 7.6° corner, no spike
JUANJUI = shapely.box(-76.70, -7.20, -76.69, -7.19)


def _codes(gdf, **kw) -> list[str]:
    return validate(gdf, **kw).findings["code"].tolist()


# code, layer that triggers it, layer that does not, validate options
CASES = [
    ("missing_crs", layer([SQ], crs=None), layer([SQ]), {}),
    (
        "missing_id_column",
        layer([SQ]),
        layer([SQ], ids=["a"]),
        {"kind": "parcels"},
    ),
    ("null_geometry", layer([None]), layer([SQ]), {}),
    ("empty_geometry", layer([Polygon()]), layer([SQ]), {}),
    (
        "geometry_type",
        layer([shapely.MultiPoint([(X0, Y0), (X0 + 1, Y0)])], ids=["a"]),
        layer([shapely.Point(X0, Y0)], ids=["a"], id_name="plot_id").assign(
            parcel_id="a", system="x"
        ),
        {"kind": "parcels"},
    ),
    ("invalid_geometry", layer([BOWTIE]), layer([SQ]), {}),
    ("too_few_vertices", layer([FEW]), layer([SQ]), {}),
    (
        "coords_out_of_range",
        layer([shapely.box(200, 10, 200.01, 10.01)], crs=4326),
        layer([shapely.box(170, 10, 170.01, 10.01)], crs=4326),
        {},
    ),
    (
        "swapped_lonlat",
        layer([shapely.box(-7.2, -100.0, -7.19, -99.99)], crs=4326),
        layer([shapely.box(-100.0, -7.2, -99.99, -7.19)], crs=4326),
        {},
    ),
    (
        "projected_as_degrees",
        layer([SQ], crs=4326),
        layer([JUANJUI], crs=4326),
        {},
    ),
    ("degrees_as_projected", layer([JUANJUI]), layer([SQ]), {}),
    (
        "duplicate_id",
        layer([SQ, SQ], ids=["a", "a"]),
        layer([SQ, SQ], ids=["a", "b"]),
        {"id_column": "parcel_id"},
    ),
    ("missing_id", layer([SQ], ids=[None]), layer([SQ], ids=["a"]), {"kind": "parcels"}),
    ("missing_id", layer([SQ], ids=["  "]), layer([SQ], ids=["0"]), {"kind": "parcels"}),
    ("missing_id", layer([SQ], ids=[np.nan]), layer([SQ], ids=[0]), {"kind": "parcels"}),
    ("outside_area_of_use", layer([box(x=-200_000)]), layer([box(x=200_000)]), {}),
    ("wrong_orientation", layer([CW_SQUARE]), layer([SQ]), {}),
    ("wrong_orientation", layer([CCW_HOLE]), layer([CW_HOLE]), {}),
    ("duplicate_vertices", layer([DUP_VERTEX]), layer([SQ]), {}),
    ("spike", layer([SPIKE]), layer([SHARP_TRIANGLE]), {}),
    ("tiny_area", layer([box(w=5, h=5)]), layer([box(w=10, h=10)]), {}),
    ("tiny_area", layer([SQ]), layer([SQ]), {"min_area_m2": 10_100}),
    ("sliver", layer([box(w=1000, h=10)]), layer([box(w=200, h=50)]), {}),
]


@pytest.mark.parametrize(
    ("code", "bad", "good", "options"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_triggers_and_does_not(code, bad, good, options):
    if code == "tiny_area" and options:  # the second tiny_area case: SQ is 10,008 m²
        assert code in _codes(bad, **options)
        assert code not in _codes(good)
        return
    kind = options.get("kind")
    good_kind = "plots" if code == "geometry_type" else kind
    got = validate(bad, **options)
    assert code in got.findings["code"].tolist()
    assert code in RULES
    sev = RULES[code].severity
    assert set(got.findings.loc[got.findings["code"] == code, "severity"]) == {sev}
    assert code not in _codes(good, **{**options, "kind": good_kind})


def test_clean_square_has_no_findings():
    report = validate(layer([SQ], ids=["a"]), kind="parcels")
    assert report.findings.empty
    assert report.ok
    assert report.flags().to_dict("records") == [
        {"n_errors": 0, "n_warnings": 0, "codes": "", "valid": True}
    ]


@pytest.mark.parametrize(
    ("geom", "reason"),
    [
        (BOWTIE, "Self-intersection"),
        (RING_SELF_TOUCH, "Ring Self-intersection"),
        (HOLE_OUTSIDE, "Hole lies outside shell"),
        (NESTED_SHELLS, "Nested shells"),
    ],
)
def test_geos_reason_in_message(geom, reason):
    f = validate(layer([geom])).findings
    msg = f.loc[f["code"] == "invalid_geometry", "message"].item()
    assert reason in msg
    assert "repair()" in msg  # the fix is named


def test_bowtie_is_named_and_located():
    f = validate(layer([BOWTIE])).findings
    msg = f.loc[f["code"] == "invalid_geometry", "message"].item()
    assert "bow-tie" in msg
    assert "[500050 9200050]" in msg  # GEOS gives the crossing point


def test_plots_accept_points_but_not_lines():
    plots = layer(
        [shapely.Point(X0, Y0), shapely.LineString([(X0, Y0), (X0 + 1, Y0)])],
        ids=["p1", "p2"],
        id_name="plot_id",
    )
    f = validate(plots, kind="plots").findings
    assert f[["row", "code"]].values.tolist() == [[1, "geometry_type"]]
    assert "LineString not allowed in a plots layer" in f["message"].item()


def test_swapped_lonlat_by_layer_consensus():
    # |x| <= 90 and |y| <= 90 once swapped and not: only the other features tell
    near = [shapely.box(-76.70 + i / 100, -7.20, -76.695 + i / 100, -7.195) for i in range(4)]
    swapped = shapely.transform(near[0], lambda c: c[:, ::-1])
    gdf = layer([*near, swapped], crs=4326, ids=list("abcde"))
    f = validate(gdf).findings
    assert f[["row", "code"]].values.tolist() == [[4, "swapped_lonlat"]]
    # with fewer than three features there is no consensus to rely on ...
    two = layer([near[0], swapped], crs=4326, ids=["a", "b"])
    assert "swapped_lonlat" not in _codes(two)
    # ... but in a parcels layer latitude -76.7° (Antarctica) is farmed nowhere while -7.2°
    # is: the swapped feature is still found
    assert _codes(two, kind="parcels") == ["swapped_lonlat"]


def test_projected_and_geographic_give_same_area_rules():
    utm = layer([box(w=9, h=9), box(w=1000, h=10)])
    geo = utm.to_crs(4326)
    assert _codes(utm) == _codes(geo) == ["tiny_area", "sliver"]


def test_tiny_area_message_has_ellipsoidal_area():
    f = validate(layer([box(w=5, h=5)])).findings
    # 25 m² on the map is 25 / k² on the ellipsoid, k ~ 0.9996 near the central meridian
    assert "area 25.02 m²" in f["message"].item()


def test_no_crs_still_checks_geometry_and_hints_units():
    f = validate(layer([BOWTIE, box(w=1000, h=10)], crs=None)).findings
    assert f["code"].tolist() == ["missing_crs", "invalid_geometry", "sliver"]
    assert f.loc[0, "row"] is None
    assert "EPSG:32718" in f.loc[0, "message"]
    f = validate(layer([JUANJUI], crs=None)).findings
    assert "EPSG:4326" in f.loc[0, "message"]


def test_missing_crs_is_an_error_for_ok_but_not_for_flags():
    report = validate(layer([SQ], crs=None))
    assert not report.ok
    assert report.flags()["valid"].tolist() == [True]


def test_report_structure_and_helpers():
    gdf = layer(
        [SQ, BOWTIE, None, CW_SQUARE],
        ids=["a", "b", "b", None],
        index=pd.Index(["r1", "r2", "r3", "r4"]),
    )
    report = validate(gdf, kind="parcels")
    f = report.findings
    assert list(f.columns) == ["row", "id", "code", "severity", "message", "position"]
    assert f[["row", "code"]].values.tolist() == [
        ["r2", "invalid_geometry"],
        ["r2", "duplicate_id"],
        ["r3", "null_geometry"],
        ["r3", "duplicate_id"],
        ["r4", "missing_id"],
        ["r4", "wrong_orientation"],
    ]
    assert report.codes_for("r3") == ["null_geometry", "duplicate_id"]
    assert report.codes_for("r1") == []
    flags = report.flags()
    assert flags.index.equals(gdf.index)
    assert flags["n_errors"].tolist() == [0, 2, 2, 1]
    assert flags["n_warnings"].tolist() == [0, 0, 0, 1]
    assert flags.loc["r4", "codes"] == "missing_id;wrong_orientation"
    assert flags["valid"].tolist() == [True, False, False, False]
    assert report.n_errors == 5 and report.n_warnings == 1 and not report.ok
    s = report.summary
    assert s.set_index("code")["count"].to_dict() == {
        "null_geometry": 1,
        "invalid_geometry": 1,
        "duplicate_id": 2,
        "missing_id": 1,
        "wrong_orientation": 1,
    }
    assert list(s.columns) == ["code", "severity", "count", "description"]
    html = report._repr_html_()
    assert "5 errors" in html and "invalid_geometry" in html
    frame = report.to_frame()
    frame.loc[0, "code"] = "changed"
    assert report.findings.loc[0, "code"] == "invalid_geometry"
    assert "5 errors, 1 warnings" in repr(report)


def test_flags_with_repeated_index_labels():
    gdf = layer([SQ, None, SQ], index=pd.Index([7, 7, 8]))
    flags = validate(gdf).flags()
    assert flags.index.tolist() == [7, 7, 8]
    assert flags["valid"].tolist() == [True, False, True]


def test_html_is_escaped():
    gdf = layer([None], ids=["<b>x</b>"])
    assert validate(gdf, kind="parcels").findings["id"].tolist() == ["<b>x</b>"]
    assert "&lt;b&gt;x&lt;/b&gt;" in validate(gdf, kind="parcels")._repr_html_()


def test_rules_table_is_complete():
    assert len(RULES) >= 20
    for code, rule in RULES.items():
        assert code == code.lower() and " " not in code
        assert rule.severity in {"error", "warning"}
        assert rule.description and rule.fix
    with pytest.raises(TypeError):
        RULES["x"] = RULES["spike"]  # type: ignore[index]


def test_options_are_validated():
    gdf = layer([SQ])
    with pytest.raises(ValueError, match=r"\['parcels', 'plots', 'protected_areas'\]"):
        validate(gdf, kind="parcel")  # type: ignore[arg-type]
    with pytest.raises(MissingColumnError, match="not a column"):
        validate(gdf, id_column="nope")
    with pytest.raises(ValueError, match="min_area_m2"):
        validate(gdf, min_area_m2=-1)
    with pytest.raises(TypeError, match="GeoDataFrame"):
        validate(pd.DataFrame({"a": [1]}))  # type: ignore[arg-type]


def test_geoseries_and_empty_layer():
    assert validate(gpd.GeoSeries([BOWTIE], crs=32718)).findings["code"].tolist() == [
        "invalid_geometry"
    ]
    empty = validate(layer([], ids=[]), kind="parcels")
    assert empty.ok and empty.flags().empty


def test_default_id_column_from_kind():
    gdf = layer([SQ, SQ], ids=["x", "x"], id_name="area_id").assign(name="n", category="c")
    f = validate(gdf, kind="protected_areas").findings
    assert f["code"].tolist() == ["duplicate_id", "duplicate_id"]
    assert f["id"].tolist() == ["x", "x"]


def test_messy_sample_defects_are_found():
    messy = agf.read_parcels(agf.datasets.get_path("parcels_messy"))
    expected = {
        "none": set(),
        "spike": {"spike"},
        "empty_geometry": {"empty_geometry"},
        "wrong_orientation": {"wrong_orientation"},
        "bowtie": {"invalid_geometry"},
        "missing_geometry": {"null_geometry"},
        "duplicate_vertices": {"duplicate_vertices"},
        "ring_self_touch": {"invalid_geometry"},
        "sliver": {"sliver"},
        "tiny_polygon": {"tiny_area"},
        "swapped_lonlat": {"swapped_lonlat"},
        # a point parcel is valid for a plot of up to 4 ha (EUDR); this one declares more
        "point_geometry": {"point_over_4_ha"},
        "duplicate_id": {"duplicate_id"},
        "utm_coordinates": {"projected_as_degrees"},
        "hole_outside_shell": {"invalid_geometry"},
    }
    flags = validate(messy, kind="parcels").flags()
    dup = messy["parcel_id"].duplicated(keep=False)
    for i, defect in enumerate(messy["defect"]):
        want = set(expected[defect]) | ({"duplicate_id"} if dup.iloc[i] else set())
        got = set(filter(None, flags["codes"].iloc[i].split(";")))
        assert got == want, (messy["parcel_id"].iloc[i], defect, got)


def test_clean_sample_parcels_pass():
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    report = validate(parcels, kind="parcels")
    assert report.findings.empty


@st.composite
def star_polygons(draw):
    """Random simple polygons: vertices at increasing angles around a centre (CCW)."""
    n = draw(st.integers(3, 12))
    gaps = np.array(draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n)))
    angles = np.cumsum(gaps) / gaps.sum() * 2 * np.pi
    radii = np.array(draw(st.lists(st.floats(30.0, 300.0), min_size=n, max_size=n)))
    cx = draw(st.floats(300_000, 700_000))
    cy = draw(st.floats(9_000_000, 9_300_000))
    xs = np.round(cx + radii * np.cos(angles), 3)
    ys = np.round(cy + radii * np.sin(angles), 3)
    return Polygon(np.column_stack([xs, ys]))


@settings(max_examples=60, deadline=None)
@given(star_polygons())
def test_random_valid_polygons_have_no_errors(poly):
    assume(poly.is_valid)  # a star with increasing angles is simple; guard against rounding
    report = validate(layer([poly], ids=["a"]), kind="parcels")
    assert report.ok, report.findings
    assert isinstance(report, ValidationReport)

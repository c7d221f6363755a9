"""Writers: whole files or none, spreadsheet-safe CSV, read -> write -> read keeps everything."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agroforest_geo as agf
from agroforest_geo._atomic import OutputSet

SQUARE = shapely.box(-76.710, -7.180, -76.709, -7.179)
FORMATS = [".csv", ".gpkg", ".geojson", ".parquet"]


@pytest.fixture
def layer() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["00123", "12345678901234567", "A-7"],
            "producer_name": ['=HYPERLINK("http://x")', "Peña Ñuñez", "-"],
            "declared_area_ha": [-3.5, 1.25, np.nan],
            "note": ["+51 942 000 000", "@SUM(A1)", "-3.5"],
        },
        geometry=[SQUARE, shapely.MultiPolygon([SQUARE]), None],
        crs=4326,
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- atomic


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, layer, monkeypatch):
    target = tmp_path / "parcels.gpkg"
    agf.write_table(layer, target)
    before = target.read_bytes()

    def dies_halfway(self, path, *args, **kwargs):
        Path(path).write_bytes(b"SQLite format 3\x00 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", dies_halfway)
    with pytest.raises(OSError, match="disk full"):
        agf.write_table(layer.iloc[:1], target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert len(gpd.read_file(target)) == 3
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_write_goes_through_a_temporary_file(tmp_path, layer, monkeypatch, suffix):
    import agroforest_geo._atomic as atomic

    moves = []
    real_replace = atomic.os.replace

    def spy(src, dst):
        moves.append((Path(src), Path(dst), Path(dst).exists()))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    out = agf.write_table(layer, tmp_path / f"t{suffix}")
    ((src, dst, existed),) = moves
    assert dst == out and not existed  # nothing at the target until the file is complete
    assert src.parent == tmp_path and ".partial" in src.name and src.suffix == suffix
    assert _leftovers(tmp_path) == []


def test_gpkg_keeps_its_other_layers(tmp_path, layer):
    target = tmp_path / "cooperativa.gpkg"
    layer.to_file(target, layer="parcelas")
    agf.write_table(layer.iloc[:2], target)  # the layer is named after the file
    assert sorted(name for name, _ in pyogrio.list_layers(target)) == ["cooperativa", "parcelas"]
    assert len(gpd.read_file(target, layer="parcelas")) == 3
    assert len(gpd.read_file(target, layer="cooperativa")) == 2


def test_output_set_is_all_or_nothing(tmp_path):
    (tmp_path / "a.csv").write_text("old a")
    with pytest.raises(RuntimeError), OutputSet(tmp_path) as staged:
        staged.path("a.csv").write_text("new a")
        staged.path("b.csv").write_text("new b")
        raise RuntimeError("the report step failed")
    assert (tmp_path / "a.csv").read_text() == "old a" and not (tmp_path / "b.csv").exists()
    with OutputSet(tmp_path) as staged:
        staged.path("a.csv").write_text("new a")
        staged.path("b.csv").write_text("new b")
    assert [p.read_text() for p in sorted(tmp_path.iterdir())] == ["new a", "new b"]


# --------------------------------------------------------------------------- CSV safety


def test_csv_cells_a_spreadsheet_would_run_are_escaped(tmp_path, layer):
    path = agf.write_table(pd.DataFrame(layer.drop(columns="geometry")), tmp_path / "t.csv")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    by = dict(zip(rows[0], zip(*rows[1:], strict=True), strict=True))
    assert by["producer_name"] == ('\'=HYPERLINK("http://x")', "Peña Ñuñez", "-")
    assert by["note"] == ("'+51 942 000 000", "'@SUM(A1)", "-3.5")  # a number stays a number
    assert by["declared_area_ha"] == ("-3.5", "1.25", "")  # numeric column untouched
    assert by["parcel_id"] == ("00123", "12345678901234567", "A-7")


def test_escaped_cells_read_back_as_written(tmp_path, layer):
    back = agf.read_parcels(agf.write_table(layer.iloc[:2], tmp_path / "t.csv"))
    assert back["producer_name"].tolist() == layer["producer_name"].iloc[:2].tolist()
    assert back["note"].tolist() == layer["note"].iloc[:2].tolist()


def test_text_already_quoted_before_a_formula_sign_reads_back_unchanged(tmp_path):
    # found by the round-trip property below: the reader takes one quote off "'=...", so
    # a name that really starts with a quote needs one more quote on the way out
    names = ["'=", "''+x", "'-3.5", "'plain", "=SUM(A1)", "-"]
    df = gpd.GeoDataFrame(
        {"parcel_id": [f"p{i}" for i in range(6)], "producer_name": names},
        geometry=[shapely.box(-76.7 + i / 100, -7.2, -76.695 + i / 100, -7.195) for i in range(6)],
        crs=4326,
    )
    path = agf.write_table(df, tmp_path / "t.csv")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    col = rows[0].index("producer_name")
    assert [r[col] for r in rows[1:]] == ["''=", "'''+x", "''-3.5", "'plain", "'=SUM(A1)", "-"]
    assert agf.read_parcels(path)["producer_name"].tolist() == names


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", FORMATS)
def test_read_write_read_keeps_rows_ids_and_columns(tmp_path, layer, suffix):
    first = agf.read_parcels(agf.write_table(layer, tmp_path / f"a{suffix}"))
    second = agf.read_parcels(agf.write_table(first, tmp_path / f"b{suffix}"))
    assert list(second.columns) == list(first.columns) == list(layer.columns)
    assert second["parcel_id"].tolist() == layer["parcel_id"].tolist()
    assert second["producer_name"].tolist() == layer["producer_name"].tolist()
    np.testing.assert_array_equal(second["declared_area_ha"], layer["declared_area_ha"])
    assert second.geometry.isna().tolist() == [False, False, True]
    assert second.geometry.iloc[:2].geom_equals(layer.geometry.iloc[:2]).all()


@pytest.mark.parametrize("suffix", FORMATS)
def test_spanish_sample_round_trip(tmp_path, suffix):
    pts = agf.read_parcels(agf.datasets.get_path("gps_points_es"))
    back = agf.read_parcels(agf.write_table(pts, tmp_path / f"p{suffix}"))
    assert len(back) == 24 and back["parcel_id"].tolist() == pts["parcel_id"].tolist()
    assert list(back.columns) == list(pts.columns)
    assert back.geometry.geom_equals_exact(pts.geometry, tolerance=0).all()


# --------------------------------------------------------------------------- property


_IDS = st.from_regex(r"0[0-9]{1,16}|[A-Z]{1,3}-[0-9]{1,5}|[0-9]{17}", fullmatch=True)
_NAMES = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12
).filter(lambda s: s.strip() == s and s != "")


@st.composite
def messy_tables(draw):
    n = draw(st.integers(1, 8))
    ids = draw(st.lists(_IDS, min_size=n, max_size=n, unique=True))
    names = draw(st.lists(_NAMES, min_size=n, max_size=n))
    sizes = draw(st.lists(st.floats(1e-4, 5e-3), min_size=n, max_size=n))
    bowtie = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    decimal = draw(st.sampled_from([".", ","]))
    rows = []
    for k in range(n):
        x0, y0, d = -76.7 + 0.01 * k, -7.2, sizes[k]
        ring = [(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0, y0 + d)]
        if bowtie[k]:
            ring = [ring[0], ring[2], ring[1], ring[3]]
        wkt = shapely.Polygon(ring).wkt
        area = f"{d * 1e4:.3f}".replace(".", decimal)
        rows.append([ids[k], names[k], area, wkt])
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep).writerows([["codigo", "productor", "area_declarada_ha", "wkt"]])
    csv.writer(buf, delimiter=sep).writerows(rows)
    return buf.getvalue(), ids, names


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(table=messy_tables(), suffix=st.sampled_from(FORMATS))
def test_read_repair_measure_write_read_keeps_rows_and_ids(table, suffix):
    text, ids, names = table
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder) / "export.csv"
        src.write_text(text, encoding="utf-8")
        parcels = agf.read_parcels(src)
        fixed, _ = agf.repair(parcels, kind="parcels")
        fixed["area_ha"] = agf.area_ha(fixed)
        back = agf.read_parcels(agf.write_table(fixed, Path(folder) / f"out{suffix}"))
    assert len(back) == len(ids)
    assert back["parcel_id"].tolist() == ids
    assert back["producer_name"].tolist() == names
    # a CSV holds text: a column the schema does not type comes back as text
    assert (pd.to_numeric(back["area_ha"]) > 0).all()

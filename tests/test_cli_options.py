"""The command line's shared options: the same names everywhere, CLI wording, no input lost."""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo.cli import build_parser, main

LAYER_COMMANDS = [
    "validate", "area", "overlaps", "protected", "containment", "forest-cover", "forest-loss",
    "trees", "assess",
]  # fmt: skip
SAMPLE = {name: agf.datasets.get_path(name) for name in agf.datasets.available()}
SQUARE = shapely.box(-76.710, -7.180, -76.709, -7.179)
SRC = Path(__file__).resolve().parents[1] / "src"


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", LAYER_COMMANDS)
def test_every_layer_command_has_the_shared_options(command):
    sub = _subparsers()[command]
    options = {s for a in sub._actions for s in a.option_strings}
    assert {"--id-column", "--columns", "--layer", "--crs", "--overwrite", "-v"} <= options
    helps = {a.dest: a.help for a in sub._actions}
    reference = {a.dest: a.help for a in _subparsers()["validate"]._actions}
    for dest in ("id_column", "columns", "layer", "crs", "overwrite"):
        assert helps[dest] == reference[dest]  # one help text, defined once


def test_verbose_before_or_after_the_command():
    parser = build_parser()
    assert parser.parse_args(["-v", "area", "p.gpkg"]).verbose is True
    assert parser.parse_args(["area", "p.gpkg", "-v"]).verbose is True
    assert parser.parse_args(["area", "p.gpkg"]).verbose is False


def test_columns_is_repeatable_and_checked(capsys):
    args = build_parser().parse_args(
        ["protected", "p.gpkg", "a.gpkg", "--columns", "anp_nombre=name", "--columns", "x=y"]
    )
    assert args.columns == {"anp_nombre": "name", "x": "y"}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["area", "p.gpkg", "--columns", "anp_nombre"])
    assert "OLD=NEW" in capsys.readouterr().err


def test_cli_errors_quote_cli_options(tmp_path, capsys):
    path = tmp_path / "whisp.geojson"
    gpd.GeoDataFrame({"user_id": [1]}, geometry=[SQUARE], crs=4326).to_file(path)
    assert main(["protected", str(path), SAMPLE["protected_areas"]]) == 2
    err = capsys.readouterr().err
    assert "--id-column user_id" in err and "id_column=" not in err
    assert main(["protected", str(path), SAMPLE["protected_areas"], "--id-column", "user_id"]) == 0
    capsys.readouterr()
    assert main(["area", str(path), "--id-column", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--id-column nope" in err and "id_column=" not in err


def test_a_column_renamed_in_no_input_is_an_error(capsys):
    argv = ["protected", SAMPLE["parcels"], SAMPLE["protected_areas"], "--columns", "nom=name"]
    assert main(argv) == 2
    assert "no input layer has a column 'nom'" in capsys.readouterr().err


def test_validate_refuses_to_replace_its_input(tmp_path, capsys):
    parcels = tmp_path / "parcels.gpkg"
    shutil.copy(SAMPLE["parcels"], parcels)
    assert main(["validate", str(parcels), "--kind", "parcels", "-o", str(parcels)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert len(gpd.read_file(parcels)) == 293  # the parcels are still there
    same = tmp_path / "sub" / ".." / "parcels.gpkg"
    (tmp_path / "sub").mkdir()
    assert main(["area", str(parcels), "-o", str(same)]) == 2
    assert main(["area", str(parcels), "-o", str(parcels), "--overwrite"]) == 0
    assert "area_ha" in gpd.read_file(parcels).columns


def test_two_outputs_may_not_be_one_file(tmp_path, capsys):
    out = tmp_path / "x.gpkg"
    argv = ["validate", SAMPLE["parcels_messy"], "--kind", "parcels", "--repair"]
    assert main([*argv, "-o", str(out), "--output-repaired", str(out)]) == 2
    assert "two outputs" in capsys.readouterr().err


def test_area_output_keeps_the_input_columns(tmp_path):
    out = tmp_path / "area.gpkg"
    assert main(["area", SAMPLE["parcels"], "-o", str(out)]) == 0
    table = gpd.read_file(out)
    parcels = agf.read_parcels(SAMPLE["parcels"])
    inputs = [c for c in parcels.columns if c != "geometry"]
    assert [c for c in table.columns if c in inputs] == inputs  # all 7, in order
    assert {"area_ha", "perimeter_m", "declared_ratio"} <= set(table.columns)
    assert table["producer_name"].tolist() == parcels["producer_name"].tolist()


@pytest.mark.parametrize(
    "argv",
    [
        ["protected", SAMPLE["parcels"], SAMPLE["protected_areas"]],
        ["forest-cover", SAMPLE["parcels"], SAMPLE["treecover"]],
        ["containment", SAMPLE["plots"], SAMPLE["parcels"]],
        ["trees", SAMPLE["plots"], "--inventory", SAMPLE["tree_inventory"]],
    ],
)
def test_outputs_keep_the_input_columns(tmp_path, argv):
    out = tmp_path / "out.csv"
    assert main([*argv, "-o", str(out)]) == 0
    table = pd.read_csv(out, dtype=str)
    layer = agf.read_raw(argv[1])
    assert [c for c in layer.columns if c != "geometry"] == list(
        table.columns[: layer.shape[1] - 1]
    )
    assert len(table) == len(layer)


def test_several_protected_files(tmp_path, caplog):
    files = []
    for k, (name, cat) in enumerate(
        [("pn_a", "Parque Nacional"), ("bp_b", "Bosque de Protección")]
    ):
        path = tmp_path / f"{name}.gpkg"
        box = shapely.box(-76.75 + 0.05 * k, -7.20, -76.70 + 0.05 * k, -7.15)
        gpd.GeoDataFrame(
            {"anp_cate": [cat], "anp_nombre": [name]}, geometry=[box], crs=4326
        ).to_file(path)
        files.append(str(path))
    out = tmp_path / "p.csv"
    argv = ["protected", SAMPLE["parcels"], *files, "-o", str(out), "-v"]
    assert main([*argv, "--columns", "anp_nombre=name", "--columns", "anp_cate=category"]) == 0
    table = pd.read_csv(out)
    ids = set(";".join(table["protected_area_ids"].dropna()).split(";"))
    assert ids == {"pn_a-1", "bp_b-1"}
    with caplog.at_level(logging.INFO, logger="agroforest_geo"):
        assert main(argv) == 0  # the readers know SERNANP's names themselves
    assert "'anp_nombre' as 'name'" in caplog.text


def test_assess_takes_several_protected_files(tmp_path):
    args = build_parser().parse_args(
        ["assess", "p.gpkg", "--protected", "a.gpkg", "b.gpkg", "--protected", "c.gpkg",
         "--output-dir", "out"]
    )  # fmt: skip
    assert args.protected == ["a.gpkg", "b.gpkg", "c.gpkg"]


def test_spanish_csv_and_utm_csv_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "area.csv"
    assert main(["area", SAMPLE["gps_points_es"], "--kind", "parcels", "-o", str(out)]) == 0
    table = pd.read_csv(out, dtype=str)
    assert table["parcel_id"].iloc[0] == "000006" and len(table) == 24
    utm = tmp_path / "utm.csv"
    utm.write_text("codigo;Este;Norte\n001;321456,5;9201345,2\n", encoding="utf-8")
    assert main(["validate", str(utm), "--kind", "parcels"]) == 2
    err = capsys.readouterr().err
    assert "--crs EPSG:32718" in err and "crs=" not in err
    assert main(["area", str(utm), "--kind", "parcels", "--crs", "EPSG:32718"]) == 0


@pytest.mark.shared
def test_real_files_on_the_command_line(shared_data, tmp_path, capsys):
    whisp = str(shared_data / "whisp" / "geojson_example.geojson")
    anp = sorted(str(p) for p in (shared_data / "perugeopkg" / "anp").glob("[pb][np]_*.gpkg"))
    out = tmp_path / "p.csv"
    assert main(["protected", whisp, *anp, "--id-column", "user_id", "-o", str(out)]) == 0
    table = pd.read_csv(out, dtype=str)
    assert len(table) == 50 and table["parcel_id"].iloc[0] == "1"


def test_a_layer_without_crs_on_the_command_line(tmp_path, capsys):
    shp = tmp_path / "sin_prj.shp"
    gdf = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[SQUARE], crs=None)
    gdf.to_file(shp)
    assert main(["forest-cover", str(shp), SAMPLE["treecover"]]) == 2
    err = capsys.readouterr().err
    assert "--crs EPSG:4326" in err and "set_crs" not in err
    assert main(["forest-cover", str(shp), SAMPLE["treecover"], "--crs", "EPSG:4326"]) == 0


def test_layer_picks_a_workbook_sheet(tmp_path):
    book = tmp_path / "socios.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as xl:
        pd.DataFrame({"notas": ["x"]}).to_excel(xl, sheet_name="leeme", index=False)
        pd.DataFrame({"codigo": ["00077"], "Longitud": [-76.7095], "Latitud": [-7.1795]}).to_excel(
            xl, sheet_name="parcelas", index=False
        )
    out = tmp_path / "area.csv"
    assert (
        main(["area", str(book), "--kind", "parcels", "--layer", "parcelas", "-o", str(out)]) == 0
    )
    assert pd.read_csv(out, dtype=str)["parcel_id"].tolist() == ["00077"]


def test_a_new_users_gps_points_on_the_command_line(tmp_path):
    # as a new user runs it: the real command, in its own interpreter, warnings as it prints them
    csv = tmp_path / "puntos.csv"
    csv.write_text(
        "codigo;latitud;longitud;area_ha\n"
        "PE-001;-6,512;-76,734;2,5\n"
        "PE-002;-6,498;-76,701;1,8\n"
        "PE-003;-76,690;-6,505;3,1\n",
        encoding="utf-8",
    )
    out = tmp_path / "area.csv"
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def run(*argv: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "agroforest_geo.cli", *argv]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)

    done = run("area", str(csv), "--kind", "parcels", "-o", str(out))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out, dtype={"parcel_id": str})
    assert table["declared_area_ha"].tolist() == [2.5, 1.8, 3.1]
    assert table["area_ha"].iloc[:2].tolist() == pytest.approx([2.5, 1.8], abs=1e-6)
    # the swapped row is named with its fix, worded with the command line's options
    assert "GeometryWarning: 1 of 3 rows of the parcels layer" in done.stderr
    assert "parcel_id PE-003 (x -6.505, y -76.69; swapped: x -76.69, y -6.505)" in done.stderr
    assert f"agroforest-geo validate {csv} --kind parcels --repair" in done.stderr
    assert "repair(gdf" not in done.stderr
    # without --kind the area column is not the model's: the warning says what to add
    done = run("area", str(csv))
    assert done.returncode == 0, done.stderr
    assert "ColumnWarning: 3 point(s) of the layer are measured as circles of 4 ha" in done.stderr
    assert "map it with --columns area_ha=declared_area_ha" in done.stderr
    assert "with --kind parcels or plots" in done.stderr
    # validate reports the row (exit 1: an error) and repairs it only when asked
    assert run("validate", str(csv), "--kind", "parcels").returncode == 1

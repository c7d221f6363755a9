"""Error paths are total: malformed files are reported, reports still written, OSErrors one line."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from rasterio.transform import from_origin

import agroforest_geo as agf
from agroforest_geo.cli import main
from agroforest_geo.eudr import geojson as eu_geojson

SQUARE_AND_RING_5 = [[[0, 0], [1, 0], [1, 1], [0, 0]], [5]]  # a hole that is "[5]"
MIXED = [5, [[[0, 0], "x", [1, 1], [0, 0]]]]


def _feature(geometry: object, **props: object) -> dict:
    base = {"ProducerName": "A", "ProducerCountry": "PE"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


def _check(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "f.geojson"
    path.write_text(text)
    return agf.eudr.check_geojson(path)["code"].tolist()


@pytest.mark.parametrize(
    ("geometry", "code"),
    [
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]], [5]]},
            "invalid_ring",
        ),
        ({"type": "Polygon", "coordinates": [[5]]}, "unsupported_geometry"),
        (
            {"type": "MultiPolygon", "coordinates": [5, [[[0, 0], "x", [1, 1], [0, 0]]]]},
            "invalid_ring",
        ),
        ({"type": ["Point"]}, "unsupported_geometry"),
        ({"type": "Point", "coordinates": [1e400, 0]}, "unsupported_geometry"),
    ],
)
def test_malformed_geometries_are_problems_not_tracebacks(tmp_path, geometry, code):
    fc = {"type": "FeatureCollection", "features": [_feature(geometry, Area=1.0)]}
    text = json.dumps(fc).replace("Infinity", "1e400")  # a number JSON can hold, float cannot
    assert code in _check(tmp_path, text)


def test_deep_nesting_nan_literals_and_odd_crs_are_problems(tmp_path):
    deep = '{"type":"FeatureCollection","features":[' + "[" * 100_000 + "]" * 100_000 + "]}"
    assert _check(tmp_path, deep) == ["invalid_json"]  # was RecursionError
    nan = json.dumps({"type": "FeatureCollection", "features": [_feature(None, Area=float("nan"))]})
    assert _check(tmp_path, nan) == ["invalid_json"]  # NaN is not JSON (RFC 8259)
    odd = json.dumps({"type": "FeatureCollection", "crs": {"properties": 5}, "features": []})
    assert _check(tmp_path, odd) == ["crs_not_wgs84"]  # was AttributeError


def test_files_over_the_read_limit_are_not_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(eu_geojson, "READ_LIMIT_BYTES", 1_000)
    feats = [_feature({"type": "Point", "coordinates": [-76.7, -7.2]}, Area=1.0)] * 40
    path = tmp_path / "big.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    out = agf.eudr.check_geojson(path, max_bytes=500)
    assert out["code"].tolist() == ["file_too_large", "file_too_large"]
    assert "not read further" in out["message"].iloc[1]


def test_report_is_written_when_the_loss_raster_misses_the_parcels(tmp_path):
    from test_raster import write_tif

    parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(5)
    # a "wrong Hansen tile": a loss raster 10 degrees away from the parcels
    loss = write_tif(
        tmp_path / "loss.tif",
        np.full((50, 50), 21, "uint8"),
        from_origin(-66.0, -7.0, 0.00025, 0.00025),
        crs="EPSG:4326",
        nodata=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = agf.eudr.assess(parcels, loss=loss)
    with pytest.warns(agf.NoDataWarning, match="covers none of the parcels"):
        path = agf.report(res, parcels, tmp_path / "report.html", lossyear=loss)
    html = Path(path).read_text(encoding="utf-8")  # was WindowError: Intersection is empty
    assert "covers none of the parcels" in html


def test_cli_reports_os_errors_in_one_line(tmp_path, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    parcels = agf.datasets.get_path("parcels")
    out = blocker / "findings.csv"  # its parent is a file: the write fails with an OSError
    status = main(["validate", parcels, "--kind", "parcels", "--output", str(out)])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1 and "not_a_folder" in err and "Traceback" not in err

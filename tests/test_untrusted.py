"""Untrusted inputs: no network by default, VRT sources checked, checkpoints without pickles."""

from __future__ import annotations

import http.server
import json
import pickle
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo.distributed import run
from agroforest_geo.errors import AgroforestGeoError, UnreadableInputError


@pytest.fixture
def server() -> Iterator[tuple[int, list[str]]]:
    """A local HTTP server that records every request (and answers 404)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_port, hits
    srv.shutdown()
    srv.server_close()


def _linked_crs_geojson(path: Path, port: int) -> Path:
    fc = {
        "type": "FeatureCollection",
        "crs": {
            "type": "link",
            "properties": {"href": f"http://127.0.0.1:{port}/ref/epsg/4326/", "type": "proj4"},
        },
        "features": [
            {
                "type": "Feature",
                "properties": {"parcel_id": "a"},
                "geometry": {"type": "Point", "coordinates": [-76.7, -7.2]},
            }
        ],
    }
    path.write_text(json.dumps(fc))
    return path


def test_a_linked_crs_sends_no_request(tmp_path, server):
    port, hits = server
    path = _linked_crs_geojson(tmp_path / "linked.geojson", port)
    parcels = agf.read_parcels(path)
    assert hits == [] and len(parcels) == 1  # GDAL fetched the link before
    agf.read_parcels(path, allow_network=True)
    assert hits == ["/ref/epsg/4326/"]  # the opt-in works (and the test server sees requests)
    with agf.allow_network():
        agf.read_raw(path)
    assert len(hits) == 2


def test_network_paths_are_refused(tmp_path, server):
    port, hits = server
    with pytest.raises(UnreadableInputError, match="network access is off"):
        agf.read_parcels(f"/vsicurl/http://127.0.0.1:{port}/p.geojson")
    parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(2)
    with pytest.raises(UnreadableInputError, match="--allow-network"):
        agf.forest_cover(parcels, f"https://127.0.0.1:{port}/cover.tif")
    assert hits == []


def _vrt(path: Path, band: str) -> Path:
    path.write_text(f'<VRTDataset rasterXSize="2" rasterYSize="2">{band}</VRTDataset>')
    return path


@pytest.mark.parametrize(
    ("band", "match"),
    [
        (
            '<VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">'
            "<SourceFilename>/etc/hostname</SourceFilename></VRTRasterBand>",
            "VRTRawRasterBand",
        ),
        (
            '<VRTRasterBand dataType="Byte" band="1" subClass="VRTDerivedRasterBand">'
            "<PixelFunctionType>inv</PixelFunctionType></VRTRasterBand>",
            "VRTDerivedRasterBand",
        ),
        (
            '<VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
            "<SourceFilename>/vsicurl/http://127.0.0.1:9/a.tif</SourceFilename>"
            "</SimpleSource></VRTRasterBand>",
            "network source",
        ),
        (
            '<VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
            "<SourceFilename>/no/such/file.tif</SourceFilename></SimpleSource></VRTRasterBand>",
            "not an existing local file",
        ),
    ],
)
def test_vrt_sources_must_be_local_raster_files(tmp_path, band, match):
    vrt = _vrt(tmp_path / "x.vrt", band)
    parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(2)
    with pytest.raises(UnreadableInputError, match=match):
        agf.forest_cover(parcels, vrt)


def test_nested_vrt_is_checked_and_a_plain_vrt_works(tmp_path):
    bad = _vrt(
        tmp_path / "inner.vrt",
        '<VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">'
        "<SourceFilename>/etc/hostname</SourceFilename></VRTRasterBand>",
    )
    outer = _vrt(
        tmp_path / "outer.vrt",
        '<VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
        f'<SourceFilename relativeToVRT="1">{bad.name}</SourceFilename>'
        "</SimpleSource></VRTRasterBand>",
    )
    parcels = agf.read_parcels(agf.datasets.get_path("parcels")).head(3)
    with pytest.raises(UnreadableInputError, match="VRTRawRasterBand"):
        agf.forest_cover(parcels, outer)
    # a VRT of local tiles (what agf.mosaic builds) reads as the raster itself
    tif = agf.datasets.get_path("treecover")
    vrt = agf.mosaic.build_vrt([tif], tmp_path / "ok.vrt")
    a = agf.forest_cover(parcels, vrt)
    b = agf.forest_cover(parcels, tif)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12)


# ------------------------------------------------------------------ checkpoints
@pytest.fixture
def parcels() -> gpd.GeoDataFrame:
    return agf.read_parcels(agf.datasets.get_path("parcels")).head(40)


def _cover(gdf, threshold, ck):
    return run(
        agf.forest_cover,
        gdf,
        agf.datasets.get_path("treecover"),
        threshold=threshold,
        npartitions=4,
        scheduler="synchronous",
        checkpoint_dir=ck,
    )


def test_checkpoint_of_another_threshold_is_refused(tmp_path, parcels):
    ck = tmp_path / "ck"
    low = _cover(parcels, 10, ck)
    assert not list(ck.glob("*.pkl"))
    with pytest.raises(AgroforestGeoError, match=r"another run.*arguments"):
        _cover(parcels, 90, ck)  # returned the threshold=10 hectares before
    high = _cover(parcels, 90, tmp_path / "ck2")
    expected = agf.forest_cover(parcels, agf.datasets.get_path("treecover"), threshold=90)
    np.testing.assert_allclose(high["forest_ha"], expected["forest_ha"], rtol=1e-12)
    assert high["forest_ha"].sum() < low["forest_ha"].sum()
    again = _cover(parcels, 10, ck)  # the same run: read back, equal
    np.testing.assert_allclose(again.to_numpy(), low.to_numpy(), rtol=0)


def test_checkpoint_of_edited_parcels_or_a_changed_raster_is_refused(tmp_path, parcels):
    ck = tmp_path / "ck"
    run(agf.area_ha, parcels, npartitions=4, scheduler="synchronous", checkpoint_dir=ck)
    edited = parcels.copy()
    edited.loc[edited.index[5], "geometry"] = shapely.affinity.scale(
        edited.geometry.iloc[5], 2.0, 2.0
    )
    with pytest.raises(AgroforestGeoError, match="another run"):
        run(agf.area_ha, edited, npartitions=4, scheduler="synchronous", checkpoint_dir=ck)
    # a raster rewritten in place (other mtime and size) is another input too
    src = Path(agf.datasets.get_path("treecover"))
    copy = tmp_path / "cover.tif"
    copy.write_bytes(src.read_bytes())
    ck2 = tmp_path / "ck2"
    kw = {"npartitions": 4, "scheduler": "synchronous", "checkpoint_dir": ck2}
    run(agf.forest_cover, parcels, copy, **kw)
    copy.write_bytes(src.read_bytes() + b"\0" * 16)
    with pytest.raises(AgroforestGeoError, match="arguments"):
        run(agf.forest_cover, parcels, copy, **kw)


def test_a_checkpoint_that_disagrees_with_its_partition_is_refused(tmp_path, parcels):
    ck = tmp_path / "ck"
    run(agf.area_ha, parcels, npartitions=4, scheduler="synchronous", checkpoint_dir=ck)
    meta = ck / "part-00001.json"
    stored = json.loads(meta.read_text())
    stored["geometry"] = "0" * 64
    meta.write_text(json.dumps(stored))
    with pytest.raises(AgroforestGeoError, match="partition 1"):
        run(agf.area_ha, parcels, npartitions=4, scheduler="synchronous", checkpoint_dir=ck)


class _Payload:
    def __reduce__(self):  # what a crafted pickle would do when loaded
        return (Path.touch, (Path(self.target),))

    def __init__(self, target: str) -> None:
        self.target = target


def test_reports_are_checkpointed_without_pickle_and_pickles_are_never_read(tmp_path, parcels):
    ck = tmp_path / "ck"
    marker = tmp_path / "pwned"
    ck.mkdir()
    for p in range(4):
        (ck / f"part-{p:05d}.pkl").write_bytes(pickle.dumps(_Payload(str(marker))))
    messy = agf.read_parcels(agf.datasets.get_path("parcels_messy"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = run(agf.validate, messy, npartitions=4, scheduler="synchronous", checkpoint_dir=ck)
        b = run(agf.validate, messy, npartitions=4, scheduler="synchronous", checkpoint_dir=ck)
    assert not marker.exists()
    assert list(ck.glob("part-*.findings.parquet"))
    assert a.findings.equals(b.findings)
    expected = agf.validate(messy)
    assert sorted(a.findings["code"]) == sorted(expected.findings["code"])

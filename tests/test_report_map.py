"""The report's map: clusters in their own projection, every plot visible, bounded raster reads."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import shapely

import agroforest_geo as agf
from agroforest_geo.reporting._map import TINY_SHARE, find_clusters, svg_paths

get = agf.datasets.get_path

_SVG = re.compile(r'<svg class="map" id="map-(\d+)"[^>]*viewBox="0 0 (\d+) (\d+)"(.*?)</svg>', re.S)
_PARCEL = re.compile(r'<path class="parcel ([^"]*)" d="([^"]*)" data-i="(\d+)"')


def _maps(html: str) -> list[tuple[int, list[tuple[str, str, int]]]]:
    return [
        (int(w), [(c, d, int(i)) for c, d, i in _PARCEL.findall(body)])
        for _, w, _, body in _SVG.findall(html)
    ]


def _extent(d: str) -> float:
    xy = np.array([float(v) for v in re.findall(r"-?\d+", d)]).reshape(-1, 2)
    return float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1])))


def test_whisp_plots_on_three_continents(shared_data, tmp_path):
    plots = gpd.read_file(shared_data / "whisp" / "geojson_example.geojson")
    plots["parcel_id"] = "W" + plots.pop("user_id").astype(str)
    a = agf.run_assessment(plots)
    html = a.report(tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    maps = _maps(html)
    # one drawing per cluster; the plots of Africa, Asia, Europe and the Americas are apart
    assert len(maps) >= 3
    drawn = sorted(i for _, paths in maps for _, _, i in paths)
    assert drawn == list(range(len(plots)))
    for width, paths in maps:
        for cls, d, i in paths:
            assert d, i
            # visible at the cluster's home zoom on a 1,000-pixel map: at least 4 pixels
            # across, or drawn with the thick outline of a tiny plot
            assert "tiny" in cls or _extent(d) >= TINY_SHARE * width, (i, cls, _extent(d))
    # each cluster in a projection centred on it (no single UTM zone)
    assert html.count("azimuthal equidistant projection centred on") >= 1


def test_clusters_of_far_apart_parcels():
    near = [shapely.box(-76.0 + k * 0.01, -7.0, -75.995 + k * 0.01, -6.995) for k in range(5)]
    far = [shapely.box(-5.28, 6.81, -5.27, 6.82), shapely.box(105.0, 10.0, 105.01, 10.01)]
    parcels = gpd.GeoDataFrame(geometry=near + far, crs=4326)
    clusters = find_clusters(parcels)
    assert [len(c.members) for c in clusters] == [5, 1, 1]
    assert sorted(np.concatenate([c.members for c in clusters]).tolist()) == list(range(7))


def test_paths_are_integer_units_and_points_become_dots():
    parcels = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.Point(500, 500), shapely.box(0, 0, 1, 1)],
        crs=32718,
    )
    cl = find_clusters(parcels)[0]
    proj = parcels.geometry.to_crs(cl.crs).to_numpy()
    cl.fit(shapely.total_bounds(proj))
    paths, tiny = svg_paths(proj, cl)
    assert re.fullmatch(r"M(\d+ \d+ ){3}\d+ \d+Z", paths[0])
    assert paths[1].endswith("l0 0") and tiny[1]
    assert tiny[2] and not tiny[0]


def test_loss_raster_covering_no_parcel(tmp_path):
    parcels = agf.read_parcels(get("parcels")).head(4)
    moved = parcels.set_geometry(parcels.geometry.translate(xoff=40.0))  # far from the raster
    a = agf.run_assessment(moved, loss=get("lossyear"))
    html = a.report(tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert 'class="loss"' not in html
    assert len(_PARCEL.findall(html)) == 4


def test_loss_is_drawn_under_the_parcels(tmp_path):
    a = agf.run_assessment(get("parcels"), loss=get("lossyear"))
    html = a.report(tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert html.count('<path class="loss"') >= 1 + int(
        (a.result["loss_after_cutoff_ha"] > 0).sum() > 0
    )

"""The ring-area kernel: compiled and numpy twins agree, and both match an exact evaluation."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pyproj
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st

from agroforest_geo import _ringarea
from agroforest_geo.area import geodesic_area_m2

GEOD = pyproj.Geod(ellps="WGS84")
needs_numba = pytest.mark.skipif(
    not _ringarea._numba_available(), reason="numba (the fast extra) is not installed"
)
BACKENDS = ["numpy", pytest.param("numba", marks=needs_numba)]


def _areas(geoms, backend: str, crs=4326) -> np.ndarray:
    with pytest.MonkeyPatch.context() as m:
        m.setenv(_ringarea.ENV_VAR, backend)
        return geodesic_area_m2(geoms, crs)


def _parcel(lon: float, lat: float, radius_m: float, k: int, seed: int) -> shapely.Polygon:
    rng = np.random.default_rng(seed)
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    r = radius_m * rng.uniform(0.5, 1.0, k)
    x = lon + r * np.cos(ang) / (111_320 * math.cos(math.radians(lat)))
    y = lat + r * np.sin(ang) / 110_574
    return shapely.Polygon(np.c_[x, y])


@needs_numba
@settings(max_examples=80, deadline=None)
@given(
    lon=st.floats(-180.0, 180.0),
    lat=st.floats(-84.0, 84.0),
    log_r=st.floats(math.log10(5.0), math.log10(200_000.0)),
    k=st.integers(3, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_compiled_and_numpy_kernels_agree_on_random_parcels(lon, lat, log_r, k, seed):
    # from a 5 m plot to a 400 km protected area, anywhere (antimeridian included)
    p = _parcel(lon, lat, 10.0**log_r, k, seed)
    hole = shapely.affinity.scale(p, 0.3, 0.3)
    geoms = [p, shapely.Polygon(p.exterior.coords, [hole.exterior.coords[::-1]])]
    np.testing.assert_allclose(_areas(geoms, "numba"), _areas(geoms, "numpy"), rtol=1e-12, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_published_reference_values(backend):
    # pyproj's own test (test_geod.py) and GeographicLib's Planimeter examples, as in test_area.py
    poly = shapely.Polygon([(1, 1), (1, 10), (10, 10), (10, 1)], [[(1, 2), (3, 4), (5, 2)]])
    polar = shapely.Polygon([(0, 89), (90, 89), (180, 89), (270, 89)])
    diamond = shapely.Polygon([(-1, 0), (0, -1), (1, 0), (0, 1)])
    a, b, c = _areas([poly, polar, diamond], backend)
    assert a == pytest.approx(944373881400.3394, rel=1e-9)
    assert b == pytest.approx(24952305678.0, rel=1e-7)
    assert c == pytest.approx(24619419146.0, rel=1e-8)


@needs_numba
def test_kernels_agree_on_the_reference_polygons_and_a_utm_layer():
    geoms = [
        shapely.Polygon([(1, 1), (1, 10), (10, 10), (10, 1)], [[(1, 2), (3, 4), (5, 2)]]),
        shapely.Polygon([(0, 89), (90, 89), (180, 89), (270, 89)]),
        shapely.Polygon([(-1, 0), (0, -1), (1, 0), (0, 1)]),
        shapely.Polygon([(179.9, -17), (-179.9, -17), (-179.9, -16.9), (179.9, -16.9)]),
        shapely.box(-0.001, 89.998, 0.001, 89.9999),  # next to the pole
    ]
    np.testing.assert_allclose(_areas(geoms, "numba"), _areas(geoms, "numpy"), rtol=1e-12)
    utm = [shapely.box(500_000 + i, 9_200_000, 500_100 + i, 9_200_100 + i) for i in range(50)]
    np.testing.assert_allclose(
        _areas(utm, "numba", 32718),
        _areas(utm, "numpy", 32718),
        rtol=1e-12,
    )


# an exact evaluation of the same projection (Snyder's textbook formulas, 50 digits)
def _dsin(x: Decimal) -> Decimal:
    term, total, n = x, x, 1
    while abs(term) > Decimal(10) ** -60:
        term = -term * x * x / ((2 * n) * (2 * n + 1))
        total += term
        n += 1
    return total


def _dcos(x: Decimal) -> Decimal:
    term, total, n = Decimal(1), Decimal(1), 1
    while abs(term) > Decimal(10) ** -60:
        term = -term * x * x / ((2 * n - 1) * (2 * n))
        total += term
        n += 1
    return total


def _datanh(x: Decimal) -> Decimal:
    term, total, n = x, x, 1
    while abs(term) > Decimal(10) ** -60:
        term = term * x * x
        total += term / (2 * n + 1)
        n += 1
    return total


def _exact_ring_area(lon: np.ndarray, lat: np.ndarray) -> float:
    """Shoelace area (authalic radius = 1) of the ring projected about its mean vertex."""
    with localcontext() as ctx:
        ctx.prec = 50
        e2 = Decimal(GEOD.es)
        e = e2.sqrt()
        pi = Decimal("3.14159265358979323846264338327950288419716939937510")
        deg = pi / 180

        def q(s: Decimal) -> Decimal:
            return (1 - e2) * (s / (1 - e2 * s * s) + _datanh(e * s) / e)

        qp = q(Decimal(1))
        lons = [Decimal(float(v)) for v in lon]
        lats = [Decimal(float(v)) for v in lat]
        # the kernel's centre: the float mean (a different centre moves the area by ~1e-9)
        lon0 = Decimal(float(lon[0] + np.sum(lon - lon[0]) / lon.size))
        lat0 = Decimal(float(np.sum(lat) / lat.size))
        sb1 = q(_dsin(lat0 * deg)) / qp
        cb1 = (1 - sb1 * sb1).sqrt()
        xs, ys = [], []
        for lo, la in zip(lons, lats, strict=True):
            sb = q(_dsin(la * deg)) / qp
            cb = (1 - sb * sb).sqrt()
            dl = (lo - lon0) * deg
            cosc = sb1 * sb + cb1 * cb * _dcos(dl)
            k = (2 / (1 + cosc)).sqrt()
            xs.append(k * cb * _dsin(dl))
            ys.append(k * (cb1 * sb - sb1 * cb * _dcos(dl)))
        acc = sum(xs[i] * ys[i + 1] - xs[i + 1] * ys[i] for i in range(len(xs) - 1))
        return float(abs(acc) / 2)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("lon", "lat", "radius_m"), [(-76.7, -7.2, 5.0), (-76.7, -7.2, 40.0), (10.0, 60.0, 150.0)]
)
def test_kernel_matches_an_exact_evaluation_of_the_projection(backend, lon, lat, radius_m):
    # the textbook northing cancels: in doubles a 0.5 ha parcel's area moves by ~1e-11;
    # the kernel carries differences from the centre and stays within a few 1e-15
    p = _parcel(lon, lat, radius_m, 12, seed=7)
    xy = shapely.get_coordinates(p)
    start = np.array([0, xy.shape[0]])
    ours = _ringarea.ring_areas(xy[:, 0], xy[:, 1], start, GEOD.es, use=backend)[0]
    assert ours == pytest.approx(_exact_ring_area(xy[:, 0], xy[:, 1]), rel=5e-14)


def test_the_kernel_is_chosen_by_the_environment(monkeypatch):
    monkeypatch.setenv(_ringarea.ENV_VAR, "numpy")
    assert _ringarea.backend() == "numpy"
    monkeypatch.setenv(_ringarea.ENV_VAR, "auto")
    # a small call takes the numpy kernel, whether or not numba is loaded: the same
    # call gives the same bits whatever the process did before
    for loaded in (False, True):
        monkeypatch.setattr(_ringarea._jit, "loaded", lambda loaded=loaded: loaded)
        assert _ringarea.backend(n_vertices=_ringarea.MIN_COMPILED_VERTICES - 1) == "numpy"
    if _ringarea._numba_available():
        assert _ringarea.backend(n_vertices=_ringarea.MIN_COMPILED_VERTICES) == "numba"
        monkeypatch.setenv(_ringarea.ENV_VAR, "numba")  # forced, whatever the size
        assert _ringarea.backend(n_vertices=10) == "numba"
    monkeypatch.setenv(_ringarea.ENV_VAR, "fortran")
    with pytest.raises(ValueError, match="'auto', 'numba' or 'numpy'"):
        _ringarea.backend()
    monkeypatch.setattr(_ringarea, "_numba_available", lambda: False)
    monkeypatch.setenv(_ringarea.ENV_VAR, "auto")
    assert _ringarea.backend() == "numpy"
    with pytest.raises(ImportError, match=r"agroforest-geo\[fast\]"):
        _ringarea.backend("numba")


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_and_blocks_give_the_same_bits(backend, monkeypatch):
    import agroforest_geo.area as area_module

    monkeypatch.setenv(_ringarea.ENV_VAR, backend)

    parcels = np.array(
        [_parcel(-76.7 + 0.01 * i, -7.2, 30.0 + i, 5 + i % 9, seed=i) for i in range(300)]
        + [shapely.Polygon([(179.9, -17), (-179.9, -17), (-179.9, -16.9), (179.9, -16.9)])]
    )
    one = geodesic_area_m2(parcels, 4326, n_jobs=1)
    monkeypatch.setattr(area_module, "_MIN_VERTICES_PER_JOB", 16)
    monkeypatch.setattr(area_module, "_BLOCK_VERTICES", 100)
    for n_jobs in (1, 2, 3, -1):
        assert np.array_equal(geodesic_area_m2(parcels, 4326, n_jobs=n_jobs), one)
    with pytest.raises(ValueError, match="n_jobs"):
        geodesic_area_m2(parcels, 4326, n_jobs=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_screen_ignores_the_step_between_two_rings(backend):
    # two small rings 10 degrees apart: no long edge, though the step between them is long
    a = np.asarray(shapely.box(0, 0, 0.001, 0.001).exterior.coords)
    b = a + 10.0
    lon, lat = np.r_[a[:, 0], b[:, 0]], np.r_[a[:, 1], b[:, 1]]
    start = np.array([0, 5, 10])
    assert _ringarea.screen(lon, lat, start, 0.01, use=backend) == (False, False)
    assert _ringarea.screen(lon, lat, start, 0.0005, use=backend) == (False, True)
    start_empty = np.array([0, 0, 5, 5, 10, 10])  # empty rings in between
    assert _ringarea.screen(lon, lat, start_empty, 0.01, use=backend) == (False, False)
    lat[7] = 91.0
    assert _ringarea.screen(lon, lat, start, 0.01, use=backend) == (True, True)


@needs_numba
@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 6), min_size=1, max_size=8),
    seed=st.integers(0, 2**32 - 1),
    step=st.sampled_from([0.05, 0.5, 2.0]),
)
def test_compiled_and_numpy_screens_agree(sizes, seed, step):
    # rings of 0-6 vertices (empty ones too), steps around the limit, a few impossible values
    rng = np.random.default_rng(seed)
    start = np.r_[0, np.cumsum(sizes)]
    n = int(start[-1])
    lon = rng.uniform(-1, 1, n).cumsum()
    lat = rng.uniform(-1, 1, n).cumsum()
    if n and rng.random() < 0.3:
        lat[rng.integers(n)] = rng.choice([np.nan, np.inf, 95.0, -90.0])
    want = _ringarea.screen(lon, lat, start, step, use="numpy")
    assert _ringarea.screen(lon, lat, start, step, use="numba") == want


def test_a_small_call_does_not_import_numba():
    """Measuring a few hundred parcels costs no numba import (~0.2 s plus its kernels)."""
    import subprocess
    import sys

    code = (
        "import sys, agroforest_geo as agf\n"
        "p = agf.read_parcels(agf.datasets.get_path('parcels'))\n"
        "a = agf.area_ha(p)\n"
        "assert a.notna().all()\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

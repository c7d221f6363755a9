"""The ring-area kernel: compiled and numpy twins agree, and both match an exact evaluation."""

from __future__ import annotations

import itertools
import math
import os
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


# --- the tiled compiled loop: whole rings per tile, the polynomial branch recomputed -------


def _awkward_rings(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rings one after another (lon, lat, start): every case the tiles must not change.

    Tiny to ~3,000 km, across the antimeridian (unwrapped or not), at and next to the poles,
    on either side of the 0.01 rad limit of the polynomial branch, empty, of 1 or 2 vertices,
    a NaN or an infinite vertex, and rings of 1,023 to 3,000 vertices (a tile is 1,024).
    """
    rng = np.random.default_rng(seed)
    lons, lats = [], []
    for _ in range(int(rng.integers(5, 40))):
        k = int(rng.choice([0, 1, 2, 3, 5, 8, 20, 1022, 1023, 1024, 3000, 4, 6, 9, 12]))
        lon0, lat0 = rng.uniform(-180, 180), rng.uniform(-89, 89)
        how = int(rng.integers(0, 8))
        if how == 0:
            lon0 = float(rng.choice([180.0, -180.0, 179.9999]))
        elif how == 1:
            lat0 = float(rng.choice([89.9999, -89.99999, 90.0]))
        radius = 10.0 ** rng.uniform(-9, 1.5)
        if how == 2:  # about 0.01 rad from the centre: the limit of the polynomial branch
            radius = 0.01 / _ringarea._DEG * rng.uniform(0.98, 1.02)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        lon = lon0 + radius * np.cos(ang)
        lat = np.clip(lat0 + radius * np.sin(ang), -90, 90)
        if how == 3:
            lon = np.where(lon > 180, lon - 360, lon)  # wrapped across the antimeridian
        if how == 4 and k:
            lat[rng.integers(k)] = np.nan
        if how == 5 and k:
            lon[rng.integers(k)] = rng.choice([np.inf, -np.inf, 1e308])
        if k:
            lon, lat = np.r_[lon, lon[:1]], np.r_[lat, lat[:1]]
        lons.append(lon)
        lats.append(lat)
    start = np.r_[0, np.cumsum([len(v) for v in lons])].astype(np.int64)
    return np.concatenate(lons), np.concatenate(lats), start


def _one_by_one(lon, lat, start, use: str) -> np.ndarray:
    return np.array(
        [
            _ringarea.ring_areas(lon[a:b], lat[a:b], np.array([0, b - a]), GEOD.es, use=use)[0]
            for a, b in itertools.pairwise(start)
        ]
    )


@needs_numba
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shift=st.integers(0, 1100))
def test_tiles_change_no_bit(seed, shift):
    # a ring gets the same bits whichever rings share its tile and wherever the tile starts:
    # alone, among the others, after `shift` vertices of filler rings, in reverse order
    lon, lat, start = _awkward_rings(seed)
    with np.errstate(all="ignore"):
        together = _ringarea.ring_areas(lon, lat, start, GEOD.es, use="numba")
        alone = _one_by_one(lon, lat, start, "numba")
        filler = [_ringarea._TILE - 1] * (shift % 3) + [4] * (shift // 4)  # 4: a closed triangle
        f_start = np.r_[0, np.cumsum(filler)].astype(np.int64)
        f_lon = np.tile(np.r_[-76.5, -76.4, -76.4, -76.5], f_start[-1] // 4 + 1)[: f_start[-1]]
        f_lat = np.tile(np.r_[-7.2, -7.2, -7.1, -7.2], f_start[-1] // 4 + 1)[: f_start[-1]]
        shifted = _ringarea.ring_areas(
            np.r_[f_lon, lon],
            np.r_[f_lat, lat],
            np.r_[f_start, f_start[-1] + start[1:]],
            GEOD.es,
            use="numba",
        )[len(filler) :]
        sizes = np.diff(start)[::-1]
        order = np.concatenate([np.arange(a, b) for a, b in itertools.pairwise(start)][::-1])
        backwards = _ringarea.ring_areas(
            lon[order], lat[order], np.r_[0, np.cumsum(sizes)], GEOD.es, use="numba"
        )[::-1]
    for other in (alone, shifted, backwards):
        np.testing.assert_array_equal(together, other)
    assert (together[np.diff(start) == 0] == 0).all()


@needs_numba
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_tiled_compiled_loop_agrees_with_the_numpy_twin_on_awkward_rings(seed):
    lon, lat, start = _awkward_rings(seed)
    with np.errstate(all="ignore"):
        fast = _ringarea.ring_areas(lon, lat, start, GEOD.es, use="numba")
        twin = _ringarea.ring_areas(lon, lat, start, GEOD.es, use="numpy")
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(twin))
    ok = np.isfinite(twin)
    np.testing.assert_allclose(fast[ok], twin[ok], rtol=1e-12, atol=0)


@needs_numba
def test_compiled_loop_matches_its_python_source(tmp_path):
    # numba's vectorized loop (no fast-math, no fused multiply-adds) must keep Python's
    # arithmetic: the same source run by the interpreter gives the same bits
    import subprocess
    import sys

    parts = [_awkward_rings(s) for s in range(3)]
    keep = [p for p in parts if p[2][-1] < 6_000] or parts[:1]
    lon = np.concatenate([p[0] for p in keep])
    lat = np.concatenate([p[1] for p in keep])
    start = np.r_[0, np.cumsum(np.concatenate([np.diff(p[2]) for p in keep]))]
    np.save(tmp_path / "lon.npy", lon)
    np.save(tmp_path / "lat.npy", lat)
    np.save(tmp_path / "start.npy", start)
    code = (
        "import numpy as np, pyproj; from agroforest_geo import _ringarea; "
        f"d = {str(tmp_path)!r}; es = pyproj.Geod(ellps='WGS84').es; "
        "np.seterr(all='ignore'); "
        "np.save(d + '/out.npy', _ringarea.ring_areas(np.load(d + '/lon.npy'), "
        "np.load(d + '/lat.npy'), np.load(d + '/start.npy'), es, use='numba'))"
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    with np.errstate(all="ignore"):
        compiled = _ringarea.ring_areas(lon, lat, start, GEOD.es, use="numba")
    np.testing.assert_array_equal(compiled, np.load(tmp_path / "out.npy"))


def _reference_ring_areas(lon: np.ndarray, lat: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The kernel's arithmetic written once more, as plain Python, one vertex at a time.

    The general branch at every vertex (the polynomials below 0.01 rad, the C library's
    functions above): the arithmetic the compiled loop gave, bit for bit, before its
    polynomial branch was tiled, and must still give.
    """
    r = _ringarea
    e2 = GEOD.es
    e = math.sqrt(e2)
    nring = start.size - 1
    lon0, lat0 = np.empty(nring), np.empty(nring)
    for k in range(nring):  # the centre loop
        a, b = int(start[k]), int(start[k + 1])
        first = float(lon[a]) if b > a else 0.0
        s_dlon = s_lat = 0.0
        for i in range(a, b):
            d = float(lon[i]) - first
            if abs(d) > 180.0:
                d = (d + 180.0) % 360.0 - 180.0
            s_dlon += d
            s_lat += float(lat[i])
        n = float(max(b - a, 1))
        lon0[k], lat0[k] = first + s_dlon / n, s_lat / n
    s0_, c0_, id0_, sb1_, cb1_, inv_qp_ = r._ring_constants(lat0, e2)
    inv_qp = float(inv_qp_[0])

    def sin_ver(x: float) -> tuple[float, float]:
        if abs(x) < r._SMALL:
            v = x * x
            return x + x * (v * (r._S3 + v * (r._S5 + v * r._S7))), v * (
                r._C2 + v * (r._C4 + v * (r._C6 + v * r._C8))
            )
        h = math.sin(x * 0.5)
        return math.sin(x), 2.0 * (h * h)

    out = np.zeros(nring)
    for k in range(nring):
        s0, c0, id0 = float(s0_[k]), float(c0_[k]), float(id0_[k])
        sb1, cb1 = float(sb1_[k]), float(cb1_[k])
        xs, ys = [], []
        for i in range(int(start[k]), int(start[k + 1])):
            sin_dp, ver_dp = sin_ver((float(lat[i]) - lat0[k]) * r._DEG)
            ds = c0 * sin_dp - s0 * ver_dp
            s = s0 + ds
            ss0 = e2 * s * s0
            iw = 1.0 / (1.0 - ss0)
            u = e * ds * iw
            first_term = ds * (1.0 + ss0) / (1.0 - e2 * s * s) * id0
            if abs(u) < r._SMALL_U:
                v = u * u
                dq = (1.0 - e2) * (
                    first_term + ds * (1.0 + v * (r._T3 + v * (r._T5 + v * r._T7))) * iw
                )
            else:
                dq = (1.0 - e2) * (first_term + math.atanh(u) / e)
            dsb = dq * inv_qp
            sb_raw = sb1 + dsb
            sb = min(max(sb_raw, -1.0), 1.0)
            dsb = dsb if abs(sb_raw) <= 1.0 else sb - sb1
            cb = math.sqrt(max(1.0 - sb * sb, 0.0))
            den = cb + cb1
            dcb = -dsb * (sb + sb1) / den if den > 0.0 else 0.0
            dl = float(lon[i]) - lon0[k]
            if abs(dl) > 180.0:
                dl = (dl + 180.0) % 360.0 - 180.0
            sin_dl, hav = sin_ver(dl * r._DEG)
            num = (dsb * cb1 - dcb * sb1) + cb * sb1 * hav
            cosc = sb1 * sb + cb1 * cb * (1.0 - hav)
            kk = math.sqrt(2.0 / (1.0 + cosc))
            xs.append(kk * cb * sin_dl)
            ys.append(kk * num)
        acc = 0.0
        for j in range(1, len(xs)):
            acc += xs[j - 1] * ys[j] - xs[j] * ys[j - 1]
        out[k] = abs(acc) / 2.0
    return out


@needs_numba
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_tiled_compiled_loop_gives_the_bits_of_the_vertex_by_vertex_arithmetic(seed):
    # finite rings only (the reference has no NaN arithmetic to mimic): small parcels by the
    # hundred (many to a tile, the polynomial branch), rings near the 0.01 rad limit, large,
    # polar and antimeridian ones, and long rings that fill a tile alone
    rng = np.random.default_rng(seed)
    lon, lat, start = _awkward_rings(seed)
    parcels = [_parcel(-76.7 + rng.uniform(), -7.2, 40.0, int(k), int(k)) for k in range(3, 300)]
    xy = [shapely.get_coordinates(p) for p in parcels]
    lon = np.r_[lon, np.concatenate([c[:, 0] for c in xy])]
    lat = np.r_[lat, np.concatenate([c[:, 1] for c in xy])]
    start = np.r_[start, start[-1] + np.cumsum([len(c) for c in xy])]
    sizes = np.diff(start)
    ring = np.repeat(np.arange(sizes.size), sizes)
    finite = np.ones(sizes.size, dtype=bool)
    finite[ring[~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) < 1e300))]] = False
    keep = np.flatnonzero(finite & (sizes < 1_100))  # the long ones: a few, enough to fill tiles
    keep = np.r_[keep, np.flatnonzero(finite & (sizes >= 1_100))[:2]]
    order = np.concatenate([np.arange(start[k], start[k + 1]) for k in keep])
    lon, lat = lon[order], lat[order]
    start = np.r_[0, np.cumsum(sizes[keep])]
    want = _reference_ring_areas(lon, lat, start)
    got = _ringarea.ring_areas(lon, lat, start, GEOD.es, use="numba")
    np.testing.assert_array_equal(got, want)

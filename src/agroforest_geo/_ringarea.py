"""Ring areas in the ellipsoidal Lambert azimuthal equal-area projection centred on each ring.

The per-vertex kernel behind :func:`agroforest_geo.area.geodesic_area_m2`, in two
implementations that follow the same arithmetic, operation by operation: a compiled
one-pass loop (numba, the ``fast`` extra) and a vectorized numpy fallback.

Method
------
Each ring is projected with the ellipsoidal Lambert azimuthal equal-area projection
(Snyder 1987, eqs. 24-2 ... 24-13) centred on the mean of its vertices, and its
planar (shoelace) area is taken. Written as Snyder writes it, the northing of a
vertex, ``sin b cos b1 - cos b sin b1 cos dl``, is the difference of two numbers
near ``sin(b - b1)`` apart: for a 0.5 ha parcel the rounding of ``sin b`` alone
moves the area by ~5e-12 relative. Here every latitude quantity is instead carried
as a *difference from the ring's centre*, found without cancellation:

* ``sin(phi) - sin(phi0) = cos(phi0) sin(d) - sin(phi0) (1 - cos d)`` with
  ``d = phi - phi0``;
* ``q(s) - q(s0)`` (``q`` the authalic function) from the identity
  ``atanh(a) - atanh(b) = atanh((a - b) / (1 - a b))``;
* ``cos b - cos b1 = -(sin b - sin b1)(sin b + sin b1) / (cos b + cos b1)``,

so the northing is ``(sin b - sin b1) cos b1 - (cos b - cos b1) sin b1 + cos b sin b1
(1 - cos dl)`` with every term small and exact to a few ulps. Sines and versines of
the small angles (below 0.01 rad, any ring smaller than ~60 km) are short Taylor
polynomials, truncated below 1e-16 relative; larger angles use the C library's
functions. Both implementations use the same operations in the same order, without
fused multiply-adds, so they agree to the last bits except where the C library's and
numpy's ``arctanh`` or ``sin`` of a ring's centre round differently (a common shift
of the ring: ~1e-16 relative in its area).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from . import _jit
from ._jit import available as _numba_available

__all__ = ["Backend", "backend", "ring_areas", "screen"]

Backend = Literal["auto", "numba", "numpy"]
#: Environment variable that forces one implementation: ``numba``, ``numpy`` or ``auto``.
ENV_VAR = "AGROFOREST_GEO_AREA_KERNEL"
#: Calls on fewer vertices use the numpy kernel under ``"auto"`` (no numba import).
MIN_COMPILED_VERTICES = 50_000

_DEG = math.pi / 180.0
#: Below this many radians, sin and 1 - cos are Taylor polynomials (truncation < 3e-17).
_SMALL = 0.01
#: Below this, atanh(u)/u is 1 + u²/3 + u⁴/5 + u⁶/7 (truncation < 2e-25).
_SMALL_U = 1e-3
_S3, _S5, _S7 = -1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0
_C2, _C4, _C6, _C8 = 0.5, -1.0 / 24.0, 1.0 / 720.0, -1.0 / 40320.0
_T3, _T5, _T7 = 1.0 / 3.0, 1.0 / 5.0, 1.0 / 7.0
_DBL_MAX = float(np.finfo(np.float64).max)
#: Vertices per tile of the compiled vertex loop (its scratch arrays stay in the L1/L2 cache).
_TILE = 1024


def ring_areas(
    lon: np.ndarray,
    lat: np.ndarray,
    start: np.ndarray,
    es: float,
    *,
    use: Backend = "auto",
) -> np.ndarray:
    """Area of every ring, in units of the authalic radius squared (unsigned).

    Parameters
    ----------
    lon, lat : numpy.ndarray of float
        Vertices in degrees, rings one after another, each closed (first vertex repeated).
    start : numpy.ndarray of int
        Index of the first vertex of every ring, followed by ``lon.size``.
    es : float
        The ellipsoid's squared eccentricity.
    use : {"auto", "numba", "numpy"}, keyword-only
        The implementation (see :func:`backend`); the caller resolves ``"auto"``
        once per call with the call's vertex count, so that every block of a call
        takes the same one.

    Returns
    -------
    numpy.ndarray of float
        One area per ring.
    """
    e2 = float(es)
    lon = np.ascontiguousarray(lon, dtype=np.float64)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    start = np.ascontiguousarray(start, dtype=np.int64)
    nring = start.size - 1
    out = np.zeros(nring, dtype=np.float64)
    if lon.size == 0 or nring == 0:
        return out
    if backend(use) == "numba":
        centres, vertices = _compiled()
        lon0 = np.empty(nring)
        lat0 = np.empty(nring)
        centres(lon, lat, start, lon0, lat0)
        consts = _ring_constants(lat0, e2)
        vertices(lon, lat, start, lon0, lat0, *consts, e2, math.sqrt(e2), out)
        return out
    return _ring_areas_numpy(lon, lat, start, e2)


def screen(
    lon: np.ndarray,
    lat: np.ndarray,
    start: np.ndarray,
    max_step_deg: float,
    *,
    use: Backend = "auto",
) -> tuple[bool, bool]:
    """Whether any vertex is impossible, and whether any edge may be long, in one pass.

    An impossible vertex is non-finite or beyond a pole; an edge may be long when
    ``dlon² + dlat² > max_step_deg²`` (between two vertices of the same ring: ``start``
    holds every ring's first vertex, then ``lon.size``). The compiled pass when numba
    is in use, else numpy; either way the same answer.
    """
    if lon.size == 0:
        return False, False
    start = np.ascontiguousarray(start, dtype=np.int64)
    if backend(use) == "numba":
        flags = np.zeros(2, dtype=np.bool_)
        _compiled_screen()(lon, lat, start, max_step_deg, flags)
        return bool(flags[0]), bool(flags[1])
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90.0))
    dx = lon[1:] - lon[:-1]
    dy = lat[1:] - lat[:-1]
    long_ = dx * dx + dy * dy > max_step_deg * max_step_deg
    between = start[1:-1] - 1  # the step from one ring's last vertex to the next ring's first
    long_[between[(between >= 0) & (between < long_.size)]] = False
    return bool(bad.any()), bool(long_.any())


def _screen_loop(  # pragma: no cover - compiled by numba; the numpy branch of screen is the twin
    lon: np.ndarray, lat: np.ndarray, start: np.ndarray, max_step_deg: float, flags: np.ndarray
) -> None:
    """Run the passes of :func:`screen`: ``flags = [impossible vertex, possibly long edge]``.

    Branch-free counts over all the vertices and all the steps between consecutive
    vertices; only when a step is long are the steps from one ring to the next taken
    back out (each once, however many empty rings lie between).
    """
    lim = max_step_deg * max_step_deg
    n = lon.size
    n_bad = 0
    for i in range(n):  # finite, and not beyond a pole (NaN fails both comparisons)
        n_bad += not ((abs(lat[i]) <= 90.0) & (abs(lon[i]) <= _DBL_MAX))
    n_long = 0
    for i in range(n - 1):
        dx = lon[i + 1] - lon[i]
        dy = lat[i + 1] - lat[i]
        n_long += dx * dx + dy * dy > lim
    if n_long:
        for r in range(1, start.size - 1):
            e = start[r] - 1
            if start[r] != start[r - 1] and 0 <= e < n - 1:
                dx = lon[e + 1] - lon[e]
                dy = lat[e + 1] - lat[e]
                n_long -= dx * dx + dy * dy > lim
    flags[0] = n_bad > 0
    flags[1] = n_long > 0


def _ring_constants(lat0: np.ndarray, e2: float) -> tuple[np.ndarray, ...]:
    """Per-ring constants of the projection centred at latitude ``lat0`` (degrees).

    Computed in numpy for both implementations, so the centre's ``sin`` and ``arctanh``
    round the same way in both (near a pole ``cos b1`` magnifies one ulp of
    ``sin b1`` ~1,000 times).

    Returns ``(sin phi0, cos phi0, 1 / (1 - e² sin² phi0), sin b1, cos b1, 1 / qp)``.
    """
    phi0 = lat0 * _DEG
    s0 = np.sin(phi0)
    c0 = np.cos(phi0)
    d0 = 1.0 - e2 * s0 * s0
    inv_qp = 1.0 / float(_q(np.array(1.0), e2))
    sb1 = np.clip(_q(s0, e2) * inv_qp, -1.0, 1.0)
    cb1 = np.sqrt(1.0 - sb1 * sb1)
    return s0, c0, 1.0 / d0, sb1, cb1, np.full(1, inv_qp)


def backend(use: Backend = "auto", n_vertices: int | None = None) -> Literal["numba", "numpy"]:
    """Which implementation ``use`` resolves to for a call on ``n_vertices`` vertices.

    ``"auto"`` (unless :data:`ENV_VAR` says otherwise) is numba when it can be
    imported and the call has at least :data:`MIN_COMPILED_VERTICES` vertices:
    below that the numpy kernel takes a few milliseconds, less than importing numba.
    The choice depends on the call only, never on what the process did before: the
    two kernels may differ in the last bit (1 ulp on 15 of Peru's 1,834 districts).
    ``n_vertices=None`` is a call known to be large (``area_m2`` on a layer of
    :data:`._geosrings.MIN_ROWS` rows or more, counted block by block).
    """
    if use == "auto":
        env = os.environ.get(ENV_VAR, "auto").strip().lower()
        if env not in ("auto", "numba", "numpy"):
            raise ValueError(f"{ENV_VAR} must be 'auto', 'numba' or 'numpy', got {env!r}")
        use = env  # type: ignore[assignment]
        if use == "auto" and n_vertices is not None and n_vertices < MIN_COMPILED_VERTICES:
            return "numpy"
    if use == "numpy":
        return "numpy"
    if use not in ("auto", "numba"):
        raise ValueError(f"use must be 'auto', 'numba' or 'numpy', got {use!r}")
    if _numba_available():
        return "numba"
    if use == "numba":
        raise ImportError(
            "the compiled area kernel needs numba; install it with "
            "`pip install agroforest-geo[fast]`, or use the numpy kernel"
        )
    return "numpy"


def _compiled() -> tuple[Callable[..., None], Callable[..., None]]:
    """Return the compiled centre and vertex loops (on first use, cached on disk)."""
    return _jit.kernel(globals(), "_centre_loop"), _jit.kernel(globals(), "_vertex_loop")


def _compiled_screen() -> Callable[..., None]:
    """Return the compiled vertex screen (on first use, cached on disk)."""
    return _jit.kernel(globals(), "_screen_loop")


def _q(s: Any, e2: float) -> Any:
    """Snyder's authalic function q(sin phi) (eq. 3-12), numpy form."""
    if e2 == 0:
        return 2 * s
    e = np.sqrt(e2)
    return (1 - e2) * (s / (1 - e2 * s * s) + np.arctanh(e * s) / e)


def _centre_loop(  # pragma: no cover - compiled by numba; the numpy twin below is the reference
    lon: np.ndarray, lat: np.ndarray, start: np.ndarray, lon0: np.ndarray, lat0: np.ndarray
) -> None:
    """Centre of every ring: the mean of its vertices, longitudes unwrapped around the first."""
    for r in range(start.size - 1):
        a = start[r]
        b = start[r + 1]
        first = lon[a] if b > a else 0.0
        sum_dlon = 0.0
        sum_lat = 0.0
        for i in range(a, b):
            d = lon[i] - first
            if abs(d) > 180.0:
                d = (d + 180.0) % 360.0 - 180.0
            sum_dlon += d
            sum_lat += lat[i]
        n = float(max(b - a, 1))
        lon0[r] = first + sum_dlon / n
        lat0[r] = sum_lat / n


def _vertex_loop(  # pragma: no cover - compiled by numba; the numpy twin below is the reference
    lon: np.ndarray,
    lat: np.ndarray,
    start: np.ndarray,
    lon0_: np.ndarray,
    lat0_: np.ndarray,
    s0_: np.ndarray,
    c0_: np.ndarray,
    id0_: np.ndarray,
    sb1_: np.ndarray,
    cb1_: np.ndarray,
    inv_qp_: np.ndarray,
    e2: float,
    e: float,
    out: np.ndarray,
) -> None:
    """Projection and shoelace of every ring.

    A ring within 0.01 rad of its centre takes the polynomial branch at every vertex
    (and ``|u| < 1e-3`` follows from ``e < 0.09``). That branch is computed first at
    every vertex of a tile of whole rings (:data:`_TILE` vertices at most), in one
    branch-free loop that the compiler vectorizes (rings of parcels are a few vertices
    long: a loop per ring would be mostly its scalar remainder); the rings that are
    not within 0.01 rad are then computed again with the general branch, which also
    takes every ring longer than a tile (so the scratch arrays beyond ``xs``, ``ys``
    stay the size of a tile). The two branches give the same values where both
    apply: each vertex gets the same arithmetic either way.
    """
    nring = start.size - 1
    inv_qp = inv_qp_[0]
    one_e2 = 1.0 - e2
    longest = _TILE
    for r in range(nring):
        longest = max(longest, start[r + 1] - start[r])
    # the ring constants repeated at each vertex of a tile: the vertex loop reads contiguous
    # arrays only (gathers through a ring index would keep it scalar)
    k_lon0 = np.empty(_TILE)
    k_lat0 = np.empty(_TILE)
    k_s0 = np.empty(_TILE)
    k_c0 = np.empty(_TILE)
    k_id0 = np.empty(_TILE)
    k_sb1 = np.empty(_TILE)
    k_cb1 = np.empty(_TILE)
    near = np.empty(_TILE, dtype=np.bool_)
    xs = np.empty(longest)
    ys = np.empty(longest)
    r0 = 0
    while r0 < nring:
        t0 = start[r0]
        r1 = r0 + 1  # the tile: whole rings, _TILE vertices at most (or one longer ring)
        while r1 < nring and start[r1 + 1] - t0 <= _TILE:
            r1 += 1
        # one ring longer than a tile takes the general branch only (the same values)
        wide = start[r1] - t0 > _TILE
        for r in range(r0, r1 if not wide else r0):
            for j in range(start[r] - t0, start[r + 1] - t0):
                k_lon0[j] = lon0_[r]
                k_lat0[j] = lat0_[r]
                k_s0[j] = s0_[r]
                k_c0[j] = c0_[r]
                k_id0[j] = id0_[r]
                k_sb1[j] = sb1_[r]
                k_cb1[j] = cb1_[r]
        for j in range(start[r1] - t0 if not wide else 0):
            i = t0 + j
            lon0 = k_lon0[j]
            lat0 = k_lat0[j]
            s0 = k_s0[j]
            c0 = k_c0[j]
            id0 = k_id0[j]
            sb1 = k_sb1[j]
            cb1 = k_cb1[j]
            dp = (lat[i] - lat0) * _DEG
            dl = (lon[i] - lon0) * _DEG
            near[j] = (abs(dp) < _SMALL) & (abs(dl) < _SMALL)
            v = dp * dp
            sin_dp = dp + dp * (v * (_S3 + v * (_S5 + v * _S7)))
            ver_dp = v * (_C2 + v * (_C4 + v * (_C6 + v * _C8)))
            ds = c0 * sin_dp - s0 * ver_dp
            s = s0 + ds
            ss0 = e2 * s * s0
            w = 1.0 - ss0
            iw = 1.0 / w
            u = e * ds * iw
            first_term = ds * (1.0 + ss0) / (1.0 - e2 * s * s) * id0
            v = u * u
            dq = one_e2 * (first_term + ds * (1.0 + v * (_T3 + v * (_T5 + v * _T7))) * iw)
            dsb = dq * inv_qp
            sb_raw = sb1 + dsb
            sb = min(max(sb_raw, -1.0), 1.0)
            dsb = dsb if abs(sb_raw) <= 1.0 else sb - sb1
            cb = math.sqrt(max(1.0 - sb * sb, 0.0))
            den = cb + cb1
            dcb = -dsb * (sb + sb1) / den if den > 0.0 else 0.0
            v = dl * dl
            sin_dl = dl + dl * (v * (_S3 + v * (_S5 + v * _S7)))
            hav = v * (_C2 + v * (_C4 + v * (_C6 + v * _C8)))
            num = (dsb * cb1 - dcb * sb1) + cb * sb1 * hav
            cosc = sb1 * sb + cb1 * cb * (1.0 - hav)
            k = math.sqrt(2.0 / (1.0 + cosc))
            xs[j] = k * cb * sin_dl
            ys[j] = k * num
        for r in range(r0, r1):
            a = start[r]
            b = start[r + 1]
            if b <= a:
                out[r] = 0.0
                continue
            small = e < 0.09 and not wide
            for i in range(a, b if small else a):
                small &= near[i - t0]
            if not small:
                lon0 = lon0_[r]
                lat0 = lat0_[r]
                s0 = s0_[r]
                c0 = c0_[r]
                id0 = id0_[r]
                sb1 = sb1_[r]
                cb1 = cb1_[r]
                for i in range(a, b):
                    dp = (lat[i] - lat0) * _DEG
                    if abs(dp) < _SMALL:
                        v = dp * dp
                        sin_dp = dp + dp * (v * (_S3 + v * (_S5 + v * _S7)))
                        ver_dp = v * (_C2 + v * (_C4 + v * (_C6 + v * _C8)))
                    else:
                        sin_dp = math.sin(dp)
                        h = math.sin(dp * 0.5)
                        ver_dp = 2.0 * (h * h)
                    ds = c0 * sin_dp - s0 * ver_dp
                    s = s0 + ds
                    ss0 = e2 * s * s0
                    w = 1.0 - ss0
                    iw = 1.0 / w
                    u = e * ds * iw
                    first_term = ds * (1.0 + ss0) / (1.0 - e2 * s * s) * id0
                    if abs(u) < _SMALL_U:
                        v = u * u
                        dq = one_e2 * (
                            first_term + ds * (1.0 + v * (_T3 + v * (_T5 + v * _T7))) * iw
                        )
                    else:
                        dq = one_e2 * (first_term + math.atanh(u) / e)
                    dsb = dq * inv_qp
                    sb_raw = sb1 + dsb
                    sb = min(max(sb_raw, -1.0), 1.0)
                    dsb = dsb if abs(sb_raw) <= 1.0 else sb - sb1
                    cb = math.sqrt(max(1.0 - sb * sb, 0.0))
                    den = cb + cb1
                    dcb = -dsb * (sb + sb1) / den if den > 0.0 else 0.0
                    dl = lon[i] - lon0
                    if abs(dl) > 180.0:
                        dl = (dl + 180.0) % 360.0 - 180.0
                    dl = dl * _DEG
                    if abs(dl) < _SMALL:
                        v = dl * dl
                        sin_dl = dl + dl * (v * (_S3 + v * (_S5 + v * _S7)))
                        hav = v * (_C2 + v * (_C4 + v * (_C6 + v * _C8)))
                    else:
                        sin_dl = math.sin(dl)
                        h = math.sin(dl * 0.5)
                        hav = 2.0 * (h * h)
                    num = (dsb * cb1 - dcb * sb1) + cb * sb1 * hav
                    cosc = sb1 * sb + cb1 * cb * (1.0 - hav)
                    k = math.sqrt(2.0 / (1.0 + cosc))
                    xs[i - t0] = k * cb * sin_dl
                    ys[i - t0] = k * num
            acc = 0.0
            for j in range(a + 1, b):
                acc += xs[j - 1 - t0] * ys[j - t0] - xs[j - t0] * ys[j - 1 - t0]
            out[r] = abs(acc) / 2.0
        r0 = r1


def _small_or(
    x: np.ndarray, poly: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """(sin x, 1 - cos x): the polynomials below ``_SMALL``, the C library above."""
    sin_x, ver_x = poly(x)
    big = np.flatnonzero(~(np.abs(x) < _SMALL))
    if big.size:
        xb = x[big]
        sin_x[big] = np.sin(xb)
        h = np.sin(xb * 0.5)
        ver_x[big] = 2.0 * (h * h)
    return sin_x, ver_x


def _sin_ver_poly(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = x * x
    sin_x = x + x * (v * (_S3 + v * (_S5 + v * _S7)))
    ver_x = v * (_C2 + v * (_C4 + v * (_C6 + v * _C8)))
    return sin_x, ver_x


def _wrap(d: np.ndarray) -> np.ndarray:
    far = np.abs(d) > 180.0
    if far.any():
        d = d.copy()
        d[far] = (d[far] + 180.0) % 360.0 - 180.0
    return d


def _ring_areas_numpy(lon: np.ndarray, lat: np.ndarray, start: np.ndarray, e2: float) -> np.ndarray:
    """Compute ring areas as the compiled loops do, vectorized over the vertices in numpy."""
    nring = start.size - 1
    counts = np.diff(start)
    ring = np.repeat(np.arange(nring), counts)
    has = counts > 0
    first = np.zeros(nring)
    first[has] = lon[start[:-1][has]]
    dlon = _wrap(lon - first[ring])
    n = np.maximum(counts, 1).astype(np.float64)
    lon0 = first + np.bincount(ring, weights=dlon, minlength=nring) / n
    lat0 = np.bincount(ring, weights=lat, minlength=nring) / n
    s0, c0, id0, sb1, cb1, inv_qp_ = _ring_constants(lat0, e2)
    inv_qp = float(inv_qp_[0])
    one_e2 = 1.0 - e2
    e = math.sqrt(e2)
    s0v, c0v, sb1v, cb1v = s0[ring], c0[ring], sb1[ring], cb1[ring]
    # sin(phi) - sin(phi0)
    sin_dp, ver_dp = _small_or((lat - lat0[ring]) * _DEG, _sin_ver_poly)
    ds = c0v * sin_dp - s0v * ver_dp
    s = s0v + ds
    # q(s) - q(s0)
    ss0 = e2 * s * s0v
    w = 1.0 - ss0
    iw = 1.0 / w
    u = e * ds * iw
    first_term = ds * (1.0 + ss0) / (1.0 - e2 * s * s) * id0[ring]
    v = u * u
    dq = one_e2 * (first_term + ds * (1.0 + v * (_T3 + v * (_T5 + v * _T7))) * iw)
    big = np.flatnonzero(~(np.abs(u) < _SMALL_U))
    if big.size:
        dq[big] = one_e2 * (first_term[big] + np.arctanh(u[big]) / e)
    # sin b - sin b1 and cos b - cos b1
    dsb = dq * inv_qp
    sb_raw = sb1v + dsb
    sb = np.clip(sb_raw, -1.0, 1.0)
    dsb = np.where(np.abs(sb_raw) <= 1.0, dsb, sb - sb1v)  # rounding at a pole
    cb = np.sqrt(np.maximum(1.0 - sb * sb, 0.0))
    den = cb + cb1v
    with np.errstate(invalid="ignore", divide="ignore"):
        dcb = np.where(den > 0.0, -dsb * (sb + sb1v) / den, 0.0)
    # longitude difference to the centre
    sin_dl, hav = _small_or(_wrap(lon - lon0[ring]) * _DEG, _sin_ver_poly)
    num = (dsb * cb1v - dcb * sb1v) + cb * sb1v * hav
    cosc = sb1v * sb + cb1v * cb * (1.0 - hav)
    k = np.sqrt(2.0 / (1.0 + cosc))
    x = k * cb * sin_dl
    y = k * num
    same = ring[1:] == ring[:-1]
    cross = np.where(same, x[:-1] * y[1:] - x[1:] * y[:-1], 0.0)
    out = np.abs(np.bincount(ring[:-1], weights=cross, minlength=nring)) / 2.0
    return out

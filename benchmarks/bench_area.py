"""Benchmark: agroforest_geo.area_ha against a per-feature pyproj.Geod loop.

Run ``python benchmarks/bench_area.py [--n 100000]``. Prints both timings (best of 3
each, wall and CPU time), the ratios and the machine's load before and after, checks
the two agree to 1e-6, and times the numpy fallback kernel too
(``AGROFOREST_GEO_AREA_KERNEL=numpy``: no compiled validity proof either, GEOS checks
every polygon), checking that the two kernels agree to 1e-12. Then, on one thread,
the part that replaced most of ``shapely.is_valid``: the compiled proof of validity
against GEOS on the same polygons (time, and that it never calls an invalid polygon
valid).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

sys.path.insert(0, str(Path(__file__).parent))
from _util import best_of, load_note, measure, ratio, row

import agroforest_geo as agf
from agroforest_geo import _simplering


def make_parcels(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """N irregular parcels of 0.5-10 ha around Juanjuí, in EPSG:4326."""
    rng = np.random.default_rng(seed)
    k = 10
    ang = np.sort(rng.uniform(0, 2 * np.pi, (n, k)), axis=1)
    size = np.sqrt(rng.uniform(5_000, 100_000, n))[:, None] / 2  # half side, m
    r = size * rng.uniform(0.8, 1.2, (n, k))
    cx = rng.uniform(-77.0, -76.4, n)[:, None]
    cy = rng.uniform(-7.5, -6.9, n)[:, None]
    x = cx + r * np.cos(ang) / 110_400
    y = cy + r * np.sin(ang) / 110_600
    coords = np.stack([x, y], axis=-1)
    coords = np.concatenate([coords, coords[:, :1]], axis=1)
    rings = shapely.linearrings(coords.reshape(-1, 2), indices=np.repeat(np.arange(n), k + 1))
    return gpd.GeoDataFrame(geometry=shapely.polygons(rings), crs=4326)


def proof_against_geos(parcels: gpd.GeoDataFrame) -> str:
    """One thread each: GEOS's validity of every polygon, and the proof on the same rings."""
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    start = np.searchsorted(idx, np.arange(geoms.size + 1))
    _simplering.proved_simple(xy[:100], np.array([0, 11]))  # compiled (or cached) first
    t_geos, c_geos, valid = best_of(lambda: shapely.is_valid(geoms))
    t_proof, c_proof, proved = best_of(lambda: _simplering.proved_simple(xy, start))
    wrong = int((proved & ~valid).sum())
    if wrong:
        raise SystemExit(f"the proof called {wrong} invalid polygons valid")
    return (
        f"validity, one thread: shapely.is_valid {t_geos * 1e3:.1f} ms (CPU {c_geos * 1e3:.1f}), "
        f"the compiled proof {t_proof * 1e3:.1f} ms (CPU {c_proof * 1e3:.1f}): "
        f"{c_geos / c_proof:.1f}x in CPU time; proved {int(proved.sum()):,} of "
        f"{int(valid.sum()):,} valid polygons, {wrong} invalid ones called valid "
        f"({int((~valid).sum())} invalid, left to GEOS)"
    )


def two_thread_ceiling() -> float:
    """How much faster two threads finish two equal jobs than one does, at this moment.

    ``numpy.sin`` on a large array releases the GIL: 2.0 on two free cores, about 1 when
    other jobs hold one of them. It tells how far the machine's load lets our threads go.
    """
    from concurrent.futures import ThreadPoolExecutor

    a = np.linspace(0.0, 1.0, 4_000_000)
    one = two = float("inf")
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(3):
            t0 = time.perf_counter()
            np.sin(a)
            np.sin(a)
            one = min(one, time.perf_counter() - t0)
            t0 = time.perf_counter()
            list(pool.map(np.sin, [a, a]))
            two = min(two, time.perf_counter() - t0)
    return one / two


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    parcels = make_parcels(args.n)
    geod = pyproj.Geod(ellps="WGS84")
    geoms = parcels.geometry.values

    def loop() -> np.ndarray:
        return np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in geoms]) / 1e4

    warnings.simplefilter("ignore", agf.GeometryWarning)  # the layer's few invalid parcels
    t0 = time.perf_counter()
    agf.area_ha(parcels)  # warm-up (imports, the compiled kernel's cache)
    first = time.perf_counter() - t0
    print(f"first call (imports numba, loads or compiles the kernels): {first:.2f} s")
    print(load_note(), f"(two-thread ceiling now: {two_thread_ceiling():.2f}x)")
    t_ours, c_ours, ours = best_of(lambda: agf.area_ha(parcels))
    t_loop, c_loop, ref = best_of(loop)
    os.environ["AGROFOREST_GEO_AREA_KERNEL"] = "numpy"
    try:
        t_np, c_np, ours_np = best_of(lambda: agf.area_ha(parcels))
    finally:
        del os.environ["AGROFOREST_GEO_AREA_KERNEL"]
    print(load_note(), f"(two-thread ceiling now: {two_thread_ceiling():.2f}x)")
    _, m_ours, _ = measure(lambda: agf.area_ha(parcels), repeat=1)
    worst = float(np.max(np.abs(ours.to_numpy() - ref) / ref))
    kernels = float(np.max(np.abs(ours.to_numpy() - ours_np.to_numpy()) / ref))
    print(f"area_ha on {args.n:,} parcels of 0.5-10 ha (10 vertices each), EPSG:4326")
    nan = float("nan")
    print(row("agroforest_geo.area_ha (compiled)", t_ours, m_ours, f"CPU {c_ours:.3f} s"))
    print(row("agroforest_geo.area_ha (numpy kernel)", t_np, nan, f"CPU {c_np:.3f} s"))
    print(row("pyproj.Geod.geometry_area_perimeter loop", t_loop, nan, f"CPU {c_loop:.3f} s"))
    print(
        f"speed-up: {t_loop / t_ours:.1f}x compiled, {t_loop / t_np:.1f}x numpy; in CPU time "
        f"{c_loop / c_ours:.1f}x and {c_loop / c_np:.1f}x (max relative difference to Geod "
        f"{worst:.1e}; between the kernels {kernels:.1e})"
    )
    print(proof_against_geos(parcels))
    what = f"area_ha, {args.n:,} parcels"
    ratio(f"{what} (wall, best of 3)", t_ours, t_loop, against="pyproj.Geod loop", goal=50)
    ratio(f"{what} (CPU time, best of 3)", c_ours, c_loop, against="pyproj.Geod loop")
    if worst > 1e-6:
        raise SystemExit("areas disagree with pyproj.Geod beyond 1e-6")
    if kernels > 1e-12:
        raise SystemExit("the compiled and numpy kernels disagree beyond 1e-12")


if __name__ == "__main__":
    main()

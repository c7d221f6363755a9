"""Benchmark: agroforest_geo.area_ha against a per-feature pyproj.Geod loop.

Run ``python benchmarks/bench_area.py [--n 100000]``. Prints both timings (best of 3
each, wall and CPU time), the ratios and the machine's load before and after, checks
the two agree to 1e-6, and times the numpy fallback kernel too
(``AGROFOREST_GEO_AREA_KERNEL=numpy``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

sys.path.insert(0, str(Path(__file__).parent))
from _util import best_of, load_note, measure, row

import agroforest_geo as agf


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    parcels = make_parcels(args.n)
    geod = pyproj.Geod(ellps="WGS84")
    geoms = parcels.geometry.values

    def loop() -> np.ndarray:
        return np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in geoms]) / 1e4

    agf.area_ha(parcels)  # warm-up (imports, the compiled kernel's cache)
    print(load_note())
    t_ours, c_ours, ours = best_of(lambda: agf.area_ha(parcels))
    t_loop, c_loop, ref = best_of(loop)
    os.environ["AGROFOREST_GEO_AREA_KERNEL"] = "numpy"
    try:
        t_np, c_np, ours_np = best_of(lambda: agf.area_ha(parcels))
    finally:
        del os.environ["AGROFOREST_GEO_AREA_KERNEL"]
    print(load_note())
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
    if worst > 1e-6:
        raise SystemExit("areas disagree with pyproj.Geod beyond 1e-6")
    if kernels > 1e-12:
        raise SystemExit("the compiled and numpy kernels disagree beyond 1e-12")


if __name__ == "__main__":
    main()

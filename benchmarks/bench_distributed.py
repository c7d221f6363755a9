"""Benchmark: the end-to-end parcel pipeline on a 2-worker LocalCluster against one process.

Pipeline: area_ha, within-layer overlaps, protected_overlap, forest_cover and
forest_loss (with cover) over a mosaic of 4 raster tiles (a VRT). Synthetic
parcels on a jittered grid over the sample rasters, ~15% overlapping a neighbour.

Run ``python benchmarks/bench_distributed.py`` (default 100,000 parcels, a
couple of minutes on 2 cores) or ``--sizes 1000000 5000000 --workers 8`` on a
bigger machine. Prints wall times, speed-up, peak memory per worker, parcels per
second and the cost per partition (the input of the projections in
docs/scaling.md). Checks that both give the same numbers.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import agroforest_geo as agf
from agroforest_geo.distributed import local_client, run
from agroforest_geo.mosaic import build_vrt, split_raster


def make_parcels(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """N squares of ~1-4 ha (at 20,000) on a jittered grid over the sample rasters."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    x0, y0, span = -76.895, -7.315, 0.29
    step = span / side
    i = np.arange(n)
    cx = x0 + (i % side + 0.5) * step + rng.uniform(-0.1, 0.1, n) * step
    cy = y0 + (i // side + 0.5) * step + rng.uniform(-0.1, 0.1, n) * step
    half = step * rng.uniform(0.3, 0.62, n)
    geoms = shapely.box(cx - half, cy - half, cx + half, cy + half)
    perm = rng.permutation(n)
    ids = np.array([f"G{k:08d}" for k in i], dtype=object)
    return gpd.GeoDataFrame({"parcel_id": ids[perm]}, geometry=geoms[perm], crs=4326)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def pipeline(call, parcels, protected, cover, loss) -> dict[str, tuple[float, object]]:
    steps = {
        "area_ha": lambda: call(agf.area_ha, parcels),
        "overlaps (within layer)": lambda: call(agf.overlaps, parcels),
        "protected_overlap": lambda: call(agf.protected_overlap, parcels, protected),
        "forest_cover (4 tiles)": lambda: call(agf.forest_cover, parcels, cover),
        "forest_loss (4 tiles)": lambda: call(agf.forest_loss, parcels, loss, cover=cover),
    }
    out = {}
    for name, fn in steps.items():
        t0 = time.perf_counter()
        res = fn()
        out[name] = (time.perf_counter() - t0, res)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partition-size", type=int, default=5_000)
    ap.add_argument("--memory-limit", default="auto")
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    tmp = Path(tempfile.mkdtemp())
    cover = str(
        build_vrt(split_raster(agf.datasets.get_path("treecover"), tmp / "c"), tmp / "c.vrt")
    )
    loss = str(build_vrt(split_raster(agf.datasets.get_path("lossyear"), tmp / "l"), tmp / "l.vrt"))
    protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))

    client = local_client(n_workers=args.workers, memory_limit=args.memory_limit)
    print(f"dashboard: {client.dashboard_link}")
    try:
        for n in args.sizes:
            parcels = make_parcels(n)
            npart = max(2 * args.workers, -(-n // args.partition_size))
            t0 = time.perf_counter()
            one = pipeline(lambda f, *a, **k: f(*a, **k), parcels, protected, cover, loss)
            t_one = time.perf_counter() - t0
            mem_one = _peak_rss_mb()

            def on_dask(f, *a, npart=npart, **k):
                return run(f, *a, client=client, npartitions=npart, show_progress=False, **k)

            t0 = time.perf_counter()
            dsk = pipeline(on_dask, parcels, protected, cover, loss)
            t_dsk = time.perf_counter() - t0
            peaks = client.run(_peak_rss_mb)

            print(f"\n== {n:,} parcels, {npart} partitions, {args.workers} workers")
            print(f"{'step':<28s} {'1 process':>10s} {'dask':>10s} {'speed-up':>9s}")
            for name in one:
                a, b = one[name][0], dsk[name][0]
                print(f"{name:<28s} {a:9.2f}s {b:9.2f}s {a / b:8.2f}x")
                r1, r2 = one[name][1], dsk[name][1]
                if isinstance(r1, pd.Series):
                    r1, r2 = r1.to_frame(), r2.to_frame()
                num = r1.select_dtypes("number").columns
                # protected_overlap and the raster verbs depend at ~1e-7 / ~1e-8 relative on
                # which other parcels share the call (clip window, raster read window)
                rtol = {"protected_overlap": 1e-6, "area_ha": 1e-9}.get(name, 1e-7)
                rtol = 1e-9 if name.startswith(("area", "overlaps")) else rtol
                np.testing.assert_allclose(
                    r2[num].to_numpy(float), r1[num].to_numpy(float), rtol=rtol, equal_nan=True
                )
            print(f"{'total':<28s} {t_one:9.2f}s {t_dsk:9.2f}s {t_one / t_dsk:8.2f}x")
            print(f"parcels/s: one process {n / t_one:,.0f}, dask {n / t_dsk:,.0f}")
            print(f"per partition ({n / npart:,.0f} parcels): {t_dsk * args.workers / npart:.3f} s")
            print(
                f"peak memory: one process {mem_one:,.0f} MB; workers "
                + ", ".join(f"{v:,.0f} MB" for v in peaks.values())
            )
            print("results equal: yes")
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()

"""Benchmark: the end-to-end parcel pipeline on a 2-worker LocalCluster against one process.

Pipeline: area_ha, within-layer overlaps, protected_overlap, forest_cover and
forest_loss (with cover) over a mosaic of 4 raster tiles (a VRT). Synthetic
parcels on a jittered grid over the sample rasters, ~15% overlapping a neighbour.

The parcels are sent to the workers once (``distribute``) and the five verbs
run on the partitions already there; that step is timed and counted in the
Dask total.

Run ``python benchmarks/bench_distributed.py`` (default 100,000 parcels, a
couple of minutes on 2 cores) or ``--sizes 1000000 5000000 --workers 8`` on a
bigger machine. Prints wall times, speed-up, peak memory per worker, parcels per
second and the cost per partition (the input of the projections in
docs/scaling.md), and the speed-up the machine itself gives right now to
``--workers`` pure-Python processes (its ceiling, lower when the cores are
shared with other jobs). Checks that both give the same numbers.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).parent))
from _util import ratio

import agroforest_geo as agf
from agroforest_geo.distributed import distribute, local_client, run
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


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _spin(_: int) -> float:
    t0 = time.perf_counter()
    s = 0
    for i in range(10_000_000):
        s += i
    return time.perf_counter() - t0


def cpu_ceiling(workers: int, repeat: int = 3) -> float:
    """Speed-up of ``workers`` processes over one on pure CPU work, measured now (median)."""
    ratios = []
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(time.sleep, [0.2] * workers, chunksize=1)  # every process up
        for _ in range(repeat):
            one = _spin(0)
            t0 = time.perf_counter()
            pool.map(_spin, range(workers), chunksize=1)
            ratios.append(workers * one / (time.perf_counter() - t0))
    return float(np.median(ratios))


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
    ap.add_argument(
        "--partition-size", type=int, default=None, help="default: run()'s (50,000 parcels)"
    )
    ap.add_argument("--memory-limit", default="auto")
    ap.add_argument(
        "--synchronous",
        action="store_true",
        help="also time the same partitions run one by one in this process (no Dask): "
        "separates what spatial partitions gain (cache locality) from what workers gain",
    )
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    tmp = Path(tempfile.mkdtemp())
    cover = str(
        build_vrt(split_raster(agf.datasets.get_path("treecover"), tmp / "c"), tmp / "c.vrt")
    )
    loss = str(build_vrt(split_raster(agf.datasets.get_path("lossyear"), tmp / "l"), tmp / "l.vrt"))
    protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))

    client = local_client(workers=args.workers, memory_limit=args.memory_limit)
    print(f"dashboard: {client.dashboard_link}")
    try:
        for n in args.sizes:
            parcels = make_parcels(n)
            npart = None
            if args.partition_size:
                npart = max(2 * args.workers, -(-n // args.partition_size))
            ceiling = cpu_ceiling(args.workers)
            t0, c0 = time.perf_counter(), _cpu_s()
            one = pipeline(lambda f, *a, **k: f(*a, **k), parcels, protected, cover, loss)
            t_one, cpu_one = time.perf_counter() - t0, _cpu_s() - c0
            mem_one = _peak_rss_mb()

            w0 = client.run(_cpu_s)
            t0, c0 = time.perf_counter(), _cpu_s()
            layer = distribute(parcels, client=client, npartitions=npart)
            t_send = time.perf_counter() - t0
            npart = layer.npartitions

            def on_dask(f, *a, **k):
                return run(f, *a, show_progress=False, **k)

            dsk = pipeline(on_dask, layer, protected, cover, loss)
            t_dsk, cpu_client = time.perf_counter() - t0, _cpu_s() - c0
            w1 = client.run(_cpu_s)
            cpu_workers = [w1[w] - w0[w] for w in w1 if w in w0]
            layer.release()
            peaks = client.run(_peak_rss_mb)
            t_sync = None
            if args.synchronous:
                t0 = time.perf_counter()
                local = distribute(parcels, npartitions=npart)  # kept in this process

                def in_process(f, *a, **k):
                    return run(f, *a, scheduler="synchronous", show_progress=False, **k)

                pipeline(in_process, local, protected, cover, loss)
                t_sync = time.perf_counter() - t0
                local.release()
            ceiling = (ceiling + cpu_ceiling(args.workers)) / 2

            print(f"\n== {n:,} parcels, {npart} partitions, {args.workers} workers")
            print(f"{'step':<28s} {'1 process':>10s} {'dask':>10s} {'speed-up':>9s}")
            print(f"{'distribute (send once)':<28s} {'':>10s} {t_send:9.2f}s")
            for name in one:
                a, b = one[name][0], dsk[name][0]
                print(f"{name:<28s} {a:9.2f}s {b:9.2f}s {a / b:8.2f}x")
                r1, r2 = one[name][1], dsk[name][1]
                if isinstance(r1, pd.Series):
                    r1, r2 = r1.to_frame(), r2.to_frame()
                num = r1.select_dtypes("number").columns
                # every verb gives the same numbers whatever the partitions
                np.testing.assert_allclose(
                    r2[num].to_numpy(float),
                    r1[num].to_numpy(float),
                    rtol=1e-9,
                    atol=0,
                    equal_nan=True,
                    err_msg=name,
                )
            print(f"{'total':<28s} {t_one:9.2f}s {t_dsk:9.2f}s {t_one / t_dsk:8.2f}x")
            ratio(
                f"end to end on Dask, {n:,} parcels, {args.workers} workers",
                t_dsk,
                t_one,
                against="one process",
            )
            if t_sync is not None:
                print(
                    f"same partitions one by one in 1 process: {t_sync:.2f}s; workers vs that: "
                    f"{t_sync / t_dsk:.2f}x (locality alone: {t_one / t_sync:.2f}x)"
                )
            # CPU seconds do not depend on what else runs on the machine: they tell what the
            # same work would take on idle cores (the client's part counted as serial)
            busiest = max(cpu_workers) + cpu_client
            print(
                f"CPU: one process {cpu_one:.1f}s; Dask workers "
                + ", ".join(f"{c:.1f}s" for c in cpu_workers)
                + f", client {cpu_client:.1f}s; work efficiency "
                f"{cpu_one / (sum(cpu_workers) + cpu_client):.2f}; speed-up on idle cores "
                f"~{cpu_one / busiest:.2f}x"
            )
            print(
                f"machine ceiling now ({args.workers} CPU-bound processes vs 1): {ceiling:.2f}x; "
                f"efficiency {t_one / t_dsk / ceiling:.0%}"
            )
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

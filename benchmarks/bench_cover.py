"""Benchmark forest_cover + forest_loss against exactextract and rasterstats.

Builds, in a temporary directory, a tree-cover raster and a matching loss-year
raster (``--raster-px`` square, 30 m pixels, EPSG:32718, tiled and
deflate-compressed) and random parcels of 0.5-5 ha, then prints, per parcel
count, the wall time and peak memory of:

* ``1pass``: agroforest_geo ``forest_cover_and_loss`` (one pass over both
  rasters), with ``n_jobs=--n-jobs`` (default 2);
* ``2call``: agroforest_geo ``forest_cover`` + ``forest_loss(cover=...)``,
  ``n_jobs=1``;
* ``ee``: plain ``exactextract.exact_extract``: cover ["mean", "count"] + loss
  ["frac"] (one core);
* ``rs``: ``rasterstats.zonal_stats``: cover mean/count + categorical loss
  (skipped above ``--max-rasterstats`` parcels and extrapolated linearly from
  the largest measured size, marked ``~``);
* ``io``: the I/O floor, reading every raster block touched by the parcels once.

Memory is the peak proportional set size (PSS) of this process and its child
processes (the ``n_jobs`` workers) above the value before the call, so the
memory of worker processes is included and shared pages are not counted twice.
Wall times on a shared machine vary: run it on an idle one.

Usage: ``python benchmarks/bench_cover.py --sizes 1000 10000 --raster-px 20000``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import psutil
import rasterio
import shapely
from rasterio.transform import from_origin
from rasterio.windows import Window

import agroforest_geo as agf
from agroforest_geo.cover import forest_cover_and_loss

X0, Y0, RES, CRS = 300_000.0, 9_300_000.0, 30.0, "EPSG:32718"


def make_rasters(d: Path, px: int, seed: int = 0) -> tuple[str, str]:
    rng = np.random.default_rng(seed)
    prof = dict(
        driver="GTiff",
        width=px,
        height=px,
        count=1,
        dtype="uint8",
        crs=CRS,
        transform=from_origin(X0, Y0, RES, RES),
        tiled=True,
        blockxsize=512,
        blockysize=512,
        compress="deflate",
        nodata=255,
    )
    cover, loss = str(d / "treecover.tif"), str(d / "lossyear.tif")
    step = 2048
    with rasterio.open(cover, "w", **prof) as c, rasterio.open(loss, "w", **prof) as lo:
        for r in range(0, px, step):
            for q in range(0, px, step):
                h, w = min(step, px - r), min(step, px - q)
                coarse = rng.integers(0, 101, (h // 16 + 1, w // 16 + 1)).astype("uint8")
                cov = np.repeat(np.repeat(coarse, 16, 0), 16, 1)[:h, :w]
                ls = np.where(
                    rng.random((h // 8 + 1, w // 8 + 1)) < 0.05,
                    rng.integers(1, 24, (h // 8 + 1, w // 8 + 1)),
                    0,
                ).astype("uint8")
                ls = np.repeat(np.repeat(ls, 8, 0), 8, 1)[:h, :w]
                c.write(cov, 1, window=Window(q, r, w, h))
                lo.write(ls, 1, window=Window(q, r, w, h))
    return cover, loss


def make_parcels(n: int, px: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    ext = px * RES
    x = X0 + rng.uniform(500, ext - 500, n)
    y = Y0 - rng.uniform(500, ext - 500, n)
    r = np.sqrt(rng.uniform(5_000, 50_000, n) / np.pi)
    geoms = shapely.buffer(shapely.points(x, y), r, quad_segs=6)
    return gpd.GeoDataFrame({"parcel_id": np.arange(n)}, geometry=geoms, crs=CRS)


def _tree_pss() -> int:
    """PSS in bytes of this process and all its children (worker processes)."""
    proc = psutil.Process()
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(fn: Callable[[], Any]) -> tuple[float, float]:
    """Wall time (s) and peak PSS above the start (MB) of ``fn()``."""
    base = _tree_pss()
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_pss())
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    stop.set()
    t.join()
    return dt, (peak[0] - base) / 2**20


def ours_one_pass(parcels: gpd.GeoDataFrame, cover: str, loss: str, n_jobs: int) -> None:
    forest_cover_and_loss(parcels, cover, loss, progress=False, n_jobs=n_jobs)


def ours_two_calls(parcels: gpd.GeoDataFrame, cover: str, loss: str) -> None:
    agf.forest_cover(parcels, cover, progress=False)
    agf.forest_loss(parcels, loss, cover=cover, progress=False)


def plain_exactextract(parcels: gpd.GeoDataFrame, cover: str, loss: str) -> None:
    from exactextract import exact_extract

    with rasterio.open(cover) as c, rasterio.open(loss) as lo:
        exact_extract(c, parcels, ["mean", "count"], output="pandas")
        exact_extract(lo, parcels, ["frac"], output="pandas")


def plain_rasterstats(parcels: gpd.GeoDataFrame, cover: str, loss: str) -> None:
    from rasterstats import zonal_stats

    zonal_stats(parcels, cover, stats=["mean", "count"])
    zonal_stats(parcels, loss, categorical=True)


def io_floor(parcels: gpd.GeoDataFrame, cover: str, loss: str) -> None:
    with rasterio.open(cover) as c, rasterio.open(loss) as lo:
        bx, by = c.block_shapes[0]
        inv = ~c.transform
        b = parcels.bounds.to_numpy()
        c0, r0 = inv * (b[:, 0], b[:, 3])
        c1, r1 = inv * (b[:, 2], b[:, 1])
        blocks: set[tuple[int, int]] = set()
        for a0, a1, z0, z1 in zip(c0 // by, c1 // by, r0 // bx, r1 // bx, strict=True):
            for rr in range(int(z0), int(z1) + 1):
                for cc in range(int(a0), int(a1) + 1):
                    blocks.add((rr, cc))
        for rr, cc in sorted(blocks):
            w = Window(cc * by, rr * bx, by, bx).intersection(Window(0, 0, c.width, c.height))
            c.read(1, window=w)
            lo.read(1, window=w)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--raster-px", type=int, default=20000)
    ap.add_argument("--max-rasterstats", type=int, default=2000)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cover, loss = make_rasters(Path(tmp), args.raster_px)
        print(
            f"rasters {args.raster_px}x{args.raster_px} px built in "
            f"{time.perf_counter() - t0:.1f} s; 1pass uses n_jobs={args.n_jobs}"
        )
        # start the worker machinery once (a long-lived program pays this once)
        ours_one_pass(make_parcels(200, args.raster_px), cover, loss, args.n_jobs)
        rs_rate: float | None = None
        print(
            f"{'parcels':>8} | {'1pass s':>8} {'MB':>5} | {'2call s':>8} {'MB':>5} | "
            f"{'ee s':>7} {'MB':>5} | {'rs s':>9} | {'io s':>6} | {'ee/1pass':>8} "
            f"{'ee/2call':>8} {'rs/1pass':>8} {'1pass/io':>8}"
        )
        for n in args.sizes:
            parcels = make_parcels(n, args.raster_px)
            t_io, _ = measure(lambda p=parcels: io_floor(p, cover, loss))
            t_one, m_one = measure(lambda p=parcels: ours_one_pass(p, cover, loss, args.n_jobs))
            t_two, m_two = measure(lambda p=parcels: ours_two_calls(p, cover, loss))
            t_ee, m_ee = measure(lambda p=parcels: plain_exactextract(p, cover, loss))
            if n <= args.max_rasterstats:
                t_rs, _ = measure(lambda p=parcels: plain_rasterstats(p, cover, loss))
                rs_rate = t_rs / n
                rs = f"{t_rs:9.2f}"
            else:
                t_rs = (rs_rate or float("nan")) * n
                rs = f"~{t_rs:8.1f}"  # extrapolated linearly
            print(
                f"{n:8d} | {t_one:8.2f} {m_one:5.0f} | {t_two:8.2f} {m_two:5.0f} | "
                f"{t_ee:7.2f} {m_ee:5.0f} | {rs} | {t_io:6.2f} | {t_ee / t_one:8.2f} "
                f"{t_ee / t_two:8.2f} {t_rs / t_one:8.1f} {t_one / t_io:8.2f}"
            )
        print("~ = rasterstats extrapolated linearly from the largest measured size")


if __name__ == "__main__":
    main()

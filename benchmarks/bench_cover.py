"""Benchmark forest_cover + forest_loss against exactextract, rasterstats and the I/O floor.

Builds, in a temporary directory, a tree-cover raster and a matching loss-year
raster (``--raster-px`` square, 30 m pixels, EPSG:32718, 512 px tiles,
deflate-compressed) and random parcels of 0.5-5 ha, then prints, per parcel
count, each side's best of ``--repeat`` runs (wall time and CPU time of the
process, all threads) and peak RSS growth:

* ``1pass``: agroforest_geo ``forest_cover_and_loss`` (one pass over both
  rasters), ``n_jobs=--n-jobs`` threads (default 2);
* ``2call``: agroforest_geo ``forest_cover`` + ``forest_loss(cover=...)``, ``n_jobs=1``;
* ``ee``: plain ``exactextract.exact_extract``: cover ["mean", "count"] + loss
  ["frac"] (one core);
* ``rs``: ``rasterstats.zonal_stats``: cover mean/count + categorical loss, one
  run (skipped above ``--max-rasterstats`` parcels and extrapolated linearly
  from the largest measured size, marked ``~``);
* ``io``: the I/O floor: every raster block the parcels' bounding boxes touch,
  of both rasters, read and decompressed once, in block order, on one thread.

and the ratios ``1pass/io`` (wall and CPU), ``ee/1pass`` and ``rs/1pass``, with
the blocks our pass read (each once) against the distinct blocks the parcels
touch, and the machine's load before and after.

Usage: ``python benchmarks/bench_cover.py --sizes 1000 10000 --raster-px 20000``.
"""

from __future__ import annotations

import argparse
import logging
import re
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
from _util import best_of, load_note, ratio
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


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """Best wall and CPU time (s) of ``repeat`` runs, and the peak RSS growth (MB) over them."""
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        wall, cpu, _ = best_of(fn, repeat)
    finally:
        stop.set()
        t.join()
    return wall, cpu, (peak[0] - base) / 2**20


class _PassLog(logging.Handler):
    """Keeps the last message of the raster pass (how many blocks it read)."""

    last = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.last = record.getMessage()


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


def touched_blocks(parcels: gpd.GeoDataFrame, src: Any) -> list[tuple[int, int]]:
    """(block row, block col) of every block the parcels' bounding boxes touch, in block order."""
    bh, bw = src.block_shapes[0]
    inv = ~src.transform
    b = parcels.bounds.to_numpy()
    c0, r0 = inv * (b[:, 0], b[:, 3])
    c1, r1 = inv * (b[:, 2], b[:, 1])
    blocks: set[tuple[int, int]] = set()
    for a0, a1, z0, z1 in zip(c0 // bw, c1 // bw, r0 // bh, r1 // bh, strict=True):
        for rr in range(int(z0), int(z1) + 1):
            for cc in range(int(a0), int(a1) + 1):
                blocks.add((rr, cc))
    return sorted(blocks)


def io_floor(parcels: gpd.GeoDataFrame, cover: str, loss: str) -> int:
    """Read and decompress, once each, the blocks of both rasters the parcels touch."""
    with rasterio.open(cover) as c, rasterio.open(loss) as lo:
        bh, bw = c.block_shapes[0]
        full = Window(0, 0, c.width, c.height)
        blocks = touched_blocks(parcels, c)
        for rr, cc in blocks:
            w = Window(cc * bw, rr * bh, bw, bh).intersection(full)
            c.read(1, window=w)
            lo.read(1, window=w)
    return 2 * len(blocks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--raster-px", type=int, default=20000)
    ap.add_argument("--max-rasterstats", type=int, default=2000)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    log = _PassLog()
    logging.getLogger("agroforest_geo.raster").addHandler(log)
    logging.getLogger("agroforest_geo.raster").setLevel(logging.DEBUG)
    print(load_note(), "(before)")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cover, loss = make_rasters(Path(tmp), args.raster_px)
        print(
            f"rasters {args.raster_px}x{args.raster_px} px built in "
            f"{time.perf_counter() - t0:.1f} s; 1pass uses n_jobs={args.n_jobs} threads; "
            f"best of {args.repeat} runs per side; wall s / CPU s"
        )
        # compile and load the kernels once (a long-lived program pays this once)
        ours_one_pass(make_parcels(200, args.raster_px), cover, loss, args.n_jobs)
        rs_rate: float | None = None
        print(
            f"{'parcels':>8} | {'io':>11} | {'1pass':>11} {'MB':>4} | {'2call':>11} {'MB':>4} | "
            f"{'ee':>11} {'MB':>4} | {'rs':>7} | {'1pass/io':>8} {'cpu':>5} | "
            f"{'ee/1pass':>8} {'ee/2call':>8} {'rs/1pass':>8} | blocks read / touched"
        )
        for n in args.sizes:
            parcels = make_parcels(n, args.raster_px)
            k = args.repeat
            io_w, io_c, _ = timed(lambda p=parcels: io_floor(p, cover, loss), k)
            with rasterio.open(cover) as src:
                touched = 2 * len(touched_blocks(parcels, src))
            one_w, one_c, one_m = timed(
                lambda p=parcels: ours_one_pass(p, cover, loss, args.n_jobs), k
            )
            m = re.search(r"(\d+) block units read \((\d+) distinct", log.last)
            read = f"{m.group(1)} ({m.group(2)} distinct) / {touched}" if m else "?"
            two_w, two_c, two_m = timed(lambda p=parcels: ours_two_calls(p, cover, loss), k)
            ee_w, ee_c, ee_m = timed(lambda p=parcels: plain_exactextract(p, cover, loss), k)
            if n <= args.max_rasterstats:
                t_rs, _, _ = timed(lambda p=parcels: plain_rasterstats(p, cover, loss), 1)
                rs_rate = t_rs / n
                rs = f"{t_rs:7.2f}"
            else:
                t_rs = (rs_rate or float("nan")) * n
                rs = f"~{t_rs:6.0f}"  # extrapolated linearly
            print(
                f"{n:8d} | {io_w:5.2f}/{io_c:5.2f} | {one_w:5.2f}/{one_c:5.2f} {one_m:4.0f} | "
                f"{two_w:5.2f}/{two_c:5.2f} {two_m:4.0f} | {ee_w:5.2f}/{ee_c:5.2f} {ee_m:4.0f} | "
                f"{rs} | {one_w / io_w:8.2f} {one_c / io_c:5.2f} | {ee_w / one_w:8.2f} "
                f"{ee_w / two_w:8.2f} {t_rs / one_w:8.1f} | {read}"
            )
            what = f"cover + loss in one pass, {n:,} parcels"
            goal = 6.0 if n >= 100_000 else None
            ratio(what, one_w, io_w, against="the I/O floor", goal=goal, higher_is_better=False)
            ratio(what, one_w, ee_w, against="exactextract")
        print("~ = rasterstats extrapolated linearly from the largest measured size")
    print(load_note(), "(after)")


if __name__ == "__main__":
    main()

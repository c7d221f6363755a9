"""Benchmark: agroforest_geo.detect_trees on a large synthetic CHM.

Run ``python benchmarks/bench_trees.py [--px 10000] [--block 2048]``. Writes a
PX x PX synthetic canopy height model (0.5 m cells, Gaussian crowns of 3-30 m on a
jittered 6 m grid) as a tiled GeoTIFF, block by block, then times

* ``detect_trees`` (variable window, exact, read in overlapping blocks) and
* a naive baseline: one fixed-window ``scipy.ndimage.maximum_filter`` (the
  circular window of the tallest tree) over the same blocks,

and prints megapixels per second and the peak memory of each (numpy/Python
allocations by tracemalloc; process peak RSS at the end). The detected tops are
checked against the planted trees (precision and recall).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window
from scipy import ndimage
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).parent))
from _util import measure, ratio, row

import agroforest_geo as agf

RES = 0.5
SPACING_PX = 12  # one tree per 6 m x 6 m grid cell
MIN_HEIGHT = 2.0


def planted_trees(px: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tree positions (row, col in pixels, continuous) and heights, one per grid cell."""
    rng = np.random.default_rng(seed)
    n = -(-px // SPACING_PX)
    ty = (np.arange(n)[:, None] * SPACING_PX + rng.uniform(3, SPACING_PX - 3, (n, n))).astype(
        np.float32
    )
    tx = (np.arange(n)[None, :] * SPACING_PX + rng.uniform(3, SPACING_PX - 3, (n, n))).astype(
        np.float32
    )
    th = rng.uniform(3, 30, (n, n)).astype(np.float32)
    return ty, tx, th


def render_block(
    r0: int, r1: int, c0: int, c1: int, trees: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """Heights of a block: the highest of the crowns of the 3 x 3 nearest grid cells."""
    ty, tx, th = trees
    n = ty.shape[0]
    rr = np.arange(r0, r1, dtype=np.float32)[:, None] + 0.5
    cc = np.arange(c0, c1, dtype=np.float32)[None, :] + 0.5
    ci = (np.arange(r0, r1) // SPACING_PX)[:, None]
    cj = (np.arange(c0, c1) // SPACING_PX)[None, :]
    out = np.zeros((r1 - r0, c1 - c0), dtype=np.float32)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            i = np.clip(ci + di, 0, n - 1)
            j = np.clip(cj + dj, 0, n - 1)
            h = th[i, j]
            sigma_px = (0.1 * h + 1.0) / 2 / RES
            d2 = (rr - ty[i, j]) ** 2 + (cc - tx[i, j]) ** 2
            np.maximum(out, h * np.exp(-d2 / (2 * sigma_px**2)), out=out)
    return out


def write_chm(path: Path, px: int, trees, block: int = 1024) -> None:
    profile = dict(
        driver="GTiff", width=px, height=px, count=1, dtype="float32", crs="EPSG:32718",
        transform=from_origin(300_000, 9_210_000, RES, RES), nodata=-9999.0,
        tiled=True, blockxsize=512, blockysize=512, BIGTIFF="IF_SAFER",
    )  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        for r0 in range(0, px, block):
            for c0 in range(0, px, block):
                r1, c1 = min(r0 + block, px), min(c0 + block, px)
                ds.write(
                    render_block(r0, r1, c0, c1, trees), 1, window=Window(c0, r0, c1 - c0, r1 - r0)
                )


def naive_fixed_window(path: Path, block: int, radius_px: int) -> int:
    """Baseline: one circular maximum_filter of the largest radius, block by block."""
    d = np.arange(-radius_px, radius_px + 1)
    footprint = (d[:, None] ** 2 + d[None, :] ** 2) <= radius_px**2
    n = 0
    with rasterio.open(path) as ds:
        for r0 in range(0, ds.height, block):
            for c0 in range(0, ds.width, block):
                rr0, cc0 = max(r0 - radius_px, 0), max(c0 - radius_px, 0)
                rr1 = min(r0 + block + radius_px, ds.height)
                cc1 = min(c0 + block + radius_px, ds.width)
                a = ds.read(1, window=Window(cc0, rr0, cc1 - cc0, rr1 - rr0))
                a = np.where(a >= MIN_HEIGHT, a, -np.inf).astype(np.float32)
                m = ndimage.maximum_filter(a, footprint=footprint, mode="constant", cval=-np.inf)
                core = (slice(r0 - rr0, r0 - rr0 + block), slice(c0 - cc0, c0 - cc0 + block))
                n += int(((a == m) & (a > -np.inf))[core].sum())
    return n


def detect_rss(path: Path, window: str, block: int) -> str:
    """Peak RSS of a fresh process that only runs detect_trees (GDAL cache 64 MB)."""
    code = (
        "import warnings, rasterio, agroforest_geo as agf\n"
        "warnings.simplefilter('ignore')\n"
        "with rasterio.Env(GDAL_CACHEMAX=64):\n"
        f"    t = agf.detect_trees({str(path)!r}, window={window!r}, block_size={block})\n"
        # VmHWM: this process's own peak (ru_maxrss would include the parent's at fork)
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(int(hwm) / 1024, len(t))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rss, n = out.stdout.split()
    return f"{float(rss):.0f} MB peak RSS for {n} trees"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--px", type=int, default=10000, help="raster side in pixels (default 10000)")
    ap.add_argument("--block", type=int, default=2048, help="detect_trees block_size")
    ap.add_argument("--window", default="popescu_wynne")
    args = ap.parse_args()
    px = args.px
    mpx = px * px / 1e6
    trees = planted_trees(px)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chm.tif"
        t0 = time.perf_counter()
        write_chm(path, px, trees)
        print(f"synthetic CHM {px} x {px} px ({mpx:.0f} Mpx) written in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip

        secs, peak, tops = measure(
            lambda: agf.detect_trees(path, window=args.window, block_size=args.block)
        )
        print(row(f"detect_trees ({args.window}, block {args.block})", secs, peak,
                  f"{mpx / secs:6.1f} Mpx/s  {len(tops)} trees"))  # fmt: skip
        rmax = agf.detect.WINDOW_PRESETS[args.window].function(np.array([30.0]))[0]
        radius_px = max(int(np.rint(rmax / RES)), 1)
        bsecs, bpeak, n_naive = measure(lambda: naive_fixed_window(path, args.block, radius_px))
        print(row(f"naive maximum_filter (fixed r={radius_px} px)", bsecs, bpeak,
                  f"{mpx / bsecs:6.1f} Mpx/s  {n_naive} tops"))  # fmt: skip
        print(f"speed-up vs naive: {bsecs / secs:.1f}x")
        ratio(f"detect_trees, {px:,}^2 px CHM", secs, bsecs, against="fixed-window maximum_filter")

        ty, tx, th = trees
        inside = (ty < px) & (tx < px) & (th >= MIN_HEIGHT)
        truth = np.column_stack([tx[inside] + 0.0, ty[inside] + 0.0])
        with rasterio.open(path) as ds:
            rows, cols = rasterio.transform.rowcol(
                ds.transform, tops.geometry.x.to_numpy(), tops.geometry.y.to_numpy()
            )
        found = np.column_stack([np.asarray(cols) + 0.5, np.asarray(rows) + 0.5])
        dist, idx = cKDTree(truth).query(found)
        ok = dist <= 2.0  # pixels (1 m)
        print(f"precision {ok.mean():.3f}  recall {len(set(idx[ok])) / len(truth):.3f} "
              f"against {len(truth)} planted trees")  # fmt: skip
        print(f"detect_trees alone, fresh process: {detect_rss(path, args.window, args.block)}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"this process peak RSS {rss:.0f} MB (writing the CHM, GDAL block cache, baseline)")


if __name__ == "__main__":
    main()

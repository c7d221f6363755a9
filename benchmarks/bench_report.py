"""Benchmark of the report against the assessment it draws, at 1,000 / 20,000 / 100,000 parcels.

Synthetic cooperative around lon -76.7, lat -7.2 (San Martín, Peru): N parcels of
0.5-10 ha (jittered 10-gons on a 330 m grid), a 30 m tree-cover raster and a
Hansen-coded loss-year raster over them (loss in patches, some after the
cut-off) and 10 protected polygons. For each size it prints the wall time of
``run_assessment`` and of ``Assessment.report`` (HTML, Spanish), their ratio, the
peak memory of the report (growth of the process RSS above the level before
the call, sampled every 5 ms, so GEOS and GDAL memory count) and the HTML size.
The machine may be shared: the load average is printed with each row.

Usage: ``python benchmarks/bench_report.py --sizes 1000 20000 100000``
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import psutil
import pyproj
import rasterio
import shapely
from rasterio.transform import from_origin

sys.path.insert(0, str(Path(__file__).parent))
from _util import ratio

import agroforest_geo as agf

LON0, LAT0 = -76.7, -7.2
SPACING_M = 330.0
PIXEL_DEG = 0.00027  # ~30 m


def make_parcels(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    utm = agf.crs.utm_crs_for(LON0, LAT0)
    x0, y0 = pyproj.Transformer.from_crs(4326, utm, always_xy=True).transform(LON0, LAT0)
    i = np.arange(n)
    cx = x0 + (i % side - side / 2) * SPACING_M + rng.uniform(-40, 40, n)
    cy = y0 + (i // side - side / 2) * SPACING_M + rng.uniform(-40, 40, n)
    radius = np.sqrt(rng.uniform(0.5, 10.0, n) * 1e4 / np.pi)
    t = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    r = radius[:, None] * rng.uniform(0.85, 1.15, (n, 10))
    xs, ys = cx[:, None] + r * np.cos(t), cy[:, None] + r * np.sin(t)
    rings = np.stack([xs, ys], axis=-1)
    geoms = shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))
    gdf = gpd.GeoDataFrame(
        {
            "parcel_id": [f"P{k:06d}" for k in i],
            "province": np.array(["Bellavista", "Huallaga", "Picota", "Tocache"])[i % 4],
            "declared_area_ha": np.round(radius**2 * np.pi / 1e4 * rng.uniform(0.9, 1.1, n), 2),
        },
        geometry=geoms,
        crs=utm,
    )
    return gdf.to_crs(4326)


def make_rasters(parcels: gpd.GeoDataFrame, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = parcels.total_bounds
    x0, y0, x1, y1 = x0 - 0.01, y0 - 0.01, x1 + 0.01, y1 + 0.01
    w, h = int((x1 - x0) / PIXEL_DEG) + 1, int((y1 - y0) / PIXEL_DEG) + 1
    transform = from_origin(x0, y1, PIXEL_DEG, PIXEL_DEG)
    # loss in 8 x 8 pixel patches: 6 % of the patches, years 2001-2023
    ph, pw = h // 8 + 1, w // 8 + 1
    patch = np.where(rng.random((ph, pw)) < 0.06, rng.integers(1, 24, (ph, pw)), 0)
    loss = np.kron(patch, np.ones((8, 8), dtype=np.uint8))[:h, :w].astype(np.uint8)
    cover = np.clip(rng.normal(60, 25, (ph, pw)), 0, 100)
    cover = np.kron(cover, np.ones((8, 8)))[:h, :w].astype(np.uint8)
    paths = []
    for name, data in (("cover.tif", cover), ("lossyear.tif", loss)):
        p = folder / name
        with rasterio.open(
            p,
            "w",
            driver="GTiff",
            width=w,
            height=h,
            count=1,
            dtype="uint8",
            crs="EPSG:4326",
            transform=transform,
            tiled=True,
            compress="deflate",
            nodata=255,
        ) as dst:
            dst.write(data, 1)
        paths.append(p)
    return paths[0], paths[1]


def make_protected(parcels: gpd.GeoDataFrame, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = parcels.total_bounds
    cx, cy = rng.uniform(x0, x1, 10), rng.uniform(y0, y1, 10)
    r = (x1 - x0) * 0.05
    geoms = [shapely.Point(x, y).buffer(r, 64) for x, y in zip(cx, cy, strict=True)]
    return gpd.GeoDataFrame(
        {
            "area_id": [f"ANP{k}" for k in range(10)],
            "name": [f"Area {k}" for k in range(10)],
            "category": "national_park",
        },
        geometry=geoms,
        crs=4326,
    )


class PeakRSS:
    """Peak growth of the process RSS during a block, sampled every 5 ms."""

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.proc = psutil.Process(os.getpid())
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self.stop = False
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.stop:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc: Any) -> None:
        self.stop = True
        self.thread.join()

    @property
    def mb(self) -> float:
        return (self.peak - self.base) / 1e6


def run(n: int, folder: Path) -> str:
    parcels = make_parcels(n)
    cover, loss = make_rasters(parcels, folder)
    protected = make_protected(parcels)
    t0 = time.perf_counter()
    a = agf.run_assessment(parcels, cover=cover, loss=loss, protected=protected)
    t_assess = time.perf_counter() - t0
    out = folder / f"report_{n}.html"
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        a.report(out, lang="es")
        t_report = time.perf_counter() - t0
    size = out.stat().st_size / 1e6
    load = os.getloadavg()[0]
    ratio(
        f"report, {n:,} parcels (report time / assessment time)",
        t_report,
        t_assess,
        against="the assessment",
        higher_is_better=False,
    )
    return (
        f"{n:>8d} parcels  assessment {t_assess:7.2f} s  report {t_report:7.2f} s  "
        f"ratio {t_report / t_assess:5.2f}  report peak +{mem.mb:7.1f} MB  HTML {size:6.1f} MB  "
        f"(load {load:.1f} on {os.cpu_count()} cores)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000, 100000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            print(run(n, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()

"""Benchmark: agroforest_geo.carbon.plot_biomass (Monte-Carlo) on a large synthetic inventory.

Run ``python benchmarks/bench_carbon.py [--plots 2000] [--per-plot 50] [--draws 1000]``.
Lays out 1-ha square plots with random trees (D 5-80 cm, Weibull heights, measured wood
densities), then times

* ``plot_biomass`` with ``n_draws`` draws (diameter, height, wood-density and allometric
  errors; memory bounded by blocks of at most 10^6 tree-draws), and
* a naive baseline: one (trees x draws) array per error source at once, summed per plot
  with ``numpy.add.at`` (what the blocks avoid),

and prints tree-draws per second and the peak memory of each. The two plot sds agree
within Monte-Carlo noise.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).parent))
from _util import measure, ratio, row

import agroforest_geo as agf


def inventory(n_plots: int, per: int, seed: int = 0) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    xs = (np.arange(n_plots) % 50) * 200.0 + 500_000
    ys = (np.arange(n_plots) // 50) * 200.0 + 9_200_000
    plots = gpd.GeoDataFrame(
        geometry=[shapely.box(x, y, x + 100, y + 100) for x, y in zip(xs, ys, strict=True)],
        crs=32718,
    )
    px = np.repeat(xs, per) + rng.uniform(0, 100, n_plots * per)
    py = np.repeat(ys, per) + rng.uniform(0, 100, n_plots * per)
    d = rng.uniform(5, 80, px.size)
    trees = gpd.GeoDataFrame(
        {
            "diameter_cm": d,
            "height_m": 40 * (1 - np.exp(-0.05 * d**0.8)),
            "wd": rng.uniform(0.3, 0.9, px.size),
            "plot": np.repeat(np.arange(n_plots), per),
        },
        geometry=gpd.points_from_xy(px, py),
        crs=32718,
    )
    return plots, trees


def naive(trees: gpd.GeoDataFrame, n_plots: int, n_draws: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d0 = trees["diameter_cm"].to_numpy()[:, None]
    h0 = trees["height_m"].to_numpy()[:, None]
    rho = trees["wd"].to_numpy()[:, None]
    shape = (d0.shape[0], n_draws)
    gross = rng.random(shape) < 0.05
    d = np.abs(d0 + np.where(gross, 4.64, 0.0062 * d0 + 0.0904) * rng.standard_normal(shape))
    agb = 0.0673 * (rho * d**2 * h0) ** 0.976
    agb *= np.exp(0.357 * rng.standard_normal(shape) - 0.357**2 / 2)
    sums = np.zeros((n_plots, n_draws))
    np.add.at(sums, trees["plot"].to_numpy(), agb)
    return sums.std(axis=1, ddof=1) / 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plots", type=int, default=2000)
    ap.add_argument("--per-plot", type=int, default=50)
    ap.add_argument("--draws", type=int, default=1000)
    args = ap.parse_args()
    plots, trees = inventory(args.plots, args.per_plot)
    cells = len(trees) * args.draws

    def run() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return agf.carbon.plot_biomass(
                plots, trees, wood_density_column="wd", n_draws=args.draws, seed=1
            )

    t, mb, out = measure(run)
    print(f"{len(trees)} trees in {args.plots} plots, {args.draws} draws ({cells:.2g} tree-draws)")
    print(row("plot_biomass", t, mb, f"{cells / t / 1e6:.1f} M tree-draws/s"))
    t2, mb2, sd = measure(lambda: naive(trees, args.plots, args.draws, 1))
    print(row("naive: whole (trees x draws) arrays", t2, mb2, f"{cells / t2 / 1e6:.1f} M/s"))
    sd_ratio = float(np.median(out["agb_mg_sd"] / sd))  # type: ignore[index]
    print(f"median ratio of plot sds (library / naive): {sd_ratio:.3f}")
    ratio(
        f"plot_biomass, {len(trees):,} trees x {args.draws} draws",
        t,
        t2,
        against="whole-array numpy",
    )


if __name__ == "__main__":
    main()

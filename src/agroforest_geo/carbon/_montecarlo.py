"""Monte-Carlo propagation of tree-level errors to sums over plots (or groups of plots).

Each draw perturbs, independently per tree:

* the diameter: truncated normal (> 0) around the measured value; ``"chave2004"``
  (Chave et al. 2004): sd = 0.0062 D + 0.0904 cm for 95 % of the measurements and
  4.64 cm for 5 % (gross errors). The gross errors were measured on trees of 10 cm
  and more; smaller trees get the first part only (a 4.64 cm error on a 2 cm
  sapling is not a measurement error). Or a given sd in cm;
* the height: measured heights by a truncated normal with the measurement sd;
  modelled heights are predicted again from the drawn diameter and perturbed by
  the model's residual error (in ln H for log models), truncated at 1.3 m;
* the wood density: truncated normal with its sd, within 0.08–1.39 g/cm³ (the
  range of the Global Wood Density Database);
* the allometric model: ln AGB + ε − σ²/2, ε ~ N(0, σ) with σ the model's residual
  standard error (the −σ²/2 keeps the mean of the draws on the published equation,
  whose intercept already holds the log-bias correction).

Draws are summed per unit through a sparse (units × trees) membership matrix,
so a tree in two overlapping plots counts in both. Units are processed in
blocks of at most ``_MAX_SUM_CELLS`` unit-draws, and each block's trees in chunks
of at most ``_MAX_CELLS`` tree-draws, each tree simulated once per block, so
memory is bounded whatever the inventory size. One ``numpy.random.Generator`` seeded
from ``seed`` drives everything, in a fixed order: seeded runs are identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import ndtr, ndtri

from ._allometry import Allometry
from ._height import HeightModel

#: Tree-draws simulated at once (each array of a chunk is at most this many float64s).
_MAX_CELLS = 1_000_000
#: Unit-draws summed at once (2**24 float64s, 134 MB): 16,777 units at 1,000 draws.
_MAX_SUM_CELLS = 2**24
_WD_BOUNDS = (0.08, 1.39)
_H_MIN_M = 1.3
#: Rounds of redrawing before inverse-CDF sampling of what is still out of bounds.
_REJECTION_ROUNDS = 4


@dataclass
class TreeInputs:
    """The per-tree inputs of the simulation (numpy arrays of one length)."""

    diameter_cm: np.ndarray
    height_m: np.ndarray  # used heights (measured or modelled)
    height_modelled: np.ndarray  # bool
    height_sd_m: np.ndarray  # measurement sd of measured heights
    wood_density: np.ndarray
    wood_density_sd: np.ndarray
    e: np.ndarray
    groups: np.ndarray | None  # height-model group of each tree


def _truncnorm(
    rng: np.random.Generator, mean: np.ndarray, sd: np.ndarray, lo: float, hi: float
) -> np.ndarray:
    """Draws of N(mean, sd) truncated to [lo, hi], elementwise; sd 0 → mean.

    Rejection (redraw what falls outside, a few rounds) and, for what is still
    outside, inverse-CDF sampling: exact truncated normals, fast when the bounds
    are rarely hit (the usual case), never stuck when they often are.
    """
    mean = np.asarray(mean, dtype=float)
    sd = np.broadcast_to(np.asarray(sd, dtype=float), mean.shape)
    if not (sd > 0).any():
        return np.array(mean, dtype=float)
    x = mean + sd * rng.standard_normal(mean.shape)
    out = (x < lo) | (x > hi)
    for _ in range(_REJECTION_ROUNDS):
        if not out.any():
            return x
        idx = np.flatnonzero(out)
        x.flat[idx] = mean.flat[idx] + sd.flat[idx] * rng.standard_normal(idx.size)
        out.flat[idx] = (x.flat[idx] < lo) | (x.flat[idx] > hi)
    idx = np.flatnonzero(out)
    if idx.size:
        m, s_ = mean.flat[idx], sd.flat[idx]
        s_safe = np.where(s_ > 0, s_, 1.0)
        a, b = ndtr((lo - m) / s_safe), ndtr((hi - m) / s_safe)
        u = a + (b - a) * rng.random(idx.size)
        drawn = m + s_safe * ndtri(np.clip(u, 1e-300, 1 - 1e-16))
        x.flat[idx] = np.where(s_ > 0, np.clip(drawn, lo, hi), np.clip(m, lo, hi))
    return x


def _diameter_sd(d: np.ndarray, error: str | float, rng: np.random.Generator) -> np.ndarray:
    if isinstance(error, str):
        gross = (rng.random(d.shape) < 0.05) & (d >= 10.0)
        return np.where(gross, 4.64, 0.0062 * d + 0.0904)
    return np.full(d.shape, float(error))


def simulate_trees(
    t: TreeInputs,
    idx: np.ndarray,
    n_draws: int,
    allometry: Allometry,
    height_model: HeightModel | None,
    diameter_error: str | float,
    rng: np.random.Generator,
) -> np.ndarray:
    """AGB draws (kg), shape (len(idx), n_draws), for the trees ``idx``."""
    shape = (idx.size, n_draws)
    d0 = np.broadcast_to(t.diameter_cm[idx, None], shape)
    d = _truncnorm(rng, d0, _diameter_sd(d0, diameter_error, rng), 1e-3, np.inf)
    h = np.broadcast_to(t.height_m[idx, None], shape).copy()
    measured = ~t.height_modelled[idx]
    if measured.any():
        hm = h[measured]
        sd = np.broadcast_to(t.height_sd_m[idx][measured, None], hm.shape)
        h[measured] = _truncnorm(rng, hm, sd, _H_MIN_M, np.inf)
    modelled = ~measured & np.isfinite(t.height_m[idx])
    if modelled.any() and height_model is not None:
        grp = None if t.groups is None else np.repeat(t.groups[idx][modelled], n_draws)
        dm = d[modelled]
        med, rse = height_model.median(dm.ravel(), grp)
        med, rse = med.reshape(dm.shape), rse.reshape(dm.shape)
        if height_model.log_residuals:
            hm = med * np.exp(rse * rng.standard_normal(dm.shape))
            h[modelled] = np.maximum(hm, _H_MIN_M)
        else:
            h[modelled] = _truncnorm(rng, med, rse, _H_MIN_M, np.inf)
    rho0 = np.broadcast_to(t.wood_density[idx, None], shape)
    rsd = np.broadcast_to(np.nan_to_num(t.wood_density_sd[idx, None]), shape)
    rho = _truncnorm(rng, rho0, rsd, *_WD_BOUNDS)
    e = np.broadcast_to(t.e[idx, None], shape)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        agb = allometry.equation(d, h, rho, e)
    sigma = allometry.residual_sd
    if sigma:
        agb = agb * np.exp(sigma * rng.standard_normal(shape) - sigma**2 / 2)
    return np.asarray(agb, dtype=float)


def unit_sums(
    membership: sparse.csr_matrix,
    t: TreeInputs,
    n_draws: int,
    allometry: Allometry,
    height_model: HeightModel | None,
    diameter_error: str | float,
    seed: int | np.random.SeedSequence | None,
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield (unit slice, summed AGB draws in kg of shape (units in slice, n_draws)).

    Units are taken in blocks of at most ``_MAX_SUM_CELLS`` unit-draws; within a
    block each tree is simulated once, however many of the block's units it is
    in (the units of several groupings stacked in one membership matrix therefore
    share the same draws of each tree while they fit in one block).
    """
    rng = np.random.default_rng(seed)
    n_units = membership.shape[0]
    max_trees = max(_MAX_CELLS // max(n_draws, 1), 1)
    per_block = max(_MAX_SUM_CELLS // max(n_draws, 1), 1)
    for start in range(0, n_units, per_block):
        stop = min(start + per_block, n_units)
        block = sparse.csc_matrix(membership[start:stop])
        trees = np.flatnonzero(np.diff(block.indptr))
        sums = np.zeros((stop - start, n_draws))
        for c0 in range(0, trees.size, max_trees):
            chunk = trees[c0 : c0 + max_trees]
            draws = simulate_trees(t, chunk, n_draws, allometry, height_model, diameter_error, rng)
            part = sparse.csr_matrix(block[:, chunk])
            rows = np.flatnonzero(np.diff(part.indptr))
            sums[rows] += part[rows] @ np.nan_to_num(draws)
        yield slice(start, stop), sums

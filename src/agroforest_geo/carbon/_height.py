"""Height–diameter models: fitted on the trees that have both, or published regional ones.

Forms (H in m, D in cm):

============= ==================================== ============================
method        model                                residual error
============= ==================================== ============================
``loglog``    ln H = a + b ln D                    normal in ln H (RSE in log units)
``michaelis`` H = a D / (b + D)                    normal in H (RSE in m)
``weibull``   H = a (1 - exp(-b D^c))              normal in H (RSE in m)
``chave2014`` ln H = 0.893 - E + 0.760 ln D        normal in ln H, RSE 0.243
              - 0.0340 (ln D)²
============= ==================================== ============================

``loglog`` predictions are bias-corrected (× exp(RSE²/2)) so they estimate the
mean height, not the median. The RSE is kept with the model and used by the
Monte-Carlo (:func:`agroforest_geo.carbon.plot_biomass`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from ..errors import MissingColumnError

__all__ = ["FELDPAUSCH2012", "HeightModel", "fit_height_model", "published_height_model"]

HeightMethod: TypeAlias = Literal["loglog", "michaelis", "weibull"]
_METHODS = ("loglog", "michaelis", "weibull")
#: A group needs this many trees with both D and H for its own fit (else the pooled fit).
MIN_TREES_PER_GROUP = 10

#: Feldpausch et al. (2012) Biogeosciences 9:3381-3403, Table 3: regional Weibull
#: H = a (1 - exp(-b D^c)) and residual standard error (m).
FELDPAUSCH2012: dict[str, tuple[float, float, float, float]] = {
    "Africa": (50.096, 0.03711, 0.8291, 5.739),
    "CAfrica": (50.453, 0.0471, 0.812, 6.177),
    "EAfrica": (43.974, 0.0334, 0.8546, 5.466),
    "WAfrica": (53.133, 0.0331, 0.8329, 5.165),
    "SAmerica": (42.574, 0.0482, 0.8307, 5.619),
    "BrazilianShield": (227.35, 0.0139, 0.555, 4.683),
    "ECAmazonia": (48.131, 0.0375, 0.8228, 4.918),
    "GuianaShield": (42.845, 0.0433, 0.9372, 5.285),
    "WAmazonia": (46.263, 0.0876, 0.6072, 5.277),
    "SEAsia": (57.122, 0.0332, 0.8468, 5.691),
    "NAustralia": (41.721, 0.0529, 0.7755, 4.042),
    "Pantropical": (50.874, 0.042, 0.784, 5.479),
}


def _weibull(d: np.ndarray, a: Any, b: Any, c: Any) -> np.ndarray:
    return a * (1.0 - np.exp(-b * d**c))


def _michaelis(d: np.ndarray, a: Any, b: Any) -> np.ndarray:
    return a * d / (b + d)


@dataclass(frozen=True)
class HeightModel:
    """A height–diameter model, per group or for all trees.

    Attributes
    ----------
    method : str
        ``loglog``, ``michaelis``, ``weibull`` or ``chave2014``.
    params : pandas.DataFrame
        One row per group (index: group value; ``"all"`` for the pooled fit):
        coefficients ``a``, ``b``, ``c`` (NaN if unused), ``rse``, ``n`` (trees fitted).
    by : str or None
        Tree column holding the group; trees of a group without a fit use ``"all"``.
    source : str
        ``"fitted"`` or the citation of a published model.
    e : float
        Environmental stress factor E (``chave2014`` only).
    """

    method: str
    params: pd.DataFrame
    by: str | None = None
    source: str = "fitted"
    e: float = field(default=0.0)

    @property
    def log_residuals(self) -> bool:
        """Whether the residual error is in ln H (``loglog``, ``chave2014``)."""
        return self.method in ("loglog", "chave2014")

    def _rows(self, n: int, group: Any) -> pd.DataFrame:
        if group is None or self.by is None:
            row = self.params.loc["all"] if "all" in self.params.index else self.params.iloc[0]
            return pd.DataFrame([row.to_dict()] * n)
        keys = pd.Series(np.asarray(group, dtype=object))
        known = keys.where(keys.isin(self.params.index), "all")
        return self.params.reindex(known.to_numpy()).reset_index(drop=True)

    def median(self, diameter_cm: Any, group: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Return (central prediction without bias correction, RSE) per tree."""
        d = np.asarray(diameter_cm, dtype=float)
        p = self._rows(d.size, group)
        a, b, c = (p[k].to_numpy(dtype=float) for k in ("a", "b", "c"))
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.method == "loglog":
                h = np.exp(a + b * np.log(d))
            elif self.method == "michaelis":
                h = _michaelis(d, a, b)
            elif self.method == "weibull":
                h = _weibull(d, a, b, c)
            else:  # chave2014
                ln_d = np.log(d)
                h = np.exp(0.893 - self.e + 0.760 * ln_d - 0.0340 * ln_d**2)
        return h.reshape(d.shape), p["rse"].to_numpy(dtype=float).reshape(d.shape)

    def predict(self, diameter_cm: Any, group: Any = None) -> np.ndarray:
        """Mean height (m) of trees of these diameters (cm), in their groups.

        Examples
        --------
        >>> import agroforest_geo as agf
        >>> m = agf.carbon.published_height_model("feldpausch2012", region="WAmazonia")
        >>> [round(float(h), 1) for h in m.predict([10.0, 30.0])]
        [13.8, 23.1]
        """
        h, rse = self.median(diameter_cm, group)
        return h * np.exp(rse**2 / 2) if self.log_residuals else h


def _fit_one(d: np.ndarray, h: np.ndarray, method: str) -> dict[str, float]:
    n = d.size
    if method == "loglog":
        b, a = np.polyfit(np.log(d), np.log(h), 1)
        res = np.log(h) - (a + b * np.log(d))
        return {"a": a, "b": b, "c": np.nan, "rse": float(np.sqrt(res @ res / (n - 2))), "n": n}
    if method == "michaelis":
        p0: tuple[float, ...] = (float(np.max(h)) * 1.5, float(np.median(d)))
        (a, b), _ = curve_fit(_michaelis, d, h, p0=p0, maxfev=20_000)
        res = h - _michaelis(d, a, b)
        return {"a": a, "b": b, "c": np.nan, "rse": float(np.sqrt(res @ res / (n - 2))), "n": n}
    p3 = (float(np.max(h)) * 1.3, 0.05, 0.8)
    (a, b, c), _ = curve_fit(
        _weibull, d, h, p0=p3, bounds=([0, 0, 0.05], [300, 10, 3]), maxfev=20_000
    )
    res = h - _weibull(d, a, b, c)
    return {"a": a, "b": b, "c": c, "rse": float(np.sqrt(res @ res / max(n - 3, 1))), "n": n}


def fit_height_model(
    trees: pd.DataFrame,
    *,
    diameter_column: str = "diameter_cm",
    height_column: str = "height_m",
    method: HeightMethod = "weibull",
    by: str | None = None,
) -> HeightModel:
    """Fit a height–diameter model on the trees that have both, keeping its residual error.

    Parameters
    ----------
    trees : DataFrame
        Trees with diameters (cm) and, for some or all, heights (m).
    diameter_column, height_column : str
    method : {"loglog", "michaelis", "weibull"}
        See the module docstring for the forms (``scipy.optimize.curve_fit``
        for the non-linear ones, least squares on logs for ``loglog``).
    by : str, optional
        Fit one model per value of this column (plot, system, ...); groups with
        fewer than 10 trees with both measures use the pooled fit (row ``"all"``).

    Returns
    -------
    HeightModel

    Examples
    --------
    >>> import agroforest_geo as agf, geopandas as gpd
    >>> trees = gpd.read_file(agf.datasets.get_path("tree_inventory"), layer="trees")
    >>> m = agf.carbon.fit_height_model(trees, method="loglog")
    >>> int(m.params.loc["all", "n"]), bool(0 < m.params.loc["all", "rse"] < 0.6)
    (888, True)
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS)}, got {method!r}")
    for col in (diameter_column, height_column) + ((by,) if by else ()):
        if col not in trees.columns:
            raise MissingColumnError(
                f"trees have no column {col!r}; they have {list(trees.columns)}"
            )
    d = pd.to_numeric(trees[diameter_column], errors="coerce").to_numpy(dtype=float)
    h = pd.to_numeric(trees[height_column], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(d) & np.isfinite(h) & (d > 0) & (h > 0)
    need = 3 if method == "weibull" else 2
    if ok.sum() <= need:
        raise ValueError(
            f"a {method} height model needs more than {need} trees with both a diameter and a "
            f"height; {int(ok.sum())} have both"
        )
    rows = {"all": _fit_one(d[ok], h[ok], method)}
    if by is not None:
        groups = trees[by].to_numpy(dtype=object)
        for g in pd.unique(groups[ok]):
            sel = ok & (groups == g)
            if sel.sum() >= MIN_TREES_PER_GROUP:
                rows[g] = _fit_one(d[sel], h[sel], method)
    params = pd.DataFrame.from_dict(rows, orient="index")[["a", "b", "c", "rse", "n"]]
    return HeightModel(method, params, by=by, source="fitted")


def published_height_model(
    name: Literal["feldpausch2012", "chave2014"] = "feldpausch2012",
    *,
    region: str = "WAmazonia",
    e: float | None = None,
) -> HeightModel:
    """Return a published height–diameter model.

    Parameters
    ----------
    name : {"feldpausch2012", "chave2014"}
        Feldpausch et al. (2012) regional Weibull models (Table 3), or Chave et
        al. (2014) Eq. 6a, ``ln H = 0.893 - E + 0.760 ln D - 0.0340 (ln D)²``
        (RSE 0.243), which needs ``e``.
    region : str
        Feldpausch region: one of :data:`FELDPAUSCH2012` (San Martín, Peru, lies in
        ``"WAmazonia"``).
    e : float, optional
        Environmental stress factor E of the site (``chave2014``).

    Returns
    -------
    HeightModel

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> m = agf.carbon.published_height_model("chave2014", e=0.0)
    >>> round(float(m.predict([30.0])[0]), 1)
    22.5
    """
    if name == "feldpausch2012":
        if region not in FELDPAUSCH2012:
            raise ValueError(f"region must be one of {sorted(FELDPAUSCH2012)}, got {region!r}")
        a, b, c, rse = FELDPAUSCH2012[region]
        params = pd.DataFrame(
            {"a": [a], "b": [b], "c": [c], "rse": [rse], "n": [np.nan]}, index=["all"]
        )
        src = f"Feldpausch et al. (2012) Biogeosciences 9:3381-3403, Table 3, {region}"
        return HeightModel("weibull", params, source=src)
    if name == "chave2014":
        if e is None:
            raise ValueError("the chave2014 height model needs e= (the site's E)")
        params = pd.DataFrame(
            {"a": [np.nan], "b": [np.nan], "c": [np.nan], "rse": [0.243], "n": [np.nan]},
            index=["all"],
        )
        src = "Chave et al. (2014) Global Change Biology 20:3177-3190, Eq. 6a"
        return HeightModel("chave2014", params, source=src, e=float(e))
    raise ValueError(f"name must be 'feldpausch2012' or 'chave2014', got {name!r}")

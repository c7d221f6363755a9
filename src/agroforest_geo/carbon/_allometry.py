"""Allometric models: above-ground biomass of one tree from its diameter, height and wood density.

Each named model is one row of :data:`ALLOMETRIES` (a documented table, not
literals scattered in code): its equation, source, the diameter range it was
calibrated on and its residual standard error in log space (for the
Monte-Carlo). Units are fixed: diameter at breast height (1.3 m) in cm, total
height in m, wood density (oven-dry mass / fresh volume) in g/cm³, biomass in kg.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AllometryDomainWarning, UnitError

__all__ = ["ALLOMETRIES", "Allometry", "agb_kg", "resolve_allometry"]

ArrayLike = Any
Equation = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]

#: Diameters (cm) above this cannot be a tree's DBH: the largest measured are ~15 m girth (~500 cm).
_MAX_PLAUSIBLE_D_CM = 500.0
#: A median diameter (cm) above this is a stand of giants: more likely millimetres.
_MAX_MEDIAN_D_CM = 150.0
#: Heights (m) above this cannot be a tree's: the tallest known tree is ~116 m.
_MAX_PLAUSIBLE_H_M = 120.0
#: Wood density (g/cm³): the Global Wood Density Database spans ~0.08-1.39.
_WD_RANGE = (0.05, 1.5)


@dataclass(frozen=True)
class Allometry:
    """A named allometric model: AGB (kg) from D (cm), H (m), ρ (g/cm³) and E.

    Attributes
    ----------
    name : str
    equation : callable
        ``equation(D, H, rho, E) -> AGB kg`` on numpy arrays (unused inputs ignored).
    needs_height, needs_wood_density, needs_e : bool
    diameter_range_cm : (float, float)
        Calibration range; trees outside it get an :class:`AllometryDomainWarning`.
    residual_sd : float or None
        Residual standard error of ln(AGB), used by the Monte-Carlo; None when the
        source gives none (the interval then omits the model's error, with a warning).
    source, domain : str
        Citation and the population the model was fitted on.
    """

    name: str
    equation: Equation
    needs_height: bool
    needs_wood_density: bool
    diameter_range_cm: tuple[float, float]
    residual_sd: float | None
    source: str
    domain: str
    needs_e: bool = False


def _chave2014_eq4(d: np.ndarray, h: np.ndarray, rho: np.ndarray, e: np.ndarray) -> np.ndarray:
    return 0.0673 * (rho * d**2 * h) ** 0.976


def _chave2014_eq7(d: np.ndarray, h: np.ndarray, rho: np.ndarray, e: np.ndarray) -> np.ndarray:
    ln_d = np.log(d)
    return np.exp(-1.803 - 0.976 * e + 0.976 * np.log(rho) + 2.673 * ln_d - 0.0299 * ln_d**2)


def _chave2005(a: float, b: float) -> Equation:
    def eq(d: np.ndarray, h: np.ndarray, rho: np.ndarray, e: np.ndarray) -> np.ndarray:
        ln_d = np.log(d)
        return rho * np.exp(a + b * ln_d + 0.207 * ln_d**2 - 0.0281 * ln_d**3)

    return eq


def _andrade2008_cacao(d: np.ndarray, h: np.ndarray, rho: np.ndarray, e: np.ndarray) -> np.ndarray:
    return 10.0 ** (-1.625 + 2.63 * np.log10(d))


def _van_noordwijk2002_musa(
    d: np.ndarray, h: np.ndarray, rho: np.ndarray, e: np.ndarray
) -> np.ndarray:
    return 0.030 * d**2.13


def _goodman2013_palm(d: np.ndarray, h: np.ndarray, rho: np.ndarray, e: np.ndarray) -> np.ndarray:
    return 0.03781 * d**2.7483


_CHAVE2005 = "Chave et al. (2005) Oecologia 145:87-99, Table 2 model II.3 (D and ρ, no height)"

#: The named allometries. ``"chave2014"`` resolves to Eq. 4 with heights, Eq. 7 without.
ALLOMETRIES: dict[str, Allometry] = {
    "chave2014_eq4": Allometry(
        "chave2014_eq4",
        _chave2014_eq4,
        needs_height=True,
        needs_wood_density=True,
        diameter_range_cm=(5.0, 212.0),
        residual_sd=0.357,
        source="Chave et al. (2014) Global Change Biology 20:3177-3190, Eq. 4",
        domain="pantropical trees (4004 harvested trees, 58 sites), D 5-212 cm",
    ),
    "chave2014_eq7": Allometry(
        "chave2014_eq7",
        _chave2014_eq7,
        needs_height=False,
        needs_wood_density=True,
        diameter_range_cm=(5.0, 212.0),
        # posterior mean of the residual sd of the Eq. 7 fit distributed with BIOMASS
        # (Réjou-Méchain et al. 2017); see docs/carbon.md
        residual_sd=0.417,
        source="Chave et al. (2014) Global Change Biology 20:3177-3190, Eq. 7 (with E, no height)",
        domain="pantropical trees, D 5-212 cm; E from the climate (Chave et al. 2014 Eq. 6b)",
        needs_e=True,
    ),
    "chave2005_dry": Allometry(
        "chave2005_dry",
        _chave2005(-0.667, 1.784),
        needs_height=False,
        needs_wood_density=True,
        diameter_range_cm=(5.0, 156.0),
        residual_sd=None,
        source=_CHAVE2005 + ", dry forest",
        domain="tropical dry forest (< 1500 mm rain, a dry season > 5 months), D 5-156 cm",
    ),
    "chave2005_moist": Allometry(
        "chave2005_moist",
        _chave2005(-1.499, 2.148),
        needs_height=False,
        needs_wood_density=True,
        diameter_range_cm=(5.0, 156.0),
        residual_sd=None,
        source=_CHAVE2005 + ", moist forest",
        domain="tropical moist forest (1500-3500 mm rain), D 5-156 cm",
    ),
    "chave2005_wet": Allometry(
        "chave2005_wet",
        _chave2005(-1.239, 1.980),
        needs_height=False,
        needs_wood_density=True,
        diameter_range_cm=(5.0, 156.0),
        residual_sd=None,
        source=_CHAVE2005 + ", wet forest",
        domain="tropical wet forest (> 3500 mm rain, no seasonality), D 5-156 cm",
    ),
    "andrade2008_cacao": Allometry(
        "andrade2008_cacao",
        _andrade2008_cacao,
        needs_height=False,
        needs_wood_density=False,
        diameter_range_cm=(2.0, 30.0),
        residual_sd=None,
        source=(
            "Andrade et al. (2008) Agroforestería en las Américas 46:45-50: "
            "log10(AGB) = -1.625 + 2.63 log10(D30), as used by Somarriba et al. (2013)"
        ),
        domain="Theobroma cacao in agroforestry; D is the stem diameter at 30 cm height (D30)",
    ),
    "van_noordwijk2002_musa": Allometry(
        "van_noordwijk2002_musa",
        _van_noordwijk2002_musa,
        needs_height=False,
        needs_wood_density=False,
        diameter_range_cm=(5.0, 40.0),
        residual_sd=None,
        source="van Noordwijk et al. (2002), Musa: AGB = 0.030 D^2.13",
        domain="bananas and plantains (Musa, a herb: pseudostem diameter at 1.3 m)",
    ),
    "goodman2013_palm": Allometry(
        "goodman2013_palm",
        _goodman2013_palm,
        needs_height=False,
        needs_wood_density=False,
        diameter_range_cm=(5.0, 60.0),
        residual_sd=None,
        source="Goodman et al. (2013) Forest Ecology and Management 310:994-1004, family-level",
        domain="arborescent Amazonian palms (Arecaceae), D at 1.3 m",
    ),
}

_ALIASES = {"chave2014": ("chave2014_eq4", "chave2014_eq7")}


def resolve_allometry(
    allometry: str | Allometry | Callable[..., Any], has_height: bool
) -> Allometry:
    """Return the :class:`Allometry` for a name, an :class:`Allometry` or a user's callable.

    A callable ``f(diameter_cm, height_m, wood_density)`` returning kg is wrapped with
    no domain and no residual error.

    Examples
    --------
    >>> resolve_allometry("chave2014", has_height=True).name
    'chave2014_eq4'
    >>> resolve_allometry("chave2014", has_height=False).name
    'chave2014_eq7'
    """
    if isinstance(allometry, Allometry):
        return allometry
    if isinstance(allometry, str):
        if allometry in _ALIASES:
            with_h, without_h = _ALIASES[allometry]
            return ALLOMETRIES[with_h if has_height else without_h]
        if allometry not in ALLOMETRIES:
            raise ValueError(
                f"unknown allometry {allometry!r}; choose one of "
                f"{sorted([*_ALIASES, *ALLOMETRIES])}, an Allometry or a callable "
                "f(diameter_cm, height_m, wood_density) -> kg"
            )
        return ALLOMETRIES[allometry]
    if callable(allometry):
        func = allometry

        def eq(d: np.ndarray, h: np.ndarray, rho: np.ndarray, e: np.ndarray) -> np.ndarray:
            return np.asarray(func(d, h, rho), dtype=float)

        name = getattr(func, "__name__", "user")
        return Allometry(
            name, eq, has_height, False, (0.0, np.inf), None, "user-supplied", "user-supplied"
        )
    raise TypeError(f"allometry must be a name, an Allometry or a callable, got {allometry!r}")


def _as_float(values: ArrayLike, what: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be numbers, got {values!r}") from exc


def check_diameters(d: np.ndarray, allometry: Allometry | None = None) -> None:
    """Raise on impossible diameters (non-positive, mm, m); warn outside the model's range."""
    ok = np.isfinite(d)
    bad = ok & (d <= 0)
    if bad.any():
        raise UnitError(
            f"{int(bad.sum())} diameter(s) are zero or negative (e.g. {d[bad][:3].tolist()}); "
            "a tree below breast height has no DBH: set it to NaN so it is left out and counted"
        )
    if not ok.any():
        return
    big = ok & (d > _MAX_PLAUSIBLE_D_CM)
    several = int(ok.sum()) >= 3  # the median rules need a few trees
    if big.any() or (several and np.nanmedian(d) > _MAX_MEDIAN_D_CM):
        raise UnitError(
            f"diameters up to {np.nanmax(d):g} (median {np.nanmedian(d):g}; {int(big.sum())} over "
            f"{_MAX_PLAUSIBLE_D_CM:g} cm): diameters must be in centimetres; values like these "
            "are millimetres (divide by 10)"
        )
    if several and np.nanmax(d) < 3.0 and np.nanmedian(d) < 1.0:
        raise UnitError(
            f"every diameter is below 3 (median {np.nanmedian(d):.3g}): diameters must be in "
            "centimetres; values like these are metres (multiply by 100)"
        )
    if allometry is not None:
        lo, hi = allometry.diameter_range_cm
        out = ok & ((d < lo) | (d > hi))
        if out.any():
            warnings.warn(
                f"{int(out.sum())} of {int(ok.sum())} tree(s) have a diameter outside "
                f"{lo:g}-{hi:g} cm, the range {allometry.name} was calibrated on "
                f"({allometry.source}); their biomass is an extrapolation",
                AllometryDomainWarning,
                stacklevel=3,
            )


def check_heights(h: np.ndarray) -> None:
    """Raise on impossible heights (non-positive, above any tree: cm or feet)."""
    ok = np.isfinite(h)
    if (ok & (h <= 0)).any():
        raise UnitError(
            f"{int((ok & (h <= 0)).sum())} height(s) are zero or negative; heights are in "
            "metres, set unknown heights to NaN"
        )
    if (ok & (h > _MAX_PLAUSIBLE_H_M)).any():
        raise UnitError(
            f"heights up to {np.nanmax(h):g} exceed {_MAX_PLAUSIBLE_H_M:g} m, taller than any "
            "tree: heights must be in metres (centimetres? divide by 100; feet? multiply by 0.3048)"
        )


def check_wood_density(rho: np.ndarray) -> None:
    """Raise on wood densities that are not g/cm³ (kg/m³, or impossible)."""
    ok = np.isfinite(rho)
    lo, hi = _WD_RANGE
    if (ok & (rho > 50)).any():
        raise UnitError(
            f"wood densities up to {np.nanmax(rho):g}: they must be in g/cm³; values like "
            "these are kg/m³ (divide by 1000)"
        )
    bad = ok & ((rho < lo) | (rho > hi))
    if bad.any():
        raise UnitError(
            f"{int(bad.sum())} wood densit(ies) outside {lo}-{hi} g/cm³ (e.g. "
            f"{rho[bad][:3].tolist()}): wood density is oven-dry mass / fresh volume in g/cm³"
        )


def agb_kg(
    diameter_cm: ArrayLike,
    height_m: ArrayLike | None = None,
    wood_density: ArrayLike | None = None,
    *,
    allometry: str | Allometry | Callable[..., Any] = "chave2014",
    e: ArrayLike | None = None,
) -> Any:
    """Above-ground biomass of each tree, in kg, from a published allometric model.

    ``"chave2014"`` is Chave et al. (2014) Eq. 4, ``AGB = 0.0673 (ρ D² H)^0.976``,
    when heights are given, and Eq. 7,
    ``AGB = exp(-1.803 - 0.976 E + 0.976 ln ρ + 2.673 ln D - 0.0299 (ln D)²)``,
    without them (then ``e``, the environmental stress factor, is needed). The
    other named models are listed in :data:`ALLOMETRIES` with their sources and
    calibration ranges; trees outside that range get an
    :class:`~agroforest_geo.AllometryDomainWarning`.

    Parameters
    ----------
    diameter_cm : array-like or Series
        Diameter at breast height (1.3 m), cm (D30 for ``"andrade2008_cacao"``).
    height_m : array-like, optional
        Total height, m.
    wood_density : array-like or float, optional
        Oven-dry mass over fresh volume, g/cm³ (see :func:`wood_density`).
    allometry : str, Allometry or callable
        A name from :data:`ALLOMETRIES` (or ``"chave2014"``), an :class:`Allometry`,
        or ``f(diameter_cm, height_m, wood_density) -> kg``.
    e : float or array-like, optional
        Chave et al. (2014) environmental stress factor E (Eq. 7 only), e.g.
        sampled from the E raster at the trees.

    Returns
    -------
    numpy.ndarray or pandas.Series
        kg per tree; a Series on the diameters' index when they are a Series.
        NaN where the diameter (or a needed input) is NaN.

    Raises
    ------
    UnitError
        Zero or negative sizes, diameters in mm or m, heights in cm, wood density in kg/m³.
    ValueError
        A needed input (height, wood density, E) is missing.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> round(float(agf.carbon.agb_kg(30.0, 20.0, 0.6)), 1)  # Chave et al. 2014 Eq. 4
    581.6
    >>> round(float(agf.carbon.agb_kg(30.0, wood_density=0.6, e=0.0)), 1)  # Eq. 7, E = 0
    628.9
    >>> agf.carbon.agb_kg([250.0, 300.0, 1200.0], 20.0, 0.6)  # diameters in mm
    Traceback (most recent call last):
    ...
    agroforest_geo.errors.UnitError: ... (divide by 10)
    """
    index = getattr(diameter_cm, "index", None) if hasattr(diameter_cm, "to_numpy") else None
    d = np.atleast_1d(_as_float(diameter_cm, "diameter_cm"))
    model = resolve_allometry(allometry, has_height=height_m is not None)
    h = np.full(d.shape, np.nan) if height_m is None else _as_float(height_m, "height_m")
    rho = (
        np.full(d.shape, np.nan)
        if wood_density is None
        else _as_float(wood_density, "wood_density")
    )
    if model.needs_height and height_m is None:
        raise ValueError(f"allometry {model.name} needs height_m")
    if model.needs_wood_density and wood_density is None:
        raise ValueError(
            f"allometry {model.name} needs wood_density (g/cm³); see agf.carbon.wood_density"
        )
    if model.needs_e and e is None:
        raise ValueError(
            f"without heights, {model.name} needs e= (Chave et al. 2014's environmental stress "
            "factor E at the site, e.g. sampled from the published E raster); or give height_m"
        )
    ee = np.zeros(d.shape) if e is None else _as_float(e, "e")
    d, h, rho, ee = np.broadcast_arrays(d, h, rho, ee)
    check_diameters(d, model)
    check_heights(h)
    check_wood_density(rho)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(model.equation(d, h, rho, ee), dtype=float)
    if index is not None:
        import pandas as pd

        return pd.Series(out, index=index, name="agb_kg")
    if np.ndim(diameter_cm) == 0 and out.size == 1:
        return out.reshape(())
    return out

"""Features of a layer in degrees whose longitude and latitude are swapped.

Kept here, below validation and the readers, which both ask: :func:`agroforest_geo.validate`
reports ``swapped_lonlat`` findings, the readers warn at once, naming the rows.

Method
------
Each feature is judged by the centre of its bounding box ``(x, y)`` and its mirror
``(y, x)``. It is swapped when the mirror is possible and one of these holds:

1. **range**: ``|y| > 90`` (no latitude) while ``|x| <= 90``;
2. **farmland** (parcels and plots only): ``y`` is below -60° or above 72°, where
   nothing is grown, and ``x`` is a farmed latitude (a whole Peruvian layer read
   as latitude -76° is caught so, even though each feature is a valid position);
3. **claimed country**: the feature lies outside the bounding box of the country it
   claims (:data:`~agroforest_geo._countries.COUNTRY_BOUNDS`) and the mirror inside;
4. **the other rows** (layers of 3 or more features): the feature lies far from where
   the layer is and its mirror among it. Where the layer is, robustly: the centre is
   the coordinate-wise median and the spread ``s`` is 1.4826 times the larger median
   absolute deviation of x and y (the standard deviation of normal data, unmoved by
   up to half the rows being wrong), at least 0.01°. The *core* is the rows within
   5 ``s`` of the centre; it must hold more than half of the rows. A feature more
   than 10 ``s`` (and 1°) from the centre whose mirror falls in the bounding box of
   the core (widened by 2 ``s``) and in a country where core rows lie (Natural Earth
   1:110m, :mod:`agroforest_geo._countrylayer`) is swapped.

Rule 4 does not fire on a spread layer (plots in several countries: the spread is
then tens of degrees and no row is ten of them away) nor on one of 1-2 rows. It
cannot tell a swapped row from a true one only where a position and its mirror are
both farmland of the same region (West and Central Africa, where longitude and
latitude are both small), and it misses swaps that move a feature less than 10
``s``. Nothing here changes a coordinate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._countries import COUNTRY_BOUNDS
from ._countrylayer import country_of

__all__ = ["claimed_countries", "position", "swapped_lonlat"]

#: Latitudes beyond which nothing is grown or logged (Antarctica, the Arctic Ocean): a layer
#: "there" whose x would be a farmed latitude has its axes swapped.
FARMED_LAT = (-60.0, 72.0)
#: Rule 4: the fewest features with coordinates, the least spread (degrees), the core's
#: radius, how far a swapped feature lies, at least (spreads; degrees), the core box's margin.
_MIN_ROWS = 3
_MIN_SPREAD_DEG = 0.01
_CORE_SPREADS = 5.0
_FAR_SPREADS = 10.0
_FAR_MIN_DEG = 1.0
_MARGIN_SPREADS = 2.0
#: core positions are rounded to this (degrees) before their countries are looked up
_COUNTRY_GRID_DEG = 0.1


def swapped_lonlat(
    bounds: np.ndarray,
    usable: np.ndarray,
    *,
    countries: np.ndarray | None = None,
    farmland: bool = False,
) -> np.ndarray:
    """Tell which features of a layer in degrees have longitude and latitude swapped.

    Parameters
    ----------
    bounds : numpy.ndarray
        ``shapely.bounds`` of the features (n × 4), in a geographic CRS.
    usable : numpy.ndarray of bool
        The features to judge (present, finite coordinates).
    countries : numpy.ndarray, optional
        The ISO alpha-2 code each feature claims, None where it claims none.
    farmland : bool
        Whether the layer is parcels or plots (rule 2 of the module docstring).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> pts = shapely.points([(-76.734, -6.512), (-76.701, -6.498), (-6.505, -76.690)])
    >>> swapped_lonlat(shapely.bounds(pts), np.ones(3, bool)).tolist()
    [False, False, True]
    """
    xmin, ymin, xmax, ymax = np.asarray(bounds, dtype=float).T
    finite = np.asarray(usable, dtype=bool) & np.all(np.isfinite(bounds), axis=1)
    in_range = (xmin >= -180) & (xmax <= 180) & (ymin >= -90) & (ymax <= 90)
    swap_ok = (ymin >= -180) & (ymax <= 180) & (xmin >= -90) & (xmax <= 90)
    out = finite & ~in_range & swap_ok
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    ok = finite & in_range
    out |= _by_claims(cx, cy, ok, countries, farmland)
    out |= _by_consensus(cx, cy, ok, swap_ok)
    return out


def _by_claims(
    cx: np.ndarray, cy: np.ndarray, ok: np.ndarray, countries: np.ndarray | None, farmland: bool
) -> np.ndarray:
    """Rules 2 and 3: nowhere farmed, or outside the claimed country, but fine once swapped."""
    lo, hi = FARMED_LAT
    out = ok & ((cy < lo) | (cy > hi)) & (cx >= lo) & (cx <= hi) & farmland
    if countries is not None:
        for code in pd.unique(countries[ok]):
            box = COUNTRY_BOUNDS.get(str(code).strip().upper()) if isinstance(code, str) else None
            if box is None:
                continue
            x0, y0, x1, y1 = box
            rows = ok & (countries == code)
            inside = (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
            inside_sw = (cy >= x0) & (cy <= x1) & (cx >= y0) & (cx <= y1)
            out |= rows & ~inside & inside_sw
    return out


def _by_consensus(
    cx: np.ndarray, cy: np.ndarray, ok: np.ndarray, swap_ok: np.ndarray
) -> np.ndarray:
    """Rule 4: far from where the other rows are, among them once swapped."""
    out = np.zeros(cx.size, dtype=bool)
    n_ok = int(ok.sum())
    if n_ok < _MIN_ROWS:
        return out
    mx, my = float(np.median(cx[ok])), float(np.median(cy[ok]))
    mad = max(float(np.median(np.abs(cx[ok] - mx))), float(np.median(np.abs(cy[ok] - my))))
    s = max(1.4826 * mad, _MIN_SPREAD_DEG)
    d = np.hypot(cx - mx, cy - my)
    core = ok & (d <= _CORE_SPREADS * s)
    if 2 * int(core.sum()) <= n_ok:
        return out
    m = _MARGIN_SPREADS * s
    x0, x1 = cx[core].min() - m, cx[core].max() + m
    y0, y1 = cy[core].min() - m, cy[core].max() + m
    mirror_in = (cy >= x0) & (cy <= x1) & (cx >= y0) & (cx <= y1)
    far = d > max(_FAR_MIN_DEG, _FAR_SPREADS * s)
    cand = np.flatnonzero(ok & swap_ok & far & mirror_in)
    if cand.size:
        cand = cand[_in_core_countries(cy[cand], cx[cand], cx[core], cy[core])]
        out[cand] = True
    return out


def _in_core_countries(
    x: np.ndarray, y: np.ndarray, core_x: np.ndarray, core_y: np.ndarray
) -> np.ndarray:
    """Whether each position lies in a country where core rows lie (or, like them, in none)."""
    # one look-up per grid cell holding core rows (a 1-D key: sorting pairs is slow)
    ix = np.round(core_x / _COUNTRY_GRID_DEG).astype(np.int64)
    iy = np.round(core_y / _COUNTRY_GRID_DEG).astype(np.int64)
    span = round(360 / _COUNTRY_GRID_DEG) + 1
    key = np.unique(ix * span + iy)
    gx, gy = np.divmod(key + span // 2, span)  # iy may be negative: shift before dividing
    cells = shapely.points(gx * _COUNTRY_GRID_DEG, (gy - span // 2) * _COUNTRY_GRID_DEG)
    core_countries = set(country_of(cells).tolist())
    found = country_of(shapely.points(x, y))
    return np.array([c in core_countries for c in found], dtype=bool)


def claimed_countries(gdf: Any, country: str | None) -> np.ndarray | None:
    """ISO alpha-2 code each feature claims: its ``country`` column, else ``country``."""
    if country is not None and not isinstance(country, str):
        raise TypeError(f"country must be an ISO 3166-1 alpha-2 code such as 'PE', got {country!r}")
    if not country and "country" not in gdf.columns:
        return None
    claimed = np.full(len(gdf), country.strip().upper() if country else None, dtype=object)
    if "country" in gdf.columns:
        col = gdf["country"].to_numpy(dtype=object)
        filled = np.array([isinstance(v, str) and bool(v.strip()) for v in col], dtype=bool)
        claimed[filled] = [str(v).strip().upper() for v in col[filled]]
    return claimed if any(c is not None for c in claimed) else None


def position(bounds: Any, *, swapped: bool = False) -> str:
    """Word where a feature is (``swapped``: where it is once x and y are exchanged).

    Examples
    --------
    >>> position((-6.505, -76.69, -6.505, -76.69)), position((1, 2, 3, 4), swapped=True)
    ('x -6.505, y -76.69', 'x 2..4, y 1..3')
    """
    x0, y0, x1, y1 = (float(v) for v in bounds)
    if swapped:
        x0, y0, x1, y1 = y0, x0, y1, x1
    if x0 == x1 and y0 == y1:
        return f"x {x0:.10g}, y {y0:.10g}"
    return f"x {x0:.10g}..{x1:.10g}, y {y0:.10g}..{y1:.10g}"

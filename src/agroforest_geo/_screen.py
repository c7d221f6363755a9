"""Screening geometries before they are measured: non-finite vertices and invalid shapes.

A NaN or infinite vertex is never handed to GEOS or exactextract (one such
vertex crashed the interpreter inside exactextract): :func:`nonfinite` finds
those rows with numpy alone. Invalid geometries (a bow-tie, overlapping parts,
a hole outside its shell) have no well-defined area; the verbs that measure
them follow one policy, :data:`InvalidPolicy`, applied by :func:`screen`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
import shapely

from ._threads import is_valid
from .errors import GeometryWarning, InvalidGeometryError

__all__ = [
    "InvalidPolicy",
    "blank",
    "check_policy",
    "measurable",
    "nonfinite",
    "screen",
    "screen_with_validity",
    "warn_nonfinite",
]

#: What a measuring verb does with invalid geometries: ``"warn"`` measures them
#: as stored and emits a :class:`~agroforest_geo.errors.GeometryWarning` naming
#: the rows; ``"nan"`` gives them NaN (and the same warning); ``"raise"`` raises
#: :class:`~agroforest_geo.errors.InvalidGeometryError`.
InvalidPolicy = Literal["warn", "nan", "raise"]
_POLICIES: tuple[str, ...] = get_args(InvalidPolicy)
_MAX_LISTED = 10


def blank(geoms: Any, mask: Any) -> np.ndarray:
    """Return a copy of the geometries with None where ``mask`` is True."""
    out = np.array(geoms, dtype=object, copy=True)
    out[np.asarray(mask, dtype=bool)] = None
    return out


def check_policy(invalid: Any) -> str:
    """Validate the ``invalid=`` option, naming the allowed values."""
    if invalid not in _POLICIES:
        raise ValueError(f"invalid must be one of {list(_POLICIES)}, got {invalid!r}")
    return str(invalid)


def nonfinite(geoms: Any) -> np.ndarray:
    """Tell which geometries hold a NaN or infinite coordinate (numpy only, no GEOS call).

    Examples
    --------
    >>> import shapely, numpy as np
    >>> nan_vertex = shapely.Polygon([(0, 0), (1, 0), (np.nan, 1), (0, 0)])
    >>> nonfinite([shapely.box(0, 0, 1, 1), nan_vertex, None]).tolist()
    [False, True, False]
    """
    arr = np.asarray(geoms, dtype=object).ravel()
    out = np.zeros(arr.size, dtype=bool)
    if arr.size == 0:
        return out
    xy = shapely.get_coordinates(arr)  # x and y: what every measure uses
    if np.isfinite(xy).all():  # the common case: one pass, no index
        return out
    xy, owner = shapely.get_coordinates(arr, return_index=True)
    out[np.unique(owner[~np.isfinite(xy).all(axis=1)])] = True
    return out


def warn_nonfinite(
    geoms: np.ndarray, labels: Sequence[Any], *, name: str = "layer", stacklevel: int = 3
) -> np.ndarray:
    """Rows with a NaN or infinite vertex, with a :class:`GeometryWarning` naming them."""
    bad = nonfinite(geoms)
    _warn_rows_nonfinite(bad, labels, name=name, stacklevel=stacklevel + 1)
    return bad


def _warn_rows_nonfinite(
    bad: np.ndarray, labels: Sequence[Any], *, name: str, stacklevel: int
) -> None:
    if bad.any():
        warnings.warn(
            f"{int(bad.sum())} {name} row(s) have NaN or infinite coordinates; their "
            f"results are NaN (rows {_labels(labels, bad)}). Fix or drop those vertices.",
            GeometryWarning,
            stacklevel=stacklevel + 1,
        )


def _labels(labels: Sequence[Any], mask: np.ndarray) -> str:
    rows = [str(labels[i]) for i in np.flatnonzero(mask)[:_MAX_LISTED]]
    more = mask.sum() - len(rows)
    return ", ".join(rows) + (f" and {int(more)} more" if more > 0 else "")


def screen(
    geoms: np.ndarray,
    labels: Sequence[Any],
    *,
    invalid: str,
    name: str = "layer",
    stacklevel: int = 3,
    proved: np.ndarray | None = None,
) -> np.ndarray:
    """Rows whose results must be NaN: non-finite vertices always, invalid ones per policy.

    Warns (:class:`GeometryWarning`) naming the rows by their index label;
    raises :class:`InvalidGeometryError` for invalid rows with ``invalid="raise"``.
    Never calls GEOS on a geometry with a non-finite vertex. ``proved`` marks rows
    already known to be valid with finite vertices (:mod:`._simplering`): they are
    not checked again, and the result is the same as without it.

    Examples
    --------
    >>> import shapely, numpy as np, warnings
    >>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     nan = screen(np.array([bowtie, shapely.box(0, 0, 1, 1)]), ["a", "b"], invalid="nan")
    >>> nan.tolist(), "a" in str(w[0].message)
    ([True, False], True)
    """
    return screen_with_validity(
        geoms, labels, invalid=invalid, name=name, stacklevel=stacklevel + 1, proved=proved
    )[0]


def screen_with_validity(
    geoms: np.ndarray,
    labels: Sequence[Any],
    *,
    invalid: str,
    name: str = "layer",
    stacklevel: int = 3,
    proved: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`screen`, and which rows are valid (False: invalid, missing, empty, NaN).

    A row is valid when ``proved`` says so or GEOS found it valid.
    """
    check_policy(invalid)
    arr = np.asarray(geoms, dtype=object)
    todo = np.arange(arr.size) if proved is None else np.flatnonzero(~np.asarray(proved))
    bad_xy = np.zeros(arr.size, dtype=bool)
    bad_xy[todo] = nonfinite(arr[todo])
    _warn_rows_nonfinite(bad_xy, labels, name=name, stacklevel=stacklevel + 1)
    todo = todo[~bad_xy[todo]]
    rest = arr[todo]
    present = ~shapely.is_missing(rest)
    present[present] = ~shapely.is_empty(rest[present])
    todo = todo[present]
    bad = np.zeros(arr.size, dtype=bool)
    bad[todo] = ~is_valid(arr[todo])
    if bad.any():
        reasons = shapely.is_valid_reason(arr[bad][:3])
        detail = f"rows {_labels(labels, bad)}; e.g. {'; '.join(reasons)}"
        if invalid == "raise":
            raise InvalidGeometryError(
                f"{int(bad.sum())} invalid {name} geometries ({detail}); repair them first "
                "(agf.repair) or pass invalid='warn' / 'nan'"
            )
        what = "measured as stored" if invalid == "warn" else "given NaN"
        warnings.warn(
            f"{int(bad.sum())} invalid {name} geometries are {what} ({detail}); their areas "
            "are not meaningful: run agf.repair, or pass invalid='nan' / 'raise'",
            GeometryWarning,
            stacklevel=stacklevel,
        )
    nan = bad_xy | (bad if invalid == "nan" else np.zeros(arr.size, dtype=bool))
    valid = np.zeros(arr.size, dtype=bool)
    valid[todo] = ~bad[todo]
    if proved is not None:
        valid |= np.asarray(proved, dtype=bool)
    return nan, valid


def measurable(gdf: Any, *, invalid: str, name: str = "layer") -> tuple[Any, np.ndarray, Any]:
    """Return a copy of a layer ready to measure, the rows to give NaN, the point hectares.

    Screened rows (see :func:`screen`) get a missing geometry and point plots the
    geodesic circle of their declared area (:mod:`agroforest_geo._points`). The
    third item is a ``point_buffer_ha`` Series on the layer's index, or None
    when the layer has no point.
    """
    import pandas as pd

    from ._points import point_areas_ha, points_as_circles

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    nan = screen(geoms, gdf.index, invalid=invalid, name=name, stacklevel=4)
    geoms = blank(geoms, nan)
    geoms, buffer_ha = points_as_circles(geoms, gdf.crs, point_areas_ha(gdf, geoms.size))
    if not nan.any() and not np.isfinite(buffer_ha).any():
        return gdf, nan, None
    out = gdf.copy()
    out[gdf.geometry.name] = type(gdf.geometry)(geoms, index=gdf.index, crs=gdf.crs).values
    if not np.isfinite(buffer_ha).any():
        return out, nan, None
    return out, nan, pd.Series(buffer_ha, index=gdf.index, name="point_buffer_ha")

"""What the readers warn about in a layer they have read; nothing is changed.

* **Point plots without a declared area** are measured as circles of 4 ha, the
  largest a point may stand for (:mod:`agroforest_geo._points`). The read warns
  (:class:`~agroforest_geo.ColumnWarning`) once, saying why (no declared-area
  column, or empty cells), which names are recognised and how to map a column.
* **Rows with longitude and latitude swapped** (:mod:`agroforest_geo._swaps`, the
  rules :func:`agroforest_geo.validate` reports as ``swapped_lonlat``): the read warns
  (:class:`~agroforest_geo.GeometryWarning`) naming the rows, where each would be
  once swapped, and the fix. The data are the user's to fix; ``repair`` can swap
  them back, recording it.

Each warning carries ``cli_message``, the same advice worded with the command
line's options.
"""

from __future__ import annotations

import os
import shlex
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from ._names import DECLARED_AREA_ALIASES, area_like_columns, declared_area_examples, find_aliases
from ._points import DEFAULT_POINT_AREA_HA, POINT_AREA_COLUMN, declared_areas_ha, is_point
from ._swaps import claimed_countries, position, swapped_lonlat
from .errors import ColumnWarning, GeometryWarning

__all__ = ["warn_about"]

#: rows named in a warning before "and N more"
_LISTED = 5
_ID_COLUMNS = {"parcels": "parcel_id", "plots": "plot_id", "protected_areas": "area_id"}


def warn_about(
    gdf: gpd.GeoDataFrame, kind: str | None, *, source: Any = None, stacklevel: int
) -> None:
    """Warn about point plots without a declared area and rows with swapped coordinates.

    ``source`` is the file read (named in the command-line fix), if any.
    """
    for w in (_point_area_warning(gdf, kind), _swap_warning(gdf, kind, source)):
        if w is not None:
            warnings.warn(w, stacklevel=stacklevel + 1)


def _what(kind: str | None) -> str:
    return f"the {kind} layer" if kind else "the layer"


def _rows(gdf: gpd.GeoDataFrame, kind: str | None, mask: np.ndarray) -> list[str]:
    """Name the rows of ``mask`` by their id (the kind's id column) or else their index label."""
    col = _ID_COLUMNS.get(kind or "")
    pos = np.flatnonzero(mask)
    if col is not None and col in gdf.columns:
        return [f"{col} {v}" for v in gdf[col].to_numpy(dtype=object)[pos]]
    return [f"row {v}" for v in gdf.index[pos]]


def _listed(items: list[str]) -> str:
    more = len(items) - _LISTED
    return ", ".join(items[:_LISTED]) + (f" and {more} more" if more > 0 else "")


def _point_area_warning(gdf: gpd.GeoDataFrame, kind: str | None) -> ColumnWarning | None:
    """Return the warning about point plots measured with the default area, if any.

    Without a kind a point is not known to be a plot (a tree inventory is points
    too): only a declared-area name left unmapped is worth a word then.
    """
    if kind == "protected_areas":
        return None
    named = find_aliases(gdf.columns, DECLARED_AREA_ALIASES)
    if kind is None and (not named or POINT_AREA_COLUMN in gdf.columns):
        return None
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    pts = is_point(geoms)
    if not pts.any():
        return None
    n = int(pts.sum())
    default = f"circles of {DEFAULT_POINT_AREA_HA:g} ha, the largest a point may stand for"
    if POINT_AREA_COLUMN in gdf.columns:
        missing = pts & ~np.isfinite(declared_areas_ha(gdf, geoms.size))
        if not missing.any():
            return None
        text = (
            f"{int(missing.sum())} of {n} points of {_what(kind)} have no declared area "
            f"({POINT_AREA_COLUMN} empty or not a positive number: "
            f"{_listed(_rows(gdf, kind, missing))}); they are measured as {default}. "
            "Fill in their hectares"
        )
        return _warning(ColumnWarning, text, text)
    head = (
        f"{n} point(s) of {_what(kind)} are measured as {default}: the layer has no "
        f"declared area ({POINT_AREA_COLUMN}). "
    )
    if named:  # only when the columns were not mapped (read_raw without kind)
        col = named[0]
        return _warning(
            ColumnWarning,
            head + f"Its column {col!r} is a declared-area name: read the layer with "
            f"kind='parcels' or 'plots', or pass columns={{{col!r}: {POINT_AREA_COLUMN!r}}}",
            head + f"Its column {col!r} is a declared-area name: map it with --columns "
            f"{col}={POINT_AREA_COLUMN} (validate and area also recognise it with --kind "
            "parcels or plots)",
        )
    head += (
        f"Names recognised as the declared area: {POINT_AREA_COLUMN}, {declared_area_examples()}"
        ", in any case, with accents or spaces ('Área (ha)'). "
    )
    like = area_like_columns(c for c in gdf.columns if c != gdf.geometry.name)
    if like:
        head += (
            f"Column(s) {like} look like an area in a unit not recognised: give the area in "
            "hectares (or m², km², acres) under one of those names. "
        )
    example = like[0] if like else "COLUMN"
    fix = "A column in hectares is mapped with "
    return _warning(
        ColumnWarning,
        head + fix + f"columns={{{example!r}: {POINT_AREA_COLUMN!r}}}",
        head + fix + f"--columns {example}={POINT_AREA_COLUMN}",
    )


def _swap_warning(gdf: gpd.GeoDataFrame, kind: str | None, source: Any) -> GeometryWarning | None:
    if gdf.crs is None or not pyproj.CRS.from_user_input(gdf.crs).is_geographic or gdf.empty:
        return None
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bounds = shapely.bounds(geoms)
    swapped = swapped_lonlat(
        bounds,
        present,
        countries=claimed_countries(gdf, None),
        farmland=kind in ("parcels", "plots"),
    )
    if not swapped.any():
        return None
    rows = [
        f"{name} ({position(bounds[p])}; swapped: {position(bounds[p], swapped=True)})"
        for name, p in zip(_rows(gdf, kind, swapped), np.flatnonzero(swapped), strict=True)
    ]
    head = (
        f"{int(swapped.sum())} of {len(gdf)} rows of {_what(kind)} look like their longitude "
        "and latitude are swapped (they fit only once swapped: a latitude beyond ±90°, where "
        "nothing is farmed, outside the country claimed, or far from the other rows): "
        f"{_listed(rows)}. Nothing was changed: fix them in the source{_columns(gdf)}. "
    )
    path = shlex.quote(str(source)) if isinstance(source, (str, os.PathLike)) else "FILE"
    cmd = f"agroforest-geo validate {path}" + (f" --kind {kind}" if kind else "")
    return _warning(
        GeometryWarning,
        head + "repair(gdf, swap_axes='auto') swaps them back and records it",
        head + f"{cmd} --repair --output-repaired FIXED.gpkg swaps them back and records it",
    )


def _columns(gdf: gpd.GeoDataFrame) -> str:
    """Which columns of a table made the points: the ones to exchange."""
    mapping = gdf.attrs.get("column_mapping", {})
    x = [k for k, v in mapping.items() if v == "geometry.x"]
    y = [k for k, v in mapping.items() if v == "geometry.y"]
    return f", exchanging the values of {x[0]!r} and {y[0]!r}" if x and y else ""


def _warning(cls: type[Warning], text: str, cli: str) -> Any:
    w = cls(text)
    w.cli_message = cli  # type: ignore[attr-defined]
    return w

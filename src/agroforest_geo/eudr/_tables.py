"""Small helpers of the evidence functions: precomputed tables, the usable parcels, a column."""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Callable, Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

_LOSS_YEAR = re.compile(r"^loss_ha_(\d{4})$")


def _is_table(x: Any) -> bool:
    """Tell whether ``x`` is a precomputed table (a DataFrame, not a layer)."""
    return isinstance(x, pd.DataFrame) and not isinstance(x, gpd.GeoDataFrame)


def _on_index(table: pd.DataFrame, index: pd.Index, name: str) -> pd.DataFrame:
    if len(table) and len(index) and not table.index.isin(index).any():
        raise ValueError(
            f"the {name} table shares no index label with the parcels; precomputed evidence must "
            f"be on the parcels' index (e.g. the result of agf.{name}(parcels, ...))"
        )
    if not table.index.is_unique:
        raise ValueError(f"the {name} table has repeated index labels; give one row per parcel")
    return table.reindex(index)


def _col(table: pd.DataFrame | None, name: str, index: pd.Index) -> pd.Series:
    if table is None or name not in table.columns:
        return pd.Series(np.nan, index=index, dtype=float)
    return pd.to_numeric(table[name], errors="coerce").astype(float)


def _ok_mask(parcels: gpd.GeoDataFrame, ok: Any) -> np.ndarray:
    if ok is None:
        return np.ones(len(parcels), dtype=bool)
    return np.asarray(ok, dtype=bool)


def _year_columns(table: pd.DataFrame | None) -> dict[int, str]:
    if table is None:
        return {}
    out = {}
    for c in table.columns:
        m = _LOSS_YEAR.match(str(c))
        if m:
            out[int(m.group(1))] = str(c)
    return dict(sorted(out.items()))


#: Where the evidence functions run their raster verbs: None in this process, or a
#: ``runner(verb, layer, *args, **options)`` (partition by partition on Dask) set by
#: :func:`verbs_run_by` for the duration of one assessment.
_RUNNER: contextvars.ContextVar[Callable[..., Any] | None] = contextvars.ContextVar(
    "agroforest_geo_verb_runner", default=None
)


@contextlib.contextmanager
def verbs_run_by(runner: Callable[..., Any]) -> Iterator[None]:
    """Run the evidence functions' raster verbs through ``runner`` inside the block."""
    token = _RUNNER.set(runner)
    try:
        yield
    finally:
        _RUNNER.reset(token)


def _measure_subset(
    parcels: gpd.GeoDataFrame, ok: np.ndarray, verb: Callable[..., Any], *args: Any, **options: Any
) -> pd.DataFrame:
    """Run ``verb(usable parcels, *args, **options)``; rows of the other parcels are NaN.

    Inside :func:`verbs_run_by` a verb that reads rasters runs through the runner
    (on Dask); everything else, and every verb outside it, runs here.
    """
    sub = parcels[ok]
    if not len(sub):
        return pd.DataFrame(index=parcels.index)
    runner = _RUNNER.get()
    if runner is not None and _reads_rasters(verb):
        return pd.DataFrame(runner(verb, sub, *args, **options)).reindex(parcels.index)
    return pd.DataFrame(verb(sub, *args, **options)).reindex(parcels.index)


def _reads_rasters(verb: Callable[..., Any]) -> bool:
    from .._verbs import spec_of

    spec = spec_of(verb)
    return spec is not None and bool(spec.rasters)


# --------------------------------------------------------------------------------------


def _area_or(parcels: gpd.GeoDataFrame, area_ha: pd.Series | None, okm: np.ndarray) -> pd.Series:
    if area_ha is not None:
        return area_ha
    from ..area import area_ha as _area_ha

    return _area_ha(parcels).where(okm)

"""The zonal engine's one entry point: open, prepare, plan and reduce in one call.

The raster verbs (:mod:`agroforest_geo.cover`, and through
:func:`agroforest_geo.raster.integrate` the tree-density and biomass maps) are
each one :func:`zonal_pass`: the rasters are opened (:mod:`agroforest_geo.inputs`),
their encodings built from the open datasets (the ``encode`` callback, which
returns the per-batch reducer), the polygons prepared on the rasters' grid
(geodesic edges, points as circles, bad rows screened), the pass planned over
raster blocks (:mod:`agroforest_geo.pixelpieces`) and reduced batch by batch,
on threads if asked (:mod:`agroforest_geo.raster`). The verbs see a
:class:`ZonalPass` and nothing of the steps.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .inputs import RasterLike, _open_all, _prepare, _Prepared, with_point_buffer
from .raster import _nodata_m2, _plan, _reduce, _validate_method, _warn_no_data

__all__ = ["ZonalPass", "zonal_pass"]

#: ``encode(sources, bands) -> reducer``: builds the per-batch reducer from the open rasters.
Encode = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]


@dataclass(frozen=True)
class ZonalPass:
    """The sums of one pass over the rasters, and the polygons as prepared for it."""

    sums: dict[Hashable, np.ndarray]
    prepared: _Prepared
    reducer: Any
    index: pd.Index

    @property
    def n(self) -> int:
        """Number of polygons."""
        return len(self.index)

    def get(self, key: Hashable) -> np.ndarray:
        """Return one sum (zeros when no pixel contributed to it)."""
        return self.sums.get(key, np.zeros(self.n))

    def part(self, prefix: str) -> dict[Hashable, np.ndarray]:
        """Return the sums keyed ``(prefix, k)`` as ``{k: sum}`` (one reducer of several)."""
        return {k[1]: v for k, v in self.sums.items() if isinstance(k, tuple) and k[0] == prefix}

    def warn_no_data(self, valid_m2: np.ndarray, what: str) -> None:
        """Warn (NoDataWarning) about polygons with no valid pixel of raster ``what``."""
        _warn_no_data(valid_m2, self.prepared, what)

    def base_columns(self, valid_m2: np.ndarray) -> dict[str, np.ndarray]:
        """Return ``area_ha``, ``valid_share`` and ``nodata_ha`` for the valid m² given."""
        area_m2 = self.prepared.area_m2
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.clip(valid_m2 / area_m2, 0.0, 1.0)
        share[area_m2 == 0] = 0.0
        return {
            "area_ha": area_m2 / 1e4,
            "valid_share": share,
            "nodata_ha": _nodata_m2(area_m2, valid_m2) / 1e4,
        }

    def finish(self, cols: Mapping[str, Any], *, keep: tuple[str, ...] = ()) -> pd.DataFrame:
        """Return the result table: NaN for empty polygons (except ``keep``), point buffers."""
        out = pd.DataFrame(dict(cols), index=self.index)
        empty = self.prepared.empty
        if empty.any():
            num = [c for c in out.columns if c not in keep]
            out.loc[empty, num] = np.nan
        return with_point_buffer(out, self.prepared)


def zonal_pass(
    polygons: Any,
    rasters: Mapping[str, RasterLike],
    bands: Mapping[str, Any],
    encode: Encode,
    *,
    method: str,
    progress: bool | None,
    n_jobs: int,
    invalid: str = "warn",
) -> ZonalPass:
    """Run one pass of the zonal engine and return its sums.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
    rasters : mapping
        ``{name: raster}``; all on one grid.
    bands : mapping
        ``{name: band}`` (number, description or None for the only band).
    encode : callable
        ``encode(sources, bands) -> reducer``, given the open datasets and the
        resolved band numbers; the reducer is called on every batch of pixel pieces.
    method, progress, n_jobs, invalid
        As in the raster verbs.
    """
    _validate_method(method)
    with ExitStack() as stack:
        srcs, bands_d, grid = _open_all(dict(rasters), dict(bands), stack)
        reducer = encode(srcs, bands_d)
        prepared = _prepare(polygons, grid, invalid=invalid)
        plan = _plan(prepared, grid, None, len(srcs))
        sums = _reduce(plan, srcs, bands_d, method, reducer, progress, n_jobs)
    return ZonalPass(sums, prepared, reducer, polygons.index)

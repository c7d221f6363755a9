"""The measuring verbs of the assessment on a Dask cluster (same results as in memory).

The row-wise measures (cover and loss in one raster pass, protected areas) and
the within-layer overlaps run partition by partition through
:func:`agroforest_geo.distributed.run`; their results come back as the tables
the evidence functions accept precomputed, so the evidence and the rules are
the same code as in memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["measure_remotely"]


@contextlib.contextmanager
def _cluster(client: Any, workers: int) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    from .distributed import local_client

    started = local_client(workers=workers)
    try:
        yield started
    finally:
        cluster = getattr(started, "cluster", None)
        started.close()
        if cluster is not None:
            cluster.close()


def _forest_tables(
    layer: Any, sources: Any, cut: dt.date, threshold: float, client: Any
) -> tuple[Any, Any]:
    from .distributed import run
    from .eudr.evidence import forest_tables

    c0 = sources.cover[0] if sources.cover else None
    l0 = sources.loss[0] if sources.loss else None

    def measure(verb: Any, *rasters: Any, **options: Any) -> Any:
        return run(verb, layer, *rasters, client=client, **options)

    return forest_tables(
        c0.raster if c0 else None,
        l0.raster if l0 else None,
        threshold=threshold,
        cutoff=cut,
        cover_product=c0.product if c0 else None,
        loss_product=l0.product if l0 else None,
        verb_options=sources.raster_options,
        measure=measure,
    )


def measure_remotely(
    parcels: gpd.GeoDataFrame,
    validation: Any,
    sources: Any,
    *,
    cutoff: dt.date,
    thresholds: Mapping[str, float],
    id_column: str | None,
    client: Any = None,
    workers: int = 0,
) -> Any:
    """Return ``sources`` with the rasters, protected areas and pairs measured on Dask."""
    from .distributed import run
    from .eudr import evidence as ev
    from .overlap import overlaps
    from .protected import protected_overlap

    _check_supported(sources)
    ok = (ev.geometry_evidence(parcels, validation)["n_geometry_errors"] == 0).to_numpy()
    sub = parcels[ok]
    if len(sub) == 0:
        return sources
    with _cluster(client, workers or 2) as c:
        cover, loss = _forest_tables(sub, sources, cutoff, thresholds["cover_threshold_pct"], c)
        protected = sources.protected
        if protected is not None and not isinstance(protected, pd.DataFrame):
            protected = run(
                protected_overlap, sub, protected, client=c, **dict(sources.protected_options)
            )
        positions = np.flatnonzero(ok)
        layer = gpd.GeoDataFrame(
            {"_position": positions}, geometry=sub.geometry.to_numpy(), crs=parcels.crs
        )
        raw_pairs = run(overlaps, layer, id_column="_position", client=c)
    return dataclasses.replace(
        sources,
        cover=_as_table_source(sources.cover, cover, parcels.index),
        loss=_as_table_source(sources.loss, loss, parcels.index),
        protected=_reindex(protected, parcels.index),
        pairs=ev.pairs_from_overlaps(raw_pairs, parcels, id_column),
    )


def _reindex(x: Any, index: pd.Index) -> Any:
    if isinstance(x, pd.DataFrame) and not isinstance(x, gpd.GeoDataFrame):
        return x.reindex(index)
    return x


def _check_supported(sources: Any) -> None:
    """Refuse, with the fix, the inputs that are not measured on Dask yet."""
    from .errors import UnsupportedError

    several = [r for r in ("cover", "loss") if len(getattr(sources, r)) > 1]
    land_use = [
        r for r in ("forest_2020", "commodity", "canopy_height", "alerts") if getattr(sources, r)
    ]
    if several or land_use:
        what = [f"several {r} sources" for r in several] + [f"{r}=" for r in land_use]
        raise UnsupportedError(
            f"{', '.join(what)} cannot be measured on Dask yet; run without client= and "
            "workers= (the raster verbs take n_jobs= in raster_options for parallel reading)"
        )


def _as_table_source(given: list[Any], table: Any, index: pd.Index) -> list[Any]:
    """Return the role's one source with its raster replaced by the table measured on Dask."""
    if not given:
        return []
    from .eudr.sources import Source

    s = given[0]
    return [Source(_reindex(table, index), s.product, s.label)]

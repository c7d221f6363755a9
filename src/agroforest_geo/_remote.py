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

    started = local_client(n_workers=workers)
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
    from . import cover as cover_mod
    from .distributed import run
    from .eudr.evidence import _threshold_for, split_cover_and_loss

    opts = dict(sources.raster_options)
    cover, loss = sources.cover, sources.loss
    is_raster = [x is not None and not isinstance(x, pd.DataFrame) for x in (cover, loss)]
    cutoff = cut.isoformat()
    t = _threshold_for(sources.cover_product, threshold)
    if all(is_raster):
        both = run(
            cover_mod.forest_cover_and_loss,
            layer,
            cover,
            loss,
            client=client,
            threshold=t,
            cutoff=cutoff,
            cover_product=sources.cover_product,
            loss_product=sources.loss_product,
            **opts,
        )
        return split_cover_and_loss(both)
    if is_raster[0]:
        cover = run(
            cover_mod.forest_cover,
            layer,
            cover,
            client=client,
            threshold=t,
            product=sources.cover_product,
            **opts,
        )
    if is_raster[1]:
        loss = run(
            cover_mod.forest_loss,
            layer,
            loss,
            client=client,
            threshold=t,
            cutoff=cutoff,
            product=sources.loss_product,
            **opts,
        )
    return cover, loss


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
        cover=_reindex(cover, parcels.index),
        loss=_reindex(loss, parcels.index),
        protected=_reindex(protected, parcels.index),
        pairs=ev.pairs_from_overlaps(raw_pairs, parcels, id_column),
    )


def _reindex(x: Any, index: pd.Index) -> Any:
    if isinstance(x, pd.DataFrame) and not isinstance(x, gpd.GeoDataFrame):
        return x.reindex(index)
    return x

"""The measuring verbs of the assessment on a Dask cluster (same results as in memory).

Inside :func:`on_dask`, every raster verb an evidence function runs (cover and
loss in one pass, further cover and loss sources, the land-use maps, the alerts,
tree density) goes partition by partition through
:func:`agroforest_geo.distributed.run`, with the same choice of verb and options
as in memory. The protected areas and the within-layer overlaps are measured
there first (:func:`measure_remotely`) and handed to the evidence functions as
the tables they accept precomputed. So the evidence and the rules are the same
code as in memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["measure_remotely", "on_dask"]


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


@contextlib.contextmanager
def on_dask(client: Any = None, workers: int = 0) -> Iterator[Any]:
    """Yield a client that every raster verb of the evidence functions runs on meanwhile.

    The client is ``client``, or a local cluster of ``workers`` started and closed here.
    """
    from .distributed import run
    from .eudr._tables import verbs_run_by

    with _cluster(client, workers or 2) as c:

        def runner(verb: Any, layer: Any, *args: Any, **options: Any) -> Any:
            return run(verb, layer, *args, client=c, **options)

        with verbs_run_by(runner):
            yield c


def measure_remotely(
    parcels: gpd.GeoDataFrame,
    validation: Any,
    sources: Any,
    *,
    id_column: str | None,
    client: Any,
) -> Any:
    """Return ``sources`` with the protected areas and the pairs measured on Dask (``client``).

    The raster inputs are measured by the evidence functions themselves, through
    the runner :func:`on_dask` sets.
    """
    from .distributed import run
    from .eudr import evidence as ev
    from .overlap import overlaps
    from .protected import protected_overlap

    ok = (ev.geometry_evidence(parcels, validation)["n_geometry_errors"] == 0).to_numpy()
    sub = parcels[ok]
    if len(sub) == 0:
        return sources
    c = client
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
        protected=_reindex(protected, parcels.index),
        pairs=ev.pairs_from_overlaps(raw_pairs, parcels, id_column),
    )


def _reindex(x: Any, index: pd.Index) -> Any:
    if isinstance(x, pd.DataFrame) and not isinstance(x, gpd.GeoDataFrame):
        return x.reindex(index)
    return x

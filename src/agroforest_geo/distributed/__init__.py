"""Run any per-feature verb of the library on a Dask cluster, with the in-memory answer.

One entry point, :func:`run`, takes a verb (``agf.area_ha``, ``agf.forest_cover``,
``agf.overlaps``, ``agf.eudr.assess`` ...), a layer (a GeoDataFrame or a
``dask_geopandas.GeoDataFrame``) and the verb's own arguments, and returns what
the verb returns on the whole layer: same rows, same index, same numbers.

How the layer is cut
--------------------
An in-memory layer is sorted along a Hilbert curve of its bounding-box centres
and cut into ``npartitions`` slices of neighbouring features, so a partition
reads a compact raster window and meets few protected areas; results are put
back in the input's order at the end. A ``dask_geopandas.GeoDataFrame`` keeps
its own partitions (call ``spatial_shuffle()`` on it first for the same effect)
and results come in its order.

What each verb needs
--------------------
* Row-by-row verbs (``area_ha``, ``forest_cover``, ``forest_loss``,
  ``protected_overlap``, ``containment``, ``tree_density`` ...): each partition
  alone. Other layers passed as arguments (protected areas, parcels for
  containment, tree points) are sent whole to every worker once; rasters are
  sent as paths and opened by each worker (a list of tiles or a glob pattern
  becomes a VRT, see :mod:`agroforest_geo.mosaic`), which reads only the
  windows its parcels need. A table on the layer's index (a precomputed
  ``forest_cover`` passed to ``assess``) is cut with the layer.
* Within-layer ``overlaps`` and ``eudr.assess`` (which counts overlaps between
  parcels): each partition also gets a *halo*, the features of other partitions
  whose bounding box meets its extent. Every overlapping pair has both
  features in the partition of the lower-numbered one (with halo), and is kept
  only there, so it is found exactly once even across partition borders.
* ``validate`` / ``repair``: partitions by a hash of the id column, so duplicate
  ids meet in one partition; the reports are merged with global row positions.
  Findings about the whole layer (``missing_crs``...) come from the first
  partition; the "far from the others" check for swapped coordinates uses the
  partition's features, a random sample of the layer.

Long runs
---------
``checkpoint_dir`` stores each finished partition (Parquet/GeoParquet, or a
pickle for reports); a run stopped and started again with the same arguments
skips them. Tasks are retried (``retries``), a worker killed (e.g. out of
memory) raises :class:`~agroforest_geo.errors.AgroforestGeoError` naming the
partition. Without a ``client`` a ``LocalCluster`` is started and closed.

Dask is optional: ``pip install "agroforest-geo[dask]"``; this module imports it
only when a cluster is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np

from ..errors import AgroforestGeoError
from ..mosaic import as_raster
from . import _tasks
from ._combine import combine
from ._executor import Executor
from ._plan import (
    Kind,
    PartitionBy,
    Plan,
    bind,
    halo_sources,
    is_dask,
    kind_of,
    plan_dask,
    plan_memory,
)

__all__ = ["DEFAULT_PARTITION_SIZE", "local_client", "run"]

logger = logging.getLogger(__name__)

Scheduler = Literal["distributed", "synchronous"]

#: Features per partition when ``npartitions`` is not given.
DEFAULT_PARTITION_SIZE = 50_000
#: Show a progress bar by default from this many features on.
_PROGRESS_MIN_FEATURES = 20_000
#: Argument names that hold rasters (sent to workers as paths; tiles become a VRT).
_RASTER_ARGS = frozenset({"raster", "lossyear", "cover", "loss", "chm", "density_raster"})
_DASK_EXTRA = 'pip install "agroforest-geo[dask]"'


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"running on Dask needs dask, distributed and dask-geopandas: {_DASK_EXTRA}"
        ) from exc
    return distributed


def local_client(
    *, n_workers: int = 2, memory_limit: str | float = "auto", dashboard_address: str | None = ":0"
) -> Any:
    """Start a ``LocalCluster`` of single-threaded worker processes and a client on it.

    Parameters
    ----------
    n_workers : int
        Worker processes (one thread each: shapely and GDAL work per process).
    memory_limit : str or float
        Per worker, e.g. ``"4GiB"``; ``"auto"`` shares the machine's memory.
    dashboard_address : str or None
        ``":0"`` (or None) picks a free port; see ``client.dashboard_link``.

    Returns
    -------
    distributed.Client
        Close it with ``client.close(); client.cluster.close()`` (or use it in ``with``).

    Examples
    --------
    >>> client = local_client(n_workers=1)  # doctest: +SKIP
    >>> client.dashboard_link  # doctest: +SKIP
    'http://127.0.0.1:40123/status'
    """
    distributed = _import_distributed()
    cluster = distributed.LocalCluster(
        n_workers=int(n_workers),
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=dashboard_address or ":0",
    )
    return distributed.Client(cluster)


def run(
    func: Callable[..., Any],
    data: gpd.GeoDataFrame | Any,
    *args: Any,
    npartitions: int | None = None,
    partition_by: PartitionBy = "auto",
    client: Any = None,
    scheduler: Scheduler = "distributed",
    n_workers: int = 2,
    memory_limit: str | float = "auto",
    checkpoint_dir: str | Path | None = None,
    retries: int = 2,
    show_progress: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Run a per-feature verb partition by partition, on Dask, and return the in-memory result.

    Parameters
    ----------
    func : callable
        A verb of this library whose first argument is the layer: ``area_ha``,
        ``validate``, ``repair``, ``overlaps`` (within the layer or against
        ``other``), ``protected_overlap``, ``containment``, ``forest_cover``,
        ``forest_loss``, ``tree_density``, ``eudr.assess``; or any function that
        maps a GeoDataFrame to a result on its index, row by row.
    data : GeoDataFrame or dask_geopandas.GeoDataFrame
        The layer. A Dask layer keeps its partitions.
    *args, **kwargs
        The verb's own arguments, as in ``func(data, *args, **kwargs)``. Rasters
        may be a path, a VRT, a list of tiles or a glob pattern (made a VRT).
    npartitions : int, optional
        Partitions of an in-memory layer; default: one per
        :data:`DEFAULT_PARTITION_SIZE` features, at least two per worker.
    partition_by : {"auto", "space", "order"}
        ``"space"`` (``"auto"``): slices along a Hilbert curve; ``"order"``:
        slices of the input order.
    client : distributed.Client, optional
        An existing cluster. Default: a ``LocalCluster`` of ``n_workers``
        processes with ``memory_limit`` each, closed at the end.
    scheduler : {"distributed", "synchronous"}
        ``"synchronous"`` runs the same partitions one by one in this process,
        without Dask (debugging, doctests).
    n_workers : int
        Workers of the default local cluster.
    memory_limit : str or float
        Memory per worker of the default local cluster, e.g. ``"4GiB"``.
    checkpoint_dir : path, optional
        Keep each finished partition there; a new run with the same arguments
        skips them. It must be reachable by every worker.
    retries : int
        Times a failed partition is run again before the error is raised.
    show_progress : bool, optional
        Progress bar (tqdm, notebook aware); default from 20,000 features on.

    Returns
    -------
    object
        What ``func(data, *args, **kwargs)`` returns on the whole layer: the same
        rows in the same order with the same index (pairs of ``overlaps`` on a
        fresh ``RangeIndex``), equal numbers to rounding.

    Raises
    ------
    AgroforestGeoError
        A partition killed its worker (memory), or ``checkpoint_dir`` holds
        another run. Errors of ``func`` itself are raised as they are.
    ImportError
        Dask is not installed (with ``scheduler="distributed"``).

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> from agroforest_geo.distributed import run
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> ha = run(agf.area_ha, parcels, npartitions=4, scheduler="synchronous")
    >>> ha.index.equals(parcels.index) and bool((ha == agf.area_ha(parcels)).all())
    True
    >>> pairs = run(agf.overlaps, parcels, npartitions=4, scheduler="synchronous")
    >>> pairs.drop(columns="geometry").equals(agf.overlaps(parcels).drop(columns="geometry"))
    True
    """
    if scheduler not in get_args(Scheduler):
        raise ValueError(f"scheduler must be one of {get_args(Scheduler)}, got {scheduler!r}")
    if partition_by not in get_args(PartitionBy):
        raise ValueError(
            f"partition_by must be one of {get_args(PartitionBy)}, got {partition_by!r}"
        )
    bound = bind(func, data, args, kwargs)
    kind = kind_of(func, bound)
    ckpt = None if checkpoint_dir is None else Path(checkpoint_dir).resolve()
    if ckpt is not None:
        ckpt.mkdir(parents=True, exist_ok=True)
    kw = _prepare_kwargs(bound, ckpt)
    dask_input = is_dask(data)
    if not dask_input and not isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        raise TypeError(
            f"data must be a GeoDataFrame or a dask_geopandas.GeoDataFrame, got "
            f"{type(data).__name__}"
        )
    own_client = False
    if scheduler == "distributed" and client is None:
        client = local_client(
            n_workers=n_workers, memory_limit=memory_limit, dashboard_address=None
        )
        own_client = True
    try:
        n_workers_now = (
            len(client.scheduler_info().get("workers", {})) if client is not None else 1
        ) or n_workers
        if dask_input:
            plan = plan_dask(data)
        else:
            n = len(data)
            npart = npartitions or max(2 * n_workers_now, math.ceil(n / DEFAULT_PARTITION_SIZE))
            npart = max(1, min(int(npart), max(n, 1)))
            plan = plan_memory(data, npart, kind, partition_by, bound)
        return _run_plan(func, plan, kind, kw, Executor(client, retries), ckpt, show_progress)
    finally:
        if own_client:
            cluster = client.cluster
            client.close()
            cluster.close()


# ---------------------------------------------------------------- driver
def _prepare_kwargs(bound: dict[str, Any], vrt_dir: Path | None) -> dict[str, Any]:
    """Rasters become paths (tiles a VRT); Dask layers given as arguments are computed."""
    out = {}
    for k, v in bound.items():
        if k in _RASTER_ARGS:
            v = as_raster(v, vrt_path=None if vrt_dir is None else vrt_dir / f"{k}.vrt")
        elif is_dask(v):
            v = v.compute()
        out[k] = v
    return out


def _fingerprint(plan: Plan) -> str:
    h = hashlib.sha1()
    for pos, size in zip(plan.positions, plan.sizes, strict=True):
        h.update(np.asarray(pos).tobytes())
        h.update(str(size).encode())
    return h.hexdigest()


def _manifest(directory: Path, info: dict[str, Any]) -> None:
    path = directory / "manifest.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != info:
            raise AgroforestGeoError(
                f"checkpoint_dir {directory} holds partitions of another run "
                f"({old.get('function')} on {old.get('n_rows')} rows in "
                f"{old.get('npartitions')} partitions); pass a new checkpoint_dir or delete it"
            )
        return
    path.write_text(json.dumps(info, indent=1), encoding="utf-8")


def _run_plan(
    func: Callable[..., Any],
    plan: Plan,
    kind: Kind,
    kw: dict[str, Any],
    ex: Executor,
    ckpt: Path | None,
    show_progress: bool | None,
) -> Any:
    parts = ex.put(plan.parts)
    npart = len(parts)
    extents: list[tuple[float, ...]] = []
    if not plan.sizes or kind in ("overlaps", "halo"):
        info = ex.gather([ex.submit(_tasks.extent, part) for part in parts])
        extents = [e[1] for e in info]
        if not plan.sizes:  # a Dask layer: sizes and offsets from the cluster
            plan.sizes = [int(e[0]) for e in info]
            offsets = np.concatenate([[0], np.cumsum(plan.sizes)[:-1]]).astype(np.int64)
            plan.positions = [int(o) for o in offsets]
    n_total = int(sum(plan.sizes))
    if ckpt is not None:
        name = f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', func)}"
        info_ck = {"function": name, "kind": kind, "n_rows": n_total, "npartitions": npart}
        _manifest(ckpt, {**info_ck, "fingerprint": _fingerprint(plan)})
    shared = {k: ex.share(v) for k, v in kw.items()}
    done: dict[int, Any] = {}
    if ckpt is not None:
        for p in range(npart):
            stored = _tasks.read_checkpoint(ckpt, p)
            if stored is not None:
                done[p] = (stored, [])
        if done:
            logger.info("run: %d of %d partitions read from %s", len(done), npart, ckpt)
    ck = None if ckpt is None else str(ckpt)
    futures: dict[int, Any] = {}
    for p in range(npart):
        if p in done:
            continue
        if kind in ("overlaps", "halo"):
            halos = [
                ex.submit(_tasks.clip, parts[q], plan.positions[q], extents[p], q)
                for q in halo_sources(extents, p)
            ]
            task: tuple[Any, ...] = (_tasks.within, parts[p], plan.positions[p], halos, p)
        else:
            task = (_tasks.rows, parts[p], plan.positions[p])
        futures[p] = ex.submit(_tasks.execute, *task, func, shared, kind, n_total, p=p, ckpt=ck)
    show = n_total >= _PROGRESS_MIN_FEATURES if show_progress is None else bool(show_progress)
    done.update(ex.wait(futures, show=show and bool(futures), sizes=plan.sizes))
    seen: set[tuple[type[Warning], str]] = set()
    for p in range(npart):
        for cat, msg in done[p][1]:
            if (cat, msg) not in seen:
                seen.add((cat, msg))
                warnings.warn(f"partition {p}: {msg}", cat, stacklevel=3)
    return combine(kind, [done[p][0] for p in range(npart)], plan)

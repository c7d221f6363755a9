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
Each verb declares it once (:func:`verb`; the library's verbs in
``agroforest_geo._verbs``), and only that declaration is read here.

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

Several verbs on one layer
--------------------------
:func:`distribute` cuts the layer and sends its partitions once, straight to
the workers (not through the task graph); :func:`run` on the returned
:class:`DistributedLayer` reuses them, and the halos, for every verb. Results
are compact tables (numbers, short text); only ``overlaps`` returns geometries.

Long runs
---------
``checkpoint_dir`` stores each finished partition (Parquet/GeoParquet and
JSON, never a pickle); a run stopped and started again with the same arguments
skips them. Each checkpoint records a digest of the arguments, of the raster
inputs (size and modification time, the sources of a VRT included) and of its
partition's geometries and attributes; a run that differs in any of them raises
:class:`~agroforest_geo.errors.AgroforestGeoError` instead of returning stale
results. Tasks are retried (``retries``), a worker killed (e.g. out of
memory) raises :class:`~agroforest_geo.errors.AgroforestGeoError` naming the
partition. Without a ``client`` a ``LocalCluster`` is started and closed.

Dask is optional: ``pip install "agroforest-geo[dask]"``; this module imports it
only when a cluster is used.
"""

from __future__ import annotations

import hashlib
import logging
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np

from .._deprecation import renamed_keywords
from .._verbs import VerbSpec, verb
from ..errors import UndeclaredVerbError
from ..mosaic import as_raster
from . import _checkpoint, _tasks
from ._combine import combine
from ._executor import Executor
from ._plan import (
    Kind,
    PartitionBy,
    Plan,
    bind,
    declaration,
    extents_from_bounds,
    halo_rows,
    halo_sources,
    is_dask,
    kind_of,
    memory_halos,
    plan_bounds,
    plan_dask,
    plan_memory,
)

__all__ = [
    "DEFAULT_PARTITION_SIZE",
    "DistributedLayer",
    "distribute",
    "local_client",
    "run",
    "verb",
]

logger = logging.getLogger(__name__)

Scheduler = Literal["distributed", "synchronous"]

#: Features per partition when ``npartitions`` is not given.
DEFAULT_PARTITION_SIZE = 50_000
#: Features per slice when the workers read a file (GeoParquet: whole row groups).
_READ_SLICE_ROWS = DEFAULT_PARTITION_SIZE
#: Show a progress bar by default from this many features on.
_PROGRESS_MIN_FEATURES = 20_000
_DASK_EXTRA = 'pip install "agroforest-geo[dask]"'


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"running on Dask needs dask, distributed and dask-geopandas: {_DASK_EXTRA}"
        ) from exc
    return distributed


@renamed_keywords(n_workers="workers")
def local_client(
    *, workers: int = 2, memory_limit: str | float = "auto", dashboard_address: str | None = ":0"
) -> Any:
    """Start a ``LocalCluster`` of single-threaded worker processes and a client on it.

    Parameters
    ----------
    workers : int
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
    >>> client = local_client(workers=1)  # doctest: +SKIP
    >>> client.dashboard_link  # doctest: +SKIP
    'http://127.0.0.1:40123/status'
    """
    distributed = _import_distributed()
    cluster = distributed.LocalCluster(
        n_workers=int(workers),
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=dashboard_address or ":0",
    )
    return distributed.Client(cluster)


class DistributedLayer:
    """A layer cut into partitions that stay on the workers, for several :func:`run` calls.

    Made by :func:`distribute`. The client keeps only the row positions of each
    partition (to put results back in the input's order); the geometries are
    sent once, straight to the workers, and every later :func:`run` on this
    object reuses them, as well as the halos of within-layer ``overlaps`` and
    ``assess`` (sent on first use). Call :meth:`release` (or use ``with``) to
    free the workers' memory.

    Attributes
    ----------
    npartitions : int
        Number of partitions.
    partition_by : str
        How the layer was cut (``"space"``, ``"order"``, or ``"dask"`` for a
        Dask layer's own partitions).
    """

    def __init__(
        self, data: Any, plan: Plan, parts: list[Any], executor: Executor, partition_by: str
    ) -> None:
        self._data = data  # the in-memory layer (None for a Dask layer)
        self.plan = plan
        self._parts = parts
        self._ex = executor
        self.partition_by = partition_by
        self._extents: list[tuple[float, ...]] | None = None
        self._bounds: np.ndarray | None = None  # bounding boxes, for a layer read on workers
        self._halos: list[Any] | None = None

    @property
    def npartitions(self) -> int:
        """Number of partitions."""
        return len(self._parts)

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` holding the partitions (None: this process)."""
        return self._ex.client

    def __len__(self) -> int:
        self._ensure_sizes()
        return int(sum(self.plan.sizes))

    def __repr__(self) -> str:
        n = sum(self.plan.sizes) if self.plan.sizes else "?"
        return (
            f"<DistributedLayer: {n} features in {self.npartitions} partitions "
            f"({self.partition_by}){' released' if self._parts == [] else ''}>"
        )

    def __enter__(self) -> DistributedLayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Free the partitions and halos on the workers; the object is unusable afterwards."""
        for f in [*self._parts, *(h for hs in self._halos or [] for h in hs if h is not None)]:
            if hasattr(f, "release"):
                f.release()
        self._parts, self._halos, self._data = [], None, None

    # ------------------------------------------------------------ internals
    def _ensure_sizes(self, ex: Executor | None = None) -> None:
        """Sizes, offsets and extents of a Dask layer's partitions, found on the cluster."""
        if self.plan.sizes or not self._parts:
            return
        ex = ex or self._ex
        info = ex.gather([ex.submit(_tasks.extent, part) for part in self._parts])
        self._extents = [e[1] for e in info]
        self.plan.sizes = [int(e[0]) for e in info]
        offsets = np.concatenate([[0], np.cumsum(self.plan.sizes)[:-1]]).astype(np.int64)
        self.plan.positions = [int(o) for o in offsets]

    def _halo_args(self, p: int, ex: Executor) -> list[Any]:
        """Return the halo of partition ``p``, made and sent once per layer.

        In-memory layer: one table cut on the client. Layer read on the workers:
        the rows are chosen here from the bounding boxes and taken there. Dask
        layer: clip tasks on the neighbouring partitions' extents.
        """
        if self._halos is None:
            if self._data is not None:
                tables = memory_halos(self._data, self.plan)
                sent = iter(ex.put([t for t in tables if t is not None]))
                self._halos = [[None if t is None else next(sent)] for t in tables]
            elif self._bounds is not None:  # read on the workers: bounds known here
                self._halos = []
                for rows, owner in halo_rows(self._bounds, self.plan):
                    args = []
                    for q in np.unique(owner):
                        glob = rows[owner == q]
                        local = np.searchsorted(np.asarray(self.plan.positions[q]), glob)
                        args.append(
                            ex.submit(_tasks.halo_piece, self._parts[q], local, glob, int(q))
                        )
                    self._halos.append(args)
            else:
                self._ensure_sizes(ex)
                ext = self._extents or []
                self._halos = [
                    [
                        ex.submit(_tasks.clip, self._parts[q], self.plan.positions[q], ext[r], q)
                        for q in halo_sources(ext, r)
                    ]
                    for r in range(self.npartitions)
                ]
        return list(self._halos[p])


def distribute(
    data: gpd.GeoDataFrame | str | Path | Any,
    *,
    client: Any = None,
    npartitions: int | None = None,
    partition_by: PartitionBy = "auto",
    kind: str | None = "parcels",
    layer: str | int | None = None,
    id_column: str | None = None,
    columns: dict[str, str] | None = None,
    crs: Any = None,
) -> DistributedLayer:
    """Cut a layer into spatial partitions and send them once to the workers.

    Pass the result to :func:`run` in place of the layer: several verbs on the
    same parcels then reuse the partitions already on the workers instead of
    sending the geometries again for every call (at 1M parcels, ~110 MB and
    3-4 s of client time per call saved).

    Given a **path** (GeoParquet, GeoPackage, FlatGeobuf ...), the workers read
    the file themselves, slice by slice (GeoParquet row groups, or
    ``skip_features``/``max_features``), and exchange the features to build
    the same spatial partitions: the client only ever sees bounding boxes (32
    bytes per feature), never a geometry.

    Parameters
    ----------
    data : GeoDataFrame, dask_geopandas.GeoDataFrame or path
        The layer. A Dask layer keeps its partitions, computed on the workers.
        A path is read on the workers (it must be reachable there).
    client : distributed.Client, optional
        The cluster. None keeps the partitions in this process (for
        ``run(..., scheduler="synchronous")``: debugging, doctests).
    npartitions : int, optional
        Default: one per :data:`DEFAULT_PARTITION_SIZE` features, at least two
        per worker.
    partition_by : {"auto", "space", "order"}
        Slices along a Hilbert curve (``"auto"``, ``"space"``) or of the input
        order.
    kind, layer, id_column, columns, crs
        For a path: read as :func:`agroforest_geo.io.read_layer` would
        (``kind=None``: columns as they are); results have the index the
        whole file read in memory would have.

    Returns
    -------
    DistributedLayer
        Free it with ``release()`` or use it in a ``with`` block.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> from agroforest_geo.distributed import distribute, run
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> with distribute(parcels, npartitions=3) as layer:  # client=... on a cluster
    ...     ha = run(agf.area_ha, layer, scheduler="synchronous")
    ...     pairs = run(agf.overlaps, layer, scheduler="synchronous")
    ...     n = layer.npartitions
    >>> n, bool((ha == agf.area_ha(parcels)).all())
    (3, True)
    >>> len(pairs) == len(agf.overlaps(parcels))
    True
    """
    if partition_by not in get_args(PartitionBy):
        raise ValueError(
            f"partition_by must be one of {get_args(PartitionBy)}, got {partition_by!r}"
        )
    ex = Executor(client, 0)
    if isinstance(data, str | Path):
        reader = {"kind": kind, "id_column": id_column, "columns": columns, "crs": crs}
        return _distribute_path(str(data), ex, npartitions, partition_by, layer, reader)
    return _distribute(data, ex, npartitions, "rows", partition_by, {})


def _n_workers(client: Any) -> int:
    return (len(client.scheduler_info().get("workers", {})) if client is not None else 1) or 1


def _distribute_path(
    path: str,
    ex: Executor,
    npartitions: int | None,
    partition_by: PartitionBy,
    layer: str | int | None,
    reader: dict[str, Any],
) -> DistributedLayer:
    """Read a file on the workers into spatial partitions; the client sees only bounds."""
    if path.lower().endswith((".csv", ".txt")):
        raise ValueError(f"{path}: read CSV files with read_parcels and distribute the result")
    if not Path(path).exists() and "://" not in path and not path.startswith("/vsi"):
        raise FileNotFoundError(f"{path} does not exist")
    specs = _tasks.slice_specs(path, _READ_SLICE_ROWS, layer)
    slices = [ex.submit(_tasks.read_slice, path, spec, layer, reader) for spec in specs]
    b_parts = ex.gather([ex.submit(_tasks.bounds, s) for s in slices])
    b = np.concatenate(b_parts) if b_parts else np.zeros((0, 4))
    n = len(b)
    npart = npartitions or max(2 * _n_workers(ex.client), math.ceil(n / DEFAULT_PARTITION_SIZE))
    npart = max(1, min(int(npart), max(n, 1)))
    groups = plan_bounds(b, npart, partition_by)
    label = np.zeros(n, dtype=np.int64)
    for q, g in enumerate(groups):
        label[g] = q
    starts = np.concatenate([[0], np.cumsum([len(x) for x in b_parts])]).astype(np.int64)
    pieces: list[list[Any]] = [[] for _ in groups]
    for i, sl in enumerate(slices):
        lab = label[starts[i] : starts[i + 1]]
        if len(np.unique(lab)) == 1 and len(lab):
            pieces[int(lab[0])].append(sl)  # the whole slice goes to one partition
            continue
        for q in np.unique(lab):
            rows = np.flatnonzero(lab == q)
            pieces[int(q)].append(ex.submit(_tasks.take, sl, rows))
    parts = [ex.submit(_tasks.assemble, *pc) for pc in pieces] if n else slices[:1]
    plan = Plan(parts, list(groups), [int(g.size) for g in groups])
    out = DistributedLayer(None, plan, parts, ex, "order" if partition_by == "order" else "space")
    out._extents = extents_from_bounds(b, groups)
    out._bounds = b
    return out


def _distribute(
    data: Any,
    ex: Executor,
    npartitions: int | None,
    kind: Kind,
    partition_by: PartitionBy,
    bound: dict[str, Any],
) -> DistributedLayer:
    if is_dask(data):
        plan = plan_dask(data)
        return DistributedLayer(None, plan, ex.put(plan.parts), ex, "dask")
    if not isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        raise TypeError(
            f"data must be a GeoDataFrame or a dask_geopandas.GeoDataFrame, got "
            f"{type(data).__name__}"
        )
    n = len(data)
    npart = npartitions or max(2 * _n_workers(ex.client), math.ceil(n / DEFAULT_PARTITION_SIZE))
    npart = max(1, min(int(npart), max(n, 1)))
    plan = plan_memory(data, npart, kind, partition_by, bound)
    by = "id" if kind in ("report", "repair") else ("order" if partition_by == "order" else "space")
    return DistributedLayer(data, plan, ex.put(plan.parts), ex, by)


@renamed_keywords(n_workers="workers")
def run(
    func: Callable[..., Any],
    data: gpd.GeoDataFrame | Any,
    *args: Any,
    npartitions: int | None = None,
    partition_by: PartitionBy = "auto",
    client: Any = None,
    scheduler: Scheduler = "distributed",
    workers: int = 2,
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
        ``forest_loss``, ``tree_density``, ``eudr.assess``; or a function of
        yours declared with :func:`verb` (what it needs: row by row, a halo,
        pairs, by id; its raster, layer and table arguments).
    data : GeoDataFrame, dask_geopandas.GeoDataFrame or DistributedLayer
        The layer. A Dask layer keeps its partitions. A :class:`DistributedLayer`
        (from :func:`distribute`) is already on the workers: several calls on
        it send the geometries only once (then ``client``, ``npartitions`` and
        ``partition_by`` come from it).
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
        An existing cluster. Default: a ``LocalCluster`` of ``workers``
        processes with ``memory_limit`` each, closed at the end.
    scheduler : {"distributed", "synchronous"}
        ``"synchronous"`` runs the same partitions one by one in this process,
        without Dask (debugging, doctests).
    workers : int
        Workers of the default local cluster.
    memory_limit : str or float
        Memory per worker of the default local cluster, e.g. ``"4GiB"``.
    checkpoint_dir : path, optional
        Keep each finished partition there (Parquet/JSON); a new run with the
        same arguments, rasters and geometries skips them, and one that differs
        in any of them raises. It must be reachable by every worker.
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
    UndeclaredVerbError
        ``func`` has no declaration (see :func:`verb`), or it does not fit its arguments.
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
    layer = data if isinstance(data, DistributedLayer) else None
    spec = declaration(func)
    bound = bind(func, layer._data if layer is not None else data, args, kwargs)
    kind = kind_of(spec, bound)
    if layer is not None:
        if not layer._parts:
            raise ValueError("this DistributedLayer was released; distribute the layer again")
        if client is not None and layer.client is not None and client is not layer.client:
            raise ValueError("the DistributedLayer lives on another client than client=")
        if npartitions is not None and npartitions != layer.npartitions:
            raise ValueError(
                f"npartitions={npartitions} differs from the DistributedLayer's "
                f"{layer.npartitions}; distribute the layer again to change it"
            )
        if scheduler == "synchronous" and layer.client is not None:
            raise ValueError('scheduler="synchronous" needs a layer distributed with client=None')
    ckpt = None if checkpoint_dir is None else Path(checkpoint_dir).resolve()
    if ckpt is not None:
        ckpt.mkdir(parents=True, exist_ok=True)
    kw = _prepare_kwargs(func, spec, bound, ckpt)
    if (
        layer is None
        and not is_dask(data)
        and not isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries)
    ):
        raise TypeError(
            f"data must be a GeoDataFrame or a dask_geopandas.GeoDataFrame, got "
            f"{type(data).__name__}"
        )
    own_client = False
    if layer is not None:
        client = layer.client  # None: a layer kept in this process, run here
    elif scheduler == "distributed" and client is None:
        client = local_client(workers=workers, memory_limit=memory_limit, dashboard_address=None)
        own_client = True
    ex = Executor(client if scheduler == "distributed" else None, retries)
    own_layer = None
    try:
        if (
            layer is not None
            and kind in ("report", "repair")
            and layer.partition_by
            in (
                "space",
                "order",
            )
        ):
            # duplicate ids must meet: cut the client's copy of the layer by id hash
            if layer._data is None:
                raise ValueError(
                    f"{getattr(func, '__name__', func)} needs the layer cut by id (duplicate ids "
                    "must meet); read the file with read_parcels and pass the GeoDataFrame"
                )
            layer = own_layer = _distribute(layer._data, ex, None, kind, partition_by, bound)
        elif layer is None:
            layer = own_layer = _distribute(data, ex, npartitions, kind, partition_by, bound)
        return _run_layer(func, layer, kind, spec, kw, ex, ckpt, show_progress)
    finally:
        if own_layer is not None:
            own_layer.release()
        if own_client:
            cluster = client.cluster
            client.close()
            cluster.close()


# ---------------------------------------------------------------- driver
def _prepare_kwargs(
    func: Callable[..., Any], spec: VerbSpec, bound: dict[str, Any], vrt_dir: Path | None
) -> dict[str, Any]:
    """Turn the declared rasters into paths (tiles into a VRT), compute declared Dask layers."""
    out = {}
    for k, v in bound.items():
        if k in spec.rasters:
            v = as_raster(v, vrt_path=None if vrt_dir is None else vrt_dir / f"{k}.vrt")
        if is_dask(v):
            if k not in spec.layers and k not in spec.tables:
                raise UndeclaredVerbError(
                    f"argument {k!r} of {getattr(func, '__qualname__', func)} is a Dask "
                    "collection, but the verb does not declare it among its layers or "
                    f'tables: declare it, e.g. @verb(..., layers=("{k}",)), or compute it'
                )
            v = v.compute()
        out[k] = v
    return out


def _fingerprint(plan: Plan) -> str:
    h = hashlib.sha1()
    for pos, size in zip(plan.positions, plan.sizes, strict=True):
        h.update(np.asarray(pos).tobytes())
        h.update(str(size).encode())
    return h.hexdigest()


def _checkpoint_metas(
    func: Callable[..., Any],
    kind: Kind,
    layer: DistributedLayer,
    kw: dict[str, Any],
    ex: Executor,
    rasters: tuple[str, ...],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the run's manifest and, per partition, the digests its checkpoint must match."""
    plan, parts = layer.plan, layer._parts
    digests = ex.gather([ex.submit(_checkpoint.partition_digest, part) for part in parts])
    args = _checkpoint.arguments_digest(kw, frozenset(rasters))
    name = f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', func)}"
    info = {
        "function": name,
        "kind": kind,
        "n_rows": int(sum(plan.sizes)),
        "npartitions": len(parts),
        "fingerprint": _fingerprint(plan),
        "arguments": args,
        "layer": hashlib.sha256("".join(digests).encode()).hexdigest(),
    }
    return info, [{"geometry": d, "arguments": args} for d in digests]


def _accepts_progress(func: Callable[..., Any]) -> bool:
    import inspect

    try:
        return "progress" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # a builtin or a callable without a signature
        return False


def _run_layer(
    func: Callable[..., Any],
    layer: DistributedLayer,
    kind: Kind,
    spec: VerbSpec,
    kw: dict[str, Any],
    ex: Executor,
    ckpt: Path | None,
    show_progress: bool | None,
) -> Any:
    tables = spec.tables
    layer._ensure_sizes(ex)
    plan, parts = layer.plan, layer._parts
    npart = len(parts)
    n_total = int(sum(plan.sizes))
    if "progress" not in kw and _accepts_progress(func):
        kw = {**kw, "progress": False}  # one bar per call (the partitions'), none per partition
    metas: list[dict[str, Any] | None] = [None] * npart
    done: dict[int, Any] = {}
    if ckpt is not None:
        info, metas_ck = _checkpoint_metas(func, kind, layer, kw, ex, tuple(spec.rasters))
        _checkpoint.check_manifest(ckpt, info)
        metas = list(metas_ck)
        for p in range(npart):
            stored = _checkpoint.read_checkpoint(ckpt, p, metas_ck[p])
            if stored is not None:
                done[p] = (stored, [])
        if done:
            logger.info("run: %d of %d partitions read from %s", len(done), npart, ckpt)
    shared = {k: ex.share(v) for k, v in kw.items()}
    ck = None if ckpt is None else str(ckpt)
    futures: dict[int, Any] = {}
    for p in range(npart):
        if p in done:
            continue
        if kind in ("overlaps", "halo"):
            halos = layer._halo_args(p, ex)
            task: tuple[Any, ...] = (_tasks.within, parts[p], plan.positions[p], halos, p)
        else:
            task = (_tasks.rows, parts[p], plan.positions[p])
        futures[p] = ex.submit(
            _tasks.execute, *task, func, shared, kind, n_total, tables, p=p, ckpt=ck, meta=metas[p]
        )
    show = n_total >= _PROGRESS_MIN_FEATURES if show_progress is None else bool(show_progress)
    done.update(ex.wait(futures, show=show and bool(futures), sizes=plan.sizes))
    seen: set[tuple[type[Warning], str]] = set()
    for p in range(npart):
        for cat, msg in done[p][1]:
            if (cat, msg) not in seen:
                seen.add((cat, msg))
                warnings.warn(f"partition {p}: {msg}", cat, stacklevel=3)
    return combine(kind, [done[p][0] for p in range(npart)], plan)

"""The same task graph on a dask.distributed cluster or, synchronously, in this process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..errors import PartitionError


class _Done:
    """A task already run in this process (synchronous scheduler)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _resolve(x: Any) -> Any:
    if isinstance(x, _Done):
        return x.value
    if isinstance(x, list):
        return [_resolve(v) for v in x]
    if isinstance(x, tuple):
        return tuple(_resolve(v) for v in x)
    if isinstance(x, dict):
        return {k: _resolve(v) for k, v in x.items()}
    return x


def _killed_message(p: int, size: int, exc: BaseException) -> str:
    return (
        f"partition {p} ({size} features) killed its worker ({exc}); most often the worker ran "
        "out of memory. Make partitions smaller (a larger npartitions=, or "
        "ddf.repartition(npartitions=...) for a Dask layer) or give workers more memory "
        "(memory_limit=, or a cluster with bigger workers)"
    )


class Executor:
    """Submit, share and wait for tasks; ``client=None`` runs everything here, in order."""

    def __init__(self, client: Any, retries: int) -> None:
        self.client = client
        self.retries = max(0, int(retries))

    def put(self, parts: list[Any]) -> list[Any]:
        """Partitions on the cluster: scattered once (in-memory) or computed (a Dask layer).

        Scattered partitions go straight to the workers (round robin), outside
        the task graph: the scheduler never holds the geometries, and every
        later task on a partition finds it where it lives.
        """
        delayed = bool(parts) and hasattr(parts[0], "dask") and hasattr(parts[0], "compute")
        if self.client is None:
            if delayed:
                return [_Done(d.compute(scheduler="sync")) for d in parts]
            return [_Done(p) for p in parts]
        if delayed:
            return list(self.client.compute(parts))
        if not parts:
            return []
        return list(self.client.scatter(list(parts), hash=False))

    def share(self, value: Any) -> Any:
        """Send a large argument (a layer, a table) once to every worker."""
        if self.client is None or not isinstance(value, pd.DataFrame):
            return value
        return self.client.scatter(value, broadcast=True, hash=False)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Start ``fn(*args, **kwargs)``; retried ``retries`` times when it raises."""
        if self.client is None:
            attempt = 0
            while True:
                try:
                    return _Done(fn(*_resolve(args), **_resolve(kwargs)))
                except Exception:
                    attempt += 1
                    if attempt > self.retries:
                        raise
        return self.client.submit(fn, *args, retries=self.retries, pure=False, **kwargs)

    def gather(self, futures: list[Any]) -> list[Any]:
        """Results of small tasks, in order."""
        if self.client is None:
            return [f.value for f in futures]
        return list(self.client.gather(futures))

    def wait(self, futures: dict[int, Any], *, show: bool, sizes: list[int]) -> dict[int, Any]:
        """Collect the partitions' results as they finish, with a progress bar."""
        bar = None
        if show:
            from tqdm.auto import tqdm

            bar = tqdm(total=sum(sizes[p] for p in futures), desc="partitions", unit="feature")
        out: dict[int, Any] = {}
        try:
            if self.client is None:
                for p, f in futures.items():
                    out[p] = f.value
                    if bar is not None:
                        bar.update(sizes[p])
                return out
            from distributed import as_completed
            from distributed.client import FutureCancelledError
            from distributed.scheduler import KilledWorker

            which = {f.key: p for p, f in futures.items()}
            for fut in as_completed(list(futures.values())):
                p = which[fut.key]
                try:
                    out[p] = fut.result()
                except (KilledWorker, FutureCancelledError) as exc:
                    # a worker died: its task is reported killed, and the tasks whose
                    # partition lived on it lose their input
                    for other in futures.values():
                        other.cancel()
                    raise PartitionError(_killed_message(p, sizes[p], exc)) from exc
                fut.release()
                if bar is not None:
                    bar.update(sizes[p])
            return out
        finally:
            if bar is not None:
                bar.close()

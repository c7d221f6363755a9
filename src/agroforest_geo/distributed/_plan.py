"""How a layer is cut into partitions, and what each verb needs from its neighbours."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._verbs import VerbSpec, spec_of
from ..errors import UndeclaredVerbError

PartitionBy = Literal["auto", "space", "order"]
#: How a run is cut, run and combined (from the verb's declaration, see ``kind_of``):
#: row by row, within-layer pairs with a halo, pairs against another layer, rows with a
#: halo, a report by id, a repaired layer and its report by id.
Kind = Literal["rows", "overlaps", "pairs", "halo", "report", "repair"]


def is_dask(data: Any) -> bool:
    """Duck-type test for a Dask collection (no dask import)."""
    return hasattr(data, "to_delayed") and hasattr(data, "npartitions") and hasattr(data, "dask")


def declaration(func: Callable[..., Any]) -> VerbSpec:
    """Return what ``func`` declares it needs; raise naming what to declare when it has none."""
    spec = spec_of(func)
    name = getattr(func, "__qualname__", None) or repr(func)
    if spec is None:
        raise UndeclaredVerbError(
            f"{name} does not declare how it can run partition by partition. Declare it once, "
            "where it is defined, with agroforest_geo.distributed.verb: "
            '@verb("rows") when each feature\'s result depends on that feature alone, '
            '@verb("halo") when it also depends on its neighbours in the layer, '
            '@verb("pairs") for a table of pairs of features, @verb("by_id", returns=...) '
            "when features with equal ids must meet; name its raster, other-layer and "
            'table arguments too, e.g. @verb("rows", rasters=("raster",), layers=("protected",)). '
            "See 'Your own verbs' in docs/scaling.md."
        )
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return spec
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(
            {*spec.rasters, *spec.layers, *spec.tables} - set(list(params)[1:]), key=str
        )
        if unknown:
            raise UndeclaredVerbError(
                f"{name} declares arguments it does not have: {unknown}; "
                f"its arguments are {list(params)[1:]}. Fix its verb(...) declaration."
            )
    return spec


def kind_of(spec: VerbSpec, bound: dict[str, Any]) -> Kind:
    """Tell, from a verb's declaration, how to cut, run and combine it."""
    if spec.kind == "pairs":
        other = None if spec.pairs_with is None else bound.get(spec.pairs_with)
        return "overlaps" if other is None else "pairs"
    if spec.kind == "by_id":
        return "repair" if spec.returns == "layer_and_report" else "report"
    return spec.kind


def bind(func: Callable[..., Any], data: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Return the verb's arguments by name (without the layer), checked against its signature."""
    try:
        sig = inspect.signature(func)
        ba = sig.bind(data, *args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"arguments do not fit {getattr(func, '__name__', func)}: {exc}") from exc
    first = next(iter(sig.parameters))
    out = dict(ba.arguments)
    out.pop(first)
    for name, p in sig.parameters.items():
        if p.kind is p.VAR_POSITIONAL and name in out:
            raise TypeError(f"run() cannot pass *{name} of {func.__name__}; use keywords")
        if p.kind is p.VAR_KEYWORD and name in out:
            out.update(out.pop(name))
    return out


@dataclass
class Plan:
    """Partitions of the layer and the global row position of each of their rows."""

    parts: list[Any]  # GeoDataFrames (in-memory input) or dask Delayed objects
    positions: list[np.ndarray | int]  # global positions, or the partition's offset (Dask)
    sizes: list[int]


def positions(spec: np.ndarray | int, n: int) -> np.ndarray:
    """Global positions of a partition's rows from an array or an offset."""
    if isinstance(spec, np.ndarray):
        return spec
    return np.arange(spec, spec + n, dtype=np.int64)


def _hilbert_order(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    b = gdf.geometry.bounds.to_numpy()
    ok = np.isfinite(b).all(axis=1)
    key = np.full(len(gdf), np.iinfo(np.int64).max, dtype=np.int64)
    if ok.any():
        tb = (b[ok, 0].min(), b[ok, 1].min(), b[ok, 2].max(), b[ok, 3].max())
        geo = gdf.geometry[ok]
        key[ok] = geo.hilbert_distance(total_bounds=tb).to_numpy().astype(np.int64)
    return np.argsort(key, kind="stable")


def _id_column(gdf: Any, bound: dict[str, Any]) -> str | None:
    from ..io import LAYER_SCHEMAS

    col = bound.get("id_column")
    if col is None and bound.get("kind") is not None:
        schema = LAYER_SCHEMAS.get(bound["kind"])
        col = getattr(schema, "id_column", None)
    if col is None or not hasattr(gdf, "columns") or col not in gdf.columns:
        return None
    return str(col)


def plan_memory(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries,
    npart: int,
    kind: Kind,
    by: PartitionBy,
    bound: dict[str, Any],
) -> Plan:
    """Cut an in-memory layer: along a Hilbert curve, by input order, or by id hash."""
    n = len(gdf)
    col = _id_column(gdf, bound) if kind in ("report", "repair") else None
    if col is not None:
        # equal ids hash to the same partition: duplicate ids are seen together
        h = pd.util.hash_pandas_object(gdf[col].astype(str), index=False).to_numpy()
        bucket = (h % np.uint64(npart)).astype(np.int64)
        groups = [np.flatnonzero(bucket == b) for b in range(npart)]
    else:
        space = by in ("auto", "space") and kind not in ("report", "repair")
        order = _hilbert_order(gdf) if space else np.arange(n)
        edges = np.linspace(0, n, npart + 1).round().astype(int)
        groups = [np.sort(order[a:b]) for a, b in itertools.pairwise(edges)]
    groups = [g for g in groups if g.size] or [np.arange(0)]
    return Plan([gdf.iloc[g] for g in groups], list(groups), [int(g.size) for g in groups])


def plan_dask(ddf: Any) -> Plan:
    """Keep the partitions of a Dask layer; sizes and offsets are found on the cluster."""
    parts = list(ddf.to_delayed())
    return Plan(parts, [0] * len(parts), [])


def halo_sources(extents: list[tuple[float, ...]], p: int) -> list[int]:
    """Partitions whose extent meets the extent of partition ``p`` (``p`` excluded)."""
    e = extents[p]
    if not np.isfinite(e[0]):
        return []
    out = []
    for q, f in enumerate(extents):
        if q == p or not np.isfinite(f[0]):
            continue
        if f[0] <= e[2] and f[2] >= e[0] and f[1] <= e[3] and f[3] >= e[1]:
            out.append(q)
    return out


def halo_rows(b: np.ndarray, plan: Plan) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each partition, the features of the others whose bounding box meets one of its own.

    From the bounding boxes alone (``b``, one row per feature), with a spatial
    index of the partition's boxes: only the features along its border (~1%
    at 50,000 features), not everything inside its extent (a Hilbert slice is
    rarely a rectangle: that would be 25-40% more features). Returns, per
    partition, the global positions of its halo and the partition owning each.
    """
    owner = np.full(len(b), -1, dtype=np.int64)
    for q, pos in enumerate(plan.positions):
        owner[np.asarray(pos)] = q
    ok = np.isfinite(b).all(axis=1)
    boxes = np.full(len(b), None, dtype=object)
    boxes[ok] = shapely.box(b[ok, 0], b[ok, 1], b[ok, 2], b[ok, 3])
    out: list[tuple[np.ndarray, np.ndarray]] = []
    none = np.zeros(0, dtype=np.int64)
    for p, e in enumerate(extents_from_bounds(b, [np.asarray(x) for x in plan.positions])):
        if not np.isfinite(e[0]):
            out.append((none, none))
            continue
        # candidates: in the partition's extent; kept: meeting the box of one of its features
        with np.errstate(invalid="ignore"):
            near = (b[:, 0] <= e[2]) & (b[:, 2] >= e[0]) & (b[:, 1] <= e[3]) & (b[:, 3] >= e[1])
        cand = np.flatnonzero(near & (owner != p) & (owner >= 0))
        tree = shapely.STRtree(boxes[np.asarray(plan.positions[p])])
        rows = cand[np.unique(tree.query(boxes[cand])[0])]
        out.append((rows, owner[rows]))
    return out


def memory_halos(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries, plan: Plan
) -> list[tuple[Any, np.ndarray, np.ndarray] | None]:
    """Halos of an in-memory layer (see :func:`halo_rows`) as tables; None when empty."""
    b = np.asarray(shapely.bounds(np.asarray(gdf.geometry.array, dtype=object)))
    return [
        (gdf.iloc[rows], rows, owner) if rows.size else None for rows, owner in halo_rows(b, plan)
    ]


def plan_bounds(b: np.ndarray, npart: int, by: PartitionBy) -> list[np.ndarray]:
    """Cut a layer known only by its bounding boxes into partitions of sorted positions.

    The Hilbert cut of :func:`plan_memory` (a box has the bounds of its
    geometry, so the order is the same), or slices of the file's order.
    """
    n = len(b)
    order = np.arange(n)
    if by in ("auto", "space") and n:
        ok = np.isfinite(b).all(axis=1)
        key = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        if ok.any():
            tb = (b[ok, 0].min(), b[ok, 1].min(), b[ok, 2].max(), b[ok, 3].max())
            boxes = gpd.GeoSeries(shapely.box(b[ok, 0], b[ok, 1], b[ok, 2], b[ok, 3]))
            key[ok] = boxes.hilbert_distance(total_bounds=tb).to_numpy().astype(np.int64)
        order = np.argsort(key, kind="stable")
    edges = np.linspace(0, n, npart + 1).round().astype(int)
    groups = [np.sort(order[a:c]) for a, c in itertools.pairwise(edges)]
    return [g for g in groups if g.size] or [np.arange(0)]


def extents_from_bounds(b: np.ndarray, groups: list[np.ndarray]) -> list[tuple[float, ...]]:
    """Bounding box of each partition (NaN when all its features are empty)."""
    out: list[tuple[float, ...]] = []
    for g in groups:
        sel = b[g]
        sel = sel[np.isfinite(sel).all(axis=1)]
        if not sel.size:
            out.append((np.nan, np.nan, np.nan, np.nan))
            continue
        box = (sel[:, 0].min(), sel[:, 1].min(), sel[:, 2].max(), sel[:, 3].max())
        out.append(tuple(float(v) for v in box))
    return out

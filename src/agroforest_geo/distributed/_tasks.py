"""Work done on the workers: one partition of one verb, and its checkpoint file."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._checkpoint import write_checkpoint
from ._plan import Kind, positions

Extent = tuple[float, float, float, float]
_NAN_EXTENT: Extent = (np.nan, np.nan, np.nan, np.nan)
_UNNAMED = "__unnamed__"


def extent(part: gpd.GeoDataFrame) -> tuple[int, Extent]:
    """Count the rows of a partition and find their bounding box (NaN when all are empty)."""
    b = part.geometry.bounds.to_numpy()
    ok = np.isfinite(b).all(axis=1)
    if not ok.any():
        return len(part), _NAN_EXTENT
    box = (b[ok, 0].min(), b[ok, 1].min(), b[ok, 2].max(), b[ok, 3].max())
    return len(part), (float(box[0]), float(box[1]), float(box[2]), float(box[3]))


def clip(
    part: gpd.GeoDataFrame, pos: np.ndarray | int, box: Extent, q: int
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray | int]:
    """Rows of partition ``q`` whose bounding box meets ``box``, with their global positions."""
    b = part.geometry.bounds.to_numpy()
    with np.errstate(invalid="ignore"):
        hit = (b[:, 0] <= box[2]) & (b[:, 2] >= box[0]) & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1])
    return part[hit], positions(pos, len(part))[hit], q


def halo_piece(
    part: gpd.GeoDataFrame, local: np.ndarray, glob: np.ndarray, q: int
) -> tuple[gpd.GeoDataFrame, np.ndarray, int]:
    """Rows ``local`` of partition ``q`` (global positions ``glob``) for another one's halo."""
    return part.iloc[local], glob, q


def _slice_tables(
    kw: dict[str, Any], index: pd.Index, full_len: int, tables: tuple[str, ...]
) -> dict[str, Any]:
    """Cut the declared tables on the layer's index (precomputed evidence) to the partition."""
    out = dict(kw)
    for k in tables:
        v = kw.get(k)
        if (
            isinstance(v, pd.DataFrame)
            and not isinstance(v, gpd.GeoDataFrame)
            and len(v) == full_len
        ):
            out[k] = v.loc[v.index.isin(index)]
    return out


def _id_positions(pairs: pd.DataFrame, sub: gpd.GeoDataFrame, side: str) -> np.ndarray:
    """Positions in ``sub`` of the ``<id>_left`` / ``<id>_right`` column of a pair table."""
    col = str(pairs.columns[0 if side == "left" else 1])
    name = col[: -len(side) - 1]
    ids = sub[name] if name in sub.columns else sub.index.to_series()
    found = pd.Index(ids).get_indexer(pairs[col])
    if (found < 0).any():  # pragma: no cover - the verb's id columns changed
        raise RuntimeError(f"cannot map {col!r} back to rows; ids must be unique")
    return np.asarray(found)


def within(
    core: gpd.GeoDataFrame,
    core_pos: np.ndarray | int,
    halos: list[tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray | int] | None],
    p: int,
    func: Callable[..., Any],
    kw: dict[str, Any],
    kind: Kind,
    full_len: int,
    tables: tuple[str, ...],
) -> Any:
    """Run a verb that needs neighbours on partition ``p`` plus its halo; keep what ``p`` owns.

    ``halos`` holds tables of neighbours with their global positions and the
    partition owning each (one number for a whole table, or one per row).

    ``overlaps``: a pair is kept when ``p`` is the lower of its two features'
    partitions; both features are then in ``p``'s rows or halo, because each
    one's bounding box meets the other's, which lies inside ``p``'s extent.
    ``assess``: the rows of ``p`` are kept (their neighbours were all there).
    """
    halos_ = [h for h in halos if h is not None and len(h[0])]
    cpos = positions(core_pos, len(core))
    pos = np.concatenate([cpos, *[h[1] for h in halos_]])
    owner = np.concatenate(
        [np.full(len(core), p), *[np.broadcast_to(np.asarray(h[2]), len(h[0])) for h in halos_]]
    )
    order = np.argsort(pos, kind="stable")  # the input's order, as the verb would see it
    sub = pd.concat([core, *[h[0] for h in halos_]]).iloc[order] if halos_ else core
    pos, owner = pos[order], owner[order]
    if kind == "halo":
        res = func(sub, **_slice_tables(kw, sub.index, full_len, tables))
        out = res.iloc[np.flatnonzero(owner == p)]
        out.attrs = dict(res.attrs)
        return out
    min_m2 = float(kw.get("min_overlap_m2", 0.0) or 0.0)
    pairs = func(sub, **{**kw, "min_overlap_m2": 0.0})
    li = _id_positions(pairs, sub, "left")
    ri = _id_positions(pairs, sub, "right")
    canon = np.minimum(owner[li], owner[ri]) == p
    pairs = pairs.assign(_agf_l=pos[li], _agf_r=pos[ri])[canon]
    small = pairs["overlap_ha"].to_numpy() * 1e4 < min_m2
    out = pairs[~small]
    out.attrs = {"n_below_min_overlap": int(small.sum())}
    return out


def rows(
    part: gpd.GeoDataFrame,
    pos: np.ndarray | int,
    func: Callable[..., Any],
    kw: dict[str, Any],
    kind: Kind,
    full_len: int,
    tables: tuple[str, ...],
) -> Any:
    """Run a row-by-row verb on one partition; reports get global row positions."""
    res = func(part, **_slice_tables(kw, part.index, full_len, tables))
    gpos = positions(pos, len(part))
    if kind == "pairs":
        return res.assign(_agf_l=gpos[_id_positions(res, part, "left")])
    if kind in ("report", "repair"):
        report = res[1] if kind == "repair" else res
        f = report.findings.copy()
        if not len(f):
            return (res[0] if kind == "repair" else part.index, f)
        local = f["position"].to_numpy(dtype=float, na_value=np.nan)
        glob = np.full(local.size, -1, dtype=np.int64)
        ok = ~np.isnan(local)
        glob[ok] = gpos[local[ok].astype(np.int64)]
        f["position"] = pd.array(np.where(ok, glob, 0), dtype="Int64")
        f.loc[~ok, "position"] = pd.NA
        return (res[0] if kind == "repair" else part.index, f)
    return res


# ---------------------------------------------------------------- running a task
def execute(
    task: Callable[..., Any],
    *args: Any,
    p: int,
    ckpt: str | None,
    meta: dict[str, Any] | None = None,
) -> tuple[Any, list[tuple[type[Warning], str]]]:
    """Run a task, keep its warnings (re-issued by the client), write its checkpoint."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = task(*args)
    if ckpt is not None:
        write_checkpoint(Path(ckpt), p, res, meta or {})
    return res, [(w.category, str(w.message)) for w in caught]


# ---------------------------------------------------------------- layers read on the workers
_PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")


def slice_specs(path: str, target_rows: int, layer: str | int | None) -> list[tuple[Any, ...]]:
    """Cut a file into slices of about ``target_rows`` features, without reading geometries.

    GeoParquet: runs of whole row groups, ``("parquet", groups, first_row)``;
    other formats (GeoPackage, FlatGeobuf, Shapefile ...):
    ``("ogr", skip_features, max_features)``.
    """
    if path.lower().endswith(_PARQUET_SUFFIXES):
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        specs: list[tuple[Any, ...]] = []
        groups: list[int] = []
        start = rows = 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            rows += meta.row_group(g).num_rows
            if rows >= target_rows:
                specs.append(("parquet", groups, start))
                start, groups, rows = start + rows, [], 0
        if groups:
            specs.append(("parquet", groups, start))
        return specs
    import pyogrio

    n = int(pyogrio.read_info(path, layer=layer)["features"])
    if n < 0:  # pragma: no cover - drivers that cannot count without reading
        raise ValueError(f"cannot count the features of {path}; convert it to GeoParquet")
    return [("ogr", a, min(target_rows, n - a)) for a in range(0, max(n, 1), target_rows)]


def read_slice(
    path: str, spec: tuple[Any, ...], layer: str | int | None, reader: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Read one slice of a file on a worker, with the index ``read_layer`` gives the whole file."""
    if spec[0] == "parquet":
        import json

        import pyarrow.parquet as pq
        from geopandas.io.arrow import _arrow_to_geopandas

        pf = pq.ParquetFile(path)
        table = pf.read_row_groups(spec[1])
        meta = pf.schema_arrow.metadata or {}
        geo = json.loads(meta[b"geo"]) if b"geo" in meta else None
        gdf = _arrow_to_geopandas(table, geo)
        pandas_meta = json.loads(meta.get(b"pandas", b"{}"))
        index_cols = pandas_meta.get("index_columns", [])
        rng = index_cols[0] if index_cols and isinstance(index_cols[0], dict) else None
        if not index_cols or (rng is not None and rng.get("kind") == "range"):
            first, step = (int(rng["start"]), int(rng["step"])) if rng else (0, 1)
            start = first + step * int(spec[2])
            gdf.index = pd.RangeIndex(start, start + step * len(gdf), step, name=gdf.index.name)
    else:
        import pyogrio

        gdf = pyogrio.read_dataframe(
            path, layer=layer, skip_features=int(spec[1]), max_features=int(spec[2])
        )
        gdf.index = pd.RangeIndex(int(spec[1]), int(spec[1]) + len(gdf))
    if reader.get("kind") is not None:
        from ..io import read_layer

        gdf = read_layer(
            gdf,
            reader["kind"],
            id_column=reader.get("id_column"),
            columns=reader.get("columns"),
            crs=reader.get("crs"),
        )
    elif gdf.crs is None and reader.get("crs") is not None:
        gdf = gdf.set_crs(reader["crs"])
    return gdf


def bounds(part: gpd.GeoDataFrame) -> np.ndarray:
    """Bounding boxes of a slice's features (NaN for empty or missing geometries)."""
    import shapely

    return np.asarray(shapely.bounds(np.asarray(part.geometry.array, dtype=object)))


def take(part: gpd.GeoDataFrame, rows: np.ndarray) -> gpd.GeoDataFrame:
    """Rows of a slice going to one partition."""
    return part.iloc[rows]


def assemble(*pieces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One partition from its pieces of every slice (already in the file's order)."""
    return pd.concat(pieces) if len(pieces) > 1 else pieces[0]

"""Checkpoints of a distributed run: Parquet and JSON only, each tied to what it was computed from.

A checkpoint directory holds ``manifest.json`` (the run: function, partitioning,
a digest of the arguments, of the raster inputs and of the layer's geometries)
and, per finished partition, its result (``part-00003.parquet``, ...) beside
``part-00003.json`` (the digests of that partition's geometries and of the
arguments). Nothing is unpickled: a crafted file in the directory can at worst
fail to parse. A run whose arguments, rasters (size, modification time) or
geometries differ from the stored ones raises
:class:`~agroforest_geo.errors.AgroforestGeoError` naming what differs, never
returns the stored results.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._atomic import atomic_write
from ..errors import AgroforestGeoError

__all__ = [
    "arguments_digest",
    "check_manifest",
    "partition_digest",
    "read_checkpoint",
    "write_checkpoint",
]

_UNNAMED = "__unnamed__"
_FORMAT = 2  # version of the directory layout


def _stat(path: str) -> dict[str, Any]:
    """Size and modification time of a local file (and of the local sources of a VRT)."""
    p = Path(path)
    if not p.is_file():
        return {"path": str(path)}
    st = p.stat()
    out: dict[str, Any] = {"path": str(p.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if p.suffix.lower() == ".vrt":
        import xml.etree.ElementTree as ET

        try:
            root = ET.parse(p).getroot()
        except ET.ParseError:
            return out
        srcs = []
        for el in root.iter("SourceFilename"):
            src = (el.text or "").strip()
            rel = el.get("relativeToVRT", "0") == "1"
            srcs.append(_stat(str(p.parent / src) if rel else src))
        out["sources"] = srcs
    return out


def _frame_digest(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    geo = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    plain = df.drop(columns=[geo]) if geo else df
    try:
        h.update(pd.util.hash_pandas_object(plain, index=True).to_numpy().tobytes())
    except TypeError:  # unhashable cells (lists, dicts): their text stands for them
        h.update(plain.astype(str).to_csv().encode())
    h.update(str(list(plain.columns)).encode())
    if geo:
        h.update(_wkb_digest(np.asarray(df.geometry.values, dtype=object)).encode())
    return h.hexdigest()


def _wkb_digest(geoms: np.ndarray) -> str:
    h = hashlib.sha256()
    for w in shapely.to_wkb(geoms, hex=False):
        h.update(b"\x00" if w is None else w)
        h.update(b"|")
    return h.hexdigest()


def _value(key: str, v: Any, raster_args: frozenset[str]) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        if key in raster_args and isinstance(v, str):
            return _stat(v)
        return v
    if isinstance(v, os.PathLike):
        return _stat(os.fspath(v)) if key in raster_args else os.fspath(v)
    if isinstance(v, pd.DataFrame):
        return {"table": _frame_digest(v), "rows": len(v)}
    if isinstance(v, pd.Series):
        return {"series": _frame_digest(v.to_frame()), "rows": len(v)}
    if isinstance(v, dict):
        return {str(k): _value(str(k), x, raster_args) for k, x in sorted(v.items(), key=str)}
    if isinstance(v, list | tuple):
        return [_value(key, x, raster_args) for x in v]
    if callable(v):
        return f"{getattr(v, '__module__', '')}.{getattr(v, '__qualname__', repr(v))}"
    if hasattr(v, "name") and hasattr(v, "read"):  # an open rasterio dataset
        return _stat(str(v.name))
    return repr(v)


def arguments_digest(kw: dict[str, Any], raster_args: frozenset[str]) -> dict[str, Any]:
    """Describe the verb's arguments: values, table digests, raster files' size and mtime."""
    return {k: _value(k, v, raster_args) for k, v in sorted(kw.items())}


def partition_digest(part: gpd.GeoDataFrame | gpd.GeoSeries) -> str:
    """Digest of a partition: its index, geometries (WKB) and attribute values."""
    frame = part if isinstance(part, pd.DataFrame) else gpd.GeoDataFrame(geometry=part)
    return _frame_digest(frame)


def check_manifest(directory: Path, info: dict[str, Any]) -> None:
    """Write the run's manifest, or raise naming what differs from the stored one."""
    path = directory / "manifest.json"
    if not path.exists():
        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps({"format": _FORMAT, **info}, indent=1), encoding="utf-8")
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AgroforestGeoError(
            f"checkpoint_dir {directory}: manifest.json is unreadable ({exc}); pass a new "
            "checkpoint_dir or delete it"
        ) from exc
    new = {"format": _FORMAT, **json.loads(json.dumps(info))}
    if old != new:
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        raise AgroforestGeoError(
            f"checkpoint_dir {directory} holds partitions of another run "
            f"({old.get('function')} on {old.get('n_rows')} rows in "
            f"{old.get('npartitions')} partitions); it differs in {keys}. Its results are not "
            "used: pass a new checkpoint_dir or delete it"
        )


def _result_paths(directory: Path, p: int) -> dict[str, Path]:
    stem = f"part-{p:05d}"
    return {
        "meta": directory / f"{stem}.json",
        "geoparquet": directory / f"{stem}.geoparquet",
        "parquet": directory / f"{stem}.parquet",
        "series": directory / f"{stem}.series.parquet",
        "index": directory / f"{stem}.index.parquet",
        "rows": directory / f"{stem}.rows.geoparquet",
        "findings": directory / f"{stem}.findings.parquet",
        "json": directory / f"{stem}.value.json",
    }


def _atomic(path: Path, write: Any) -> None:
    with atomic_write(path) as tmp:
        write(tmp)


def _write_table(path: Path, table: pd.DataFrame | pd.Series) -> None:
    if isinstance(table, pd.Series):
        name = _UNNAMED if table.name is None else str(table.name)
        _atomic(path, lambda t: table.to_frame(name=name).to_parquet(t))
    else:
        _atomic(path, lambda t: table.to_parquet(t))


def write_checkpoint(directory: Path, p: int, result: Any, meta: dict[str, Any]) -> None:
    """Store one partition's result (Parquet, or JSON for plain values) and its digests.

    The digests file is written last, so a killed write leaves no usable checkpoint.
    A result that is neither a table nor plain JSON is not stored (it is recomputed).
    """
    paths = _result_paths(directory, p)
    extra: dict[str, Any] = {}
    if isinstance(result, gpd.GeoDataFrame):
        kind = "geoparquet"
        _write_table(paths[kind], result)
    elif isinstance(result, pd.DataFrame):
        kind = "parquet"
        _write_table(paths[kind], result)
    elif isinstance(result, pd.Series) and not isinstance(result, gpd.GeoSeries):
        kind = "series"
        _write_table(paths[kind], result)
    elif isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], pd.DataFrame):
        # (index or repaired rows, findings) of validate / repair
        first, findings = result
        if isinstance(first, pd.Index):
            kind = "report"
            extra["index_name"] = first.name
            _write_table(paths["index"], pd.DataFrame({"index": first.to_numpy(dtype=object)}))
        else:
            kind = "repair"
            _write_table(paths["rows"], first)
        _write_table(paths["findings"], findings)
    else:
        try:
            text = json.dumps(result)
        except (TypeError, ValueError):
            return  # not storable without pickle: recomputed on the next run
        kind = "json"
        _atomic(paths[kind], lambda t: t.write_text(text, encoding="utf-8"))
    body = json.dumps({**meta, "kind": kind, **extra})
    _atomic(paths["meta"], lambda t: t.write_text(body, encoding="utf-8"))


def read_checkpoint(directory: Path, p: int, meta: dict[str, Any]) -> Any | None:
    """Return the stored result of partition ``p``, None when there is none.

    Raises :class:`AgroforestGeoError` when the stored digests differ from ``meta``
    (other geometries or arguments): stale results are never returned.
    """
    paths = _result_paths(directory, p)
    if not paths["meta"].exists():
        return None
    try:
        stored = json.loads(paths["meta"].read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AgroforestGeoError(f"checkpoint {paths['meta']} is unreadable ({exc})") from exc
    kind = stored.pop("kind", None) if isinstance(stored, dict) else None
    index_name = stored.pop("index_name", None) if isinstance(stored, dict) else None
    if stored != json.loads(json.dumps(meta)):
        what = sorted(k for k in set(stored) | set(meta) if stored.get(k) != meta.get(k))
        raise AgroforestGeoError(
            f"checkpoint of partition {p} in {directory} was computed from other {what} "
            "(edited parcels or other arguments); pass a new checkpoint_dir or delete it"
        )
    needed = {"report": ("index", "findings"), "repair": ("rows", "findings")}.get(
        str(kind), (str(kind),)
    )
    if not all(k in paths and paths[k].exists() for k in needed):
        return None  # the result file is gone: recompute the partition
    if kind == "geoparquet":
        return gpd.read_parquet(paths[kind])
    if kind == "parquet":
        return pd.read_parquet(paths[kind])
    if kind == "series":
        frame = pd.read_parquet(paths[kind])
        col = frame.columns[0]
        return frame[col].rename(None if col == _UNNAMED else col)
    if kind == "report":
        labels = pd.read_parquet(paths["index"])["index"]
        index = pd.Index(labels.to_numpy(dtype=object), name=index_name)
        return index.infer_objects(), pd.read_parquet(paths["findings"])
    if kind == "repair":
        return gpd.read_parquet(paths["rows"]), pd.read_parquet(paths["findings"])
    if kind == "json":
        return json.loads(paths[kind].read_text(encoding="utf-8"))
    raise AgroforestGeoError(f"checkpoint {paths['meta']} names an unknown kind {kind!r}")

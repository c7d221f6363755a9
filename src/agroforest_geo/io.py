"""Reading parcels, agroforestry plots and protected areas; writing result tables.

Inputs are normalised once, here: a path (anything pyogrio reads, GeoParquet, or
a CSV with longitude/latitude columns) or an existing GeoDataFrame comes in; a
GeoDataFrame with the layer's canonical column names, string ids and a CRS goes out.
Ids are kept as given (as strings), never renumbered; rows keep the file's order on
a fresh ``RangeIndex`` (or the GeoDataFrame's own index).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import pyogrio

from ._antimeridian import cut_layer_at_antimeridian
from ._network import check_source, is_remote, vector_env
from .crs import norm_crs
from .errors import InputNotFoundError, MissingColumnError, MissingCRSError, UnreadableInputError

__all__ = [
    "LAYER_SCHEMAS",
    "LayerSchema",
    "read_layer",
    "read_parcels",
    "read_plots",
    "read_protected_areas",
    "read_raw",
    "write_table",
]

PathLike = str | os.PathLike[str]
LayerKind = Literal["parcels", "plots", "protected_areas"]


@dataclass(frozen=True)
class LayerSchema:
    """Columns of one kind of layer: the id, the other required and the optional ones."""

    kind: str
    id_column: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    geometry_types: tuple[str, ...]


#: The data model. Later modules rely on these names.
LAYER_SCHEMAS: dict[str, LayerSchema] = {
    "parcels": LayerSchema(
        "parcels",
        "parcel_id",
        (),
        ("member_id", "province", "district", "declared_area_ha", "crop"),
        ("Polygon", "MultiPolygon", "Point"),  # a point: a plot of up to 4 ha (EUDR)
    ),
    "plots": LayerSchema(
        "plots",
        "plot_id",
        ("parcel_id", "system"),
        ("planting_year", "trees_planted", "species"),
        ("Polygon", "MultiPolygon", "Point"),
    ),
    "protected_areas": LayerSchema(
        "protected_areas",
        "area_id",
        ("name", "category"),
        ("designated_year",),
        ("Polygon", "MultiPolygon"),
    ),
}

_LON_NAMES = ("longitude", "lon", "long", "lng", "x")
_LAT_NAMES = ("latitude", "lat", "y")
_STRING_COLUMNS = {"parcel_id", "plot_id", "area_id", "member_id"}


def read_raw(
    source: PathLike,
    *,
    layer: str | int | None = None,
    crs: Any = None,
    allow_network: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read any vector file as stored: no schema, no CRS requirement.

    For inspection and validation of files that :func:`read_layer` would refuse
    (no CRS, missing columns). CSV with longitude/latitude gives points (EPSG:4326
    unless ``crs`` is given). ``allow_network`` as for :func:`read_layer`.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> raw = read_raw(agf.datasets.get_path("parcels_messy"))
    >>> "defect" in raw.columns
    True
    """
    return _read_path(_as_path(source), layer, crs, allow_network)


def _as_path(source: PathLike) -> Path | str:
    """Return a local path as ``Path``, a network path as text (``Path`` folds ``//``)."""
    return source if isinstance(source, str) and is_remote(source) else Path(source)


def _read_path(
    path: Path | str, layer: str | int | None, crs: Any, allow_network: bool | None = None
) -> gpd.GeoDataFrame:
    check_source(path, what="input", allow=allow_network)  # network paths, VRT sources
    if isinstance(path, str):  # a network path, allowed
        with vector_env(allow_network):
            return gpd.read_file(path, layer=layer, engine="pyogrio")
    if not path.exists():
        raise InputNotFoundError(
            f"{path} does not exist; check the path (relative to {Path.cwd()})"
        )
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".geoparquet"}:
        try:
            return gpd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types
            raise UnreadableInputError(
                f"cannot read {path} as GeoParquet ({exc}); is it a GeoParquet file?"
            ) from exc
    if suffix in {".csv", ".txt"}:
        return _read_csv(path, crs)
    try:
        with vector_env(allow_network):
            return gpd.read_file(path, layer=layer, engine="pyogrio")
    except pyogrio.errors.DataLayerError as exc:
        try:
            layers = [name for name, _ in pyogrio.list_layers(path)]
        except pyogrio.errors.DataSourceError:  # only used to improve the message
            layers = []
        raise UnreadableInputError(
            f"cannot read layer {layer!r} of {path}: {exc}. Layers in the file: {layers}; "
            "pass one of them as layer=..."
        ) from exc
    except pyogrio.errors.DataSourceError as exc:
        raise UnreadableInputError(
            f"cannot read {path}: {exc}. Supported: GeoPackage, GeoJSON, Shapefile, FlatGeobuf, "
            "KML and the other OGR formats, GeoParquet (.parquet), CSV with longitude/latitude."
        ) from exc


def _read_csv(path: Path, crs: Any) -> gpd.GeoDataFrame:
    df = pd.read_csv(path)
    lower = {c.lower(): c for c in df.columns}
    lon = next((lower[n] for n in _LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in _LAT_NAMES if n in lower), None)
    if lon is None or lat is None:
        raise MissingColumnError(
            f"{path} has no coordinate columns: expected one of {_LON_NAMES} and one of "
            f"{_LAT_NAMES}; it has {list(df.columns)}. Rename the columns (or export points "
            "from a GIS as GeoPackage)."
        )
    geom = gpd.points_from_xy(df[lon], df[lat])
    return gpd.GeoDataFrame(
        df.drop(columns=[lon, lat]), geometry=geom, crs=crs if crs is not None else "EPSG:4326"
    )


def read_layer(
    source: PathLike | gpd.GeoDataFrame,
    kind: LayerKind,
    *,
    layer: str | int | None = None,
    id_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    allow_network: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read a parcels, plots or protected-areas layer and normalise its columns.

    Parameters
    ----------
    source : path or GeoDataFrame
        Any format pyogrio reads, GeoParquet, a CSV with longitude/latitude
        columns (gives points), or a GeoDataFrame (copied, never modified).
    kind : {"parcels", "plots", "protected_areas"}
        Which schema of :data:`LAYER_SCHEMAS` applies.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage).
    id_column : str, optional
        Column that holds the feature id; renamed to the schema's id name.
    columns : mapping, optional
        Other renames, ``{"ID_PARCELA": "parcel_id", "PROV": "province"}``.
    crs : CRS-like, optional
        CRS to assign when the source has none (CSV defaults to EPSG:4326).
        It never reprojects: use ``gdf.to_crs`` for that.
    allow_network : bool, optional
        Network access is off by default (inputs are untrusted): network paths
        (``https://``, ``/vsicurl/`` ...) are refused and GDAL makes no request
        of its own (e.g. for a GeoJSON whose CRS is a link). ``True`` allows it;
        None follows :func:`agroforest_geo.allow_network` (off unless inside it).
        A VRT input may only read existing local files. See the Security page.

    Returns
    -------
    GeoDataFrame

    Raises
    ------
    InputNotFoundError, UnreadableInputError, MissingColumnError, MissingCRSError

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> pa = read_layer(agf.datasets.get_path("protected_areas"), "protected_areas")
    >>> {"area_id", "name", "category"} <= set(pa.columns)
    True
    """
    if kind not in LAYER_SCHEMAS:
        raise ValueError(f"kind must be one of {sorted(LAYER_SCHEMAS)}, got {kind!r}")
    schema = LAYER_SCHEMAS[kind]
    if isinstance(source, gpd.GeoDataFrame):
        gdf = source.copy()
        if gdf.crs is None and crs is not None:
            gdf = gdf.set_crs(crs)
    elif isinstance(source, pd.DataFrame):
        raise TypeError(
            "source is a DataFrame without geometry; build a GeoDataFrame first, e.g. "
            "gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)"
        )
    else:
        gdf = _read_path(_as_path(source), layer, crs, allow_network)
        if gdf.crs is None and crs is not None:
            gdf = gdf.set_crs(norm_crs(crs))
    renames = dict(columns or {})
    if id_column is not None and id_column != schema.id_column:
        renames[id_column] = schema.id_column
    missing_src = [c for c in renames if c not in gdf.columns]
    if missing_src:
        raise MissingColumnError(
            f"column(s) {missing_src} not found in the {kind} layer; its columns are "
            f"{[c for c in gdf.columns if c != gdf.geometry.name]}"
        )
    gdf = gdf.rename(columns=renames)
    needed = (schema.id_column, *schema.required)
    absent = [c for c in needed if c not in gdf.columns]
    if absent:
        have = [c for c in gdf.columns if c != gdf.geometry.name]
        raise MissingColumnError(
            f"the {kind} layer lacks required column(s) {absent}; its columns are {have}. "
            f"Map yours with columns={{'YOUR_NAME': '{absent[0]}'}} "
            f"(or id_column='YOUR_ID' for the id)."
        )
    if gdf.crs is None:
        raise MissingCRSError(
            f"the {kind} layer has no CRS; pass crs='EPSG:4326' (longitude/latitude) or the "
            "EPSG code of its projection, or fix the file (a Shapefile needs its .prj)"
        )
    for col in _STRING_COLUMNS & set(gdf.columns):
        gdf[col] = _as_id_strings(gdf[col])
    if kind == "plots" and "parcel_id" in gdf.columns:
        gdf["parcel_id"] = _as_id_strings(gdf["parcel_id"])
    return cut_layer_at_antimeridian(gdf)


def _as_id_strings(s: pd.Series) -> pd.Series:
    """Ids as strings, kept as given; integers stored as floats lose their '.0'."""
    if pd.api.types.is_float_dtype(s) and (s.dropna() % 1 == 0).all():
        s = s.astype("Int64")
    out = s.astype("string")
    return out.astype(object).where(out.notna(), None)


def read_parcels(
    source: PathLike | gpd.GeoDataFrame,
    *,
    layer: str | int | None = None,
    id_column: str = "parcel_id",
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    allow_network: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read member parcels: ``parcel_id`` and optional ``member_id``, ``province``, ...

    See :func:`read_layer` for the parameters. Geometries are not validated here;
    run :func:`agroforest_geo.validate` / :func:`agroforest_geo.repair`.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> parcels["parcel_id"].is_unique, parcels.crs.to_epsg()
    (True, 4326)
    """
    return read_layer(
        source,
        "parcels",
        layer=layer,
        id_column=id_column,
        columns=columns,
        crs=crs,
        allow_network=allow_network,
    )


def read_plots(
    source: PathLike | gpd.GeoDataFrame,
    *,
    layer: str | int | None = None,
    id_column: str = "plot_id",
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    allow_network: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read agroforestry plots: ``plot_id``, parent ``parcel_id``, ``system``, ...

    A CSV with longitude/latitude columns gives point plots.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> sorted(plots["system"].unique())[:2]
    ['cocoa_agroforestry', 'forest_reserve']
    """
    return read_layer(
        source,
        "plots",
        layer=layer,
        id_column=id_column,
        columns=columns,
        crs=crs,
        allow_network=allow_network,
    )


def read_protected_areas(
    source: PathLike | gpd.GeoDataFrame,
    *,
    layer: str | int | None = None,
    id_column: str = "area_id",
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    allow_network: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read protected / REDD+ areas: ``area_id``, ``name``, ``category``, ...

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> pa = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    >>> "redd_plus" in set(pa["category"])
    True
    """
    return read_layer(
        source,
        "protected_areas",
        layer=layer,
        id_column=id_column,
        columns=columns,
        crs=crs,
        allow_network=allow_network,
    )


def write_table(table: pd.DataFrame, path: PathLike) -> Path:
    """Write a result table; the format follows the file extension.

    ``.csv`` (geometry as WKT), ``.gpkg``, ``.parquet``/``.geoparquet``,
    ``.geojson``/``.json`` (GeoJSON needs geometries), ``.fgb``.

    Examples
    --------
    >>> import tempfile, pandas as pd, pathlib
    >>> out = write_table(pd.DataFrame({"a": [1]}), pathlib.Path(tempfile.mkdtemp()) / "t.csv")
    >>> out.read_text().splitlines()
    ['a', '1']
    """
    p = Path(path)
    suffix = p.suffix.lower()
    p.parent.mkdir(parents=True, exist_ok=True)
    is_geo = isinstance(table, gpd.GeoDataFrame) and table.geometry.name in table.columns
    if suffix == ".csv":
        out = pd.DataFrame(table).copy()
        if is_geo:
            gname = table.geometry.name
            out[gname] = table.geometry.to_wkt()
        out.to_csv(p, index=False)
    elif suffix in {".parquet", ".geoparquet"}:
        table.to_parquet(p)
    elif suffix in {".gpkg", ".geojson", ".json", ".fgb"}:
        if not is_geo:
            raise UnreadableInputError(
                f"{p.name}: {suffix} needs geometries and this table has none; use .csv or .parquet"
            )
        driver = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".fgb": "FlatGeobuf"}
        gpd.GeoDataFrame(table).to_file(p, driver=driver[suffix], engine="pyogrio")
    else:
        raise UnreadableInputError(
            f"cannot write {p.name}: unknown extension {suffix!r}; use .csv, .gpkg, .parquet, "
            ".geojson or .fgb"
        )
    return p

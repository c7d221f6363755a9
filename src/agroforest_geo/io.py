"""Reading parcels, agroforestry plots and protected areas; writing result tables.

Inputs are normalised once, here: a path (anything pyogrio reads, GeoParquet, a
CSV or Excel table with coordinates or a geometry column) or an existing
GeoDataFrame comes in; a GeoDataFrame with the layer's canonical column names,
string ids and a CRS goes out. Ids are kept as given (as strings), never
renumbered; rows keep the file's order on a fresh ``RangeIndex`` (or the
GeoDataFrame's own index). Columns named as field teams name them (Spanish,
Portuguese, French, English: :data:`COLUMN_ALIASES`) are recognised, never
guessed between. Files are written whole or not at all (a temporary file moved
into place).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from ._antimeridian import cut_layer_at_antimeridian
from ._atomic import atomic_write
from ._intake import warn_about
from ._mapping import (
    LAYER_SCHEMAS,
    LayerSchema,
    explicit_renames,
    generated_area_ids,
    map_columns,
    renamed,
    require_columns,
    sernanp_acr_category,
)
from ._names import COLUMN_ALIASES
from ._network import allow_network as network_policy
from ._network import check_source, is_remote, vector_env
from ._tables import TABLE_SUFFIXES, escape_formulas, read_table, table_columns
from .crs import norm_crs
from .errors import (
    AgroforestGeoError,
    CRSMismatchError,
    InputNotFoundError,
    MissingColumnError,
    MissingCRSError,
    UnreadableInputError,
)

log = logging.getLogger(__name__)

__all__ = [
    "COLUMN_ALIASES",
    "LAYER_SCHEMAS",
    "LayerSchema",
    "column_names",
    "concat_layers",
    "read_layer",
    "read_parcels",
    "read_plots",
    "read_protected_areas",
    "read_raw",
    "write_table",
]

PathLike = str | os.PathLike[str]
LayerKind = Literal["parcels", "plots", "protected_areas"]


#: the column naming the file of each feature when several layers are read as one
SOURCE_COLUMN = "source_file"


def read_raw(
    source: PathLike,
    *,
    layer: str | int | None = None,
    crs: Any = None,
    kind: LayerKind | None = None,
    id_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    allow_network: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read any vector file as stored: no required columns, no CRS requirement.

    For inspection and validation of files that :func:`read_layer` would refuse
    (no CRS, missing columns); ``crs`` is assigned to a layer that has none.
    Tables (CSV, Excel) are read as
    :func:`read_layer` reads them. With ``kind``, the columns are mapped to the
    data model as :func:`read_layer` maps them (``id_column``, ``columns`` and the
    common names of :data:`COLUMN_ALIASES`), without refusing what is missing;
    without it only ``columns`` renames. ``allow_network`` as for :func:`read_layer`.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> raw = read_raw(agf.datasets.get_path("parcels_messy"))
    >>> "defect" in raw.columns
    True
    """
    if allow_network is not None:
        with network_policy(allow_network):
            options = {"layer": layer, "crs": crs, "id_column": id_column, "columns": columns}
            return read_raw(source, kind=kind, **options)
    path = Path(source)
    gdf = _read_path(_as_path(source), layer, crs, columns, kind or "")
    if gdf.crs is None and crs is not None:
        gdf = gdf.set_crs(norm_crs(crs))
    if kind is not None:
        out = map_columns(gdf, kind, id_column, columns, path.suffix.lower())
        warn_about(out, kind, source=source, stacklevel=2)
        return out
    renames = explicit_renames(gdf, columns, kind="", id_column=None, target_id=None)
    out = renamed(gdf, renames, {}, "layer")
    if id_column is not None and id_column not in out.columns:
        have = [c for c in out.columns if c != out.geometry.name]
        exc = MissingColumnError(
            f"id_column {id_column!r} is not a column of the layer; its columns are {have}"
        )
        exc.cli_message = (
            f"--id-column {id_column}: not a column of the layer; its columns are {have}"
        )
        raise exc
    warn_about(out, None, source=source, stacklevel=2)
    return out


def column_names(source: PathLike, *, layer: str | int | None = None) -> list[str]:
    """Return the attribute column names of a file without reading its features.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> column_names(agf.datasets.get_path("protected_areas"))
    ['area_id', 'name', 'category', 'designated_year']
    """
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return table_columns(path, layer)
    if suffix in {".parquet", ".geoparquet"}:
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        geo = json.loads((schema.metadata or {}).get(b"geo", b"{}"))
        skip = {*geo.get("columns", {}), "__index_level_0__"}
        return [n for n in schema.names if n not in skip]
    info = pyogrio.read_info(path, layer=layer)
    return [str(f) for f in info["fields"]]


def _as_path(source: PathLike) -> Path | str:
    """Return a local path as ``Path``, a network path as text (``Path`` folds ``//``)."""
    return source if isinstance(source, str) and is_remote(source) else Path(source)


def _read_path(
    path: Path | str,
    layer: str | int | None,
    crs: Any,
    columns: Mapping[str, str] | None = None,
    kind: str = "",
) -> gpd.GeoDataFrame:
    check_source(path, what="input")  # network paths while network access is off, VRTs
    if isinstance(path, str):  # a network path, allowed
        with vector_env():
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
    if suffix in TABLE_SUFFIXES:
        return read_table(path, sheet=layer, crs=crs, columns=columns, kind=kind)
    if suffix == ".xls":
        raise UnreadableInputError(
            f"{path.name} is an old Excel (.xls) workbook; save it as .xlsx or .csv"
        )
    try:
        with vector_env():  # no request of GDAL's own (e.g. a GeoJSON's linked CRS)
            return gpd.read_file(path, layer=layer, engine="pyogrio")
    except pyogrio.errors.DataLayerError as exc:
        try:
            layers = [name for name, _ in pyogrio.list_layers(path)]
        except pyogrio.errors.DataSourceError:  # only used to improve the message
            layers = []
        err = UnreadableInputError(
            f"cannot read layer {layer!r} of {path}: {exc}. Layers in the file: {layers}; "
            "pass one of them as layer=..."
        )
        err.cli_message = (
            f"cannot read layer {layer!r} of {path}: {exc}. Layers in the file: {layers}; "
            "pass one of them with --layer NAME"
        )
        raise err from exc
    except pyogrio.errors.DataSourceError as exc:
        raise UnreadableInputError(
            f"cannot read {path}: {exc}. Supported: GeoPackage, GeoJSON, Shapefile, FlatGeobuf, "
            "KML/KMZ and the other OGR formats, GeoParquet (.parquet), CSV and Excel (.xlsx) "
            "tables with coordinates or a geometry column."
        ) from exc


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

    Columns are mapped to the data model in three steps: ``columns`` and
    ``id_column`` as given; then, for each schema column still absent, the one
    column bearing one of its common names in :data:`COLUMN_ALIASES` (``codigo``,
    ``id_parcela``, ``productor``, ``anp_nombre``, ...). Two candidates for one
    column stop the read (:class:`~agroforest_geo.AmbiguousColumnError`) with both
    named: it never guesses. Every rename is logged and kept in
    ``gdf.attrs["column_mapping"]`` (``{file column: model column}``).

    Parameters
    ----------
    source : path or GeoDataFrame
        Any format pyogrio reads (GeoPackage, GeoJSON, Shapefile, KML/KMZ, ...),
        GeoParquet, a CSV or Excel table with coordinate columns or a geometry
        column (see *Tables* below), or a GeoDataFrame (copied, never modified).
    kind : {"parcels", "plots", "protected_areas"}
        Which schema of :data:`LAYER_SCHEMAS` applies.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage), sheet of a workbook.
    id_column : str, optional
        Column that holds the feature id; renamed to the schema's id name.
    columns : mapping, optional
        Other renames, ``{"ID_PARCELA": "parcel_id", "PROV": "province"}``; in a table,
        ``{"Este": "x", "Norte": "y"}`` or ``{"poligono": "geometry"}`` pick the geometry.
    crs : CRS-like, optional
        CRS to assign when the source has none; required for projected coordinates
        in a table (``Este``/``Norte``). It never reprojects: use ``gdf.to_crs`` for that.
    allow_network : bool, optional
        Network access is off by default (inputs are untrusted): network paths
        (``https://``, ``/vsicurl/`` ...) are refused and GDAL makes no request
        of its own (e.g. for a GeoJSON whose CRS is a link). ``True`` allows it;
        None follows :func:`agroforest_geo.allow_network` (off unless inside it).
        A VRT input may only read existing local files. See the Security page.
        Polygons across the antimeridian are cut at ±180° (RFC 7946 §3.1.9).

    Returns
    -------
    GeoDataFrame

    Raises
    ------
    InputNotFoundError, UnreadableInputError, MissingColumnError, AmbiguousColumnError,
    MissingCRSError

    Notes
    -----
    *Tables.* Every cell is read as text, so ids keep their leading zeros and all
    their digits; only the schema's number columns (``declared_area_ha``,
    ``planting_year``, ``trees_planted``, ``designated_year``) and the coordinates
    become numbers, with a decimal point or a decimal comma. The separator is
    sniffed (``,`` ``;`` tab). Geometry comes from longitude/latitude (EPSG:4326),
    ``Este``/``Norte`` (give ``crs``), a WKT or GeoJSON column, TerraTrac's
    ``polygon`` column or ODK/KoboToolbox geopoint/geotrace/geoshape strings.

    A protected-areas layer without an id column (agency files often have none)
    gets ``area_id`` = ``<file name>-<row number from 1>``.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> pa = read_layer(agf.datasets.get_path("protected_areas"), "protected_areas")
    >>> {"area_id", "name", "category"} <= set(pa.columns)
    True
    """
    if kind not in LAYER_SCHEMAS:
        raise ValueError(f"kind must be one of {sorted(LAYER_SCHEMAS)}, got {kind!r}")
    if allow_network is not None:
        with network_policy(allow_network):
            options = {"layer": layer, "id_column": id_column, "columns": columns, "crs": crs}
            return read_layer(source, kind, **options)
    schema = LAYER_SCHEMAS[kind]
    if id_column == schema.id_column:
        id_column = None  # the model's own name: found as such, or under a common name
    suffix = ""
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
        path = Path(source)
        suffix = path.suffix.lower()
        gdf = _read_path(_as_path(source), layer, crs, columns, kind)
        if gdf.crs is None and crs is not None:
            gdf = gdf.set_crs(norm_crs(crs))
        if kind == "protected_areas":
            gdf = generated_area_ids(gdf, path, id_column, columns)
    if kind == "protected_areas":
        gdf = sernanp_acr_category(gdf, columns)
    gdf = map_columns(gdf, kind, id_column, columns, suffix)
    require_columns(gdf, kind, schema)
    if gdf.crs is None:
        exc = MissingCRSError(
            f"the {kind} layer has no CRS; pass crs='EPSG:4326' (longitude/latitude) or the "
            "EPSG code of its projection, or fix the file (a Shapefile needs its .prj)"
        )
        exc.cli_message = (
            f"the {kind} layer has no CRS; pass --crs EPSG:4326 (longitude/latitude) or the "
            "EPSG code of its projection, or fix the file (a Shapefile needs its .prj)"
        )
        raise exc
    warn_about(gdf, kind, source=source, stacklevel=3)
    return cut_layer_at_antimeridian(gdf)


def read_parcels(
    source: PathLike | gpd.GeoDataFrame,
    *,
    layer: str | int | None = None,
    id_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    allow_network: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read member parcels: ``parcel_id`` and optional ``member_id``, ``province``, ...

    See :func:`read_layer` for the parameters, the formats and how columns are
    recognised. Geometries are not validated here; run
    :func:`agroforest_geo.validate` / :func:`agroforest_geo.repair`.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> parcels["parcel_id"].is_unique, parcels.crs.to_epsg()
    (True, 4326)

    A cooperative's spreadsheet of GPS points (``;``, decimal commas, Spanish names):

    >>> pts = agf.read_parcels(agf.datasets.get_path("gps_points_es"))
    >>> pts["parcel_id"].iloc[0], pts.attrs["column_mapping"]["codigo"]
    ('000006', 'parcel_id')
    >>> float(pts["declared_area_ha"].iloc[0]), pts.geometry.iloc[0].x
    (3.65, -76.733724)
    """
    options = {"layer": layer, "id_column": id_column, "columns": columns, "crs": crs}
    return read_layer(source, "parcels", allow_network=allow_network, **options)


def read_plots(
    source: PathLike | gpd.GeoDataFrame,
    *,
    layer: str | int | None = None,
    id_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    allow_network: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read agroforestry plots: ``plot_id``, parent ``parcel_id``, ``system``, ...

    A CSV with longitude/latitude columns gives point plots. See :func:`read_layer`.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> plots = agf.read_plots(agf.datasets.get_path("plots"))
    >>> sorted(plots["system"].unique())[:2]
    ['cocoa_agroforestry', 'forest_reserve']
    """
    options = {"layer": layer, "id_column": id_column, "columns": columns, "crs": crs}
    return read_layer(source, "plots", allow_network=allow_network, **options)


def read_protected_areas(
    source: PathLike | gpd.GeoDataFrame | Sequence[PathLike | gpd.GeoDataFrame],
    *,
    layer: str | int | None = None,
    id_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    allow_network: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read protected / REDD+ areas: ``area_id``, ``name``, ``category``, ...

    ``source`` may be a list of files (one per protected area, as SERNANP
    distributes them): they are read alike, must share a CRS, and are
    concatenated with a ``source_file`` column naming the file of each feature.
    Files without an id column get ``area_id`` = ``<file name>-<row>``.
    SERNANP's ``anp_nombre`` / ``anp_cate`` are recognised as ``name`` / ``category``;
    its ACR files (``acr_nomb``, no category field) get the category
    ``"Área de Conservación Regional"`` (recorded in ``attrs["column_mapping"]``).

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> pa = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    >>> "redd_plus" in set(pa["category"])
    True
    """
    options: dict[str, Any] = {
        "layer": layer, "id_column": id_column, "columns": columns, "crs": crs,
        "allow_network": allow_network,
    }  # fmt: skip
    if isinstance(source, (str, os.PathLike, gpd.GeoDataFrame)):
        return read_layer(source, "protected_areas", **options)
    sources = list(source)
    wanted = dict(columns or {})
    layers, used = [], set()
    for s in sources:
        # a rename applies to the files that have its column; each must fit one of them
        have = s.columns if isinstance(s, gpd.GeoDataFrame) else _columns_or_none(s, layer)
        mine = wanted if have is None else {k: v for k, v in wanted.items() if k in have}
        used |= set(mine)
        layers.append(read_layer(s, "protected_areas", **{**options, "columns": mine or None}))
    unused = [k for k in wanted if k not in used]
    if unused:
        raise MissingColumnError(f"column(s) {unused} not found in any of the protected-area files")
    return concat_layers(
        layers, [s if isinstance(s, gpd.GeoDataFrame) else Path(s) for s in sources]
    )


def _columns_or_none(source: PathLike, layer: str | int | None) -> list[str] | None:
    try:
        return column_names(source, layer=layer)
    except (AgroforestGeoError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        return None  # the reader says what is wrong with the file


def concat_layers(layers: list[gpd.GeoDataFrame], sources: list[Any]) -> gpd.GeoDataFrame:
    """Concatenate layers read alike, adding ``source_file``; their CRSs must be equal.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoDataFrame({"v": [1]}, geometry=[shapely.Point(0, 0)], crs=4326)
    >>> concat_layers([a, a], ["a.gpkg", "b.gpkg"])["source_file"].tolist()
    ['a.gpkg', 'b.gpkg']
    """
    if not layers:
        raise ValueError("no layer to read: give at least one file")
    names = [s.name if isinstance(s, Path) else str(s) if isinstance(s, str) else f"layer {k + 1}"
             for k, s in enumerate(sources)]  # fmt: skip
    first = layers[0].crs
    for name, gdf in zip(names[1:], layers[1:], strict=True):
        if gdf.crs != first:
            exc = CRSMismatchError(
                f"{names[0]} is in {first}, {name} in {gdf.crs}; reproject one "
                "(gdf.to_crs) so that all share a CRS"
            )
            exc.cli_message = (
                f"{names[0]} is in {first}, {name} in {gdf.crs}; reproject one so that all "
                f"share a CRS, e.g. ogr2ogr -t_srs {first} reprojected.gpkg {name}"
            )
            raise exc
    parts = [gdf.assign(**{SOURCE_COLUMN: name}) for name, gdf in zip(names, layers, strict=True)]
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=first)
    mapping: dict[str, str] = {}
    for gdf in layers:
        mapping.update(gdf.attrs.get("column_mapping", {}))
    out.attrs["column_mapping"] = mapping
    return out


def write_table(table: pd.DataFrame, path: PathLike) -> Path:
    """Write a result table; the format follows the file extension.

    ``.csv`` (geometry as WKT, read back by :func:`read_layer`), ``.gpkg`` (the
    layer is named after the file; other layers of an existing file are kept),
    ``.parquet``/``.geoparquet``, ``.geojson``/``.json`` (GeoJSON needs
    geometries), ``.fgb``. The file is written to a temporary file beside it and
    moved into place when complete, so a failed or killed write never leaves a
    half-written file (nor damages the previous one). In a CSV, text cells that a
    spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab
    or carriage return; numbers excepted) are written with a leading ``'``, and so
    is text that already starts with ``'`` before one of those signs: the readers
    take one ``'`` off, so the text reads back as it was.

    Examples
    --------
    >>> import tempfile, pandas as pd, pathlib
    >>> out = write_table(pd.DataFrame({"a": [1]}), pathlib.Path(tempfile.mkdtemp()) / "t.csv")
    >>> out.read_text().splitlines()
    ['a', '1']
    """
    p = Path(path)
    suffix = p.suffix.lower()
    is_geo = isinstance(table, gpd.GeoDataFrame) and table.geometry.name in table.columns
    drivers = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".fgb": "FlatGeobuf"}
    if suffix in drivers and not is_geo:
        raise UnreadableInputError(
            f"{p.name}: {suffix} needs geometries and this table has none; use .csv or .parquet"
        )
    if suffix not in {".csv", ".parquet", ".geoparquet", *drivers}:
        raise UnreadableInputError(
            f"cannot write {p.name}: unknown extension {suffix!r}; use .csv, .gpkg, .parquet, "
            ".geojson or .fgb"
        )
    with atomic_write(p, keep_existing=suffix == ".gpkg") as tmp:
        if suffix == ".csv":
            out = pd.DataFrame(table).copy()
            if is_geo:
                out[table.geometry.name] = shapely.to_wkt(
                    table.geometry.values, rounding_precision=-1
                )
            escape_formulas(out).to_csv(tmp, index=False)
        elif suffix in {".parquet", ".geoparquet"}:
            table.to_parquet(tmp)
        else:
            # the layer is named after the final file, not the temporary one
            layer = {"layer": p.stem} if suffix == ".gpkg" else {}
            gpd.GeoDataFrame(table).to_file(tmp, driver=drivers[suffix], engine="pyogrio", **layer)
    return p

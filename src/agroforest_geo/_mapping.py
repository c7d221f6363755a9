"""Mapping a layer's columns to the data model: explicit renames, common names, types.

:data:`LAYER_SCHEMAS` is the data model; :func:`map_columns` applies the renames
asked for, then the common names of :data:`~agroforest_geo._names.COLUMN_ALIASES`
(never guessing between two), records them in ``gdf.attrs["column_mapping"]`` and
gives ids and the schema's number columns their types.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._names import (
    COLUMN_ALIASES,
    DECLARED_AREA_UNITS,
    KML_ALIASES,
    UNITLESS_AREA_ALIASES,
    UNITLESS_AREA_MAX_HA,
    column_fix,
    declared_area_unit,
    find_aliases,
    normalise_name,
    resolve_aliases,
)
from ._tables import parse_numbers
from .errors import ColumnWarning, MissingColumnError, UnreadableInputError

__all__ = [
    "LAYER_SCHEMAS",
    "LayerSchema",
    "explicit_renames",
    "generated_area_ids",
    "map_columns",
    "renamed",
    "require_columns",
]

log = logging.getLogger("agroforest_geo.io")


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
        ("planting_year", "trees_planted", "species", "declared_area_ha"),
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

_STRING_COLUMNS = {"parcel_id", "plot_id", "area_id", "member_id"}
#: schema columns that are numbers; every other attribute read from a table stays text
_NUMBER_COLUMNS: dict[str, str] = {
    "declared_area_ha": "float",
    "planting_year": "int",
    "trees_planted": "int",
    "designated_year": "int",
}
_KML_SUFFIXES = {".kml", ".kmz"}
#: the data model's column of the declared area, in hectares
_DECLARED = "declared_area_ha"
_M2_PER_HA = 10_000.0


def explicit_renames(
    gdf: gpd.GeoDataFrame,
    columns: Mapping[str, str] | None,
    *,
    kind: str,
    id_column: str | None,
    target_id: str | None,
) -> dict[str, str]:
    """Return the renames asked for, checked against the columns (geometry picks excluded)."""
    renames = {
        k: v for k, v in dict(columns or {}).items() if k in gdf.columns or v not in _GEOM_TARGETS
    }
    renames = {k: v for k, v in renames.items() if k != v}
    if id_column is not None and target_id is not None and id_column != target_id:
        renames[id_column] = target_id
    have = [c for c in gdf.columns if c != gdf.geometry.name]
    missing = [c for c in renames if c not in gdf.columns]
    if id_column is not None and id_column not in gdf.columns and id_column != target_id:
        missing = [id_column, *[m for m in missing if m != id_column]]
    if missing:
        what = f"the {kind} layer" if kind else "the layer"
        exc = MissingColumnError(f"column(s) {missing} not found in {what}; its columns are {have}")
        if id_column in missing:
            exc.cli_message = (
                f"--id-column {id_column}: not a column of {what}; its columns are {have}"
            )
        raise exc
    return renames


_GEOM_TARGETS = {"geometry", "x", "y", "lon", "lat", "longitude", "latitude"}


def map_columns(
    gdf: gpd.GeoDataFrame,
    kind: str,
    id_column: str | None,
    columns: Mapping[str, str] | None,
    suffix: str,
) -> gpd.GeoDataFrame:
    schema = LAYER_SCHEMAS[kind]
    renames = explicit_renames(
        gdf, columns, kind=kind, id_column=id_column, target_id=schema.id_column
    )
    table = dict(COLUMN_ALIASES[kind])
    if suffix in _KML_SUFFIXES:
        for target, extra in KML_ALIASES.get(kind, {}).items():
            table[target] = (*table.get(target, ()), *extra)
    left = [c for c in gdf.columns if c not in renames and c != gdf.geometry.name]
    skip = set(renames.values()) | {t for t in table if t in gdf.columns}
    if id_column is not None:
        skip.add(schema.id_column)
    found = resolve_aliases(left, table, kind=kind, id_column=schema.id_column, skip=skip)
    clash = sorted(set(found.values()) & set(renames.values()))
    if clash:  # pragma: no cover - skip prevents it
        raise MissingColumnError(f"columns {clash} mapped twice")
    return renamed(gdf, renames, found, kind)


def _area_source(renames: dict[str, str]) -> tuple[str, str, float] | None:
    """Return the column renamed to the declared area, its unit and square metres per unit."""
    source = next((src for src, dst in renames.items() if dst == _DECLARED), None)
    unit = declared_area_unit(source) if source is not None else None
    return None if source is None or unit is None else (source, *unit)


def renamed(
    gdf: gpd.GeoDataFrame, explicit: dict[str, str], found: dict[str, str], kind: str
) -> gpd.GeoDataFrame:
    """Apply the renames and give the model's columns their types.

    A declared area whose name carries another unit (``area_m2``, mapped by its
    common name or by ``columns``) is converted to hectares.
    """
    mapping = dict(gdf.attrs.get("column_mapping", {}))
    renames = {**explicit, **found}
    targets = list(renames.values())
    dup = sorted(
        {t for t in targets if targets.count(t) > 1 or (t in gdf.columns and t not in renames)}
    )
    if dup:
        raise MissingColumnError(
            f"cannot rename to {dup}: the {kind} layer already has such a column "
            f"(or two columns are renamed to it); columns: {list(gdf.columns)}"
        )
    out = gdf.rename(columns=renames)
    if found:
        log.info(
            "%s: recognised %s",
            kind,
            ", ".join(f"{src!r} as {dst!r}" for src, dst in found.items()),
        )
    mapping.update(renames)
    area = _area_source(renames)
    out = _typed(out, area_m2_per_unit=area[2] if area else _M2_PER_HA)
    if area is not None and area[1] != "ha":
        log.info("%s: declared area %r converted from %s to hectares", kind, area[0], area[1])
    if area is not None and normalise_name(area[0]) in UNITLESS_AREA_ALIASES:
        _check_unitless_area(out[_DECLARED], area[0], kind)
    out.attrs["column_mapping"] = mapping
    return out


def _check_unitless_area(values: pd.Series, source: str, kind: str) -> None:
    """Warn when hectares read from a name without a unit are too large to be hectares."""
    big = values[values > UNITLESS_AREA_MAX_HA]
    if big.empty:
        return
    what = f"the {kind} layer's" if kind in LAYER_SCHEMAS else "the layer's"
    square_metres = DECLARED_AREA_UNITS["m2"][1][0]
    warnings.warn(
        f"{what} column {source!r} is read as the declared area in hectares "
        f"(declared_area_ha), but {len(big)} row(s) declare more than "
        f"{UNITLESS_AREA_MAX_HA:,.0f} ha (up to {big.max():,.6g}, row {big.idxmax()}): are "
        f"they square metres? Then name the column {square_metres} (read as m² and "
        "converted), or convert it to hectares",
        ColumnWarning,
        stacklevel=6,  # the caller of read_parcels / read_plots
    )


def _typed(gdf: gpd.GeoDataFrame, *, area_m2_per_unit: float = _M2_PER_HA) -> gpd.GeoDataFrame:
    """Ids as text; the schema's number columns as numbers (tables hold text).

    ``area_m2_per_unit`` converts the declared area read under a name with another
    unit (``area_m2``: 1 m² per unit) to hectares.
    """
    for col in sorted(_STRING_COLUMNS & set(gdf.columns)):
        gdf[col] = _as_id_strings(gdf[col])
    if _DECLARED in gdf.columns and area_m2_per_unit != _M2_PER_HA:
        if area_m2_per_unit == 1.0:
            _refuse_grouped_square_metres(gdf[_DECLARED])
        values = parse_numbers(gdf[_DECLARED], _DECLARED)
        gdf[_DECLARED] = values * area_m2_per_unit / _M2_PER_HA
    for col, kind in _NUMBER_COLUMNS.items():
        if col not in gdf.columns or pd.api.types.is_numeric_dtype(gdf[col]):
            continue
        values = parse_numbers(gdf[col], col)
        if kind == "int":
            whole = values.dropna()
            if not (whole % 1 == 0).all():
                bad = whole[whole % 1 != 0]
                raise UnreadableInputError(
                    f"column {col!r} must hold whole numbers; row {bad.index[0]} has "
                    f"{gdf[col][bad.index[0]]!r} (thousands are written without separators)"
                )
            gdf[col] = values.astype("Int64") if values.isna().any() else values.astype("int64")
        else:
            gdf[col] = values
    return gdf


def _refuse_grouped_square_metres(values: pd.Series) -> None:
    """Refuse square metres written ``25.000``: 25 000 m² (thousands) or 25 m² (decimals)."""
    if pd.api.types.is_numeric_dtype(values):
        return
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    grouped = text.str.fullmatch(r"\d{1,3}(\.\d{3})+")
    if len(text) and grouped.all():
        raise UnreadableInputError(
            f"the declared area in square metres is written {text.iloc[0]!r}: 25.000 may be "
            "25 000 m² (a thousands separator) or 25 m²; write the square metres without "
            "separators (25000), or with a decimal comma (25,5)"
        )


def require_columns(gdf: gpd.GeoDataFrame, kind: str, schema: LayerSchema) -> None:
    needed = (schema.id_column, *schema.required)
    absent = [c for c in needed if c not in gdf.columns]
    if not absent:
        return
    have = [c for c in gdf.columns if c != gdf.geometry.name]
    target = absent[0]
    # a layer with a single attribute column: that one; else a placeholder, not a guess
    example = have[0] if len(have) == 1 else "COLUMN"
    api, cli = column_fix(target, example, id_column=schema.id_column)
    head = f"the {kind} layer lacks required column(s) {absent}; its columns are {have}. "
    exc = MissingColumnError(head + f"Map yours, e.g. {api}")
    exc.cli_message = head + f"Map yours, e.g. {cli}"
    raise exc


#: SERNANP distributes each Área de Conservación Regional with ``acr_*`` fields and no
#: category field: the category is the layout itself.
_SERNANP_ACR_FIELDS = ("acr_nomb", "acr_nombre")
SERNANP_ACR_CATEGORY = "Área de Conservación Regional"


def sernanp_acr_category(
    gdf: gpd.GeoDataFrame, columns: Mapping[str, str] | None
) -> gpd.GeoDataFrame:
    """Give ``category`` to a SERNANP ACR file (``acr_*`` fields, no category field).

    Nothing changes when the layer has a category column (or one is mapped) or is
    not laid out as SERNANP's ACR files are.
    """
    if "category" in dict(columns or {}).values():
        return gdf
    if find_aliases(gdf.columns, COLUMN_ALIASES["protected_areas"]["category"]):
        return gdf
    if "category" in gdf.columns or not any(c in gdf.columns for c in _SERNANP_ACR_FIELDS):
        return gdf
    out = gdf.copy()
    out["category"] = SERNANP_ACR_CATEGORY
    out.attrs["column_mapping"] = {
        **gdf.attrs.get("column_mapping", {}),
        "(SERNANP ACR layout)": "category",
    }
    log.info("SERNANP ACR layout (acr_* fields): category %r", SERNANP_ACR_CATEGORY)
    return out


def generated_area_ids(
    gdf: gpd.GeoDataFrame, path: Path, id_column: str | None, columns: Mapping[str, str] | None
) -> gpd.GeoDataFrame:
    """Give ``area_id`` to a protected-areas file that has no id column at all."""
    if id_column is not None or "area_id" in dict(columns or {}).values():
        return gdf
    if "area_id" in gdf.columns:
        return gdf
    aliases = COLUMN_ALIASES["protected_areas"]["area_id"]
    if find_aliases(gdf.columns, aliases):
        return gdf
    out = gdf.copy()
    out["area_id"] = [f"{path.stem}-{k + 1}" for k in range(len(out))]
    out.attrs["column_mapping"] = {
        **gdf.attrs.get("column_mapping", {}),
        "(file name, row)": "area_id",
    }
    log.info("%s: no id column; area_id made from the file name and row number", path.name)
    return out


def _as_id_strings(s: pd.Series) -> pd.Series:
    """Ids as strings, kept as given; integers stored as floats lose their '.0'."""
    if pd.api.types.is_float_dtype(s) and (s.dropna() % 1 == 0).all():
        s = s.astype("Int64")
    out = s.astype("string")
    return out.astype(object).where(out.notna(), None)

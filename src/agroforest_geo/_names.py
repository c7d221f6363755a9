"""The column names field teams use, and how a layer's columns are mapped to the data model.

One table, :data:`COLUMN_ALIASES`, lists for each canonical column the names
seen in cooperative, agency and phone-app exports in Spanish, Portuguese,
French and English. Names are compared after :func:`normalise_name`
(lower case, accents removed, runs of spaces and punctuation as one ``_``), so
``"Código Parcela"`` matches ``codigo_parcela``.

Mapping never guesses: a canonical column already present is kept; else exactly
one alias present is renamed to it; two or more aliases present stop the read
with the candidates listed and the option that picks one. Every rename is
reported (a log line and ``gdf.attrs["column_mapping"]``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from .errors import AmbiguousColumnError

__all__ = [
    "COLUMN_ALIASES",
    "COORDINATE_ALIASES",
    "DECLARED_AREA_ALIASES",
    "DECLARED_AREA_UNITS",
    "KML_ALIASES",
    "UNITLESS_AREA_ALIASES",
    "area_like_columns",
    "column_fix",
    "declared_area_examples",
    "declared_area_unit",
    "find_aliases",
    "normalise_name",
]

#: The declared area: what the member says the plot measures, never a measured area (the
#: library measures its own). Its names by the unit they carry: unit -> (square metres per
#: unit, names). A column found under one becomes ``declared_area_ha``, converted to hectares.
DECLARED_AREA_UNITS: dict[str, tuple[float, tuple[str, ...]]] = {
    # the most common first: messages quote the first few
    "ha": (10_000.0, (
        # es
        "area_ha", "superficie_ha", "hectareas", "ha", "has", "area_declarada_ha",
        "area_ha_declarada", "superficie_declarada_ha", "area_declarada_has", "area_has",
        "superficie_has", "sup_ha", "area_en_ha", "area_hectareas", "area_total_ha",
        "area_parcela_ha", "area_predio_ha", "area_finca_ha", "area_lote_ha", "tamano_ha",
        "extension_ha",
        # pt
        "area_hectares", "hectares", "tamanho_ha", "area_declarada_hectares",
        # fr
        "surface_ha", "superficie_declaree_ha",
        # en
        "declared_ha", "declared_area_hectares", "farm_size_ha", "farm_area_ha", "plot_size_ha",
        "plot_area_ha", "size_ha",
        # declared_area_ha cut to a Shapefile's 10 characters
        "declared_a",
    )),
    "m2": (1.0, (
        "area_m2", "superficie_m2", "sup_m2", "area_declarada_m2", "area_en_m2", "m2",
        "metros_cuadrados", "area_metros_cuadrados", "surface_m2", "area_sq_m", "area_sqm",
        "declared_area_m2",
    )),
    "km2": (1_000_000.0, ("area_km2", "superficie_km2", "surface_km2", "declared_area_km2")),
    # the international acre, 4046.8564224 m² exactly (Ghana's cocoa farms are given in acres)
    "acre": (4046.8564224, (
        "acres", "area_acres", "area_ac", "farm_size_acres", "farm_size_ac", "acreage",
        "size_acres", "declared_area_acres",
    )),
}  # fmt: skip

#: Declared-area names without a unit: read as hectares, the data model's unit, and a value
#: too large for hectares (:data:`UNITLESS_AREA_MAX_HA`) is warned about.
UNITLESS_AREA_ALIASES: tuple[str, ...] = (
    "area", "area_declarada", "superficie", "superficie_declarada", "declared_area", "surface",
    "area_parcela", "area_predio", "area_finca", "area_total", "tamano", "farm_size",
    "farm_area", "plot_size", "plot_area", "parcel_area", "tamanho",
)  # fmt: skip

#: A hectare value read from a name without a unit above this (100 km², more than any
#: plot one member declares) is more likely square metres: the read warns.
UNITLESS_AREA_MAX_HA = 10_000.0

#: Every declared-area name, with a unit or without (the aliases of ``declared_area_ha``).
DECLARED_AREA_ALIASES: tuple[str, ...] = (
    *(name for _, names in DECLARED_AREA_UNITS.values() for name in names),
    *UNITLESS_AREA_ALIASES,
)

#: Words that make a column name look like an area (for the message when none is recognised).
_AREA_WORDS = frozenset({
    "area", "superficie", "surface", "sup", "tamano", "tamanho", "extension", "size", "ha",
    "has", "hectareas", "hectares", "acres", "acreage", "m2", "km2", "manzanas", "mz",
    "cuadras", "tareas", "fanegadas",
})  # fmt: skip

#: kind -> canonical column -> aliases (normalised spelling). A name is an alias of one
#: column only within a kind. Ids: parcels, plots and protected areas; people: member
#: and producer; places; declared area.
COLUMN_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "parcels": {
        "parcel_id": (
            # es
            "id_parcela", "codigo_parcela", "cod_parcela", "codparcela", "parcela_id",
            "codigo_de_parcela", "numero_parcela", "nro_parcela", "n_parcela", "id_predio",
            "codigo_predio", "cod_predio", "id_lote", "codigo_lote", "codigo", "cod",
            # pt
            "codigo_talhao", "id_talhao",
            # fr
            "id_parcelle", "code_parcelle", "num_parcelle", "parcelle_id", "code",
            # en
            "parcel_code", "parcel_no", "field_id", "farm_id", "farm_code", "plotid",
            # TerraTrac
            "remote_id",
        ),
        "member_id": (
            "id_socio", "codigo_socio", "cod_socio", "socio_id", "id_productor",
            "codigo_productor", "cod_productor", "id_produtor", "codigo_produtor",
            "id_producteur", "code_producteur", "id_membre", "farmer_id", "producer_id",
            "member_code", "member_no",
        ),
        "producer_name": (
            "productor", "nombre_productor", "nombre_del_productor", "nombres_y_apellidos",
            "nombre_socio", "socio", "agricultor", "nombre_agricultor", "produtor",
            "nome_produtor", "nome_do_produtor", "producteur", "nom_producteur", "farmer_name",
            "farmer", "producer", "grower", "producername",
        ),
        "province": ("provincia", "prov", "province_name", "provincia_nombre"),
        "district": ("distrito", "district_name", "municipio", "farm_district", "commune"),
        "declared_area_ha": DECLARED_AREA_ALIASES,
        "crop": ("cultivo", "cultivo_principal", "cultura", "culture", "commodity"),
    },
    "plots": {
        "plot_id": (
            "id_plot", "codigo_plot", "id_subparcela", "codigo_subparcela", "id_area_sistema",
            "id_sistema", "plot_code", "id_placette", "codigo_sistema",
        ),
        "parcel_id": (
            "id_parcela", "codigo_parcela", "cod_parcela", "parcela_id", "parcel_code",
            "id_parcelle", "code_parcelle",
        ),
        "system": ("sistema", "tipo_sistema", "sistema_agroforestal", "systeme"),
        "planting_year": ("ano_plantacion", "anio_plantacion", "ano_siembra", "anio_siembra",
                          "ano_plantio", "annee_plantation", "year_planted"),
        "trees_planted": ("arboles_plantados", "n_arboles", "numero_arboles",
                          "arvores_plantadas", "arbres_plantes"),
        "species": ("especies", "especie", "espece", "especes"),
        "declared_area_ha": DECLARED_AREA_ALIASES,
    },
    "protected_areas": {
        "area_id": ("id_area", "codigo_area", "anp_codi", "anp_cod", "wdpaid", "wdpa_pid",
                    "id_anp", "codigo_anp"),
        "name": ("nombre", "anp_nombre", "acr_nomb", "nombre_anp", "nome", "nom", "area_name",
                 "orig_name"),
        "category": ("categoria", "anp_cate", "categoria_anp", "categorie", "desig",
                     "desig_eng", "iucn_cat"),
        "designated_year": ("ano_creacion", "anio_creacion", "status_yr", "ano_criacao",
                            "annee_creation"),
    },
}  # fmt: skip

#: Extra id aliases for KML/KMZ, where a phone app stores the label typed for a
#: parcel in the placemark's ``Name``.
KML_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "parcels": {"parcel_id": ("name",)},
    "plots": {"plot_id": ("name",)},
}

#: Coordinate columns of tables: role -> aliases. ``lon``/``lat`` are degrees
#: (EPSG:4326 unless a CRS is given), ``east``/``north`` projected metres (a CRS is
#: required), ``x``/``y`` either (degrees only when every value is in range).
COORDINATE_ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("longitude", "longitud", "long", "lon", "lng", "longitude_dd", "lon_dd",
            "coord_lon", "gps_longitude", "longitud_gps", "longitud_dd"),
    "lat": ("latitude", "latitud", "lat", "latitude_dd", "lat_dd", "coord_lat",
            "gps_latitude", "latitud_gps", "latitud_dd"),
    "east": ("este", "easting", "utm_este", "utm_e", "este_utm", "coord_este", "x_utm",
             "leste", "abscisse", "east", "utm_x", "coordenada_este"),
    "north": ("norte", "northing", "utm_norte", "utm_n", "norte_utm", "coord_norte", "y_utm",
              "ordonnee", "north", "utm_y", "coordenada_norte"),
    "x": ("x", "coord_x", "x_coord", "point_x"),
    "y": ("y", "coord_y", "y_coord", "point_y"),
}  # fmt: skip

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise_name(name: object) -> str:
    """Return a column name in the spelling the alias tables use.

    Examples
    --------
    >>> normalise_name("Código Parcela"), normalise_name("Longitud (°)"), normalise_name("ID")
    ('codigo_parcela', 'longitud', 'id')
    """
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NON_WORD.sub("_", text).strip("_")


def find_aliases(columns: Iterable[object], aliases: Iterable[str]) -> list[str]:
    """Return the columns whose normalised name is one of ``aliases``, in file order.

    Examples
    --------
    >>> find_aliases(["Codigo", "Longitud", "geometry"], ("codigo", "cod"))
    ['Codigo']
    """
    wanted = set(aliases)
    return [str(c) for c in columns if normalise_name(c) in wanted]


def declared_area_unit(column: object) -> tuple[str, float] | None:
    """Return ``(unit, square metres per unit)`` of a declared-area column name, or None.

    A name without a unit gives hectares as well: the data model's unit. Names
    that are not declared-area names give None.

    Examples
    --------
    >>> declared_area_unit("Superficie (m²)"), declared_area_unit("Área (ha)")
    (('m2', 1.0), ('ha', 10000.0))
    >>> declared_area_unit("area"), declared_area_unit("area_mz")
    (('ha', 10000.0), None)
    """
    name = normalise_name(column)
    for unit, (m2, names) in DECLARED_AREA_UNITS.items():
        if name in names:
            return unit, m2
    return ("ha", DECLARED_AREA_UNITS["ha"][0]) if name in UNITLESS_AREA_ALIASES else None


def declared_area_examples() -> str:
    """Quote the common declared-area names, by unit, from the one table of names.

    Examples
    --------
    >>> declared_area_examples()
    'area_ha, superficie_ha, hectareas, ha, area (hectares); area_m2, area_km2, acres (converted)'
    """
    ha = [*DECLARED_AREA_UNITS["ha"][1][:4], UNITLESS_AREA_ALIASES[0]]
    others = [names[0] for unit, (_, names) in DECLARED_AREA_UNITS.items() if unit != "ha"]
    return f"{', '.join(ha)} (hectares); {', '.join(others)} (converted)"


def area_like_columns(columns: Iterable[object]) -> list[str]:
    """Return the columns whose name reads like an area (``area_mz``, ``Superficie``, ...).

    Examples
    --------
    >>> area_like_columns(["codigo", "Área (mz)", "fecha", "size_cuadras"])
    ['Área (mz)', 'size_cuadras']
    """
    return [str(c) for c in columns if _AREA_WORDS & set(normalise_name(c).split("_"))]


def column_fix(target: str, source: str, *, id_column: str | None = None) -> tuple[str, str]:
    """Return how to map ``source`` to ``target``: in Python and on the command line.

    Examples
    --------
    >>> column_fix("parcel_id", "codigo", id_column="parcel_id")
    ("id_column='codigo'", '--id-column codigo')
    >>> column_fix("name", "anp_nombre")
    ("columns={'anp_nombre': 'name'}", '--columns anp_nombre=name')
    """
    if id_column is not None and target == id_column:
        return f"id_column={source!r}", f"--id-column {_shell(source)}"
    return f"columns={{{source!r}: {target!r}}}", f"--columns {_shell(f'{source}={target}')}"


def _shell(word: str) -> str:
    return word if re.fullmatch(r"[\w.=:/+-]+", word) else "'" + word.replace("'", "'\\''") + "'"


def resolve_aliases(
    columns: list[str],
    table: Mapping[str, tuple[str, ...]],
    *,
    kind: str,
    id_column: str,
    skip: Iterable[str] = (),
) -> dict[str, str]:
    """Return ``{source: canonical}`` for each canonical column found under one alias.

    Canonical columns already present, and those in ``skip`` (mapped explicitly),
    are left alone. Two aliases of one column raise :class:`AmbiguousColumnError`.
    """
    present = {normalise_name(c) for c in columns}
    skipped = set(skip)
    renames: dict[str, str] = {}
    for target, aliases in table.items():
        if target in skipped or (normalise_name(target) in present and target in columns):
            continue
        found = [c for c in find_aliases(columns, aliases) if c not in renames and c != target]
        if len(found) == 1:
            renames[found[0]] = target
        elif len(found) > 1:
            raise ambiguous(kind, target, found, id_column=id_column)
    return renames


def ambiguous(
    kind: str, target: str, found: list[str], *, id_column: str | None = None
) -> AmbiguousColumnError:
    """Build the error for several candidate columns, worded for Python and for the CLI."""
    api = " or ".join(column_fix(target, c, id_column=id_column)[0] for c in found)
    cli = " or ".join(column_fix(target, c, id_column=id_column)[1] for c in found)
    what = f"the {kind} layer" if kind else "the layer"
    head = f"{what} has several candidates for {target!r}: {found}; "
    exc = AmbiguousColumnError(head + f"pick one with {api}")
    exc.cli_message = head + f"pick one with {cli}"
    return exc

"""Tables as field teams export them (CSV, Excel) turned into GeoDataFrames.

Method
------
* **Reading.** CSV: the encoding is UTF-8 (with or without BOM), else Windows-1252
  (Excel's "CSV" on a Spanish Windows), said in a log line; the separator is
  sniffed among ``,`` ``;`` tab and ``|`` with :class:`csv.Sniffer`; pandas then
  reads every cell as text (``dtype=str``, only empty cells missing), so ids such as
  ``00123`` or 17-digit numbers are kept exactly. Excel: :func:`pandas.read_excel`
  (openpyxl), also as text. A leading ``'`` before ``= + - @`` (how spreadsheets,
  and :func:`agroforest_geo.write_table`, mark such text as literal) is removed.
* **Geometry**, by what the columns hold, in this order:

  1. one column of polygons or lines as text: WKT (what ``write_table`` writes),
     GeoJSON geometries, TerraTrac's ``polygon`` (``[[lon, lat], ...]``; rows with an
     empty polygon are points from their ``latitude``/``longitude``), or
     ODK/KoboToolbox ``geotrace``/``geoshape`` strings (``"lat lon alt acc;..."``);
  2. a pair of coordinate columns (:data:`~agroforest_geo._names.COORDINATE_ALIASES`):
     longitude/latitude in degrees, ``Este``/``Norte`` in projected metres (the CRS
     must be given), or ``x``/``y``;
  3. one column of points as text (WKT, GeoJSON or an ODK ``geopoint``).

  Two candidates at the same step stop the read with both named; pick one with
  ``columns={"COLUMN": "geometry"}`` (or ``{"E": "x", "N": "y"}`` for a pair).
* **Numbers** in coordinate columns may use a decimal comma (``-76,71``), with or
  without thousands separators (``9.201.345,5``); a column mixing both styles,
  or a value that is not a number (``7°12'S``), is refused with the rows named.
* **CRS**: the one given; else EPSG:4326 for degrees (longitude/latitude columns,
  GeoJSON, TerraTrac, ODK), for WKT and ``x``/``y`` only when every coordinate is
  within ±180/±90; else the read stops and asks for the CRS.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from ._names import COORDINATE_ALIASES, ambiguous, find_aliases, normalise_name
from .crs import norm_crs
from .errors import MissingColumnError, MissingCRSError, UnreadableInputError

__all__ = ["TABLE_SUFFIXES", "escape_formulas", "parse_numbers", "read_table", "table_columns"]

log = logging.getLogger("agroforest_geo.io")

TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Text a reader takes one quote off: quotes before a formula sign (write_table adds one).
_QUOTED_FORMULA = "'+[" + re.escape("".join(_FORMULA_START)) + "]"
_X_TARGETS = {"x", "lon", "longitude"}
_Y_TARGETS = {"y", "lat", "latitude"}
_WKT = re.compile(
    r"^\s*(SRID=\d+;\s*)?(POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING|MULTIPOLYGON|"
    r"GEOMETRYCOLLECTION)\b",
    re.IGNORECASE,
)
_NUM = r"[+-]?\d+(?:\.\d+)?"
_ODK = re.compile(rf"^\s*{_NUM}\s+{_NUM}(?:\s+{_NUM}){{0,2}}\s*(?:;\s*{_NUM}\s+{_NUM}"
                  rf"(?:\s+{_NUM}){{0,2}}\s*)*;?\s*$")  # fmt: skip
#: columns that hold a [lat, lon] pair (KoboToolbox), never a geometry of ours to guess
_NOT_GEOMETRY = {"geolocation"}


# --------------------------------------------------------------------------- reading


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.info("%s is not UTF-8: read as Windows-1252 (Excel's CSV encoding)", path.name)
        return data.decode("cp1252", errors="replace")


def _sniff_separator(text: str, path: Path) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        # one column, or too irregular to tell: the header line decides
        header = text.splitlines()[0] if text else ""
        counts = {s: header.count(s) for s in ",;\t|"}
        sep = max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","
    log.info("%s: separator %r", path.name, sep)
    return sep


def _load_csv(path: Path, nrows: int | None = None) -> pd.DataFrame:
    text = _decode(path)
    sep = _sniff_separator(text, path)
    try:
        return pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
            nrows=nrows,
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UnreadableInputError(f"cannot read {path} as a table: {exc}") from exc


def _load_excel(path: Path, sheet: str | int | None, nrows: int | None = None) -> pd.DataFrame:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise UnreadableInputError(
            f"reading {path.name} needs openpyxl: pip install openpyxl (or save the sheet as CSV)"
        ) from exc
    try:
        return pd.read_excel(
            path, sheet_name=0 if sheet is None else sheet, dtype=str,
            keep_default_na=False, na_values=[""], nrows=nrows,
        )  # fmt: skip
    except ValueError as exc:  # unknown sheet
        import openpyxl

        sheets = openpyxl.load_workbook(path, read_only=True).sheetnames
        raise UnreadableInputError(
            f"cannot read sheet {sheet!r} of {path}: {exc}. Sheets in the file: {sheets}; "
            "pass one of them as layer=..."
        ) from exc
    except Exception as exc:  # openpyxl raises many types on a damaged file
        raise UnreadableInputError(f"cannot read {path} as an Excel workbook: {exc}") from exc


def table_columns(path: Path, sheet: str | int | None = None) -> list[str]:
    """Return the column names of a CSV or Excel table (its header only)."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return [str(c) for c in _load_excel(path, sheet, nrows=0).columns]
    return [str(c) for c in _load_csv(path, nrows=0).columns]


def _unescape(df: pd.DataFrame) -> pd.DataFrame:
    # "'=x" is a spreadsheet's (and write_table's) way of writing the text "=x"; write_table
    # writes the text "'=x" as "''=x" (see escape_formulas): one quote comes off
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            text = s.astype("string")
            hit = text.str.match(_QUOTED_FORMULA).fillna(False).astype(bool)
            if hit.any():
                out[col] = s.where(~hit, text.str.slice(1))
    return out


# --------------------------------------------------------------------------- numbers


def parse_numbers(values: pd.Series, column: str) -> pd.Series:
    """Return the numbers of a text column; decimal comma and thousands separators allowed.

    Empty cells give NaN. Raises :class:`UnreadableInputError` naming the rows
    whose text is not a number, or when the column mixes ``1.234,5`` and ``1,234.5``.

    Examples
    --------
    >>> parse_numbers(pd.Series(["-76,71", "", "9.201.345,5"]), "x").tolist()
    [-76.71, nan, 9201345.5]
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    text = values.astype("string").str.strip().str.replace("\u2212", "-", regex=False)
    filled = text.notna() & (text != "")
    t = text[filled]
    comma = t.str.contains(",", regex=False)
    dot = t.str.contains(".", regex=False)
    both = t[comma & dot]
    if len(both) and both.str.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d*)?").all():
        t = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    elif len(both) and both.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?").all():
        t = t.str.replace(",", "", regex=False)
    elif len(both):
        raise UnreadableInputError(
            f"column {column!r} mixes decimal styles (e.g. {both.iloc[0]!r}); "
            "write its numbers one way (-76.71 or -76,71)"
        )
    else:
        t = t.str.replace(",", ".", regex=False)
    num = pd.to_numeric(t, errors="coerce")
    bad = num.isna()
    if bad.any():
        rows = ", ".join(f"row {i}: {text[i]!r}" for i in list(bad[bad].index)[:5])
        raise UnreadableInputError(
            f"column {column!r} has values that are not numbers ({rows}); write them as "
            "decimal numbers (degrees as -7.2083, not 7°12'30\"S)"
        )
    out = pd.Series(np.nan, index=values.index, dtype=float)
    out[filled] = num.astype(float)
    return out


# --------------------------------------------------------------------------- geometry text


@dataclass
class _GeomColumn:
    column: str
    fmt: str  # "wkt", "geojson", "terratrac", "odk"
    geoms: np.ndarray  # object array, None where empty
    polygonal: bool  # holds polygons or lines (not only points)


def _text_format(values: pd.Series) -> str | None:
    """Which geometry encoding every non-empty value of a column has, if any."""
    t = values.dropna().astype(str).str.strip()
    t = t[t != ""]
    if t.empty:
        return None
    if t.str.match(_WKT).all():
        return "wkt"
    if t.str.startswith("{").all() and t.str.contains('"coordinates"', regex=False).all():
        return "geojson"
    if t.str.match(r"^\[\s*(\[\s*)+[+-]?\d|^\[\s*\]$").all() and t.str.match(r"^\[\s*\[").any():
        return "terratrac"
    if t.str.match(_ODK).all() and _odk_in_range(t):
        return "odk"
    return None


def _odk_in_range(t: pd.Series) -> bool:
    # "942 123" (a phone number) matches the pattern; ODK latitudes and longitudes do not
    # leave ±90 / ±180
    pairs = [p.split() for v in t for p in str(v).split(";")]
    xy = [(float(p[0]), float(p[1])) for p in pairs if len(p) >= 2]
    return bool(xy) and all(abs(lat) <= 90 and abs(lon) <= 180 for lat, lon in xy)


def _odk_geometry(text: str) -> Any:
    pts = [p.split() for p in text.strip().strip(";").split(";") if p.strip()]
    lonlat = [(float(p[1]), float(p[0])) for p in pts]  # ODK writes latitude first
    if len(lonlat) == 1:
        return shapely.Point(lonlat[0])
    if len(lonlat) >= 4 and lonlat[0] == lonlat[-1]:
        return shapely.Polygon(lonlat)
    return shapely.LineString(lonlat)


def _nesting(obj: Any) -> int:
    depth = 0
    while isinstance(obj, list) and obj:
        obj, depth = obj[0], depth + 1
    return depth


def _terratrac_geometry(text: str) -> Any:
    coords = json.loads(text)
    depth = _nesting(coords)
    if depth == 0:
        return None  # "[]": a point farm, located by its latitude/longitude
    if depth == 2 and len(coords) == 1:
        return shapely.Point(coords[0][:2])
    if depth == 2:
        ring = [tuple(c[:2]) for c in coords]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        return shapely.Polygon(ring)
    kind = {3: "Polygon", 4: "MultiPolygon"}.get(depth)
    if kind is None:
        raise ValueError(f"nesting depth {depth}")
    return shape({"type": kind, "coordinates": coords})


def _parse_column(values: pd.Series, column: str, fmt: str) -> np.ndarray:
    text = values.astype("string").str.strip()
    filled = (text.notna() & (text != "")).to_numpy()
    out = np.full(len(values), None, dtype=object)
    items = text[filled].tolist()
    bad: list[int] = []
    if fmt in {"wkt", "geojson"}:
        reader = shapely.from_wkt if fmt == "wkt" else shapely.from_geojson
        parsed = reader(np.asarray(items, dtype=object), on_invalid="ignore")
        bad = [k for k, g in enumerate(parsed) if g is None]
    else:
        one = _odk_geometry if fmt == "odk" else _terratrac_geometry
        parsed = np.full(len(items), None, dtype=object)
        for k, item in enumerate(items):
            try:
                parsed[k] = one(item)
            except (ValueError, TypeError, IndexError, shapely.errors.GEOSException):
                bad.append(k)
    if bad:
        where = np.flatnonzero(filled)
        rows = ", ".join(f"row {values.index[where[k]]}: {items[k][:60]!r}" for k in bad[:5])
        raise UnreadableInputError(
            f"column {column!r} holds {fmt.upper()} geometries but {len(bad)} cannot be read "
            f"({rows}); fix those cells or empty them"
        )
    out[filled] = parsed
    return out


def _none_parse(values: pd.Series, fmt: str) -> bool:
    """Whether not one value of a column reads as a geometry of format ``fmt``."""
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    for k in range(len(text)):
        try:
            _parse_column(text.iloc[k : k + 1], "", fmt)
            return False
        except UnreadableInputError:
            continue
    return True


def _geometry_columns(df: pd.DataFrame, chosen: str | None) -> list[_GeomColumn]:
    names = [chosen] if chosen is not None else list(df.columns)
    found = []
    for col in names:
        if chosen is None and normalise_name(col) in _NOT_GEOMETRY:
            continue
        fmt = _text_format(df[col])
        if fmt is None:
            if chosen is not None:
                raise UnreadableInputError(
                    f"column {col!r} does not hold geometries (WKT, GeoJSON, TerraTrac "
                    "[[lon, lat], ...] or ODK 'lat lon alt acc;...')"
                )
            continue
        try:
            geoms = _parse_column(df[col], col, fmt)
        except UnreadableInputError:
            if chosen is not None or _none_parse(df[col], fmt):
                if chosen is not None:
                    raise
                continue  # text that only looks like geometry ("POINT of sale ..."): an attribute
            raise
        types = shapely.get_type_id(geoms[geoms != None])  # noqa: E711
        polygonal = bool(np.isin(types, (1, 2, 3, 5, 6)).any()) or fmt == "terratrac"
        found.append(_GeomColumn(str(col), fmt, geoms, polygonal))
    return found


# --------------------------------------------------------------------------- coordinates


def _pair_side(df: pd.DataFrame, roles: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for role in roles:
        out += [(c, role) for c in find_aliases(df.columns, COORDINATE_ALIASES[role])]
    return out


def _coordinate_pair(
    df: pd.DataFrame, explicit: Mapping[str, str], kind: str
) -> tuple[str, str, str] | None:
    """Return ``(x column, y column, family)``; family is "degrees", "projected" or "xy"."""
    ex = [c for c, t in explicit.items() if t in _X_TARGETS]
    ey = [c for c, t in explicit.items() if t in _Y_TARGETS]
    if ex or ey:
        if len(ex) != 1 or len(ey) != 1:
            raise UnreadableInputError(
                "map one column to x and one to y, e.g. columns={'Este': 'x', 'Norte': 'y'}"
            )
        degrees = explicit[ex[0]] != "x" and explicit[ey[0]] != "y"
        return ex[0], ey[0], "degrees" if degrees else "xy"
    xs = _pair_side(df, ("lon", "east", "x"))
    ys = _pair_side(df, ("lat", "north", "y"))
    for side, target in ((xs, "x"), (ys, "y")):
        if len(side) > 1:
            raise ambiguous(kind, target, [c for c, _ in side])
    if not xs or not ys:
        return None
    (cx, rx), (cy, ry) = xs[0], ys[0]
    if "east" in (rx, ry) or "north" in (rx, ry):
        family = "projected"
    elif rx == "lon" and ry == "lat":
        family = "degrees"
    else:
        family = "xy"
    return cx, cy, family


def _in_degree_range(geoms: np.ndarray) -> bool:
    xy = shapely.get_coordinates(geoms[geoms != None])  # noqa: E711
    finite = xy[np.isfinite(xy).all(axis=1)]
    return bool(len(finite)) and bool(
        (np.abs(finite[:, 0]) <= 180).all() and (np.abs(finite[:, 1]) <= 90).all()
    )


def _need_crs(what: str, example: str = "EPSG:32718") -> MissingCRSError:
    exc = MissingCRSError(f"{what}; pass their CRS, e.g. crs={example!r} (WGS 84 / UTM zone 18S)")
    exc.cli_message = f"{what}; pass their CRS, e.g. --crs {example} (WGS 84 / UTM zone 18S)"
    return exc


# --------------------------------------------------------------------------- assembly


def read_table(
    path: Path,
    *,
    sheet: str | int | None = None,
    crs: Any = None,
    columns: Mapping[str, str] | None = None,
    kind: str = "",
) -> gpd.GeoDataFrame:
    """Read a CSV or Excel table of a layer; see the module docstring for the rules.

    ``columns`` entries whose target is ``geometry``, ``x``/``lon``/``longitude`` or
    ``y``/``lat``/``latitude`` pick the geometry; they are consumed here.
    ``gdf.attrs["column_mapping"]`` records which columns made the geometry.
    """
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        df = _load_excel(path, sheet)
    else:
        df = _load_csv(path)
    df = _unescape(df)
    explicit = dict(columns or {})
    missing = [c for c, t in explicit.items() if c not in df.columns and _is_geometry_target(t)]
    if missing:
        raise UnreadableInputError(
            f"column(s) {missing} not found in {path.name}; its columns are {list(df.columns)}"
        )
    chosen = [c for c, t in explicit.items() if t == "geometry"]
    gdf, mapping = _assemble(df, explicit, chosen[0] if chosen else None, crs, kind, path)
    gdf.attrs["column_mapping"] = mapping
    return gdf


def _is_geometry_target(target: str) -> bool:
    return target == "geometry" or target in _X_TARGETS | _Y_TARGETS


def _assemble(
    df: pd.DataFrame,
    explicit: Mapping[str, str],
    chosen: str | None,
    crs: Any,
    kind: str,
    path: Path,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    has_pair = any(t in _X_TARGETS | _Y_TARGETS for t in explicit.values())
    texts = [] if has_pair else _geometry_columns(df, chosen)
    shapes = [g for g in texts if g.polygonal or chosen is not None]
    if len(shapes) > 1:
        raise ambiguous(kind, "geometry", [g.column for g in shapes])
    pair = None if shapes else _coordinate_pair(df, explicit, kind)
    if shapes:
        geo = shapes[0]
        return _from_text(df, geo, crs, kind, path)
    if pair is not None:
        return _from_pair(df, pair, crs, path)
    points = [g for g in texts if not g.polygonal]
    if len(points) > 1:
        raise ambiguous(kind, "geometry", [g.column for g in points])
    if points:
        return _from_text(df, points[0], crs, kind, path)
    lon, lat = COORDINATE_ALIASES["lon"][:4], COORDINATE_ALIASES["lat"][:4]
    head = (
        f"{path.name} has no coordinate columns (such as {lon} with {lat}, Este/Norte, x/y) "
        "and no column of WKT, GeoJSON, TerraTrac polygons or ODK geoshapes; its columns are "
        f"{list(df.columns)}. Name yours with "
    )
    exc = MissingColumnError(head + "columns={'E': 'x', 'N': 'y'} or columns={'shape': 'geometry'}")
    exc.cli_message = head + "--columns E=x --columns N=y or --columns shape=geometry"
    raise exc


def _from_text(
    df: pd.DataFrame, geo: _GeomColumn, crs: Any, kind: str, path: Path
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    geoms = geo.geoms.copy()
    mapping = {geo.column: "geometry"}
    rest = df.drop(columns=[geo.column])
    if geo.fmt == "terratrac":
        # farms recorded as one point have an empty polygon and their latitude/longitude
        pair = _coordinate_pair(rest, {}, kind)
        empty = np.array([g is None for g in geoms])
        if pair is not None and empty.any():
            x = parse_numbers(rest[pair[0]], pair[0]).to_numpy()
            y = parse_numbers(rest[pair[1]], pair[1]).to_numpy()
            ok = empty & np.isfinite(x) & np.isfinite(y)
            geoms[ok] = shapely.points(x[ok], y[ok])
            mapping[f"{pair[0]}, {pair[1]}"] = "geometry (rows with an empty polygon)"
    if crs is None:
        degrees = geo.fmt in {"geojson", "terratrac", "odk"} or _in_degree_range(geoms)
        if not degrees:
            raise _need_crs(f"the geometries of column {geo.column!r} are not in degrees")
        crs = "EPSG:4326"
    log.info("%s: geometry from column %r (%s)", path.name, geo.column, geo.fmt.upper())
    return gpd.GeoDataFrame(rest, geometry=list(geoms), crs=crs), mapping


def _from_pair(
    df: pd.DataFrame, pair: tuple[str, str, str], crs: Any, path: Path
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    cx, cy, family = pair
    x = parse_numbers(df[cx], cx).to_numpy()
    y = parse_numbers(df[cy], cy).to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(df), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    given = norm_crs(crs) if crs is not None else None
    if given is not None and family == "degrees" and given.is_projected:
        raise UnreadableInputError(
            f"columns {cx!r}/{cy!r} are longitude/latitude but the CRS given ({crs}) is "
            "projected; give a geographic CRS (or none: EPSG:4326), or name the columns x/y"
        )
    if crs is None:
        if family == "projected":
            raise _need_crs(f"columns {cx!r}/{cy!r} hold projected coordinates (metres)")
        if family == "xy" and not _in_degree_range(geoms):
            raise _need_crs(f"columns {cx!r}/{cy!r} are not longitude/latitude degrees")
        crs = "EPSG:4326"
    log.info("%s: points from columns %r (x) and %r (y), CRS %s", path.name, cx, cy, crs)
    rest = df.drop(columns=[cx, cy])
    mapping = {cx: "geometry.x", cy: "geometry.y"}
    return gpd.GeoDataFrame(rest, geometry=list(geoms), crs=crs), mapping


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells a spreadsheet would run as a formula (numbers are left).

    Text that already starts with ``'`` before a formula sign gets one more ``'``, so
    that reading the table back (which takes one off) gives the same text.

    Examples
    --------
    >>> escape_formulas(pd.DataFrame({"a": ["=1+1", "-3.5", "ok"], "n": [-1.0, 2.0, 3.0]}))
           a    n
    0  '=1+1 -1.0
    1   -3.5  2.0
    2     ok  3.0
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        text = s.astype("string")
        starts = text.str.slice(0, 1).isin(list(_FORMULA_START)).fillna(False).astype(bool)
        number = text.str.fullmatch(r"[+-]?\d+([.,]\d+)?([eE][+-]?\d+)?").fillna(False)
        lone = text.isin(["-", "+"]).fillna(False).astype(bool)  # a dash for "none" is harmless
        is_text = s.map(lambda v: isinstance(v, str)).astype(bool)
        hit = starts & ~number.astype(bool) & ~lone & is_text
        # text already starting with quotes before a formula sign gets one more, since the
        # reader takes one off ("'=" is written "''=" and read back as "'=")
        quoted = text.str.match(_QUOTED_FORMULA).fillna(False).astype(bool) & is_text
        hit |= quoted
        if hit.any():
            out[col] = s.where(~hit, "'" + text)
    return out

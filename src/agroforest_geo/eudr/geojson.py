"""GeoJSON for the EU information system: export (:func:`to_geojson`) and checks.

See :func:`check_geojson` for the checks.

The requirements are data, in :data:`agroforest_geo.eudr.rules.GEOJSON_RULES`
and :data:`~agroforest_geo.eudr.rules.GEOJSON_LIMITS`. The export meets them by
construction and :func:`check_geojson` verifies them on any file, ours or
someone else's.

Holes: the EU format has no interior rings, so a parcel with holes is cut along
a vertical line through each hole into hole-free parts, written as one
MultiPolygon feature. The parts share the cut edges (a strict OGC validator of
the whole MultiPolygon reports that; each part is a valid ring) and their areas
add up to the parcel's, so no hectare is lost or gained.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._antimeridian import cut_antimeridian
from .._screen import nonfinite
from ..area import area_ha
from ..crs import require_crs
from ..errors import InvalidGeometryError, MissingColumnError
from .rules import (
    COUNTRY_BOUNDS,
    GEOJSON_LIMITS,
    GEOJSON_REQUIRED_PROPERTIES,
    GEOJSON_RULES,
    GEOJSON_RULES_VERSION,
    ISO_3166_ALPHA2,
)

__all__ = ["check_geojson", "to_geojson"]

PathLike = str | os.PathLike[str]

_SMALL_AS = ("point", "polygon")
_WGS84_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "OGC:CRS84",
    "CRS84",
    "EPSG:4326",
    "urn:ogc:def:crs:EPSG::4326",
}
_SEVERITY = {r.code: r.severity for r in GEOJSON_RULES}
_DEFAULT_MAX_BYTES = int(GEOJSON_LIMITS["max_bytes"])
_DEFAULT_POINT_MAX_HA = float(GEOJSON_LIMITS["point_max_ha"])
#: Files larger than this are not parsed by :func:`check_geojson` (parsing holds the whole
#: document in memory, ~13x its size); they get ``file_too_large`` and should be split.
READ_LIMIT_BYTES = 32 * 1024 * 1024


# ----------------------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------------------


def _polygons(geom: shapely.Geometry) -> list[shapely.Polygon]:
    """Return the non-empty polygons of any geometry."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, shapely.Polygon):
        return [geom]
    if isinstance(geom, shapely.MultiPolygon | shapely.GeometryCollection):
        out: list[shapely.Polygon] = []
        for g in geom.geoms:
            out.extend(_polygons(g))
        return out
    return []


def _cut_first_hole(poly: shapely.Polygon, grid: float) -> list[shapely.Polygon]:
    """Cut ``poly`` along a vertical line through its first hole; the parts keep the area."""
    hole = shapely.Polygon(poly.interiors[0])
    x = hole.representative_point().x
    xg = round(x / grid) * grid  # on the output grid, so the cut edge survives rounding
    hx0, _, hx1, _ = hole.bounds
    if not hx0 < xg < hx1 or not hole.intersects(shapely.LineString([(xg, -91), (xg, 91)])):
        xg = x
    x0, y0, x1, y1 = poly.bounds
    left = shapely.intersection(poly, shapely.box(x0 - 1, y0 - 1, xg, y1 + 1))
    right = shapely.intersection(poly, shapely.box(xg, y0 - 1, x1 + 1, y1 + 1))
    return _polygons(left) + _polygons(right)


def _shoelace(p: np.ndarray) -> float:
    return 0.5 * float(np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1]))


def _round_ring(coords: np.ndarray, decimals: int) -> np.ndarray:
    """Round a closed ring to ``decimals``, keeping its area as close as the grid allows.

    Every vertex is first rounded to the nearest grid point. Then, greedily,
    single coordinates are moved to their other neighbouring grid point (so
    each stays within one grid step, 10**-decimals degrees, of the original)
    while that brings the ring's area closer to the original. Without this,
    rounding to 6 decimals (about 0.1 m) shifts the area of a small parcel by
    up to a few tenths of a percent. Consecutive repeated vertices are dropped.
    """
    scale = 10.0**decimals
    xy = coords[:-1, :2] * scale
    origin = np.floor(xy.min(axis=0)) if len(xy) else np.zeros(2)
    local = xy - origin  # small numbers: no cancellation in the area sums
    g = np.round(local)
    alt = np.where(local >= g, g + 1, g - 1)
    target = _shoelace(local)
    err = _shoelace(g) - target
    tried = np.zeros(g.shape, dtype=bool)
    for _ in range(2 * len(g)):
        if abs(err) < 1e-9:
            break
        gx = (np.roll(g[:, 1], -1) - np.roll(g[:, 1], 1)) / 2
        gy = (np.roll(g[:, 0], 1) - np.roll(g[:, 0], -1)) / 2
        delta = np.column_stack([(alt[:, 0] - g[:, 0]) * gx, (alt[:, 1] - g[:, 1]) * gy])
        gain = abs(err) - np.abs(err + delta)
        gain[tried] = -np.inf
        k = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if not gain[k] > 1e-9:
            break
        g[k], alt[k] = alt[k], g[k]
        tried[k] = True
        err = _shoelace(g) - target
    r = np.round((g + origin) / scale, decimals)
    r = np.vstack([r, r[:1]])
    keep = np.ones(len(r), dtype=bool)
    keep[1:] = np.any(r[1:] != r[:-1], axis=1)
    return r[keep]


def _eu_parts(geom: shapely.Geometry, decimals: int) -> list[np.ndarray]:
    """Hole-free, valid, counter-clockwise exterior rings rounded to ``decimals``.

    Each hole-free part is rounded vertex by vertex (half to even, which keeps the
    area closest); when that leaves a repeated vertex it is dropped, and when the
    rounded ring is invalid the part is snapped with ``shapely.set_precision``
    (valid output) or made valid, then checked again.
    """
    grid = 10.0**-decimals
    pending = _polygons(geom)
    rings: list[np.ndarray] = []
    for _ in range(1000):
        if not pending:
            break
        nxt: list[shapely.Polygon] = []
        for p in pending:
            if p.interiors:
                nxt.extend(_cut_first_hole(p, grid))
                continue
            p = shapely.orient_polygons(p, exterior_cw=False)
            ring = _round_ring(shapely.get_coordinates(p.exterior), decimals)
            if ring.shape[0] >= 4 and np.array_equal(ring[0], ring[-1]):
                check = shapely.Polygon(ring)
                if check.is_valid and check.area > 0:
                    rings.append(ring)
                    continue
                fixed = _polygons(shapely.set_precision(check, grid))
            else:
                fixed = _polygons(shapely.set_precision(p, grid))
            if len(fixed) == 1 and fixed[0].equals_exact(p, 0):  # pragma: no cover
                fixed = _polygons(shapely.make_valid(fixed[0]))
            nxt.extend(fixed)
        pending = nxt
    else:  # pragma: no cover - each round removes a hole or a defect
        raise InvalidGeometryError("could not make the rounded polygon valid")
    return rings


def _geometry_json(geom: shapely.Geometry, as_point: bool, decimals: int) -> dict[str, Any]:
    if as_point:
        pt = geom if geom.geom_type == "Point" else shapely.point_on_surface(geom)
        return {"type": "Point", "coordinates": [round(pt.x, decimals), round(pt.y, decimals)]}
    rings = _eu_parts(geom, decimals)
    polys = [[ring.tolist()] for ring in rings]
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    s = str(value).strip()
    return s or None


def to_geojson(
    parcels: gpd.GeoDataFrame,
    path: PathLike,
    *,
    producer_name_column: str = "producer_name",
    country: str = "PE",
    country_column: str | None = None,
    production_place_column: str | None = "district",
    id_column: str | None = "parcel_id",
    point_max_ha: float = _DEFAULT_POINT_MAX_HA,
    small_as: Literal["point", "polygon"] = "polygon",
    max_bytes: int = _DEFAULT_MAX_BYTES,
    decimals: int = 6,
) -> list[Path]:
    """Write parcels as the GeoJSON the EU information system accepts (EUDR geolocation).

    RFC 7946 FeatureCollection in WGS 84 with [longitude, latitude] positions
    rounded to ``decimals`` (at most 6); after rounding, rings are re-checked
    and fixed (repeated vertices removed, invalid rings made valid). Polygons
    are written without holes (cut into parts, area preserved, see the module
    notes), exterior rings counter-clockwise. Properties: ``ProducerName``,
    ``ProducerCountry`` (ISO 3166-1 alpha-2), ``ProductionPlace``, ``Area``
    (ellipsoidal hectares of the parcel, 4 decimals) and the id column.

    Point plots (allowed by the EU for plots of at most 4 ha) are written as
    points whose ``Area`` is their ``declared_area_ha``, else 4 ha (the default
    of :func:`agroforest_geo.area_ha` for points); a point declaring more than
    ``point_max_ha`` is refused. Polygons across the antimeridian are cut at
    ±180° (RFC 7946 §3.1.9).

    Parameters
    ----------
    parcels : GeoDataFrame
        Polygon or point parcels with a CRS (reprojected to WGS 84 for the file only).
    path : path
        Output file. When the collection would pass ``max_bytes`` it is split
        into ``<stem>_001.geojson``, ``<stem>_002.geojson``, ... instead.
    producer_name_column : str
        Column with the producer's name (required by the EU system).
    country : str
        ISO 3166-1 alpha-2 code of the country of production (``"PE"``), used
        unless ``country_column`` is given.
    country_column : str, optional
        Column with a country code per parcel.
    production_place_column : str or None
        Column naming the production place (district, village); ``None`` omits it.
    id_column : str or None
        Column written as an extra property (to join results back); ``None`` omits it.
    point_max_ha : float
        Plots whose ``Area`` (as written) is at most this may be written as points.
    small_as : {"polygon", "point"}
        How plots of at most ``point_max_ha`` are written; larger ones are always polygons.
    max_bytes : int
        Size limit of one file (25 MiB by default).
    decimals : int
        Decimals of the coordinates, 1..6 (6 is about 0.1 m).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    MissingColumnError, InvalidGeometryError, ValueError

    Examples
    --------
    >>> import agroforest_geo as agf, tempfile, pathlib
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "eu.geojson"
    >>> paths = agf.eudr.to_geojson(parcels, out)
    >>> [p.name for p in paths]
    ['eu.geojson']
    >>> len(agf.eudr.check_geojson(out))  # no problem found
    0
    """
    if not isinstance(parcels, gpd.GeoDataFrame):
        raise TypeError(f"parcels must be a GeoDataFrame, got {type(parcels).__name__}")
    if small_as not in _SMALL_AS:
        raise ValueError(f"small_as must be one of {list(_SMALL_AS)}, got {small_as!r}")
    if not (isinstance(decimals, int) and 1 <= decimals <= GEOJSON_LIMITS["max_decimals"]):
        raise ValueError(f"decimals must be an integer from 1 to 6, got {decimals!r}")
    if not point_max_ha >= 0:
        raise ValueError(f"point_max_ha must be >= 0, got {point_max_ha!r}")
    require_crs(parcels, "parcels")
    needed = [
        c
        for c in (producer_name_column, country_column, production_place_column, id_column)
        if c is not None
    ]
    absent = [c for c in needed if c not in parcels.columns]
    if absent:
        raise MissingColumnError(
            f"column(s) {absent} not in parcels (columns: "
            f"{[c for c in parcels.columns if c != parcels.geometry.name]}); pass the right "
            "column names (production_place_column=None / id_column=None to omit those)"
        )
    countries = (
        parcels[country_column].map(_text)
        if country_column
        else pd.Series(country, index=parcels.index)
    )
    bad = sorted({str(c) for c in countries if c not in ISO_3166_ALPHA2})
    if bad:
        raise ValueError(
            f"country code(s) {bad} are not ISO 3166-1 alpha-2; use upper-case codes such as "
            "'PE' (Peru), 'EC', 'CO'"
        )
    names = parcels[producer_name_column].map(_text)
    if names.isna().any():
        rows = names.index[names.isna()].tolist()[:10]
        raise ValueError(
            f"{int(names.isna().sum())} parcel(s) have no {producer_name_column} (rows {rows}); "
            "the EU system requires ProducerName: fill them in"
        )
    if len(parcels) == 0:
        raise ValueError(
            "no parcel to export (0 rows): the EU system needs at least one geolocation; "
            "check why the parcels were left out (e.g. all invalid: agf.validate)"
        )
    geoms = parcels.geometry
    bad_xy = nonfinite(geoms.values)
    if bad_xy.any():
        raise InvalidGeometryError(
            f"{int(bad_xy.sum())} parcel(s) have NaN or infinite coordinates (rows "
            f"{parcels.index[bad_xy].tolist()[:10]}); fix or drop them before exporting"
        )
    kinds = geoms.geom_type
    wrong = ~kinds.isin(["Polygon", "MultiPolygon", "Point"]) | geoms.is_empty | geoms.isna()
    invalid = ~wrong & ~geoms.is_valid
    if wrong.any() or invalid.any():
        rows = parcels.index[wrong | invalid].tolist()[:10]
        raise InvalidGeometryError(
            f"{int((wrong | invalid).sum())} parcel(s) are missing, empty, not polygons or "
            f"invalid (rows {rows}); run `parcels, report = agf.repair(parcels, kind='parcels')` "
            "and drop what cannot be repaired before exporting"
        )
    area = area_ha(parcels).round(4)  # a point: its declared area (4 ha by default)
    is_pt = (kinds == "Point").to_numpy()
    too_big = is_pt & (area.to_numpy() > point_max_ha)
    if too_big.any():
        raise InvalidGeometryError(
            f"{int(too_big.sum())} point plot(s) declare more than {point_max_ha:g} ha (rows "
            f"{parcels.index[too_big].tolist()[:10]}); the EU system needs their polygons"
        )
    wgs = cut_antimeridian(geoms.to_crs("EPSG:4326").values, 4326)
    features: list[str] = []
    for i, (geom, a) in enumerate(zip(wgs, area.to_numpy(), strict=True)):
        props: dict[str, Any] = {}
        if id_column is not None:
            props[id_column] = _text(parcels[id_column].iloc[i])
        props["ProducerName"] = names.iloc[i]
        props["ProducerCountry"] = countries.iloc[i]
        if production_place_column is not None:
            props["ProductionPlace"] = _text(parcels[production_place_column].iloc[i])
        props["Area"] = float(a)
        as_point = is_pt[i] or (small_as == "point" and float(a) <= point_max_ha)
        feature = {
            "type": "Feature",
            "properties": props,
            "geometry": _geometry_json(geom, as_point, decimals),
        }
        features.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return _write_split(features, Path(path), max_bytes)


_HEAD = '{"type":"FeatureCollection","features":[\n'
_TAIL = "\n]}\n"


def _write_split(features: list[str], path: Path, max_bytes: int) -> list[Path]:
    overhead = len(_HEAD.encode()) + len(_TAIL.encode())
    chunks: list[list[str]] = [[]]
    size = overhead
    for f in features:
        n = len(f.encode("utf-8")) + 2  # ",\n"
        if n + overhead > max_bytes:
            raise ValueError(
                f"one feature alone needs {n + overhead} bytes, more than max_bytes={max_bytes}; "
                "simplify that parcel or raise max_bytes"
            )
        if chunks[-1] and size + n > max_bytes:
            chunks.append([])
            size = overhead
        chunks[-1].append(f)
        size += n
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(chunks) == 1:
        targets = [path]
    else:
        width = max(3, len(str(len(chunks))))
        targets = [
            path.with_name(f"{path.stem}_{k:0{width}d}{path.suffix or '.geojson'}")
            for k in range(1, len(chunks) + 1)
        ]
    for target, chunk in zip(targets, chunks, strict=True):
        target.write_text(_HEAD + ",\n".join(chunk) + _TAIL, encoding="utf-8")
    return targets


# ----------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------

_CHECK_COLUMNS = ["file", "feature", "code", "severity", "message"]


def _decimals(v: Any) -> int:
    if isinstance(v, Decimal):
        exp = v.as_tuple().exponent
        return max(0, -exp) if isinstance(exp, int) else 0
    return 0


def _positions(coords: Any, depth: int) -> Iterator[Any]:
    if depth == 0:
        yield coords
        return
    for c in coords if isinstance(coords, list) else []:
        yield from _positions(c, depth - 1)


_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "Polygon": 2, "MultiPolygon": 3}


def _num(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def _check_feature(feat: Any, k: int, add: Any, max_decimals: int, point_max_ha: float) -> None:
    if not isinstance(feat, dict) or feat.get("type") != "Feature":
        add(k, "not_feature_collection", "member of 'features' is not a GeoJSON Feature")
        return
    props = feat.get("properties") or {}
    if not isinstance(props, dict):
        props = {}
    geom = feat.get("geometry")
    gtype = geom.get("type") if isinstance(geom, dict) else None
    for name in GEOJSON_REQUIRED_PROPERTIES:
        val = props.get(name)
        if val is None or (isinstance(val, str) and not val.strip()):
            add(k, "missing_property", f"property {name!r} is missing or empty")
    cc = props.get("ProducerCountry")
    if isinstance(cc, str) and cc.strip() and cc not in ISO_3166_ALPHA2:
        add(k, "bad_country", f"ProducerCountry {cc!r} is not an ISO 3166-1 alpha-2 code")
    area = props.get("Area")
    is_point = gtype in ("Point", "MultiPoint")
    if area is None:
        if is_point:
            add(k, "missing_property", "a point plot needs the property 'Area' (ha)")
    elif not _num(area) or not float(area) > 0:
        add(k, "bad_area", f"Area {area!r} is not a positive number of hectares")
    elif is_point and float(area) > point_max_ha:
        add(
            k,
            "point_too_large",
            f"point with Area {float(area):g} ha > {point_max_ha:g} ha: give the polygon",
        )
    if gtype not in ("Point", "MultiPoint", "Polygon", "MultiPolygon"):
        add(k, "unsupported_geometry", f"geometry type {gtype!r} is not accepted")
        return
    coords = geom.get("coordinates") if isinstance(geom, dict) else None
    pos = [p for p in _positions(coords, _DEPTH[gtype]) if isinstance(p, list)]
    if not pos or any(len(p) < 2 or not (_num(p[0]) and _num(p[1])) for p in pos):
        add(k, "unsupported_geometry", "coordinates are missing or not [longitude, latitude]")
        return
    ndec = max(max(_decimals(p[0]), _decimals(p[1])) for p in pos)
    if ndec > max_decimals:
        add(k, "too_many_decimals", f"coordinates with {ndec} decimals (max {max_decimals})")
    xy = np.array([[float(p[0]), float(p[1])] for p in pos])
    if not np.isfinite(xy).all():
        add(k, "unsupported_geometry", "coordinates that are not finite numbers")
        return
    x, y = xy[:, 0], xy[:, 1]
    if (np.abs(y) > 90).any() or (np.abs(x) > 180).any():
        if (np.abs(x) <= 90).all() and (np.abs(y) <= 180).all():
            add(k, "lat_lon_swapped", "latitudes beyond ±90: positions are [latitude, longitude]")
        else:
            add(k, "crs_not_wgs84", "coordinates beyond ±180/±90: not longitude/latitude degrees")
        return
    bounds = COUNTRY_BOUNDS.get(cc) if isinstance(cc, str) else None
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        swapped = (y >= x0) & (y <= x1) & (x >= y0) & (x <= y1)
        if not inside.any() and swapped.all():
            add(k, "lat_lon_swapped", f"positions fall in {cc} only when read as [lat, lon]")
    if gtype in ("Polygon", "MultiPolygon"):
        polys: list[Any] = [coords] if gtype == "Polygon" else list(coords or [])
        _check_polygons(polys, k, add)


def _is_position(p: Any) -> bool:
    return isinstance(p, list) and len(p) >= 2 and _num(p[0]) and _num(p[1])


def _check_polygons(polys: list[Any], k: int, add: Any) -> None:
    n_holes = unclosed = dup = short = malformed = 0
    invalid: list[str] = []
    for poly in polys:
        if not isinstance(poly, list) or not poly:
            short += 1
            continue
        if len(poly) > 1:
            n_holes += len(poly) - 1
        for r, ring in enumerate(poly):
            if not isinstance(ring, list) or not all(_is_position(p) for p in ring):
                malformed += 1
                continue
            arr = np.array([[float(p[0]), float(p[1])] for p in ring]) if ring else np.empty((0, 2))
            if len(arr) and not np.array_equal(arr[0], arr[-1]):
                unclosed += 1
            if len(arr) > 1 and np.any(np.all(arr[1:] == arr[:-1], axis=1)):
                dup += 1
            if len(arr) < 4:
                short += 1
                continue
            if r == 0 and np.array_equal(arr[0], arr[-1]):
                shell = shapely.Polygon(arr)
                if not shell.is_valid:
                    invalid.append(shapely.is_valid_reason(shell))
    if n_holes:
        add(k, "holes", f"{n_holes} interior ring(s): split the polygon into parts without holes")
    if unclosed:
        add(k, "unclosed_ring", f"{unclosed} ring(s) whose last position is not the first")
    if dup:
        add(k, "duplicate_vertices", f"{dup} ring(s) repeat a position consecutively")
    if short:
        add(k, "invalid_ring", f"{short} ring(s) with fewer than 4 positions")
    if malformed:
        add(k, "invalid_ring", f"{malformed} ring(s) that are not lists of [longitude, latitude]")
    for reason in invalid:
        add(k, "invalid_ring", f"invalid ring: {reason}")


def check_geojson(
    path: PathLike,
    *,
    max_bytes: int = _DEFAULT_MAX_BYTES,
    point_max_ha: float = _DEFAULT_POINT_MAX_HA,
) -> pd.DataFrame:
    """List the problems of a geolocation GeoJSON file against the EU information system rules.

    Works on any file (written by :func:`to_geojson` or not). The rule codes
    and severities are those of :data:`agroforest_geo.eudr.GEOJSON_RULES`.

    Parameters
    ----------
    path : path
        The GeoJSON file.
    max_bytes : int
        Size limit (25 MiB by default).
    point_max_ha : float
        Largest ``Area`` a point plot may declare (4 ha).

    Malformed input is reported, never raised: invalid JSON (including ``NaN``
    literals and nesting too deep to parse), rings that are not lists of
    positions, non-finite coordinates. Files over :data:`READ_LIMIT_BYTES`
    (32 MiB; parsing takes ~13x the file size in memory) are not parsed: they get
    ``file_too_large``.

    Returns
    -------
    pandas.DataFrame
        One row per problem and feature: ``file``, ``feature`` (0-based position
        in ``features``; missing for problems of the whole file), ``code``,
        ``severity``, ``message``. Empty when the file passes.

    Raises
    ------
    InputNotFoundError
        If the file does not exist.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bad.geojson"
    >>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature",
    ...       "properties": {"ProducerName": "A", "ProducerCountry": "PER", "Area": 9.5},
    ...       "geometry": {"type": "Point", "coordinates": [-76.7123456, -7.2]}}]}
    >>> _ = p.write_text(json.dumps(fc))
    >>> check_geojson(p)["code"].tolist()
    ['bad_country', 'point_too_large', 'too_many_decimals']
    """
    from ..errors import InputNotFoundError

    p = Path(path)
    if not p.exists():
        raise InputNotFoundError(f"{p} does not exist; check the path")
    rows: list[dict[str, Any]] = []

    def add(feature: int | None, code: str, message: str) -> None:
        rows.append(
            {
                "file": p.name,
                "feature": feature,
                "code": code,
                "severity": _SEVERITY[code],
                "message": message,
            }
        )

    def result() -> pd.DataFrame:
        out = pd.DataFrame(rows, columns=_CHECK_COLUMNS)
        out["feature"] = out["feature"].astype("Int64")
        out.attrs["rules_version"] = GEOJSON_RULES_VERSION
        return out

    size = p.stat().st_size
    if size > max_bytes:
        add(None, "file_too_large", f"{size} bytes > {max_bytes}: split the file")
    if size > READ_LIMIT_BYTES:
        add(
            None,
            "file_too_large",
            f"{size} bytes > {READ_LIMIT_BYTES} (READ_LIMIT_BYTES): not read further; split it "
            "(agf.eudr.to_geojson splits by max_bytes) and check each part",
        )
        return result()
    try:
        doc = json.loads(
            p.read_text(encoding="utf-8"), parse_float=Decimal, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        add(None, "invalid_json", f"not readable JSON: {exc}")
        return result()
    except RecursionError:
        add(None, "invalid_json", "not readable JSON: arrays or objects nested too deeply")
        return result()
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        add(None, "not_feature_collection", f"top-level type is {kind!r}, not FeatureCollection")
        if isinstance(doc, dict) and doc.get("type") == "Feature":
            doc = {"features": [doc]}
        else:
            return result()
    crs = doc.get("crs")
    if crs is not None:
        props = crs.get("properties") if isinstance(crs, dict) else None
        name = props.get("name") if isinstance(props, dict) else None
        if name not in _WGS84_NAMES:
            add(None, "crs_not_wgs84", f"crs {name!r}: the file must be WGS 84 longitude/latitude")
    feats = doc.get("features")
    if not isinstance(feats, list):
        add(None, "not_feature_collection", "'features' is missing or not a list")
        return result()
    max_dec = int(GEOJSON_LIMITS["max_decimals"])
    for k, feat in enumerate(feats):
        try:
            _check_feature(feat, k, add, max_dec, point_max_ha)
        except (TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
            # a shape no rule foresaw: a problem of the file, never a traceback
            add(k, "unsupported_geometry", f"malformed feature ({type(exc).__name__}: {exc})")
    return result()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259)")

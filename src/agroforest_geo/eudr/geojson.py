"""GeoJSON for the EU information system: export (:func:`to_geojson`) and checks.

See :func:`check_geojson` for the checks.

The requirements are data, in :data:`agroforest_geo.eudr.rules.GEOJSON_RULES`
and :data:`~agroforest_geo.eudr.rules.GEOJSON_LIMITS`. The export meets them by
construction and :func:`check_geojson` verifies them on any file, ours or
someone else's.

The rules follow the EC's "EUDR GeoJSON File Description" v1.4 and the
information system's API rules (:data:`~agroforest_geo.eudr.rules.GEOJSON_SPEC`;
each rule names its source).

Holes: the EU format has no interior rings, so a parcel with holes is cut along
a vertical line through each hole into hole-free pieces, each written as its own
Polygon feature of the same production place (same id and properties, its own
``Area``; the areas add up to the parcel's). One MultiPolygon of the pieces would
be invalid: they share the cut edges. Every written geometry is OGC-valid.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterator, Sequence
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._antimeridian import cut_antimeridian
from .._countrylayer import TOLERANCE_DEG, country_of, distance_to_country
from .._screen import nonfinite
from ..area import area_ha
from ..crs import require_crs
from ..errors import AgroforestGeoWarning, InvalidGeometryError, MissingColumnError
from ._eu_rings import eu_parts
from .rules import (
    COUNTRY_BOUNDS,
    GEOJSON_LIMITS,
    GEOJSON_REQUIRED_PROPERTIES,
    GEOJSON_RULES,
    GEOJSON_RULES_VERSION,
    ISO_3166_ALPHA2,
)

__all__ = ["check_geojson", "check_statement", "to_geojson"]

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
_POINT_MIN_HA = float(GEOJSON_LIMITS["point_min_ha"])
_DEFAULT_MAX_PRODUCERS = int(GEOJSON_LIMITS["max_producers_per_commodity"])
_MAX_PER_STATEMENT = int(GEOJSON_LIMITS["max_producers_per_statement"])
#: Files larger than this are not parsed by :func:`check_geojson` (parsing holds the whole
#: document in memory, ~13x its size); they get ``file_too_large`` and should be split.
READ_LIMIT_BYTES = 32 * 1024 * 1024


# ----------------------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------------------


def _geometries_json(
    geom: shapely.Geometry, as_point: bool, decimals: int
) -> list[tuple[dict[str, Any], shapely.Geometry | None]]:
    """GeoJSON geometries of one parcel: one, or one per part when one would be invalid.

    Returns ``(geometry, piece)`` pairs; ``piece`` is the written polygon when the
    parcel had to be written as several features (``None`` otherwise).
    """
    if as_point:
        pt = geom if geom.geom_type == "Point" else shapely.point_on_surface(geom)
        return [
            ({"type": "Point", "coordinates": [round(pt.x, decimals), round(pt.y, decimals)]}, None)
        ]
    rings = eu_parts(geom, decimals)
    if len(rings) == 1:
        return [({"type": "Polygon", "coordinates": [rings[0].tolist()]}, None)]
    parts = [shapely.Polygon(r) for r in rings]
    if shapely.MultiPolygon(parts).is_valid:
        return [({"type": "MultiPolygon", "coordinates": [[r.tolist()] for r in rings]}, None)]
    # the parts share boundary segments (a holed parcel cut into pieces, or parts that
    # touch after rounding): one Polygon feature each, all of the same production place
    return [
        ({"type": "Polygon", "coordinates": [r.tolist()]}, p)
        for r, p in zip(rings, parts, strict=True)
    ]


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    s = str(value).strip()
    return s or None


def _countries(
    parcels: gpd.GeoDataFrame,
    wgs: np.ndarray,
    country: str | None,
    country_column: str | None,
) -> pd.Series:
    """ProducerCountry per parcel: given (checked against the geometry) or from the geometry."""
    if country_column:
        given = parcels[country_column].map(_text)
    elif country is not None:
        given = pd.Series(country, index=parcels.index, dtype=object)
    else:
        found = pd.Series(country_of(wgs), index=parcels.index, dtype=object)
        if found.isna().any():
            rows = found.index[found.isna()].tolist()[:10]
            raise InvalidGeometryError(
                f"{int(found.isna().sum())} parcel(s) lie in no country of the bundled "
                f"Natural Earth layer, even within {TOLERANCE_DEG}° (rows {rows}); check their "
                "coordinates (lat/lon swapped?) or pass country= / country_column="
            )
        return found
    bad = sorted({str(c) for c in given if c not in ISO_3166_ALPHA2})
    if bad:
        raise ValueError(
            f"country code(s) {bad} are not ISO 3166-1 alpha-2; use upper-case codes such as "
            "'PE' (Peru), 'EC', 'CO'"
        )
    far = distance_to_country(wgs, given.to_numpy(dtype=object)) > TOLERANCE_DEG
    if far.any():
        elsewhere = country_of(wgs[far])
        rows = parcels.index[far].tolist()[:10]
        raise ValueError(
            f"{int(far.sum())} parcel(s) lie more than {TOLERANCE_DEG}° from their declared "
            f"country (rows {rows}; by their geometry: {sorted({str(c) for c in elsewhere})}); "
            "pass country=None to fill ProducerCountry from the geometry, or fix country_column"
        )
    return given


def _refuse_bad_geometries(parcels: gpd.GeoDataFrame) -> None:
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


def _point_areas(parcels: gpd.GeoDataFrame, area: pd.Series, point_max_ha: float) -> np.ndarray:
    is_pt = (parcels.geometry.geom_type == "Point").to_numpy()
    a = area.to_numpy()
    for wrong, what in (
        (is_pt & (a > point_max_ha), f"more than {point_max_ha:g} ha"),
        (is_pt & (a < _POINT_MIN_HA), f"less than {_POINT_MIN_HA:g} ha (1 m²)"),
    ):
        if wrong.any():
            raise InvalidGeometryError(
                f"{int(wrong.sum())} point plot(s) declare {what} (rows "
                f"{parcels.index[wrong].tolist()[:10]}); the EU system needs an Area from "
                f"{_POINT_MIN_HA:g} to {point_max_ha:g} ha for a point: give the polygon or "
                "fix declared_area_ha"
            )
    return is_pt


def _check_options(small_as: str, decimals: Any, point_max_ha: float, max_producers: Any) -> None:
    if small_as not in _SMALL_AS:
        raise ValueError(f"small_as must be one of {list(_SMALL_AS)}, got {small_as!r}")
    if not (isinstance(decimals, int) and 1 <= decimals <= GEOJSON_LIMITS["max_decimals"]):
        raise ValueError(f"decimals must be an integer from 1 to 6, got {decimals!r}")
    if not point_max_ha >= 0:
        raise ValueError(f"point_max_ha must be >= 0, got {point_max_ha!r}")
    if not (isinstance(max_producers, int) and max_producers >= 1):
        raise ValueError(f"max_producers must be a positive integer, got {max_producers!r}")


def to_geojson(
    parcels: gpd.GeoDataFrame,
    path: PathLike,
    *,
    producer_name_column: str | None = "producer_name",
    country: str | None = None,
    country_column: str | None = None,
    production_place_column: str | None = "district",
    id_column: str | None = "parcel_id",
    point_max_ha: float = _DEFAULT_POINT_MAX_HA,
    small_as: Literal["point", "polygon"] = "polygon",
    max_bytes: int = _DEFAULT_MAX_BYTES,
    max_producers: int = _DEFAULT_MAX_PRODUCERS,
    decimals: int = 6,
) -> list[Path]:
    """Write parcels as the GeoJSON the EU information system accepts (EUDR geolocation).

    Follows :data:`~agroforest_geo.eudr.rules.GEOJSON_SPEC` (the EC's GeoJSON File
    Description v1.4 and API rules). RFC 7946 FeatureCollection in WGS 84 with
    [longitude, latitude] positions rounded to ``decimals`` (at most 6, so the
    system's truncation to 6 decimals changes nothing); after rounding, rings are
    re-checked and fixed (vertices that coincide are removed, invalid rings made
    valid), so no two consecutive vertices coincide and every written geometry is
    OGC-valid (``shapely.is_valid``). Exterior rings are counter-clockwise.
    Properties: ``ProducerName`` (when known), ``ProducerCountry`` (ISO 3166-1
    alpha-2), ``ProductionPlace``, ``Area`` (ellipsoidal hectares, 4 decimals)
    and the id column.

    Holes: the EU format has no interior rings. A parcel with holes is cut along a
    vertical line through each hole into hole-free pieces, and each piece is written
    as **its own Polygon feature** with the parcel's properties (same id, producer
    and production place) and its own ``Area``; the pieces' areas add up to the
    parcel's. They are not put in one MultiPolygon because the pieces share the cut
    edges, which makes a MultiPolygon invalid (OGC: parts may touch only at points);
    separate features are valid each, and are what the EC's file description
    recommends for "doughnut" plots (split into half-moon polygons). Disjoint parts
    of a MultiPolygon parcel stay one MultiPolygon feature while that is valid.

    Point plots (allowed by the EU for plots of at most 4 ha) are written as
    points whose ``Area`` is their ``declared_area_ha``, else 4 ha (the default
    of :func:`agroforest_geo.area_ha` for points); a point declaring more than
    ``point_max_ha`` or less than 0.0001 ha is refused. Polygons across the
    antimeridian are cut at ±180° (RFC 7946 §3.1.9).

    Parameters
    ----------
    parcels : GeoDataFrame
        Polygon or point parcels with a CRS (reprojected to WGS 84 for the file only).
    path : path
        Output file. When the collection would pass ``max_bytes`` or
        ``max_producers`` features it is split into ``<stem>_001.geojson``,
        ``<stem>_002.geojson``, ... instead (the pieces of one parcel stay together).
    producer_name_column : str or None
        Column with the producer's name (optional in the EU system: missing names
        are left out of the feature; ``None`` omits the property).
    country : str, optional
        ISO 3166-1 alpha-2 code of the country of production for every parcel. By
        default (``None``) each parcel's ``ProducerCountry`` is the country its
        geometry lies in (bundled Natural Earth 1:110m layer). A given country is
        checked against the geometry (0.5° tolerance, see
        :mod:`agroforest_geo.eudr.country`).
    country_column : str, optional
        Column with a country code per parcel (checked likewise); wins over ``country``.
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
    max_producers : int
        Features (producers) per file: 1,000, the system's limit per commodity. More
        than 10,000 in all (the limit of one statement) gives a warning.
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
    _check_options(small_as, decimals, point_max_ha, max_producers)
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
    if len(parcels) == 0:
        raise ValueError(
            "no parcel to export (0 rows): the EU system needs at least one geolocation; "
            "check why the parcels were left out (e.g. all invalid: agf.validate)"
        )
    _refuse_bad_geometries(parcels)
    area = area_ha(parcels).round(4)  # a point: its declared area (4 ha by default)
    is_pt = _point_areas(parcels, area, point_max_ha)
    wgs = cut_antimeridian(parcels.geometry.to_crs("EPSG:4326").values, 4326)
    wgs = np.asarray(wgs, dtype=object)
    countries = _countries(parcels, wgs, country, country_column)
    names = (
        parcels[producer_name_column].map(_text)
        if producer_name_column
        else pd.Series(None, index=parcels.index, dtype=object)
    )
    groups: list[list[str]] = []
    for i, (geom, a) in enumerate(zip(wgs, area.to_numpy(), strict=True)):
        props: dict[str, Any] = {}
        if id_column is not None:
            props[id_column] = _text(parcels[id_column].iloc[i])
        if names.iloc[i] is not None:
            props["ProducerName"] = names.iloc[i]
        props["ProducerCountry"] = countries.iloc[i]
        if production_place_column is not None:
            props["ProductionPlace"] = _text(parcels[production_place_column].iloc[i])
        as_point = is_pt[i] or (small_as == "point" and _POINT_MIN_HA <= float(a) <= point_max_ha)
        group = []
        for gj, piece in _geometries_json(geom, as_point, decimals):
            piece_area = float(a) if piece is None else _piece_area(piece)
            feature = {
                "type": "Feature",
                "properties": {**props, "Area": piece_area},
                "geometry": gj,
            }
            group.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
        groups.append(group)
    n_features = sum(len(g) for g in groups)
    if n_features > _MAX_PER_STATEMENT:
        warnings.warn(
            f"{n_features} features: more than the {_MAX_PER_STATEMENT:,} producers one due "
            "diligence statement takes; the files must go into several statements",
            AgroforestGeoWarning,
            stacklevel=2,
        )
    return _write_split(groups, Path(path), max_bytes, max_producers)


def _piece_area(piece: shapely.Polygon) -> float:
    return round(float(area_ha(gpd.GeoSeries([piece], crs=4326)).iloc[0]), 4)


_HEAD = '{"type":"FeatureCollection","features":[\n'
_TAIL = "\n]}\n"


def _write_split(groups: list[list[str]], path: Path, max_bytes: int, max_n: int) -> list[Path]:
    """Write the features in files of at most ``max_bytes`` and ``max_n`` features.

    A group (the features of one parcel) is never split across files.
    """
    overhead = len(_HEAD.encode()) + len(_TAIL.encode())
    chunks: list[list[str]] = [[]]
    size = overhead
    for group in groups:
        n = sum(len(f.encode("utf-8")) + 2 for f in group)  # ",\n"
        if n + overhead > max_bytes or len(group) > max_n:
            raise ValueError(
                f"one parcel alone needs {n + overhead} bytes and {len(group)} feature(s), more "
                f"than max_bytes={max_bytes} or max_producers={max_n}; simplify that parcel "
                "or raise the limit"
            )
        if chunks[-1] and (size + n > max_bytes or len(chunks[-1]) + len(group) > max_n):
            chunks.append([])
            size = overhead
        chunks[-1].extend(group)
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


def _check_feature(
    feat: Any, k: int, add: Any, max_decimals: int, point_max_ha: float, locs: list[Any]
) -> None:
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
    elif is_point and float(area) < _POINT_MIN_HA:
        add(
            k,
            "point_area_too_small",
            f"point with Area {float(area):g} ha < {_POINT_MIN_HA:g} ha (the system's minimum)",
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
        add(
            k,
            "too_many_decimals",
            f"coordinates with {ndec} decimals: the system truncates them to {max_decimals}",
        )
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
            return
    locs.append((k, float(x.mean()), float(y.mean()), cc if isinstance(cc, str) else None))
    if gtype in ("Polygon", "MultiPolygon"):
        polys: list[Any] = [coords] if gtype == "Polygon" else list(coords or [])
        _check_polygons(polys, k, add, max_decimals)


def _is_position(p: Any) -> bool:
    return isinstance(p, list) and len(p) >= 2 and _num(p[0]) and _num(p[1])


def _truncate(ring: list[Any], decimals: int) -> np.ndarray:
    """Positions truncated (toward zero) to ``decimals``, as the EU system stores them."""
    q = Decimal(1).scaleb(-decimals)
    return np.array(
        [[float(Decimal(v).quantize(q, rounding=ROUND_DOWN)) for v in p[:2]] for p in ring]
    )


def _check_polygons(polys: list[Any], k: int, add: Any, decimals: int) -> None:
    n_holes = unclosed = dup = short = malformed = coincide = 0
    invalid: list[str] = []
    shells: list[shapely.Polygon] = []
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
                    continue
                shells.append(shell)
                cut = _truncate(ring, decimals)
                if not np.array_equal(cut, arr) and (
                    np.any(np.all(cut[1:] == cut[:-1], axis=1)) or not shapely.Polygon(cut).is_valid
                ):
                    coincide += 1
    if n_holes:
        add(k, "holes", f"{n_holes} interior ring(s): split the polygon into parts without holes")
    if unclosed:
        add(k, "unclosed_ring", f"{unclosed} ring(s) whose last position is not the first")
    if dup:
        add(k, "duplicate_vertices", f"{dup} ring(s) repeat a position consecutively")
    if coincide:
        add(
            k,
            "vertices_coincide_after_truncation",
            f"{coincide} ring(s) whose vertices coincide (or that become invalid) once the "
            f"system truncates them to {decimals} decimals: remove the near-duplicate vertices",
        )
    if short:
        add(k, "invalid_ring", f"{short} ring(s) with fewer than 4 positions")
    if malformed:
        add(k, "invalid_ring", f"{malformed} ring(s) that are not lists of [longitude, latitude]")
    for reason in invalid:
        add(k, "invalid_ring", f"invalid ring: {reason}")
    if len(shells) > 1 and not invalid:
        multi = shapely.MultiPolygon(shells)
        if not multi.is_valid:
            add(
                k,
                "invalid_multipolygon",
                f"{shapely.is_valid_reason(multi)}: parts that share edges or overlap; write "
                "them as separate Polygon features (or merge them)",
            )


def _check_countries(locs: list[Any], add: Any) -> None:
    """Check the declared ProducerCountry against the geometry; find swapped axes by country."""
    if not locs:
        return
    ks = [t[0] for t in locs]
    pts = shapely.points([(t[1], t[2]) for t in locs])
    declared = np.array([t[3] if t[3] in ISO_3166_ALPHA2 else None for t in locs], dtype=object)
    found = country_of(pts)
    swapped = country_of(shapely.points([(t[2], t[1]) for t in locs]))
    dist = distance_to_country(pts, declared)
    for j, k in enumerate(ks):
        if found[j] is None and swapped[j] is not None and declared[j] in (None, swapped[j]):
            add(
                k,
                "lat_lon_swapped",
                f"the position lies in no country; read as [lat, lon] it lies in {swapped[j]}",
            )
        elif dist[j] > TOLERANCE_DEG:
            where = f"in {found[j]}" if found[j] is not None else "in no country"
            add(
                k,
                "country_mismatch",
                f"ProducerCountry {declared[j]} but the geometry lies {where}, "
                f"{dist[j]:.1f}° from {declared[j]} (Natural Earth 1:110m, tolerance "
                f"{TOLERANCE_DEG}°)",
            )


def check_geojson(
    path: PathLike,
    *,
    max_bytes: int = _DEFAULT_MAX_BYTES,
    point_max_ha: float = _DEFAULT_POINT_MAX_HA,
    max_producers: int = _DEFAULT_MAX_PRODUCERS,
) -> pd.DataFrame:
    """List the problems of a geolocation GeoJSON file against the EU information system rules.

    Works on any file (written by :func:`to_geojson` or not). The rule codes
    and severities are those of :data:`agroforest_geo.eudr.GEOJSON_RULES`.

    ``ProducerCountry`` is checked against the geometry with the bundled Natural
    Earth 1:110m countries, within 0.5° (~55 km; the layer's borders are that
    coarse): ``country_mismatch``. Codes the layer does not draw (small islands)
    are not checked. A position in no country that falls in one when read as
    [latitude, longitude] is ``lat_lon_swapped``.

    Malformed input is reported, never raised: invalid JSON (including ``NaN``
    literals and nesting too deep to parse), rings that are not lists of
    positions, non-finite coordinates. Files over :data:`READ_LIMIT_BYTES`
    (32 MiB; parsing takes ~13x the file size in memory) are not parsed: they get
    ``file_too_large``.

    Parameters
    ----------
    path : path
        The GeoJSON file.
    max_bytes : int
        Size limit (25 MiB by default).
    point_max_ha : float
        Largest ``Area`` a point plot may declare (4 ha).
    max_producers : int
        Features (producers) one file may hold: 1,000, the system's limit per
        commodity. For the limit of a statement (10,000) see :func:`check_statement`.


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

    n_producers = [0]

    def result() -> pd.DataFrame:
        out = pd.DataFrame(rows, columns=_CHECK_COLUMNS)
        out = out.sort_values("feature", kind="stable", na_position="first", ignore_index=True)
        out["feature"] = out["feature"].astype("Int64")
        out.attrs["rules_version"] = GEOJSON_RULES_VERSION
        out.attrs["n_features"] = n_producers[0]
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
    n_producers[0] = len(feats)
    if len(feats) > max_producers:
        add(
            None,
            "too_many_producers",
            f"{len(feats)} features > {max_producers} producers per commodity: split the file",
        )
    locs: list[Any] = []
    for k, feat in enumerate(feats):
        try:
            _check_feature(feat, k, add, max_dec, point_max_ha, locs)
        except (TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
            # a shape no rule foresaw: a problem of the file, never a traceback
            add(k, "unsupported_geometry", f"malformed feature ({type(exc).__name__}: {exc})")
    _check_countries(locs, add)
    return result()


def check_statement(
    paths: Sequence[PathLike],
    *,
    max_producers: int = _DEFAULT_MAX_PRODUCERS,
    max_statement: int = _MAX_PER_STATEMENT,
    **options: Any,
) -> pd.DataFrame:
    """Check the geolocation files of one due diligence statement (each file one commodity).

    :func:`check_geojson` on each file, plus the statement's own limit: at most
    10,000 producers (features) in all (``too_many_producers``, ``file`` missing).

    Parameters
    ----------
    paths : sequence of paths
        The statement's GeoJSON files (e.g. those written by :func:`to_geojson`).
    max_producers : int
        Features per file (1,000 per commodity).
    max_statement : int
        Features in all the files (10,000).
    **options
        ``max_bytes``, ``point_max_ha``: passed to :func:`check_geojson`.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`check_geojson` for every file, then the statement's.

    Examples
    --------
    >>> import agroforest_geo as agf, tempfile, pathlib
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "eu.geojson"
    >>> paths = agf.eudr.to_geojson(parcels, out, max_producers=100)
    >>> len(paths), len(agf.eudr.check_statement(paths))
    (3, 0)
    >>> agf.eudr.check_statement(paths, max_statement=250)["code"].tolist()
    ['too_many_producers']
    """
    tables = [check_geojson(p, max_producers=max_producers, **options) for p in paths]
    total = sum(int(t.attrs.get("n_features", 0)) for t in tables)
    out = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=_CHECK_COLUMNS)
    if total > max_statement:
        row = {
            "file": None,
            "feature": pd.NA,
            "code": "too_many_producers",
            "severity": _SEVERITY["too_many_producers"],
            "message": f"{total} features in {len(tables)} file(s) > {max_statement} producers "
            "per statement: split them over several statements",
        }
        out = pd.concat([out, pd.DataFrame([row])], ignore_index=True)
    out["feature"] = out["feature"].astype("Int64")
    out.attrs["rules_version"] = GEOJSON_RULES_VERSION
    out.attrs["n_features"] = total
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259)")

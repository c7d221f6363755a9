"""The bundled country layer (Natural Earth 1:110m, public domain) and point-in-country look-ups.

Kept here, below every module that uses it (the EU GeoJSON checks and export, the
country evidence of :mod:`agroforest_geo.eudr.country`). Read lazily, once.

Method
------
A geometry's country is the country polygon that contains its representative
point (``shapely.point_on_surface``; for a point, the point). 1:110m borders
and coasts are generalised by up to tens of kilometres, so a point that falls
in no polygon (a coastal plot outside the coarse coastline) takes the nearest
country within :data:`TOLERANCE_DEG`, and a declared country is accepted when
the geometry lies within :data:`TOLERANCE_DEG` of it. Distances are planar in
degrees, so the tolerance is ~55 km north-south everywhere and less east-west
away from the equator (~39 km at 45°), still above the layer's error.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

import numpy as np
import shapely

__all__ = ["TOLERANCE_DEG", "country_codes", "country_of", "distance_to_country"]

#: Half a degree (~55 km): a country check accepts geometries this close to the declared
#: country. Natural Earth 1:110m is drawn for a scale of 1:110 000 000, at which 0.5 mm on
#: the map is 55 km; its borders and coasts are off by up to that much.
TOLERANCE_DEG = 0.5

#: Codes written for territories that the 1:110m layer draws as part of another country.
_PART_OF = {"GF": "FR"}


@functools.lru_cache(maxsize=1)
def _layer() -> tuple[np.ndarray, np.ndarray, shapely.STRtree]:
    text = (
        resources.files("agroforest_geo")
        .joinpath("_data/countries_ne110m.geojson")
        .read_text(encoding="utf-8")
    )
    feats = json.loads(text)["features"]
    codes = np.array([f["properties"]["iso_a2"] for f in feats], dtype=object)
    # not prepared: the layer is shared by every thread, and GEOS builds a prepared
    # geometry's indexes lazily with no lock (the index's queries prepare their input)
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in feats])
    return codes, geoms, shapely.STRtree(geoms)


def country_codes() -> frozenset[str]:
    """Return the ISO 3166-1 alpha-2 codes the layer draws."""
    return frozenset(_layer()[0].tolist())


def _anchor(geoms: np.ndarray) -> np.ndarray:
    pts = shapely.point_on_surface(geoms)
    return np.where(shapely.get_type_id(geoms) == 0, geoms, pts)


def country_of(geoms: np.ndarray, *, tolerance_deg: float = TOLERANCE_DEG) -> np.ndarray:
    """ISO alpha-2 code of the country of each WGS 84 geometry; ``None`` outside every country.

    Empty or missing geometries get ``None``.
    """
    codes, _, tree = _layer()
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    pts = _anchor(geoms[idx])
    hit_in, hit_country = tree.query(pts, predicate="intersects")
    first = np.full(len(pts), -1)
    first[hit_in[::-1]] = hit_country[::-1]  # first hit per point
    miss = np.flatnonzero(first < 0)
    if len(miss):
        near_in, near_country = tree.query_nearest(
            pts[miss], max_distance=tolerance_deg, all_matches=False
        )
        first[miss[near_in]] = near_country
    found = first >= 0
    out[idx[found]] = codes[first[found]]
    return out


def distance_to_country(geoms: np.ndarray, declared: np.ndarray) -> np.ndarray:
    """Planar distance in degrees from each WGS 84 geometry to its declared country.

    0 when it touches the country; NaN when the code is not drawn by the layer (small
    islands, territories) or the geometry is missing.
    """
    codes, polys, _ = _layer()
    lookup = {c: i for i, c in enumerate(codes.tolist())}
    out = np.full(len(declared), np.nan)
    for k, (g, cc) in enumerate(zip(geoms, declared, strict=True)):
        i = lookup.get(_PART_OF.get(cc, cc)) if isinstance(cc, str) else None
        if i is None or g is None or shapely.is_empty(g):
            continue
        out[k] = float(shapely.distance(polys[i], g))
    return out

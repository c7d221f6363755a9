"""Build the bundled country layer ``src/agroforest_geo/_data/countries_ne110m.geojson``.

Source: Natural Earth 1:110m Cultural Vectors, Admin 0 - Countries (public domain,
https://www.naturalearthdata.com/about/terms-of-use/), as the ``naturalearth_lowres``
shapefile once shipped with geopandas (fields name, iso_a3). ISO 3166-1 alpha-3 codes
are turned into alpha-2 with the iso-codes table (Debian/freedesktop ``iso_3166-1.json``).
Coordinates are kept to 3 decimals (about 100 m, far below the map's own generalisation
of tens of kilometres), which makes the file about a third of the shapefile's size.

Usage::

    python scripts/make_country_layer.py NATURALEARTH_LOWRES.shp ISO_3166-1.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely

OUT = Path(__file__).resolve().parents[1] / "src" / "agroforest_geo" / "_data"
#: Natural Earth 110m entries whose code is not an ISO 3166-1 alpha-3 code, and the ISO 3166-1
#: alpha-2 code of the territory they lie in (ISO codes the whole island of Cyprus CY and all of
#: Somalia SO; Kosovo has the user-assigned XK used by the EU and by Natural Earth's iso_a2).
NOT_ISO3 = {"CYN": "CY", "SOL": "SO", "-99": "XK"}


def main(shp: str, iso_json: str) -> None:
    """Write the compact country layer."""
    table = json.loads(Path(iso_json).read_text(encoding="utf-8"))["3166-1"]
    a3_to_a2 = {row["alpha_3"]: row["alpha_2"] for row in table}
    ne = gpd.read_file(shp)
    codes = [NOT_ISO3[a3] if a3 in NOT_ISO3 else a3_to_a2[a3] for a3 in ne["iso_a3"]]
    geoms = shapely.make_valid(shapely.set_precision(ne.geometry.values, 0.001))
    out = gpd.GeoDataFrame({"iso_a2": codes}, geometry=geoms, crs=4326)
    out = out.dissolve("iso_a2", as_index=False, sort=True)  # one row per code
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / "countries_ne110m.geojson"
    out.to_file(target, driver="GeoJSON", COORDINATE_PRECISION=3)
    doc = json.loads(target.read_text(encoding="utf-8"))
    doc.pop("name", None)
    target.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Write the two field-export sample tables from ``sample_data/parcels.gpkg`` (deterministic).

* ``gps_points_es.csv``: 24 parcels of at most 4 ha recorded as one GPS point each, as
  a Peruvian cooperative's spreadsheet has them: Spanish column names, ``;`` separator,
  decimal commas, UTF-8 with BOM (Excel's "CSV UTF-8"), ids with leading zeros.
* ``terratrac_farms.csv``: 12 farms in TerraTrac's CSV export layout (``polygon`` as
  ``"[[lon, lat], ...]"``, an open ring; farms recorded as a point have ``[]``).

Both are derived from the synthetic parcels (same places, same declared areas), so
every point lies inside its parcel and every polygon is its parcel's outline.

    python scripts/make_field_exports.py              # writes into sample_data/
    python scripts/make_field_exports.py --out DIR
"""

from __future__ import annotations

import argparse
import csv
import uuid
from pathlib import Path

import geopandas as gpd
import shapely

ROOT = Path(__file__).resolve().parents[1]
TERRATRAC_HEADER = [
    "remote_id", "farmer_name", "member_id", "collection_site", "agent_name", "farm_village",
    "farm_district", "farm_size", "latitude", "longitude", "polygon", "created_at", "updated_at",
]  # fmt: skip
NAMESPACE = uuid.UUID("6f1c2b9e-0d4a-4a57-9a53-2f0c5b1d7e10")


def _comma(x: float, digits: int) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def gps_points(parcels: gpd.GeoDataFrame, path: Path) -> None:
    small = parcels[(parcels["declared_area_ha"] <= 4.0) & (parcels.geom_type == "Polygon")]
    pick = small.iloc[::5].head(24)
    pts = shapely.point_on_surface(pick.geometry.values)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        w.writerow(["codigo", "productor", "distrito", "cultivo", "Longitud", "Latitud",
                    "area_declarada_ha", "fecha_visita"])  # fmt: skip
        for k, (row, pt) in enumerate(zip(pick.itertuples(), pts, strict=True)):
            code = f"{int(row.parcel_id[1:]):06d}"
            w.writerow([
                code, row.producer_name, row.district, row.crop.split(";")[0],
                _comma(shapely.get_x(pt), 6), _comma(shapely.get_y(pt), 6),
                _comma(row.declared_area_ha, 2), f"2024-{3 + k % 6:02d}-{10 + k:02d}",
            ])  # fmt: skip


def terratrac(parcels: gpd.GeoDataFrame, path: Path) -> None:
    simple = parcels[parcels.geom_type == "Polygon"]
    simple = simple[[len(g.interiors) == 0 for g in simple.geometry]]
    pick = simple.iloc[7::23].head(12)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(TERRATRAC_HEADER)
        for k, row in enumerate(pick.itertuples()):
            geom = row.geometry
            centre = shapely.point_on_surface(geom)
            as_point = k % 4 == 3 and row.declared_area_ha <= 4.0
            ring = list(geom.exterior.coords)[:-1]  # TerraTrac rings are not closed
            polygon = "[]" if as_point else (
                "[" + ", ".join(f"[{x:.7f}, {y:.7f}]" for x, y in ring) + "]"
            )  # fmt: skip
            stamp = f"Mon Mar {4 + k:02d} 10:{15 + k:02d}:00 GMT-05:00 2024"
            w.writerow([
                str(uuid.uuid5(NAMESPACE, row.parcel_id)), row.producer_name, row.member_id,
                f"Acopio {row.district}", "Tecnico 01", f"Caserio {k % 3 + 1}", row.district,
                f"{row.declared_area_ha:.2f}", f"{centre.y:.7f}", f"{centre.x:.7f}", polygon,
                stamp, stamp,
            ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "sample_data")
    args = parser.parse_args()
    parcels = gpd.read_file(ROOT / "sample_data" / "parcels.gpkg", layer="parcels")
    args.out.mkdir(parents=True, exist_ok=True)
    gps_points(parcels, args.out / "gps_points_es.csv")
    terratrac(parcels, args.out / "terratrac_farms.csv")


if __name__ == "__main__":
    main()

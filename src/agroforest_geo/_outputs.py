"""The files of an assessment: the per-parcel table, the EU GeoJSON, the findings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from ._atomic import OutputSet

if TYPE_CHECKING:
    from .workflow import Assessment

__all__ = ["assessment_table", "findings_table", "write_outputs"]

log = logging.getLogger(__name__)

#: Attributes of the parcels carried into the per-parcel table.
_PARCEL_ATTRIBUTES = ("province", "district", "member_id", "crop")
_DECLARED = ("declared_area_ha", "area_difference_ha", "declared_ratio", "declared_off")


def assessment_table(a: Assessment) -> pd.DataFrame:
    """Return the per-parcel table: the result, the parcels' attributes, declared areas."""
    table = a.result.copy()
    table["status"] = table["status"].astype(str)
    table["agroforestry_evidence"] = table["agroforestry_evidence"].astype(object)
    for c in _PARCEL_ATTRIBUTES:
        if c in a.parcels.columns and c not in table.columns:
            table[c] = a.parcels[c]
    for c in _DECLARED:
        if c in a.evidence.columns:
            table[c] = a.evidence[c]
    table.attrs = {}
    return table


def findings_table(validation: dict) -> pd.DataFrame:
    """Return the findings of every layer in one table with a ``layer`` column."""
    frames = [v.findings.assign(layer=k) for k, v in validation.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _write_geojson(
    a: Assessment,
    staged: OutputSet,
    *,
    country: str | None,
    producer_name_column: str,
    production_place_column: str | None,
) -> dict[str, Path]:
    from .eudr import check_geojson, to_geojson

    parcels = a.parcels
    if producer_name_column not in parcels.columns:
        log.warning(
            "no %r column: EU GeoJSON not written (name the producer-name column)",
            producer_name_column,
        )
        return {}
    exportable = parcels[(a.result["status"].astype(str) != "invalid_geometry").to_numpy()]
    if not len(exportable):  # an empty FeatureCollection would pass for a geolocation file
        log.error(
            "EU GeoJSON not written: none of the %d parcels can be exported (all have invalid "
            "geometry; see the validation findings)",
            len(parcels),
        )
        return {}
    place = production_place_column
    paths = to_geojson(
        exportable,
        staged.path("eudr_geolocation.geojson"),
        producer_name_column=producer_name_column,
        country=country,
        production_place_column=place if place and place in parcels.columns else None,
        id_column=a.id_column,
    )
    problems = pd.concat([check_geojson(p) for p in paths], ignore_index=True)
    if len(problems):
        log.warning("the EU GeoJSON has %d problem(s)", len(problems))
    skipped = len(parcels) - len(exportable)
    if skipped:
        log.warning("%d parcel(s) with invalid geometry left out of the EU GeoJSON", skipped)
    finals = [staged.final(staged.path(Path(p).name).name) for p in paths]
    if len(finals) == 1:
        return {"EU GeoJSON": finals[0]}
    return {f"EU GeoJSON {k + 1}": p for k, p in enumerate(finals)}


def write_outputs(
    a: Assessment,
    outdir: Path,
    *,
    country: str | None = None,
    producer_name_column: str = "producer_name",
    production_place_column: str | None = "district",
) -> dict[str, Path]:
    """Write the table (CSV, GeoPackage), the EU GeoJSON and the findings into ``outdir``.

    The files are written into a staging folder and moved into ``outdir``
    together once all are written: a failed run leaves the previous set as it
    was (or, if moving itself fails, an ``INCOMPLETE.txt`` saying which files
    are new).
    """
    from .io import write_table

    table = assessment_table(a)
    geo = gpd.GeoDataFrame(table, geometry=a.parcels.geometry.to_numpy(), crs=a.parcels.crs)
    outputs: dict[str, Path] = {}
    with OutputSet(outdir) as staged:
        write_table(table, staged.path("assessment.csv"))
        outputs["table (CSV)"] = staged.final("assessment.csv")
        write_table(geo, staged.path("assessment.gpkg"))
        outputs["table (GeoPackage)"] = staged.final("assessment.gpkg")
        outputs.update(
            _write_geojson(
                a,
                staged,
                country=country,
                producer_name_column=producer_name_column,
                production_place_column=production_place_column,
            )
        )
        write_table(findings_table(a.validation), staged.path("validation_findings.csv"))
        outputs["validation findings"] = staged.final("validation_findings.csv")
    return outputs

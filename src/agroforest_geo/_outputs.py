"""The files of an assessment: the per-parcel table, evidence records, EU GeoJSON, findings.

The per-parcel table is *stable*: its columns are fixed by the products and
rules used, not by the data. Every year of the loss product's range has its
``loss_ha_<year>`` column (0 where the raster shows no loss, NaN where it has
no data for the parcel), so that two batches append. The CSV is rounded to
what the measures can tell (:data:`ROUNDING`); the GeoParquet keeps full
precision.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from ._atomic import OutputSet

if TYPE_CHECKING:
    from .workflow import Assessment

__all__ = [
    "ROUNDING",
    "assessment_table",
    "findings_table",
    "loss_year_range",
    "round_table",
    "write_outputs",
]

log = logging.getLogger(__name__)

#: Attributes of the parcels carried into the per-parcel table.
_PARCEL_ATTRIBUTES = ("province", "district", "member_id", "crop")
_DECLARED = ("declared_area_ha", "area_difference_ha", "declared_ratio", "declared_off")

#: First year of the default loss product (Hansen GFC: loss coded 1..N for 2001..2000+N).
_HANSEN_FIRST_YEAR = 2001

#: Decimals kept in the CSV per unit of :data:`~agroforest_geo.eudr.EVIDENCE_SCHEMA`:
#: hectares to 1 m², shares and ratios to 0.01 %, metres to 0.1 m, densities to 0.1.
ROUNDING: dict[str, int] = {
    "ha": 4,
    "share 0-1": 4,
    "ratio": 4,
    "percent 0-100": 2,
    "m": 1,
    "trees/ha": 1,
    "count": 0,
    "year": 0,
}

_LOSS_COLUMN = re.compile(r"^loss_ha_(\d{4})$")


def loss_year_range(a: Assessment) -> range:
    """Return the years of the loss product: one ``loss_ha_<year>`` column each.

    The range is fixed by the product, not by where loss happens to be: from
    the product's first year to its last (``run_assessment(...,
    loss_product="hansen_lossyear_v1_11")``: 2001-2023). Without a product
    (the Hansen encoding of an unknown version) it runs from 2001 to the later
    of the last year with loss in the data and the cut-off's year.
    """
    product = a.parameters.get("loss product")
    if isinstance(product, str):  # run_assessment records the product's name
        from . import products

        try:
            product = products.get(product)
        except KeyError:  # a product made by the caller, not in the catalogue
            product = None
    first = getattr(product, "first_year", None)
    last = getattr(product, "last_year", None)
    if first is not None and last is not None:
        return range(int(first), int(last) + 1)
    seen = [int(m.group(1)) for c in a.evidence.columns if (m := _LOSS_COLUMN.match(str(c)))]
    if not seen:
        return range(0)
    first = min(_HANSEN_FIRST_YEAR, *seen)
    return range(first, max(*seen, a.cutoff.year) + 1)


def _stable_loss_columns(table: pd.DataFrame, a: Assessment) -> pd.DataFrame:
    """Every year of the product's range as a column, after the other columns, in order."""
    years = loss_year_range(a)
    known = pd.to_numeric(a.evidence["loss_after_cutoff_ha"], errors="coerce").notna()
    old = [c for c in table.columns if _LOSS_COLUMN.match(str(c))]
    loss = {}
    for y in years:
        col = f"loss_ha_{y}"
        if col in table.columns:
            loss[col] = pd.to_numeric(table[col], errors="coerce")
        else:  # no loss that year anywhere: 0 where the raster was read, NaN where not
            loss[col] = pd.Series(np.where(known, 0.0, np.nan), index=table.index)
    return pd.concat([table.drop(columns=old), pd.DataFrame(loss, index=table.index)], axis=1)


def round_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with each evidence column rounded for people (:data:`ROUNDING`).

    Examples
    --------
    >>> import pandas as pd
    >>> round_table(pd.DataFrame({"area_ha": [1.234567], "forest_share_cutoff": [0.123456]}))
       area_ha  forest_share_cutoff
    0   1.2346               0.1235
    """
    from .eudr.evidence import EVIDENCE_SCHEMA

    units = {c.name: c.unit for c in EVIDENCE_SCHEMA}
    out = table.copy()
    for c in out.columns:
        unit = units.get("loss_ha_<year>" if _LOSS_COLUMN.match(str(c)) else str(c))
        if unit in ROUNDING and pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(ROUNDING[unit])
    return out


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
    table = _stable_loss_columns(table, a)
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
    from .reporting import write_evidence_records

    table = assessment_table(a)
    geo = gpd.GeoDataFrame(table, geometry=a.parcels.geometry.to_numpy(), crs=a.parcels.crs)
    outputs: dict[str, Path] = {}
    with OutputSet(outdir) as staged:
        write_table(round_table(table), staged.path("assessment.csv"))
        outputs["table (CSV)"] = staged.final("assessment.csv")
        write_table(geo, staged.path("assessment.gpkg"))
        outputs["table (GeoPackage)"] = staged.final("assessment.gpkg")
        write_table(geo, staged.path("assessment.parquet"))
        outputs["table (GeoParquet)"] = staged.final("assessment.parquet")
        outputs.update(
            _write_geojson(
                a,
                staged,
                country=country,
                producer_name_column=producer_name_column,
                production_place_column=production_place_column,
            )
        )
        write_evidence_records(a, staged.path("evidence_records.jsonl"))
        outputs["evidence records"] = staged.final("evidence_records.jsonl")
        write_table(findings_table(a.validation), staged.path("validation_findings.csv"))
        outputs["validation findings"] = staged.final("validation_findings.csv")
    return outputs

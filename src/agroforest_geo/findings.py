"""The findings table: rule codes (:data:`RULES`) and :class:`ValidationReport`.

Shared by :mod:`agroforest_geo.validate` and :mod:`agroforest_geo.repair`.
"""

from __future__ import annotations

import html
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["RULES", "Rule", "Severity", "ValidationReport", "make_findings"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    """One validation rule (or repair action): its severity, what it means and the fix."""

    severity: Severity
    description: str
    fix: str


#: Every code a :class:`ValidationReport` can hold, in reporting order.
#: Validation rules first, then the changes recorded by :func:`agroforest_geo.repair`
#: (reported as warnings: the data were changed and the change deserves a look).
RULES: Mapping[str, Rule] = MappingProxyType(
    {
        "missing_crs": Rule(
            "error",
            "the layer has no CRS, so hectares and coordinate checks cannot be computed",
            "gdf.set_crs('EPSG:4326') for longitude/latitude, or the EPSG code of the projection",
        ),
        "missing_id_column": Rule(
            "error",
            "the id column of the layer kind is absent",
            "rename the id column or pass id_column=...",
        ),
        "null_geometry": Rule(
            "error", "the feature has no geometry (None)", "digitize the feature or drop the row"
        ),
        "empty_geometry": Rule(
            "error", "the geometry is empty", "digitize the feature again or drop the row"
        ),
        "geometry_type": Rule(
            "error",
            "geometry type not allowed for the layer kind (io.LAYER_SCHEMAS)",
            "digitize the feature as a polygon; repair() extracts polygons from collections",
        ),
        "invalid_geometry": Rule(
            "error",
            "not valid per OGC Simple Features (GEOS reason in the message)",
            "repair() (shapely.make_valid, keeping the polygonal part) or fix the vertex in a GIS",
        ),
        "nonfinite_coordinates": Rule(
            "error",
            "a vertex is NaN or infinite: the geometry cannot be measured (results are NaN)",
            "fix or delete that vertex in a GIS, or drop the row",
        ),
        "crosses_antimeridian": Rule(
            "warning",
            "a polygon spans more than 180° of longitude: it crosses the antimeridian and "
            "GEOS would take it as a band around the Earth",
            "read it with read_parcels / read_layer or repair() (cut at ±180°, RFC 7946 §3.1.9)",
        ),
        "point_over_4_ha": Rule(
            "error",
            "a point parcel declares more than 4 ha: the EU allows points only for plots "
            "of up to 4 ha",
            "digitize the plot's polygon (or correct declared_area_ha)",
        ),
        "too_few_vertices": Rule(
            "error",
            "a polygon ring has fewer than 3 distinct vertices",
            "digitize the ring again; it has no area",
        ),
        "coords_out_of_range": Rule(
            "error",
            "coordinates outside longitude ±180 / latitude ±90 in a geographic CRS, or not "
            "transformable to longitude/latitude",
            "check the CRS and the coordinates",
        ),
        "swapped_lonlat": Rule(
            "error",
            "longitude and latitude are swapped (x holds latitude, y longitude)",
            "fix the coordinates in the source; repair(swap_axes='auto') swaps them back",
        ),
        "projected_as_degrees": Rule(
            "error",
            "coordinates far beyond ±180/±90 in a geographic CRS: metres labelled as degrees",
            "gdf.set_crs(<the projected CRS, e.g. 'EPSG:32718'>, allow_override=True)",
        ),
        "degrees_as_projected": Rule(
            "error",
            "coordinates within ±180/±90 and a feature narrower than 1 m in a projected CRS: "
            "degrees labelled as metres",
            "gdf.set_crs('EPSG:4326', allow_override=True)",
        ),
        "duplicate_id": Rule(
            "error", "the id is used by more than one feature", "give every feature its own id"
        ),
        "missing_id": Rule("error", "the id is missing or blank", "fill in the id"),
        "outside_area_of_use": Rule(
            "warning",
            "the feature lies more than 1 degree outside the area of use of the CRS",
            "check the CRS (e.g. the UTM zone) or the coordinates",
        ),
        "wrong_orientation": Rule(
            "warning",
            "exterior ring not counter-clockwise or a hole not clockwise (RFC 7946)",
            "repair() orients the rings (areas do not change)",
        ),
        "duplicate_vertices": Rule(
            "warning",
            "the same vertex repeated consecutively",
            "repair() removes the repeats (areas do not change)",
        ),
        "spike": Rule(
            "warning",
            "a vertex where the boundary goes out and back at a very sharp angle",
            "remove the spike vertex in a GIS; it is usually a digitizing slip",
        ),
        "tiny_area": Rule(
            "warning",
            "ellipsoidal area below min_area_m2",
            "check the feature: a digitizing slip, or units confused",
        ),
        "sliver": Rule(
            "warning",
            "very thin polygon: Polsby-Popper compactness 4πA/P² below sliver_ratio",
            "check the feature: a gap or overlap left between neighbours",
        ),
        "repaired_invalid": Rule(
            "warning",
            "repair: made valid with shapely.make_valid(method='structure'), polygons kept",
            "check the repaired shape",
        ),
        "extracted_polygons": Rule(
            "warning",
            "repair: kept the polygons of a geometry collection, other parts dropped",
            "check the repaired shape",
        ),
        "removed_duplicate_vertices": Rule(
            "warning", "repair: removed consecutive duplicate vertices", "nothing to do"
        ),
        "reoriented": Rule(
            "warning", "repair: rings oriented (exterior CCW, holes CW)", "nothing to do"
        ),
        "cut_at_antimeridian": Rule(
            "warning",
            "repair cut a polygon crossing the antimeridian at ±180° (area unchanged)",
            "nothing to do; the cut parts are one MultiPolygon",
        ),
        "swapped_axes": Rule(
            "warning", "repair: swapped x and y (longitude/latitude)", "check the position"
        ),
    }
)

_FINDING_COLUMNS = ["row", "id", "code", "severity", "message", "position"]


@dataclass(frozen=True, repr=False)
class ValidationReport:
    """Findings of :func:`validate` (or the changes and leftovers of :func:`repair`).

    Attributes
    ----------
    findings : pandas.DataFrame
        One row per finding: ``row`` (index label of the feature; missing for
        findings about the whole layer), ``id``, ``code`` (a key of :data:`RULES`),
        ``severity`` (``"error"`` or ``"warning"``), ``message`` and ``position``
        (0-based row position, which stays unambiguous when index labels repeat).
    index : pandas.Index
        The index of the validated layer.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> sq = shapely.box(500_000, 9_200_000, 500_001, 9_200_001)  # 1 m², UTM 18S
    >>> gdf = gpd.GeoDataFrame(geometry=[sq, None], crs=32718)
    >>> from agroforest_geo import validate
    >>> report = validate(gdf, min_area_m2=0)
    >>> report.ok
    False
    >>> report.codes_for(1)
    ['null_geometry']
    >>> report.flags()["valid"].tolist()
    [True, False]
    """

    findings: pd.DataFrame
    index: pd.Index

    @property
    def ok(self) -> bool:
        """True when there is no finding of severity ``"error"``."""
        return not bool((self.findings["severity"] == "error").any())

    @property
    def n_errors(self) -> int:
        """Number of error findings."""
        return int((self.findings["severity"] == "error").sum())

    @property
    def n_warnings(self) -> int:
        """Number of warning findings."""
        return int((self.findings["severity"] == "warning").sum())

    @property
    def summary(self) -> pd.DataFrame:
        """Count of findings per code: ``code``, ``severity``, ``count``, ``description``."""
        counts = self.findings["code"].value_counts()
        codes = [c for c in RULES if c in counts.index]
        return pd.DataFrame(
            {
                "code": codes,
                "severity": [RULES[c].severity for c in codes],
                "count": [int(counts[c]) for c in codes],
                "description": [RULES[c].description for c in codes],
            }
        )

    def codes_for(self, row: Hashable) -> list[str]:
        """Codes of the findings about the feature with index label ``row``."""
        rows = self.findings["row"]
        mask = rows.notna() & (rows == row)
        return self.findings.loc[mask, "code"].tolist()

    def flags(self) -> pd.DataFrame:
        """Per-feature summary on the layer's index (every row present).

        Columns ``n_errors``, ``n_warnings``, ``codes`` (";"-joined, "" when none)
        and ``valid`` (no error).
        """
        n = len(self.index)
        per_row = self.findings[self.findings["position"].notna()]
        pos = per_row["position"].to_numpy(dtype=np.int64)
        is_err = (per_row["severity"] == "error").to_numpy()
        n_err = np.bincount(pos[is_err], minlength=n)
        n_warn = np.bincount(pos[~is_err], minlength=n)
        codes = [""] * n
        for p, c in zip(pos.tolist(), per_row["code"].tolist(), strict=True):
            codes[p] = f"{codes[p]};{c}" if codes[p] else c
        return pd.DataFrame(
            {"n_errors": n_err, "n_warnings": n_warn, "codes": codes, "valid": n_err == 0},
            index=self.index,
        )

    def to_frame(self) -> pd.DataFrame:
        """Return the findings as a new DataFrame (safe to modify)."""
        return self.findings.copy()

    def __repr__(self) -> str:
        counts = ", ".join(f"{r.code}={r.count}" for r in self.summary.itertuples())
        return (
            f"ValidationReport({len(self.index)} features, {self.n_errors} errors, "
            f"{self.n_warnings} warnings{': ' + counts if counts else ''})"
        )

    def _repr_html_(self) -> str:
        status = "OK" if self.ok else "errors found"
        head = (
            f"<p><b>ValidationReport</b>: {len(self.index)} features, {self.n_errors} errors, "
            f"{self.n_warnings} warnings &mdash; {html.escape(status)}</p>"
        )
        if self.findings.empty:
            return head
        shown = self.findings.drop(columns="position").head(50)
        more = len(self.findings) - len(shown)
        tail = f"<p>... {more} more findings (report.findings)</p>" if more > 0 else ""
        return head + self.summary.to_html(index=False) + shown.to_html(index=False) + tail


def _empty_findings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _FINDING_COLUMNS})


def make_findings(
    index: pd.Index, ids: np.ndarray | None, items: list[tuple[int | None, str, str]]
) -> pd.DataFrame:
    """Build a findings frame from ``(position or None, code, message)`` tuples.

    Helper shared with :mod:`agroforest_geo.repair`; rows come out ordered by
    position, then by the order of :data:`RULES`.
    """
    if not items:
        return _empty_findings()
    order = {c: i for i, c in enumerate(RULES)}
    items = sorted(items, key=lambda t: (-1 if t[0] is None else t[0], order[t[1]]))
    rows: list[dict[str, Any]] = []
    for pos, code, message in items:
        rows.append(
            {
                "row": None if pos is None else index[pos],
                "id": None if pos is None or ids is None else ids[pos],
                "code": code,
                "severity": RULES[code].severity,
                "message": message,
                "position": pd.NA if pos is None else pos,
            }
        )
    out = pd.DataFrame(
        {c: pd.Series([r[c] for r in rows], dtype=object) for c in _FINDING_COLUMNS[:-1]}
    )
    out["position"] = pd.array([r["position"] for r in rows], dtype="Int64")
    return out

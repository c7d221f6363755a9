"""EU Deforestation Regulation (EUDR) checks: assessment, EU GeoJSON export and checks.

* :func:`assess` - deforestation-free status per parcel, decided by the rule
  table :data:`DEFAULT_RULES` (version :data:`RULES_VERSION`).
* :func:`to_geojson` - write parcels as the GeoJSON the EU information system accepts.
* :func:`check_geojson` - list the problems of any such file, one row per problem.
* :func:`country_evidence`, :func:`country_risk` - country of production from the
  geometry and its EU risk tier (Implementing Regulation (EU) 2025/1093).
* :class:`Source` - one evidence raster with its product (several per role combine).

Examples
--------
>>> import agroforest_geo as agf
>>> agf.eudr.RULES_VERSION
'2026.1'
"""

from . import country, evidence
from .assess import EVIDENCE_COLUMNS, assess, parcel_tree_density, parse_cutoff
from .country import country_evidence, country_risk
from .evidence import EVIDENCE_SCHEMA
from .geojson import check_geojson, check_statement, to_geojson
from .rules import (
    DEFAULT_RULES,
    DEFAULT_THRESHOLDS,
    GEOJSON_LIMITS,
    GEOJSON_RULES,
    GEOJSON_RULES_VERSION,
    GEOJSON_SPEC,
    RULES,
    RULES_VERSION,
    STATUS_ORDER,
    Condition,
    GeoJSONRule,
    Rule,
)
from .sources import Source

__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_THRESHOLDS",
    "EVIDENCE_COLUMNS",
    "EVIDENCE_SCHEMA",
    "GEOJSON_LIMITS",
    "GEOJSON_RULES",
    "GEOJSON_RULES_VERSION",
    "GEOJSON_SPEC",
    "RULES",
    "RULES_VERSION",
    "STATUS_ORDER",
    "Condition",
    "GeoJSONRule",
    "Rule",
    "Source",
    "assess",
    "check_geojson",
    "check_statement",
    "country",
    "country_evidence",
    "country_risk",
    "evidence",
    "parcel_tree_density",
    "parse_cutoff",
    "to_geojson",
]

"""The EUDR rule tables: deforestation-free assessment rules and EU GeoJSON export rules.

Domain knowledge lives here as data, versioned, so that a result can be traced
to the exact rule set that produced it and a caller can change any threshold
without touching code.

Assessment rules (:data:`DEFAULT_RULES`, version :data:`RULES_VERSION`)
----------------------------------------------------------------------
Each :class:`Rule` compares one evidence column of the assessment table with a
threshold. A rule that *fires* adds its code and a sentence to the parcel's
``reasons`` and proposes its ``status``; the parcel gets the most severe status
proposed (order of :data:`STATUS_ORDER`), ``deforestation_free`` when no rule
escalates. Rules whose status is ``deforestation_free`` are *notes*: they are
listed in ``reasons`` but never escalate.

Forest and agroforestry under the Regulation (EU) 2023/1115 (EUDR):

* *Forest* (Art. 2(4)) is land over 0.5 ha with trees higher than 5 m and a
  canopy cover of more than 10 %, **excluding land that is predominantly under
  agricultural use**; agricultural plantations, including agroforestry systems,
  are not forest. Shade trees over cocoa are therefore not forest, and a parcel
  with tree cover is not "deforested" merely because its canopy is managed.
* *Deforestation* (Art. 2(3)) is the conversion of forest to agricultural use
  after the cut-off date of 31 December 2020.

How the default rules apply this:

* loss after the cut-off of at least ``loss_after_cutoff_min_ha`` (0.5 ha, the
  forest minimum area) -> ``deforestation_detected``, on agroforestry parcels too:
  the satellite loss product cannot tell a cleared forest remnant from shade
  trees, so a large loss is never explained away;
* any smaller loss after the cut-off (canopy thinning, shade-tree management, a
  single cleared pixel) -> ``needs_review``: below the forest minimum area it is
  not deforestation by itself, but someone should look;
* tree cover at the cut-off of at least ``agroforestry_min_cover_share`` (10 %)
  together with a tree density within [``agroforestry_min_trees_per_ha``,
  ``agroforestry_max_trees_per_ha``] sets the evidence column
  ``agroforestry_evidence`` and adds a *note* (no escalation): high tree cover
  on such a parcel with no loss after the cut-off is ``deforestation_free``;
* overlap with a protected / REDD+ area or with another member's parcel, and
  rasters that do not cover the parcel ("no data") -> ``needs_review``;
* invalid geometry -> ``invalid_geometry`` (the parcel is kept, never dropped);
* forest on the cut-off date by a 2020 map, agricultural use now (a cocoa or
  agroforestry plot, a crop, a commodity map) and no record of agricultural use on
  or before the cut-off -> ``needs_review`` ("possible conversion of forest to
  agroforestry after the cut-off", Art. 2(3));
* agroforestry planted on or before the cut-off under tree cover -> a *note*
  (agricultural use, not forest: Art. 2(4), 2(6));
* disturbance alerts dated after the cut-off -> ``needs_review``.

Each rule carries its legal basis (``Rule.basis``). Several sources of one role
combine by the parameters ``<role>_sources_required`` of
:data:`DEFAULT_THRESHOLDS` (1: any, the default; k; ``"all"``), see
:mod:`agroforest_geo.eudr.sources`.

EU GeoJSON rules (:data:`GEOJSON_RULES`, version :data:`GEOJSON_RULES_VERSION`)
------------------------------------------------------------------------------
What the EU information system (TRACES, EUDR due-diligence statements) accepts
for geolocation files (:data:`GEOJSON_SPEC`: the EC's GeoJSON File Description
v1.4 and the system's API rules), as used by :func:`agroforest_geo.eudr.to_geojson`
and checked by :func:`agroforest_geo.eudr.check_geojson`: an RFC 7946
FeatureCollection in WGS 84 with [longitude, latitude] positions (more than 6
decimals are truncated to 6 by the system: a warning; vertices that then
coincide are an error), OGC-valid polygons without holes, the properties
``ProducerCountry`` (ISO 3166-1 alpha-2, required; checked against the
geometry), ``ProducerName`` and ``ProductionPlace`` (optional) and ``Area``
(ha; required for points, 0.0001 to 4 ha), at most 1,000 producers per
commodity and 10,000 per statement, and files of at most 25 MB.

Examples
--------
>>> from agroforest_geo.eudr import rules
>>> rules.RULES_VERSION
'2026.1'
>>> [r.code for r in rules.DEFAULT_RULES][:2]
['invalid_geometry', 'deforestation_after_cutoff']
>>> rules.GEOJSON_LIMITS["point_max_ha"]
4.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from .._countries import COUNTRY_BOUNDS
from .._points import POINT_MAX_HA
from .sources import SOURCE_PARAMS

__all__ = [
    "COUNTRY_BOUNDS",
    "DEFAULT_RULES",
    "DEFAULT_THRESHOLDS",
    "GEOJSON_LIMITS",
    "GEOJSON_RULES",
    "GEOJSON_RULES_VERSION",
    "GEOJSON_SPEC",
    "ISO_3166_ALPHA2",
    "RULES",
    "RULES_VERSION",
    "STATUS_ORDER",
    "Condition",
    "GeoJSONRule",
    "Rule",
    "resolve_rules",
    "rules_table",
]

Status = Literal["deforestation_free", "needs_review", "deforestation_detected", "invalid_geometry"]
Op = Literal[">", ">=", "<", "<=", "==", "!=", "missing"]

#: Statuses from least to most severe; a parcel gets the most severe status of its fired rules.
STATUS_ORDER: tuple[str, ...] = (
    "deforestation_free",
    "needs_review",
    "deforestation_detected",
    "invalid_geometry",
)

_OPS: tuple[str, ...] = (">", ">=", "<", "<=", "==", "!=", "missing")

#: Version of :data:`DEFAULT_RULES`; bump it whenever a rule or a default threshold changes.
RULES_VERSION = "2026.1"


@dataclass(frozen=True)
class Condition:
    """One comparison of an evidence column: ``column op threshold``.

    Attributes
    ----------
    column : str
        Evidence column (any column of :data:`~agroforest_geo.eudr.evidence.EVIDENCE_SCHEMA`).
    op : str
        ``">"``, ``">="``, ``"<"``, ``"<="``, ``"=="``, ``"!="`` or ``"missing"``
        (the evidence is NaN). A missing value never satisfies a comparison.
    threshold : float or None
        Right-hand side (``None`` for ``"missing"``).
    param : str or None
        Name under which callers override the threshold (``rules={param: value}``).
    """

    column: str
    op: str
    threshold: float | None = None
    param: str | None = None

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(
                f"condition on {self.column!r}: op must be one of {list(_OPS)}, got {self.op!r}"
            )
        if (self.op == "missing") != (self.threshold is None):
            raise ValueError(
                f"condition on {self.column!r}: op 'missing' takes threshold=None, the others "
                "a number"
            )

    def text(self) -> str:
        """Return the condition in words, e.g. ``"loss_after_cutoff_ha >= 0.5"``."""
        if self.op == "missing":
            return f"{self.column} unknown"
        return f"{self.column} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Rule:
    """One assessment rule: ``column op threshold`` (and further conditions) -> ``status``.

    A rule fires on a parcel when its own comparison holds (if it has one:
    ``column`` not None), **all** the conditions of ``all_of`` hold and, when
    ``any_of`` is given, **at least one** of them holds. Combined rules are
    data too: they live in the versioned rule table like simple ones.

    Attributes
    ----------
    code : str
        Stable identifier, listed in ``reasons`` when the rule fires.
    status : str
        Status proposed when the rule fires (one of :data:`STATUS_ORDER`).
    column : str or None
        Evidence column the rule's own comparison reads (None: conditions only).
    op : str or None
        ``">"``, ``">="``, ``"<"``, ``"<="``, ``"=="``, ``"!="`` or ``"missing"``.
    threshold : float or None
        Right-hand side of the comparison (``None`` for ``"missing"``).
    param : str or None
        Name under which callers override the threshold (``rules={param: value}``).
    description : str
        What firing means, in words; shown in ``reasons``.
    all_of, any_of : tuple of Condition
        Further conditions, all of which / at least one of which must hold.
    basis : str
        The provisions of Regulation (EU) 2023/1115 the rule applies (its legal basis).

    Examples
    --------
    >>> r = Rule("near_protected", "needs_review", None, None, None, None,
    ...          "within 1 km of a protected area with loss",
    ...          all_of=(Condition("distance_to_protected_m", "<", 1000.0),
    ...                  Condition("loss_after_cutoff_ha", ">", 0.0)))
    >>> [c.text() for c in r.conditions()]
    ['distance_to_protected_m < 1000', 'loss_after_cutoff_ha > 0']
    """

    code: str
    status: str
    column: str | None
    op: str | None
    threshold: float | None
    param: str | None
    description: str
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()
    basis: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUS_ORDER:
            raise ValueError(
                f"rule {self.code!r}: status must be one of {list(STATUS_ORDER)}, "
                f"got {self.status!r}"
            )
        if self.column is None and not (self.all_of or self.any_of):
            raise ValueError(f"rule {self.code!r}: give a column or conditions (all_of/any_of)")
        if self.column is not None:
            try:
                Condition(self.column, str(self.op), self.threshold, self.param)
            except ValueError as exc:
                raise ValueError(f"rule {self.code!r}: {exc}") from None
        for c in (*self.all_of, *self.any_of):
            if not isinstance(c, Condition):
                raise TypeError(f"rule {self.code!r}: conditions must be Condition, got {c!r}")

    def own_condition(self) -> Condition | None:
        """Return the rule's own comparison as a :class:`Condition` (None without one)."""
        if self.column is None:
            return None
        return Condition(self.column, str(self.op), self.threshold, self.param)

    def conditions(self) -> tuple[Condition, ...]:
        """Every condition the rule reads: its own comparison, then ``all_of``, then ``any_of``."""
        own = self.own_condition()
        return ((own,) if own else ()) + self.all_of + self.any_of

    def columns(self) -> tuple[str, ...]:
        """Return the evidence columns the rule reads."""
        return tuple(dict.fromkeys(c.column for c in self.conditions()))


#: The default assessment rules (version :data:`RULES_VERSION`), in the order they are reported.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        "invalid_geometry",
        "invalid_geometry",
        "n_geometry_errors",
        ">",
        0,
        None,
        "the parcel geometry is invalid or empty",
        basis="Art. 9(1)(d) (geolocation of every plot of land), Art. 2(28)",
    ),
    Rule(
        "deforestation_after_cutoff",
        "deforestation_detected",
        "loss_after_cutoff_ha",
        ">=",
        0.5,
        "loss_after_cutoff_min_ha",
        "tree-cover loss after the cut-off reaches the forest minimum area",
        basis="Art. 3(a); Art. 2(3) (deforestation), 2(4) (forest: more than 0.5 ha), 2(13)",
    ),
    Rule(
        "loss_after_cutoff",
        "needs_review",
        "loss_after_cutoff_ha",
        ">",
        0.0,
        "loss_after_cutoff_review_min_ha",
        "tree-cover loss after the cut-off (below the forest minimum area it is canopy "
        "thinning or shade-tree management, to be checked)",
        basis="Art. 10(1) (risk assessment); Art. 2(3), 2(7) (forest degradation)",
    ),
    Rule(
        "protected_area_overlap",
        "needs_review",
        "protected_share",
        ">",
        0.0,
        "protected_overlap_max_share",
        "the parcel overlaps a protected or REDD+ area",
        basis="Art. 3(b) and 2(40) (relevant legislation: land use, environmental protection)",
    ),
    Rule(
        "parcel_overlap",
        "needs_review",
        "parcel_overlap_ha",
        ">",
        0.01,
        "parcel_overlap_max_ha",
        "the parcel overlaps another parcel",
        basis="Art. 9(1)(d) (geolocation); Art. 2(40)(a) (land use rights)",
    ),
    Rule(
        "no_cover_data",
        "needs_review",
        "forest_share_cutoff",
        "missing",
        None,
        None,
        "no data: the tree-cover raster does not cover the parcel (or was not given)",
        basis="Art. 10(1) and 2(26) (without evidence the risk is not negligible)",
    ),
    Rule(
        "no_loss_data",
        "needs_review",
        "loss_after_cutoff_ha",
        "missing",
        None,
        None,
        "no data: the loss raster does not cover the parcel (or was not given)",
        basis="Art. 10(1) and 2(26) (without evidence the risk is not negligible)",
    ),
    Rule(
        "partial_raster_coverage",
        "needs_review",
        "valid_share",
        "<",
        0.9,
        "min_valid_share",
        "no data over part of the parcel: the rasters cover too little of it",
        basis="Art. 10(1) and 2(26) (without evidence the risk is not negligible)",
    ),
    Rule(
        "possible_conversion_after_cutoff",
        "needs_review",
        None,
        None,
        None,
        None,
        "possible conversion of forest to agroforestry after the cut-off: forest on the "
        "cut-off date by a 2020 map, agricultural use now, and no record of agricultural "
        "use on or before the cut-off (EUDR Art. 2(3))",
        all_of=(
            Condition("forest_share_2020", ">=", 0.1, "forest_2020_min_share"),
            Condition("agri_use_now", "==", 1.0),
            Condition("agri_use_at_cutoff", "==", 0.0),
        ),
        basis="Art. 2(3) (conversion of forest to agricultural use), 2(5), 2(13); Art. 10(1)",
    ),
    Rule(
        "alert_after_cutoff",
        "needs_review",
        "alert_ha_after_cutoff",
        ">",
        0.0,
        "alert_review_min_ha",
        "disturbance alerts dated after the cut-off (to be checked on imagery or on the ground)",
        basis="Art. 10(1) (risk assessment); Art. 2(3), 2(7)",
    ),
    Rule(
        "agroforestry_before_cutoff",
        "deforestation_free",
        None,
        None,
        None,
        None,
        "agroforestry planted on or before the cut-off under tree cover: agricultural use, "
        "not forest (EUDR Art. 2(4)); note only",
        all_of=(Condition("agri_use_at_cutoff", "==", 1.0), Condition("agri_use_now", "==", 1.0)),
        any_of=(
            Condition("forest_share_cutoff", ">=", 0.1, "agroforestry_min_cover_share"),
            Condition("forest_share_2020", ">=", 0.1, "agroforestry_min_cover_share"),
            Condition("tall_canopy_share", ">=", 0.1, "agroforestry_min_cover_share"),
        ),
        basis="Art. 2(4) and 2(6) (agroforestry is an agricultural plantation, not forest)",
    ),
    Rule(
        "agroforestry_evidence",
        "deforestation_free",
        "agroforestry_evidence",
        "==",
        1.0,
        None,
        "tree cover at the cut-off with a tree density in the agroforestry range "
        "(agroforestry is not forest under EUDR Art. 2(4)); note only",
        basis="Art. 2(4) and 2(6) (agroforestry is an agricultural plantation, not forest)",
    ),
)

#: Alias kept for ``from agroforest_geo.eudr import RULES``.
RULES = DEFAULT_RULES

#: Thresholds that are not a single rule's comparison but define evidence columns.
DEFAULT_THRESHOLDS: dict[str, float] = {
    # forest: canopy cover above 10 % (EUDR Art. 2(4)), per pixel of the cover raster
    "cover_threshold_pct": 10.0,
    # agroforestry evidence: share of the parcel under tree cover at the cut-off ...
    "agroforestry_min_cover_share": 0.10,
    # ... and a shade-tree density typical of cocoa agroforestry (trees per ha)
    "agroforestry_min_trees_per_ha": 20.0,
    "agroforestry_max_trees_per_ha": 400.0,
    # commodity maps: a pixel is the commodity from this probability ...
    "commodity_min_probability": 0.5,
    # ... and a parcel is in that use when this share of it is
    "commodity_min_share": 0.1,
    # canopy height: tree cover from this height (EUDR Art. 2(4): trees higher than 5 m)
    "canopy_min_height_m": 5.0,
    # several sources of one role: how many must agree (1 any, inf / "all" every one)
    **{param: 1.0 for param in SOURCE_PARAMS.values()},
}


def resolve_rules(
    rules: Mapping[str, float] | Sequence[Rule] | None,
) -> tuple[tuple[Rule, ...], dict[str, float]]:
    """Apply a caller's overrides to the default rule table.

    Parameters
    ----------
    rules : mapping, sequence of Rule or None
        ``None`` for the defaults; a mapping ``{param: threshold}`` changing
        thresholds by their ``param`` name (those of :data:`DEFAULT_RULES` and
        :data:`DEFAULT_THRESHOLDS`; ``<role>_sources_required`` also takes
        ``"any"`` and ``"all"``); or a complete replacement sequence of
        :class:`Rule`.

    Returns
    -------
    (tuple of Rule, dict)
        The rules to apply and the evidence thresholds.

    Examples
    --------
    >>> rs, th = resolve_rules({"loss_after_cutoff_min_ha": 0.1})
    >>> next(r.threshold for r in rs if r.code == "deforestation_after_cutoff")
    0.1
    >>> resolve_rules({"nope": 1})
    Traceback (most recent call last):
    ...
    ValueError: unknown rule parameter(s) ['nope']; allowed: ...
    """
    thresholds = dict(DEFAULT_THRESHOLDS)
    if rules is None:
        return DEFAULT_RULES, thresholds
    if isinstance(rules, Mapping):
        params = {c.param for r in DEFAULT_RULES for c in r.conditions() if c.param}
        allowed = sorted(params | set(DEFAULT_THRESHOLDS))
        unknown = sorted(set(rules) - set(allowed))
        if unknown:
            raise ValueError(f"unknown rule parameter(s) {unknown}; allowed: {allowed}")
        values = {k: _value(k, v) for k, v in rules.items()}
        out = tuple(_override(r, values) for r in DEFAULT_RULES)
        thresholds.update({k: v for k, v in values.items() if k in DEFAULT_THRESHOLDS})
        return out, thresholds
    seq = tuple(rules)
    bad = [type(r).__name__ for r in seq if not isinstance(r, Rule)]
    if bad:
        raise TypeError(
            "rules must be None, a mapping {parameter: threshold} or a sequence of Rule; "
            f"got items of type {sorted(set(bad))}"
        )
    return seq, thresholds


def _value(param: str, value: object) -> float:
    """Return a threshold as a number (sources-required parameters also take "any", "all")."""
    if param not in SOURCE_PARAMS.values():
        return float(value)  # type: ignore[arg-type]
    k = {"any": 1.0, "all": math.inf}.get(value, value) if isinstance(value, str) else value
    k = float(k)  # type: ignore[arg-type]
    if not (k == math.inf or (k >= 1 and k == int(k))):
        raise ValueError(
            f"{param} is how many sources must agree: 'any' (1), a whole number k >= 1 "
            f"(at least k of them) or 'all'; got {value!r}"
        )
    return k


def _override(rule: Rule, values: Mapping[str, float]) -> Rule:
    """Return the rule with the thresholds of its conditions replaced by ``values[param]``."""

    def cond(c: Condition) -> Condition:
        return replace(c, threshold=float(values[c.param])) if c.param and c.param in values else c

    out = rule
    if rule.param and rule.param in values:
        out = replace(out, threshold=float(values[rule.param]))
    return replace(
        out, all_of=tuple(cond(c) for c in rule.all_of), any_of=tuple(cond(c) for c in rule.any_of)
    )


def rules_table(rules: Sequence[Rule]) -> list[dict[str, object]]:
    """Return the rules as plain records (for ``attrs``, reports and JSON), conditions as text.

    Examples
    --------
    >>> rules_table(DEFAULT_RULES)[1]["conditions"]
    'loss_after_cutoff_ha >= 0.5'
    """
    return [
        {
            "code": r.code,
            "status": r.status,
            "column": r.column,
            "op": r.op,
            "threshold": r.threshold,
            "param": r.param,
            "conditions": " and ".join(
                [c.text() for c in ((r.own_condition(),) if r.column else ()) if c]
                + [c.text() for c in r.all_of]
                + ([f"any of ({' or '.join(c.text() for c in r.any_of)})"] if r.any_of else [])
            ),
            "description": r.description,
            "basis": r.basis,
        }
        for r in rules
    ]


# --------------------------------------------------------------------------------------
# EU GeoJSON rules
# --------------------------------------------------------------------------------------

#: Version of :data:`GEOJSON_RULES` and :data:`GEOJSON_LIMITS`.
GEOJSON_RULES_VERSION = "2026.1"

#: The EU documents the GeoJSON rules follow. The file description is the EC's "EUDR GeoJSON
#: File Description" for the EUDR information system (TRACES); v1.2 is dated 4 July 2024, v1.4
#: is the current one cited by public summaries (its date was not verified here). Rule sources
#: below name the document: "EC-FD" (file description), "EC-API" (the information system's API
#: rules), "EC-errors" (the description's list of common file errors), "Reg" (Regulation (EU)
#: 2023/1115), "RFC 7946", or "agroforest_geo" for checks of our own.
GEOJSON_SPEC: dict[str, str] = {
    "document": "EUDR GeoJSON File Description (European Commission, EUDR information system)",
    "version": "1.4",
    "date": "not verified (v1.2: 2024-07-04)",
    "regulation": "Regulation (EU) 2023/1115, Art. 2(28), Art. 9(1)(d)",
    "geojson": "RFC 7946 (2016)",
}


@dataclass(frozen=True)
class GeoJSONRule:
    """One requirement of the EU information system on geolocation GeoJSON files.

    Attributes
    ----------
    code : str
        Stable code reported by :func:`~agroforest_geo.eudr.check_geojson`.
    severity : {"error", "warning"}
        ``"error"``: the system refuses the file or the geolocation is wrong;
        ``"warning"``: accepted, but changed by the system or worth a look.
    description : str
        The requirement in words.
    source : str
        Where the requirement comes from (see :data:`GEOJSON_SPEC`).
    """

    code: str
    severity: Literal["error", "warning"]
    description: str
    source: str = ""


_FD = "EC-FD v1.4"
#: Requirements checked by :func:`~agroforest_geo.eudr.check_geojson` (and met by ``to_geojson``).
GEOJSON_RULES: tuple[GeoJSONRule, ...] = (
    GeoJSONRule("invalid_json", "error", "the file is not readable JSON", "RFC 7946 / RFC 8259"),
    GeoJSONRule(
        "file_too_large", "error", "the file is larger than max_bytes (25 MB)", f"{_FD}; EC-API"
    ),
    GeoJSONRule(
        "not_feature_collection",
        "error",
        "the top level is not a FeatureCollection",
        f"{_FD}; RFC 7946 §3.3",
    ),
    GeoJSONRule(
        "too_many_producers",
        "error",
        "more than 1,000 producers (features) in one file (one commodity) or more than 10,000 "
        "in one statement",
        "EC-API",
    ),
    GeoJSONRule(
        "crs_not_wgs84",
        "error",
        "a 'crs' member other than WGS 84 / CRS84, or coordinates outside longitude/latitude "
        "ranges (projected coordinates)",
        f"{_FD}; RFC 7946 §4",
    ),
    GeoJSONRule(
        "lat_lon_swapped",
        "error",
        "positions look like [latitude, longitude] instead of [longitude, latitude]",
        f"{_FD}; RFC 7946 §3.1.1",
    ),
    GeoJSONRule(
        "too_many_decimals",
        "warning",
        "a coordinate has more than 6 decimals: accepted, the system truncates to 6 (the "
        "Regulation asks for at least 6)",
        f"{_FD}; Reg Art. 2(28)",
    ),
    GeoJSONRule(
        "vertices_coincide_after_truncation",
        "error",
        "after truncation to 6 decimals two consecutive vertices of a ring coincide or the "
        "ring becomes invalid",
        f"{_FD}; EC-errors",
    ),
    GeoJSONRule(
        "unsupported_geometry",
        "error",
        "geometry missing or not a Point, MultiPoint, Polygon or MultiPolygon",
        _FD,
    ),
    GeoJSONRule("holes", "error", "a polygon has interior rings (holes, 'doughnuts')", "EC-errors"),
    GeoJSONRule(
        "unclosed_ring",
        "error",
        "a ring's first and last positions differ (open polygon)",
        "EC-errors; RFC 7946 §3.1.6",
    ),
    GeoJSONRule(
        "invalid_ring",
        "error",
        "a ring has fewer than 4 positions or the polygon is invalid (crossing lines, "
        "overlapping sides)",
        "EC-errors; RFC 7946 §3.1.6",
    ),
    GeoJSONRule(
        "invalid_multipolygon",
        "error",
        "the parts of a MultiPolygon overlap or share a boundary segment (not OGC-valid)",
        "EC-errors (overlapping sides); OGC Simple Features",
    ),
    GeoJSONRule(
        "duplicate_vertices", "error", "a ring repeats a position consecutively", "EC-errors"
    ),
    GeoJSONRule(
        "missing_property",
        "error",
        "ProducerCountry is absent or empty, or a point has no Area (ProducerName and "
        "ProductionPlace are optional)",
        _FD,
    ),
    GeoJSONRule("bad_country", "error", "ProducerCountry is not an ISO 3166-1 alpha-2 code", _FD),
    GeoJSONRule(
        "country_mismatch",
        "error",
        "the geometry lies more than 0.5° (~55 km) from the declared ProducerCountry "
        "(Natural Earth 1:110m boundaries)",
        "Reg Art. 9(1)(b); agroforest_geo",
    ),
    GeoJSONRule("bad_area", "error", "Area is not a positive number of hectares", _FD),
    GeoJSONRule(
        "point_too_large",
        "error",
        "a point plot declares an Area above 4 ha (non-cattle plots need a polygon)",
        f"{_FD}; Reg Art. 2(28)",
    ),
    GeoJSONRule(
        "point_area_too_small",
        "error",
        "a point plot declares an Area below 0.0001 ha (1 m²)",
        "EC-API",
    ),
)

#: Numeric limits of the EU GeoJSON rules.
GEOJSON_LIMITS: dict[str, float] = {
    "max_decimals": 6,
    "point_max_ha": POINT_MAX_HA,
    "point_min_ha": 0.0001,
    "max_bytes": 25 * 1024 * 1024,
    "max_producers_per_commodity": 1000,
    "max_producers_per_statement": 10000,
    "country_tolerance_deg": 0.5,
}

#: Properties every feature must carry (``Area`` only for points, see :data:`GEOJSON_LIMITS`).
GEOJSON_REQUIRED_PROPERTIES: tuple[str, ...] = ("ProducerCountry",)
GEOJSON_OPTIONAL_PROPERTIES: tuple[str, ...] = ("ProducerName", "ProductionPlace", "Area")

#: ISO 3166-1 alpha-2 country codes (249 officially assigned codes).
ISO_3166_ALPHA2: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
    """.split()
)

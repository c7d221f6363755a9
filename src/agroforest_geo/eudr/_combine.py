"""Measure every source of every raster role, then combine them into the columns the rules read.

:func:`measure_sources` runs each source's evidence function once and keeps its
columns prefixed by the source's label (``<label>_<column>``);
:func:`combine_evidence` turns those into the combined columns (the k-of-n rule of
:mod:`agroforest_geo.eudr.sources`) and the columns derived from them (land use
now and on the cut-off date, agroforestry evidence, the overall ``valid_share``).
The combination reads only the evidence table, so the sensitivity analysis can
leave one source out and combine again without measuring anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._cutoff import last_year_before_cutoff
from . import evidence as ev_mod
from .sources import Source, combine_sources, sources_required

__all__ = ["ROLES", "combine_evidence", "measure_sources"]


@dataclass(frozen=True)
class _Role:
    """The per-source columns of a role, how they combine, and its rule-table parameter."""

    columns: tuple[str, ...]
    decide_on: str
    param_role: str
    smallest: tuple[str, ...] = ()
    earliest: tuple[str, ...] = ()
    loss_years: bool = False


#: Every raster role of the assessment and its per-source columns.
ROLES: dict[str, _Role] = {
    "cover": _Role(
        ("forest_ha_cutoff", "forest_share_cutoff", "mean_cover_pct", "cover_valid_share"),
        "forest_share_cutoff",
        "cover",
        smallest=("cover_valid_share",),
    ),
    "loss": _Role(
        (
            "loss_after_cutoff_ha",
            "loss_after_cutoff_share",
            "loss_before_cutoff_ha",
            "first_loss_year_after_cutoff",
            "loss_valid_share",
        ),
        "loss_after_cutoff_ha",
        "loss",
        smallest=("loss_valid_share",),
        earliest=("first_loss_year_after_cutoff",),
        loss_years=True,
    ),
    "forest_2020": _Role(
        ("forest_ha_2020", "forest_share_2020", "forest_2020_valid_share"),
        "forest_share_2020",
        "forest_2020",
        smallest=("forest_2020_valid_share",),
    ),
    "commodity_cutoff": _Role(
        ("commodity_share_cutoff", "commodity_cutoff_valid_share"),
        "commodity_share_cutoff",
        "commodity",
        smallest=("commodity_cutoff_valid_share",),
    ),
    "commodity_now": _Role(
        ("commodity_share_now", "commodity_now_valid_share"),
        "commodity_share_now",
        "commodity",
        smallest=("commodity_now_valid_share",),
    ),
    "canopy_height": _Role(
        ("tall_canopy_share", "canopy_valid_share"),
        "tall_canopy_share",
        "canopy_height",
        smallest=("canopy_valid_share",),
    ),
    "alerts": _Role(
        (
            "alert_ha_after_cutoff",
            "alert_share_after_cutoff",
            "first_alert_date_after_cutoff",
            "alert_confidence",
            "alert_valid_share",
        ),
        "alert_ha_after_cutoff",
        "alerts",
        smallest=("alert_valid_share",),
        earliest=("first_alert_date_after_cutoff",),
    ),
}

_VALID = tuple(c for r in ROLES.values() for c in r.smallest)


def _forest_pairs(
    parcels: gpd.GeoDataFrame,
    ok: np.ndarray,
    cover: list[Source],
    loss: list[Source],
    common: Mapping[str, Any],
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Per-source cover and loss evidence: each loss source with the first cover, and vice versa.

    One cover and one loss source are read in one pass, as always; with several,
    each loss source counts loss on the forest pixels of the first cover source,
    and each further cover source subtracts the loss before the cut-off of the
    first loss source.
    """
    c0 = cover[0] if cover else Source(None)
    l0 = loss[0] if loss else Source(None)
    runs: dict[tuple[int, int], pd.DataFrame] = {}

    def run(i: int, j: int) -> pd.DataFrame:
        if (i, j) not in runs:
            c = cover[i] if cover else c0
            lo = loss[j] if loss else l0
            if (i, j) != (0, 0) and not _same_grid(c.raster, lo.raster):
                c, lo = _apart(c, lo, measured="loss" if j else "cover")
            runs[(i, j)] = ev_mod.forest_evidence(
                parcels, cover=c.raster, loss=lo.raster, cover_product=c.product,
                loss_product=lo.product, ok=ok, **common,
            )  # fmt: skip
        return runs[(i, j)]

    covers = {}
    for i, s in enumerate(cover):
        f = run(i, 0)
        t = f[["forest_ha_cutoff", "forest_share_cutoff", "mean_cover_pct"]].copy()
        t["cover_valid_share"] = _cover_valid(f, s)
        covers[s.label] = t
    losses = {}
    for j, s in enumerate(loss):
        f = run(0, j)
        cols = [c for c in ROLES["loss"].columns if c in f.columns]
        t = f[cols + [c for c in f.columns if c.startswith("loss_ha_")]].copy()
        t["loss_valid_share"] = f["valid_share"]
        losses[s.label] = t
    return covers, losses


def _same_grid(a: Any, b: Any) -> bool:
    """Whether two rasters (paths or open datasets) share one grid; True when one is a table."""
    import rasterio

    if a is None or b is None or isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        return True

    def grid(r: Any) -> tuple[Any, ...]:
        if hasattr(r, "transform") and hasattr(r, "crs"):
            return (r.crs, r.width, r.height, tuple(r.transform)[:6])
        with rasterio.open(r) as src:
            return (src.crs, src.width, src.height, tuple(src.transform)[:6])

    (ca, wa, ha, ta), (cb, wb, hb, tb) = grid(a), grid(b)
    return bool(ca == cb and (wa, ha) == (wb, hb) and np.allclose(ta, tb, rtol=0, atol=1e-9))


def _apart(c: Source, lo: Source, *, measured: str) -> tuple[Source, Source]:
    """Measure a further source alone when it is not on the grid of its partner, and say so."""
    import warnings

    from ..errors import AgroforestGeoWarning

    if measured == "loss":
        warnings.warn(
            f"loss source {lo.label!r} is not on the grid of cover source {c.label!r}: its loss "
            "is counted on all its pixels, not only on the cover's forest pixels (warp it to the "
            "cover's grid, e.g. `gdalwarp -tr DX DY -te ... -r near`, to count forest loss only)",
            AgroforestGeoWarning,
            stacklevel=6,
        )
        return Source(None), lo
    warnings.warn(
        f"cover source {c.label!r} is not on the grid of loss source {lo.label!r}: no loss before "
        "the cut-off is subtracted from its forest (right for a map of the cut-off year)",
        AgroforestGeoWarning,
        stacklevel=6,
    )
    return c, Source(None)


def _cover_valid(f: pd.DataFrame, s: Source) -> pd.Series:
    # forest_evidence's valid_share is the smaller of the cover's and the loss's; the cover
    # alone is known where forest is known
    return f["valid_share"].where(f["forest_share_cutoff"].notna())


def measure_sources(
    parcels: gpd.GeoDataFrame,
    sources: Any,
    *,
    ok: np.ndarray,
    area_ha: pd.Series,
    cutoff: dt.date,
    thresholds: Mapping[str, float],
    cover_year: int | None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Every source's evidence, prefixed by its label, and the labels of each role."""
    opts = dict(sources.raster_options)
    common: dict[str, Any] = dict(
        cutoff=cutoff, threshold=thresholds["cover_threshold_pct"], cover_year=cover_year,
        area_ha=area_ha, verb_options=opts,
    )  # fmt: skip
    per: dict[str, dict[str, pd.DataFrame]] = {r: {} for r in ROLES}
    per["cover"], per["loss"] = _forest_pairs(parcels, ok, sources.cover, sources.loss, common)
    kw: dict[str, Any] = dict(area_ha=area_ha, ok=ok, verb_options=opts)
    for s in sources.forest_2020:
        per["forest_2020"][s.label] = ev_mod.forest_2020_evidence(
            parcels, s.raster, product=s.product, cutoff=cutoff, **kw
        )
    last = last_year_before_cutoff(cutoff)
    for s in sources.commodity:
        t = ev_mod.commodity_evidence(
            parcels, s.raster, product=s.product,
            min_probability=thresholds["commodity_min_probability"], **kw,
        )  # fmt: skip
        year = s.resolved_product().reference_year
        if year is None:
            raise ValueError(
                f"commodity: product {s.label!r} has no reference_year; say when the map "
                "describes (product.replace(reference_year=2020)): a map of the cut-off year "
                "is land use on the cut-off date, a later one land use now"
            )
        when = "cutoff" if year <= last else "now"
        per[f"commodity_{when}"][s.label] = t.set_axis(
            [f"commodity_share_{when}", f"commodity_{when}_valid_share"], axis=1
        )
    for s in sources.canopy_height:
        per["canopy_height"][s.label] = ev_mod.canopy_height_evidence(
            parcels, s.raster, product=s.product,
            min_height_m=thresholds["canopy_min_height_m"], **kw,
        )  # fmt: skip
    for s in sources.alerts:
        per["alerts"][s.label] = ev_mod.alert_evidence(
            parcels, s.raster, product=s.product, cutoff=cutoff, ok=ok, verb_options=opts
        )
    tables = [t.add_prefix(f"{label}_") for r in per.values() for label, t in r.items()]
    table = pd.concat(tables, axis=1) if tables else pd.DataFrame(index=parcels.index)
    return table, {r: list(v) for r, v in per.items() if v}


def _role_tables(evidence: pd.DataFrame, role: str, labels: list[str]) -> dict[str, pd.DataFrame]:
    spec = ROLES[role]
    out = {}
    for label in labels:
        head = f"{label}_"
        cols = [c for c in spec.columns if head + c in evidence.columns]
        if spec.loss_years:
            cols += [
                c[len(head) :]
                for c in evidence.columns
                if c.startswith(head + "loss_ha_") and c[len(head) :][8:].isdigit()
            ]
        out[label] = evidence[[head + c for c in cols]].set_axis(cols, axis=1)
    return out


def _combine_role(
    evidence: pd.DataFrame, role: str, labels: list[str], thresholds: Mapping[str, float]
) -> pd.DataFrame:
    spec = ROLES[role]
    k = sources_required(thresholds, spec.param_role)
    return combine_sources(
        _role_tables(evidence, role, labels),
        k=k,
        decide_on=spec.decide_on,
        smallest=spec.smallest,
        earliest=spec.earliest,
    )


def combine_evidence(
    evidence: pd.DataFrame,
    roles: Mapping[str, list[str]],
    *,
    thresholds: Mapping[str, float],
    cutoff: dt.date,
) -> pd.DataFrame:
    """Return the evidence with the combined and derived columns (re)computed from the sources.

    ``roles`` names the sources of each role to combine (a role left out, or a
    source left out of its list, is as if it was not given).
    """
    out = evidence.copy()
    for role, spec in ROLES.items():
        labels = list(roles.get(role, []))
        drop = [c for c in out.columns if c.startswith("loss_ha_")] if spec.loss_years else []
        if not labels:
            for c in spec.columns:
                out[c] = np.nan
            out = out.drop(columns=drop)
            out[f"{spec.decide_on}_source"] = ""
            continue
        combined = _combine_role(out, role, labels, thresholds)
        out = out.drop(columns=drop)
        for c in combined.columns:
            out[c] = combined[c]
    return _derive(out, thresholds, cutoff)


def _agroforestry(evidence: pd.DataFrame, th: Mapping[str, float]) -> pd.Series:
    """Tree cover at the cut-off with a tree density in the agroforestry range (NA: unknown)."""
    share, density = evidence["forest_share_cutoff"], evidence["trees_per_ha"]
    agro = (
        (share >= th["agroforestry_min_cover_share"])
        & (density >= th["agroforestry_min_trees_per_ha"])
        & (density <= th["agroforestry_max_trees_per_ha"])
    )
    out: pd.Series = agro.astype("boolean")
    out[~(share.notna() & density.notna())] = pd.NA
    return out


def _derive(ev: pd.DataFrame, th: Mapping[str, float], cutoff: dt.date) -> pd.DataFrame:
    """Land use now and on the cut-off date, agroforestry evidence and the overall coverage."""
    ev["agroforestry_evidence"] = _agroforestry(ev, th)
    min_share = th["commodity_min_share"]
    rec_now = ev.get("records_agri_now", pd.Series(np.nan, index=ev.index))
    rec_cut = ev.get("records_agri_at_cutoff", pd.Series(np.nan, index=ev.index))
    map_now = ev["commodity_share_now"] >= min_share
    map_cut = ev["commodity_share_cutoff"] >= min_share
    ev["agri_use_now"] = ((rec_now == 1) | map_now).astype(float)
    ev["agri_use_at_cutoff"] = ((rec_cut == 1) | map_cut).astype(float)
    year = ev.get("first_planting_year", pd.Series(np.nan, index=ev.index))
    plots = ev.get("agri_plots", pd.Series(np.nan, index=ev.index)) > 0
    ev["agri_use_now_source"] = _which(
        [
            ((rec_now == 1) & plots, "plots (system)"),
            ((rec_now == 1) & ~plots, "parcels (crop)"),
            (map_now, ev["commodity_share_now_source"]),
        ]
    )
    ev["agri_use_at_cutoff_source"] = _which(
        [
            (rec_cut == 1, "plots planting_year " + year.map(_year_text)),
            (map_cut, ev["commodity_share_cutoff_source"]),
        ]
    )
    for c in ("agri_use_now", "agri_use_at_cutoff"):
        ev.loc[ev["area_ha"].isna(), c] = np.nan  # unusable geometry: unknown
    parts = [ev[c] for c in _VALID if c in ev.columns]
    ev["valid_share"] = pd.concat(parts, axis=1).min(axis=1) if parts else np.nan
    ev.loc[ev["area_ha"].isna(), "valid_share"] = np.nan
    return ev


def _year_text(y: Any) -> str:
    return "" if pd.isna(y) else f"{int(y)}"


def _which(items: list[tuple[pd.Series, Any]]) -> pd.Series:
    """Comma-join, per row, the names of the items whose mask holds."""
    index = items[0][0].index
    out = pd.Series("", index=index, dtype=object)
    for mask, name in items:
        names = name if isinstance(name, pd.Series) else pd.Series(name, index=index)
        m = mask.fillna(False).astype(bool)
        out[m] = np.where(out[m] == "", names[m].astype(str), out[m] + "," + names[m].astype(str))
    return out


_RECORDS = ("agri_plots", "first_planting_year", "records_agri_now", "records_agri_at_cutoff")


def without_each_source(
    evidence: pd.DataFrame, *, thresholds: Mapping[str, float], cutoff: dt.date
) -> dict[str, pd.DataFrame]:
    """Return the evidence combined again without each source in turn (``{what: evidence}``).

    Every source of a role with several sources, every land-use and alert source
    (the only one of its role too), and the cooperative's records. A single cover
    or loss source is left out by the sensitivity's own "one source less" (its
    columns unknown), as before.
    """
    roles: dict[str, list[str]] = evidence.attrs.get("sources", {})
    out: dict[str, pd.DataFrame] = {}
    for role, labels in roles.items():
        if role in ("cover", "loss") and len(labels) < 2:
            continue
        for label in labels:
            fewer = {r: [x for x in v if not (r == role and x == label)] for r, v in roles.items()}
            out[f"{label} ({role.split('_')[0]})"] = combine_evidence(
                evidence, fewer, thresholds=thresholds, cutoff=cutoff
            )
    if "records_agri_now" in evidence and (evidence["records_agri_now"] == 1).any():
        ev = evidence.copy()
        ev[list(_RECORDS)] = np.nan
        out["records (plots, crop)"] = combine_evidence(
            ev, roles, thresholds=thresholds, cutoff=cutoff
        )
    return out

"""Country of production and the EU country benchmarking (low / standard / high risk).

* :func:`country_risk` - the risk tier of ISO 3166-1 alpha-2 codes under Commission
  Implementing Regulation (EU) 2025/1093;
* :func:`country_evidence` - per parcel, the country its geometry lies in and that
  country's tier (evidence columns ``country`` and ``country_risk``).

Sources
-------
Countries: the bundled Natural Earth 1:110m admin-0 layer (public domain), see
:mod:`agroforest_geo._countrylayer` for the look-up and its ~55 km tolerance.

Risk tiers: :data:`COUNTRY_RISK_SOURCE`. The Regulation's Annex lists the countries of
low risk (140) and of high risk (4: Belarus, North Korea, Myanmar, Russia); every country
not listed is of standard risk (Art. 29 of Regulation (EU) 2023/1115). The bundled table
(``_data/eudr_country_risk.csv``) holds the Annex's low list from Afghanistan to Ghana
(alphabetical, English names, transcribed in full), the remaining EU Member States and the
other low-risk countries named by the Commission's announcement (United Kingdom, United
States, Japan, South Africa, Norway, Republic of Korea), the four high-risk countries, and
the standard-risk countries of that alphabetical range, of the main producer countries
(Peru, Brazil, Colombia, Côte d'Ivoire, Indonesia, ...) and of the published compilations of
the standard list (Guatemala to Zimbabwe: standard is also the Regulation's default, so
listing them can never lower a tier). A code not in the table is given
the Regulation's default, ``"standard"``, with an ``AgroforestGeoWarning``
naming it: full due diligence, never a simplified one by mistake.

Examples
--------
>>> from agroforest_geo.eudr import country
>>> country.country_risk(["PE", "DE", "RU"]).tolist()
['standard', 'low', 'high']
"""

from __future__ import annotations

import csv
import functools
import warnings
from collections.abc import Iterable
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._countrylayer import country_of
from ..crs import require_crs
from ..errors import AgroforestGeoWarning

__all__ = ["COUNTRY_RISK_SOURCE", "RISK_TIERS", "country_evidence", "country_risk"]

#: The tiers, from least to most risk.
RISK_TIERS: tuple[str, ...] = ("low", "standard", "high")

#: Where the bundled tiers come from.
COUNTRY_RISK_SOURCE: dict[str, str] = {
    "act": "Commission Implementing Regulation (EU) 2025/1093",
    "date": "2025-05-22",
    "published": "OJ L, 2025/1093, 23.5.2025",
    "in_force": "2025-05-26",
    "eli": "http://data.europa.eu/eli/reg_impl/2025/1093/oj",
    "default": "standard",
    "table": "agroforest_geo/_data/eudr_country_risk.csv",
}


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    text = (
        resources.files("agroforest_geo")
        .joinpath("_data/eudr_country_risk.csv")
        .read_text(encoding="utf-8")
    )
    return {row["iso_a2"]: row["risk"] for row in csv.DictReader(text.splitlines())}


def _code(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    s = str(value).strip().upper()
    return s or None


def country_risk(iso2_codes: Iterable[Any]) -> pd.Series:
    """Return the EU risk tier of each country: ``"low"``, ``"standard"`` or ``"high"``.

    Tiers of Commission Implementing Regulation (EU) 2025/1093 of 22 May 2025
    (:data:`COUNTRY_RISK_SOURCE`; see the module notes for what the bundled table holds).

    Parameters
    ----------
    iso2_codes : iterable of str
        ISO 3166-1 alpha-2 codes (case-insensitive). A Series keeps its index.

    Returns
    -------
    pandas.Series
        ``country_risk`` (str); missing (``None``) where the code is missing. A code not
        in the bundled table gets ``"standard"`` (the Regulation's default for countries
        it does not list) and an :class:`~agroforest_geo.errors.AgroforestGeoWarning`.

    Examples
    --------
    >>> from agroforest_geo.eudr import country_risk
    >>> country_risk(["pe", "BR", "CI", "GH", "BY", None]).tolist()
    ['standard', 'standard', 'standard', 'low', 'high', None]
    """
    index = iso2_codes.index if isinstance(iso2_codes, pd.Series) else None
    codes = [_code(c) for c in iso2_codes]
    table = _table()
    unknown = sorted({c for c in codes if c is not None and c not in table})
    if unknown:
        warnings.warn(
            f"country code(s) {unknown} are not in the bundled table of Implementing "
            "Regulation (EU) 2025/1093; taken as 'standard' (the Regulation's default). "
            "Check the Annex for them",
            AgroforestGeoWarning,
            stacklevel=2,
        )
    tiers = [None if c is None else table.get(c, "standard") for c in codes]
    return pd.Series(tiers, index=index, name="country_risk", dtype=object)


def country_evidence(parcels: gpd.GeoDataFrame) -> pd.DataFrame:
    """Country of each parcel, from its geometry, and the country's EU risk tier.

    The country is the Natural Earth 1:110m country containing the parcel's
    representative point, or the nearest within 0.5° (~55 km) for plots just
    outside the coarse coastline (:mod:`agroforest_geo._countrylayer`); the
    tier is :func:`country_risk` of it.

    To add it to an assessment's evidence (``evidence`` on the parcels' index):
    ``evidence = evidence.join(agf.eudr.country_evidence(parcels))``.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcels (polygons or points) in any CRS (looked up in WGS 84).

    Returns
    -------
    pandas.DataFrame
        On ``parcels.index``: ``country`` (ISO 3166-1 alpha-2; missing, NaN,
        outside every country or for a missing/empty geometry) and ``country_risk``
        (``"low"``/``"standard"``/``"high"``; missing where ``country`` is).

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> ev = agf.eudr.country_evidence(parcels)
    >>> ev.drop_duplicates().values.tolist()
    [['PE', 'standard']]
    >>> ev.index.equals(parcels.index)
    True
    """
    if not isinstance(parcels, gpd.GeoDataFrame):
        raise TypeError(f"parcels must be a GeoDataFrame, got {type(parcels).__name__}")
    require_crs(parcels, "parcels")
    wgs = parcels.geometry.to_crs(4326).values
    codes = pd.Series(country_of(np.asarray(wgs, dtype=object)), index=parcels.index)
    return pd.DataFrame(
        {"country": codes.astype(object), "country_risk": country_risk(codes)},
        index=parcels.index,
    )

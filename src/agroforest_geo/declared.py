"""Declared versus measured area of parcels.

Members declare the size of their parcels; the measured (ellipsoidal) area of
the digitized polygon often differs. :func:`declared_vs_measured` puts the two
side by side. Hectares add up across parcels; ratios do not (sum the hectares,
then divide).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd

from .area import area_ha
from .errors import MissingColumnError

__all__ = ["declared_vs_measured"]


def declared_vs_measured(
    gdf: gpd.GeoDataFrame,
    *,
    declared_column: str = "declared_area_ha",
    tolerance: float = 0.1,
) -> pd.DataFrame:
    """Compare the declared area of each feature with its measured ellipsoidal area.

    Parameters
    ----------
    gdf : GeoDataFrame
        Layer with a CRS and a column of declared hectares.
    declared_column : str
        Column holding the declared area in hectares.
    tolerance : float
        Relative tolerance: ``declared_off`` is True where
        ``|declared / measured - 1| > tolerance`` (default 10 %).

    Returns
    -------
    pandas.DataFrame
        On the input index: ``area_ha`` (measured), ``declared_area_ha``,
        ``area_difference_ha`` (declared − measured), ``declared_ratio``
        (declared / measured; NaN where the measured area is 0 or missing) and
        ``declared_off`` (False where either area is missing: nothing to compare).

    Raises
    ------
    MissingColumnError
        If ``declared_column`` is absent.
    MissingCRSError
        If the layer has no CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> sq = shapely.box(-76.7, -7.2, -76.69, -7.19)  # 122.147 ha on WGS 84
    >>> gdf = gpd.GeoDataFrame({"declared_area_ha": [150.0, 120.0]}, geometry=[sq, sq], crs=4326)
    >>> t = declared_vs_measured(gdf)
    >>> t.round(3)
       area_ha  declared_area_ha  area_difference_ha  declared_ratio  declared_off
    0  122.147             150.0              27.853           1.228          True
    1  122.147             120.0              -2.147           0.982         False
    >>> import agroforest_geo as agf
    >>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    >>> declared_vs_measured(parcels).index.equals(parcels.index)
    True
    """
    if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    if declared_column not in gdf.columns:
        raise MissingColumnError(
            f"column {declared_column!r} not found; the layer has "
            f"{[c for c in gdf.columns if c != gdf.geometry.name]}. "
            "Pass declared_column='YOUR_COLUMN' (hectares)."
        )
    measured = area_ha(gdf).to_numpy()
    declared = pd.to_numeric(gdf[declared_column], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(measured > 0, declared / measured, np.nan)
    off = np.isfinite(ratio) & (np.abs(ratio - 1) > tolerance)
    return pd.DataFrame(
        {
            "area_ha": measured,
            "declared_area_ha": declared,
            "area_difference_ha": declared - measured,
            "declared_ratio": ratio,
            "declared_off": off,
        },
        index=gdf.index,
    )

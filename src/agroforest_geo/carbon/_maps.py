"""Biomass per polygon from an above-ground biomass map (Mg/ha), by exact integration."""

from __future__ import annotations

import importlib
import os
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from ..area import area_ha
from ..errors import NoDataWarning, RasterError
from ..raster import RasterLike, integrate
from ._plots import CO2_PER_C

__all__ = ["biomass_from_map"]

#: The product kind a biomass raster must have (``agroforest_geo.products``).
BIOMASS_KIND = "biomass_mg_ha"


def _resolve_product(product: Any) -> Any:
    """Return the product description; names are looked up in ``agroforest_geo.products``."""
    if not isinstance(product, str):
        return product
    try:
        catalogue = importlib.import_module("agroforest_geo.products")
    except ImportError:
        raise ValueError(
            f"product={product!r}: product names need the products catalogue "
            "(agroforest_geo.products); pass a product description instead"
        ) from None
    return catalogue.get(product)


def _raster_nodata(raster: RasterLike, band: int) -> float | None:
    if isinstance(raster, (str, os.PathLike)):
        with rasterio.open(raster) as src:
            return src.nodatavals[band - 1]
    return raster.nodatavals[band - 1]


def _linear_encoding(product: Any, raster: RasterLike, band: int) -> tuple[float, float]:
    """Scale and offset of a product description (1 and 0 without one).

    Integration point for ``agroforest_geo.products``: a product with ``kind``,
    ``scale``, ``offset`` (value = scale × stored + offset) and ``nodata``. The
    integration masks the raster's own nodata; a product ``nodata`` the file does
    not declare stops the call with the fix (declare it in the file).
    """
    if product is None:
        return 1.0, 0.0
    kind = getattr(product, "kind", None)
    if kind != BIOMASS_KIND:
        raise RasterError(f"product {product!r} is a {kind!r} raster, not {BIOMASS_KIND!r} (Mg/ha)")
    nodata = getattr(product, "nodata", None)
    if nodata is not None:
        declared = _raster_nodata(raster, band)
        same = declared is not None and (
            declared == nodata or (np.isnan(declared) and np.isnan(nodata))
        )
        if not same:
            raise RasterError(
                f"the product's nodata is {nodata} but the raster declares {declared}: declare "
                f"it in the file (e.g. `rio edit-info --nodata {nodata} FILE`) so those pixels "
                "are left out"
            )
    scale = getattr(product, "scale", None)
    offset = getattr(product, "offset", None)
    return float(1.0 if scale is None else scale), float(0.0 if offset is None else offset)


def biomass_from_map(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    raster: RasterLike,
    *,
    product: Any = None,
    band: int = 1,
    carbon_fraction: float = 0.47,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Above-ground biomass of each polygon from a biomass map in Mg/ha (e.g. ESA CCI Biomass).

    The map is integrated exactly over each polygon (partial pixels by their
    covered fraction, each pixel piece by its ellipsoidal area:
    :func:`agroforest_geo.raster.integrate`), so ``agb_mg = Σ value × m² / 10 000``.
    Nodata pixels and the part of a polygon outside the map are left out and
    show in ``covered_share``.

    Parameters
    ----------
    polygons : GeoDataFrame or GeoSeries
        Plots or parcels, any CRS.
    raster : path or rasterio dataset
        Above-ground biomass density, Mg/ha (stored values × scale + offset).
    product : product description or str, optional
        A product of the products catalogue, or its name (``kind`` must be
        ``"biomass_mg_ha"``; its ``scale`` and ``offset`` are applied; its
        ``nodata`` must be the raster's).
    band : int
        Band to read.
    carbon_fraction : float
        Carbon per unit dry biomass (0.47).
    n_jobs : int
        Worker processes (see :func:`agroforest_geo.raster.integrate`).

    Returns
    -------
    pandas.DataFrame
        On the polygons' index: ``area_ha``, ``covered_share`` (0-1, the part
        with data), ``agb_mg`` (over the covered part; adds up), ``agb_mg_ha``
        (agb_mg over the covered hectares; does not add up), ``carbon_mg``,
        ``co2e_t``, ``source`` (``"biomass_map"``). NaN where nothing is covered.

    Examples
    --------
    >>> import agroforest_geo as agf, numpy as np, rasterio, shapely, geopandas as gpd
    >>> from rasterio.transform import from_origin
    >>> from rasterio.io import MemoryFile
    >>> sq = gpd.GeoDataFrame(geometry=[shapely.box(500_000, 9_200_000, 500_100, 9_200_100)],
    ...                       crs=32718)
    >>> mem = MemoryFile()
    >>> with mem.open(driver="GTiff", width=20, height=20, count=1, dtype="float32",
    ...               crs="EPSG:32718", transform=from_origin(499_950, 9_200_150, 10, 10),
    ...               nodata=-1) as dst:
    ...     dst.write(np.full((1, 20, 20), 100, "float32"))
    >>> out = agf.carbon.biomass_from_map(sq, mem.open())
    >>> bool(abs(out["agb_mg"].iloc[0] / (100 * out["area_ha"].iloc[0]) - 1) < 1e-6)
    True
    """
    scale, offset = _linear_encoding(_resolve_product(product), raster, band)
    with warnings.catch_warnings():  # reported once, below, in terms of biomass
        warnings.simplefilter("ignore", NoDataWarning)
        integ = integrate(polygons, raster, band=band, n_jobs=n_jobs)
    valid = integ["valid_m2"].to_numpy(float)
    total = valid + integ["nodata_m2"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip(valid / np.where(total > 0, total, np.nan), 0, 1)
        agb = (scale * integ["value_x_m2"].to_numpy(float) + offset * valid) / 10_000.0
        agb = np.where(valid > 0, agb, np.nan)
        per_ha = agb / (valid / 10_000.0)
    partial = (share > 0) & (share < 0.999)
    if (share == 0).any() or partial.any():
        warnings.warn(
            f"{int((share == 0).sum())} polygon(s) lie outside the biomass map or on nodata "
            f"(agb_mg NaN) and {int(partial.sum())} are only partly covered (agb_mg covers the "
            "part with data; see covered_share)",
            NoDataWarning,
            stacklevel=2,
        )
    out = pd.DataFrame(index=polygons.index)
    out["area_ha"] = area_ha(polygons).to_numpy(float)
    out["covered_share"] = share
    out["agb_mg"] = agb
    out["agb_mg_ha"] = per_ha
    out["carbon_mg"] = agb * carbon_fraction
    out["co2e_t"] = agb * carbon_fraction * CO2_PER_C
    out["source"] = "biomass_map"
    return out

"""Carbon: above-ground biomass, carbon and CO₂e per tree, plot and programme, with uncertainty.

From an inventory (diameters, heights where measured, taxa), a wood-density
table and a published allometry, per tree (:func:`agb_kg`, :func:`tree_biomass`),
per plot (:func:`plot_biomass`) and per group of plots (:func:`carbon_rollup`),
with Monte-Carlo intervals; from planting records (:func:`planting_estimate`);
from a biomass map (:func:`biomass_from_map`). Methods, equations and sources:
``docs/carbon.md``.

Examples
--------
>>> import agroforest_geo as agf
>>> round(float(agf.carbon.agb_kg(30.0, 20.0, 0.6)), 1)
581.6
"""

from ._allometry import ALLOMETRIES, Allometry, agb_kg
from ._height import FELDPAUSCH2012, HeightModel, fit_height_model, published_height_model
from ._maps import biomass_from_map
from ._planting import planting_estimate
from ._plots import QUANTITIES, carbon_rollup, plot_biomass
from ._trees import tree_biomass
from ._wood import read_wood_density_table, wood_density

__all__ = [
    "ALLOMETRIES",
    "FELDPAUSCH2012",
    "QUANTITIES",
    "Allometry",
    "HeightModel",
    "agb_kg",
    "biomass_from_map",
    "carbon_rollup",
    "fit_height_model",
    "planting_estimate",
    "plot_biomass",
    "published_height_model",
    "read_wood_density_table",
    "tree_biomass",
    "wood_density",
]

"""agroforest_geo: parcel, agroforestry-plot and forest-cover analysis with exact hectares.

The public verbs are functions that take GeoDataFrames and return results on
their index. Importing the package does no I/O.

Examples
--------
>>> import agroforest_geo as agf
>>> parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
>>> agf.area_ha(parcels).name
'area_ha'
"""

from . import datasets
from ._version import __version__
from .area import area_ha, area_m2, perimeter_m
from .errors import (
    AgroforestGeoError,
    AgroforestGeoWarning,
    CRSMismatchError,
    DuplicateIdError,
    GeometryWarning,
    InputNotFoundError,
    InvalidGeometryError,
    MissingColumnError,
    MissingCRSError,
    NoDataWarning,
    RasterError,
    UnreadableInputError,
)
from .io import read_layer, read_parcels, read_plots, read_protected_areas, write_table

# -- modules added by later work register their public names below --

__all__ = [
    "AgroforestGeoError",
    "AgroforestGeoWarning",
    "CRSMismatchError",
    "DuplicateIdError",
    "GeometryWarning",
    "InputNotFoundError",
    "InvalidGeometryError",
    "MissingCRSError",
    "MissingColumnError",
    "NoDataWarning",
    "RasterError",
    "UnreadableInputError",
    "__version__",
    "area_ha",
    "area_m2",
    "datasets",
    "perimeter_m",
    "read_layer",
    "read_parcels",
    "read_plots",
    "read_protected_areas",
    "write_table",
]

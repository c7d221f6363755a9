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

# -- modules added by later work register their public names below --
from . import carbon, datasets, distributed, eudr, mosaic, products, raster
from ._network import allow_network
from ._version import __version__
from .alerts import disturbance_alerts
from .area import area_ha, area_m2, perimeter_m
from .cover import class_shares, forest_cover, forest_cover_and_loss, forest_loss
from .declared import declared_vs_measured
from .detect import detect_trees, segment_crowns
from .errors import (
    AgroforestGeoError,
    AgroforestGeoWarning,
    AllometryDomainWarning,
    AmbiguousColumnError,
    ColumnWarning,
    CRSMismatchError,
    DuplicateIdError,
    GeometryWarning,
    InputNotFoundError,
    InvalidGeometryError,
    MissingColumnError,
    MissingCRSError,
    NoDataWarning,
    OutputConflictError,
    PartitionError,
    RasterError,
    TaxonFallbackWarning,
    UndeclaredVerbError,
    UnitError,
    UnknownProductError,
    UnreadableInputError,
    UnsupportedError,
)
from .io import read_layer, read_parcels, read_plots, read_protected_areas, read_raw, write_table
from .overlap import containment, overlaps
from .protected import protected_overlap
from .repair import repair
from .reporting import report
from .trees import tree_density, tree_rollup, unassigned_trees
from .validate import RULES, ValidationReport, validate
from .workflow import Assessment, run_assessment

__all__ = [
    "RULES",
    "AgroforestGeoError",
    "AgroforestGeoWarning",
    "AllometryDomainWarning",
    "AmbiguousColumnError",
    "Assessment",
    "CRSMismatchError",
    "ColumnWarning",
    "DuplicateIdError",
    "GeometryWarning",
    "InputNotFoundError",
    "InvalidGeometryError",
    "MissingCRSError",
    "MissingColumnError",
    "NoDataWarning",
    "OutputConflictError",
    "PartitionError",
    "RasterError",
    "TaxonFallbackWarning",
    "UndeclaredVerbError",
    "UnitError",
    "UnknownProductError",
    "UnreadableInputError",
    "UnsupportedError",
    "ValidationReport",
    "__version__",
    "allow_network",
    "area_ha",
    "area_m2",
    "carbon",
    "class_shares",
    "containment",
    "datasets",
    "declared_vs_measured",
    "detect_trees",
    "distributed",
    "disturbance_alerts",
    "eudr",
    "forest_cover",
    "forest_cover_and_loss",
    "forest_loss",
    "mosaic",
    "overlaps",
    "perimeter_m",
    "products",
    "protected_overlap",
    "raster",
    "read_layer",
    "read_parcels",
    "read_plots",
    "read_protected_areas",
    "read_raw",
    "repair",
    "report",
    "run_assessment",
    "segment_crowns",
    "tree_density",
    "tree_rollup",
    "unassigned_trees",
    "validate",
    "write_table",
]

"""One family of errors and warnings for the whole library.

Every error derives from :class:`AgroforestGeoError` *and* from the built-in
exception a caller would naturally catch (``ValueError``, ``FileNotFoundError``,
...), so ``except ValueError`` keeps working. Every warning has its own class so
notebooks can filter it with :func:`warnings.filterwarnings`.
"""

from __future__ import annotations

__all__ = [
    "AgroforestGeoError",
    "AgroforestGeoWarning",
    "AllometryDomainWarning",
    "AmbiguousColumnError",
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
    "UnitError",
    "UnknownProductError",
    "UnreadableInputError",
    "UnsupportedError",
]


class AgroforestGeoError(Exception):
    """Base class of every error raised by agroforest_geo.

    ``cli_message``, when set, is the same message worded for the command line
    (``--id-column codigo`` where the Python message says ``id_column='codigo'``).
    """

    cli_message: str | None = None


class MissingCRSError(AgroforestGeoError, ValueError):
    """A layer or raster has no coordinate reference system."""


class CRSMismatchError(AgroforestGeoError, ValueError):
    """Two inputs that must share a CRS do not."""


class MissingColumnError(AgroforestGeoError, KeyError):
    """A required attribute column is missing."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class UnknownProductError(AgroforestGeoError, KeyError):
    """A raster product is named that the catalogue (or the product file) does not hold."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class AmbiguousColumnError(AgroforestGeoError, ValueError):
    """Several columns could be the one a reader needs; it does not guess which."""


class OutputConflictError(AgroforestGeoError, FileExistsError):
    """An output path is one of the inputs (or another output): writing would lose data."""


class DuplicateIdError(AgroforestGeoError, ValueError):
    """Feature ids that must be unique are not."""


class InvalidGeometryError(AgroforestGeoError, ValueError):
    """Geometries are invalid, empty or of the wrong type for the operation."""


class UnreadableInputError(AgroforestGeoError, ValueError):
    """A path does not exist or its format cannot be read."""


class InputNotFoundError(UnreadableInputError, FileNotFoundError):
    """An input path does not exist."""


class RasterError(AgroforestGeoError, ValueError):
    """A raster cannot be used as given (no CRS, no transform, bad band, ...)."""


class PartitionError(AgroforestGeoError, RuntimeError):
    """A partition of a distributed run failed (e.g. its worker ran out of memory)."""


class UndeclaredVerbError(AgroforestGeoError, TypeError):
    """A function run on Dask does not declare what it needs (``distributed.verb``)."""


class UnitError(AgroforestGeoError, ValueError):
    """Measurements are outside any plausible range for their unit (e.g. diameters in mm)."""


class UnsupportedError(AgroforestGeoError, NotImplementedError):
    """A combination of options the library cannot do (e.g. an input not yet measured on Dask)."""


class AgroforestGeoWarning(UserWarning):
    """Base class of every warning emitted by agroforest_geo."""


class NoDataWarning(AgroforestGeoWarning):
    """Some features have no raster data (outside the raster or all nodata)."""


class GeometryWarning(AgroforestGeoWarning):
    """Some geometries were flagged (empty, invalid, suspicious coordinates)."""


class AllometryDomainWarning(AgroforestGeoWarning):
    """Some trees are outside the size range an allometric model was calibrated on."""


class TaxonFallbackWarning(AgroforestGeoWarning):
    """Some taxa were not found at species level and took a genus, family or stand value."""


class ColumnWarning(AgroforestGeoWarning):
    """A column was not found, or read with an assumption (a default area, a unit)."""

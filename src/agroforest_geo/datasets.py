"""Paths to the synthetic sample data shipped with the package.

The data are synthetic (made by ``scripts/make_sample_data.py`` with a fixed seed)
and depict member parcels of a cocoa cooperative around Juanjuí, San Martín, Peru.
See ``sample_data/README.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["available", "get_path"]

#: name -> file name inside ``sample_data/``
_FILES: dict[str, str] = {
    "parcels": "parcels.gpkg",
    "parcels_messy": "parcels_messy.gpkg",
    "plots": "plots.gpkg",
    "plot_points": "plot_points.csv",
    "gps_points_es": "gps_points_es.csv",
    "terratrac_farms": "terratrac_farms.csv",
    "protected_areas": "protected_areas.gpkg",
    "treecover": "treecover2000.tif",
    "lossyear": "lossyear.tif",
    "chm": "chm.tif",
    "tree_inventory": "tree_inventory.gpkg",
    "wood_density": "wood_density.csv",
}


def _data_dir() -> Path:
    # installed wheel: agroforest_geo/sample_data; source checkout: <repo>/sample_data
    packaged = Path(str(resources.files("agroforest_geo"))) / "sample_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "sample_data"


def available() -> list[str]:
    """Names accepted by :func:`get_path`.

    Examples
    --------
    >>> "parcels" in available()
    True
    """
    return sorted(_FILES)


def get_path(name: str) -> str:
    """Return the path of a sample data set.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    str

    Examples
    --------
    >>> get_path("parcels").endswith("parcels.gpkg")
    True
    """
    try:
        fname = _FILES[name]
    except KeyError:
        raise ValueError(
            f"unknown sample data set {name!r}; choose one of {', '.join(available())}"
        ) from None
    path = _data_dir() / fname
    if not path.exists():
        raise FileNotFoundError(
            f"sample data file {path} is missing; regenerate it with "
            "`python scripts/make_sample_data.py` from a source checkout"
        )
    return str(path)

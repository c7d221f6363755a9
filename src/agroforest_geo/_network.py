"""What the library opens: network access off by default, VRT files checked before GDAL reads them.

Inputs are untrusted (a supplier's GeoJSON, a VRT from a colleague). By default:

* paths that name a network resource (``http://``, ``/vsicurl/``, ``/vsis3/`` ...)
  are refused with :class:`~agroforest_geo.errors.UnreadableInputError`;
* files are read with GDAL's HTTP client pointed at an unreachable proxy
  (:data:`NO_NETWORK_OPTIONS`: ``GDAL_HTTP_PROXY``/``GDAL_HTTPS_PROXY`` set to the
  discard port of this machine, no retry, 1 s timeouts) and ``/vsicurl/`` limited to
  a filename that does not exist (``CPL_VSIL_CURL_ALLOWED_FILENAME``). GDAL has no
  single switch for "no network"; these options stop the requests it would make
  by itself, e.g. for a GeoJSON whose ``crs`` is a ``link`` to a URL;
* a VRT (raster ``<VRTDataset>`` or vector ``<OGRVRTDataSource>``) is parsed first
  (:func:`check_vrt`): its sources must be existing local files (nested VRTs are
  checked too); pixel functions (``VRTDerivedRasterBand``) and raw bands
  (``VRTRawRasterBand``, which read any file as pixels) are refused.

``allow_network=True`` on the readers, ``with agroforest_geo.allow_network():``
around any call, or ``--allow-network`` on the command line, lift the network
rules (the VRT rules on pixel functions and raw bands stay).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import UnreadableInputError

__all__ = [
    "NO_NETWORK_OPTIONS",
    "allow_network",
    "check_source",
    "check_vrt",
    "is_remote",
    "network_allowed",
    "raster_env",
    "vector_env",
]

#: GDAL configuration options set while reading when network access is off.
NO_NETWORK_OPTIONS: dict[str, str] = {
    "GDAL_HTTP_PROXY": "127.0.0.1:9",  # the discard port: connections are refused at once
    "GDAL_HTTPS_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/network-access-is-off",
}
#: Set whatever the network policy: no Python code in VRT pixel functions.
ALWAYS_OPTIONS: dict[str, str] = {"GDAL_VRT_ENABLE_PYTHON": "NO"}

_REMOTE_MARKERS = (
    "/vsicurl",
    "/vsis3",
    "/vsigs",
    "/vsiaz",
    "/vsiadls",
    "/vsioss",
    "/vsiswift",
    "/vsihdfs",
    "/vsiwebhdfs",
)
_MAX_VRT_DEPTH = 8

_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("agf_allow_network", default=False)


def is_remote(path: Any) -> bool:
    """Tell whether a path names a network resource (a URL or a GDAL network file system).

    Examples
    --------
    >>> is_remote("/vsicurl/https://example.org/a.tif"), is_remote("data/parcels.gpkg")
    (True, False)
    """
    text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    low = text.lower()
    return "://" in low or any(m in low for m in _REMOTE_MARKERS)


@contextlib.contextmanager
def allow_network(allowed: bool = True) -> Iterator[None]:
    """Let (or stop) the library open network inputs inside a ``with`` block.

    Network access is off by default; the readers' ``allow_network=`` option
    wins over this for their own call.

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> with agf.allow_network():
    ...     agf._network.network_allowed()
    True
    >>> agf._network.network_allowed()
    False
    """
    token = _allowed.set(bool(allowed))
    try:
        yield
    finally:
        _allowed.reset(token)


def network_allowed(override: bool | None = None) -> bool:
    """Return the network policy: ``override`` if given, else the current context's."""
    return _allowed.get() if override is None else bool(override)


def check_source(path: Any, *, what: str = "input", allow: bool | None = None) -> None:
    """Refuse a network path while network access is off; check a VRT file's sources."""
    if is_remote(path):
        if not network_allowed(allow):
            raise UnreadableInputError(
                f"{what} {path} is a network path and network access is off (inputs are "
                "untrusted by default); pass allow_network=True (command line: "
                "--allow-network) or download the file first"
            )
        return
    p = Path(path)
    if p.is_file():
        check_vrt(p, allow=allow)


def _vrt_root(path: Path) -> ET.Element | None:
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip()
    if not (head.startswith(b"<VRTDataset") or head.startswith(b"<OGRVRTDataSource")):
        return None
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise UnreadableInputError(f"{path} is a VRT that cannot be parsed: {exc}") from exc


def check_vrt(path: Path, *, allow: bool | None = None, _depth: int = 0) -> None:
    """Check a VRT file (raster or vector) before GDAL opens it; other files pass.

    Raises :class:`~agroforest_geo.errors.UnreadableInputError` for a pixel
    function or raw band, a source that is not an existing local file (a network
    source while network access is off), or VRTs nested more than 8 deep.
    """
    root = _vrt_root(path)
    if root is None:
        return
    if _depth >= _MAX_VRT_DEPTH:
        raise UnreadableInputError(f"{path}: VRTs nested more than {_MAX_VRT_DEPTH} deep")
    for band in root.iter("VRTRasterBand"):
        sub = band.get("subClass", "")
        if sub in ("VRTDerivedRasterBand", "VRTRawRasterBand"):
            raise UnreadableInputError(
                f"{path} holds a {sub} (pixel functions or raw file access), which this "
                "library does not open; use a VRT of plain sources (e.g. gdalbuildvrt)"
            )
    for tag in ("SourceFilename", "SrcDataSource"):
        for el in root.iter(tag):
            src = (el.text or "").strip()
            if is_remote(src):
                if not network_allowed(allow):
                    raise UnreadableInputError(
                        f"{path} reads the network source {src!r} and network access is off; "
                        "pass allow_network=True (command line: --allow-network)"
                    )
                continue
            relative = el.get("relativeToVRT", el.get("relativetoVRT", "0")) == "1"
            target = (path.parent / src) if relative else Path(src)
            if src.startswith("/vsi") or not target.is_file():
                raise UnreadableInputError(
                    f"{path}: source {src!r} is not an existing local file; a VRT may only "
                    "read local raster or vector files"
                )
            check_vrt(target, allow=allow, _depth=_depth + 1)


def _options(allow: bool | None) -> dict[str, str]:
    opts = dict(ALWAYS_OPTIONS)
    if not network_allowed(allow):
        opts.update(NO_NETWORK_OPTIONS)
    return opts


def raster_env(allow: bool | None = None) -> Any:
    """Return a ``rasterio.Env`` with the network policy's GDAL options (rasterio's GDAL)."""
    import rasterio

    return rasterio.Env(**_options(allow))


@contextlib.contextmanager
def vector_env(allow: bool | None = None) -> Iterator[None]:
    """Set the network policy's GDAL options in pyogrio's GDAL for a ``with`` block."""
    import pyogrio

    opts = _options(allow)
    before = {k: pyogrio.get_gdal_config_option(k) for k in opts}
    pyogrio.set_gdal_config_options(opts)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)

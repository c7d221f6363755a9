"""Many raster tiles as one input: a list, a glob pattern or a GDAL VRT.

Global products (Hansen ``treecover2000`` / ``lossyear``, JRC GFC2020) come as
tiles. :func:`build_vrt` writes a GDAL virtual raster (VRT): a small XML file
that places every tile on one common grid. Reading a window of the VRT reads
only the tiles under that window, so :func:`agroforest_geo.forest_cover` and
friends stay lazy and bounded in memory on a mosaic of any size, and every
Dask worker can open the same mosaic by its path (rasterio datasets cannot be
sent to workers; paths can).

The tiles must share CRS, pixel size, band count and data type, and lie on one
pixel grid (their origins differ by whole pixels); anything else is a
:class:`~agroforest_geo.errors.RasterError` naming the tile, because resampling
behind the user's back would change the numbers. Areas of the mosaic covered
by no tile are nodata, so a parcel outside every tile keeps its row and shows up
in ``nodata_ha`` / ``valid_share == 0``.

The VRT stores absolute tile paths: it works from any directory, and on a
cluster when the tiles sit at the same path on every machine (shared file
system). GDAL's ``/vsicurl/`` and ``/vsis3/`` paths can be given as tiles too
(no existence check is made for them).
"""

from __future__ import annotations

import glob as _glob
import hashlib
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pyproj
import rasterio
from affine import Affine

from ._atomic import atomic_write
from ._network import check_source, raster_env
from .errors import RasterError

__all__ = ["RasterInput", "as_raster", "build_vrt", "split_raster"]

RasterInput = str | Path | Sequence[str | Path]

#: numpy dtype name -> GDAL data type name, as written in a VRT
_GDAL_TYPES: dict[str, str] = {
    "uint8": "Byte",
    "int8": "Int8",
    "uint16": "UInt16",
    "int16": "Int16",
    "uint32": "UInt32",
    "int32": "Int32",
    "uint64": "UInt64",
    "int64": "Int64",
    "float32": "Float32",
    "float64": "Float64",
}
#: tolerance, in pixels, for tile origins to count as on the common grid
_GRID_TOL_PX = 1e-6
_GLOB_CHARS = ("*", "?", "[")


@dataclass(frozen=True)
class _Tile:
    path: str
    crs: pyproj.CRS
    transform: Affine
    width: int
    height: int
    count: int
    dtype: str
    nodata: float | None
    block: tuple[int, int]


def _is_remote(path: str) -> bool:
    return path.startswith("/vsi") or "://" in path


def _expand(tiles: RasterInput) -> list[str]:
    """Turn a glob pattern, a path or a list of paths into a list of tile paths."""
    if isinstance(tiles, (str, Path)):
        text = str(tiles)
        if any(c in text for c in _GLOB_CHARS) and not _is_remote(text):
            found = sorted(_glob.glob(text))
            if not found:
                raise RasterError(f"no raster matches the pattern {text!r}; check the path")
            return [str(Path(p).resolve()) for p in found]
        items: list[str | Path] = [text]
    else:
        items = list(tiles)
    if not items:
        raise RasterError("the list of raster tiles is empty; pass at least one path")
    out = []
    for item in items:
        if not isinstance(item, (str, Path)):
            raise TypeError(f"raster tiles must be paths, got {type(item).__name__}")
        text = str(item)
        if _is_remote(text):
            out.append(text)
            continue
        path = Path(text)
        if not path.exists():
            raise RasterError(f"raster tile {path} does not exist; check the path")
        out.append(str(path.resolve()))
    return out


def _describe(path: str) -> _Tile:
    check_source(path, what="raster tile")  # network tiles need allow_network()
    try:
        with raster_env(), rasterio.open(path) as src:
            if src.crs is None:
                raise RasterError(
                    f"raster tile {path} has no CRS; set it, e.g. `rio edit-info --crs EPSG:4326`"
                )
            t = src.transform
            if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
                raise RasterError(
                    f"raster tile {path} is rotated or not north-up; warp it first (`gdalwarp`)"
                )
            return _Tile(
                path=path,
                crs=pyproj.CRS.from_user_input(src.crs),
                transform=t,
                width=src.width,
                height=src.height,
                count=src.count,
                dtype=str(src.dtypes[0]),
                nodata=None if src.nodata is None else float(src.nodata),
                block=tuple(src.block_shapes[0]),  # type: ignore[arg-type]
            )
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(f"cannot open raster tile {path} ({exc}); is it a GeoTIFF?") from exc


def _check_same(first: _Tile, tile: _Tile) -> None:
    if not first.crs.equals(tile.crs, ignore_axis_order=True):
        raise RasterError(
            f"raster tiles are in different CRSs: {first.path} is {first.crs.to_string()}, "
            f"{tile.path} is {tile.crs.to_string()}; warp them to one CRS first, e.g. "
            f"`gdalwarp -t_srs {first.crs.to_string()} IN OUT`"
        )
    dx, dy = first.transform.a, first.transform.e
    if not (
        math.isclose(tile.transform.a, dx, rel_tol=1e-9)
        and math.isclose(tile.transform.e, dy, rel_tol=1e-9)
    ):
        raise RasterError(
            f"raster tiles have different resolutions: {first.path} has pixels of "
            f"{dx:g} x {-dy:g}, {tile.path} of {tile.transform.a:g} x {-tile.transform.e:g}; "
            f"resample them to one grid first, e.g. `gdalwarp -tr {dx:g} {-dy:g} -tap IN OUT`"
        )
    if tile.count != first.count or tile.dtype != first.dtype:
        raise RasterError(
            f"raster tiles differ in bands or data type: {first.path} has {first.count} band(s) "
            f"of {first.dtype}, {tile.path} {tile.count} of {tile.dtype}; convert them first, "
            f"e.g. `gdal_translate -ot {_GDAL_TYPES.get(first.dtype, first.dtype)} IN OUT`"
        )
    same_nodata = (first.nodata is None and tile.nodata is None) or (
        first.nodata is not None
        and tile.nodata is not None
        and (first.nodata == tile.nodata or (math.isnan(first.nodata) and math.isnan(tile.nodata)))
    )
    if not same_nodata:
        raise RasterError(
            f"raster tiles have different nodata values: {first.path} {first.nodata}, "
            f"{tile.path} {tile.nodata}; set one value on all, e.g. `rio edit-info --nodata V`"
        )


def _offset_px(value: float, origin: float, step: float, path: str) -> int:
    k = (value - origin) / step
    r = round(k)
    if abs(k - r) > _GRID_TOL_PX:
        raise RasterError(
            f"raster tile {path} is not on the pixel grid of the first tile (offset of "
            f"{k:.6f} pixels); align it first, e.g. `gdalwarp -tap -tr DX DY IN OUT`"
        )
    return int(r)


def _fmt(v: float) -> str:
    return repr(float(v))


def _vrt_xml(tiles: list[_Tile]) -> str:
    first = tiles[0]
    dx, dy = first.transform.a, first.transform.e
    x0 = min(t.transform.c for t in tiles)
    y0 = max(t.transform.f for t in tiles)
    offs = [
        (
            _offset_px(t.transform.c, x0, dx, t.path),
            _offset_px(t.transform.f, y0, dy, t.path),
        )
        for t in tiles
    ]
    width = max(ox + t.width for (ox, _), t in zip(offs, tiles, strict=True))
    height = max(oy + t.height for (_, oy), t in zip(offs, tiles, strict=True))
    gdal_type = _GDAL_TYPES.get(first.dtype)
    if gdal_type is None:
        raise RasterError(f"raster data type {first.dtype} cannot be mosaicked; convert the tiles")

    def source(t: _Tile, off: tuple[int, int], band: str) -> str:
        return (
            "<SimpleSource>"
            f'<SourceFilename relativeToVRT="0">{escape(t.path)}</SourceFilename>'
            f"<SourceBand>{band}</SourceBand>"
            f'<SourceProperties RasterXSize="{t.width}" RasterYSize="{t.height}" '
            f'DataType="{gdal_type if band[0] != "m" else "Byte"}" '
            f'BlockXSize="{t.block[1]}" BlockYSize="{t.block[0]}"/>'
            f'<SrcRect xOff="0" yOff="0" xSize="{t.width}" ySize="{t.height}"/>'
            f'<DstRect xOff="{off[0]}" yOff="{off[1]}" xSize="{t.width}" ySize="{t.height}"/>'
            "</SimpleSource>"
        )

    gt = ", ".join(_fmt(v) for v in (x0, dx, 0.0, y0, 0.0, dy))
    lines = [
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">',
        f"  <SRS>{escape(first.crs.to_wkt())}</SRS>",
        f"  <GeoTransform>{gt}</GeoTransform>",
    ]
    for b in range(1, first.count + 1):
        lines.append(f'  <VRTRasterBand dataType="{gdal_type}" band="{b}">')
        if first.nodata is not None:
            lines.append(f"    <NoDataValue>{_fmt(first.nodata)}</NoDataValue>")
        lines.extend("    " + source(t, off, str(b)) for t, off in zip(tiles, offs, strict=True))
        lines.append("  </VRTRasterBand>")
    if first.nodata is None:
        # no nodata value: a dataset mask marks where tiles are, so gaps read as nodata
        lines.append('  <MaskBand><VRTRasterBand dataType="Byte">')
        lines.extend("    " + source(t, off, "mask,1") for t, off in zip(tiles, offs, strict=True))
        lines.append("  </VRTRasterBand></MaskBand>")
    lines.append("</VRTDataset>")
    return "\n".join(lines) + "\n"


def build_vrt(tiles: RasterInput, path: str | Path | None = None) -> Path:
    """Write a GDAL VRT that mosaics raster tiles on their common grid.

    Parameters
    ----------
    tiles : path, glob pattern or sequence of paths
        GeoTIFFs (or any GDAL raster) sharing CRS, pixel size, bands, data type
        and nodata value, on one pixel grid. Tiles may leave gaps; gaps are nodata.
    path : path, optional
        Where to write the VRT. By default a file in the system's temporary
        directory named after the tiles (the same tiles give the same file). On
        a multi-machine cluster give a path on storage every worker can read.

    Returns
    -------
    pathlib.Path
        The VRT, readable with :func:`rasterio.open` and usable wherever this
        library takes a raster path.

    Raises
    ------
    RasterError
        No tile, a missing tile, or tiles that differ in CRS, resolution, bands,
        data type or nodata, or are off the common pixel grid.

    Examples
    --------
    >>> import tempfile, rasterio, agroforest_geo as agf
    >>> tmp = tempfile.mkdtemp()
    >>> tiles = split_raster(agf.datasets.get_path("treecover"), tmp, nx=2, ny=2)
    >>> vrt = build_vrt(tiles, f"{tmp}/treecover.vrt")
    >>> with rasterio.open(vrt) as a, rasterio.open(agf.datasets.get_path("treecover")) as b:
    ...     a.shape == b.shape and bool((a.read(1) == b.read(1)).all())
    True
    """
    paths = _expand(tiles)
    infos = [_describe(p) for p in paths]
    for t in infos[1:]:
        _check_same(infos[0], t)
    xml = _vrt_xml(infos)
    if path is None:
        digest = hashlib.sha1(xml.encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"agroforest_geo-mosaic-{digest}.vrt"
    out = Path(path)
    with atomic_write(out) as tmp:
        tmp.write_text(xml, encoding="utf-8")
    return out


def as_raster(raster: Any, *, vrt_path: str | Path | None = None) -> Any:
    """Normalise a raster input to one path a worker can open.

    A single raster path (GeoTIFF, VRT, ...) is returned unchanged; an open
    rasterio dataset becomes its path; a list of tiles or a glob pattern becomes
    a VRT (:func:`build_vrt`). Anything else (``None``, a precomputed table) is
    returned as it is.

    Parameters
    ----------
    raster : path, glob pattern, sequence of paths, rasterio dataset or other
    vrt_path : path, optional
        Where to write the VRT of a list or pattern (see :func:`build_vrt`).

    Returns
    -------
    str or the input unchanged

    Examples
    --------
    >>> import agroforest_geo as agf
    >>> p = agf.datasets.get_path("treecover")
    >>> as_raster(p) == p and as_raster(None) is None
    True
    """
    if isinstance(raster, rasterio.io.DatasetReader):
        if raster.closed:
            raise RasterError(f"raster {raster.name} is closed; pass its path")
        return str(raster.name)
    if isinstance(raster, Path):
        return str(raster)
    if isinstance(raster, str):
        if any(c in raster for c in _GLOB_CHARS) and not _is_remote(raster):
            return str(build_vrt(raster, vrt_path))
        return raster
    if (
        isinstance(raster, (list, tuple))
        and raster
        and all(isinstance(r, (str, Path)) for r in raster)
    ):
        return str(build_vrt(raster, vrt_path))
    return raster


def split_raster(
    raster: str | Path, out_dir: str | Path, *, nx: int = 2, ny: int = 2
) -> list[Path]:
    """Cut a raster into ``nx`` × ``ny`` GeoTIFF tiles (to test and benchmark mosaics).

    Parameters
    ----------
    raster : path
    out_dir : path
        Directory for the tiles, created if needed.
    nx, ny : int
        Number of tiles across and down.

    Returns
    -------
    list of pathlib.Path
        Tile paths, row by row from the top left.

    Examples
    --------
    >>> import tempfile, agroforest_geo as agf
    >>> tiles = split_raster(agf.datasets.get_path("lossyear"), tempfile.mkdtemp(), nx=3, ny=1)
    >>> [p.name for p in tiles]
    ['lossyear_r0_c0.tif', 'lossyear_r0_c1.tif', 'lossyear_r0_c2.tif']
    """
    if nx < 1 or ny < 1:
        raise ValueError(f"nx and ny must be at least 1, got nx={nx}, ny={ny}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    src_path = Path(raster)
    paths = []
    with rasterio.open(src_path) as src:
        xs = [round(i * src.width / nx) for i in range(nx + 1)]
        ys = [round(j * src.height / ny) for j in range(ny + 1)]
        profile = src.profile.copy()
        profile.update(driver="GTiff", tiled=False, compress="deflate")
        profile.pop("blockxsize", None)
        profile.pop("blockysize", None)
        for j in range(ny):
            for i in range(nx):
                win = rasterio.windows.Window(xs[i], ys[j], xs[i + 1] - xs[i], ys[j + 1] - ys[j])
                data = src.read(window=win)
                profile.update(
                    width=int(win.width),
                    height=int(win.height),
                    transform=src.window_transform(win),
                )
                path = out / f"{src_path.stem}_r{j}_c{i}.tif"
                with atomic_write(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
                    dst.write(data)
                paths.append(path)
    return paths

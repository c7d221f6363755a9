"""The report's map: parcels grouped in clusters, each drawn in its own local projection.

Method
------
* **Clusters.** The parcels' bounding-box centres are binned in 1-degree
  cells; cells that touch (8-neighbours) form a cluster. A cooperative is one
  cluster; plots on three continents are several, and each is drawn in an
  azimuthal equidistant projection centred on it, so no shape is stretched by
  a far-away UTM zone and every cluster is zoomed to its own extent.
* **Screen resolution.** A cluster is drawn in integer units, 100,000 across
  its longer side; geometries are simplified to 2 units (1/50,000 of the
  extent: detail is kept up to a 20-fold zoom on a 1,000-pixel map) and written
  as integer SVG paths, so the file grows with the number of parcels, not
  with their vertices. A parcel smaller than 0.4 % of the extent is flagged
  ``tiny`` and drawn with a thick outline, so that it stays visible.
* **Loss after the cut-off** is read from the loss raster block by block
  (at most 2,048 x 2,048 pixels per read), only blocks that meet a parcel;
  the patches of loss that meet no parcel are dropped, and a block outside
  the raster is skipped. Memory
  is bounded by the block, not by the distance between parcels.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from .._cutoff import last_year_before_cutoff
from .._network import check_source, raster_env
from ..errors import NoDataWarning

__all__ = ["Cluster", "find_clusters", "loss_shapes", "svg_paths"]

PathLike = str | os.PathLike[str]

#: Units across the longer side of a cluster's drawing.
UNITS = 100_000
#: Simplification tolerance, in drawing units.
SIMPLIFY_UNITS = 2.0
#: A parcel smaller than this share of the extent is drawn with a thick outline.
TINY_SHARE = 0.004
#: Largest raster block read at once (pixels per side).
BLOCK = 2048


@dataclass
class Cluster:
    """Parcels drawn together, in a projection centred on them."""

    members: np.ndarray
    crs: pyproj.CRS
    lon: float
    lat: float
    x0: float = 0.0
    y1: float = 0.0
    scale: float = 1.0
    width: int = UNITS
    height: int = UNITS

    def fit(self, bounds: np.ndarray, margin: float = 0.05) -> None:
        """Set the frame to projected bounds (metres) with a margin."""
        x0, y0, x1, y1 = (float(v) for v in bounds)
        w, h = max(x1 - x0, 10.0), max(y1 - y0, 10.0)
        side = max(w, h) * (1 + 2 * margin)
        self.scale = UNITS / side
        self.x0 = x0 - (side - w) / 2
        self.y1 = y1 + (side - h) / 2
        self.width = int(np.ceil(side * self.scale))
        self.height = self.width

    @property
    def metres_per_unit(self) -> float:
        """Ground metres of one drawing unit."""
        return 1.0 / self.scale

    def box(self) -> tuple[float, float, float, float]:
        """Return the frame as projected bounds (metres)."""
        side = self.width / self.scale
        return (self.x0, self.y1 - side, self.x0 + side, self.y1)


def find_clusters(parcels: gpd.GeoDataFrame, *, cell_deg: float = 1.0) -> list[Cluster]:
    """Group the parcels into clusters of touching 1-degree cells (largest first).

    Parcels without a usable geometry join the largest cluster (they are drawn
    as empty shapes, listed in the table).
    """
    from scipy import ndimage

    ll = parcels.geometry.to_crs("EPSG:4326") if parcels.crs else parcels.geometry
    b = ll.bounds.to_numpy(float)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    ok = np.isfinite(cx) & np.isfinite(cy)
    if not ok.any():
        return [Cluster(np.arange(len(parcels)), pyproj.CRS("EPSG:4326"), 0.0, 0.0)]
    ix = np.floor((cx[ok] + 180) / cell_deg).astype(np.int64)
    iy = np.floor((cy[ok] + 90) / cell_deg).astype(np.int64)
    ux, inv_x = np.unique(ix, return_inverse=True)
    uy, inv_y = np.unique(iy, return_inverse=True)
    cols, rows = ux - ux.min(), uy - uy.min()  # the occupied part of the 1-degree grid
    grid = np.zeros((rows.max() + 1, cols.max() + 1), dtype=bool)
    grid[rows[inv_y], cols[inv_x]] = True
    labels, n = ndimage.label(grid, structure=np.ones((3, 3), dtype=bool))
    lab = labels[rows[inv_y], cols[inv_x]] - 1
    positions = np.flatnonzero(ok)
    groups = [positions[lab == k] for k in range(n)]
    groups.sort(key=len, reverse=True)
    bad = np.flatnonzero(~ok)
    if len(bad):
        groups[0] = np.sort(np.concatenate([groups[0], bad]))
    out = []
    for members in groups:
        sel = b[members][np.isfinite(b[members, 0])]
        lon = float((sel[:, 0].min() + sel[:, 2].max()) / 2)
        lat = float((sel[:, 1].min() + sel[:, 3].max()) / 2)
        crs = pyproj.CRS.from_proj4(
            f"+proj=aeqd +lat_0={lat:.6f} +lon_0={lon:.6f} +datum=WGS84 +units=m +no_defs"
        )
        out.append(Cluster(members, crs, lon, lat))
    return out


def svg_paths(
    geoms: np.ndarray, cl: Cluster, *, simplify: bool = True
) -> tuple[list[str], np.ndarray]:
    """SVG path data of projected geometries in the cluster's frame, and which are tiny.

    Polygons become closed rings of integer coordinates; points and polygons
    that collapse to a point become a zero-length segment (drawn as a dot by a
    round line cap).
    """
    n = len(geoms)
    out = [""] * n
    tiny = np.zeros(n, dtype=bool)
    if n == 0:
        return out, tiny
    g = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(g) | shapely.is_empty(g))
    if simplify:
        tol = SIMPLIFY_UNITS / cl.scale
        g = np.where(present, shapely.simplify(g, tol, preserve_topology=True), g)
    b = shapely.bounds(g)
    size = np.fmax(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) * cl.scale
    tiny = present & (np.nan_to_num(size) < TINY_SHARE * UNITS)
    parts, pidx = shapely.get_parts(g[present], return_index=True)
    owner_of_part = np.flatnonzero(present)[pidx]
    rings, ridx = shapely.get_rings(parts, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    x = np.rint((coords[:, 0] - cl.x0) * cl.scale).astype(np.int64).tolist()
    y = np.rint((cl.y1 - coords[:, 1]) * cl.scale).astype(np.int64).tolist()
    xy = [f"{a} {c}" for a, c in zip(x, y, strict=True)]
    starts = np.searchsorted(cidx, np.arange(len(rings) + 1)).tolist()
    pieces: list[list[str]] = [[] for _ in range(n)]
    for r in range(len(rings)):
        s, e = starts[r], starts[r + 1] - 1  # drop the closing vertex
        if e - s >= 2:
            pieces[owner_of_part[ridx[r]]].append("M" + " ".join(xy[s:e]) + "Z")
    # points and shapes with no ring left: a dot at their centre
    for i in np.flatnonzero(present).tolist():
        if not pieces[i]:
            cx = round(((b[i, 0] + b[i, 2]) / 2 - cl.x0) * cl.scale)
            cy = round((cl.y1 - (b[i, 1] + b[i, 3]) / 2) * cl.scale)
            pieces[i].append(f"M{cx} {cy}l0 0")
            tiny[i] = True
    for i, p in enumerate(pieces):
        if p:
            out[i] = "".join(p)
    return out, tiny


def _no_loss_note(src: Any, geo: gpd.GeoSeries) -> gpd.GeoSeries:
    """Return empty loss shapes whose ``attrs["note"]`` says the raster misses the parcels."""
    out = gpd.GeoSeries([], crs=src.crs)
    rb = ", ".join(f"{v:.4g}" for v in src.bounds)
    pb = ", ".join(f"{v:.4g}" for v in geo.total_bounds)
    out.attrs["note"] = (
        f"the loss raster (bounds {rb}) covers none of the parcels (bounds {pb} in its CRS): "
        "no loss is shown; check the tile (e.g. the right Hansen granule)"
    )
    warnings.warn(out.attrs["note"], NoDataWarning, stacklevel=4)
    return out


def loss_shapes(
    lossyear: PathLike,
    parcels: gpd.GeoDataFrame,
    cutoff: dt.date,
    *,
    base_year: int = 2000,
) -> gpd.GeoSeries:
    """Loss after the cut-off under the parcels, as polygons in the raster's CRS.

    Read block by block (:data:`BLOCK`); only blocks that meet a parcel are
    read, blocks outside the raster are skipped, patches of loss that meet no
    parcel are dropped. An empty series when the raster covers none of the parcels.
    """
    import rasterio
    from rasterio.features import shapes
    from rasterio.windows import Window, from_bounds

    last_before = last_year_before_cutoff(cutoff) - base_year
    check_source(lossyear, what="loss raster")
    with raster_env(), rasterio.open(lossyear) as src:
        if src.crs is None:
            return gpd.GeoSeries([], crs="EPSG:4326")
        geo = parcels.geometry
        geo = geo[~(geo.isna() | geo.is_empty)].to_crs(src.crs)
        if not len(geo):
            return gpd.GeoSeries([], crs=src.crs)
        tree = shapely.STRtree(geo.to_numpy())
        full = Window(0, 0, src.width, src.height)
        win = from_bounds(*geo.total_bounds, transform=src.transform)
        c0, r0 = int(np.floor(win.col_off)), int(np.floor(win.row_off))
        win = Window(
            c0,
            r0,
            int(np.ceil(win.col_off + win.width)) - c0 + 1,
            int(np.ceil(win.row_off + win.height)) - r0 + 1,
        )
        try:
            win = win.intersection(full)
        except rasterio.errors.WindowError:  # the parcels are outside the raster
            return _no_loss_note(src, geo)
        if win.width <= 0 or win.height <= 0:
            return _no_loss_note(src, geo)
        found: list[Any] = []
        for r0 in range(int(win.row_off), int(win.row_off + win.height), BLOCK):
            for c0 in range(int(win.col_off), int(win.col_off + win.width), BLOCK):
                block = Window(
                    c0,
                    r0,
                    min(BLOCK, int(win.col_off + win.width) - c0),
                    min(BLOCK, int(win.row_off + win.height) - r0),
                )
                tr = src.window_transform(block)
                bbox = shapely.box(*rasterio.windows.bounds(block, src.transform))
                hit = tree.query(bbox)
                if not len(hit):
                    continue
                data = src.read(1, window=block)
                mask = data > last_before
                if src.nodata is not None:
                    mask &= data != src.nodata
                if not mask.any():
                    continue
                pieces = np.array(
                    [
                        shapely.geometry.shape(g)
                        for g, _ in shapes(mask.astype(np.uint8), mask=mask, transform=tr)
                    ],
                    dtype=object,
                )
                # keep the loss that meets a parcel (loss elsewhere is not the question)
                meets = np.unique(tree.query(pieces, predicate="intersects")[0])
                found.extend(pieces[meets].tolist())
        return gpd.GeoSeries(found, crs=src.crs)


# --------------------------------------------------------------------------------------
# the drawing: every layer of every cluster, once (the sheets reuse it)
# --------------------------------------------------------------------------------------


@dataclass
class Drawing:
    """Paths of every layer in each cluster's frame; the sheets reuse them."""

    clusters: list[Cluster]
    cluster_of: np.ndarray  # cluster of each parcel (position)
    paths: list[str]  # path data of each parcel, in its cluster's units
    tiny: np.ndarray
    unit_bounds: np.ndarray  # (n, 4) x0, y0, x1, y1 in units, y down
    protected: list[list[tuple[str, str]]]  # per cluster: (path, tooltip)
    conflicts: list[list[tuple[str, str, str]]]  # per cluster: (css class, path, tooltip)
    loss: list[list[str]]  # per cluster: loss polygon paths
    loss_bounds: list[np.ndarray]  # per cluster: (k, 4) unit bounds of those paths
    note: str = ""  # why no loss is drawn (the raster misses the parcels)


def _unit_bounds(geoms: np.ndarray, cl: Cluster) -> np.ndarray:
    b = shapely.bounds(geoms)
    return np.column_stack(
        [
            (b[:, 0] - cl.x0) * cl.scale,
            (cl.y1 - b[:, 3]) * cl.scale,
            (b[:, 2] - cl.x0) * cl.scale,
            (cl.y1 - b[:, 1]) * cl.scale,
        ]
    )


def _near(layer: gpd.GeoDataFrame | gpd.GeoSeries, box: np.ndarray) -> np.ndarray:
    """Positions of the layer's shapes whose bounds meet ``box`` (in the layer's CRS)."""
    if not len(layer):
        return np.empty(0, dtype=np.int64)
    return np.sort(layer.sindex.query(shapely.box(*box)))


def draw(
    parcels: gpd.GeoDataFrame,
    *,
    protected: gpd.GeoDataFrame | None,
    protected_tips: list[str],
    conflicts: gpd.GeoDataFrame | None,
    loss: gpd.GeoSeries | None,
) -> Drawing:
    """Project, simplify and write every layer of every cluster (each geometry once)."""
    clusters = find_clusters(parcels)
    n = len(parcels)
    cluster_of = np.zeros(n, dtype=np.int64)
    paths = [""] * n
    tiny = np.zeros(n, dtype=bool)
    ubounds = np.full((n, 4), np.nan)
    prot_out, conf_out, loss_out, loss_b = [], [], [], []
    geo = parcels.geometry.to_numpy()
    for k, cl in enumerate(clusters):
        cluster_of[cl.members] = k
        sub = parcels.geometry.iloc[cl.members]
        proj = sub.to_crs(cl.crs).to_numpy() if parcels.crs else geo[cl.members]
        ok = ~(shapely.is_missing(proj) | shapely.is_empty(proj))
        if ok.any():
            cl.fit(shapely.total_bounds(proj[ok]))
        p, t = svg_paths(proj, cl)
        for j, pos in enumerate(cl.members.tolist()):
            paths[pos] = p[j]
        tiny[cl.members] = t
        ubounds[cl.members] = _unit_bounds(proj, cl)
        box_native = sub[~(sub.isna() | sub.is_empty)].total_bounds if ok.any() else None
        prot_out.append(_layer_paths(protected, protected_tips, box_native, cl))
        conf_out.append(_conflict_paths(conflicts, box_native, cl))
        lp, lb = _loss_paths(loss, sub, cl)
        loss_out.append(lp)
        loss_b.append(lb)
    return Drawing(clusters, cluster_of, paths, tiny, ubounds, prot_out, conf_out, loss_out, loss_b)


def _clip_project(layer: Any, box: np.ndarray, cl: Cluster) -> tuple[np.ndarray, np.ndarray]:
    """Return the shapes of ``layer`` near ``box``, clipped to the frame and projected."""
    pos = _near(layer, box)
    if not len(pos):
        return pos, np.empty(0, dtype=object)
    side = max(box[2] - box[0], box[3] - box[1])
    pad = side * 0.5
    clipped = shapely.clip_by_rect(
        layer.geometry.to_numpy()[pos], box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    )
    proj = gpd.GeoSeries(clipped, crs=layer.crs).to_crs(cl.crs).to_numpy()
    return pos, shapely.clip_by_rect(proj, *cl.box())


def _layer_paths(
    layer: gpd.GeoDataFrame | None, tips: list[str], box: np.ndarray | None, cl: Cluster
) -> list[tuple[str, str]]:
    if layer is None or box is None or not len(layer):
        return []
    pos, proj = _clip_project(layer, box, cl)
    paths, _ = svg_paths(proj, cl)
    return [(d, tips[p]) for p, d in zip(pos.tolist(), paths, strict=True) if d]


def _conflict_paths(
    conflicts: gpd.GeoDataFrame | None, box: np.ndarray | None, cl: Cluster
) -> list[tuple[str, str, str]]:
    if conflicts is None or box is None or not len(conflicts):
        return []
    pos, proj = _clip_project(conflicts, box, cl)
    paths, _ = svg_paths(proj, cl, simplify=False)
    kinds = conflicts["kind"].to_numpy()
    labels = conflicts["label"].to_numpy()
    return [
        ("overlap" if kinds[p] == "parcel overlap" else "encroach", d, str(labels[p]))
        for p, d in zip(pos.tolist(), paths, strict=True)
        if d
    ]


def _loss_paths(
    loss: gpd.GeoSeries | None, sub: gpd.GeoSeries, cl: Cluster
) -> tuple[list[str], np.ndarray]:
    if loss is None or not len(loss) or not len(sub):
        return [], np.empty((0, 4))
    box = sub.to_crs(loss.crs)
    box = box[~(box.isna() | box.is_empty)]
    if not len(box):
        return [], np.empty((0, 4))
    pos = _near(loss, box.total_bounds)
    if not len(pos):
        return [], np.empty((0, 4))
    proj = loss.iloc[pos].to_crs(cl.crs).to_numpy()
    paths, _ = svg_paths(proj, cl, simplify=False)
    keep = [j for j, d in enumerate(paths) if d]
    return [paths[j] for j in keep], _unit_bounds(proj[keep], cl)


def _nice_length(x: float) -> float:
    """Return a round length (1, 2 or 5 times a power of ten) not above ``x``."""
    if not x > 0:
        return 1.0
    p = 10 ** np.floor(np.log10(x))
    for k in (5, 2, 1):
        if k * p <= x:
            return float(k * p)
    return float(p)

"""Generate the synthetic sample data shipped in ``sample_data/``.

Everything written here is SYNTHETIC: invented member parcels, plots, protected
areas, rasters and tree inventories of a fictitious cocoa cooperative around
Juanjuí, San Martín, Peru. Nothing is derived from real surveys or imagery.

The output is deterministic: a single ``numpy.random.default_rng(SEED)`` drives
every random draw, in a fixed order. Geometry is built in UTM zone 18S metres
(EPSG:32718); vector layers are written in EPSG:4326 as a GPS or phone app would.

Usage::

    python scripts/make_sample_data.py            # writes into <repo>/sample_data
    python scripts/make_sample_data.py --out DIR  # writes into DIR
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.features import rasterize
from rasterio.transform import from_origin
from scipy import ndimage
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

SEED = 20201231
UTM = "EPSG:32718"
WGS84 = "EPSG:4326"
_TO_UTM = Transformer.from_crs(WGS84, UTM, always_xy=True)
_TO_LL = Transformer.from_crs(UTM, WGS84, always_xy=True)
GEOD = Geod(ellps="WGS84")

# Hansen-style raster grid (EPSG:4326)
RES = 0.00025
WEST, NORTH = -76.90, -7.02
WIDTH = HEIGHT = 1200  # -> east -76.60, south -7.32
EAST, SOUTH = WEST + WIDTH * RES, NORTH - HEIGHT * RES

CHM_RES = 0.5
CHM_NODATA = -9999.0
LOSS_LAST_YEAR = 23  # lossyear 1..23 = 2001..2023

CLUSTERS = [
    # province, district, centre lon, lat, number of randomly placed parcels
    ("Mariscal Cáceres", "Juanjuí", -76.725, -7.190, 66),
    ("Huallaga", "Saposoa", -76.805, -7.085, 68),
    ("Bellavista", "Bellavista", -76.660, -7.090, 66),
    ("Picota", "Picota", -76.710, -7.272, 69),
]

SHADE_SPECIES = {
    # species: (min height, max height, weight)
    "Inga edulis": (8.0, 14.0, 0.35),
    "Cedrela odorata": (15.0, 30.0, 0.15),
    "Swietenia macrophylla": (15.0, 28.0, 0.1),
    "Calycophyllum spruceanum": (12.0, 25.0, 0.2),
    "Guazuma crinita": (10.0, 22.0, 0.2),
}
REFOREST_SPECIES = [
    "Guazuma crinita",
    "Calycophyllum spruceanum",
    "Cedrela odorata",
    "Swietenia macrophylla",
    "Cedrelinga cateniformis",
]


# ----------------------------------------------------------------------------- utilities


def to_ll(geom):
    """UTM 18S geometry -> EPSG:4326, coordinates rounded to 1e-7 degree (~1 cm)."""

    def _f(xy):
        x, y = _TO_LL.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([x, y]), 7)

    return shapely.transform(geom, _f)


def to_utm(geom):
    def _f(xy):
        x, y = _TO_UTM.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, _f)


def utm_xy(lon: float, lat: float) -> tuple[float, float]:
    x, y = _TO_UTM.transform(lon, lat)
    return float(x), float(y)


def geod_area_ha(geom_ll) -> float:
    return abs(GEOD.geometry_area_perimeter(geom_ll)[0]) / 1e4


def star(rng, cx, cy, area_m2, nmin=6, nmax=14, irregular=0.28, elong=(0.7, 1.45)):
    """Irregular star-shaped (hence simple) polygon of the given area around (cx, cy)."""
    n = int(rng.integers(nmin, nmax + 1))
    step = 2 * math.pi / n
    ang = np.arange(n) * step + rng.uniform(-0.35, 0.35, n) * step + rng.uniform(0, 2 * math.pi)
    rad = np.clip(1 + irregular * rng.uniform(-1, 1, n), 0.55, None)
    e = rng.uniform(*elong)
    rot = rng.uniform(0, math.pi)
    x = rad * np.cos(ang) * e
    y = rad * np.sin(ang) / e
    xr = x * math.cos(rot) - y * math.sin(rot)
    yr = x * math.sin(rot) + y * math.cos(rot)
    poly = Polygon(np.column_stack([xr, yr]))
    s = math.sqrt(area_m2 / poly.area)
    return affinity.affine_transform(poly, [s, 0, 0, s, cx, cy])


def wiggly(rng, cx, cy, rx, ry, n, amp=0.10, kmax=40):
    """Smoothly perturbed ellipse with n vertices (for protected-area outlines)."""
    th = np.linspace(0, 2 * math.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, kmax + 1):
        r += amp / k**0.8 * rng.normal() * np.cos(k * th + rng.uniform(0, 2 * math.pi))
    r = np.clip(r, 0.5, None)
    return Polygon(np.column_stack([cx + rx * r * np.cos(th), cy + ry * r * np.sin(th)]))


def smooth_noise(rng, shape, sigma):
    z = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="reflect")
    return (z - z.mean()) / z.std()


def ray_hit(poly: Polygon, cx: float, cy: float, theta: float) -> Point:
    far = 1e5
    line = LineString([(cx, cy), (cx + far * math.cos(theta), cy + far * math.sin(theta))])
    hit = line.intersection(poly.exterior)
    pts = list(getattr(hit, "geoms", [hit]))
    return min(pts, key=lambda p: p.distance(Point(cx, cy)))


def bisect(f, lo, hi, target, n=40):
    """Find x in [lo, hi] with f(x) ~= target, for f decreasing in x."""
    for _ in range(n):
        mid = 0.5 * (lo + hi)
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def largest_part(g):
    if isinstance(g, MultiPolygon) or g.geom_type == "GeometryCollection":
        polys = [p for p in g.geoms if p.geom_type == "Polygon"]
        return max(polys, key=lambda p: p.area) if polys else Polygon()
    return g


@dataclass
class Parcel:
    geom: Polygon | MultiPolygon  # UTM
    cluster: int
    tags: set[str] = field(default_factory=set)


# ----------------------------------------------------------------------------- world


class World:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.parcels: list[Parcel] = []
        self.raster_box = to_utm(shapely.segmentize(box(WEST, SOUTH, EAST, NORTH), 0.002))
        self.raster_inner = self.raster_box.buffer(-300)
        self.east_edge = to_utm(
            shapely.segmentize(LineString([(EAST, SOUTH), (EAST, NORTH)]), 0.002)
        )
        self.centres = [utm_xy(c[2], c[3]) for c in CLUSTERS]

    # -- protected areas ----------------------------------------------------------
    def make_protected_areas(self):
        rng = self.rng
        rx, ry = utm_xy(-76.588, -7.085)
        self.redd_centre = (rx, ry)
        self.redd = wiggly(rng, rx, ry, 3300, 3700, 720, amp=0.12, kmax=60)
        px, py = utm_xy(-76.862, -7.047)
        self.park_centre = (px, py)
        self.park = wiggly(rng, px, py, 2700, 2900, 240, amp=0.10, kmax=25)
        self.buffer_zone = self.park.buffer(2200, quad_segs=16).difference(self.park)
        cx, cy = utm_xy(-76.772, -7.238)
        self.concession = wiggly(rng, cx, cy, 1500, 1200, 90, amp=0.12, kmax=12)
        self.pa_union = shapely.union_all([self.redd, self.park, self.concession])

    # -- parcels ------------------------------------------------------------------
    def _free(self, g, allow=(), gap=10.0):
        if not self.parcels:
            return True
        geoms = np.array([p.geom for i, p in enumerate(self.parcels) if i not in allow])
        return not shapely.intersects(g.buffer(gap), geoms).any()

    def _area(self):
        rng = self.rng
        while True:
            a = rng.lognormal(math.log(4.6), 0.55)
            if 0.6 <= a <= 9.6:
                return a * 1e4

    def nearest_cluster(self, x, y):
        d = [math.hypot(x - cx, y - cy) for cx, cy in self.centres]
        return int(np.argmin(d))

    def add(self, g, tags=(), cluster=None):
        c = cluster if cluster is not None else self.nearest_cluster(g.centroid.x, g.centroid.y)
        self.parcels.append(Parcel(g, c, set(tags)))
        return len(self.parcels) - 1

    def place_chm_site(self):
        rng = self.rng
        sx, sy = utm_xy(-76.738, -7.178)
        self.chm_site = (sx, sy)
        for dx, dy, a in [(-200, -140, 3.6e4), (195, -150, 4.1e4), (0, 205, 3.3e4)]:
            g = star(rng, sx + dx, sy + dy, a, nmin=9, nmax=12, irregular=0.15, elong=(0.85, 1.2))
            self.add(g, {"chm"})

    def place_encroachers(self):
        rng = self.rng
        # REDD+ area, west side (faces the Bellavista cluster)
        placed = 0
        tries = 0
        while placed < 6 and tries < 500:
            tries += 1
            th = math.radians(rng.uniform(150, 215))
            p = ray_hit(self.redd, *self.redd_centre, th)
            a = self._area()
            shift = rng.uniform(-0.35, 0.25) * math.sqrt(a / math.pi)
            g = star(rng, p.x - shift * math.cos(th), p.y - shift * math.sin(th), a)
            frac_in = g.intersection(self.redd).area / g.area
            if 0.15 < frac_in < 0.85 and self._free(g, gap=30) and self.raster_inner.contains(g):
                self.add(g, {"encroach_redd"})
                placed += 1
        # national park, south-east side (faces the Saposoa cluster)
        placed = 0
        while placed < 4 and tries < 1000:
            tries += 1
            th = math.radians(rng.uniform(-75, 5))
            p = ray_hit(self.park, *self.park_centre, th)
            a = self._area()
            shift = rng.uniform(-0.35, 0.25) * math.sqrt(a / math.pi)
            g = star(rng, p.x - shift * math.cos(th), p.y - shift * math.sin(th), a)
            frac_in = g.intersection(self.park).area / g.area
            if 0.15 < frac_in < 0.85 and self._free(g, gap=30) and self.raster_box.contains(g):
                self.add(g, {"encroach_park"})
                placed += 1

    def place_edge_parcels(self):
        rng = self.rng
        for lat in (-7.133, -7.150, -7.168):
            for _ in range(200):
                x, y = utm_xy(EAST, lat)
                x += rng.uniform(-60, 60)
                g = star(rng, x, y, self._area(), nmin=8)
                if (
                    g.intersects(self.east_edge)
                    and not g.intersects(self.pa_union)
                    and self._free(g, gap=30)
                ):
                    self.add(g, {"raster_edge"}, cluster=2)
                    break

    def place_random(self):
        rng = self.rng
        n_hole, n_multi = 4, 3
        for ci, (*_, n) in enumerate(CLUSTERS):
            cx, cy = self.centres[ci]
            for k in range(n):
                kind = "plain"
                if ci < n_hole and k == 5:
                    kind = "hole"
                elif ci < n_multi and k == 11:
                    kind = "multi"
                for _ in range(1000):
                    x, y = cx + rng.normal(0, 1700), cy + rng.normal(0, 1700)
                    a = self._area()
                    tags = set()
                    if kind == "hole":
                        ha = rng.uniform(0.12, 0.4) * 1e4
                        a = max(a, 3.5e4)
                        shell = star(rng, x, y, a + ha, nmin=8)
                        hole = star(rng, x, y, ha, nmin=5, nmax=8, irregular=0.15)
                        if not shell.buffer(-15).contains(hole):
                            continue
                        g = Polygon(shell.exterior.coords, [hole.exterior.coords[::-1]])
                        tags = {"hole"}
                    elif kind == "multi":
                        a = min(a, 8.5e4)
                        main = star(rng, x, y, a)
                        sa = rng.uniform(0.3, 0.9) * 1e4
                        th = rng.uniform(0, 2 * math.pi)
                        d = math.sqrt(a / math.pi) * 1.4 + math.sqrt(sa / math.pi) + 25
                        small = star(rng, x + d * math.cos(th), y + d * math.sin(th), sa, nmax=8)
                        if small.distance(main) < 15:
                            continue
                        g = MultiPolygon([main, small])
                        tags = {"multi"}
                    else:
                        g = star(rng, x, y, a)
                    if (
                        self.raster_inner.contains(g)
                        and not g.intersects(self.pa_union)
                        and self._free(g)
                    ):
                        self.add(g, tags, cluster=ci)
                        break
                else:  # pragma: no cover - only if the layout is made too dense
                    raise RuntimeError(f"could not place parcel {k} of cluster {ci}")

    def plain_indices(self):
        return [i for i, p in enumerate(self.parcels) if not p.tags and isinstance(p.geom, Polygon)]

    def place_overlaps(self, n_pairs=6):
        rng = self.rng
        pairs = []
        cand = self.plain_indices()
        order = rng.permutation(len(cand))
        for j in order:
            if len(pairs) == n_pairs:
                break
            ia = cand[j]
            A = self.parcels[ia].geom
            if self.parcels[ia].tags:
                continue
            target = rng.uniform(0.08, 0.45) * 1e4
            ok = False
            for _ in range(30):
                a = self._area()
                proto = star(rng, 0, 0, a)
                th = rng.uniform(0, 2 * math.pi)
                ux, uy = math.cos(th), math.sin(th)
                c = A.centroid

                def ov(d, proto=proto, ux=ux, uy=uy, c=c, A=A):
                    g = affinity.translate(proto, c.x + d * ux, c.y + d * uy)
                    return g.intersection(A).area

                dmax = 3 * (math.sqrt(A.area / math.pi) + math.sqrt(a / math.pi))
                d = bisect(ov, 0, dmax, target)
                g = affinity.translate(proto, c.x + d * ux, c.y + d * uy)
                got = g.intersection(A).area
                if not (0.05e4 <= got <= 0.5e4 and abs(got - target) < 300):
                    continue
                if g.intersection(A).area > 0.6 * g.area:
                    continue
                if (
                    self.raster_inner.contains(g)
                    and not g.intersects(self.pa_union)
                    and self._free(g, allow={ia})
                ):
                    ok = True
                    break
            if ok:
                ib = self.add(g, {"overlap"}, cluster=self.parcels[ia].cluster)
                self.parcels[ia].tags.add("overlap")
                pairs.append((ia, ib))
        if len(pairs) != n_pairs:
            raise RuntimeError("could not place the overlapping pairs")
        self.overlap_pairs = pairs

    def place_contained_and_duplicate(self):
        rng = self.rng
        cand = [i for i in self.plain_indices() if self.parcels[i].geom.area > 6.5e4]
        ic = cand[int(rng.integers(len(cand)))]
        big = self.parcels[ic].geom
        for _ in range(200):
            c = big.centroid
            g = star(
                rng, c.x + rng.normal(0, 15), c.y + rng.normal(0, 15), rng.uniform(0.6, 0.9) * 1e4
            )
            if big.buffer(-8).contains(g):
                break
        else:
            raise RuntimeError("no contained parcel")
        self.parcels[ic].tags.add("container")
        ii = self.add(g, {"contained"}, cluster=self.parcels[ic].cluster)
        self.contained = (ic, ii)
        cand = self.plain_indices()
        idu = cand[int(rng.integers(len(cand)))]
        self.parcels[idu].tags.add("duplicate_original")
        idd = self.add(self.parcels[idu].geom, {"duplicate"}, cluster=self.parcels[idu].cluster)
        self.duplicate = (idu, idd)


# ----------------------------------------------------------------------------- main build


def build_parcels(w: World):
    rng = w.rng
    w.make_protected_areas()
    w.place_chm_site()
    w.place_encroachers()
    w.place_edge_parcels()
    w.place_random()
    w.place_overlaps()
    w.place_contained_and_duplicate()

    # order: by cluster, then north -> south, west -> east; ids follow that order
    def key(i):
        p = w.parcels[i]
        c = p.geom.centroid
        return (p.cluster, -round(c.y, -2), c.x)

    order = sorted(range(len(w.parcels)), key=key)
    w.parcels = [w.parcels[i] for i in order]
    remap = {old: new for new, old in enumerate(order)}
    w.overlap_pairs = [(remap[a], remap[b]) for a, b in w.overlap_pairs]
    w.contained = tuple(remap[i] for i in w.contained)
    w.duplicate = tuple(remap[i] for i in w.duplicate)

    n = len(w.parcels)
    ids = [f"P{i + 1:04d}" for i in range(n)]
    # members: a few own two neighbouring parcels (same cluster, consecutive in order)
    second = set()
    avoid = {w.duplicate[1]}
    cand = [
        i
        for i in range(1, n)
        if w.parcels[i].cluster == w.parcels[i - 1].cluster and i not in avoid
    ]
    for i in rng.permutation(cand):
        if len(second) == 12:
            break
        if i - 1 not in second and i + 1 not in second:
            second.add(int(i))
    member_of = []
    m = 0
    for i in range(n):
        if i in second:
            member_of.append(member_of[-1])
        else:
            m += 1
            member_of.append(m)
    geoms_ll = [to_ll(p.geom) for p in w.parcels]
    true_ha = np.array([geod_area_ha(g) for g in geoms_ll])
    off = rng.random(n) < 0.10
    factor = np.where(
        off,
        1 + rng.choice([-1, 1], n) * rng.uniform(0.10, 0.40, n),
        1 + rng.uniform(-0.045, 0.045, n),
    )
    declared = np.round(true_ha * factor, 2)
    crop = rng.choice(["cocoa", "cocoa;banana", "coffee"], n, p=[0.8, 0.12, 0.08])
    gdf = gpd.GeoDataFrame(
        {
            "parcel_id": ids,
            "member_id": [f"M{k:04d}" for k in member_of],
            "province": [CLUSTERS[p.cluster][0] for p in w.parcels],
            "district": [CLUSTERS[p.cluster][1] for p in w.parcels],
            "declared_area_ha": declared,
            "crop": crop,
            "producer_name": [f"Productor {k:04d}" for k in member_of],
        },
        geometry=geoms_ll,
        crs=WGS84,
    )
    w.ids = ids
    w.declared_off = [ids[i] for i in np.flatnonzero(np.abs(factor - 1) >= 0.1)]
    return gdf


def build_protected(w: World):
    rows = [
        (
            "PA01",
            "Proyecto REDD+ Sintético Bosque del Sisa (synthetic)",
            "redd_plus",
            2012,
            w.redd,
        ),
        (
            "PA02",
            "Parque Nacional Sintético Cerro Escondido (synthetic)",
            "national_park",
            2001,
            w.park,
        ),
        (
            "PA03",
            "Zona de Amortiguamiento Sintética Cerro Escondido (synthetic)",
            "buffer_zone",
            2001,
            w.buffer_zone,
        ),
        (
            "PA04",
            "Concesión para Conservación Sintética Quebrada Verde (synthetic)",
            "conservation_concession",
            2015,
            w.concession,
        ),
    ]
    return gpd.GeoDataFrame(
        {
            "area_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "category": [r[2] for r in rows],
            "designated_year": [r[3] for r in rows],
        },
        geometry=[to_ll(r[4]) for r in rows],
        crs=WGS84,
    )


def _species_mix(rng, k):
    names = list(SHADE_SPECIES)
    wts = np.array([SHADE_SPECIES[s][2] for s in names])
    pick = rng.choice(len(names), size=k, replace=False, p=wts / wts.sum())
    return ";".join(names[i] for i in sorted(pick))


def _plot_in(rng, parcel, area):
    for _ in range(40):
        inner = parcel.buffer(-0.5 * math.sqrt(area / math.pi))
        if inner.is_empty:
            inner = parcel.buffer(-5)
        minx, miny, maxx, maxy = inner.bounds
        for _ in range(50):
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if inner.contains(p):
                break
        g = star(rng, p.x, p.y, area, nmin=5, nmax=10, irregular=0.2)
        g = largest_part(g.intersection(parcel.buffer(-2)))
        if g.area >= 0.6 * area and g.is_valid:
            return g
    return largest_part(parcel.buffer(-math.sqrt(parcel.area) * 0.15))


def build_plots(w: World):
    rng = w.rng
    eligible = [i for i, p in enumerate(w.parcels) if not p.tags or p.tags <= {"hole", "multi"}]
    chm_parcels = [i for i, p in enumerate(w.parcels) if "chm" in p.tags]
    hosts = list(rng.choice(eligible, size=117, replace=False))
    systems = ["cocoa_agroforestry"] * 67 + ["reforestation"] * 35 + ["forest_reserve"] * 15
    systems = list(rng.permutation(systems))
    recs = []
    # CHM plots: cocoa agroforestry near the parcel centre
    for i in chm_parcels:
        P = w.parcels[i].geom
        c = P.centroid
        g = star(rng, c.x, c.y, rng.uniform(0.8, 1.0) * 1e4, nmin=7, nmax=10, irregular=0.12)
        g = largest_part(g.intersection(P.buffer(-3)))
        recs.append(dict(host=i, parcel=i, system="cocoa_agroforestry", geom=g, tags={"chm"}))
    special_out = hosts[0]
    special_wrong = hosts[1]
    for host, system in zip(hosts, systems, strict=True):
        P = largest_part(w.parcels[host].geom)
        frac = {
            "cocoa_agroforestry": rng.uniform(0.3, 0.8),
            "reforestation": rng.uniform(0.1, 0.4),
            "forest_reserve": rng.uniform(0.1, 0.3),
        }[system]
        area = max(frac * P.area, 1500.0)
        tags = set()
        parcel_ref = host
        if host == special_out:
            area = 0.25 * P.area
            others = np.array([p.geom for j, p in enumerate(w.parcels) if j != host])
            for _ in range(200):
                proto = star(rng, 0, 0, area, nmin=6, nmax=9, irregular=0.15)
                th = rng.uniform(0, 2 * math.pi)
                c = P.centroid

                def outside(d, proto=proto, th=th, c=c, P=P):
                    g = affinity.translate(proto, c.x + d * math.cos(th), c.y + d * math.sin(th))
                    return g.difference(P).area / g.area

                d = bisect(lambda d, f=outside: -f(d), 0, 3 * math.sqrt(P.area), -0.30)
                g = affinity.translate(proto, c.x + d * math.cos(th), c.y + d * math.sin(th))
                fo = g.difference(P).area / g.area
                if abs(fo - 0.30) < 0.02 and not shapely.intersects(g.buffer(5), others).any():
                    break
            else:
                raise RuntimeError("no sticking-out plot")
            tags = {"sticks_out"}
        else:
            g = _plot_in(rng, P, area)
        if host == special_wrong:
            c = w.parcels[host].geom.centroid
            dists = [
                (p.geom.distance(c), j)
                for j, p in enumerate(w.parcels)
                if j != host and p.cluster == w.parcels[host].cluster
            ]
            parcel_ref = min(dists)[1]
            tags = {"wrong_parcel"}
        recs.append(dict(host=host, parcel=parcel_ref, system=system, geom=g, tags=tags))
    recs.sort(key=lambda r: (r["host"], r["system"]))
    rows = []
    for k, r in enumerate(recs):
        pid = f"AF{k + 1:04d}"
        r["plot_id"] = pid
        ha = r["geom"].area / 1e4
        if r["system"] == "reforestation":
            year = int(rng.integers(2015, 2024))
            dens = rng.uniform(600, 1100)
            species = ";".join(sorted(rng.choice(REFOREST_SPECIES, 2, replace=False)))
        elif r["system"] == "cocoa_agroforestry":
            year = int(rng.integers(1998, 2015))
            dens = rng.uniform(70, 200)
            species = _species_mix(rng, int(rng.integers(1, 4)))
        else:
            year = int(rng.integers(2008, 2019))  # year the reserve was set aside
            dens = 0.0
            species = "native forest"
        r.update(year=year, trees=round(dens * ha), species=species)
        rows.append(r)
    w.plot_recs = rows
    return rows


def plots_gdf(rows):
    return gpd.GeoDataFrame(
        {
            "plot_id": [r["plot_id"] for r in rows],
            "parcel_id": [r["parcel_ref_id"] for r in rows],
            "system": [r["system"] for r in rows],
            "planting_year": np.array([r["year"] for r in rows], dtype="int32"),
            "trees_planted": np.array([r["trees"] for r in rows], dtype="int32"),
            "species": [r["species"] for r in rows],
        },
        geometry=[to_ll(r["geom"]) for r in rows],
        crs=WGS84,
    )


def build_plot_points(w: World):
    rng = w.rng
    used = {r["host"] for r in w.plot_recs}
    eligible = [
        i for i, p in enumerate(w.parcels) if i not in used and (not p.tags or p.tags <= {"hole"})
    ]
    hosts = sorted(rng.choice(eligible, size=20, replace=False))
    rows = []
    for k, i in enumerate(hosts):
        P = w.parcels[i].geom
        pt = P.centroid if P.contains(P.centroid) else P.representative_point()
        system = rng.choice(["cocoa_agroforestry", "reforestation"], p=[0.6, 0.4])
        dens = rng.uniform(70, 200) if system == "cocoa_agroforestry" else rng.uniform(600, 1100)
        lon, lat = _TO_LL.transform(pt.x, pt.y)
        rows.append(
            {
                "plot_id": f"AF{len(w.plot_recs) + k + 1:04d}",
                "parcel_id": w.ids[i],
                "system": str(system),
                "trees_planted": round(dens * rng.uniform(0.2, 0.6) * P.area / 1e4),
                "longitude": round(lon, 6),
                "latitude": round(lat, 6),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- rasters


def _patch(rng, P, frac):
    """Part of P (shrunk by 15 m) cut by a half-plane, with ~frac of P's area."""
    inner = P.buffer(-15)
    c = inner.centroid
    th = rng.uniform(0, 2 * math.pi)
    ux, uy = math.cos(th), math.sin(th)
    R = 3 * math.sqrt(P.area)

    def part(d):
        # half-plane {p : (p - c) . u > d}
        hp = Polygon(
            [
                (c.x + d * ux - R * uy, c.y + d * uy + R * ux),
                (c.x + d * ux + R * uy, c.y + d * uy - R * ux),
                (c.x + (d + R) * ux + R * uy, c.y + (d + R) * uy - R * ux),
                (c.x + (d + R) * ux - R * uy, c.y + (d + R) * uy + R * ux),
            ]
        )
        return inner.intersection(hp)

    d = bisect(lambda d: part(d).area / P.area, -R, R, frac)
    return part(d)


def build_rasters(w: World, out: Path):
    rng = w.rng
    transform = from_origin(WEST, NORTH, RES, RES)
    shape = (HEIGHT, WIDTH)
    cols = WEST + (np.arange(WIDTH) + 0.5) * RES
    rows = NORTH - (np.arange(HEIGHT) + 0.5) * RES
    LON, LAT = np.meshgrid(cols, rows)

    forest = np.clip(88 + 7 * smooth_noise(rng, shape, 6), 68, 100)
    use = np.zeros(shape)
    for _, _, lon, lat, _ in CLUSTERS:
        dx = (LON - lon) * 110.4 * math.cos(math.radians(lat))
        dy = (LAT - lat) * 110.6
        use = np.maximum(use, np.exp(-(dx**2 + dy**2) / (2 * 4.2**2)))
    use = use + 0.22 * smooth_noise(rng, shape, 18)
    lu = smooth_noise(rng, shape, 4)
    fine = smooth_noise(rng, shape, 1.5)
    cover = forest.copy()
    mosaic = use > 0.45
    pasture = mosaic & (lu < -0.45)
    crops = mosaic & (lu >= -0.45) & (lu < 0.7)
    cover[pasture] = np.clip(6 + 5 * fine, 0, 20)[pasture]
    cover[crops] = np.clip(38 + 14 * fine, 8, 68)[crops]

    def burn(geoms_utm, values=None, all_touched=False, dtype="uint16"):
        shapes = [
            (to_ll(g), v)
            for g, v in zip(geoms_utm, values or [1] * len(geoms_utm), strict=True)
            if not g.is_empty
        ]
        if not shapes:
            return np.zeros(shape, dtype=dtype)
        return rasterize(
            shapes,
            out_shape=shape,
            transform=transform,
            fill=0,
            all_touched=all_touched,
            dtype=dtype,
        )

    pa_mask = burn([w.redd, w.park, w.concession]) > 0
    cover[pa_mask] = forest[pa_mask]

    n = len(w.parcels)
    pid = burn([p.geom for p in w.parcels], list(range(1, n + 1)))
    kind = rng.choice(["agro", "pasture", "forest"], n, p=[0.85, 0.1, 0.05])
    offset = rng.uniform(-10, 10, n)
    agro_cover = np.clip(34 + 11 * fine, 10, 60)
    for i in range(n):
        m = pid == i + 1
        if not m.any():
            continue
        if kind[i] == "agro":
            cover[m] = np.clip(agro_cover[m] + offset[i], 10, 60)
            rem = m & (lu > 1.1)  # forest remnants inside some parcels
            cover[rem] = forest[rem]
        elif kind[i] == "pasture":
            cover[m] = np.clip(8 + 5 * fine[m], 0, 20)
        else:
            cover[m] = forest[m]

    # --- loss
    loss = np.zeros(shape, dtype=np.uint8)
    excluded = {"overlap", "contained", "container", "duplicate", "duplicate_original", "chm"}
    cand = [
        i
        for i, p in enumerate(w.parcels)
        if not (p.tags & excluded) and p.geom.area > 2.0e4 and "raster_edge" not in p.tags
    ]
    redd_enc = [i for i in cand if "encroach_redd" in w.parcels[i].tags]
    others = [i for i in cand if not (w.parcels[i].tags & {"encroach_redd", "encroach_park"})]
    post = sorted([*redd_enc[:2], *rng.choice(others, 13, replace=False)])
    rest = [i for i in others if i not in post]
    pre = sorted(rng.choice(rest, 20, replace=False))
    w.loss_post, w.loss_pre = {}, {}
    for group, years, store in (
        (post, (21, 23), w.loss_post),
        (pre, (5, 18), w.loss_pre),
    ):
        for i in group:
            P = w.parcels[i].geom
            frac = rng.uniform(0.08, 0.55)
            patch = _patch(rng, P, frac)
            year = int(rng.integers(years[0], years[1] + 1))
            m = (burn([patch]) > 0) & (pid == i + 1)
            if not m.any():
                continue
            cover[m] = np.clip(forest[m] + rng.uniform(-4, 4), 72, 99)
            loss[m] = year
            store[i] = year
    # scattered small loss outside parcels (and one bigger post-2020 clearing in the REDD+ area)
    parcel_zone = ndimage.binary_dilation(
        burn([p.geom for p in w.parcels], all_touched=True) > 0, iterations=2
    )
    yy, xx = np.mgrid[-4:5, -4:5]
    placed = 0
    while placed < 260:
        r, c = int(rng.integers(5, HEIGHT - 5)), int(rng.integers(5, WIDTH - 5))
        rad = rng.uniform(0.8, 3.2)
        disk = (yy**2 + xx**2) <= rad**2
        sl = (slice(r - 4, r + 5), slice(c - 4, c + 5))
        if parcel_zone[sl][disk].any():
            continue
        ok = cover[sl] >= 30
        if placed % 25 == 0:
            ok = np.ones_like(ok)  # a few losses on low-cover pixels, as in the real product
        m = disk & ok
        if not m.any():
            continue
        loss[sl][m] = int(rng.integers(1, LOSS_LAST_YEAR + 1))
        placed += 1
    # a 2022 clearing inside the REDD+ area, away from parcels
    rc = w.redd.centroid
    for _ in range(500):
        th = rng.uniform(0, 2 * math.pi)
        x, y = rc.x + 1800 * math.cos(th), rc.y + 1800 * math.sin(th)
        blob = star(rng, x, y, 12e4, nmin=8)
        if (
            w.redd.buffer(-100).contains(blob)
            and w.raster_inner.contains(blob)
            and not any(blob.intersects(p.geom.buffer(200)) for p in w.parcels)
        ):
            break
    mb = burn([blob]) > 0
    loss[mb & (cover >= 30)] = 22
    w.redd_clearing = blob

    cover_u8 = np.round(cover).astype(np.uint8)
    # clouds in the 2000 composite: a handful of nodata pixels, one over a parcel
    cloud_parcel = next(
        i
        for i in rng.permutation(n)
        if not w.parcels[i].tags
        and i not in w.loss_post
        and i not in w.loss_pre
        and w.parcels[i].geom.area > 4e4
    )
    c = w.parcels[cloud_parcel].geom.centroid
    lon, lat = _TO_LL.transform(c.x, c.y)
    centres = [(int((NORTH - lat) / RES), int((lon - WEST) / RES))]
    centres += [
        (int(rng.integers(50, HEIGHT - 50)), int(rng.integers(50, WIDTH - 50))) for _ in range(4)
    ]
    for r0, c0 in centres:
        m = (
            (np.arange(HEIGHT)[:, None] - r0) ** 2 + (np.arange(WIDTH)[None, :] - c0) ** 2
        ) <= 2.3**2
        cover_u8[m] = 255
    w.cloud_parcel = cloud_parcel

    prof = dict(
        driver="GTiff",
        width=WIDTH,
        height=HEIGHT,
        count=1,
        dtype="uint8",
        crs=WGS84,
        transform=transform,
        nodata=255,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
        predictor=2,
        zlevel=9,
    )
    with rasterio.open(out / "treecover2000.tif", "w", **prof) as dst:
        dst.write(cover_u8, 1)
        dst.set_band_description(1, "treecover2000 (percent, synthetic)")
        dst.update_tags(source="synthetic, scripts/make_sample_data.py", seed=str(SEED))
    with rasterio.open(out / "lossyear.tif", "w", **prof) as dst:
        dst.write(loss, 1)
        dst.set_band_description(1, "lossyear (0 = no loss, 1..23 = 2001..2023, synthetic)")
        dst.update_tags(source="synthetic, scripts/make_sample_data.py", seed=str(SEED))

    # per-parcel truth (pixel-centre rule)
    w.post_frac = {}
    for i in w.loss_post:
        m = pid == i + 1
        w.post_frac[i] = float((loss[m] >= 21).mean())
    return cover_u8, loss


# ----------------------------------------------------------------------------- CHM + trees


def _poisson(rng, poly, n, dmin, existing=()):
    pts = list(existing)
    minx, miny, maxx, maxy = poly.bounds
    new = []
    tries = 0
    while len(new) < n and tries < n * 400:
        tries += 1
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not poly.contains(Point(x, y)):
            continue
        if pts and min(math.hypot(x - a, y - b) for a, b in pts) < dmin:
            continue
        pts.append((x, y))
        new.append((x, y))
    return new


def _dbh(rng, h):
    return round(float(1.55 * h**1.22 * rng.uniform(0.85, 1.15)), 1)


def build_chm_and_inventory(w: World, out: Path):
    rng = w.rng
    chm_plots = [r for r in w.plot_recs if "chm" in r["tags"]]
    union = shapely.union_all([r["geom"] for r in chm_plots]).buffer(35)
    minx, miny, maxx, maxy = union.bounds
    minx, miny = math.floor(minx / 10) * 10, math.floor(miny / 10) * 10
    maxx, maxy = math.ceil(maxx / 10) * 10, math.ceil(maxy / 10) * 10
    W, H = int((maxx - minx) / CHM_RES), int((maxy - miny) / CHM_RES)
    assert W <= 1500 and H <= 1500, (W, H)
    transform = from_origin(minx, maxy, CHM_RES, CHM_RES)
    xs = minx + (np.arange(W) + 0.5) * CHM_RES
    ys = maxy - (np.arange(H) + 0.5) * CHM_RES

    ground = np.clip(0.25 + 0.2 * smooth_noise(rng, (H, W), 6), 0, 0.9)
    cocoa = 3.9 + 0.55 * smooth_noise(rng, (H, W), 3) + 0.18 * rng.standard_normal((H, W))
    cocoa = np.clip(cocoa, 2.6, 5.4)
    pmask = rasterize(
        [(p.geom, 1) for p in w.parcels if p.geom.intersects(box(minx, miny, maxx, maxy))],
        out_shape=(H, W),
        transform=transform,
        fill=0,
        dtype="uint8",
    )
    # cocoa rows leave some gaps (paths, dead bushes)
    gaps = smooth_noise(rng, (H, W), 5) < -1.6
    z = np.where((pmask > 0) & ~gaps, cocoa, ground)

    names = list(SHADE_SPECIES)
    wts = np.array([SHADE_SPECIES[s][2] for s in names])
    trees = []  # (plot_id, x, y, h, species, in_chm)
    for r in chm_plots:
        poly = r["geom"]
        dens = rng.uniform(85, 140)
        n = round(dens * poly.area / 1e4)
        pos = _poisson(rng, poly, n, 5.0)
        # a few crowns touching their neighbour
        for _ in range(5):
            ax, ay = pos[int(rng.integers(len(pos)))]
            th = rng.uniform(0, 2 * math.pi)
            x, y = ax + 3.9 * math.cos(th), ay + 3.9 * math.sin(th)
            if (
                poly.contains(Point(x, y))
                and min(math.hypot(x - a, y - b) for a, b in pos if (a, b) != (ax, ay)) > 3.5
            ):
                pos.append((x, y))
        r["trees"] = len(pos)
        for x, y in pos:
            sp = names[int(rng.choice(len(names), p=wts / wts.sum()))]
            lo, hi, _ = SHADE_SPECIES[sp]
            h = round(float(rng.uniform(lo, hi)), 1)
            trees.append((r["plot_id"], x, y, h, sp, True))
        for x, y in _poisson(rng, poly, 6, 2.0):  # seedlings under the cocoa canopy
            sp = str(rng.choice(REFOREST_SPECIES[:4]))
            trees.append((r["plot_id"], x, y, round(float(rng.uniform(0.4, 1.8)), 1), sp, False))
    # shade trees outside the plots, in the CHM but not in the inventory
    outside_plots = box(minx, miny, maxx, maxy).difference(union.buffer(10))
    extra = _poisson(
        rng, outside_plots.intersection(shapely.union_all([p.geom for p in w.parcels])), 10, 8
    )
    drawn = [(x, y, h) for _, x, y, h, _, v in trees if v]
    drawn += [(x, y, round(float(rng.uniform(9, 20)), 1)) for x, y in extra]
    for x, y, h in drawn:
        rad = 0.1 * h + 1.0
        c0, c1 = int((x - rad - minx) / CHM_RES), int((x + rad - minx) / CHM_RES) + 2
        r0, r1 = int((maxy - y - rad) / CHM_RES), int((maxy - y + rad) / CHM_RES) + 2
        c0, r0 = max(c0, 0), max(r0, 0)
        c1, r1 = min(c1, W), min(r1, H)
        dx = xs[c0:c1][None, :] - x
        dy = ys[r0:r1][:, None] - y
        d2 = dx**2 + dy**2
        crown = h * np.exp(-d2 / (2 * (rad / 2) ** 2))
        crown = np.where(d2 <= rad**2, crown, 0)
        z[r0:r1, c0:c1] = np.maximum(z[r0:r1, c0:c1], crown)
    z = np.round(z, 2).astype(np.float32)
    # a small data gap (e.g. a water surface without returns), outside the plots
    gx, gy = None, None
    for _ in range(200):
        gx, gy = rng.uniform(minx + 20, maxx - 20), rng.uniform(miny + 20, maxy - 20)
        if not union.buffer(10).contains(Point(gx, gy)) and union.distance(Point(gx, gy)) > 20:
            break
    dd = (xs[None, :] - gx) ** 2 + (ys[:, None] - gy) ** 2
    z[dd <= 6**2] = CHM_NODATA
    prof = dict(
        driver="GTiff",
        width=W,
        height=H,
        count=1,
        dtype="float32",
        crs=UTM,
        transform=transform,
        nodata=CHM_NODATA,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
        predictor=3,
        zlevel=9,
    )
    with rasterio.open(out / "chm.tif", "w", **prof) as dst:
        dst.write(z, 1)
        dst.set_band_description(1, "canopy height (m, synthetic)")
        dst.update_tags(source="synthetic, scripts/make_sample_data.py", seed=str(SEED))
    w.chm_bounds = (minx, miny, maxx, maxy)

    # GPS errors: points recorded outside every plot
    all_plots = shapely.union_all([r["geom"] for r in w.plot_recs])
    gps_err = []
    for r in chm_plots[:2] + chm_plots[:2]:
        c = r["geom"].centroid
        for _ in range(100):
            th = rng.uniform(0, 2 * math.pi)
            d = rng.uniform(70, 140)
            p = Point(c.x + d * math.cos(th), c.y + d * math.sin(th))
            if not all_plots.buffer(5).contains(p):
                break
        sp = names[int(rng.choice(len(names), p=wts / wts.sum()))]
        h = round(float(rng.uniform(*SHADE_SPECIES[sp][:2])), 1)
        gps_err.append((r["plot_id"], p.x, p.y, h, sp, False))
    w.n_gps_errors = len(gps_err)

    # reforestation plots: complete inventory of two small plots (survivors only)
    ref = [
        r for r in w.plot_recs if r["system"] == "reforestation" and 0.2e4 < r["geom"].area < 0.7e4
    ]
    ref = sorted(ref, key=lambda r: r["plot_id"])[:2]
    ref_trees = []
    for r in ref:
        poly = r["geom"]
        dens = r["trees"] / (poly.area / 1e4)
        sp_list = r["species"].split(";")
        step = math.sqrt(1e4 / dens)
        minx_, miny_, maxx_, maxy_ = poly.bounds
        gx_ = np.arange(minx_ + step / 2, maxx_, step)
        gy_ = np.arange(miny_ + step / 2, maxy_, step)
        grid = [(x, y) for y in gy_ for x in gx_ if poly.contains(Point(x, y))]
        r["trees"] = len(grid)
        surv = rng.uniform(0.7, 0.9)
        alive = rng.random(len(grid)) < surv
        age = 2024 - r["year"]
        for (x, y), a in zip(grid, alive, strict=True):
            if not a:
                continue
            h = round(float(np.clip(age * rng.uniform(0.8, 1.7), 0.5, 25)), 1)
            jx, jy = x + rng.normal(0, 0.3), y + rng.normal(0, 0.3)
            if poly.buffer(-0.05).contains(Point(jx, jy)):
                x, y = jx, jy
            ref_trees.append((r["plot_id"], x, y, h, str(rng.choice(sp_list)), False))
    w.ref_inventory_plots = [r["plot_id"] for r in ref]

    allt = trees + gps_err + ref_trees
    months = {r["plot_id"]: int(rng.integers(3, 10)) for r in w.plot_recs}
    dates = [f"2024-{months[t[0]]:02d}-{int(rng.integers(1, 29)):02d}" for t in allt]
    pts = [Point(t[1], t[2]) for t in allt]
    inv = gpd.GeoDataFrame(
        {
            "tree_id": [f"T{k + 1:05d}" for k in range(len(allt))],
            "plot_id": [t[0] for t in allt],
            "species": [t[4] for t in allt],
            "height_m": [float(t[3]) for t in allt],
            "dbh_cm": [_dbh(rng, t[3]) if t[3] >= 1.3 else 0.0 for t in allt],
            "survey_date": dates,
        },
        geometry=[to_ll(p) for p in pts],
        crs=WGS84,
    )
    w.inv_summary = {
        "chm_shade_trees": sum(1 for t in trees if t[5]),
        "chm_small_trees": sum(1 for t in trees if not t[5]),
        "gps_errors": [f"T{len(trees) + k + 1:05d}" for k in range(len(gps_err))],
        "extra_trees_not_inventoried": len(extra),
    }
    return inv


# ----------------------------------------------------------------------------- carbon columns

#: Feldpausch et al. (2012) Table 3, Western Amazonia: H = a (1 - exp(-b D^c)), RSE 5.277 m
FELDPAUSCH_WAMAZONIA = (46.263, 0.0876, 0.6072)
#: Illustrative (synthetic) wood densities, g/cm³, of the order published for these taxa
SAMPLE_WOOD_DENSITY = {
    "Inga edulis": ("Fabaceae", 0.58),
    "Cedrela odorata": ("Meliaceae", 0.44),
    "Swietenia macrophylla": ("Meliaceae", 0.53),
    "Calycophyllum spruceanum": ("Rubiaceae", 0.71),
    "Guazuma crinita": ("Malvaceae", 0.44),
    "Cedrelinga cateniformis": ("Fabaceae", 0.50),
    "Theobroma cacao": ("Malvaceae", 0.42),
}


def add_carbon_columns(inv: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add diameter_cm and taxon to the inventory (own seed: nothing else changes).

    diameter_cm inverts the published height-diameter model for the region with a
    log-normal scatter (sd 0.2): D = (-ln(1 - H/a) / b)^(1/c) * exp(N(0, 0.2));
    NaN below breast height (1.3 m). taxon is the species as identified in the
    field: 8 % to genus only ("Inga sp."), 3 % unidentified ("Indet.").
    """
    rng = np.random.default_rng([SEED, 15])
    a, b, c = FELDPAUSCH_WAMAZONIA
    h = inv["height_m"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (-np.log(1.0 - h / a) / b) ** (1.0 / c)
    d = d * np.exp(rng.normal(0.0, 0.2, len(inv)))
    d = np.where(h >= 1.3, np.round(np.maximum(d, 1.0), 1), np.nan)
    u = rng.random(len(inv))
    sp = inv["species"].to_numpy(dtype=object)
    genus_only = np.array([f"{s.split()[0]} sp." for s in sp], dtype=object)
    taxon = np.where(u < 0.03, "Indet.", np.where(u < 0.11, genus_only, sp))
    out = inv.copy()
    geom = out.geometry.name
    cols = [col for col in out.columns if col != geom]
    out["diameter_cm"] = d
    out["taxon"] = taxon
    return out[[*cols, "diameter_cm", "taxon", geom]]


def wood_density_table() -> pd.DataFrame:
    """Synthetic wood-density records (12 per species) around the illustrative means."""
    rng = np.random.default_rng([SEED, 16])
    rows = []
    for name, (family, mean) in SAMPLE_WOOD_DENSITY.items():
        genus, epithet = name.split()
        for _ in range(12):
            wd = round(float(np.clip(rng.normal(mean, 0.06), 0.2, 1.2)), 3)
            rows.append((family, genus, epithet, wd, "South America (tropical)"))
    return pd.DataFrame(rows, columns=["family", "genus", "species", "wd", "region"])


# ----------------------------------------------------------------------------- messy copy


def _swap(g):
    return shapely.transform(g, lambda xy: xy[:, ::-1].copy())


def build_messy(w: World, parcels: gpd.GeoDataFrame):
    rng = w.rng
    idx = sorted(rng.choice([i for i, p in enumerate(w.parcels) if not p.tags], 40, replace=False))
    df = parcels.iloc[idx].reset_index(drop=True).copy()
    geoms = list(df.geometry)
    defects = ["none"] * len(df)
    utm = [w.parcels[i].geom for i in idx]
    slots = list(rng.permutation(len(df))[:16])

    def ext(g):
        return np.asarray(largest_part(g).exterior.coords)

    def put(name, g):
        k = slots.pop()
        geoms[k] = g
        defects[k] = name
        return k

    # bow-tie: two consecutive vertices swapped
    k = slots[-1]
    c = ext(geoms[k])[:-1]
    c[[1, 2]] = c[[2, 1]]
    put("bowtie", Polygon(c))
    # swapped lon/lat
    k = slots[-1]
    put("swapped_lonlat", _swap(geoms[k]))
    # duplicate id (a different parcel's geometry under an existing id)
    k = slots[-1]
    src = (k + 1) % len(df)
    df.loc[k, "parcel_id"] = df.loc[src, "parcel_id"]
    defects[slots.pop()] = "duplicate_id"
    # duplicate consecutive vertices
    k = slots[-1]
    c = ext(geoms[k])[:-1]
    rep = np.repeat(c, [3 if j in (0, 2) else 1 for j in range(len(c))], axis=0)
    put("duplicate_vertices", Polygon(rep))
    # hole outside the shell
    k = slots[-1]
    g = largest_part(utm[k])
    b = g.bounds
    hole = Point(b[2] + 60, (b[1] + b[3]) / 2).buffer(20, quad_segs=3)
    put("hole_outside_shell", to_ll(Polygon(g.exterior.coords, [hole.exterior.coords])))
    # wrongly oriented rings: clockwise shell, counter-clockwise hole
    k = slots[-1]
    g = largest_part(utm[k])
    c = g.centroid
    hole = Point(c.x, c.y).buffer(12, quad_segs=3)
    sh = shapely.geometry.polygon.orient(g, 1.0).exterior.coords
    bad = Polygon(
        list(sh)[::-1], [list(shapely.geometry.polygon.orient(hole, 1.0).exterior.coords)]
    )
    put("wrong_orientation", to_ll(bad))
    # spike: one vertex is a GPS outlier ~400 m away
    k = slots[-1]
    g = largest_part(utm[k])
    c = np.asarray(g.exterior.coords)[:-1]
    cen = np.asarray(g.centroid.coords[0])
    v = c[3] - cen
    c = np.insert(c, 4, cen + v / np.linalg.norm(v) * 400, axis=0)
    put("spike", to_ll(Polygon(c)))
    # point instead of polygon
    k = slots[-1]
    put("point_geometry", to_ll(utm[k].centroid))
    # empty and missing geometries
    put("empty_geometry", Polygon())
    put("missing_geometry", None)
    # projected metres labelled as degrees
    k = slots[-1]
    put("utm_coordinates", shapely.transform(utm[k], lambda xy: np.round(xy, 2)))
    # sliver along one side of a parcel
    k = slots[-1]
    g = largest_part(utm[k])
    b = g.bounds
    put("sliver", to_ll(box(b[0], b[1], b[2], b[1] + 0.6)))
    # tiny polygon (< 100 m2)
    k = slots[-1]
    c = utm[k].centroid
    put("tiny_polygon", to_ll(star(rng, c.x, c.y, 60.0, nmin=5, nmax=6)))
    # ring touching itself at a vertex (an "inverted hole")
    k = slots[-1]
    g = largest_part(utm[k])
    c = np.asarray(g.exterior.coords)[:-1]
    cen = np.asarray(g.centroid.coords[0])
    a = c[0] + (cen - c[0]) * 0.5 + np.array([15.0, 0.0])
    b2 = c[0] + (cen - c[0]) * 0.5 + np.array([0.0, 15.0])
    ring = np.vstack([c[:1], a, b2, c[:1], c[1:]])
    put("ring_self_touch", to_ll(Polygon(ring)))
    df["defect"] = defects
    return gpd.GeoDataFrame(df.drop(columns="geometry"), geometry=geoms, crs=WGS84)


# ----------------------------------------------------------------------------- writing


def write_gpkg(gdf, path: Path, layer: str):
    if path.exists():
        path.unlink()
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", promote_to_multi=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "sample_data",
        help="output directory (default: sample_data/ of the repository)",
    )
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(SEED)
    w = World(rng)
    parcels = build_parcels(w)
    pas = build_protected(w)
    rows = build_plots(w)
    for r in rows:
        r["parcel_ref_id"] = w.ids[r["parcel"]]
    points = build_plot_points(w)
    build_rasters(w, out)
    inv = add_carbon_columns(build_chm_and_inventory(w, out))
    plots = plots_gdf(rows)
    messy = build_messy(w, parcels)

    write_gpkg(parcels, out / "parcels.gpkg", "parcels")
    write_gpkg(pas, out / "protected_areas.gpkg", "protected_areas")
    write_gpkg(plots, out / "plots.gpkg", "plots")
    points.to_csv(out / "plot_points.csv", index=False)
    write_gpkg(inv, out / "tree_inventory.gpkg", "trees")
    wood_density_table().to_csv(out / "wood_density.csv", index=False)
    write_gpkg(messy, out / "parcels_messy.gpkg", "parcels")

    ids = w.ids
    truth = {
        "seed": SEED,
        "overlap_pairs": [[ids[a], ids[b]] for a, b in w.overlap_pairs],
        "duplicate_geometry": [ids[i] for i in w.duplicate],
        "contained": {"inner": ids[w.contained[1]], "outer": ids[w.contained[0]]},
        "encroach_redd_plus": [
            ids[i] for i, p in enumerate(w.parcels) if "encroach_redd" in p.tags
        ],
        "encroach_national_park": [
            ids[i] for i, p in enumerate(w.parcels) if "encroach_park" in p.tags
        ],
        "raster_edge": [ids[i] for i, p in enumerate(w.parcels) if "raster_edge" in p.tags],
        "holes": [ids[i] for i, p in enumerate(w.parcels) if "hole" in p.tags],
        "multipolygons": [ids[i] for i, p in enumerate(w.parcels) if "multi" in p.tags],
        "declared_area_off_by_10pct_or_more": w.declared_off,
        "chm_parcels": [ids[i] for i, p in enumerate(w.parcels) if "chm" in p.tags],
        "chm_plots": [r["plot_id"] for r in rows if "chm" in r["tags"]],
        "plot_sticking_out": [r["plot_id"] for r in rows if "sticks_out" in r["tags"]],
        "plot_wrong_parcel": [
            {"plot_id": r["plot_id"], "declared": ids[r["parcel"]], "actual": ids[r["host"]]}
            for r in rows
            if "wrong_parcel" in r["tags"]
        ],
    }
    truth.update(
        {
            "loss_after_2020": {ids[i]: 2000 + y for i, y in sorted(w.loss_post.items())},
            "loss_after_2020_pixel_fraction": {
                ids[i]: round(f, 3) for i, f in sorted(w.post_frac.items())
            },
            "loss_before_2020": {ids[i]: 2000 + y for i, y in sorted(w.loss_pre.items())},
            "cloud_over_parcel": ids[w.cloud_parcel],
            "reforestation_inventory_plots": w.ref_inventory_plots,
            "inventory": w.inv_summary,
            "chm_bounds_utm18s": list(w.chm_bounds),
        }
    )
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    return truth


if __name__ == "__main__":
    t = main()
    print(json.dumps(t, indent=1, ensure_ascii=False))

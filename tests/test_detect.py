from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin
from rasterio.windows import Window
from scipy.spatial import cKDTree

from agroforest_geo import NoDataWarning, RasterError
from agroforest_geo.detect import WINDOW_PRESETS, detect_trees, segment_crowns

RES = 0.5
X0, Y0 = 500_000.0, 9_200_000.0


def write_chm(
    path: Path,
    heights: np.ndarray,
    *,
    res: float = RES,
    crs: str | None = "EPSG:32718",
    nodata: float | None = -9999.0,
    origin: tuple[float, float] = (X0, Y0),
    tiled: bool = False,
) -> Path:
    profile = dict(
        driver="GTiff",
        width=heights.shape[1],
        height=heights.shape[0],
        count=1,
        dtype=heights.dtype,
        crs=crs,
        transform=from_origin(origin[0], origin[1], res, res),
        nodata=nodata,
    )
    if tiled:
        profile.update(tiled=True, blockxsize=16, blockysize=16)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(heights, 1)
    return path


def vwf_reference(a: np.ndarray, res: float, winfun, min_height: float) -> set[tuple[int, int]]:
    """Slow per-cell variable window filter following the ForestTools vwf rules.

    Written independently from the library: one Python loop per cell.
    """
    valid = np.isfinite(a) & (a >= min_height)
    nr, nc = a.shape
    tops = set()
    for r in range(nr):
        for c in range(nc):
            if not valid[r, c]:
                continue
            k = max(int(np.rint(winfun(float(a[r, c])) / res)), 1)
            best = -np.inf
            for dr in range(-k, k + 1):
                for dc in range(-k, k + 1):
                    if k > 1 and dr * dr + dc * dc > k * k:
                        continue
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < nr and 0 <= cc < nc and valid[rr, cc]:
                        best = max(best, float(a[rr, cc]))
            if float(a[r, c]) == best:
                tops.add((r, c))
    return tops


def tops_cells(tops: gpd.GeoDataFrame, origin=(X0, Y0), res=RES) -> set[tuple[int, int]]:
    cols = np.floor((tops.geometry.x - origin[0]) / res).astype(int)
    rows = np.floor((origin[1] - tops.geometry.y) / res).astype(int)
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


def gaussian_forest(seed: int, size_px: int = 160, n: int = 40, spacing_m: float = 4.0):
    """Gaussian crowns at known positions (continuous coordinates, metres from the origin)."""
    rng = np.random.default_rng(seed)
    ext = size_px * RES
    pts: list[tuple[float, float, float]] = []
    while len(pts) < n:
        x, y = rng.uniform(2, ext - 2, 2)
        h = rng.uniform(8, 30)
        if all(np.hypot(x - px, y - py) >= spacing_m for px, py, _ in pts):
            pts.append((x, y, h))
    yy, xx = (np.mgrid[0:size_px, 0:size_px] + 0.5) * RES
    chm = np.zeros((size_px, size_px))
    for x, y, h in pts:
        crown_r = 1.2 + 0.08 * h  # metres; neighbours 4 m apart touch and overlap
        sigma = crown_r / 2
        chm = np.maximum(chm, h * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2)))
    return chm.astype("float32"), np.array(pts)


def window_small(h):
    return 0.05 * np.asarray(h) + 0.8


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_known_gaussian_crowns_recovered(tmp_path, seed):
    chm, truth = gaussian_forest(seed)
    path = write_chm(tmp_path / "chm.tif", chm)
    tops = detect_trees(path, window=window_small)
    # ground truth in map coordinates
    tx = X0 + truth[:, 0]
    ty = Y0 - truth[:, 1]
    tree = cKDTree(np.column_stack([tx, ty]))
    d, i = tree.query(np.column_stack([tops.geometry.x, tops.geometry.y]))
    matched = d <= 1.0
    precision = matched.mean()
    recall = len(set(i[matched])) / len(truth)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    # heights: the top cell centre is at most half a cell diagonal from the true peak
    dh = truth[i[matched], 2] - tops["height_m"].to_numpy()[matched]
    assert (dh >= -1e-4).all()
    sigma = (1.2 + 0.08 * truth[i[matched], 2]) / 2
    max_drop = truth[i[matched], 2] * (1 - np.exp(-(RES**2 / 2) / (2 * sigma**2)))
    assert (dh <= max_drop + 1e-4).all()
    # radius column is the snapped window radius of the detected height
    expected_r = np.maximum(np.rint(window_small(tops["height_m"]) / RES), 1) * RES
    np.testing.assert_allclose(tops["window_radius_m"], expected_r)


def test_two_cones_exact_positions(tmp_path):
    yy, xx = np.mgrid[0:60, 0:60]
    a = np.maximum(20 - 0.8 * np.hypot(yy - 20, xx - 15), 12 - 0.8 * np.hypot(yy - 40, xx - 45))
    path = write_chm(tmp_path / "c.tif", a.astype("float32"))
    tops = detect_trees(path, window="popescu_wynne")
    assert tops["height_m"].tolist() == [20.0, 12.0]
    assert [(p.x, p.y) for p in tops.geometry] == [
        (X0 + 15 * 0.5 + 0.25, Y0 - 20 * 0.5 - 0.25),
        (X0 + 45 * 0.5 + 0.25, Y0 - 40 * 0.5 - 0.25),
    ]
    # popescu_wynne combined: radius (2.51503 + 0.00901 h^2) / 2 snapped to 0.5 m
    r20 = (2.51503 + 0.00901 * 400) / 2  # 3.0595 -> 3.0
    r12 = (2.51503 + 0.00901 * 144) / 2  # 1.9062 -> 2.0
    assert tops["window_radius_m"].tolist() == [round(r20 / 0.5) * 0.5, round(r12 / 0.5) * 0.5]
    assert tops["window_radius_m"].tolist() == [3.0, 2.0]


def test_flat_plateau_gives_one_tree(tmp_path):
    yy, xx = np.mgrid[0:40, 0:40]
    a = np.clip(15 - 0.5 * np.hypot(yy - 20, xx - 20), 0, 12).astype("float32")  # flat top 12 m
    n_flat = int((a == 12).sum())
    assert n_flat > 30
    path = write_chm(tmp_path / "p.tif", a)
    merged = detect_trees(path, window="linear_0.06")
    kept = detect_trees(path, window="linear_0.06", ties="keep")
    assert len(merged) == 1
    assert len(kept) == n_flat  # ForestTools keeps every tied cell
    p = merged.geometry.iloc[0]
    # the plateau is centred on cell (20, 20)
    assert (p.x, p.y) == (X0 + 10.25, Y0 - 10.25)
    assert merged["height_m"].iloc[0] == 12.0


def test_two_separate_equal_plateaus_give_two_trees(tmp_path):
    a = np.zeros((30, 60), dtype="float32")
    a[10:14, 10:14] = 9.0
    a[10:14, 40:44] = 9.0
    tops = detect_trees(write_chm(tmp_path / "p2.tif", a), window="linear_0.06")
    assert len(tops) == 2


@pytest.mark.parametrize("fill", ["nan", "low", "nodata"])
def test_no_trees_gives_empty_frame_with_columns_and_crs(tmp_path, fill):
    if fill == "nan":
        a = np.full((20, 20), np.nan, dtype="float32")
    elif fill == "low":
        a = np.full((20, 20), 1.5, dtype="float32")
    else:
        a = np.full((20, 20), -9999.0, dtype="float32")
    tops = detect_trees(write_chm(tmp_path / "e.tif", a))
    assert len(tops) == 0
    assert list(tops.columns) == ["tree_id", "height_m", "window_radius_m", "geometry"]
    assert tops.crs.to_epsg() == 32718


def test_nan_without_declared_nodata_is_ignored(tmp_path):
    yy, xx = np.mgrid[0:30, 0:30]
    a = (10 - 0.5 * np.hypot(yy - 15, xx - 15)).astype("float32")
    a[15, 16:] = np.nan  # a NaN stripe next to the top
    a[0:5, 0:5] = np.nan
    tops = detect_trees(write_chm(tmp_path / "n.tif", a, nodata=None), window="linear_0.06")
    assert len(tops) == 1 and tops["height_m"].iloc[0] == 10.0


def test_nodata_value_is_not_a_tree(tmp_path):
    a = np.full((20, 20), 5.0, dtype="float32")
    a[5:15, 5:15] = 3.0
    a[10, 10] = 255.0  # nodata value higher than everything
    tops = detect_trees(write_chm(tmp_path / "nd.tif", a, nodata=255.0), window="linear_0.06")
    assert 255.0 not in tops["height_m"].tolist()


def test_absurd_heights_are_nodata_with_warning(tmp_path):
    yy, xx = np.mgrid[0:30, 0:30]
    a = np.maximum(10 - 0.5 * np.hypot(yy - 15, xx - 15), 0).astype("float32")
    a[2, 2] = 250.0  # a bird
    a[25, 25] = -3.0  # a DTM error
    with pytest.warns(NoDataWarning, match="1 CHM cells higher than max_height=100"):
        tops = detect_trees(write_chm(tmp_path / "a.tif", a), window="linear_0.06")
    assert tops["height_m"].tolist() == [10.0]
    assert tops.attrs["negative_cells"] == 1
    assert tops.attrs["cells_above_max_height"] == 1


def test_chm_in_degrees_is_refused_with_fix(tmp_path):
    a = np.ones((10, 10), dtype="float32") * 5
    path = write_chm(tmp_path / "deg.tif", a, res=0.00001, crs="EPSG:4326", origin=(-76.7, -7.2))
    with pytest.raises(RasterError, match="gdalwarp -t_srs EPSG:32718"):
        detect_trees(path)


def test_chm_without_crs_is_refused(tmp_path):
    path = write_chm(tmp_path / "nocrs.tif", np.ones((10, 10), dtype="float32"), crs=None)
    with pytest.raises(RasterError, match="no CRS"):
        detect_trees(path)


def test_bad_options_list_allowed_values(tmp_path):
    path = write_chm(tmp_path / "o.tif", np.ones((10, 10), dtype="float32"))
    with pytest.raises(ValueError, match="popescu_wynne"):
        detect_trees(path, window="nope")
    with pytest.raises(ValueError, match="'keep', 'merge'"):
        detect_trees(path, ties="first")  # type: ignore[arg-type]
    flat3 = write_chm(tmp_path / "o2.tif", np.full((5, 5), 3, "float32"))
    with pytest.raises(ValueError, match="positive finite radius"):
        detect_trees(flat3, window=lambda h: h - 10)


def test_presets_table():
    h = np.array([10.0, 20.0])
    np.testing.assert_allclose(
        WINDOW_PRESETS["popescu_wynne"].function(h), (2.51503 + 0.00901 * h**2) / 2
    )
    np.testing.assert_allclose(WINDOW_PRESETS["linear_0.06"].function(h), [1.1, 1.7])


def test_block_edges_find_each_tree_once(tmp_path):
    chm, _ = gaussian_forest(7, size_px=200, n=60)
    path = write_chm(tmp_path / "b.tif", chm, tiled=True)
    whole = detect_trees(path, window=window_small, block_size=4096)
    for bs in (16, 23, 50):
        blocked = detect_trees(path, window=window_small, block_size=bs)
        assert blocked.geometry.equals(whole.geometry), bs
        assert blocked["height_m"].equals(whole["height_m"])
    # a tree right on a 16-cell block corner is found exactly once
    yy, xx = np.mgrid[0:64, 0:64]
    a = np.maximum(12 - 0.6 * np.hypot(yy - 32, xx - 32), 0).astype("float32")
    a[31:33, 31:33] = 12.0  # a 2 x 2 plateau across the corner of four blocks
    p2 = write_chm(tmp_path / "corner.tif", a)
    assert len(detect_trees(p2, window="linear_0.06", block_size=32)) == 1
    assert len(detect_trees(p2, window="linear_0.06", block_size=32, ties="keep")) == 4


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    quant=st.sampled_from([0.0, 0.5, 1.0]),
    slope=st.floats(0.02, 0.3),
    block=st.sampled_from([16, 20, 4096]),
)
def test_keep_ties_matches_bruteforce_reference(tmp_path_factory, seed, quant, slope, block):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 20, size=(24, 28))
    a = ndimage_smooth(a)
    if quant:
        a = np.round(a / quant) * quant  # many ties
    a[rng.random(a.shape) < 0.05] = np.nan
    a = a.astype("float32")
    path = write_chm(tmp_path_factory.mktemp("h") / "r.tif", a, nodata=None)

    def winfun(h):
        return slope * np.asarray(h) + 0.3

    got = detect_trees(path, window=winfun, ties="keep", block_size=block)
    ref = vwf_reference(a, RES, winfun, 2.0)
    assert tops_cells(got) == ref
    merged = detect_trees(path, window=winfun, ties="merge", block_size=block)
    # merging only removes tied neighbours: every merged top is a kept top, never more trees
    assert tops_cells(merged) <= ref
    assert len(merged) <= len(ref)


def ndimage_smooth(a: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    return ndimage.uniform_filter(a, size=3)


def test_foresttools_chm_matches_reference(shared_data, tmp_path):
    path = shared_data / "foresttools" / "CHM_test.tif"

    def winfun(h):
        return 0.06 * np.asarray(h) + 0.5

    win = Window(200, 150, 110, 100)
    with rasterio.open(path) as ds:
        crop = ds.read(1, window=win)
        win_transform = ds.window_transform(win)
        profile = ds.profile
    profile.update(width=110, height=100, transform=win_transform)
    p = tmp_path / "crop.tif"
    with rasterio.open(p, "w", **profile) as out:
        out.write(crop, 1)
    got = detect_trees(p, window=winfun, ties="keep")
    ref = vwf_reference(crop, 0.25, winfun, 2.0)
    assert len(ref) > 10
    assert tops_cells(got, origin=(win_transform.c, win_transform.f), res=0.25) == ref
    # the whole CHM: block processing changes nothing
    whole = detect_trees(path, window=winfun)
    blocked = detect_trees(path, window=winfun, block_size=64)
    assert whole.geometry.equals(blocked.geometry)
    assert len(whole) > 100


def test_kootenay_chm_float64_nodata(shared_data):
    path = shared_data / "foresttools" / "kootenayCHM.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoDataWarning)
        tops = detect_trees(path, window="linear_0.06")
    assert tops.crs.to_epsg() == 32611
    assert tops["height_m"].between(2.0, 13.4913).all()
    with rasterio.open(path) as ds:
        a = ds.read(1)
        a = np.where(a == ds.nodata, np.nan, a)
    ref = vwf_reference(a[:80, :80], 0.5, WINDOW_PRESETS["linear_0.06"].function, 2.0)
    t = ds.transform
    got = {
        rc
        for rc in tops_cells(
            detect_trees(path, window="linear_0.06", ties="keep"), origin=(t.c, t.f), res=0.5
        )
        if rc[0] < 80 and rc[1] < 80
    }
    # windows of cells near the crop edge may see cells outside the crop: compare the interior
    k = 4
    inner = {(r, c) for r, c in ref if k <= r < 80 - k and k <= c < 80 - k}
    assert {(r, c) for r, c in got if k <= r < 80 - k and k <= c < 80 - k} == inner


def test_segment_crowns_areas(tmp_path):
    yy, xx = np.mgrid[0:40, 0:80]
    a = np.maximum(10 - 0.5 * np.hypot(yy - 20, xx - 20), 10 - 0.5 * np.hypot(yy - 20, xx - 60))
    a = np.where(a >= 2, a, 0).astype("float32")
    path = write_chm(tmp_path / "s.tif", a)
    tops = detect_trees(path, window="linear_0.06")
    crowns = segment_crowns(path, tops)
    assert len(crowns) == 2 and crowns.index.equals(tops.index)
    # each cone reaches 2 m at 16 cells: ~ pi * 16^2 cells of 0.25 m2, split evenly
    cells = int((a >= 2).sum())
    assert crowns["crown_area_m2"].sum() == pytest.approx(cells * 0.25)
    np.testing.assert_allclose(crowns["crown_area_m2"], cells * 0.25 / 2)
    np.testing.assert_allclose(crowns.area, crowns["crown_area_m2"])
    for top, crown in zip(tops.geometry, crowns.geometry, strict=True):
        assert crown.contains(top)

"""Dask results equal in-memory results, on a 2-worker LocalCluster of processes.

Sizes: area_ha on 100,000 generated parcels; within-layer overlaps on 20,000;
forest cover/loss and assess on the ~300 sample parcels and 5,000 generated ones.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import agroforest_geo as agf
from agroforest_geo.distributed import run, verb
from agroforest_geo.errors import (
    AgroforestGeoError,
    NoDataWarning,
    RasterError,
    UndeclaredVerbError,
)
from agroforest_geo.mosaic import split_raster

pytestmark = [
    pytest.mark.dask,
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::agroforest_geo.errors.AgroforestGeoWarning"),
]

distributed = pytest.importorskip("distributed")
dask_geopandas = pytest.importorskip("dask_geopandas")
cloudpickle = pytest.importorskip("cloudpickle")
# the workers cannot import this test module: send its functions by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

RTOL = 1e-9


@pytest.fixture(scope="module")
def client():
    c = agf.distributed.local_client(workers=2, memory_limit="2GiB", dashboard_address=None)
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def parcels():
    return agf.read_parcels(agf.datasets.get_path("parcels"))


@pytest.fixture(scope="module")
def protected():
    return agf.read_protected_areas(agf.datasets.get_path("protected_areas"))


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiles")
    cover = split_raster(agf.datasets.get_path("treecover"), d / "cover", nx=2, ny=2)
    loss = split_raster(agf.datasets.get_path("lossyear"), d / "loss", nx=2, ny=2)
    return {"cover": cover, "loss": loss}


def make_parcels(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """N squares of ~1-4 ha on a jittered grid over the sample rasters; ~15% overlap a neighbour."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    x0, y0, span = -76.895, -7.315, 0.29
    step = span / side
    i = np.arange(n)
    cx = x0 + (i % side + 0.5) * step + rng.uniform(-0.1, 0.1, n) * step
    cy = y0 + (i // side + 0.5) * step + rng.uniform(-0.1, 0.1, n) * step
    half = step * rng.uniform(0.3, 0.62, n)  # > 0.5 overlaps the neighbour
    geoms = shapely.box(cx - half, cy - half, cx + half, cy + half)
    ids = np.array([f"G{k:07d}" for k in i], dtype=object)
    perm = rng.permutation(n)  # input order unrelated to space
    return gpd.GeoDataFrame(
        {"parcel_id": ids[perm]}, geometry=geoms[perm], crs=4326, index=pd.RangeIndex(n) * 3
    )


def assert_same(got, expected):
    """Same index, columns, dtypes; numbers within RTOL."""
    if isinstance(expected, pd.Series):
        got, expected = got.to_frame(), expected.to_frame()
    assert got.index.equals(expected.index)
    assert list(got.columns) == list(expected.columns)
    geom = expected.geometry.name if isinstance(expected, gpd.GeoDataFrame) else None
    for c in expected.columns:
        a, b = got[c], expected[c]
        assert a.dtype == b.dtype, c
        if c == geom:
            both_missing = a.isna().to_numpy() & b.isna().to_numpy()
            same = shapely.equals_exact(a.values, b.values, tolerance=0)
            assert bool((same | both_missing).all())
        elif pd.api.types.is_float_dtype(b):
            np.testing.assert_allclose(
                a.to_numpy(float), b.to_numpy(float), rtol=RTOL, atol=0, equal_nan=True, err_msg=c
            )
        else:
            pd.testing.assert_series_equal(a, b, check_names=False)


# ------------------------------------------------------------ per-feature verbs
def test_area_100k_generated(client):
    gen = make_parcels(100_000, seed=1)
    assert_same(run(agf.area_ha, gen, client=client, npartitions=8), agf.area_ha(gen))


def test_sample_verbs_equal_in_memory(client, parcels, protected, tiles):
    plots = agf.read_plots(agf.datasets.get_path("plots"))
    tc, ly = agf.datasets.get_path("treecover"), agf.datasets.get_path("lossyear")
    kw = {"client": client, "npartitions": 5}
    assert_same(run(agf.area_ha, parcels, **kw), agf.area_ha(parcels))
    assert_same(run(agf.overlaps, parcels, **kw), agf.overlaps(parcels))
    assert_same(run(agf.overlaps, parcels, protected, **kw), agf.overlaps(parcels, protected))
    # a parcel's protected_overlap row depends on the parcel and the areas alone: same bits
    pd.testing.assert_frame_equal(
        run(agf.protected_overlap, parcels, protected, buffer_m=200, **kw),
        agf.protected_overlap(parcels, protected, buffer_m=200),
        check_exact=True,
    )
    assert_same(run(agf.containment, plots, parcels, **kw), agf.containment(plots, parcels))
    fc = agf.forest_cover(parcels, tc)
    assert fc["forest_ha"].sum() > 10
    assert_same(run(agf.forest_cover, parcels, tiles["cover"], **kw), fc)
    fl = agf.forest_loss(parcels, ly, cover=tc)
    assert fl["loss_ha"].sum() > 1
    got = run(agf.forest_loss, parcels, tiles["loss"], cover=tiles["cover"], **kw)
    assert_same(got, fl)


def test_tree_density_equal_in_memory(client):
    plots = agf.read_plots(agf.datasets.get_path("plots"))
    trees = gpd.read_file(agf.datasets.get_path("tree_inventory")).to_crs(plots.crs)
    expected = agf.tree_density(plots, trees=trees)
    assert expected["tree_count"].sum() > 0
    got = run(agf.tree_density, plots, trees=trees, client=client, npartitions=4)
    assert_same(got, expected)


def test_validate_and_repair_messy(client):
    messy = gpd.read_file(agf.datasets.get_path("parcels_messy"))
    expected = agf.validate(messy, kind="parcels")
    assert expected.n_errors > 0
    got = run(agf.validate, messy, kind="parcels", client=client, npartitions=3)
    pd.testing.assert_frame_equal(got.flags(), expected.flags())
    pd.testing.assert_frame_equal(got.findings, expected.findings)
    (g1, r1), (g2, r2) = (
        agf.repair(messy, kind="parcels"),
        run(agf.repair, messy, kind="parcels", client=client, npartitions=3),
    )
    assert_same(g2, g1)
    pd.testing.assert_frame_equal(r2.findings, r1.findings)


def test_assess_equal_in_memory(client, parcels, protected, tiles):
    tc, ly = agf.datasets.get_path("treecover"), agf.datasets.get_path("lossyear")
    expected = agf.eudr.assess(parcels, cover=tc, loss=ly, protected=protected)
    got = run(
        agf.eudr.assess,
        parcels,
        cover=tiles["cover"],
        loss=tiles["loss"],
        protected=protected,
        client=client,
        npartitions=6,
    )
    assert expected["status"].nunique() >= 2
    assert (expected["n_parcel_overlaps"] > 0).any()

    # the order of names in overlapping_parcels follows the spatial index: compare as sets
    def names(s):
        return s.fillna("").map(lambda v: sorted(v.split(",")) if v else [])

    assert names(got["overlapping_parcels"]).equals(names(expected["overlapping_parcels"]))
    assert_same(
        got.drop(columns="overlapping_parcels"),
        expected.drop(columns="overlapping_parcels"),
    )
    assert got.attrs == expected.attrs


def test_assess_generated_with_precomputed_cover(client):
    gen = make_parcels(5_000, seed=4)
    cover = agf.forest_cover(gen, agf.datasets.get_path("treecover"))
    expected = agf.eudr.assess(gen, cover=cover, loss=agf.datasets.get_path("lossyear"))
    got = run(
        agf.eudr.assess,
        gen,
        cover=cover,
        loss=agf.datasets.get_path("lossyear"),
        client=client,
        npartitions=6,
    )
    assert (expected["n_parcel_overlaps"] > 0).sum() > 100
    assert_same(
        got.drop(columns="overlapping_parcels"), expected.drop(columns="overlapping_parcels")
    )


# ------------------------------------------------------------ overlaps across partitions
def test_overlaps_across_partition_borders_found_once(client):
    gen = make_parcels(20_000, seed=2)
    expected = agf.overlaps(gen)
    got = run(agf.overlaps, gen, client=client, npartitions=8)
    assert len(expected) > 1_000
    assert_same(got, expected)
    assert not got.duplicated(["parcel_id_left", "parcel_id_right"]).any()
    # many pairs have their two parcels in different partitions: rebuild the partitions
    from agroforest_geo.distributed._plan import plan_memory

    plan = plan_memory(gen, 8, "overlaps", "space", {})
    part = pd.Series(0, index=gen["parcel_id"])
    for p, pos in enumerate(plan.positions):
        part.iloc[pos] = p
    across = part[got["parcel_id_left"]].to_numpy() != part[got["parcel_id_right"]].to_numpy()
    assert across.sum() > 50


def test_overlaps_min_area_and_dask_input(client):
    gen = make_parcels(3_000, seed=3)
    expected = agf.overlaps(gen, min_overlap_m2=2_000)
    got = run(agf.overlaps, gen, min_overlap_m2=2_000, client=client, npartitions=5)
    assert_same(got, expected)
    assert got.attrs["n_below_min_overlap"] == expected.attrs["n_below_min_overlap"] > 0
    ddf = dask_geopandas.from_geopandas(gen, npartitions=4)  # partitions not spatial
    assert_same(run(agf.overlaps, ddf, client=client), agf.overlaps(gen))
    assert_same(run(agf.area_ha, ddf, client=client), agf.area_ha(gen))


# ------------------------------------------------------------ bad input
def test_partition_outside_every_tile_keeps_rows_and_flags_nodata(client, parcels, tiles):
    far = parcels.copy()
    far.index = far.index + 10_000
    far["parcel_id"] = far["parcel_id"] + "-far"
    far["geometry"] = far.geometry.translate(xoff=5.0)  # 5 degrees east of the tiles
    both = pd.concat([parcels, far])
    with pytest.warns(NoDataWarning, match="partition"):
        got = run(agf.forest_cover, both, tiles["cover"], client=client, npartitions=4)
    assert got.index.equals(both.index)
    out = got.loc[far.index]
    assert (out["valid_share"] == 0).all() and out["forest_share"].isna().all()
    np.testing.assert_allclose(out["nodata_ha"], out["area_ha"], rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(got, agf.forest_cover(both, agf.datasets.get_path("treecover")))


def test_tiles_in_different_crs_raise_raster_error(client, parcels, tiles, tmp_path):
    import rasterio

    other = tmp_path / "other_crs.tif"
    with rasterio.open(tiles["cover"][0]) as src:
        profile = src.profile | {"crs": "EPSG:4269"}
        data = src.read()
    with rasterio.open(other, "w", **profile) as dst:
        dst.write(data)
    with pytest.raises(RasterError, match="different CRSs"):
        run(agf.forest_cover, parcels, [*tiles["cover"][1:], other], client=client)


# ------------------------------------------------------------ retries, checkpoints, killed workers
def _counter(path: Path) -> int:
    return len(path.read_text()) if path.exists() else 0


@verb("rows")
def flaky_area(gdf, *, counter):
    """Fail the very first call, then behave (files count calls across processes).

    Which call is first is decided by an exclusive file creation, which is atomic even
    when two workers start at the same moment (reading a counter back is not).
    """
    with open(counter, "a") as fh:
        fh.write("x")
    try:
        fd = os.open(f"{counter}.failed", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return agf.area_ha(gdf)
    os.close(fd)
    raise OSError("transient read error")


@verb("rows")
def counting_area(gdf, *, counter):
    with open(counter, "a") as fh:
        fh.write("x")
    return agf.area_ha(gdf)


def test_task_failing_once_is_retried(client, parcels, tmp_path):
    counter = tmp_path / "calls"
    got = run(flaky_area, parcels, counter=str(counter), client=client, npartitions=4, retries=1)
    assert_same(got, agf.area_ha(parcels))
    assert _counter(counter) == 5  # 4 partitions + 1 retry, no row lost or duplicated
    counter.unlink()
    Path(f"{counter}.failed").unlink()
    with pytest.raises(OSError, match="transient"):
        run(flaky_area, parcels, counter=str(counter), client=client, npartitions=4, retries=0)


def test_checkpoint_restart_skips_finished_partitions(client, parcels, tmp_path):
    counter, ck = tmp_path / "calls", tmp_path / "ck"
    kw = {"counter": str(counter), "client": client, "npartitions": 6, "checkpoint_dir": ck}
    first = run(counting_area, parcels, **kw)
    assert _counter(counter) == 6
    assert len(list(ck.glob("part-*.series.parquet"))) == 6
    again = run(counting_area, parcels, **kw)
    assert _counter(counter) == 6  # nothing recomputed
    for f in sorted(ck.glob("part-*.series.parquet"))[:2]:
        f.unlink()  # as if the run had stopped before these two
    third = run(counting_area, parcels, **kw)
    assert _counter(counter) == 8
    expected = agf.area_ha(parcels)
    for res in (first, again, third):
        assert_same(res, expected)
    with pytest.raises(AgroforestGeoError, match="another run"):
        run(
            counting_area,
            parcels,
            counter=str(counter),
            client=client,
            npartitions=3,
            checkpoint_dir=ck,
        )


@verb("rows")
def crash_on_partition(gdf, *, label):
    if label in gdf.index:
        os._exit(1)  # what the nanny sees when the OS kills a worker out of memory
    return agf.area_ha(gdf)


def test_killed_worker_names_the_partition(parcels):
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        c = agf.distributed.local_client(workers=1, memory_limit="1GiB", dashboard_address=None)
    try:
        with pytest.raises(AgroforestGeoError, match=r"partition \d+ .*npartitions"):
            run(
                crash_on_partition,
                parcels,
                label=parcels.index[5],
                client=c,
                npartitions=3,
                retries=0,
            )
    finally:
        cluster = c.cluster
        c.close()
        cluster.close()


def test_synchronous_scheduler_needs_no_cluster(parcels):
    got = run(agf.overlaps, parcels, scheduler="synchronous", npartitions=7)
    assert_same(got, agf.overlaps(parcels))
    with pytest.raises(ValueError, match="scheduler"):
        run(agf.area_ha, parcels, scheduler="threads")


# ------------------------------------------------------------ a layer sent once, or read on workers
def test_distribute_once_for_several_verbs(client, protected):
    gen = make_parcels(5_000, seed=5)
    tc, ly = agf.datasets.get_path("treecover"), agf.datasets.get_path("lossyear")
    with agf.distributed.distribute(gen, client=client, npartitions=5) as layer:
        assert layer.npartitions == 5 and len(layer) == len(gen)
        assert_same(run(agf.area_ha, layer), agf.area_ha(gen))
        assert_same(run(agf.overlaps, layer), agf.overlaps(gen))
        assert_same(run(agf.overlaps, layer), agf.overlaps(gen))  # halos reused
        got_p = run(agf.protected_overlap, layer, protected, buffer_m=300)
        assert_same(got_p, agf.protected_overlap(gen, protected, buffer_m=300))
        assert_same(run(agf.forest_cover, layer, tc), agf.forest_cover(gen, tc))
        report = run(agf.validate, layer, kind="parcels")  # re-cut by id on the client
        pd.testing.assert_frame_equal(report.findings, agf.validate(gen, kind="parcels").findings)
        expected = agf.eudr.assess(gen, cover=tc, loss=ly)
        got = run(agf.eudr.assess, layer, cover=tc, loss=ly)
        assert_same(
            got.drop(columns="overlapping_parcels"), expected.drop(columns="overlapping_parcels")
        )
        with pytest.raises(ValueError, match="npartitions"):
            run(agf.area_ha, layer, npartitions=3)
    with pytest.raises(ValueError, match="released"):
        run(agf.area_ha, layer)


@pytest.mark.parametrize("fmt", ["parquet", "gpkg"])
def test_distribute_path_read_on_workers(client, tmp_path, monkeypatch, fmt):
    gen = make_parcels(4_000, seed=6)
    path = tmp_path / f"parcels.{fmt}"
    if fmt == "parquet":
        gen.to_parquet(path, row_group_size=300)  # index 0, 3, 6 ... stored as a column
    else:
        gen.to_file(path, engine="pyogrio")  # index lost: read back as 0, 1, 2 ...
    monkeypatch.setattr(agf.distributed, "_READ_SLICE_ROWS", 700)  # several slices
    mem = agf.read_parcels(path)
    with agf.distributed.distribute(path, client=client, npartitions=4) as layer:
        assert len(layer) == len(mem) and layer.npartitions == 4
        # the same spatial partitions as for the layer in memory
        from agroforest_geo.distributed._plan import plan_memory

        expected_parts = plan_memory(mem, 4, "rows", "auto", {}).positions
        for a, b in zip(layer.plan.positions, expected_parts, strict=True):
            np.testing.assert_array_equal(a, b)
        assert_same(run(agf.area_ha, layer), agf.area_ha(mem))
        assert_same(run(agf.overlaps, layer), agf.overlaps(mem))
        with pytest.raises(ValueError, match="cut by id"):
            run(agf.validate, layer)
    sync = agf.distributed.distribute(path, npartitions=3)  # no cluster: read here
    assert_same(run(agf.area_ha, sync), agf.area_ha(mem))


# ---------------------------------------------------------------- verbs declare what they need
@verb("rows", rasters=("canopy",), tables=("baseline",))
def forest_change(parcels, canopy, *, baseline):
    """A user's verb: its raster has a name the library never uses, its table is on the index."""
    now = agf.forest_cover(parcels, canopy)["forest_ha"]
    return (now - baseline["forest_ha"]).rename("forest_change_ha")


@verb("halo")
def n_meeting(parcels):
    """A user's verb whose rows depend on the neighbours: how many other parcels each meets."""
    geoms = parcels.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    counts = np.bincount(left[left != right], minlength=len(parcels))
    return pd.Series(counts, index=parcels.index, name="n_meeting")


def test_user_verbs_declared_run_on_dask(client, parcels, tiles):
    tc = agf.datasets.get_path("treecover")
    baseline = agf.forest_cover(parcels, tc, threshold=50)
    expected = forest_change(parcels, tc, baseline=baseline)
    # the tiles become a VRT only because `canopy` is declared a raster; the baseline table
    # is cut with the layer only because it is declared a table (else: rows of every partition)
    got = run(
        forest_change, parcels, tiles["cover"], baseline=baseline, client=client, npartitions=5
    )
    assert (expected > 0).sum() > 50
    assert_same(got, expected)
    gen = make_parcels(5_000, seed=7)
    expected = n_meeting(gen)
    assert (expected > 0).sum() > 300
    assert_same(run(n_meeting, gen, client=client, npartitions=6), expected)


def plain_area(gdf):
    return agf.area_ha(gdf)


def test_undeclared_verb_gets_a_clear_error(parcels):
    with pytest.raises(UndeclaredVerbError, match=r"plain_area does not declare.*@verb\("):
        run(plain_area, parcels, scheduler="synchronous")
    with pytest.raises(TypeError, match=r"distributed\.verb"):  # also a TypeError
        run(lambda gdf: gdf.area, parcels, scheduler="synchronous")
    wrong = verb("rows", rasters=("rastr",))(lambda gdf, raster: agf.forest_cover(gdf, raster))
    with pytest.raises(
        UndeclaredVerbError, match=r"declares arguments it does not have: \['rastr'\]"
    ):
        run(wrong, parcels, agf.datasets.get_path("treecover"), scheduler="synchronous")
    lazy = dask_geopandas.from_geopandas(parcels, npartitions=2)
    with pytest.raises(UndeclaredVerbError, match=r"'other' of .* Dask collection"):
        run(verb("rows")(lambda gdf, other: gdf.area), parcels, lazy, scheduler="synchronous")
    with pytest.raises(ValueError, match="kind must be one of"):
        verb("neighbours")
    with pytest.raises(ValueError, match="pairs_with"):
        verb("rows", pairs_with="other")


def test_library_verbs_are_all_declared():
    import importlib

    from agroforest_geo._verbs import VERBS, spec_of
    from agroforest_geo.distributed._plan import declaration

    verbs = [agf.area_ha, agf.overlaps, agf.containment, agf.protected_overlap, agf.forest_cover]
    verbs += [agf.forest_loss, agf.class_shares, agf.tree_density, agf.validate, agf.repair]
    verbs += [agf.eudr.assess, agf.declared_vs_measured, agf.raster.integrate]
    assert all(spec_of(v) is not None for v in verbs)
    assert spec_of(agf.forest_loss).rasters == ("loss", "cover")
    # every line of the table names a function that exists, with the arguments it declares
    for name, spec in VERBS.items():
        module, _, attr = name.rpartition(".")
        func = getattr(importlib.import_module(module), attr)
        assert declaration(func) is spec, name


def test_one_progress_bar_per_call_not_one_per_partition(monkeypatch, capsys):
    """A verb with its own bar runs quiet inside the partitions: the call shows one bar."""
    import agroforest_geo.raster as raster_mod

    monkeypatch.setattr(raster_mod, "PROGRESS_MIN_FEATURES", 1)  # every verb call would show one
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    cover = agf.datasets.get_path("treecover")
    agf.forest_cover(parcels.head(5), cover)
    assert "pixels" in capsys.readouterr().err  # the verb alone shows its bar
    res = agf.distributed.run(
        agf.forest_cover,
        parcels,
        cover,
        scheduler="synchronous",
        npartitions=4,
        show_progress=True,
    )
    err = capsys.readouterr().err
    assert "pixels" not in err and "partitions" in err
    assert len(res) == len(parcels)

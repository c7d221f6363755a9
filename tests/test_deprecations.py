"""Old argument names still work for one release, with a FutureWarning, and the same numbers."""

from __future__ import annotations

import pandas as pd
import pytest

import agroforest_geo as agf

get = agf.datasets.get_path


@pytest.fixture(scope="module")
def parcels():
    return agf.read_parcels(get("parcels")).head(20)


def test_forest_loss_lossyear_keyword(parcels):
    new = agf.forest_loss(parcels, loss=get("lossyear"))
    with pytest.warns(FutureWarning, match="lossyear=.*use loss="):
        old = agf.forest_loss(parcels, lossyear=get("lossyear"))
    pd.testing.assert_frame_equal(new, old)
    with pytest.raises(TypeError, match="both"):
        agf.forest_loss(parcels, loss=get("lossyear"), lossyear=get("lossyear"))


def test_forest_cover_raster_keyword(parcels):
    new = agf.forest_cover(parcels, cover=get("treecover"))
    with pytest.warns(FutureWarning, match="raster=.*use cover="):
        old = agf.forest_cover(parcels, raster=get("treecover"))
    pd.testing.assert_frame_equal(new, old)


def test_cover_and_loss_lossyear_keyword(parcels):
    new = agf.forest_cover_and_loss(parcels, get("treecover"), get("lossyear"))
    with pytest.warns(FutureWarning):
        old = agf.forest_cover_and_loss(parcels, get("treecover"), lossyear=get("lossyear"))
    pd.testing.assert_frame_equal(new, old)

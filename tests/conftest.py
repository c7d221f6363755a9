from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The cross-check data beside the repository (``../shared/data``); skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (cross-check data live beside the repository)")
    return SHARED_DATA

"""Every notebook in notebooks/ runs top to bottom on the sample data (stored without outputs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_clean(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [], f"{path.name}: strip outputs before committing"
            assert cell.get("execution_count") is None, f"{path.name}: strip execution counts"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # the kernel's own (inline) backend: figures become image outputs, as under Jupyter
    monkeypatch.delenv("MPLBACKEND", raising=False)
    # the scaling notebook reads its size from the environment; keep it small here
    size = os.environ.get("AGROFOREST_GEO_N_PARCELS", "20000")
    monkeypatch.setenv("AGROFOREST_GEO_N_PARCELS", size)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError (with the cell and traceback) on failure
    # every cell that draws a figure shows it
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and _draws(cell.source):
            kinds = {key for out in cell.get("outputs", []) for key in out.get("data", {})}
            assert "image/png" in kinds, f"{path.name}, cell {k}: no figure shown\n{cell.source}"


def _draws(source: str) -> bool:
    """Whether a cell draws a matplotlib figure (``plt.subplots``, ``.plot(``, ``ax.bar(``)."""
    return any(s in source for s in ("plt.subplots", "plt.figure", ".plot(ax=", "ax.bar("))


def test_plotting_notebooks_are_found():
    """Notebooks 02 and 03 have plotting cells, so the check above is not vacuous."""
    for stem in ("02_overlaps_and_protected_areas", "03_forest_cover_and_loss"):
        nb = json.loads((NOTEBOOKS[0].parent / f"{stem}.ipynb").read_text())
        src = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        assert sum(_draws(s) for s in src) >= 2, stem
        assert not any("matplotlib.use(" in s for s in src), stem

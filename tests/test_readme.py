"""The README's Python example runs as written and gives the numbers it implies."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    code = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert code is not None
    namespace: dict = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    parcels, status = namespace["parcels"], namespace["status"]
    assert len(status) == len(parcels) and status.index.equals(parcels.index)
    assert (status["status"] == "deforestation_detected").sum() >= 10
    assert namespace["pairs"]["overlap_ha"].gt(0).all()


def test_readme_workflow_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    workflow = next(b for b in blocks if "run_assessment" in b)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile("import agroforest_geo as agf\n" + workflow, str(README), "exec"), namespace)
    a = namespace["a"]
    assert a.status_counts["deforestation_detected"] == 14
    assert (tmp_path / "out" / "report.html").exists()
    assert (tmp_path / "out" / "eudr_geolocation.geojson").exists()

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

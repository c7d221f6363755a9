"""Run every ``bench_*.py`` script and end with the summary of their ratios.

``make bench`` calls this. Each script prints its own tables; the lines it tags with
``RATIO |`` (see ``_util.ratio``) are gathered here and printed together at the end,
each with the machine's load when it was measured, so one run shows every ratio against
the tool a user would otherwise pick and whether its goal holds.

Run ``python benchmarks/run_all.py [name ...]`` to run only some scripts (``area``,
``cover``, ...).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import RATIO_TAG, load_note


def main() -> int:
    here = Path(__file__).parent
    wanted = set(sys.argv[1:])
    scripts = [p for p in sorted(here.glob("bench_*.py")) if not wanted or p.stem[6:] in wanted]
    summary: list[str] = []
    failed: list[str] = []
    print(f"start: {load_note()}", flush=True)
    for script in scripts:
        print(f"== {script.name}", flush=True)
        proc = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            if line.startswith(RATIO_TAG):
                summary.append(f"{script.stem[6:]:<12s} {line[len(RATIO_TAG) :].strip()}")
        if proc.wait() != 0:
            failed.append(script.name)
    print(f"\n== summary (end: {load_note()})")
    for line in summary:
        print(line)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

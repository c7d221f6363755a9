"""Evidence records: one JSON line per parcel, so that a verdict can be re-checked years later.

The file (JSON Lines, UTF-8) starts with one ``"record": "header"`` line
holding what every verdict depends on: the rule table (every rule in full,
with its conditions), its version and SHA-256, the thresholds, the cut-off,
the inputs (file, SHA-256, CRS) and the library version. Each following line
is one parcel: its id, the SHA-256 of the rule table and of each input, the
rule-set version, every evidence value, the fired rules and the status.

:func:`verify_evidence_records` re-applies the recorded rules to the recorded
evidence and compares the statuses: no raster or layer is needed, only the
file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._atomic import atomic_write
from .._version import __version__

__all__ = ["read_evidence_records", "verify_evidence_records", "write_evidence_records"]

PathLike = str | os.PathLike[str]

#: Format version of the records (bump when the layout changes).
RECORDS_VERSION = "1"


def _rule_record(rule: Any) -> dict[str, Any]:
    def cond(c: Any) -> dict[str, Any]:
        return {"column": c.column, "op": c.op, "threshold": c.threshold, "param": c.param}

    return {
        "code": rule.code,
        "status": rule.status,
        "column": rule.column,
        "op": rule.op,
        "threshold": rule.threshold,
        "param": rule.param,
        "description": rule.description,
        "all_of": [cond(c) for c in rule.all_of],
        "any_of": [cond(c) for c in rule.any_of],
    }


def _rule_from(record: dict[str, Any]) -> Any:
    from ..eudr.rules import Condition, Rule

    def cond(c: dict[str, Any]) -> Condition:
        return Condition(c["column"], c["op"], c["threshold"], c["param"])

    return Rule(
        record["code"],
        record["status"],
        record["column"],
        record["op"],
        record["threshold"],
        record["param"],
        record["description"],
        all_of=tuple(cond(c) for c in record["all_of"]),
        any_of=tuple(cond(c) for c in record["any_of"]),
    )


def _plain(v: Any) -> Any:
    """Return a JSON value: NaN/NA/None -> null, numpy scalars -> Python."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def write_evidence_records(assessment: Any, path: PathLike) -> Path:
    """Write one evidence record per parcel (JSON Lines) after a header of what they depend on.

    Parameters
    ----------
    assessment : Assessment
        The result of :func:`agroforest_geo.run_assessment`.
    path : path
        The ``.jsonl`` file to write.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import agroforest_geo as agf, tempfile, pathlib
    >>> a = agf.run_assessment(agf.datasets.get_path("parcels"))
    >>> p = write_evidence_records(a, pathlib.Path(tempfile.mkdtemp()) / "records.jsonl")
    >>> len(p.read_text(encoding="utf-8").splitlines()) == len(a.parcels) + 1
    True
    >>> bool(verify_evidence_records(p)["agrees"].all())
    True
    """
    rules = [_rule_record(r) for r in assessment.rules]
    rules_sha = hashlib.sha256(_canonical(rules).encode()).hexdigest()
    inputs = assessment.inputs.astype(object).where(assessment.inputs.notna(), None)
    input_rows = [{k: _plain(v) for k, v in r.items()} for r in inputs.to_dict("records")]
    checksums = {str(r["role"]): r.get("sha256") or None for r in input_rows}
    version = assessment.result.attrs.get("rules_version", "")
    header = {
        "record": "header",
        "records_version": RECORDS_VERSION,
        "agroforest_geo": __version__,
        "written": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "cutoff": assessment.cutoff.isoformat(),
        "rules_version": version,
        "rules_sha256": rules_sha,
        "rules": rules,
        "thresholds": {k: _plain(v) for k, v in assessment.thresholds.items()},
        "inputs": input_rows,
        "id_column": assessment.id_column,
    }
    ev = assessment.evidence
    ids = (
        assessment.parcels[assessment.id_column].astype(str).tolist()
        if assessment.id_column
        else [str(i) for i in assessment.parcels.index]
    )
    status = assessment.result["status"].astype(str).tolist()
    fired = assessment.result["rules_fired"].fillna("").astype(str).tolist()
    out = Path(path)
    with atomic_write(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(_canonical(header) + "\n")
        for pid, st, fr, values in zip(ids, status, fired, ev.to_dict("records"), strict=True):
            rec = {
                "record": "parcel",
                "id": pid,
                "rules_version": version,
                "rules_sha256": rules_sha,
                "inputs_sha256": checksums,
                "evidence": {str(k): _plain(v) for k, v in values.items()},
                "rules_fired": [c for c in fr.split(";") if c],
                "status": st,
            }
            f.write(_canonical(rec) + "\n")
    return out


def read_evidence_records(path: PathLike) -> tuple[dict[str, Any], pd.DataFrame]:
    """Return the header and the parcel records (one row each) of an evidence-records file.

    The evidence columns come back with their types: numbers as floats (null as
    NaN), true/false as pandas ``boolean``, text as text.
    """
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if not lines or lines[0].get("record") != "header":
        raise ValueError(f"{Path(path).name}: not an evidence-records file (no header line)")
    header, rows = lines[0], lines[1:]
    evidence = pd.DataFrame([r["evidence"] for r in rows])
    for c in evidence.columns:
        vals = [v for v in evidence[c].tolist() if v is not None]
        if vals and all(isinstance(v, bool) for v in vals):
            evidence[c] = evidence[c].astype("boolean")
        elif vals and all(isinstance(v, int | float) for v in vals):
            evidence[c] = pd.to_numeric(evidence[c], errors="coerce").astype(float)
        elif not vals:
            evidence[c] = np.nan
    table = pd.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "status": [r["status"] for r in rows],
            "rules_fired": [";".join(r["rules_fired"]) for r in rows],
            "rules_sha256": [r["rules_sha256"] for r in rows],
        }
    )
    return header, pd.concat([table, evidence.add_prefix("evidence.")], axis=1)


def verify_evidence_records(path: PathLike) -> pd.DataFrame:
    """Re-apply the recorded rules to the recorded evidence; one row per parcel.

    Returns
    -------
    pandas.DataFrame
        ``id``, ``status`` (recorded), ``status_again``, ``rules_fired``,
        ``rules_fired_again`` and ``agrees`` (both the status and the fired
        rules are the same, and the record names the header's rule table).

    Examples
    --------
    See :func:`write_evidence_records`.
    """
    from ..eudr._apply import apply_rules

    header, table = read_evidence_records(path)
    rules = [_rule_from(r) for r in header["rules"]]
    if hashlib.sha256(_canonical(header["rules"]).encode()).hexdigest() != header["rules_sha256"]:
        raise ValueError(f"{Path(path).name}: the rule table does not match its SHA-256")
    evidence = table.filter(like="evidence.").rename(columns=lambda c: c[len("evidence.") :])
    again = apply_rules(evidence, rules)
    out = table[["id", "status", "rules_fired"]].copy()
    out["status_again"] = again["status"].astype(str).to_numpy()
    out["rules_fired_again"] = again["rules_fired"].to_numpy()
    out["agrees"] = (
        (out["status"] == out["status_again"])
        & (out["rules_fired"] == out["rules_fired_again"])
        & (table["rules_sha256"] == header["rules_sha256"])
    )
    return out

"""The archive of an assessment: evidence records that re-verify; the PDF, a page a parcel."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

import agroforest_geo as agf
from agroforest_geo.reporting import (
    read_evidence_records,
    verify_evidence_records,
    write_evidence_records,
    write_pdf,
)

get = agf.datasets.get_path


@pytest.fixture(scope="module")
def assessed():
    return agf.run_assessment(
        get("parcels"),
        cover=get("treecover"),
        loss=get("lossyear"),
        protected=get("protected_areas"),
        plots=get("plots"),
        trees=get("tree_inventory"),
    )


def test_records_hold_what_a_verdict_depends_on(assessed, tmp_path):
    path = write_evidence_records(assessed, tmp_path / "records.jsonl")
    header, table = read_evidence_records(path)
    assert header["rules_version"] == agf.eudr.RULES_VERSION
    assert header["cutoff"] == "2020-12-31"
    assert [r["code"] for r in header["rules"]] == [r.code for r in assessed.rules]
    sha = dict(zip(assessed.inputs["role"], assessed.inputs["sha256"], strict=True))
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[1])
    assert first["inputs_sha256"] == sha and len(sha["parcels"]) == 64
    assert first["id"] == assessed.parcels["parcel_id"].iloc[0]
    assert set(first["evidence"]) == set(assessed.evidence.columns)
    assert table["status"].tolist() == assessed.result["status"].astype(str).tolist()
    assert table["evidence.area_ha"].tolist() == assessed.evidence["area_ha"].tolist()


def test_every_recorded_verdict_verifies(assessed, tmp_path):
    checked = verify_evidence_records(write_evidence_records(assessed, tmp_path / "r.jsonl"))
    assert len(checked) == len(assessed.parcels) and checked["agrees"].all()
    # the sample has every status family, so the check is not vacuous
    assert set(checked["status_again"]) >= {
        "deforestation_free",
        "needs_review",
        "deforestation_detected",
    }


def test_a_changed_record_does_not_verify(assessed, tmp_path):
    path = write_evidence_records(assessed, tmp_path / "r.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    k = 1 + int(
        assessed.result["status"].astype(str).eq("deforestation_detected").to_numpy().argmax()
    )
    rec = json.loads(lines[k])
    assert rec["status"] == "deforestation_detected"
    rec["evidence"]["loss_after_cutoff_ha"] = 0.0  # someone edits the evidence ...
    rec["evidence"]["loss_ha_2021"] = rec["evidence"]["loss_ha_2022"] = 0.0
    rec["evidence"]["loss_ha_2023"] = 0.0
    lines[k] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    checked = verify_evidence_records(path)
    assert not checked["agrees"].iloc[k - 1]  # ... and the verdict no longer follows
    assert checked["agrees"].sum() == len(assessed.parcels) - 1
    # editing the rule table is caught by its checksum
    header = json.loads(lines[0])
    header["rules"][1]["threshold"] = 100.0
    lines[0] = json.dumps(header)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="SHA-256"):
        verify_evidence_records(path)


def test_pdf_has_a_summary_and_one_page_per_parcel(assessed, tmp_path):
    n = 6
    few = dataclasses.replace(
        assessed,
        parcels=assessed.parcels.iloc[:n],
        result=assessed.result.iloc[:n],
        evidence=assessed.evidence.iloc[:n],
    )
    out = write_pdf(few, tmp_path / "a.pdf", lang="es")
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == n + 1
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == n + 1
    first = reader.pages[0].extract_text()
    assert "Evaluación libre de deforestación" in first and "SHA-256" in first
    for k, pid in enumerate(few.parcels["parcel_id"], start=1):
        text = reader.pages[k].extract_text()
        assert f"Parcela {pid}" in text  # one page per parcel, in order
        status = few.result["status"].astype(str).iloc[k - 1]
        assert f"[{status}]" in text
    # a detected parcel's page says why, in words with the numbers
    detected = few.result["status"].astype(str).eq("deforestation_detected").to_numpy()
    k = 1 + int(np.argmax(detected))
    assert detected.any() and "perdidas en 20" in reader.pages[k].extract_text()

"""The report's language: the catalogue, numbers and dates, reasons in words with the numbers."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest

import agroforest_geo as agf
from agroforest_geo.eudr import DEFAULT_RULES
from agroforest_geo.reporting._i18n import (
    COLUMN_LABELS,
    LANGUAGES,
    MESSAGES,
    messages,
    placeholders,
)
from agroforest_geo.reporting._words import human_reasons

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


def test_every_message_in_every_language_with_the_same_placeholders():
    for key, texts in {**MESSAGES, **COLUMN_LABELS}.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[lang].strip() for lang in LANGUAGES), key
        assert len({frozenset(placeholders(t)) for t in texts.values()}) == 1, key
    # every status and every default rule has its words
    for status in agf.eudr.STATUS_ORDER:
        assert f"status.{status}" in MESSAGES
    for rule in DEFAULT_RULES:
        assert f"reason.{rule.code}" in MESSAGES, rule.code
    # every evidence column has words (the sheets show them; the raw name is the tooltip)
    for col in agf.eudr.EVIDENCE_SCHEMA:
        assert col.name == "loss_ha_<year>" or col.name in COLUMN_LABELS, col.name


@pytest.mark.parametrize(
    ("lang", "number", "date"),
    [
        ("es", "1.234,57", "31 de diciembre de 2020"),
        ("en", "1,234.57", "December 31, 2020"),
        ("fr", "1\u202f234,57", "31 décembre 2020"),
        ("pt", "1.234,57", "31 de dezembro de 2020"),
    ],
)
def test_numbers_and_dates_follow_the_locale(lang, number, date):
    m = messages(lang)
    assert m.num(1234.5678, 2) == number
    assert m.nums([1234.5678, float("nan")], 2) == [number, ""]
    assert m.date(dt.date(2020, 12, 31)) == date


def test_unknown_language_is_refused(assessed, tmp_path):
    with pytest.raises(ValueError, match=r"'es', 'en', 'fr', 'pt'"):
        assessed.report(tmp_path / "r.html", lang="de")


def test_reasons_in_words_with_the_numbers():
    ev = pd.DataFrame(
        {
            "loss_after_cutoff_ha": [2.3, 0.2],
            "loss_ha_2020": [5.0, 0.0],  # before the cut-off: not named
            "loss_ha_2022": [2.0, 0.0],
            "loss_ha_2023": [0.3, 0.2],
            "protected_ha": [0.0, 1.25],
            "protected_share": [0.0, 0.25],
            "protected_area_ids": ["", "ANP-1"],
        }
    )
    res = pd.DataFrame(
        {"rules_fired": ["deforestation_after_cutoff", "loss_after_cutoff;protected_area_overlap"]}
    )
    es = human_reasons(res, ev, DEFAULT_RULES, dt.date(2020, 12, 31), messages("es"))
    assert es[0][0] == (
        "deforestation_after_cutoff",
        "2,30 ha perdidas en 2022, 2023, después de la fecha de corte "
        "(alcanza el mínimo de bosque de 0,50 ha)",
    )
    assert es[1][0][1].startswith("0,20 ha perdidas en 2023, después de la fecha de corte")
    assert es[1][1][1] == "1,25 ha (25,0 %) dentro de áreas protegidas o REDD+: ANP-1"
    en = human_reasons(res, ev, DEFAULT_RULES, dt.date(2020, 12, 31), messages("en"))
    assert en[0][0][1].startswith("2.30 ha lost in 2022, 2023, after the cut-off")
    # a cut-off inside 2022 counts loss in 2022 as after it (the library's one annual rule)
    mid = human_reasons(res, ev, DEFAULT_RULES, dt.date(2022, 6, 30), messages("en"))
    assert "in 2022, 2023" in mid[0][0][1]


def test_custom_rule_keeps_its_description_and_values():
    rule = agf.eudr.Rule(
        "near", "needs_review", "distance_to_protected_m", "<", 500.0, None, "near a park"
    )
    res = pd.DataFrame({"rules_fired": ["near"]})
    ev = pd.DataFrame({"distance_to_protected_m": [120.0]})
    words = human_reasons(res, ev, [rule], dt.date(2020, 12, 31), messages("es"))
    assert words[0] == [("near", "near a park (distance_to_protected_m = 120,00)")]


def _data(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="agf-data">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def test_spanish_report_words_and_raw_codes(assessed, tmp_path):
    html = assessed.report(tmp_path / "r.html", group_by=["district"]).read_text(encoding="utf-8")
    assert '<html lang="es">' in html
    assert "31 de diciembre de 2020" in html
    data = _data(html)
    status = assessed.result["status"].astype(str)
    # statuses in words, codes kept for tooltips and sorting
    assert data["status"] == status.tolist()
    assert data["labels"]["needs_review"] == "por revisar"
    assert data["codes"] == assessed.result["rules_fired"].fillna("").tolist()
    detected = status.eq("deforestation_detected").to_numpy()
    for text in [r for r, d in zip(data["reasons"], detected, strict=True) if d]:
        assert re.search(r"\d+,\d\d ha perdidas en 20\d\d", text), text
    # group-by columns named by the user: district counted, province not
    assert "Por distrito" in html and "Por provincia" not in html
    # one share convention in the table: every share a percentage
    for col in data["cols"]:
        if col["name"].endswith("_share") or col["name"] == "forest_share_cutoff":
            assert all(t == "" or t.endswith(" %") for t in col["text"]), col["name"]


def test_group_by_must_name_columns(assessed, tmp_path):
    with pytest.raises(agf.MissingColumnError, match="region"):
        assessed.report(tmp_path / "r.html", group_by=["region"])


@pytest.mark.parametrize("lang", ["en", "fr", "pt"])
def test_other_languages(assessed, tmp_path, lang):
    html = assessed.report(tmp_path / "r.html", lang=lang).read_text(encoding="utf-8")
    m = messages(lang)
    assert f'<html lang="{lang}">' in html
    assert m.status("deforestation_detected") in html
    assert m.t("nav.sheets") in html

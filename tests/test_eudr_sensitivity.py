"""The "what would change the verdict" column: right on built cases, and what it says holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from test_eudr_assess import evidence, full_cover, squares

from agroforest_geo.eudr import DEFAULT_RULES, assess
from agroforest_geo.eudr._apply import apply_rules
from agroforest_geo.eudr._sensitivity import verdict_sensitivity
from agroforest_geo.eudr.rules import resolve_rules


def test_parcel_just_under_the_loss_threshold():
    p = squares(3)
    loss = evidence(p, loss_after_cutoff_ha=[0.45, 0.6, 0.0])
    r = assess(p, cover=full_cover(p), loss=loss)
    assert r["status"].tolist() == ["needs_review", "deforestation_detected", "deforestation_free"]
    w = r["what_would_change"].tolist()
    assert w[0] == (
        "needs_review; becomes deforestation_detected if loss_after_cutoff_min_ha were at most 0.45"
    )
    assert w[1].startswith(
        "deforestation_detected; becomes needs_review if loss_after_cutoff_min_ha were above 0.6"
    )
    # no loss at all: no threshold move short of zero changes it
    assert "loss_after_cutoff" not in w[2]


def test_overlap_verdict_rests_on_the_overlaps_source():
    p = squares(2, gap=-20.0)  # 20 m overlap: 0.2 ha shared
    r = assess(p, cover=full_cover(p), loss=evidence(p, loss_after_cutoff_ha=[0.0, 0.0]))
    assert r["status"].tolist() == ["needs_review", "needs_review"]
    for text in r["what_would_change"]:
        assert "becomes deforestation_free if parcel_overlap_max_ha were at least 0.2" in text
        assert text.endswith("becomes deforestation_free without the overlaps evidence")


_COLUMNS = {
    "loss_after_cutoff_ha": st.floats(0, 5),
    "protected_share": st.floats(0, 1),
    "parcel_overlap_ha": st.floats(0, 2),
    "valid_share": st.floats(0, 1),
}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries(_COLUMNS), min_size=1, max_size=8))
def test_the_change_it_names_does_change_the_status(rows):
    ev = pd.DataFrame(rows)
    ev["n_geometry_errors"] = 0
    ev["geometry_problem"] = ""
    ev["forest_share_cutoff"] = 0.5
    ev["agroforestry_evidence"] = pd.array([pd.NA] * len(ev), dtype="boolean")
    rules = [r for r in DEFAULT_RULES if all(c in ev.columns for c in r.columns())]
    status = apply_rules(ev, rules)["status"]
    s = verdict_sensitivity(ev, rules, status)
    for i in np.flatnonzero(s["change_param"].map(lambda x: isinstance(x, str)).to_numpy()):
        param, value = s["change_param"].iloc[i], float(s["change_value"].iloc[i])
        text = s["what_would_change"].iloc[i]
        how = text.split(f"{param} were ")[1].split(" ")[0:2]
        # the threshold just across the value, on the side the text names
        new = {
            "above": np.nextafter(value, np.inf),
            "below": np.nextafter(value, -np.inf),
        }.get(how[0], value)
        changed, _ = resolve_rules({param: new})
        changed = [r for r in changed if all(c in ev.columns for c in r.columns())]
        after = apply_rules(ev.iloc[[i]], changed)["status"].iloc[0]
        assert after == s["change_status"].iloc[i] != status.iloc[i], (text, after)

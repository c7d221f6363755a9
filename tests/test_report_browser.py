"""The HTML report in a real headless browser: no console error, one map shape per parcel,
pan/zoom, tooltips and table sorting work. Skipped when no Chromium is installed."""

from __future__ import annotations

import html as htmllib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import agroforest_geo as agf

pytestmark = pytest.mark.browser

BROWSER = next(
    (
        b
        for b in (
            os.environ.get("CHROMIUM"),
            shutil.which("chromium"),
            shutil.which("chromium-browser"),
            shutil.which("google-chrome"),
        )
        if b
    ),
    None,
)

# injected into a test copy of the report: collects errors and drives the page
PROBE = r"""<script>
window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push("error: " + e.message); });
document.addEventListener("securitypolicyviolation", function (e) {
  window.__errors.push("csp: " + e.blockedURI);
});
(function () {
  var orig = console.error;
  console.error = function () {
    window.__errors.push("console: " + Array.prototype.join.call(arguments, " "));
    return orig.apply(console, arguments);
  };
})();
window.addEventListener("load", function () {
  var res = {};
  try {
    res.ready = document.documentElement.getAttribute("data-report-ready");
    var svg = document.getElementById("map");
    res.parcels = svg.querySelectorAll("[data-parcel-id]").length;
    var vb0 = svg.getAttribute("viewBox");
    var box = svg.getBoundingClientRect();
    svg.dispatchEvent(new WheelEvent("wheel", {deltaY: -100, clientX: box.left + 50,
      clientY: box.top + 50, bubbles: true, cancelable: true}));
    res.zoomed = svg.getAttribute("viewBox") !== vb0;
    document.getElementById("zoom-reset").click();
    var nums = function (v) { return v.split(/\s+/).map(Number).join(","); };
    res.reset = nums(svg.getAttribute("viewBox")) === nums(vb0);
    var p = svg.querySelector("path.parcel[d]:not([d=''])");
    var r = p.getBoundingClientRect();
    p.dispatchEvent(new MouseEvent("mousemove", {clientX: r.left + r.width / 2,
      clientY: r.top + r.height / 2, bubbles: true}));
    var tip = document.getElementById("tip");
    res.tip = tip.textContent;
    res.tipShown = tip.style.display;
    res.hoveredId = p.getAttribute("data-parcel-id");
    var table = document.getElementById("parcel-table");
    var heads = table.tHead.rows[0].cells, col = -1;
    for (var i = 0; i < heads.length; i++) { if (heads[i].textContent === "area_ha") { col = i; } }
    heads[col].click();
    res.firstAsc = table.tBodies[0].rows[0].cells[col].getAttribute("data-v");
    heads[col].click();
    res.firstDesc = table.tBodies[0].rows[0].cells[col].getAttribute("data-v");
    res.rows = table.tBodies[0].rows.length;
  } catch (e) { window.__errors.push("probe: " + e.message); }
  document.body.setAttribute("data-probe", JSON.stringify(res));
  document.body.setAttribute("data-errors", JSON.stringify(window.__errors));
});
</script>"""


def _dump_dom(page: Path) -> tuple[str, str]:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    cmd = [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2000",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.as_uri(),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return done.stdout, done.stderr


def _attr(dom: str, name: str):
    m = re.search(name + r'="([^"]*)"', dom)
    assert m, f"{name} not found in the dumped DOM"
    return json.loads(htmllib.unescape(m.group(1)))


@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")
def test_report_in_headless_chromium(tmp_path):
    parcels = agf.read_parcels(agf.datasets.get_path("parcels"))
    protected = agf.read_protected_areas(agf.datasets.get_path("protected_areas"))
    result = agf.eudr.assess(
        parcels,
        cover=agf.datasets.get_path("treecover"),
        loss=agf.datasets.get_path("lossyear"),
        protected=protected,
    )
    page = agf.report(
        result,
        parcels,
        tmp_path / "report.html",
        protected=protected,
        lossyear=agf.datasets.get_path("lossyear"),
        validation=agf.validate(parcels, kind="parcels"),
    )
    text = page.read_text(encoding="utf-8")
    probe_copy = tmp_path / "probe.html"
    probe_copy.write_text(text.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    dom, log = _dump_dom(probe_copy)
    assert "Uncaught" not in log, log
    errors = _attr(dom, "data-errors")
    assert errors == []
    res = _attr(dom, "data-probe")
    assert res["ready"] == "1"
    assert res["parcels"] == len(parcels)
    assert res["zoomed"] is True and res["reset"] is True
    assert res["tipShown"] == "block"
    status = result.loc[parcels["parcel_id"] == res["hoveredId"], "status"].astype(str).iloc[0]
    assert res["tip"].startswith(f"parcel {res['hoveredId']}status: {status}") or (
        f"parcel {res['hoveredId']}" in res["tip"] and status in res["tip"]
    )
    assert res["rows"] == len(parcels)
    areas = pd.to_numeric(result["area_ha"])
    assert float(res["firstAsc"]) == pytest.approx(areas.min())
    assert float(res["firstDesc"]) == pytest.approx(areas.max())

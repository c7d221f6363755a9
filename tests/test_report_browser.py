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
  window.__data = JSON.parse(document.getElementById("agf-data").textContent);
  try {
    res.ready = document.documentElement.getAttribute("data-report-ready");
    var svg = document.getElementById("map-0");
    res.parcels = document.querySelectorAll("svg.map [data-parcel-id]").length;
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
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute("title") === "area_ha") { col = i; }
    }
    var areaOf = function (tr) { return window.__data.cols.filter(function (c) {
      return c.name === "area_ha"; })[0].keys[+tr.getAttribute("data-i")]; };
    heads[col].click();
    res.firstAsc = areaOf(table.tBodies[0].rows[0]);
    heads[col].click();
    res.firstDesc = areaOf(table.tBodies[0].rows[0]);
    res.rows = table.tBodies[0].rows.length;
    res.statuses = Array.prototype.map.call(table.querySelectorAll("span.status"),
      function (s) { return s.textContent; });
    var link = table.tBodies[0].rows[0].querySelector("a");
    res.sheetLink = link ? document.querySelector(link.getAttribute("href")) !== null : false;
    res.sheets = document.querySelectorAll("section.sheet").length;
    var row = table.tBodies[0].rows[3];
    row.cells[1].click();
    res.highlighted = document.querySelectorAll("path.parcel.hl").length;
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


def _print_pdf(page: Path, out: Path) -> str:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    cmd = [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--no-pdf-header-footer",
        f"--print-to-pdf={out}",
        page.as_uri(),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return done.stderr


@pytest.fixture(scope="module")
def spanish_report(tmp_path_factory):
    get = agf.datasets.get_path
    a = agf.run_assessment(
        get("parcels"),
        cover=get("treecover"),
        loss=get("lossyear"),
        protected=get("protected_areas"),
        plots=get("plots"),
        trees=get("tree_inventory"),
    )
    return a, a.report(tmp_path_factory.mktemp("report") / "report.html", lang="es")


@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")
def test_spanish_report_in_headless_chromium(spanish_report, tmp_path):
    a, page = spanish_report
    parcels = a.parcels
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
    status = a.result.loc[parcels["parcel_id"] == res["hoveredId"], "status"].astype(str).iloc[0]
    words = {
        "deforestation_free": "libre de deforestación",
        "needs_review": "por revisar",
        "deforestation_detected": "deforestación detectada",
    }
    assert f"Parcela {res['hoveredId']}" in res["tip"] and status in res["tip"]
    assert words[status] in res["tip"]
    assert res["rows"] == len(parcels)
    # Spanish statuses in the table
    assert set(res["statuses"]) == {words[s] for s in a.result["status"].astype(str)}
    areas = pd.to_numeric(a.result["area_ha"])
    assert float(res["firstAsc"]) == pytest.approx(areas.min())
    assert float(res["firstDesc"]) == pytest.approx(areas.max())
    assert res["sheetLink"] is True and res["sheets"] == len(parcels)
    assert res["highlighted"] == 1


@pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (apt-get install chromium)")
def test_printing_the_report_prints_every_parcel(spanish_report, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    a, page = spanish_report
    out = tmp_path / "report.pdf"
    log = _print_pdf(page, out)
    assert out.exists(), log
    reader = pypdf.PdfReader(out)
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    ids = a.parcels["parcel_id"].astype(str)
    missing = [i for i in ids if i not in text]
    assert missing == []
    # one sheet per parcel, each on its own page(s)
    assert len(reader.pages) > len(ids)
    assert "libre de deforestación" in text and "Parcela P0001" in text

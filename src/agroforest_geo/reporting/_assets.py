"""Inline CSS and JavaScript of the HTML report (no external resources)."""

from __future__ import annotations

#: Colour of every status on the map, in the charts and the table.
STATUS_COLOURS: dict[str, str] = {
    "deforestation_free": "#1a9850",
    "needs_review": "#f39c12",
    "deforestation_detected": "#d73027",
    "invalid_geometry": "#762a83",
}

#: Content-Security-Policy of the report: nothing may be fetched, inline code only.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; font-src data:"
)

CSS = """
:root { --fg: #222; --muted: #666; --line: #ddd; --bg: #fff; --panel: #f6f7f8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; }
header { padding: 16px 24px; background: #1f3b2d; color: #fff; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: .85; }
nav { padding: 8px 24px; background: var(--panel); border-bottom: 1px solid var(--line); }
nav a { margin-right: 14px; color: #1f3b2d; text-decoration: none; }
main { padding: 8px 24px 40px; max-width: 1400px; }
section { margin: 22px 0; }
h2 { font-size: 18px; border-bottom: 2px solid #1f3b2d; padding-bottom: 4px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { padding: 10px 16px; border-radius: 6px; color: #fff; min-width: 170px; }
.card b { display: block; font-size: 26px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; }
.scroll { max-height: 520px; overflow: auto; border: 1px solid var(--line); }
.scroll table { margin: 0; }
.scroll thead th { position: sticky; top: 0; }
.status { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff;
          white-space: nowrap; }
.mapwrap { position: relative; border: 1px solid var(--line); background: #eef2ee; }
#map { width: 100%; height: 620px; display: block; cursor: grab; touch-action: none; }
#map.dragging { cursor: grabbing; }
#map path.parcel { stroke: #222; stroke-width: 1; vector-effect: non-scaling-stroke;
                   fill-opacity: .75; fill-rule: evenodd; }
#map path.parcel:hover, #map path.parcel.hl { stroke: #000; stroke-width: 3; fill-opacity: .95; }
#map path.protected { fill: #2c7fb8; fill-opacity: .18; stroke: #2c7fb8; stroke-width: 1.5;
                      vector-effect: non-scaling-stroke; fill-rule: evenodd; }
#map path.loss { fill: #b10026; fill-opacity: .85; stroke: none; }
#map path.overlap { fill: #c51b8a; fill-opacity: .9; stroke: #7a0177; stroke-width: 1.5;
                    vector-effect: non-scaling-stroke; }
#map path.encroach { fill: none; stroke: #08306b; stroke-width: 2.5; stroke-dasharray: 4 2;
                     vector-effect: non-scaling-stroke; }
.maptools { position: absolute; top: 8px; left: 8px; display: flex; gap: 4px; }
.maptools button { font-size: 16px; width: 30px; height: 30px; }
.legend { position: absolute; bottom: 8px; left: 8px; background: rgba(255,255,255,.9);
          padding: 6px 10px; border-radius: 4px; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
            vertical-align: -2px; border: 1px solid #333; }
.legend label { display: block; }
#tip { position: fixed; pointer-events: none; background: rgba(20,20,20,.92); color: #fff;
       padding: 6px 8px; border-radius: 4px; font-size: 12px; max-width: 420px; display: none;
       z-index: 10; white-space: pre-line; }
.chart text { font-size: 11px; fill: #333; }
.muted { color: var(--muted); }
code { background: var(--panel); padding: 0 3px; }
"""

JS = r"""
(function () {
  "use strict";
  var tip = document.getElementById("tip");
  function showTip(evt, text) {
    tip.textContent = text;
    tip.style.display = "block";
    var x = evt.clientX + 14, y = evt.clientY + 14;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth) { x = evt.clientX - w - 14; }
    if (y + h > window.innerHeight) { y = evt.clientY - h - 14; }
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.style.display = "none"; }
  function tipTarget(el) {
    while (el && el.getAttribute) {
      if (el.getAttribute("data-tip") !== null) { return el; }
      el = el.parentNode;
    }
    return null;
  }
  document.addEventListener("mousemove", function (evt) {
    var t = tipTarget(evt.target);
    if (t) { showTip(evt, t.getAttribute("data-tip")); } else { hideTip(); }
  });

  // ---- map: pan and zoom by changing the viewBox --------------------------------
  var svg = document.getElementById("map");
  if (svg) {
    var vb = svg.getAttribute("viewBox").split(/\s+/).map(Number);
    var home = vb.slice();
    var setVB = function () { svg.setAttribute("viewBox", vb.join(" ")); };
    var toSvg = function (evt) {
      var m = svg.getScreenCTM();
      if (!m) { return { x: vb[0] + vb[2] / 2, y: vb[1] + vb[3] / 2 }; }
      var p = svg.createSVGPoint();
      p.x = evt.clientX; p.y = evt.clientY;
      return p.matrixTransform(m.inverse());
    };
    var zoom = function (f, c) {
      vb[0] = c.x - (c.x - vb[0]) * f; vb[1] = c.y - (c.y - vb[1]) * f;
      vb[2] *= f; vb[3] *= f; setVB();
    };
    var centre = function () { return { x: vb[0] + vb[2] / 2, y: vb[1] + vb[3] / 2 }; };
    svg.addEventListener("wheel", function (evt) {
      evt.preventDefault();
      zoom(evt.deltaY < 0 ? 0.8 : 1.25, toSvg(evt));
    }, { passive: false });
    var drag = null;
    svg.addEventListener("mousedown", function (evt) {
      drag = toSvg(evt); svg.classList.add("dragging");
    });
    window.addEventListener("mousemove", function (evt) {
      if (!drag) { return; }
      var p = toSvg(evt);
      vb[0] -= p.x - drag.x; vb[1] -= p.y - drag.y; setVB();
    });
    window.addEventListener("mouseup", function () {
      drag = null; svg.classList.remove("dragging");
    });
    var btn = function (id, fn) {
      var b = document.getElementById(id);
      if (b) { b.addEventListener("click", fn); }
    };
    btn("zoom-in", function () { zoom(0.8, centre()); });
    btn("zoom-out", function () { zoom(1.25, centre()); });
    btn("zoom-reset", function () { vb = home.slice(); setVB(); });
    var toggles = document.querySelectorAll("input[data-layer]");
    Array.prototype.forEach.call(toggles, function (box) {
      box.addEventListener("change", function () {
        var g = document.getElementById(box.getAttribute("data-layer"));
        if (g) { g.style.display = box.checked ? "" : "none"; }
      });
    });
    // zoom to a parcel when its row in the table is clicked
    window.agfShowParcel = function (id) {
      var shapes = svg.querySelectorAll("path.parcel");
      var found = null;
      Array.prototype.forEach.call(shapes, function (s) {
        var hit = s.getAttribute("data-parcel-id") === id;
        s.classList.toggle("hl", hit);
        if (hit) { found = s; }
      });
      if (found && found.getBBox) {
        var b = found.getBBox();
        if (b.width > 0 || b.height > 0) {
          var pad = Math.max(b.width, b.height) * 3;
          vb = [b.x - pad, b.y - pad, b.width + 2 * pad, b.height + 2 * pad];
          setVB();
        }
      }
      return found !== null;
    };
  }

  // ---- sortable tables ---------------------------------------------------------
  var cellValue = function (row, i) {
    var c = row.cells[i];
    if (!c) { return ""; }
    var v = c.getAttribute("data-v");
    return v === null ? c.textContent.trim() : v;
  };
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, i) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, i), y = cellValue(b, i);
          var nx = parseFloat(x), ny = parseFloat(y);
          var cmp;
          if (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) { cmp = nx - ny; }
          else if (x === "" && y !== "") { cmp = 1; }
          else if (y === "" && x !== "") { cmp = -1; }
          else { cmp = x < y ? -1 : (x > y ? 1 : 0); }
          return asc ? cmp : -cmp;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var prows = document.querySelectorAll("tr[data-id]");
  Array.prototype.forEach.call(prows, function (tr) {
    tr.addEventListener("click", function () {
      if (window.agfShowParcel) {
        window.agfShowParcel(tr.getAttribute("data-id"));
        var m = document.getElementById("map-section");
        if (m && m.scrollIntoView) { m.scrollIntoView(); }
      }
    });
  });
  document.documentElement.setAttribute("data-report-ready", "1");
})();
"""

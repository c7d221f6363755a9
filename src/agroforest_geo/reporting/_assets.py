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
.card { padding: 10px 16px; border-radius: 6px; color: #fff !important; min-width: 170px; }
.card b { display: block; font-size: 26px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.reasons { min-width: 18em; max-width: 34em; }
td.reasons div { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
                 overflow: hidden; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; }
.scroll { max-height: 620px; overflow: auto; border: 1px solid var(--line); }
.scroll table { margin: 0; }
.scroll thead th { position: sticky; top: 0; }
.status { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff !important;
          white-space: nowrap; }
.mapwrap { position: relative; border: 1px solid var(--line); background: #eef2ee; }
svg.map { width: 100%; height: 620px; display: block; cursor: grab; touch-action: none; }
svg.map[hidden] { display: none; }
svg.map.dragging { cursor: grabbing; }
path.parcel { stroke: #222; stroke-width: 1; vector-effect: non-scaling-stroke;
              fill-opacity: .75; fill-rule: evenodd; }
path.parcel.tiny { stroke: currentColor; stroke-width: 7px; stroke-linecap: round;
                   stroke-linejoin: round; stroke-opacity: .9; }
path.parcel:hover, path.parcel.hl { stroke: #000; stroke-width: 3; fill-opacity: .95; }
path.parcel.tiny:hover, path.parcel.tiny.hl { stroke-width: 11px; }
path.protected { fill: #2c7fb8; fill-opacity: .18; stroke: #2c7fb8; stroke-width: 1.5;
                 vector-effect: non-scaling-stroke; fill-rule: evenodd; }
path.loss { fill: #b10026; fill-opacity: .85; stroke: none; }
path.overlap { fill: #c51b8a; fill-opacity: .9; stroke: #7a0177; stroke-width: 1.5;
               vector-effect: non-scaling-stroke; }
path.encroach { fill: none; stroke: #08306b; stroke-width: 2.5; stroke-dasharray: 4 2;
                vector-effect: non-scaling-stroke; }
path.neighbour { fill: #ddd; stroke: #888; stroke-width: 1; vector-effect: non-scaling-stroke; }
path.focus { stroke: #000; stroke-width: 2.5; vector-effect: non-scaling-stroke; }
.scalebar rect { fill: #222; }
.clusters { display: flex; flex-wrap: wrap; gap: 8px; margin: 6px 0; align-items: flex-start; }
.clusters > div { display: flex; flex-wrap: wrap; gap: 3px; max-width: 700px; }
svg.overview { background: #eef3f7; border: 1px solid var(--line); }
svg.overview .graticule { stroke: #c8d3dc; stroke-width: .4; fill: none; }
svg.overview .cluster-dot { fill: #1f3b2d; fill-opacity: .7; cursor: pointer; }
.clusters button.on { background: #1f3b2d; color: #fff; }
.maptools { position: absolute; top: 8px; left: 8px; display: flex; gap: 4px; }
.maptools button { font-size: 16px; width: 30px; height: 30px; }
.legend { position: absolute; bottom: 8px; left: 8px; background: rgba(255,255,255,.9);
          padding: 6px 10px; border-radius: 4px; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
            vertical-align: -2px; border: 1px solid #333; }
.legend i.k-protected { background: #2c7fb8; opacity: .4; }
.legend i.k-conflict { background: #c51b8a; }
.legend i.k-loss { background: #b10026; }
.legend label { display: block; }
#tip { position: fixed; pointer-events: none; background: rgba(20,20,20,.92); color: #fff;
       padding: 6px 8px; border-radius: 4px; font-size: 12px; max-width: 420px; display: none;
       z-index: 10; white-space: pre-line; }
#pager button { margin: 0 4px; }
.chart text, .bars text { font-size: 11px; fill: #333; }
.sheet { border-top: 1px solid var(--line); padding-top: 8px; }
.sheetgrid { display: flex; flex-wrap: wrap; gap: 18px; }
svg.minimap { background: #eef2ee; border: 1px solid var(--line); }
table.evidence th { background: none; font-weight: normal; color: var(--muted); }
.muted { color: var(--muted); }
code { background: var(--panel); padding: 0 3px; }
@media print {
  .noprint, nav, .maptools, #tip, #pager, .clusters { display: none !important; }
  body { font-size: 10px; }
  main { max-width: none; padding: 0; }
  .scroll { max-height: none; overflow: visible; border: none; }
  .scroll thead th { position: static; }
  td.reasons div { display: block; -webkit-line-clamp: none; overflow: visible; }
  svg.map { height: 16cm; }
  svg.map[hidden] { display: block; }
  tr { break-inside: avoid; }
  .sheet { break-before: page; border: none; }
  .sheetgrid { flex-wrap: nowrap; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("agf-data").textContent);
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
  function parcelTip(i) {
    var st = data.status[i];
    var lines = [data.parcel.replace("{id}", data.ids[i]),
                 data.heads.status + ": " + data.labels[st] + " (" + st + ")"];
    if (data.area[i]) { lines.push(data.area[i] + " ha"); }
    if (data.reasons[i]) { lines = lines.concat(data.reasons[i].split("; ")); }
    if (data.codes[i]) { lines.push("[" + data.codes[i] + "]"); }
    return lines.join("\n");
  }
  function tipText(el) {
    while (el && el.getAttribute) {
      var i = el.getAttribute("data-i");
      if (i !== null) { return parcelTip(+i); }
      var t = el.getAttribute("data-tip");
      if (t !== null) { return t; }
      el = el.parentNode;
    }
    return null;
  }
  document.addEventListener("mousemove", function (evt) {
    var t = tipText(evt.target);
    if (t) { showTip(evt, t); } else { hideTip(); }
  });

  // ---- maps: one per cluster, pan and zoom by changing the viewBox ----------------
  var maps = Array.prototype.slice.call(document.querySelectorAll("svg.map"));
  var state = maps.map(function (svg) {
    var vb = svg.getAttribute("viewBox").split(/\s+/).map(Number);
    return { svg: svg, vb: vb, home: vb.slice() };
  });
  var current = 0;
  function setVB(s) { s.svg.setAttribute("viewBox", s.vb.join(" ")); }
  function toSvg(s, evt) {
    var m = s.svg.getScreenCTM();
    if (!m) { return { x: s.vb[0] + s.vb[2] / 2, y: s.vb[1] + s.vb[3] / 2 }; }
    var p = s.svg.createSVGPoint();
    p.x = evt.clientX; p.y = evt.clientY;
    return p.matrixTransform(m.inverse());
  }
  function zoom(s, f, c) {
    s.vb[0] = c.x - (c.x - s.vb[0]) * f; s.vb[1] = c.y - (c.y - s.vb[1]) * f;
    s.vb[2] *= f; s.vb[3] *= f; setVB(s);
  }
  function centre(s) { return { x: s.vb[0] + s.vb[2] / 2, y: s.vb[1] + s.vb[3] / 2 }; }
  function showCluster(k) {
    current = k;
    state.forEach(function (s, j) { if (j === k) { s.svg.removeAttribute("hidden"); }
                                     else { s.svg.setAttribute("hidden", ""); } });
    Array.prototype.forEach.call(document.querySelectorAll("[data-show-cluster]"), function (b) {
      b.classList.toggle("on", +b.getAttribute("data-show-cluster") === k);
    });
  }
  window.agfShowCluster = showCluster;
  var drag = null;
  state.forEach(function (s) {
    s.svg.addEventListener("wheel", function (evt) {
      evt.preventDefault();
      zoom(s, evt.deltaY < 0 ? 0.8 : 1.25, toSvg(s, evt));
    }, { passive: false });
    s.svg.addEventListener("mousedown", function (evt) {
      drag = { s: s, p: toSvg(s, evt) }; s.svg.classList.add("dragging");
    });
  });
  window.addEventListener("mousemove", function (evt) {
    if (!drag) { return; }
    var p = toSvg(drag.s, evt);
    drag.s.vb[0] -= p.x - drag.p.x; drag.s.vb[1] -= p.y - drag.p.y; setVB(drag.s);
  });
  window.addEventListener("mouseup", function () {
    if (drag) { drag.s.svg.classList.remove("dragging"); }
    drag = null;
  });
  function btn(id, fn) {
    var b = document.getElementById(id);
    if (b) { b.addEventListener("click", fn); }
  }
  btn("zoom-in", function () { zoom(state[current], 0.8, centre(state[current])); });
  btn("zoom-out", function () { zoom(state[current], 1.25, centre(state[current])); });
  btn("zoom-reset", function () {
    var s = state[current]; s.vb = s.home.slice(); setVB(s);
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-show-cluster]"), function (b) {
    b.addEventListener("click", function () { showCluster(+b.getAttribute("data-show-cluster")); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("input[data-layer]"), function (box) {
    box.addEventListener("change", function () {
      var name = box.getAttribute("data-layer");
      Array.prototype.forEach.call(document.getElementsByClassName(name), function (g) {
        g.style.display = box.checked ? "" : "none";
      });
    });
  });
  var shapeOf = {};
  Array.prototype.forEach.call(document.querySelectorAll("svg.map path.parcel"), function (p) {
    shapeOf[p.getAttribute("data-i")] = p;
  });
  var lit = null;
  window.agfShowParcel = function (i) {
    var p = shapeOf[String(i)];
    if (lit) { lit.classList.remove("hl"); }
    lit = p || null;
    if (!p) { return false; }
    p.classList.add("hl");
    var svg = p.ownerSVGElement;
    var k = +svg.getAttribute("data-cluster");
    showCluster(k);
    var b = p.getBBox();
    var s = state[k];
    var side = Math.max(b.width, b.height, s.home[2] / 400) * 4;
    s.vb = [b.x + b.width / 2 - side / 2, b.y + b.height / 2 - side / 2, side, side];
    setVB(s);
    return true;
  };

  // ---- the per-parcel table, drawn from the data --------------------------------
  var table = document.getElementById("parcel-table");
  var n = data.ids.length;
  var order = []; for (var r = 0; r < n; r++) { order.push(r); }
  var page = 0, pageRows = n <= data.all_rows ? n : data.page_rows;
  function esc(t) {
    return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }
  var heads = [data.heads.id, data.heads.status, data.heads.reasons].concat(
    data.cols.map(function (c) { return c.label; }));
  var names = ["id", "status", "reasons"].concat(data.cols.map(function (c) { return c.name; }));
  function row(i) {
    var id = esc(data.ids[i]);
    var link = data.sheets ? '<a href="#sheet-' + i + '">' + id + "</a>" : id;
    var st = data.status[i];
    var cells = ["<td>" + link + "</td>",
      '<td data-v="' + st + '"><span class="status s-' + st + '" title="' + st + '">' +
        esc(data.labels[st]) + "</span></td>",
      '<td class="reasons" title="' + esc(data.codes[i]) + '"><div>' + esc(data.reasons[i]) +
        "</div></td>"];
    data.cols.forEach(function (c) {
      cells.push("<td" + (c.num ? ' class="num"' : "") + ">" + esc(c.text[i]) + "</td>");
    });
    return '<tr data-i="' + i + '" data-id="' + id + '">' + cells.join("") + "</tr>";
  }
  function drawTable(all) {
    var lo = all ? 0 : page * pageRows, hi = all ? n : Math.min(n, lo + pageRows);
    var html = [];
    for (var k = lo; k < hi; k++) { html.push(row(order[k])); }
    table.tBodies[0].innerHTML = html.join("");
    var pager = document.getElementById("pager");
    if (pager && n > pageRows) {
      pager.innerHTML = '<button data-p="-1">&lsaquo;</button>' +
        esc(data.shown.replace("{shown}", (lo + 1) + "-" + hi).replace("{n}", n)) +
        '<button data-p="1">&rsaquo;</button>';
    }
  }
  if (table) {
    table.innerHTML = "<thead><tr>" + heads.map(function (h, j) {
      return '<th title="' + esc(names[j]) + '">' + esc(h) + "</th>";
    }).join("") + "</tr></thead><tbody></tbody>";
    drawTable(false);
    var keyOf = function (j, i) {
      if (j === 0) { return data.ids[i]; }
      if (j === 1) { return data.status[i]; }
      if (j === 2) { return data.reasons[i]; }
      return data.cols[j - 3].keys[i];
    };
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, j) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
          h.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        order.sort(function (a, b) {
          var x = keyOf(j, a), y = keyOf(j, b);
          var cmp;
          if (x === null || x === "") { cmp = (y === null || y === "") ? 0 : 1; return cmp; }
          if (y === null || y === "") { return -1; }
          cmp = x < y ? -1 : (x > y ? 1 : 0);
          return asc ? cmp : -cmp;
        });
        page = 0; drawTable(false);
      });
    });
    table.addEventListener("click", function (evt) {
      if (evt.target.tagName === "A") { return; }
      var tr = evt.target.closest("tr[data-i]");
      if (tr && window.agfShowParcel(+tr.getAttribute("data-i"))) {
        var ms = document.getElementById("map-section");
        if (ms && ms.scrollIntoView) { ms.scrollIntoView(); }
      }
    });
    var pager = document.getElementById("pager");
    if (pager) {
      pager.addEventListener("click", function (evt) {
        var d = evt.target.getAttribute && evt.target.getAttribute("data-p");
        if (!d) { return; }
        var last = Math.floor((n - 1) / pageRows);
        page = Math.max(0, Math.min(last, page + (+d))); drawTable(false);
      });
    }
    window.addEventListener("beforeprint", function () { drawTable(true); });
    window.addEventListener("afterprint", function () { drawTable(false); });
  }
  document.documentElement.setAttribute("data-report-ready", "1");
})();
"""

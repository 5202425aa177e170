// The explorer page's script (autograd_np.viz.explore).  Every name in the graph is data:
// it is written with textContent or as an attribute value, never parsed as HTML.
(function () {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const byId = new Map(data.elements.map((e) => [e.id, e]));
  const moduleById = new Map(data.modules.map((m) => [m.id, m]));
  const $ = (id) => document.getElementById(id);
  const panel = $("panel");
  const users = new Map();  // element id -> ids of the elements computed from it
  for (const e of data.elements) {
    for (const i of e.inputs || []) {
      if (!users.has(i)) users.set(i, []);
      if (!users.get(i).includes(e.id)) users.get(i).push(e.id);
    }
  }
  const arrival = new Map();  // element id -> the slider value from which its gradient is complete
  data.steps.forEach((s, k) => s.done.forEach((id) => arrival.set(id, k + 1)));

  // ---- small DOM helpers: text only ----------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }
  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }
  function fmt(x) {
    if (x === null || x === undefined) return "-";
    if (typeof x === "string") return x;
    return String(Number(x.toPrecision(5)));
  }
  function shapeText(shape) {
    return shape.length ? "(" + shape.join(", ") + (shape.length === 1 ? ",)" : ")") : "scalar";
  }
  function label(e) {
    return e.name || (e.op ? "(" + e.op + ")" : e.kind === "param" ? "parameter" : "input");
  }
  function link(id, text) {
    const b = el("button", { type: "button", class: "link", "data-goto": id }, text);
    b.addEventListener("click", () => select(id, true));
    return b;
  }

  // ---- views: the pictures, with pan and zoom ----------------------------------------------
  const views = new Map();
  for (const div of document.querySelectorAll("#views > .view")) {
    const svg = div.querySelector("svg");
    const view = { key: div.dataset.view, div, svg, nodes: new Map(), clusters: new Map(), edges: [], paint: [] };
    for (const g of svg.querySelectorAll("g.node")) {
      const t = g.querySelector("title");
      if (t) { view.nodes.set(t.textContent, g); g.dataset.name = t.textContent; }
    }
    for (const g of svg.querySelectorAll("g.cluster")) {
      const t = g.querySelector("title");
      if (t && t.textContent.startsWith("cluster_")) {
        g.dataset.path = t.textContent.slice(8);
        view.clusters.set(g.dataset.path, g);
      }
    }
    for (const g of svg.querySelectorAll("g.edge")) {
      const t = g.querySelector("title");
      if (t) { const [a, b] = t.textContent.split("->"); view.edges.push({ g, a, b }); }
    }
    for (const t of svg.querySelectorAll("title")) t.remove();  // no tooltips of internal names
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    const box = (svg.getAttribute("viewBox") || "0 0 100 100").split(/[\s,]+/).map(Number);
    view.base = { x: box[0], y: box[1], w: box[2], h: box[3] };
    view.vb = Object.assign({}, view.base);
    views.set(view.key, view);
    preparePaint(view);
    panZoom(view);
  }
  let current = views.get("main") || null;

  function setBox(view) {
    const b = view.vb;
    view.svg.setAttribute("viewBox", [b.x, b.y, b.w, b.h].join(" "));
  }
  function toSvg(view, x, y) {
    const p = view.svg.createSVGPoint();
    p.x = x; p.y = y;
    return p.matrixTransform(view.svg.getScreenCTM().inverse());
  }
  function zoom(view, factor, cx, cy) {
    const r = view.svg.getBoundingClientRect();
    const p = toSvg(view, cx === undefined ? r.left + r.width / 2 : cx, cy === undefined ? r.top + r.height / 2 : cy);
    const b = view.vb;
    const w = Math.min(Math.max(b.w * factor, view.base.w / 200), view.base.w * 20);
    const f = w / b.w;
    view.vb = { x: p.x - (p.x - b.x) * f, y: p.y - (p.y - b.y) * f, w: b.w * f, h: b.h * f };
    setBox(view);
  }
  function panZoom(view) {
    let drag = null;
    view.div.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      zoom(view, Math.exp(ev.deltaY * 0.0015), ev.clientX, ev.clientY);
    }, { passive: false });
    view.div.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY, moved: false };
    });
    window.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      view.div.classList.add("dragging");
      const scale = view.svg.getScreenCTM().a;
      view.vb.x -= dx / scale; view.vb.y -= dy / scale;
      drag.x = ev.clientX; drag.y = ev.clientY;
      setBox(view);
    });
    window.addEventListener("pointerup", () => {
      view.div.classList.remove("dragging");
      setTimeout(() => { drag = null; }, 0);
    });
    view.svg.addEventListener("click", (ev) => {
      if (drag && drag.moved) return;
      const g = ev.target.closest("g.node, g.cluster");
      if (!g) return;
      if (g.classList.contains("cluster")) showCluster(g.dataset.path);
      else clickNode(view, g.dataset.name);
    });
    view.svg.addEventListener("dblclick", (ev) => {
      const g = ev.target.closest("g.cluster");
      if (g) toggleFold(view, g.dataset.path);
    });
  }
  function centerOn(view, g) {
    const r = g.getBoundingClientRect();
    const p = toSvg(view, r.left + r.width / 2, r.top + r.height / 2);
    view.vb.x = p.x - view.vb.w / 2; view.vb.y = p.y - view.vb.h / 2;
    setBox(view);
  }
  function show(key) {
    for (const v of views.values()) v.div.hidden = v.key !== key;
    current = views.get(key) || null;
    $("back").hidden = !current || key === "main";
    paint();
    markSearch();
  }

  // ---- which picture node shows an element --------------------------------------------------
  function elementOf(name) {  // t5 / op5 / t5u2 / t5x -> the element t5 (or a module m3)
    if (moduleById.has(name)) return name;
    const m = /^(?:t|op)(\d+)/.exec(name);
    return m ? "t" + m[1] : null;
  }
  function nodeOf(view, id) {
    if (!view) return null;
    const e = byId.get(id);
    return view.nodes.get(id) || (e && e.group ? view.nodes.get(e.group) : null) || null;
  }
  function clickNode(view, name) {
    const id = elementOf(name);
    if (!id) return;
    if (moduleById.has(id)) showModule(id);
    else select(id, false);
  }

  // ---- the panel ----------------------------------------------------------------------------
  let selected = null;
  function clearSelection() {
    for (const v of views.values()) v.svg.querySelectorAll(".selected").forEach((g) => g.classList.remove("selected"));
  }
  function select(id, center) {
    const e = byId.get(id);
    if (!e) return;
    selected = id;
    clearSelection();
    if (current && !nodeOf(current, id) && views.has("main") && nodeOf(views.get("main"), id)) show("main");
    const g = nodeOf(current, id);
    if (g) { g.classList.add("selected"); if (center) centerOn(current, g); }
    panel.replaceChildren(...elementPanel(e));
  }
  function row(name, value, cls) {
    const td = el("td", cls ? { class: cls } : {});
    td.append(value instanceof Node ? value : document.createTextNode(value));
    return el("tr", {}, el("th", {}, name), td);
  }
  function elementPanel(e) {
    const out = [el("h2", { "data-field": "title" }, label(e))];
    const t = el("table", {});
    t.append(row("op", e.op || (e.kind === "param" ? "leaf (parameter)" : "leaf (data)")));
    t.append(row("kind", e.kind));
    t.append(row("shape", shapeText(e.shape)));
    t.append(row("dtype", e.dtype));
    if (e.module.length) t.append(row("module", e.module.map((m) => m[1] ? m[0] + ": " + m[1] : m[0]).join("  >  ")));
    if (e.op) t.append(row("created at", e.where || "not recorded (build the graph inside ag.detect_anomaly() to record it)", "where"));
    if (e.rule) t.append(row("derivative", e.rule, "rule"));
    if (arrival.has(e.id)) t.append(row("backward", "gradient complete after step " + arrival.get(e.id) + " of " + data.steps.length));
    out.push(t);
    for (const m of e.marks || []) out.push(el("div", { class: "mark" }, m));
    out.push(...statsBlock("values", e.values, "values"));
    if (e.grad) out.push(...statsBlock("gradient" + (e.gradNorm !== undefined ? "  |grad| = " + fmt(e.gradNorm) : ""), e.grad, "grad"));
    else if (e.kind !== "data") out.push(el("p", { class: "note" }, "no gradient: " + (data.gradNote || "not computed")));
    const inputs = (e.inputs || []).filter((i) => byId.has(i));
    if (inputs.length) out.push(el("h3", {}, "inputs"), listOf(inputs));
    if (users.has(e.id)) out.push(el("h3", {}, "used by"), listOf(users.get(e.id)));
    return out;
  }
  function listOf(ids, limit) {
    const ul = el("ul", {});
    const max = limit || 300;
    for (const id of ids.slice(0, max)) {
      const e = byId.get(id);
      ul.append(el("li", {}, link(id, label(e)), " " + shapeText(e.shape) + " " + e.dtype));
    }
    if (ids.length > max) ul.append(el("li", {}, "... and " + (ids.length - max) + " more (search finds them)"));
    return ul;
  }
  function statsBlock(title, s, kind) {
    if (!s) return [el("h3", {}, title), el("p", { class: "note" }, "not kept (the graph released it)")];
    const t = el("table", { class: "stats" });
    const put = (name, key) => t.append(el("tr", {}, el("th", {}, name), el("td", { "data-stat": kind + "." + key }, fmt(s[key]))));
    put("min", "min"); put("max", "max"); put("mean", "mean"); put("std", "std");
    put("NaN", "nan"); put("inf", "inf"); put("size", "size");
    const first = s.first.map(fmt).join(", ") + (s.size > s.first.length ? ", ..." : "");
    t.append(el("tr", {}, el("th", {}, "first"), el("td", { "data-stat": kind + ".first" }, first)));
    const out = [el("h3", {}, title + (s.of !== "values" ? " (" + s.of + ")" : "")), t];
    if (s.hist) out.push(histogram(s.hist, kind));
    return out;
  }
  function histogram(h, kind) {
    const W = 340, H = 64, n = h.counts.length, top = Math.max(...h.counts, 1);
    const svg = svgEl("svg", { width: W, height: H + 14, class: "hist " + kind, "data-hist": kind });
    h.counts.forEach((c, i) => {
      const bh = c ? Math.max(1, (H * c) / top) : 0;
      const r = svgEl("rect", { class: "bar", x: (i * W) / n + 0.5, y: H - bh, width: Math.max(1, W / n - 1), height: bh });
      const tip = svgEl("title");
      tip.textContent = c + " values";
      r.append(tip);
      svg.append(r);
    });
    const lo = svgEl("text", { x: 0, y: H + 12 }); lo.textContent = fmt(h.lo);
    const hi = svgEl("text", { x: W, y: H + 12, "text-anchor": "end" }); hi.textContent = fmt(h.hi);
    svg.append(lo, hi);
    return svg;
  }
  function membersOfPath(path) {
    return data.elements.filter((e) => e.module.some((m) => m[0] === path)).map((e) => e.id);
  }
  function showCluster(path) {
    const members = membersOfPath(path);
    const kind = (data.elements.find((e) => e.module.some((m) => m[0] === path)) || { module: [] })
      .module.find((m) => m[0] === path);
    const folded = current && current.folded && current.folded.has(path);
    const b = el("button", { type: "button", "data-fold": path }, folded ? "unfold" : "fold");
    b.addEventListener("click", () => { toggleFold(current, path); showCluster(path); });
    panel.replaceChildren(el("h2", {}, path + (kind && kind[1] ? ": " + kind[1] : "")),
      el("p", {}, members.length + " elements in this module "), b, el("h3", {}, "elements"), listOf(members));
  }
  function showModule(id) {
    const m = moduleById.get(id);
    clearSelection();
    const g = current && current.nodes.get(id);
    if (g) g.classList.add("selected");
    const out = [el("h2", {}, m.path + (m.kind ? ": " + m.kind : "")), el("p", {}, m.members.length + " elements, drawn as one node")];
    if (m.view) {
      const b = el("button", { type: "button", "data-open": id }, "open inside");
      b.addEventListener("click", () => { show(id); fit(); });
      out.push(b);
    } else {
      out.push(el("p", { class: "note" }, "its inside is not drawn (the page's budget of drawn elements is spent): its elements are listed below"));
    }
    const outs = m.members.filter((i) => (users.get(i) || []).some((u) => !m.members.includes(u)));
    if (outs.length) out.push(el("h3", {}, "outputs"), listOf(outs));
    out.push(el("h3", {}, "elements"), listOf(m.members));
    panel.replaceChildren(...out);
  }
  function home() {
    const out = [el("h2", {}, data.title), el("p", { class: "note" },
      "Click a node for its values and gradient; drag to pan, wheel to zoom; double-click a module box to fold it.")];
    for (const n of data.notes) out.push(el("p", { class: n.startsWith("check_graph") || n.startsWith("AnomalyError") ? "mark" : "note" }, n));
    if (data.gradNote) out.push(el("p", { class: "note" }, data.gradNote));
    out.push(el("p", {}, data.elements.length + " elements, " + data.steps.length + " backward steps" + (data.collapsed ? "; modules collapsed" : "")));
    panel.replaceChildren(...out);
  }

  // ---- folding module boxes (a picture drawn with its modules expanded) -------------------
  function foldedRoot(view, id) {
    const e = byId.get(id);
    if (!e || !view.folded) return null;
    for (const m of e.module) if (view.folded.has(m[0])) return m[0];
    return null;
  }
  function clusterAncestors(path) {
    const e = data.elements.find((x) => x.module.some((m) => m[0] === path));
    if (!e) return [];
    const chain = e.module.map((m) => m[0]);
    return chain.slice(0, chain.indexOf(path));
  }
  function toggleFold(view, path) {
    if (!view || !view.clusters.has(path)) return;
    view.folded = view.folded || new Set();
    if (view.folded.has(path)) view.folded.delete(path); else view.folded.add(path);
    applyFolds(view);
  }
  function applyFolds(view) {
    const hiddenNode = new Map();
    for (const [name, g] of view.nodes) {
      const id = elementOf(name);
      const root = id ? foldedRoot(view, id) : null;
      hiddenNode.set(name, root);
    }
    for (const [name, g] of view.nodes) {  // a dashed copy goes with the op it feeds
      if (/^t\d+u\d+$/.test(name)) {
        const edge = view.edges.find((x) => x.a === name);
        hiddenNode.set(name, edge ? hiddenNode.get(edge.b) : null);
      }
      g.style.display = hiddenNode.get(name) ? "none" : "";
    }
    for (const x of view.edges) {
      const a = hiddenNode.get(x.a), b = hiddenNode.get(x.b);
      x.g.style.display = a && a === b ? "none" : "";
    }
    for (const [path, g] of view.clusters) {
      const folded = view.folded.has(path);
      const inside = clusterAncestors(path).some((p) => view.folded.has(p));
      g.style.display = inside ? "none" : "";
      g.classList.toggle("folded", folded);
      const old = g.querySelector("text.fold-note");
      if (old) old.remove();
      if (folded && !inside) {
        const shape = g.querySelector("path, polygon");
        const bb = shape.getBBox();
        const t = svgEl("text", { class: "fold-note", x: bb.x + bb.width / 2, y: bb.y + bb.height / 2, "text-anchor": "middle" });
        t.textContent = "folded: " + membersOfPath(path).length + " elements (double-click)";
        g.append(t);
      }
    }
  }
  function foldAll(fold) {
    if (!current) return;
    current.folded = new Set();
    if (fold) for (const path of current.clusters.keys()) if (!clusterAncestors(path).length) current.folded.add(path);
    applyFolds(current);
  }

  // ---- the backward slider ------------------------------------------------------------------
  function preparePaint(view) {
    for (const [name, g] of view.nodes) {
      if (!/^(t\d+|m\d+)$/.test(name)) continue;
      const shape = g.querySelector("polygon, path");
      if (!shape) continue;
      let at = Infinity, color = null;
      if (moduleById.has(name)) {
        for (const id of moduleById.get(name).members) {
          const a = arrival.get(id);
          if (a !== undefined && a < at) { at = a; color = byId.get(id).gradColor; }
        }
      } else if (arrival.has(name)) {
        at = arrival.get(name); color = byId.get(name).gradColor;
      }
      if (byId.has(name) && (byId.get(name).marks || []).length) g.classList.add("marked");
      if (at === Infinity) continue;
      view.paint.push({ g, shape, fill: shape.getAttribute("fill"), at, color: color || "#ffffff", name });
    }
  }
  function paint() {
    const v = Number($("slider").value);
    const now = v > 0 ? data.steps[v - 1].id : null;
    for (const view of views.values()) {
      for (const p of view.paint) {
        const done = p.at <= v;
        p.shape.setAttribute("fill", done ? p.color : p.fill);
        p.g.classList.toggle("arrived", done);
        const isNow = now !== null && (p.name === now || (moduleById.has(p.name) && moduleById.get(p.name).members.includes(now)));
        p.g.classList.toggle("current", isNow);
      }
    }
    stepText(v);
    drawNorms(v);
  }
  function stepText(v) {
    const text = $("step-text");
    if (!data.steps.length) { text.textContent = data.gradNote || "no backward pass"; return; }
    if (v === 0) { text.textContent = "before backward: move the slider to run it step by step (" + data.steps.length + " steps)"; return; }
    const s = data.steps[v - 1];
    const sent = s.sent.map((x) => x[1] + " |g| " + fmt(x[2])).join(", ");
    text.textContent = "step " + v + "/" + data.steps.length + ": " + s.op + " gets |g| = " + fmt(s.norm) + ", sends to " + sent;
  }
  function drawNorms(v) {
    const svg = $("norms");
    const n = data.steps.length;
    svg.replaceChildren();
    if (!n) return;
    const W = svg.getBoundingClientRect().width || 600, H = 44, pad = 4;
    const logs = data.steps.map((s) => typeof s.norm === "number" && s.norm > 0 ? Math.log10(s.norm) : null);
    const ok = logs.filter((x) => x !== null);
    const lo = ok.length ? Math.min(...ok) : 0, hi = ok.length ? Math.max(...ok) : 1, span = hi - lo || 1;
    const x = (k) => pad + (n === 1 ? 0 : (k * (W - 2 * pad)) / (n - 1));
    const y = (l) => H - pad - ((l - lo) / span) * (H - 2 * pad - 10);
    const pts = [];
    logs.forEach((l, k) => { if (l !== null) pts.push(x(k).toFixed(1) + "," + y(l).toFixed(1)); });
    svg.append(svgEl("polyline", { points: pts.join(" ") }));
    const cap = svgEl("text", { x: pad, y: 10 });
    cap.textContent = "log10 |upstream grad| per step: " + lo.toFixed(1) + " to " + hi.toFixed(1);
    svg.append(cap);
    if (v > 0 && logs[v - 1] !== null) svg.append(svgEl("circle", { cx: x(v - 1), cy: y(logs[v - 1]), r: 4 }));
  }

  // ---- search ---------------------------------------------------------------------------------
  let matches = [], matchAt = -1;
  function markSearch() {
    for (const v of views.values()) v.svg.querySelectorAll(".match").forEach((g) => g.classList.remove("match"));
    for (const id of matches) { const g = nodeOf(current, id); if (g) g.classList.add("match"); }
  }
  function search() {
    const q = $("search").value.trim().toLowerCase();
    matches = !q ? [] : data.elements.filter((e) => [e.name, e.op, e.id, ...e.module.map((m) => m[0])]
      .some((s) => s && String(s).toLowerCase().includes(q))).map((e) => e.id);
    matchAt = -1;
    $("search-count").textContent = q ? matches.length + " found" + (matches.length ? " (Enter: next)" : "") : "";
    markSearch();
  }

  // ---- the list shown where there is no picture ----------------------------------------------
  function listView() {
    const div = el("div", { class: "list" }, el("p", { class: "note" }, data.notes.join("\n")), listOf(data.elements.map((e) => e.id), 5000));
    $("views").append(div);
  }

  function fit() {
    if (!current) return;
    current.vb = Object.assign({}, current.base);
    setBox(current);
  }

  // ---- wiring ---------------------------------------------------------------------------------
  $("title").textContent = data.title;
  const slider = $("slider");
  slider.max = String(data.steps.length);
  slider.disabled = !data.steps.length;
  slider.addEventListener("input", paint);
  $("search").addEventListener("input", search);
  $("search").addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || !matches.length) return;
    matchAt = (matchAt + 1) % matches.length;
    select(matches[matchAt], true);
  });
  $("fit").addEventListener("click", fit);
  $("zoom-in").addEventListener("click", () => current && zoom(current, 1 / 1.4));
  $("zoom-out").addEventListener("click", () => current && zoom(current, 1.4));
  $("fold-all").addEventListener("click", () => foldAll(true));
  $("unfold-all").addEventListener("click", () => foldAll(false));
  $("back").addEventListener("click", () => { show("main"); home(); });
  const hasClusters = current && current.clusters.size > 0;
  $("fold-all").hidden = $("unfold-all").hidden = !hasClusters;
  const marked = data.elements.filter((e) => e.marks && e.marks.length).map((e) => e.id);
  if (marked.length || data.notes.some((n) => n.startsWith("AnomalyError"))) {
    const f = $("findings");
    f.hidden = false;
    f.textContent = marked.length + " marked node" + (marked.length === 1 ? "" : "s");
    let k = -1;
    f.addEventListener("click", () => { if (marked.length) { k = (k + 1) % marked.length; select(marked[k], true); } else home(); });
  }
  if (current) show("main"); else listView();
  home();
  window.addEventListener("resize", () => drawNorms(Number(slider.value)));
})();

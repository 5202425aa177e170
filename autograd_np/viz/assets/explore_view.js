// The explorer page's script, part 2 of 4: the pictures (pan, zoom, which node shows which
// element) and the folding of module boxes.

// ---- views: the pictures, with pan and zoom ----------------------------------------------
const views = new Map();
if (svgs) {  // a compressed page: its pictures come with the data (checked when written: drawing elements only)
  for (const [key, text] of Object.entries(svgs)) {
    const div = el("div", { class: "view", "data-view": key });
    div.hidden = true;
    div.innerHTML = text;
    $("views").append(div);
  }
}
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
  fit();
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

// ---- folding module boxes (a picture drawn with its modules expanded) -------------------
function foldedRoot(view, id) {
  const e = byId.get(id);
  if (!e || !view.folded) return null;
  for (const m of e.module) if (view.folded.has(m[0])) return m[0];
  return null;
}
function clusterAncestors(path) {
  return (chainOfPath.get(path) || []).slice(0, -1).map((m) => m[0]);
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

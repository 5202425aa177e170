// The explorer page's script, part 3 of 4: the panel (an element, a module, the graph).

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
  const td = el("td", Object.assign({ "data-field": name }, cls ? { class: cls } : {}));
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
  if (e.op && data.rules[e.op]) t.append(row("derivative", data.rules[e.op], "rule"));
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
  const put = (name, key) => {
    const v = key === "nan" || key === "inf" ? s[key] || 0 : s[key];  // zero counts are left out of the data
    t.append(el("tr", {}, el("th", {}, name), el("td", { "data-stat": kind + "." + key }, fmt(v))));
  };
  put("min", "min"); put("max", "max"); put("mean", "mean"); put("std", "std");
  put("NaN", "nan"); put("inf", "inf"); put("size", "size");
  if (s.first) {
    const first = s.first.map(fmt).join(", ") + (s.size > s.first.length ? ", ..." : "");
    t.append(el("tr", {}, el("th", {}, "first"), el("td", { "data-stat": kind + ".first" }, first)));
  }
  const out = [el("h3", {}, title + (s.of ? " (" + s.of + ")" : "")), t];
  if (s.hist) out.push(histogram(s.hist, kind));
  else if (s.first === undefined) out.push(el("p", { class: "note" }, "no histogram: the page's budget of histograms (max_histograms) is spent"));
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
  const chain = chainOfPath.get(path) || [];
  const kind = chain[chain.length - 1];
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
    b.addEventListener("click", () => show(id));
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

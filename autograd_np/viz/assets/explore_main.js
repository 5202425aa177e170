// The explorer page's script, part 4 of 4: the backward slider, search, and the wiring.

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
  const sent = s.sent.map((x) => label(byId.get(x[0])) + " |g| " + fmt(x[1])).join(", ");
  text.textContent = "step " + v + "/" + data.steps.length + ": " + byId.get(s.id).op + " gets |g| = " + fmt(s.norm) + ", sends to " + sent;
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

function fit() {  // the whole picture, centred, magnified 1.5 times at most (a small graph stays readable)
  if (!current) return;
  const r = current.div.getBoundingClientRect(), b = current.base;
  const s = Math.min(r.width / b.w, r.height / b.h, 1.5);
  current.vb = s > 0 ? { x: b.x + (b.w - r.width / s) / 2, y: b.y + (b.h - r.height / s) / 2, w: r.width / s, h: r.height / s }
    : Object.assign({}, b);
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

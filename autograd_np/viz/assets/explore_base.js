// The explorer page's script (autograd_np.viz.explore), part 1 of 4: the data and small helpers.
// The page joins the parts, in order, inside one async function.  Every name in the graph is
// data: it is written with textContent or as an attribute value, never parsed as HTML.

// The page's data: JSON in a script element, or, for a big page, the data and the pictures
// gzipped and base64-encoded ({data, svgs}), opened here without any request.
async function load() {
  const node = document.getElementById("graph-data");
  if (node.type === "application/json") return { data: JSON.parse(node.textContent), svgs: null };
  const bytes = Uint8Array.from(atob(node.textContent.trim()), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

const SVGNS = "http://www.w3.org/2000/svg";
const { data, svgs } = await load();
for (const e of data.elements) e.module = data.chains[e.chain || 0];  // [[path, kind], ...], outermost first
const byId = new Map(data.elements.map((e) => [e.id, e]));
const chainOfPath = new Map();  // module path -> its chain
for (const c of data.chains) c.forEach((m, i) => { if (!chainOfPath.has(m[0])) chainOfPath.set(m[0], c.slice(0, i + 1)); });
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

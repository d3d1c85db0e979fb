// Builds DOM nodes from data. Text always goes in as text nodes, never as HTML, so titles,
// log lines and article bodies from the API can't inject markup into the page.

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && !key.includes("-")) node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

export const $ = (selector, root = document) => root.querySelector(selector);

const STAGE_WORDS = { to: "→" };

// "keywords_to_clusters" reads as "Keywords → clusters".
export function stageLabel(name) {
  const words = name.split("_").map((w) => STAGE_WORDS[w] ?? w);
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

export const number = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : "—");

const STAMPED = /^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)[.\d]*Z (.*)$/s;

// A log line starts with its event's full ISO time; the time of day is enough to read it by.
export function logLine(line) {
  const stamped = STAMPED.exec(line);
  if (!stamped) return h("li", { text: line });
  return h("li", { title: line.slice(0, line.indexOf(" ")) }, h("time", { text: stamped[1] }), " ", stamped[2]);
}

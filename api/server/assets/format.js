// Formatting and the page's small widgets: hub time, numbers, money, bars, tables.

// Times are shown as the hub reads its clocks: Europe/Luxembourg, whatever the screen's zone.
export const HUB_TIME = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Luxembourg", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
export const hubTime = (iso) => HUB_TIME.format(new Date(iso));
export const STAGES = ["application", "screening", "pre_incubation", "incubation", "acceleration", "graduated"];
export const ENDED = ["rejected", "withdrawn", "exited"];
export const BUILDINGS = { kesselbetrib: "Kesselbetrib", schraeinerei: "Schräinerei", zilleschapp: "Zilleschapp" };


// ---- small helpers -------------------------------------------------------------------

export const $ = (id) => document.getElementById(id);
/** An element with attributes (`on*` handlers, `dataset`) and children. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
export const human = (s) => String(s).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
export const int = new Intl.NumberFormat("en-GB");
export const one = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1 });
export const pct = (r) => (r === null || r === undefined ? "–" : `${one.format(r * 100)} %`);
export function money(amounts) {
  if (!amounts || amounts.length === 0) return "€0";
  return amounts
    .map((a) => new Intl.NumberFormat("en-GB", { style: "currency", currency: a.currency, maximumFractionDigits: 0 }).format(a.cents / 100))
    .join(" + ");
}
export const iso = (d) => d.toISOString().slice(0, 10);
export function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return iso(d);
}
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}
export const listHref = (kind, params) => `#/list/${kind}${query(params)}`;

/** A figure: a big number and its label, a link to its list when `href` is given. */
export function figure(name, value, label, href) {
  const body = [h("span", { class: "value", dataset: { figure: name } }, value), h("span", { class: "label" }, label)];
  return h("li", {}, href ? h("a", { class: "figure", href }, ...body) : h("div", { class: "figure" }, ...body));
}
/** Horizontal bars: [{name, label, value, shown, href, tone}] scaled to the largest. */
export function bars(items, caption) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return h(
    "ul",
    { class: "bars", "aria-label": caption },
    items.map((i) => {
      const inner = [
        h("span", { class: "name" }, i.label),
        h("span", { class: "track", "aria-hidden": "true" }, h("span", { class: `fill ${i.tone || ""}`, style: `width:${(100 * i.value) / max}%;display:block` })),
        h("span", { class: "num", dataset: i.name ? { figure: i.name } : {} }, i.shown !== undefined ? i.shown : int.format(i.value)),
      ];
      return h("li", {}, i.href ? h("a", { href: i.href }, ...inner) : h("span", { class: "row" }, ...inner));
    }),
  );
}
/** Vertical columns: [{label, value, shown, href, name}], labels underneath. */
export function columns(items, caption) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return h(
    "div",
    { role: "group", "aria-label": caption },
    h(
      "ul",
      { class: "columns" },
      items.map((i) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: i.href, "aria-label": `${i.label}: ${i.shown}` },
            h("span", { class: "num", dataset: i.name ? { figure: i.name } : {} }, i.shown),
            h("span", { class: "col", style: `height:${(100 * i.value) / max}%` }),
          ),
        ),
      ),
    ),
    h("ul", { class: "col-labels", "aria-hidden": "true" }, items.map((i) => h("li", {}, i.short || i.label))),
  );
}
export function table(head, rows, cls) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: cls || "" },
      h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col", class: c.n ? "n" : "" }, c.label || c)))),
      h("tbody", {}, rows),
    ),
  );
}

/** Today in the hub's time zone. */
export const hubToday = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Luxembourg" }).format(new Date());

/** The end of an id, to tell records apart without their names. */
export const short = (id) => (id ? `…${String(id).slice(-8)}` : "–");

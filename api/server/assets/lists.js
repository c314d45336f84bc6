// The list behind a figure, page by page.

import { hubTime, BUILDINGS, $, h, human, one, money, query, table, short } from "./format.js";
import { API, token, SignedOut, api } from "./api.js";

export const LISTS = {
  startups: {
    title: "Startups",
    path: "/funding/startups",
    cols: [
      ["Name", (s) => s.name],
      ["Cohort", (s) => s.cohort || "–"],
      ["Stage", (s) => human(s.stage)],
      ["Since", (s) => s.stage_entered_on],
      ["Funding stage", (s) => human(s.funding_stage)],
      ["Equity raised", (s) => money(s.equity_raised)],
      ["Awarded", (s) => money(s.funding_awarded)],
      ["Received", (s) => money(s.funding_received)],
    ],
  },
  mentors: {
    title: "Mentors",
    path: "/mentorship/mentors",
    cols: [
      ["Mentor", (m) => short(m.mentor_id)],
      ["Status", (m) => human(m.status)],
      ["Load", (m) => m.load],
      ["Mentees", (m) => m.mentees.map((x) => x.name || short(x.id)).join(", ") || "–"],
      ["Sessions", (m) => m.total.sessions],
      ["Hours", (m) => one.format(m.total.hours)],
    ],
  },
  mentees: {
    title: "Startups and residents",
    path: "/mentorship/mentees",
    cols: [
      ["Name", (m) => m.name || short(m.id)],
      ["Kind", (m) => human(m.kind)],
      ["Stage", (m) => human(m.stage)],
      ["Mentors", (m) => m.mentors.length],
      ["Hours", (m) => one.format(m.total.hours)],
    ],
  },
  spaces: {
    title: "Spaces",
    path: "/space-usage/spaces",
    cols: [
      ["Name", (s) => s.name],
      ["Building", (s) => BUILDINGS[s.building] || s.building],
      ["Kind", (s) => human(s.kind)],
      ["m²", (s) => s.area_m2],
      ["Occupants now", (s) => s.occupants.map((o) => o.occupant.name || short(o.occupant.id)).join(", ") || "vacant"],
    ],
  },
  vacancies: {
    title: "Vacancies",
    path: "/space-usage/vacancies",
    cols: [
      ["Name", (s) => s.name],
      ["Building", (s) => BUILDINGS[s.building] || s.building],
      ["Kind", (s) => human(s.kind)],
      ["m²", (s) => s.area_m2],
      ["Free from", (s) => s.free_from],
      ["Free places", (s) => s.free_places],
    ],
  },
  bookings: {
    title: "Room bookings",
    path: "/space-usage/bookings",
    cols: [
      ["Room", (b) => b.space_name],
      ["Building", (b) => BUILDINGS[b.building] || b.building],
      ["Booked by", (b) => b.booked_by.name || short(b.booked_by.id)],
      ["Day", (b) => b.on],
      ["From (hub time)", (b) => hubTime(b.starts_at)],
      ["To (hub time)", (b) => hubTime(b.ends_at)],
      ["Minutes", (b) => b.minutes],
    ],
  },
  collaborations: {
    title: "Collaborations",
    path: "/portfolio/collaborations",
    cols: [
      ["Title", (c) => c.title],
      ["Stage", (c) => human(c.stage)],
      ["Proposed", (c) => c.proposed_on],
      ["Disciplines", (c) => Object.keys(c.disciplines).join(", ")],
      ["Partners", (c) => Object.entries(c.partners_by_scope).map(([s, n]) => `${n} ${s}`).join(", ") || "–"],
      ["Milestones done / due", (c) => `${c.milestones_done} / ${c.milestones_due}`],
      ["Outputs", (c) => Object.entries(c.outputs).map(([k, n]) => `${n} ${k}`).join(", ") || "–"],
    ],
  },
};

let listState = null;
export async function showList(kind, params) {
  const spec = LISTS[kind];
  if (!spec) return showBoard();
  $("board").hidden = true;
  $("list").hidden = false;
  const filters = Object.entries(params).map(([k, v]) => `${k.replace(/_/g, " ")} ${v}`).join(", ");
  $("list-h").textContent = spec.title + (filters ? ` (${filters})` : "");
  $("list-src").textContent = `GET ${API}${spec.path}${query(params)}`;
  const tableEl = $("list-table");
  tableEl.replaceChildren(h("thead", {}, h("tr", {}, spec.cols.map(([c]) => h("th", { scope: "col" }, c)))), h("tbody", {}));
  listState = { spec, params, after: null };
  $("list-h").focus();
  await moreRows();
}
export async function moreRows() {
  const s = listState;
  const more = $("list-more");
  try {
    const page = await api(s.spec.path + query({ ...s.params, limit: 100, after: s.after }));
    const tbody = $("list-table").tBodies[0];
    for (const item of page.items) tbody.append(h("tr", {}, s.spec.cols.map(([, f]) => h("td", {}, f(item)))));
    if (!tbody.rows.length) tbody.append(h("tr", {}, h("td", { colspan: s.spec.cols.length }, "Nothing to list.")));
    s.after = page.next;
    more.hidden = !page.next;
  } catch (e) {
    if (e instanceof SignedOut) throw e;
    $("list-table").tBodies[0].append(h("tr", {}, h("td", { class: "problem", colspan: s.spec.cols.length }, `Cannot load: ${e.message}`)));
  }
}

/** Shows the board, hiding the list. */
export function showBoard() {
  $("list").hidden = true;
  $("board").hidden = false;
}

// The four panels over the read models, and their re-rendering.

import { STAGES, ENDED, BUILDINGS, $, h, human, int, one, pct, money, iso, addDays, query, listHref, figure, bars, columns, table, hubToday, short } from "./format.js";
import { token, SignedOut, api, all } from "./api.js";

export const ui = {
  cohort: "",
  from: null,
  to: null,
  weekFrom: null,
  weekBuilding: "",
};

export const panels = {
  funding: { model: "funding", position: 0, render: renderFunding },
  mentorship: { model: "mentorship", position: 0, render: renderMentorship },
  space: { model: "space_usage", position: 0, render: renderSpace },
  collaborations: { model: "collaborations", position: 0, render: renderCollaborations },
};

export async function renderFunding(p) {
  const [pipeline, cohorts] = await Promise.all([
    api(`/funding/pipeline${query({ cohort: ui.cohort, min_position: p.want })}`),
    api(`/funding/cohorts${query({ min_position: p.want })}`),
  ]);
  const select = $("cohort");
  const known = [...select.options].map((o) => o.value);
  for (const c of cohorts.cohorts) if (!known.includes(c.cohort)) select.append(h("option", { value: c.cohort }, c.cohort));
  const stage = (s) => (pipeline.stages.find((x) => x.stage === s) || { startups: 0 }).startups;
  const cohort = ui.cohort || undefined;
  const body = [
    h(
      "ul",
      { class: "figures" },
      figure("funding.startups", int.format(pipeline.startups), "startups", listHref("startups", { cohort })),
      figure("funding.equity_raised", money(pipeline.equity_raised), "equity raised", listHref("startups", { cohort })),
      figure("funding.funding_awarded", money(pipeline.funding_awarded), "grants and loans awarded", listHref("startups", { cohort })),
      figure("funding.funding_received", money(pipeline.funding_received), "grants and loans received", listHref("startups", { cohort })),
    ),
    h("h3", {}, "Startups per stage"),
    bars(
      STAGES.map((s) => ({ name: `funding.stage.${s}`, label: human(s), value: stage(s), href: listHref("startups", { stage: s, cohort }) })).concat(
        ENDED.map((s) => ({ name: `funding.stage.${s}`, label: human(s), value: stage(s), href: listHref("startups", { stage: s, cohort }), tone: "alt" })),
      ),
      "Startups per stage",
    ),
    h("h3", {}, "Conversion between stages"),
    bars(
      pipeline.conversion.map((c) => ({
        name: `funding.conversion.${c.from}`,
        label: `${human(c.from)} → ${human(c.to)}`,
        value: c.rate || 0,
        shown: pct(c.rate),
        href: listHref("startups", { stage: c.to, cohort }),
        tone: "ok",
      })),
      "Share of startups that reached each stage and went on to the next",
    ),
    h("h3", {}, "Time in stage (days)"),
    table(
      ["Stage", { label: "Left it", n: 1 }, { label: "Average", n: 1 }, { label: "Median", n: 1 }, { label: "In it now", n: 1 }, { label: "Their average", n: 1 }],
      pipeline.time_in_stage.map((t) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, h("a", { href: listHref("startups", { stage: t.stage, cohort }) }, human(t.stage))),
          h("td", { class: "n" }, int.format(t.completed)),
          h("td", { class: "n", dataset: { figure: `funding.time.${t.stage}` } }, t.average_days === null ? "–" : one.format(t.average_days)),
          h("td", { class: "n" }, t.median_days === null ? "–" : one.format(t.median_days)),
          h("td", { class: "n" }, int.format(t.current)),
          h("td", { class: "n" }, t.current_average_days === null ? "–" : one.format(t.current_average_days)),
        ),
      ),
    ),
    h("h3", {}, "Per cohort"),
    table(
      ["Cohort", { label: "Startups", n: 1 }, { label: "In incubation or later", n: 1 }, { label: "Equity raised", n: 1 }, { label: "Awarded", n: 1 }, { label: "Received", n: 1 }],
      cohorts.cohorts.map((c) => {
        const later = c.stages.filter((s) => ["incubation", "acceleration", "graduated"].includes(s.stage)).reduce((a, s) => a + s.startups, 0);
        return h(
          "tr",
          {},
          h("th", { scope: "row" }, h("a", { href: listHref("startups", { cohort: c.cohort }) }, c.cohort)),
          h("td", { class: "n", dataset: { figure: `funding.cohort.${c.cohort}.startups` } }, int.format(c.startups)),
          h("td", { class: "n" }, int.format(later)),
          h("td", { class: "n" }, money(c.equity_raised)),
          h("td", { class: "n" }, money(c.funding_awarded)),
          h("td", { class: "n" }, money(c.funding_received)),
        );
      }),
    ),
  ];
  return { position: pipeline.position, body };
}

export async function renderMentorship(p) {
  const [mentors, orphans] = await Promise.all([
    all("/mentorship/mentors", { min_position: p.want }),
    all("/mentorship/mentees", { without_mentor: true, min_position: p.want }),
  ]);
  const today = hubToday();
  const thisMonth = today.slice(0, 7);
  const months = [];
  for (let i = 11; i >= 0; i--) {
    const d = new Date(`${thisMonth}-01T00:00:00Z`);
    d.setUTCMonth(d.getUTCMonth() - i);
    months.push(iso(d).slice(0, 7));
  }
  const hours = Object.fromEntries(months.map((m) => [m, 0]));
  let yearHours = 0;
  const year = today.slice(0, 4);
  for (const m of mentors.items) {
    for (const [month, t] of Object.entries(m.per_month)) if (month in hours) hours[month] += t.minutes / 60;
    if (m.per_year[year]) yearHours += m.per_year[year].minutes / 60;
  }
  const active = mentors.items.filter((m) => m.status === "active");
  const loads = {};
  for (const m of active) {
    const k = m.load >= 5 ? "5+" : String(m.load);
    loads[k] = (loads[k] || 0) + 1;
  }
  const top = [...active].sort((a, b) => b.load - a.load || b.total.minutes - a.total.minutes).slice(0, 8);
  const monthEnd = (m) => {
    const d = new Date(`${m}-01T00:00:00Z`);
    d.setUTCMonth(d.getUTCMonth() + 1);
    d.setUTCDate(0);
    return iso(d);
  };
  const body = [
    h(
      "ul",
      { class: "figures" },
      figure("mentorship.active", int.format(active.length), "active mentors", listHref("mentors", {})),
      figure("mentorship.without_mentor", int.format(orphans.items.length), "in the programme without a mentor", listHref("mentees", { without_mentor: true })),
      figure("mentorship.hours_month", one.format(hours[thisMonth] || 0), `hours in ${thisMonth}`, listHref("mentors", { from: `${thisMonth}-01`, to: monthEnd(thisMonth) })),
      figure("mentorship.hours_year", one.format(yearHours), `hours in ${year}`, listHref("mentors", { from: `${year}-01-01`, to: `${year}-12-31` })),
    ),
    h("h3", {}, "Hours of mentoring per month"),
    columns(
      months.map((m) => ({
        label: m,
        short: m.slice(5),
        value: hours[m],
        shown: one.format(hours[m]),
        name: `mentorship.month.${m}`,
        href: listHref("mentors", { from: `${m}-01`, to: monthEnd(m) }),
      })),
      "Hours of mentoring per month, the last twelve months",
    ),
    h("h3", {}, "Load: active mentors by number of mentees"),
    bars(
      ["0", "1", "2", "3", "4", "5+"].map((k) => ({ name: `mentorship.load.${k}`, label: `${k} mentee${k === "1" ? "" : "s"}`, value: loads[k] || 0, href: listHref("mentors", {}) })),
      "Active mentors by number of mentees",
    ),
    h("h3", {}, "Most loaded mentors"),
    table(
      ["Mentor", { label: "Mentees", n: 1 }, { label: "Sessions", n: 1 }, { label: "Hours", n: 1 }],
      top.map((m) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, h("a", { href: listHref("mentors", { mentor: m.mentor_id }) }, m.name || `Mentor ${m.mentor_id.slice(-8)}`)),
          h("td", { class: "n" }, int.format(m.load)),
          h("td", { class: "n" }, int.format(m.total.sessions)),
          h("td", { class: "n" }, one.format(m.total.hours)),
        ),
      ),
    ),
  ];
  return { position: mentors.position, body };
}

export async function renderSpace(p) {
  const from = ui.from;
  const to = ui.to;
  const [use, vacancies, week] = await Promise.all([
    api(`/space-usage/utilisation${query({ from, to, min_position: p.want })}`),
    api(`/space-usage/vacancies${query({ limit: 1, min_position: p.want })}`),
    api(`/space-usage/week${query({ from: ui.weekFrom, building: ui.weekBuilding, min_position: p.want })}`),
  ]);
  ui.weekFrom = week.from;
  const buildings = Object.entries(use.buildings);
  const body = [
    h(
      "ul",
      { class: "figures" },
      figure("space.occupancy", pct(use.total.occupancy), `occupancy ${use.from} – ${use.to}`, listHref("spaces", {})),
      figure("space.booking_rate", pct(use.total.booking_rate), "room hours booked", listHref("bookings", { from: use.from, to: use.to })),
      figure("space.vacant_now", int.format(vacancies.vacant_now), `vacant now (${int.format(vacancies.vacant_m2_now)} m²)`, listHref("vacancies", {})),
      figure("space.upcoming", int.format(vacancies.upcoming), `freeing up by ${vacancies.until}`, listHref("vacancies", {})),
    ),
    h("h3", {}, "Occupancy per building (m²·days let over m²·days available)"),
    bars(
      buildings.map(([b, u]) => ({ name: `space.occupancy.${b}`, label: BUILDINGS[b] || b, value: u.occupancy || 0, shown: pct(u.occupancy), href: listHref("spaces", { building: b }) })),
      "Occupancy per building",
    ),
    h("h3", {}, "Rooms: hours booked over hours open"),
    bars(
      buildings
        .filter(([, u]) => u.rooms > 0)
        .map(([b, u]) => ({ name: `space.booking_rate.${b}`, label: BUILDINGS[b] || b, value: u.booking_rate || 0, shown: pct(u.booking_rate), href: listHref("bookings", { building: b, from: use.from, to: use.to }), tone: "alt" })),
      "Room booking rate per building",
    ),
    h("h3", { id: "week-h" }, `Room bookings, week of ${week.from}`),
    weekView(week),
  ];
  return { position: use.position, body };
}

export function weekView(week) {
  const days = week.rooms.length ? week.rooms[0].days.map((d) => d.on) : [];
  const names = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", timeZone: "UTC" });
  const nav = h(
    "div",
    { class: "week-nav" },
    h("button", { type: "button", onclick: () => moveWeek(-7) }, "← Previous week"),
    h("button", { type: "button", onclick: () => moveWeek(7) }, "Next week →"),
    h(
      "label",
      { class: "inline" },
      "Building ",
      h(
        "select",
        { id: "week-building", onchange: (e) => { ui.weekBuilding = e.target.value; refresh("space"); } },
        h("option", { value: "" }, "All"),
        Object.entries(BUILDINGS).map(([k, v]) => h("option", { value: k, selected: ui.weekBuilding === k }, v)),
      ),
    ),
    h("span", { class: "legend" }, "Cell: hours booked; darker is fuller. “let”: allocated all day. Hatched: closed."),
  );
  if (!week.rooms.length) return h("div", {}, nav, h("p", { class: "note" }, "No rooms booked by the hour here."));
  const rows = week.rooms.map((r) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, r.name, h("span", { class: "legend" }, ` ${BUILDINGS[r.building] || r.building}`)),
      r.days.map((d) => {
        if (d.open_minutes === 0) return h("td", { class: "cell heat-closed" }, h("span", { "aria-label": "closed" }, ""));
        if (d.let_whole_day) return h("td", { class: "cell heat-4" }, h("a", { href: listHref("spaces", { building: r.building }), "aria-label": `${r.name}, ${d.on}: let for the whole day`, dataset: { figure: `space.week.${r.space_id}.${d.on}` } }, "let"));
        const share = d.booked_minutes / d.open_minutes;
        const heat = d.booked_minutes === 0 ? 0 : Math.min(4, 1 + Math.floor(share * 4));
        const hours = one.format(d.booked_minutes / 60);
        return h(
          "td",
          { class: `cell heat-${heat}` },
          h("a", { href: listHref("bookings", { space: r.space_id, from: d.on, to: d.on }), "aria-label": `${r.name}, ${d.on}: ${d.bookings} bookings, ${hours} of ${one.format(d.open_minutes / 60)} hours`, dataset: { figure: `space.week.${r.space_id}.${d.on}` } }, d.bookings ? `${hours}h` : "·"),
        );
      }),
    ),
  );
  return h("div", {}, nav, table(["Room"].concat(days.map((d) => ({ label: names.format(new Date(`${d}T00:00:00Z`)) }))), rows, "week"));
}
export function moveWeek(n) {
  ui.weekFrom = addDays(ui.weekFrom, n);
  refresh("space");
}

export async function renderCollaborations(p) {
  const [summary, active] = await Promise.all([
    api(`/portfolio/summary${query({ min_position: p.want })}`),
    all("/portfolio/collaborations", { when: "active", min_position: p.want }),
  ]);
  const stages = summary.stages;
  const entries = (o) => Object.entries(o || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const body = [
    h(
      "ul",
      { class: "figures" },
      figure("collaborations.active", int.format((stages.active || 0) + (stages.proposed || 0)), "active or proposed", listHref("collaborations", { when: "active" })),
      figure("collaborations.past", int.format((stages.concluded || 0) + (stages.abandoned || 0)), "concluded or abandoned", listHref("collaborations", { when: "past" })),
      figure("collaborations.milestones_due", int.format(summary.milestones_due), "milestones due", listHref("collaborations", { when: "active" })),
      figure("collaborations.milestones_done", int.format(summary.milestones_done), "milestones done", listHref("collaborations", {})),
    ),
    h("h3", {}, "Participants by discipline"),
    bars(entries(summary.disciplines).map(([d, n]) => ({ name: `collaborations.discipline.${d}`, label: d, value: n, href: listHref("collaborations", {}) })), "Participants by discipline"),
    h("h3", {}, "Partners by scope"),
    bars(
      ["local", "national", "european"].map((s) => ({ name: `collaborations.scope.${s}`, label: human(s), value: (summary.partners_by_scope || {})[s] || 0, href: listHref("collaborations", {}), tone: "alt" })),
      "Partners by scope",
    ),
    h("h3", {}, "Active collaborations"),
    active.items.length
      ? table(
          ["Title", "Stage", "Disciplines", "Partners", { label: "Milestones done / due", n: 1 }],
          active.items.map((c) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, c.title),
              h("td", {}, human(c.stage)),
              h("td", {}, Object.keys(c.disciplines).join(", ")),
              h("td", {}, entries(c.partners_by_scope).map(([s, n]) => `${n} ${s}`).join(", ") || "–"),
              h("td", { class: "n" }, `${c.milestones_done} / ${c.milestones_due}`),
            ),
          ),
        )
      : h("p", { class: "note" }, "None active."),
  ];
  return { position: summary.position, body };
}

// ---- refreshing --------------------------------------------------------------------------

/** Re-renders a panel; a refresh asked for while one runs runs once after it. */
export async function refresh(name, want) {
  const p = panels[name];
  if (want) p.want = Math.max(p.want || 0, want);
  if (p.running) {
    p.again = true;
    return p.running;
  }
  const section = $(name);
  p.running = (async () => {
    do {
      p.again = false;
      section.setAttribute("aria-busy", "true");
      try {
        const { position, body } = await p.render(p);
        p.position = Math.max(p.position, position);
        section.querySelector(".body").replaceChildren(...body);
        section.dataset.position = String(p.position);
      } catch (e) {
        if (e instanceof SignedOut) throw e;
        section.querySelector(".body").replaceChildren(h("p", { class: "problem", role: "alert" }, `Cannot load: ${e.message}`));
      } finally {
        section.setAttribute("aria-busy", "false");
      }
    } while (p.again);
  })();
  try {
    await p.running;
  } finally {
    p.running = null;
  }
}

export function showPositions() {
  $("positions").textContent = "Read-model positions: " + Object.entries(panels).map(([, p]) => `${p.model} ${p.position}`).join(" · ");
}

// The hub at a glance: four panels over the read models, refreshed when the projector moves
// them (server-sent events from /api/v1/live), and a list view behind every figure.
// Plain DOM, no framework, nothing fetched but this service's own API.
"use strict";

(() => {
  const API = "/api/v1";
  const KEY = "incubator.token";
  // Times are shown as the hub reads its clocks: Europe/Luxembourg, whatever the screen's zone.
const HUB_TIME = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Luxembourg", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const hubTime = (iso) => HUB_TIME.format(new Date(iso));
const STAGES = ["application", "screening", "pre_incubation", "incubation", "acceleration", "graduated"];
  const ENDED = ["rejected", "withdrawn", "exited"];
  const BUILDINGS = { kesselbetrib: "Kesselbetrib", schraeinerei: "Schräinerei", zilleschapp: "Zilleschapp" };

  // ---- small helpers -------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);
  /** An element with attributes (`on*` handlers, `dataset`) and children. */
  function h(tag, attrs, ...children) {
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
  const human = (s) => String(s).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  const int = new Intl.NumberFormat("en-GB");
  const one = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1 });
  const pct = (r) => (r === null || r === undefined ? "–" : `${one.format(r * 100)} %`);
  function money(amounts) {
    if (!amounts || amounts.length === 0) return "€0";
    return amounts
      .map((a) => new Intl.NumberFormat("en-GB", { style: "currency", currency: a.currency, maximumFractionDigits: 0 }).format(a.cents / 100))
      .join(" + ");
  }
  const iso = (d) => d.toISOString().slice(0, 10);
  function addDays(day, n) {
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    return iso(d);
  }
  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    const s = q.toString();
    return s ? `?${s}` : "";
  }
  const listHref = (kind, params) => `#/list/${kind}${query(params)}`;

  /** A figure: a big number and its label, a link to its list when `href` is given. */
  function figure(name, value, label, href) {
    const body = [h("span", { class: "value", dataset: { figure: name } }, value), h("span", { class: "label" }, label)];
    return h("li", {}, href ? h("a", { class: "figure", href }, ...body) : h("div", { class: "figure" }, ...body));
  }
  /** Horizontal bars: [{name, label, value, shown, href, tone}] scaled to the largest. */
  function bars(items, caption) {
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
  function columns(items, caption) {
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
  function table(head, rows, cls) {
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

  // ---- the token and the API -------------------------------------------------------------

  const token = () => sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
  class SignedOut extends Error {}

  async function api(path) {
    const t = token();
    if (!t) throw new SignedOut("no token");
    const r = await fetch(API + path, { headers: { Authorization: `Bearer ${t}`, Accept: "application/json" } });
    if (r.status === 401) throw new SignedOut("token refused");
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || body.title || `HTTP ${r.status}`);
    return body;
  }
  /** Every page of a paged list (`items`, `next`), up to `max` items. */
  async function all(path, params, max = 5000) {
    let items = [];
    let after = null;
    let first = null;
    do {
      const page = await api(path + query({ ...params, limit: 500, after }));
      first = first || page;
      items = items.concat(page.items);
      after = page.next;
    } while (after && items.length < max);
    return { ...first, items };
  }

  // ---- panels ----------------------------------------------------------------------------

  /** Today in the hub's time zone. */
  const hubToday = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Luxembourg" }).format(new Date());
  const ui = {
    cohort: "",
    from: null,
    to: null,
    weekFrom: null,
    weekBuilding: "",
  };

  const panels = {
    funding: { model: "funding", position: 0, render: renderFunding },
    mentorship: { model: "mentorship", position: 0, render: renderMentorship },
    space: { model: "space_usage", position: 0, render: renderSpace },
    collaborations: { model: "collaborations", position: 0, render: renderCollaborations },
  };

  async function renderFunding(p) {
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

  async function renderMentorship(p) {
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

  async function renderSpace(p) {
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

  function weekView(week) {
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
  function moveWeek(n) {
    ui.weekFrom = addDays(ui.weekFrom, n);
    refresh("space");
  }

  async function renderCollaborations(p) {
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
  async function refresh(name, want) {
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

  function showPositions() {
    $("positions").textContent = "Read-model positions: " + Object.entries(panels).map(([, p]) => `${p.model} ${p.position}`).join(" · ");
  }

  /** Follows /api/v1/live (read with fetch: EventSource cannot send a bearer token) until a
   *  newer follower replaces it (after signing out and in again). */
  let following = 0;
  async function live(me) {
    let delay = 500;
    while (me === following) {
      const status = $("live");
      try {
        const r = await fetch(`${API}/live`, { headers: { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" } });
        if (r.status === 401) throw new SignedOut("token refused");
        if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
        status.textContent = "Live";
        status.classList.add("on");
        delay = 500;
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          if (me !== following) return reader.cancel();
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
            if (/^event:\s*positions/m.test(block) && data) onPositions(JSON.parse(data).models);
          }
        }
      } catch (e) {
        if (e instanceof SignedOut) return signOut("Your token was refused; sign in again.");
      }
      if (!token() || me !== following) return;
      status.textContent = "Reconnecting…";
      status.classList.remove("on");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  }

  function onPositions(models) {
    for (const [name, p] of Object.entries(panels)) {
      const at = models[p.model];
      if (at !== undefined && at > p.position) {
        refresh(name, at).then(showPositions, (e) => {
          if (e instanceof SignedOut && token()) signOut("Your token was refused; sign in again.");
        });
      }
    }
    document.body.dataset.livePositions = JSON.stringify(models);
  }

  // ---- the list behind a figure ------------------------------------------------------------

  const short = (id) => (id ? `…${String(id).slice(-8)}` : "–");
  const LISTS = {
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
  async function showList(kind, params) {
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
  async function moreRows() {
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
      if (e instanceof SignedOut) return signOut("Your token was refused; sign in again.");
      $("list-table").tBodies[0].append(h("tr", {}, h("td", { class: "problem", colspan: s.spec.cols.length }, `Cannot load: ${e.message}`)));
    }
  }

  // ---- signing in and routing --------------------------------------------------------------

  function signOut(message) {
    started = false;
    following += 1;
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
    document.body.dataset.state = "signed-out";
    $("board").hidden = true;
    $("list").hidden = true;
    $("signout").hidden = true;
    $("who").textContent = "";
    $("live").textContent = "Signed out";
    $("live").classList.remove("on");
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    $("token").focus();
  }

  function showBoard() {
    $("list").hidden = true;
    $("board").hidden = false;
  }

  function route() {
    if (!token()) return;
    const m = location.hash.match(/^#\/list\/([a-z_]+)(?:\?(.*))?$/);
    if (m) showList(m[1], Object.fromEntries(new URLSearchParams(m[2] || "")));
    else showBoard();
  }

  let started = false;
  async function start() {
    try {
      const who = await api("/session");
      $("who").textContent = `Signed in as ${who.name} (${who.role})`;
    } catch (e) {
      return signOut(e instanceof SignedOut ? (token() ? "That token was refused." : "") : `Cannot reach the service: ${e.message}`);
    }
    $("signin").hidden = true;
    $("signout").hidden = false;
    route();
    if (started) return;
    started = true;
    const loaded = Promise.all(Object.keys(panels).map((n) => refresh(n)));
    following += 1;
    live(following);
    try {
      await loaded;
    } catch (e) {
      return signOut("Your token was refused; sign in again.");
    }
    showPositions();
    performance.mark("dashboard-ready");
    document.body.dataset.readyMs = String(Math.round(performance.now()));
    document.body.dataset.state = "ready";
  }

  document.addEventListener("DOMContentLoaded", () => {
    const [first, last] = (() => {
      const t = hubToday();
      const d = new Date(`${t.slice(0, 7)}-01T00:00:00Z`);
      d.setUTCMonth(d.getUTCMonth() + 1);
      d.setUTCDate(0);
      return [`${t.slice(0, 7)}-01`, iso(d)];
    })();
    ui.from = first;
    ui.to = last;
    $("period-from").value = first;
    $("period-to").value = last;
    $("period").addEventListener("submit", (e) => {
      e.preventDefault();
      if ($("period-to").value < $("period-from").value) {
        $("period-to").setCustomValidity("The period ends before it starts");
        $("period-to").reportValidity();
        return;
      }
      $("period-to").setCustomValidity("");
      ui.from = $("period-from").value;
      ui.to = $("period-to").value;
      refresh("space");
    });
    $("cohort").addEventListener("change", (e) => {
      ui.cohort = e.target.value;
      refresh("funding");
    });
    $("signin-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const t = $("token").value.trim();
      $("token").value = "";
      (($("remember").checked) ? localStorage : sessionStorage).setItem(KEY, t);
      start();
    });
    $("signout").addEventListener("click", () => {
      signOut("");
      location.reload();
    });
    $("list-more").addEventListener("click", moreRows);
    window.addEventListener("hashchange", route);
    if (token()) start();
    else signOut("");
  });
})();

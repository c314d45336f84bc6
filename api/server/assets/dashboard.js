// The hub at a glance: four panels over the read models, refreshed when the projector moves
// them (server-sent events from /api/v1/live), and a list view behind every figure.
// Plain DOM, no framework, no build step: ES modules served by the binary, nothing fetched
// but this service's own API.

import { $, iso, hubToday } from "./format.js";
import { API, KEY, token, SignedOut, api } from "./api.js";
import { ui, panels, refresh, showPositions } from "./panels.js";
import { showList, moreRows, showBoard } from "./lists.js";

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

// ---- signing in and routing --------------------------------------------------------------

/** A list's page refused the token: back to signing in. */
function refused(e) {
  if (e instanceof SignedOut) signOut("Your token was refused; sign in again.");
}

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


function route() {
  if (!token()) return;
  const m = location.hash.match(/^#\/list\/([a-z_]+)(?:\?(.*))?$/);
  if (m) showList(m[1], Object.fromEntries(new URLSearchParams(m[2] || ""))).catch(refused);
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
  $("list-more").addEventListener("click", () => moreRows().catch(refused));
  window.addEventListener("hashchange", route);
  if (token()) start();
  else signOut("");
});

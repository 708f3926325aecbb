// The supervisor page: live wallboard per queue and agent, threshold alerts, live conversations
// (watch, whisper, move), forcing an agent's state, and the historical reports.
import { api, duration, el, notify, openStream, requireLogin, signOut } from "./common/omnidesk.js";
import { alertsFor, chime, loadThresholds, saveThreshold } from "./supervisor/alerts.js";
import { Monitor } from "./supervisor/monitor.js";
import { reportsView } from "./supervisor/reports.js";

const STATES = ["available", "break", "lunch", "training", "after_call_work", "missed", "offline"];
const OPEN = ["queued", "offered", "connected", "on_hold", "wrap_up"];
const RELEVANT = /^(interaction|offer|agent|queue)\./;
const THROTTLE_MS = 250;
const SAFETY_REFRESH_MS = 15000;

const state = {
  queues: [], agents: [], snapshot: null, fetchedAt: 0, conversations: [],
  customers: new Map(), alerting: new Set(),
};
const names = () => ({
  queues: new Map(state.queues.map((q) => [q.id, q.name])),
  agents: new Map(state.agents.map((a) => [a.id, a.name])),
});
const label = (text) => text.replace(/_/g, " ");
const pct = (value) => (value === null || value === undefined ? "–" : `${Math.round(value)} %`);
const elapsed = () => (Date.now() - state.fetchedAt) / 1000;

let cards, agentRows, agentBody, conversationBody, thresholdBody, monitor;

function layout(root, session) {
  const status = el("span", { class: "live-status", role: "status" }, "connecting");
  const wallboard = el("div", { id: "wallboard", class: "sup-main" });
  const reports = el("div", { id: "reports", class: "sup-main", hidden: true });
  const views = { wallboard, reports };
  let report = null;
  const navButton = (name, text) => el("button", {
    type: "button", "aria-pressed": String(name === "wallboard"), dataset: { view: name },
    onclick: (event) => {
      for (const [key, view] of Object.entries(views)) view.hidden = key !== name;
      for (const button of event.target.parentElement.children) {
        button.setAttribute("aria-pressed", String(button === event.target));
      }
      if (name === "reports") { report = report || reportsView(reports); report.show(); }
    } }, text);
  root.replaceChildren(
    el("header", { class: "topbar" }, el("h1", {}, "omnidesk supervisor"),
      el("nav", { class: "sup-nav", "aria-label": "Views" },
        navButton("wallboard", "Wallboard"), navButton("reports", "Reports")),
      el("span", { class: "spacer" }), status,
      el("span", {}, session.user.name || session.user.email),
      el("button", { type: "button", onclick: signOut }, "Sign out")),
    wallboard, reports);

  cards = el("div", { class: "queue-cards", id: "queue-cards" });
  agentBody = el("tbody");
  agentRows = new Map();
  conversationBody = el("tbody");
  thresholdBody = el("tbody");
  const monitorPanel = el("section", { class: "monitor", "aria-labelledby": "monitor-title" });
  monitor = new Monitor(monitorPanel, names);
  wallboard.append(
    el("section", { "aria-labelledby": "queues-title" }, el("h2", { id: "queues-title" }, "Queues"), cards),
    el("div", { class: "sup-columns" },
      el("section", { "aria-labelledby": "agents-title" }, el("h2", { id: "agents-title" }, "Agents"),
        el("table", {}, el("thead", {}, el("tr", {},
          el("th", { scope: "col" }, "Agent"), el("th", { scope: "col" }, "State"),
          el("th", { scope: "col", class: "num" }, "In state"),
          el("th", { scope: "col", class: "num" }, "Contacts now"),
          el("th", { scope: "col", class: "num" }, "Handled today"),
          el("th", { scope: "col", class: "num" }, "Occupancy"),
          el("th", { scope: "col" }, "Force state"))), agentBody)),
      el("div", {},
        el("section", { "aria-labelledby": "conversations-title" },
          el("h2", { id: "conversations-title" }, "Live conversations"),
          el("table", {}, el("thead", {}, el("tr", {},
            el("th", { scope: "col" }, "Customer"), el("th", { scope: "col" }, "Channel"),
            el("th", { scope: "col" }, "State"), el("th", { scope: "col" }, "Queue"),
            el("th", { scope: "col" }, "Agent"), el("th", { scope: "col", class: "num" }, "For"),
            el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Actions")))),
            conversationBody)),
        monitorPanel)),
    el("details", { class: "thresholds" }, el("summary", {}, "Alert thresholds (this browser)"),
      el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Queue"),
        el("th", { scope: "col" }, "Longest wait alert (seconds)"),
        el("th", { scope: "col" }, "Service level below goal"))), thresholdBody)));
  return status;
}

// ---------------------------------------------------------------- queues

function queueCard(queue) {
  const view = state.snapshot?.queues?.[queue.id] || {};
  const waiting = view.waiting || 0;
  const byState = Object.entries(view.agents_by_state || {});
  const goal = view.service_level_goal_pct ?? queue.service_level_goal_pct;
  const now30 = view.service_level_30min_pct;
  const id = `queue-${queue.id}`;
  const row = (term, value, attributes = {}) => [el("dt", {}, term), el("dd", attributes, value)];
  return el("article", { class: "queue-card", "aria-labelledby": id,
                         dataset: { queueId: queue.id, queueName: queue.name } },
    el("h3", { id }, queue.name, el("span", { class: "muted" }, queue.channel)),
    el("dl", {},
      row("Waiting", String(waiting), { class: "big", dataset: { field: "waiting" } }),
      row("Longest wait", duration(view.longest_wait_s || 0), {
        dataset: { field: "longest-wait", tick: waiting > 0 ? String(view.longest_wait_s || 0) : "" } }),
      row(`Service level now (${queue.service_level_seconds} s)`, `${pct(now30)} / goal ${Math.round(goal)} %`, {
        class: now30 === null || now30 === undefined ? "" : (now30 >= goal ? "good" : "bad"),
        dataset: { field: "service-level" } }),
      row("Service level today", pct(view.service_level_today_pct), { dataset: { field: "service-level-today" } }),
      row("ASA today", view.asa_today_s === null || view.asa_today_s === undefined ? "–" : duration(view.asa_today_s),
          { dataset: { field: "asa" } }),
      row("Abandoned today", `${view.abandoned_today || 0} (${pct(view.abandonment_rate_today_pct)})`,
          { dataset: { field: "abandoned" } }),
      row("Offered · handled", `${view.offered_today || 0} · ${view.handled_today || 0}`,
          { dataset: { field: "offered-handled" } }),
      row("Estimated wait", view.estimated_wait_s === null || view.estimated_wait_s === undefined
        ? "–" : duration(view.estimated_wait_s), { dataset: { field: "ewt" } }),
      el("dd", { class: "states", dataset: { field: "agents-by-state" } },
        byState.length ? byState.map(([s, n]) => `${label(s)} ${n}`).join(" · ") : "no agents logged in")),
    el("p", { class: "alert-text", role: "alert", dataset: { field: "alerts" } }));
}

function renderQueues() {
  cards.replaceChildren(...state.queues.map(queueCard));
  if (!state.queues.length) cards.append(el("p", {}, "No queues yet: create one on the admin page."));
  checkAlerts();
}

function checkAlerts() {
  const thresholds = loadThresholds();
  for (const card of cards.querySelectorAll(".queue-card")) {
    const queueId = card.dataset.queueId;
    const view = state.snapshot?.queues?.[queueId];
    const longest = view && view.waiting > 0 ? view.longest_wait_s + elapsed() : 0;
    const reasons = alertsFor(view, thresholds[queueId], longest);
    const text = card.querySelector("[data-field=alerts]");
    const joined = reasons.join("; ");
    if (text.textContent !== joined) text.textContent = joined;
    card.classList.toggle("alert", reasons.length > 0);
    card.dataset.alert = String(reasons.length > 0);
    if (reasons.length && !state.alerting.has(queueId)) chime();
    if (reasons.length) state.alerting.add(queueId); else state.alerting.delete(queueId);
  }
}

function renderThresholds() {
  const thresholds = loadThresholds();
  thresholdBody.replaceChildren(...state.queues.map((queue) => {
    const current = thresholds[queue.id] || { max_wait_s: null, sl_below_goal: false };
    const wait = el("input", { type: "number", min: 1, id: `threshold-wait-${queue.id}`,
                               value: current.max_wait_s ?? "" });
    const level = el("input", { type: "checkbox", id: `threshold-sl-${queue.id}`,
                                checked: current.sl_below_goal });
    const save = () => {
      saveThreshold(queue.id, { max_wait_s: wait.value === "" ? null : Number(wait.value),
                                sl_below_goal: level.checked });
      checkAlerts();
    };
    wait.addEventListener("change", save);
    level.addEventListener("change", save);
    return el("tr", {}, el("th", { scope: "row" }, queue.name),
      el("td", {}, el("label", { for: wait.id, class: "visually-hidden" },
        `Longest wait alert in seconds for ${queue.name}`), wait),
      el("td", {}, el("label", { for: level.id }, level, ` alert ${queue.name} below its goal`)));
  }));
}

// ---------------------------------------------------------------- agents

function agentRow(agent) {
  const select = el("select", { id: `force-${agent.id}`, "aria-label": `State of ${agent.name}` },
    STATES.map((s) => el("option", { value: s }, label(s))));
  select.addEventListener("change", async () => {
    try {
      await api(`agents/${agent.id}/state`, { method: "PUT", body: { state: select.value, reason: "supervisor" } });
      notify(`${agent.name}: ${label(select.value)}`);
    } catch (error) { notify(error.message, "error"); }
  });
  const cells = {
    state: el("span", { class: "state-pill" }), since: el("td", { class: "num" }),
    contacts: el("td", { class: "num" }), handled: el("td", { class: "num" }),
    occupancy: el("td", { class: "num" }), select,
  };
  const row = el("tr", { dataset: { agentId: agent.id, agentName: agent.name } },
    el("th", { scope: "row" }, agent.name), el("td", { dataset: { field: "state" } }, cells.state),
    cells.since, cells.contacts, cells.handled, cells.occupancy, el("td", {}, select));
  cells.since.dataset.field = "time-in-state";
  cells.contacts.dataset.field = "contacts";
  cells.handled.dataset.field = "handled";
  cells.occupancy.dataset.field = "occupancy";
  return { row, cells };
}

function renderAgents() {
  const seen = new Set();
  for (const agent of state.agents) {
    seen.add(agent.id);
    let entry = agentRows.get(agent.id);
    if (!entry) { entry = agentRow(agent); agentRows.set(agent.id, entry); }
    agentBody.append(entry.row);
    const view = state.snapshot?.agents?.[agent.id];
    const current = view?.state || agent.state;
    entry.cells.state.textContent = label(current);
    entry.cells.state.className = `state-pill ${current}`;
    entry.cells.since.dataset.tick = String(view ? view.time_in_state_s : 0);
    entry.cells.since.textContent = duration(view ? view.time_in_state_s : 0);
    entry.cells.contacts.textContent = String(view?.contacts_now ?? 0);
    entry.cells.handled.textContent = String(view?.handled ?? 0);
    entry.cells.occupancy.textContent = pct(view?.occupancy_pct);
    if (document.activeElement !== entry.cells.select) entry.cells.select.value = current;
  }
  for (const [id, entry] of agentRows) if (!seen.has(id)) { entry.row.remove(); agentRows.delete(id); }
}

// ---------------------------------------------------------------- conversations

async function customerName(id) {
  if (!state.customers.has(id)) {
    state.customers.set(id, api(`customers/${id}`).then((c) => c.display_name || "unnamed")
      .catch(() => "unknown"));
  }
  return state.customers.get(id);
}

function renderConversations() {
  const { queues, agents } = names();
  conversationBody.replaceChildren(...state.conversations.map((item) => {
    const since = item.state === "queued" || item.state === "offered" ? item.queued_at
      : (item.connected_at || item.created_at);
    const seconds = since ? (state.serverNow - Date.parse(since)) / 1000 : 0;
    const who = el("td", {}, "…");
    customerName(item.customer_id).then((name) => { who.textContent = name; });
    return el("tr", { dataset: { interactionId: item.id, state: item.state } },
      who, el("td", {}, item.channel), el("td", {}, label(item.state)),
      el("td", {}, queues.get(item.queue_id) || "–"), el("td", {}, agents.get(item.agent_id) || "–"),
      el("td", { class: "num", dataset: { tick: String(seconds) } }, duration(seconds)),
      el("td", {}, el("button", { type: "button", "aria-label": `Watch conversation ${item.id.slice(0, 8)}`,
        onclick: () => monitor.open(item.id).catch((error) => notify(error.message, "error")) }, "Watch")));
  }));
  if (!state.conversations.length) {
    conversationBody.append(el("tr", {}, el("td", { colspan: 7 }, "No open conversations.")));
  }
}

// ---------------------------------------------------------------- data

async function loadConfiguration() {
  [state.queues, state.agents] = await Promise.all([api("queues"), api("agents")]);
  renderThresholds();
}

function showSnapshot(snapshot) {
  state.snapshot = snapshot;
  state.fetchedAt = Date.now();
  state.serverNow = Date.parse(snapshot.at);
  renderQueues();
  renderAgents();
  renderConversations();
  document.body.dataset.refreshedAt = snapshot.at;
}

async function refreshConversations() {
  const lists = await Promise.all(OPEN.map((s) => api(`interactions?state=${s}&limit=200`)));
  state.conversations = lists.flat().sort((a, b) => OPEN.indexOf(a.state) - OPEN.indexOf(b.state)
    || Date.parse(a.created_at) - Date.parse(b.created_at));
  renderConversations();
}

let pending = null, again = false, lastRun = 0;
/** Reload the live conversations at most once per THROTTLE_MS; an event that comes while a
 * reload is waiting or running schedules one more after it, so the last event is always
 * seen. (The figures themselves arrive pushed on the stream.) */
function scheduleRefresh() {
  if (pending) { again = true; return; }
  again = false;
  const wait = Math.max(0, lastRun + THROTTLE_MS - Date.now());
  pending = setTimeout(async () => {
    lastRun = Date.now();
    try { await refreshConversations(); } catch (error) { notify(error.message, "error"); }
    pending = null;
    if (again) scheduleRefresh();
  }, wait);
}

function tick() {
  const offset = elapsed();
  for (const node of document.querySelectorAll("#wallboard [data-tick]")) {
    if (node.dataset.tick === "") continue;
    node.textContent = duration(Number(node.dataset.tick) + offset);
  }
  checkAlerts();
}

requireLogin(document.getElementById("app"), "supervisor", async (session) => {
  if (!["admin", "supervisor"].includes(session.user.role)) {
    document.getElementById("app").replaceChildren(el("p", { class: "error", role: "alert" },
      "The wallboard is for supervisors and admins."), el("button", { onclick: signOut }, "Sign out"));
    return;
  }
  const status = layout(document.getElementById("app"), session);
  await loadConfiguration();
  showSnapshot(await api("realtime"));
  await refreshConversations();
  openStream(async (event) => {
    if (event.type.startsWith("queue.") || event.type.startsWith("agent.created")
        || event.type.startsWith("agent.updated")) {
      await loadConfiguration();
    }
    if (RELEVANT.test(event.type)) scheduleRefresh();
    monitor.onEvent(event).catch((error) => notify(error.message, "error"));
  }, {
    onStatus: (s) => { status.textContent = s; status.className = `live-status ${s}`; },
    onRealtime: showSnapshot,
  });
  setInterval(tick, 1000);
  setInterval(scheduleRefresh, SAFETY_REFRESH_MS);
});

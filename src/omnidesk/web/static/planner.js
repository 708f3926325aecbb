// The workforce planner: Erlang C / A staffing for one interval, and the staffing plan of a
// queue from its forecast. Everything is computed by the server (/api/v1/wfm/...).
import { api, el, requireLogin, signOut } from "./common/omnidesk.js";

const app = document.getElementById("app");

function field(form, name, label, attributes) {
  const id = `${form}-${name}`;
  return [el("label", { for: id }, label), el("input", { id, name, ...attributes })];
}

function numbers(form) {
  const body = {};
  for (const [name, value] of new FormData(form)) {
    if (value === "") continue;
    body[name] = /^-?[0-9.]+$/.test(value) ? Number(value) : value;
  }
  return body;
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)} %`;
}

function seconds(value) {
  return value === null || value === undefined ? "–" : `${value.toFixed(1)} s`;
}

function showError(output, error) {
  const where = error.field ? ` (${error.field})` : "";
  output.replaceChildren(el("p", { class: "error", role: "alert" }, error.message + where));
}

function erlangSection() {
  const output = el("div", { class: "results", "aria-live": "polite", tabindex: 0 });
  const form = el("form", { "aria-label": "Erlang staffing inputs" },
    ...field("erlang", "calls", "Contacts per period", { type: "number", min: 0, step: "any",
                                                         required: true, value: 100 }),
    ...field("erlang", "period_s", "Period (s)", { type: "number", min: 1, value: 1800 }),
    ...field("erlang", "aht_s", "Average handle time (s)", { type: "number", min: 1,
                                                             step: "any", required: true,
                                                             value: 180 }),
    ...field("erlang", "service_level_pct", "Service level goal (%)",
             { type: "number", min: 1, max: 99, step: "any", value: 80 }),
    ...field("erlang", "service_level_s", "… answered within (s)", { type: "number", min: 0,
                                                                     value: 20 }),
    ...field("erlang", "patience_s", "Mean patience (s, Erlang A)", { type: "number", min: 1,
                                                                      step: "any" }),
    ...field("erlang", "shrinkage", "Shrinkage (0–1)", { type: "number", min: 0, max: 0.99,
                                                         step: "0.01", value: 0.3 }),
    el("button", { type: "submit", class: "primary" }, "Compute staffing"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const result = await api("wfm/erlang", { method: "POST", body: numbers(form) });
      output.replaceChildren(
        el("p", { class: "summary" }, el("strong", { id: "required-agents" },
                                         result.required_agents),
           ` agents on the phones (${result.model.replace("_", " ")}, `,
           `${result.traffic_erlangs.toFixed(2)} Erlangs); `,
           el("strong", {}, result.agents_to_schedule), " to schedule with shrinkage."),
        el("table", {},
          el("caption", { class: "visually-hidden" }, "Figures by number of agents"),
          el("thead", {}, el("tr", {}, ["Agents", "P(wait)", "Service level", "ASA",
                                         "Occupancy"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, result.rows.map((row) => el("tr", { class: row.required ? "required"
                                                                               : null },
            el("td", { class: "number" }, row.agents),
            el("td", { class: "number" }, percent(row.probability_of_waiting)),
            el("td", { class: "number" }, percent(row.service_level)),
            el("td", { class: "number" }, seconds(row.asa_s)),
            el("td", { class: "number" }, percent(row.occupancy)))))));
    } catch (error) { showError(output, error); }
  });
  return el("section", { "aria-labelledby": "erlang-title" },
    el("h2", { id: "erlang-title" }, "Erlang staffing"), form, output);
}

function planChart(rows) {
  const width = 900, height = 220, left = 40, bottom = 30;
  const top = Math.max(1, ...rows.map((row) => row.agents_to_schedule));
  const step = (width - left) / Math.max(1, rows.length);
  const y = (value) => (height - bottom) * (1 - value / top);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Agents needed per interval, peak ${top}`);
  const add = (tag, attributes, text) => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
  };
  rows.forEach((row, index) => {
    const x = left + index * step;
    add("rect", { class: "schedule", x, y: y(row.agents_to_schedule), width: step * 0.8,
                  height: height - bottom - y(row.agents_to_schedule) });
    add("rect", { class: "agents", x, y: y(row.agents), width: step * 0.8,
                  height: height - bottom - y(row.agents) });
    if (index % Math.ceil(rows.length / 12) === 0) {
      add("text", { x, y: height - 10 }, row.interval_start.slice(11, 16));
    }
  });
  add("text", { x: 0, y: 12 }, String(top));
  add("text", { x: 0, y: height - bottom }, "0");
  return el("div", { class: "chart" }, svg);
}

async function planSection() {
  const output = el("div", { class: "results", "aria-live": "polite", tabindex: 0 });
  const queues = await api("queues");
  const queue = el("select", { id: "plan-queue_id", name: "queue_id" },
    el("option", { value: "" }, "All queues"),
    queues.map((q) => el("option", { value: q.id }, q.name)));
  const interval = el("select", { id: "plan-interval", name: "interval" },
    ["15m", "30m", "60m"].map((value) => el("option", { value, selected: value === "30m" },
                                            value)));
  const form = el("form", { "aria-label": "Staffing plan inputs" },
    el("label", { for: "plan-queue_id" }, "Queue"), queue,
    el("label", { for: "plan-interval" }, "Interval"), interval,
    ...field("plan", "weeks", "Weeks of history", { type: "number", min: 1, max: 104,
                                                     value: 8 }),
    ...field("plan", "days", "Days to plan", { type: "number", min: 1, max: 31, value: 1 }),
    ...field("plan", "aht_s", "Average handle time (s)", { type: "number", min: 1, step: "any",
                                                           required: true, value: 180 }),
    ...field("plan", "service_level_pct", "Service level goal (%)",
             { type: "number", min: 1, max: 99, step: "any", value: 80 }),
    ...field("plan", "service_level_s", "… answered within (s)", { type: "number", min: 0,
                                                                   value: 20 }),
    ...field("plan", "concurrency", "Contacts per agent at once", { type: "number", min: 1,
                                                                    max: 20, value: 1 }),
    ...field("plan", "shrinkage", "Shrinkage (0–1)", { type: "number", min: 0, max: 0.99,
                                                       step: "0.01", value: 0.3 }),
    el("button", { type: "submit", class: "primary" }, "Plan staffing"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const result = await api("wfm/plan", { method: "POST", body: numbers(form) });
      const accuracy = result.mape_pct === null ? "no held-out week to measure accuracy"
        : `forecast error (MAPE on a held-out week) ${result.mape_pct.toFixed(1)} %`;
      output.replaceChildren(
        el("p", { class: "summary" }, "Peak ", el("strong", { id: "peak-agents" },
                                                  result.peak_agents),
           `${result.peak_agents === 1 ? " agent" : " agents"}; `,
           `${result.agent_hours.toFixed(1)} agent hours to schedule; `,
           `${result.history_contacts} contacts of history; ${accuracy}.`),
        planChart(result.rows),
        el("table", {},
          el("caption", { class: "visually-hidden" }, "Agents needed per interval"),
          el("thead", {}, el("tr", {}, ["Interval", "Contacts", "Erlangs", "Agents",
                                         "To schedule", "Service level", "ASA"]
            .map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, result.rows.map((row) => el("tr", {},
            el("td", {}, row.interval_start.slice(0, 16).replace("T", " ")),
            el("td", { class: "number" }, row.contacts.toFixed(1)),
            el("td", { class: "number" }, row.traffic_erlangs.toFixed(2)),
            el("td", { class: "number" }, row.agents),
            el("td", { class: "number" }, row.agents_to_schedule),
            el("td", { class: "number" }, percent(row.service_level)),
            el("td", { class: "number" }, seconds(row.asa_s)))))));
    } catch (error) { showError(output, error); }
  });
  return el("section", { "aria-labelledby": "plan-title" },
    el("h2", { id: "plan-title" }, "Staffing plan from the forecast"), form, output);
}

requireLogin(app, "planner", async (session) => {
  const header = el("header", { class: "topbar" },
    el("h1", {}, "Workforce planner"), el("span", { class: "spacer" }),
    el("a", { href: "/reports" }, "Reports"),
    el("span", {}, session.user.email),
    el("button", { type: "button", onclick: signOut }, "Sign out"));
  const layout = el("div", { class: "planner" }, erlangSection(), await planSection());
  app.replaceChildren(header, layout);
});

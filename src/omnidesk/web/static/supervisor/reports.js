// The historical reports of the supervisor page: the chart, KPIs with the previous period, CSV.
import { api, el, notify } from "../common/omnidesk.js";

const SHOWN = [
  ["contacts_offered", "Contacts offered", "count"], ["contacts_handled", "Contacts handled", "count"],
  ["contacts_abandoned", "Abandoned", "count"], ["service_level_pct", "Service level", "pct"],
  ["asa_s", "ASA", "s"], ["aht_s", "AHT", "s"], ["abandonment_rate_pct", "Abandonment rate", "pct"],
  ["occupancy_pct", "Occupancy", "pct"], ["transfer_rate_pct", "Transfer rate", "pct"],
  ["csat_pct", "CSAT", "pct"], ["fcr_pct", "FCR", "pct"],
];

function shown(value, unit) {
  if (value === null || value === undefined) return "–";
  if (unit === "pct") return `${Number(value).toFixed(1)} %`;
  if (unit === "s") return `${Number(value).toFixed(1)} s`;
  return String(value);
}

function today() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

/** Build the reports view into `container`. */
export function reportsView(container) {
  const chart = el("figure", { class: "reports-chart", "aria-labelledby": "chart-caption" });
  const table = el("table", { class: "kpi-table" });
  const form = el("form", { class: "inline-form", "aria-label": "Report period" },
    el("label", {}, "From", el("input", { type: "date", name: "from", value: today() })),
    el("label", {}, "To (exclusive)", el("input", { type: "date", name: "to" })),
    el("label", {}, "Interval", el("select", { name: "interval" },
      el("option", { value: "15m" }, "15 minutes"), el("option", { value: "hour", selected: true }, "hour"),
      el("option", { value: "day" }, "day"))),
    el("button", { type: "submit", class: "primary" }, "Show report"),
    el("button", { type: "button", onclick: () => download() }, "Download CSV"));
  const query = () => {
    const params = new URLSearchParams({ refresh: "true" });
    for (const [key, value] of new FormData(form)) if (value) params.set(key, value);
    return params.toString();
  };
  async function show() {
    try {
      const response = await api(`reports/chart.svg?${query()}`, { raw: true });
      chart.innerHTML = await response.text();
      const svg = chart.querySelector("svg");
      if (svg) { svg.setAttribute("role", "img"); svg.setAttribute("aria-label", "Volume, service level and ASA per interval"); }
      chart.append(el("figcaption", { id: "chart-caption" }, "Contacts offered, service level and ASA per interval"));
      const report = await api(`reports/kpis?${query()}`);
      const total = report.totals[0] || {}, previous = total.previous || {};
      table.replaceChildren(
        el("caption", { class: "visually-hidden" }, "KPIs of the period and the previous period"),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "KPI"),
          el("th", { scope: "col", class: "num" }, "This period"),
          el("th", { scope: "col", class: "num" }, "Previous period"))),
        el("tbody", {}, SHOWN.map(([key, label, unit]) => el("tr", { dataset: { kpi: key } },
          el("th", { scope: "row" }, label),
          el("td", { class: "num" }, shown(total[key], unit)),
          el("td", { class: "num" }, shown(previous[key], unit))))));
    } catch (error) { notify(error.message, "error"); }
  }
  async function download() {
    try {
      const blob = await (await api(`reports/kpis.csv?${query()}`, { raw: true })).blob();
      const link = el("a", { href: URL.createObjectURL(blob), download: "kpis.csv" });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) { notify(error.message, "error"); }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  container.replaceChildren(el("h2", { id: "reports-title" }, "Reports"), form, chart, table);
  return { show };
}

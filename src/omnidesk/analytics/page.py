"""The reports page: sign in, pick a period, see the chart and the KPIs (plain HTML + JS)."""

REPORTS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>omnidesk reports</title>
<style>
body{font-family:sans-serif;margin:2em;color:#222}
form{margin:0 0 1em}label{margin-right:1em}
table{border-collapse:collapse;margin-top:1em}td,th{border:1px solid #ccc;padding:4px 8px}
th{background:#f4f4f4}#error{color:#b00}
</style></head><body>
<h1>Reports</h1>
<form id="login"><label>Tenant <input name="tenant" required></label>
<label>Email <input name="email" type="email" required></label>
<label>Password <input name="password" type="password" required></label>
<button>Sign in</button></form>
<form id="period" hidden><label>From <input name="from" type="date"></label>
<label>To (exclusive) <input name="to" type="date"></label>
<label>Interval <select name="interval"><option>15m</option><option selected>hour</option>
<option>day</option></select></label><button>Show</button>
<a id="csv" href="#">CSV</a></form>
<p id="error"></p><div id="chart"></div><table id="kpis"></table>
<script>
const $ = (id) => document.getElementById(id);
const token = () => sessionStorage.getItem("omnidesk_token");
const shown = ["contacts_offered", "contacts_handled", "contacts_abandoned",
  "service_level_pct", "asa_s", "aht_s", "abandonment_rate_pct", "occupancy_pct", "fcr_pct",
  "transfer_rate_pct", "csat_pct", "nps", "self_service_containment_pct", "cost_per_contact"];
function query() {
  const data = new FormData($("period")), params = new URLSearchParams();
  for (const [k, v] of data) if (v) params.set(k, v);
  return params.toString();
}
async function api(path) {
  const r = await fetch(path, {headers: {Authorization: "Bearer " + token()}});
  if (r.status === 401) { sessionStorage.removeItem("omnidesk_token"); start(); }
  if (!r.ok) throw new Error((await r.json()).error?.message || r.statusText);
  return r;
}
function cell(v) { return v === null ? "–" : (typeof v === "number" ? +v.toFixed(2) : v); }
async function show(event) {
  if (event) event.preventDefault();
  $("error").textContent = "";
  try {
    $("chart").innerHTML = await (await api("/api/v1/reports/chart.svg?" + query())).text();
    const report = await (await api("/api/v1/reports/kpis?" + query())).json();
    const total = report.totals[0] || {}, before = total.previous || {};
    $("kpis").innerHTML = "<tr><th>KPI</th><th>this period</th><th>previous period</th></tr>" +
      shown.map((k) => `<tr><td>${k}</td><td>${cell(total[k] ?? null)}</td>` +
                       `<td>${cell(before[k] ?? null)}</td></tr>`).join("");
  } catch (e) { $("error").textContent = e.message; }
}
$("csv").onclick = async (event) => {
  event.preventDefault();
  const blob = await (await api("/api/v1/reports/kpis.csv?" + query())).blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob); link.download = "kpis.csv"; link.click();
};
$("login").onsubmit = async (event) => {
  event.preventDefault();
  const r = await fetch("/api/v1/auth/login", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify(Object.fromEntries(new FormData($("login"))))});
  if (!r.ok) { $("error").textContent = "sign-in failed"; return; }
  sessionStorage.setItem("omnidesk_token", (await r.json()).access_token);
  start();
};
$("period").onsubmit = show;
function start() {
  $("login").hidden = !!token(); $("period").hidden = !token();
  if (token()) show();
}
start();
</script></body></html>
"""

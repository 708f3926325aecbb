// Queues: strategy, skills, service-level goal, business hours and holidays.
import { api, el, notify } from "../common/omnidesk.js";
import { FormError, errorLine, field, parseSpans, select, showError, table } from "./forms.js";

const CHANNELS = ["chat", "voice", "email", "messaging", "video", "social"];
const STRATEGIES = ["longest_idle", "least_occupied", "round_robin", "most_skilled"];
const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"],
  ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];

const hoursText = (hours) => {
  const days = DAYS.filter(([key]) => hours[key]?.length);
  if (!days.length) return "always open";
  return days.map(([key]) => `${key} ${hours[key].map((s) => s.join("–")).join(", ")}`).join("; ");
};

export async function queuesView(container, data) {
  const queues = await api("queues");
  const skillName = new Map(data.skills.map((s) => [s.id, s.name]));
  const formBox = el("div");
  const reload = async () => { await data.reload(); return queuesView(container, data); };
  const rows = queues.map((queue) => el("tr", { dataset: { queueName: queue.name } },
    el("th", { scope: "row" }, queue.name), el("td", {}, queue.channel),
    el("td", {}, queue.strategy.replace(/_/g, " ")), el("td", {}, String(queue.priority)),
    el("td", {}, `${queue.service_level_goal_pct} % in ${queue.service_level_seconds} s`),
    el("td", {}, queue.required_skills.map((s) => `${skillName.get(s.skill_id)} ≥ ${s.min_proficiency}`)
      .join(", ") || "–"),
    el("td", {}, hoursText(queue.business_hours), queue.holidays.length
      ? el("div", { class: "small" }, `holidays: ${queue.holidays.join(", ")}`) : null,
      el("div", { class: "small" }, queue.timezone)),
    el("td", {}, el("button", { type: "button", "aria-label": `Edit queue ${queue.name}`,
      onclick: () => formBox.replaceChildren(queueForm(data, queue, reload)) }, "Edit"))));
  formBox.replaceChildren(queueForm(data, null, reload));
  container.replaceChildren(el("h2", {}, "Queues and business hours"), el("div", { class: "adm-split" },
    table("Queues", ["Queue", "Channel", "Strategy", "Priority", "Service level goal", "Skills",
                     "Business hours", ""], rows), formBox));
}

function queueForm(data, queue, done) {
  const editing = queue !== null;
  const number = (name, value, min, max) => el("input", { name, type: "number", min, max, value, required: true });
  const name = el("input", { name: "name", required: true, value: queue?.name || "" });
  const channel = select("channel", CHANNELS, queue?.channel || "chat");
  const strategy = select("strategy", STRATEGIES, queue?.strategy || "longest_idle");
  const priority = number("priority", queue?.priority ?? 0, 0, 100);
  const slSeconds = number("service_level_seconds", queue?.service_level_seconds ?? 20, 1, 86400);
  const slGoal = number("service_level_goal_pct", queue?.service_level_goal_pct ?? 80, 0, 100);
  const offerTimeout = number("offer_timeout_seconds", queue?.offer_timeout_seconds ?? 20, 1, 3600);
  const zone = el("input", { name: "timezone", required: true,
                             value: queue?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" });
  const levels = new Map(queue ? queue.required_skills.map((s) => [s.skill_id, s.min_proficiency]) : []);
  const skillInputs = data.skills.map((skill) => [skill, el("input", {
    type: "number", min: 0, max: 5, value: levels.get(skill.id) || 0,
    "aria-label": `${skill.name} minimum proficiency` })]);
  const dayInputs = DAYS.map(([key, label]) => [key, label, el("input", {
    name: `hours_${key}`, placeholder: "closed",
    value: (queue?.business_hours?.[key] || []).map((s) => s.join("-")).join(", ") })]);
  const holidays = el("input", { name: "holidays", placeholder: "2026-12-25, 2027-01-01",
                                 value: (queue?.holidays || []).join(", ") });
  const error = errorLine();
  const form = el("form", { class: "adm-form", "aria-label": editing ? `Edit queue ${queue.name}` : "New queue" },
    el("h3", {}, editing ? `Edit queue ${queue.name}` : "New queue"),
    field("Queue name", name),
    el("div", { class: "row" }, field("Channel", channel), field("Strategy", strategy),
      field("Priority", priority)),
    el("div", { class: "row" }, field("Service level seconds", slSeconds),
      field("Service level goal %", slGoal), field("Offer timeout seconds", offerTimeout)),
    el("fieldset", {}, el("legend", {}, "Required skills (minimum proficiency, 0 = not required)"),
      el("div", { class: "levels" }, skillInputs.map(([skill, input]) => el("label", {}, skill.name, input)))),
    el("fieldset", {}, el("legend", {}, "Business hours"),
      el("p", { class: "hint" }, "Per day: HH:MM-HH:MM, several separated by commas; empty = closed. "
        + "Every day empty = always open."),
      field("Time zone", zone),
      el("div", { class: "hours" }, dayInputs.flatMap(([key, label, input]) => {
        input.id = `hours-${key}`;
        return [el("label", { for: input.id }, label.slice(0, 3)), input];
      })),
      field("Holidays (closed all day)", holidays)),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" },
      editing ? "Save queue" : "Create queue"),
      editing ? el("button", { type: "button", onclick: done }, "Cancel") : null),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    try {
      const hours = {};
      for (const [key, , input] of dayInputs) {
        const spans = parseSpans(input.value, `business_hours.${key}`);
        if (spans.length) hours[key] = spans;
      }
      const days = holidays.value.split(",").map((d) => d.trim()).filter(Boolean);
      const bad = days.find((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d));
      if (bad) throw new FormError("holidays", `use YYYY-MM-DD (got "${bad}")`);
      const body = {
        name: name.value, channel: channel.value, strategy: strategy.value,
        priority: Number(priority.value), service_level_seconds: Number(slSeconds.value),
        service_level_goal_pct: Number(slGoal.value), offer_timeout_seconds: Number(offerTimeout.value),
        timezone: zone.value, business_hours: hours, holidays: days,
        skills: skillInputs.filter(([, input]) => Number(input.value) > 0)
          .map(([skill, input]) => ({ skill: skill.name, min_proficiency: Number(input.value) })),
      };
      const saved = editing ? await api(`queues/${queue.id}`, { method: "PATCH", body })
        : await api("queues", { method: "POST", body });
      notify(`Saved queue ${saved.name}`);
      await done();
    } catch (failure) { showError(error, failure); }
  });
  return form;
}

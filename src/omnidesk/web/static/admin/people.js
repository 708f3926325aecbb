// Users and agents: create, edit role and password, make an agent with skills, capacity and the
// queues they serve.
import { api, el, notify } from "../common/omnidesk.js";
import { errorLine, field, select, showError, table } from "./forms.js";

const ROLES = ["agent", "supervisor", "admin"];
const MEDIA = ["voice", "chat", "email", "messaging", "video", "social"];

export async function peopleView(container, data) {
  const [users, agents] = await Promise.all([api("users"), api("agents")]);
  const agentOf = new Map(agents.map((agent) => [agent.user_id, agent]));
  const skillName = new Map(data.skills.map((s) => [s.id, s.name]));
  const teamName = new Map(data.teams.map((t) => [t.id, t.name]));
  const formBox = el("div");
  const rows = users.map((user) => {
    const agent = agentOf.get(user.id);
    return el("tr", { dataset: { userEmail: user.email } },
      el("th", { scope: "row" }, user.name), el("td", {}, user.email), el("td", {}, user.role),
      el("td", {}, user.active ? "yes" : "no"),
      el("td", {}, agent ? [
        agent.skills.map((s) => `${skillName.get(s.skill_id)} ${s.proficiency}`).join(", ") || "no skills",
        el("div", { class: "small" }, Object.entries(agent.capacity).map(([k, v]) => `${k} ${v}`).join(" · ")
          + (agent.team_id ? ` · team ${teamName.get(agent.team_id)}` : "") + profileText(agent))] : "–"),
      el("td", {}, el("button", { type: "button", "aria-label": `Edit ${user.name}`,
        onclick: () => formBox.replaceChildren(userForm(data, user, agent, reload)) }, "Edit")));
  });
  const reload = () => peopleView(container, data);
  formBox.replaceChildren(userForm(data, null, null, reload));
  container.replaceChildren(el("h2", {}, "Users and agents"), el("div", { class: "adm-split" },
    table("Users", ["Name", "Email", "Role", "Active", "Agent: skills and capacity", ""], rows),
    formBox));
}

function profileText(agent) {
  if (agent.routing_profile === null) return "";
  const queues = agent.routing_profile.map((entry) => `${entry.queue} ${entry.priority}`
    + (entry.delay_seconds ? ` (after ${entry.delay_seconds} s)` : ""));
  return ` · serves ${queues.join(", ") || "no queue"}`;
}

function profileInputs(data, agent) {
  const profile = agent?.routing_profile ?? null;
  const served = new Map((profile || []).map((entry) => [entry.queue, entry]));
  const everyQueue = el("input", { type: "checkbox", name: "every_queue", checked: profile === null });
  const rows = data.queues.map((queue) => [queue,
    el("input", { type: "number", min: 0, max: 100, value: served.get(queue.name)?.priority ?? 0,
                  "aria-label": `${queue.name} priority` }),
    el("input", { type: "number", min: 0, max: 86400, value: served.get(queue.name)?.delay_seconds ?? 0,
                  "aria-label": `${queue.name} delay seconds` })]);
  const body = () => (everyQueue.checked ? null : rows.filter(([, priority]) => Number(priority.value) > 0)
    .map(([queue, priority, delay]) => ({ queue: queue.name, priority: Number(priority.value),
                                          delay_seconds: Number(delay.value) })));
  const inputs = [
    el("p", { class: "hint" }, "Queues served: priority 1 first, 0 = not served; delay: only contacts waiting that many seconds"),
    el("label", {}, everyQueue, " Every queue, by the queues' priority"),
    el("div", { class: "levels" }, rows.map(([queue, priority, delay]) => el("label", {},
      queue.name, priority, delay)))];
  return { inputs, body };
}

function userForm(data, user, agent, done) {
  const editing = user !== null;
  const name = el("input", { name: "name", required: true, value: user?.name || "" });
  const email = el("input", { name: "email", type: "email", required: !editing, disabled: editing,
                              value: user?.email || "" });
  const role = select("role", ROLES, user?.role || "agent");
  const password = el("input", { name: "password", type: "password", minlength: 8, required: !editing,
                                 autocomplete: "new-password" });
  const active = el("input", { type: "checkbox", name: "active", checked: user ? user.active : true });
  const isAgent = el("input", { type: "checkbox", name: "is_agent", checked: editing ? !!agent : true,
                                disabled: !!agent });
  const team = select("team", [["", "no team"], ...data.teams.map((t) => [t.name, t.name])],
                      agent?.team_id ? data.teams.find((t) => t.id === agent.team_id)?.name : "");
  const levels = new Map(agent ? agent.skills.map((s) => [s.skill_id, s.proficiency]) : []);
  const skillInputs = data.skills.map((skill) => [skill, el("input", {
    type: "number", min: 0, max: 5, value: levels.get(skill.id) || 0,
    "aria-label": `${skill.name} proficiency` })]);
  const capacity = agent?.capacity || { voice: 1, chat: 3, email: 5 };
  const capacityInputs = MEDIA.map((media) => [media, el("input", {
    type: "number", min: 0, max: 100, value: capacity[media] ?? 0,
    "aria-label": `${media} capacity` })]);
  const profile = profileInputs(data, agent);
  const error = errorLine();
  const form = el("form", { class: "adm-form", "aria-label": editing ? `Edit ${user.name}` : "New user" },
    el("h3", {}, editing ? `Edit ${user.name}` : "New user"),
    field("Name", name), field("Email", email),
    el("div", { class: "row" }, field("Role", role),
      field(editing ? "New password (optional)" : "Password", password)),
    editing ? el("label", {}, active, " Active (may sign in)") : null,
    el("fieldset", {}, el("legend", {}, "Agent"),
      el("label", {}, isAgent, " Handles contacts (is an agent)"),
      field("Team", team),
      el("p", { class: "hint" }, "Skills: proficiency 1–5, 0 = none"),
      el("div", { class: "levels" }, skillInputs.map(([skill, input]) => el("label", {},
        skill.name, input))),
      el("p", { class: "hint" }, "Capacity: contacts at once per channel"),
      el("div", { class: "levels" }, capacityInputs.map(([media, input]) => el("label", {},
        media, input))),
      ...profile.inputs),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" },
      editing ? "Save user" : "Create user"),
      editing ? el("button", { type: "button", onclick: done }, "Cancel") : null),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    const agentBody = {
      team: team.value || null,
      skills: skillInputs.filter(([, input]) => Number(input.value) > 0)
        .map(([skill, input]) => ({ skill: skill.name, proficiency: Number(input.value) })),
      capacity: Object.fromEntries(capacityInputs.map(([media, input]) => [media, Number(input.value)])),
      routing_profile: profile.body(),
    };
    try {
      let saved = user;
      if (editing) {
        const changes = { name: name.value, role: role.value, active: active.checked };
        if (password.value) changes.password = password.value;
        saved = await api(`users/${user.id}`, { method: "PATCH", body: changes });
      } else {
        saved = await api("users", { method: "POST", body: {
          name: name.value, email: email.value, role: role.value, password: password.value } });
      }
      if (agent) await api(`agents/${agent.id}`, { method: "PATCH", body: agentBody });
      else if (isAgent.checked) await api("agents", { method: "POST", body: { user_id: saved.id, ...agentBody } });
      notify(`Saved ${saved.name}`);
      await done();
    } catch (failure) { showError(error, failure); }
  });
  return form;
}

// Skills and teams: the names agents and queues refer to.
import { api, el, notify } from "../common/omnidesk.js";
import { errorLine, field, showError } from "./forms.js";

function adder(kind, label, items, done) {
  const input = el("input", { name: "name", required: true });
  const error = errorLine();
  const form = el("form", { class: "adm-form", "aria-label": `New ${kind}` },
    el("h3", {}, label), el("ul", {}, items.map((item) => el("li", {}, item.name))),
    field(`New ${kind} name`, input),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, `Add ${kind}`)),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`${kind === "skill" ? "skills" : "teams"}`, { method: "POST", body: { name: input.value } });
      notify(`Added ${kind} ${input.value}`);
      await done();
    } catch (failure) { showError(error, failure); }
  });
  return form;
}

export async function skillsView(container, data) {
  const reload = async () => { await data.reload(); return skillsView(container, data); };
  container.replaceChildren(el("h2", {}, "Skills and teams"), el("div", { class: "adm-split" },
    adder("skill", "Skills", data.skills, reload), adder("team", "Teams", data.teams, reload)));
}

// The admin page: run a small center without YAML — users and agents, queues with business
// hours, channels with their webhook URLs, canned responses, skills and teams.
import { api, el, notify, requireLogin, signOut } from "./common/omnidesk.js";
import { cannedView } from "./admin/canned.js";
import { channelsView } from "./admin/channels.js";
import { peopleView } from "./admin/people.js";
import { queuesView } from "./admin/queues.js";
import { skillsView } from "./admin/skills.js";

const TABS = [
  ["people", "Users and agents", peopleView], ["queues", "Queues", queuesView],
  ["channels", "Channels", channelsView], ["canned", "Canned responses", cannedView],
  ["skills", "Skills and teams", skillsView],
];

requireLogin(document.getElementById("app"), "admin", async (session) => {
  const root = document.getElementById("app");
  if (session.user.role !== "admin") {
    root.replaceChildren(el("p", { class: "error", role: "alert" }, "The admin pages are for admins."),
      el("button", { onclick: signOut }, "Sign out"));
    return;
  }
  const data = {
    skills: [], teams: [], queues: [],
    async reload() {
      [this.skills, this.teams, this.queues] = await Promise.all([api("skills"), api("teams"), api("queues")]);
    },
  };
  await data.reload();
  const main = el("div", { class: "adm-main", id: "admin-view" });
  const nav = el("nav", { class: "adm-nav", "aria-label": "Admin sections" });
  async function show(key) {
    const [, , view] = TABS.find(([name]) => name === key);
    for (const button of nav.children) button.setAttribute("aria-pressed", String(button.dataset.tab === key));
    try { await data.reload(); await view(main, data); } catch (error) { notify(error.message, "error"); }
    history.replaceState(null, "", `#${key}`);
  }
  nav.append(...TABS.map(([key, text]) => el("button", { type: "button", dataset: { tab: key },
    onclick: () => show(key) }, text)));
  root.replaceChildren(
    el("header", { class: "topbar" }, el("h1", {}, "omnidesk admin"), nav, el("span", { class: "spacer" }),
      el("span", {}, session.user.name || session.user.email),
      el("button", { type: "button", onclick: signOut }, "Sign out")),
    main);
  const start = location.hash.slice(1);
  await show(TABS.some(([key]) => key === start) ? start : "people");
});

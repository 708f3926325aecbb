// Canned responses: shortcut, title and body the agents insert with a slash.
import { api, el, notify } from "../common/omnidesk.js";
import { errorLine, field, showError, table } from "./forms.js";

export async function cannedView(container) {
  const items = await api("canned-responses");
  const formBox = el("div");
  const reload = () => cannedView(container);
  const rows = items.map((item) => el("tr", { dataset: { shortcut: item.shortcut } },
    el("th", { scope: "row" }, `/${item.shortcut}`), el("td", {}, item.title),
    el("td", {}, item.body.length > 90 ? `${item.body.slice(0, 90)}…` : item.body),
    el("td", {}, el("div", { class: "actions" },
      el("button", { type: "button", "aria-label": `Edit /${item.shortcut}`,
        onclick: () => formBox.replaceChildren(cannedForm(item, reload)) }, "Edit"),
      el("button", { type: "button", class: "danger", "aria-label": `Delete /${item.shortcut}`,
        onclick: async () => {
          if (!confirm(`Delete /${item.shortcut}?`)) return;
          try { await api(`canned-responses/${item.id}`, { method: "DELETE" }); notify("Deleted"); await reload(); }
          catch (error) { notify(error.message, "error"); }
        } }, "Delete")))));
  formBox.replaceChildren(cannedForm(null, reload));
  container.replaceChildren(el("h2", {}, "Canned responses"), el("div", { class: "adm-split" },
    table("Canned responses", ["Shortcut", "Title", "Text", ""], rows), formBox));
}

function cannedForm(item, done) {
  const shortcut = el("input", { name: "shortcut", required: true, pattern: "[a-z0-9_\\-]{1,50}",
                                 value: item?.shortcut || "" });
  const title = el("input", { name: "title", required: true, value: item?.title || "" });
  const body = el("textarea", { name: "body", required: true, rows: 5 }, item?.body || "");
  const error = errorLine();
  const form = el("form", { class: "adm-form", "aria-label": item ? `Edit /${item.shortcut}` : "New canned response" },
    el("h3", {}, item ? `Edit /${item.shortcut}` : "New canned response"),
    field("Shortcut", shortcut, "lower-case letters, digits, - and _; agents type /shortcut"),
    field("Title", title), field("Text", body),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" },
      item ? "Save response" : "Create response"),
      item ? el("button", { type: "button", onclick: done }, "Cancel") : null),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    const data = { shortcut: shortcut.value, title: title.value, body: body.value };
    try {
      if (item) await api(`canned-responses/${item.id}`, { method: "PATCH", body: data });
      else await api("canned-responses", { method: "POST", body: data });
      notify(`Saved /${data.shortcut}`);
      await done();
    } catch (failure) { showError(error, failure); }
  });
  return form;
}

// Channels: create, change default queue and settings, and the webhook URLs for each provider.
import { api, el, notify } from "../common/omnidesk.js";
import { FormError, errorLine, field, select, showError, table } from "./forms.js";

const KINDS = ["api", "twilio", "whatsapp", "telegram", "email"];
const HINTS = {
  api: "No settings needed. Sign each request with the secret (docs/channels).",
  twilio: '{"account_sid": "AC…", "from_number": "+1415…"}; the secret is the Twilio auth token.',
  whatsapp: '{"phone_number_id": "…"}; the secret is the Meta app secret.',
  telegram: "{}; the secret is the webhook's secret token.",
  email: '{"address": "support@example.com", "smtp_host": "…"} (inbound arrives by SMTP).',
};

/** The URLs to paste into the provider's console, full, from this page's origin. */
export function webhookUrls(channel) {
  const base = `${location.origin}/api/v1/channels/${channel.kind}/${channel.id}`;
  switch (channel.kind) {
    case "api": return [["Messages (POST, signed)", `${base}/messages`]];
    case "twilio": return [["Messaging webhook (A message comes in)", `${base}/messages`],
                           ["Status callback", `${base}/status`]];
    case "whatsapp": return [["Callback URL (verify GET and events POST)", `${base}/webhook`]];
    case "telegram": return [["setWebhook url", `${base}/webhook`]];
    default: return [];
  }
}

function urlList(channel) {
  const urls = webhookUrls(channel);
  if (!urls.length) return channel.kind === "email" ? "inbound by SMTP" : "–";
  return el("ul", { class: "urls" }, urls.map(([label, url]) => el("li", {}, `${label}: `, el("code", {}, url))));
}

export async function channelsView(container, data, notice = null) {
  const channels = await api("channels");
  const queueName = new Map(data.queues.map((q) => [q.id, q.name]));
  const formBox = el("div");
  const reload = (created) => channelsView(container, data, created);
  const rows = channels.map((channel) => el("tr", { dataset: { channelName: channel.name } },
    el("th", { scope: "row" }, channel.name), el("td", {}, channel.kind),
    el("td", {}, queueName.get(channel.default_queue_id) || "–"), el("td", {}, urlList(channel)),
    el("td", {}, el("button", { type: "button", "aria-label": `Edit channel ${channel.name}`,
      onclick: () => formBox.replaceChildren(channelForm(data, channel, reload)) }, "Edit"))));
  formBox.replaceChildren(...(notice ? [notice] : []), channelForm(data, null, reload));
  container.replaceChildren(el("h2", {}, "Channels"), el("div", { class: "adm-split" },
    table("Channels", ["Channel", "Kind", "Default queue", "Webhook URLs", ""], rows), formBox));
}

function channelForm(data, channel, done) {
  const editing = channel !== null;
  const kind = select("kind", KINDS, channel?.kind || "api");
  kind.disabled = editing;
  const name = el("input", { name: "name", required: true, disabled: editing, value: channel?.name || "" });
  const queue = select("default_queue", [["", "none"], ...data.queues.map((q) => [q.name, q.name])],
                       data.queues.find((q) => q.id === channel?.default_queue_id)?.name || "");
  const settings = el("textarea", { name: "settings", rows: 3 },
                      JSON.stringify(channel?.settings || {}, null, 0));
  const secret = el("input", { name: "secret", type: "password", minlength: 16, autocomplete: "off",
                               placeholder: editing ? "unchanged" : "generated when empty" });
  const hint = el("p", { class: "hint" }, HINTS[kind.value]);
  kind.addEventListener("change", () => { hint.textContent = HINTS[kind.value]; });
  const error = errorLine();
  const form = el("form", { class: "adm-form", "aria-label": editing ? `Edit channel ${channel.name}` : "New channel" },
    el("h3", {}, editing ? `Edit channel ${channel.name}` : "New channel"),
    el("div", { class: "row" }, field("Kind", kind), field("Channel name", name)),
    field("Default queue", queue), field("Settings (JSON)", settings), hint,
    field("Secret (min. 16 characters)", secret),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" },
      editing ? "Save channel" : "Create channel"),
      editing ? el("button", { type: "button", onclick: () => done() }, "Cancel") : null),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    try {
      let parsed;
      try { parsed = JSON.parse(settings.value || "{}"); } catch { throw new FormError("settings", "not valid JSON"); }
      if (editing) {
        const body = { default_queue: queue.value || null, settings: parsed };
        if (secret.value) body.secret = secret.value;
        await api(`channels/${channel.id}`, { method: "PATCH", body });
        notify(`Saved channel ${channel.name}`);
        return done();
      }
      const body = { kind: kind.value, name: name.value, default_queue: queue.value || null, settings: parsed };
      if (secret.value) body.secret = secret.value;
      const created = await api("channels", { method: "POST", body });
      if (created.kind === "twilio" && !parsed.public_url) {
        // Twilio signs the exact URL it calls: store it so signatures check out behind proxies too.
        await api(`channels/${created.id}`, { method: "PATCH", body: {
          settings: { ...parsed, public_url: webhookUrls(created)[0][1] } } });
      }
      notify(`Created channel ${created.name}`);
      return done(el("div", { class: "secret", role: "status" },
        el("p", {}, `Channel ${created.name} created. Its secret, shown only now: `,
          el("code", { class: "channel-secret" }, created.secret)), urlList(created)));
    } catch (failure) { showError(error, failure); }
  });
  return form;
}

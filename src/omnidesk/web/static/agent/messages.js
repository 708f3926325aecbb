// How messages look per channel: chat bubbles, email cards with the quoted history folded.
import { api, el, notify } from "../common/omnidesk.js";

const QUOTE_START = /^(On .+wrote:|-{2,} ?Original Message ?-{2,}|From: .+)$/i;

/** Split an email body into what was written now and the quoted history below it. */
export function splitQuoted(body) {
  const lines = body.split(/\r?\n/);
  let cut = lines.findIndex((line, i) => QUOTE_START.test(line.trim())
    || (line.startsWith(">") && lines.slice(i).every((l) => l.startsWith(">") || !l.trim())));
  if (cut <= 0) return { fresh: body, quoted: "" };
  return { fresh: lines.slice(0, cut).join("\n").trimEnd(), quoted: lines.slice(cut).join("\n") };
}

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

function statusLine(message) {
  if (message.status === "failed") {
    return el("span", { class: "status failed" }, `Not delivered: ${message.error || "error"}`);
  }
  if (message.status === "delivered") return el("span", { class: "status" }, "Delivered");
  if (message.status === "read") return el("span", { class: "status" }, "Read");
  return null;
}

/** Save a file the API serves only with the agent's token: fetch it, then a blob URL. */
export async function download(attachment) {
  try {
    const response = await api(attachment.url, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: attachment.filename || "attachment", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    notify(`Could not download ${attachment.filename}: ${error.message}`, "error");
  }
}

export function fileSize(bytes) {
  if (typeof bytes !== "number") return "";
  if (bytes < 1024) return `${bytes} B`;
  return bytes < 1024 * 1024 ? `${Math.round(bytes / 1024)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

/** The message's files: ours download with the token, others' open by their link. */
function attachmentList(message) {
  const files = (message.attachments || []).filter((a) => a.filename || a.url);
  if (!files.length) return null;
  return el("ul", { class: "attachments", "aria-label": "Attachments" }, files.map((a) => {
    const name = a.filename || "attachment";
    const link = a.url?.startsWith("/api/")
      ? el("button", { type: "button", class: "link", onclick: () => download(a) }, `Download ${name}`)
      : /^https?:\/\//.test(a.url || "")
        ? el("a", { href: a.url, target: "_blank", rel: "noopener noreferrer" }, name)
        : el("span", {}, name);
    return el("li", {}, link, a.size != null ? el("span", { class: "size" }, ` (${fileSize(a.size)})`) : null);
  }));
}

function author(message, names) {
  switch (message.author_kind) {
    case "customer": return names.customer || "Customer";
    case "agent": return message.author_id === names.me ? "You" : "Agent";
    case "bot": return "Bot (self-service)";
    default: return "System";
  }
}

/** One message in the look of its channel. */
export function messageView(message, channel, names) {
  if (message.author_kind === "whisper") {  // a supervisor's word to the agent, never sent
    return el("div", { class: "note consult", dataset: { position: message.position } },
      el("span", { class: "by" }, `Supervisor whisper (only you see it) · ${time(message.created_at)}`), message.body);
  }
  const who = author(message, names);
  const kind = ["customer", "agent", "bot"].includes(message.author_kind) ? message.author_kind : "system";
  if (channel === "email" && (kind === "customer" || kind === "agent")) {
    const { fresh, quoted } = splitQuoted(message.body);
    return el("article", { class: `email-card ${kind}`, dataset: { position: message.position } },
      el("header", {}, el("strong", {}, who), el("span", {}, time(message.created_at))),
      el("p", { class: "body" }, fresh),
      quoted ? el("details", {}, el("summary", {}, "Show quoted history"), el("pre", {}, quoted)) : null,
      attachmentList(message), statusLine(message));
  }
  return el("div", { class: `bubble ${kind}`, dataset: { position: message.position } },
    el("span", { class: "by" }, `${who} · ${time(message.created_at)}`), message.body, attachmentList(message),
    statusLine(message));
}

/** An internal note or a consult, never shown to the customer. */
export function noteView(note) {
  const label = note.kind === "consult" ? "Consult (to a supervisor)" : "Internal note";
  return el("div", { class: `note ${note.kind}`, dataset: { noteId: note.id } },
    el("span", { class: "by" }, `${label} · ${note.author_name} · ${time(note.created_at)}`), note.body);
}

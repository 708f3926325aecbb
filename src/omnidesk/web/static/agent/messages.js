// How messages look per channel: chat bubbles, email cards with the quoted history folded.
import { el } from "../common/omnidesk.js";

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
      statusLine(message));
  }
  return el("div", { class: `bubble ${kind}`, dataset: { position: message.position } },
    el("span", { class: "by" }, `${who} · ${time(message.created_at)}`), message.body, statusLine(message));
}

/** An internal note or a consult, never shown to the customer. */
export function noteView(note) {
  const label = note.kind === "consult" ? "Consult (to a supervisor)" : "Internal note";
  return el("div", { class: `note ${note.kind}`, dataset: { noteId: note.id } },
    el("span", { class: "by" }, `${label} · ${note.author_name} · ${time(note.created_at)}`), note.body);
}

// Watch one conversation read-only (messages and events, live), whisper to its agent, move it.
import { api, el, notify } from "../common/omnidesk.js";

const WHO = { customer: "Customer", agent: "Agent", bot: "Bot", system: "System", whisper: "Whisper" };

/** The monitor panel; `names()` gives {queues: Map(id → name), agents: Map(id → name)}. */
export class Monitor {
  constructor(container, names) {
    this.container = container;
    this.names = names;
    this.id = null;
    this.seen = new Set();
    this.closed();
  }

  closed() {
    this.id = null;
    this.pending = null;
    this.container.replaceChildren(el("h2", { id: "monitor-title" }, "Conversation"),
      el("p", { class: "muted" }, "Choose Watch on a conversation to follow it here."));
  }

  /** Show a conversation and follow it. */
  async open(interactionId) {
    this.id = interactionId;
    this.seen = new Set();
    this.pending = [];  // stream events that arrive while the conversation loads
    const [interaction, messages, events] = await Promise.all([
      api(`interactions/${interactionId}`), api(`interactions/${interactionId}/messages`),
      api(`interactions/${interactionId}/events`)]);
    if (this.id !== interactionId) return;
    this.transcript = el("div", { class: "transcript", role: "log", "aria-label": "Messages",
                                  "aria-live": "polite", tabindex: 0 });
    this.events = el("ol", { class: "events", "aria-label": "Events", tabindex: 0 });
    this.header = el("p", { class: "monitor-state" });
    this.moveForm = this.buildMove();
    const whisperText = el("textarea", { id: "whisper-text", rows: 2, cols: 40, required: true });
    const whisperForm = el("form", { class: "inline-form", "aria-label": "Whisper" },
      el("label", { for: "whisper-text" }, "Whisper to the agent (the customer does not see it)"),
      whisperText, el("button", { type: "submit", class: "primary" }, "Send whisper"));
    whisperForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(`interactions/${this.id}/whisper`, { method: "POST", body: { body: whisperText.value } });
        whisperText.value = "";
        notify("Whisper sent");
      } catch (error) { notify(error.message, "error"); }
    });
    this.container.replaceChildren(
      el("h2", { id: "monitor-title" }, `Conversation ${interactionId.slice(0, 8)}`,
         el("button", { type: "button", class: "close", onclick: () => this.closed(),
                        "aria-label": "Stop watching" }, "×")),
      this.header, this.transcript, whisperForm, this.moveForm,
      el("h3", {}, "Events"), this.events);
    this.container.dataset.interactionId = interactionId;
    this.showState(interaction);
    for (const message of messages) this.addMessage(message.id, message.author_kind, message.body);
    for (const event of events) this.addEvent(event);
    const pending = this.pending;
    this.pending = null;
    for (const event of pending) await this.onEvent(event);
  }

  buildMove() {
    const select = el("select", { id: "move-target", required: true });
    const form = el("form", { class: "inline-form move", "aria-label": "Move the waiting contact" },
      el("label", { for: "move-target" }, "Move to"), select,
      el("button", { type: "submit" }, "Move"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const [kind, id] = select.value.split(":");
      try {
        const moved = await api(`interactions/${this.id}/move`, {
          method: "POST", body: kind === "queue" ? { queue_id: id } : { agent_id: id } });
        this.showState(moved);
        notify(kind === "queue" ? "Moved to the queue" : "Offered to the agent");
      } catch (error) { notify(error.message, "error"); }
    });
    return form;
  }

  showState(interaction) {
    const { queues, agents } = this.names();
    const parts = [`State: ${interaction.state.replace(/_/g, " ")}`, `channel ${interaction.channel}`];
    if (interaction.queue_id) parts.push(`queue ${queues.get(interaction.queue_id) || "?"}`);
    if (interaction.agent_id) parts.push(`agent ${agents.get(interaction.agent_id) || "?"}`);
    this.header.textContent = parts.join(" · ");
    this.header.dataset.state = interaction.state;
    const select = this.moveForm.querySelector("select");
    select.replaceChildren(
      el("optgroup", { label: "Queues" }, [...queues].filter(([id]) => id !== interaction.queue_id)
        .map(([id, name]) => el("option", { value: `queue:${id}` }, name))),
      el("optgroup", { label: "Agents (offer now)" }, [...agents]
        .map(([id, name]) => el("option", { value: `agent:${id}` }, name))));
    this.moveForm.hidden = interaction.state !== "queued";
  }

  addMessage(id, kind, body) {
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.transcript.append(el("p", { class: `msg ${kind}` },
      el("span", { class: "who" }, WHO[kind] || kind), body));
    this.transcript.scrollTop = this.transcript.scrollHeight;
  }

  addEvent(event) {
    if (this.seen.has(`seq:${event.seq}`)) return;
    this.seen.add(`seq:${event.seq}`);
    const time = new Date(event.occurred_at).toLocaleTimeString();
    this.events.append(el("li", {}, `${time} ${event.type} (${event.actor})`));
  }

  /** A stream event: follow it if it is about the watched conversation. */
  async onEvent(event) {
    if (!this.id || event.subject !== this.id || this.seen.has(`seq:${event.seq}`)) return;
    if (this.pending) { this.pending.push(event); return; }
    this.addEvent(event);
    if (event.type === "message.created") {
      this.addMessage(event.payload.message_id, event.payload.author_kind, event.payload.body);
    } else if (event.type.startsWith("interaction.") || event.type.startsWith("offer.")) {
      this.showState(await api(`interactions/${this.id}`));
    }
  }
}

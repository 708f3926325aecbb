// The agent desktop: state, offers with the screen pop, several conversations at once, reply,
// canned responses, notes, consult, transfer, hold, wrap-up. Everything shown is rebuilt from
// the API at start (the agent's open interactions) and kept live by the event stream, which
// resumes from the last event seen, so a reload or a network drop loses no conversation.
import { api, ApiError, currentSession, duration, el, notify, openStream, signOut } from "../common/omnidesk.js";
import * as ring from "./ring.js";
import { fill, insertAt, matching, slashToken } from "./canned.js";
import { fileSize, messageView, noteView } from "./messages.js";
import { phonePanel, startPhone, updatePhone } from "./phone.js";

const STORE = "omnidesk.desktop";
const WORKING = new Set(["connected", "on_hold", "wrap_up"]);
const STATES = [
  ["available", "", "Available"],
  ["break", "coffee", "Break — coffee"],
  ["break", "personal", "Break — personal"],
  ["break", "meeting", "Break — meeting"],
  ["lunch", "", "Lunch"],
  ["training", "coaching", "Training — coaching"],
  ["training", "e_learning", "Training — e-learning"],
  ["offline", "end_of_shift", "Offline — end of shift"],
];
const STATE_NAMES = { after_call_work: "After-contact work", missed: "Missed an offer", offline: "Offline" };
// Used when the tenant configured no dispositions of its own: [code, label, resolved].
const DISPOSITIONS = [
  ["resolved", "Resolved", true], ["information_given", "Information given", true],
  ["follow_up", "Follow-up needed", false], ["escalated", "Escalated", false],
  ["billing", "Billing question", true], ["technical", "Technical issue", true],
  ["complaint", "Complaint", false], ["no_response", "No response from customer", false],
  ["spam", "Spam / not a customer", true],
];
export const SHORTCUTS = [
  ["Alt+A", "Accept the ringing offer"], ["Alt+R", "Reject the ringing offer"],
  ["Ctrl+Enter", "Send the reply (or save the note)"], ["/shortcut", "Insert a canned response (Tab or Enter picks)"],
  ["Alt+N", "Switch between reply and internal note"], ["Alt+H", "Hold or resume"],
  ["Alt+T", "Transfer"], ["Alt+C", "Consult a supervisor"], ["Alt+W", "Start wrap-up"],
  ["Alt+↓ / Alt+↑", "Next / previous conversation"], ["Alt+1…9", "Go to conversation 1…9"],
  ["Alt+S", "Change your state"], ["Alt+K", "Show these shortcuts"], ["Escape", "Close a list or dialog"],
];

const desk = {
  user: null, me: null, canned: [], queues: [], agents: [],
  conversations: new Map(),  // interaction id → conversation
  offers: new Map(),         // interaction id → {interaction, expiresAt, context}
  activeId: null, stream: null, ready: false, pending: [], knowledge: true, nodes: {},
  dispositions: DISPOSITIONS,
};

// ------------------------------------------------------------------ persistence (reloads)

function saved() {
  try { return JSON.parse(sessionStorage.getItem(STORE)) || {}; } catch { return {}; }
}

function save(patch) {
  sessionStorage.setItem(STORE, JSON.stringify({ ...saved(), ...patch }));
}

function remember(kind, id, value) {
  const all = saved()[kind] || {};
  if (value === undefined) delete all[id]; else all[id] = value;
  save({ [kind]: all });
}

// ------------------------------------------------------------------ start

/** Build the desktop for the signed-in user. */
export async function startDesktop(root, session) {
  document.body.classList.add("desk-page");
  desk.user = session.user;
  try {
    desk.me = await api("agents/me");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    root.replaceChildren(el("div", { class: "empty" }, el("h1", {}, "No agent record"),
      el("p", {}, "Your user is not an agent. An administrator makes users agents (Admin → Agents)."),
      el("button", { onclick: signOut }, "Sign out")));
    return;
  }
  if (saved().agent !== desk.me.id) sessionStorage.setItem(STORE, JSON.stringify({ agent: desk.me.id }));
  layout(root);
  // The stream first (its events wait while the snapshot loads), so nothing falls in between.
  desk.stream = openStream(onEvent, { since: saved().seq ?? null, onStatus, onSignal, onResync });
  const [canned, queues, agents, open, dispositions] = await Promise.all([
    api("canned-responses"), api("queues"), api("agents"),
    api(`interactions?agent_id=${desk.me.id}&open=true&limit=200`),
    api("dispositions").catch(() => []),
  ]);
  Object.assign(desk, { canned, queues, agents });
  // The tenant's own reason codes when it has some (then only those are accepted).
  if (dispositions.length) desk.dispositions = dispositions.map((d) => [d.code, d.label, d.resolved]);
  renderCannedPicker();
  for (const interaction of open.reverse()) await reconcile(interaction);
  desk.ready = true;
  for (const event of desk.pending.splice(0)) await handle(event);
  const last = saved().active;
  if (last && desk.conversations.has(last)) activate(last);
  else if (!desk.activeId && desk.conversations.size) activate([...desk.conversations.keys()][0]);
  renderAgentState();
  renderOffers();
  renderList();
  await startPhone();
  syncPhone();
  tick();
  setInterval(tick, 1000);
  document.addEventListener("keydown", onKey);
  for (const type of ["click", "keydown"]) document.addEventListener(type, ring.unlock);
}

// ------------------------------------------------------------------ layout

function layout(root) {
  const n = desk.nodes;
  n.state = el("select", { id: "agent-state", onchange: changeState });
  n.stateDot = el("span", { class: "state-dot", "aria-hidden": "true" });
  n.stateSince = el("span", { class: "state-since", title: "Time in this state" });
  n.link = el("span", { class: "link-status", role: "status", dataset: { status: "connecting" } }, "Connecting…");
  n.offers = el("div", { class: "offers", "aria-live": "assertive" });
  n.phone = phonePanel({ accept: (id) => answer(id, "accept"), reject: (id) => answer(id, "reject") });
  n.list = el("ul", { class: "conversation-list", "aria-labelledby": "conversations-title" });
  n.main = el("main", { class: "conversation", id: "conversation", "aria-label": "Conversation" });
  n.context = el("aside", { class: "context", "aria-label": "Customer" });
  n.cannedPicker = el("select", { "aria-label": "Insert a canned response", class: "canned-picker" });
  n.shortcuts = shortcutsDialog();
  n.transfer = transferDialog();
  n.consult = consultDialog();
  root.replaceChildren(
    el("header", { class: "topbar" },
      el("h1", {}, "omnidesk agent"),
      el("span", { class: "agent-name" }, desk.me.name),
      el("span", {}, n.stateDot, el("label", { for: "agent-state" }, "State "), " ", n.state),
      n.stateSince,
      el("span", { class: "spacer" }),
      n.link,
      el("button", { type: "button", onclick: () => n.shortcuts.showModal(), "aria-keyshortcuts": "Alt+K" },
        "Keyboard shortcuts"),
      el("button", { type: "button", onclick: signOut }, "Sign out")),
    el("div", { class: "desk" },
      el("nav", { class: "inbox", "aria-label": "Offers and conversations" },
        n.phone,
        el("h2", { id: "offers-title" }, "Incoming"), n.offers,
        el("h2", { id: "conversations-title" }, "My conversations"), n.list),
      n.main, n.context),
    n.shortcuts, n.transfer, n.consult);
  renderEmpty();
}

function shortcutTable() {
  return el("table", { class: "shortcut-table" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Keys"), el("th", { scope: "col" }, "What it does"))),
    el("tbody", {}, SHORTCUTS.map(([keys, what]) => el("tr", {}, el("td", {}, el("kbd", {}, keys)), el("td", {}, what)))));
}

function shortcutsDialog() {
  const dialog = el("dialog", { id: "shortcuts", "aria-labelledby": "shortcuts-title" },
    el("h2", { id: "shortcuts-title" }, "Keyboard shortcuts"), shortcutTable(),
    el("div", { class: "buttons" }, el("button", { type: "button", onclick: () => dialog.close() }, "Close")));
  return dialog;
}

function renderEmpty() {
  desk.nodes.main.replaceChildren(el("div", { class: "empty" },
    el("h2", {}, "No conversation open"),
    el("p", {}, desk.me.state === "available"
      ? "You are available: new contacts ring here with the customer's details."
      : "Set your state to Available to receive contacts."),
    el("h3", {}, "Keyboard shortcuts"), shortcutTable()));
  renderContext(null);
}

// ------------------------------------------------------------------ agent state

function renderAgentState() {
  const { state, stateDot, stateSince } = desk.nodes;
  const current = `${desk.me.state}|${desk.me.state_reason || ""}`;
  const options = STATES.map(([value, reason, label]) => el("option", { value: `${value}|${reason}` }, label));
  if (!options.some((o) => o.value === current)) {
    const label = STATE_NAMES[desk.me.state] || desk.me.state;
    options.unshift(el("option", { value: current }, desk.me.state_reason ? `${label} — ${desk.me.state_reason}` : label));
  }
  state.replaceChildren(...options);
  state.value = current;
  stateDot.dataset.state = desk.me.state;
  stateSince.dataset.since = desk.me.state_since;
  document.body.dataset.agentState = desk.me.state;
}

async function changeState() {
  const [state, reason] = desk.nodes.state.value.split("|");
  try {
    desk.me = await api(`agents/${desk.me.id}/state`, { method: "PUT", body: reason ? { state, reason } : { state } });
    notify(`You are ${STATE_NAMES[state] || state}`);
  } catch (error) {
    notify(error.message, "error");
  }
  renderAgentState();
  if (!desk.activeId) renderEmpty();
}

// ------------------------------------------------------------------ the stream

function onStatus(status) {
  const link = desk.nodes.link;
  link.dataset.status = status;
  link.textContent = status === "live" ? "Live" : "Reconnecting…";
}

function onSignal(frame) {
  if (frame.signal !== "typing" || frame.who !== "customer") return;
  const conversation = desk.conversations.get(frame.interaction_id);
  if (!conversation) return;
  conversation.typingUntil = frame.typing === false ? 0 : Date.now() + 6000;
  renderTyping(conversation);
}

async function onEvent(event) {
  if (!desk.ready) { desk.pending.push(event); return; }
  await handle(event);
}

// Events (and resyncs) are applied one after the other, in order; the seq is saved after each.
let chain = Promise.resolve();
function inTurn(work, seq, what) {
  chain = chain.then(work).catch((error) => console.error(what, error)).then(() => save({ seq }));
  return chain;
}

function handle(event) {
  return inTurn(() => apply(event), event.seq, "desktop event");
}

/** The stream skipped the events up to seq (too many to replay): read again what they would
 * have changed — the agent, and each interaction shown or now theirs — in the events' order.
 * Before the desktop is ready its start reads all of it anyway. */
function onResync(seq) {
  inTurn(async () => { if (desk.ready) await reloadShown(); }, seq, "desktop resync");
}

async function reloadShown() {
  desk.me = await api("agents/me");
  renderAgentState();
  const open = await api(`interactions?agent_id=${desk.me.id}&open=true&limit=200`);
  const gone = new Set([...desk.offers.keys(), ...desk.conversations.keys()]);
  for (const interaction of open) {
    const shown = desk.conversations.has(interaction.id);
    gone.delete(interaction.id);
    await reconcile(interaction);
    if (shown && desk.conversations.has(interaction.id)) await reloadLog(interaction.id);
  }
  for (const id of gone) await reconcile(await api(`interactions/${id}`));
}

/** Messages and notes of a conversation shown all along that the skipped events carried. */
async function reloadLog(id) {
  const [messages, context] = await Promise.all([
    api(`interactions/${id}/messages`), api(`interactions/${id}/context`)]);
  for (const message of messages) addMessage(id, message);
  for (const note of context.notes) addNote(id, note);
}

async function apply(event) {
  const id = event.subject;
  const payload = event.payload || {};
  if (event.type === "agent.state_changed" && id === desk.me.id) {
    Object.assign(desk.me, { state: payload.state, state_reason: payload.reason || null,
                             state_since: event.occurred_at });
    renderAgentState();
    if (event.actor !== `user:${desk.user.id}`) notify(`Your state is now ${STATE_NAMES[payload.state] || payload.state}`);
    if (!desk.activeId) renderEmpty();
    return;
  }
  if (event.type === "offer.created" && payload.agent_id === desk.me.id && payload.expires_at) {
    remember("offers", id, { expires_at: payload.expires_at, transfer: Boolean(payload.transfer_from) });
  }
  if (event.type === "interaction.wrap_up_started") remember("wrap", id, event.occurred_at);
  if (event.type === "message.created") {
    addMessage(id, { ...payload, id: payload.message_id, interaction_id: id, created_at: event.occurred_at,
                     attachments: [] });
    if (payload.attachments > 0) loadAttachments(id, payload.message_id);  // the event has the count
    return;
  }
  if (["message.delivered", "message.failed", "message.read"].includes(event.type)) {
    return messageStatus(id, payload.message_id, event.type.split(".")[1], payload.error);
  }
  if (event.type === "note.created") return addNote(id, { id: payload.note_id, interaction_id: id,
    kind: payload.kind, body: payload.body, author_name: payload.author_name, author_id: payload.author_id,
    created_at: event.occurred_at });
  if (event.type.startsWith("interaction.") || event.type.startsWith("offer.")) {
    const interaction = await api(`interactions/${id}`);
    const wasMine = desk.conversations.has(id);
    await reconcile(interaction);
    if (wasMine && !desk.conversations.has(id) && event.type === "interaction.transferred") {
      notify("Transferred");
    }
  }
}

// ------------------------------------------------------------------ reconcile rows

/** Make the desktop agree with the interaction's row: an offer, a conversation, or nothing. */
async function reconcile(interaction) {
  const id = interaction.id;
  const mine = interaction.agent_id === desk.me.id;
  if (interaction.state === "offered" && mine) {
    if (!desk.offers.has(id)) await addOffer(interaction);
  } else if (desk.offers.delete(id)) {
    remember("offers", id);
    renderOffers();
  }
  if (WORKING.has(interaction.state) && mine) {
    const conversation = desk.conversations.get(id);
    if (conversation) {
      conversation.interaction = interaction;
      renderConversation(conversation);
    } else {
      await openConversation(interaction);
    }
  } else if (desk.conversations.has(id)) {
    closeConversation(id);
  }
  renderList();
}

// ------------------------------------------------------------------ offers and screen pop

async function addOffer(interaction) {
  const id = interaction.id;
  const known = saved().offers?.[id] || {};
  const offer = { interaction, expiresAt: known.expires_at ?? null, transferFrom: known.transfer,
                  context: null, messages: [] };
  desk.offers.set(id, offer);
  renderOffers();
  [offer.context, offer.messages] = await Promise.all([
    api(`interactions/${id}/context`), api(`interactions/${id}/messages`)]);
  renderOffers();
  if (!desk.activeId) renderContext(offer.context);
  document.title = `(${desk.offers.size}) Incoming — omnidesk agent`;
}

function renderOffers() {
  const cards = [...desk.offers.values()].map(offerCard);
  desk.nodes.offers.replaceChildren(...(cards.length ? cards : [el("p", { class: "empty-list" }, "Nothing ringing.")]));
  if (desk.offers.size) ring.start(); else { ring.stop(); document.title = "omnidesk — agent"; }
  syncPhone();
}

/** Tell the browser phone which calls ring and which one the agent is on. */
function syncPhone() {
  const offerName = (offer) => offer.context?.customer?.display_name
    || offer.context?.customer?.identities?.[0]?.value || "a caller";
  updatePhone(
    [...desk.offers.values()].map((offer) => ({ id: offer.interaction.id, channel: offer.interaction.channel,
                                               state: offer.interaction.state, name: offerName(offer) })),
    [...desk.conversations.values()].map((c) => ({ id: c.id, channel: c.interaction.channel,
                                                   state: c.interaction.state, name: customerName(c) })));
}

function offerCard(offer) {
  const { interaction, context } = offer;
  const customer = context?.customer;
  const name = customer?.display_name || customer?.identities?.[0]?.value || "A customer";
  const titleId = `offer-${interaction.id}`;
  const firstCustomer = offer.messages.filter((m) => m.author_kind === "customer").at(-1);
  const expires = offer.expiresAt ? new Date(offer.expiresAt * 1000) : null;
  const collected = Object.entries(context?.self_service || {});
  const transfer = offer.transferFrom;
  return el("section", { class: "offer", "aria-labelledby": titleId, dataset: { interactionId: interaction.id } },
    el("h3", { id: titleId }, el("span", { class: "channel-badge", dataset: { channel: interaction.channel } },
      interaction.channel), " ", name),
    interaction.subject ? el("p", { class: "preview" }, el("strong", {}, interaction.subject)) : null,
    firstCustomer ? el("p", { class: "preview" }, `“${firstCustomer.body}”`) : null,
    el("dl", {},
      context?.queue_name ? [el("dt", {}, "Queue"), el("dd", {}, context.queue_name)] : null,
      (customer?.identities || []).flatMap((i) => [el("dt", {}, i.kind), el("dd", {}, i.value)]),
      context ? [el("dt", {}, "History"), el("dd", {},
        `${context.past_interactions.length} past, ${context.open_interactions.length} other open`)] : null,
      collected.length ? [el("dt", {}, "Self-service"), el("dd", {},
        collected.map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", "))] : null,
      transfer ? [el("dt", {}, "Transfer"), el("dd", {}, "from a colleague")] : null),
    offer.messages.some((m) => m.author_kind === "bot") ? el("details", {},
      el("summary", {}, `Self-service transcript (${offer.messages.length} messages)`),
      offer.messages.map((m) => el("p", { class: "preview" }, `${m.author_kind === "bot" ? "Bot" : name}: ${m.body}`))) : null,
    expires ? [
      el("p", { class: "countdown" }, "Expires in ", el("span", { dataset: { until: expires.toISOString() } },
        duration((expires - Date.now()) / 1000))),
      el("progress", { max: "100", value: "100", "aria-label": "Time left to answer",
                       dataset: { until: expires.toISOString(), total: String(Math.max(1, (expires - Date.now()) / 1000)) } }),
    ] : el("p", { class: "countdown" }, "Ringing"),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "accept", "aria-keyshortcuts": "Alt+A",
                     onclick: () => answer(interaction.id, "accept") }, "Accept"),
      el("button", { type: "button", class: "danger", "aria-keyshortcuts": "Alt+R",
                     onclick: () => answer(interaction.id, "reject") }, "Reject")));
}

async function answer(id, verb) {
  try {
    const interaction = await api(`interactions/${id}/${verb}`, { method: "POST" });
    await reconcile(interaction);
    if (verb === "accept") activate(id);
  } catch (error) {
    notify(error.status === 409 ? "That offer is gone (it timed out or was withdrawn)." : error.message, "error");
    desk.offers.delete(id);
    remember("offers", id);
    renderOffers();
  }
}

// ------------------------------------------------------------------ conversations

async function openConversation(interaction) {
  const id = interaction.id;
  const conversation = { id, interaction, messages: new Map(), notes: new Map(), context: null,
                         timeline: null, unread: 0, typingUntil: 0, mode: "reply", statuses: new Map(),
                         files: [] };
  desk.conversations.set(id, conversation);
  buildView(conversation);
  const [messages, context] = await Promise.all([
    api(`interactions/${id}/messages`), api(`interactions/${id}/context`)]);
  for (const message of messages) conversation.messages.set(message.position, message);
  for (const note of context.notes) conversation.notes.set(note.id, note);
  conversation.context = context;
  conversation.view.textarea.value = saved().drafts?.[id] || "";
  renderConversation(conversation);
  loadTimeline(conversation);
  if (!desk.activeId) activate(id);
}

function closeConversation(id) {
  const conversation = desk.conversations.get(id);
  desk.conversations.delete(id);
  remember("wrap", id);
  remember("drafts", id);
  if (conversation?.interaction.state === "wrap_up") notify("Wrap-up finished");
  if (desk.activeId === id) {
    desk.activeId = null;
    const next = [...desk.conversations.keys()][0];
    if (next) activate(next); else renderEmpty();
  }
}

function activate(id) {
  const conversation = desk.conversations.get(id);
  if (!conversation) return;
  desk.activeId = id;
  conversation.unread = 0;
  save({ active: id });
  desk.nodes.main.replaceChildren(conversation.view.root);
  renderConversation(conversation);
  renderContext(conversation.context, conversation);
  renderList();
  scrollDown(conversation);
}

function customerName(conversation) {
  const customer = conversation.context?.customer;
  return customer?.display_name || customer?.identities?.[0]?.value || "Customer";
}

function renderList() {
  const items = [...desk.conversations.values()].map((conversation, index) => {
    const { interaction } = conversation;
    const last = [...conversation.messages.values()].at(-1);
    return el("li", {}, el("button", {
      type: "button", "aria-current": String(conversation.id === desk.activeId),
      "aria-keyshortcuts": index < 9 ? `Alt+${index + 1}` : undefined,
      dataset: { interactionId: conversation.id }, onclick: () => activate(conversation.id) },
      el("span", { class: "channel-badge", dataset: { channel: interaction.channel } }, interaction.channel),
      el("span", { class: "who" }, customerName(conversation)),
      conversation.unread ? el("span", { class: "unread" }, `${conversation.unread} new`) : el("span"),
      el("span", { class: "meta" }, interaction.state === "connected" ? "" : `${stateLabel(interaction.state)} · `,
        interaction.subject || (last ? last.body.slice(0, 60) : ""))));
  });
  desk.nodes.list.replaceChildren(...(items.length ? items : [el("li", { class: "empty-list" }, "No open conversations.")]));
  syncPhone();
}

function stateLabel(state) {
  return { connected: "Connected", on_hold: "On hold", wrap_up: "Wrap-up" }[state] || state;
}

function buildView(conversation) {
  const id = conversation.id;
  const textarea = el("textarea", { id: `reply-${id}`, "aria-autocomplete": "list",
                                    "aria-controls": `suggest-${id}`, "aria-keyshortcuts": "Control+Enter" });
  const suggestions = el("ul", { class: "suggestions", id: `suggest-${id}`, role: "listbox",
                                 "aria-label": "Canned responses", hidden: true });
  const label = el("label", { for: `reply-${id}` });
  const send = el("button", { type: "submit", class: "primary" }, "Send");
  const modeReply = el("input", { type: "radio", name: `mode-${id}`, id: `mode-reply-${id}`, value: "reply", checked: true });
  const modeNote = el("input", { type: "radio", name: `mode-${id}`, id: `mode-note-${id}`, value: "note" });
  const emailing = conversation.interaction.channel === "email";  // only email sends files
  const fileInput = emailing ? el("input", { type: "file", id: `file-${id}`, multiple: true,
                                             onchange: () => attach(conversation) }) : null;
  const attached = el("ul", { class: "attached", "aria-label": "Files to send", "aria-live": "polite" });
  const composer = el("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); submit(conversation); } },
    el("div", { class: "modes", role: "radiogroup", "aria-label": "Write a" },
      el("span", {}, modeReply, " ", el("label", { for: `mode-reply-${id}` }, "Reply to customer")),
      el("span", {}, modeNote, " ", el("label", { for: `mode-note-${id}` }, "Internal note (staff only)"))),
    label, textarea, suggestions, attached,
    el("div", { class: "row" },
      el("span", { class: "hint" }, "Type / for canned responses · Ctrl+Enter sends"),
      fileInput ? el("span", { class: "attach" }, el("label", { for: `file-${id}` }, "Attach files"), " ", fileInput) : null,
      desk.nodes.cannedPicker.cloneNode(true), send));
  const picker = composer.querySelector(".canned-picker");
  picker.id = `canned-${id}`;
  picker.addEventListener("change", () => {
    const canned = desk.canned.find((c) => c.id === picker.value);
    picker.value = "";
    if (canned) { insertAt(textarea, textarea.selectionStart, fillFor(conversation, canned.body)); textarea.focus(); }
  });
  for (const radio of [modeReply, modeNote]) radio.addEventListener("change", () => setMode(conversation, radio.value));
  textarea.addEventListener("input", () => { suggest(conversation); typing(conversation); draft(conversation); });
  textarea.addEventListener("keydown", (event) => composerKey(conversation, event));
  textarea.addEventListener("blur", () => setTimeout(() => { suggestions.hidden = true; }, 150));
  const view = {
    root: el("div", { class: "view", dataset: { interactionId: id } }),
    header: el("header", { class: "conv-header" }),
    log: el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages and notes", tabindex: "0" }),
    typing: el("p", { class: "typing", "aria-live": "polite" }),
    composer, textarea, suggestions, label, send, modeReply, modeNote, fileInput, attached,
    wrapup: el("form", { class: "wrapup", onsubmit: (e) => { e.preventDefault(); finishWrapUp(conversation); } }),
  };
  view.root.append(view.header, view.log, view.typing, view.composer, view.wrapup);
  conversation.view = view;
}

function renderConversation(conversation) {
  const { interaction, view } = conversation;
  const state = interaction.state;
  const name = customerName(conversation);
  const hold = state === "on_hold"
    ? el("button", { type: "button", "aria-keyshortcuts": "Alt+H", onclick: () => move(conversation, "connected") }, "Resume")
    : el("button", { type: "button", "aria-keyshortcuts": "Alt+H", disabled: state !== "connected",
                     onclick: () => move(conversation, "on_hold") }, "Hold");
  const working = state !== "wrap_up";
  view.header.replaceChildren(...[
    el("h2", {}, name),
    el("span", { class: "channel-badge", dataset: { channel: interaction.channel } }, interaction.channel),
    el("span", { class: "state-badge", dataset: { state } }, stateLabel(state)),
    interaction.connected_at ? el("span", { class: "timer", title: "Handle time" },
      el("span", { class: "visually-hidden" }, "Handle time "),
      el("span", { dataset: { since: interaction.connected_at } }, duration((Date.now() - Date.parse(interaction.connected_at)) / 1000))) : null,
    el("div", { class: "tools" },
      working ? hold : null,
      working ? el("button", { type: "button", "aria-keyshortcuts": "Alt+T", onclick: () => openTransfer(conversation) }, "Transfer") : null,
      el("button", { type: "button", "aria-keyshortcuts": "Alt+C", onclick: () => openConsult(conversation) }, "Consult supervisor"),
      working ? el("button", { type: "button", "aria-keyshortcuts": "Alt+W", onclick: () => move(conversation, "wrap_up") }, "Wrap up") : null),
    interaction.channel === "email" && interaction.subject
      ? el("p", { class: "subject" }, el("span", { class: "visually-hidden" }, "Subject: "), interaction.subject) : null,
  ].filter(Boolean));
  view.label.textContent = conversation.mode === "note" ? `Internal note on ${name}'s conversation` : `Reply to ${name}`;
  view.send.textContent = conversation.mode === "note" ? "Save note" : "Send";
  view.composer.classList.toggle("note-mode", conversation.mode === "note");
  renderLog(conversation);
  renderTyping(conversation);
  renderWrapUp(conversation);
}

function renderLog(conversation) {
  const names = { customer: customerName(conversation), me: `user:${desk.user.id}` };
  const items = [
    ...[...conversation.messages.values()].map((m) => ({ at: m.created_at, order: m.position, node: () =>
      messageView({ ...m, ...(conversation.statuses.get(m.id) || {}) }, conversation.interaction.channel, names) })),
    ...[...conversation.notes.values()].map((n) => ({ at: n.created_at, order: 0.5, node: () => noteView(n) })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.order - b.order);
  const log = conversation.view.log;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.replaceChildren(...items.map((item) => item.node()));
  if (atBottom) scrollDown(conversation);
}

function scrollDown(conversation) {
  const log = conversation.view.log;
  log.scrollTop = log.scrollHeight;
}

function renderTyping(conversation) {
  const typing = conversation.typingUntil > Date.now();
  const text = typing ? `${customerName(conversation)} is typing…` : "";
  if (conversation.view.typing.textContent !== text) conversation.view.typing.textContent = text;
}

function addMessage(id, message) {
  const conversation = desk.conversations.get(id);
  const offer = desk.offers.get(id);
  if (offer && !offer.messages.some((m) => m.position === message.position)) {
    offer.messages.push(message);
    renderOffers();
  }
  const known = conversation?.messages.get(message.position);
  if (known && !known.attachments?.length && message.attachments?.length) {
    known.attachments = message.attachments;  // the stream's copy came first, without the files
    renderLog(conversation);
    return;
  }
  if (!conversation || known) return;
  conversation.messages.set(message.position, message);
  if (message.author_kind === "whisper") notify("Your supervisor whispered to you");
  if (message.author_kind === "customer") {
    conversation.typingUntil = 0;
    if (desk.activeId !== id) conversation.unread += 1;
    refreshKnowledge(conversation);
  }
  renderLog(conversation);
  renderTyping(conversation);
  renderList();
}

async function loadAttachments(id, messageId) {
  if (!desk.conversations.has(id)) return;
  try {
    const found = (await api(`interactions/${id}/messages`)).find((m) => m.id === messageId);
    if (found) addMessage(id, found);
  } catch { /* shown with the conversation's next load */ }
}

function messageStatus(id, messageId, status, error) {
  const conversation = desk.conversations.get(id);
  if (!conversation) return;
  conversation.statuses.set(messageId, { status, error });
  renderLog(conversation);
}

function addNote(id, note) {
  const conversation = desk.conversations.get(id);
  if (!conversation || conversation.notes.has(note.id)) return;
  conversation.notes.set(note.id, note);
  if (note.author_id !== `user:${desk.user.id}`) notify(`${note.author_name} added a note`);
  renderLog(conversation);
}

// ------------------------------------------------------------------ composer

function setMode(conversation, mode) {
  conversation.mode = mode;
  conversation.view.modeReply.checked = mode === "reply";
  conversation.view.modeNote.checked = mode === "note";
  renderConversation(conversation);
}

function fillFor(conversation, body) {
  return fill(body, { customer: conversation.context?.customer, agent: desk.me, interaction: conversation.interaction });
}

function renderCannedPicker() {
  desk.nodes.cannedPicker.replaceChildren(el("option", { value: "" }, "Canned response…"),
    ...desk.canned.map((c) => el("option", { value: c.id }, `/${c.shortcut} — ${c.title}`)));
  for (const conversation of desk.conversations.values()) {
    const picker = conversation.view.composer.querySelector(".canned-picker");
    picker.replaceChildren(...[...desk.nodes.cannedPicker.options].map((o) => o.cloneNode(true)));
  }
}

function suggest(conversation) {
  const { textarea, suggestions } = conversation.view;
  const token = slashToken(textarea);
  const found = token ? matching(desk.canned, token.typed) : [];
  conversation.suggestion = { token, found, index: 0 };
  if (!found.length) { suggestions.hidden = true; textarea.removeAttribute("aria-activedescendant"); return; }
  suggestions.replaceChildren(...found.map((canned, index) => el("li", {
    role: "option", id: `option-${conversation.id}-${index}`, "aria-selected": String(index === 0),
    onmousedown: (event) => { event.preventDefault(); pick(conversation, index); } },
    el("span", { class: "shortcut" }, `/${canned.shortcut}`), " ", canned.title, " — ",
    el("span", { class: "snippet" }, canned.body.slice(0, 60)))));
  suggestions.hidden = false;
  textarea.setAttribute("aria-activedescendant", `option-${conversation.id}-0`);
}

function highlight(conversation, index) {
  const { found } = conversation.suggestion;
  conversation.suggestion.index = (index + found.length) % found.length;
  [...conversation.view.suggestions.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === conversation.suggestion.index)));
  conversation.view.textarea.setAttribute("aria-activedescendant", `option-${conversation.id}-${conversation.suggestion.index}`);
}

function pick(conversation, index) {
  const { token, found } = conversation.suggestion;
  const canned = found[index];
  const { textarea, suggestions } = conversation.view;
  suggestions.hidden = true;
  textarea.removeAttribute("aria-activedescendant");
  insertAt(textarea, token.start, fillFor(conversation, canned.body));
  textarea.focus();
}

function composerKey(conversation, event) {
  const open = !conversation.view.suggestions.hidden && conversation.suggestion?.found.length;
  if (open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    highlight(conversation, conversation.suggestion.index + (event.key === "ArrowDown" ? 1 : -1));
  } else if (open && (event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    pick(conversation, conversation.suggestion.index);
  } else if (open && event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    conversation.view.suggestions.hidden = true;
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    submit(conversation);
  }
}

let typingSent = 0;
let typingRoute = true;
function typing(conversation) {
  if (!typingRoute || conversation.mode === "note" || Date.now() - typingSent < 3000) return;
  typingSent = Date.now();
  api(`interactions/${conversation.id}/typing`, { method: "POST", body: { typing: true } }).catch((error) => {
    if (error.status === 404 || error.status === 405) typingRoute = false;  // no typing signals here
  });
}

/** POST a file as the raw body (the API client sends JSON only); refreshes the token once. */
async function uploadFile(conversation, file) {
  const path = `/api/v1/interactions/${conversation.id}/attachments?filename=${encodeURIComponent(file.name)}`;
  const send = () => fetch(path, { method: "POST", body: file, headers: {
    "Content-Type": file.type || "application/octet-stream",
    Authorization: `Bearer ${currentSession()?.access_token}` } });
  let response = await send();
  if (response.status === 401) {
    await api(`interactions/${conversation.id}`);  // the API client refreshes the token
    response = await send();
  }
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

async function attach(conversation) {
  const input = conversation.view.fileInput;
  for (const file of [...input.files]) {
    try {
      conversation.files.push(await uploadFile(conversation, file));
    } catch (error) {
      notify(`${file.name}: ${error.message}`, "error");
    }
  }
  input.value = "";
  renderAttached(conversation);
}

function renderAttached(conversation) {
  const { attached } = conversation.view;
  attached.replaceChildren(...conversation.files.map((file, index) => el("li", {},
    `${file.filename} (${fileSize(file.size)}) `,
    el("button", { type: "button", class: "link", "aria-label": `Remove ${file.filename}`, onclick: () => {
      conversation.files.splice(index, 1);
      renderAttached(conversation);
    } }, "Remove"))));
}

function draft(conversation) {
  remember("drafts", conversation.id, conversation.view.textarea.value || undefined);
}

async function submit(conversation) {
  const { textarea, send } = conversation.view;
  const body = textarea.value.trim();
  if (!body) { textarea.focus(); return; }
  send.disabled = true;
  try {
    if (conversation.mode === "note") {
      const note = await api(`interactions/${conversation.id}/notes`, { method: "POST", body: { body } });
      addNote(conversation.id, note);
    } else {
      const attachments = conversation.files.map((file) => ({ id: file.id }));
      const message = await api(`interactions/${conversation.id}/messages`, { method: "POST", body: { body, attachments } });
      conversation.files = [];
      renderAttached(conversation);
      addMessage(conversation.id, message);
    }
    textarea.value = "";
    draft(conversation);
    scrollDown(conversation);
  } catch (error) {
    notify(error.message, "error");
  } finally {
    send.disabled = false;
    textarea.focus();
  }
}

// ------------------------------------------------------------------ state moves, wrap-up

async function move(conversation, state, extra = {}) {
  try {
    const interaction = await api(`interactions/${conversation.id}/state`, { method: "POST", body: { state, ...extra } });
    if (state === "wrap_up" && !saved().wrap?.[conversation.id]) remember("wrap", conversation.id, new Date().toISOString());
    await reconcile(interaction);
  } catch (error) {
    notify(error.message, "error");
  }
}

function renderWrapUp(conversation) {
  const { view, interaction } = conversation;
  const wrapping = interaction.state === "wrap_up";
  view.composer.hidden = wrapping;
  view.wrapup.hidden = !wrapping;
  if (!wrapping) { view.wrapup.replaceChildren(); return; }
  if (view.wrapup.childElementCount) return;  // keep what the agent picked
  const since = saved().wrap?.[conversation.id] || new Date().toISOString();
  const id = conversation.id;
  view.wrapup.append(
    el("h3", {}, "Wrap-up · after-contact work ", el("span", { class: "acw", dataset: { since } }, "0:00")),
    el("div", { class: "row" },
      el("label", { for: `disposition-${id}` }, "Disposition"),
      el("select", { id: `disposition-${id}`, name: "disposition", required: true, onchange: (event) => {
        const chosen = desk.dispositions.find(([code]) => code === event.target.value);
        if (chosen) view.wrapup.querySelector("input[type=checkbox]").checked = chosen[2];
      } },
        el("option", { value: "" }, "Choose…"), desk.dispositions.map(([value, label]) => el("option", { value }, label))),
      el("span", {}, el("input", { type: "checkbox", id: `resolved-${id}`, name: "resolved", checked: true }), " ",
        el("label", { for: `resolved-${id}` }, "Resolved"))),
    el("div", { class: "row" },
      el("button", { type: "submit", class: "primary" }, "Finish wrap-up"),
      el("span", { class: "hint" }, "You go back to Available when wrap-up ends.")));
  view.wrapup.querySelector("select").focus();
}

async function finishWrapUp(conversation) {
  const form = conversation.view.wrapup;
  const disposition = form.querySelector("select").value;
  if (!disposition) { notify("Choose a disposition", "error"); form.querySelector("select").focus(); return; }
  await move(conversation, "closed", { disposition, resolved: form.querySelector("input[type=checkbox]").checked });
}

// ------------------------------------------------------------------ transfer and consult

function transferDialog() {
  const dialog = el("dialog", { id: "transfer", "aria-labelledby": "transfer-title" });
  return dialog;
}

function openTransfer(conversation) {
  const dialog = desk.nodes.transfer;
  const error = el("p", { class: "error", role: "alert" });
  const queue = el("select", { id: "transfer-queue", name: "queue_id" },
    desk.queues.map((q) => el("option", { value: q.id }, `${q.name} (${q.channel})`)));
  const agent = el("select", { id: "transfer-agent", name: "agent_id" });
  const note = el("textarea", { id: "transfer-note", name: "note", rows: "3" });
  const toQueue = el("input", { type: "radio", name: "to", id: "to-queue", value: "queue", checked: true });
  const toAgent = el("input", { type: "radio", name: "to", id: "to-agent", value: "agent" });
  const loadAgents = async () => {
    desk.agents = await api("agents");
    agent.replaceChildren(...desk.agents.filter((a) => a.id !== desk.me.id).map((a) =>
      el("option", { value: a.id, disabled: a.state !== "available" }, `${a.name} — ${STATE_NAMES[a.state] || a.state}`)));
  };
  const form = el("form", { method: "dialog", onsubmit: async (event) => {
    event.preventDefault();
    const body = toQueue.checked ? { queue_id: queue.value } : { agent_id: agent.value };
    if (note.value.trim()) body.note = note.value.trim();
    try {
      const interaction = await api(`interactions/${conversation.id}/transfer`, { method: "POST", body });
      dialog.close();
      notify(toQueue.checked ? "Transferred to the queue" : "Ringing your colleague…");
      await reconcile(interaction);
    } catch (e) { error.textContent = e.message; }
  } },
    el("fieldset", {}, el("legend", {}, "Transfer to"),
      el("span", {}, toQueue, " ", el("label", { for: "to-queue" }, "A queue")),
      el("span", {}, toAgent, " ", el("label", { for: "to-agent" }, "An agent"))),
    el("label", { for: "transfer-queue" }, "Queue"), queue,
    el("label", { for: "transfer-agent" }, "Agent (available ones can take it)"), agent,
    el("label", { for: "transfer-note" }, "Note for whoever takes it (internal)"), note,
    error,
    el("div", { class: "buttons" },
      el("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      el("button", { type: "submit", class: "primary" }, "Transfer")));
  dialog.replaceChildren(el("h2", { id: "transfer-title" }, `Transfer ${customerName(conversation)}`), form);
  loadAgents().catch(() => {});
  dialog.showModal();
}

function consultDialog() {
  return el("dialog", { id: "consult", "aria-labelledby": "consult-title" });
}

function openConsult(conversation) {
  const dialog = desk.nodes.consult;
  const text = el("textarea", { id: "consult-body", rows: "4", required: true });
  const error = el("p", { class: "error", role: "alert" });
  dialog.replaceChildren(el("h2", { id: "consult-title" }, "Consult a supervisor"),
    el("form", { onsubmit: async (event) => {
      event.preventDefault();
      try {
        const note = await api(`interactions/${conversation.id}/notes`, { method: "POST",
          body: { kind: "consult", body: text.value } });
        addNote(conversation.id, note);
        dialog.close();
        notify("Sent to the supervisors; their answer appears in the conversation");
      } catch (e) { error.textContent = e.message; }
    } },
      el("p", {}, "Supervisors see your question live, with this conversation; the customer never does."),
      el("label", { for: "consult-body" }, "Your question"), text, error,
      el("div", { class: "buttons" },
        el("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        el("button", { type: "submit", class: "primary" }, "Ask"))));
  dialog.showModal();
  text.focus();
}

// ------------------------------------------------------------------ the customer panel

async function loadTimeline(conversation) {
  const customerId = conversation.interaction.customer_id;
  conversation.timeline = await api(`customers/${customerId}/timeline`);
  if (desk.activeId === conversation.id) renderContext(conversation.context, conversation);
  refreshKnowledge(conversation);
}

async function refreshKnowledge(conversation) {
  if (!desk.knowledge) return;
  try {
    const found = await api(`knowledge/suggestions?interaction_id=${conversation.id}`);
    conversation.articles = found.articles || [];
  } catch (error) {
    if (error.status === 404 || error.status === 405) desk.knowledge = false;  // no knowledge base
    conversation.articles = [];
  }
  if (desk.activeId === conversation.id) renderContext(conversation.context, conversation);
}

function attributeRows(attributes) {
  return Object.entries(attributes || {}).flatMap(([key, value]) =>
    [el("dt", {}, key), el("dd", {}, typeof value === "object" ? JSON.stringify(value) : String(value))]);
}

function renderContext(context, conversation = null) {
  const panel = desk.nodes.context;
  if (!context) {
    panel.replaceChildren(el("h2", {}, "Customer"), el("p", { class: "empty-list" }, "Open a conversation to see the customer."));
    return;
  }
  const { customer } = context;
  const collected = context.self_service || {};
  const sections = [
    el("section", { "aria-labelledby": "customer-title" },
      el("h2", { id: "customer-title" }, "Customer"),
      el("p", { class: "customer-name" }, customer.display_name || "Unnamed customer"),
      el("dl", {}, customer.identities.flatMap((i) => [el("dt", {}, i.kind), el("dd", {}, i.value)]),
        attributeRows(customer.attributes))),
  ];
  if (Object.keys(collected).length) {
    sections.push(el("section", { "aria-labelledby": "selfservice-title" },
      el("h2", { id: "selfservice-title" }, "Self-service collected"), el("dl", {}, attributeRows(collected))));
  }
  if (desk.knowledge && conversation) {
    const articles = conversation.articles || [];
    sections.push(el("section", { "aria-labelledby": "kb-title", class: "knowledge" },
      el("h2", { id: "kb-title" }, "Suggested articles"),
      articles.length ? el("ul", { class: "articles" }, articles.map((a) => el("li", {},
        a.url ? el("a", { href: a.url, target: "_blank", rel: "noopener" }, a.title) : el("strong", {}, a.title),
        el("span", { class: "snippet" }, plain(a.snippet)),
        a.url ? el("button", { type: "button", onclick: () => insertLink(conversation, a) },
          `Insert link to “${a.title}”`) : null)))
        : el("p", { class: "empty-list" }, "No suggestions yet.")));
  }
  const timeline = conversation?.timeline;
  sections.push(el("section", { "aria-labelledby": "history-title" },
    el("h2", { id: "history-title" }, "Timeline"),
    timeline ? el("ul", { class: "timeline" }, [...timeline].reverse().map((entry) => {
      const current = entry.interaction_id === conversation.id;
      return el("li", { class: current ? "current" : "" }, el("details", {},
        el("summary", {}, `${new Date(entry.created_at).toLocaleString()} · ${entry.channel} · ${entry.state}`,
          current ? " (this one)" : "", entry.subject ? ` · ${entry.subject}` : ""),
        entry.messages.slice(-20).map((m) => el("p", {}, el("span", { class: "by" }, `${m.author_kind}: `), m.body))));
    })) : el("p", { class: "empty-list" }, context.past_interactions.length
      ? `${context.past_interactions.length} past interactions` : "First contact.")));
  panel.replaceChildren(...sections);
}

/** The text of an HTML snippet (search snippets mark matched words with <mark>). */
function plain(html) {
  return new DOMParser().parseFromString(html || "", "text/html").body.textContent || "";
}

function insertLink(conversation, article) {
  const { textarea } = conversation.view;
  insertAt(textarea, textarea.selectionStart, `${article.title}: ${new URL(article.url, location.origin).href}`);
  textarea.focus();
  // Counts for the knowledge base's analytics (which articles answer contacts).
  api(`knowledge/articles/${article.id}/uses`, { method: "POST", body: { interaction_id: conversation.id } })
    .catch(() => {});
}

// ------------------------------------------------------------------ keyboard and clock

function activeConversation() {
  return desk.activeId ? desk.conversations.get(desk.activeId) : null;
}

function onKey(event) {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const conversation = activeConversation();
  const first = [...desk.offers.keys()][0];
  const ids = [...desk.conversations.keys()];
  const code = event.code;
  let done = true;
  if (code === "KeyA" && first) answer(first, "accept");
  else if (code === "KeyR" && first) answer(first, "reject");
  else if (code === "KeyK") desk.nodes.shortcuts.showModal();
  else if (code === "KeyS") desk.nodes.state.focus();
  else if (code === "ArrowDown" || code === "ArrowUp") {
    if (ids.length) {
      const at = ids.indexOf(desk.activeId);
      activate(ids[(at + (code === "ArrowDown" ? 1 : -1) + ids.length) % ids.length]);
    }
  } else if (/^Digit[1-9]$/.test(code) && ids[Number(code.slice(5)) - 1]) activate(ids[Number(code.slice(5)) - 1]);
  else if (!conversation) done = false;
  else if (code === "KeyN") { setMode(conversation, conversation.mode === "note" ? "reply" : "note"); conversation.view.textarea.focus(); }
  else if (code === "KeyH" && conversation.interaction.state !== "wrap_up") {
    move(conversation, conversation.interaction.state === "on_hold" ? "connected" : "on_hold");
  } else if (code === "KeyT" && conversation.interaction.state !== "wrap_up") openTransfer(conversation);
  else if (code === "KeyC") openConsult(conversation);
  else if (code === "KeyW" && conversation.interaction.state !== "wrap_up") move(conversation, "wrap_up");
  else done = false;
  if (done) event.preventDefault();
}

function tick() {
  const now = Date.now();
  for (const node of document.querySelectorAll("[data-until]")) {
    const left = Math.max(0, (Date.parse(node.dataset.until) - now) / 1000);
    if (node.tagName === "PROGRESS") node.value = String(Math.round((100 * left) / Number(node.dataset.total)));
    else node.textContent = duration(left);
  }
  for (const node of document.querySelectorAll("[data-since]")) {
    node.textContent = duration((now - Date.parse(node.dataset.since)) / 1000);
  }
  for (const conversation of desk.conversations.values()) renderTyping(conversation);
}

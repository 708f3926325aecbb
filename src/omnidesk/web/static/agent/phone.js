// The browser phone: the agent's calls over WebRTC to omnidesk's voice service, so a browser
// and a headset are all an agent needs. Turning it on asks for the microphone and opens one
// peer connection (our SDP offer with every candidate, omnidesk's answer: G.711) that stays up
// while the phone is on. A voice offer rings in the desktop as usual; answering it (here, on
// its card or with Alt+A) accepts the offer and omnidesk bridges the caller to this
// connection. Hang up ends the agent's leg: the call goes to wrap-up as with a SIP phone.
// With the phone on and free, the agent can also place a call: a number and Call dial it
// through the voice channel's SIP trunk ("Calling …", Hang up cancels) and bridge it here.
import { api, el, notify } from "../common/omnidesk.js";

const STORE = "omnidesk.phone";
const LIVE = new Set(["connected", "on_hold"]);

const phone = {
  available: false, status: "off", pc: null, stream: null, muted: false,
  incoming: null, call: null, actions: null, nodes: {}, statsTimer: null, dialling: null,
};

/** The Phone panel (hidden until the server says the browser phone is available). */
export function phonePanel(actions) {
  phone.actions = actions;
  const n = phone.nodes;
  n.toggle = el("button", { type: "button", id: "phone-toggle", "aria-pressed": "false", onclick: toggle },
    "Browser phone on");
  n.status = el("p", { class: "phone-status", role: "status" }, "Off");
  n.controls = el("div", { class: "actions phone-controls" });
  n.callerLevel = el("meter", { id: "phone-caller-level", min: "0", max: "1", value: "0" });
  n.micLevel = el("meter", { id: "phone-mic-level", min: "0", max: "1", value: "0" });
  n.levels = el("div", { class: "phone-levels", hidden: true },
    el("label", { for: "phone-caller-level" }, "Caller"), n.callerLevel,
    el("label", { for: "phone-mic-level" }, "Your microphone"), n.micLevel);
  n.number = el("input", { id: "phone-number", type: "tel", autocomplete: "off",
                            placeholder: "+49 30 1234567", inputmode: "tel" });
  n.dial = el("form", { class: "phone-dial", hidden: true, onsubmit: placeCall },
    el("label", { for: "phone-number" }, "Number to call"), n.number,
    el("button", { type: "submit", class: "accept" }, "Call"));
  n.audio = el("audio", { id: "phone-audio", autoplay: true });
  n.panel = el("section", { class: "phone", id: "phone", hidden: true, "aria-labelledby": "phone-title",
                            dataset: { status: "off" } },
    el("h2", { id: "phone-title" }, "Phone"), n.toggle, n.status, n.controls, n.dial, n.levels, n.audio);
  return n.panel;
}

/** Ask the server whether the browser phone works here; turn it back on after a reload. */
export async function startPhone() {
  try {
    const status = await api("voice/webrtc");
    phone.available = status.available;
  } catch {
    phone.available = false;
  }
  phone.nodes.panel.hidden = !phone.available;
  if (!phone.available) return;
  window.addEventListener("pagehide", () => phone.pc?.close());
  if (sessionStorage.getItem(STORE) === "on") await turnOn();
  render();
}

/** The desktop's offers and conversations changed: [{id, channel, state, name}]. */
export function updatePhone(offers, conversations) {
  phone.incoming = offers.find((o) => o.channel === "voice") || null;
  phone.call = conversations.find((c) => c.channel === "voice" && LIVE.has(c.state)) || null;
  render();
}

function setStatus(status) {
  phone.status = status;
  render();
}

async function toggle() {
  if (phone.pc) await turnOff(); else await turnOn();
}

function gathered(pc, seconds) {
  // Non-trickle: wait until every candidate is in the offer (or give up waiting).
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") finish(); };
    const finish = () => { pc.removeEventListener("icegatheringstatechange", done); resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(finish, seconds * 1000);
  });
}

async function turnOn() {
  if (!navigator.mediaDevices?.getUserMedia) {
    notify("The browser phone needs HTTPS (or localhost) and a browser with WebRTC.", "error");
    return;
  }
  setStatus("connecting");
  try {
    phone.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true }, video: false });
  } catch (error) {
    phone.stream = null;
    setStatus("off");
    notify(`No microphone: ${error.message || error.name}. Allow the microphone for this site.`, "error");
    return;
  }
  const pc = phone.pc = new RTCPeerConnection({ iceServers: [] });
  for (const track of phone.stream.getAudioTracks()) {
    track.enabled = !phone.muted;
    pc.addTrack(track, phone.stream);
  }
  pc.addEventListener("track", (event) => {
    phone.nodes.audio.srcObject = event.streams[0] || new MediaStream([event.track]);
    phone.nodes.audio.play().catch(() => {});
  });
  pc.addEventListener("connectionstatechange", () => {
    if (phone.pc !== pc) return;
    if (pc.connectionState === "connected") setStatus("on");
    else if (pc.connectionState === "failed" || pc.connectionState === "closed") {
      notify("The browser phone lost its connection; turn it on again.", "error");
      stopLocal();
    }
  });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 5);
    const answer = await api("voice/webrtc/offer", { method: "POST",
      body: { type: "offer", sdp: pc.localDescription.sdp } });
    await pc.setRemoteDescription(answer);
  } catch (error) {
    notify(`The browser phone could not connect: ${error.message}`, "error");
    stopLocal();
    return;
  }
  sessionStorage.setItem(STORE, "on");
  phone.statsTimer = setInterval(readStats, 500);
}

function stopLocal() {
  clearInterval(phone.statsTimer);
  phone.statsTimer = null;
  phone.pc?.close();
  phone.pc = null;
  for (const track of phone.stream?.getTracks() || []) track.stop();
  phone.stream = null;
  phone.nodes.audio.srcObject = null;
  setStatus("off");
}

async function turnOff() {
  sessionStorage.removeItem(STORE);
  stopLocal();
  try { await api("voice/webrtc", { method: "DELETE" }); } catch { /* gone anyway */ }
}

const FAILED = { busy: "the line is busy", no_answer: "nobody answered", declined: "the call was declined",
                 cancelled: "you hung up", failed: "the call failed" };

async function placeCall(event) {
  event.preventDefault();
  const number = phone.nodes.number.value.trim();
  if (!number || phone.dialling) return;
  phone.dialling = number;
  render();
  try {
    const result = await api("voice/webrtc/call", { method: "POST", body: { number } });
    if (result.answered) phone.nodes.number.value = "";
    else notify(`No call to ${number}: ${FAILED[result.reason] || result.reason}.`, "error");
  } catch (error) {
    notify(error.message, "error");
  } finally {
    phone.dialling = null;
    render();
  }
}

async function hangUp() {
  try {
    await api("voice/webrtc/hangup", { method: "POST" });
  } catch (error) {
    notify(error.message, "error");
  }
}

function toggleMute() {
  phone.muted = !phone.muted;
  for (const track of phone.stream?.getAudioTracks() || []) track.enabled = !phone.muted;
  render();
}

async function readStats() {
  const pc = phone.pc;
  if (!pc) return;
  const panel = phone.nodes.panel;
  for (const report of (await pc.getStats()).values()) {
    if (report.type === "inbound-rtp" && report.kind === "audio") {
      panel.dataset.packetsReceived = String(report.packetsReceived || 0);
      panel.dataset.audioEnergyReceived = String(report.totalAudioEnergy || 0);
      phone.nodes.callerLevel.value = report.audioLevel || 0;
    } else if (report.type === "outbound-rtp" && report.kind === "audio") {
      panel.dataset.packetsSent = String(report.packetsSent || 0);
    } else if (report.type === "media-source" && report.kind === "audio") {
      phone.nodes.micLevel.value = report.audioLevel || 0;
    }
  }
}

function render() {
  const { toggle: button, status, controls, levels, panel, dial } = phone.nodes;
  if (!panel) return;
  const on = Boolean(phone.pc);
  button.textContent = on ? "Browser phone off" : "Browser phone on";
  button.setAttribute("aria-pressed", String(on));
  levels.hidden = !on;
  let text = { off: "Off — calls ring your SIP phone, if you have one.", connecting: "Connecting…",
               on: "On — calls ring here." }[phone.status] || phone.status;
  let state = phone.status;
  const buttons = [];
  if (on && phone.status === "on" && phone.dialling) {
    state = "dialling";
    text = `Calling ${phone.dialling}…`;
    buttons.push(el("button", { type: "button", class: "danger", onclick: hangUp }, "Hang up"));
  } else if (on && phone.status === "on" && phone.call) {
    state = "call";
    text = `On a call with ${phone.call.name}${phone.call.state === "on_hold" ? " (on hold)" : ""}`;
    buttons.push(
      el("button", { type: "button", "aria-pressed": String(phone.muted), onclick: toggleMute },
        phone.muted ? "Unmute" : "Mute"),
      el("button", { type: "button", class: "danger", onclick: hangUp }, "Hang up"));
  } else if (on && phone.status === "on" && phone.incoming) {
    state = "ringing";
    const id = phone.incoming.id;
    text = `Incoming call from ${phone.incoming.name}`;
    buttons.push(
      el("button", { type: "button", class: "accept", onclick: () => phone.actions.accept(id) }, "Answer"),
      el("button", { type: "button", class: "danger", onclick: () => phone.actions.reject(id) }, "Decline"));
  }
  dial.hidden = !(on && state === "on");
  const key = `${state}|${text}|${phone.muted}|${phone.incoming?.id}`;
  if (panel.dataset.key === key) return;  // keep the buttons (and their focus)
  panel.dataset.key = key;
  panel.dataset.status = state;
  status.textContent = text;
  controls.replaceChildren(...buttons);
}

// Shared browser code of the omnidesk pages: sign-in, the API client, the live event stream.
// Plain ES module, no build step. Pages import what they need:
//   import { requireLogin, api, openStream, el } from "./common/omnidesk.js";

const STORE = "omnidesk.session";

/** The stored session ({tenant, access_token, refresh_token, user}) or null. */
export function currentSession() {
  const raw = sessionStorage.getItem(STORE);
  return raw ? JSON.parse(raw) : null;
}

function saveSession(session) {
  sessionStorage.setItem(STORE, JSON.stringify(session));
}

/** Forget the tokens and show the sign-in form again. */
export function signOut() {
  sessionStorage.removeItem(STORE);
  location.reload();
}

/** An error the API answered: the HTTP status, the message and the field it names. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code;
    this.field = error.field;
  }
}

async function refreshTokens(session) {
  const response = await fetch("/api/v1/auth/refresh", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh_token }),
  });
  if (!response.ok) return false;
  Object.assign(session, await response.json());
  saveSession(session);
  return true;
}

/** Call the API with the session's token; JSON in and out; refreshes an expired token once. */
export async function api(path, { method = "GET", body, raw = false } = {}) {
  const session = currentSession();
  const send = () => fetch(path.startsWith("/") ? path : `/api/v1/${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(session ? { Authorization: `Bearer ${session.access_token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let response = await send();
  if (response.status === 401 && session && await refreshTokens(session)) {
    response = await send();
  }
  if (response.status === 401) signOut();
  if (!response.ok) {
    let detail = null;
    try { detail = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** Make an element: el("button", {class: "primary", onclick}, "Accept"). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

/** Show a short message in the page's live region (read out by screen readers). */
export function notify(message, kind = "info") {
  let region = document.getElementById("notices");
  if (!region) {
    region = el("div", { id: "notices", class: "notices", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  const notice = el("p", { class: `notice ${kind}` }, message);
  region.append(notice);
  setTimeout(() => notice.remove(), 6000);
}

/** Format seconds as m:ss (or h:mm:ss). */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
}

function loginForm(container, page, onSignedIn) {
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "login", "aria-labelledby": "login-title" },
    el("h1", { id: "login-title" }, `omnidesk ${page}`),
    el("label", { for: "login-tenant" }, "Tenant"),
    el("input", { id: "login-tenant", name: "tenant", required: true, autocomplete: "organization",
                  value: new URLSearchParams(location.search).get("tenant") || "" }),
    el("label", { for: "login-email" }, "Email"),
    el("input", { id: "login-email", name: "email", type: "email", required: true,
                  autocomplete: "username" }),
    el("label", { for: "login-password" }, "Password"),
    el("input", { id: "login-password", name: "password", type: "password", required: true,
                  autocomplete: "current-password" }),
    el("button", { type: "submit", class: "primary" }, "Sign in"),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const data = Object.fromEntries(new FormData(form));
    const response = await fetch("/api/v1/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data),
    });
    const body = await response.json();
    if (!response.ok) { error.textContent = body.error?.message || "Sign-in failed"; return; }
    saveSession({ tenant: data.tenant, ...body });
    await start(container, onSignedIn);
  });
  container.replaceChildren(form);
  [...form.querySelectorAll("input")].find((input) => !input.value)?.focus();
}

async function start(container, onSignedIn) {
  const session = currentSession();
  session.user = await api("auth/me");
  saveSession(session);
  await onSignedIn(session);
}

/** Run onSignedIn(session) once the user is signed in, showing the sign-in form if needed. */
export async function requireLogin(container, page, onSignedIn) {
  if (currentSession()) {
    try { await start(container, onSignedIn); return; } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      sessionStorage.removeItem(STORE);
    }
  }
  loginForm(container, page, onSignedIn);
}

/**
 * The live event stream (/api/v1/stream): calls onEvent(event) for each event in order, once;
 * reconnects with back-off and resumes from the last seq seen, so a network drop loses nothing.
 * onStatus("live" | "reconnecting" | "forbidden") tells the page; onSignal(frame) gets ephemeral
 * signal frames (typing indicators); onRealtime(snapshot), if given, asks for the wallboard's
 * figures pushed on each change (supervisors and admins only). onResync(seq) is called when an
 * agent's stream was too far behind to replay: the events up to seq are skipped, and the page
 * reloads what it shows. Returns {close()}.
 */
export function openStream(onEvent, {
  since = null, onStatus = () => {}, onSignal = () => {}, onRealtime = null,
  onResync = () => {},
} = {}) {
  let lastSeq = since, socket = null, closed = false, delay = 500;
  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream`);
    socket.onopen = () => socket.send(JSON.stringify({
      type: "auth", token: currentSession().access_token, since: lastSeq,
      ...(onRealtime ? { realtime: true } : {}),
    }));
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === "ready") {
        delay = 500;
        if (lastSeq === null || frame.resync) lastSeq = frame.tenant_seq;
        if (frame.resync) onResync(frame.tenant_seq);
        onStatus("live");
      } else if (frame.type === "event") {
        if (lastSeq !== null && frame.event.seq <= lastSeq) return;
        lastSeq = frame.event.seq;
        onEvent(frame.event);
      } else if (frame.type === "signal") {
        onSignal(frame);  // ephemeral (typing …): no seq, never replayed
      } else if (frame.type === "realtime" && onRealtime) {
        onRealtime(frame.snapshot);  // the wallboard's figures; the latest replaces the last
      }
    };
    socket.onclose = async (event) => {
      if (closed) return;
      if (event.code === 4403) { onStatus("forbidden"); return; }
      onStatus("reconnecting");
      if (event.code === 4401) await refreshTokens(currentSession());
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  connect();
  return {
    close() { closed = true; socket?.close(); },
    get lastSeq() { return lastSeq; },
  };
}

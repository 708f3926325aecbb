/* omnidesk web chat widget — plain JavaScript, no build step.
 *
 * Embed on any page:
 *   <script src="https://desk.example.com/widget.js" data-channel="CHANNEL_ID" defer></script>
 *
 * It speaks the protocol of docs/channels/webchat.md over
 * /api/v1/channels/webchat/CHANNEL_ID/ws, keeps the visitor token in localStorage (the same
 * browser is the same visitor across page loads), resends unacknowledged messages with their
 * client ids after a reconnect (or after `retry_after_s` when a busy server refused one), and
 * resumes from the last message it showed.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.dataset.channel) {
    console.error("omnidesk widget: add data-channel=\"CHANNEL_ID\" to the script tag");
    return;
  }
  var CHANNEL = script.dataset.channel;
  var ORIGIN = new URL(script.src, window.location.href).origin;
  var SOCKET_URL = ORIGIN.replace(/^http/, "ws") + "/api/v1/channels/webchat/" +
    encodeURIComponent(CHANNEL) + "/ws";
  var STORE = "omnidesk.webchat." + CHANNEL;
  var AUTHORS = { customer: "You", agent: "Agent", bot: "Assistant", system: "Notice" };
  var STATES = {
    queued: "Waiting for an agent…",
    self_service: "Our assistant is with you.",
    connected: "An agent joined the chat.",
    on_hold: "The agent put the chat on hold for a moment.",
    transferred: "You are being transferred…",
    wrap_up: "The agent finished the conversation.",
    closed: "The chat has ended. Write again to start a new one.",
    abandoned: "This chat was closed.",
    callback_scheduled: "We will call you back."
  };

  function load() {
    try { return JSON.parse(window.localStorage.getItem(STORE) || "{}"); } catch (e) { return {}; }
  }
  function save() {
    try { window.localStorage.setItem(STORE, JSON.stringify(stored)); } catch (e) { /* private mode */ }
  }
  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  var stored = load();           // {token, open, outbox: [{client_id, text, attachments}]}
  stored.outbox = stored.outbox || [];
  var socket = null;
  var welcome = null;            // the last welcome frame
  var lastSeenId = null;         // the last message shown (resume point after a reconnect)
  var shown = {};                // message id → element
  var pendingEls = {};           // client id → element of a message not acknowledged yet
  var attachments = [];          // uploads ready to go with the next message
  var retry = 0;
  var typingSent = 0;
  var typingStop = null;
  var agentTypingTimer = null;
  var interactionState = null;
  var currentInteraction = null; // the conversation the last shown message belongs to

  // ---- DOM ---------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "hidden") { node.hidden = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }
  function field(id, label, input) {
    input.id = id;
    return el("div", { "class": "odw-field" }, [el("label", { "for": id, text: label }), input]);
  }

  var style = el("style", { text: [
    ".odw-root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#111827}",
    ".odw-root *{box-sizing:border-box}",
    ".odw-launcher{background:#1d4ed8;color:#fff;border:0;border-radius:24px;padding:12px 20px;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 4px 12px rgba(0,0,0,.25)}",
    ".odw-root button:focus-visible,.odw-root input:focus-visible,.odw-root textarea:focus-visible,.odw-root select:focus-visible,.odw-root summary:focus-visible,.odw-root a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".odw-panel{position:absolute;right:0;bottom:60px;width:360px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 100px);background:#fff;border:1px solid #9ca3af;border-radius:12px;display:flex;flex-direction:column;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.25)}",
    ".odw-panel[hidden]{display:none}",
    ".odw-head{background:#1d4ed8;color:#fff;display:flex;align-items:center;justify-content:space-between;padding:10px 14px}",
    ".odw-head h2{font-size:16px;margin:0;color:#fff}",
    ".odw-close{background:transparent;color:#fff;border:1px solid #fff;border-radius:6px;font:inherit;padding:2px 8px;cursor:pointer}",
    ".odw-status{margin:0;padding:6px 14px;background:#eff6ff;color:#1e3a8a;font-size:13px;min-height:1em}",
    ".odw-body{flex:1;overflow:auto;padding:10px 14px;display:flex;flex-direction:column;gap:8px}",
    ".odw-log{display:flex;flex-direction:column;gap:8px}",
    ".odw-msg{max-width:85%;padding:8px 10px;border-radius:10px;background:#f3f4f6;color:#111827;align-self:flex-start;white-space:pre-wrap;word-wrap:break-word}",
    ".odw-msg.odw-customer{align-self:flex-end;background:#1d4ed8;color:#fff}",
    ".odw-msg.odw-system{align-self:center;background:#fff;border:1px solid #9ca3af}",
    ".odw-msg p{margin:0}",
    ".odw-options{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".odw-choice{font:inherit;padding:4px 10px;border-radius:14px;border:1px solid #1d4ed8;background:#fff;color:#1d4ed8;cursor:pointer}",
    ".odw-choice:disabled{border-color:#6b7280;color:#4b5563;cursor:default}",
    ".odw-who{display:block;font-size:12px;font-weight:600}",
    ".odw-meta{display:block;font-size:12px;opacity:1}",
    ".odw-msg a{color:inherit;text-decoration:underline}",
    ".odw-sep{align-self:center;font-size:12px;color:#374151}",
    ".odw-typing{margin:0;padding:0 14px;font-size:13px;color:#374151;min-height:1.4em}",
    ".odw-field{display:flex;flex-direction:column;gap:2px;margin-bottom:8px}",
    ".odw-field label{font-size:13px;font-weight:600;color:#111827}",
    ".odw-root input,.odw-root textarea,.odw-root select{font:inherit;color:#111827;background:#fff;border:1px solid #6b7280;border-radius:6px;padding:6px 8px;width:100%}",
    ".odw-primary{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:8px 14px;font:inherit;font-weight:600;cursor:pointer}",
    ".odw-secondary{background:#fff;color:#1d4ed8;border:1px solid #1d4ed8;border-radius:6px;padding:6px 10px;font:inherit;cursor:pointer;margin:4px 4px 0 0}",
    ".odw-composer{border-top:1px solid #d1d5db;padding:8px 14px}",
    ".odw-row{display:flex;gap:8px;align-items:flex-end}",
    ".odw-row .odw-field{flex:1;margin:0}",
    ".odw-files{font-size:12px;color:#374151;margin:4px 0 0}",
    ".odw-error{margin:0;padding:0 14px;color:#b91c1c;font-size:13px;min-height:1em}",
    ".odw-more{padding:0 14px 8px;font-size:13px}",
    ".odw-more summary{cursor:pointer;color:#1d4ed8}",
    ".odw-visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
  ].join("\n") });

  var launcher = el("button", { type: "button", "class": "odw-launcher", "aria-expanded": "false",
                                "aria-controls": "odw-panel", text: "Chat with us" });
  var title = el("h2", { id: "odw-title", text: "Chat with us" });
  var closeButton = el("button", { type: "button", "class": "odw-close", "aria-label": "Close chat",
                                   text: "×" });
  var status = el("p", { "class": "odw-status", role: "status" });
  var log = el("div", { "class": "odw-log", role: "log", "aria-live": "polite",
                        "aria-label": "Conversation" });

  var topicInput = el("input", { type: "text", autocomplete: "off" });
  var prechat = el("form", { "class": "odw-prechat", "aria-label": "Before we start", hidden: true }, [
    el("p", { text: "Tell us who you are and we will be right with you." }),
    field("odw-name", "Name", el("input", { type: "text", autocomplete: "name", required: "" })),
    field("odw-email", "Email", el("input", { type: "email", autocomplete: "email", required: "" })),
    el("div", { "class": "odw-topic" }, [field("odw-topic", "Topic", topicInput)]),
    el("button", { type: "submit", "class": "odw-primary", text: "Start chat" })
  ]);
  var offline = el("form", { "class": "odw-offline", "aria-label": "Leave a message", hidden: true }, [
    el("p", { "class": "odw-offline-why", text: "Nobody can chat right now. Leave us a message and we will answer by email." }),
    field("odw-off-name", "Your name", el("input", { type: "text", autocomplete: "name", required: "" })),
    field("odw-off-email", "Your email", el("input", { type: "email", autocomplete: "email", required: "" })),
    field("odw-off-text", "Your message", el("textarea", { rows: "4", required: "" })),
    el("button", { type: "submit", "class": "odw-primary", text: "Send message" })
  ]);
  var leaveInstead = el("button", { type: "button", "class": "odw-secondary", hidden: true,
                                    text: "Leave a message instead" });
  var body = el("div", { "class": "odw-body" }, [log, prechat, offline, leaveInstead]);
  var typing = el("p", { "class": "odw-typing", "aria-live": "polite" });
  var errorLine = el("p", { "class": "odw-error", role: "alert" });

  var textInput = el("textarea", { rows: "2" });
  var fileInput = el("input", { type: "file" });
  var files = el("p", { "class": "odw-files", "aria-live": "polite" });
  var composer = el("form", { "class": "odw-composer", "aria-label": "Write a message", hidden: true }, [
    el("div", { "class": "odw-row" }, [
      field("odw-text", "Message", textInput),
      el("button", { type: "submit", "class": "odw-primary", text: "Send" })
    ]),
    field("odw-file", "Attach a file", fileInput),
    files
  ]);
  var phoneInput = el("input", { type: "tel", autocomplete: "tel" });
  var transcriptButton = el("button", { type: "button", "class": "odw-secondary",
                                        text: "Email me the transcript" });
  var emailButton = el("button", { type: "button", "class": "odw-secondary", text: "Continue by email" });
  var callButton = el("button", { type: "button", "class": "odw-secondary", text: "Call me back" });
  var more = el("details", { "class": "odw-more", hidden: true }, [
    el("summary", { text: "More options" }),
    transcriptButton, emailButton,
    field("odw-phone", "Phone number", phoneInput),
    callButton
  ]);
  var panel = el("section", { id: "odw-panel", "class": "odw-panel", role: "dialog",
                              "aria-labelledby": "odw-title", hidden: true }, [
    el("div", { "class": "odw-head" }, [title, closeButton]),
    status, body, typing, errorLine, composer, more
  ]);
  var root = el("div", { "class": "odw-root" }, [style, panel, launcher]);

  function mount() { document.body.appendChild(root); if (stored.open) { setOpen(true); } }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }

  // ---- views -------------------------------------------------------------------------------

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.textContent = open ? "Hide chat" : "Chat with us";
    stored.open = open;
    save();
    if (open) {
      connect();
      var first = panel.querySelector("form:not([hidden]) input, form:not([hidden]) textarea");
      if (first) { first.focus(); }
    }
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeButton.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { setOpen(false); launcher.focus(); }
  });

  function isOpenConversation() {
    return interactionState && ["closed", "abandoned"].indexOf(interactionState) < 0;
  }
  function show(view) {
    prechat.hidden = view !== "prechat";
    offline.hidden = view !== "offline";
    composer.hidden = view !== "chat";
    more.hidden = view !== "chat";
    leaveInstead.hidden = !(view === "chat" && (interactionState === "queued"));
  }
  function chooseView() {
    if (!welcome) { return; }
    var profile = welcome.profile;
    if (welcome.availability.mode === "leave_message" && !isOpenConversation()) {
      if (profile) {
        offline.querySelector("#odw-off-name").value = profile.name || "";
        offline.querySelector("#odw-off-email").value = profile.email || "";
      }
      var why = welcome.availability.reason === "wait_too_long"
        ? "Everyone is busy and the wait is long. Leave us a message and we will answer by email."
        : "We are closed right now. Leave us a message and we will answer by email.";
      offline.querySelector(".odw-offline-why").textContent = why;
      show("offline");
    } else if (!profile && welcome.settings.prechat_required) {
      show("prechat");
    } else {
      show("chat");
    }
  }
  function setStatus(text) { status.textContent = text || ""; }
  function setError(text) { errorLine.textContent = text || ""; }

  // ---- messages ----------------------------------------------------------------------------

  function attachmentLink(item) {
    var link = el("a", { href: item.url || "#", text: item.filename || "attachment" });
    if (item.url && item.url.indexOf("/api/v1/channels/webchat/") === 0) {
      link.href = ORIGIN + item.url;
      link.addEventListener("click", function (event) {
        event.preventDefault();
        fetch(ORIGIN + item.url, { headers: { "X-Visitor-Token": stored.token || "" } })
          .then(function (response) {
            if (!response.ok) { throw new Error("the file could not be opened"); }
            return response.blob();
          })
          .then(function (blob) { window.open(URL.createObjectURL(blob), "_blank"); })
          .catch(function (error) { setError(error.message); });
      });
    }
    return el("span", { "class": "odw-meta" }, [document.createTextNode("📎 "), link]);
  }
  function renderMessage(frame, pending) {
    var kind = frame.author || "customer";
    var node = el("div", { "class": "odw-msg odw-" + kind }, [
      el("span", { "class": "odw-who", text: AUTHORS[kind] || kind }),
      el("p", { text: frame.text || "" })
    ]);
    (frame.attachments || []).forEach(function (item) { node.appendChild(attachmentLink(item)); });
    if (frame.options && frame.options.length && !pending) { node.appendChild(choices(frame.options)); }
    var when = frame.created_at ? new Date(frame.created_at) : new Date();
    node.appendChild(el("span", { "class": "odw-meta",
                                  text: when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) +
                                        (pending ? " · sending…" : "") }));
    return node;
  }
  // A bot message's options as buttons; choosing one sends its value as the customer's reply.
  // Only the latest message's buttons stay active.
  function choices(options) {
    return el("div", { "class": "odw-options", role: "group", "aria-label": "Choices" },
      options.map(function (option) {
        var button = el("button", { type: "button", "class": "odw-choice", text: option.label });
        button.addEventListener("click", function () { sendMessage(option.value); });
        return button;
      }));
  }
  function addMessage(frame) {
    if (shown[frame.id]) { return; }
    log.querySelectorAll(".odw-choice").forEach(function (button) { button.disabled = true; });
    var node = renderMessage(frame, false);
    var pendingNode = frame.client_id && pendingEls[frame.client_id];
    if (currentInteraction && frame.interaction_id !== currentInteraction) {
      var separator = el("p", { "class": "odw-sep", text: "New conversation" });
      log.insertBefore(separator, pendingNode || null);
    }
    currentInteraction = frame.interaction_id;
    if (pendingNode) {
      log.replaceChild(node, pendingNode);
      delete pendingEls[frame.client_id];
    } else {
      log.appendChild(node);
    }
    shown[frame.id] = node;
    lastSeenId = frame.id;
    if (frame.author !== "customer") { typing.textContent = ""; }
    body.scrollTop = body.scrollHeight;
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function sendMessage(text) {
    var item = { client_id: newId(), text: text, attachments: attachments.map(function (a) { return a.id; }) };
    var node = renderMessage({ author: "customer", text: text,
                               attachments: attachments.map(function (a) { return { filename: a.filename }; }) }, true);
    log.appendChild(node);
    pendingEls[item.client_id] = node;
    attachments = [];
    files.textContent = "";
    stored.outbox.push(item);
    save();
    send(Object.assign({ type: "message" }, item));
    body.scrollTop = body.scrollHeight;
  }
  var BUSY = "We are very busy: your message will be sent in a moment.";
  function resendLater(frame) {
    var item = stored.outbox.filter(function (kept) { return kept.client_id === frame.ref; })[0];
    if (!item) { return; }
    setError(BUSY);
    window.setTimeout(function () { send(Object.assign({ type: "message" }, item)); },
                      1000 * (frame.retry_after_s || 1));
  }
  function acknowledged(frame) {
    if (errorLine.textContent === BUSY) { setError(""); }
    stored.outbox = stored.outbox.filter(function (item) { return item.client_id !== frame.client_id; });
    save();
  }

  // ---- the socket --------------------------------------------------------------------------

  function connect() {
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) { return; }
    setStatus(welcome ? "Reconnecting…" : "Connecting…");
    socket = new WebSocket(SOCKET_URL);
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({ type: "hello", visitor_token: stored.token || null,
                                   last_seen_id: lastSeenId }));
    });
    socket.addEventListener("message", function (event) { receive(JSON.parse(event.data)); });
    socket.addEventListener("close", function (event) {
      socket = null;
      if (event.code === 4401) {          // a token this server does not know: start afresh
        delete stored.token; stored.outbox = []; save();
      }
      if (event.code === 4404) { setStatus("This chat is not available."); return; }
      retry = Math.min(retry + 1, 5);
      setStatus("Connection lost; reconnecting…");
      window.setTimeout(connect, 500 * Math.pow(2, retry - 1));
    });
  }

  function receive(frame) {
    switch (frame.type) {
      case "welcome":
        retry = 0;
        welcome = frame;
        stored.token = frame.visitor_token;
        save();
        title.textContent = frame.settings.title;
        interactionState = frame.interaction ? frame.interaction.state : null;
        setupTopics(frame.settings.topics);
        setStatus(frame.interaction ? (STATES[interactionState] || "") : (frame.settings.greeting || ""));
        chooseView();
        stored.outbox.forEach(function (item) { send(Object.assign({ type: "message" }, item)); });
        break;
      case "message": addMessage(frame); break;
      case "ack": acknowledged(frame); break;
      case "prechat_ok":
        welcome.profile = frame.profile;
        chooseView();
        textInput.focus();
        break;
      case "state":
        interactionState = frame.state;
        setStatus(STATES[frame.state] || "");
        if (frame.state === "closed" || frame.state === "abandoned") { typing.textContent = ""; }
        chooseView();
        break;
      case "conversation":
        interactionState = "new";
        break;
      case "signal":
        if (frame.signal === "typing" && frame.who === "agent") {
          typing.textContent = frame.typing ? "The agent is typing…" : "";
          window.clearTimeout(agentTypingTimer);
          agentTypingTimer = window.setTimeout(function () { typing.textContent = ""; }, 8000);
        }
        break;
      case "message_left":
        offline.reset();
        show("chat");
        setStatus("Thank you: your message was sent. We will answer by email.");
        break;
      case "transcript_sent": setStatus("The transcript was sent to " + frame.email + "."); break;
      case "continued":
        setStatus(frame.via === "email" ? "We will continue by email." : "We will call you back.");
        break;
      case "error":
        if (frame.code === "overloaded" && frame.ref) { resendLater(frame); } else { setError(frame.message); }
        break;
      case "pong": break;
    }
  }

  function setupTopics(topics) {
    var holder = prechat.querySelector(".odw-topic");
    holder.textContent = "";
    if (topics && topics.length) {
      var select = el("select", {}, topics.map(function (topic) { return el("option", { value: topic, text: topic }); }));
      holder.appendChild(field("odw-topic", "Topic", select));
    } else {
      holder.appendChild(field("odw-topic", "Topic", topicInput));
    }
  }

  // ---- forms and buttons -------------------------------------------------------------------

  prechat.addEventListener("submit", function (event) {
    event.preventDefault();
    setError("");
    send({ type: "prechat", name: prechat.querySelector("#odw-name").value,
           email: prechat.querySelector("#odw-email").value,
           topic: prechat.querySelector("#odw-topic").value });
  });
  offline.addEventListener("submit", function (event) {
    event.preventDefault();
    setError("");
    send({ type: "leave_message", name: offline.querySelector("#odw-off-name").value,
           email: offline.querySelector("#odw-off-email").value,
           text: offline.querySelector("#odw-off-text").value, ref: newId() });
  });
  leaveInstead.addEventListener("click", function () {
    if (welcome && welcome.profile) {
      offline.querySelector("#odw-off-name").value = welcome.profile.name || "";
      offline.querySelector("#odw-off-email").value = welcome.profile.email || "";
    }
    show("offline");
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = textInput.value.trim();
    if (!text && !attachments.length) { return; }
    setError("");
    textInput.value = "";
    sendTyping(false);
    sendMessage(text);
  });
  textInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
  });
  function sendTyping(on) {
    window.clearTimeout(typingStop);
    if (on) {
      if (Date.now() - typingSent > 3000) { typingSent = Date.now(); send({ type: "typing", typing: true }); }
      typingStop = window.setTimeout(function () { sendTyping(false); }, 4000);
    } else if (typingSent) {
      typingSent = 0;
      send({ type: "typing", typing: false });
    }
  }
  textInput.addEventListener("input", function () { sendTyping(textInput.value.length > 0); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file || !welcome) { return; }
    setError("");
    files.textContent = "Uploading " + file.name + "…";
    fetch(ORIGIN + welcome.upload_url + "?filename=" + encodeURIComponent(file.name), {
      method: "POST", body: file,
      headers: { "Content-Type": file.type || "application/octet-stream", "X-Visitor-Token": stored.token || "" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      fileInput.value = "";
      if (!result.ok) { files.textContent = ""; setError(result.data.error.message); return; }
      attachments.push(result.data);
      files.textContent = attachments.map(function (a) { return a.filename; }).join(", ") + " ready to send";
    }).catch(function () { files.textContent = ""; setError("The file could not be uploaded."); });
  });
  transcriptButton.addEventListener("click", function () { setError(""); send({ type: "transcript" }); });
  emailButton.addEventListener("click", function () { setError(""); send({ type: "continue", via: "email" }); });
  callButton.addEventListener("click", function () {
    setError("");
    if (!phoneInput.value.trim()) { setError("Enter your phone number first."); phoneInput.focus(); return; }
    send({ type: "continue", via: "callback", phone: phoneInput.value.trim() });
  });

  window.setInterval(function () { send({ type: "ping" }); }, 25000);
})();

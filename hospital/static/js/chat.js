// Chat panels ([data-chat]) and chat inboxes ([data-chat-inbox]) over Socket.IO (/chat).
// The server renders every message (escaped) and pushes it as "html"; this file only
// places those fragments, sends with an acknowledgement, shows typing and read marks,
// and after a reconnect asks for the messages after the last id it has. No inline scripts (CSP).
(function () {
  "use strict";
  var body = document.body;
  if (!body || !body.dataset.userId || typeof io === "undefined") return;

  var me = body.dataset.userId;
  var socket = null;
  var TYPING_SEND_MS = 2000, TYPING_SHOW_MS = 4000, REJOIN_MS = 60000, CATCH_UP = 200;
  var inboxTimer = null;

  function panels() { return Array.prototype.slice.call(document.querySelectorAll("[data-chat]")); }
  function panelFor(id) { return document.querySelector('[data-chat][data-appointment-id="' + id + '"]'); }
  function part(panel, name) { return panel.querySelector("[data-chat-" + name + "]"); }
  function appointmentId(panel) { return parseInt(panel.dataset.appointmentId, 10); }

  function lastId(panel) {
    var ids = Array.prototype.map.call(panel.querySelectorAll(".chat-msg[data-id]"), function (el) {
      return parseInt(el.dataset.id, 10);
    });
    return ids.length ? Math.max.apply(null, ids) : 0;
  }

  function nearBottom(log) { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }

  function showError(panel, text) {
    var box = part(panel, "error");
    if (box) box.textContent = text || "";
    else if (text && window.hospital && window.hospital.toast) window.hospital.toast(text, "error");
  }

  // Insert a pushed message (server-rendered, escaped HTML) unless it is already shown.
  function addMessage(panel, message) {
    if (!message || !message.html || document.getElementById("chat-msg-" + message.id)) return;
    var log = part(panel, "log");
    var stick = nearBottom(log) || String(message.sender_id) === me;
    var holder = document.createElement("template");
    holder.innerHTML = message.html.trim();
    var el = holder.content.firstElementChild;
    if (String(message.sender_id) === me) el.classList.add("mine");
    log.insertBefore(el, part(panel, "empty"));
    part(panel, "empty").hidden = true;
    var typing = part(panel, "typing");
    if (typing && String(message.sender_id) !== me) typing.textContent = "";
    if (stick) log.scrollTop = log.scrollHeight;
  }

  // Tell the server we have seen the other party's messages (only while the page is visible).
  function markRead(panel) {
    if (!socket || !socket.connected || document.visibilityState !== "visible") return;
    var theirs = panel.querySelectorAll(".chat-msg:not(.mine)");
    if (!theirs.length) return;
    var upTo = parseInt(theirs[theirs.length - 1].dataset.id, 10);
    if (upTo <= parseInt(panel.dataset.readUpTo || "0", 10)) return;
    panel.dataset.readUpTo = String(upTo);
    socket.emit("read", { appointment_id: appointmentId(panel), up_to: upTo });
  }

  function join(panel) {
    socket.emit("join", { appointment_id: appointmentId(panel), after: lastId(panel) }, function (ack) {
      if (!ack || !ack.ok) { showError(panel, ack ? ack.error : "Could not open the chat."); return; }
      (ack.missed || []).forEach(function (m) { addMessage(panel, m); });
      if ((ack.missed || []).length >= CATCH_UP) { join(panel); return; }  // more to fetch
      panel.dataset.live = "connected";
      var live = part(panel, "live");
      if (live) live.textContent = "";
      markRead(panel);
    });
  }

  function send(panel, form) {
    var textarea = form.querySelector("textarea");
    var text = textarea.value.trim();
    if (!text) { showError(panel, "Write a message first."); return; }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    socket.timeout(10000).emit("message", { appointment_id: appointmentId(panel), body: textarea.value }, function (err, ack) {
      button.disabled = false;
      if (err) { showError(panel, "The server did not answer; your message is still here. Try again."); return; }
      if (!ack.ok) { showError(panel, ack.error); return; }  // keep what was typed
      showError(panel, "");
      textarea.value = "";
      addMessage(panel, ack.message);
    });
  }

  function setUp(panel) {
    if (panel.dataset.chatReady) return;
    panel.dataset.chatReady = "1";
    var log = part(panel, "log");
    log.scrollTop = log.scrollHeight;
    var form = part(panel, "form");
    if (form) {
      var textarea = form.querySelector("textarea");
      var lastTyping = 0;
      form.addEventListener("submit", function (evt) {
        if (!socket || !socket.connected) return;  // no socket: the form posts and the page reloads
        evt.preventDefault();
        send(panel, form);
      });
      textarea.addEventListener("keydown", function (evt) {
        if (evt.key === "Enter" && !evt.shiftKey && !evt.isComposing) { evt.preventDefault(); form.requestSubmit(); }
      });
      textarea.addEventListener("input", function () {
        var now = Date.now();
        if (socket && socket.connected && now - lastTyping > TYPING_SEND_MS) {
          lastTyping = now;
          socket.emit("typing", { appointment_id: appointmentId(panel), typing: true });
        }
      });
    }
    if (socket && socket.connected) join(panel);
  }

  function connect() {
    if (socket) return;
    socket = io("/chat", { transports: ["websocket", "polling"], reconnectionDelayMax: 10000 });
    socket.on("connect", function () { body.dataset.chatLive = "connected"; panels().forEach(join); });
    socket.on("disconnect", function () {
      body.dataset.chatLive = "disconnected";
      panels().forEach(function (panel) {
        panel.dataset.live = "disconnected";
        var live = part(panel, "live");
        if (live) live.textContent = "Reconnecting…";
      });
    });
    socket.on("message", function (m) {
      var panel = panelFor(m.appointment_id);
      if (!panel) return;
      addMessage(panel, m);
      if (String(m.sender_id) !== me) markRead(panel);
    });
    socket.on("typing", function (t) {
      var panel = panelFor(t.appointment_id);
      var line = panel && part(panel, "typing");
      if (!line || String(t.user_id) === me) return;
      line.textContent = t.typing ? t.name + " is typing…" : "";
      clearTimeout(line._timer);
      line._timer = setTimeout(function () { line.textContent = ""; }, TYPING_SHOW_MS);
    });
    socket.on("read", function (r) {
      var panel = panelFor(r.appointment_id);
      if (!panel || String(r.reader_id) === me) return;
      panel.querySelectorAll(".chat-msg.mine").forEach(function (el) {
        if (parseInt(el.dataset.id, 10) <= r.up_to) el.querySelector("[data-chat-read]").hidden = false;
      });
    });
    socket.on("closed", function (c) {
      var panel = panelFor(c.appointment_id);
      if (panel && typeof htmx !== "undefined") {
        htmx.ajax("GET", "/chat/connect?appointment_id=" + c.appointment_id, { target: panel, swap: "outerHTML" });
      }
    });
    socket.on("inbox", function () {
      clearTimeout(inboxTimer);
      inboxTimer = setTimeout(function () { body.dispatchEvent(new CustomEvent("chat-inbox-changed")); }, 250);
    });
    socket.on("error", function (e) {
      var panel = e && e.appointment_id && panelFor(e.appointment_id);
      if (panel) showError(panel, e.message);
    });
    // Joining again keeps us counted as present (no offline notifications) and catches up.
    setInterval(function () { if (socket.connected) panels().forEach(join); }, REJOIN_MS);
    document.addEventListener("visibilitychange", function () { panels().forEach(markRead); });
  }

  function scan() {
    var found = panels();
    if (found.length || document.querySelector("[data-chat-inbox]")) connect();
    found.forEach(setUp);
  }

  document.addEventListener("htmx:load", scan);
  if (document.readyState !== "loading") scan();
  else document.addEventListener("DOMContentLoaded", scan);
})();

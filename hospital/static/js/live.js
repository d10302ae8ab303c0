// Live updates for signed-in users over Socket.IO (/notifications).
// Socket events carry small payloads; the page re-fetches server-rendered
// fragments through htmx by listening for these DOM events on <body>:
//   notifications-changed   the bell and notification list
//   appointment-changed     appointment rows, dashboards (detail: the payload)
// When the socket cannot connect, the same DOM events fire on a timer instead.
(function () {
  "use strict";
  var body = document.body;
  if (!body || !body.dataset.userId || typeof io === "undefined") return;

  var LAST_KEY = "hospital:last-notification:" + body.dataset.userId;
  var POLL_MS = 30000;
  var pollTimer = null;

  function fire(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail || {} }));
  }
  function remember(id) {
    if (!id) return;  // broadcasts carry no per-user id
    var last = parseInt(sessionStorage.getItem(LAST_KEY) || "0", 10);
    if (id > last) sessionStorage.setItem(LAST_KEY, String(id));
  }
  function show(n) {
    remember(n.id);
    if (window.hospital && window.hospital.toast) window.hospital.toast(n.text);
  }
  function startPolling() {
    if (pollTimer) return;
    body.dataset.live = "polling";
    pollTimer = setInterval(function () {
      fire("notifications-changed");
      fire("appointment-changed");
    }, POLL_MS);
  }
  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  var socket = io("/notifications", { transports: ["websocket", "polling"], reconnectionDelayMax: 10000 });

  socket.on("connect", function () {
    stopPolling();
    body.dataset.live = "connected";
    var after = parseInt(sessionStorage.getItem(LAST_KEY) || "0", 10);
    if (after > 0) {
      // Catch up on whatever arrived while we were away.
      socket.emit("missed", { after: after }, function (items) {
        (items || []).forEach(show);
        if (items && items.length) { fire("notifications-changed"); fire("appointment-changed"); }
      });
    }
  });
  socket.on("connect_error", startPolling);
  socket.on("disconnect", function () { body.dataset.live = "disconnected"; });

  socket.on("notification", function (n) {
    if (n.id && !sessionStorage.getItem(LAST_KEY)) remember(n.id - 1);
    show(n);
    fire("notifications-changed", n);
  });
  socket.on("notifications_read", function () { fire("notifications-changed"); });
  ["appointment_status", "appointment_booked", "reminder", "appointment_changed"].forEach(function (name) {
    socket.on(name, function (payload) { fire("appointment-changed", payload); });
  });
  window.hospital = window.hospital || {};
  window.hospital.socket = socket;
})();

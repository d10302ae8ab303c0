// The admin's analytics page: charts (Chart.js, from the JSON endpoint) and live updates.
// A push on the /admin Socket.IO namespace carries only {type, reasons}; this turns it
// into DOM events that make htmx re-fetch the server-rendered fragments:
//   analytics-changed  the summary (+ details, out of band) and the "right now" figures
//   analytics-live     only the "right now" figures (someone connected or left)
// at most once a second, however many pushes arrive. Charts re-read the JSON after each swap.
(function () {
  "use strict";
  var body = document.body;
  var state = document.getElementById("analytics-live-state");
  if (!document.getElementById("analytics-summary")) return;

  var THROTTLE_MS = 1000;
  var STATUS_ORDER = ["approved", "pending", "completed", "cancelled", "rejected", "no_show"];
  var STATUS_NAMES = { approved: "Approved", pending: "Pending", completed: "Completed", cancelled: "Cancelled",
                       rejected: "Rejected", no_show: "No-show" };
  var STATUS_COLOURS = { approved: "#1b6e2a", pending: "#b7791f", completed: "#1e3a8a", cancelled: "#6b7280",
                         rejected: "#a4161a", no_show: "#7c3aed" };
  var charts = {};
  var drawn = null;

  function summary() { return document.getElementById("analytics-summary"); }

  function setState(name, text) {
    body.dataset.analytics = name;
    if (state) { state.dataset.state = name; state.textContent = text; }
  }

  // --- charts -------------------------------------------------------------------
  function barChart(canvas, horizontal) {
    return new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [{ label: "Appointments", data: [], backgroundColor: "#0b6e6e" }] },
      options: {
        indexAxis: horizontal ? "y" : "x", responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false } },
        scales: horizontal ? { x: { beginAtZero: true, ticks: { precision: 0 } } }
                           : { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 12 } } }
      }
    });
  }

  function draw(data) {
    if (!data || typeof Chart === "undefined") return;
    var perDay = document.getElementById("chart-per-day");
    var status = document.getElementById("chart-status");
    if (perDay) {
      charts.perDay = charts.perDay || barChart(perDay, false);
      charts.perDay.data.labels = data.per_day.map(function (d) { return d.day; });
      charts.perDay.data.datasets[0].data = data.per_day.map(function (d) { return d.appointments; });
      charts.perDay.update();
    }
    if (status) {
      charts.status = charts.status || barChart(status, true);
      charts.status.data.labels = STATUS_ORDER.map(function (s) { return STATUS_NAMES[s]; });
      charts.status.data.datasets[0].data = STATUS_ORDER.map(function (s) { return data.statuses[s] || 0; });
      charts.status.data.datasets[0].backgroundColor = STATUS_ORDER.map(function (s) { return STATUS_COLOURS[s]; });
      charts.status.update();
    }
    body.dataset.chartsTotal = String(data.total);
  }

  function refreshCharts() {
    var el = summary();
    if (!el || !el.dataset.jsonUrl || el.dataset.generated === drawn) return;
    drawn = el.dataset.generated;
    fetch(el.dataset.jsonUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(draw)
      .catch(function () { drawn = null; });
  }

  // A preset period shows its dates in the form; editing a date means "custom".
  function syncForm() {
    var el = summary();
    var form = document.getElementById("analytics-filters");
    if (!el || !form || !el.dataset.period) return;
    if (el.dataset.period !== "custom") {
      form.elements.from.value = el.dataset.from;
      form.elements.to.value = el.dataset.to;
    }
  }
  var form = document.getElementById("analytics-filters");
  if (form) {
    // Capture phase: runs before htmx's own "change" listener on the form sends the request.
    form.addEventListener("change", function (evt) {
      if (evt.target.name === "from" || evt.target.name === "to") form.elements.period.value = "custom";
    }, true);
  }

  document.addEventListener("htmx:afterSettle", function () {
    syncForm();
    refreshCharts();
  });

  // --- live pushes, throttled -----------------------------------------------------
  var last = 0, timer = null, pending = { all: false, live: false };

  function flush() {
    timer = null;
    last = Date.now();
    var name = pending.all ? "analytics-changed" : "analytics-live";
    pending = { all: false, live: false };
    body.dispatchEvent(new CustomEvent(name));
  }

  function schedule(reasons) {
    var onlyPresence = reasons && reasons.length && reasons.every(function (r) { return r === "presence"; });
    if (onlyPresence) pending.live = true; else pending.all = true;
    if (!timer) timer = setTimeout(flush, Math.max(0, last + THROTTLE_MS - Date.now()));
  }

  if (typeof io === "undefined") {
    setState("offline", "Live updates unavailable: refreshing every minute");
  } else {
    var socket = io("/admin", { transports: ["websocket", "polling"], reconnectionDelayMax: 10000 });
    var seen = false;
    socket.on("connect", function () {
      setState("connected", "Live");
      if (seen) schedule(["reconnect"]);  // catch up on what changed while away
      seen = true;
    });
    socket.on("connect_error", function () { setState("offline", "Live updates paused: refreshing every minute"); });
    socket.on("disconnect", function () { setState("offline", "Reconnecting…"); });
    socket.on("analytics_changed", function (payload) { schedule(payload && payload.reasons); });
  }
  syncForm();
  refreshCharts();
})();

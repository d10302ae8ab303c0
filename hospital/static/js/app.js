// Hospital's page behaviour: toasts and htmx glue. No inline scripts (CSP).
(function () {
  "use strict";

  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast" + (kind ? " toast-" + kind : "");
    el.setAttribute("role", "status");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }
  window.hospital = window.hospital || {};
  window.hospital.toast = toast;

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var message = "Something went wrong (" + xhr.status + ").";
    try {
      var body = JSON.parse(xhr.responseText);
      if (body.detail) message = body.detail;
    } catch (e) { /* not JSON: keep the generic message */ }
    toast(message, "error");
  });

  // Server-sent toasts: a fragment response may carry HX-Trigger: {"toast": "..."}.
  document.addEventListener("toast", function (evt) {
    var detail = evt.detail || {};
    toast(detail.value || detail.message || "", detail.kind);
  });
})();

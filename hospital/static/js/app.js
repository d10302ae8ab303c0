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

  // A fragment answered with 422 (form errors) or 409 (slot taken, too late to
  // cancel) carries the message the user must see: swap it in like a success.
  // Whole error pages (they start with a doctype) are left to the toast below.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if ((xhr.status === 422 || xhr.status === 409) && !/^\s*<!doctype/i.test(xhr.responseText || "")) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var message = "Something went wrong (" + xhr.status + ").";
    try {
      var body = JSON.parse(xhr.responseText);
      if (body.detail) message = body.detail;
    } catch (e) {
      // An HTML error page: use its message paragraph when there is one.
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var detail = doc.querySelector("main article p");
      if (detail && detail.textContent.trim()) message = detail.textContent.trim();
    }
    toast(message, "error");
  });

  document.addEventListener("htmx:sendError", function () {
    toast("Cannot reach the server. Check your connection and try again.", "error");
  });

  // Server-sent toasts: a fragment response may carry HX-Trigger: {"toast": "..."}.
  document.addEventListener("toast", function (evt) {
    var detail = evt.detail || {};
    toast(detail.value || detail.message || "", detail.kind);
  });
})();

/* Portal behaviour: CSRF for htmx, confirmations, dismissing messages, the mobile menu. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });

  // htmx leaves 4xx answers unswapped; a region marked data-swap-errors (the inbox side panel)
  // answers a refusal with itself refreshed and the reason in it, so that answer is shown.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var target = event.detail.target;
    if (status >= 400 && status < 500 && target && target.closest && target.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) { event.target.form.submit(); }
  });

  document.querySelectorAll(".alert-success[data-autodismiss]").forEach(function (alert) {
    window.setTimeout(function () { alert.remove(); }, 6000);
  });

  var toggle = document.querySelector(".menu-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var app = document.querySelector(".app");
      var open = app.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
})();

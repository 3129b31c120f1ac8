/* The team inbox: composer tabs, Enter to send, /quick replies, the emoji grid, typing notices,
   the 24-hour window countdown, and keeping the timeline scrolled to its newest message.
   Everything else (sending, polling, loading more) is htmx; the page works without this file. */
(function () {
  "use strict";
  var TYPING_EVERY_MS = 3000;
  var csrf = document.querySelector('meta[name="csrf-token"]');

  function post(url) {
    var body = new FormData();
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.content : "" }
    });
  }

  /* ---------- The timeline: newest at the bottom, kept in view unless the agent scrolled up */
  function timeline() { return document.getElementById("timeline"); }
  function nearBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 120; }
  function toBottom() { var el = timeline(); if (el) { el.scrollTop = el.scrollHeight; } }
  var stickToBottom = true;
  var keepPlace = null; // an earlier page loading above: the agent stays where they were reading

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "timeline") {
      stickToBottom = stickToBottom || nearBottom(event.detail.target);
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var el = timeline();
    if (target && el) {
      if (target.classList.contains("timeline-earlier")) {
        keepPlace = { height: el.scrollHeight, top: el.scrollTop };
      } else if (target.id === "composer") {
        stickToBottom = true; // the agent just sent: show it
      } else if (target.id === "timeline") {
        stickToBottom = nearBottom(el);
      }
    }
    // The inbox's forms answer 400 with the form and its message: show it (htmx skips 4xx by default).
    if (event.detail.xhr && event.detail.xhr.status === 400 && target && target.closest("[data-inbox]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("scroll", function (event) {
    if (event.target && event.target.id === "timeline") { stickToBottom = nearBottom(event.target); }
  }, true);

  function settleTimeline() {
    var el = timeline();
    if (!el) { return; }
    if (keepPlace) {
      el.scrollTop = keepPlace.top + (el.scrollHeight - keepPlace.height);
      keepPlace = null;
    } else if (stickToBottom) {
      toBottom();
    }
  }

  /* ---------- The 24-hour window: the countdown, and the composer's mode when it closes or opens */
  function windowExpiry() {
    var head = document.getElementById("conversation-head");
    var iso = head ? head.getAttribute("data-window-expires") : "";
    var at = iso ? Date.parse(iso) : NaN;
    return isNaN(at) ? null : at;
  }

  function left(ms) {
    var minutes = Math.floor(ms / 60000);
    var hours = Math.floor(minutes / 60);
    if (hours) { return hours + " h " + (minutes % 60) + " min"; }
    return minutes ? minutes + " min" : "less than a minute";
  }

  function applyWindow() {
    var expiry = windowExpiry();
    var remaining = expiry === null ? 0 : expiry - Date.now();
    var open = remaining > 0;
    var label = document.querySelector("[data-window-left]");
    if (label) {
      label.textContent = open ? "Window closes in " + left(remaining) : "24-hour window closed: templates only";
      label.classList.toggle("window-is-open", open);
      label.classList.toggle("window-is-closed", !open);
    }
    var composer = document.getElementById("composer");
    if (!composer) { return; }
    var wasOpen = composer.getAttribute("data-window") === "open";
    composer.querySelectorAll("[data-free-text], [data-window-open-only]").forEach(function (el) { el.hidden = !open; });
    composer.querySelectorAll("[data-window-closed], [data-window-closed-only]").forEach(function (el) { el.hidden = open; });
    var picker = composer.querySelector("[data-template-picker]");
    if (picker && !open && wasOpen) { picker.open = true; }
    composer.setAttribute("data-window", open ? "open" : "closed");
  }

  /* ---------- Composer: tabs, Enter to send, quick replies, emoji, typing notices */
  function enhanceComposer(composer) {
    if (!composer || composer.getAttribute("data-enhanced")) { return; }
    composer.setAttribute("data-enhanced", "1");
    composer.classList.add("is-enhanced");
    composer.setAttribute("data-window", windowExpiry() && windowExpiry() > Date.now() ? "open" : "closed");

    composer.querySelectorAll("[data-composer-tab]").forEach(function (tab) {
      tab.addEventListener("click", function () {
        var name = tab.getAttribute("data-composer-tab");
        composer.querySelectorAll("[data-composer-tab]").forEach(function (other) {
          other.setAttribute("aria-selected", other === tab ? "true" : "false");
        });
        composer.querySelectorAll("[data-composer-panel]").forEach(function (panel) {
          if (panel.getAttribute("data-composer-panel") === name) { panel.removeAttribute("data-inactive"); } else { panel.setAttribute("data-inactive", ""); }
        });
        var input = composer.querySelector('[data-composer-panel="' + name + '"] textarea:not([hidden])');
        if (input) { input.focus(); }
      });
    });

    var input = composer.querySelector("[data-composer-input]");
    var list = composer.querySelector("[data-quick-list]");
    var choices = [];
    var active = -1;
    var lookup = null;

    function closeList() { if (list) { list.hidden = true; list.innerHTML = ""; } choices = []; active = -1; }
    function mark() {
      if (!list) { return; }
      Array.prototype.forEach.call(list.children, function (el, index) { el.setAttribute("aria-selected", index === active ? "true" : "false"); });
    }
    function choose(index) {
      var choice = choices[index];
      if (!choice || !input) { return; }
      input.value = choice.body;
      closeList();
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    }
    function showChoices(results) {
      if (!list) { return; }
      choices = results;
      active = results.length ? 0 : -1;
      list.innerHTML = "";
      results.forEach(function (result, index) {
        var item = document.createElement("button");
        item.type = "button";
        item.setAttribute("role", "option");
        var key = document.createElement("strong");
        key.textContent = "/" + result.shortcut;
        var title = document.createElement("span");
        title.textContent = " " + result.title;
        item.appendChild(key);
        item.appendChild(title);
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(index); });
        list.appendChild(item);
      });
      list.hidden = results.length === 0;
      mark();
    }
    function lookUp() {
      var match = input && /^\/(\S*)$/.exec(input.value);
      if (!match) { closeList(); return; }
      window.clearTimeout(lookup);
      lookup = window.setTimeout(function () {
        var url = composer.getAttribute("data-quick-replies-url") + "?q=" + encodeURIComponent(match[1]);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { if (/^\/(\S*)$/.test(input.value)) { showChoices(data.results || []); } })
          .catch(closeList);
      }, 120);
    }

    var lastTyping = 0;
    function typing() {
      var now = Date.now();
      if (now - lastTyping < TYPING_EVERY_MS) { return; }
      lastTyping = now;
      post(composer.getAttribute("data-typing-url")).catch(function () {});
    }

    composer.querySelectorAll("textarea").forEach(function (area) {
      area.addEventListener("input", function () {
        typing();
        if (area === input) { lookUp(); }
      });
    });

    composer.addEventListener("keydown", function (event) {
      var area = event.target;
      if (!area.matches || !area.matches("textarea[data-sends-on-enter]")) { return; }
      if (area === input && list && !list.hidden && choices.length) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          active = (active + (event.key === "ArrowDown" ? 1 : choices.length - 1)) % choices.length;
          mark();
          return;
        }
        if (event.key === "Enter" || event.key === "Tab") { event.preventDefault(); choose(active < 0 ? 0 : active); return; }
        if (event.key === "Escape") { event.preventDefault(); closeList(); return; }
      }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (area.value.trim() && area.form) { area.form.requestSubmit(); }
      }
    });

    var toggle = composer.querySelector("[data-emoji-toggle]");
    var popover = composer.querySelector("[data-emoji-popover]");
    if (toggle && popover) {
      toggle.addEventListener("click", function () {
        popover.hidden = !popover.hidden;
        toggle.setAttribute("aria-expanded", popover.hidden ? "false" : "true");
      });
      popover.addEventListener("click", function (event) {
        var button = event.target.closest("[data-emoji]");
        if (!button || !input) { return; }
        var start = input.selectionStart || input.value.length;
        var end = input.selectionEnd || start;
        input.value = input.value.slice(0, start) + button.textContent + input.value.slice(end);
        input.focus();
        input.setSelectionRange(start + button.textContent.length, start + button.textContent.length);
        popover.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
      });
      document.addEventListener("click", function (event) {
        if (!popover.hidden && !event.target.closest(".emoji")) { popover.hidden = true; toggle.setAttribute("aria-expanded", "false"); }
      });
    }
  }

  function enhance() {
    enhanceComposer(document.getElementById("composer"));
    applyWindow();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    enhance();
    if (keepPlace || (target && (target.id === "timeline" || target.id === "composer"))) { settleTimeline(); }
    var composer = document.getElementById("composer");
    if (target && target.id === "composer" && composer) {
      var area = composer.querySelector("[data-composer-panel]:not([data-inactive]) textarea");
      if (area && !area.closest("[hidden]")) { area.focus(); }
    }
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    applyWindow();
    if (event.detail.target && event.detail.target.id === "timeline") { settleTimeline(); }
  });

  function start() {
    enhance();
    toBottom();
    window.setInterval(applyWindow, 1000);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

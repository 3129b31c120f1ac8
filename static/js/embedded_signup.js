/* Meta Embedded Signup (v4): Facebook's JS SDK opens the flow; its session-info message gives the
   WABA and number ids, FB.login's callback gives a code valid for ~30 s, which goes to the server at
   once. The SDK is Meta's own script and is loaded only on this page, only when configured. */
(function () {
  "use strict";
  var button = document.getElementById("es-launch");
  var form = document.getElementById("es-form");
  if (!button || !form) { return; }
  var session_ids = {};
  var started = null;  // our session (its tracking code), created when the flow opens

  // Meta's callback (PARTNER_APP_INSTALLED) names only the WABA and its owner business: the server
  // learns them from this message at once, so the callback finds this workspace even if the window
  // is closed before the code comes back.
  function relaySessionInfo() {
    if (!started || !session_ids.waba_id) { return; }
    started.then(function (session) {
      var body = new FormData();
      body.append("tracking_code", session.tracking_code || "");
      body.append("waba_id", session_ids.waba_id || "");
      body.append("phone_number_id", session_ids.phone_number_id || "");
      body.append("business_id", session_ids.business_id || "");
      return fetch(button.dataset.sessionUrl, {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value }
      });
    });
  }

  window.addEventListener("message", function (event) {
    if (!/^https:\/\/([a-z0-9-]+\.)?facebook\.com$/.test(event.origin)) { return; }
    try {
      var data = JSON.parse(event.data);
      if (data.type === "WA_EMBEDDED_SIGNUP" && data.data) {
        session_ids.waba_id = data.data.waba_id || session_ids.waba_id;
        session_ids.phone_number_id = data.data.phone_number_id || session_ids.phone_number_id;
        session_ids.business_id = data.data.business_id || session_ids.business_id;
        if (String(data.event || "").indexOf("FINISH") === 0) { relaySessionInfo(); }
      }
    } catch (ignored) { /* other messages are not ours */ }
  });

  window.fbAsyncInit = function () {
    window.FB.init({ appId: button.dataset.appId, autoLogAppEvents: true, xfbml: false,
                     version: button.dataset.graphVersion });
  };
  var sdk = document.createElement("script");
  sdk.src = "https://connect.facebook.net/en_US/sdk.js";
  sdk.async = true; sdk.defer = true; sdk.crossOrigin = "anonymous";
  document.head.appendChild(sdk);

  button.addEventListener("click", function () {
    var pin = form.elements.pin.value;
    if (!/^\d{6}$/.test(pin)) { form.elements.pin.focus(); form.elements.pin.setCustomValidity("6 digits"); form.reportValidity(); return; }
    form.elements.pin.setCustomValidity("");
    // The session is created while Facebook's window opens: FB.login must run inside the click
    // itself, or browsers block its popup.
    started = fetch(button.dataset.startUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value }
    }).then(function (answer) { return answer.json(); });
    window.FB.login(function (response) {
      if (!response.authResponse || !response.authResponse.code) { return; }
      var code = response.authResponse.code;
      started.then(function (session) {
        form.elements.tracking_code.value = session.tracking_code || "";
        form.elements.code.value = code;
        form.elements.waba_id.value = session_ids.waba_id || "";
        form.elements.phone_number_id.value = session_ids.phone_number_id || "";
        form.elements.business_id.value = session_ids.business_id || "";
        form.submit();
      });
    }, { config_id: button.dataset.configId, response_type: "code", override_default_response_type: true,
         extras: { setup: {}, sessionInfoVersion: "3" } });
  });
})();

/* The visit report keeps its draft on the phone: every change is saved in the browser, a
   draft left behind comes back when the page opens again, and a report sent without a
   connection waits and goes as soon as the connection returns. The report carries a token,
   so a report sent twice (a retry after a lost answer) is recorded once. */
(function () {
  "use strict";

  var form = document.getElementById("visit-report-form");
  if (!form) { return; }
  var key = form.getAttribute("data-draft-key");
  var status = document.getElementById("report-status");
  var queuedKey = key + "-queued";
  var sending = false;

  function say(name, isError) {
    status.textContent = status.getAttribute("data-msg-" + name);
    status.className = "alert " + (isError ? "alert-error" : "alert-ok");
    status.hidden = false;
  }

  function fields() {
    var data = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") { data.push([name, String(value)]); }
    });
    return data;
  }

  function save() {
    try { localStorage.setItem(key, JSON.stringify({ saved: Date.now(), fields: fields() })); } catch (e) { /* storage full or off */ }
  }

  function restore() {
    var raw = null;
    try { raw = localStorage.getItem(key); } catch (e) { return false; }
    if (!raw) { return false; }
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { return false; }
    if (!draft || !Array.isArray(draft.fields)) { return false; }
    var seen = {};
    draft.fields.forEach(function (pair) {
      var name = pair[0], value = pair[1];
      var inputs = form.querySelectorAll("[name='" + CSS.escape(name) + "']");
      inputs.forEach(function (input) {
        if (input.type === "radio" || input.type === "checkbox") {
          if (!seen[name]) { if (input.type === "radio") { input.checked = false; } }
          if (input.value === value) { input.checked = true; }
        } else {
          input.value = value;
        }
      });
      seen[name] = true;
    });
    return true;
  }

  function clear() {
    try { localStorage.removeItem(key); localStorage.removeItem(queuedKey); } catch (e) { /* nothing kept */ }
  }

  function send() {
    if (sending) { return; }
    sending = true;
    say("sending");
    var body = new FormData(form);
    fetch(form.action || window.location.href, {
      method: "POST", body: body, credentials: "same-origin", headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      sending = false;
      if (response.redirected || response.ok) {
        clear();
        window.location.href = response.url;
        return;
      }
      if (response.status === 422) {
        try { localStorage.removeItem(queuedKey); } catch (e) { /* ignore */ }
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("report-form-wrap");
          var wrap = document.getElementById("report-form-wrap");
          if (fresh && wrap) {
            wrap.replaceWith(fresh);
            status.hidden = true;
            form = document.getElementById("visit-report-form");
            bind();
            window.scrollTo(0, 0);
          }
        });
      }
      say("failed", true);
    }).catch(function () {
      sending = false;
      try { localStorage.setItem(queuedKey, "1"); } catch (e) { /* ignore */ }
      say("queued", true);
    });
  }

  function bind() {
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      save();
      if (!navigator.onLine) {
        try { localStorage.setItem(queuedKey, "1"); } catch (e) { /* ignore */ }
        say("queued", true);
        return;
      }
      send();
    });
  }

  var hasErrors = document.querySelector("#report-form-wrap .alert-error");
  if (!hasErrors && restore()) { say("restored"); }
  bind();

  window.addEventListener("online", function () {
    var queued = null;
    try { queued = localStorage.getItem(queuedKey); } catch (e) { /* ignore */ }
    if (queued) { send(); }
  });
  var queuedNow = null;
  try { queuedNow = localStorage.getItem(queuedKey); } catch (e) { /* ignore */ }
  if (queuedNow && navigator.onLine) { send(); }
})();

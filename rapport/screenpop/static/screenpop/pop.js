// The screen pop: a telephone or softphone opens /pop/#<number>. The number is read from the
// URL fragment, which the browser never sends to the server, and posted in a request body, so
// it stays out of access logs, proxies and Referer headers. The search form uses the same path.
(function () {
  "use strict";

  var form = document.querySelector("[data-pop-form]");
  if (!form) { return; }
  var input = form.querySelector("input[name=q]");
  var result = document.getElementById("pop-result");

  function fromFragment() {
    var raw = window.location.hash.replace(/^#/, "");
    try { raw = decodeURIComponent(raw); } catch (e) { /* keep it as it came */ }
    return raw.replace(/^tel:/i, "").trim().slice(0, 60);
  }

  function show(html) {
    result.innerHTML = html;
    if (window.htmx) { window.htmx.process(result); }
    var heading = result.querySelector("h1, h2");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({preventScroll: true}); }
  }

  function lookUp() {
    var body = new FormData(form);
    result.setAttribute("aria-busy", "true");
    result.textContent = form.getAttribute("data-msg-looking") || "";
    // No HX-Current-URL: that header would carry the page address, fragment included.
    fetch(form.action, {method: "POST", body: body, credentials: "same-origin",
                        headers: {"HX-Request": "true", "X-CSRFToken": body.get("csrfmiddlewaretoken") || ""}})
      .then(function (response) {
        var redirect = response.headers.get("HX-Redirect");
        if (redirect) { window.location.href = redirect; return null; }
        return response.text();
      })
      .then(function (html) { if (html !== null) { show(html); } })
      .catch(function () { result.textContent = document.body.getAttribute("data-msg-offline") || ""; })
      .then(function () { result.removeAttribute("aria-busy"); });
  }

  function pop() {
    var number = fromFragment();
    if (!number) { return; }
    input.value = number;
    lookUp();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.value.trim()) { lookUp(); }
  });
  window.addEventListener("hashchange", pop);  // the same tab, reused for the next call
  pop();
})();

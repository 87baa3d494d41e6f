/* Rapport's small behaviours. No inline scripts anywhere: everything hooks on data- attributes. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");
  // Tells the server this browser runs scripts: the card page then sends its first screen and
  // loads the other sections as they come into view (without scripts it sends them all).
  document.cookie = "rapport_js=1; path=/; max-age=31536000; SameSite=Lax";

  // The language select submits itself (the button is there for browsers without JavaScript).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit();
    }
  });

  // Choosing another catalog item empties the value first, so the filter request the same
  // change triggers does not send a value meant for the previous item (capture runs first).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-clears-value]") && target.form) {
      var value = target.form.querySelectorAll("[name=value]");
      value.forEach(function (input) {
        if (input.type === "checkbox" || input.type === "radio") { input.checked = false; } else { input.value = ""; }
      });
    }
  }, true);

  // A field that asks for its own results as the user types (a list's name box) keeps its
  // change event from its form: when it loses focus the form would ask for the same results
  // again, racing (and aborting) the request of the button that was clicked.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-own-requests]")) { event.stopPropagation(); }
  }, true);

  // "Missing" links on the card page pick the item in the add-fact form instead of reloading.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-pick-item]");
    if (!link) { return; }
    var panel = document.getElementById("add-fact");
    var select = panel && panel.querySelector("select[name=item]");
    if (!select) { return; }
    event.preventDefault();
    panel.open = true;
    select.value = link.getAttribute("data-pick-item");
    select.dispatchEvent(new Event("change", { bubbles: true }));
    panel.scrollIntoView({ behavior: "smooth", block: "start" });
    select.focus({ preventScroll: true });
  });

  // Live search dropdowns close on Escape and on a click elsewhere.
  function closeLiveResults(except) {
    document.querySelectorAll(".live-results").forEach(function (box) {
      if (box !== except) { box.replaceChildren(); }
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeLiveResults(null); }
  });
  document.addEventListener("click", function (event) {
    var form = event.target.closest && event.target.closest("form");
    closeLiveResults(form ? form.querySelector(".live-results") : null);
  });

  // An htmx request that failed (403, 404, 500, network) says so instead of doing nothing.
  function toast(message) {
    var box = document.getElementById("toast");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var messages = document.body.dataset;
    if (status === 403) { toast(messages.msgForbidden || "Not allowed."); }
    else if (status === 404) { toast(messages.msgNotFound || "Not found."); }
    else { toast(messages.msgError || "Something went wrong."); }
  });
  document.addEventListener("htmx:sendError", function () {
    toast(document.body.dataset.msgOffline || "No connection.");
  });
})();

/* Visits pages: the day picker submits itself, check-in sends where the phone is when the
   browser tells, "Use where I am now" fills coordinates, print, and confirmations. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t.matches && t.matches("input[data-autosubmit]") && t.form) { t.form.requestSubmit(); }
  });

  function locate(done) {
    if (!navigator.geolocation) { done(null); return; }
    navigator.geolocation.getCurrentPosition(
      function (pos) { done(pos.coords); },
      function () { done(null); },
      { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 }
    );
  }

  // Check-in: ask for the position once; the visit is checked in whether or not it comes.
  document.querySelectorAll("form[data-geolocate]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.located) { return; }
      event.preventDefault();
      var button = form.querySelector("button");
      if (button) { button.disabled = true; }
      locate(function (coords) {
        if (coords) {
          form.querySelector("[name=latitude]").value = coords.latitude.toFixed(6);
          form.querySelector("[name=longitude]").value = coords.longitude.toFixed(6);
        }
        form.dataset.located = "1";
        form.submit();
      });
    });
  });

  document.querySelectorAll("[data-locate-here]").forEach(function (button) {
    if (!navigator.geolocation) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      locate(function (coords) {
        if (!coords) { return; }
        var form = button.closest("form");
        form.querySelector("[name=latitude]").value = coords.latitude.toFixed(6);
        form.querySelector("[name=longitude]").value = coords.longitude.toFixed(6);
      });
    });
  });

  document.addEventListener("click", function (event) {
    var p = event.target.closest && event.target.closest("[data-print]");
    if (p) { window.print(); return; }
    var c = event.target.closest && event.target.closest("[data-confirm]");
    if (c && !window.confirm(c.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
})();

// The day's route on a Leaflet map: numbered stops and the line between them, from the JSON the
// page embeds (#route-map-data). Tiles only when the server names a tile server; without them
// the stops and the line still draw on a plain background, fitted to the points.
(function () {
  "use strict";

  function marker(L, text, extra) {
    var el = document.createElement("span");
    el.textContent = text;
    return L.divIcon({ className: "route-marker" + (extra ? " " + extra : ""), html: el, iconSize: [28, 28], iconAnchor: [14, 14] });
  }

  function label(text) {
    var el = document.createElement("span");
    el.textContent = text;
    return el;
  }

  function draw() {
    var box = document.getElementById("route-map");
    var source = document.getElementById("route-map-data");
    var L = window.L;
    if (!box || !source || !L) return;
    var data = JSON.parse(source.textContent);
    var points = [];
    var map = L.map(box, { scrollWheelZoom: false, zoomSnap: 0.25, attributionControl: Boolean(data.tiles) });
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 19, attribution: data.attribution || "" }).addTo(map);
    }
    if (data.start) {
      var start = [data.start.lat, data.start.lon];
      points.push(start);
      L.marker(start, { icon: marker(L, "⌂", "route-marker-start"), keyboard: false })
        .bindTooltip(label(data.start.label)).addTo(map);
    }
    data.stops.forEach(function (stop) {
      var at = [stop.lat, stop.lon];
      points.push(at);
      L.marker(at, { icon: marker(L, String(stop.n)), title: stop.n + ". " + stop.name })
        .bindTooltip(label(stop.n + ". " + stop.name + " · " + stop.time)).addTo(map);
    });
    if (points.length > 1) {
      L.polyline(points, { color: "#0f6e6e", weight: 4, opacity: 0.8 }).addTo(map);
    }
    if (points.length === 1) {
      map.setView(points[0], 13);
    } else if (points.length > 1) {
      map.fitBounds(L.latLngBounds(points), { padding: [24, 24] });
    } else {
      box.hidden = true;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

/* Relationship map of a decision unit: cytoscape.js over GET /api/v1/organizations/{id}/decision-unit.
   People are grouped by organisation (columns) and level (rows: decision, management,
   operational), coloured by attitude and sized by influence. Edits go through the same API. */
(function () {
  "use strict";

  var box = document.getElementById("dmu-map");
  if (!box || typeof window.cytoscape !== "function") { return; }
  var labels = JSON.parse(document.getElementById("dmu-labels").textContent);
  // In the Chinese interface, Chinese contacts by their name in characters (the page knows them).
  var localNames = JSON.parse((document.getElementById("dmu-local-names") || { textContent: "{}" }).textContent);
  var phones = JSON.parse((document.getElementById("dmu-phones") || { textContent: "{}" }).textContent);
  var canWrite = box.dataset.canWrite === "1";
  var headers = {};
  try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { headers = {}; }

  var LEVELS = ["decision", "management", "operational", ""];
  var SPACING = 110;
  var MAX_FIT_ZOOM = 1;  // fitting a small unit never enlarges it beyond this
  var COLOURS = { supporter: "#2e7d32", neutral: "#9e9e9e", opponent: "#c62828", outside: "#cfd8dc" };
  var EDGE_COLOURS = { reports_to: "#455a64", influences: "#1565c0", friend: "#2e7d32", rival: "#c62828", family: "#6a1b9a" };
  var graph = null;
  var cy = null;
  var selected = null;

  function $(id) { return document.getElementById(id); }

  function status(text) { $("dmu-status").textContent = text || ""; }

  function request(method, url, body, extra) {
    var h = Object.assign({ "Accept": "application/json" }, headers, extra || {});
    if (body !== undefined) { h["Content-Type"] = "application/json"; }
    return fetch(url, { method: method, headers: h, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  }

  /* Columns per organisation (this one first), rows per level; a cell is a small grid. */
  function positions(nodes) {
    var orgId = Number(box.dataset.org);
    var orgs = {};
    nodes.forEach(function (n) {
      var key = n.organization === null ? "none" : String(n.organization);
      if (!orgs[key]) { orgs[key] = { key: key, name: n.organization_name, cells: {} }; }
      var level = LEVELS.indexOf(n.level) >= 0 ? n.level : "";
      (orgs[key].cells[level] = orgs[key].cells[level] || []).push(n);
    });
    var order = Object.keys(orgs).map(function (k) { return orgs[k]; }).sort(function (a, b) {
      if (a.key === String(orgId)) { return -1; }
      if (b.key === String(orgId)) { return 1; }
      return (a.name || "").localeCompare(b.name || "");
    });
    var perRow = function (count) { return Math.max(1, Math.min(count, Math.ceil(Math.sqrt(count * 3)))); };
    var bandRows = {};
    LEVELS.forEach(function (level) {
      bandRows[level] = 0;
      order.forEach(function (o) {
        var n = (o.cells[level] || []).length;
        if (n) { bandRows[level] = Math.max(bandRows[level], Math.ceil(n / perRow(n))); }
      });
    });
    var result = {};
    var bands = [];
    var yb = 0;
    LEVELS.forEach(function (level) {
      if (bandRows[level]) {
        bands.push({ level: level, y: yb + (bandRows[level] - 1) * SPACING / 2 });
        yb += bandRows[level] * SPACING + SPACING / 2;
      }
    });
    var x0 = 0;
    order.forEach(function (o) {
      var width = 1;
      LEVELS.forEach(function (level) { var n = (o.cells[level] || []).length; if (n) { width = Math.max(width, perRow(n)); } });
      var y0 = 0;
      LEVELS.forEach(function (level) {
        var cell = (o.cells[level] || []).slice().sort(function (a, b) { return b.influence - a.influence; });
        var cols = perRow(cell.length);
        cell.forEach(function (n, i) {
          result[n.person] = { x: x0 + (i % cols) * SPACING + (width - cols) * SPACING / 2, y: y0 + Math.floor(i / cols) * SPACING };
        });
        if (bandRows[level]) { y0 += bandRows[level] * SPACING + SPACING / 2; }
      });
      o.box = { x1: x0 - SPACING * 0.6, x2: x0 + (width - 1) * SPACING + SPACING * 0.6 };
      x0 += width * SPACING + SPACING;
    });
    order.forEach(function (o) { o.box.y1 = -SPACING * 0.6; o.box.y2 = yb - SPACING * 0.85; });
    return { at: result, orgs: order, bands: bands };
  }

  function elements(data) {
    var placed = positions(data.nodes);
    var els = [];
    // Organisations are drawn as plain boxes behind their people rather than as compound
    // parents: cytoscape.js computes compound bounds on every change, which doubles the
    // time to lay out a large map.
    placed.orgs.forEach(function (o) {
      els.push({ group: "nodes", data: { id: "org-" + o.key, label: o.name || labels.unknown_org, kind: "org",
        w: o.box.x2 - o.box.x1, h: o.box.y2 - o.box.y1 },
        position: { x: (o.box.x1 + o.box.x2) / 2, y: (o.box.y1 + o.box.y2) / 2 }, selectable: false, grabbable: false });
    });
    placed.bands.forEach(function (b) {
      els.push({ group: "nodes", data: { id: "level-" + (b.level || "none"), label: b.level ? labels.level[b.level] : labels.no_level, kind: "band" },
        position: { x: -SPACING * 1.3, y: b.y }, selectable: false, grabbable: false });
    });
    data.nodes.forEach(function (n) {
      els.push({
        group: "nodes",
        data: {
          id: "p" + n.person, person: n.person,
          label: localNames[String(n.person)] || n.name, size: 26 + Math.round(n.influence * 0.6), colour: n.member === null ? COLOURS.outside : (COLOURS[n.attitude] || COLOURS.neutral),
          kind: n.member === null ? "outside" : "member", coach: n.coach ? 1 : 0, left: n.has_left ? 1 : 0
        },
        position: placed.at[n.person]
      });
    });
    // Two people tied more than once (say reports-to and friend): those lines curve apart.
    var pairs = {};
    data.edges.forEach(function (e) {
      var key = Math.min(e.source, e.target) + "-" + Math.max(e.source, e.target);
      pairs[key] = (pairs[key] || 0) + 1;
    });
    data.edges.forEach(function (e) {
      var multi = pairs[Math.min(e.source, e.target) + "-" + Math.max(e.source, e.target)] > 1 ? 1 : 0;
      els.push({
        group: "edges",
        data: { id: "e" + e.id, edge: e.id, source: "p" + e.source, target: "p" + e.target, kind: e.kind,
                colour: EDGE_COLOURS[e.kind] || "#555", width: e.strength * 1.5, arrow: e.directed ? "triangle" : "none", multi: multi }
      });
    });
    return els;
  }

  var STYLE = [
    // A name sits on a light plate, so a line passing under it does not cross its letters.
    { selector: "node", style: { "label": "data(label)", "font-size": 11, "min-zoomed-font-size": 7, "z-index-compare": "manual", "z-index": 3,
      "text-background-color": "#ffffff", "text-background-opacity": 0.9, "text-background-padding": 2, "text-background-shape": "round-rectangle" } },
    { selector: "node[size]", style: { "text-valign": "bottom", "text-margin-y": 4, "width": "data(size)", "height": "data(size)",
      "background-color": "data(colour)", "border-width": 1, "border-color": "#fff" } },
    { selector: "node[kind = 'outside']", style: { "border-style": "dashed", "border-color": "#607d8b", "border-width": 2 } },
    { selector: "node[coach = 1]", style: { "border-width": 5, "border-color": "#f9a825" } },
    { selector: "node[left = 1]", style: { "opacity": 0.45 } },
    { selector: "node[kind = 'org']", style: { "background-color": "#f5f7fa", "border-color": "#b0bec5", "width": "data(w)", "height": "data(h)",
      "border-width": 1, "shape": "round-rectangle", "text-valign": "top", "text-halign": "center", "text-margin-y": -4, "font-size": 14,
      "font-weight": "bold", "z-index": 0, "events": "no" } },
    { selector: "node[kind = 'band']", style: { "events": "no", "background-opacity": 0, "border-width": 0, "width": 1, "height": 1,
      "text-valign": "center", "text-halign": "left", "font-size": 13, "color": "#607d8b", "font-style": "italic" } },
    { selector: "edge", style: { "z-index-compare": "manual", "z-index": 1, "curve-style": "straight", "line-color": "data(colour)", "target-arrow-color": "data(colour)",
      "target-arrow-shape": "data(arrow)", "width": "data(width)", "opacity": 0.8 } },
    { selector: "edge[multi = 1]", style: { "curve-style": "bezier", "control-point-step-size": 24 } },
    { selector: "edge[kind = 'influences']", style: { "line-style": "dashed" } },
    { selector: "edge[kind = 'rival']", style: { "line-style": "dotted" } },
    { selector: ":selected", style: { "overlay-color": "#1976d2", "overlay-opacity": 0.25, "overlay-padding": 6 } }
  ];

  function render(data) {
    var t0 = performance.now();
    graph = data;
    if (cy) { cy.destroy(); }
    var large = data.nodes.length + data.edges.length > 400;
    // Large maps: one canvas pixel per CSS pixel and simplified drawing while panning keep
    // the first paint and every interaction fast.
    cy = window.cytoscape({ container: box, elements: elements(data), style: STYLE, layout: { name: "preset", fit: true, padding: 30 },
      minZoom: 0.05, maxZoom: 3, boxSelectionEnabled: false,
      pixelRatio: large ? 1 : "auto", hideEdgesOnViewport: large, textureOnViewport: large });
    // A unit of one or two people would fill the box at the largest zoom: keep names at reading size.
    if (cy.zoom() > MAX_FIT_ZOOM) { cy.zoom(MAX_FIT_ZOOM); cy.center(); }
    // Layout: positions computed and applied, the graph built (the preset layout runs inside).
    box.dataset.layoutMs = String(Math.round(performance.now() - t0));
    cy.on("tap", "node[kind = 'member'], node[kind = 'outside']", function (evt) { selectPerson(evt.target.data("person")); });
    cy.on("tap", "edge", function (evt) { selectEdge(evt.target.data("edge")); });
    cy.on("dbltap", "node[kind = 'member'], node[kind = 'outside']", function (evt) { window.location.href = cardUrl(evt.target.data("person")); });
    // And until the browser has painted the first frame of the map.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        box.dataset.paintMs = String(Math.round(performance.now() - t0));
        box.dataset.ready = "1";
        box.dispatchEvent(new CustomEvent("dmu:ready"));
      });
    });
    showWarnings(data);
  }

  function showWarnings(data) {
    var list = $("dmu-warnings");
    list.textContent = "";
    if (!data.warnings.length) {
      var ok = document.createElement("li");
      ok.className = "dmu-ok";
      ok.dataset.code = "";
      ok.textContent = labels.no_warnings;
      list.appendChild(ok);
    }
    data.warnings.forEach(function (w) {
      var li = document.createElement("li");
      li.dataset.code = w.code;
      li.textContent = w.message;
      list.appendChild(li);
    });
    $("dmu-total").textContent = String(data.influence_total);
  }

  function cardUrl(person) { return box.dataset.cardUrl.replace(/0\/$/, person + "/"); }

  function load() {
    return request("GET", box.dataset.api).then(function (r) { return r.json(); }).then(function (data) {
      render(data);
      if (selected && selected.type === "person") { selectPerson(selected.id); }
    });
  }

  function node(person) { return graph.nodes.filter(function (n) { return n.person === person; })[0]; }

  function fillLinkTargets(person) {
    var link = $("dmu-link-editor");
    if (!link) { return; }
    var select = $("dmu-link-to");
    select.textContent = "";
    graph.nodes.filter(function (x) { return x.person !== person; })
      .sort(function (a, b) { return a.name.localeCompare(b.name); })
      .forEach(function (x) {
        var option = document.createElement("option");
        option.value = String(x.person);
        option.textContent = x.name;
        select.appendChild(option);
      });
    errors("dmu-link-errors", null);
    link.hidden = select.options.length === 0;
  }

  function selectPerson(person) {
    var n = node(person);
    $("dmu-edge-editor").hidden = true;
    if (!n) { return; }
    fillLinkTargets(person);
    selected = { type: "person", id: person };
    var form = $("dmu-member-editor");
    $("dmu-hint").hidden = true;
    $("dmu-member-name").textContent = localNames[String(person)] || n.name;
    $("dmu-member-card").href = cardUrl(person);
    $("dmu-member-prepare").href = cardUrl(person).replace(/cards\/(\d+)\/$/, "people/$1/prepare/");
    $("dmu-member-left").hidden = !n.has_left;
    var phone = phones[String(person)];
    $("dmu-member-phone").hidden = !phone;
    $("dmu-member-call").href = phone ? "tel:" + phone.tel : "#";
    $("dmu-member-call").textContent = phone ? phone.shown : "";
    if (n.member === null) {
      // People linked from outside the unit: open their card, nothing to edit here.
      form.hidden = false;
      Array.prototype.forEach.call(form.querySelectorAll("input, select, textarea, button"), function (el) { el.disabled = true; });
      return;
    }
    Array.prototype.forEach.call(form.querySelectorAll("input, select, textarea, button"), function (el) { el.disabled = !canWrite; });
    form.elements.level.value = n.level;
    form.elements["function"].value = n["function"];
    Array.prototype.forEach.call(form.querySelectorAll("input[name=roles]"), function (el) { el.checked = n.roles.indexOf(el.value) >= 0; });
    form.elements.influence.value = n.influence;
    form.elements.attitude.value = n.attitude;
    form.elements.coach.checked = n.coach;
    form.elements.cares_about.value = n.cares_about;
    errors("dmu-member-errors", null);
    form.hidden = false;
  }

  function selectEdge(id) {
    var e = graph.edges.filter(function (x) { return x.id === id; })[0];
    if (!e) { return; }
    selected = { type: "edge", id: id };
    $("dmu-member-editor").hidden = true;
    if ($("dmu-link-editor")) { $("dmu-link-editor").hidden = true; }
    $("dmu-hint").hidden = true;
    var form = $("dmu-edge-editor");
    $("dmu-edge-name").textContent = node(e.source).name + (e.directed ? " → " : " ↔ ") + node(e.target).name;
    form.elements.kind.value = e.kind;
    form.elements.strength.value = String(e.strength);
    form.elements.directed.checked = e.directed;
    Array.prototype.forEach.call(form.querySelectorAll("input, select, button"), function (el) { el.disabled = !canWrite; });
    errors("dmu-edge-errors", null);
    form.hidden = false;
  }

  function errors(id, body) {
    var list = $(id);
    list.textContent = "";
    list.hidden = !body;
    if (!body) { return; }
    var all = body.errors || { "": [body.detail || labels.failed] };
    Object.keys(all).forEach(function (field) {
      all[field].forEach(function (msg) {
        var li = document.createElement("li");
        li.textContent = (field && field !== "__all__" ? field + ": " : "") + msg;
        list.appendChild(li);
      });
    });
  }

  function answer(r, errorsId, done) {
    if (r.status === 412) { status(labels.conflict); return load(); }
    if (!r.ok) { return r.json().then(function (body) { errors(errorsId, body); status(labels.failed); }); }
    status(done);
    return load();
  }

  $("dmu-member-editor").addEventListener("submit", function (evt) {
    evt.preventDefault();
    var n = node(selected.id);
    var form = evt.target;
    var roles = Array.prototype.filter.call(form.querySelectorAll("input[name=roles]"), function (el) { return el.checked; }).map(function (el) { return el.value; });
    var body = { level: form.elements.level.value, "function": form.elements["function"].value, roles: roles,
      influence: form.elements.influence.value === "" ? 0 : Number(form.elements.influence.value),
      attitude: form.elements.attitude.value, coach: form.elements.coach.checked, cares_about: form.elements.cares_about.value };
    request("PATCH", box.dataset.memberApi + n.member, body, { "If-Match": '"' + n.version + '"' })
      .then(function (r) { return answer(r, "dmu-member-errors", labels.saved); });
  });

  var link = $("dmu-link-editor");
  if (link) {
    link.addEventListener("submit", function (evt) {
      evt.preventDefault();
      var body = { kind: link.elements.kind.value, to_person: Number(link.elements.to_person.value) };
      request("POST", "/api/v1/people/" + selected.id + "/relationships", body)
        .then(function (r) { return answer(r, "dmu-link-errors", labels.saved); });
    });
  }

  var remove = $("dmu-member-remove");
  if (remove) {
    remove.addEventListener("click", function () {
      var n = node(selected.id);
      if (!n || !window.confirm(labels.confirm_remove)) { return; }
      request("DELETE", box.dataset.memberApi + n.member).then(function (r) {
        $("dmu-member-editor").hidden = true;
        if (link) { link.hidden = true; }
        selected = null;
        return answer(r, "dmu-member-errors", labels.removed);
      });
    });
  }

  $("dmu-edge-editor").addEventListener("submit", function (evt) {
    evt.preventDefault();
    var form = evt.target;
    var body = { kind: form.elements.kind.value, strength: Number(form.elements.strength.value), directed: form.elements.directed.checked };
    request("PATCH", box.dataset.edgeApi + selected.id, body).then(function (r) { return answer(r, "dmu-edge-errors", labels.saved); });
  });

  var del = $("dmu-edge-delete");
  if (del) {
    del.addEventListener("click", function () {
      if (!selected || !window.confirm(labels.confirm_delete)) { return; }
      request("DELETE", box.dataset.edgeApi + selected.id).then(function (r) {
        $("dmu-edge-editor").hidden = true; selected = null; return answer(r, "dmu-edge-errors", labels.removed);
      });
    });
  }

  function download(blob, name) {
    var url = URL.createObjectURL(blob);
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  $("dmu-export-png").addEventListener("click", function () {
    download(cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff" }), box.dataset.filename + ".png");
  });

  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  /* SVG written from the laid-out positions: groups, lines, arrows, circles and names. */
  function svg() {
    var bb = cy.elements().boundingBox();
    var pad = 20;
    var out = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="' + [bb.x1 - pad, bb.y1 - pad, bb.w + 2 * pad, bb.h + 2 * pad].join(" ") +
      '" width="' + Math.round(bb.w + 2 * pad) + '" height="' + Math.round(bb.h + 2 * pad) + '" font-family="sans-serif">',
      '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>',
      '<rect x="' + (bb.x1 - pad) + '" y="' + (bb.y1 - pad) + '" width="' + (bb.w + 2 * pad) + '" height="' + (bb.h + 2 * pad) + '" fill="#fff"/>'];
    cy.nodes("[kind = 'org']").forEach(function (g) {
      var b = g.boundingBox({ includeLabels: false, includeOverlays: false });
      out.push('<rect x="' + b.x1 + '" y="' + b.y1 + '" width="' + b.w + '" height="' + b.h + '" rx="8" fill="#f5f7fa" stroke="#b0bec5"/>');
      out.push('<text x="' + (b.x1 + b.w / 2) + '" y="' + (b.y1 - 6) + '" text-anchor="middle" font-size="14" font-weight="bold">' + esc(g.data("label")) + "</text>");
    });
    cy.edges().forEach(function (e) {
      // The line as the map draws it: from border to border, and curved where two people have
      // several ties (the map's bezier control point), so parallel ties do not overlap.
      var s = e.sourceEndpoint(), t = e.targetEndpoint();
      var bend = e.data("multi") === 1 ? e.controlPoints() : null;
      var d = "M" + s.x + "," + s.y + (bend && bend.length ? " Q" + bend[0].x + "," + bend[0].y + " " : " L") + t.x + "," + t.y;
      var dash = e.data("kind") === "influences" ? ' stroke-dasharray="6 4"' : (e.data("kind") === "rival" ? ' stroke-dasharray="2 3"' : "");
      out.push('<path d="' + d + '" fill="none" stroke="' + e.data("colour") + '" stroke-width="' + e.data("width") + '"' + dash +
        (e.data("arrow") === "triangle" ? ' marker-end="url(#arrow)"' : "") + ' opacity="0.8"/>');
    });
    cy.nodes("[kind = 'band']").forEach(function (n) {
      var p = n.position();
      out.push('<text x="' + p.x + '" y="' + (p.y + 4) + '" text-anchor="end" font-size="13" font-style="italic" fill="#607d8b">' + esc(n.data("label")) + "</text>");
    });
    cy.nodes("[kind = 'member'], [kind = 'outside']").forEach(function (n) {
      var p = n.position(), r = n.data("size") / 2;
      var stroke = n.data("coach") ? ' stroke="#f9a825" stroke-width="5"' : ' stroke="#fff" stroke-width="1"';
      out.push('<circle cx="' + p.x + '" cy="' + p.y + '" r="' + r + '" fill="' + n.data("colour") + '"' + stroke + (n.data("left") ? ' opacity="0.45"' : "") + "/>");
      out.push('<text x="' + p.x + '" y="' + (p.y + r + 14) + '" text-anchor="middle" font-size="11">' + esc(n.data("label")) + "</text>");
    });
    out.push("</svg>");
    return out.join("\n");
  }

  $("dmu-export-svg").addEventListener("click", function () {
    download(new Blob([svg()], { type: "image/svg+xml" }), box.dataset.filename + ".svg");
  });

  // For tests and tools: where a person is drawn (relative to the map box), the SVG text, a reload.
  window.rapportDecisionUnit = {
    svg: function () { return svg(); },
    reload: load,
    position: function (person) { var p = cy.getElementById("p" + person).renderedPosition(); return { x: p.x, y: p.y }; },
    zoom: function () { return cy.zoom(); },
    label: function (person) { return cy.getElementById("p" + person).data("label"); },
    labelPlate: function (person) { return Number(cy.getElementById("p" + person).style("text-background-opacity")); }
  };
  load();
})();

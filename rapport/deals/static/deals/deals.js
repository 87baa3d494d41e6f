/* The pipeline board and the deal page: drag and drop between steps, moving with the keyboard
   or the "Move" menu, and the dialog a refused move opens. Every move posts the same fields to
   the deal's move address as the deal page's own move form. */
(function () {
  "use strict";

  var dragged = null;

  function canMove(card, step) {
    return !!(step && card && card.dataset.url && step !== card.dataset.step);
  }

  // Posts the move the way the deal page's forms do (htmx, with the CSRF header of the page) and
  // swaps the board it answers: the moved deal in its new column, or the dialog of a refused move.
  function move(card, step) {
    if (!canMove(card, step) || !window.htmx) { return false; }
    var board = document.getElementById("board");
    var query = board && board.dataset.query ? "?" + board.dataset.query : "";
    card.classList.add("is-moving");
    window.htmx.ajax("POST", card.dataset.url + query, {
      source: card, target: "#board", swap: "outerHTML", values: {to: step, version: card.dataset.version}
    });
    return true;
  }

  // The "Move" link of a card opens the board's one menu of steps (without JavaScript the link
  // opens the deal page, which moves it too).
  var menuCard = null;

  function menu() { return document.getElementById("deal-move-menu"); }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) { return; }
    var link = target.closest("[data-move]");
    var dialog = menu();
    if (link && dialog && typeof dialog.showModal === "function") {
      var card = link.closest(".deal-card");
      if (!card) { return; }
      event.preventDefault();
      menuCard = card;
      var name = card.querySelector(".deal-card-name");
      dialog.querySelector("[data-deal-name]").textContent = name ? name.textContent : "";
      dialog.querySelectorAll("button[data-to]").forEach(function (b) { b.disabled = b.dataset.to === card.dataset.step; });
      dialog.showModal();
      var first = dialog.querySelector("button[data-to]:not([disabled])");
      if (first) { first.focus(); }
      return;
    }
    var choice = target.closest("#deal-move-menu button[data-to]");
    if (choice && menuCard) {
      var moving = menuCard;
      menuCard = null;
      dialog.close();
      move(moving, choice.dataset.to);
      return;
    }
    if (target.closest("[data-menu-cancel]") && dialog) {
      menuCard = null;
      dialog.close();
    }
  });

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card[draggable=true]");
    if (!card) { return; }
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("is-dragging"); }
    dragged = null;
    document.querySelectorAll(".deal-column.is-over").forEach(function (c) { c.classList.remove("is-over"); });
  });

  function columnOf(event) {
    return event.target.closest && event.target.closest(".deal-column");
  }

  document.addEventListener("dragover", function (event) {
    var column = columnOf(event);
    if (!column || !dragged || !canMove(dragged, column.dataset.step)) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".deal-column.is-over").forEach(function (c) { if (c !== column) { c.classList.remove("is-over"); } });
    column.classList.add("is-over");
  });

  document.addEventListener("drop", function (event) {
    var column = columnOf(event);
    if (!column || !dragged) { return; }
    event.preventDefault();
    column.classList.remove("is-over");
    move(dragged, column.dataset.step);
  });

  // Shift+→ and Shift+← move the focused card one step; the board keeps focus on it afterwards.
  document.addEventListener("keydown", function (event) {
    var card = event.target;
    if (!card.classList || !card.classList.contains("deal-card") || !event.shiftKey) { return; }
    if (event.key === "ArrowRight" && move(card, card.dataset.next)) { event.preventDefault(); }
    else if (event.key === "ArrowLeft" && move(card, card.dataset.prev)) { event.preventDefault(); }
  });

  function openDialogs(root) {
    (root || document).querySelectorAll("dialog[data-open-modal]").forEach(function (dialog) {
      if (dialog.open || dialog.closest(".deal-move-page") || typeof dialog.showModal !== "function") { return; }
      dialog.showModal();
      var first = dialog.querySelector("textarea, select, input:not([type=hidden])");
      if (first) { first.focus(); }
    });
  }

  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-close-dialog]");
    if (!cancel) { return; }
    var dialog = cancel.closest("dialog");
    if (!dialog || dialog.closest(".deal-move-page")) { return; }
    event.preventDefault();
    dialog.close();
  });

  // A closed dialog leaves the page as it was: nothing moved; focus goes back to the deal.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (!dialog.matches || !dialog.matches("dialog[data-open-modal]")) { return; }
    var board = document.getElementById("board");
    var card = board && board.dataset.focus && document.getElementById("deal-card-" + board.dataset.focus);
    dialog.remove();
    if (card) { card.classList.remove("is-moving"); card.focus(); }
  }, true);

  document.addEventListener("htmx:afterSettle", function () {
    var board = document.getElementById("board");
    // htmx already refocuses the card when it was focused before; otherwise (a drop, a dialog
    // sent) focus returns to the moved deal, never taken from where the user has moved it since.
    if (board && board.dataset.focus && !board.querySelector("dialog[data-open-modal]") && !board.contains(document.activeElement)) {
      var card = document.getElementById("deal-card-" + board.dataset.focus);
      if (card) { card.focus(); }
    }
    openDialogs(document);
  });

  document.addEventListener("DOMContentLoaded", function () { openDialogs(document); });
})();

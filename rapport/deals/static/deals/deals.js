/* The pipeline board and the deal page: drag and drop between steps, moving with the keyboard,
   and the dialog a refused move opens. Every move goes through the card's own "Move" form, so
   the mouse, the keyboard and a page without JavaScript post the same thing. */
(function () {
  "use strict";

  var dragged = null;

  function moveButton(card, step) {
    return step ? card.querySelector(".deal-card-move button[data-to='" + step + "']") : null;
  }

  function move(card, step) {
    var button = moveButton(card, step);
    if (!button) { return false; }
    card.classList.add("is-moving");
    button.click();  // a click, so htmx sends the button's name and value with the form
    return true;
  }

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
    if (!column || !dragged || !moveButton(dragged, column.dataset.step)) { return; }
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

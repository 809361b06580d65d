/* Sortable tables, for every page that has them (profit results, the character dashboard).
 *
 * A table marked data-sortable gets a button in each header cell marked
 * data-sort="number" or data-sort="text"; a click sorts the rows in place by each cell's
 * data-value (else its text): numbers largest first, text A to Z, a second click reverses.
 * Rows with no value stay last either way; equal values keep their order. The header's
 * aria-sort says the order. Headers are buttons, so the keyboard sorts too.
 *
 * A table whose rows are not all on the page (data-complete="false") is left alone: its
 * header links sort on the server. A header's link (a.sort-link) becomes the button; the
 * button takes the table's data-sort-button-class, if any.
 *
 * After a sort the table fires "sortable:sorted" (detail: {key: the header's data-key,
 * sort: "-key" or "key", direction}), so a page can remember the order (profit.js does).
 * Without JavaScript the tables keep the server's order.
 */
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell ? cell.getAttribute("data-value") : null;
    if (raw === null) raw = cell ? cell.textContent.trim() : "";
    if (!numeric) return raw.toLowerCase();
    if (raw === "") return null;
    var number = parseFloat(raw);
    return isNaN(number) ? null : number;
  }

  function sortTable(table, th, direction) {
    var body = table.tBodies[0];
    if (!body) return;
    var heads = Array.prototype.slice.call(th.parentNode.cells);
    var index = heads.indexOf(th);
    var numeric = th.getAttribute("data-sort") === "number";
    var sign = direction === "descending" ? -1 : 1;
    var rows = Array.prototype.slice.call(body.rows);
    var position = new Map();
    rows.forEach(function (row, i) { position.set(row, i); });
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric);
      var y = cellValue(b, index, numeric);
      if (x === null && y === null) return position.get(a) - position.get(b);
      if (x === null) return 1; // missing values last, either way
      if (y === null) return -1;
      if (x < y) return -sign;
      if (x > y) return sign;
      return position.get(a) - position.get(b);
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    table.querySelectorAll("thead th").forEach(function (head) {
      head.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", direction);
    var key = th.getAttribute("data-key");
    table.dispatchEvent(new CustomEvent("sortable:sorted", {
      bubbles: true,
      detail: {
        key: key,
        sort: key ? (direction === "descending" ? "-" : "") + key : null,
        direction: direction,
      },
    }));
  }

  function nextDirection(th) {
    var current = th.getAttribute("aria-sort");
    if (current === "descending") return "ascending";
    if (current === "ascending") return "descending";
    return th.getAttribute("data-sort") === "number" ? "descending" : "ascending";
  }

  function enhance(table) {
    if (table.getAttribute("data-complete") === "false" || !table.tHead) return;
    table.querySelectorAll("thead th[data-sort]").forEach(function (th) {
      var link = th.querySelector("a.sort-link");
      var label = (link || th).textContent;
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.setAttribute("aria-label", "Sort by " + label.trim());
      var extra = table.getAttribute("data-sort-button-class");
      if (extra) button.className = extra;
      var key = th.getAttribute("data-key");
      if (key) button.setAttribute("data-sort-button", key);
      if (link) {
        link.replaceWith(button);
      } else {
        th.textContent = "";
        th.appendChild(button);
      }
      button.addEventListener("click", function () { sortTable(table, th, nextDirection(th)); });
    });
  }

  function init() {
    document.querySelectorAll("table[data-sortable]").forEach(enhance);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

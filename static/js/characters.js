/* Character dashboard: click a column header of a table marked data-sortable to sort its rows
 * (numbers largest first, text A to Z; click again to reverse), by each cell's data-value.
 * Headers become buttons so the keyboard can sort too. Without JavaScript the tables keep the
 * server's order (largest value first, newest first). */
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    var raw = cell ? cell.getAttribute("data-value") : "";
    if (raw === null) raw = cell ? cell.textContent.trim() : "";
    if (!numeric) return raw.toLowerCase();
    var number = parseFloat(raw);
    return isNaN(number) ? -Infinity : number;
  }

  function sortBy(table, th, index, numeric) {
    var body = table.tBodies[0];
    if (!body) return;
    var current = th.getAttribute("aria-sort");
    var descending = current ? current === "ascending" : numeric;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric);
      var y = cellValue(b, index, numeric);
      if (x === y) return 0;
      return (x < y ? -1 : 1) * (descending ? -1 : 1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("thead th").forEach(function (head) { head.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function enhance(table) {
    var heads = table.querySelectorAll("thead th[data-sort]");
    heads.forEach(function (th) {
      var index = Array.prototype.indexOf.call(th.parentNode.children, th);
      var numeric = th.getAttribute("data-sort") === "number";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "char-sort";
      button.textContent = th.textContent;
      button.setAttribute("aria-label", "Sort by " + th.textContent.trim());
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, th, index, numeric); });
    });
  }

  function init() {
    document.querySelectorAll("table[data-sortable]").forEach(enhance);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

/* Profit pages: in-place column sorting of result tables, and live opportunity boards.
 *
 * Without JavaScript everything still works: headers are links that sort on the server, and
 * the boards show the version the page was rendered with.
 *
 * Sorting: a table marked data-sortable whose rows are all on the page
 * (data-complete="true") sorts in place when a header is clicked (descending first for
 * numbers), by each cell's data-value; the URL's `sort` is updated so a reload, the CSV and
 * the permalink keep the order. A table with more pages keeps the links (server sort).
 *
 * Boards: a [data-boards-live] block polls its data-version-url (a tiny JSON with ETag, so an
 * unchanged board is a 304) every data-poll-ms, and, when the version changes, fetches
 * data-fragment-url (the boards' HTML, rendered by the server) and swaps it in.
 */
(function () {
  "use strict";

  // --- Sorting ------------------------------------------------------------------------------

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
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var index = heads.indexOf(th);
    var numeric = th.classList.contains("num");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = direction === "descending" ? -1 : 1;
    rows.forEach(function (row, i) { row._position = i; });
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric);
      var y = cellValue(b, index, numeric);
      if (x === null && y === null) return a._position - b._position;
      if (x === null) return 1; // missing values last, either way
      if (y === null) return -1;
      if (x < y) return -sign;
      if (x > y) return sign;
      return a._position - b._position;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    heads.forEach(function (head) { head.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", direction);
    var key = th.getAttribute("data-key");
    var sort = (direction === "descending" ? "-" : "") + key;
    rememberSort(sort);
  }

  function rememberSort(sort) {
    var url = new URL(window.location.href);
    url.searchParams.set("sort", sort);
    url.searchParams.delete("page");
    window.history.replaceState(null, "", url.toString());
    document.querySelectorAll("[data-csv], [data-permalink]").forEach(function (link) {
      var target = new URL(link.href, window.location.href);
      target.searchParams.set("sort", sort);
      link.href = target.pathname + target.search;
    });
    var select = document.querySelector('[data-profit-form] select[name="sort"]');
    if (select && select.querySelector('option[value="' + sort + '"]')) select.value = sort;
  }

  function enableSorting(table) {
    if (table.getAttribute("data-complete") !== "true" || !table.tHead) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var link = th.querySelector("a.sort-link");
      if (!link) return;
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = link.textContent;
      button.setAttribute("data-sort-button", th.getAttribute("data-key"));
      link.replaceWith(button);
      button.addEventListener("click", function () {
        var current = th.getAttribute("aria-sort");
        var numeric = th.classList.contains("num");
        var direction;
        if (current === "descending") direction = "ascending";
        else if (current === "ascending") direction = "descending";
        else direction = numeric ? "descending" : "ascending";
        sortTable(table, th, direction);
      });
    });
  }

  // --- Live boards --------------------------------------------------------------------------

  function liveBoards(root) {
    var versionUrl = root.getAttribute("data-version-url");
    var fragmentUrl = root.getAttribute("data-fragment-url");
    var announce = document.querySelector("[data-boards-announce]");
    var etag = null;
    var busy = false;

    function current() {
      var boards = root.querySelector("[data-boards]");
      return boards ? boards.getAttribute("data-version") || "" : "";
    }

    function pollMs() {
      var boards = root.querySelector("[data-boards]");
      var ms = boards ? parseInt(boards.getAttribute("data-poll-ms"), 10) : NaN;
      return isNaN(ms) || ms < 200 ? 15000 : ms;
    }

    function swap(version) {
      return fetch(fragmentUrl, { headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("boards: " + response.status);
          return response.text();
        })
        .then(function (html) {
          root.innerHTML = html;
          var boards = root.querySelector("[data-boards]");
          if (boards) {
            boards.classList.add("is-fresh");
            if (announce) announce.textContent = "The opportunity boards were updated.";
          }
          root.setAttribute("data-live-version", version);
        });
    }

    function tick() {
      if (busy || document.hidden) return schedule();
      busy = true;
      var headers = { Accept: "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      fetch(versionUrl, { headers: headers, credentials: "same-origin", cache: "no-cache" })
        .then(function (response) {
          if (response.status === 304) return null;
          if (!response.ok) throw new Error("boards version: " + response.status);
          etag = response.headers.get("ETag");
          return response.json();
        })
        .then(function (data) {
          if (data && data.version && data.version !== current()) return swap(data.version);
          return null;
        })
        .catch(function () { /* try again at the next tick */ })
        .then(function () {
          busy = false;
          schedule();
        });
    }

    function schedule() {
      window.setTimeout(tick, pollMs());
    }

    root.setAttribute("data-live", "on");
    schedule();
  }

  function init() {
    document.querySelectorAll("table[data-sortable]").forEach(enableSorting);
    document.querySelectorAll("[data-boards-live]").forEach(liveBoards);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

/* Profit pages: the sort of a results table remembered in the URL, and live opportunity
 * boards.
 *
 * Without JavaScript everything still works: headers are links that sort on the server, and
 * the boards show the version the page was rendered with.
 *
 * Sorting: static/js/sortable.js sorts a table whose rows are all on the page in place; when
 * it has, the URL's `sort` (and the CSV, permalink and sort select) follow, so a reload keeps
 * the order. A table with more pages keeps the links (server sort).
 *
 * Boards: a [data-boards-live] block polls its data-version-url (a tiny JSON with ETag, so an
 * unchanged board is a 304) every data-poll-ms, and, when the version changes, fetches
 * data-fragment-url (the boards' HTML, rendered by the server) and swaps it in.
 */
(function () {
  "use strict";

  // --- Remembering a sort --------------------------------------------------------------------

  // sortable.js sorted a results table in place: the URL's `sort` follows (so a reload, the
  // CSV and the permalink keep the order), and so does the form's sort select.
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

  function onSorted(event) {
    var table = event.target;
    if (!table.classList || !table.classList.contains("profit-table")) return;
    if (event.detail && event.detail.sort) rememberSort(event.detail.sort);
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
    document.addEventListener("sortable:sorted", onSorted);
    document.querySelectorAll("[data-boards-live]").forEach(liveBoards);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

// Small page helpers, no dependencies. Loaded in <head> without `defer` so that the image
// error listener is in place before any <img> can fail.
"use strict";

// Item icons come from images.evetech.net, which may be unreachable (offline installs).
// A failed image is hidden; its frame (.icon) stays, so the layout does not move.
document.addEventListener(
  "error",
  function (event) {
    if (event.target instanceof HTMLImageElement) {
      event.target.hidden = true;
    }
  },
  true // "error" does not bubble: listen while it travels down (capture)
);

document.addEventListener("DOMContentLoaded", function () {
  // Images that failed before this script ran.
  document.querySelectorAll("img").forEach(function (img) {
    if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) {
      img.hidden = true;
    }
  });

  // <input data-filter="CSS selector of rows">: hide the rows whose text does not contain
  // what was typed; hide a whole [data-filter-group] when none of its rows is left.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var rows = Array.from(document.querySelectorAll(input.dataset.filter));
    var empty = document.querySelectorAll(".filter-empty");
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var match = row.textContent.toLowerCase().includes(needle);
        row.hidden = !match;
        if (match) shown += 1;
      });
      document.querySelectorAll("[data-filter-group]").forEach(function (group) {
        group.hidden = !group.querySelector(input.dataset.filter + ":not([hidden])");
      });
      empty.forEach(function (el) {
        el.hidden = shown > 0;
      });
    });
  });
});

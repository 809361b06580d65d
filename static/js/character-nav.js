// The header's character switcher (templates/characters/_switcher.html): a <details> menu
// that also closes on Escape or a click elsewhere; messages go after 10 s or on a click.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var menu = document.querySelector("[data-char-switcher]");
  if (menu) {
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }
  document.querySelectorAll("[data-char-messages] li").forEach(function (item) {
    item.addEventListener("click", function () { item.hidden = true; });
    window.setTimeout(function () { item.hidden = true; }, 10000);
  });
});

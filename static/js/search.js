// Item search that suggests as you type. Used by every <form data-search> (the big box on the
// home page and the small one in the navigation).
//
// The markup (templates/sde/_search_box.html) is a plain GET form to the search page, so it
// works without JavaScript. This script makes its input the shared combobox (combobox.js,
// window.EveCombobox: the ARIA 1.2 pattern, typing, keys, the status). Suggestions come from
// the form's data-api; Enter opens the highlighted item (or, with nothing highlighted, submits
// the form: the search page lists every match), and so does a click on a suggestion.
"use strict";

(function () {
  const LIMIT = 10;

  class SearchBox extends window.EveCombobox {
    constructor(form) {
      super(
        {
          container: form,
          input: form.querySelector('[role="combobox"]'),
          panel: form.querySelector(".search__panel"),
          list: form.querySelector('[role="listbox"]'),
          status: form.querySelector(".search__status"),
        },
        {
          prefix: "search",
          words: { one: "suggestion", many: "suggestions", enter: "open", none: "No items match" },
        },
      );
      this.apiUrl = form.dataset.api;
      this.itemsUrl = form.dataset.items;
      this.input.addEventListener("focus", () => {
        if (this.results.length && this.input.value.trim()) this.open();
      });
    }

    onInput() {
      this.setActive(-1); // the highlight was for the old text: Enter now submits the form
      super.onInput();
    }

    async search(query, signal) {
      const params = new URLSearchParams({ q: query, limit: String(LIMIT) });
      const data = await window.EveCombobox.getJson(this.apiUrl, params, signal);
      return (data.results || []).map((hit) => ({ ...hit, label: hit.name }));
    }

    fillOption(li, hit, name) {
      const frame = document.createElement("span");
      frame.className = "icon icon--32";
      const img = document.createElement("img");
      img.alt = "";
      img.width = 32;
      img.height = 32;
      img.decoding = "async";
      img.addEventListener("error", () => { img.hidden = true; });
      img.src = hit.image_url;
      frame.append(img);
      li.append(frame, name);

      if (hit.match === "fuzzy") {
        const hint = document.createElement("span");
        hint.className = "search__hint";
        hint.textContent = "similar";
        li.append(hint);
      }
    }

    errorText(error) {
      return "Search is unavailable right now (" + error.message + "). Press Enter to try the search page.";
    }

    onEnter(event) {
      if (this.isOpen() && this.active >= 0) {
        event.preventDefault();
        this.choose(this.results[this.active]);
      }
      // Otherwise the form submits: the search page lists every match.
    }

    choose(hit) {
      if (hit) window.location.assign(this.itemsUrl + hit.type_id + "/");
    }
  }

  window.EveCombobox.onReady(() => {
    document.querySelectorAll("form[data-search]").forEach((form) => new SearchBox(form));
  });
})();

// Item search that suggests as you type. Used by every <form data-search> (the big box on the
// home page and the small one in the navigation).
//
// The markup (templates/sde/_search_box.html) is a plain GET form to the search page, so it
// works without JavaScript. This script adds the ARIA 1.2 combobox pattern: the input has
// role=combobox and points to a role=listbox of role=option items via aria-activedescendant.
// Keys: ArrowDown/ArrowUp move the highlight, Enter opens the highlighted item (or, with
// nothing highlighted, submits the form), Escape closes the list.
"use strict";

(function () {
  const DEBOUNCE_MS = 150;
  const LIMIT = 10;

  class SearchBox {
    constructor(form) {
      this.form = form;
      this.input = form.querySelector('[role="combobox"]');
      this.panel = form.querySelector(".search__panel");
      this.list = form.querySelector('[role="listbox"]');
      this.status = form.querySelector(".search__status");
      this.apiUrl = form.dataset.api;
      this.itemsUrl = form.dataset.items;
      this.results = [];
      this.active = -1;
      this.timer = null;
      this.request = null; // AbortController of the fetch in flight

      this.input.addEventListener("input", () => this.onInput());
      this.input.addEventListener("keydown", (event) => this.onKeyDown(event));
      this.input.addEventListener("focus", () => {
        if (this.results.length && this.input.value.trim()) this.open();
      });
      form.addEventListener("focusout", (event) => {
        if (!form.contains(event.relatedTarget)) this.close();
      });
      // Keep the focus in the input when an option is clicked.
      this.list.addEventListener("mousedown", (event) => event.preventDefault());
      this.list.addEventListener("click", (event) => {
        const option = event.target.closest('[role="option"]');
        if (option) this.openItem(this.results[Number(option.dataset.index)]);
      });
    }

    onInput() {
      clearTimeout(this.timer);
      this.setActive(-1);
      const query = this.input.value.trim();
      if (!query) {
        this.cancel();
        this.results = [];
        this.list.replaceChildren();
        this.close();
        return;
      }
      this.timer = setTimeout(() => this.load(query), DEBOUNCE_MS);
    }

    cancel() {
      if (this.request) this.request.abort();
      this.request = null;
    }

    async load(query) {
      this.cancel();
      const request = new AbortController();
      this.request = request;
      const url = this.apiUrl + "?" + new URLSearchParams({ q: query, limit: String(LIMIT) });
      let data;
      try {
        const response = await fetch(url, {
          signal: request.signal,
          headers: { Accept: "application/json" },
        });
        if (!response.ok) throw new Error("HTTP " + response.status);
        data = await response.json();
      } catch (error) {
        if (error.name === "AbortError") return;
        this.showError(error);
        return;
      } finally {
        if (this.request === request) this.request = null;
      }
      if (query !== this.input.value.trim()) return; // the user typed on meanwhile
      this.render(data.results || [], query);
    }

    render(results, query) {
      this.results = results;
      this.active = -1;
      this.input.removeAttribute("aria-activedescendant");
      this.list.replaceChildren(...results.map((hit, index) => this.option(hit, index, query)));
      this.status.classList.remove("search__status--error");
      if (results.length) {
        this.status.textContent =
          results.length + (results.length === 1 ? " suggestion" : " suggestions") +
          " · ↑ ↓ to choose, Enter to open";
      } else {
        this.status.textContent = "No items match “" + query + "”.";
      }
      this.open();
    }

    option(hit, index, query) {
      const li = document.createElement("li");
      li.id = this.input.id + "-option-" + index;
      li.className = "search__option";
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.index = String(index);

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

      const name = document.createElement("span");
      name.className = "search__name";
      const at = hit.name.toLowerCase().indexOf(query.toLowerCase());
      if (at >= 0) {
        const mark = document.createElement("mark");
        mark.textContent = hit.name.slice(at, at + query.length);
        name.append(hit.name.slice(0, at), mark, hit.name.slice(at + query.length));
      } else {
        name.textContent = hit.name;
      }
      li.append(frame, name);

      if (hit.match === "fuzzy") {
        const hint = document.createElement("span");
        hint.className = "search__hint";
        hint.textContent = "similar";
        li.append(hint);
      }
      return li;
    }

    showError(error) {
      this.results = [];
      this.list.replaceChildren();
      this.status.classList.add("search__status--error");
      this.status.textContent =
        "Search is unavailable right now (" + error.message + "). Press Enter to try the search page.";
      this.open();
    }

    open() {
      this.panel.hidden = false;
      this.input.setAttribute("aria-expanded", this.results.length ? "true" : "false");
    }

    close() {
      clearTimeout(this.timer);
      this.panel.hidden = true;
      this.input.setAttribute("aria-expanded", "false");
      this.setActive(-1);
    }

    isOpen() {
      return !this.panel.hidden;
    }

    setActive(index) {
      const options = this.list.querySelectorAll('[role="option"]');
      options.forEach((option) => option.setAttribute("aria-selected", "false"));
      this.active = index;
      if (index < 0 || index >= options.length) {
        this.active = -1;
        this.input.removeAttribute("aria-activedescendant");
        return;
      }
      const option = options[index];
      option.setAttribute("aria-selected", "true");
      this.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    onKeyDown(event) {
      const count = this.results.length;
      switch (event.key) {
        case "ArrowDown":
          if (!count) return;
          event.preventDefault();
          if (!this.isOpen()) {
            this.open();
            this.setActive(0);
          } else {
            this.setActive((this.active + 1) % count);
          }
          break;
        case "ArrowUp":
          if (!count) return;
          event.preventDefault();
          if (!this.isOpen()) this.open();
          this.setActive(this.active <= 0 ? count - 1 : this.active - 1);
          break;
        case "Enter":
          if (this.isOpen() && this.active >= 0) {
            event.preventDefault();
            this.openItem(this.results[this.active]);
          }
          // Otherwise the form submits: the search page lists every match.
          break;
        case "Escape":
          if (this.isOpen()) {
            event.preventDefault(); // keep the text (a search input would clear itself)
            this.close();
          }
          break;
        case "Tab":
          this.close();
          break;
        default:
          break;
      }
    }

    openItem(hit) {
      if (hit) window.location.assign(this.itemsUrl + hit.type_id + "/");
    }
  }

  function start() {
    document.querySelectorAll("form[data-search]").forEach((form) => new SearchBox(form));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

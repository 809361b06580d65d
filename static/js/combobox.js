// The find-as-you-type combobox shared by the item search (search.js, every form[data-search])
// and the profit forms' place and market group pickers (places.js). Loaded from base.html
// before both (deferred scripts run in document order) and exposed as window.EveCombobox.
//
// It is the ARIA 1.2 combobox pattern: the input has role=combobox, aria-expanded and
// aria-activedescendant pointing at the highlighted role=option of a role=listbox; a polite
// live region (the status) says how many suggestions there are, that there are none, or the
// error. Typing asks search(query, signal) for suggestions after a short pause; a newer
// keystroke aborts the older request and an answer for an outdated query is dropped.
// Keys: ArrowDown/ArrowUp move the highlight (wrapping), Escape closes, Tab closes and moves
// on; Enter is the subclass's (onEnter). A click on a suggestion chooses it.
//
// A subclass gives search(query, signal) -> Promise<[{label, ...}]>, choose(hit),
// onEnter(event), errorText(error), and may add to each option with fillOption(li, hit, name).
// Class names are "<prefix>__option", "<prefix>__name", "<prefix>__status--error"; the words
// of the status come from the constructor's `words`.
"use strict";

(function () {
  // A search waits for a pause in the typing: a keystroke every 150-300 ms (most people)
  // asks once per pause, not once per letter.
  const DEBOUNCE_MS = 250;

  class EveCombobox {
    // parts: {container, input, panel, list, status} (focus leaving the container closes the
    // list); options: {prefix, words: {one, many, enter, none}}.
    constructor(parts, options) {
      this.container = parts.container;
      this.input = parts.input;
      this.panel = parts.panel;
      this.list = parts.list;
      this.status = parts.status;
      this.prefix = options.prefix;
      this.words = options.words;
      this.results = [];
      this.active = -1;
      this.timer = null;
      this.request = null; // AbortController of the request in flight
      this.pending = false; // a query waits for its suggestions

      this.input.addEventListener("input", () => this.onInput());
      this.input.addEventListener("keydown", (event) => this.onKeyDown(event));
      this.container.addEventListener("focusout", (event) => {
        if (!this.container.contains(event.relatedTarget)) this.close();
      });
      // Keep the focus in the input when an option is clicked.
      this.list.addEventListener("mousedown", (event) => event.preventDefault());
      this.list.addEventListener("click", (event) => {
        const option = event.target.closest('[role="option"]');
        if (option) this.choose(this.results[Number(option.dataset.index)]);
      });
    }

    // GET url?params as JSON, throwing on an HTTP error (its message says the status).
    static async getJson(url, params, signal) {
      const response = await fetch(url + "?" + params, {
        signal,
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }

    // Run start once the document is parsed.
    static onReady(start) {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
      } else {
        start();
      }
    }

    onInput() {
      clearTimeout(this.timer);
      const query = this.input.value.trim();
      if (!query) {
        this.pending = false;
        this.cancel();
        this.results = [];
        this.list.replaceChildren();
        this.close();
        return;
      }
      this.pending = true;
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
      let results;
      try {
        results = await this.search(query, request.signal);
      } catch (error) {
        if (error.name === "AbortError") return;
        this.pending = false;
        this.showError(error);
        return;
      } finally {
        if (this.request === request) this.request = null;
      }
      if (query !== this.input.value.trim()) return; // the user typed on meanwhile
      this.pending = false;
      this.render(results, query);
    }

    render(results, query) {
      this.results = results;
      this.list.replaceChildren(...results.map((hit, index) => this.option(hit, index, query)));
      this.status.classList.remove(this.prefix + "__status--error");
      const words = this.words;
      this.status.textContent = results.length
        ? results.length + " " + (results.length === 1 ? words.one : words.many) +
          " · ↑ ↓ to choose, Enter to " + words.enter
        : words.none + " “" + query + "”.";
      this.open();
      this.setActive(-1);
    }

    // The suggestion's <li>, its label with the first match of the query in a <mark>.
    option(hit, index, query) {
      const li = document.createElement("li");
      li.id = this.input.id + "-option-" + index;
      li.className = this.prefix + "__option";
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.index = String(index);
      const name = document.createElement("span");
      name.className = this.prefix + "__name";
      const at = hit.label.toLowerCase().indexOf(query.toLowerCase());
      if (at >= 0) {
        const mark = document.createElement("mark");
        mark.textContent = hit.label.slice(at, at + query.length);
        name.append(hit.label.slice(0, at), mark, hit.label.slice(at + query.length));
      } else {
        name.textContent = hit.label;
      }
      this.fillOption(li, hit, name);
      return li;
    }

    fillOption(li, hit, name) {
      li.append(name);
    }

    showError(error) {
      this.results = [];
      this.list.replaceChildren();
      this.status.classList.add(this.prefix + "__status--error");
      this.status.textContent = this.errorText(error);
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
      this.active = index >= 0 && index < options.length ? index : -1;
      if (this.active < 0) {
        this.input.removeAttribute("aria-activedescendant");
        return;
      }
      const option = options[this.active];
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
          if (!this.isOpen()) this.open(); // a closed list has nothing highlighted: the first
          this.setActive((this.active + 1) % count);
          break;
        case "ArrowUp":
          if (!count) return;
          event.preventDefault();
          if (!this.isOpen()) this.open();
          this.setActive(this.active <= 0 ? count - 1 : this.active - 1);
          break;
        case "Enter":
          this.onEnter(event);
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
  }

  window.EveCombobox = EveCombobox;
})();

// Find-as-you-type for the profit forms' place pickers and market group select.
//
// The markup (templates/profit/_place_select.html, _item_filters.html) is a plain <select>
// inside a [data-place-picker] or [data-group-picker] span, so the form works without
// JavaScript and always submits the select's value. This script adds, under each select, a
// text box in the ARIA 1.2 combobox pattern (role=combobox, aria-controls a role=listbox,
// aria-activedescendant on the highlighted role=option):
// - a place picker asks /api/v1/places/search (its data-api, data-kinds) for any NPC station,
//   solar system or region by name;
// - a group picker filters the select's own options (and their optgroup names).
// Choosing a suggestion selects it in the select (adding an option when the select has none
// for it). Keys: ArrowDown/ArrowUp move, Enter chooses (the first suggestion when none is
// highlighted), Escape closes; the form is not submitted by Enter while the list is open.
"use strict";

(function () {
  const DEBOUNCE_MS = 150;
  const LIMIT = 12;
  const KIND_TEXT = { station: "station", system: "system", region: "region" };
  let counter = 0;

  function placeDetail(hit) {
    const parts = [KIND_TEXT[hit.kind] || hit.kind];
    if (hit.kind === "station" && hit.system) parts.push(hit.system);
    if (hit.kind !== "region" && hit.region) parts.push(hit.region);
    if (hit.security !== null && hit.security !== undefined) parts.push(hit.security.toFixed(1));
    return parts.join(" · ");
  }

  class Picker {
    constructor(wrap, source) {
      this.wrap = wrap;
      this.select = wrap.querySelector("select");
      this.source = source; // (query, signal) -> Promise<[{value, label, detail}]>
      this.results = [];
      this.active = -1;
      this.timer = null;
      this.request = null;
      this.build();
    }

    build() {
      counter += 1;
      const id = "picker-" + counter;
      const field = this.wrap.closest(".field");
      const label = field && field.querySelector(".field__label");
      const name = label ? label.textContent.trim() : this.select.name;

      this.box = document.createElement("span");
      this.box.className = "picker";
      this.input = document.createElement("input");
      this.input.type = "text";
      this.input.id = id;
      this.input.className = "picker__input";
      this.input.autocomplete = "off";
      this.input.spellcheck = false;
      this.input.placeholder = this.wrap.dataset.placeholder || this.placeholder();
      this.input.setAttribute("role", "combobox");
      this.input.setAttribute("aria-autocomplete", "list");
      this.input.setAttribute("aria-expanded", "false");
      this.input.setAttribute("aria-controls", id + "-list");
      this.input.setAttribute("aria-label", "Find " + name.toLowerCase() + " by name");
      this.input.setAttribute("aria-describedby", id + "-status");
      this.input.dataset.pickerFor = this.select.name;

      this.panel = document.createElement("div");
      this.panel.className = "picker__panel";
      this.panel.hidden = true;
      this.list = document.createElement("ul");
      this.list.id = id + "-list";
      this.list.className = "picker__list";
      this.list.setAttribute("role", "listbox");
      this.list.setAttribute("aria-label", name + " suggestions");
      this.status = document.createElement("p");
      this.status.id = id + "-status";
      this.status.className = "picker__status";
      this.status.setAttribute("aria-live", "polite");
      this.panel.append(this.list, this.status);
      this.box.append(this.input, this.panel);
      this.wrap.append(this.box);

      this.input.addEventListener("input", () => this.onInput());
      this.input.addEventListener("keydown", (event) => this.onKeyDown(event));
      this.box.addEventListener("focusout", (event) => {
        if (!this.box.contains(event.relatedTarget)) this.close();
      });
      this.list.addEventListener("mousedown", (event) => event.preventDefault());
      this.list.addEventListener("click", (event) => {
        const option = event.target.closest('[role="option"]');
        if (option) this.choose(this.results[Number(option.dataset.index)]);
      });
    }

    placeholder() {
      return "Find by name…";
    }

    onInput() {
      clearTimeout(this.timer);
      const query = this.input.value.trim();
      this.chooseWhenReady = false;
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
        results = await this.source(query, request.signal);
      } catch (error) {
        if (error.name === "AbortError") return;
        this.pending = false;
        this.chooseWhenReady = false;
        this.results = [];
        this.list.replaceChildren();
        this.status.classList.add("picker__status--error");
        this.status.textContent = "Search is unavailable right now (" + error.message + "); the list above still works.";
        this.open();
        return;
      } finally {
        if (this.request === request) this.request = null;
      }
      if (query !== this.input.value.trim()) return;
      this.pending = false;
      this.render(results, query);
      if (this.chooseWhenReady) {
        this.chooseWhenReady = false;
        if (results.length) this.choose(results[0]);
      }
    }

    render(results, query) {
      this.results = results;
      this.list.replaceChildren(...results.map((hit, index) => this.option(hit, index, query)));
      this.status.classList.remove("picker__status--error");
      this.status.textContent = results.length
        ? results.length + (results.length === 1 ? " match" : " matches") + " · ↑ ↓ to choose, Enter to pick"
        : "Nothing matches “" + query + "”.";
      this.open();
      this.setActive(-1);
    }

    option(hit, index, query) {
      const li = document.createElement("li");
      li.id = this.input.id + "-option-" + index;
      li.className = "picker__option";
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.index = String(index);
      li.dataset.value = String(hit.value);
      const name = document.createElement("span");
      name.className = "picker__name";
      const at = hit.label.toLowerCase().indexOf(query.toLowerCase());
      if (at >= 0) {
        const mark = document.createElement("mark");
        mark.textContent = hit.label.slice(at, at + query.length);
        name.append(hit.label.slice(0, at), mark, hit.label.slice(at + query.length));
      } else {
        name.textContent = hit.label;
      }
      li.append(name);
      if (hit.detail) {
        const detail = document.createElement("span");
        detail.className = "picker__detail";
        detail.textContent = hit.detail;
        li.append(detail);
      }
      return li;
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
          if (!this.isOpen()) this.open();
          this.setActive((this.active + 1) % count);
          break;
        case "ArrowUp":
          if (!count) return;
          event.preventDefault();
          if (!this.isOpen()) this.open();
          this.setActive(this.active <= 0 ? count - 1 : this.active - 1);
          break;
        case "Enter":
          if (this.isOpen() && count) {
            event.preventDefault(); // choose, do not submit the form yet
            this.choose(this.results[this.active >= 0 ? this.active : 0]);
          } else if (this.input.value.trim() && this.pending) {
            event.preventDefault(); // the suggestions are on their way: take the first
            this.chooseWhenReady = true;
          }
          break;
        case "Escape":
          if (this.isOpen()) {
            event.preventDefault();
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

    choose(hit) {
      if (!hit) return;
      const value = String(hit.value);
      let option = Array.from(this.select.options).find((o) => o.value === value);
      if (!option) {
        let group = this.select.querySelector("optgroup[data-chosen]");
        if (!group) {
          group = document.createElement("optgroup");
          group.label = "Chosen";
          group.dataset.chosen = "";
          this.select.append(group);
        }
        option = document.createElement("option");
        option.value = value;
        option.textContent = hit.label;
        group.append(option);
      }
      this.select.value = value;
      this.select.dispatchEvent(new Event("change", { bubbles: true }));
      this.input.value = "";
      this.results = [];
      this.list.replaceChildren();
      this.close();
      this.status.textContent = "";
      this.wrap.dataset.chosen = value;
      this.select.focus();
    }
  }

  class PlacePicker extends Picker {
    placeholder() {
      const kinds = (this.wrap.dataset.kinds || "station,system,region").split(",");
      if (kinds.length === 1 && kinds[0] === "station") return "Find any station by name…";
      return "Find any " + kinds.join(", ").replace(/, ([^,]*)$/, " or $1") + " by name…";
    }
  }

  function placeSource(wrap) {
    return async (query, signal) => {
      const params = new URLSearchParams({ q: query, limit: String(LIMIT) });
      if (wrap.dataset.kinds) params.set("kinds", wrap.dataset.kinds);
      const response = await fetch(wrap.dataset.api + "?" + params, {
        signal,
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const data = await response.json();
      return (data.results || []).map((hit) => ({
        value: hit.id,
        label: hit.name,
        detail: placeDetail(hit),
      }));
    };
  }

  function groupSource(select) {
    const options = Array.from(select.options)
      .filter((o) => o.value)
      .map((o) => {
        const group = o.parentElement.tagName === "OPTGROUP" ? o.parentElement.label : "";
        const label = o.textContent.trim();
        return {
          value: o.value,
          label: label,
          detail: group && !label.endsWith(group) ? group : "",
          text: (label + " " + group).toLowerCase(),
        };
      });
    return async (query) => {
      const words = query.toLowerCase().split(/\s+/).filter(Boolean);
      return options.filter((o) => words.every((w) => o.text.includes(w))).slice(0, 30);
    };
  }

  function start() {
    document.querySelectorAll("[data-place-picker]").forEach((wrap) => {
      new PlacePicker(wrap, placeSource(wrap));
    });
    document.querySelectorAll("[data-group-picker]").forEach((wrap) => {
      const picker = new Picker(wrap, groupSource(wrap.querySelector("select")));
      picker.input.placeholder = "Find a market group…";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

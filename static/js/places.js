// Find-as-you-type for the profit forms' place pickers and market group select.
//
// The markup (templates/profit/_place_select.html, _item_filters.html) is a plain <select>
// inside a [data-place-picker] or [data-group-picker] span, so the form works without
// JavaScript and always submits the select's value. This script adds, under each select, a
// text box that is the shared combobox (combobox.js, window.EveCombobox: the ARIA 1.2
// pattern, typing, keys, the status):
// - a place picker asks /api/v1/places/search (its data-api, data-kinds) for any NPC station,
//   solar system or region by name;
// - a group picker filters the select's own options (and their optgroup names).
// Choosing a suggestion selects it in the select (adding an option when the select has none
// for it). Keys: ArrowDown/ArrowUp move, Enter chooses (the first suggestion when none is
// highlighted), Escape closes; the form is not submitted by Enter while the list is open.
"use strict";

(function () {
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

  // The combobox's parts, built after the select: an input, and a panel with the list and
  // the status.
  function build(wrap, select, placeholder) {
    counter += 1;
    const id = "picker-" + counter;
    const field = wrap.closest(".field");
    const label = field && field.querySelector(".field__label");
    const name = label ? label.textContent.trim() : select.name;

    const box = document.createElement("span");
    box.className = "picker";
    const input = document.createElement("input");
    input.type = "text";
    input.id = id;
    input.className = "picker__input";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = placeholder;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-list");
    input.setAttribute("aria-label", "Find " + name.toLowerCase() + " by name");
    input.setAttribute("aria-describedby", id + "-status");
    input.dataset.pickerFor = select.name;

    const panel = document.createElement("div");
    panel.className = "picker__panel";
    panel.hidden = true;
    const list = document.createElement("ul");
    list.id = id + "-list";
    list.className = "picker__list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", name + " suggestions");
    const status = document.createElement("p");
    status.id = id + "-status";
    status.className = "picker__status";
    status.setAttribute("aria-live", "polite");
    panel.append(list, status);
    box.append(input, panel);
    wrap.append(box);
    return { container: box, input, panel, list, status };
  }

  class Picker extends window.EveCombobox {
    // source: (query, signal) -> Promise<[{value, label, detail}]>
    constructor(wrap, source, placeholder) {
      const select = wrap.querySelector("select");
      super(build(wrap, select, placeholder), {
        prefix: "picker",
        words: { one: "match", many: "matches", enter: "pick", none: "Nothing matches" },
      });
      this.wrap = wrap;
      this.select = select;
      this.source = source;
      this.chooseWhenReady = false; // Enter came before the suggestions: take the first
    }

    search(query, signal) {
      return this.source(query, signal);
    }

    onInput() {
      this.chooseWhenReady = false;
      super.onInput();
    }

    render(results, query) {
      super.render(results, query);
      if (this.chooseWhenReady) {
        this.chooseWhenReady = false;
        if (results.length) this.choose(results[0]);
      }
    }

    fillOption(li, hit, name) {
      li.dataset.value = String(hit.value);
      li.append(name);
      if (hit.detail) {
        const detail = document.createElement("span");
        detail.className = "picker__detail";
        detail.textContent = hit.detail;
        li.append(detail);
      }
    }

    showError(error) {
      this.chooseWhenReady = false;
      super.showError(error);
    }

    errorText(error) {
      return "Search is unavailable right now (" + error.message + "); the list above still works.";
    }

    onEnter(event) {
      if (this.isOpen() && this.results.length) {
        event.preventDefault(); // choose, do not submit the form yet
        this.choose(this.results[this.active >= 0 ? this.active : 0]);
      } else if (this.input.value.trim() && this.pending) {
        event.preventDefault(); // the suggestions are on their way: take the first
        this.chooseWhenReady = true;
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

  function placePlaceholder(wrap) {
    if (wrap.dataset.placeholder) return wrap.dataset.placeholder;
    const kinds = (wrap.dataset.kinds || "station,structure,system,region").split(",");
    if (kinds.length === 1 && kinds[0] === "station") return "Find any station by name…";
    if (kinds.join(",") === "station,structure") return "Find any station or shared structure by name…";
    return "Find any " + kinds.join(", ").replace(/, ([^,]*)$/, " or $1") + " by name…";
  }

  function placeSource(wrap) {
    return async (query, signal) => {
      const params = new URLSearchParams({ q: query, limit: String(LIMIT) });
      if (wrap.dataset.kinds) params.set("kinds", wrap.dataset.kinds);
      const data = await window.EveCombobox.getJson(wrap.dataset.api, params, signal);
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

  window.EveCombobox.onReady(() => {
    document.querySelectorAll("[data-place-picker]").forEach((wrap) => {
      new Picker(wrap, placeSource(wrap), placePlaceholder(wrap));
    });
    document.querySelectorAll("[data-group-picker]").forEach((wrap) => {
      new Picker(wrap, groupSource(wrap.querySelector("select")), "Find a market group…");
    });
  });
})();

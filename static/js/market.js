// The market pages' live parts (vanilla JS, no library, no build step). The pages are rendered
// on the server and work without this script; it adds only what must be live.
//
// - Item page (templates/market/_item_panel.html, [data-market-item]): the server renders the
//   hub comparison and, per tracked market, its order books (at the hub and across the region)
//   one after another. This script puts the markets under keyboard-operable tabs, shows one
//   book at a time ("At the hub" / "Whole region"), and draws the selected market's price
//   history (GET history/{region}/{type}, ESI's daily history) as an inline SVG chart with a
//   30/90/365-day toggle, a tooltip and keyboard reading.
// - Status page (templates/market/status.html, [data-market-status]): polls GET status every
//   two seconds while the page is visible, and lets staff queue a refresh (POST refresh).
//
// Numbers and times read as the server writes them (market/display.py).
"use strict";

(function () {
  const DAY_MS = 86400000;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const PROGRESS_LABELS = {
    fetching: "Fetching pages",
    building: "Building the snapshot",
    published: "Published",
    not_modified: "Not modified: the snapshot is kept",
    failed: "Failed: the previous snapshot is kept",
    demo: "ESI unreachable: published the demo market",
  };
  const FINAL_STATES = new Set(["published", "not_modified", "failed", "demo"]);
  const PLEX_REGION_ID = 19000001; // the global PLEX market (market/plex.py)

  // --- Formatting --------------------------------------------------------------------------

  const INTEGER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const PRICE = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const UNITS = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "k"],
  ];

  function price(value) {
    return value === null || value === undefined ? "—" : PRICE.format(value);
  }

  function integer(value) {
    return value === null || value === undefined ? "—" : INTEGER.format(value);
  }

  // 4.21 -> "4.21", 172553241 -> "172.6M", 1500 -> "1.5k", 84748792490 -> "84.7B"
  function compact(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return "—";
    const size = Math.abs(value);
    for (const [unit, suffix] of UNITS) {
      if (size >= unit) {
        const scaled = value / unit;
        const digits = Math.abs(scaled) < 10 ? 2 : Math.abs(scaled) < 100 ? 1 : 0;
        return trimZeros(scaled.toFixed(digits)) + suffix;
      }
    }
    return trimZeros(value.toFixed(size < 10 ? 2 : size < 100 ? 1 : 0));
  }

  function trimZeros(text) {
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  }

  function parseTime(value) {
    if (!value) return null;
    const moment = new Date(value);
    return Number.isNaN(moment.getTime()) ? null : moment;
  }

  // "2026-11-22 03:33:51 UTC" (or only the time of day)
  function utc(value, timeOnly) {
    const moment = parseTime(value);
    if (!moment) return "—";
    const text = moment.toISOString().slice(0, 19).replace("T", " ");
    return (timeOnly ? text.slice(11) : text) + " UTC";
  }

  // The same words as market/views.py age_text.
  function ageText(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return s + " s old";
    if (s < 3600) return Math.floor(s / 60) + " min old";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min old";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h old";
  }

  // "in 4 min" / "5 s ago"
  function relative(value) {
    const moment = parseTime(value);
    if (!moment) return "";
    const delta = Math.round((moment.getTime() - Date.now()) / 1000);
    const size = Math.abs(delta);
    const amount =
      size < 60 ? size + " s" : size < 3600 ? Math.round(size / 60) + " min" : Math.round(size / 3600) + " h";
    return delta >= 0 ? "in " + amount : amount + " ago";
  }

  function shortDate(time) {
    const d = new Date(time);
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()];
  }

  // --- DOM helpers -------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child);
    }
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function getJson(url, options) {
    let response;
    try {
      response = await fetch(url, {
        credentials: "same-origin",
        ...options,
        headers: { Accept: "application/json", ...((options && options.headers) || {}) },
      });
    } catch (error) {
      return { ok: false, status: 0, data: null, detail: "the server cannot be reached" };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    const detail = (data && typeof data.detail === "string" && data.detail) || "HTTP " + response.status;
    const retryAfter = Number(response.headers.get("Retry-After")) || 1;
    return { ok: response.ok && response.status !== 202, status: response.status, data: data, detail: detail, retryAfter: retryAfter };
  }

  // A history the server does not hold yet is fetched from ESI by its worker: the API answers
  // 202 with Retry-After until it is there. Ask again as told, for a minute at most.
  async function getHistory(url) {
    const givingUp = Date.now() + 60000;
    for (;;) {
      const answer = await getJson(url);
      if (answer.status !== 202) return answer;
      if (Date.now() > givingUp) {
        return { ok: false, status: 202, data: null, detail: "ESI has not answered yet; try again in a minute" };
      }
      await new Promise((resolve) => setTimeout(resolve, answer.retryAfter * 1000));
    }
  }

  // --- Item page -------------------------------------------------------------------------

  class ItemMarket {
    constructor(root) {
      this.root = root;
      this.typeName = root.dataset.typeName;
      this.tabs = Array.from(root.querySelectorAll('[role="tab"]'));
      this.panels = Array.from(root.querySelectorAll("[data-hub-panel]"));
      this.scopeButtons = Array.from(root.querySelectorAll("button[data-scope]"));
      this.rangeButtons = Array.from(root.querySelectorAll("button[data-range]"));
      this.histories = new Map(); // region -> Promise of an API answer
      this.charts = new Map(); // region -> its days, oldest first
      this.scope = "hub";
      this.range = 90;
      if (!this.tabs.length) return;

      root.querySelectorAll("[data-js-only]").forEach((node) => (node.hidden = false));
      root.querySelectorAll("[data-no-js]").forEach((node) => (node.hidden = true));
      for (const panel of this.panels) {
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", "hub-tab-" + panel.dataset.region);
        panel.tabIndex = 0;
        const host = this.chartHost(panel);
        host.dataset.live = "";
        host.replaceChildren(h("p", { className: "market-loading", text: "Loading price history…" }));
      }

      this.tabs.forEach((tab) => {
        tab.addEventListener("click", () => this.select(Number(tab.dataset.region)));
        tab.addEventListener("keydown", (event) => this.onTabKey(event));
      });
      this.scopeButtons.forEach((button) =>
        button.addEventListener("click", () => this.setScope(button.dataset.scope, button))
      );
      this.rangeButtons.forEach((button) =>
        button.addEventListener("click", () => this.setRange(Number(button.dataset.range)))
      );
      if ("ResizeObserver" in window) {
        for (const panel of this.panels) {
          const host = this.chartHost(panel);
          const region = Number(panel.dataset.region);
          let lastWidth = 0;
          new ResizeObserver(() => {
            const width = host.clientWidth;
            if (region === this.region && this.charts.has(region) && width && Math.abs(width - lastWidth) > 4) {
              lastWidth = width;
              this.drawChart(region);
            }
          }).observe(host);
        }
      }
      this.select(Number(this.tabs[0].dataset.region));
    }

    panel(regionId) {
      return this.panels.find((panel) => Number(panel.dataset.region) === regionId);
    }

    chartHost(panel) {
      return panel.querySelector("[data-chart]");
    }

    // --- Tabs, scope and range ---

    onTabKey(event) {
      const index = this.tabs.indexOf(event.currentTarget);
      let next = null;
      if (event.key === "ArrowRight") next = (index + 1) % this.tabs.length;
      else if (event.key === "ArrowLeft") next = (index - 1 + this.tabs.length) % this.tabs.length;
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = this.tabs.length - 1;
      if (next === null) return;
      event.preventDefault();
      this.tabs[next].focus();
      this.select(Number(this.tabs[next].dataset.region));
    }

    select(regionId) {
      this.region = regionId;
      this.tabs.forEach((tab) => {
        const on = Number(tab.dataset.region) === regionId;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
      });
      this.panels.forEach((panel) => (panel.hidden = Number(panel.dataset.region) !== regionId));
      this.showBook();
      this.loadHistory();
    }

    // One book at a time: the chosen scope, or the region's when the market has no hub station.
    showBook(focusScope) {
      const books = Array.from(this.panel(this.region).querySelectorAll("[data-book-scope]"));
      const has = books.some((book) => book.dataset.bookScope === this.scope);
      const shown = has ? this.scope : "region";
      books.forEach((book) => (book.hidden = book.dataset.bookScope !== shown));
      this.scopeButtons.forEach((b) => b.setAttribute("aria-pressed", b.dataset.scope === shown ? "true" : "false"));
      if (focusScope) {
        const visible = books.find((book) => !book.hidden);
        const button = visible && visible.querySelector('button[data-scope="' + focusScope + '"]');
        if (button) button.focus(); // the pressed button's own book was hidden
      }
    }

    setScope(scope, button) {
      this.scope = scope;
      this.showBook(document.activeElement === button ? scope : null);
    }

    setRange(days) {
      this.range = days;
      this.rangeButtons.forEach((b) => b.setAttribute("aria-pressed", Number(b.dataset.range) === days ? "true" : "false"));
      this.drawChart(this.region);
    }

    // --- History chart ---

    async loadHistory() {
      const regionId = this.region;
      const panel = this.panel(regionId);
      const host = this.chartHost(panel);
      if (!this.histories.has(regionId)) this.histories.set(regionId, getHistory(host.dataset.historyUrl));
      const answer = await this.histories.get(regionId);
      if (regionId !== this.region) return; // the user moved on; drawn when selected again
      const note = panel.querySelector("[data-history-note]");
      const where = host.dataset.regionName;
      if (!answer.ok) {
        this.histories.delete(regionId); // try again next time
        this.charts.delete(regionId);
        let message;
        if (answer.status === 404) message = "No price history for " + this.typeName + " in " + where + ".";
        else if (answer.status === 503 || answer.status === 202) message = "Price history for " + where + " is unavailable right now: " + answer.detail;
        else message = "Could not load the price history: " + answer.detail;
        host.replaceChildren(h("p", { className: answer.status === 404 ? "muted" : "market-pending", text: message }));
        note.textContent = "";
        return;
      }
      const days = (answer.data.days || []).slice().sort((a, b) => (a.date < b.date ? -1 : 1));
      this.charts.set(regionId, days);
      const last = days.length ? days[days.length - 1].date : null;
      note.textContent =
        (regionId === PLEX_REGION_ID ? "Daily history of the global PLEX market from ESI" : "Daily history from ESI, region-wide") +
        (last ? "; the latest day is " + last + "." : ".") +
        " Hover or use the arrow keys on the chart for a day's numbers.";
      this.drawChart(regionId);
    }

    drawChart(regionId) {
      const all = this.charts.get(regionId);
      if (!all) return;
      const host = this.chartHost(this.panel(regionId));
      const where = host.dataset.regionName;
      const cutoff = new Date(Date.now() - this.range * DAY_MS).toISOString().slice(0, 10);
      const days = all.filter((d) => d.date > cutoff);
      if (!days.length) {
        host.replaceChildren(h("p", { className: "muted", text: "No trades of " + this.typeName + " in " + where + " in the last " + this.range + " days." }));
        return;
      }
      drawHistory(host, days, {
        label: "Daily average price of " + this.typeName + " in " + where + ", last " + this.range + " days",
      });
    }
  }

  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) {
      const pad = Math.abs(lo) * 0.05 || 1;
      lo -= pad;
      hi += pad;
    }
    const raw = (hi - lo) / count;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / magnitude;
    const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * magnitude;
    const min = Math.floor(lo / step) * step;
    const max = Math.ceil(hi / step) * step;
    const values = [];
    for (let v = min; v <= max + step / 2; v += step) values.push(Number(v.toPrecision(12)));
    return { min: min, max: max, step: step, values: values };
  }

  // An axis label: "4.15", "950", "1.25M", "3B" (enough decimals to tell the ticks apart).
  function tickLabel(value, step, top) {
    let unit = 1;
    let suffix = "";
    for (const [size, name] of UNITS) {
      if (Math.abs(top) >= size) {
        unit = size;
        suffix = name;
        break;
      }
    }
    const decimals = Math.min(3, Math.max(0, Math.ceil(-Math.log10(step / unit) - 1e-9)));
    return (value / unit).toFixed(decimals) + suffix;
  }

  function dateTicks(t0, t1, width) {
    const most = Math.max(2, Math.floor(width / 72));
    const spanDays = (t1 - t0) / DAY_MS;
    const ticks = [];
    if (spanDays > 120) {
      const start = new Date(t0);
      let month = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
      const months = Math.ceil(spanDays / 30.4);
      const every = Math.max(1, Math.ceil(months / most));
      let n = 0;
      while (month.getTime() <= t1) {
        if (n % every === 0) {
          const m = month.getUTCMonth();
          const label = m === 0 || !ticks.length ? MONTHS[m] + " " + month.getUTCFullYear() : MONTHS[m];
          ticks.push({ time: month.getTime(), label: label });
        }
        month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
        n += 1;
      }
      return ticks;
    }
    const step = [1, 2, 3, 7, 14, 30].find((s) => spanDays / s <= most) || 30;
    for (let t = t1; t >= t0; t -= step * DAY_MS) ticks.unshift({ time: t, label: shortDate(t) });
    return ticks;
  }

  function drawHistory(host, days, options) {
    const width = Math.max(260, Math.floor(host.clientWidth));
    const narrow = width < 560;
    const height = narrow ? 250 : 320;
    const m = { top: 22, right: 14, bottom: 28, left: narrow ? 48 : 64 };
    const plotW = width - m.left - m.right;
    const inner = height - m.top - m.bottom;
    const gap = 10;
    const volH = Math.round(inner * 0.22);
    const priceH = inner - volH - gap;

    const times = days.map((d) => Date.parse(d.date + "T00:00:00Z"));
    let t0 = times[0];
    let t1 = times[times.length - 1];
    if (t1 === t0) {
      t0 -= DAY_MS;
      t1 += DAY_MS;
    }
    const spanDays = Math.max(1, (t1 - t0) / DAY_MS + 1);
    const barW = Math.max(1, Math.min(14, (plotW / spanDays) * 0.7));
    const pad = barW / 2 + 1; // the first and last volume bars stay inside the plot
    const x = (t) => m.left + pad + ((t - t0) / (t1 - t0)) * (plotW - 2 * pad);
    const lows = days.map((d) => Math.min(d.lowest, d.average));
    const highs = days.map((d) => Math.max(d.highest, d.average));
    const ticks = niceTicks(Math.min(...lows), Math.max(...highs), narrow ? 4 : 5);
    const y = (v) => m.top + ((ticks.max - v) / (ticks.max - ticks.min)) * priceH;
    const volMax = Math.max(...days.map((d) => d.volume), 1);
    const volTop = m.top + priceH + gap;
    const yv = (v) => volTop + volH - (v / volMax) * volH;

    const chart = svg("svg", {
      class: "chart__svg",
      width: width,
      height: height,
      viewBox: "0 0 " + width + " " + height,
      role: "img",
      tabindex: 0,
      "data-points": days.length,
    });
    const first = days[0];
    const last = days[days.length - 1];
    chart.setAttribute(
      "aria-label",
      options.label + ": from " + price(first.average) + " ISK on " + first.date + " to " + price(last.average) +
        " ISK on " + last.date + ", low " + price(Math.min(...lows)) + ", high " + price(Math.max(...highs)) + "."
    );

    const axes = svg("g", { class: "chart__axes" });
    for (const value of ticks.values) {
      const ty = Math.round(y(value)) + 0.5;
      axes.append(svg("line", { class: "chart__grid", x1: m.left, x2: width - m.right, y1: ty, y2: ty }));
      axes.append(svg("text", { class: "chart__label", x: m.left - 8, y: ty, "text-anchor": "end", "dominant-baseline": "middle" }, tickLabel(value, ticks.step, ticks.max)));
    }
    const baseY = volTop + volH + 0.5;
    axes.append(svg("line", { class: "chart__axis", x1: m.left, x2: width - m.right, y1: baseY, y2: baseY }));
    axes.append(svg("text", { class: "chart__label chart__label--vol", x: m.left - 8, y: volTop + 4, "text-anchor": "end", "dominant-baseline": "hanging" }, compact(volMax)));
    axes.append(svg("text", { class: "chart__label chart__label--vol", x: m.left - 8, y: volTop + volH, "text-anchor": "end", "dominant-baseline": "auto" }, "vol"));
    for (const tick of dateTicks(t0, t1, plotW)) {
      const tx = Math.round(x(tick.time)) + 0.5;
      // Keep the first and last labels inside the chart.
      const anchor = tx > width - 24 ? "end" : tx < m.left + 4 ? "start" : "middle";
      const lx = anchor === "end" ? width - 1 : anchor === "start" ? Math.max(1, tx - 4) : tx;
      axes.append(svg("line", { class: "chart__tick", x1: tx, x2: tx, y1: baseY, y2: baseY + 4 }));
      axes.append(svg("text", { class: "chart__label", x: lx, y: height - 8, "text-anchor": anchor }, tick.label));
    }
    axes.append(svg("text", { class: "chart__label chart__label--unit", x: m.left - 8, y: 9, "text-anchor": "end" }, "ISK"));
    chart.append(axes);

    const bars = svg("g", { class: "chart__volume" });
    days.forEach((d, i) => {
      const top = yv(d.volume);
      bars.append(svg("rect", { x: (x(times[i]) - barW / 2).toFixed(1), y: top.toFixed(1), width: barW.toFixed(1), height: Math.max(0.5, volTop + volH - top).toFixed(1) }));
    });
    chart.append(bars);

    const point = (i, v) => x(times[i]).toFixed(1) + " " + y(v).toFixed(1);
    let band = "M" + days.map((d, i) => point(i, d.highest)).join(" L");
    for (let i = days.length - 1; i >= 0; i -= 1) band += " L" + point(i, days[i].lowest);
    chart.append(svg("path", { class: "chart__band", d: band + " Z" }));
    chart.append(svg("path", { class: "chart__avg", d: "M" + days.map((d, i) => point(i, d.average)).join(" L"), "data-points": days.length }));

    const cursor = svg("g", { class: "chart__cursor", visibility: "hidden" });
    const cursorLine = svg("line", { y1: m.top, y2: volTop + volH });
    const cursorDot = svg("circle", { r: 4 });
    cursor.append(cursorLine, cursorDot);
    chart.append(cursor);

    const tooltip = h("div", { className: "chart__tooltip", hidden: true });
    const live = h("p", { className: "visually-hidden", "aria-live": "polite" });
    host.replaceChildren(chart, tooltip, live);

    let active = -1;
    function show(index, announce) {
      active = Math.max(0, Math.min(days.length - 1, index));
      const d = days[active];
      const cx = x(times[active]);
      cursorLine.setAttribute("x1", cx);
      cursorLine.setAttribute("x2", cx);
      cursorDot.setAttribute("cx", cx);
      cursorDot.setAttribute("cy", y(d.average));
      cursor.setAttribute("visibility", "visible");
      const lines = [
        "Average " + price(d.average) + " ISK",
        "Low–high " + price(d.lowest) + " – " + price(d.highest),
        "Volume " + integer(d.volume),
        integer(d.order_count) + " orders",
      ];
      tooltip.replaceChildren(h("strong", { text: d.date }), ...lines.map((text) => h("span", { text: text })));
      tooltip.hidden = false;
      const left = cx + 12 + tooltip.offsetWidth > width ? cx - 12 - tooltip.offsetWidth : cx + 12;
      tooltip.style.left = Math.max(0, left) + "px";
      tooltip.style.top = m.top + "px";
      if (announce) live.textContent = d.date + ": " + lines.join(", ") + ".";
    }
    function hide() {
      active = -1;
      cursor.setAttribute("visibility", "hidden");
      tooltip.hidden = true;
    }
    function nearest(clientX) {
      const box = chart.getBoundingClientRect();
      const px = ((clientX - box.left) / box.width) * width;
      const t = t0 + ((px - m.left - pad) / (plotW - 2 * pad)) * (t1 - t0);
      let lo = 0;
      let hi = times.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (times[mid] <= t) lo = mid;
        else hi = mid;
      }
      return Math.abs(times[lo] - t) <= Math.abs(times[hi] - t) ? lo : hi;
    }
    chart.addEventListener("pointermove", (event) => show(nearest(event.clientX), false));
    chart.addEventListener("pointerleave", hide);
    chart.addEventListener("blur", hide);
    chart.addEventListener("keydown", (event) => {
      const moves = { ArrowLeft: -1, ArrowRight: 1, PageUp: -7, PageDown: 7 };
      if (event.key in moves) show(active < 0 ? days.length - 1 : active + moves[event.key], true);
      else if (event.key === "Home") show(0, true);
      else if (event.key === "End") show(days.length - 1, true);
      else if (event.key === "Escape") hide();
      else return;
      event.preventDefault();
    });
  }

  // --- Status page ---------------------------------------------------------------------------

  class StatusPage {
    constructor(root) {
      this.root = root;
      this.url = root.dataset.statusUrl;
      this.refreshUrl = root.dataset.refreshUrl;
      this.pollMs = Number(root.dataset.pollMs || 2000);
      this.timer = null;
      this.inFlight = false;
      // region -> the `updated` stamp of its progress when this page asked for a refresh: a
      // later final state is that refresh's end (server clock only, so no clock skew).
      this.queued = new Map();
      this.seen = new Map(); // region -> the latest progress `updated` stamp
      document.querySelectorAll("[data-status-live]").forEach((node) => (node.hidden = false));
      root.querySelectorAll("[data-refresh-form]").forEach((form) =>
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          this.refresh(form);
        })
      );
      document.addEventListener("visibilitychange", () => {
        if (!document.hidden) this.poll();
      });
      this.poll();
    }

    schedule() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.poll(), this.pollMs);
    }

    async poll() {
      if (this.inFlight) return;
      clearTimeout(this.timer);
      this.inFlight = true;
      const answer = await getJson(this.url);
      this.inFlight = false;
      const line = this.root.querySelector("[data-status-line]");
      if (answer.ok && answer.data) {
        this.render(answer.data);
        line.replaceChildren("As of ", h("time", { datetime: new Date().toISOString(), text: utc(new Date().toISOString(), true) }), ".");
      } else {
        line.replaceChildren(
          h("span", { className: "status-line--error", text: "Market status is unavailable (" + answer.detail + "); retrying every " + Math.round(this.pollMs / 1000) + " s." })
        );
      }
      if (!document.hidden) this.schedule();
    }

    render(data) {
      for (const region of data.regions || []) {
        const card = this.root.querySelector('.region-status[data-region="' + region.region_id + '"]');
        if (card) this.renderRegion(card, region);
      }
      if (data.esi) this.renderEsi(data.esi);
    }

    field(scope, name) {
      return scope.querySelector('[data-field="' + name + '"]');
    }

    set(scope, name, text) {
      const node = this.field(scope, name);
      if (node) node.textContent = text;
      return node;
    }

    renderRegion(card, region) {
      const s = region.snapshot;
      const refresh = region.refresh || {};
      const progress = region.progress;
      this.set(card, "source-tag", s ? (s.source === "demo" ? "DEMO" : "ESI") : "no snapshot");
      this.field(card, "stale-tag").hidden = !(s && s.stale);
      this.field(card, "demo-note").hidden = !(s && s.source === "demo");
      this.set(card, "generation", s ? s.generation : "—");
      this.set(card, "source", s ? (s.source === "demo" ? "demo (generated)" : "ESI") : "—");
      this.set(card, "esi-last-modified", s && s.esi_last_modified ? utc(s.esi_last_modified) : "—");
      this.set(card, "age", s ? ageText(s.age_seconds) : "—");
      this.set(card, "orders", s ? integer(s.orders) : "—");
      this.set(card, "pages", s ? String(s.pages) : "—");

      const result = this.field(card, "last-result");
      result.replaceChildren();
      if (refresh.last_result === "ok") result.append("ok");
      else if (refresh.last_result === "error") result.append(h("span", { className: "text-danger", text: "error" }));
      else result.append("—");
      if (refresh.last_attempt_at) result.append(" · " + utc(refresh.last_attempt_at));
      this.set(card, "next-refresh", refresh.next_refresh_at ? utc(refresh.next_refresh_at) + " (" + relative(refresh.next_refresh_at) + ")" : "—");
      this.field(card, "error-row").hidden = !refresh.last_error;
      this.set(card, "last-error", refresh.last_error || "");

      const block = this.field(card, "progress-block");
      const running = Boolean(refresh.running) || (progress && !FINAL_STATES.has(progress.state));
      card.classList.toggle("is-running", running);
      card.dataset.state = progress ? progress.state : "none";
      block.hidden = !progress;
      if (progress) {
        this.set(card, "progress-state", PROGRESS_LABELS[progress.state] || progress.state);
        const bar = this.field(card, "progress-bar");
        if (progress.total > 0) {
          this.set(card, "progress-text", progress.done + " / " + progress.total + " pages");
          bar.max = progress.total;
          bar.value = progress.done;
          bar.textContent = progress.done + " / " + progress.total;
        } else if (progress.state === "fetching") {
          this.set(card, "progress-text", "asking ESI how many pages…");
          bar.removeAttribute("value"); // indeterminate
        } else {
          this.set(card, "progress-text", "");
          bar.max = 1;
          bar.value = FINAL_STATES.has(progress.state) ? 1 : 0;
        }
      }

      if (progress) this.seen.set(region.region_id, progress.updated);
      const form = card.querySelector("[data-refresh-form]");
      if (form) {
        const button = form.querySelector("button");
        const queuedAt = this.queued.get(region.region_id);
        const message = this.field(card, "refresh-message");
        if (running) {
          button.disabled = true;
          message.textContent = "Refreshing…";
        } else if (queuedAt !== undefined && progress && progress.updated > queuedAt && FINAL_STATES.has(progress.state)) {
          this.queued.delete(region.region_id);
          button.disabled = false;
          message.textContent = "Done: " + (PROGRESS_LABELS[progress.state] || progress.state) + ".";
        } else if (queuedAt === undefined) {
          button.disabled = false;
        }
      }
    }

    renderEsi(esi) {
      const scope = this.root.querySelector("[data-esi]");
      const breaker = esi.breaker || {};
      const state = this.set(scope, "breaker-state", breaker.state || "unknown");
      state.className = "breaker breaker--" + (breaker.state || "unknown");
      this.set(scope, "breaker-failures", breaker.failures ?? "—");
      this.set(scope, "breaker-opened", breaker.opened_at ? utc(breaker.opened_at, true) : "—");
      this.set(scope, "breaker-retry", breaker.retry_at ? utc(breaker.retry_at, true) + " (" + relative(breaker.retry_at) + ")" : "—");
      const limits = esi.limits || {};
      const error = limits.error_limit || {};
      this.set(scope, "error-remain", error.remain ?? "—");
      this.set(scope, "error-reset", error.reset_at ? utc(error.reset_at, true) : "—");
      this.set(scope, "paused-until", limits.paused_until ? utc(limits.paused_until, true) + " (" + relative(limits.paused_until) + ")" : "not paused");
      const downtime = esi.downtime || {};
      const downState = this.field(scope, "downtime-state");
      downState.replaceChildren(
        !downtime.window ? "not observed" : downtime.active ? h("span", { className: "text-danger", text: "in downtime" }) : "up"
      );
      this.set(scope, "downtime-window", downtime.window || "off");
      this.set(scope, "downtime-start", downtime.starts_at ? utc(downtime.starts_at).slice(0, 16) + " UTC" : "—");
      const groups = Object.entries(limits.groups || {}).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const body = this.field(scope, "groups");
      body.replaceChildren(
        ...(groups.length
          ? groups.map(([name, g]) =>
              h("tr", {},
                h("td", { text: name }),
                h("td", { className: "num", text: integer(g.remaining) + " / " + integer(g.limit) }),
                h("td", { text: g.window ? Math.round(g.window) + " s" : "—" }),
                h("td", { text: g.paused_until ? utc(g.paused_until, true) : "—" }))
            )
          : [h("tr", {}, h("td", { colspan: 4, className: "muted", text: "No rate-limited route called yet." }))])
      );
    }

    async refresh(form) {
      const regionId = Number(form.elements.region_id.value);
      const button = form.querySelector("button");
      const message = form.querySelector('[data-field="refresh-message"]');
      button.disabled = true;
      message.textContent = "Queuing a refresh…";
      this.queued.set(regionId, this.seen.get(regionId) ?? 0);
      const answer = await getJson(this.refreshUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
        },
        body: JSON.stringify({ region_id: regionId }),
      });
      if (answer.status === 202) {
        if (message.textContent.startsWith("Queuing")) message.textContent = "Queued: waiting for a worker to start it…";
        this.poll();
      } else {
        this.queued.delete(regionId);
        button.disabled = false;
        message.textContent =
          answer.status === 403 ? "Refused: only staff can refresh (log in again?)." : "Could not queue a refresh: " + answer.detail;
      }
    }
  }

  function start() {
    document.querySelectorAll("[data-market-item]").forEach((root) => new ItemMarket(root));
    document.querySelectorAll("[data-market-status]").forEach((root) => new StatusPage(root));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

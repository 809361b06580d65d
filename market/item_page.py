"""The item page's market panels, read and rendered on the server.

For each tracked market where the type can trade (`market.plex`: PLEX only in the global PLEX
market, every other type only in the regional ones): the comparison rows (hub station and
whole region, `selectors.best_of`), the hub's and the whole region's order books
(`selectors.book_of`, as the market API answers them) and the snapshot they come from; a
market still waiting for its first snapshot says so in place of its figures.

What a snapshot says about a type never changes within its generation, so each market's
figures and its books' HTML are kept per (region, generation, type) in a bounded table, one
per installed SDE (station and system names are in the HTML). A render then costs one pointer
read per market, the snapshot's age and the comparison table. The history chart stays live in
the browser (static/js/market.js, from the history API): ESI answers it, not a snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from config import page_cache
from market import plex, publish, selectors
from market.display import age_text, compact, integer, isk, plural, price, range_text, utc
from market.snapshot import Snapshot
from market.views import tracked_hubs
from sde.places import DOCKING_NOTE
from sde.selectors import installed_sde, per_installed_sde

log = logging.getLogger(__name__)

BOOK_LIMIT = 10  # orders shown per side of a book
# (region, generation, type) readings kept per process, by the size of their books' HTML
# (about 8 kB each: some 2,000 of them).
KEPT_MARKET_BYTES = 16 * 1024 * 1024


kept_markets = per_installed_sde(lambda: page_cache.Kept(KEPT_MARKET_BYTES))


DEMO_TEXT = "Demo market: generated prices, not live data"
ESI_TAG = mark_safe('<span class="tag tag--esi" title="Live data from EVE&#x27;s ESI">ESI</span>')


def snapshot_line(snapshot: dict[str, Any], compact: bool = False) -> SafeString:
    """What a snapshot is, in words (`snapshot`: the API's snapshot block): an ESI or DEMO tag,
    STALE when ESI stopped answering, ESI's time (or when the demo was generated) and the age.
    `compact` leaves out the demo sentence and the date."""
    demo = snapshot["source"] == "demo"
    if demo:
        tags = format_html(
            '<span class="tag tag--demo" title="{}">DEMO</span>{}',
            DEMO_TEXT,
            "" if compact else f" {DEMO_TEXT}.",
        )
        time = f"generated {utc(snapshot['fetched_at'], compact)}"
    else:
        tags = ESI_TAG
        if snapshot["stale"]:
            tags += format_html(
                ' <span class="tag tag--warn" title="ESI has not answered since {}">STALE</span>',
                utc(snapshot["fetched_at"]),
            )
        modified = snapshot["esi_last_modified"]
        time = f"ESI time {utc(modified, compact)}" if modified else ""
    return format_html(
        '<span class="snapshot" title="Snapshot {} of region {}">{}{}'
        '<span class="nowrap snapshot__age">{}{}</span></span>',
        snapshot["generation"],
        snapshot["region_id"],
        tags,
        format_html('<span class="nowrap snapshot__time"> {}</span>', time) if time else "",
        " · " if time else " ",
        age_mark(snapshot),
    )


def age_mark(snapshot: dict[str, Any]) -> str:
    """The snapshot's age ("3 min old"); in a page kept for many answers, the live fragment
    that each answer fills with the age of its moment (config/page_cache.py)."""
    mark = page_cache.live_mark("age", str(snapshot["region_id"]))
    return mark if mark is not None else age_text(snapshot["age_seconds"])


def pending_text(region_name: str) -> str:
    return f"Market data for {region_name} is on its way (first refresh pending)."


def panels(type_id: int, type_name: str) -> dict[str, Any]:
    """Everything the item page's market panels show of one market type."""
    tracked = tracked_hubs()
    hubs = [hub for hub in tracked if plex.misplaced(hub["region_id"], type_id) is None]
    markets = [_market(hub, type_id, type_name) for hub in hubs]
    _mark_best(markets)
    live = [m for m in markets if m["snapshot"]]
    return {
        "plex": plex.is_plex(type_id),
        "tracked": tracked,
        "markets": markets,
        "crossed": crossed_notes(markets),
        "trade": trade_places(markets),
        "demo_regions": ", ".join(
            m["hub"]["region_name"] for m in live if m["snapshot"]["source"] == "demo"
        ),
        "stale_regions": "; ".join(
            f"{m['hub']['region_name']} since {utc(m['snapshot']['fetched_at'])}"
            for m in live
            if m["snapshot"]["source"] != "demo" and m["snapshot"]["stale"]
        ),
    }


def _market(hub: dict[str, Any], type_id: int, type_name: str) -> dict[str, Any]:
    """One market's figures, books and snapshot; or why there are none yet."""
    region_id, region_name = hub["region_id"], hub["region_name"]
    try:
        snapshot = selectors.snapshot_of(region_id)
    except selectors.NoSnapshot:
        return _without_figures(hub, pending_text(region_name), pending=True)
    except Exception:  # the store cannot be read: the page still answers
        log.warning("item page: no snapshot of %s", region_id, exc_info=True)
        message = f"Could not load {region_name}: market data unavailable."
        return _without_figures(hub, message, pending=False)
    key = (region_id, snapshot.meta.generation, type_id)
    kept = kept_markets()
    readings = kept.get(key)
    if readings is None:
        # Once per deployment: whichever process renders the page next finds it shared.
        readings = page_cache.shared(
            ("item market", *key, installed_sde()),
            lambda: _readings(snapshot, hub, type_id, type_name),
        )
        readings["books_html"] = SafeString(readings["books_html"])
        kept.put(key, readings, len(readings["books_html"]))
    return {
        "hub": hub,
        "snapshot": publish.freshness(snapshot.meta),
        "message": None,
        "pending": False,
        "rows": [dict(row) for row in readings["rows"]],  # marked per render: copies
        "books_html": readings["books_html"],
    }


def _without_figures(hub: dict[str, Any], message: str, *, pending: bool) -> dict[str, Any]:
    """A market that cannot be shown: `message` says why (`pending`: its first snapshot is on
    its way)."""
    return {
        "hub": hub,
        "snapshot": None,
        "message": message,
        "pending": pending,
        "rows": [],
        "books_html": "",
    }


def compare_rows(
    hub: dict[str, Any],
    hub_best: dict[str, Any] | None,
    region_best: dict[str, Any],
    structure_bests: Sequence[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The comparison rows of one market: its hub station (if it has one), each shared
    structure with orders of the type, then the whole region; the first row carries the
    snapshot line."""
    rows = []
    if hub_best is not None:
        rows.append(
            {
                "kind": "hub",
                "best": hub_best,
                "href": reverse("station", args=[hub_best["station_id"]]),
                "title": hub_best["station_name"],
                "name": hub["hub_system"] or hub_best["station_name"] or hub["hub_name"],
                "where": "hub station",
            }
        )
    for best in structure_bests:
        system = best["system_name"]
        rows.append(
            {
                "kind": "structure",
                "best": best,
                "href": reverse("profit-station") + f"?station_id={best['structure_id']}",
                "title": f"{best['structure_name']}: {DOCKING_NOTE}",
                "name": best["structure_name"],
                "where": f"structure, {system} {best['security']}" if system else "structure",
            }
        )
    rows.append(
        {
            "kind": "region",
            "best": region_best,
            "href": reverse("region", args=[hub["region_id"]]),
            "title": None,
            "name": hub["region_name"],
            "where": "whole region",
        }
    )
    for row in rows:
        row.update(shows_snapshot=row is rows[0], ask_is_best=False, bid_is_best=False)
    return rows


def _readings(
    snapshot: Snapshot, hub: dict[str, Any], type_id: int, type_name: str
) -> dict[str, Any]:
    """What the snapshot says of the type: its comparison rows, and both books rendered."""
    best = selectors.best_of(snapshot, type_id)
    books = []
    if hub["hub_id"]:
        book = selectors.book_of(
            snapshot, type_id, type_name, station_id=hub["hub_id"], limit=BOOK_LIMIT
        )
        books.append(book_view(book, "hub", hub))
    book = selectors.book_of(snapshot, type_id, type_name, limit=BOOK_LIMIT)
    books.append(book_view(book, "region", hub))
    html = render_to_string("market/_market.html", {"hub": hub, "books": books, "type_id": type_id})
    rows = compare_rows(hub, best["hub"], best["region"], best["structures"])
    return {"rows": rows, "books_html": SafeString(html)}


def _mark_best(markets: list[dict[str, Any]]) -> None:
    """With two or more hub stations or structures priced, mark the cheapest ask and the
    highest bid."""
    hubs = [row for m in markets for row in m["rows"] if row["kind"] in ("hub", "structure")]
    asks = [row["best"]["best_ask"] for row in hubs if row["best"]["best_ask"] is not None]
    bids = [row["best"]["best_bid"] for row in hubs if row["best"]["best_bid"] is not None]
    best_ask = min(asks) if len(asks) > 1 else None
    best_bid = max(bids) if len(bids) > 1 else None
    for row in hubs:
        row["ask_is_best"] = best_ask is not None and row["best"]["best_ask"] == best_ask
        row["bid_is_best"] = best_bid is not None and row["best"]["best_bid"] == best_bid


def crossed_notes(markets: list[dict[str, Any]]) -> list[str]:
    """A sentence for each comparison row whose best bid is above its best ask (a negative
    spread), saying how that can be (a region's row is left out when its best pair is its hub
    station's)."""
    notes = []
    for m in markets:
        at_hub = None
        for row in m["rows"]:
            spread = row["best"]["spread"]
            if spread is None or spread >= 0:
                continue
            pair = (row["best"]["best_ask"], row["best"]["best_bid"])
            if row["kind"] == "hub":
                at_hub = pair
            elif pair == at_hub:
                continue  # the region's best pair is the hub's, explained just before
            ask, bid = price(row["best"]["best_ask"]), price(row["best"]["best_bid"])
            above = f"the best buy ({bid} ISK) is above the best sell ({ask} ISK)"
            if row["kind"] == "region":
                notes.append(
                    f"Across {row['name']} {above}: "
                    "they are at different stations, and a buy order fills only from sellers "
                    "within its range, so the two cannot trade with each other. Hauling from "
                    "the cheap station to the buyer's may pay: the calculator prices it."
                )
            else:
                notes.append(
                    f"At {row['name']} {above}: "
                    "the buy order wants a minimum quantity the cheap sell order does not "
                    "have, or the orders changed while the snapshot was read (ESI serves the "
                    "book in pages, minutes apart). It rarely lasts."
                )
    return notes


def trade_places(markets: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Where the item page's links send a trader: station trading at the hub station with the
    most orders for the type; hauling from the hub with the cheapest sell to the hub with the
    highest buy (else the first two tracked hubs). None without a hub station."""
    hubs = [(m["hub"], row["best"]) for m in markets for row in m["rows"] if row["kind"] == "hub"]
    stations = [m["hub"] for m in markets if m["hub"]["hub_id"]]
    if not stations:
        return None

    def place(hub: dict[str, Any]) -> dict[str, Any]:
        return {"id": hub["hub_id"], "name": hub["hub_system"] or hub["hub_name"]}

    busiest = max(hubs, key=lambda h: h[1]["ask_orders"] + h[1]["bid_orders"], default=None)
    station = (
        busiest[0]
        if busiest and busiest[1]["ask_orders"] + busiest[1]["bid_orders"]
        else stations[0]
    )
    asks = [h for h in hubs if h[1]["best_ask"] is not None]
    bids = [h for h in hubs if h[1]["best_bid"] is not None]
    source = min(asks, key=lambda h: h[1]["best_ask"])[0] if asks else None
    target = max(bids, key=lambda h: h[1]["best_bid"])[0] if bids else None
    if source is None or target is None or source["hub_id"] == target["hub_id"]:
        source, target = stations[0], stations[1] if len(stations) > 1 else None
    return {
        "station": place(station),
        "source": place(source),
        "target": place(target) if target else None,
    }


def book_view(book: dict[str, Any], scope: str, hub: dict[str, Any]) -> dict[str, Any]:
    """A book as its tables show it: per side, the summary and each row's figures, with a
    cumulative depth bar scaled to the deeper side of what is shown."""
    at_hub = scope == "hub"
    where = (hub["hub_system"] or hub["hub_name"]) if at_hub else hub["region_name"]
    near = f"at {where}" if at_hub else f"in {where}"
    shown = {side: book[side]["orders"] for side in ("sell", "buy")}
    scale = max(1, *(sum(o["volume_remain"] for o in orders) for orders in shown.values()))
    sides = []
    for side in ("sell", "buy"):
        info = book[side]
        far = info.get("elsewhere_orders", 0)
        summary = f"{plural(info['total_orders'], 'order')} for {compact(info['total_volume'])}"
        summary += f" units {near}"
        if far:
            summary += f", {integer(far)} of them from other stations that reach it"
        if len(shown[side]) < info["total_orders"]:
            summary += f" · best {len(shown[side])} shown"
        rows = _rows(shown[side], scale)
        sides.append(
            {
                "side": side,
                "summary": summary,
                "rows": rows,
                "rows_html": rows_html(rows, f"No {side} orders {near}."),
            }
        )
    return {
        "scope": scope,
        "where": f"at {hub['hub_name']}" if at_hub else f"in all of {hub['region_name']}",
        "sides": sides,
    }


def _rows(orders: list[dict[str, Any]], scale: int) -> list[dict[str, Any]]:
    rows = []
    cumulative = 0
    for order in orders:
        cumulative += order["volume_remain"]
        location = order["location_name"] or f"Structure {order['location_id']}"
        elsewhere = bool(order.get("elsewhere"))
        rows.append(
            {
                "order_id": order["order_id"],
                "price": order["price"],
                "volume": order["volume_remain"],
                "depth": cumulative,
                "share": max(1, round(cumulative / scale * 100)),
                "elsewhere": elsewhere,
                "location": elsewhere_text(order) if elsewhere else location,
                "title": elsewhere_title(order) if elsewhere else location,
            }
        )
    return rows


def rows_html(rows: list[dict[str, Any]], empty: str) -> SafeString:
    """A book side's rows, written here rather than in the template: forty rows of four
    cells cost 13 ms as template lookups and filters, the most of an item page's render
    after a new snapshot. Every text from a row is escaped."""
    if not rows:
        return format_html('<tr><td colspan="4" class="muted">{}</td></tr>', empty)
    lines = []
    for row in rows:
        elsewhere = row["elsewhere"]
        lines.append(
            f'<tr data-order="{int(row["order_id"])}"'
            + (' data-elsewhere="true" class="book__row--elsewhere">' if elsewhere else ">")
            + f'<td class="num book__price">{escape(isk(row["price"]))}</td>'
            f'<td class="num" title="{escape(integer(row["volume"]))} units">'
            f"{escape(compact(row['volume']))}</td>"
            f'<td class="num depth" title="{escape(integer(row["depth"]))} units up to this '
            f'price"><svg class="depth__bar" width="{int(row["share"])}%" aria-hidden="true" '
            f'focusable="false"></svg><span class="depth__num">{escape(compact(row["depth"]))}'
            "</span></td>"
            f'<td class="book__location{" book__location--elsewhere" if elsewhere else ""}" '
            f'title="{escape(row["title"])}">{escape(row["location"])}</td></tr>'
        )
    return mark_safe("\n".join(lines))  # every value above is escaped


def elsewhere_text(order: dict[str, Any]) -> str:
    """A bid placed elsewhere that reaches the station: "region bid at Perimeter — reaches
    here"."""
    where = order.get("system_name") or order["location_name"]
    where = where or f"Structure {order['location_id']}"
    return f"{range_text(order['range'])} bid at {where} — reaches here"


def elsewhere_title(order: dict[str, Any]) -> str:
    place = order["location_name"] or f"Structure {order['location_id']}"
    jumps = order.get("jumps")
    hops = "" if jumps is None else f", {plural(jumps, 'jump')} away"
    return f"{place} (range {range_text(order['range'])}{hops}): a seller here can fill it."

"""The profit pages: station trading, hauling, the trade calculator and the boards.

Server-rendered, so the basics work without JavaScript: each form submits GET to its own
page, which checks it with the API's own serializers (profit/page_input.py) and asks for the
same answer as the API (profit/answers.py), rendered as a table. static/js/sortable.js sorts
a complete table in place and static/js/profit.js keeps the boards live.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from redis.exceptions import RedisError
from rest_framework import serializers

from config import page_cache, slots
from market import publish, structures
from market.selectors import region_names
from market.views import age_text, generations_of, pages_fingerprint
from profit import answers, boards, fees, flags, row_html, selectors
from profit.api import serializers as s
from profit.locations import resolve_place
from profit.page_input import (
    SKILL_INPUTS,
    api_params,
    calculator_body,
    default_hub,
    flat_errors,
    form_input,
    item,
    places,
    query,
    unlisted,
    validate,
)
from profit.params import SKILL_FIELDS, skills_from_request
from profit.tables import HAULING_COLUMNS, STATION_COLUMNS, Column, sort_links, sort_options
from profit.volumes import volume_coverage
from sde import routes
from sde.ids import parse_ascii_id
from sde.places import UnknownPlace, is_structure, resolve

log = logging.getLogger(__name__)

HOME_BOARD_ROWS = 8
NO_LIMIT = "none"  # a limit left empty on purpose (the hauler's cargo or budget)
HAULER_FIELDS = ("cargo_m3", "budget")

Answer = dict[str, Any]

# --- What every profit page shows ----------------------------------------------------------


def _form_context(
    request: HttpRequest,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    offered: dict[str, list[dict[str, Any]]],
    sorts: Sequence[str] = (),
) -> dict[str, Any]:
    """What every profit form needs: its values and errors, the places, the sort options."""
    options = sort_options(sorts)
    return {
        "more_open": _any_set(request, MORE_FILTERS, errors),
        "skills_open": _any_set(request, SKILL_FIELDS, errors),
        "values": values,
        "errors": errors,
        "places": offered,
        "sorts": options,
        "sort_values": [o["value"] for o in options],
        "skill_inputs": SKILL_INPUTS,
        "preferences": s.ROUTE_PREFERENCES,
        "securities": s.ROUTE_SECURITY,
        "route_defaults": {
            "preference": routes.DEFAULT_PREFERENCE,
            "security": routes.DEFAULT_SECURITY,
        },
        "current_href": request.path + "?" + query(values, snapshots=None, page=None),
    }


# The list forms' fields under "More filters" (shown open when one of them is set).
MORE_FILTERS = (
    *("min_profit", "min_margin_pct", "max_margin_pct", "min_daily_volume", "max_price"),
    *("limit", "page_size", "min_roi_pct", "max_jumps", "days_to_sell"),
    *("market_group_id", "category_id"),
)


def _any_set(request: HttpRequest, names: Sequence[str], errors: Mapping[str, str]) -> bool:
    """Whether the request set one of these fields (or one has an error): its section of the
    form is shown open."""
    if any(name in errors for name in names):
        return True
    return any(str(request.GET.get(name, "")).strip() for name in names)


def snapshot_rows(
    blocks: Sequence[Mapping[str, Any]], *, live: bool = False
) -> list[dict[str, Any]]:
    """An answer's `snapshots` block with each book's name (a region's, or a shared
    structure's) and age, for the page. `live`: the ages of the current snapshots, written
    as live fragments when the page is kept (config/page_cache.py: the home page's boards)."""
    names = region_names()
    return [
        {
            **block,
            "book_name": resolve(block["structure_id"]).name
            if block.get("structure_id")
            else names.get(block["region_id"]) or f"Region {block['region_id']}",
            "age": (
                live
                and not block.get("structure_id")
                and page_cache.live_mark("age", str(block["region_id"]))
            )
            or age_text(block["age_seconds"]),
            "fetched": datetime.fromisoformat(block["fetched_at"]),
        }
        for block in blocks
    ]


def _answer_context(
    request: HttpRequest, answer: Answer, data: Mapping[str, Any], values: Mapping[str, Any]
) -> dict[str, Any]:
    """What every answer shows: the snapshots it read, the skills, its permalink (these
    snapshots) and the same search on the current snapshots."""
    return {
        # live ages: a kept page (config/page_cache.py) says each book's age of the moment
        "snapshots": snapshot_rows(answer["snapshots"], live=True),
        "skills": answer["skills"],
        "permalink": answer["permalink"],
        "pinned": "snapshots" in data,
        "current_href": request.path + "?" + query(values, snapshots=None, page=None),
    }


def _run(compute: Callable[[], Answer]) -> tuple[Answer | None, dict[str, Any], int]:
    """(answer, error context, status) of an operation."""
    try:
        return compute(), {}, 200
    except selectors.Busy:
        raise  # the refusal page with Retry-After (`heavy_page`), not a form with an error
    except selectors.ProfitError as exc:
        kinds = {503: "no_snapshot", 410: "gone", 404: "not_found", 400: "bad_request"}
        error = {"kind": kinds.get(exc.status, "bad_request"), "message": str(exc)}
        return None, {"error": error}, exc.status
    except (RedisError, OSError):
        log.warning("profit page: the shared store is unreachable", exc_info=True)
        message = "The market data store cannot be reached right now; try again shortly."
        return None, {"error": {"kind": "unavailable", "message": message}}, 503


PageView = Callable[[HttpRequest], HttpResponse]


def heavy_page(view: PageView) -> PageView:
    """A page that runs a heavy computation: when every heavy slot of the process is taken
    (config/slots.py) it answers the refusal page, 503 with Retry-After, at once."""

    @functools.wraps(view)
    def page(request: HttpRequest) -> HttpResponse:
        try:
            return view(request)
        except selectors.Busy as exc:
            return slots.refusal(request, str(exc), exc.retry_after)

    return page


# --- Station trading and hauling: a form, then a page of rows ------------------------------


def _list_page(
    request: HttpRequest,
    offered: dict[str, list[dict[str, Any]]],
    defaults: Mapping[str, Any],
    *,
    params: type[serializers.Serializer],
    sorts: Sequence[str],
    columns: Sequence[Column],
    api_name: str,
    operation: Callable[..., Answer],
) -> tuple[dict[str, str], dict[str, Any], Answer | None, int]:
    """Check a list page's form and answer it: (the form values, the page context, the
    answer or None, the status)."""
    values = form_input(request, defaults)
    # what the API is asked: a limit left empty on purpose is no parameter at all
    limited = {k: v for k, v in values.items() if not (k in HAULER_FIELDS and v == NO_LIMIT)}
    data, errors = validate(params, limited)
    context = _form_context(request, values, errors, offered, sorts)
    if data is None:
        return values, context, None, 400
    skills, source = skills_from_request(request, data)

    def link(**changes: Any) -> str:  # the pager's links stay relative to the page
        return "?" + query(values, **changes)

    answer, error, status = _run(lambda: operation(data, skills, source, link=link))
    context.update(error)
    if answer is not None:
        context.update(_answer_context(request, answer, data, values))
        context.update(
            {
                "rows": answer["results"],
                "info": {k: answer[k] for k in ("count", "page", "page_size", "pages")},
                "complete": answer["pages"] == 1,
                "next_href": answer["next"],
                "previous_href": answer["previous"],
                "total": answer["total"],
                "hidden": flags.explained(answer["hidden"]),
                "hidden_param": flags.hide_param(data.get("hide", flags.DEFAULT_HIDDEN)),
                "show_all_href": "?" + query(values, hide="none", page=None),
                "default_hide_href": "?" + query(values, hide=None, page=None),
                "volumes": answer.get("volumes"),
                "truncated": answer.get("truncated"),
                "rates": answer["rates"],
                "permalink": request.path + answer["permalink"],
                "head_row": row_html.head_row(sort_links(columns, values, data["sort"])),
                "csv_href": reverse(api_name)
                + "?"
                + query(api_params(limited), page=None, page_size=None, format="csv"),
            }
        )
    return values, context, answer, status


# The place parameters of the list pages: the markets a page reads are those of its places.
PLACE_PARAMS = ("station_id", "from", "to")


def markets_read(request: HttpRequest) -> Hashable:
    """The state of the markets a list page reads, as a key part of the kept page: the
    generations and daily volumes of the regions its places are in, so another region's new
    snapshot or volumes leave the page as it is. Every tracked market's state when a place
    is missing (the page's default), malformed or not placed in a region (a structure found
    by its orders)."""
    regions = _regions_read(request)
    if regions is None:
        return (pages_fingerprint(), _volumes_state(settings.MARKET_REGIONS))
    return (generations_of(regions), _volumes_state(sorted(regions)))


def _regions_read(request: HttpRequest) -> set[int] | None:
    regions = set()
    for name in PLACE_PARAMS:
        for value in request.GET.getlist(name):
            for text in value.split(","):
                try:
                    where = resolve(parse_ascii_id(text))
                except (ValueError, UnknownPlace):
                    return None
                if where.region_id is None:
                    return None
                regions.add(where.region_id)
    return regions or None


def _volumes_state(region_ids: Iterable[int]) -> tuple[Any, ...]:
    """Each region's daily volumes as the pages show them: a column, the filters' and the
    notice's counts, and whether their fill runs."""
    return tuple(
        (
            region,
            selectors.volumes_seen(selectors.daily_volumes(region)),
            volume_coverage(region, []).filling,
        )
        for region in region_ids
    )


@heavy_page
@page_cache.cached_page("banner", "profit", query=True, scope=markets_read)
def station_trading_page(request: HttpRequest) -> HttpResponse:
    offered = places()
    defaults = {"station_id": default_hub(offered) or 60003760, "sort": "-daily_profit"}
    values, context, answer, status = _list_page(
        request,
        offered,
        defaults,
        params=s.StationTradingParams,
        sorts=s.STATION_SORTS,
        columns=STATION_COLUMNS,
        api_name="api-profit-station",
        operation=answers.station_trading,
    )
    if answer is not None:
        context["station"] = answer["station"]
        context["docking_note"] = answer["station"]["docking_note"]
        context["api_url"] = reverse("api-profit-station")
        context["row_html"] = row_html.rendered(
            context["rows"], row_html.station_row, answer["station"]["id"]
        )
    if values.get("station_id") and not any(
        str(h["id"]) == values["station_id"] for h in [*offered["hubs"], *offered["structures"]]
    ):
        context["custom_station"] = context.get("station") or {"id": values["station_id"]}
    return render(request, "profit/station_trading.html", context, status=status)


# --- The hauler: cargo and budget a hauling page starts from --------------------------------

HAULER_COOKIE = "hauler"
HAULER_COOKIE_AGE = 365 * 86_400


def _hauler(request: HttpRequest) -> dict[str, str]:
    """Cargo and budget to start from: what the form submitted (empty: no limit), else the
    hauler this browser used last (its cookie), else the default hauler of the boards."""
    remembered = QueryDict(request.COOKIES.get(HAULER_COOKIE, ""))
    defaults = {
        "cargo_m3": f"{settings.PROFIT_BOARD_CARGO_M3:g}",
        "budget": f"{settings.PROFIT_BOARD_BUDGET:.0f}",
    }
    hauler = {}
    for name in HAULER_FIELDS:
        if name in request.GET:  # submitted: an empty field means no limit
            hauler[name] = NO_LIMIT
        else:
            hauler[name] = remembered.get(name) or defaults[name]
    return hauler


def _remember_hauler(
    request: HttpRequest, response: HttpResponse, values: Mapping[str, str]
) -> None:
    """Keep the hauler a person chose for their next visit (a cookie: nothing stored here)."""
    if response.status_code == 200 and any(name in request.GET for name in HAULER_FIELDS):
        chosen = QueryDict(mutable=True)
        for name in HAULER_FIELDS:
            chosen[name] = values.get(name, NO_LIMIT)
        response.set_cookie(
            HAULER_COOKIE, chosen.urlencode(), max_age=HAULER_COOKIE_AGE, samesite="Lax"
        )


@heavy_page
def hauling_page(request: HttpRequest) -> HttpResponse:
    """The hauling page (kept per query and hauler cookie), and the hauler it used
    remembered for the next visit (set on every answer, kept or not)."""
    response = _hauling_page(request)
    if isinstance(response, HttpResponse):
        _remember_hauler(request, response, form_input(request, _hauler(request)))
    return response


@page_cache.cached_page(
    "banner", "profit", query=True, cookies=(HAULER_COOKIE,), scope=markets_read
)
def _hauling_page(request: HttpRequest) -> HttpResponse:
    offered = places()
    defaults = {
        "from": default_hub(offered, 0) or 60003760,
        "to": default_hub(offered, 1) or 60008494,
        "sort": "-net_profit",
        **_hauler(request),
    }
    values, context, answer, status = _list_page(
        request,
        offered,
        defaults,
        params=s.HaulingParams,
        sorts=s.HAULING_SORTS,
        columns=HAULING_COLUMNS,
        api_name="api-profit-hauling",
        operation=answers.hauling,
    )
    context["engine_defaults"] = selectors.hauling_parameters(selectors.hauling_params({}))
    if answer is not None:
        context["row_html"] = row_html.rendered(context["rows"], row_html.hauling_row)
        context["from_places"] = answer["from"]
        context["to_places"] = answer["to"]
        context["same_places"] = {p["id"] for p in answer["from"]} == {
            p["id"] for p in answer["to"]
        }
        ends = [r[f"{side}_location_id"] for r in context["rows"] for side in ("from", "to")]
        if any(is_structure(int(i)) for i in ends):
            context["docking_note"] = (
                "Some rows buy or sell in player structures: their owners may restrict "
                "docking there."
            )
    context["custom_from"] = unlisted(offered, values.get("from"))
    context["custom_to"] = unlisted(offered, values.get("to"))
    for side in ("from", "to"):
        named = context.get(f"{side}_places")
        if named:
            context[f"{side}_label"] = ", ".join(str(p["name"]) for p in named)
    return render(request, "profit/hauling.html", context, status=status)


# --- The trade calculator ------------------------------------------------------------------


@heavy_page
def calculator_page(request: HttpRequest) -> HttpResponse:
    offered = places()
    defaults = {
        "buy_location": default_hub(offered, 0) or 60003760,
        "sell_location": default_hub(offered, 1) or 60008494,
        "quantity": 1000,
        "mode": "instant",
    }
    values = form_input(request, defaults)
    context = _form_context(request, values, {}, offered)
    context["custom_buy"] = unlisted(offered, values.get("buy_location"))
    context["custom_sell"] = unlisted(offered, values.get("sell_location"))
    context["values_query"] = query(values, type_id=None)
    if not values.get("type_id"):
        return render(request, "profit/calculator.html", context)
    type_id, context["candidates"] = item(values["type_id"])
    if type_id is None:
        context["errors"] = {"type_id": f"No market item matches “{values['type_id']}”."}
        return render(request, "profit/calculator.html", context, status=400)
    serializer = s.CalculateIn(data=calculator_body(values, type_id))
    if not serializer.is_valid():
        context["errors"] = flat_errors(serializer.errors)
        return render(request, "profit/calculator.html", context, status=400)
    data = dict(serializer.validated_data)
    skills, source = skills_from_request(request, dict(data.get("skills") or {}))
    asked = {**values, "type_id": type_id}

    def permalink(question: dict[str, Any]) -> str:  # the form as the user filled it in
        return request.path + "?" + query(asked, snapshots=question["snapshots"], page=None)

    answer, error, status = _run(
        lambda: answers.calculation(data, skills, source, permalink=permalink)
    )
    context.update(error)
    if answer is not None:
        context.update(
            {
                "type_id": type_id,
                "type_name": selectors.market_type(type_id),
                "result": answer,
                "breakdown": answer["breakdown"],
                **_answer_context(request, answer, data, asked),
                "order_sides": _order_sides(answer["breakdown"]),
                "region_names": region_names(),
            }
        )
    return render(request, "profit/calculator.html", context, status=status)


def _order_sides(breakdown: Mapping[str, Any]) -> list[dict[str, Any]]:
    sides = [
        {
            "title": "Bought from these sell orders",
            "orders": breakdown["buy_orders"],
            "empty": "No sell orders to buy from.",
        }
    ]
    if breakdown["mode"] == "instant":
        sides.append(
            {
                "title": "Sold into these buy orders",
                "orders": breakdown["sell_orders"],
                "empty": "No buy orders to sell into.",
            }
        )
    return sides


# --- Boards --------------------------------------------------------------------------------


def _poll_ms() -> int:
    """How often open pages ask whether a new board was published (profit.js)."""
    return int(settings.PROFIT_BOARD_POLL_MS)


def boards_fingerprint() -> str | None:
    """The boards' version: a key part of the kept home page (config/page_cache.py)."""
    pointer = boards.read_pointer()
    return pointer["version"] if pointer else None


page_cache.register("boards", boards_fingerprint)


def profit_fingerprint() -> tuple[Any, ...]:
    """What the station-trading and hauling pages show beyond the markets they read
    (`markets_read`) and the banner: the structures members share (names, the fees
    operators set, the books of untracked regions) and the fee schedule of the day. A kept
    page (config/page_cache.py) is keyed by it."""
    shared = structures.shared()
    untracked = tuple(
        (k.structure_id, publish.current_generation(k.structure_id))
        for k in shared
        if k.region_id not in settings.MARKET_REGIONS
    )
    schedule = tuple(sorted(fees.schedule_on().to_json().items()))
    names = tuple(sorted(structures.names().items()))
    fees_set = tuple(map(tuple, structures.fees_version()))
    # One small read of the store: unreachable, it raises and the page renders uncached,
    # with the banner that says so (the other parts are kept in memory for a while). Its
    # value is left out: a page follows only the generations of the markets it reads.
    if settings.MARKET_REGIONS:
        publish.current_generation(settings.MARKET_REGIONS[0])
    return (names, fees_set, untracked, schedule)


page_cache.register("profit", profit_fingerprint)


def boards_context(limit: int = HOME_BOARD_ROWS) -> dict[str, Any]:
    """What the boards partial shows (never raises: a store outage shows a notice)."""
    try:
        answer = boards.read_boards(limit=limit)
    except Exception:
        log.warning("boards unavailable", exc_info=True)
        return {"boards": None, "unavailable": True, "poll_ms": _poll_ms()}
    for board in answer["boards"]:
        if board["kind"] == "hauling":
            board["rows"] = [_with_systems(row) for row in board["rows"]]
    return {
        "boards": answer,
        "snapshots": snapshot_rows(answer["snapshots"], live=True),
        "published_at": datetime.fromisoformat(answer["published_at"])
        if answer["published_at"]
        else None,
        "unavailable": False,
        "poll_ms": _poll_ms(),
        "limit": limit,
    }


def _system_name(location_id: int) -> str | None:
    try:
        return resolve_place(location_id).system_name
    except UnknownPlace:
        return None


def _with_systems(row: Mapping[str, Any]) -> dict[str, Any]:
    """A hauling row with its two systems' names (a board's narrow route column)."""
    return {
        **row,
        "from_system": _system_name(row["from_location_id"]),
        "to_system": _system_name(row["to_location_id"]),
    }


def boards_page(request: HttpRequest) -> HttpResponse:
    return render(request, "profit/boards.html", boards_context(limit=25))


def boards_fragment(request: HttpRequest) -> HttpResponse:
    """The boards' HTML alone, for profit.js to swap in when a new version is published."""
    limit = HOME_BOARD_ROWS
    with suppress(ValueError):
        limit = max(1, min(parse_ascii_id(str(request.GET.get("limit", limit))), 50))
    response = render(request, "profit/_boards.html", boards_context(limit=limit))
    response["Cache-Control"] = "no-cache"
    return response

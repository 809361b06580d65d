"""The profit pages: station trading, hauling, the trade calculator and the boards.

Server-rendered, so the basics work without JavaScript: each form submits GET to its own
page, which validates with the API's own serializers (profit/api/serializers.py), calls the
same selectors (profit/selectors.py) and renders the table. static/js/profit.js adds
in-place column sorting and keeps the boards live. Percentages are asked in percent on the
pages (`min_margin_pct`) and passed on as the API's fractions (`min_margin`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from redis.exceptions import RedisError
from rest_framework import serializers

from market.selectors import _region_names
from market.views import age_text, tracked_hubs
from profit import boards, selectors
from profit.api import serializers as s
from profit.fees import Skills
from profit.locations import UnknownPlace, resolve_place
from profit.params import SKILL_FIELDS, skills_from_request, skills_json
from sde import routes
from sde.search import search_items

log = logging.getLogger(__name__)

# How often open pages ask whether a new board was published (profit.js), unless the
# PROFIT_BOARD_POLL_MS setting says otherwise.
BOARD_POLL_MS = 15_000
HOME_BOARD_ROWS = 8
# Page fields in percent -> the API's fraction parameters.
PERCENT_FIELDS = {
    "min_margin_pct": "min_margin",
    "max_margin_pct": "max_margin",
    "min_roi_pct": "min_roi",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str  # "isk", "pct", "int", "num", "text", "item", "place", "jumps"
    title: str = ""
    sortable: bool = True

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "item", "place")


STATION_COLUMNS = (
    Column("type_name", "Item", "item"),
    Column("buy_price", "Buy at", "isk", "Your buy order: one price step above the best bid"),
    Column("sell_price", "Sell at", "isk", "Your sell order: one price step below the best ask"),
    Column("profit_per_unit", "Profit / unit", "isk", "After both broker fees and sales tax"),
    Column("margin", "Margin", "pct", "Profit per unit / sell price"),
    Column("roi", "ROI", "pct", "Profit per unit / (buy price + buy broker fee)"),
    Column(
        "daily_volume",
        "Daily volume",
        "num",
        "Estimated units a day at this station: the region's 30-day average x its share",
    ),
    Column("buy_orders", "Bids", "int", "Buy orders a seller here can fill (ranged ones too)"),
    Column("sell_orders", "Asks", "int", "Sell orders at the station"),
    Column("bid_volume", "Bid depth", "int", "Units wanted by buy orders"),
    Column("ask_volume", "Ask depth", "int", "Units offered by sell orders"),
)
HAULING_COLUMNS = (
    Column("type_name", "Item", "item"),
    Column("route", "Route", "place", sortable=False),
    Column("quantity", "Quantity", "int", "Units, from walking both order books"),
    Column("volume_m3", "Volume m³", "num", "Packaged volume"),
    Column("avg_buy", "Avg buy", "isk"),
    Column("avg_sell", "Avg sell", "isk"),
    Column("buy_total", "Cost", "isk", "Everything bought, before fees"),
    Column("net_profit", "Net profit", "isk", "After broker fees and sales tax"),
    Column("roi", "ROI", "pct"),
    Column("isk_per_m3", "ISK / m³", "isk"),
    Column("jumps", "Jumps", "jumps", "Route length minus one"),
    Column("profit_per_jump", "Profit / jump", "isk"),
)
SORT_LABELS = {
    "profit_per_unit": "Profit per unit",
    "margin": "Margin",
    "roi": "ROI",
    "daily_volume": "Daily volume",
    "net_profit": "Net profit",
    "isk_per_m3": "ISK per m³",
    "profit_per_jump": "Profit per jump",
    "jumps": "Jumps",
    "quantity": "Quantity",
}


SKILL_INPUTS = (
    {"name": "accounting", "label": "Accounting", "levels": ("1", "2", "3", "4", "5")},
    {"name": "broker_relations", "label": "Broker Relations", "levels": ("1", "2", "3", "4", "5")},
    {
        "name": "advanced_broker_relations",
        "label": "Advanced Broker Relations",
        "levels": ("1", "2", "3", "4", "5"),
    },
    {"name": "faction_standing", "label": "Faction standing", "levels": ()},
    {"name": "corp_standing", "label": "Corporation standing", "levels": ()},
)

# --- Form handling -------------------------------------------------------------------------


def _form_context(
    request: HttpRequest,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    places: dict[str, list[dict[str, Any]]],
    sorts: Sequence[str] = (),
) -> dict[str, Any]:
    """What every profit form needs: its values and errors, the places, the sort options."""
    options = _sort_options(sorts)
    return {
        "values": values,
        "errors": errors,
        "places": places,
        "sorts": options,
        "sort_values": [o["value"] for o in options],
        "skill_inputs": SKILL_INPUTS,
        "preferences": s.ROUTE_PREFERENCES,
        "securities": s.ROUTE_SECURITY,
        "route_defaults": {
            "preference": routes.DEFAULT_PREFERENCE,
            "security": routes.DEFAULT_SECURITY,
        },
        "current_href": request.path + "?" + _query(values, snapshots=None, page=None),
    }


def _form_input(request: HttpRequest, defaults: Mapping[str, Any]) -> dict[str, str]:
    """The submitted fields (empty ones dropped), the defaults where nothing was submitted."""
    given = {k: str(request.GET.get(k, "")).strip() for k in request.GET}
    given = {k: v for k, v in given.items() if v != ""}
    return {**{k: str(v) for k, v in defaults.items()}, **given}


def _validate(
    params: type[serializers.Serializer], values: Mapping[str, str]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Validate page fields with an API serializer: (data, {} ) or (None, field -> message)."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for page_name, api_name in PERCENT_FIELDS.items():
        if page_name in values:
            try:
                data[api_name] = float(values[page_name]) / 100
            except ValueError:
                errors[page_name] = "Enter a number (percent)."
    fields = params().fields
    data.update({k: v for k, v in values.items() if k in fields and k not in PERCENT_FIELDS})
    serializer = params(data=data)
    valid = serializer.is_valid()
    if errors or not valid:
        back = {api: page for page, api in PERCENT_FIELDS.items()}
        for name, messages in (serializer.errors if not valid else {}).items():
            text = (
                " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
            )
            errors[back.get(name, name)] = text
        return None, errors
    return dict(serializer.validated_data), {}


def _query(values: Mapping[str, Any], **changes: Any) -> str:
    out = {k: str(v) for k, v in values.items() if v not in (None, "")}
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = str(value)
    return urlencode(out)


def _api_params(values: Mapping[str, str]) -> dict[str, str]:
    """Page fields as API parameters (percent fields as fractions)."""
    out = {k: v for k, v in values.items() if k not in PERCENT_FIELDS}
    for page_name, api_name in PERCENT_FIELDS.items():
        if page_name in values:
            with suppress(ValueError):
                out[api_name] = repr(float(values[page_name]) / 100)
    return out


def _sort_links(
    columns: Sequence[Column], values: Mapping[str, str], current: str
) -> list[dict[str, Any]]:
    """Each column's header: its link (descending first for numbers), and aria-sort."""
    heads = []
    for column in columns:
        head: dict[str, Any] = {"column": column, "aria_sort": None, "href": None}
        if column.sortable:
            if current == f"-{column.key}":
                next_sort, head["aria_sort"] = column.key, "descending"
            elif current == column.key:
                next_sort, head["aria_sort"] = f"-{column.key}", "ascending"
            else:
                next_sort = f"-{column.key}" if column.numeric else column.key
            head["href"] = "?" + _query(values, sort=next_sort, page=None)
        heads.append(head)
    return heads


def _snapshot_rows(blocks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    names = _region_names()
    return [
        {
            **block,
            "region_name": names.get(block["region_id"]) or f"Region {block['region_id']}",
            "age": age_text(block["age_seconds"]),
            "fetched": datetime.fromisoformat(block["fetched_at"]),
        }
        for block in blocks
    ]


def _error_context(exc: selectors.ProfitError) -> dict[str, Any]:
    kinds = {503: "no_snapshot", 410: "gone", 404: "not_found", 400: "bad_request"}
    return {"error": {"kind": kinds.get(exc.status, "bad_request"), "message": str(exc)}}


def _page_of(
    request: HttpRequest, rows: Sequence[Any], data: Mapping[str, Any], values: Mapping[str, str]
) -> dict[str, Any]:
    page_rows, info = selectors.paginate(rows, data["page"], data["page_size"])
    return {
        "rows": page_rows,
        "info": info,
        "complete": info["pages"] == 1,
        "next_href": "?" + _query(values, page=info["page"] + 1)
        if info["page"] < info["pages"]
        else None,
        "previous_href": "?" + _query(values, page=info["page"] - 1) if info["page"] > 1 else None,
    }


def _places() -> dict[str, list[dict[str, Any]]]:
    """The places the forms offer: each tracked hub station, and each tracked region."""
    hubs = tracked_hubs()
    return {
        "hubs": [
            {"id": h["hub_id"], "name": h["hub_name"], "region": h["region_name"]}
            for h in hubs
            if h["hub_id"]
        ],
        "regions": [{"id": h["region_id"], "name": h["region_name"]} for h in hubs],
    }


def _default_hub(places: Mapping[str, Any], position: int = 0) -> int | None:
    hubs = [h["id"] for h in places["hubs"]]
    if not hubs:
        return None
    return hubs[min(position, len(hubs) - 1)]


def _run(
    compute: Callable[[], dict[str, Any]],
) -> tuple[dict[str, Any] | None, dict[str, Any], int]:
    """(result, error context, status) of a selector call."""
    try:
        return compute(), {}, 200
    except selectors.ProfitError as exc:
        return None, _error_context(exc), exc.status
    except (RedisError, OSError):
        log.warning("profit page: the shared store is unreachable", exc_info=True)
        message = "The market data store cannot be reached right now; try again shortly."
        return None, {"error": {"kind": "unavailable", "message": message}}, 503


# --- Station trading and hauling: a form, then a page of rows ------------------------------


def _list_search(
    request: HttpRequest,
    places: dict[str, list[dict[str, Any]]],
    defaults: Mapping[str, Any],
    *,
    params: type[serializers.Serializer],
    sorts: Sequence[str],
    columns: Sequence[Column],
    api_name: str,
    compute: Callable[[Mapping[str, Any], Skills], dict[str, Any]],
) -> tuple[dict[str, str], dict[str, Any], dict[str, Any] | None, int]:
    """Validate a list page's form and run its search: (the form values, the page context,
    the selector's answer or None, the status)."""
    values = _form_input(request, defaults)
    data, errors = _validate(params, values)
    context = _form_context(request, values, errors, places, sorts)
    if data is None:
        return values, context, None, 400
    skills, source = skills_from_request(request, data)
    result, error, status = _run(lambda: compute(data, skills))
    context.update(error)
    if result is not None:
        context.update(_results_context(request, result, data, values, skills_json(skills, source)))
        context["heads"] = _sort_links(columns, values, data["sort"])
        context["csv_href"] = (
            reverse(api_name)
            + "?"
            + _query(_api_params(values), page=None, page_size=None, format="csv")
        )
    return values, context, result, status


def station_trading_page(request: HttpRequest) -> HttpResponse:
    places = _places()
    defaults = {"station_id": _default_hub(places) or 60003760, "sort": "-profit_per_unit"}
    values, context, result, status = _list_search(
        request,
        places,
        defaults,
        params=s.StationTradingParams,
        sorts=s.STATION_SORTS,
        columns=STATION_COLUMNS,
        api_name="api-profit-station",
        compute=selectors.station_trading_for,
    )
    if result is not None:
        context["station"] = result["station"]
        context["api_url"] = reverse("api-profit-station")
    if values.get("station_id") and not any(
        str(h["id"]) == values["station_id"] for h in places["hubs"]
    ):
        context["custom_station"] = context.get("station") or {"id": values["station_id"]}
    return render(request, "profit/station_trading.html", context, status=status)


def _sort_options(columns: Sequence[str]) -> list[dict[str, str]]:
    options = []
    for key in columns:
        label = SORT_LABELS.get(key)
        if label:
            options.append({"value": f"-{key}", "label": f"{label}, highest first"})
            options.append({"value": key, "label": f"{label}, lowest first"})
    return options


def _answer_context(
    request: HttpRequest,
    result: Mapping[str, Any],
    data: Mapping[str, Any],
    values: Mapping[str, Any],
    skills: dict[str, Any],
) -> dict[str, Any]:
    """What every answer shows: the snapshots it read, the skills, its permalink (these
    snapshots) and the same search on the current snapshots."""
    pinned = selectors.permalink_snapshots(result["snapshots"])
    return {
        "snapshots": _snapshot_rows(selectors.freshness(result["snapshots"])),
        "skills": skills,
        "permalink": request.path + "?" + _query(values, snapshots=pinned, page=None),
        "pinned": "snapshots" in data,
        "current_href": request.path + "?" + _query(values, snapshots=None, page=None),
    }


def _results_context(
    request: HttpRequest,
    result: dict[str, Any],
    data: Mapping[str, Any],
    values: Mapping[str, str],
    skills: dict[str, Any],
) -> dict[str, Any]:
    return {
        **_page_of(request, result["rows"], data, values),
        "total": result["total"],
        "rates": result["rates"],
        **_answer_context(request, result, data, values, skills),
    }


# --- Hauling -------------------------------------------------------------------------------


def _unlisted(places: Mapping[str, Sequence[Mapping[str, Any]]], value: str | None) -> str | None:
    """A submitted place the pickers do not offer (shown as "From the link"), else None."""
    known = {str(p["id"]) for group in places.values() for p in group}
    return value if value not in known else None


def hauling_page(request: HttpRequest) -> HttpResponse:
    places = _places()
    defaults = {
        "from": _default_hub(places, 0) or 60003760,
        "to": _default_hub(places, 1) or 60008494,
        "sort": "-net_profit",
    }
    values, context, result, status = _list_search(
        request,
        places,
        defaults,
        params=s.HaulingParams,
        sorts=s.HAULING_SORTS,
        columns=HAULING_COLUMNS,
        api_name="api-profit-hauling",
        compute=selectors.hauling_for,
    )
    context["engine_defaults"] = selectors.hauling_parameters(selectors.hauling_params({}))
    if result is not None:
        context["from_places"] = result["from"]
        context["to_places"] = result["to"]
    context["custom_from"] = _unlisted(places, values.get("from"))
    context["custom_to"] = _unlisted(places, values.get("to"))
    for side in ("from", "to"):
        named = context.get(f"{side}_places")
        if named:
            context[f"{side}_label"] = ", ".join(str(p["name"]) for p in named)
    return render(request, "profit/hauling.html", context, status=status)


# --- The trade calculator ------------------------------------------------------------------


def calculator_page(request: HttpRequest) -> HttpResponse:
    places = _places()
    defaults = {
        "buy_location": _default_hub(places, 0) or 60003760,
        "sell_location": _default_hub(places, 1) or 60008494,
        "quantity": 1000,
        "mode": "instant",
    }
    values = _form_input(request, defaults)
    context = _form_context(request, values, {}, places)
    context["custom_buy"] = _unlisted(places, values.get("buy_location"))
    context["custom_sell"] = _unlisted(places, values.get("sell_location"))
    context["values_query"] = _query(values, type_id=None)
    status = 200
    item = values.get("type_id", "")
    if item:
        type_id, candidates = _item(item)
        context["candidates"] = candidates
        if type_id is None:
            context["errors"] = {"type_id": f"No market item matches “{item}”."}
            return render(request, "profit/calculator.html", context, status=400)
        body = _calculator_body(values, type_id)
        serializer = s.CalculateIn(data=body)
        if not serializer.is_valid():
            context["errors"] = _flat_errors(serializer.errors)
            return render(request, "profit/calculator.html", context, status=400)
        data = dict(serializer.validated_data)
        skills, source = skills_from_request(request, dict(data.get("skills") or {}))
        result, error, status = _run(lambda: selectors.calculate_for(data, skills))
        context.update(error)
        if result is not None:
            context.update(
                {
                    "type_id": type_id,
                    "type_name": selectors.market_type(type_id),
                    "result": result,
                    "breakdown": result["breakdown"],
                    **_answer_context(
                        request,
                        result,
                        data,
                        {**values, "type_id": type_id},
                        skills_json(skills, source),
                    ),
                    "order_sides": _order_sides(result["breakdown"]),
                    "region_names": _region_names(),
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


def _item(text: str) -> tuple[int | None, list[dict[str, Any]]]:
    """A type id from "34" or "Tritanium" (the best match; the others as suggestions)."""
    if text.isdigit():
        return int(text), []
    hits = search_items(text, 6)
    if not hits:
        return None, []
    best, others = hits[0], hits[1:]
    return best.type_id, [{"type_id": h.type_id, "name": h.type_name} for h in others]


def _calculator_body(values: Mapping[str, str], type_id: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        k: v
        for k, v in values.items()
        if k in s.CalculateIn().fields and k not in ("skills", "type_id")
    }
    body["type_id"] = type_id
    skills = {k: values[k] for k in SKILL_FIELDS if k in values}
    if skills:
        body["skills"] = skills
    return body


def _flat_errors(errors: Mapping[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, messages in errors.items():
        if isinstance(messages, Mapping):
            flat.update(_flat_errors(messages))
        else:
            flat[name] = " ".join(str(m) for m in messages)
    return flat


# --- Boards --------------------------------------------------------------------------------


def _poll_ms() -> int:
    return int(getattr(settings, "PROFIT_BOARD_POLL_MS", BOARD_POLL_MS))


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
        "snapshots": _snapshot_rows(answer["snapshots"]),
        "published_at": datetime.fromisoformat(answer["published_at"])
        if answer["published_at"]
        else None,
        "unavailable": False,
        "poll_ms": _poll_ms(),
        "limit": limit,
    }


def _system_name(location_id: int) -> str | None:
    try:
        where = resolve_place(location_id)
        return resolve_place(where.system_id).name if where.system_id else None
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
        limit = max(1, min(int(request.GET.get("limit", limit)), 50))
    response = render(request, "profit/_boards.html", boards_context(limit=limit))
    response["Cache-Control"] = "no-cache"
    return response

"""A drop-in for tools that lost evepraisal.com (closed July 2023): its API, same routes,
same fields, same answer shape, so a tool built for it works against this deployment by
changing its host (docs/appraisal.md).

- `POST /appraisal.json`: `raw_textarea`, `market` (evepraisal's names: jita, amarr,
  dodixie, hek, rens, perimeter, universe; or a place id), `persist=no`, `price_percentage`,
  as form fields or query parameters;
- `POST /appraisal/structured.json`: `{"market_name": "jita", "items": [{"name": "Rifter"},
  {"type_id": 34, "quantity": 10}]}` (tools send it with or without a JSON content type;
  `?persist=no` and `?market=` too);
- `GET /a/<code>.json`: a stored appraisal.

Each answers `{"appraisal": {...}}`: `id` (when stored), `created` (Unix seconds), `kind`,
`market_name`, `totals` (`buy`, `sell`, `volume`, at `price_percentage`), `items` (`name` as
pasted, `typeID`, `typeName`, `typeVolume` packaged, `quantity`, `meta`, `prices` with `all`,
`buy`, `sell`, each `min`, `max`, `avg`, `median`, `percentile`, `stddev`, `volume`,
`order_count`, and `updated`, `strategy`), `raw`, `unparsed` (line number -> text),
`private`, `live`. Errors are `{"error": "..."}` with a 4xx or 503.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from appraisal import parsing, service
from profit.fees import Skills

NO = ("no", "false", "0", "off")


def _error(message: str, status: int = 400, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _param(request: HttpRequest, name: str) -> str | None:
    """A form field or a query parameter (evepraisal's clients send either)."""
    value = request.POST.get(name)
    return value if value is not None else request.GET.get(name)


def _options(request: HttpRequest, market: str | None) -> service.Options:
    percentage = _param(request, "price_percentage") or ""
    try:
        share = float(percentage) if percentage.strip() else 100.0
    except ValueError:
        raise service.AppraisalError(
            "price_percentage must be a number (100: as priced)."
        ) from None
    persist = (_param(request, "persist") or "yes").strip().lower() not in NO
    return service.Options(market=market, percentage=share, persist=persist)


def _respond(
    request: HttpRequest, read: parsing.Parsed, market: str | None, raw: str
) -> JsonResponse:
    try:
        answer = service.appraise(read, _options(request, market), Skills(), "defaults", raw=raw)
    except service.AppraisalError as exc:
        return _error(str(exc), exc.status, exc.retry_after)
    return JsonResponse({"appraisal": shape(answer, raw)})


@csrf_exempt
@require_POST
def appraisal_json(request: HttpRequest) -> JsonResponse:
    text = _param(request, "raw_textarea")
    if text is None or not text.strip():
        return _error("raw_textarea is empty: paste a list to appraise.")
    try:
        read = service.read_text(text)
    except service.AppraisalError as exc:
        return _error(str(exc), exc.status)
    return _respond(request, read, _param(request, "market"), text)


@csrf_exempt
@require_POST
def structured_json(request: HttpRequest) -> JsonResponse:
    try:
        body = orjson.loads(request.body or b"{}")
    except orjson.JSONDecodeError:
        return _error('The body is not JSON: send {"market_name": ..., "items": [...]}.')
    if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
        return _error('The body needs "items": a list of {"name"} or {"type_id"}.')
    try:
        read = service.structured(body["items"])
    except service.AppraisalError as exc:
        return _error(str(exc), exc.status)
    market = body.get("market_name") or request.GET.get("market")
    return _respond(request, read, str(market) if market is not None else None, "")


@require_GET
def stored_json(request: HttpRequest, code: str) -> JsonResponse:
    try:
        answer, raw = service.read(code, request.GET.get("token"))
    except service.AppraisalError as exc:
        return _error(str(exc), exc.status)
    return JsonResponse({"appraisal": shape(answer, raw)})


def shape(answer: Mapping[str, Any], raw: str) -> dict[str, Any]:
    """An appraisal in evepraisal's shape."""
    updated = min((s["fetched_at"] for s in answer["snapshots"]), default=None)
    share = answer["percentage"] / 100.0
    items = [_item(item, updated) for item in answer["items"]]
    shaped: dict[str, Any] = {
        "created": int(datetime.fromisoformat(answer["created_at"]).timestamp()),
        "kind": answer["kind"],
        "market_name": answer["market"]["name"],
        "totals": {
            "buy": answer["totals"]["buy"],
            "sell": answer["totals"]["sell"],
            "volume": round(sum(i["typeVolume"] * i["quantity"] for i in items), 4),
        },
        "items": items,
        "raw": raw,
        "unparsed": {str(u["line"]): u["text"] for u in answer["unparsed"]} or None,
        "private": answer["private"],
        "live": False,
        "price_percentage": answer["percentage"],
    }
    if answer["code"]:
        shaped = {"id": answer["code"], **shaped}
    if share == 1.0:
        del shaped["price_percentage"]
    return shaped


def _item(item: Mapping[str, Any], updated: str | None) -> dict[str, Any]:
    prices = item["prices"]
    return {
        "name": item["typed"],
        "typeID": item["type_id"],
        "typeName": item["name"],
        "typeVolume": item["packaged_volume"],
        "quantity": item["quantity"],
        "meta": {"bpc": True, "bpc_runs": item["runs"]} if item["bpc"] else {},
        "prices": {
            "all": prices["all"],
            "buy": prices["buy"],
            "sell": prices["sell"],
            "updated": updated,
            "strategy": "orders",
        },
    }

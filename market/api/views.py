"""The market part of the v1 API. Every answer built from a snapshot carries a `snapshot`
block (generation, ESI time, age, source, stale). Unknown region or type: 404; bad
parameters: 400; a tracked region with no snapshot yet, or ESI unavailable for history and
prices: 503 with a message.

PLEX asked of a regional market (it trades only in the global PLEX market, region 19000001,
since July 2025), or another type of region 19000001, is a 404 that says so (`market.plex`).

The order book is the hot path (`orders_view`). A plain JSON GET of a book whose answer
this process has rendered for the current snapshot is answered from those bytes: one read of
the region's pointer, then the rendered body behind a freshly computed `snapshot` block.
Everything else (a first answer, errors, the browsable API, other methods) goes through
`OrdersView`, which renders the very same JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import page_cache
from config.api import ErrorOut, validated
from config.clientip import client_key
from config.renderers import JSONRenderer
from esi.errors import EsiError, EsiHttpError
from market import books, publish, selectors
from market.api import serializers as s
from market.history import HistoryFailed, HistoryPending, HistoryShareSpent, history_or_ask
from market.models import Structure
from market.prices import type_prices
from market.snapshot import Snapshot
from market.structures import structure_json
from market.tasks import refresh_region_task
from sde.api.views import page_of
from sde.selectors import per_installed_sde

ERRORS = {400: ErrorOut, 404: ErrorOut, 503: ErrorOut}


class Unavailable(APIException):
    status_code = 503
    default_detail = "Market data is not available right now."


def _answer(read: Callable[[], Any]) -> Response:
    try:
        return Response(read())
    except selectors.MarketNotFound as exc:
        raise NotFound(str(exc)) from exc
    except selectors.NoSnapshot as exc:
        raise Unavailable(str(exc)) from exc
    except EsiHttpError as exc:
        if exc.status == 404:
            raise NotFound(str(exc)) from exc
        raise Unavailable(f"ESI answered: {exc}") from exc
    except EsiError as exc:
        raise Unavailable(f"ESI is unavailable: {exc}") from exc


class OrdersView(APIView):
    @extend_schema(
        operation_id="market_orders",
        summary="One type's order book in a region",
        description=(
            "Buys highest first, sells lowest first, from the region's snapshot. With "
            "`station_id`, the buy side also holds the ranged bids of other stations that "
            "reach it (marked `elsewhere`). PLEX is only in region 19000001 (the global PLEX "
            "market): asked of another region it is a 404 that says so."
        ),
        parameters=[s.OrdersParams],
        responses={200: s.OrdersOut, **ERRORS},
    )
    def get(self, request: Request, region_id: int, type_id: int) -> Response:
        params = validated(s.OrdersParams, request)
        return _answer(lambda: selectors.type_orders(region_id, type_id, **params))


class HistoryView(APIView):
    @extend_schema(
        operation_id="market_history",
        summary="Daily history of one type in a region",
        description=(
            "Answered from the cache while ESI's answer of today is kept. Otherwise a worker "
            "fetches it from ESI and the answer is 202 with Retry-After: ask again then. A "
            "history ESI has not answered yet today costs one of this address's "
            "RATE_LIMIT_HISTORY_CALLS a minute (ESI's 300 a minute are shared by everyone); "
            "past them: 429 with Retry-After. Cached histories are always answered."
        ),
        responses={200: s.HistoryOut, 202: ErrorOut, 429: ErrorOut, **ERRORS},
    )
    def get(self, request: Request, region_id: int, type_id: int) -> Response:
        validated(s.NoParams, request)

        def read() -> dict[str, Any]:
            selectors.tracked_region(region_id)
            name = selectors.market_type(type_id)
            selectors.in_this_market(region_id, type_id)
            try:
                rows = history_or_ask(region_id, type_id, for_client=client_key(request))
            except HistoryFailed as exc:
                raise (NotFound if exc.status == 404 else Unavailable)(str(exc)) from exc
            return {"region_id": region_id, "type_id": type_id, "type_name": name, "days": rows}

        try:
            return _answer(read)
        except HistoryPending as exc:
            return Response(
                {"detail": str(exc)}, status=202, headers={"Retry-After": str(exc.retry_after)}
            )
        except HistoryShareSpent as exc:
            return Response(
                {"detail": str(exc)}, status=429, headers={"Retry-After": str(exc.retry_after)}
            )


class CompareView(APIView):
    @extend_schema(
        operation_id="market_compare",
        summary="Best bid, best ask, spread and volume per region and hub",
        parameters=[s.CompareParams],
        responses={200: s.CompareOut, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = validated(s.CompareParams, request)
        wanted = params.get("regions")
        regions = s.region_list(wanted) if wanted else selectors.tracked()
        return _answer(lambda: selectors.compare(params["type_id"], regions))


class PricesView(APIView):
    @extend_schema(
        operation_id="market_prices",
        summary="CCP's average and adjusted price of one type",
        responses={200: s.PricesOut, **ERRORS},
    )
    def get(self, request: Request, type_id: int) -> Response:
        validated(s.NoParams, request)

        def read() -> dict[str, Any]:
            name = selectors.market_type(type_id)
            prices = type_prices(type_id)
            if prices is None:
                raise selectors.MarketNotFound(f"ESI has no prices for type {type_id}.")
            return {"type_id": type_id, "type_name": name, **prices}

        return _answer(read)


class StatusView(APIView):
    @extend_schema(
        operation_id="market_status",
        summary="Snapshots, refreshes, ESI budgets and circuit state",
        responses={200: s.StatusOut},
    )
    def get(self, request: Request) -> Response:
        validated(s.NoParams, request)
        return Response(selectors.status())


class RefreshView(APIView):
    """Queue a refresh of one region now (staff only); its progress shows on the status."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="market_refresh",
        summary="Refresh a region now (staff)",
        request=s.RefreshIn,
        responses={202: s.QueuedOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    )
    def post(self, request: Request) -> Response:
        params = s.RefreshIn(data=request.data)
        params.is_valid(raise_exception=True)
        region_id = params.validated_data["region_id"]
        try:
            selectors.tracked_region(region_id)
        except selectors.MarketNotFound as exc:
            raise NotFound(str(exc)) from exc
        refresh_region_task.delay(region_id)
        return Response({"queued": region_id}, status=202)


# --- The order book's fast path ------------------------------------------------------------

# Rendered bodies kept per process (a book of 200 + 200 orders is about 120 kB), one set per
# installed SDE: type and station names are part of the bodies.
RENDERED_MAX_BYTES = 32 * 2**20
rendered_bodies = per_installed_sde(lambda: page_cache.Kept(RENDERED_MAX_BYTES))


def orders_view() -> Callable[..., HttpResponseBase]:
    """OrdersView behind the fast path (the URL's view)."""
    api_view = OrdersView.as_view()

    def view(request: HttpRequest, region_id: int, type_id: int) -> HttpResponseBase:
        answer = fast_orders(request, region_id, type_id)
        if answer is None:
            answer = api_view(request, region_id=region_id, type_id=type_id)
        return answer

    # What DRF's as_view sets: the schema generator documents OrdersView for this URL.
    view.cls = OrdersView  # type: ignore[attr-defined]
    view.initkwargs = {}  # type: ignore[attr-defined]
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def fast_orders(request: HttpRequest, region_id: int, type_id: int) -> HttpResponse | None:
    """The answer OrdersView would give, from rendered bytes; None when OrdersView must
    answer (not a plain JSON GET, an untracked region, no snapshot, or bad parameters)."""
    accept = request.META.get("HTTP_ACCEPT", "").strip()
    if request.method != "GET" or accept not in page_cache.PLAIN_JSON:
        return None
    query = request.META.get("QUERY_STRING", "")
    if "format" in query or region_id not in settings.MARKET_REGIONS:
        return None
    snapshot = books.view(region_id)
    if snapshot is None:
        return None
    meta = snapshot.meta
    bodies = rendered_bodies()
    key = (region_id, meta.generation, type_id, query)
    body = bodies.get(key)
    if body is None:
        body = render_book(request, snapshot, type_id)
        if body is None:
            return None
        bodies.put(key, body, len(body))
    # `snapshot` is the answer's first key: its block, then the rest of the rendered object.
    content = b'{"snapshot":' + orjson.dumps(publish.freshness(meta)) + b"," + body
    response = HttpResponse(content, content_type="application/json")
    response["Content-Length"] = str(len(content))  # else a middleware copies the body to count
    response["Vary"] = "Accept, Cookie"  # as OrdersView's answer (its session is looked at)
    response["Allow"] = "GET, HEAD, OPTIONS"
    return response


def render_book(request: HttpRequest, snapshot: Snapshot, type_id: int) -> bytes | None:
    """The answer without its `snapshot` block, as OrdersView renders it, from the opening
    brace's next byte on; None for anything OrdersView answers with an error."""
    try:
        params = validated(s.OrdersParams, Request(request))
        selectors.tracked_region(snapshot.meta.region_id)
        name = selectors.market_type(type_id)
        selectors.in_this_market(snapshot.meta.region_id, type_id)
    except (ValidationError, selectors.MarketNotFound):
        return None
    book = selectors.book_of(snapshot, type_id, name, **params)
    return JSONRenderer().render(book)[1:]


class StructureListView(APIView):
    @extend_schema(
        operation_id="market_structures_list",
        summary="Every Upwell structure this deployment knows of",
        description=(
            "Learned from the region books' ranged bids, ESI's public list of market "
            "structures, members who share them, or an operator; with how each was "
            "learned and whether its market is read."
        ),
        parameters=[s.StructureParams],
        responses={200: s.StructureListOut, 400: ErrorOut},
    )
    def get(self, request: Request) -> Response:
        params = validated(s.StructureParams, request)
        known = Structure.objects.all()
        if params.get("region_id"):
            known = known.filter(region_id=params["region_id"])
        if params.get("market_status"):
            known = known.filter(market_status=params["market_status"])
        return Response(page_of([structure_json(x) for x in known], params))


class StructureDetailView(APIView):
    @extend_schema(
        operation_id="market_structures_retrieve",
        summary="One known Upwell structure",
        responses={200: s.StructureOut, 404: ErrorOut},
    )
    def get(self, request: Request, structure_id: int) -> Response:
        validated(s.NoParams, request)
        try:
            return Response(structure_json(Structure.objects.get(structure_id=structure_id)))
        except Structure.DoesNotExist as exc:
            raise NotFound(
                f"Structure {structure_id} is not known here: structures are learned from "
                "the region books, ESI's public list and members who share them, or added "
                "by an operator."
            ) from exc

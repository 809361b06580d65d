"""The profit part of the v1 API: station trading, hauling, the trade calculator and the
opportunity boards. Every answer names the snapshots it read (with their age), the
parameters and the rates it used; lists are paginated and answer `?format=csv` with their
rows only. A permalink replays the same snapshots while they are kept (410 once expired).

Errors: 400 for a bad or unknown parameter (or a hauling search past PROFIT_MAX_PLACE_PAIRS),
404 for an unknown place, type or page, 410 for an expired snapshot generation, 503 for a
region without a snapshot, or with Retry-After when every heavy slot of the process is taken
(config/slots.py). ESI is never called. A list offers at most PROFIT_MAX_ROWS rows
(`truncated`, `X-Truncated`); the CSV of every row is streamed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException, NotFound
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from config import slots
from config.api import ErrorOut, validated
from config.renderers import JSONRenderer
from profit import answers, boards, selectors
from profit.api import serializers as s
from profit.api.renderers import CSVRenderer, csv_stream
from profit.params import skills_from_request

ERRORS = {400: ErrorOut, 404: ErrorOut, 410: ErrorOut, 503: ErrorOut}
CSV_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    description="csv: the rows only, every row unless page or page_size is given.",
)
CSV_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.STR, description="?format=csv: the rows, a header line first."
)


class ProfitUnavailable(APIException):
    """An error of the profit selectors, with its own status."""

    def __init__(self, error: selectors.ProfitError) -> None:
        super().__init__(str(error))
        self.status_code = error.status
        if isinstance(error, selectors.Busy):
            self.wait = error.retry_after  # DRF's handler sends it as Retry-After


def _answer(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except selectors.ProfitError as exc:
        raise ProfitUnavailable(exc) from exc


class ProfitView(APIView):
    """JSON, the browsable API, and CSV for lists; errors are always JSON."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), CSVRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


def _wants_csv(request: Request) -> bool:
    return isinstance(getattr(request, "accepted_renderer", None), CSVRenderer)


def _link(request: Request) -> answers.Link:
    """This request's URL with some parameters changed (None drops one)."""

    def link(**changes: Any) -> str:
        query = {k: v for k, v in request.query_params.items()}
        for name, value in changes.items():
            if value is None:
                query.pop(name, None)
            else:
                query[name] = str(value)
        return request.build_absolute_uri(request.path + ("?" + urlencode(query) if query else ""))

    return link


def _every_row(request: Request) -> bool:
    """A CSV without `page` or `page_size` holds every row."""
    paged = "page" in request.query_params or "page_size" in request.query_params
    return _wants_csv(request) and not paged


def _list_response(
    request: Request, answer: dict[str, Any], filename: str, *, started: float
) -> HttpResponseBase:
    """A list answer with its count and permalink headers (and a file name for CSV); the
    CSV of every row is streamed, cut at the row cap or when the time budget that began at
    `started` runs out. `X-Truncated: written/ranked` when the row cap cut the answer."""
    response: HttpResponseBase
    truncated = answer.get("truncated")
    if _every_row(request):
        rows = answer["results"]
        chunks: Iterable[bytes] = csv_stream(
            rows,
            ranked=truncated["ranked"] if truncated else len(rows),
            cap_reason=truncated and truncated["reason"],
            deadline=started + float(settings.PROFIT_TIME_BUDGET),
        )
        if len(rows) > STREAM_SLOT_ROWS:  # making the rows is work too: it holds a slot
            chunks = _HoldingSlot(chunks, _slot())
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    else:
        response = Response(answer)
    response["X-Total-Count"] = str(answer["count"])
    response["Link"] = f'<{answer["permalink"]}>; rel="permalink"'
    if truncated:
        response["X-Truncated"] = f"{truncated['rows']}/{truncated['ranked']}"
    if _wants_csv(request):
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


# A CSV of more rows than this (a page's most) holds a heavy slot while it is written.
STREAM_SLOT_ROWS = 1000


def _slot() -> Callable[[], None]:
    try:
        return slots.take()
    except slots.Busy as exc:
        raise ProfitUnavailable(selectors.Busy(exc)) from exc


class _HoldingSlot:
    """A stream that releases its heavy slot when the response is closed (written out,
    or the client gone), whether or not it was ever read."""

    def __init__(self, chunks: Iterable[bytes], release: Callable[[], None]) -> None:
        self._chunks, self.close = chunks, release

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)


def list_schema(
    *,
    operation_id: str,
    summary: str,
    description: str,
    params: type[Serializer],
    out: type[Serializer],
    errors: Mapping[int, Any] = ERRORS,
) -> Callable[[Any], Any]:
    """The schema of a list operation: its parameters, its JSON and CSV answers, its errors."""
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        parameters=[params, CSV_PARAMETER],
        responses={
            (200, "application/json"): out,
            (200, "text/csv"): CSV_RESPONSE,
            **errors,
        },
    )


class StationTradingView(ProfitView):
    @list_schema(
        operation_id="profit_station_trading",
        summary="Station trading opportunities at one station",
        description=(
            "For every type with a sell order at the station and a buy order a seller there "
            "can fill (ranged bids placed elsewhere included): buy one step of EVE's price "
            "grid (4 significant digits) above the best bid, sell one step below the best "
            "ask; profit per unit after both broker fees and the sales tax, margin, ROI, the "
            "station's estimated daily volume and order counts."
        ),
        params=s.StationTradingParams,
        out=s.StationTradingOut,
    )
    def get(self, request: Request) -> HttpResponseBase:
        started = time.monotonic()
        data = validated(s.StationTradingParams, request)
        skills, source = skills_from_request(request, data)
        answer = _answer(
            lambda: answers.station_trading(
                data, skills, source, link=_link(request), every_row=_every_row(request)
            )
        )
        return _list_response(
            request, answer, f"station-trading-{data['station_id']}", started=started
        )


class HaulingView(ProfitView):
    @list_schema(
        operation_id="profit_hauling",
        summary="Hauling opportunities between stations, systems or regions",
        description=(
            "Buys from sell orders at the sources and sells into buy orders (instant) or "
            "lists a sell order (list) at the destinations, walking both order books in "
            "price order, capped by cargo (packaged volume) and budget; jumps on the "
            "stargate graph with the route preference and security filter."
        ),
        params=s.HaulingParams,
        out=s.HaulingOut,
    )
    def get(self, request: Request) -> HttpResponseBase:
        started = time.monotonic()
        data = validated(s.HaulingParams, request)
        skills, source = skills_from_request(request, data)
        answer = _answer(
            lambda: answers.hauling(
                data, skills, source, link=_link(request), every_row=_every_row(request)
            )
        )
        return _list_response(request, answer, "hauling", started=started)


class CalculateView(ProfitView):
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    @extend_schema(
        operation_id="profit_calculate",
        summary="Price one trade, itemised",
        description=(
            "Which orders the prices come from, each fee and tax, net profit, margin, ROI, "
            "volume and jumps; each line names its snapshot and formula."
        ),
        request=s.CalculateIn,
        responses={200: s.CalculateOut, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = s.CalculateIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        skills, source = skills_from_request(request, dict(data.get("skills") or {}))

        def permalink(question: dict[str, Any]) -> str:
            query = urlencode({k: str(v) for k, v in question.items()})
            return request.build_absolute_uri(reverse("profit-calculator") + "?" + query)

        return Response(
            _answer(lambda: answers.calculation(data, skills, source, permalink=permalink))
        )


class BoardsView(ProfitView):
    @list_schema(
        operation_id="profit_boards",
        summary="The opportunity boards: best trades at each hub and between the hubs",
        description=(
            "Recomputed after each snapshot publish with default parameters (every skill 0) "
            "and kept ranked in the shared store. CSV: one line per row, with its board."
        ),
        params=s.BoardsParams,
        out=s.OpportunityBoardsOut,
        errors={400: ErrorOut, 404: ErrorOut},
    )
    def get(self, request: Request) -> Response:
        data = validated(s.BoardsParams, request)
        try:
            answer = boards.read_boards(limit=data["limit"], board_id=data.get("board"))
        except boards.UnknownBoard as exc:
            raise NotFound(str(exc)) from exc
        if _wants_csv(request):
            rows = [{"board": b["id"], **row} for b in answer["boards"] for row in b["rows"]]
            response = Response({"results": rows})
            response["Content-Disposition"] = 'attachment; filename="boards.csv"'
            return response
        response = Response(answer)
        if answer["version"]:
            response["ETag"] = f'"{answer["version"]}"'
        return response


class BoardsVersionView(ProfitView):
    """What an open page polls to learn of a new board (one small read; 304 if unchanged)."""

    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="profit_boards_version",
        summary="The current boards' version (poll it; If-None-Match gives a 304)",
        responses={200: s.BoardsVersionOut, 304: OpenApiResponse(description="Unchanged.")},
    )
    def get(self, request: Request) -> Response:
        validated(s.BoardsVersionParams, request)
        version = boards.board_version()
        etag = f'"{version["version"]}"' if version["version"] else None
        if etag and request.headers.get("If-None-Match") == etag:
            response = Response(status=304)
        else:
            response = Response(version)
        if etag:
            response["ETag"] = etag
        response["Cache-Control"] = "no-cache"
        return response

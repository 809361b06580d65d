"""The market part of the v1 API. Every answer built from a snapshot carries a `snapshot`
block (generation, ESI time, age, source, stale). Unknown region or type: 404; bad
parameters: 400; a tracked region with no snapshot yet, or ESI unavailable for history and
prices: 503 with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ErrorOut, validated
from esi.errors import EsiError, EsiHttpError
from market import selectors
from market.history import fetch_history
from market.prices import type_prices

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


class OrdersParams(serializers.Serializer):
    order_type = serializers.ChoiceField(choices=["buy", "sell", "all"], default="all")
    station_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=5000, default=200)


class OrdersView(APIView):
    @extend_schema(
        operation_id="market_orders",
        summary="One type's order book in a region",
        description="Buys highest first, sells lowest first, from the region's snapshot.",
        parameters=[OrdersParams],
        responses={200: dict, **ERRORS},
    )
    def get(self, request: Request, region_id: int, type_id: int) -> Response:
        params = validated(OrdersParams, request)
        return _answer(lambda: selectors.type_orders(region_id, type_id, **params))


class HistoryView(APIView):
    @extend_schema(
        operation_id="market_history",
        summary="Daily history of one type in a region",
        responses={200: dict, **ERRORS},
    )
    def get(self, request: Request, region_id: int, type_id: int) -> Response:
        validated(serializers.Serializer, request)

        def read() -> dict[str, Any]:
            selectors.tracked_region(region_id)
            name = selectors.market_type(type_id)
            rows = fetch_history(region_id, type_id)
            return {"region_id": region_id, "type_id": type_id, "type_name": name, "days": rows}

        return _answer(read)


def _region_list(value: str) -> list[int]:
    """Region ids from "10000002,10000043" (1 to 10 of them, no repeats)."""
    try:
        regions = [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise serializers.ValidationError("a comma-separated list of region ids") from exc
    if not 1 <= len(regions) <= 10 or any(not 0 < r < 2**31 for r in regions):
        raise serializers.ValidationError("between 1 and 10 region ids")
    return list(dict.fromkeys(regions))


class CompareParams(serializers.Serializer):
    type_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    regions = serializers.CharField(required=False)

    def validate_regions(self, value: str) -> str:
        _region_list(value)
        return value


class CompareView(APIView):
    @extend_schema(
        operation_id="market_compare",
        summary="Best bid, best ask, spread and volume per region and hub",
        parameters=[CompareParams],
        responses={200: dict, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = validated(CompareParams, request)
        regions = _region_list(params["regions"]) if "regions" in params else selectors.tracked()
        return _answer(lambda: selectors.compare(params["type_id"], regions))


class PricesView(APIView):
    @extend_schema(
        operation_id="market_prices",
        summary="CCP's average and adjusted price of one type",
        responses={200: dict, **ERRORS},
    )
    def get(self, request: Request, type_id: int) -> Response:
        validated(serializers.Serializer, request)

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
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        validated(serializers.Serializer, request)
        return Response(selectors.status())


class RefreshParams(serializers.Serializer):
    region_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class RefreshView(APIView):
    """Queue a refresh of one region now (staff only); its progress shows on the status."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="market_refresh",
        summary="Refresh a region now (staff)",
        request=RefreshParams,
        responses={202: dict, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        params = RefreshParams(data=request.data)
        params.is_valid(raise_exception=True)
        region_id = params.validated_data["region_id"]
        try:
            selectors.tracked_region(region_id)
        except selectors.MarketNotFound as exc:
            raise NotFound(str(exc)) from exc
        from market.tasks import refresh_region_task

        refresh_region_task.delay(region_id)
        return Response({"queued": region_id}, status=202)

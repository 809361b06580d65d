"""The SDE part of the v1 API: item search and details, regions, systems, stations, market
groups. Each view validates its query parameters (400 with a message, unknown parameters
included), calls one selector and answers 404 JSON for an unknown id.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ErrorOut, validated
from sde import selectors
from sde.api import serializers as s
from sde.search import search_items

NOT_FOUND = {404: ErrorOut}
BAD_REQUEST = {400: ErrorOut}


def _found(loader: Callable[[int], Any], ident: int) -> Any:
    try:
        return loader(ident)
    except selectors.SdeNotFound as exc:
        raise NotFound(str(exc)) from exc


def page_of(rows: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """`count` and the page of `results` that PageParams ask for (market structures too)."""
    offset, limit = params["offset"], params["limit"]
    if params.get("page") or params.get("page_size"):
        limit = params.get("page_size") or limit
        offset = (params.get("page", 1) - 1) * limit
    return {"count": len(rows), "results": rows[offset : offset + limit]}


class ItemSearchView(APIView):
    @extend_schema(
        operation_id="items_search",
        summary="Search published market items",
        description="Best first: exact name, prefix, word prefix, substring, then a "
        "typo-tolerant fallback. Case-insensitive.",
        parameters=[s.SearchParams],
        responses={200: s.SearchOut, **BAD_REQUEST},
    )
    def get(self, request: Request) -> Response:
        params = validated(s.SearchParams, request)
        hits = search_items(params["q"], params["limit"])
        results = [
            {
                "type_id": hit.type_id,
                "name": hit.type_name,
                "match": hit.match,
                "image_url": selectors.image_url(hit.type_id, 32),
            }
            for hit in hits
        ]
        return Response({"query": params["q"], "count": len(results), "results": results})


class ItemDetailView(APIView):
    @extend_schema(
        operation_id="items_retrieve",
        summary="One item type",
        responses={200: s.ItemOut, **NOT_FOUND},
    )
    def get(self, request: Request, type_id: int) -> Response:
        validated(s.NoParams, request)
        return Response(_found(selectors.item_detail, type_id))


class RegionListView(APIView):
    @extend_schema(
        operation_id="regions_list",
        summary="Every region, k-space first",
        responses={200: s.RegionListOut},
    )
    def get(self, request: Request) -> Response:
        validated(s.NoParams, request)
        regions = selectors.region_list()
        return Response({"count": len(regions), "results": regions})


class RegionDetailView(APIView):
    @extend_schema(
        operation_id="regions_retrieve",
        summary="One region with its systems",
        responses={200: s.RegionDetailOut, **NOT_FOUND},
    )
    def get(self, request: Request, region_id: int) -> Response:
        validated(s.NoParams, request)
        return Response(_found(selectors.region_detail, region_id))


class SystemListView(APIView):
    @extend_schema(
        operation_id="systems_list",
        summary="Solar systems, by region, security band or name",
        parameters=[s.SystemParams],
        responses={200: s.SystemListOut, **BAD_REQUEST, **NOT_FOUND},
    )
    def get(self, request: Request) -> Response:
        params = validated(s.SystemParams, request)
        if "region_id" in params:
            _found(selectors.region_detail, params["region_id"])
        return Response(page_of(selectors.system_list(**_filters(params)), params))


class SystemDetailView(APIView):
    @extend_schema(
        operation_id="systems_retrieve",
        summary="One solar system with neighbours and stations",
        responses={200: s.SystemDetailOut, **NOT_FOUND},
    )
    def get(self, request: Request, solar_system_id: int) -> Response:
        validated(s.NoParams, request)
        return Response(_found(selectors.system_detail, solar_system_id))


class StationListView(APIView):
    @extend_schema(
        operation_id="stations_list",
        summary="NPC stations, by region, system or name",
        parameters=[s.StationParams],
        responses={200: s.StationListOut, **BAD_REQUEST},
    )
    def get(self, request: Request) -> Response:
        params = validated(s.StationParams, request)
        return Response(page_of(selectors.station_list(**_filters(params)), params))


class StationDetailView(APIView):
    @extend_schema(
        operation_id="stations_retrieve",
        summary="One NPC station",
        responses={200: s.StationOut, **NOT_FOUND},
    )
    def get(self, request: Request, station_id: int) -> Response:
        validated(s.NoParams, request)
        return Response(_found(selectors.station_detail, station_id))


class MarketGroupTreeView(APIView):
    @extend_schema(
        operation_id="market_groups_tree",
        summary="The market-group tree",
        responses={200: s.MarketGroupTreeOut},
    )
    def get(self, request: Request) -> Response:
        validated(s.NoParams, request)
        return Response({"results": selectors.market_group_tree()})


def _filters(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in ("limit", "offset", "page", "page_size")}

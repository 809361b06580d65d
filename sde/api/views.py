"""The SDE part of the v1 API: item search and details, regions, systems, stations, market
groups. Each view validates its query parameters (400 with a message), calls one selector and
answers 404 JSON for an unknown id.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sde import selectors
from sde.search import search_items

MAX_ID = 2**31 - 1


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    unknown = set(request.query_params) - set(serializer_class().fields) - {"format"}
    if unknown:
        raise serializers.ValidationError(
            {name: ["Unknown parameter."] for name in sorted(unknown)}
        )
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _found(loader: Any, ident: int) -> Any:
    try:
        return loader(ident)
    except selectors.SdeNotFound as exc:
        raise NotFound(str(exc)) from exc


class SearchParams(serializers.Serializer):
    q = serializers.CharField(max_length=100, trim_whitespace=True)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


class SearchHitOut(serializers.Serializer):
    type_id = serializers.IntegerField()
    name = serializers.CharField()
    match = serializers.ChoiceField(
        choices=["exact", "prefix", "word_prefix", "substring", "fuzzy"]
    )
    image_url = serializers.CharField()


class ItemSearchView(APIView):
    """Published market items matching `q`, best first (exact, prefix, word prefix,
    substring, then a typo-tolerant fallback)."""

    @extend_schema(parameters=[SearchParams], responses=SearchHitOut(many=True))
    def get(self, request: Request) -> Response:
        params = _validated(SearchParams, request)
        hits = search_items(params["q"], params["limit"])
        return Response(
            {
                "query": params["q"],
                "count": len(hits),
                "results": [
                    {
                        "type_id": h.type_id,
                        "name": h.type_name,
                        "match": h.match,
                        "image_url": selectors.image_url(h.type_id, 32),
                    }
                    for h in hits
                ],
            }
        )


class ItemDetailView(APIView):
    """One item type: group, category, market-group path, volumes, meta group, image."""

    @extend_schema(responses={200: dict, 404: dict})
    def get(self, request: Request, type_id: int) -> Response:
        return Response(_found(selectors.item_detail, type_id))


class RegionListView(APIView):
    """Every region, with its kind (k-space, wormhole, ...) and system and station counts."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        _validated(serializers.Serializer, request)
        regions = selectors.region_list()
        return Response({"count": len(regions), "results": regions})


class RegionDetailView(APIView):
    """One region with its systems and security bands."""

    @extend_schema(responses={200: dict, 404: dict})
    def get(self, request: Request, region_id: int) -> Response:
        return Response(_found(selectors.region_detail, region_id))


class SystemParams(serializers.Serializer):
    region_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    security = serializers.ChoiceField(choices=["high", "low", "null"], required=False)
    q = serializers.CharField(max_length=100, required=False)


class SystemListView(APIView):
    """Solar systems, optionally of one region, one security band, or matching `q`."""

    @extend_schema(parameters=[SystemParams], responses={200: dict})
    def get(self, request: Request) -> Response:
        params = _validated(SystemParams, request)
        if "region_id" in params:
            _found(selectors.region_detail, params["region_id"])
        systems = selectors.system_list(**params)
        return Response({"count": len(systems), "results": systems})


class SystemDetailView(APIView):
    """One solar system: security, region, stargate neighbours and stations."""

    @extend_schema(responses={200: dict, 404: dict})
    def get(self, request: Request, solar_system_id: int) -> Response:
        return Response(_found(selectors.system_detail, solar_system_id))


class StationParams(serializers.Serializer):
    region_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    system_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    q = serializers.CharField(max_length=100, required=False)


class StationListView(APIView):
    """NPC stations, filtered by region, system and a name fragment `q`."""

    @extend_schema(parameters=[StationParams], responses={200: dict})
    def get(self, request: Request) -> Response:
        params = _validated(StationParams, request)
        stations = selectors.station_list(**params)
        return Response({"count": len(stations), "results": stations})


class StationDetailView(APIView):
    """One NPC station."""

    @extend_schema(responses={200: dict, 404: dict})
    def get(self, request: Request, station_id: int) -> Response:
        return Response(_found(selectors.station_detail, station_id))


class MarketGroupTreeView(APIView):
    """The market-group tree, roots first, children by name."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        _validated(serializers.Serializer, request)
        return Response({"results": selectors.market_group_tree()})


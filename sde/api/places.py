"""The place search endpoint: `GET /api/v1/places/search?q=&kinds=&limit=` finds NPC stations,
solar systems and regions by name, as the item search finds items (`sde.place_search`).
Public, under the API's rate limit like every /api/ path (config/settings.py RATE_LIMITS).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ErrorOut, validated
from sde.api.fields import AsciiIntegerField
from sde.place_search import KINDS, BadPlaceQuery, parse_kinds, place_hit_json, search_places


class PlaceSearchParams(serializers.Serializer):
    q = serializers.CharField(max_length=100, help_text="Part of a place name, any case.")
    kinds = serializers.CharField(
        required=False,
        max_length=40,
        help_text=f"Which kinds of place, comma separated: {', '.join(KINDS)} (default all).",
    )
    limit = AsciiIntegerField(min_value=1, max_value=50, default=10)

    def validate_kinds(self, value: str) -> list[str]:
        try:
            return sorted(parse_kinds(value))
        except BadPlaceQuery as exc:
            raise serializers.ValidationError(str(exc)) from exc


class PlaceHitOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=list(KINDS))
    system_id = serializers.IntegerField(allow_null=True, help_text="Null for a region.")
    system = serializers.CharField(allow_null=True, help_text="The solar system's name.")
    region_id = serializers.IntegerField(allow_null=True)
    region = serializers.CharField(allow_null=True, help_text="The region's name.")
    security = serializers.FloatField(
        allow_null=True,
        help_text="The security status the game shows for its solar system (one decimal); "
        "null for a region.",
    )
    match = serializers.ChoiceField(
        choices=["exact", "prefix", "word_prefix", "substring", "fuzzy"]
    )


class PlaceSearchOut(serializers.Serializer):
    query = serializers.CharField()
    kinds = serializers.ListField(child=serializers.CharField())
    count = serializers.IntegerField()
    results = PlaceHitOut(many=True)


class PlaceSearchView(APIView):
    @extend_schema(
        operation_id="places_search",
        summary="Search NPC stations, solar systems and regions by name",
        description="Best first: exact name, prefix, word prefix, substring, then a "
        "typo-tolerant fallback; within each, the main trade hubs, then shorter names. "
        "Case-insensitive. The station, system and region pickers of the profit pages use it.",
        parameters=[PlaceSearchParams],
        responses={200: PlaceSearchOut, 400: ErrorOut},
    )
    def get(self, request: Request) -> Response:
        params = validated(PlaceSearchParams, request)
        kinds = params.get("kinds") or list(KINDS)
        hits = search_places(params["q"], kinds, params["limit"])
        results = [place_hit_json(hit) for hit in hits]
        return Response(
            {
                "query": params["q"],
                "kinds": sorted(kinds),
                "count": len(results),
                "results": results,
            }
        )

"""The API's front door: `/api/v1/` lists the endpoints, the OpenAPI schema is built once per
process (it describes the code, which a running process does not change) and shows a lock
only on the endpoints that need a login.

An entry point like config/urls.py: it names the apps' routes, it imports none of them.
"""

from __future__ import annotations

import threading
from typing import Any

from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# What /api/v1/ lists: (section, what, route name, URL arguments shown as a template).
ENDPOINTS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("static data", "item search", "api-item-search", {}),
    ("static data", "one item", "api-item", {"type_id": "34"}),
    ("static data", "regions", "api-regions", {}),
    ("static data", "solar systems", "api-systems", {}),
    ("static data", "NPC stations", "api-stations", {}),
    ("static data", "market groups", "api-market-groups", {}),
    ("market", "order book", "api-market-orders", {"region_id": "10000002", "type_id": "34"}),
    ("market", "hub comparison", "api-market-compare", {}),
    ("market", "price history", "api-market-history", {"region_id": "10000002", "type_id": "34"}),
    ("market", "average and adjusted prices", "api-market-prices", {"type_id": "34"}),
    ("market", "snapshots and refreshes", "api-market-status", {}),
    ("market", "Upwell structures (and /{structure_id})", "api-market-structures", {}),
    ("profit", "station trading", "api-profit-station", {}),
    ("profit", "hauling", "api-profit-hauling", {}),
    ("profit", "trade calculator (POST)", "api-profit-calculate", {}),
    ("profit", "opportunity boards", "api-profit-boards", {}),
    ("characters", "your characters (login)", "api-characters", {}),
    ("service", "health", "api-health", {}),
    ("service", "OpenAPI schema", "api-schema", {}),
    ("service", "interactive docs", "api-docs", {}),
)


class ApiRootView(APIView):
    """Every endpoint of the API, by section, with an example URL for those that take ids."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="api_root",
        summary="Every endpoint of the API",
        responses={
            200: inline_serializer(
                "ApiRoot",
                {"sections": serializers.DictField(child=serializers.DictField())},
            )
        },
    )
    def get(self, request: Request) -> Response:
        sections: dict[str, dict[str, str]] = {}
        for section, what, name, kwargs in ENDPOINTS:
            try:
                url = request.build_absolute_uri(reverse(name, kwargs=kwargs or None))
            except NoReverseMatch:  # a route this deployment does not mount
                continue
            sections.setdefault(section, {})[what] = url
        return Response({"sections": sections})


class CachedSchemaView(SpectacularAPIView):
    """The OpenAPI schema, built on the first request of a process and then served from
    memory (building it walks every view: about 2 s)."""

    _built: dict[tuple[str, str], tuple[Any, str]] = {}
    _lock = threading.Lock()

    @extend_schema(exclude=True)  # the schema does not describe itself (SERVE_INCLUDE_SCHEMA)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        renderer = getattr(request, "accepted_renderer", None)
        key = (getattr(renderer, "format", "") or "", request.GET.get("lang", ""))
        with self._lock:
            found = self._built.get(key)
        if found is None:
            built: Response = super().get(request, *args, **kwargs)
            found = (built.data, built.get("Content-Disposition", ""))
            with self._lock:
                self._built[key] = found
        data, disposition = found
        return Response(data, headers={"Content-Disposition": disposition})

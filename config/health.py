"""Health probes: liveness, readiness, and a detailed check of each dependency.

- `/health/live`: the process answers (no dependency is touched).
- `/health/ready`: 200 only when the app database and the shared store answer and an SDE is
  installed. The public gets `{"status": "ready"}` or `{"status": "not ready"}` (and the
  status code); operators (`config.metrics.is_operator`, the rule of `/metrics`) also get each
  check and each tracked region's snapshot (missing, stale), which never fails it.
- `/api/v1/health`: database, SDE (build and row counts), cache and the shared store, each
  with its status; 503 when any of them is down.
"""

import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.metrics import is_operator
from market import publish
from sde.install import read_info
from store import get_store


def check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"status": "down", "error": str(exc).splitlines()[0]}
    return {
        "status": "ok",
        "vendor": connections["default"].vendor,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def check_sde() -> dict[str, Any]:
    info = read_info(Path(settings.SDE_PATH))
    if info is None:
        return {"status": "down", "error": "no SDE installed (run manage.py sde_install)"}
    return {
        "status": "ok",
        "build": info.build,
        "source": info.source,
        "installed_at": info.installed_at,
        "row_counts": info.row_counts,
    }


def check_cache() -> dict[str, Any]:
    key, value = "health:probe", uuid.uuid4().hex
    started = time.perf_counter()
    try:
        cache.set(key, value, 10)
        ok = cache.get(key) == value
    except Exception as exc:  # any backend failure (connection refused, timeout, disk)
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"}
    return {
        "status": "ok" if ok else "down",
        "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def check_store() -> dict[str, Any]:
    """The shared store (market snapshots, ESI budgets, locks): Redis or files."""
    started = time.perf_counter()
    try:
        store = get_store()
        ok = store.ping()
    except Exception as exc:  # connection refused, timeout, unwritable directory
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"}
    return {
        "status": "ok" if ok else "down",
        "backend": type(store).__name__,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


def market_freshness() -> dict[str, Any]:
    """Per tracked region: has a snapshot, and is it stale. Reported by readiness, never
    failing it: a stale market is served (marked stale), not an outage."""
    regions: dict[str, Any] = {}
    for region_id in settings.MARKET_REGIONS:
        meta = publish.current_meta(region_id)
        if meta is None:
            regions[str(region_id)] = {"snapshot": False}
            continue
        fresh = publish.freshness(meta)
        regions[str(region_id)] = {
            "snapshot": True,
            "source": fresh["source"],
            "stale": fresh["stale"],
            "age_seconds": fresh["age_seconds"],
        }
    return regions


def ready(request: HttpRequest) -> JsonResponse:
    """200 when this instance can serve: the app database, the shared store (Redis, when
    configured) and the SDE answer. Stale or missing snapshots are reported, not failed.
    Only operators see why (the checks' errors name hosts, paths and versions)."""
    checks = {"database": check_database(), "store": check_store(), "sde": check_sde()}
    is_ready = all(c["status"] == "ok" for c in checks.values())
    status = 200 if is_ready else 503
    body: dict[str, Any] = {"status": "ready" if is_ready else "not ready"}
    if not is_operator(request):
        return JsonResponse(body, status=status)
    body["checks"] = checks
    if checks["store"]["status"] == "ok":
        body["markets"] = market_freshness()
    return JsonResponse(body, status=status)


_check = inline_serializer("HealthCheck", {"status": serializers.CharField()})


class HealthView(APIView):
    """Status of the app database, the installed SDE and the cache: "ok" or "degraded" for
    everyone, each check's details (hosts, paths, versions, errors) for operators only."""

    @extend_schema(
        operation_id="health",
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "checks": inline_serializer(
                        "HealthChecks",
                        {"database": _check, "sde": _check, "cache": _check, "store": _check},
                        required=False,
                        help_text="Operators only (the rule of /metrics).",
                    ),
                },
            ),
            503: inline_serializer("HealthDown", {"status": serializers.CharField()}),
        },
    )
    def get(self, request: Request) -> Response:
        checks = {
            "database": check_database(),
            "sde": check_sde(),
            "cache": check_cache(),
            "store": check_store(),
        }
        healthy = all(c["status"] == "ok" for c in checks.values())
        body: dict[str, Any] = {"status": "ok" if healthy else "degraded"}
        if is_operator(request):
            body["checks"] = checks
        return Response(body, status=200 if healthy else 503)

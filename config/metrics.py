"""Prometheus metrics: what the processes count, and `/metrics` to scrape them.

Counted in the process that does the work (prometheus_client): request latency by view and
status, ESI calls by route, status and latency, cache hits, Celery task durations and
outcomes. With several processes on one machine (gunicorn workers, Celery workers), set
`PROMETHEUS_MULTIPROC_DIR` to a folder they share (`bin/run-all` does) and `/metrics`
aggregates every process's figures. Read from the shared store at each scrape, so any web
instance answers for the whole deployment: snapshot age per region, ESI budgets left and the
circuit state.

`/metrics` answers only clients inside `METRICS_ALLOWED_NETWORKS` (default: loopback) or
carrying `Authorization: Bearer <METRICS_TOKEN>`; everyone else gets a 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # before prometheus_client writes a value there
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from config.clientip import client_ip

log = logging.getLogger(__name__)
requests_log = logging.getLogger("config.requests")  # one line per request

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by view and status.",
    ["view", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
ESI_CALLS = Histogram(
    "esi_request_duration_seconds",
    "ESI calls by route and status ('unavailable' or 'bad' when no usable answer came back).",
    ["route", "status"],
    buckets=LATENCY_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "cache_lookups_total",
    "Cache lookups by cache and result (hit or miss); the hit ratio is hit / (hit + miss).",
    ["cache", "result"],
)
TASK_DURATION = Histogram(
    "celery_task_duration_seconds",
    "Celery task run time, by task and outcome (success, failure, retry).",
    ["task", "outcome"],
    buckets=(*LATENCY_BUCKETS, 60.0, 300.0),
)


def esi_call(route: str, status: int | str, seconds: float) -> None:
    ESI_CALLS.labels(route=route, status=str(status)).observe(seconds)


def cache_lookup(cache: str, hit: bool) -> None:
    CACHE_LOOKUPS.labels(cache=cache, result="hit" if hit else "miss").inc()


class StoreCollector(Collector):
    """Deployment-wide gauges read from the shared store when scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from esi.client import shared_client
        from market import publish

        age = GaugeMetricFamily(
            "market_snapshot_age_seconds",
            "Seconds since the region's published snapshot was fetched from ESI.",
            labels=["region_id", "source"],
        )
        stale = GaugeMetricFamily(
            "market_snapshot_stale", "1 when the region's snapshot is stale.", labels=["region_id"]
        )
        budget = GaugeMetricFamily(
            "esi_budget_remaining",
            "What ESI says is left: the error limit, and each token bucket group.",
            labels=["budget"],
        )
        circuit = GaugeMetricFamily(
            "esi_circuit_open", "1 when the ESI circuit breaker is open or half open."
        )
        try:
            for region_id in settings.MARKET_REGIONS:
                meta = publish.current_meta(region_id)
                if meta is None:
                    continue
                fresh = publish.freshness(meta)
                if fresh.get("age_seconds") is not None:
                    age.add_metric([str(region_id), meta.source], float(fresh["age_seconds"]))
                stale.add_metric([str(region_id)], 1.0 if fresh.get("stale") else 0.0)
            status = shared_client().status()
            remain = status["limits"]["error_limit"]["remain"]
            if remain is not None:
                budget.add_metric(["error_limit"], float(remain))
            for group, state in status["limits"]["groups"].items():
                if state.get("remaining") is not None:
                    budget.add_metric([f"group:{group}"], float(state["remaining"]))
            circuit.add_metric([], 0.0 if status["breaker"]["state"] == "closed" else 1.0)
        except Exception:  # the store is down: the scrape still answers, without these
            log.warning("metrics: the shared store could not be read", exc_info=True)
        yield from (age, stale, budget, circuit)


_store_collector = StoreCollector()


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    if _store_collector not in getattr(registry, "_collector_to_names", {}):
        registry.register(_store_collector)
    return registry


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n) for n in settings.METRICS_ALLOWED_NETWORKS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return JsonResponse(
            {"detail": "Metrics are for the operators: allowed networks or a bearer token."},
            status=403,
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Times every request; labelled by the matched URL pattern's name, never the raw path
    (so ids in paths do not explode the number of series)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match else "unmatched"
        status = response.status_code
        REQUEST_LATENCY.labels(view=view, method=request.method or "", status=str(status)).observe(
            seconds
        )
        requests_log.info(
            "%s %s %d %.1f ms",
            request.method,
            request.path,
            status,
            seconds * 1000,
            extra={
                "method": request.method,
                "path": request.path,
                "view": view,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": client_ip(request),
            },
        )
        return response


def task_started(task_id: str) -> None:
    _task_started[task_id] = time.perf_counter()


def task_finished(task_id: str, task: str, outcome: str) -> None:
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASK_DURATION.labels(task=task, outcome=outcome).observe(time.perf_counter() - started)


_task_started: dict[str, float] = {}


def mark_process_dead(pid: int) -> None:
    """gunicorn's child_exit: drop a dead worker's live gauges (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)

"""Prometheus metrics: the registry, what every process counts, and `/metrics` to scrape them.

Counted in the process that does the work (prometheus_client): request latency by view and
status, cache hits, Celery task durations and outcomes here; each app defines what else it
counts in its own module (ESI calls: esi/metrics.py). With several processes on one machine
(gunicorn workers, Celery workers), set `PROMETHEUS_MULTIPROC_DIR` to a folder they share
(`bin/run-all` does) and `/metrics` aggregates every process's figures.

Gauges read from the shared store at each scrape, so any web instance answers for the whole
deployment: the apps register a reader each (`read_at_scrape`, from their AppConfig.ready();
market: snapshot age per region, ESI budgets left and the circuit state). This module imports
no app.

`/metrics` (and the details of `/health/ready`) answer only operators (`is_operator`): a
request carrying `Authorization: Bearer <METRICS_TOKEN>`, or one from inside
`METRICS_ALLOWED_NETWORKS` (default: loopback) that came through no more proxies than
`TRUSTED_PROXIES`. A request that passed a proxy the settings do not trust (an
`X-Forwarded-For` when none is trusted, or more hops than trusted) is never an operator by its
address, whatever that is: a proxy on the same machine connects from 127.0.0.1 for everyone.
Everyone else gets a 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence

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
from config.errors import hide_request_secrets

log = logging.getLogger(__name__)
requests_log = logging.getLogger("config.requests")  # one line per request: no query string
# Django's own line about a failed request attaches the request, query string included (an SSO
# callback's code and state): from here on it is logged without secret values. Done on import:
# this module comes in with the middleware, before the first request.
hide_request_secrets()

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by view and status.",
    ["view", "method", "status"],
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


def cache_lookup(cache: str, hit: bool) -> None:
    CACHE_LOOKUPS.labels(cache=cache, result="hit" if hit else "miss").inc()


# A reader of gauges from the shared store: it makes its gauges with the `gauge` it is given,
# then fills them. A gauge made is always exposed, even if the reader fails half-way.
MakeGauge = Callable[[str, str, Sequence[str]], GaugeMetricFamily]
StoreReader = Callable[[MakeGauge], None]
_store_readers: list[StoreReader] = []


def read_at_scrape(reader: StoreReader) -> None:
    """Run `reader` at every scrape (registering it twice is harmless)."""
    if reader not in _store_readers:
        _store_readers.append(reader)


class _Made:
    """The `gauge` a reader is given: makes gauges and remembers them."""

    def __init__(self) -> None:
        self.gauges: list[GaugeMetricFamily] = []

    def __call__(
        self, name: str, documentation: str, labels: Sequence[str] = ()
    ) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, documentation, labels=list(labels))
        self.gauges.append(family)
        return family


class StoreCollector(Collector):
    """Deployment-wide gauges read from the shared store when scraped, by the readers the
    apps registered."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for reader in list(_store_readers):
            made = _Made()
            try:
                reader(made)
            except Exception:  # the store is down: the scrape still answers, without these
                log.warning("metrics: the shared store could not be read", exc_info=True)
            yield from made.gauges


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


def proxy_hops(request: HttpRequest) -> int:
    """How many proxies say they passed the request on: the addresses in `X-Forwarded-For`
    (or in `Forwarded`, RFC 7239, if it lists more); an `X-Real-IP` alone counts as one."""
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    rfc7239 = str(request.META.get("HTTP_FORWARDED", ""))
    hops = max(
        len([part for part in forwarded.split(",") if part.strip()]),
        len([part for part in rfc7239.split(",") if part.strip()]),
    )
    if not hops and str(request.META.get("HTTP_X_REAL_IP", "")).strip():
        return 1
    return hops


def through_untrusted_proxy(request: HttpRequest) -> bool:
    """The request passed more proxies than `TRUSTED_PROXIES`: its socket address (and the
    client address read from the header) is not the client's."""
    return proxy_hops(request) > max(settings.TRUSTED_PROXIES, 0)


def has_metrics_token(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def is_operator(request: HttpRequest) -> bool:
    """A bearer of `METRICS_TOKEN`, or a client inside `METRICS_ALLOWED_NETWORKS` that came
    through no proxy the settings do not trust."""
    if has_metrics_token(request):
        return True
    if through_untrusted_proxy(request):
        return False
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n) for n in settings.METRICS_ALLOWED_NETWORKS)


def refusal(request: HttpRequest, what: str) -> JsonResponse:
    """The 403 of an operator view, saying what would let an operator in."""
    detail = f"{what} are for the operators: allowed networks or a bearer token."
    if through_untrusted_proxy(request) and not has_metrics_token(request):
        detail += (
            " This request came through more proxies than the settings trust (TRUSTED_PROXIES),"
            " so its address does not count."
        )
    return JsonResponse({"detail": detail}, status=403)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not is_operator(request):
        return refusal(request, "Metrics")
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

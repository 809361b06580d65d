"""What the ESI client counts for Prometheus: each call, by route, status and latency.

Exposed at `/metrics` (config/metrics.py). The budgets and the circuit state are read from
the shared store at each scrape instead (esi/gauges.py).
"""

from __future__ import annotations

from prometheus_client import Histogram

from config.metrics import LATENCY_BUCKETS

ESI_CALLS = Histogram(
    "esi_request_duration_seconds",
    "ESI calls by route and status ('unavailable' or 'bad' when no usable answer came back).",
    ["route", "status"],
    buckets=LATENCY_BUCKETS,
)


def esi_call(route: str, status: int | str, seconds: float) -> None:
    ESI_CALLS.labels(route=route, status=str(status)).observe(seconds)

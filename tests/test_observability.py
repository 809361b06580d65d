"""Request ids, JSON logs and Prometheus metrics (config/requestid.py, config/metrics.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from prometheus_client import REGISTRY
from pythonjsonlogger.json import JsonFormatter

from config import requestid
from config.clientip import client_ip
from esi.client import EsiClient
from market.refresh import refresh_region
from tests.conftest import sde_db
from tests.market_env import FORGE

pytestmark = sde_db


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the configured JSON console handler writes, while the test runs."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert handlers, "LOGGING has no JSON console handler"
    handler = handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


# --- Request ids ---------------------------------------------------------------------------


def test_a_request_id_is_made_up_and_returned(client):
    first = client.get("/health/live")["X-Request-ID"]
    second = client.get("/health/live")["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_sensible_caller_id_is_kept_and_a_hostile_one_replaced(client):
    assert client.get("/health/live", HTTP_X_REQUEST_ID="lb-7f3a.91")["X-Request-ID"] == (
        "lb-7f3a.91"
    )
    hostile = 'x" injected\nlevel=ERROR'
    returned = client.get("/health/live", HTTP_X_REQUEST_ID=hostile)["X-Request-ID"]
    assert returned != hostile and len(returned) == 32


def test_every_log_line_of_a_request_is_json_with_its_id(client, json_log):
    client.get("/api/v1/health", HTTP_X_REQUEST_ID="req-42")
    records = lines(json_log)
    assert records, "the request logged nothing"
    request_line = next(r for r in records if r["logger"] == "config.requests")
    assert request_line["request_id"] == "req-42"
    assert request_line["status"] == 200 and request_line["view"] == "api-health"
    assert request_line["path"] == "/api/v1/health" and request_line["duration_ms"] >= 0
    assert {r["request_id"] for r in records} == {"req-42"}
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)


def test_django_s_own_error_lines_carry_the_id_too(client, json_log):
    client.get("/no/such/page/777", HTTP_X_REQUEST_ID="req-404")
    warning = next(r for r in lines(json_log) if r["logger"] == "django.request")
    assert warning["request_id"] == "req-404" and "Not Found" in warning["message"]


def test_lines_outside_a_request_have_no_id(json_log):
    logging.getLogger("tests").warning("no request here")
    (record,) = lines(json_log)
    assert record["request_id"] is None and record["message"] == "no request here"


def test_a_queued_task_carries_the_request_id_into_the_worker():
    headers: dict[str, object] = {}
    token = requestid._current.set("req-7")
    try:
        requestid.attach_to_task(headers=headers)
    finally:
        requestid._current.reset(token)
    assert headers == {"request_id": "req-7"}
    # In the worker: the message's custom headers are on the task's request.
    task = SimpleNamespace(request=SimpleNamespace(request_id=None, headers=headers))
    requestid.enter_task(task=task)
    assert requestid.current() == "req-7"
    requestid.leave_task()
    assert requestid.current() is None
    requestid.enter_task(task=SimpleNamespace(request=SimpleNamespace(request_id=None)))
    scheduled = requestid.current()  # a beat task gets an id of its own
    assert scheduled is not None and len(scheduled) == 32
    requestid.leave_task()


# --- Client address ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.9", "10.0.0.2"),  # no proxy: the header is the client's own claim
        (1, "198.51.100.9", "198.51.100.9"),
        (1, "6.6.6.6, 198.51.100.9", "198.51.100.9"),  # a forged first hop is ignored
        (2, "6.6.6.6, 198.51.100.9, 10.0.0.7", "198.51.100.9"),
        (2, "198.51.100.9", "198.51.100.9"),  # fewer hops than proxies: the leftmost
        (1, "", "10.0.0.2"),
    ],
)
def test_the_client_address_behind_trusted_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# --- Metrics -------------------------------------------------------------------------------


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_for_operators_only(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 200  # loopback is allowed
    outside = {"REMOTE_ADDR": "203.0.113.5"}
    denied = client.get("/metrics", **outside)
    assert denied.status_code == 403 and "detail" in denied.json()
    spoofed = client.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1", **outside)
    assert spoofed.status_code == 403  # no trusted proxy: the header is not believed
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **outside)
    assert wrong.status_code == 403
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **outside)
    assert right.status_code == 200


@pytest.mark.parametrize(
    ("proxies", "headers"),
    [
        # A proxy on the same machine, not declared: every client arrives from 127.0.0.1.
        (0, {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}),
        (0, {"HTTP_X_FORWARDED_FOR": "127.0.0.1"}),
        (0, {"HTTP_FORWARDED": "for=203.0.113.5"}),
        (0, {"HTTP_X_REAL_IP": "203.0.113.5"}),
        # One proxy trusted, two hops: a second, unknown proxy (or a forged hop) before it.
        (1, {"HTTP_X_FORWARDED_FOR": "127.0.0.1, 127.0.0.1"}),
        (2, {"HTTP_X_FORWARDED_FOR": "127.0.0.1, 10.0.0.7, 127.0.0.1"}),
    ],
)
def test_metrics_refuse_a_loopback_socket_behind_a_proxy_the_settings_do_not_trust(
    client, settings, proxies, headers
):
    settings.TRUSTED_PROXIES = proxies
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **headers)
    assert response.status_code == 403
    assert "TRUSTED_PROXIES" in response.json()["detail"]


def test_metrics_answer_a_loopback_client_behind_the_trusted_proxies(client, settings):
    settings.TRUSTED_PROXIES = 1
    through = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
    assert client.get("/metrics", **through).status_code == 200
    outside = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    refused = client.get("/metrics", **outside)
    assert refused.status_code == 403
    assert "TRUSTED_PROXIES" not in refused.json()["detail"]  # one hop: the proxy is trusted


def test_the_metrics_token_is_accepted_through_any_proxy(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    response = client.get(
        "/metrics",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.9",
        HTTP_AUTHORIZATION="Bearer s3cret-scrape-token",
    )
    assert response.status_code == 200


def test_request_latency_is_counted_by_view_and_status(client):
    labels = {"view": "health-live", "method": "GET", "status": "200"}
    before = sample("http_request_duration_seconds_count", **labels)
    client.get("/health/live")
    client.get("/health/live")
    assert sample("http_request_duration_seconds_count", **labels) == before + 2
    missing = {"view": "unmatched", "method": "GET", "status": "404"}
    before = sample("http_request_duration_seconds_count", **missing)
    client.get("/no/such/page/12345")
    assert sample("http_request_duration_seconds_count", **missing) == before + 1


def test_esi_calls_snapshot_age_budgets_and_circuit_are_exposed(client, market):
    route = {"route": "/markets/{id}/orders", "status": "200"}
    before = sample("esi_request_duration_seconds_count", **route)
    refresh_region(FORGE)
    assert sample("esi_request_duration_seconds_count", **route) >= before + 1
    body = client.get("/metrics").content.decode()
    assert f'market_snapshot_age_seconds{{region_id="{FORGE}",source="esi"}}' in body
    assert f'market_snapshot_stale{{region_id="{FORGE}"}} 0.0' in body
    assert 'esi_budget_remaining{budget="error_limit"}' in body
    assert "esi_circuit_open 0.0" in body
    assert 'http_request_duration_seconds_bucket{le="0.005"' in body


def test_cache_hits_and_misses_are_counted(market):
    client = EsiClient.from_settings()
    hits, misses = (sample("cache_lookups_total", cache="esi", result=r) for r in ("hit", "miss"))
    client.get_cached("/markets/prices/")
    client.get_cached("/markets/prices/")  # fresh until Expires: no call
    assert sample("cache_lookups_total", cache="esi", result="miss") == misses + 1
    assert sample("cache_lookups_total", cache="esi", result="hit") == hits + 1


def test_metrics_still_answer_when_the_store_is_down(client, store_down):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "http_request_duration_seconds" in response.content.decode()

"""Rate limits, request size limits and security headers (config/protection.py)."""

from __future__ import annotations

import pytest

from config.protection import parse_rules
from store import get_store, reset_store
from tests.conftest import drop_store_prefix, sde_db

pytestmark = sde_db


@pytest.fixture
def limited(settings):
    """Small limits on an isolated store prefix."""
    import uuid

    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMITS = ["tight:/api/v1/regions:3/60", "api:/api/:1000/60"]
    settings.STORE_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
    reset_store()
    yield settings
    reset_store()
    drop_store_prefix(settings.STORE_KEY_PREFIX)


def test_past_the_limit_the_api_answers_429_with_retry_after(client, limited):
    answers = [client.get("/api/v1/regions") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "at most 3 every 60 s" in refused.json()["detail"]
    assert client.get("/api/v1/items/34").status_code == 200  # another rule, its own budget


def test_each_client_address_has_its_own_budget(client, limited):
    for _ in range(3):
        client.get("/api/v1/regions", REMOTE_ADDR="198.51.100.1")
    assert client.get("/api/v1/regions", REMOTE_ADDR="198.51.100.1").status_code == 429
    assert client.get("/api/v1/regions", REMOTE_ADDR="198.51.100.2").status_code == 200


def test_behind_a_proxy_the_forwarded_client_is_limited_not_the_proxy(client, limited):
    limited.TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(3):
        client.get("/api/v1/regions", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    blocked = client.get("/api/v1/regions", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert blocked.status_code == 429
    other = client.get("/api/v1/regions", HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
    assert other.status_code == 200
    # A client cannot escape by writing its own X-Forwarded-For first hop.
    forged = client.get("/api/v1/regions", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7", **proxy)
    assert forged.status_code == 429


def test_a_page_past_its_limit_is_a_friendly_429_page(client, limited):
    limited.RATE_LIMITS = ["pages:/regions:1/60"]
    assert client.get("/regions/").status_code == 200
    refused = client.get("/regions/")
    assert refused.status_code == 429 and "Retry-After" in refused
    assert "Slow down a little" in refused.content.decode()


def test_the_limit_is_shared_by_every_instance(client, limited):
    """The counter is in the shared store: another web process's requests count too."""
    import time

    window = int(time.time() // 60)
    get_store().incr(f"ratelimit:tight:127.0.0.1:{window}", ttl=61)
    get_store().incr(f"ratelimit:tight:127.0.0.1:{window}", ttl=61)
    statuses = [client.get("/api/v1/regions").status_code for _ in range(2)]
    assert statuses in ([200, 429], [429, 429])  # [429, 429] only across a window edge


def test_an_unreachable_store_lets_requests_through(client, limited, store_down):
    assert client.get("/api/v1/regions").status_code == 200


def test_health_and_metrics_are_never_limited(client, limited):
    limited.RATE_LIMITS = ["all:/:1/60"]
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 429
    limited.RATE_LIMITS = ["api:/api/:1/60"]
    for _ in range(3):
        assert client.get("/health/ready").status_code == 200
        assert client.get("/metrics").status_code == 200


def test_bad_rules_are_reported_clearly():
    with pytest.raises(ValueError, match="expected name:prefix:requests/seconds"):
        parse_rules(("api-/api/-10",))


# --- Request size --------------------------------------------------------------------------


def test_an_oversize_body_is_refused_with_413_before_it_is_read(client, settings):
    settings.MAX_REQUEST_BYTES = 1000
    response = client.post(
        "/api/v1/market/refresh", data="x" * 5000, content_type="application/json"
    )
    assert response.status_code == 413
    assert "at most 1,000 bytes" in response.json()["detail"]


def test_a_body_within_the_limit_goes_through(client, settings):
    settings.MAX_REQUEST_BYTES = 10_000
    response = client.post("/api/v1/market/refresh", data="{}", content_type="application/json")
    assert response.status_code != 413


# --- Security headers ----------------------------------------------------------------------


def test_pages_and_api_send_the_security_headers(client):
    for url in ("/", "/api/v1/regions"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_content_security_policy_names_this_site_the_image_server_and_the_sso(client, settings):
    settings.SSO_BASE_URL = "https://login.eveonline.com"
    policy = client.get("/")["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert "https://images.evetech.net" in directives["img-src"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert directives["form-action"] == ["'self'", "https://login.eveonline.com"]
    settings.SSO_BASE_URL = "http://127.0.0.1:8765/"  # a local SSO stand-in
    moved = client.get("/api/v1/regions")["Content-Security-Policy"]
    assert "form-action 'self' http://127.0.0.1:8765" in moved

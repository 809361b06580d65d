"""Health probes against the real database, cache and SDE."""

from pathlib import Path

import pytest
from django.core.cache import cache

from tests.conftest import sde_db

pytestmark = sde_db


def test_health_reports_each_dependency(client):
    response = client.get("/api/v1/health", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["sde"]["status"] == "ok"
    assert checks["sde"]["build"].startswith("bundled")
    assert checks["sde"]["row_counts"]["invTypes"] > 50000
    assert checks["cache"]["status"] == "ok"
    assert checks["store"] == {**checks["store"], "status": "ok", "backend": "RedisStore"}


def test_health_is_503_when_the_store_is_down(client, store_down):
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["checks"]["store"]["status"] == "down"


def test_cache_check_uses_the_configured_backend(client, settings):
    backend = client.get("/api/v1/health").json()["checks"]["cache"]["backend"]
    expected = "RedisCache" if settings.REDIS_URL else "FileBasedCache"
    assert backend == expected
    cache.set("probe-key", "value", 5)
    assert cache.get("probe-key") == "value"


def test_live_never_touches_dependencies(client, settings, tmp_path):
    settings.SDE_PATH = tmp_path / "missing.sqlite"
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_ready_needs_an_sde(client, settings, tmp_path):
    assert client.get("/health/ready").status_code == 200
    settings.SDE_PATH = Path(tmp_path / "missing.sqlite")
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["sde"]["status"] == "down"


def test_ready_needs_the_shared_store(client, store_down):
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["store"]["status"] == "down"


def test_ready_reports_stale_and_missing_snapshots_without_failing(client, market):
    from market.refresh import publish_demo
    from tests.market_env import DOMAIN, FORGE

    publish_demo(FORGE)  # the demo market is always stale
    response = client.get("/health/ready")
    assert response.status_code == 200
    markets = response.json()["markets"]
    assert markets[str(FORGE)] == {**markets[str(FORGE)], "snapshot": True, "stale": True}
    assert markets[str(FORGE)]["source"] == "demo"
    assert markets[str(DOMAIN)] == {"snapshot": False}


def test_health_is_503_without_an_sde(client, settings, tmp_path):
    settings.SDE_PATH = tmp_path / "missing.sqlite"
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"


@pytest.mark.parametrize("url", ["/api/v1/items/search?q=trit", "/api/v1/regions"])
def test_api_answers_503_with_a_message_without_an_sde(client, settings, tmp_path, url):
    settings.SDE_PATH = tmp_path / "missing.sqlite"
    response = client.get(url)
    assert response.status_code == 503
    assert "sde_install" in response.json()["detail"]


PUBLIC = {"REMOTE_ADDR": "203.0.113.5"}


def test_ready_tells_the_public_only_ready(client):
    response = client.get("/health/ready", **PUBLIC)
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_ready_tells_the_public_only_not_ready(client, settings, tmp_path):
    settings.SDE_PATH = tmp_path / "missing.sqlite"
    response = client.get("/health/ready", **PUBLIC)
    assert response.status_code == 503
    assert response.json() == {"status": "not ready"}


def test_ready_details_need_an_operator_not_a_loopback_socket_behind_a_proxy(client, settings):
    # A proxy on the same machine that the settings do not declare (TRUSTED_PROXIES=0).
    proxied = client.get("/health/ready", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert proxied.json() == {"status": "ready"}
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    token = {"HTTP_AUTHORIZATION": "Bearer s3cret-scrape-token"}
    operator = client.get("/health/ready", **token, **PUBLIC)
    assert operator.status_code == 200
    body = operator.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "store", "sde"}
    assert "markets" in body


def test_the_api_health_tells_the_public_only_its_status(client, settings, tmp_path):
    response = client.get("/api/v1/health", **PUBLIC)
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    settings.SDE_PATH = tmp_path / "missing.sqlite"
    down = client.get("/api/v1/health", **PUBLIC)
    assert down.status_code == 503 and down.json() == {"status": "degraded"}

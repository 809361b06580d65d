"""Rate limits, request size limits and security headers (config/protection.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from django.test import RequestFactory

from config.clientip import address_group
from config.protection import parse_rules, request_cost
from store import get_store, reset_store
from tests.conftest import RATE_LIMIT_CLOCK, drop_store_prefix, sde_db

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
    assert [a["X-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    refused = answers[-1]
    assert refused["Retry-After"] == "59"  # the clock stands 1 s into the 60 s window
    assert refused["X-RateLimit-Group"] == "tight" and refused["X-RateLimit-Limit"] == "3/60s"
    detail = refused.json()["detail"]
    assert "may spend 3 tokens every 60 s on tight pages and API calls together" in detail
    assert "this request costs 1" in detail
    assert client.get("/api/v1/items/34").status_code == 200  # another rule, its own budget


def test_each_client_address_has_its_own_budget(client, limited):
    for _ in range(3):
        client.get("/api/v1/regions", REMOTE_ADDR="198.51.100.1")
    assert client.get("/api/v1/regions", REMOTE_ADDR="198.51.100.1").status_code == 429
    assert client.get("/api/v1/regions", REMOTE_ADDR="198.51.100.2").status_code == 200


def test_an_ipv6_client_is_counted_by_its_slash_64(client, limited):
    """A /64 is one home or one server: new addresses inside it are the same client."""
    for address in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"):
        assert client.get("/api/v1/regions", REMOTE_ADDR=address).status_code == 200
    assert client.get("/api/v1/regions", REMOTE_ADDR="2001:db8:1:2::99").status_code == 429
    # The next /64 (...:1:3::) is another client.
    assert client.get("/api/v1/regions", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


@pytest.mark.parametrize(
    ("address", "group"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),  # IPv4 seen through an IPv6 socket
        ("not-an-address", "not-an-address"),
    ],
)
def test_address_groups(address, group):
    assert address_group(address) == group


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


def test_a_refused_request_is_logged_once_by_the_request_log(client, limited, caplog):
    """A client past its allowance may send a thousand requests a second: each 429 is one
    request log line (status and client), not Django's warning as well."""
    caplog.set_level(logging.INFO)
    answers = [client.get("/api/v1/regions") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    logged = [(r.name, getattr(r, "status", None)) for r in caplog.records]
    assert logged.count(("config.requests", 429)) == 1
    assert not [r for r in caplog.records if r.name == "django.request"]
    client.get("/api/v1/items/999999999")  # another 4xx is still Django's warning too
    assert [r.status_code for r in caplog.records if r.name == "django.request"] == [404]


def test_the_limit_is_shared_by_every_instance(client, limited):
    """The counter is in the shared store: another web process's requests count too."""
    window = int(RATE_LIMIT_CLOCK // 60)
    get_store().incr(f"ratelimit:tight:127.0.0.1:{window}", ttl=61)
    get_store().incr(f"ratelimit:tight:127.0.0.1:{window}", ttl=61)
    statuses = [client.get("/api/v1/regions").status_code for _ in range(2)]
    assert statuses == [200, 429]


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


@pytest.mark.parametrize(
    "spec", ["api-/api/-10", "api:/api/:0/60", "api:/api/:10/0", "api::10/60", ":/api/:10/60"]
)
def test_bad_rules_are_reported_clearly(spec):
    with pytest.raises(ValueError, match="expected name:prefix\\|prefix:tokens/seconds"):
        parse_rules((spec,))


def test_a_rule_may_name_several_prefixes():
    (rule,) = parse_rules(("profit:/profit/|/api/v1/profit/:120/60",))
    assert rule.prefixes == ("/profit/", "/api/v1/profit/") and rule.tokens == 120
    assert rule.matches("/api/v1/profit/hauling") and rule.matches("/profit/hauling/")
    assert not rule.matches("/api/v1/market/status")


# --- One allowance for the pages and the API of the same work, costs by the work ----------


def test_the_default_rules_give_the_profit_pages_and_api_one_allowance(settings):
    rules = parse_rules(tuple(settings.RATE_LIMITS))
    (profit,) = [rule for rule in rules if rule.matches("/profit/hauling/")]
    assert profit.matches("/api/v1/profit/hauling")
    assert profit.matches("/profit/station-trading/")
    assert profit.matches("/api/v1/profit/station-trading")
    # Appraisals, theirs and evepraisal's routes, draw on the same allowance.
    for path in ("/appraisals/", "/api/v1/appraisals", "/appraisal.json", "/a/abc.json"):
        assert profit.matches(path), path


def test_pages_and_api_draw_on_one_profit_allowance(client, limited):
    limited.RATE_LIMITS = ["profit:/profit/|/api/v1/profit/:4/60", "api:/api/:1000/60"]
    page, api = "/profit/calculator/", "/api/v1/profit/boards/version"
    statuses = [client.get(url).status_code for url in (page, api, page, api, page, api)]
    # 4 tokens at 1 each: the pages and the API calls count together, so the 5th is refused.
    assert [status == 429 for status in statuses] == [False] * 4 + [True] * 2
    refused = client.get(api)
    assert refused.status_code == 429 and refused["X-RateLimit-Group"] == "profit"
    assert "on profit pages and API calls together" in refused.json()["detail"]
    assert client.get("/api/v1/regions").status_code == 200  # the rest of the API: its own


COSTS = {"request": 1, "hauling": 2, "region": 2, "list": 2, "csv": 5}
FORGE, DOMAIN, JITA_SYSTEM, JITA_4_4, AMARR_8 = 10000002, 10000043, 30000142, 60003760, 60008494


@pytest.mark.parametrize(
    ("path", "query", "accept", "cost"),
    [
        # a station-trading page or call: the plain request
        ("/profit/station-trading/", {"station_id": JITA_4_4}, "", 1),
        ("/api/v1/profit/station-trading", {"station_id": JITA_4_4}, "", 1),
        # station to station hauling: hauling
        ("/api/v1/profit/hauling", {"from": JITA_4_4, "to": AMARR_8}, "", 2),
        # region to region: hauling + 2 regions x 2
        ("/profit/hauling/", {"from": FORGE, "to": DOMAIN}, "", 2 + 2 * 2),
        # ... in list mode: + list
        ("/api/v1/profit/hauling", {"from": FORGE, "to": DOMAIN, "mode": "list"}, "", 8),
        # ... as a CSV: + csv (asked by format or by Accept)
        (
            "/api/v1/profit/hauling",
            {"from": FORGE, "to": DOMAIN, "mode": "list", "format": "csv"},
            "",
            8 + 5,
        ),
        ("/api/v1/profit/hauling", {"from": FORGE, "to": DOMAIN}, "text/csv", 6 + 5),
        # a system is not a whole region; two regions on one side both count
        (
            "/profit/hauling/",
            {"from": f"{FORGE},{DOMAIN}", "to": JITA_SYSTEM, "mode": "instant"},
            "",
            2 + 2 * 2,
        ),
        # the CSV of a station-trading list: request + csv
        ("/api/v1/profit/station-trading", {"station_id": JITA_4_4, "format": "csv"}, "", 6),
        # ten regions a side (the most a request may name): hauling + 20 x 2 + list + csv
        (
            "/api/v1/profit/hauling",
            {
                "from": ",".join(str(10000001 + i) for i in range(10)),
                "to": ",".join(str(10000011 + i) for i in range(10)),
                "mode": "list",
                "format": "csv",
            },
            "",
            2 + 40 + 2 + 5,
        ),
    ],
)
def test_a_request_costs_tokens_by_the_work_it_asks_for(settings, path, query, accept, cost):
    settings.RATE_LIMIT_COSTS = COSTS
    request = RequestFactory().get(path, query, HTTP_ACCEPT=accept)
    assert request_cost(request) == cost


def test_place_lists_past_ten_a_side_are_not_counted_further(settings):
    settings.RATE_LIMIT_COSTS = COSTS
    many = ",".join(str(FORGE) for _ in range(500))
    request = RequestFactory().get("/api/v1/profit/hauling", {"from": many, "to": many})
    assert request_cost(request) == 2 + 20 * 2  # at most 20 places count (a 400 anyway)


def test_heavy_requests_spend_the_allowance_faster(client, limited):
    limited.RATE_LIMITS = ["profit:/profit/|/api/v1/profit/:20/60"]
    limited.RATE_LIMIT_COSTS = COSTS
    # Region to region in list mode: 2 + 2 x 2 + 2 = 8 tokens. page=0 makes it a quick 400
    # after the limiter has charged it.
    heavy = f"/api/v1/profit/hauling?from={FORGE}&to={DOMAIN}&mode=list&page=0"
    first, second, third = (client.get(heavy) for _ in range(3))
    assert first.status_code == 400 and first["X-RateLimit-Cost"] == "8"
    assert first["X-RateLimit-Remaining"] == "12" and second["X-RateLimit-Remaining"] == "4"
    assert third.status_code == 429  # 16 + 8 > 20
    assert "this request costs 8" in third.json()["detail"]
    assert third["Retry-After"] == "59"
    # The same client's cheap page is refused as well: one allowance.
    assert client.get("/profit/calculator/").status_code == 429


def test_a_request_costing_more_than_the_allowance_is_charged_the_allowance(client, limited):
    limited.RATE_LIMITS = ["profit:/profit/|/api/v1/profit/:10/60"]
    limited.RATE_LIMIT_COSTS = COSTS
    csv = f"/api/v1/profit/hauling?from={FORGE}&to={DOMAIN}&mode=list&format=csv&page=0"
    once = client.get(csv)  # 13 tokens asked, 10 charged: possible once a window
    assert once.status_code != 429 and once["X-RateLimit-Cost"] == "10"
    assert once["X-RateLimit-Remaining"] == "0"
    assert client.get(csv).status_code == 429


# --- The market history budget, split per client -----------------------------------------


class FifteenSecondsPast(datetime):
    """The clock of market.history, stopped at 15 s past a minute: no minute ends mid-test."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 12, 7, 2, 30, 15, tzinfo=UTC)


def test_one_client_cannot_spend_the_history_budget_for_all(
    client, market, settings, monkeypatch, eager_celery
):
    from tests.test_market_api import HISTORY, history_calls

    monkeypatch.setattr("market.history.datetime", FifteenSecondsPast)
    settings.RATE_LIMIT_HISTORY_CALLS = 2
    types = (34, 35, 36, 37)  # Tritanium, Pyerite, Mexallon, Isogen
    for type_id in types:
        market.set_history(FORGE, type_id, HISTORY)
    greedy = {"REMOTE_ADDR": "198.51.100.1"}
    answers = [client.get(f"/api/v1/market/history/{FORGE}/{t}", **greedy) for t in types[:3]]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert refused["Retry-After"] == "45"  # the minute's 15th second: 45 s to the next minute
    assert "one address may load at most 2 histories a minute" in refused.json()["detail"]
    assert history_calls(market) == 2  # the refused one never reached ESI
    # A cached history costs no call: still answered.
    assert client.get(f"/api/v1/market/history/{FORGE}/34", **greedy).status_code == 200
    # Every other client still has its own share.
    other = {"REMOTE_ADDR": "198.51.100.2"}
    assert client.get(f"/api/v1/market/history/{FORGE}/36", **other).status_code == 200
    assert client.get(f"/api/v1/market/history/{FORGE}/37", **other).status_code == 200
    assert history_calls(market) == 4


def test_the_history_share_refuses_no_one_when_the_store_is_unreachable(settings, store_down):
    from market.history import _spend_client_share

    settings.RATE_LIMIT_HISTORY_CALLS = 0  # every call would be past the share
    _spend_client_share("198.51.100.1", datetime.now(UTC))  # no store: not refused


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

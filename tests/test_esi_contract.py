"""Contract tests against the official ESI OpenAPI document (compatibility date 2026-08-04).

The stand-in's answers must match the schemas and headers ESI declares, and
`standin.contract.validate_request` must accept what a well-behaved client sends and reject
what ESI would not take, so the ESI client's tests can rely on both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from market.generator import generate_orders
from standin import EsiStandIn
from standin.contract import (
    ContractError,
    match_operation,
    operations,
    spec,
    validate_request,
    validate_response,
)
from standin.esi import RATE_LIMITS
from tests.conftest import ensure_sde

FORGE = 10000002
ORDERS = "/markets/10000002/orders/"
ESI_HEADERS = {
    "User-Agent": "evetrade-tests/1.0 (admin@localhost)",
    "X-Compatibility-Date": "2026-08-04",
    "Accept-Language": "en",
}
SAMPLES = Path(__file__).resolve().parent.parent / "standin" / "data" / "markets_orders"


@pytest.fixture(scope="module", autouse=True)
def _sde() -> None:
    ensure_sde()


@pytest.fixture
def esi() -> Iterator[EsiStandIn]:
    with EsiStandIn(page_size=1000) as server:
        server.generate(FORGE, 1_500)
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(ESI_HEADERS)
        yield session


def fetch(http: requests.Session, esi: EsiStandIn, path: str, **kw: Any) -> requests.Response:
    """GET from the stand-in and check the answer against the spec."""
    reply = http.get(esi.base_url + path, timeout=10, **kw)
    validate_response("GET", path, reply.status_code, reply.content, reply.headers)
    return reply


# --- The document --------------------------------------------------------------------------


def test_the_shipped_spec_is_esi_s_openapi_3_1_of_2026_08_04() -> None:
    document = spec()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == "2026-08-04"
    templates = {op.template for op in operations()}
    for path in ("/markets/{region_id}/orders", "/markets/prices", "/status", "/meta/status"):
        assert path in templates


def test_stand_in_rate_limit_groups_match_the_spec() -> None:
    paths = {
        "orders": "/markets/10000002/orders",
        "status": "/status",
        "meta_status": "/meta/status",
    }
    for route, (group, tokens, window) in RATE_LIMITS.items():
        op, _ = match_operation("GET", paths[route])
        assert op.rate_limit == {"group": group, "max-tokens": tokens, "window-size": window}
    for unlimited in ("/markets/10000002/history", "/markets/prices", "/markets/10000002/types"):
        assert match_operation("GET", unlimited)[0].rate_limit is None


def test_real_and_generated_orders_match_the_orders_schema() -> None:
    headers = {
        "Content-Type": "application/json",
        "Cache-Control": "public",
        "ETag": '"x"',
        "Last-Modified": "Fri, 28 Mar 2025 15:14:18 GMT",
        "X-Pages": "1",
    }
    for path in SAMPLES.glob("*.json"):
        validate_response("GET", "/markets/10000002/orders/", 200, path.read_bytes(), headers)
    generated = generate_orders(10000043, 3_000, seed=9)
    validate_response("GET", "/markets/10000043/orders/", 200, generated, headers)
    plex = generate_orders(19000001, 500, seed=9)  # the global PLEX market
    validate_response("GET", "/markets/19000001/orders/", 200, plex, headers)


# --- The stand-in's answers ----------------------------------------------------------------


def test_every_route_answers_within_the_contract(esi: EsiStandIn, http: requests.Session) -> None:
    orders = fetch(http, esi, "/markets/10000002/orders/", params={"order_type": "all"})
    assert orders.status_code == 200
    for n in (2, 3):
        fetch(http, esi, "/markets/10000002/orders/", params={"page": n, "order_type": "sell"})
    assert fetch(http, esi, "/markets/10000002/history/", params={"type_id": 34}).ok
    assert fetch(http, esi, "/markets/prices/").ok
    assert fetch(http, esi, "/markets/10000002/types/").ok
    assert fetch(http, esi, "/markets/10000030/orders/").json() == []
    assert fetch(http, esi, "/markets/19000001/orders/").json() == []  # the global PLEX market
    plex_history = fetch(http, esi, "/markets/19000001/history/", params={"type_id": 44992})
    assert plex_history.ok and plex_history.json()
    assert fetch(http, esi, "/status/").ok
    assert fetch(http, esi, "/meta/status").ok


def test_304s_are_within_the_contract(esi: EsiStandIn, http: requests.Session) -> None:
    for path in ("/markets/10000002/orders/", "/markets/prices/", "/status/", "/meta/status"):
        first = fetch(http, esi, path)
        again = fetch(http, esi, path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304


def test_error_answers_are_esi_error_bodies(esi: EsiStandIn, http: requests.Session) -> None:
    statuses = [
        fetch(http, esi, "/markets/12345/orders/").status_code,
        fetch(http, esi, "/markets/10000002/orders/", params={"page": 99}).status_code,
        fetch(http, esi, "/markets/10000002/orders/", params={"page": 0}).status_code,
        fetch(http, esi, "/markets/10000002/history/").status_code,
        fetch(http, esi, "/markets/10000002/history/", params={"type_id": 1}).status_code,
    ]
    assert statuses == [404, 404, 400, 400, 404]
    esi.faults.fail_next = 1
    assert fetch(http, esi, "/markets/10000002/orders/").status_code == 503
    esi.faults.rate_limit_after = 0
    assert fetch(http, esi, "/status/").status_code == 429
    esi.faults.error_limit_remain = 0
    assert fetch(http, esi, "/markets/prices/").status_code == 420


def test_faulty_answers_fail_the_contract(esi: EsiStandIn, http: requests.Session) -> None:
    esi.faults.truncate_pages = {1}
    cut = http.get(esi.base_url + "/markets/10000002/orders/", timeout=10)
    with pytest.raises(ContractError, match="not JSON"):
        validate_response("GET", "/markets/10000002/orders/", 200, cut.content, cut.headers)


# --- validate_response can fail ------------------------------------------------------------


def _orders_headers(**changes: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json; charset=UTF-8",
        "Cache-Control": "public",
        "ETag": '"abc"',
        "Last-Modified": "Sun, 22 Nov 2026 03:05:27 GMT",
        "Expires": "Sun, 22 Nov 2026 03:10:27 GMT",
        "X-Pages": "1",
    }
    headers.update(changes)
    return {k: v for k, v in headers.items() if v}


def test_validate_response_rejects_what_esi_would_not_send() -> None:
    path = "/markets/10000002/orders/"
    order = json.loads(next(SAMPLES.glob("*.json")).read_text())[0]
    validate_response("GET", path, 200, [order], _orders_headers())
    bad_cases: list[tuple[int, Any, dict[str, str], str]] = [
        (200, [{**order, "price": "cheap"}], _orders_headers(), "is not of type 'number'"),
        (200, [{**order, "range": "galaxy"}], _orders_headers(), "is not one of"),
        (200, [{k: v for k, v in order.items() if k != "order_id"}], _orders_headers(), "order_id"),
        (200, [{**order, "issued": "yesterday"}], _orders_headers(), "date-time"),
        (200, [order], _orders_headers(ETag=""), "ETag is missing"),
        (200, [order], _orders_headers(**{"X-Pages": "many"}), "X-Pages"),
        (200, [order], _orders_headers(Expires="tomorrow"), "RFC 7231"),
        (200, [order], _orders_headers(**{"Content-Type": "text/html"}), "Content-Type"),
        (304, b"[]", _orders_headers(), "no body"),
        (404, b'{"message": "nope"}', _orders_headers(), "'error' is a required property"),
        (200, b"[{", _orders_headers(), "not JSON"),
    ]
    for status, body, headers, expected in bad_cases:
        with pytest.raises(ContractError, match=expected):
            validate_response("GET", path, status, body, headers)
    limited = _orders_headers(**{"X-Ratelimit-Group": "status", "X-Ratelimit-Limit": "1/15m"})
    with pytest.raises(ContractError, match="X-Ratelimit-Group"):
        validate_response("GET", path, 200, [order], limited)


# --- validate_request ----------------------------------------------------------------------


def test_requests_the_way_a_client_sends_them_pass(esi: EsiStandIn, http: requests.Session) -> None:
    """Drive ESI-like requests through `requests` and validate what reached the server."""
    legacy: dict[str, str | int] = {"order_type": "buy", "type_id": 34, "datasource": "tranquility"}
    sent: list[tuple[str, dict[str, str | int]]] = [
        ("/markets/10000002/orders/", {"order_type": "all", "page": 2}),
        ("/latest/markets/10000002/orders", legacy),
        ("/markets/10000002/history/", {"type_id": 34}),
        ("/markets/prices/", {}),
        ("/markets/10000002/types/", {"page": 1}),
        ("/status/", {}),
    ]  # fmt: skip
    for path, params in sent:
        http.get(esi.base_url + path, params=params, timeout=10)
    received = esi.requests[-len(sent) :]
    templates = [
        validate_request(r.method, r.path, r.query, dict(r.headers.items())) for r in received
    ]
    assert templates == [
        "/markets/{region_id}/orders",
        "/markets/{region_id}/orders",
        "/markets/{region_id}/history",
        "/markets/prices",
        "/markets/{region_id}/types",
        "/status",
    ]
    prepared = requests.Request(
        "GET", esi.base_url + "/markets/10000043/orders/", params={"order_type": "sell"}
    ).prepare()
    assert prepared.url is not None
    assert validate_request("GET", prepared.url) == "/markets/{region_id}/orders"


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("GET", ORDERS, {"order_type": "bogus"}, None, "is not one of"),
        ("GET", ORDERS, {"order_type": "all", "page": 0}, None, "minimum"),
        ("GET", ORDERS, {"order_type": "all", "page": "x"}, None, "integer"),
        ("GET", ORDERS, {"order_type": "all", "pages": 2}, None, "declared"),
        ("GET", ORDERS, {"page": 1}, None, "'order_type' is missing"),
        ("GET", ORDERS, {"order_type": "all", "datasource": "x"}, None, "one of"),
        ("GET", "/markets/10000002/history/", {}, None, "'type_id' is missing"),
        ("GET", "/markets/10000002/history/", {"type_id": ["34", "35"]}, None, "2 times"),
        ("GET", "/markets/The Forge/orders/", {"order_type": "all"}, None, "not an integer"),
        ("GET", "/markets/10000002/prices/", {}, None, "no path"),
        ("DELETE", "/markets/prices/", {}, None, "method"),
        ("GET", "/markets/prices/", {}, {"User-Agent": "x"}, "X-Compatibility-Date is missing"),
        ("GET", "/markets/prices/", {}, {"X-Compatibility-Date": "2025-01-01"}, "one of"),
        ("GET", "/markets/prices/", {}, {**ESI_HEADERS, "Accept-Language": "xx"}, "one of"),
    ],
)  # fmt: skip
def test_validate_request_rejects_what_esi_would_not_take(
    method: str,
    path: str,
    query: dict[str, Any],
    headers: dict[str, str] | None,
    expected: str,
) -> None:
    with pytest.raises(ContractError, match=expected):
        validate_request(method, path, query, headers)


def test_validate_request_reads_a_raw_query_string() -> None:
    assert validate_request("GET", "/markets/10000002/orders/?order_type=all&page=3") == (
        "/markets/{region_id}/orders"
    )
    with pytest.raises(ContractError, match="minimum"):
        validate_request(
            "GET", "https://esi.evetech.net/markets/10000002/orders?order_type=all&page=0"
        )
    assert validate_request("GET", "/characters/90000001/skills", {}) == (
        "/characters/{character_id}/skills"
    )

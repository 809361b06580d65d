"""Appraisals (issue 17, docs/appraisal.md): prices at a market, what a list nets there,
stored and shared, the API and evepraisal's API; figures worked out by hand from the rules.

The book (The Forge): Tritanium bids at Jita 4-4 of 5.00 x 1,000 and, placed in Perimeter
with range "region", 4.90 x 10,000 (a seller at Jita fills it); asks at Jita 4-4 of 5.50 x
500 and 5.60 x 5,000; a Perimeter ask of 5.00 x 100 (not at Jita: outside a Jita appraisal).
Pyerite bids at Jita 4-4 of 10.00 x 1,000 (at least 600 a sale) and 9.00 x 1,000.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.urls import reverse

from appraisal.models import Appraisal
from appraisal.prices import TOP_SHARE, Groups, group_stats
from market import publish
from market.snapshot import Snapshot
from profit import selectors
from profit.fees import Skills, broker_fee_rate, sales_tax_rate, schedule_on
from tests.profit_books import (
    DOMAIN,
    FORGE,
    JITA_44,
    PERIMETER_STORAGE,
    PYERITE,
    TRITANIUM,
    columns,
    fresh_meta,
    order,
)

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

MEXALLON, ISOGEN = 36, 37
# The seeded fee schedule (profit/migrations), as the game has them since 2024: sales tax
# 7.5 % with no Accounting, broker fee 3 % at an NPC station with no skill or standing, at
# least 100 ISK an order.
TAX, NPC_BROKER, MIN_BROKER = 0.075, 0.03, 100.0

API = "/api/v1/appraisals"


def forge_orders() -> list[dict[str, Any]]:
    return [
        order(TRITANIUM, 5.00, 1_000, buy=True, location=JITA_44),
        order(TRITANIUM, 4.90, 10_000, buy=True, location=PERIMETER_STORAGE, reach="region"),
        order(TRITANIUM, 5.50, 500, location=JITA_44),
        order(TRITANIUM, 5.60, 5_000, location=JITA_44),
        order(TRITANIUM, 5.00, 100, location=PERIMETER_STORAGE),
        order(PYERITE, 10.00, 1_000, buy=True, location=JITA_44, min_volume=600),
        order(PYERITE, 9.00, 1_000, buy=True, location=JITA_44),
        order(MEXALLON, 0.01, 50, location=JITA_44),  # the grid's lowest price
        order(ISOGEN, 20.00, 10, location=JITA_44),  # one step above the best bid
        order(ISOGEN, 19.99, 10, buy=True, location=JITA_44),
    ]


@pytest.fixture
def forge(market) -> Iterator[None]:
    publish.publish(Snapshot.build(fresh_meta(FORGE, 5), columns(forge_orders())))
    domain = [order(TRITANIUM, 6.00, 300, buy=True, location=60008494)]
    publish.publish(Snapshot.build(fresh_meta(DOMAIN, 1), columns(domain)))
    selectors.computed.clear()
    yield


def post_text(client, text: str, **params: Any):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"{API}?{query}", data=text, content_type="text/plain")


# --- The figures of one side of a book ------------------------------------------------------


def side_stats(prices: Any, volumes: Any, *, is_buy: bool) -> dict[str, Any]:
    """The reference: one side of a book in evepraisal's figures, order by order (all 0 for
    a side with no order): what `group_stats` computes for many types at once."""
    p = np.asarray(prices, dtype=np.float64)
    v = np.asarray(volumes, dtype=np.int64)
    if not len(p):
        return dict.fromkeys(
            ("min", "max", "avg", "median", "percentile", "stddev", "volume", "order_count"), 0
        )
    order = np.argsort(-p if is_buy else p, kind="stable")  # best first
    best_p, best_v = p[order], v[order]
    wanted = max(1, math.ceil(TOP_SHARE * int(best_v.sum())))
    before = np.cumsum(best_v) - best_v
    taken = np.clip(wanted - before, 0, best_v)
    return {
        "min": float(p.min()),
        "max": float(p.max()),
        "avg": float(p.mean()),
        "median": float(np.median(p)),
        "percentile": float((best_p * taken).sum() / taken.sum()),
        "stddev": float(p.std()),
        "volume": int(v.sum()),
        "order_count": len(p),
    }


def test_a_side_in_evepraisal_s_figures():
    # Asks: a bait of 1 unit at 5, then 99 at 6 and 900 at 7; 5 % of 1,000 units is 50:
    # 1 at 5 and 49 at 6, so the top-5 % average is (5 + 49 x 6) / 50 = 5.98.
    stats = side_stats([7.0, 5.0, 6.0], [900, 1, 99], is_buy=False)
    assert stats == {
        "min": 5.0,
        "max": 7.0,
        "avg": 6.0,
        "median": 6.0,
        "percentile": pytest.approx(5.98),
        "stddev": pytest.approx(math.sqrt(2 / 3)),
        "volume": 1000,
        "order_count": 3,
    }
    # Bids: the dearest first; 5 % of 1,150 units is 57.5, so 58 units, all at 10.
    assert side_stats([8.0, 10.0, 9.0], [1000, 100, 50], is_buy=True)["percentile"] == 10.0
    assert side_stats([], [], is_buy=True)["order_count"] == 0


def test_every_type_at_once_matches_one_side_at_a_time():
    """The grouped figures of many types (appraisal.prices.group_stats) against
    `side_stats` of each type alone, on random books with empty types among them."""
    rng = np.random.default_rng(3)
    types = np.array([10, 20, 30, 40, 50], dtype=np.int64)  # 30 and 50 have no order
    counts = {10: 7, 20: 1, 40: 12}
    for is_buy in (True, False):
        prices, volumes, owners = [], [], []
        for type_id in types.tolist():
            p = rng.uniform(1, 100, counts.get(type_id, 0)).round(2)
            p = np.sort(p)[::-1] if is_buy else np.sort(p)  # best first
            prices += p.tolist()
            volumes += rng.integers(1, 5000, len(p)).tolist()
            owners += [type_id] * len(p)
        owner = np.array(owners, dtype=np.int64)
        n = len(prices)
        groups = Groups(
            types=types,
            start=np.searchsorted(owner, types, "left"),
            end=np.searchsorted(owner, types, "right"),
            price=np.array(prices),
            volume=np.array(volumes, dtype=np.int64),
            min_volume=np.ones(n, dtype=np.int64),
            location=np.zeros(n, dtype=np.int64),
        )
        stats = group_stats(groups, ascending=not is_buy)
        for i, type_id in enumerate(types.tolist()):
            mine = owner == type_id
            expected = side_stats(np.array(prices)[mine], np.array(volumes)[mine], is_buy=is_buy)
            got = {name: values[i] for name, values in stats.items()}
            assert got == pytest.approx(expected), (is_buy, type_id)


# --- The API ----------------------------------------------------------------------------------


def test_a_paste_is_priced_at_jita_and_what_it_nets(client, forge):
    response = post_text(client, "Tritanium 1500\nnot an item at all zzz", persist="false")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["code"] is None and body["market"]["place"]["id"] == JITA_44
    (item,) = body["items"]
    assert (item["type_id"], item["quantity"]) == (TRITANIUM, 1500)
    prices = item["prices"]
    # The Perimeter bid of range "region" reaches Jita; the Perimeter ask does not count.
    assert (prices["best_bid"], prices["best_ask"]) == (5.00, 5.50)
    assert prices["buy"]["order_count"] == 2 and prices["sell"]["order_count"] == 2
    assert prices["split"] == 5.25
    assert item["values"] == {"buy": 7500.0, "sell": 8250.0, "split": 7875.0}
    tax = TAX
    assert sales_tax_rate(Skills()) == TAX  # the schedule the answer used
    # Sold now: 1,000 into the 5.00 bid, 500 into the 4.90 bid.
    gross = 1000 * 5.00 + 500 * 4.90
    assert item["net"]["sell_now"]["gross"] == gross
    assert item["net"]["sell_now"]["net"] == pytest.approx(gross * (1 - tax), abs=0.01)
    # Listed one step of the grid under 5.50: 5.49, with Jita 4-4's broker fee.
    listed = item["net"]["list"]
    assert broker_fee_rate(JITA_44, Skills(), schedule_on()) == NPC_BROKER
    assert listed["price"] == 5.49 and listed["broker_fee_rate"] == NPC_BROKER
    value = 1500 * 5.49
    fee = max(value * NPC_BROKER, MIN_BROKER)
    assert listed["net"] == pytest.approx(value - fee - value * tax, abs=0.01)
    assert body["unparsed"] == [{"line": 2, "text": "not an item at all zzz"}]
    totals = body["totals"]
    assert (totals["buy"], totals["sell"], totals["percentage"]) == (7500.0, 8250.0, 100.0)
    assert totals["packaged_volume"] == pytest.approx(1500 * 0.01)


def test_a_bid_wanting_more_than_is_left_is_skipped(client, forge):
    """Pyerite: the 10.00 bid buys 600 at least; 500 units go to the 9.00 bid instead, and
    1,200 fill the 10.00 bid (1,000) and 200 of the 9.00 one."""
    body = post_text(client, "Pyerite 500\nPyerite x700", persist="false").json()
    (item,) = body["items"]
    assert item["quantity"] == 1200
    assert item["net"]["sell_now"]["gross"] == 1000 * 10.00 + 200 * 9.00
    alone = post_text(client, "Pyerite 500", persist="false").json()["items"][0]
    assert alone["net"]["sell_now"]["gross"] == 500 * 9.00


def test_a_buyback_percentage_applies_to_every_total(client, forge):
    body = post_text(client, "Tritanium 1500", persist="false", percentage="90").json()
    totals = body["totals"]
    assert totals["buy"] == pytest.approx(0.9 * 7500)
    assert totals["sell"] == pytest.approx(0.9 * 8250)
    assert totals["net_sell_now"] == pytest.approx(
        0.9 * body["items"][0]["net"]["sell_now"]["net"], abs=0.01
    )


def test_json_bodies_and_other_markets(client, forge):
    region = client.post(
        API,
        {"text": "Tritanium x 100", "market": str(FORGE), "persist": False},
        content_type="application/json",
    ).json()
    # The whole region: the Perimeter ask of 5.00 is the best ask there.
    assert region["items"][0]["prices"]["best_ask"] == 5.00
    everywhere = client.post(
        API,
        {"text": "Tritanium 100", "market": "universe", "persist": False},
        content_type="application/json",
    ).json()
    assert everywhere["market"]["kind"] == "universe"
    assert everywhere["items"][0]["prices"]["best_bid"] == 6.00  # Domain's
    assert {s["region_id"] for s in everywhere["snapshots"]} == {FORGE, DOMAIN}


def test_a_stored_appraisal_is_shared_by_its_code(client, forge):
    created = post_text(client, "Tritanium 1500")
    assert created.status_code == 201
    body = created.json()
    code = body["code"]
    assert created["Location"] == body["permalink"] == f"/appraisals/{code}"
    again = client.get(f"{API}/{code}")
    assert again.status_code == 200 and again.json() == body
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    page = client.get(f"/appraisals/{code}")
    assert page.status_code == 200 and "Tritanium" in page.content.decode()


def test_a_private_appraisal_needs_its_token_and_one_expires(client, forge):
    body = post_text(client, "Tritanium 10", private="true", expire_days="2").json()
    code = body["code"]
    token = body["permalink"].split("token=")[1]
    assert client.get(f"{API}/{code}").status_code == 404
    assert client.get(f"{API}/{code}?token=wrong").status_code == 404
    assert client.get(f"{API}/{code}?token={token}").status_code == 200
    Appraisal.objects.filter(code=code).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    gone = client.get(f"{API}/{code}?token={token}")
    assert gone.status_code == 410 and "expired" in gone.json()["detail"]


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"market": "atlantis"}, 400, "Unknown market"),
        ({"market": "10000060"}, 404, "not tracked"),
        ({"percentage": "-5"}, 400, "percentage"),
        ({"expire_days": "9999"}, 400, "expire_days"),
    ],
)
def test_bad_requests_say_why(client, forge, params, status, says):
    response = post_text(client, "Tritanium 1", **params)
    assert response.status_code == status
    assert says in response.content.decode()


def test_a_paste_too_long_is_refused(client, forge, settings):
    settings.APPRAISAL_MAX_LINES = 3
    response = post_text(client, "Tritanium 1\n" * 4)
    assert response.status_code == 400 and "APPRAISAL_MAX_LINES" in response.json()["detail"]


# --- evepraisal's API --------------------------------------------------------------------------


def test_appraisal_json_answers_as_evepraisal_did(client, forge):
    response = client.post(
        "/appraisal.json", {"raw_textarea": "Tritanium 1500", "market": "jita", "persist": "no"}
    )
    assert response.status_code == 200, response.content
    appraisal = response.json()["appraisal"]
    assert "id" not in appraisal  # persist=no
    assert appraisal["market_name"] == "jita"
    (item,) = appraisal["items"]
    assert (item["typeID"], item["typeName"], item["quantity"]) == (TRITANIUM, "Tritanium", 1500)
    assert item["prices"]["buy"]["max"] == 5.00 and item["prices"]["sell"]["min"] == 5.50
    assert set(item["prices"]["all"]) == {
        "min",
        "max",
        "avg",
        "median",
        "percentile",
        "stddev",
        "volume",
        "order_count",
    }
    assert appraisal["totals"] == {"buy": 7500.0, "sell": 8250.0, "volume": pytest.approx(15.0)}
    # Query parameters work too, as some clients send them; price_percentage applies.
    query = client.post(
        "/appraisal.json?raw_textarea=Tritanium%20100&market=jita&price_percentage=50"
    )
    stored = query.json()["appraisal"]
    assert stored["totals"]["buy"] == pytest.approx(0.5 * 100 * 5.00)
    assert client.get(f"/a/{stored['id']}.json").json()["appraisal"]["id"] == stored["id"]


def test_structured_json_takes_names_and_ids_without_a_content_type(client, forge):
    import json

    body = json.dumps(
        {
            "market_name": "jita",
            "items": [
                {"name": "Tritanium"},
                {"type_id": 34, "quantity": 10},
                {"name": "zzz nothing"},
            ],
        }
    )
    response = client.post("/appraisal/structured.json?persist=no", data=body, content_type="")
    assert response.status_code == 200, response.content
    appraisal = response.json()["appraisal"]
    (item,) = appraisal["items"]
    assert (item["typeID"], item["quantity"]) == (TRITANIUM, 11)
    assert list(appraisal["unparsed"]) == ["3"]
    bad = client.post(
        "/appraisal/structured.json", data="{not json", content_type="application/json"
    )
    assert bad.status_code == 400 and "error" in bad.json()


# --- The page ---------------------------------------------------------------------------------


def test_the_page_appraises_and_redirects_to_the_permalink(client, forge):
    assert client.get("/appraisals/").status_code == 200
    response = client.post(
        "/appraisals/",
        {"text": "Tritanium 1500", "market": "jita", "percentage": "100", "persist": "on"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-type="34"' in page and "data-totals" in page
    empty = client.post("/appraisals/", {"text": "  ", "market": "jita"})
    assert empty.status_code == 400 and "Paste a list" in empty.content.decode()
    assert reverse("appraisals") == "/appraisals/"


def test_appraisals_spend_the_profit_allowance(client, forge, settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMITS = ["profit:/profit/|/appraisal|/api/v1/appraisals|/a/:7/60"]
    settings.STORE_KEY_PREFIX += "-limits"
    # 3 tokens an appraisal: two fit in 7, the third is refused with a wait.
    assert post_text(client, "Tritanium 1", persist="false").status_code == 200
    assert post_text(client, "Tritanium 1", persist="false").status_code == 200
    refused = post_text(client, "Tritanium 1", persist="false")
    assert refused.status_code == 429 and "Retry-After" in refused


def test_lines_count_as_a_text_box_shows_them(client, forge, settings):
    settings.APPRAISAL_MAX_LINES = 3
    # Old Mac line ends (a bare CR) are line breaks too: four lines, one too many.
    response = post_text(client, "Tritanium 1\rTritanium 2\r\nTritanium 3\nTritanium 4")
    assert response.status_code == 400


def test_no_listing_where_the_grid_or_the_bids_leave_no_room(client, forge):
    body = post_text(client, "Mexallon 10\nIsogen 5", persist="false").json()
    items = {item["type_id"]: item for item in body["items"]}
    # Mexallon's best ask is 0.01: nothing is below it on the price grid.
    assert items[MEXALLON]["net"]["list"] is None
    assert "lowest price" in items[MEXALLON]["net"]["list_note"]
    # Isogen: 19.99 is one step under 20.00 and is the best bid: it would sell at once.
    assert items[ISOGEN]["net"]["list"] is None
    assert "at once" in items[ISOGEN]["net"]["list_note"]
    assert body["totals"]["net_listed"] == 0 and body["totals"]["unlisted_types"] == 2
    stored = post_text(client, "Mexallon 10")  # stored: every figure is finite JSON
    assert stored.status_code == 201


def test_numbers_past_any_count_are_refused_not_crashed(client, forge):
    import json

    too_many = "\n".join(["Pyerite 9007199254740991"] * 3)
    response = post_text(client, too_many)
    assert response.status_code == 400 and "Pyerite" in response.json()["detail"]
    body = json.dumps({"items": [{"type_id": 35, "quantity": 2**63 - 1}, {"type_id": 2**64 - 1}]})
    structured = client.post("/appraisal/structured.json?persist=no", data=body, content_type="")
    assert structured.status_code == 200
    assert structured.json()["appraisal"]["items"] == []
    assert sorted(structured.json()["appraisal"]["unparsed"]) == ["1", "2"]


def test_nul_characters_and_odd_codes_are_no_error(client, forge):
    assert post_text(client, "Tritanium\x00 10").status_code == 201
    form = client.post("/appraisal.json", {"raw_textarea": "Trit\x00anium 5"})
    assert form.status_code == 200
    for path in ("/a/%00abc.json", "/appraisals/%00abc", f"{API}/%00abc", f"{API}/" + "x" * 40):
        assert client.get(path).status_code == 404, path


def test_a_private_appraisal_is_hidden_on_every_route(client, forge):
    body = post_text(client, "Tritanium 10", private="true").json()
    code, token = body["code"], body["permalink"].split("token=")[1]
    for path in (f"/a/{code}.json", f"/appraisals/{code}"):
        assert client.get(path).status_code == 404, path
        assert client.get(f"{path}?token={token}").status_code == 200, path


def test_a_public_appraisal_names_no_character(forge):
    from appraisal import service

    read = service.read_text("Tritanium 10")
    source = "character: Bruce Wayne with overrides: accounting"
    public = service.appraise(read, service.Options(), Skills(), source)
    assert public["skills"]["source"] == "character with overrides: accounting"
    private = service.appraise(read, service.Options(private=True), Skills(), source)
    assert private["skills"]["source"] == source  # only its link shows it


def test_answers_match_the_documented_schema(client, forge):
    from tests.schema_check import validator

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paste = "Tritanium 1500\nMexallon 3\nzzz not a thing"
    loose = post_text(client, paste, persist="false")
    validator(schema, "/api/v1/appraisals", "post", "200").validate(loose.json())
    stored = post_text(client, paste)
    validator(schema, "/api/v1/appraisals", "post", "201").validate(stored.json())
    again = client.get(f"{API}/{stored.json()['code']}")
    validator(schema, "/api/v1/appraisals/{code}", "get", "200").validate(again.json())

"""The profit API: station trading, hauling and the trade calculator over published snapshots.

Contract tests: every parameter reaches the engine (the answers equal the engines' own
results on the same snapshot), pagination and CSV, the snapshot, parameters, skills and rates
blocks, permalinks that replay a replaced snapshot and 410 once it expired, the 400/404/503
errors, the OpenAPI schema, and that no request ever reaches ESI.

The books are the generator's (realistic hubs, stations and structures), published as
snapshots in an isolated store (`market` fixture: The Forge and Domain tracked).
"""

from __future__ import annotations

import csv
import functools
import io
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from market import publish
from market.generator import generate_orders
from market.snapshot import Snapshot, SnapshotMeta, columns_from_pages
from profit import fees, selectors
from profit import hauling as hauling_module
from profit import station as station_module
from profit.calculator import calculate
from profit.fees import Skills
from profit.hauling import HaulingParams, hauling
from profit.locations import resolve_place
from profit.station import StationFilters, station_trading
from profit.volumes import _save as save_daily_volumes
from profit.volumes import forget_read
from store import get_store
from tests.market_env import DOMAIN, FORGE
from tests.profit_books import fresh_meta
from tests.schema_check import validator

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

JITA, AMARR = 60003760, 60008494
JITA_SYSTEM, AMARR_SYSTEM = 30000142, 30002187
PERIMETER_STATION = 60000358  # another station of The Forge
HEK = 60005686  # Metropolis: a region these tests do not track
DERELIK = 10000001
TRITANIUM = 34
STATION_URL = "/api/v1/profit/station-trading"
HAULING_URL = "/api/v1/profit/hauling"
CALCULATE_URL = "/api/v1/profit/calculate"


@functools.cache
def _book(region_id: int, n_orders: int, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    orders = generate_orders(region_id, n_orders, seed=seed)
    built = Snapshot.build(
        SnapshotMeta(region_id, "", "esi", None, None, "", 1, len(orders)),
        columns_from_pages([(1, orders)]),
    )
    return built.book, built.stations


def build(region_id: int, n_orders: int, seed: int = 0) -> Snapshot:
    """A generated book as a snapshot with a new generation (books are built once a run)."""
    book, stations = _book(region_id, n_orders, seed)
    meta = fresh_meta(region_id, len(book["order_id"]))
    return Snapshot(meta, book, stations)


@pytest.fixture
def books(market) -> Iterator[dict[int, Snapshot]]:
    """Published snapshots of The Forge and Domain."""
    snapshots = {FORGE: build(FORGE, 12_000), DOMAIN: build(DOMAIN, 4_000)}
    for snapshot in snapshots.values():
        publish.publish(snapshot)
    selectors.computed.clear()
    forget_read()
    yield snapshots
    selectors.computed.clear()
    forget_read()


def get(client, url: str, **params: Any):
    return client.get(url, params, HTTP_ACCEPT="application/json")


def all_rows(client, url: str, **params: Any) -> list[dict[str, Any]]:
    body = get(client, url, page_size=1000, **params).json()
    assert body["pages"] == 1
    return list(body["results"])


def jsonable(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Engine rows (made as they are read) as the API's JSON has them (NaN and numpy scalars
    normalised)."""
    import json

    return list(json.loads(json.dumps(list(rows), default=float)))


# --- Station trading -----------------------------------------------------------------------


def test_station_trading_answers_the_engines_rows(client, books):
    body = get(client, STATION_URL, station_id=JITA, page_size=1000).json()
    scan = station_trading(books[FORGE], JITA, Skills(), StationFilters())
    assert body["results"] == jsonable(scan.rows)
    assert body["total"] == body["count"] == scan.total > 5
    assert body["station"] == {
        "id": JITA,
        "kind": "station",
        "name": "Jita IV - Moon 4 - Caldari Navy Assembly Plant",
        "region_id": FORGE,
        "region_name": "The Forge",
        "system_id": JITA_SYSTEM,
        "system_name": "Jita",
        "security": 0.9,  # Jita's true security 0.9459 as the game shows it
        "docking_note": None,  # an NPC station: anyone docks
    }
    assert body["parameters"]["sort"] == "-daily_profit"
    per_unit = get(client, STATION_URL, station_id=JITA, sort="-profit_per_unit").json()
    profits = [row["profit_per_unit"] for row in per_unit["results"]]
    assert profits == sorted(profits, reverse=True)


@pytest.mark.parametrize(
    ("params", "filters"),
    [
        ({"min_profit": 50_000}, StationFilters(min_profit=50_000)),
        ({"min_margin": 0.1}, StationFilters(min_margin=0.1)),
        ({"max_margin": 0.05}, StationFilters(max_margin=0.05)),
        (
            {"min_margin": 0.02, "max_margin": 0.3},
            StationFilters(min_margin=0.02, max_margin=0.3),
        ),
        ({"max_price": 1_000_000}, StationFilters(max_price=1_000_000)),
        ({"category_id": 6}, StationFilters(category_id=6)),  # ships
        ({"market_group_id": 4}, StationFilters(market_group_id=4)),  # Ships, with sub-groups
        ({"sort": "margin"}, StationFilters(sort="margin")),
        ({"sort": "-roi"}, StationFilters(sort="-roi")),
        ({"sort": "type_name"}, StationFilters(sort="type_name")),
        ({"limit": 5}, StationFilters(limit=5)),
    ],
)
def test_every_station_filter_reaches_the_engine(client, books, params, filters):
    body = get(client, STATION_URL, station_id=JITA, page_size=1000, **params).json()
    scan = station_trading(books[FORGE], JITA, Skills(), filters)
    assert body["results"] == jsonable(scan.rows)
    assert body["total"] == scan.total
    for name, value in params.items():
        assert body["parameters"][name] == value


def test_min_daily_volume_uses_the_stored_daily_volumes(client, books):
    scan = station_trading(books[FORGE], JITA, Skills(), StationFilters())
    type_ids = [row["type_id"] for row in scan.rows[:6]]
    today = int(np.datetime64("today", "D").astype(int))
    region = {t: float(100 * (i + 1)) for i, t in enumerate(type_ids)}
    nan = float("nan")
    save_daily_volumes(FORGE, {t: (v, today, nan, nan) for t, v in region.items()}, get_store())
    # The station's estimate: the region's volume x Jita's share of the type's book.
    expected = {t: v * station_share_reference(books[FORGE], JITA, t) for t, v in region.items()}
    rows = all_rows(client, STATION_URL, station_id=JITA, min_daily_volume=350, hide="none")
    known = [row for row in rows if row["daily_volume"] is not None]
    assert {row["type_id"] for row in known} == {t for t, v in expected.items() if v >= 350}
    # the types the fill has not reached stay, marked, after the known ones
    unknown = rows[len(known) :]
    assert unknown and all(row["flags"] == ["volume_unknown"] for row in unknown)
    assert {row["type_id"] for row in unknown}.isdisjoint(region)
    for row in known:
        assert row["daily_volume"] == pytest.approx(expected[row["type_id"]], abs=0.05)


def station_share_reference(snapshot, station_id, type_id):
    """The rule of docs/profit-engine.md, order by order: the station's share of the
    region's sell orders for the type, or 1 from a half on."""
    book = snapshot.orders_of(type_id)
    sells = ~book["is_buy_order"]
    share = int((sells & (book["location_id"] == station_id)).sum()) / int(sells.sum())
    return 1.0 if share >= 0.5 else share


def test_skills_and_standings_set_the_fees(client, books):
    skills = Skills(
        accounting=5,
        broker_relations=4,
        advanced_broker_relations=3,
        faction_standing=6.5,
        corp_standing=-2.0,
    )
    body = get(
        client,
        STATION_URL,
        station_id=JITA,
        page_size=1000,
        accounting=5,
        broker_relations=4,
        advanced_broker_relations=3,
        faction_standing=6.5,
        corp_standing=-2,
    ).json()
    scan = station_trading(books[FORGE], JITA, skills, StationFilters())
    assert body["results"] == jsonable(scan.rows)
    assert body["skills"] == {
        "source": "parameters",
        "accounting": 5,
        "broker_relations": 4,
        "advanced_broker_relations": 3,
        "faction_standing": 6.5,
        "corp_standing": -2.0,
        "character_standings": False,
    }
    assert body["rates"]["sales_tax"] == pytest.approx(fees.sales_tax_rate(skills))
    (location,) = body["rates"]["locations"]
    assert location["location_id"] == JITA
    assert location["broker_fee"] == pytest.approx(fees.broker_fee_rate(JITA, skills))
    defaults = get(client, STATION_URL, station_id=JITA).json()
    assert defaults["skills"]["source"] == "defaults"
    assert defaults["rates"]["sales_tax"] == pytest.approx(0.075)
    # Lower fees: every trade earns at least as much per unit.
    before = {
        r["type_id"]: r["profit_per_unit"] for r in all_rows(client, STATION_URL, station_id=JITA)
    }
    for row in body["results"]:
        if row["type_id"] in before:
            assert row["profit_per_unit"] >= before[row["type_id"]]


def test_one_skill_given_is_parameters_the_rest_zero(client, books):
    body = get(client, STATION_URL, station_id=JITA, accounting=3).json()
    assert body["skills"]["source"] == "parameters"
    assert body["skills"]["accounting"] == 3
    assert body["skills"]["broker_relations"] == 0


def test_pages_slice_the_rows_and_link_to_each_other(client, books):
    rows = all_rows(client, STATION_URL, station_id=JITA)
    first = get(client, STATION_URL, station_id=JITA, page_size=7).json()
    second = get(client, STATION_URL, station_id=JITA, page_size=7, page=2).json()
    assert first["results"] == rows[:7]
    assert second["results"] == rows[7:14]
    assert first["pages"] == second["pages"] == -(-len(rows) // 7)
    assert first["count"] == len(rows)
    assert first["previous"] is None
    assert "page=2" in first["next"] and "page_size=7" in first["next"]
    assert "page=1" in second["previous"]
    last = get(client, STATION_URL, station_id=JITA, page_size=7, page=first["pages"]).json()
    assert last["next"] is None
    assert last["results"] == rows[7 * (first["pages"] - 1) :]
    response = get(client, STATION_URL, station_id=JITA, page_size=7, page=first["pages"] + 1)
    assert response.status_code == 404
    assert "Page" in response.json()["detail"]
    assert get(client, STATION_URL, station_id=JITA, page_size=7)["X-Total-Count"] == str(len(rows))


def test_the_default_page_is_100_rows(client, books):
    body = get(client, STATION_URL, station_id=JITA, min_profit=0).json()
    assert body["page"] == 1
    assert body["page_size"] == 100


def parse_csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_csv_is_every_row_and_only_the_rows(client, books):
    rows = all_rows(client, STATION_URL, station_id=JITA)
    response = client.get(STATION_URL, {"station_id": JITA, "format": "csv"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    table = parse_csv(response)
    assert len(table) == len(rows) > 3  # every row, whatever a JSON page holds
    assert list(table[0]) == list(rows[0])
    for line, row in zip(table, rows, strict=True):
        assert int(line["type_id"]) == row["type_id"]
        assert line["type_name"] == row["type_name"]
        assert float(line["profit_per_unit"]) == row["profit_per_unit"]
        assert line["daily_volume"] == (
            "" if row["daily_volume"] is None else str(row["daily_volume"])
        )


def test_csv_with_a_page_is_that_page(client, books):
    rows = all_rows(client, STATION_URL, station_id=JITA)
    response = client.get(
        STATION_URL, {"station_id": JITA, "format": "csv", "page": 2, "page_size": 5}
    )
    assert [int(line["type_id"]) for line in parse_csv(response)] == [
        r["type_id"] for r in rows[5:10]
    ]


def test_csv_errors_are_json(client, books):
    response = client.get(STATION_URL, {"station_id": JITA, "format": "csv", "accounting": 9})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"]["accounting"]


def test_every_answer_names_its_snapshot_parameters_and_rates(client, books):
    body = get(client, STATION_URL, station_id=JITA, min_margin=0.05).json()
    (block,) = body["snapshots"]
    meta = books[FORGE].meta
    assert block["region_id"] == FORGE
    assert block["generation"] == meta.generation
    assert block["source"] == "esi"
    assert block["esi_last_modified"] == meta.esi_last_modified
    assert 0 <= block["age_seconds"] < 60
    assert block["stale"] is False
    assert body["parameters"] == {
        "station_id": JITA,
        "min_profit": 0.0,
        "min_margin": 0.05,
        "max_margin": None,
        "min_daily_volume": None,
        "max_price": None,
        "market_group_id": None,
        "category_id": None,
        "sort": "-daily_profit",
        "limit": None,
        "hide": "thin,off_history",
    }
    assert body["rates"]["schedule"]["sales_tax"] == 0.075
    assert "sales_tax_formula" in body["rates"]


def test_a_demo_snapshot_says_so(client, market):
    snapshot = build(FORGE, 3_000)
    snapshot.meta = SnapshotMeta(**{**snapshot.meta.to_json(), "source": "demo"})
    publish.publish(snapshot)
    (block,) = get(client, STATION_URL, station_id=JITA).json()["snapshots"]
    assert block["source"] == "demo"
    assert block["stale"] is True


# --- Permalinks ----------------------------------------------------------------------------


def test_a_permalink_replays_the_snapshot_until_it_expires(client, books, settings):
    first = get(client, STATION_URL, station_id=JITA, page_size=1000).json()
    permalink = first["permalink"]
    assert f"snapshots={FORGE}%3A{books[FORGE].meta.generation}" in permalink
    settings.MARKET_SNAPSHOT_KEEP = 1.0
    newer = build(FORGE, 12_000, seed=9)
    publish.publish(newer)
    current = get(client, STATION_URL, station_id=JITA, page_size=1000).json()
    assert current["snapshots"][0]["generation"] == newer.meta.generation
    assert current["results"] != first["results"]
    replay = client.get(permalink, HTTP_ACCEPT="application/json").json()
    assert replay["snapshots"][0]["generation"] == books[FORGE].meta.generation
    assert replay["results"] == first["results"]
    time.sleep(1.3)
    gone = client.get(permalink, HTTP_ACCEPT="application/json")
    assert gone.status_code == 410
    assert "no longer kept" in gone.json()["detail"]


def test_a_permalink_to_a_generation_never_published_is_410(client, books):
    response = get(
        client, STATION_URL, station_id=JITA, snapshots=f"{FORGE}:20200101T000000-abcdef"
    )
    assert response.status_code == 410


def test_a_pinned_region_the_query_does_not_use_is_ignored(client, books):
    pinned = f"{DOMAIN}:{books[DOMAIN].meta.generation}"
    body = get(client, STATION_URL, station_id=JITA, snapshots=pinned).json()
    assert [b["region_id"] for b in body["snapshots"]] == [FORGE]


# --- Errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"station_id": JITA, "colour": "blue"}, "colour"),
        ({}, "station_id"),
        ({"station_id": "jita"}, "station_id"),
        ({"station_id": 0}, "station_id"),
        ({"station_id": JITA, "accounting": 6}, "accounting"),
        ({"station_id": JITA, "accounting": -1}, "accounting"),
        ({"station_id": JITA, "broker_relations": 7}, "broker_relations"),
        ({"station_id": JITA, "advanced_broker_relations": 2.5}, "advanced_broker_relations"),
        ({"station_id": JITA, "faction_standing": 10.01}, "faction_standing"),
        ({"station_id": JITA, "corp_standing": -11}, "corp_standing"),
        ({"station_id": JITA, "faction_standing": "nan"}, "faction_standing"),
        ({"station_id": JITA, "min_margin": "nan"}, "min_margin"),
        ({"station_id": JITA, "max_price": "inf"}, "max_price"),
        ({"station_id": JITA, "min_profit": "-inf"}, "min_profit"),
        ({"station_id": JITA, "sort": "-colour"}, "sort"),
        ({"station_id": JITA, "min_margin": 0.5, "max_margin": 0.1}, "max_margin"),
        ({"station_id": JITA, "page": 0}, "page"),
        ({"station_id": JITA, "page_size": 1001}, "page_size"),
        ({"station_id": JITA, "tick": 0.01}, "tick"),  # the price grid replaced it
        ({"station_id": JITA, "limit": 0}, "limit"),
        ({"station_id": JITA, "snapshots": "10000002"}, "snapshots"),
        ({"station_id": JITA, "snapshots": "forge:g1"}, "snapshots"),
        ({"station_id": JITA, "snapshots": "10000002:a,10000002:b"}, "snapshots"),
    ],
)
def test_bad_station_parameters_are_400(client, books, params, field):
    response = get(client, STATION_URL, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert field in body["errors"]


def test_a_system_is_not_a_station(client, books):
    response = get(client, STATION_URL, station_id=JITA_SYSTEM)
    assert response.status_code == 400
    assert "Jita" in response.json()["detail"]


@pytest.mark.parametrize("station_id", [60_999_999, 99_999_999, 10_999_999])
def test_unknown_places_are_404(client, books, station_id):
    response = get(client, STATION_URL, station_id=station_id)
    assert response.status_code == 404
    assert response.json()["detail"]


def test_a_structure_without_orders_anywhere_is_404(client, books):
    response = get(client, STATION_URL, station_id=1_999_999_999_999)
    assert response.status_code == 404
    assert "structure" in response.json()["detail"]


def test_a_structure_is_placed_by_the_snapshot_with_its_orders(client, books):
    locations = books[FORGE].stations["location_id"]
    structure = int(locations[locations >= 1_000_000_000_000][0])
    body = get(client, STATION_URL, station_id=structure).json()
    assert body["station"]["kind"] == "structure"
    assert body["station"]["region_id"] == FORGE
    assert body["snapshots"][0]["region_id"] == FORGE


def test_a_tracked_region_without_a_snapshot_is_503(client, market):
    publish.publish(build(FORGE, 2_000))
    response = get(client, STATION_URL, station_id=AMARR)
    assert response.status_code == 503
    assert "No market snapshot of region 10000043 yet" in response.json()["detail"]


def test_an_untracked_region_is_404_with_the_tracked_ones(client, books):
    response = get(client, STATION_URL, station_id=HEK)
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "not tracked" in detail and str(FORGE) in detail


def test_an_unreachable_store_is_503(client, market, settings):
    from store import reset_store

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    reset_store()
    publish.forget_loaded()
    response = get(client, STATION_URL, station_id=JITA)
    assert response.status_code == 503
    assert response.json()["detail"]


def test_no_request_reaches_esi(client, books, market):
    before = len(market.requests)
    get(client, STATION_URL, station_id=JITA)
    get(client, HAULING_URL, **{"from": JITA, "to": AMARR})
    post_calculate(client, type_id=TRITANIUM, buy_location=JITA, sell_location=AMARR, quantity=10)
    get(client, STATION_URL, station_id=AMARR, snapshots=f"{DOMAIN}:old")
    assert len(market.requests) == before


# --- Hauling -------------------------------------------------------------------------------


def places(ids: list[int], snapshots: dict[int, Snapshot]) -> list[tuple[Snapshot, Any]]:
    out = []
    for location in ids:
        place = resolve_place(location)
        assert place.region_id is not None
        out.append((snapshots[place.region_id], place))
    return out


@pytest.mark.parametrize(
    ("source", "destination"),
    [
        ([JITA], [AMARR]),  # station to station
        ([JITA_SYSTEM], [AMARR_SYSTEM]),  # system to system
        ([FORGE], [DOMAIN]),  # region to region
        ([PERIMETER_STATION, JITA], [AMARR]),  # several sources
        ([AMARR], [JITA, FORGE]),
    ],
)
def test_hauling_answers_the_engines_rows(client, books, source, destination):
    body = get(
        client,
        HAULING_URL,
        **{"from": ",".join(map(str, source)), "to": ",".join(map(str, destination))},
        page_size=1000,
    ).json()
    haul = hauling(
        places(source, books),
        places(list(dict.fromkeys(destination)), books),
        Skills(),
        HaulingParams(),
    )
    assert body["results"] == jsonable(haul.rows[:1000])
    assert body["total"] == haul.total
    assert [p["id"] for p in body["from"]] == source
    assert {b["region_id"] for b in body["snapshots"]} == {
        resolve_place(i).region_id for i in source + destination
    }


@pytest.mark.parametrize(
    ("params", "engine"),
    [
        ({"mode": "list"}, HaulingParams(mode="list")),
        ({"cargo_m3": 5000}, HaulingParams(cargo_m3=5000)),
        ({"budget": 50_000_000}, HaulingParams(budget=50_000_000)),
        ({"min_profit": 1_000_000}, HaulingParams(min_profit=1_000_000)),
        ({"min_roi": 0.2}, HaulingParams(min_roi=0.2)),
        ({"max_jumps": 10}, HaulingParams(max_jumps=10)),
        ({"preference": "safer"}, HaulingParams(preference="safer")),
        ({"security": "any"}, HaulingParams(security="any")),
        ({"sort": "-isk_per_m3"}, HaulingParams(sort="-isk_per_m3")),
        ({"sort": "jumps"}, HaulingParams(sort="jumps")),
        ({"limit": 3}, HaulingParams(limit=3)),
        ({"days_to_sell": 7, "mode": "list"}, HaulingParams(days_to_sell=7, mode="list")),
    ],
)
def test_every_hauling_parameter_reaches_the_engine(client, books, params, engine):
    body = get(
        client, HAULING_URL, **{"from": FORGE, "to": DOMAIN}, page_size=1000, **params
    ).json()
    haul = hauling(places([FORGE], books), places([DOMAIN], books), Skills(), engine)
    assert body["results"] == jsonable(haul.rows[:1000])
    assert body["total"] == haul.total
    for name, value in params.items():
        assert body["parameters"][name] == value


def test_hauling_states_its_defaults_and_rates(client, books):
    body = get(client, HAULING_URL, **{"from": JITA, "to": AMARR}, broker_relations=5).json()
    defaults = HaulingParams()
    assert body["parameters"]["from"] == str(JITA)
    assert body["parameters"]["security"] == defaults.security
    assert body["parameters"]["cargo_m3"] == defaults.cargo_m3
    assert body["skills"]["broker_relations"] == 5
    assert body["rates"]["mode"] == "instant"
    assert body["rates"]["sales_tax"] == pytest.approx(0.075)


def test_hauling_csv_and_pages(client, books):
    rows = all_rows(client, HAULING_URL, **{"from": FORGE, "to": DOMAIN})
    table = parse_csv(client.get(HAULING_URL, {"from": FORGE, "to": DOMAIN, "format": "csv"}))
    assert [(int(r["type_id"]), int(r["from_location_id"])) for r in table] == [
        (r["type_id"], r["from_location_id"]) for r in rows
    ]
    page = get(client, HAULING_URL, **{"from": FORGE, "to": DOMAIN}, page_size=3, page=2).json()
    assert page["results"] == rows[3:6]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": AMARR}, "from"),
        ({"from": JITA}, "to"),
        ({"from": "jita", "to": AMARR}, "from"),
        ({"from": ",".join(str(60003760 + i) for i in range(11)), "to": AMARR}, "from"),
        ({"from": JITA, "to": AMARR, "mode": "teleport"}, "mode"),
        ({"from": JITA, "to": AMARR, "cargo_m3": 0}, "cargo_m3"),
        ({"from": JITA, "to": AMARR, "budget": -5}, "budget"),
        ({"from": JITA, "to": AMARR, "max_jumps": -1}, "max_jumps"),
        ({"from": JITA, "to": AMARR, "preference": "fastest"}, "preference"),
        ({"from": JITA, "to": AMARR, "security": "null"}, "security"),
        ({"from": JITA, "to": AMARR, "sort": "profit_per_unit"}, "sort"),
        ({"from": JITA, "to": AMARR, "corp_standing": 11}, "corp_standing"),
        ({"from": JITA, "to": AMARR, "min_roi": "nan"}, "min_roi"),
        ({"from": JITA, "to": AMARR, "station_id": JITA}, "station_id"),
    ],
)
def test_bad_hauling_parameters_are_400(client, books, params, field):
    response = get(client, HAULING_URL, **params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_hauling_to_an_unknown_place_or_an_untracked_region_is_404(client, books):
    assert get(client, HAULING_URL, **{"from": JITA, "to": 60_999_999}).status_code == 404
    untracked = get(client, HAULING_URL, **{"from": JITA, "to": DERELIK})
    assert untracked.status_code == 404 and "not tracked" in untracked.json()["detail"]


# --- The trade calculator ------------------------------------------------------------------


def post_calculate(client, **body: Any):
    return client.post(
        CALCULATE_URL, body, content_type="application/json", HTTP_ACCEPT="application/json"
    )


@pytest.mark.parametrize("mode", ["instant", "list"])
def test_calculate_answers_the_engines_breakdown(client, books, mode):
    skills = Skills(accounting=4, broker_relations=2, faction_standing=1.5)
    response = post_calculate(
        client,
        type_id=TRITANIUM,
        buy_location=JITA,
        sell_location=AMARR,
        quantity=250_000,
        mode=mode,
        skills={"accounting": 4, "broker_relations": 2, "faction_standing": 1.5},
        preference="safer",
        security="high",
    )
    assert response.status_code == 200
    body = response.json()
    expected = calculate(
        TRITANIUM,
        resolve_place(JITA),
        resolve_place(AMARR),
        250_000,
        mode,
        skills,
        snapshots=books,
        preference="safer",
        security="high",
    )
    assert body["breakdown"] == jsonable([expected])[0]
    assert body["skills"]["source"] == "parameters"
    assert body["skills"]["accounting"] == 4
    assert [b["region_id"] for b in body["snapshots"]] == [FORGE, DOMAIN]
    assert body["buy_location"]["id"] == JITA and body["sell_location"]["id"] == AMARR
    assert body["parameters"]["preference"] == "safer"
    lines = body["breakdown"]["lines"]
    assert any(line["label"] == "Sales tax" for line in lines)
    assert all(line["formula"] for line in lines)


def test_calculate_defaults_and_permalink(client, books):
    body = post_calculate(
        client, type_id=TRITANIUM, buy_location=JITA, sell_location=AMARR, quantity=10
    ).json()
    assert body["skills"]["source"] == "defaults"
    assert body["parameters"]["mode"] == "instant"
    assert body["parameters"]["security"] == "high"  # the one default, as hauling's
    assert "/profit/calculator/?" in body["permalink"]
    assert f"{FORGE}%3A{books[FORGE].meta.generation}" in body["permalink"]


def test_calculate_replays_pinned_snapshots(client, books, settings):
    pinned = f"{FORGE}:{books[FORGE].meta.generation},{DOMAIN}:{books[DOMAIN].meta.generation}"
    first = post_calculate(
        client, type_id=TRITANIUM, buy_location=JITA, sell_location=AMARR, quantity=10_000
    ).json()
    settings.MARKET_SNAPSHOT_KEEP = 60
    publish.publish(build(FORGE, 12_000, seed=5))
    replay = post_calculate(
        client,
        type_id=TRITANIUM,
        buy_location=JITA,
        sell_location=AMARR,
        quantity=10_000,
        snapshots=pinned,
    ).json()
    assert replay["breakdown"] == first["breakdown"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"buy_location": JITA, "sell_location": AMARR, "quantity": 1}, 400, "type_id"),
        (
            {"type_id": TRITANIUM, "buy_location": JITA, "sell_location": AMARR, "quantity": 0},
            400,
            "quantity",
        ),
        (
            {
                "type_id": TRITANIUM,
                "buy_location": JITA,
                "sell_location": AMARR,
                "quantity": 1,
                "mode": "x",
            },
            400,
            "mode",
        ),
        (
            {
                "type_id": TRITANIUM,
                "buy_location": JITA,
                "sell_location": AMARR,
                "quantity": 1,
                "skills": {"accounting": 6},
            },
            400,
            "skills.accounting",
        ),
        (
            {
                "type_id": TRITANIUM,
                "buy_location": JITA,
                "sell_location": AMARR,
                "quantity": 1,
                "colour": 1,
            },
            400,
            "colour",
        ),
        (
            {"type_id": 999_999_999, "buy_location": JITA, "sell_location": AMARR, "quantity": 1},
            404,
            None,
        ),
        (
            {
                "type_id": TRITANIUM,
                "buy_location": 60_999_999,
                "sell_location": AMARR,
                "quantity": 1,
            },
            404,
            None,
        ),
        (
            {"type_id": TRITANIUM, "buy_location": JITA, "sell_location": HEK, "quantity": 1},
            404,
            None,
        ),
    ],
)
def test_bad_calculations(client, books, body, status, field):
    response = post_calculate(client, **body)
    assert response.status_code == status
    answer = response.json()
    assert answer["detail"]
    if field:
        assert field in answer["errors"]


def test_calculate_names_a_nested_skill_error_by_its_dotted_path(client, books):
    response = post_calculate(
        client,
        type_id=TRITANIUM,
        buy_location=JITA,
        sell_location=AMARR,
        quantity=1,
        skills={"accounting": 9, "corp_standing": -11},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"skills.accounting", "skills.corp_standing"}
    assert all(isinstance(m, str) for messages in errors.values() for m in messages)


def test_calculate_is_post_only(client, books):
    assert get(client, CALCULATE_URL).status_code == 405


# --- OpenAPI -------------------------------------------------------------------------------

PROFIT_PATHS = {
    "/api/v1/profit/station-trading": "get",
    "/api/v1/profit/hauling": "get",
    "/api/v1/profit/calculate": "post",
    "/api/v1/profit/boards": "get",
    "/api/v1/profit/boards/version": "get",
}


@pytest.fixture
def schema(client) -> dict[str, Any]:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return dict(response.json())


def test_the_schema_documents_every_profit_path_and_parameter(schema):
    for path, method in PROFIT_PATHS.items():
        operation = schema["paths"][path][method]
        assert operation["summary"], path
        assert "200" in operation["responses"], path
    station = schema["paths"]["/api/v1/profit/station-trading"]["get"]
    names = {p["name"] for p in station["parameters"]}
    assert {
        "station_id",
        "accounting",
        "broker_relations",
        "advanced_broker_relations",
        "faction_standing",
        "corp_standing",
        "min_profit",
        "min_margin",
        "max_margin",
        "min_daily_volume",
        "max_price",
        "market_group_id",
        "category_id",
        "sort",
        "limit",
        "page",
        "page_size",
        "snapshots",
        "format",
    } <= names
    haul = {p["name"] for p in schema["paths"]["/api/v1/profit/hauling"]["get"]["parameters"]}
    assert {
        "from",
        "to",
        "mode",
        "cargo_m3",
        "budget",
        "min_roi",
        "max_jumps",
        "preference",
        "security",
    } <= haul
    assert "text/csv" in station["responses"]["200"]["content"]
    for status in ("400", "404", "410", "503"):
        assert status in station["responses"]


def test_answers_match_the_schema(client, books, schema):
    answers = [
        (
            "/api/v1/profit/station-trading",
            "get",
            get(client, STATION_URL, station_id=JITA, page_size=5),
        ),
        (
            "/api/v1/profit/hauling",
            "get",
            get(client, HAULING_URL, **{"from": FORGE, "to": DOMAIN}, mode="list", page_size=5),
        ),
        (
            "/api/v1/profit/calculate",
            "post",
            post_calculate(
                client,
                type_id=TRITANIUM,
                buy_location=JITA,
                sell_location=AMARR,
                quantity=5,
                mode="list",
            ),
        ),
        (
            "/api/v1/profit/calculate",
            "post",
            post_calculate(
                client, type_id=TRITANIUM, buy_location=FORGE, sell_location=AMARR, quantity=5
            ),
        ),
    ]
    for path, method, response in answers:
        assert response.status_code == 200, path
        validator(schema, path, method, "200").validate(response.json())
    errors = [
        (
            "/api/v1/profit/station-trading",
            get(client, STATION_URL, station_id=JITA, accounting=9),
            "400",
        ),
        ("/api/v1/profit/station-trading", get(client, STATION_URL, station_id=60_999_999), "404"),
        ("/api/v1/profit/station-trading", get(client, STATION_URL, station_id=HEK), "404"),
        (
            "/api/v1/profit/hauling",
            get(client, HAULING_URL, **{"from": JITA, "to": AMARR}, snapshots=f"{FORGE}:x"),
            "410",
        ),
    ]
    for path, response, status in errors:
        assert str(response.status_code) == status, path
        validator(schema, path, "get", status).validate(response.json())


# --- The per-process answer cache ----------------------------------------------------------


def test_kept_answers_are_bounded_by_their_rows():
    """Every gunicorn worker keeps its own answers: a budget of rows, not only of answers,
    keeps a few region-to-region hauls from holding hundreds of MB."""
    kept = selectors.Computed(size=64, max_rows=1_000)

    def answer(rows: int) -> dict[str, Any]:
        return {"rows": [{"n": i} for i in range(rows)]}

    for key in range(5):
        kept.get_or_compute(key, lambda: answer(300))
    assert kept.rows <= 1_000  # the oldest went
    calls = []
    kept.get_or_compute(4, lambda: calls.append(1) or answer(300))
    assert calls == []  # the newest is still kept
    kept.get_or_compute(0, lambda: calls.append(1) or answer(300))
    assert calls == [1]  # the oldest was dropped
    huge = kept.get_or_compute("huge", lambda: answer(5_000))
    assert len(huge["rows"]) == 5_000 and kept.rows <= 1_000  # answered, not kept


def test_another_sort_or_filter_of_a_kept_search_ranks_the_kept_trades_anew(
    client, books, monkeypatch
):
    """The costly part of a search (every trade at a station, every route between places)
    is kept apart from its filters, sort and limit: asking the same search sorted or
    filtered otherwise computes it once, and each answer is still the engine's own."""
    found = []
    for engine in (station_module, hauling_module):
        monkeypatch.setattr(engine, "find", counted(engine.find, engine.__name__, found))
    station_asks = [
        {"sort": "-margin"},
        {"sort": "type_name", "min_margin": 0.05},
        {"max_price": 1_000_000, "limit": 5},
        {"hide": "none"},
    ]
    haul_asks = [
        {"sort": "-roi"},
        {"sort": "jumps", "min_profit": 1_000},
        {"min_roi": 0.01, "limit": 3},
        {"hide": "none", "sort": "type_name"},
    ]
    stations = [
        get(client, STATION_URL, station_id=JITA, page_size=1000, **a) for a in station_asks
    ]
    hauls = [get(client, HAULING_URL, **{"from": FORGE, "to": DOMAIN}, page_size=1000, **a)
             for a in haul_asks]  # fmt: skip
    assert found == ["profit.station", "profit.hauling"]  # once each, whatever the ranking

    monkeypatch.undo()
    for ask, answer in zip(station_asks, stations, strict=True):
        filters = StationFilters(**{**ask, "hide": frozenset()} if "hide" in ask else ask)
        scan = station_trading(books[FORGE], JITA, Skills(), filters)
        assert answer.json()["results"] == jsonable(scan.rows) and scan.total > 0
    for ask, answer in zip(haul_asks, hauls, strict=True):
        params = HaulingParams(**{**ask, "hide": frozenset()} if "hide" in ask else ask)
        haul = hauling(places([FORGE], books), places([DOMAIN], books), Skills(), params)
        assert answer.json()["results"] == jsonable(haul.rows[:1000]) and haul.total > 0


def test_only_the_found_routes_are_kept_not_each_ranking(client, books):
    """What a process keeps of a search is its found routes, whatever the questions asked
    of them: the rows budget (PROFIT_COMPUTED_ROWS) counts what is held."""
    for sort in ("-net_profit", "-roi", "type_name"):
        get(client, HAULING_URL, **{"from": FORGE, "to": DOMAIN}, sort=sort, page_size=1000)
    found = hauling_module.find(
        places([FORGE], books), places([DOMAIN], books), Skills(), HaulingParams()
    )
    assert len(found) > 40
    assert selectors.computed.rows == len(found)


def counted(function: Any, name: str, calls: list[str]) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return function(*args, **kwargs)

    return call


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (STATION_URL, {"station_id": JITA}),
        (HAULING_URL, {"from": JITA, "to": AMARR}),
    ],
)
def test_tick_is_refused_with_the_price_grid_explained(client, books, url, params):
    response = get(client, url, tick=0.01, **params)
    assert response.status_code == 400
    (message,) = response.json()["errors"]["tick"]
    assert "4 significant digits" in message and "900,100" in message


def test_the_calculator_refuses_tick_too(client, books):
    response = post_calculate(
        client, type_id=TRITANIUM, buy_location=JITA, sell_location=AMARR, quantity=10, tick=0.01
    )
    assert response.status_code == 400
    assert "4 significant digits" in response.json()["errors"]["tick"][0]


def test_station_prices_are_on_the_grid_and_inside_the_spread(client, books):
    """Every proposed price is one EVE accepts and lies strictly inside its spread; checked
    with an independent decimal count of significant digits."""

    rows = all_rows(client, STATION_URL, station_id=JITA)
    assert rows
    for row in rows:
        for price in (row["buy_price"], row["sell_price"]):
            digits = Decimal(repr(price)).normalize().as_tuple().digits
            assert len(digits) <= 4 and Decimal(repr(price)) == Decimal(repr(price)).quantize(
                Decimal("0.01")
            ), price
        assert row["best_bid"] < row["buy_price"] <= row["sell_price"] < row["best_ask"]


@pytest.mark.parametrize(
    ("url", "params", "field", "message"),
    [
        (
            STATION_URL,
            {"station_id": "abc"},
            "station_id",
            "station_id must be a number, for example 60003760 for Jita IV - Moon 4.",
        ),
        (
            HAULING_URL,
            {"from": "jita", "to": AMARR},
            "from",
            "a comma-separated list of station, system or region ids, for example "
            "60003760,60008494 (Jita IV - Moon 4 and Amarr VIII)",
        ),
    ],
)
def test_a_word_where_an_id_goes_is_explained(client, books, url, params, field, message):
    response = get(client, url, **params)
    assert response.status_code == 400
    assert response.json()["errors"][field] == [message]

"""The market generator: deterministic, ESI-shaped and believable order books from the real SDE."""

from __future__ import annotations

import json
import math
import re
import sqlite3
import statistics
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings

from market import generator
from market.generator import HUB_STATIONS, generate_history, generate_orders, hub_station
from market.pricegrid import on_grid
from sde.models import StaStation
from tests.conftest import ensure_sde, sde_db

SAMPLES = Path(__file__).resolve().parent.parent / "standin" / "data" / "markets_orders"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FORGE, DOMAIN = 10000002, 10000043
PLEX, PLEX_REGION = 44992, 19000001
STRUCTURE_MIN = 1_000_000_000_000  # Upwell structure ids; NPC stations are 60,xxx,xxx
ISSUED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
RANGES = {"station", "region", "solarsystem", "1", "2", "3", "4", "5", "10", "20", "30", "40"}


@pytest.fixture(scope="module", autouse=True)
def _sde() -> None:
    ensure_sde()


@pytest.fixture(scope="module")
def forge() -> tuple[list[dict[str, Any]], float]:
    """A Forge-size book (380,000 orders) and how long it took to generate."""
    generator.type_model(0)  # the per-seed model is cached; time the book itself
    started = time.perf_counter()
    orders = generate_orders(FORGE, 380_000, seed=0, now=NOW)
    return orders, time.perf_counter() - started


def _sde_rows(sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{settings.SDE_PATH}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _sample_orders() -> list[dict[str, Any]]:
    return [o for path in sorted(SAMPLES.glob("*.json")) for o in json.loads(path.read_text())]


def _best_at(orders: list[dict[str, Any]], location: int) -> dict[int, tuple[float, float]]:
    bids: dict[int, float] = {}
    asks: dict[int, float] = {}
    for o in orders:
        if o["location_id"] != location:
            continue
        side = bids if o["is_buy_order"] else asks
        better = max if o["is_buy_order"] else min
        side[o["type_id"]] = better(side.get(o["type_id"], o["price"]), o["price"])
    return {t: (bids[t], asks[t]) for t in bids.keys() & asks.keys()}


# --- Determinism ---------------------------------------------------------------------------


def test_same_inputs_give_identical_orders() -> None:
    assert generate_orders(FORGE, 3_000, seed=7, now=NOW) == generate_orders(
        FORGE, 3_000, seed=7, now=NOW
    )


def test_seed_and_region_change_the_book() -> None:
    base = generate_orders(FORGE, 3_000, seed=7, now=NOW)
    other_seed = generate_orders(FORGE, 3_000, seed=8, now=NOW)
    other_region = generate_orders(DOMAIN, 3_000, seed=7, now=NOW)
    assert base != other_seed
    assert [o["price"] for o in base] != [o["price"] for o in other_seed]
    assert {o["location_id"] for o in other_region}.isdisjoint({60003760})


def test_default_now_is_the_current_hour() -> None:
    orders = generate_orders(FORGE, 500, seed=1)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    latest = max(datetime.strptime(o["issued"], "%Y-%m-%dT%H:%M:%SZ") for o in orders)
    assert latest.replace(tzinfo=UTC) < hour + timedelta(hours=1)
    assert latest.replace(tzinfo=UTC) > hour - timedelta(days=90)


def test_without_an_installed_sde_the_bundled_copy_gives_the_same_book(
    settings: Any, tmp_path: Path
) -> None:
    installed = generate_orders(DOMAIN, 2_000, seed=1, now=NOW)
    settings.SDE_PATH = tmp_path / "not-installed.sqlite"
    assert generator.load_sde().key[0].endswith("invTypes.csv.gz")
    assert generate_orders(DOMAIN, 2_000, seed=1, now=NOW) == installed


def test_no_orders_asked_none_given() -> None:
    assert generate_orders(FORGE, 0, now=NOW) == []


# --- Shape ---------------------------------------------------------------------------------


def test_orders_have_exactly_the_real_samples_shape() -> None:
    sample = _sample_orders()
    sample_types = {k: type(v) for k, v in sample[0].items()}
    orders = generate_orders(FORGE, 5_000, seed=3, now=NOW)
    for order in orders:
        assert list(order) == list(sample[0])  # same keys, same (alphabetical) order
        assert {k: type(v) for k, v in order.items()} == sample_types
    assert all(o["range"] in RANGES for o in orders)
    assert all(ISSUED.match(o["issued"]) for o in orders)


def test_order_ids_unique_sorted_and_in_range(forge: tuple[list[dict[str, Any]], float]) -> None:
    orders, _ = forge
    ids = [o["order_id"] for o in orders]
    assert len(set(ids)) == len(ids) == 380_000
    assert ids == sorted(ids)
    assert ids[0] > 6_500_000_000
    assert ids[-1] < 2**63
    domain_ids = {o["order_id"] for o in generate_orders(DOMAIN, 20_000, seed=0, now=NOW)}
    assert domain_ids.isdisjoint(ids), "two regions never share an order id"


def test_issued_before_now_and_within_the_duration() -> None:
    orders = generate_orders(FORGE, 20_000, seed=4, now=NOW)
    for order in orders:
        issued = datetime.strptime(order["issued"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert issued < NOW
        assert NOW - issued < timedelta(days=order["duration"])
    durations = Counter(o["duration"] for o in orders)
    assert set(durations) == {1, 3, 7, 14, 30, 90}
    assert durations[90] > 0.6 * len(orders)


def test_volumes_and_min_volume() -> None:
    orders = generate_orders(FORGE, 20_000, seed=5, now=NOW)
    assert all(1 <= o["volume_remain"] <= o["volume_total"] for o in orders)
    assert all(1 <= o["min_volume"] <= o["volume_total"] for o in orders)
    assert sum(o["min_volume"] == 1 for o in orders) > 0.95 * len(orders)
    assert any(o["volume_remain"] < o["volume_total"] for o in orders)


def test_prices_follow_eve_ticks() -> None:
    for order in generate_orders(FORGE, 20_000, seed=6, now=NOW):
        price = Decimal(repr(order["price"]))
        assert price >= Decimal("0.01")
        assert price == price.quantize(Decimal("0.01")), order["price"]  # at most 2 decimals
        digits = price.normalize().as_tuple().digits
        assert len(digits) <= 4, order["price"]


def test_sells_range_region_buys_vary() -> None:
    orders = generate_orders(FORGE, 20_000, seed=8, now=NOW)
    assert {o["range"] for o in orders if not o["is_buy_order"]} == {"region"}
    buy_ranges = Counter(o["range"] for o in orders if o["is_buy_order"])
    assert len(buy_ranges) >= 8
    assert buy_ranges.most_common(1)[0][0] in {"station", "1"}


# --- Places --------------------------------------------------------------------------------


@sde_db
def test_hub_stations_are_the_five_trade_hubs() -> None:
    names = {"Jita", "Amarr", "Dodixie", "Rens", "Hek"}
    rows = StaStation.objects.filter(station_id__in=HUB_STATIONS.values()).values_list(
        "station_id", "region_id", "station_name"
    )
    found = {station: (region, name) for station, region, name in rows}
    assert set(found) == set(HUB_STATIONS.values())
    for region, station in HUB_STATIONS.items():
        assert found[station][0] == region
        assert hub_station(region) == station
    assert {(found[s][1] or "").split()[0] for s in found} == names


def test_every_location_is_in_the_region() -> None:
    stations = {
        s: (system, region)
        for s, system, region in _sde_rows(
            "SELECT stationID, solarSystemID, regionID FROM staStations"
        )
    }
    systems = dict(_sde_rows("SELECT solarSystemID, regionID FROM mapSolarSystems"))
    for region in (FORGE, DOMAIN, 10000032):
        for order in generate_orders(region, 5_000, seed=2, now=NOW):
            assert systems[order["system_id"]] == region
            if order["location_id"] < 1_000_000_000_000:
                assert stations[order["location_id"]] == (order["system_id"], region)


def test_hub_station_dominates(forge: tuple[list[dict[str, Any]], float]) -> None:
    orders, _ = forge
    places = Counter(o["location_id"] for o in orders)
    (top, count), (_, second) = places.most_common(2)
    assert top == 60003760
    assert count > 0.45 * len(orders)
    assert count > 5 * second
    structures = sum(c for loc, c in places.items() if loc >= 1_000_000_000_000)
    assert 0.01 * len(orders) < structures < 0.1 * len(orders)
    assert len(places) > 50  # spread over the region's other stations too


def test_region_without_npc_stations_trades_in_structures() -> None:
    region = 10000003  # Vale of the Silent: null-sec, no NPC station
    assert not _sde_rows(f"SELECT 1 FROM staStations WHERE regionID = {region}")
    orders = generate_orders(region, 1_000, seed=0, now=NOW)
    assert all(o["location_id"] >= 1_000_000_000_000 for o in orders)
    assert hub_station(region) >= 1_000_000_000_000


def test_other_regions_get_a_hub_in_the_region() -> None:
    (station,) = _sde_rows("SELECT regionID FROM staStations WHERE stationID = 60000004")
    region = station[0]
    assert region not in HUB_STATIONS
    hub = hub_station(region)
    assert _sde_rows(f"SELECT regionID FROM staStations WHERE stationID = {hub}") == [(region,)]


def test_unknown_region_is_refused() -> None:
    with pytest.raises(ValueError, match="no stations or systems"):
        generate_orders(12345, 10, now=NOW)


# --- Types and prices ----------------------------------------------------------------------


def test_types_are_published_market_types_popular_ones_first() -> None:
    market = {
        t
        for (t,) in _sde_rows(
            "SELECT typeID FROM invTypes WHERE published = 1 AND marketGroupID IS NOT NULL"
        )
    }
    orders = generate_orders(FORGE, 50_000, seed=0, now=NOW)
    counts = Counter(o["type_id"] for o in orders)
    assert set(counts) <= market
    median = statistics.median(counts.values())
    for popular in (34, 35, 36, 37, 38, 39, 40, 40520):
        assert counts[popular] > 5 * median, popular
    assert counts[PLEX] == 0  # PLEX trades only in the global PLEX market since July 2025
    assert len(counts) > 3_000


def test_liquid_types_have_both_sides_and_a_sane_spread_at_the_hub(
    forge: tuple[list[dict[str, Any]], float],
) -> None:
    orders, _ = forge
    at_hub = Counter(o["type_id"] for o in orders if o["location_id"] == 60003760)
    liquid = [t for t, _ in at_hub.most_common(100)]
    best = _best_at(orders, 60003760)
    spreads = []
    for type_id in liquid:
        assert type_id in best, f"type {type_id} lacks a side at Jita"
        bid, ask = best[type_id]
        assert bid < ask, (type_id, bid, ask)
        spreads.append((ask - bid) / ask)
    assert 0.002 < statistics.median(spreads) < 0.08
    assert max(spreads) < 0.4
    # The whole hub book is never crossed.
    assert all(bid < ask for bid, ask in best.values())


def test_books_have_depth_on_both_sides(forge: tuple[list[dict[str, Any]], float]) -> None:
    orders, _ = forge
    tritanium = [o for o in orders if o["type_id"] == 34 and o["location_id"] == 60003760]
    sells = sorted(o["price"] for o in tritanium if not o["is_buy_order"])
    buys = sorted((o["price"] for o in tritanium if o["is_buy_order"]), reverse=True)
    assert len(sells) >= 10 and len(buys) >= 10
    assert len(set(sells)) >= 5 and len(set(buys)) >= 5  # a ladder, not one price
    assert 2.0 < sells[0] < 8.0  # Tritanium trades at a few ISK
    plex = generate_orders(PLEX_REGION, 1_500, seed=0, now=NOW)
    plex_sells = sorted(o["price"] for o in plex if not o["is_buy_order"])
    assert len(set(plex_sells[:200])) > 5  # a ladder of asks, 1,000 ISK grid steps apart


def test_prices_are_believable_and_volumes_fit_the_item() -> None:
    orders = generate_orders(FORGE, 50_000, seed=0, now=NOW)
    by_type: dict[int, list[dict[str, Any]]] = {}
    for order in orders:
        by_type.setdefault(order["type_id"], []).append(order)
    plex = generate_orders(PLEX_REGION, 1_500, seed=0, now=NOW)
    plex_asks = [o["price"] for o in plex if not o["is_buy_order"]]
    assert 3e6 < min(plex_asks) < 8e6
    minerals = [o["volume_total"] for t in range(34, 41) for o in by_type.get(t, [])]
    assert statistics.median(minerals) > 100_000
    ships = [o["volume_total"] for t in (587, 24698, 12005, 17738) for o in by_type.get(t, [])]
    assert ships and max(ships) <= 20 and statistics.median(ships) <= 10


def test_hauling_between_hubs_finds_opportunities() -> None:
    jita = _best_at(generate_orders(FORGE, 60_000, seed=0, now=NOW), 60003760)
    amarr = _best_at(generate_orders(DOMAIN, 30_000, seed=0, now=NOW), 60008494)
    common = jita.keys() & amarr.keys()
    assert len(common) > 100
    to_amarr = [t for t in common if amarr[t][0] > jita[t][1]]  # Amarr bids over Jita asks
    assert 0 < len(to_amarr) < len(common) / 2


def test_forge_size_book_is_fast(forge: tuple[list[dict[str, Any]], float]) -> None:
    orders, elapsed = forge
    print(f"\n380,000 Forge orders generated in {elapsed:.2f} s")
    assert len(orders) == 380_000
    assert elapsed < 30


# --- History -------------------------------------------------------------------------------


def test_history_is_a_year_of_daily_rows_around_the_mid() -> None:
    today = date(2026, 11, 20)
    rows = generate_history(FORGE, 34, seed=0, today=today, mid=4.1)
    assert rows == generate_history(FORGE, 34, seed=0, today=today, mid=4.1)
    assert list(rows[0]) == ["average", "date", "highest", "lowest", "order_count", "volume"]
    dates = [date.fromisoformat(r["date"]) for r in rows]
    assert dates == sorted(dates)
    assert dates[-1] == today - timedelta(days=1)
    assert dates[0] >= today - timedelta(days=365)
    assert len(rows) > 300  # Tritanium trades every day
    for row in rows:
        assert row["lowest"] <= row["average"] <= row["highest"]
        assert row["order_count"] > 0 and row["volume"] > 0
    assert rows[-1]["average"] == pytest.approx(4.1, rel=0.01)


def test_dear_types_trade_a_few_times_a_month_not_every_day() -> None:
    """A 60-billion-ISK blueprint (the Claymore's, 22469) or a Keepstar core (56207) changes
    hands now and then: under one unit a day over the last 30 days, on a minority of days; a
    cheap popular type (Tritanium) trades every day in bulk."""
    today = date(2026, 11, 20)
    for type_id in (22469, 56207):
        recent = [
            r
            for r in generate_history(FORGE, type_id, seed=0, today=today)
            if date.fromisoformat(r["date"]) >= today - timedelta(days=30)
        ]
        assert sum(r["volume"] for r in recent) / 30 < 1.0
        assert len(recent) < 15
    tritanium = generate_history(FORGE, 34, seed=0, today=today)[-30:]
    assert len(tritanium) == 30 and min(r["volume"] for r in tritanium) > 1_000_000


def test_history_of_an_unknown_type_is_empty() -> None:
    assert generate_history(FORGE, 999_999_999, today=date(2026, 11, 20)) == []


def test_mid_prices_cover_every_market_type() -> None:
    mids = generator.mid_prices(FORGE, seed=0)
    assert set(mids) == generator.market_type_ids()
    assert 3 < mids[34] < 6
    assert all(m > 0.5 for m in mids.values())


# --- The game's rules: the price grid, ranges, structures, PLEX ------------------------------


@pytest.mark.parametrize("region", [FORGE, DOMAIN, 10000003, PLEX_REGION])
def test_every_price_is_on_the_grid(region: int) -> None:
    orders = generate_orders(region, 20_000, seed=11, now=NOW)
    prices = np.array([o["price"] for o in orders])
    assert on_grid(prices).all(), prices[~on_grid(prices)][:5]
    today = date(2026, 11, 20)
    for row in generate_history(FORGE, 34, today=today) + generate_history(
        PLEX_REGION, PLEX, today=today
    ):
        assert on_grid([row["highest"], row["lowest"]]).all(), row


@pytest.mark.parametrize("region", [FORGE, DOMAIN, 10000003])
def test_region_books_hold_no_structure_sells_and_only_ranged_structure_bids(
    region: int,
) -> None:
    orders = generate_orders(region, 20_000, seed=12, now=NOW)
    at_structures = [o for o in orders if o["location_id"] >= STRUCTURE_MIN]
    assert at_structures, "the region has structures"
    assert all(o["is_buy_order"] for o in at_structures)
    assert all(o["range"] != "station" for o in at_structures)
    assert len({o["range"] for o in at_structures}) >= 5


def test_buys_mix_every_kind_of_range_and_some_wide_ones_away_from_the_hub_reach_it() -> None:
    orders = generate_orders(FORGE, 50_000, seed=13, now=NOW)
    bids = [o for o in orders if o["is_buy_order"]]
    kinds = Counter(
        o["range"] if o["range"] in ("station", "solarsystem", "region") else "jumps" for o in bids
    )
    assert set(kinds) == {"station", "solarsystem", "region", "jumps"}
    assert {o["range"] for o in bids} >= {"1", "2", "3", "4", "5", "10", "20", "30", "40"}
    jita, perimeter = 30000142, 30000144  # Perimeter is one jump from Jita
    away = [o for o in bids if o["location_id"] != 60003760]
    region_bids = [o for o in away if o["range"] == "region"]
    assert len({o["system_id"] for o in region_bids}) > 10  # all over The Forge
    assert any(o["location_id"] >= STRUCTURE_MIN for o in region_bids)
    # Jump bids placed in Perimeter with a range of at least one jump reach Jita.
    near = [
        o
        for o in away
        if o["system_id"] == perimeter and o["range"].isdigit() and int(o["range"]) >= 1
    ]
    assert any(o["location_id"] >= STRUCTURE_MIN for o in near)
    assert any(o["location_id"] < STRUCTURE_MIN for o in near)
    # Some of the wide bids elsewhere bid within the hub's own bid range (they compete).
    hub_bids: dict[int, float] = {}
    for o in bids:
        if o["location_id"] == 60003760:
            hub_bids[o["type_id"]] = max(hub_bids.get(o["type_id"], 0.0), o["price"])
    competing = [
        o for o in region_bids if o["type_id"] in hub_bids and o["price"] >= hub_bids[o["type_id"]]
    ]
    assert competing
    assert any(o["system_id"] != jita for o in competing)


def test_eager_bids_over_the_hub_asks_do_not_reach_the_hub() -> None:
    orders = generate_orders(FORGE, 60_000, seed=0, now=NOW)
    asks: dict[int, float] = {}
    for o in orders:
        if not o["is_buy_order"] and o["location_id"] == 60003760:
            asks[o["type_id"]] = min(asks.get(o["type_id"], math.inf), o["price"])
    over = [
        o
        for o in orders
        if o["is_buy_order"] and o["type_id"] in asks and o["price"] >= asks[o["type_id"]]
    ]
    assert over, "some bids away from the hub pay over its asks (in-region hauling)"
    assert all(o["range"] == "station" and o["location_id"] != 60003760 for o in over)


def test_plex_trades_only_in_the_global_plex_market() -> None:
    for region in (FORGE, DOMAIN, 10000032, 10000030, 10000042):
        assert all(o["type_id"] != PLEX for o in generate_orders(region, 20_000, now=NOW))
    orders = generate_orders(PLEX_REGION, 1_500, seed=0, now=NOW)
    assert len(orders) == 1_500
    assert {o["type_id"] for o in orders} == {PLEX}
    assert {o["range"] for o in orders} == {"region"}
    # Placed from NPC stations all over known space, most from the hubs, each in its system.
    stations = {
        s: (system, region)
        for s, system, region in _sde_rows(
            "SELECT stationID, solarSystemID, regionID FROM staStations"
        )
    }
    assert all(stations[o["location_id"]][0] == o["system_id"] for o in orders)
    assert len({stations[o["location_id"]][1] for o in orders}) > 20
    places = Counter(o["location_id"] for o in orders)
    assert places.most_common(1)[0][0] == 60003760
    assert set(HUB_STATIONS.values()) <= set(places)
    # One book for all of New Eden: the best bid is below the best ask.
    best_bid = max(o["price"] for o in orders if o["is_buy_order"])
    best_ask = min(o["price"] for o in orders if not o["is_buy_order"])
    assert best_bid < best_ask
    # Order ids never collide with a k-space region's.
    forge_ids = {o["order_id"] for o in generate_orders(FORGE, 20_000, now=NOW)}
    assert forge_ids.isdisjoint(o["order_id"] for o in orders)


def test_plex_history_ends_in_the_regions_when_the_global_market_opened() -> None:
    today = date(2026, 11, 20)
    regional = generate_history(FORGE, PLEX, today=today)
    # 2025-07-07 was PLEX's last day in the regional markets.
    assert regional[-1]["date"] == "2025-07-07"
    plex_days = generate_history(PLEX_REGION, PLEX, today=today)
    assert plex_days[-1]["date"] == "2026-11-19"
    assert generate_history(PLEX_REGION, 34, today=today) == []
    assert hub_station(PLEX_REGION) == 60003760
    assert generator.is_market_region(PLEX_REGION)
    assert not generator.is_kspace_region(PLEX_REGION)


def test_region_book_rules_drop_what_esi_never_shows() -> None:
    def order(location: int, buy: bool, rng: str) -> dict[str, Any]:
        return {"location_id": location, "is_buy_order": buy, "range": rng}

    kept = [
        order(60003760, False, "region"),
        order(60003760, True, "station"),
        order(1042508032148, True, "region"),
        order(1042508032148, True, "1"),
        order(1042508032148, True, "solarsystem"),
    ]
    dropped = [order(1042508032148, False, "region"), order(1042508032148, True, "station")]
    assert generator.region_book_rules(kept + dropped) == kept


@sde_db
def test_the_structures_hidden_orders_are_what_the_region_book_never_shows():
    forge = 10000002
    shown = generator.generate_orders(forge, 3_000, seed=5)
    hidden = generator.hidden_structure_orders(forge, 3_000, seed=5)
    assert hidden
    # only at the region's structures, each a sell or a bid of range "station"
    structures = {structure for structure, _ in generator.KNOWN_STRUCTURES[forge]}
    assert {o["location_id"] for o in hidden} <= structures
    assert all(not o["is_buy_order"] or o["range"] == "station" for o in hidden)
    assert generator.region_book_rules(hidden) == []
    assert any(not o["is_buy_order"] for o in hidden)
    assert {o["order_id"] for o in hidden}.isdisjoint(o["order_id"] for o in shown)

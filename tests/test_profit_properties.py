"""Properties of the profit engines over generated order books (hypothesis):

- profit never rises when a fee rises (sales tax or broker fee);
- never more units than the books hold, nor more than the cargo and budget allow;
- the same answer whatever order the orders arrive in.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from profit.calculator import calculate
from profit.fees import Rates, Skills
from profit.hauling import HaulingParams, HaulRates, hauling
from profit.locations import resolve_place
from profit.station import StationFilters, station_trading
from tests.profit_books import (
    AMARR_EFA,
    DAMAGE_CONTROL_II,
    DOMAIN,
    DOMINIX,
    FORGE,
    JITA,
    JITA_44,
    JITA_STRUCTURE,
    PERIMETER,
    PERIMETER_STORAGE,
    SYSTEMS,
    TRITANIUM,
    order,
    snapshot,
)

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

# Hypothesis keeps a cache of constants: under var/ (ignored by git), not in the work tree.
set_hypothesis_home_dir(Path(__file__).resolve().parent.parent / "var" / "hypothesis")

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,  # nothing written into the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

BASE_PRICE = {TRITANIUM: 4.0, DAMAGE_CONTROL_II: 500_000.0, DOMINIX: 200_000_000.0}
MAX_UNITS = {TRITANIUM: 50_000, DAMAGE_CONTROL_II: 500, DOMINIX: 5}
# Buy orders' ranges (sell orders are always "region", as in the game).
REACHES = ("station", "station", "solarsystem", "1", "5", "region")
FORGE_PLACES = (JITA_44, PERIMETER_STORAGE, JITA_STRUCTURE)


@st.composite
def book_orders(draw: Any, locations: tuple[int, ...], min_volumes: bool) -> list[dict]:
    """Orders of three types at the given locations, prices on a coarse grid (so that ties
    and crossed books happen), some buy orders with a minimum volume, buy orders with every
    kind of range."""
    n = draw(st.integers(min_value=0, max_value=14))
    orders = []
    for _ in range(n):
        type_id = draw(st.sampled_from(sorted(BASE_PRICE)))
        step = draw(st.integers(min_value=0, max_value=8))
        buy = draw(st.booleans())
        volume = draw(st.integers(min_value=1, max_value=MAX_UNITS[type_id]))
        minimum = draw(st.integers(min_value=1, max_value=volume + 5)) if buy and min_volumes else 1
        orders.append(
            order(
                type_id,
                round(BASE_PRICE[type_id] * (0.85 + 0.04 * step), 2),
                volume,
                buy=buy,
                location=draw(st.sampled_from(locations)),
                min_volume=minimum,
                reach=draw(st.sampled_from(REACHES)) if buy else None,
            )
        )
    return orders


def fees_pair() -> Any:
    """Two fee levels, the second at least as high as the first in every rate."""
    rate = st.floats(min_value=0.0, max_value=0.1, allow_nan=False)
    return st.tuples(rate, rate, rate, rate).map(
        lambda r: ((min(r[0], r[1]), min(r[2], r[3])), (max(r[0], r[1]), max(r[2], r[3])))
    )


def station_rates(tax: float, broker: float) -> Rates:
    return Rates(
        sales_tax=tax, broker_fee=broker, min_broker_fee=100.0, relist_discount=0.5, schedule="t"
    )


def haul_all(forge_orders, domain_orders, rates, **params):
    forge, domain = snapshot(FORGE, forge_orders), snapshot(DOMAIN, domain_orders)
    return hauling(
        [(forge, resolve_place(FORGE))],
        [(forge, resolve_place(FORGE)), (domain, resolve_place(DOMAIN))],
        Skills(),
        HaulingParams(security="any", **params),
        rates=rates,
        volumes={},
    )


def by_route(rows):
    return {(r["type_id"], r["from_location_id"], r["to_location_id"]): r for r in rows}


# --- Profit never rises when a fee rises -----------------------------------------------------


@PROPERTY
@given(orders=book_orders(FORGE_PLACES, min_volumes=False), fees=fees_pair())
def test_station_profit_never_rises_with_fees(orders, fees):
    (low_tax, low_broker), (high_tax, high_broker) = fees
    snap = snapshot(FORGE, orders)

    def profits(tax, broker):
        scan = station_trading(
            snap, JITA_44, Skills(), StationFilters(), volumes={}, rates=station_rates(tax, broker)
        )
        return {row["type_id"]: row["profit_per_unit"] for row in scan.rows}

    low, high = profits(low_tax, low_broker), profits(high_tax, high_broker)
    assert set(high) <= set(low)
    for type_id, profit in high.items():
        assert profit <= low[type_id]


@PROPERTY
@given(
    forge=book_orders(FORGE_PLACES, min_volumes=False),
    domain=book_orders((AMARR_EFA,), min_volumes=False),
    fees=fees_pair(),
    mode=st.sampled_from(["instant", "list"]),
    cargo=st.none() | st.floats(min_value=0.0, max_value=200_000.0),
    budget=st.none() | st.floats(min_value=0.0, max_value=2e9),
)
def test_hauling_profit_never_rises_with_fees(forge, domain, fees, mode, cargo, budget):
    (low_tax, low_broker), (high_tax, high_broker) = fees
    params = {"mode": mode, "cargo_m3": cargo, "budget": budget}
    low = by_route(haul_all(forge, domain, HaulRates.flat(low_tax, low_broker), **params).rows)
    high = by_route(haul_all(forge, domain, HaulRates.flat(high_tax, high_broker), **params).rows)
    assert set(high) <= set(low)
    for route, row in high.items():
        assert row["net_profit"] <= low[route]["net_profit"] + 0.01  # cents of rounding


# --- Never more than the books hold ---------------------------------------------------------


# Jumps between the systems of the test's places (Jita and Perimeter are neighbours; the
# structure is in Perimeter; Amarr is in another region, where no Forge order reaches).
JUMPS = {(JITA, JITA): 0, (PERIMETER, PERIMETER): 0, (JITA, PERIMETER): 1, (PERIMETER, JITA): 1}
CODES = {"-1": "station", "0": "solarsystem", "32767": "region"}


def reaches(order, location):
    """The game's rule, order by order: can a seller at `location` fill this buy order?"""
    if order["location_id"] == location:
        return True
    here, there = SYSTEMS[order["location_id"]], SYSTEMS[location]
    if (here, there) not in JUMPS:
        return False  # another region
    reach = CODES.get(str(order["range"]), str(order["range"]))
    if reach == "region":
        return True
    if reach == "solarsystem":
        return here == there
    return reach != "station" and JUMPS[(here, there)] <= int(reach)


def units(orders, type_id, location, buy):
    """Units on one side of a type's book that a trader at `location` can use: the sell
    orders there, or the buy orders that reach it."""
    return sum(
        o["volume_remain"]
        for o in orders
        if o["type_id"] == type_id
        and o["is_buy_order"] == buy
        and (reaches(o, location) if buy else o["location_id"] == location)
    )


@PROPERTY
@given(
    forge=book_orders(FORGE_PLACES, min_volumes=True),
    domain=book_orders((AMARR_EFA,), min_volumes=True),
    mode=st.sampled_from(["instant", "list"]),
    cargo=st.none() | st.floats(min_value=0.0, max_value=200_000.0),
    budget=st.none() | st.floats(min_value=0.0, max_value=2e9),
)
def test_hauling_never_takes_more_than_the_books_cargo_or_budget_allow(
    forge, domain, mode, cargo, budget
):
    result = haul_all(
        forge, domain, HaulRates.flat(0.036, 0.015), mode=mode, cargo_m3=cargo, budget=budget
    )
    everything = forge + domain
    for row in result.rows:
        q = row["quantity"]
        assert 0 < q <= units(everything, row["type_id"], row["from_location_id"], False)
        if mode == "instant":
            assert q <= units(everything, row["type_id"], row["to_location_id"], True)
        if cargo is not None:
            assert row["volume_m3"] <= cargo + 1e-6
        if budget is not None:
            assert row["buy_total"] <= budget + 0.01
        assert row["net_profit"] > 0


@PROPERTY
@given(
    forge=book_orders(FORGE_PLACES, min_volumes=True),
    domain=book_orders((AMARR_EFA,), min_volumes=True),
    quantity=st.integers(min_value=1, max_value=100_000),
    type_id=st.sampled_from(sorted(BASE_PRICE)),
)
def test_the_calculator_never_prices_more_than_the_books_hold(forge, domain, quantity, type_id):
    snapshots = {FORGE: snapshot(FORGE, forge), DOMAIN: snapshot(DOMAIN, domain)}
    b = calculate(
        type_id,
        resolve_place(JITA_44),
        resolve_place(AMARR_EFA),
        quantity,
        "instant",
        Skills(),
        snapshots=snapshots,
    )
    held_buy = units(forge, type_id, JITA_44, False)
    held_sell = units(domain, type_id, AMARR_EFA, True)
    assert b["quantity"] <= min(quantity, held_buy, held_sell)
    assert sum(o["units"] for o in b["buy_orders"]) == b["quantity"]
    assert sum(o["units"] for o in b["sell_orders"]) == b["quantity"]
    remaining = {o["order_id"]: o["volume_remain"] for o in domain}
    for fill in b["sell_orders"]:  # every buy order sold into accepts that many units
        assert fill["units"] >= min(fill["min_volume"], remaining[fill["order_id"]])
    assert b["complete"] == (b["quantity"] == quantity)


# --- The walk stops where the next unit would lose ------------------------------------------


@PROPERTY
@given(
    forge=book_orders((JITA_44,), min_volumes=False),
    domain=book_orders((AMARR_EFA,), min_volumes=False),
)
def test_the_walk_agrees_with_the_calculator_and_one_more_unit_earns_no_more(forge, domain):
    snapshots = {FORGE: snapshot(FORGE, forge), DOMAIN: snapshot(DOMAIN, domain)}
    jita, amarr = resolve_place(JITA_44), resolve_place(AMARR_EFA)
    result = hauling(
        [(snapshots[FORGE], jita)],
        [(snapshots[DOMAIN], amarr)],
        Skills(),
        HaulingParams(security="any"),
        volumes={},
    )
    for row in result.rows:

        def net(quantity, type_id=row["type_id"]):
            b = calculate(type_id, jita, amarr, quantity, "instant", Skills(), snapshots=snapshots)
            return b["quantity"], b["totals"]["net_profit"]

        assert net(row["quantity"]) == (row["quantity"], pytest.approx(row["net_profit"], abs=0.02))
        more, more_net = net(row["quantity"] + 1)
        if more > row["quantity"]:
            assert more_net <= row["net_profit"] + 0.02
        if row["quantity"] > 1:
            assert net(row["quantity"] - 1)[1] <= row["net_profit"] + 0.02


# --- Whatever order the orders arrive in ----------------------------------------------------


@PROPERTY
@given(
    forge=book_orders(FORGE_PLACES, min_volumes=True),
    domain=book_orders((AMARR_EFA,), min_volumes=True),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    mode=st.sampled_from(["instant", "list"]),
)
def test_the_same_answer_whatever_order_the_orders_arrive_in(forge, domain, seed, mode):
    shuffler = random.Random(seed)
    forge_shuffled, domain_shuffled = forge[:], domain[:]
    shuffler.shuffle(forge_shuffled)
    shuffler.shuffle(domain_shuffled)
    rates = HaulRates.flat(0.036, 0.015)
    assert (
        haul_all(forge, domain, rates, mode=mode).rows
        == haul_all(forge_shuffled, domain_shuffled, rates, mode=mode).rows
    )
    station = station_rates(0.036, 0.015)

    def scan(orders):
        return station_trading(
            snapshot(FORGE, orders), JITA_44, Skills(), StationFilters(), volumes={}, rates=station
        ).rows

    assert scan(forge) == scan(forge_shuffled)

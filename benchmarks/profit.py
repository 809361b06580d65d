"""Profit engine speed: the vectorised engines against plain per-order Python, same process.

    .venv/bin/python benchmarks/profit.py [--forge-orders 380000] [--runs 5] [--rounds 3]

Builds generated snapshots of the five hub regions (market/generator.py; The Forge at its
real size, about 380,000 orders, the others smaller as in the game, with ranged bids that
reach the hubs from elsewhere), then times three figures, each against a plain Python
implementation of the same rules written here (a loop over the orders, dicts and lists, no
numpy, nothing from market/ or profit/), asserting both give the same rows:

1. the station-trading scan at Jita 4-4 (60003760), every row, default filters: outbid the
   best bid a seller at the station can fill (ranged bids placed elsewhere included) and
   undercut the best ask, one step of EVE's 4-significant-digit price grid each; no row when
   no valid price lies inside the spread; no volumes are given, so no 30-day high caps the
   sell price ("unchecked");
2. region-to-region hauling, The Forge to Domain (every station of each), instant mode,
   default parameters (no cargo or budget limit, shortest high-sec routes): stood in at each
   Domain station where a bid of the type sits, selling into every bid that reaches it;
   timed as one API request costs it: the whole ranked answer and its first page of 100
   rows made into dicts (the engine makes a row's dict when it is read; the time to make
   every row, as a CSV export does, is printed too);
3. a full recompute of all boards: the station scan at each of the five hubs (top 20) and
   hauling between every ordered pair of hub stations (20 routes, default parameters, top 20),
   selling into every bid that reaches the destination hub.

Rows are compared field by field: prices, the best bid's station, depths, order counts, the
station's volume share and the listing basis for station trading; places, quantity, jumps,
profit, orders used and the bids sold into (order, station, units) for hauling.

The reference's jumps come from its own breadth-first search over the SDE's
mapSolarSystemJumps: any security for buy-order ranges, high-sec systems only (displayed
security 0.5 or more, the route's ends included) for a row's route; the distances from a
system are kept between runs, as the engines keep their route rows.

After one warm-up run of each (so the per-SDE tables and route rows are loaded; its time is
printed as "first"), each figure is measured in --rounds rounds of --runs engine runs followed
by one reference run; the engine time is the median of all its runs, the speedup the median
over the rounds of (reference run / median engine run of that round), so both sides of a
ratio ran under the same outside load. Those engine runs reuse what the engines keep per
snapshot (the bids reaching a station, the stations' shares of the book), as a web worker
does between requests; each figure is then timed again "on a new snapshot" (new Snapshot
objects over the same arrays before every run), as a worker recomputing the boards after a
refresh sees it. Peak memory is what tracemalloc sees allocated during one run (numpy
reports its buffers to it); the process's peak RSS is printed at the end. The order dicts
the reference reads are frozen out of the garbage collector (gc.freeze) once built. Rates
are the seeded fee schedule's with no skills (sales tax 7.5 %, broker fee 3 %, minimum 100
ISK), given to the engines directly so that no app database is needed for the figures; the
SDE must be installed. The last line times the product's own recompute
(profit.boards.compute_boards), which reads the fee schedule: it needs a migrated app
database (DATABASE_URL) and is skipped without one.

On a shared machine other processes' CPU skews the times: each figure prints the cores other
processes used while it ran.

Targets on the 2-core reference machine: station scan <= 50 ms, region hauling <= 300 ms,
all boards <= 2 s, each >= 20x faster than the reference.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HUB_ORDERS = {
    10000002: 380_000,  # The Forge
    10000043: 90_000,  # Domain
    10000032: 60_000,  # Sinq Laison
    10000030: 40_000,  # Heimatar
    10000042: 45_000,  # Metropolis
}
FORGE, DOMAIN = 10000002, 10000043
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
SALES_TAX, BROKER_FEE, MIN_BROKER_FEE = 0.075, 0.03, 100.0
BOARD_SIZE = 20
PAGE_SIZE = 100  # rows of one API page (the API's default page size)
MAX_WALKS = 8  # as profit.hauling
TARGETS_MS = {"station": 50.0, "region": 300.0, "boards": 2000.0}
TARGET_SPEEDUP = 20.0

Order = dict[str, Any]


# --- The plain Python reference ----------------------------------------------------------
#
# The same rules as the engines, written again one order at a time: EVE's price grid in whole
# cents, buy-order ranges with jumps from a breadth-first search over the SDE's stargates,
# dicts and lists, no numpy and nothing from market/ or profit/.


def _grid_step(cents: int) -> int:
    """The grid step, in cents, around a whole-cent amount: 4 significant digits, and never
    less than a cent (a price of d digits in cents is a multiple of 10^(d - 4) cents)."""
    return 10 ** max(len(str(cents)) - 4, 0)


def _grid_next(cents: int) -> int:
    """The lowest valid price (in cents) strictly above a whole-cent amount."""
    step = _grid_step(cents)
    return (cents // step + 1) * step


def _grid_previous(cents: int) -> int:
    """The highest valid price (in cents) strictly below a whole-cent amount; 0 if none."""
    below = cents - 1
    step = _grid_step(below)
    return below // step * step


def outbid(price: float) -> float:
    """The lowest valid price strictly above `price` (the float as it is), walking up the grid
    from a couple of cents under it."""
    cents = _grid_next(max(int(price * 100) - 2, 0))
    while cents / 100 <= price:
        cents = _grid_next(cents)
    return cents / 100


def undercut(price: float) -> float:
    """The highest valid price strictly below `price`; NaN at or under 0.01 ISK."""
    cents = _grid_previous(int(price * 100) + 2)
    while cents >= 1 and cents / 100 >= price:
        cents = _grid_previous(cents)
    return cents / 100 if cents >= 1 else math.nan


def shown_security(security: float) -> float:
    """The one-decimal security the game shows: rounded, and never 0.0 for a positive one."""
    return 0.1 if 0 < security < 0.05 else round(security, 1)


class Gates:
    """Jumps between solar systems by breadth-first search over the SDE's
    mapSolarSystemJumps (each gate stored both ways). The distances from a start system are
    kept, as the engines keep their route rows between runs."""

    def __init__(self) -> None:
        from sde.models import MapSolarSystem, MapSolarSystemJump

        self.neighbours: dict[int, list[int]] = defaultdict(list)
        for a, b in MapSolarSystemJump.objects.values_list(
            "from_solar_system_id", "to_solar_system_id"
        ):
            self.neighbours[a].append(b)
        self.high_sec = {
            system
            for system, security in MapSolarSystem.objects.values_list(
                "solar_system_id", "security"
            )
            if security is not None and shown_security(security) >= 0.5
        }
        self.kept: dict[tuple[int, bool], dict[int, int]] = {}

    def from_system(self, start: int, high_sec_only: bool) -> dict[int, int]:
        """Fewest jumps from `start` to every system it reaches (only through high-sec
        systems, start and end included, when asked)."""
        key = (start, high_sec_only)
        found = self.kept.get(key)
        if found is None:
            found = self.kept[key] = self._search(start, high_sec_only)
        return found

    def _search(self, start: int, high_sec_only: bool) -> dict[int, int]:
        if high_sec_only and start not in self.high_sec:
            return {}
        distance = {start: 0}
        frontier = [start]
        hops = 0
        while frontier:
            hops += 1
            reached = []
            for system in frontier:
                for other in self.neighbours.get(system, ()):
                    if other not in distance and (not high_sec_only or other in self.high_sec):
                        distance[other] = hops
                        reached.append(other)
            frontier = reached
        return distance


def fills(order: Order, station_id: int, system_id: int, reach: dict[int, int]) -> bool:
    """Whether a seller at the station (in `system_id`; `reach`: jumps from there, any
    security) can fill the buy order."""
    order_range = order["range"]
    if order_range == "region" or order["location_id"] == station_id:
        return True
    if order_range == "station":
        return False
    if order["system_id"] == system_id:
        return True
    if order_range == "solarsystem":
        return False
    hops = reach.get(order["system_id"])
    return hops is not None and hops <= int(order_range)


def _count(counts: dict[int, list[int]], type_id: int, units: int) -> None:
    entry = counts.get(type_id)
    if entry is None:
        counts[type_id] = [1, units]
    else:
        entry[0] += 1
        entry[1] += units


def ref_station(
    orders: list[Order], station_id: int, gates: Gates, top: int | None = None
) -> list[dict]:
    """Station trading, one order at a time: outbid the best bid a seller at the station can
    fill, undercut the best ask there, one grid step each (no volumes are given, so no 30-day
    high caps the sell price)."""
    system_id = next(o["system_id"] for o in orders if o["location_id"] == station_id)
    reach = gates.from_system(system_id, high_sec_only=False)
    asks: dict[int, list[float]] = {}  # per type: [best ask, units, orders]
    bids: dict[
        int, list[Any]
    ] = {}  # per type: [best bid, its order id, its station, units, orders]
    region: dict[int, list[int]] = {}  # per type: [sell orders, units] in the whole region
    here: dict[int, list[int]] = {}  # the same at the station
    for o in orders:
        type_id, price, units = o["type_id"], o["price"], o["volume_remain"]
        at_station = o["location_id"] == station_id
        if not o["is_buy_order"]:
            _count(region, type_id, units)
            if at_station:
                _count(here, type_id, units)
        if not o["is_buy_order"]:
            if not at_station:
                continue
            ask = asks.get(type_id)
            if ask is None:
                asks[type_id] = [price, units, 1]
            else:
                ask[0] = min(ask[0], price)
                ask[1] += units
                ask[2] += 1
        elif fills(o, station_id, system_id, reach):
            bid = bids.get(type_id)
            if bid is None:
                bids[type_id] = [price, o["order_id"], o["location_id"], units, 1]
                continue
            if price > bid[0] or (price == bid[0] and o["order_id"] < bid[1]):
                bid[0], bid[1], bid[2] = price, o["order_id"], o["location_id"]
            bid[3] += units
            bid[4] += 1
    rows = []
    for type_id, (best_bid, _, bid_location, bid_volume, bid_orders) in bids.items():
        ask = asks.get(type_id)
        if ask is None:
            continue
        best_ask, ask_volume, ask_orders = ask
        buy_price = outbid(best_bid)
        if buy_price >= best_ask:
            continue  # no valid price inside the spread
        sell_price = undercut(best_ask)
        if not sell_price > 0:
            continue
        quantity = max(min(bid_volume, ask_volume), 1)
        buy_fee = max(buy_price * quantity * BROKER_FEE, MIN_BROKER_FEE) / quantity
        sell_fee = max(sell_price * quantity * BROKER_FEE, MIN_BROKER_FEE) / quantity
        profit = sell_price - sell_price * SALES_TAX - sell_fee - buy_price - buy_fee
        if not profit > 0:
            continue
        # The station's share of the region's sell orders for the type.
        share = here[type_id][0] / region[type_id][0]
        rows.append(
            {
                "type_id": type_id,
                "best_bid": best_bid,
                "best_bid_location_id": bid_location,
                "best_ask": best_ask,
                "buy_price": buy_price,
                "sell_price": sell_price,
                "profit_per_unit": profit,
                "bid_volume": bid_volume,
                "ask_volume": ask_volume,
                "buy_orders": bid_orders,
                "sell_orders": ask_orders,
                "order_quantity": quantity,
                "volume_share": 1.0 if share >= 0.5 else share,
                "list_price_basis": "unchecked",
            }
        )
    rows.sort(key=lambda r: (-r["profit_per_unit"], r["type_id"]))
    return rows[:top] if top is not None else rows


Sell = tuple[float, int, int]  # price, order id, units
Bid = tuple[float, int, int, int, int]  # price, order id, units, minimum volume, station


@dataclass
class Walked:
    quantity: int
    cost: float
    takings: float
    asks_used: int  # sell orders bought from
    sold: list[int]  # units sold into each bid of the book


def _walk(sells: list[Sell], buys: list[Bid]) -> Walked | None:
    """The instant depth walk of one (source, stand point) pair: sell orders cheapest first
    against the bids dearest first while the next unit earns; a bid that would get fewer
    units than its minimum is skipped and the walk redone (at most MAX_WALKS times)."""
    skipped: set[int] = set()
    for _ in range(MAX_WALKS + 1):
        i, j, quantity, cost, takings = 0, 0, 0, 0.0, 0.0
        s_left, d_left = sells[0][2], buys[0][2]
        sold = [0] * len(buys)
        asks_used, last_ask = 0, -1
        while i < len(sells) and j < len(buys):
            if j in skipped or d_left == 0:
                j += 1
                d_left = buys[j][2] if j < len(buys) else 0
                continue
            s_price, d_price = sells[i][0], buys[j][0]
            if not d_price * (1.0 - SALES_TAX) > s_price:
                break
            units = min(s_left, d_left)
            quantity += units
            cost += units * s_price
            takings += units * d_price
            sold[j] += units
            if i != last_ask:
                asks_used, last_ask = asks_used + 1, i
            s_left -= units
            d_left -= units
            if s_left == 0:
                i += 1
                s_left = sells[i][2] if i < len(sells) else 0
        last = max((k for k in range(len(buys)) if sold[k] > 0), default=None)
        if last is None:
            return None
        if sold[last] < min(buys[last][3], buys[last][2]):
            skipped.add(last)
            continue
        return Walked(quantity, cost, takings, asks_used, sold)
    return None


def ref_hauling(
    src_orders: list[Order],
    dst_orders: list[Order],
    src_location: int | None,
    dst_location: int | None,
    gates: Gates,
    top: int | None = None,
) -> list[dict]:
    """Instant hauling with default parameters (no cargo or budget limit, shortest high-sec
    routes), one order at a time. A location of None means the whole region of the orders:
    a destination region is stood in at each station where a bid of the type sits. Where the
    hauler stands it sells into every bid a seller there can fill."""
    systems: dict[int, int] = {}
    sells: dict[int, dict[int, list[Sell]]] = defaultdict(dict)
    for o in src_orders:
        if o["is_buy_order"] or (src_location is not None and o["location_id"] != src_location):
            continue
        sells[o["type_id"]].setdefault(o["location_id"], []).append(
            (o["price"], o["order_id"], o["volume_remain"])
        )
        systems[o["location_id"]] = o["system_id"]
    for by_location in sells.values():
        for book in by_location.values():
            book.sort()  # cheapest first, then by order id
    bids: dict[int, list[Order]] = defaultdict(list)
    for o in dst_orders:
        systems[o["location_id"]] = o["system_id"]
        if o["is_buy_order"] and o["type_id"] in sells:
            bids[o["type_id"]].append(o)
    rows: list[dict[str, Any]] = []
    for type_id, type_bids in bids.items():
        if dst_location is not None:
            stands = [dst_location]
        else:
            stands = sorted({o["location_id"] for o in type_bids})
        for stand in stands:
            stand_system = systems[stand]
            reach = gates.from_system(stand_system, high_sec_only=False)
            reaching = sorted(  # dearest first (prices negated), then by order id
                (-o["price"], o["order_id"], o["volume_remain"], o["min_volume"], o["location_id"])
                for o in type_bids
                if fills(o, stand, stand_system, reach)
            )
            if not reaching:
                continue
            buys: list[Bid] = [(-p, i, v, m, loc) for p, i, v, m, loc in reaching]
            route = gates.from_system(stand_system, high_sec_only=True)
            for src, sell_book in sells[type_id].items():
                if not buys[0][0] * (1.0 - SALES_TAX) > sell_book[0][0]:
                    continue
                hops = route.get(systems[src])
                if hops is None:
                    continue  # no high-sec route
                walked = _walk(sell_book, buys)
                if walked is None:
                    continue
                net = walked.takings - walked.takings * SALES_TAX - walked.cost
                if walked.quantity > 0 and net > 0:
                    sold_into = [
                        (buys[k][1], buys[k][4], units)
                        for k, units in enumerate(walked.sold)
                        if units > 0
                    ]
                    rows.append(
                        {
                            "type_id": type_id,
                            "from_location_id": src,
                            "to_location_id": stand,
                            "quantity": walked.quantity,
                            "net_profit": net,
                            "jumps": hops,
                            "buy_orders_used": walked.asks_used,
                            "sell_orders_used": len(sold_into),
                            "sell_orders": sold_into,
                        }
                    )
    rows.sort(
        key=lambda r: (-r["net_profit"], r["type_id"], r["from_location_id"], r["to_location_id"])
    )
    return rows[:top] if top is not None else rows


# --- Measuring ---------------------------------------------------------------------------


class Cpu:
    """Cores other processes used while a block ran (from /proc/stat, minus our own CPU)."""

    def __init__(self) -> None:
        self.tick = os.sysconf("SC_CLK_TCK")

    def machine(self) -> float:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        return (sum(fields[:8]) - fields[3] - fields[4]) / self.tick

    def run(self, fn: Callable[[], Any]) -> tuple[float, float, Any]:
        busy, own, started = self.machine(), time.process_time(), time.perf_counter()
        result = fn()
        wall = time.perf_counter() - started
        others = (self.machine() - busy) - (time.process_time() - own)
        return wall, max(others, 0.0) / max(wall, 1e-9), result


@dataclass
class Figure:
    name: str
    engine: list[float]  # every engine run
    reference: list[float]  # every reference run
    ratios: list[float]  # per round: reference run / median of that round's engine runs
    others: list[float]  # cores other processes used, per run
    engine_peak: int
    reference_peak: int
    cold: float

    def line(self) -> str:
        engine = statistics.median(self.engine) * 1000
        reference = statistics.median(self.reference) * 1000
        speedup = statistics.median(self.ratios)
        target = TARGETS_MS[self.name]
        spread = f"{min(self.engine) * 1000:.1f}-{max(self.engine) * 1000:.1f}"
        rounds = ", ".join(f"{r:.0f}" for r in self.ratios)
        return (
            f"{self.name:<8} engine {engine:8.1f} ms (runs {spread}, first {self.cold * 1000:.0f})"
            f"  target {target:.0f} ms {'ok' if engine <= target else 'MISSED'}\n"
            f"{'':<8} reference {reference:8.1f} ms  speedup {speedup:6.1f}x (rounds {rounds}) "
            f"{'ok' if speedup >= TARGET_SPEEDUP else 'MISSED'}\n"
            f"{'':<8} peak traced memory: engine {self.engine_peak / 2**20:.1f} MB, "
            f"reference {self.reference_peak / 2**20:.1f} MB; other processes used "
            f"{statistics.median(self.others):.2f} cores (max {max(self.others):.2f})"
        )


def traced_peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(
    name: str,
    engine: Callable[[], Any],
    reference: Callable[[], Any],
    same: Callable[[Any, Any], None],
    runs: int,
    rounds: int,
    cpu: Cpu,
) -> Figure:
    """`rounds` rounds of `runs` engine runs then one reference run, back to back, so that
    both sides of each round's ratio see the same outside load."""
    cold, _, first = cpu.run(engine)
    ref_result = reference()
    same(first, ref_result)
    engine_times: list[float] = []
    ref_times: list[float] = []
    ratios: list[float] = []
    others: list[float] = []
    for _ in range(rounds):
        walls = []
        for _ in range(runs):
            wall, other, result = cpu.run(engine)
            walls.append(wall)
            others.append(other)
        same(result, ref_result)
        wall, other, _ = cpu.run(reference)
        others.append(other)
        engine_times += walls
        ref_times.append(wall)
        ratios.append(wall / statistics.median(walls))
    return Figure(
        name,
        engine_times,
        ref_times,
        ratios,
        others,
        traced_peak(engine),
        traced_peak(reference),
        cold,
    )


# --- Comparing answers -------------------------------------------------------------------


_STATION_EXACT = (
    *("type_id", "best_bid_location_id", "bid_volume", "ask_volume", "buy_orders"),
    *("sell_orders", "order_quantity", "list_price_basis"),
)
_STATION_ISK = ("best_bid", "best_ask", "buy_price", "sell_price", "profit_per_unit")


def same_station(engine_rows: list[dict], ref_rows: list[dict]) -> None:
    assert len(engine_rows) == len(ref_rows), (len(engine_rows), len(ref_rows))
    for mine, theirs in zip(engine_rows, ref_rows, strict=True):
        assert all(mine[k] == theirs[k] for k in _STATION_EXACT), (mine, theirs)
        for k in _STATION_ISK:  # the engine's rows round ISK to 4 decimals
            assert math.isclose(mine[k], theirs[k], rel_tol=1e-9, abs_tol=1e-4), (k, mine, theirs)
        assert math.isclose(mine["volume_share"], theirs["volume_share"], abs_tol=1e-4), (
            mine,
            theirs,
        )
        assert mine["daily_volume"] is None, mine  # no volumes given: unknown


_HAULING_EXACT = (
    *("type_id", "from_location_id", "to_location_id", "quantity", "jumps"),
    *("buy_orders_used", "sell_orders_used"),
)


def same_hauling(engine_rows: list[dict], ref_rows: list[dict]) -> None:
    assert len(engine_rows) == len(ref_rows), (len(engine_rows), len(ref_rows))
    for mine, theirs in zip(engine_rows, ref_rows, strict=True):
        assert all(mine[k] == theirs[k] for k in _HAULING_EXACT), (mine, theirs)
        assert math.isclose(mine["net_profit"], theirs["net_profit"], rel_tol=1e-9, abs_tol=0.01), (
            mine,
            theirs,
        )
        sold = [(o["order_id"], o["location_id"], o["units"]) for o in mine["sell_orders"]]
        assert sold == theirs["sell_orders"], (mine, theirs)
        assert mine["daily_volume"] is None, mine  # no volumes given: unknown


# --- Main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forge-orders", type=int, default=HUB_ORDERS[FORGE])
    parser.add_argument("--runs", type=int, default=5, help="engine runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (one reference run each)")
    args = parser.parse_args()

    import django

    django.setup()

    from market.generator import generate_orders
    from market.hubs import HUB_STATIONS
    from market.snapshot import Snapshot, SnapshotMeta, columns_from_pages
    from profit.fees import Rates, Skills
    from profit.hauling import HaulingParams, HaulRates, hauling
    from profit.locations import resolve_place
    from profit.station import StationFilters, station_trading

    sizes = dict(HUB_ORDERS)
    sizes[FORGE] = args.forge_orders
    orders: dict[int, list[Order]] = {}
    snapshots: dict[int, Snapshot] = {}
    started = time.perf_counter()
    for region, n in sizes.items():
        orders[region] = generate_orders(region, n, now=NOW)
        meta = SnapshotMeta(region, "bench", "demo", NOW.isoformat(), None, NOW.isoformat(), 1, n)
        snapshots[region] = Snapshot.build(meta, columns_from_pages([(1, orders[region])]))
    print(
        f"built {len(sizes)} snapshots ({sum(sizes.values()):,} orders; The Forge "
        f"{sizes[FORGE]:,}) in {time.perf_counter() - started:.1f} s"
    )
    # The 615,000 order dicts are the reference's input, not part of either computation: out
    # of the collector's sight, so that no full collection triggered by either side's
    # allocations spends 50-100 ms walking them (a worker holds no such dicts).
    gc.collect()
    gc.freeze()

    skills = Skills()
    station_rates = Rates(SALES_TAX, BROKER_FEE, MIN_BROKER_FEE, 0.5, "benchmark")
    haul_rates = HaulRates.flat(SALES_TAX, BROKER_FEE, MIN_BROKER_FEE)
    params = HaulingParams()  # instant, no cargo or budget limit, shortest high-sec routes
    places = {r: resolve_place(HUB_STATIONS[r]) for r in sizes}
    region_places = {r: resolve_place(r) for r in (FORGE, DOMAIN)}
    gates = Gates()  # the stargate graph, read once, as the engines read theirs

    cpu = Cpu()
    jita = HUB_STATIONS[FORGE]

    def engine_station() -> list[dict]:
        """Every row made into a dict, as before rows were made when read."""
        return list(
            station_trading(
                snapshots[FORGE], jita, skills, StationFilters(), volumes={}, rates=station_rates
            ).rows
        )

    def engine_region() -> Any:
        """What one API request costs: the whole ranked answer, and its first page of rows
        made into dicts (the rest are made when read; compared with the reference's after
        the timing)."""
        rows = hauling(
            [(snapshots[FORGE], region_places[FORGE])],
            [(snapshots[DOMAIN], region_places[DOMAIN])],
            skills,
            params,
            rates=haul_rates,
            volumes={},
        ).rows
        rows[:PAGE_SIZE]
        return rows

    def ref_region() -> list[dict]:
        return ref_hauling(orders[FORGE], orders[DOMAIN], None, None, gates)

    def engine_boards() -> list[list[dict]]:
        boards = []
        top = StationFilters(limit=BOARD_SIZE)
        for region, snapshot in snapshots.items():
            scan = station_trading(
                snapshot, HUB_STATIONS[region], skills, top, volumes={}, rates=station_rates
            )
            boards.append(list(scan.rows))
        top_haul = HaulingParams(limit=BOARD_SIZE)
        for a in snapshots:
            for b in snapshots:
                if a != b:
                    routed = hauling(
                        [(snapshots[a], places[a])],
                        [(snapshots[b], places[b])],
                        skills,
                        top_haul,
                        rates=haul_rates,
                        volumes={},
                    )
                    boards.append(list(routed.rows))
        return boards

    def ref_boards() -> list[list[dict]]:
        boards = [ref_station(orders[r], HUB_STATIONS[r], gates, BOARD_SIZE) for r in orders]
        for a in orders:
            for b in orders:
                if a != b:
                    boards.append(
                        ref_hauling(
                            orders[a],
                            orders[b],
                            HUB_STATIONS[a],
                            HUB_STATIONS[b],
                            gates,
                            BOARD_SIZE,
                        )
                    )
        return boards

    def same_boards(mine: list[list[dict]], theirs: list[list[dict]]) -> None:
        for k, (m, t) in enumerate(zip(mine, theirs, strict=True)):
            (same_station if k < len(snapshots) else same_hauling)(m, t)

    figures = [
        measure(
            "station",
            engine_station,
            lambda: ref_station(orders[FORGE], jita, gates),
            same_station,
            args.runs,
            args.rounds,
            cpu,
        ),
        measure("region", engine_region, ref_region, same_hauling, args.runs, args.rounds, cpu),
        measure(
            "boards",
            engine_boards,
            ref_boards,
            same_boards,
            max(2, args.runs // 2),
            max(1, args.rounds - 1),
            cpu,
        ),
    ]
    rows = {
        "station": len(engine_station()),
        "region": len(engine_region()),
        "boards": sum(len(b) for b in engine_boards()),
    }
    print("engine and reference agree on every row compared")
    for figure in figures:
        print(f"{figure.line()}\n{'':<8} rows: {rows[figure.name]:,}")
    every = []
    for _ in range(args.runs):
        wall, _, _ = cpu.run(lambda: list(engine_region()))
        every.append(wall * 1000)
    print(
        f"region   every row made into a dict (a CSV export): "
        f"{statistics.median(every):.1f} ms median of {len(every)}"
    )

    def fresh() -> None:
        """New Snapshot objects over the same arrays, as a newly published generation is:
        the engines' answers kept per snapshot (the bids reaching a station, the stations'
        shares of the book, the dearest ranged bids) are not there yet; per-SDE tables and
        route rows are."""
        for region, old in list(snapshots.items()):
            snapshots[region] = Snapshot(old.meta, old.book, old.stations)

    engines = {"station": engine_station, "region": engine_region, "boards": engine_boards}
    for name, engine in engines.items():
        walls = []
        for _ in range(args.runs):
            fresh()
            wall, _, _ = cpu.run(engine)
            walls.append(wall * 1000)
        median = statistics.median(walls)
        print(
            f"{name:<8} on a new snapshot: {median:8.1f} ms median of {len(walls)} "
            f"(runs {min(walls):.1f}-{max(walls):.1f})  target {TARGETS_MS[name]:.0f} ms "
            f"{'ok' if median <= TARGETS_MS[name] else 'MISSED'}"
        )
    # The product's own recompute, as a worker runs it (profit.boards: station boards with
    # their margin cap, the hauling board with its stated hauler), for the record.
    from django.db import DatabaseError

    from profit.boards import compute_boards

    try:
        compute_boards(snapshots)  # warm
    except DatabaseError as exc:  # its rates come from the fee schedule in the app database
        print(f"profit.boards.compute_boards skipped: no migrated app database ({exc})")
    else:
        product = []
        for _ in range(max(3, args.runs)):
            fresh()
            started = time.perf_counter()
            compute_boards(snapshots)
            product.append((time.perf_counter() - started) * 1000)
        print(
            f"profit.boards.compute_boards (the worker's recompute, new snapshots): "
            f"{statistics.median(product):.0f} ms median of {len(product)} (target 2,000 ms)"
        )
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS {peak_rss:.0f} MB (snapshots, the order dicts and both engines)")


if __name__ == "__main__":
    main()

"""Profit engine speed: the vectorised engines against plain per-order Python, same process.

    .venv/bin/python benchmarks/profit.py [--forge-orders 380000] [--runs 5] [--rounds 3]

Builds generated snapshots of the five hub regions (market/generator.py; The Forge at its
real size, about 380,000 orders, the others smaller as in the game), then times three
figures, each against a plain Python implementation of the same computation written here
(a loop over the orders, dicts and lists, no numpy), asserting both give the same rows:

1. the station-trading scan at Jita 4-4 (60003760), every row, default filters;
2. region-to-region hauling, The Forge to Domain (every station of each), instant mode,
   default parameters (no cargo or budget limit, high-sec routes);
3. a full recompute of all boards: the station scan at each of the five hubs (top 20) and
   hauling between every ordered pair of hub stations (20 routes, default parameters, top 20).

After one warm-up run of each (so the per-SDE tables and route rows are loaded; its time is
printed as "first"), each figure is measured in --rounds rounds of --runs engine runs followed
by one reference run; the engine time is the median of all its runs, the speedup the median
over the rounds of (reference run / median engine run of that round), so both sides of a
ratio ran under the same outside load. Peak memory is what tracemalloc sees allocated
during one run (numpy reports its buffers to it); the process's peak RSS is printed at the
end. Rates are the seeded fee schedule's with no skills (sales tax 7.5 %, broker fee 3 %,
minimum 100 ISK), given to the engines directly so that no app database is needed; the SDE
must be installed.

On a shared machine other processes' CPU skews the times: each figure prints the cores other
processes used while it ran.

Targets on the 2-core reference machine: station scan <= 50 ms, region hauling <= 300 ms,
all boards <= 2 s, each >= 20x faster than the reference.
"""

from __future__ import annotations

import argparse
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
TICK = 0.01
BOARD_SIZE = 20
MAX_WALKS = 8  # as profit.hauling
TARGETS_MS = {"station": 50.0, "region": 300.0, "boards": 2000.0}
TARGET_SPEEDUP = 20.0

Order = dict[str, Any]


# --- The plain Python reference ----------------------------------------------------------


def ref_station(orders: list[Order], station_id: int, top: int | None = None) -> list[dict]:
    """Station trading, one order at a time (the same formulas as profit/station.py)."""
    bids: dict[int, list[float]] = {}
    asks: dict[int, list[float]] = {}
    for o in orders:
        if o["location_id"] != station_id:
            continue
        side = bids if o["is_buy_order"] else asks
        entry = side.get(o["type_id"])
        price = o["price"]
        if entry is None:
            side[o["type_id"]] = [price, o["volume_remain"], 1]
            continue
        if (price > entry[0]) if o["is_buy_order"] else (price < entry[0]):
            entry[0] = price
        entry[1] += o["volume_remain"]
        entry[2] += 1
    rows = []
    for type_id, (bid, bid_volume, _) in bids.items():
        ask_entry = asks.get(type_id)
        if ask_entry is None:
            continue
        ask, ask_volume = ask_entry[0], ask_entry[1]
        quantity = float(max(min(bid_volume, ask_volume), 1))
        buy_price, sell_price = bid + TICK, ask - TICK
        buy_fee = max(buy_price * quantity * BROKER_FEE, MIN_BROKER_FEE) / quantity
        sell_fee = max(sell_price * quantity * BROKER_FEE, MIN_BROKER_FEE) / quantity
        profit = sell_price - sell_price * SALES_TAX - sell_fee - buy_price - buy_fee
        if profit > 0 and sell_price > 0:
            rows.append({"type_id": type_id, "profit_per_unit": profit})
    rows.sort(key=lambda r: (-r["profit_per_unit"], r["type_id"]))
    return rows[:top] if top is not None else rows


def _walk(
    sells: list[tuple[float, int, int]], buys: list[tuple[float, int, int, int]]
) -> tuple[int, float, float] | None:
    """Units, cost and takings of the instant depth walk of one (source, destination) pair:
    sell orders cheapest first against buy orders dearest first while the next unit earns;
    a buy order that would get fewer units than its minimum is skipped and the walk redone."""
    skipped: set[int] = set()
    for _ in range(MAX_WALKS + 1):
        i, j, quantity, cost, takings = 0, 0, 0, 0.0, 0.0
        s_left = sells[0][2]
        d_left = buys[0][2]
        into = [0] * len(buys)
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
            into[j] += units
            s_left -= units
            d_left -= units
            if s_left == 0:
                i += 1
                s_left = sells[i][2] if i < len(sells) else 0
        last = max((k for k in range(len(buys)) if into[k] > 0), default=None)
        if last is None:
            return None
        if into[last] < min(buys[last][3], buys[last][2]):
            skipped.add(last)
            continue
        return quantity, cost, takings
    return None


def ref_hauling(
    src_orders: list[Order],
    dst_orders: list[Order],
    src_location: int | None,
    dst_location: int | None,
    jumps: Callable[[int, int], int | None],
    top: int | None = None,
) -> list[dict]:
    """Instant hauling with default parameters, one order at a time. A location of None
    means the whole region of the orders given."""
    sells: dict[int, dict[int, list[tuple[float, int, int]]]] = defaultdict(dict)
    systems: dict[int, int] = {}
    for o in src_orders:
        if o["is_buy_order"] or (src_location is not None and o["location_id"] != src_location):
            continue
        sells[o["type_id"]].setdefault(o["location_id"], []).append(
            (o["price"], o["order_id"], o["volume_remain"])
        )
        systems[o["location_id"]] = o["system_id"]
    bids: dict[int, dict[int, list[tuple[float, int, int, int]]]] = defaultdict(dict)
    for o in dst_orders:
        if not o["is_buy_order"] or (dst_location is not None and o["location_id"] != dst_location):
            continue
        bids[o["type_id"]].setdefault(o["location_id"], []).append(
            (-o["price"], o["order_id"], o["volume_remain"], o["min_volume"])
        )
        systems[o["location_id"]] = o["system_id"]
    for by_location in sells.values():
        for book in by_location.values():
            book.sort()  # cheapest first, then by order id
    buys: dict[int, dict[int, list[tuple[float, int, int, int]]]] = {}
    for type_id, bids_by_location in bids.items():
        buys[type_id] = {}
        for location, bid_book in bids_by_location.items():
            bid_book.sort()  # dearest first (prices negated), then by order id
            buys[type_id][location] = [(-p, i, v, m) for p, i, v, m in bid_book]
    rows = []
    for type_id, by_source in sells.items():
        by_destination = buys.get(type_id)
        if not by_destination:
            continue
        for src, sell_book in by_source.items():
            for dst, buy_book in by_destination.items():
                if not buy_book[0][0] * (1.0 - SALES_TAX) > sell_book[0][0]:
                    continue
                hops = jumps(systems[src], systems[dst])
                if hops is None:
                    continue
                walked = _walk(sell_book, buy_book)
                if walked is None:
                    continue
                quantity, cost, takings = walked
                net = takings - takings * SALES_TAX - cost
                if quantity > 0 and net > 0:
                    rows.append(
                        {
                            "type_id": type_id,
                            "from_location_id": src,
                            "to_location_id": dst,
                            "quantity": quantity,
                            "net_profit": net,
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


def same_station(engine_rows: list[dict], ref_rows: list[dict]) -> None:
    assert len(engine_rows) == len(ref_rows), (len(engine_rows), len(ref_rows))
    for mine, theirs in zip(engine_rows, ref_rows, strict=True):
        assert mine["type_id"] == theirs["type_id"], (mine, theirs)
        assert math.isclose(
            mine["profit_per_unit"], theirs["profit_per_unit"], rel_tol=1e-6, abs_tol=1e-3
        ), (mine, theirs)


def same_hauling(engine_rows: list[dict], ref_rows: list[dict]) -> None:
    assert len(engine_rows) == len(ref_rows), (len(engine_rows), len(ref_rows))
    for mine, theirs in zip(engine_rows, ref_rows, strict=True):
        key = ("type_id", "from_location_id", "to_location_id", "quantity")
        assert all(mine[k] == theirs[k] for k in key), (mine, theirs)
        assert math.isclose(mine["net_profit"], theirs["net_profit"], rel_tol=1e-9, abs_tol=0.01), (
            mine,
            theirs,
        )


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
    from sde import routes

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

    skills = Skills()
    station_rates = Rates(SALES_TAX, BROKER_FEE, MIN_BROKER_FEE, 0.5, "benchmark")
    haul_rates = HaulRates.flat(SALES_TAX, BROKER_FEE, MIN_BROKER_FEE)
    params = HaulingParams()  # instant, no cargo or budget limit, shortest high-sec routes
    places = {r: resolve_place(HUB_STATIONS[r]) for r in sizes}
    region_places = {r: resolve_place(r) for r in (FORGE, DOMAIN)}
    jump_memo: dict[tuple[int, int], int | None] = {}

    def ref_jumps(a: int, b: int) -> int | None:
        if (a, b) not in jump_memo:
            jump_memo[(a, b)] = routes.jumps(a, b, params.preference, params.security)
        return jump_memo[(a, b)]

    cpu = Cpu()
    jita = HUB_STATIONS[FORGE]

    def engine_station() -> list[dict]:
        return station_trading(
            snapshots[FORGE], jita, skills, StationFilters(), volumes={}, rates=station_rates
        ).rows

    def engine_region() -> list[dict]:
        return hauling(
            [(snapshots[FORGE], region_places[FORGE])],
            [(snapshots[DOMAIN], region_places[DOMAIN])],
            skills,
            params,
            rates=haul_rates,
            volumes={},
        ).rows

    def ref_region() -> list[dict]:
        return ref_hauling(orders[FORGE], orders[DOMAIN], None, None, ref_jumps)

    def engine_boards() -> list[list[dict]]:
        boards = []
        top = StationFilters(limit=BOARD_SIZE)
        for region, snapshot in snapshots.items():
            scan = station_trading(
                snapshot, HUB_STATIONS[region], skills, top, volumes={}, rates=station_rates
            )
            boards.append(scan.rows)
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
                    boards.append(routed.rows)
        return boards

    def ref_boards() -> list[list[dict]]:
        boards = [ref_station(orders[r], HUB_STATIONS[r], BOARD_SIZE) for r in orders]
        for a in orders:
            for b in orders:
                if a != b:
                    boards.append(
                        ref_hauling(
                            orders[a],
                            orders[b],
                            HUB_STATIONS[a],
                            HUB_STATIONS[b],
                            ref_jumps,
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
            lambda: ref_station(orders[FORGE], jita),
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
    # The product's own recompute, as a worker runs it (profit.boards: station boards with
    # their margin cap, the hauling board with its stated hauler), for the record.
    from profit.boards import compute_boards

    compute_boards(snapshots)  # warm
    product = []
    for _ in range(max(3, args.runs)):
        started = time.perf_counter()
        compute_boards(snapshots)
        product.append((time.perf_counter() - started) * 1000)
    print(
        f"profit.boards.compute_boards (the worker's recompute): "
        f"{statistics.median(product):.0f} ms median of {len(product)} (target 2,000 ms)"
    )
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS {peak_rss:.0f} MB (snapshots, the order dicts and both engines)")


if __name__ == "__main__":
    main()

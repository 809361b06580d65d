"""Load: a mixed workload against gunicorn with the five hub snapshots loaded.

    .venv/bin/python benchmarks/load.py [--forge-orders 380000] [--connections 64]
        [--duration 10] [--workers N] [--threads N] [--only "bare view,item page"]

Starts a throw-away deployment (benchmarks/topology.py: the ESI stand-in with the five hub
books, the Forge at --forge-orders; every snapshot and the boards published), then runs wrk
at --connections connections against each endpoint family in turn, then against all of
them mixed, printing requests per second, p50 and p99, and any error (target: zero errors).

Every figure is read against a bare Django view measured in the same run (`/bench/bare`,
benchmarks/bench_settings.py: a small JsonResponse through the same middleware): on this
shared 2-core machine absolute rates move with whatever else runs, their ratio much less.

Endpoints: search (`/api/v1/items/search?q=...`), item pages (`/items/{id}/`), market orders
(`/api/v1/market/orders/10000002/{id}`), station trading at Jita
(`/api/v1/profit/station-trading`), hauling between the hubs (`/api/v1/profit/hauling`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.market_api import CpuMeter, ensure_wrk, rotation_script, run_wrk  # noqa: E402
from benchmarks.topology import Topology  # noqa: E402

QUERIES = ["trit", "plex", "caracal", "veldspar", "tritanum", "large shield", "nanite", "drake"]
HUB_STATIONS = [60003760, 60008494, 60011866, 60004588, 60005686]


BUSIEST = """
import json
from market import publish
forge = publish.load(10000002)
counts = forge._ends - forge._starts
print(json.dumps([int(t) for t in forge.type_ids[counts.argsort()[::-1][:50]]]))
"""


def endpoint_paths(topology: Topology) -> dict[str, list[str]]:
    busiest = json.loads(topology.python(BUSIEST))  # the Forge's types with most orders
    pairs = [(a, b) for a in HUB_STATIONS for b in HUB_STATIONS if a != b]
    return {
        "bare view": ["/bench/bare"],
        "search": [f"/api/v1/items/search?q={q.replace(' ', '%20')}" for q in QUERIES],
        "item page": [f"/items/{t}/" for t in busiest[:20]],
        "market orders": [f"/api/v1/market/orders/10000002/{t}" for t in busiest],
        "station trading": [
            f"/api/v1/profit/station-trading?station_id={s}&page_size=50" for s in HUB_STATIONS
        ],
        "hauling": [f"/api/v1/profit/hauling?from={a}&to={b}&page_size=50" for a, b in pairs],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forge-orders", type=int, default=380_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--only", default="", help="endpoint families to measure, comma-separated (default all)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="measure the families N times")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up of each")
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    topology = Topology(folder)
    wrk = ensure_wrk()
    failed = False
    try:
        topology.esi(args.forge_orders)
        topology.migrate()
        topology.refresh_all()
        # The project plus the bare view (/bench/bare), the floor every figure is read against.
        topology.env["DJANGO_SETTINGS_MODULE"] = "benchmarks.bench_settings"
        base_url = topology.web(args.workers, args.threads)
        paths = endpoint_paths(topology)
        if only:
            paths = {name: group for name, group in paths.items() if name in only | {"bare view"}}
        meter = CpuMeter(topology.processes["web"].pid)
        everything = [p for name, group in paths.items() if name != "bare view" for p in group]
        for group in paths.values():  # every worker renders and keeps every path first
            script = rotation_script(folder, "warm", group)
            run_wrk(wrk, base_url, script, args.connections, args.warmup, meter)
        print(
            f"{args.connections} connections, {args.duration:g} s each; "
            f"Forge {args.forge_orders:,} orders; gunicorn log {folder / 'web.log'}"
        )
        print(
            f"{'endpoint':<16} {'req/s':>8} {'x bare':>7} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'requests':>9}  errors"
        )
        bare_rate = 0.0
        ratios: dict[str, list[float]] = {}
        families = [*paths.items()] + ([] if only else [("mixed", everything)])
        for name, group in families * args.rounds:
            script = rotation_script(folder, name.replace(" ", "-"), group)
            result = run_wrk(wrk, base_url, script, args.connections, args.duration, meter)
            failed |= bool(result.errors)
            if name == "bare view":
                bare_rate = result.requests_per_second
            ratio = result.requests_per_second / bare_rate if bare_rate else 0.0
            ratios.setdefault(name, []).append(ratio)
            print(
                f"{name:<16} {result.requests_per_second:8.0f} {ratio:7.2f} {result.p50_ms:8.1f} "
                f"{result.p99_ms:8.1f} {result.requests:9d}  {result.errors.strip() or 'none'}"
            )
            print(f"{'':<16} {result.cpu.line()}")
        if args.rounds > 1:
            print("median ratio to the bare view measured just before, over the rounds:")
            for name, values in ratios.items():
                if name != "bare view":
                    shown = ", ".join(f"{v:.2f}" for v in values)
                    print(f"  {name:<16} {statistics.median(values):.2f}  (rounds {shown})")
    finally:
        topology.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU a request costs the web workers, per endpoint: where a CPU-bound deployment's time goes.

    .venv/bin/python benchmarks/cost.py [--requests 1500] [--forge-orders 100000]
        [--only "item page,search"]

Starts a throw-away deployment (benchmarks/topology.py: the ESI stand-in with the five hub
books, every snapshot and the boards published, gunicorn on the embedded default as `make
run` serves, with benchmarks/bench_settings.py: the rate limits off) and, per endpoint,
sends --requests requests from 8 threads, one connection a request as gunicorn's sync
workers answer. Prints the CPU the gunicorn workers used per
request (utime + stime from /proc, so the client's own work is not counted), the rate and
the statuses. The same parameters are asked again and again: the figures are those of a
warm process (kept answers, kept rows and pages); `benchmarks/users.py` has the varied mix.
The figure of the bare view (`/bench/bare`, benchmarks/bench_settings.py: a small
JsonResponse through the same middleware) is the floor every request pays.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.topology import Topology  # noqa: E402
from benchmarks.users import HUB_REGIONS, WARM_HISTORIES, cpu_seconds  # noqa: E402

JITA, AMARR = 60003760, 60008494
ENDPOINTS = {
    "bare view": "/bench/bare",
    "item page": "/items/34/",
    "home": "/",
    "item search": "/api/v1/items/search?q=trit",
    "order book": "/api/v1/market/orders/10000002/34",
    "history": "/api/v1/market/history/10000002/34",
    "compare": "/api/v1/market/compare?type_id=34",
    "boards API": "/api/v1/profit/boards?limit=20",
    "station-trading page": f"/profit/station-trading/?station_id={JITA}",
    "hauling page": f"/profit/hauling/?from={JITA}&to={AMARR}",
    "hauling API": f"/api/v1/profit/hauling?from={JITA}&to={AMARR}&page_size=50",
}


def ask(host: str, port: int, path: str) -> int:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--forge-orders", type=int, default=100_000)
    parser.add_argument("--only", default="", help="comma-separated endpoint names")
    args = parser.parse_args()
    wanted = [n.strip() for n in args.only.split(",") if n.strip()] or list(ENDPOINTS)

    topology = Topology(Path(tempfile.mkdtemp(prefix="bench-cost-")))
    try:
        topology.env["DJANGO_SETTINGS_MODULE"] = "benchmarks.bench_settings"
        topology.esi(args.forge_orders)
        topology.migrate()
        topology.refresh_all()
        topology.python(WARM_HISTORIES, json.dumps([[r, 34] for r in HUB_REGIONS]))
        host, port = topology.web().split("//")[1].split(":")
        print(f"{'endpoint':<22} {'CPU ms/request':>14} {'req/s':>7}  statuses")
        for name in wanted:
            path = ENDPOINTS[name]
            for _ in range(50):  # warm: kept answers, rows and pages in every worker
                ask(host, int(port), path)
            workers = topology.pids("web")
            before, started = cpu_seconds(workers), time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                n = args.requests
                answers = pool.map(ask, repeat(host, n), repeat(int(port), n), repeat(path, n))
                statuses = Counter(answers)
            seconds = time.monotonic() - started
            cpu_ms = 1000 * (cpu_seconds(workers) - before) / args.requests
            shown = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
            print(f"{name:<22} {cpu_ms:14.2f} {args.requests / seconds:7.0f}  [{shown}]")
    finally:
        topology.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

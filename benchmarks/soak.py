"""Soak: the load suite's mixed workload at a steady rate for 10 minutes while markets
refresh, watching errors and the memory of web and workers.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--rate 20] [--forge-orders 100000]
        [--turnover 90]

Starts a throw-away deployment (benchmarks/topology.py) with web, two Celery workers and
beat; the ESI stand-in regenerates every hub book each --turnover seconds (new prices, new
Last-Modified, Expires of half that), so the workers refresh the five regions and rebuild the
boards all along. A client sends --rate requests a second, spread over the mixed workload,
from a few threads.

Memory is measured after a warm-up of --warmup-turnovers book turnovers (default 3): each
process's allocator reaches its working size over its first few snapshot generations
(measured in one process: +30 % over the first five generations, then flat), and a leak is
growth after that. From then on, for --minutes, it samples the resident memory of web
(gunicorn and its workers) and of the workers (Celery and its pool) every 30 s.

Prints requests, errors (target 0, warm-up included), latency percentiles, refreshes
published during the measured minutes, and the memory growth of web and workers from the
first measured sample to the last (target < 10 %), with every sample from the start.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import endpoint_paths  # noqa: E402
from benchmarks.topology import Topology  # noqa: E402

PUBLISHED = """
import json
from market import publish
from django.conf import settings
print(json.dumps({r: publish.current_generation(r) for r in settings.MARKET_REGIONS}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second")
    parser.add_argument("--forge-orders", type=int, default=100_000)
    parser.add_argument("--turnover", type=float, default=90.0, help="seconds between books")
    parser.add_argument("--warmup-turnovers", type=float, default=3.0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    topology = Topology(folder)
    try:
        topology.esi(args.forge_orders, turnover=args.turnover, expires=args.turnover / 2)
        topology.migrate()
        topology.refresh_all()
        base_url = topology.web()
        topology.workers(concurrency=2)
        paths = [p for group in endpoint_paths(topology).values() for p in group]
        results: list[tuple[float, int, str]] = []  # (seconds, status, path)
        lock = threading.Lock()
        stop = threading.Event()
        threads = 8
        interval = threads / args.rate  # each thread's pace

        def client(offset: int) -> None:
            session = requests.Session()
            due, i = time.monotonic() + offset * interval / threads, offset
            while not stop.is_set():
                time.sleep(max(0.0, due - time.monotonic()))
                due += interval
                path = paths[i % len(paths)]
                i += threads
                started = time.monotonic()
                try:
                    status = session.get(base_url + path, timeout=30).status_code
                except requests.RequestException as exc:
                    status = 0
                    path = f"{path} ({type(exc).__name__})"
                with lock:
                    results.append((time.monotonic() - started, status, path))

        clients = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(threads)]
        for thread in clients:
            thread.start()
        warm_until = time.monotonic() + args.warmup_turnovers * args.turnover
        warmup: list[tuple[float, float]] = []
        while time.monotonic() < warm_until:
            warmup.append((topology.rss_mb("web"), topology.rss_mb("worker")))
            time.sleep(min(30.0, max(0.0, warm_until - time.monotonic())))
        generations = [json.loads(topology.python(PUBLISHED))]
        samples = [(topology.rss_mb("web"), topology.rss_mb("worker"))]
        deadline = time.monotonic() + args.minutes * 60
        while time.monotonic() < deadline:
            time.sleep(min(30.0, max(0.0, deadline - time.monotonic())))
            samples.append((topology.rss_mb("web"), topology.rss_mb("worker")))
            generations.append(json.loads(topology.python(PUBLISHED)))
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
    finally:
        topology.stop()

    errors = [(s, p) for _, s, p in results if not 200 <= s < 400]
    latencies = sorted(seconds * 1000 for seconds, _, _ in results)
    refreshes = sum(
        before[r] != after[r] for before, after in itertools.pairwise(generations) for r in before
    )
    web_growth = (samples[-1][0] - samples[0][0]) / samples[0][0] * 100
    worker_growth = (samples[-1][1] - samples[0][1]) / samples[0][1] * 100
    print(
        f"{args.minutes:g} minutes measured after {args.warmup_turnovers:g} turnovers of "
        f"{args.turnover:g} s, at {args.rate:g} req/s; Forge {args.forge_orders:,} orders"
    )
    print(f"requests        {len(results):7d}   errors {len(errors)} (target 0)")
    if errors:
        print("   e.g.", errors[:5])
    print(
        f"latency ms      p50 {statistics.median(latencies):.1f}   "
        f"p99 {latencies[int(len(latencies) * 0.99)]:.1f}   max {latencies[-1]:.1f}"
    )
    print(f"snapshots published during the run: {refreshes}")
    print("memory MB (web, workers) warming up:", [(round(w), round(c)) for w, c in warmup])
    print("memory MB (web, workers) measured:  ", [(round(w), round(c)) for w, c in samples])
    print(f"web memory growth     {web_growth:+5.1f} % (target < 10 %)")
    print(f"worker memory growth  {worker_growth:+5.1f} % (target < 10 %)")
    print(f"logs: {folder}")
    ok = not errors and web_growth < 10 and worker_growth < 10 and refreshes > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

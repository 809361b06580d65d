"""Full refresh of a Forge-size region from the ESI stand-in: wall time, CPU, memory, 304s.

    .venv/bin/python benchmarks/ingest.py [--orders 380000] [--latency 0.05] [--concurrency 8]

The stand-in runs in its own process (`python -m standin`) with a fixed per-page latency L,
so this process measures only the worker's side: fetching every page with C at a time,
parsing, validating, building and publishing the snapshot into the store (Redis when
REDIS_URL is set, else files). It prints:

- wall time of a full refresh against the floor ceil(pages / C) x L (target <= 1.3x);
- CPU seconds of the whole refresh, and of parse + validate + build + publish alone
  (target <= 2 s for 385 pages);
- peak RSS of this (worker) process (target <= 400 MB);
- a conditional refresh where every page answers 304, against the full one (target <= 0.3x).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def start_standin(
    orders: int, latency: float, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """`python -m standin` for The Forge in its own process (with `extra` arguments); its
    base URL once it serves."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "standin",
            "--port",
            "0",
            "--orders",
            str(orders),
            "--regions",
            "10000002",
            "--page-latency",
            str(latency),
            *extra,
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "http://" in line:
            return process, line[line.index("http://") :].split()[0].rstrip("/")
    raise RuntimeError("the stand-in did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=380_000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per page (L)")
    parser.add_argument("--concurrency", type=int, default=8, help="pages at once (C)")
    args = parser.parse_args()

    import django

    django.setup()
    from esi.client import EsiClient
    from market import publish, refresh
    from market.snapshot import Snapshot, columns_from_pages
    from store import get_store

    server, base_url = start_standin(args.orders, args.latency)
    try:
        store = get_store()
        region = 10000002
        store.delete(f"market:current:{region}")
        publish.forget_loaded()
        client = EsiClient.from_settings(
            base_url=base_url, max_concurrency=args.concurrency, timeout=30.0
        )
        cpu, wall = time.process_time(), time.perf_counter()
        full = refresh.refresh_region(region, client=client, store=store, demo_fallback=False)
        full_wall, full_cpu = time.perf_counter() - wall, time.process_time() - cpu
        pages = full.meta.pages
        floor = math.ceil(pages / args.concurrency) * args.latency

        wall = time.perf_counter()
        again = refresh.refresh_region(region, client=client, store=store, demo_fallback=False)
        conditional_wall = time.perf_counter() - wall
        # Read before the step below, which holds every raw page at once on purpose.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        # Parse + validate + build + publish alone, on the same pages fetched as raw bytes.
        import orjson
        import requests

        with requests.Session() as session:
            raw = [
                session.get(
                    f"{base_url}/markets/{region}/orders/",
                    params={"page": str(n), "order_type": "all"},
                    timeout=30,
                ).content
                for n in range(1, pages + 1)
            ]
        cpu = time.process_time()
        parsed = [(n, orjson.loads(body)) for n, body in enumerate(raw, 1)]
        snapshot = Snapshot.build(full.meta, columns_from_pages(parsed))
        publish.publish(snapshot, store)
        build_cpu = time.process_time() - cpu
    finally:
        server.terminate()
        server.wait(timeout=30)

    store_name = type(store).__name__
    print(f"region 10000002: {full.meta.orders} orders on {pages} pages; store {store_name}")
    print(f"L = {args.latency * 1000:.0f} ms per page, C = {args.concurrency} pages at once")
    print(
        f"full refresh wall     {full_wall:6.2f} s   floor {floor:5.2f} s   "
        f"ratio {full_wall / floor:4.2f}x (target <= 1.3x)"
    )
    print(f"full refresh CPU      {full_cpu:6.2f} s   (fetch, parse, validate, build, publish)")
    print(f"parse+build+publish   {build_cpu:6.2f} s CPU (target <= 2 s)")
    print(f"worker peak RSS       {peak_mb:6.0f} MB (target <= 400 MB)")
    print(
        f"conditional (all 304) {conditional_wall:6.2f} s   result {again.result}   "
        f"ratio {conditional_wall / full_wall:4.2f}x of a full refresh (target <= 0.3x)"
    )


if __name__ == "__main__":
    main()

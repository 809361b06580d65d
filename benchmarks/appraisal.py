"""An appraisal of a 10,000-line paste against a Forge-size book: how long each part takes.

    .venv/bin/python benchmarks/appraisal.py [--lines 10000] [--types 2000] [--orders 380000]

Publishes a generated Forge book (380,000 orders) into the store (Redis with REDIS_URL, else
files), writes a paste of `--lines` lines over `--types` market types in the formats players
paste (inventory rows, multibuy, EFT modules, cargo scan), and times, median of `--runs`:
reading it (`appraisal.parsing.parse`), pricing it at Jita 4-4 (`appraisal.service.appraise`,
not stored) and the whole request (`POST /api/v1/appraisals`, stored). Target: the whole
request well under a second.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

FORGE = 10000002


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--types", type=int, default=2_000)
    parser.add_argument("--orders", type=int, default=380_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from appraisal import parsing, service
    from market import publish
    from market.generator import generate_orders
    from market.snapshot import Snapshot, SnapshotMeta, columns_from_pages
    from profit.fees import Skills

    call_command("migrate", verbosity=0)
    settings.RATE_LIMIT_ENABLED = False
    settings.ALLOWED_HOSTS = ["*"]
    orders = generate_orders(FORGE, args.orders)
    meta = SnapshotMeta(
        FORGE,
        publish.new_generation(),
        "esi",
        None,
        "2099-01-01T00:00:00+00:00",
        time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        1,
        len(orders),
    )
    publish.publish(Snapshot.build(meta, columns_from_pages([(1, orders)])))
    publish.forget_loaded()

    snapshot = publish.load(FORGE)
    assert snapshot is not None
    at_jita = snapshot.stations["location_id"] == 60003760
    traded = sorted(set(snapshot.stations["type_id"][at_jita].tolist()))
    rng = random.Random(7)
    chosen = rng.sample(traded, min(args.types, len(traded)))
    from profit.engine import type_table

    table = type_table()
    names = [table.name(t) for t in chosen]
    shapes = [
        lambda n, q: f"{n}\t{q:,}\tGroup\tCategory\t\t\t1 m3\t1,000 ISK",
        lambda n, q: f"{q}x {n}",
        lambda n, q: f"{n} x{q}",
        lambda n, q: f"{q} {n}",
    ]
    text = "\n".join(
        rng.choice(shapes)(rng.choice(names), rng.randint(1, 50_000)) for _ in range(args.lines)
    )

    def timed(work: Callable[[], object]) -> float:
        times = []
        for _ in range(args.runs + 1):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return statistics.median(times[1:]) * 1000

    read = parsing.parse(text)
    parse_ms = timed(lambda: parsing.parse(text))
    options = service.Options(market="jita", persist=False)
    price_ms = timed(lambda: service.appraise(read, options, Skills(), "defaults"))
    client = Client()

    def request() -> None:
        response = client.post("/api/v1/appraisals", data=text, content_type="text/plain")
        assert response.status_code == 201, response.content[:300]

    request_ms = timed(request)
    print(
        f"{args.lines:,} lines over {len(chosen):,} types; {len(read.items):,} read, "
        f"{len(read.unparsed):,} unparsed; Forge {len(orders):,} orders"
    )
    print(f"read the paste          {parse_ms:7.1f} ms (median of {args.runs})")
    print(f"price it at Jita 4-4    {price_ms:7.1f} ms")
    print(f"the whole request       {request_ms:7.1f} ms (stored; target well under 1,000 ms)")


if __name__ == "__main__":
    main()

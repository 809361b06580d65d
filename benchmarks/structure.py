"""A Perimeter-size structure market: its refresh, its merge into The Forge, trading there.

    .venv/bin/python benchmarks/structure.py [--orders 250000] [--forge-orders 380000]
                                             [--latency 0.05] [--concurrency 8] [--runs 20]

The ESI stand-in runs in its own process (`python -m standin --structure-orders N`) with a
fixed per-page latency L: The Forge's region book, and the whole book of Perimeter's
Tranquility Trading Tower, served only to a token the SSO stand-in (in this process)
signed. This process is the worker, then a web process. It prints, against the region
targets of benchmarks/ingest.py and the station-scan target of benchmarks/profit.py:

- the structure book's full refresh (`market.structure_refresh.refresh_structure`, the
  member's token on every page): wall time against the floor ceil(pages / C) x L (target
  <= 1.3x); CPU of the whole refresh and of parse + validate + build + publish alone (target
  <= 2 s); a conditional refresh where ESI confirms the book (target <= 0.3x of a full one);
- peak RSS of this process after the refreshes (target <= 400 MB);
- building The Forge's market with the structure merged in (`market.books.view`, once per
  web process per new generation of either book): wall time and the arrays' size;
- station trading at the structure, every row, default filters, on that merged market
  (`profit.station.station_trading`): median of `--runs` (target <= 50 ms), warm and on a
  new snapshot, as benchmarks/profit.py times the scan at Jita 4-4.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from benchmarks.ingest import start_standin  # noqa: E402

FORGE = 10000002
TTT, PERIMETER = 1028858195912, 30000144  # as `python -m standin --structure-orders` puts it
SCOPE = "esi-markets.structure_markets.v1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=250_000, help="the structure's book")
    parser.add_argument("--forge-orders", type=int, default=380_000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per page (L)")
    parser.add_argument("--concurrency", type=int, default=8, help="pages at once (C)")
    parser.add_argument("--runs", type=int, default=20, help="station scans timed")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from esi.client import EsiClient
    from market import books, publish, refresh, structures
    from market.models import Structure
    from market.snapshot import Snapshot, merge_columns, page_columns
    from market.structure_refresh import refresh_structure
    from profit.fees import Skills
    from profit.station import StationFilters, station_trading
    from standin.sso import SsoStandIn
    from store import get_store

    call_command("migrate", verbosity=0)
    settings.MARKET_REGIONS = [FORGE]
    with SsoStandIn() as sso:
        server, base_url = start_standin(
            args.forge_orders,
            args.latency,
            "--structure-orders",
            str(args.orders),
            env={"STANDIN_SSO_URL": sso.base_url},
        )
        token = sso.mint(1001, [SCOPE])
        try:
            store = get_store()
            for book in (FORGE, TTT):
                store.delete(f"market:current:{book}")
            publish.forget_loaded()
            client = EsiClient.from_settings(
                base_url=base_url, max_concurrency=args.concurrency, timeout=30.0
            )
            refresh.refresh_region(FORGE, client=client, store=store, demo_fallback=False)
            Structure.objects.update_or_create(
                structure_id=TTT,
                defaults={
                    "name": "Perimeter - Tranquility Trading Tower (benchmark)",
                    "solar_system_id": PERIMETER,
                    "region_id": FORGE,
                    "learned_from": Structure.Learned.OPERATOR,
                    "market_status": Structure.Status.NO_ACCESS,
                },
            )

            cpu, wall = time.process_time(), time.perf_counter()
            refresh_structure(TTT, token, client=client, store=store)
            full_wall, full_cpu = time.perf_counter() - wall, time.process_time() - cpu
            meta = publish.current_meta(TTT, store)
            assert meta is not None
            pages = meta.pages
            floor = math.ceil(pages / args.concurrency) * args.latency

            wall = time.perf_counter()
            again = refresh_structure(TTT, token, client=client, store=store)
            conditional_wall = time.perf_counter() - wall
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

            # Parse + validate + build + publish alone, on the same pages fetched raw.
            import orjson
            import requests

            headers = {"Authorization": f"Bearer {token}"}
            with requests.Session() as session:
                raw = [
                    session.get(
                        f"{base_url}/markets/structures/{TTT}/",
                        params={"page": str(n)},
                        headers=headers,
                        timeout=30,
                    ).content
                    for n in range(1, pages + 1)
                ]
            cpu = time.process_time()
            pages_read = [
                page_columns(n, orjson.loads(body), PERIMETER) for n, body in enumerate(raw, 1)
            ]
            publish.publish(Snapshot.build(meta, merge_columns(pages_read)), store)
            build_cpu = time.process_time() - cpu
        finally:
            server.terminate()
            server.wait(timeout=30)

    # A web process: The Forge's market with the structure merged in, then trading there.
    structures.forget_known()
    books.forget_views()
    publish.forget_loaded()
    forge = publish.load(FORGE, store=store)
    assert forge is not None
    wall = time.perf_counter()
    view = books.view(FORGE, store=store)
    merge_wall = time.perf_counter() - wall
    assert view is not None and view is not forge
    view_mb = sum(a.nbytes for a in (*view.book.values(), *view.stations.values())) / 2**20

    def scan_ms(fresh_each_run: bool) -> tuple[float, int]:
        times, rows = [], 0
        for _ in range(args.runs + 1):
            # A new Snapshot object each run keeps no answer from the run before (a web
            # process's first scan after a new generation); else the process's kept ones.
            on = Snapshot(view.meta, view.book, view.stations) if fresh_each_run else view
            wall = time.perf_counter()
            rows = len(station_trading(on, TTT, Skills(), StationFilters()).rows)
            times.append(time.perf_counter() - wall)
        return statistics.median(times[1:]) * 1000, rows

    warm_ms, rows = scan_ms(False)
    new_ms, _ = scan_ms(True)

    print(
        f"structure {TTT}: {meta.orders:,} orders on {pages} pages; The Forge "
        f"{forge.meta.orders:,} orders; store {type(store).__name__}"
    )
    print(f"L = {args.latency * 1000:.0f} ms per page, C = {args.concurrency} pages at once")
    print(
        f"full refresh wall     {full_wall:6.2f} s   floor {floor:5.2f} s   "
        f"ratio {full_wall / floor:4.2f}x (target <= 1.3x)"
    )
    print(f"full refresh CPU      {full_cpu:6.2f} s   (fetch, parse, validate, build, publish)")
    print(f"parse+build+publish   {build_cpu:6.2f} s CPU (target <= 2 s)")
    print(
        f"conditional (304)     {conditional_wall:6.2f} s   result {again}   "
        f"ratio {conditional_wall / full_wall:4.2f}x of a full refresh (target <= 0.3x)"
    )
    print(f"worker peak RSS       {peak_mb:6.0f} MB (target <= 400 MB)")
    print(
        f"merged Forge market   {merge_wall * 1000:6.0f} ms to build once per process, "
        f"{view.meta.orders:,} orders, {view_mb:.0f} MB of arrays"
    )
    print(
        f"station scan there    {warm_ms:6.1f} ms median of {args.runs}, {rows} rows "
        f"(target <= 50 ms); {new_ms:.1f} ms on a new snapshot"
    )


if __name__ == "__main__":
    main()

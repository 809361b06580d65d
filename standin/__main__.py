"""Run the ESI stand-in in the foreground, for demos and benchmarks.

    python -m standin --port 8090 --orders 380000 --regions 10000002,10000043
    python -m standin --port 0 --orders 380000 --regions 10000002 --page-latency 0.05

The first region gets `--orders` generated orders, the others a fifth of that each, but the
global PLEX market (19000001, only PLEX since July 2025) gets `--plex-orders`. The real
recorded order samples are merged into The Forge and Domain unless `--no-samples`. It prints
the base URL (point ESI_BASE_URL at it) and serves until interrupted. The SDE is read from
SDE_PATH (settings) and installed from the bundled copy if missing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings

from market.plex import PLEX_REGION_ID
from sde import install
from standin.esi import EsiStandIn

# Perimeter's Tranquility Trading Tower and its system: where --structure-orders puts a book.
TTT_STRUCTURE, TTT_SYSTEM = 1028858195912, 30000144


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m standin", description=summary)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    parser.add_argument("--orders", type=int, default=380_000, help="orders in the first region")
    parser.add_argument(
        "--regions",
        default="10000002,10000043,10000032,10000030,10000042,19000001",
        help="comma-separated region ids (default: the five trade hubs and the global PLEX "
        "market, 19000001)",
    )
    parser.add_argument(
        "--plex-orders", type=int, default=1_500, help="orders in the global PLEX market"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--expires", type=float, default=300.0, help="seconds a book is fresh")
    parser.add_argument(
        "--ratelimit-tokens", type=int, default=None, help="token bucket size (default: ESI's)"
    )
    parser.add_argument(
        "--page-latency", type=float, default=0.0, help="seconds slept before each orders page"
    )
    parser.add_argument(
        "--turnover",
        type=float,
        default=0.0,
        help="every N seconds, regenerate each book (new prices, new Last-Modified); 0: never",
    )
    parser.add_argument(
        "--structure-orders",
        type=int,
        default=0,
        help="give a structure in the first region (Perimeter's Tranquility Trading Tower) a "
        "whole book of N orders, served to a token the SSO stand-in at $STANDIN_SSO_URL "
        "signed (esi-markets.structure_markets.v1)",
    )
    parser.add_argument("--no-samples", action="store_true", help="leave out the real samples")
    parser.add_argument("--log", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def _setup_django() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _ensure_sde() -> None:
    target = Path(settings.SDE_PATH)
    if install.read_info(target) is None:
        print(f"Installing the bundled SDE at {target} ...", flush=True)
        with install.candidate_file(target) as candidate:
            build = install.build_from_bundle(candidate)
            install.install(candidate, target, source="bundled", build=build)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    _setup_django()
    _ensure_sde()
    regions = [int(r) for r in args.regions.split(",") if r.strip()]
    esi = EsiStandIn(
        page_size=args.page_size,
        expires_in=args.expires,
        seed=args.seed,
        sample_data=not args.no_samples,
        host=args.host,
        port=args.port,
        log_requests=args.log,
    )
    esi.max_logged = 10_000  # a long-running server keeps only recent requests
    esi.faults.page_latency = args.page_latency
    if args.ratelimit_tokens is not None:
        esi.faults.ratelimit_tokens = args.ratelimit_tokens

    def size(i: int, region_id: int) -> int:
        if region_id == PLEX_REGION_ID:
            return max(1, args.plex_orders)
        return args.orders if i == 0 else max(1, args.orders // 5)

    for i, region_id in enumerate(regions):
        started = time.perf_counter()
        samples = esi.orders(region_id)
        esi.generate(region_id, size(i, region_id))
        if samples:
            esi.set_orders(region_id, esi.orders(region_id) + samples)
        print(
            f"region {region_id}: {len(esi.orders(region_id)):,} orders, "
            f"{esi.x_pages(region_id)} pages ({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
    if args.structure_orders > 0 and regions:
        started = time.perf_counter()
        esi.add_structure_book(
            regions[0], TTT_STRUCTURE, TTT_SYSTEM, args.structure_orders, seed=args.seed
        )
        print(
            f"structure {TTT_STRUCTURE}: {len(esi.structure_orders(TTT_STRUCTURE)):,} orders "
            f"({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
    esi.start()
    print(esi.base_url, flush=True)
    print("Serving ESI's market routes; Ctrl-C stops.", flush=True)
    try:
        round_ = 0
        while True:
            time.sleep(args.turnover or 3600)
            if args.turnover:  # ESI's cache turns over: every book changes
                round_ += 1
                for i, region_id in enumerate(regions):
                    esi.generate(region_id, size(i, region_id), seed=args.seed + round_ * 100 + i)
                print(f"turnover {round_}: every book regenerated", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        esi.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

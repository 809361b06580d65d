"""`manage.py market_refresh [--region ID ...]`: refresh snapshots now, in the foreground.

The same refresh the workers run, with a progress bar of pages fetched. Exits 0 when every
region published (or found nothing changed since its snapshot); otherwise non-zero with a
one-line reason per failed region.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from market.refresh import RefreshBusy, RefreshFailed, refresh_region


class Command(BaseCommand):
    help = "Refresh market snapshots from ESI now (default: every tracked region)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--region",
            type=int,
            action="append",
            dest="regions",
            metavar="ID",
            help="a region id (repeat for several); default: MARKET_REGIONS",
        )
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="never publish the demo market when ESI cannot be reached",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        regions = options["regions"] or list(settings.MARKET_REGIONS)
        failures = []
        for region_id in regions:
            bar = tqdm(
                desc=f"Region {region_id}",
                unit="page",
                disable=options["verbosity"] == 0,
                leave=False,
            )

            def progress(done: int, total: int, bar: tqdm = bar) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                outcome = refresh_region(
                    region_id,
                    progress=progress,
                    demo_fallback=False if options["no_demo"] else None,
                )
            except (RefreshBusy, RefreshFailed) as exc:
                failures.append(f"region {region_id}: {exc}")
                continue
            finally:
                bar.close()
            meta = outcome.meta
            verb = "unchanged since" if outcome.result == "not_modified" else "published"
            self.stdout.write(
                f"Region {region_id}: {verb} snapshot {meta.generation} "
                f"({meta.orders} orders, {meta.pages} pages, ESI time {meta.esi_last_modified}) "
                f"in {outcome.seconds:.1f} s"
            )
        if failures:
            raise CommandError("; ".join(failures))

from django.apps import AppConfig

from config import metrics
from esi.gauges import budget_gauges
from market.metrics import snapshot_gauges


class MarketConfig(AppConfig):
    """Market snapshots from ESI (order books, history, prices)."""

    name = "market"

    def ready(self) -> None:
        # /metrics reads the snapshots' age and ESI's budgets from the shared store at each
        # scrape. ESI's are registered here too: esi is a library with no app of its own, and
        # market is the app that runs its client.
        metrics.read_at_scrape(snapshot_gauges)
        metrics.read_at_scrape(budget_gauges)

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save

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
        # Every place names a structure as the deployment knows it (sde sits below market).
        # Imported here: models (and the modules importing them) load once the apps are ready.
        from market import structures  # its model: only once the apps are ready
        from market.models import Structure  # a model: only once the apps are ready
        from sde import places  # sde's models: only once the apps are ready

        places.set_structures(structures)
        for signal in (post_save, post_delete):
            signal.connect(structures.forget_known, sender=Structure)

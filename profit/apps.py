from django.apps import AppConfig


class ProfitConfig(AppConfig):
    """Profit calculations over market snapshots: fees, station trading, hauling."""

    name = "profit"

    def ready(self) -> None:
        # Here, not at the top: profit.tasks reaches the models, which Django loads after the
        # app configs. Importing it connects the boards to `market.signals.snapshot_published`.
        from profit import tasks  # noqa: F401

from django.apps import AppConfig


class ProfitConfig(AppConfig):
    """Profit calculations over market snapshots: fees, station trading, hauling."""

    name = "profit"

from django.apps import AppConfig


class MarketConfig(AppConfig):
    """Market snapshots from ESI (order books, history, prices)."""

    name = "market"

from django.urls import path

import sde.converters  # noqa: F401  (registers the <eveid:...> converter)
from config.page_cache import kept_answer
from market.api import views
from market.history import fresh_for

urlpatterns = [
    path(
        "orders/<eveid:region_id>/<eveid:type_id>",
        views.orders_view(),
        name="api-market-orders",
    ),
    path(
        "history/<eveid:region_id>/<eveid:type_id>",
        # Kept while ESI's answer is fresh (until its next daily update): a chart opened
        # again, or by another person, costs no read of the store.
        kept_answer(views.HistoryView.as_view(), "sde", ttl=fresh_for),
        name="api-market-history",
    ),
    path("compare", views.CompareView.as_view(), name="api-market-compare"),
    path("prices/<eveid:type_id>", views.PricesView.as_view(), name="api-market-prices"),
    path("status", views.StatusView.as_view(), name="api-market-status"),
    path("refresh", views.RefreshView.as_view(), name="api-market-refresh"),
    path("structures", views.StructureListView.as_view(), name="api-market-structures"),
    path(
        "structures/<eveid:structure_id>",
        views.StructureDetailView.as_view(),
        name="api-market-structure",
    ),
]

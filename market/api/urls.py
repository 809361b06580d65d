from django.urls import path

import sde.converters  # noqa: F401  (registers the <eveid:...> converter)
from market.api import views

urlpatterns = [
    path(
        "orders/<eveid:region_id>/<eveid:type_id>",
        views.orders_view(),
        name="api-market-orders",
    ),
    path(
        "history/<eveid:region_id>/<eveid:type_id>",
        views.HistoryView.as_view(),
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

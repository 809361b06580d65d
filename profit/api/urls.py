"""The profit API under /api/v1/profit/."""

from django.urls import path

from profit.api import views

urlpatterns = [
    path("station-trading", views.StationTradingView.as_view(), name="api-profit-station"),
    path("hauling", views.HaulingView.as_view(), name="api-profit-hauling"),
    path("calculate", views.CalculateView.as_view(), name="api-profit-calculate"),
    path("boards", views.BoardsView.as_view(), name="api-profit-boards"),
    path("boards/version", views.BoardsVersionView.as_view(), name="api-profit-boards-version"),
]

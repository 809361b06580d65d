"""The profit pages (the profit API lives in profit/api/urls.py)."""

from django.urls import path
from django.views.generic import RedirectView

from profit import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="profit-station"), name="profit"),
    path("station-trading/", views.station_trading_page, name="profit-station"),
    path("hauling/", views.hauling_page, name="profit-hauling"),
    path("calculator/", views.calculator_page, name="profit-calculator"),
    path("boards/", views.boards_page, name="profit-boards"),
    path("boards/fragment/", views.boards_fragment, name="profit-boards-fragment"),
]

"""The market pages (the market API lives in market/api/urls.py)."""

from django.urls import path
from django.views.generic import RedirectView

from market import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="market-status"), name="market"),
    path("status/", views.status_page, name="market-status"),
]

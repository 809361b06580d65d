"""Pages of the characters app: the dashboard (the SSO account pages are in auth_urls.py)."""

from django.urls import path

import sde.converters  # noqa: F401  (registers the <eveid:...> converter)
from characters import views

urlpatterns = [
    path("", views.dashboard, name="character-dashboard"),
    path("<eveid:character_id>/", views.dashboard, name="character-dashboard-of"),
    path("<eveid:character_id>/refresh/", views.refresh, name="character-refresh"),
    path(
        "<eveid:character_id>/structures/",
        views.share_structures,
        name="character-structures",
    ),
]

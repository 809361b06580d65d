"""The characters API under /api/v1/characters/."""

from django.urls import path

import sde.converters  # noqa: F401  (registers the <eveid:...> converter)
from characters.api import views

urlpatterns = [
    path("", views.CharacterListView.as_view(), name="api-characters"),
    path("<eveid:character_id>/", views.CharacterDetailView.as_view(), name="api-character"),
    path("<eveid:character_id>/skills", views.SkillsView.as_view(), name="api-character-skills"),
    path(
        "<eveid:character_id>/standings",
        views.StandingsView.as_view(),
        name="api-character-standings",
    ),
    path("<eveid:character_id>/assets", views.AssetsView.as_view(), name="api-character-assets"),
    path("<eveid:character_id>/wallet", views.WalletView.as_view(), name="api-character-wallet"),
    path("<eveid:character_id>/orders", views.OrdersView.as_view(), name="api-character-orders"),
    path(
        "<eveid:character_id>/location",
        views.LocationView.as_view(),
        name="api-character-location",
    ),
    path(
        "<eveid:character_id>/refresh",
        views.RefreshView.as_view(),
        name="api-character-refresh",
    ),
]

"""The characters API under /api/v1/characters/."""

from django.urls import URLPattern, path
from rest_framework.views import APIView

import sde.converters  # noqa: F401  (registers the <eveid:...> converter)
from characters.api import views


def _of_character(route: str, view: type[APIView]) -> URLPattern:
    """/api/v1/characters/<id>/<route>, named api-character-<route>."""
    return path(f"<eveid:character_id>/{route}", view.as_view(), name=f"api-character-{route}")


urlpatterns = [
    path("", views.CharacterListView.as_view(), name="api-characters"),
    path("<eveid:character_id>/", views.CharacterDetailView.as_view(), name="api-character"),
    _of_character("skills", views.SkillsView),
    _of_character("standings", views.StandingsView),
    _of_character("assets", views.AssetsView),
    _of_character("wallet", views.WalletView),
    _of_character("orders", views.OrdersView),
    _of_character("location", views.LocationView),
    _of_character("refresh", views.RefreshView),
]

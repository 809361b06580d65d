from django.apps import AppConfig


class CharactersConfig(AppConfig):
    """EVE SSO characters: skills, standings, assets, wallet and orders."""

    name = "characters"

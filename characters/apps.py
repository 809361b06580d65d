from django.apps import AppConfig


class CharactersConfig(AppConfig):
    """EVE SSO characters: skills, standings, assets, wallet and orders."""

    name = "characters"

    def ready(self) -> None:
        # Connects the receivers that refresh a character's data when it is authorised and
        # forget it when it is unlinked (characters/tasks.py).
        from characters import tasks  # noqa: F401

from django.apps import AppConfig


class CharactersConfig(AppConfig):
    """EVE SSO characters: skills, standings, assets, wallet and orders."""

    name = "characters"

    def ready(self) -> None:
        # Here, not at the top: the wiring reaches the models, which Django loads after the
        # app configs. It connects the characters app to profit and to Django's signals.
        from characters import wiring

        wiring.connect()

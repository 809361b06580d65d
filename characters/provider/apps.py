from django.apps import AppConfig

from characters import checks  # noqa: F401  (registers the SSO system checks)


class EveSsoProviderConfig(AppConfig):
    """allauth finds the provider in `characters.provider.provider`."""

    name = "characters.provider"
    label = "eve_sso"
    verbose_name = "EVE SSO"

    def ready(self) -> None:
        # Here, not at the top: the adapter uses the models, which Django loads after the app
        # configs. Importing it connects the login signal.
        from characters.provider import adapter  # noqa: F401

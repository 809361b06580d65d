from django.apps import AppConfig


class EveSsoProviderConfig(AppConfig):
    """allauth finds the provider in `characters.provider.provider`."""

    name = "characters.provider"
    label = "eve_sso"
    verbose_name = "EVE SSO"

    def ready(self) -> None:
        from characters import checks  # noqa: F401  (registers the SSO system checks)
        from characters.provider import adapter  # noqa: F401  (connects the login signal)

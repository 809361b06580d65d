"""The allauth provider: one EVE character (as owned by one EVE account) is one social
account."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.providers.base import ProviderAccount
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from django.http import HttpRequest

from characters.provider.views import EveSsoOAuth2Adapter


class EveCharacterAccount(ProviderAccount):
    def get_avatar_url(self) -> str:
        character_id = self.account.extra_data.get("character_id", 1)
        return f"https://images.evetech.net/characters/{character_id}/portrait?size=64"

    def to_str(self) -> str:
        return str(self.account.extra_data.get("name") or super().to_str())


class EveSsoProvider(OAuth2Provider):
    id = "eveonline"
    name = "EVE Online"
    account_class = EveCharacterAccount
    oauth2_adapter_class = EveSsoOAuth2Adapter
    pkce_enabled_default = True

    def get_scope_from_request(self, request: HttpRequest) -> list[str]:
        # Never from the query string: the views in characters/auth_views.py choose scopes.
        return self.get_scope()

    def extract_uid(self, data: dict[str, Any]) -> str:
        # The owner hash names the pair (character, EVE account): when a character is sold
        # to another account, its new owner gets a new social account (and so never logs
        # into the seller's user); the character itself then moves to them.
        return str(data.get("owner") or f"character:{data['character_id']}")

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        # allauth makes the username unique if another user already has it.
        return {"username": data.get("name") or f"character-{data['character_id']}"}


provider_classes = [EveSsoProvider]

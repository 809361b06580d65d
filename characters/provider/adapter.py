"""allauth's hooks for EVE characters: the app from the environment, the character checks of
the re-authorisation flows, moving a character between users, and saving the character and
its (encrypted) tokens once a login or a link succeeds.

EVE SSO never logs anyone into a staff or superuser account: staff sign in with their
password (the admin, with its lockout), and an SSO login whose character belongs to such an
account is refused with a message. Linking a character while signed in as staff still works;
it only never becomes a way in."""

from __future__ import annotations

import logging
import re
from typing import Any

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.signals import user_logged_in
from allauth.account.utils import user_username
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from characters import sso
from characters.models import Character, CharacterToken
from characters.scopes import join_scopes
from characters.selectors import SESSION_KEY
from characters.signals import character_authorised
from characters.tokens import store_tokens

log = logging.getLogger(__name__)
PROVIDER_ID = "eveonline"
# Key of the expected character in a flow's state (enable a feature, re-authorise).
EXPECTED_CHARACTER = "character_id"


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        """The one EVE application, from EVE_CLIENT_ID/EVE_CLIENT_SECRET (none while unset)."""
        if provider not in (None, PROVIDER_ID) or not sso.is_configured():
            return []
        if client_id not in (None, settings.EVE_CLIENT_ID):
            return []
        return [
            SocialApp(
                provider=PROVIDER_ID,
                name="EVE Online",
                client_id=settings.EVE_CLIENT_ID,
                secret=settings.EVE_CLIENT_SECRET,
            )
        ]

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: Any) -> Any:
        """A new user is named after their first character ("Bruce_Wayne", made unique)."""
        user = super().populate_user(request, sociallogin, data)
        name = str(sociallogin.account.extra_data.get("name") or "")
        base = re.sub(r"[^\w.@+-]", "_", name).strip("_") or "character"
        user_username(
            user, get_account_adapter(request).generate_unique_username([base, "character"])
        )
        return user

    def get_connect_redirect_url(self, request: HttpRequest, socialaccount: Any) -> str:
        return reverse("eve-characters")

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Exception | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        # The cause, never the callback's code or state, nor a token (sso.failure_cause).
        cause = sso.failure_cause(error, exception, request.GET.get("error"))
        log.warning("EVE SSO login failed: %s", cause)

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Runs after allauth found (or not) the account, before it logs in or links."""
        claims: sso.Claims | None = getattr(sociallogin, "_eve_claims", None)
        if claims is None:  # not an EVE login (no other provider is installed)
            return
        data = sociallogin.state.get("data") or {}
        expected = data.get(EXPECTED_CHARACTER)
        if expected is not None and int(expected) != claims.character_id:
            messages.error(
                request,
                f"You authorised {claims.name}, not the character you chose: nothing was "
                "changed. In the EVE login page, pick the same character again.",
            )
            raise ImmediateHttpResponse(redirect("eve-characters"))
        if sociallogin.state.get("process") != AuthProcess.CONNECT:
            if sociallogin.is_existing and _is_staff(sociallogin.user):
                _refuse_staff_login(request, claims)
            return  # a login: saved by on_user_logged_in once the user is known
        user = request.user
        if not user.is_authenticated:
            return  # allauth refuses a link without a login
        if sociallogin.is_existing and sociallogin.user != user:
            # The character is linked to another user: the SSO has just proved that this
            # user controls it now, so it moves here (docs/sso.md).
            sociallogin.account.user = user
            sociallogin.account.save(update_fields=["user"])
            sociallogin.user = user
        save_character(request, user, sociallogin)


def _is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def _refuse_staff_login(request: HttpRequest, claims: sso.Claims) -> None:
    log.warning(
        "EVE SSO login of character %s refused: its user is staff or superuser",
        claims.character_id,
    )
    messages.error(
        request,
        f"{claims.name} belongs to a staff account, and staff accounts cannot sign in with "
        "EVE: sign in with the account's password instead. You were not signed in.",
    )
    raise ImmediateHttpResponse(redirect("eve-login"))


@receiver(user_logged_in)
def on_user_logged_in(
    sender: Any,
    request: HttpRequest,
    user: User,
    sociallogin: SocialLogin | None = None,
    **kwargs: Any,
) -> None:
    if sociallogin is not None and getattr(sociallogin, "_eve_claims", None) is not None:
        if _is_staff(user):  # pre_social_login refuses these first: never let one through
            logout(request)
            _refuse_staff_login(request, sociallogin._eve_claims)
        save_character(request, user, sociallogin)


def save_character(request: HttpRequest, user: User, sociallogin: SocialLogin) -> None:
    """Create or update the character for `user`, store its tokens encrypted and select it."""
    claims: sso.Claims = sociallogin._eve_claims
    token = sociallogin.token
    if token is None or not token.token_secret:
        raise ImmediateHttpResponse(redirect("eve-login"))
    with transaction.atomic():
        character, created = Character.objects.select_for_update().get_or_create(
            character_id=claims.character_id,
            defaults={"user": user, "name": claims.name},
        )
        keep = not created and _keeps_its_token(character, claims)
        character.user = user
        character.name = claims.name
        character.owner_hash = claims.owner
        if not keep:
            character.scopes = join_scopes(claims.scopes)
            character.needs_reauth = False
            store_tokens(
                character,
                access_token=token.token,
                refresh_token=token.token_secret,
                expires_at=claims.expires_at,
            )
        character.save()
    request.session[SESSION_KEY] = character.character_id
    log.info("EVE character %s authorised by user %s", character.character_id, user.pk)
    character_authorised.send(sender=Character, character=character, created=created)


def _keeps_its_token(character: Character, claims: sso.Claims) -> bool:
    """A plain login (no scope) of a character that already granted more keeps its current
    token: replacing it would silently turn its features off. (Its old refresh token stays
    valid at the SSO; if it was revoked meanwhile, the next refresh says so.)"""
    if character.needs_reauth:
        return False
    if character.owner_hash and claims.owner != character.owner_hash:
        return False  # the character changed EVE accounts: the old token is not theirs
    if not CharacterToken.objects.filter(character_id=character.pk).exists():
        return False
    return claims.scopes < character.scope_set

"""Pages and actions of EVE SSO accounts: log in, link another character, turn a feature on
(re-authorising the same character with more scopes), re-authorise, switch the selected
character, unlink one, log out.

Every action is a POST (CSRF-protected); a character id from the request is only used after
`selectors.user_character` found it among the user's own (anyone else's answers 404). The SSO
round trips go through allauth (state and PKCE), started by `_start_sso`.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from characters import crypto, selectors, sso
from characters.access import own_character
from characters.models import Character
from characters.provider.adapter import EXPECTED_CHARACTER, PROVIDER_ID
from characters.scopes import FEATURES, enabled_features, has_feature, scopes_with_feature
from sde.ids import is_ascii_number

log = logging.getLogger(__name__)


def _safe_next(request: HttpRequest, default: str) -> str:
    """The `next` parameter if it points into this site, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _start_sso(
    request: HttpRequest,
    process: str,
    scopes: list[str],
    next_url: str,
    data: dict[str, Any] | None = None,
) -> HttpResponse:
    """Redirect to the SSO's authorize endpoint (allauth stashes state and the PKCE verifier
    in the session), or a friendly page when the SSO is not configured or unreachable."""
    if not sso.is_configured():
        return render(request, "characters/login.html", {"configured": False}, status=503)
    try:
        sso.metadata()
    except sso.SsoError as exc:
        return render(request, "characters/sso_unavailable.html", {"error": exc}, status=503)
    provider = get_social_adapter().get_provider(request, PROVIDER_ID)
    response: HttpResponse = provider.redirect(
        request, process, next_url=next_url, data=data, scope=scopes
    )
    return response


@require_GET
def login_page(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, "")
    if request.user.is_authenticated and not next_url:
        return redirect("eve-characters")
    return render(
        request,
        "characters/login.html",
        {"configured": sso.is_configured(), "next": next_url, "sso_base_url": sso.base_url()},
    )


@require_POST
def sso_login(request: HttpRequest) -> HttpResponse:
    """Log in with EVE: no scope asked, only who the character is."""
    return _start_sso(request, AuthProcess.LOGIN, [], _safe_next(request, "/"))


@login_required
@require_GET
def characters_page(request: HttpRequest) -> HttpResponse:
    characters = list(selectors.user_characters(request.user))
    rows = [
        {
            "character": c,
            "features": [
                {"key": key, "spec": spec, "enabled": has_feature(c, key)}
                for key, spec in FEATURES.items()
            ],
            "enabled_count": len(enabled_features(c)),
        }
        for c in characters
    ]
    selected = selectors.selected_character(request)
    return render(
        request,
        "characters/characters.html",
        {
            "rows": rows,
            "selected": selected,
            "features": FEATURES,
            "configured": sso.is_configured(),
        },
    )


@login_required
@require_POST
def link(request: HttpRequest) -> HttpResponse:
    """Link another character: log in with it at the SSO (no scope)."""
    return _start_sso(request, AuthProcess.CONNECT, [], reverse("eve-characters"))


@login_required
@require_POST
def enable_feature(request: HttpRequest, character_id: int, key: str) -> HttpResponse:
    """Re-authorise the SAME character with the feature's scopes added to those it has."""
    character = own_character(request, character_id)
    if key not in FEATURES:
        raise Http404("No such feature.")
    return _start_sso(
        request,
        AuthProcess.CONNECT,
        scopes_with_feature(character, key),
        _safe_next(request, reverse("eve-characters")),
        data={EXPECTED_CHARACTER: character.character_id},
    )


@login_required
@require_POST
def reauthorise(request: HttpRequest, character_id: int) -> HttpResponse:
    """Authorise a character again (its token was revoked), with the scopes it had."""
    character = own_character(request, character_id)
    return _start_sso(
        request,
        AuthProcess.CONNECT,
        sorted(character.scope_set),
        _safe_next(request, reverse("eve-characters")),
        data={EXPECTED_CHARACTER: character.character_id},
    )


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """Select one of the user's characters (kept in the session)."""
    raw = request.POST.get("character_id", "")
    if not is_ascii_number(raw):  # isdigit() says yes to "٣" and "²"
        raise Http404("No such character.")
    character = own_character(request, int(raw))
    request.session[selectors.SESSION_KEY] = character.character_id
    return HttpResponseRedirect(_safe_next(request, reverse("eve-characters")))


@login_required
def unlink(request: HttpRequest, character_id: int) -> HttpResponse:
    """GET: confirm; POST: revoke the character's refresh token at the SSO (best effort) and
    forget the character. Unlinking the last character of an SSO-only user deletes that user
    (nothing could log into it any more) and logs out."""
    character = own_character(request, character_id)
    user = request.user
    assert isinstance(user, AbstractBaseUser)  # login_required
    others = selectors.user_characters(user).exclude(pk=character.pk).count()
    deletes_user = others == 0 and not user.has_usable_password()
    if request.method == "GET":
        return render(
            request,
            "characters/unlink.html",
            {"character": character, "deletes_user": deletes_user},
        )
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    _revoke_quietly(character)
    name = character.name
    with transaction.atomic():
        for account in SocialAccount.objects.filter(user_id=user.pk, provider=PROVIDER_ID):
            if account.extra_data.get("character_id") == character.character_id:
                account.delete()
        character.delete()
        if deletes_user:
            auth_logout(request)
            user.delete()
    if deletes_user:
        messages.info(request, f"{name} is unlinked and your account on this site deleted.")
        return redirect("/")
    if request.session.get(selectors.SESSION_KEY) == character_id:
        del request.session[selectors.SESSION_KEY]
    messages.info(request, f"{name} is unlinked; its tokens are revoked and deleted.")
    return redirect("eve-characters")


def _revoke_quietly(character: Character) -> None:
    token = getattr(character, "token", None)
    if token is None or not sso.is_configured():
        return
    try:
        sso.revoke(crypto.decrypt(token.refresh_token_encrypted))
    except (sso.SsoError, crypto.InvalidToken) as exc:
        log.warning("could not revoke the token of character %s: %s", character.pk, exc)


def logout(request: HttpRequest) -> HttpResponse:
    """GET: confirm; POST: log out."""
    if request.method == "POST":
        auth_logout(request)
        messages.info(request, "You are logged out.")
        return redirect("/")
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render(request, "characters/logout.html")

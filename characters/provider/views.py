"""The OAuth2 adapter: where the SSO's endpoints are, and what a token exchange proves."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialApp, SocialLogin, SocialToken
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.oauth2.client import OAuth2Client
from allauth.socialaccount.providers.oauth2.views import (
    OAuth2Adapter,
    OAuth2CallbackView,
    OAuth2LoginView,
)
from allauth.utils import get_request_param
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from characters import sso


class EveSsoOAuth2Adapter(OAuth2Adapter):
    provider_id = "eveonline"

    def _endpoint(self, name: str) -> str:
        try:
            return sso.endpoint(name)
        except sso.SsoError as exc:
            # allauth's views turn this into the response: a friendly page, never a 500.
            raise ImmediateHttpResponse(
                render(self.request, "characters/sso_unavailable.html", {"error": exc}, status=503)
            ) from None

    @property
    def authorize_url(self) -> str:
        return self._endpoint("authorization_endpoint")

    @property
    def access_token_url(self) -> str:
        return self._endpoint("token_endpoint")

    @property
    def basic_auth(self) -> bool:
        # A web application authenticates with its secret (HTTP Basic, as EVE asks); a
        # PKCE-only application has no secret and sends its client id in the form.
        return bool(settings.EVE_CLIENT_SECRET)

    def get_callback_url(self, request: HttpRequest, app: SocialApp) -> str:
        return settings.EVE_CALLBACK_URL or super().get_callback_url(request, app)

    def get_access_token_data(
        self,
        request: HttpRequest,
        app: SocialApp,
        client: OAuth2Client,
        pkce_code_verifier: str | None = None,
    ) -> dict[str, Any]:
        """The code exchange through `characters.sso`, whose errors name the HTTP status and
        the OAuth error (allauth's quote the whole answer, without the status)."""
        try:
            data = sso.exchange_code(
                get_request_param(request, "code"), client.callback_url, pkce_code_verifier
            )
        except sso.SsoError as exc:
            raise ProviderException(str(exc)) from exc
        self.did_fetch_access_token = True
        return data

    def complete_login(
        self, request: HttpRequest, app: SocialApp, token: SocialToken, **kwargs: Any
    ) -> SocialLogin:
        try:
            claims = sso.validate_access_token(token.token)
        except sso.SsoError as exc:
            raise ProviderException(str(exc)) from None
        if token.expires_at is None:
            token.expires_at = claims.expires_at
        extra_data = {
            "character_id": claims.character_id,
            "name": claims.name,
            "scopes": sorted(claims.scopes),
            "owner": claims.owner,
        }
        login = self.get_provider().sociallogin_from_response(request, extra_data)
        login._eve_claims = claims
        return login


def _when_configured(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """allauth's view, or the "login is not configured" page while EVE_CLIENT_ID is unset
    (allauth itself would fail to find the app)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sso.is_configured():
            return render(request, "characters/login.html", {"configured": False}, status=503)
        return view(request, *args, **kwargs)

    return wrapper


oauth2_login = _when_configured(OAuth2LoginView.adapter_view(EveSsoOAuth2Adapter))
oauth2_callback = _when_configured(OAuth2CallbackView.adapter_view(EveSsoOAuth2Adapter))

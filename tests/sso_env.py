"""Fixtures for EVE SSO tests: the SSO stand-in over real HTTP with settings pointing at it,
and `sso_login`, which walks Django's test client through a real login or link.

    def test_something(client, sso):
        sso_login(client, sso, 1001)                        # logged in as Bruce Wayne
        sso_login(client, sso, 1002, action="link")         # Clark Kent linked too
        sso_login(client, sso, 1001, action="feature", feature="wallet")
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from characters import sso as sso_module
from standin.sso import SsoStandIn

CLIENT_ID = "evetrade-test"
CLIENT_SECRET = "evetrade-test-secret"
# Valid Fernet keys for the tests (never used outside them).
TEST_TOKEN_KEY = "hDXPl2B-8cQMmfhoV8mgxYk0E2kz2v4gXYIgP8yI3_I="


@pytest.fixture
def sso(settings) -> Iterator[SsoStandIn]:
    """A running SSO stand-in; the app's SSO settings point at it."""
    with SsoStandIn(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as server:
        settings.SSO_BASE_URL = server.base_url
        settings.EVE_CLIENT_ID = CLIENT_ID
        settings.EVE_CLIENT_SECRET = CLIENT_SECRET
        settings.EVE_CALLBACK_URL = ""
        settings.TOKEN_KEYS = [TEST_TOKEN_KEY]
        sso_module.forget_cached()
        yield server
        sso_module.forget_cached()


def start_url(action: str, character_id: int | None = None, feature: str = "") -> str:
    if action == "login":
        return reverse("eve-sso-login")
    if action == "link":
        return reverse("eve-link")
    if action == "feature":
        assert character_id is not None
        return reverse("eve-feature-enable", args=[character_id, feature])
    if action == "reauthorise":
        assert character_id is not None
        return reverse("eve-reauthorise", args=[character_id])
    raise ValueError(action)


def sso_login(
    client: Client,
    server: SsoStandIn,
    character_id: int,
    *,
    action: str = "login",
    feature: str = "",
    for_character: int | None = None,
) -> str:
    """Drive one SSO round trip: POST the start action, let the stand-in approve it as
    `character_id`, follow the callback. Returns where the app redirected at the end.
    `for_character` is the character a feature/reauthorise action targets (default: the
    one logging in)."""
    target = for_character if for_character is not None else character_id
    start = client.post(start_url(action, target, feature))
    assert start.status_code == 302, start.content[:500]
    authorize = start["Location"]
    assert authorize.startswith(server.base_url), authorize
    answer = requests.get(
        authorize, params={"character_id": str(character_id)}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302, answer.text[:500]
    callback = urlsplit(answer.headers["Location"])
    done = client.get(callback.path, parse_qs(callback.query))
    assert done.status_code == 302, done.content[:1000]
    return str(done["Location"])

"""EVE SSO login through allauth against the SSO stand-in (real HTTP): log in, link, turn a
feature on, re-authorise, switch, unlink, log out; access tokens refreshed, revoked tokens
handled without a loop; token keys rotated; the admin never shows a token."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from characters import crypto, tokens
from characters.models import Character, CharacterToken
from characters.scopes import FEATURES, has_feature
from characters.selectors import SESSION_KEY, selected_character
from standin.sso import SsoStandIn
from tests.sso_env import TEST_TOKEN_KEY, sso_login

pytestmark = pytest.mark.django_db

WALLET = "esi-wallet.read_character_wallet.v1"
# The repository's copy of the synthetic character data (standin/data/characters/PROVENANCE.md).
SYNTHETIC = Path(__file__).resolve().parents[1] / (
    "standin/data/characters/aa-memberaudit-4.3.1_esi_testdata_characters.json"
)


def stored_refresh_token(character_id: int) -> str:
    return crypto.decrypt(CharacterToken.objects.get(pk=character_id).refresh_token_encrypted)


# --- Login, link, features --------------------------------------------------------------------


def test_login_asks_for_no_scope_and_creates_user_and_character(
    client: Client, sso: SsoStandIn
) -> None:
    start = client.post(reverse("eve-sso-login"))
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query.get("scope", [""]) == [""]
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == ["evetrade-test"]

    assert sso_login(client, sso, 1001) == "/"
    character = Character.objects.get(character_id=1001)
    assert character.name == "Bruce Wayne"
    assert character.scopes == ""
    assert not character.needs_reauth
    assert character.user.username == "bruce_wayne"
    assert client.session[SESSION_KEY] == 1001
    assert stored_refresh_token(1001) in sso.issued_refresh_tokens(1001)
    # The header now shows the character instead of "Log in".
    page = client.get(reverse("eve-characters")).content.decode()
    assert 'data-selected-character="1001"' in page


def test_login_again_with_the_same_character_finds_the_same_user(
    client: Client, sso: SsoStandIn
) -> None:
    sso_login(client, sso, 1001)
    first_user = Character.objects.get(pk=1001).user_id
    client.post(reverse("eve-logout"))
    sso_login(client, sso, 1001)
    assert Character.objects.get(pk=1001).user_id == first_user
    assert User.objects.count() == 1


def test_logging_in_again_keeps_the_features_granted(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    sso_login(client, sso, 1001, action="feature", feature="wallet")
    granted = stored_refresh_token(1001)
    client.post(reverse("eve-logout"))
    sso_login(client, sso, 1001)  # a plain login asks for no scope
    character = Character.objects.get(pk=1001)
    assert has_feature(character, "wallet")
    assert stored_refresh_token(1001) == granted
    assert sso.verify(tokens.access_token(character))["scp"] == WALLET  # type: ignore[index]


def test_login_keeps_a_safe_next_and_drops_an_outside_one(client: Client, sso: SsoStandIn) -> None:
    start = client.post(reverse("eve-sso-login"), {"next": "/market/"})
    authorize = requests.get(
        start["Location"], params={"character_id": "1001"}, allow_redirects=False, timeout=5
    )
    callback = urlsplit(authorize.headers["Location"])
    assert client.get(callback.path, parse_qs(callback.query))["Location"] == "/market/"
    client.post(reverse("eve-logout"))
    start = client.post(reverse("eve-sso-login"), {"next": "https://evil.example/"})
    authorize = requests.get(
        start["Location"], params={"character_id": "1001"}, allow_redirects=False, timeout=5
    )
    callback = urlsplit(authorize.headers["Location"])
    assert client.get(callback.path, parse_qs(callback.query))["Location"] == "/"


def test_link_adds_a_second_character_to_the_same_user(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    assert sso_login(client, sso, 1002, action="link") == reverse("eve-characters")
    user = User.objects.get()
    assert sorted(Character.objects.filter(user=user).values_list("pk", flat=True)) == [1001, 1002]
    assert client.session[SESSION_KEY] == 1002  # the new one is selected
    page = client.get(reverse("eve-characters")).content.decode()
    assert "Bruce Wayne" in page and "Clark Kent" in page


def test_linking_a_character_held_by_another_user_moves_it(sso: SsoStandIn) -> None:
    alice, bob = Client(), Client()
    sso_login(alice, sso, 1001)
    alice.get(reverse("eve-characters"))  # her own "Logged in as Bruce Wayne." read before
    sso_login(bob, sso, 1002)
    sso_login(bob, sso, 1001, action="link")
    bob_user = Character.objects.get(pk=1002).user
    assert Character.objects.get(pk=1001).user == bob_user
    assert SocialAccount.objects.get(uid="owner-hash-bruce-wayne").user == bob_user
    # Alice still has her (now empty) session; she sees no character of Bob's.
    assert b"Bruce Wayne" not in alice.get(reverse("eve-characters")).content


def test_enable_feature_reauthorises_the_same_character_with_more_scopes(
    client: Client, sso: SsoStandIn
) -> None:
    sso_login(client, sso, 1001)
    start = client.post(reverse("eve-feature-enable", args=[1001, "wallet"]))
    asked = parse_qs(urlsplit(start["Location"]).query)["scope"][0].split()
    assert asked == [WALLET]
    sso_login(client, sso, 1001, action="feature", feature="wallet")
    sso_login(client, sso, 1001, action="feature", feature="fees")
    character = Character.objects.get(pk=1001)
    assert has_feature(character, "wallet") and has_feature(character, "fees")
    assert not has_feature(character, "assets")
    # Turning another feature on keeps the scopes already granted.
    start = client.post(reverse("eve-feature-enable", args=[1001, "orders"]))
    asked_now = set(parse_qs(urlsplit(start["Location"]).query)["scope"][0].split())
    assert asked_now == {WALLET, *FEATURES["fees"].scopes, *FEATURES["orders"].scopes}
    page = client.get(reverse("eve-characters")).content.decode()
    assert page.count("data-enabled") == 2


def test_enable_feature_refuses_a_different_character(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    before = stored_refresh_token(1001)
    where = sso_login(client, sso, 1002, action="feature", feature="wallet", for_character=1001)
    assert where == reverse("eve-characters")
    assert not Character.objects.filter(pk=1002).exists()
    assert Character.objects.get(pk=1001).scopes == ""
    assert stored_refresh_token(1001) == before
    assert b"not the character you chose" in client.get(reverse("eve-characters")).content


def test_unknown_feature_is_404(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    assert client.post(reverse("eve-feature-enable", args=[1001, "mining"])).status_code == 404


def test_cancel_at_the_sso_changes_nothing(client: Client, sso: SsoStandIn) -> None:
    start = client.post(reverse("eve-sso-login"))
    denied = requests.get(start["Location"], params={"deny": "1"}, allow_redirects=False, timeout=5)
    callback = urlsplit(denied.headers["Location"])
    response = client.get(callback.path, parse_qs(callback.query), follow=True)
    assert b"Login cancelled" in response.content
    assert not User.objects.exists()


# --- Switch, unlink, log out ------------------------------------------------------------------


def test_switch_selects_one_of_the_users_characters(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    sso_login(client, sso, 1002, action="link")
    response = client.post(reverse("eve-switch"), {"character_id": "1001", "next": "/market/"})
    assert response["Location"] == "/market/"
    assert client.session[SESSION_KEY] == 1001
    request = client.get(reverse("eve-characters")).wsgi_request
    assert selected_character(request).pk == 1001  # type: ignore[union-attr]


def test_unlink_revokes_the_token_and_forgets_the_character(
    client: Client, sso: SsoStandIn
) -> None:
    sso_login(client, sso, 1001)
    sso_login(client, sso, 1002, action="link")
    assert client.get(reverse("eve-unlink", args=[1002])).status_code == 200
    assert sso.issued_refresh_tokens(1002)
    response = client.post(reverse("eve-unlink", args=[1002]))
    assert response["Location"] == reverse("eve-characters")
    assert not Character.objects.filter(pk=1002).exists()
    assert not CharacterToken.objects.filter(pk=1002).exists()
    assert not SocialAccount.objects.filter(uid="owner-hash-clark-kent").exists()
    assert sso.issued_refresh_tokens(1002) == []  # revoked at the SSO
    assert client.session.get(SESSION_KEY) != 1002
    assert Character.objects.filter(pk=1001).exists()


def test_unlinking_the_last_character_deletes_the_user_and_logs_out(
    client: Client, sso: SsoStandIn
) -> None:
    sso_login(client, sso, 1001)
    page = client.get(reverse("eve-unlink", args=[1001])).content.decode()
    assert 'data-unlink="deletes-account"' in page
    client.post(reverse("eve-unlink", args=[1001]))
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session


def test_logout(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    assert client.get(reverse("eve-logout")).status_code == 200  # a confirmation, no logout
    assert "_auth_user_id" in client.session
    assert client.post(reverse("eve-logout"))["Location"] == "/"
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("eve-characters"))["Location"].startswith(reverse("eve-login"))


# --- Not configured, SSO down -------------------------------------------------------------------


def test_without_client_id_the_login_page_explains_how_to_configure(
    client: Client, settings: Any
) -> None:
    settings.EVE_CLIENT_ID = ""
    page = client.get(reverse("eve-login"))
    assert page.status_code == 200
    assert b'data-sso="not-configured"' in page.content
    assert b"docs/sso.md" in page.content and b"python -m standin.sso" in page.content
    started = client.post(reverse("eve-sso-login"))
    assert started.status_code == 503
    assert b'data-sso="not-configured"' in started.content
    # allauth's own login and callback URLs answer the same page instead of crashing.
    for url in ("/accounts/eveonline/login/", "/accounts/eveonline/login/callback/"):
        response = client.post(url) if url.endswith("login/") else client.get(url)
        assert response.status_code == 503
        assert b'data-sso="not-configured"' in response.content


def test_sso_unreachable_is_a_friendly_page(client: Client, sso: SsoStandIn, settings: Any) -> None:
    settings.SSO_BASE_URL = "http://127.0.0.1:9"
    response = client.post(reverse("eve-sso-login"))
    assert response.status_code == 503
    assert b'data-sso="unavailable"' in response.content


# --- Access tokens ---------------------------------------------------------------------------


def test_access_token_is_reused_while_fresh(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    character = Character.objects.get(pk=1001)
    first = tokens.access_token(character)
    assert tokens.access_token(character) == first
    assert sso.token_calls["refresh_token"] == 0
    assert sso.verify(first)["sub"] == "CHARACTER:EVE:1001"  # type: ignore[index]


def test_access_token_is_refreshed_shortly_before_expiry(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001, action="login")
    sso_login(client, sso, 1001, action="feature", feature="wallet")
    old_refresh = stored_refresh_token(1001)
    CharacterToken.objects.filter(pk=1001).update(
        access_expires_at=timezone.now() + tokens.REFRESH_MARGIN - timedelta(seconds=5)
    )
    character = Character.objects.get(pk=1001)
    fresh = tokens.access_token(character)
    assert sso.token_calls["refresh_token"] == 1
    claims = sso.verify(fresh)
    assert claims is not None and claims["scp"] == WALLET
    # The rotated refresh token is stored; the old one is spent.
    assert stored_refresh_token(1001) != old_refresh
    assert stored_refresh_token(1001) in sso.issued_refresh_tokens(1001)
    assert tokens.access_token(character) == fresh
    assert sso.token_calls["refresh_token"] == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_callers_refresh_once(sso: SsoStandIn) -> None:
    sso_login(Client(), sso, 1001)
    CharacterToken.objects.filter(pk=1001).update(access_expires_at=timezone.now())
    results: list[str] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            results.append(tokens.access_token(Character.objects.get(pk=1001)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(set(results)) == 1 and len(results) == 4
    assert sso.token_calls["refresh_token"] == 1


def test_revoked_token_marks_the_character_once_then_fails_fast(
    client: Client, sso: SsoStandIn
) -> None:
    sso_login(client, sso, 1001)
    sso_login(client, sso, 1001, action="feature", feature="wallet")
    sso.revoke_character(1001)
    CharacterToken.objects.filter(pk=1001).update(access_expires_at=timezone.now())
    character = Character.objects.get(pk=1001)
    with pytest.raises(tokens.NeedsReauth):
        tokens.access_token(character)
    assert sso.token_calls["refresh_token"] == 1
    character.refresh_from_db()
    assert character.needs_reauth
    assert not CharacterToken.objects.filter(pk=1001).exists()
    # Later calls (with a stale object too) raise at once without asking the SSO.
    for stale in (Character.objects.get(pk=1001), character):
        with pytest.raises(tokens.NeedsReauth):
            tokens.access_token(stale)
    stale = Character(character_id=1001, user_id=character.user_id, needs_reauth=False)
    with pytest.raises(tokens.NeedsReauth):
        tokens.access_token(stale)
    assert sso.token_calls["refresh_token"] == 1

    # The page says so, with a button that re-authorises the same character.
    page = client.get(reverse("eve-characters")).content.decode()
    assert "data-needs-reauth" in page and "Needs re-authorisation" in page
    assert "data-paused" in page and "data-enabled" not in page  # wallet waits for it
    assert reverse("eve-reauthorise", args=[1001]) in page
    start = client.post(reverse("eve-reauthorise", args=[1001]))
    assert parse_qs(urlsplit(start["Location"]).query)["scope"] == [WALLET]
    sso_login(client, sso, 1001, action="reauthorise")
    character.refresh_from_db()
    assert not character.needs_reauth and has_feature(character, "wallet")
    assert tokens.access_token(character)


def test_sso_outage_during_refresh_changes_nothing(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    CharacterToken.objects.filter(pk=1001).update(access_expires_at=timezone.now())
    sso.fail_token_status = 503
    character = Character.objects.get(pk=1001)
    with pytest.raises(tokens.TokenUnavailable):
        tokens.access_token(character)
    character.refresh_from_db()
    assert not character.needs_reauth
    sso.fail_token_status = None
    assert tokens.access_token(character)


def test_an_unreachable_store_during_refresh_is_a_passing_failure(
    client: Client, sso: SsoStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    sso_login(client, sso, 1001)
    CharacterToken.objects.filter(pk=1001).update(access_expires_at=timezone.now())

    class DownLock:
        def acquire(self) -> bool:
            raise RedisConnectionError("connection refused")

    class DownStore:
        def lock(self, name: str, ttl: float) -> DownLock:
            return DownLock()

    monkeypatch.setattr(tokens, "get_store", DownStore)
    with pytest.raises(tokens.TokenUnavailable):
        tokens.access_token(Character.objects.get(pk=1001))
    assert not Character.objects.get(pk=1001).needs_reauth
    assert sso.token_calls["refresh_token"] == 0


def test_character_without_a_token_needs_reauth(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    CharacterToken.objects.filter(pk=1001).delete()
    with pytest.raises(tokens.NeedsReauth):
        tokens.access_token(Character.objects.get(pk=1001))


def test_signing_key_rotation_at_the_sso_is_followed(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)  # keys fetched and cached
    sso.rotate_key()
    sso_login(client, sso, 1002, action="link")  # new kid: the key set is fetched again
    assert Character.objects.filter(pk=1002).exists()


# --- Encryption keys ---------------------------------------------------------------------------


def test_rotate_token_keys_reencrypts_with_the_newest_key(
    client: Client, sso: SsoStandIn, settings: Any
) -> None:
    sso_login(client, sso, 1001)
    before = CharacterToken.objects.get(pk=1001)
    refresh_token = crypto.decrypt(before.refresh_token_encrypted)
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_KEYS = [new_key, TEST_TOKEN_KEY]
    assert crypto.decrypt(before.refresh_token_encrypted) == refresh_token  # old key decrypts
    call_command("rotate_token_keys", stdout=io.StringIO())
    after = CharacterToken.objects.get(pk=1001)
    assert after.refresh_token_encrypted != before.refresh_token_encrypted
    settings.TOKEN_KEYS = [new_key]  # the old key removed
    assert crypto.decrypt(after.refresh_token_encrypted) == refresh_token
    assert tokens.access_token(Character.objects.get(pk=1001))


def test_rotate_token_keys_reports_and_can_mark_unreadable_tokens(
    client: Client, sso: SsoStandIn, settings: Any
) -> None:
    sso_login(client, sso, 1001)
    sso_login(client, sso, 1002, action="link")
    settings.TOKEN_KEYS = [Fernet.generate_key().decode()]  # opens neither
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_token_keys", stdout=out, stderr=err)
    assert "0 characters (2 unreadable)" in out.getvalue()
    assert not Character.objects.filter(needs_reauth=True).exists()
    call_command("rotate_token_keys", "--mark-unreadable", stdout=out, stderr=err)
    assert Character.objects.filter(needs_reauth=True).count() == 2
    assert not CharacterToken.objects.exists()


def test_token_under_a_removed_key_means_reauth_not_a_crash(
    client: Client, sso: SsoStandIn, settings: Any
) -> None:
    sso_login(client, sso, 1001)
    CharacterToken.objects.filter(pk=1001).update(access_expires_at=timezone.now())
    settings.TOKEN_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(tokens.NeedsReauth):
        tokens.access_token(Character.objects.get(pk=1001))
    assert Character.objects.get(pk=1001).needs_reauth


# --- Admin, stand-in entry point ---------------------------------------------------------------


def test_admin_lists_characters_read_only_without_tokens(client: Client, sso: SsoStandIn) -> None:
    sso_login(Client(), sso, 1001)
    secret = stored_refresh_token(1001)
    ciphertext = CharacterToken.objects.get(pk=1001).refresh_token_encrypted
    User.objects.create_superuser("admin", "admin@example.com", "pw-for-tests-only")
    client.login(username="admin", password="pw-for-tests-only")
    listing = client.get("/admin/characters/character/")
    assert listing.status_code == 200 and b"Bruce Wayne" in listing.content
    page = client.get("/admin/characters/character/1001/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert secret not in body and ciphertext not in body
    assert 'name="name"' not in body  # nothing editable
    assert client.get("/admin/characters/charactertoken/").status_code == 404
    assert client.get("/admin/socialaccount/socialtoken/").status_code == 404


def test_standin_runs_from_the_command_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "standin.sso", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        metadata = requests.get(f"{base_url}/.well-known/oauth-authorization-server", timeout=5)
        assert metadata.json()["token_endpoint"] == f"{base_url}/v2/oauth/token"
        assert requests.get(metadata.json()["jwks_uri"], timeout=5).json()["keys"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_standin_characters_are_those_of_the_synthetic_character_data() -> None:
    data = json.loads(SYNTHETIC.read_text())["Character"]["get_characters_character_id"]
    for character in SsoStandIn().characters.values():
        synthetic = data[str(character.character_id)]
        assert (character.name, character.corporation_id) == (
            synthetic["name"],
            synthetic["corporation_id"],
        )

"""Security of the EVE SSO login: forged, expired, mis-addressed and algorithm-confused tokens
are rejected (alone and through the whole login flow); `state` and PKCE are enforced; a user
cannot act on another user's character; forms are CSRF-protected; tokens are encrypted at rest
and never appear in a log line, a URL, a session or the shared store; `check --deploy` is clean
with production settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse

from characters import crypto, tokens
from characters import sso as sso_module
from characters.models import Character, CharacterToken
from characters.selectors import SESSION_KEY, selected_character
from standin.sso import SsoStandIn
from tests.sso_env import CLIENT_ID, sso_login

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parent.parent


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def validate(token: str) -> sso_module.Claims:
    return sso_module.validate_access_token(token)


# --- Access-token validation ------------------------------------------------------------------


def test_a_token_of_the_sso_is_accepted(sso: SsoStandIn) -> None:
    claims = validate(sso.mint(1002, ["esi-wallet.read_character_wallet.v1"]))
    assert claims.character_id == 1002
    assert claims.name == "Clark Kent"
    assert claims.scopes == {"esi-wallet.read_character_wallet.v1"}
    assert claims.owner == "owner-hash-clark-kent"


@pytest.mark.parametrize("form", ["url", "host"])
def test_both_issuer_forms_of_the_configured_sso_are_accepted(sso: SsoStandIn, form: str) -> None:
    sso.issuer_form = form
    assert validate(sso.mint(1001)).character_id == 1001


def test_forged_signature_is_rejected(sso: SsoStandIn) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(sso.claims(1001), other_key, algorithm="RS256", headers={"kid": sso.kid})
    with pytest.raises(sso_module.InvalidAccessToken):
        validate(forged)


def test_tampered_claims_are_rejected(sso: SsoStandIn) -> None:
    header, _, signature = sso.mint(1001).split(".")
    claims = {**sso.claims(1002), "scp": ["esi-wallet.read_character_wallet.v1"]}
    payload = b64(json.dumps(claims).encode())
    with pytest.raises(sso_module.InvalidAccessToken):
        validate(f"{header}.{payload}.{signature}")


def test_expired_token_is_rejected_beyond_a_small_leeway(sso: SsoStandIn) -> None:
    now = int(time.time())
    with pytest.raises(sso_module.InvalidAccessToken, match="expired"):
        validate(sso.mint(1001, exp=now - 60))
    assert validate(sso.mint(1001, exp=now - 3)).character_id == 1001  # clock skew


@pytest.mark.parametrize(
    "audience",
    [[CLIENT_ID], ["EVE Online"], ["someone-else", "EVE Online"], "EVE Online", None],
)
def test_wrong_audience_is_rejected(sso: SsoStandIn, audience: Any) -> None:
    with pytest.raises(sso_module.InvalidAccessToken):
        validate(sso.mint(1001, aud=audience))


@pytest.mark.parametrize(
    "issuer", ["https://login.eveonline.com", "login.eveonline.com", "http://evil.example", None]
)
def test_wrong_issuer_is_rejected(sso: SsoStandIn, issuer: str | None) -> None:
    with pytest.raises(sso_module.InvalidAccessToken):
        validate(sso.mint(1001, iss=issuer))


def test_alg_none_is_rejected(sso: SsoStandIn) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": sso.kid}).encode())
    payload = b64(json.dumps(sso.claims(1001)).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        with pytest.raises(sso_module.InvalidAccessToken):
            validate(token)


def test_hs256_signed_with_the_public_key_is_rejected(sso: SsoStandIn) -> None:
    """Algorithm confusion: an HMAC "signed" with the published RSA key as the secret."""
    public_pem = sso.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk_secret = json.dumps(sso.jwks()["keys"][0]).encode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": sso.kid}).encode())
    payload = b64(json.dumps(sso.claims(1001)).encode())
    for secret in (public_pem, jwk_secret):
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        with pytest.raises(sso_module.InvalidAccessToken, match="algorithm"):
            validate(f"{header}.{payload}.{b64(mac)}")


def test_unknown_key_id_is_rejected_after_one_refetch(sso: SsoStandIn) -> None:
    validate(sso.mint(1001))  # keys cached
    fetched = sum(1 for _, path in sso.requests if path == "/oauth/jwks")
    token = jwt.encode(sso.claims(1001), sso.private_key, algorithm="RS256", headers={"kid": "x"})
    with pytest.raises(sso_module.InvalidAccessToken, match="unknown key"):
        validate(token)
    assert sum(1 for _, path in sso.requests if path == "/oauth/jwks") == fetched + 1


@pytest.mark.parametrize("subject", ["CORPORATION:EVE:98000001", "CHARACTER:EVE:abc", None])
def test_a_subject_that_is_not_a_character_is_rejected(sso: SsoStandIn, subject: Any) -> None:
    with pytest.raises(sso_module.InvalidAccessToken):
        validate(sso.mint(1001, sub=subject))


def test_a_token_without_expiry_is_rejected(sso: SsoStandIn) -> None:
    with pytest.raises(sso_module.InvalidAccessToken):
        validate(sso.mint(1001, exp=None))


# --- Bad tokens through the whole login flow ---------------------------------------------------


def finish_login(client: Client, server: SsoStandIn, character_id: int = 1001) -> Any:
    start = client.post(reverse("eve-sso-login"))
    answer = requests.get(
        start["Location"],
        params={"character_id": str(character_id)},
        allow_redirects=False,
        timeout=5,
    )
    callback = urlsplit(answer.headers["Location"])
    return client.get(callback.path, parse_qs(callback.query))


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": 1_000_000_000},
        {"aud": ["someone-else", "EVE Online"]},
        {"aud": [CLIENT_ID]},
        {"iss": "https://evil.example"},
    ],
    ids=["expired", "wrong-audience", "no-eve-audience", "wrong-issuer"],
)
def test_login_with_a_bad_token_from_the_sso_is_refused(
    client: Client, sso: SsoStandIn, overrides: dict[str, Any]
) -> None:
    sso.token_overrides = overrides
    response = finish_login(client, sso)
    assert response.status_code == 401
    assert b'data-sso="login-failed"' in response.content
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists() and not Character.objects.exists()


# --- state and PKCE ----------------------------------------------------------------------------


def test_state_mismatch_is_refused(client: Client, sso: SsoStandIn) -> None:
    start = client.post(reverse("eve-sso-login"))
    answer = requests.get(
        start["Location"], params={"character_id": "1001"}, allow_redirects=False, timeout=5
    )
    callback = urlsplit(answer.headers["Location"])
    query = parse_qs(callback.query)
    forged = {**query, "state": ["not-the-state-we-sent"]}
    response = client.get(callback.path, forged)
    assert response.status_code == 401
    assert "_auth_user_id" not in client.session
    assert sso.token_calls["authorization_code"] == 0  # the code was never exchanged
    assert not Character.objects.exists()


def test_state_from_another_browser_is_refused(sso: SsoStandIn) -> None:
    """A login started by an attacker's browser and finished in the victim's (login CSRF)."""
    attacker, victim = Client(), Client()
    start = attacker.post(reverse("eve-sso-login"))
    answer = requests.get(
        start["Location"], params={"character_id": "1003"}, allow_redirects=False, timeout=5
    )
    callback = urlsplit(answer.headers["Location"])
    response = victim.get(callback.path, parse_qs(callback.query))
    assert response.status_code == 401
    assert "_auth_user_id" not in victim.session
    assert not Character.objects.exists()


def test_a_callback_cannot_be_replayed(client: Client, sso: SsoStandIn) -> None:
    start = client.post(reverse("eve-sso-login"))
    answer = requests.get(
        start["Location"], params={"character_id": "1001"}, allow_redirects=False, timeout=5
    )
    callback = urlsplit(answer.headers["Location"])
    assert client.get(callback.path, parse_qs(callback.query)).status_code == 302
    client.post(reverse("eve-logout"))
    replay = client.get(callback.path, parse_qs(callback.query))
    assert replay.status_code == 401
    assert "_auth_user_id" not in client.session


def test_the_stand_in_checks_the_pkce_verifier(sso: SsoStandIn) -> None:
    verifier = "v" * 64
    challenge = b64(hashlib.sha256(verifier.encode()).digest())
    redirect_uri = "http://testserver/accounts/eveonline/login/callback/"

    def code() -> str:
        answer = requests.get(
            f"{sso.base_url}/v2/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": CLIENT_ID,
                "redirect_uri": redirect_uri,
                "state": "s",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "character_id": "1001",
            },
            allow_redirects=False,
            timeout=5,
        )
        return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

    def exchange(code: str, code_verifier: str | None) -> requests.Response:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        return requests.post(
            f"{sso.base_url}/v2/oauth/token",
            data=form,
            auth=(CLIENT_ID, sso.client_secret),
            timeout=5,
        )

    for wrong in ("w" * 64, None):
        refused = exchange(code(), wrong)
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_grant"
    accepted = exchange(code(), verifier)
    assert accepted.status_code == 200
    assert validate(accepted.json()["access_token"]).character_id == 1001


def test_the_app_sends_a_pkce_challenge_and_its_verifier(client: Client, sso: SsoStandIn) -> None:
    start = client.post(reverse("eve-sso-login"))
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0]
    # The login completes only because the app sent the matching verifier.
    sso_login(client, sso, 1001)
    assert Character.objects.filter(pk=1001).exists()


# --- One user, another user's characters -------------------------------------------------------


@pytest.fixture
def alice_and_bob(sso: SsoStandIn) -> tuple[Client, Client]:
    alice, bob = Client(), Client()
    sso_login(alice, sso, 1001)
    sso_login(bob, sso, 1002)
    return alice, bob


def test_another_users_character_is_404_for_every_action(
    alice_and_bob: tuple[Client, Client],
) -> None:
    _, bob = alice_and_bob
    alice_character = 1001
    attempts = [
        bob.post(reverse("eve-switch"), {"character_id": str(alice_character)}),
        bob.get(reverse("eve-unlink", args=[alice_character])),
        bob.post(reverse("eve-unlink", args=[alice_character])),
        bob.post(reverse("eve-feature-enable", args=[alice_character, "wallet"])),
        bob.post(reverse("eve-reauthorise", args=[alice_character])),
        bob.post(reverse("eve-switch"), {"character_id": "99999999"}),
        bob.post(reverse("eve-switch"), {"character_id": "nope"}),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert bob.session[SESSION_KEY] == 1002
    assert Character.objects.get(pk=alice_character).user != Character.objects.get(pk=1002).user
    page = bob.get(reverse("eve-characters")).content.decode()
    assert "Bruce Wayne" not in page and "Clark Kent" in page


def test_a_foreign_id_in_the_session_is_not_trusted(alice_and_bob: tuple[Client, Client]) -> None:
    _, bob = alice_and_bob
    session = bob.session
    session[SESSION_KEY] = 1001
    session.save()
    request = bob.get(reverse("eve-characters")).wsgi_request
    selected = selected_character(request)
    assert selected is not None and selected.pk == 1002


# --- CSRF ------------------------------------------------------------------------------------


def csrf_client(logged_in: Client) -> Client:
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = logged_in.cookies
    return strict


def test_every_form_is_csrf_protected(client: Client, sso: SsoStandIn) -> None:
    sso_login(client, sso, 1001)
    sso_login(client, sso, 1002, action="link")
    strict = csrf_client(client)
    posts = [
        (reverse("eve-sso-login"), {}),
        (reverse("eve-link"), {}),
        (reverse("eve-switch"), {"character_id": "1001"}),
        (reverse("eve-feature-enable", args=[1001, "wallet"]), {}),
        (reverse("eve-reauthorise", args=[1001]), {}),
        (reverse("eve-unlink", args=[1002]), {}),
        (reverse("eve-logout"), {}),
        ("/accounts/eveonline/login/", {}),
    ]
    for url, data in posts:
        assert strict.post(url, data).status_code == 403, url
    assert Character.objects.filter(pk=1002).exists()
    assert "_auth_user_id" in strict.session

    # With the token from a page's form, the same POSTs work.
    strict.get(reverse("eve-characters"))
    token = strict.cookies["csrftoken"].value
    switched = strict.post(
        reverse("eve-switch"), {"character_id": "1001", "csrfmiddlewaretoken": token}
    )
    assert switched.status_code == 302 and strict.session[SESSION_KEY] == 1001
    unlinked = strict.post(reverse("eve-unlink", args=[1002]), {"csrfmiddlewaretoken": token})
    assert unlinked.status_code == 302 and not Character.objects.filter(pk=1002).exists()


def test_pages_render_csrf_tokens_in_their_forms(client: Client, sso: SsoStandIn) -> None:
    page = client.get(reverse("eve-login")).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 1
    sso_login(client, sso, 1001)
    sso_login(client, sso, 1002, action="link")
    page = client.get(reverse("eve-characters")).content.decode()
    posts = page.count('method="post"')
    assert posts >= 8 and posts == page.count('name="csrfmiddlewaretoken"')


# --- Tokens at rest, in logs, URLs, sessions and the store ---------------------------------------


def test_the_stored_refresh_token_is_not_the_token_in_clear(
    client: Client, sso: SsoStandIn
) -> None:
    sso_login(client, sso, 1001)
    (refresh_token,) = sso.issued_refresh_tokens(1001)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT refresh_token_encrypted, access_token_encrypted "
            "FROM characters_charactertoken WHERE character_id = %s",
            [1001],
        )
        raw_refresh, raw_access = cursor.fetchone()
    access_token = sso.issued_tokens[0]
    for raw in (raw_refresh, raw_access):
        assert refresh_token not in raw and access_token not in raw
        assert refresh_token.encode() not in base64.urlsafe_b64decode(raw + "==")
    assert crypto.decrypt(raw_refresh) == refresh_token
    assert crypto.decrypt(raw_access) == access_token


def all_database_text() -> str:
    """Every row of every table of the app database, plus every decoded session."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.append(repr(cursor.fetchall()))
    for session in Session.objects.all():
        chunks.append(repr(session.get_decoded()))
    return "\n".join(chunks)


def shared_store_text() -> str:
    """Every key and value of the cache and the shared store (Redis or files)."""
    if django_settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(django_settings.REDIS_URL)
        parts = []
        for key in client.scan_iter(count=1000):
            parts.append(repr(key))
            if client.type(key) == b"string":
                parts.append(repr(client.get(key)))
        return "\n".join(parts)
    var = Path(django_settings.VAR_DIR)
    return "\n".join(
        repr(p.read_bytes())
        for d in ("store", "cache")
        for p in (var / d).rglob("*")
        if p.is_file()
    )


def test_no_token_in_logs_urls_sessions_or_the_store(
    client: Client, sso: SsoStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    locations: list[str] = []

    def round_trip(start_url: str, character_id: int) -> None:
        start = client.post(start_url)
        locations.append(start["Location"])
        answer = requests.get(
            start["Location"],
            params={"character_id": str(character_id)},
            allow_redirects=False,
            timeout=5,
        )
        locations.append(answer.headers["Location"])
        callback = urlsplit(answer.headers["Location"])
        done = client.get(callback.path, parse_qs(callback.query))
        locations.append(done["Location"])

    round_trip(reverse("eve-sso-login"), 1001)
    round_trip(reverse("eve-link"), 1002)
    round_trip(reverse("eve-feature-enable", args=[1001, "wallet"]), 1001)
    CharacterToken.objects.filter(pk=1001).update(access_expires_at=None)
    tokens.access_token(Character.objects.get(pk=1001))  # a refresh
    sso.revoke_character(1002)
    CharacterToken.objects.filter(pk=1002).update(access_expires_at=None)
    with pytest.raises(tokens.NeedsReauth):
        tokens.access_token(Character.objects.get(pk=1002))
    client.post(reverse("eve-unlink", args=[1001]))  # revokes at the SSO

    secrets = sso.issued_tokens
    assert len(secrets) == 8  # three logins, one refresh: 4 access + 4 refresh tokens
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    assert "authorised by user" in logged  # the logs were captured
    urls = "\n".join(locations + [path for _, path in sso.requests])
    assert any("code=" in location for location in locations)
    database = all_database_text()
    store = shared_store_text()
    for secret in secrets:
        assert secret not in logged
        assert secret not in urls
        assert secret not in database
        assert secret not in store


# --- check --deploy ---------------------------------------------------------------------------

PRODUCTION_ENV = {
    "SECRET_KEY": "q3J-v9xT_fP2mZr7LwK8sYb4NcH1dGe6AaUo0iVjWtRyQkXnBlMh5EpSzCuDgF",
    "DEBUG": "false",
    "HTTPS": "true",
    "ALLOWED_HOSTS": "trade.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://trade.example.com",
    "EVE_CLIENT_ID": "0123456789abcdef0123456789abcdef",
    "EVE_CLIENT_SECRET": "production-secret-from-developers-eveonline-com",
    "EVE_CALLBACK_URL": "https://trade.example.com/accounts/eveonline/login/callback/",
    "SSO_BASE_URL": "https://login.eveonline.com",
    "TOKEN_KEYS": "uXNhr_FR1yIN51lhOz4yH5qT1eOH8VHvBMlNaUfB8sc=",
    "DATABASE_URL": "postgres://evetrade@127.0.0.1:5432/evetrade",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def check_deploy(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**clean, **env, "VAR_DIR": str(tmp_path), "SDE_PATH": str(tmp_path / "sde")},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_settings(tmp_path: Path) -> None:
    result = check_deploy(PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_flags_plain_http_and_missing_token_keys(tmp_path: Path) -> None:
    env = {**PRODUCTION_ENV, "HTTPS": "false", "TOKEN_KEYS": ""}
    result = check_deploy(env, tmp_path)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "characters.W001"):
        assert warning in result.stderr + result.stdout


# --- Staff accounts never sign in with EVE ------------------------------------------------------


def refused_login_message(client: Client) -> str:
    return client.get(reverse("eve-login")).content.decode()


@pytest.mark.parametrize("role", ["is_staff", "is_superuser"])
def test_an_sso_login_into_a_staff_account_is_refused_with_a_message(
    sso: SsoStandIn, role: str
) -> None:
    sso_login(Client(), sso, 1001)  # Bruce Wayne's character makes his user
    user = Character.objects.get(pk=1001).user
    setattr(user, role, True)
    user.save(update_fields=[role])

    browser = Client()
    landed = sso_login(browser, sso, 1001)
    assert landed == reverse("eve-login")
    assert "_auth_user_id" not in browser.session  # not signed in, as anyone
    page = refused_login_message(browser)
    assert "Bruce Wayne belongs to a staff account" in page
    assert "sign in with the account&#x27;s password instead" in page
    assert browser.get(reverse("eve-characters")).status_code == 302  # to the login page


def test_a_staff_user_signed_in_with_a_password_may_still_link_a_character(
    client: Client, sso: SsoStandIn
) -> None:
    staff = User.objects.create_user("boss", password="pw-for-tests-only", is_staff=True)
    client.force_login(staff)
    sso_login(client, sso, 1002, action="link")
    assert Character.objects.get(pk=1002).user == staff
    assert client.session["_auth_user_id"] == str(staff.pk)
    # ...which never becomes a way in: an SSO login as that character is refused.
    stranger = Client()
    assert sso_login(stranger, sso, 1002) == reverse("eve-login")
    assert "_auth_user_id" not in stranger.session


def test_an_sso_login_into_an_ordinary_account_still_signs_in(sso: SsoStandIn) -> None:
    sso_login(Client(), sso, 1001)
    browser = Client()
    sso_login(browser, sso, 1001)
    assert browser.session["_auth_user_id"] == str(Character.objects.get(pk=1001).user_id)

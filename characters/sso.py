"""EVE SSO v2: endpoint discovery, signing keys and access-token (JWT) validation, refresh
and revocation.

Everything is read from the SSO's metadata document at
`{SSO_BASE_URL}/.well-known/oauth-authorization-server` (cached), never hard-coded, so the
local stand-in (`standin/sso.py`) and the real SSO are interchangeable. An access token is
trusted only when `validate_access_token` accepts it: algorithm RS256 or ES256 (never `none`
or an HMAC algorithm), signature by a key of the published JWKS (fetched again once when a
token names an unknown key id), issuer (the SSO host in both the bare and the https forms),
audience containing both our client id and "EVE Online", not expired (a few seconds of
leeway). The character id comes from `sub` ("CHARACTER:EVE:<id>").

Tokens are never logged, put in a URL, or cached outside `characters.models.CharacterToken`;
neither are a callback's authorisation code and state. Why a login failed is logged from
`failure_cause`, built only from what holds no secret: the SSO's error code, the HTTP status of
the token exchange, our own messages and exception names.
"""

from __future__ import annotations

import re
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from django.conf import settings

ALGORITHMS = ("RS256", "ES256")
EVE_AUDIENCE = "EVE Online"
LEEWAY_SECONDS = 10
METADATA_TTL = 3600.0
JWKS_TTL = 3600.0
TIMEOUT = 10.0
SUB_PREFIX = "CHARACTER:EVE:"


class SsoError(Exception):
    """Something about the SSO went wrong; the message never contains a token."""


class SsoUnavailable(SsoError):
    """The SSO could not be reached or answered with a server error (try again later)."""


class InvalidAccessToken(SsoError):
    """An access token failed validation."""


class TokenExchangeFailed(SsoError):
    """The token endpoint did not give tokens for an authorisation code: `status` is its HTTP
    status, `error` the OAuth error code it named ("" if none)."""

    def __init__(self, status: int, error: str) -> None:
        self.status = status
        self.error = error
        named = f" ({error})" if error else ""
        super().__init__(f"EVE SSO answered {status} to the code exchange{named}")


class InvalidGrant(SsoError):
    """The SSO refused a refresh token (revoked, expired or unknown): the character must be
    authorised again."""


@dataclass(frozen=True)
class Claims:
    """What a validated access token says."""

    character_id: int
    name: str
    scopes: frozenset[str]
    owner: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenSet:
    """A token endpoint answer whose access token was validated."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    claims: Claims


def is_configured() -> bool:
    """Whether an EVE application is configured (EVE_CLIENT_ID set)."""
    return bool(settings.EVE_CLIENT_ID)


def base_url() -> str:
    return str(settings.SSO_BASE_URL).rstrip("/")


# --- discovery ----------------------------------------------------------------------------

_cache_lock = threading.Lock()
_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks: dict[str, tuple[float, dict[str, Any]]] = {}


def forget_cached() -> None:
    """Drop cached metadata and keys (tests; a changed SSO_BASE_URL needs no call)."""
    with _cache_lock:
        _metadata.clear()
        _jwks.clear()


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise SsoUnavailable(f"EVE SSO unreachable at {url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise SsoUnavailable(f"EVE SSO answered {response.status_code} at {url}")
    try:
        data = response.json()
    except ValueError:
        raise SsoUnavailable(f"EVE SSO answered something else than JSON at {url}") from None
    if not isinstance(data, dict):
        raise SsoUnavailable(f"EVE SSO answered an unexpected document at {url}")
    return data


def metadata() -> dict[str, Any]:
    """The SSO's metadata document (endpoints), cached for an hour."""
    base = base_url()
    now = time.monotonic()
    with _cache_lock:
        cached = _metadata.get(base)
    if cached and now - cached[0] < METADATA_TTL:
        return cached[1]
    data = _get_json(f"{base}/.well-known/oauth-authorization-server")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(data.get(key), str):
            raise SsoUnavailable(f"EVE SSO metadata has no {key}")
    with _cache_lock:
        _metadata[base] = (now, data)
    return data


def endpoint(name: str) -> str:
    """An endpoint URL from the metadata: authorization_endpoint, token_endpoint, jwks_uri,
    revocation_endpoint."""
    value = metadata().get(name)
    if not isinstance(value, str):
        raise SsoUnavailable(f"EVE SSO metadata has no {name}")
    return value


def jwks(*, refresh: bool = False) -> dict[str, Any]:
    """The published signing keys (a JWK set), cached for an hour unless `refresh`."""
    base = base_url()
    now = time.monotonic()
    with _cache_lock:
        cached = _jwks.get(base)
    if cached and not refresh and now - cached[0] < JWKS_TTL:
        return cached[1]
    data = _get_json(endpoint("jwks_uri"))
    if not isinstance(data.get("keys"), list):
        raise SsoUnavailable("EVE SSO key set has no keys")
    with _cache_lock:
        _jwks[base] = (now, data)
    return data


def _find_key(kid: str | None, alg: str, *, refresh: bool) -> jwt.PyJWK | None:
    for jwk in jwks(refresh=refresh).get("keys", []):
        if not isinstance(jwk, dict) or jwk.get("kid") != kid:
            continue
        if jwk.get("alg") not in (None, alg):
            continue
        try:
            return jwt.PyJWK(jwk, algorithm=alg)
        except jwt.PyJWTError:
            continue
    return None


def signing_key(kid: str | None, alg: str) -> jwt.PyJWK:
    """The published key `kid` for `alg`; the set is fetched again once if it is unknown
    (the SSO rotated its keys)."""
    key = _find_key(kid, alg, refresh=False)
    if key is None:
        key = _find_key(kid, alg, refresh=True)
    if key is None:
        raise InvalidAccessToken("access token signed with an unknown key")
    return key


# --- validation ---------------------------------------------------------------------------


def issuers() -> frozenset[str]:
    """Accepted `iss` values: the SSO's host alone ("login.eveonline.com") and its URL
    ("https://login.eveonline.com"), both derived from SSO_BASE_URL."""
    parts = urlsplit(base_url())
    return frozenset({parts.netloc, f"{parts.scheme}://{parts.netloc}"})


def character_id_from_sub(sub: object) -> int:
    if not isinstance(sub, str) or not sub.startswith(SUB_PREFIX):
        raise InvalidAccessToken("access token subject is not an EVE character")
    rest = sub.removeprefix(SUB_PREFIX)
    if not (rest.isascii() and rest.isdigit()):  # isdigit() alone says yes to "²"
        raise InvalidAccessToken("access token subject is not an EVE character")
    return int(rest)


def validate_access_token(token: str) -> Claims:
    """The claims of an EVE SSO access token, or `InvalidAccessToken` (see the module's
    docstring for what is checked). `SsoUnavailable` if the keys cannot be fetched."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidAccessToken("access token is not a JWT") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise InvalidAccessToken(f"access token algorithm {alg!r} is not allowed")
    key = signing_key(header.get("kid"), alg)
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=[alg],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "sub", "aud"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidAccessToken("access token expired") from None
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken(f"access token rejected: {type(exc).__name__}") from None
    if claims.get("iss") not in issuers():
        raise InvalidAccessToken("access token issuer is not the configured SSO")
    audience = claims.get("aud")
    audiences = {audience} if isinstance(audience, str) else set(audience or [])
    if not settings.EVE_CLIENT_ID or not {settings.EVE_CLIENT_ID, EVE_AUDIENCE} <= audiences:
        raise InvalidAccessToken("access token audience is not this application")
    scopes = claims.get("scp", [])
    if isinstance(scopes, str):
        scopes = [scopes]
    return Claims(
        character_id=character_id_from_sub(claims.get("sub")),
        name=str(claims.get("name", "")),
        scopes=frozenset(str(s) for s in scopes),
        owner=str(claims.get("owner", "")),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
    )


# --- token endpoint -----------------------------------------------------------------------


def _client_auth() -> tuple[dict[str, str], tuple[str, str] | None]:
    """Form fields and HTTP Basic credentials identifying this application: Basic with the
    secret for a web application, the client id alone for a PKCE-only (public) client."""
    if settings.EVE_CLIENT_SECRET:
        return {}, (settings.EVE_CLIENT_ID, settings.EVE_CLIENT_SECRET)
    return {"client_id": settings.EVE_CLIENT_ID}, None


def _post_form(url: str, data: dict[str, str]) -> requests.Response:
    fields, auth = _client_auth()
    try:
        return requests.post(
            url,
            data={**data, **fields},
            auth=auth,
            timeout=TIMEOUT,
            headers={"Accept": "application/json"},
        )
    except requests.RequestException as exc:
        raise SsoUnavailable(f"EVE SSO unreachable: {type(exc).__name__}") from None


# An OAuth error code ("invalid_grant", "server_error"): a word, never free text.
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def error_code(value: object) -> str:
    """`value` if it looks like an OAuth error code, else "" (free text may quote anything)."""
    text = str(value or "")
    return text if _ERROR_CODE.fullmatch(text) else ""


def _error_in(response: requests.Response) -> str:
    with suppress(ValueError, AttributeError):
        return error_code(response.json().get("error"))
    return ""


def exchange_code(code: str, redirect_uri: str, code_verifier: str | None = None) -> dict[str, Any]:
    """The token endpoint's answer for an authorisation code (access and refresh tokens, as
    allauth's `parse_token` reads them). `TokenExchangeFailed` with the status and OAuth
    error when it gives none, `SsoUnavailable` when it cannot be reached; neither message
    holds the code or a token."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        form["code_verifier"] = code_verifier
    response = _post_form(endpoint("token_endpoint"), form)
    if response.status_code != 200:
        raise TokenExchangeFailed(response.status_code, _error_in(response))
    try:
        body = response.json()
    except ValueError:
        raise TokenExchangeFailed(200, "not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise TokenExchangeFailed(200, "no access_token")
    return body


def failure_cause(
    error: object, exception: BaseException | None, callback_error: object = None
) -> str:
    """Why an SSO round trip failed, for a log line: allauth's kind of error ("unknown",
    "cancelled"), the `error` code the SSO put on the callback, and what the exception says
    when it is one of ours (`SsoError`, also when allauth wrapped it) or else its type and any
    OAuth error code in it. Never the code, the state or a token: free text from the request
    or the SSO is not copied."""
    parts = [str(error or "unknown")]
    if callback_error:
        parts.append(f"the SSO sent error={error_code(callback_error) or '(not a code)'}")
    ours = exception
    while ours is not None and not isinstance(ours, SsoError):
        ours = ours.__cause__ or ours.__context__
    if isinstance(ours, SsoError):
        parts.append(f"{type(ours).__name__}: {ours}")
    elif exception is not None:
        # allauth's OAuth2Error quotes the token endpoint's whole body: keep its error code.
        named = re.search(r'"error"\s*:\s*"([A-Za-z0-9_.-]{1,64})"', str(exception))
        parts.append(type(exception).__name__ + (f" ({named.group(1)})" if named else ""))
    return "; ".join(parts)


def refresh(refresh_token: str) -> TokenSet:
    """A new access token (and possibly a new refresh token: always store the returned one).
    `InvalidGrant` when the SSO refuses the refresh token, `SsoUnavailable` when it cannot
    answer, `InvalidAccessToken` if what it returns does not validate."""
    response = _post_form(
        endpoint("token_endpoint"),
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
    )
    if 400 <= response.status_code < 500:
        error = _error_in(response)
        if error in ("invalid_grant", "invalid_token"):
            raise InvalidGrant(f"EVE SSO refused the refresh token ({error})")
        # invalid_client and the like: our configuration, not the character's token.
        raise SsoError(f"EVE SSO refused the refresh request ({response.status_code} {error})")
    if response.status_code != 200:
        raise SsoUnavailable(f"EVE SSO answered {response.status_code} to a refresh")
    try:
        body = response.json()
        access = str(body["access_token"])
        new_refresh = str(body.get("refresh_token") or refresh_token)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SsoUnavailable("EVE SSO answered a refresh with an unexpected body") from None
    claims = validate_access_token(access)
    return TokenSet(
        access_token=access,
        refresh_token=new_refresh,
        expires_at=claims.expires_at,
        claims=claims,
    )


def revoke(refresh_token: str) -> None:
    """Ask the SSO to revoke a refresh token (on unlink). Best effort: errors are raised as
    `SsoError` for the caller to report, the local token is deleted either way."""
    url = metadata().get("revocation_endpoint")
    if not isinstance(url, str):
        return
    response = _post_form(url, {"token": refresh_token, "token_type_hint": "refresh_token"})
    if response.status_code != 200:
        raise SsoError(f"EVE SSO answered {response.status_code} to a revocation")

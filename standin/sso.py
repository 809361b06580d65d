"""A local EVE SSO v2 stand-in: a real HTTP server for tests and development, issuing properly
signed RS256 JWT access tokens like login.eveonline.com.

    with SsoStandIn(client_id="app", client_secret="secret") as sso:
        settings.SSO_BASE_URL = sso.base_url
        ...

    python -m standin.sso --port 8091          # prints the settings to point the app at it

Routes, as the real SSO (v2):
- `GET /.well-known/oauth-authorization-server`: the metadata document (endpoints, issuer).
- `GET /oauth/jwks`: the public signing keys (JWK set).
- `GET /v2/oauth/authorize`: checks client_id, redirect_uri, response_type=code and the PKCE
  challenge (S256), then "logs in": with `character_id=<id>` in the query (or
  `auto_character` set on the stand-in) it approves at once and redirects back with `code` and
  `state`; without it, a tiny page lists the characters, one button each (and Cancel, which
  redirects back with `error=access_denied`).
- `POST /v2/oauth/token`: `authorization_code` (single-use code, same redirect_uri, PKCE
  verifier checked against the challenge) and `refresh_token` grants. The client authenticates
  with HTTP Basic (client id and secret) or, as a public PKCE client, with its id in the form.
  Errors are 400 `invalid_grant` / `invalid_request` and 401 `invalid_client`, as the SSO does.
- `POST /v2/oauth/revoke`: revokes a refresh token.

The characters are the synthetic ones of the ESI stand-in's character data (ids 1001-1003,
`CHARACTERS`). Tests can also revoke every token of a character (`revoke_character`), rotate
the signing key (`rotate_key`), make the token endpoint fail (`fail_token_status`), mint
tokens directly (`mint`) and check a bearer token as ESI would (`verify`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import secrets
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa

from standin.serving import Served

EVE_AUDIENCE = "EVE Online"
CODE_TTL = 300.0


@dataclass(frozen=True)
class StandInCharacter:
    character_id: int
    name: str
    corporation_id: int
    alliance_id: int | None
    # The owner hash: stable per (character, EVE account).
    owner: str


CHARACTERS: tuple[StandInCharacter, ...] = (
    StandInCharacter(1001, "Bruce Wayne", 2001, None, "owner-hash-bruce-wayne"),
    StandInCharacter(1002, "Clark Kent", 2001, None, "owner-hash-clark-kent"),
    StandInCharacter(1003, "Peter Parker", 2002, None, "owner-hash-peter-parker"),
)


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    character_id: int
    scopes: tuple[str, ...]
    code_challenge: str
    expires: float


@dataclass
class _Refresh:
    client_id: str
    character_id: int
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _b64url_sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class SsoStandIn(Served):
    """The stand-in server. Start it (or use it as a context manager), then talk to base_url."""

    def __init__(
        self,
        *,
        client_id: str = "evetrade-dev",
        client_secret: str = "evetrade-dev-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        access_ttl: int = 1199,
        characters: Iterable[StandInCharacter] = CHARACTERS,
        issuer_form: str = "url",
        rotate_refresh_tokens: bool = True,
        log_requests: bool = False,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.host = host
        self.port = port
        self.access_ttl = access_ttl
        self.characters = {c.character_id: c for c in characters}
        # "url" gives iss "http://host:port" (today's SSO: "https://login.eveonline.com"),
        # "host" gives "host:port" (the older "login.eveonline.com" form).
        self.issuer_form = issuer_form
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.log_requests = log_requests
        # Approve every authorize request as this character (None: ask with the page).
        self.auto_character: int | None = None
        # Answer the token endpoint with this status (e.g. 503) instead of working.
        self.fail_token_status: int | None = None
        # Claims replaced in every access token issued (None removes one): bad tokens that
        # come through the whole login flow, for security tests.
        self.token_overrides: dict[str, Any] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path with query) as received
        self.token_calls: Counter[str] = Counter()  # grant type -> calls
        self.issued_tokens: list[str] = []  # every access and refresh token handed out
        self.base_url = ""
        self._lock = threading.RLock()
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.rotate_key()

    # --- Lifecycle ---------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    # --- Keys and tokens ---------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        netloc = urlsplit(self.base_url).netloc
        return self.base_url if self.issuer_form == "url" else netloc

    @property
    def kid(self) -> str:
        """The id of the key that signs new tokens."""
        return self._keys[-1][0]

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        return self._keys[-1][1]

    def rotate_key(self, *, keep_old: bool = False) -> str:
        """A new signing key; the old one stays published only with `keep_old`."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = f"JWT-Signature-Key-{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._keys = [*self._keys, (kid, key)] if keep_old else [(kid, key)]
        return kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        with self._lock:
            published = list(self._keys)
        for kid, key in published:
            jwk = orjson.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys, "SkipUnresolvedJsonWebKeys": True}

    def claims(self, character_id: int, scopes: Sequence[str] = ()) -> dict[str, Any]:
        """The claims of a fresh access token, in the real SSO's shape."""
        character = self.characters[character_id]
        now = int(time.time())
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "kid": "JWT-Signature-Key",
            "sub": f"CHARACTER:EVE:{character_id}",
            "azp": self.client_id,
            "tenant": "tranquility",
            "tier": "live",
            "region": "world",
            "aud": [self.client_id, EVE_AUDIENCE],
            "name": character.name,
            "owner": character.owner,
            "exp": now + self.access_ttl,
            "iat": now,
            "iss": self.issuer,
        }
        # The real SSO omits `scp` without scopes and sends a string for exactly one.
        if len(scopes) == 1:
            claims["scp"] = scopes[0]
        elif scopes:
            claims["scp"] = list(scopes)
        return claims

    def mint(self, character_id: int, scopes: Sequence[str] = (), **overrides: Any) -> str:
        """An access token signed with the current key; `overrides` replace claims (a value
        of None removes the claim), to forge bad tokens in tests."""
        claims = self.claims(character_id, scopes)
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this stand-in issued and that is still valid (signature,
        expiry, audience containing "EVE Online"), else None. For the ESI stand-in."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return None
        with self._lock:
            key = next((k for i, k in self._keys if i == kid), None)
        if key is None:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key.public_key(), algorithms=["RS256"], audience=EVE_AUDIENCE
            )
        except jwt.PyJWTError:
            return None
        return claims

    def issued_refresh_tokens(self, character_id: int) -> list[str]:
        """Live refresh tokens of a character (tests compare them with what the app stored)."""
        with self._lock:
            return [
                t
                for t, grant in self._refresh.items()
                if grant.character_id == character_id and not grant.revoked
            ]

    def revoke_character(self, character_id: int) -> int:
        """Revoke every refresh token of a character (as its owner would on the EVE website);
        returns how many."""
        with self._lock:
            grants = [
                g
                for g in self._refresh.values()
                if g.character_id == character_id and not g.revoked
            ]
            for grant in grants:
                grant.revoked = True
        return len(grants)

    def _issue(self, client_id: str, character_id: int, scopes: tuple[str, ...]) -> bytes:
        refresh_token = secrets.token_urlsafe(24)
        access_token = self.mint(character_id, scopes, **self.token_overrides)
        with self._lock:
            self._refresh[refresh_token] = _Refresh(client_id, character_id, scopes)
            self.issued_tokens += [access_token, refresh_token]
        return orjson.dumps(
            {
                "access_token": access_token,
                "expires_in": self.access_ttl,
                "token_type": "Bearer",
                "refresh_token": refresh_token,
            }
        )

    # --- HTTP --------------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        base = self.base_url
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{base}/v2/oauth/authorize",
            "token_endpoint": f"{base}/v2/oauth/token",
            "response_types_supported": ["code", "token"],
            "jwks_uri": f"{base}/oauth/jwks",
            "revocation_endpoint": f"{base}/v2/oauth/revoke",
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "token_endpoint_auth_signing_alg_values_supported": ["HS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def _answer(
        self, method: str, path: str, query: dict[str, str], headers: Any, form: dict[str, str]
    ) -> _Reply:
        if method == "GET" and path == "/.well-known/oauth-authorization-server":
            return _json(200, self.metadata())
        if method == "GET" and path == "/oauth/jwks":
            return _json(200, self.jwks())
        if method == "GET" and path == "/v2/oauth/authorize":
            return self._authorize(query)
        if method == "POST" and path == "/v2/oauth/token":
            return self._token(headers, form)
        if method == "POST" and path == "/v2/oauth/revoke":
            return self._revoke(headers, form)
        return _json(404, {"error": "not_found"})

    def _authorize(self, query: dict[str, str]) -> _Reply:
        if query.get("client_id") != self.client_id:
            return _page(400, "Unknown client_id.")
        redirect_uri = query.get("redirect_uri", "")
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return _page(400, "redirect_uri is missing or not an http(s) URL.")
        if query.get("response_type") != "code":
            return _page(400, "response_type must be code.")
        challenge = query.get("code_challenge", "")
        if challenge and query.get("code_challenge_method") != "S256":
            return _page(400, "code_challenge_method must be S256.")
        state = query.get("state", "")
        if query.get("deny"):
            return _redirect(redirect_uri, {"error": "access_denied", "state": state})
        chosen = query.get("character_id") or (
            str(self.auto_character) if self.auto_character else ""
        )
        if not chosen:
            return self._choose_page(query)
        if not chosen.isdigit() or int(chosen) not in self.characters:
            return _page(400, "Unknown character.")
        code = secrets.token_urlsafe(16)
        scopes = tuple(s for s in query.get("scope", "").split() if s)
        with self._lock:
            self._codes[code] = _Code(
                self.client_id, redirect_uri, int(chosen), scopes, challenge, time.time() + CODE_TTL
            )
        return _redirect(redirect_uri, {"code": code, "state": state})

    def _choose_page(self, query: dict[str, str]) -> _Reply:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        scopes = query.get("scope", "").split()
        asked = (
            "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in scopes) + "</ul>"
            if scopes
            else "<p>No scopes: only who you are.</p>"
        )
        buttons = "".join(
            f'<button type="submit" name="character_id" value="{c.character_id}">'
            f"{html.escape(c.name)}</button> "
            for c in self.characters.values()
        )
        body = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>EVE SSO stand-in</title></head><body>"
            "<h1>EVE SSO stand-in</h1><p>Log in as:</p>"
            f'<form method="get" action="/v2/oauth/authorize">{hidden}{buttons}'
            '<button type="submit" name="deny" value="1">Cancel</button></form>'
            f"<h2>The application asks for</h2>{asked}</body></html>"
        )
        return _Reply(200, body.encode(), "text/html; charset=utf-8")

    def _client(self, headers: Any, form: dict[str, str]) -> tuple[str | None, bool]:
        """(client id, authenticated with the secret) from Basic auth or the form."""
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None, False
            ok = client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)
            return (client_id if ok else None), ok
        client_id = form.get("client_id", "")
        if client_id != self.client_id:
            return None, False
        if "client_secret" in form:
            ok = secrets.compare_digest(form["client_secret"], self.client_secret)
            return (client_id if ok else None), ok
        return client_id, False  # a public client: allowed with PKCE

    def _token(self, headers: Any, form: dict[str, str]) -> _Reply:
        grant_type = form.get("grant_type", "")
        with self._lock:
            self.token_calls[grant_type] += 1
        if self.fail_token_status:
            return _json(self.fail_token_status, {"error": "server_error"})
        client_id, with_secret = self._client(headers, form)
        if client_id is None:
            return _json(401, {"error": "invalid_client", "error_description": "Unknown client"})
        if grant_type == "authorization_code":
            return self._token_from_code(client_id, with_secret, form)
        if grant_type == "refresh_token":
            return self._token_from_refresh(client_id, form)
        return _json(400, {"error": "unsupported_grant_type"})

    def _token_from_code(self, client_id: str, with_secret: bool, form: dict[str, str]) -> _Reply:
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant.expires < time.time() or grant.client_id != client_id:
            return _invalid_grant("Authorization code is invalid or expired")
        if form.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
            return _invalid_grant("redirect_uri does not match the authorize request")
        verifier = form.get("code_verifier", "")
        if grant.code_challenge:
            if not verifier or _b64url_sha256(verifier) != grant.code_challenge:
                return _invalid_grant("PKCE verification failed")
        elif not with_secret:
            return _json(400, {"error": "invalid_request", "error_description": "PKCE required"})
        return _Reply(200, self._issue(client_id, grant.character_id, grant.scopes))

    def _token_from_refresh(self, client_id: str, form: dict[str, str]) -> _Reply:
        token = form.get("refresh_token", "")
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None or grant.revoked or grant.client_id != client_id:
                return _invalid_grant("Invalid refresh token. Token missing/expired.")
            if self.rotate_refresh_tokens:
                grant.revoked = True
        if not self.rotate_refresh_tokens:
            body = orjson.loads(self._issue(client_id, grant.character_id, grant.scopes))
            with self._lock:
                self._refresh.pop(body["refresh_token"], None)
            body["refresh_token"] = token
            return _Reply(200, orjson.dumps(body))
        return _Reply(200, self._issue(client_id, grant.character_id, grant.scopes))

    def _revoke(self, headers: Any, form: dict[str, str]) -> _Reply:
        client_id, _ = self._client(headers, form)
        if client_id is None:
            return _json(401, {"error": "invalid_client"})
        with self._lock:
            grant = self._refresh.get(form.get("token", ""))
            if grant is not None and grant.client_id == client_id:
                grant.revoked = True
        return _Reply(200)


def _json(status: int, body: Any) -> _Reply:
    return _Reply(status, orjson.dumps(body))


def _invalid_grant(description: str) -> _Reply:
    return _json(400, {"error": "invalid_grant", "error_description": description})


def _page(status: int, message: str) -> _Reply:
    body = f"<!doctype html><title>EVE SSO stand-in</title><p>{html.escape(message)}</p>"
    return _Reply(status, body.encode(), "text/html; charset=utf-8")


def _redirect(uri: str, params: dict[str, str]) -> _Reply:
    separator = "&" if urlsplit(uri).query else "?"
    return _Reply(302, headers={"Location": f"{uri}{separator}{urlencode(params)}"})


def _make_handler(standin: SsoStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "SSO-stand-in"

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_GET

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with standin._lock:
                standin.requests.append((self.command, self.path))
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            form = dict(parse_qsl(raw.decode("utf-8", "replace"))) if raw else {}
            reply = standin._answer(self.command, parts.path, query, self.headers, form)
            self.send_response(reply.status)
            self.send_header("Cache-Control", "no-store")
            if reply.body:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            if standin.log_requests:
                super().log_message(format, *args)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m standin.sso", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091, help="0 picks a free port")
    parser.add_argument("--client-id", default="evetrade-dev")
    parser.add_argument("--client-secret", default="evetrade-dev-secret")
    parser.add_argument("--access-ttl", type=int, default=1199, help="access token lifetime, s")
    parser.add_argument("--log", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    server = SsoStandIn(
        client_id=args.client_id,
        client_secret=args.client_secret,
        host=args.host,
        port=args.port,
        access_ttl=args.access_ttl,
        log_requests=args.log,
    ).start()
    print(server.base_url, flush=True)
    print(
        "Point the app at it (e.g. in .env):\n"
        f"  SSO_BASE_URL={server.base_url}\n"
        f"  EVE_CLIENT_ID={server.client_id}\n"
        f"  EVE_CLIENT_SECRET={server.client_secret}\n"
        "Characters: "
        + ", ".join(f"{c.name} ({c.character_id})" for c in server.characters.values())
        + "\nServing EVE SSO v2; Ctrl-C stops.",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

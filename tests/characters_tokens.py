"""EVE-SSO-shaped access tokens for the character tests, signed with a key made for the test
run (the SSO stand-in issues the real thing in the login-flow tests; these tests only need
tokens the ESI stand-in accepts, or on purpose rejects)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from standin.characters import subject

ISSUER = "https://login.eveonline.com"
CLIENT_ID = "test-client"

ALL_SCOPES = (
    "esi-skills.read_skills.v1",
    "esi-characters.read_standings.v1",
    "esi-assets.read_assets.v1",
    "esi-universe.read_structures.v1",
    "esi-wallet.read_character_wallet.v1",
    "esi-markets.read_character_orders.v1",
    "esi-markets.structure_markets.v1",
    "esi-location.read_location.v1",
    "esi-location.read_ship_type.v1",
    "esi-corporations.read_structures.v1",
)


class TokenSigner:
    """Signs EVE SSO v2 style JWTs (RS256) with its own RSA key."""

    def __init__(self, kid: str = "test-key") -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def token(
        self,
        character_id: int,
        scopes: Iterable[str] = ALL_SCOPES,
        *,
        expires_in: float = 1200,
        audience: list[str] | None = None,
        sub: str | None = None,
        name: str = "Test Character",
    ) -> str:
        now = int(time.time())
        claims = {
            "scp": list(scopes),
            "jti": str(uuid.uuid4()),
            "kid": self.kid,
            "sub": sub or subject(character_id),
            "azp": CLIENT_ID,
            "tenant": "tranquility",
            "tier": "live",
            "region": "world",
            "aud": audience or [CLIENT_ID, "EVE Online"],
            "name": name,
            "owner": "owner-hash",
            "exp": int(now + expires_in),
            "iat": now,
            "iss": ISSUER,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

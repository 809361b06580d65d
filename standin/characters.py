"""The character routes of the ESI stand-in: what a logged-in character's data looks like.

`EsiStandIn` (standin/esi.py) hands every request for these routes to its `CharacterRoutes`:

    /characters/{id}/                  public (no token)
    /characters/{id}/portrait/         public
    /characters/{id}/skills/           esi-skills.read_skills.v1
    /characters/{id}/standings/        esi-characters.read_standings.v1
    /characters/{id}/assets/           esi-assets.read_assets.v1 (paginated, X-Pages)
    /characters/{id}/assets/names/     esi-assets.read_assets.v1 (POST, a JSON list of item ids)
    /characters/{id}/wallet/           esi-wallet.read_character_wallet.v1
    /characters/{id}/wallet/journal/   esi-wallet.read_character_wallet.v1 (paginated)
    /characters/{id}/wallet/transactions/  esi-wallet.read_character_wallet.v1 (from_id)
    /characters/{id}/orders/           esi-markets.read_character_orders.v1
    /characters/{id}/location/         esi-location.read_location.v1
    /characters/{id}/ship/             esi-location.read_ship_type.v1
    /universe/structures/{id}/         esi-universe.read_structures.v1
    /corporations/{id}/, /alliances/{id}/   public

Authenticated routes need `Authorization: Bearer <JWT>`: the token must be signed by a key
the stand-in trusts (`trust(jwks)`, the SSO stand-in's published keys), not expired, for
audience "EVE Online" (and the issuer, if one is set), carry the route's scope in `scp`, and
its `sub` ("CHARACTER:EVE:<id>") must be the character in the path. Otherwise 401 (no, bad
or expired token) or 403 (wrong character, missing scope), with an ESI error body.

Answers carry `Cache-Control` (private for authenticated routes), a content `ETag`,
`Last-Modified` (when that character's data last changed) and `Expires` (each route's cache
time from the ESI spec, per character and route: repeated calls inside the window see the
same Expires); a matching `If-None-Match` gets a 304.

The data is the synthetic character data of aa-memberaudit's tests (characters 1001-1003,
see standin/data/characters/PROVENANCE.md) plus this project's additions (trading skills,
standings, orders, hub assets), served under the stand-in characters' ids (`ROSTER`: the
same 1001-1003 the SSO stand-in logs in as; `trust_sso(sso)` accepts its tokens).
`add_character` serves more characters from the same templates; `update` changes one.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import orjson
import requests
from requests.structures import CaseInsensitiveDict

DATA_DIR = Path(__file__).resolve().parent / "data" / "characters"
SYNTHETIC_FILE = DATA_DIR / "aa-memberaudit-4.3.1_esi_testdata_characters.json"
ADDITIONS_FILE = DATA_DIR / "standin_additions.json"

ALGORITHMS = ("RS256", "ES256")
AUDIENCE = "EVE Online"
SUBJECT_PREFIX = "CHARACTER:EVE:"
IMAGE_SERVER = "https://images.evetech.net"


@dataclass(frozen=True)
class RosterEntry:
    character_id: int
    name: str
    template: int  # the synthetic character (1001-1003) whose data it serves


# The stand-in characters and the synthetic character each one plays: the same ids as the
# synthetic data and the SSO stand-in's characters (standin/sso.py), so a token it issues
# opens that character's data here.
ROSTER: tuple[RosterEntry, ...] = (
    RosterEntry(1001, "Bruce Wayne", 1001),  # trader: skills, standings, orders, assets
    RosterEntry(1002, "Clark Kent", 1002),  # few skills, docked in a structure
    RosterEntry(1003, "Peter Parker", 1003),  # a fresh character: nothing to show
)

# route name -> path pattern (after the optional version prefix; no trailing slash)
ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/characters/(\d+)$"), "character"),
    (re.compile(r"^/characters/(\d+)/portrait$"), "char_portrait"),
    (re.compile(r"^/characters/(\d+)/skills$"), "char_skills"),
    (re.compile(r"^/characters/(\d+)/standings$"), "char_standings"),
    (re.compile(r"^/characters/(\d+)/assets$"), "char_assets"),
    (re.compile(r"^/characters/(\d+)/assets/names$"), "char_asset_names"),
    (re.compile(r"^/characters/(\d+)/wallet$"), "char_wallet"),
    (re.compile(r"^/characters/(\d+)/wallet/journal$"), "char_journal"),
    (re.compile(r"^/characters/(\d+)/wallet/transactions$"), "char_transactions"),
    (re.compile(r"^/characters/(\d+)/orders$"), "char_orders"),
    (re.compile(r"^/characters/(\d+)/location$"), "char_location"),
    (re.compile(r"^/characters/(\d+)/ship$"), "char_ship"),
    (re.compile(r"^/universe/structures/(\d+)$"), "structure"),
    (re.compile(r"^/corporations/(\d+)$"), "corporation"),
    (re.compile(r"^/corporations/(\d+)/structures$"), "corp_structures"),
    (re.compile(r"^/alliances/(\d+)$"), "alliance"),
]
ROUTE_NAMES = frozenset(name for _, name in ROUTES)
POST_ROUTES = frozenset({"char_asset_names"})

# Rate-limit groups as the spec's `x-rate-limit` declares them: route -> (group, tokens, window).
RATE_LIMITS: dict[str, tuple[str, int, str]] = {
    "char_portrait": ("char-detail", 600, "15m"),
    "char_skills": ("char-detail", 600, "15m"),
    "char_standings": ("char-social", 600, "15m"),
    "char_assets": ("char-asset", 1800, "15m"),
    "char_asset_names": ("char-asset", 1800, "15m"),
    "char_wallet": ("char-wallet", 150, "15m"),
    "char_journal": ("char-wallet", 150, "15m"),
    "char_transactions": ("char-wallet", 150, "15m"),
    "char_location": ("char-location", 1200, "15m"),
    "char_ship": ("char-location", 1200, "15m"),
}

# Seconds an answer stays fresh: the spec's x-cache-age (portrait and asset names have none
# there; a portrait changes rarely, names are answered fresh every time).
CACHE_AGE: dict[str, int] = {
    "character": 86400,
    "char_portrait": 86400,
    "char_skills": 60,
    "char_standings": 3600,
    "char_assets": 3600,
    "char_asset_names": 0,
    "char_wallet": 120,
    "char_journal": 3600,
    "char_transactions": 3600,
    "char_orders": 1200,
    "char_location": 5,
    "char_ship": 5,
    "structure": 3600,
    "corp_structures": 3600,
    "corporation": 3600,
    "alliance": 3600,
}

# The scope each authenticated route needs (absent: public).
SCOPES: dict[str, str] = {
    "char_skills": "esi-skills.read_skills.v1",
    "char_standings": "esi-characters.read_standings.v1",
    "char_assets": "esi-assets.read_assets.v1",
    "char_asset_names": "esi-assets.read_assets.v1",
    "char_wallet": "esi-wallet.read_character_wallet.v1",
    "char_journal": "esi-wallet.read_character_wallet.v1",
    "char_transactions": "esi-wallet.read_character_wallet.v1",
    "char_orders": "esi-markets.read_character_orders.v1",
    "char_location": "esi-location.read_location.v1",
    "char_ship": "esi-location.read_ship_type.v1",
    "structure": "esi-universe.read_structures.v1",
    "corp_structures": "esi-corporations.read_structures.v1",
}

STRUCTURE_MARKETS_SCOPE = "esi-markets.structure_markets.v1"

# ESI answers at most this many entries per page (assets: 1000, journal: 2500) and
# transactions per call.
ASSETS_PER_PAGE = 1000
JOURNAL_PER_PAGE = 2500
TRANSACTIONS_PER_CALL = 2500
MAX_NAME_IDS = 1000


@dataclass
class Answer:
    """What the stand-in sends back: status, JSON body (None: no body), headers."""

    status: int
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StandInCharacter:
    """Everything the stand-in serves about one character (ESI shapes, ids remapped)."""

    character_id: int
    template: int
    public: dict[str, Any]
    skills: dict[str, Any]
    standings: list[dict[str, Any]]
    assets: list[dict[str, Any]]
    asset_names: dict[int, str]
    wallet: float
    journal: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    location: dict[str, Any]
    ship: dict[str, Any]
    changed_at: datetime

    @property
    def name(self) -> str:
        return str(self.public["name"])


class _Refused(Exception):
    """Answer `answer` instead (an error found while reading the request)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.answer = error(status, message)


def error(status: int, message: str) -> Answer:
    return Answer(status, orjson.dumps({"error": message}))


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def subject(character_id: int) -> str:
    """The `sub` claim of a token for this character."""
    return f"{SUBJECT_PREFIX}{character_id}"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(value: Any) -> Any:
    """The synthetic data as the 2026-08-04 schema allows it: no null values (absent keys
    instead) and a real location flag instead of its placeholder "???"."""
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items() if v is not None}
        if cleaned.get("location_flag") == "???":
            cleaned["location_flag"] = (
                "Unlocked" if cleaned.get("location_type") == "item" else "Hangar"
            )
        return cleaned
    return value


def _relative_times(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Rows of the additions with `<field>_hours_ago` turned into ESI dates."""
    out = []
    for row in rows:
        row = dict(row)
        for key in [k for k in row if k.endswith("_hours_ago")]:
            hours = row.pop(key)
            row[key.removesuffix("_hours_ago")] = _iso(now - timedelta(hours=hours))
        out.append(row)
    return out


class CharacterData:
    """The synthetic templates (1001-1003) and the shared public data (corporations,
    alliances, structures), loaded once per stand-in."""

    def __init__(self) -> None:
        synthetic = _clean(orjson.loads(SYNTHETIC_FILE.read_bytes()))
        additions = orjson.loads(ADDITIONS_FILE.read_bytes())
        self.loaded_at = _now()
        self.synthetic = synthetic
        self.additions = additions
        self.corporations: dict[int, dict[str, Any]] = {
            int(k): v for k, v in additions["corporations"].items()
        }
        self.alliances: dict[int, dict[str, Any]] = {
            int(k): v for k, v in additions["alliances"].items()
        }
        self.structures: dict[int, dict[str, Any]] = {
            int(k): v
            for k, v in synthetic["Universe"]["get_universe_structures_structure_id"].items()
        }

    def templates(self) -> list[int]:
        return sorted(int(k) for k in self.synthetic["Character"]["get_characters_character_id"])

    def build(self, character_id: int, template: int, name: str | None = None) -> StandInCharacter:
        """A character with the template's data, served under `character_id`."""
        key = str(template)
        syn = self.synthetic
        extra = self.additions["characters"].get(key, {})
        now = self.loaded_at

        def op(group: str, name: str, default: Any) -> Any:
            return copy.deepcopy(syn[group][name].get(key, default))

        public = op("Character", "get_characters_character_id", None)
        if public is None:
            raise KeyError(f"no synthetic character {template}")
        public.setdefault("achievement_score", 0)  # required since compatibility 2026-08-04
        if name:
            public["name"] = name
        alliance = extra.get("alliance_id")
        if alliance:
            public["alliance_id"] = alliance
        skills = op("Skills", "get_characters_character_id_skills", {"skills": [], "total_sp": 0})
        skills["skills"] = sorted(
            [*skills["skills"], *copy.deepcopy(extra.get("skills", []))],
            key=lambda s: s["skill_id"],
        )
        skills["total_sp"] = sum(s["skillpoints_in_skill"] for s in skills["skills"])
        names = {
            row["item_id"]: row["name"]
            for row in [
                *op("Assets", "post_characters_character_id_assets_names", []),
                *extra.get("asset_names", []),
            ]
        }
        journal = [
            *op("Wallet", "get_characters_character_id_wallet_journal", []),
            *_relative_times(extra.get("wallet_journal", []), now),
        ]
        transactions = [
            *op("Wallet", "get_characters_character_id_wallet_transactions", []),
            *_relative_times(extra.get("wallet_transactions", []), now),
        ]
        return StandInCharacter(
            character_id=character_id,
            template=template,
            public=public,
            skills=skills,
            standings=[
                *op("Character", "get_characters_character_id_standings", []),
                *copy.deepcopy(extra.get("standings", [])),
            ],
            assets=[
                *op("Assets", "get_characters_character_id_assets", []),
                *copy.deepcopy(extra.get("assets", [])),
            ],
            asset_names=names,
            wallet=float(
                extra.get("wallet", op("Wallet", "get_characters_character_id_wallet", 0))
            ),
            journal=sorted(journal, key=lambda r: (r["date"], r["id"]), reverse=True),
            transactions=sorted(transactions, key=lambda r: r["transaction_id"], reverse=True),
            orders=_relative_times(extra.get("orders", []), now),
            location=op("Location", "get_characters_character_id_location", {}),
            ship=copy.deepcopy(extra.get("ship"))
            or op(
                "Location",
                "get_characters_character_id_ship",
                {"ship_item_id": 1, "ship_name": "Capsule", "ship_type_id": 670},
            ),
            changed_at=now,
        )


class CharacterRoutes:
    """The character routes of one `EsiStandIn`: its characters, the keys it trusts."""

    def __init__(self, *, roster: tuple[RosterEntry, ...] = ROSTER) -> None:
        self.data = CharacterData()
        self.characters: dict[int, StandInCharacter] = {}
        self.page_size: dict[str, int] = {
            "char_assets": ASSETS_PER_PAGE,
            "char_journal": JOURNAL_PER_PAGE,
        }
        self.audience = AUDIENCE
        self.issuer: str | None = None
        self.leeway = 5.0
        # Replaces the JWT check when set: token -> claims, raising jwt.PyJWTError.
        self.verify_token: Callable[[str], Mapping[str, Any]] | None = None
        # An SSO to fetch the keys from when a token names a key not trusted yet (for running
        # both stand-ins by hand: `STANDIN_SSO_URL=http://127.0.0.1:8091 python -m standin`).
        self.sso_url: str | None = os.environ.get("STANDIN_SSO_URL") or None
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._windows: dict[tuple[Any, ...], datetime] = {}
        self._lock = threading.RLock()
        # (character, structure) pairs refused a structure's market: ESI's 403 "Market access
        # denied" for a structure the character cannot dock at (every other pair may read).
        self.market_denied: set[tuple[int, int]] = set()
        # Characters with their corporation's Station_Manager role (GET /corporations/{id}/
        # structures/ answers only them).
        self.station_managers: set[int] = set()
        for entry in roster:
            self.add_character(entry.character_id, template=entry.template, name=entry.name)

    # --- Setup -------------------------------------------------------------------------------

    def trust(self, jwks: Mapping[str, Any], *, issuer: str | None = None) -> None:
        """Trust the keys of a JWKS document (`{"keys": [...]}`, as the SSO publishes them):
        a token signed by one of them (matched by `kid`) is accepted."""
        keys = {}
        for item in jwks.get("keys", []):
            if item.get("alg") and item["alg"] not in ALGORITHMS:
                continue
            key = jwt.PyJWK.from_dict(dict(item))
            keys[item.get("kid")] = key
        with self._lock:
            self._keys = keys
            self.issuer = issuer

    def trust_sso(self, sso: Any) -> None:
        """Trust the SSO stand-in's (standin/sso.py) keys and issuer."""
        self.trust(sso.jwks(), issuer=sso.issuer)

    def add_character(
        self, character_id: int, *, template: int = 1001, name: str | None = None, **fields: Any
    ) -> StandInCharacter:
        """Serve `template`'s data (a synthetic character 1001-1003) as `character_id`;
        `fields` replace any of `StandInCharacter`'s data fields."""
        character = self.data.build(character_id, template, name)
        for key, value in fields.items():
            setattr(character, key, value)
        with self._lock:
            self.characters[character_id] = character
        return character

    def update(self, character_id: int, **fields: Any) -> StandInCharacter:
        """Change a character's data (e.g. `orders=[...]`, `wallet=1.0`): its Last-Modified
        moves and new cache windows start, as when the game changes it."""
        with self._lock:
            character = self.characters[character_id]
            for key, value in fields.items():
                if not hasattr(character, key):
                    raise AttributeError(f"StandInCharacter has no field {key}")
                setattr(character, key, value)
            character.changed_at = max(_now(), character.changed_at + timedelta(seconds=1))
            self._windows = {k: v for k, v in self._windows.items() if k[0] != character_id}
        return character

    # --- Answers -----------------------------------------------------------------------------

    def answer(
        self,
        route: str,
        ident: int,
        *,
        method: str,
        query: Mapping[str, str],
        headers: CaseInsensitiveDict[str],
        body: bytes = b"",
    ) -> Answer:
        try:
            return self._answer(route, ident, method, query, headers, body)
        except _Refused as denied:
            return denied.answer

    def _answer(
        self,
        route: str,
        ident: int,
        method: str,
        query: Mapping[str, str],
        headers: CaseInsensitiveDict[str],
        body: bytes,
    ) -> Answer:
        if (method == "POST") != (route in POST_ROUTES):
            return error(405, "Method not allowed")
        if route == "corporation":
            found = self.data.corporations.get(ident)
            return self._public(route, ident, found, "Corporation not found", headers)
        if route == "alliance":
            found = self.data.alliances.get(ident)
            return self._public(route, ident, found, "Alliance not found", headers)
        if route == "structure":
            return self._structure(ident, headers)
        if route == "corp_structures":
            return self._corp_structures(ident, headers)
        with self._lock:
            character = self.characters.get(ident)
        if route == "character":
            public = character.public if character else None
            return self._public(route, ident, public, "Character not found", headers)
        if route == "char_portrait":
            portrait = _portrait(ident) if character else None
            return self._public(route, ident, portrait, "Character not found", headers)
        self._authorise(headers, ident, SCOPES[route])
        if character is None:
            return error(404, "Character not found")
        if route == "char_asset_names":
            return self._asset_names(character, body)
        if route in self.page_size:
            return self._page(route, character, query, headers)
        payload: Any
        if route == "char_transactions":
            payload = _transactions(character.transactions, query)
        else:
            payload = {
                "char_skills": character.skills,
                "char_standings": character.standings,
                "char_wallet": character.wallet,
                "char_orders": character.orders,
                "char_location": character.location,
                "char_ship": character.ship,
            }[route]
        key = (ident, route, tuple(sorted(query.items())))
        return self._cached(key, route, payload, character.changed_at, headers, private=True)

    def _public(
        self,
        route: str,
        ident: int,
        payload: Any,
        missing: str,
        headers: CaseInsensitiveDict[str],
    ) -> Answer:
        if payload is None:
            return error(404, missing)
        return self._cached(
            (ident, route), route, payload, self.data.loaded_at, headers, private=False
        )

    def _structure(self, structure_id: int, headers: CaseInsensitiveDict[str]) -> Answer:
        claims = self._authorise(headers, None, SCOPES["structure"])
        found = self.data.structures.get(structure_id)
        if found is None:
            return error(403, "Forbidden")  # ESI's answer for a structure you cannot dock at
        key = (claims.get("sub"), "structure", structure_id)
        return self._cached(key, "structure", found, self.data.loaded_at, headers, private=True)

    def _corp_structures(self, corporation_id: int, headers: CaseInsensitiveDict[str]) -> Answer:
        """GET /corporations/{id}/structures/: the corporation's structures, to a member
        with the Station_Manager role (`station_managers`); 403 for anyone else."""
        claims = self._authorise(headers, None, SCOPES["corp_structures"])
        character_id = int(str(claims.get("sub", "")).rsplit(":", 1)[-1] or 0)
        with self._lock:
            character = self.characters.get(character_id)
            manager = character_id in self.station_managers
        member = character is not None and character.public.get("corporation_id") == corporation_id
        if not (member and manager):
            return error(403, "Character does not have required role(s)")
        owned = [
            {
                "corporation_id": corporation_id,
                "structure_id": structure_id,
                "system_id": found.get("solar_system_id"),
                "type_id": found.get("type_id"),
                "profile_id": 1,
                "state": "shield_vulnerable",
                "services": [{"name": "market", "state": "online"}],
            }
            for structure_id, found in sorted(self.data.structures.items())
            if found.get("owner_id") == corporation_id
        ]
        key = (character_id, "corp_structures", corporation_id)
        return self._cached(
            key, "corp_structures", owned, self.data.loaded_at, headers, private=True
        )

    def _asset_names(self, character: StandInCharacter, body: bytes) -> Answer:
        try:
            ids = orjson.loads(body)
        except orjson.JSONDecodeError:
            return error(400, "The request body must be a JSON list of item ids")
        if (
            not isinstance(ids, list)
            or not ids
            or len(ids) > MAX_NAME_IDS
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
            or len(set(ids)) != len(ids)
        ):
            return error(400, f"Send 1 to {MAX_NAME_IDS} distinct integer item ids")
        owned = {a["item_id"] for a in character.assets}
        if not set(ids) <= owned:
            return error(404, "Invalid IDs in the request")
        names = [{"item_id": i, "name": character.asset_names.get(i, "None")} for i in ids]
        payload = orjson.dumps(names)
        return Answer(
            200,
            payload,
            {
                "Cache-Control": "private",
                "ETag": _etag(payload),
                "Last-Modified": http_date(character.changed_at),
            },
        )

    def _page(
        self,
        route: str,
        character: StandInCharacter,
        query: Mapping[str, str],
        headers: CaseInsensitiveDict[str],
    ) -> Answer:
        rows = character.assets if route == "char_assets" else character.journal
        size = max(1, self.page_size[route])
        pages = max(1, -(-len(rows) // size))
        raw = query.get("page", "1")
        if not raw.isdigit() or int(raw) < 1:
            return error(400, "page must be an integer of 1 or more")
        page = int(raw)
        if page > pages:
            return error(404, "Requested page does not exist!")
        chunk = rows[(page - 1) * size : page * size]
        key = (character.character_id, route, page)
        answer = self._cached(key, route, chunk, character.changed_at, headers, private=True)
        answer.headers["X-Pages"] = str(pages)
        return answer

    def _cached(
        self,
        key: tuple[Any, ...],
        route: str,
        payload: Any,
        last_modified: datetime,
        headers: CaseInsensitiveDict[str],
        *,
        private: bool,
    ) -> Answer:
        """A 200 with the cache headers, or a 304 when If-None-Match is the current ETag.
        Expires: the end of this (character, route) cache window, opened by the first
        request after the previous one ended."""
        body = orjson.dumps(payload)
        etag = _etag(body)
        now = _now()
        with self._lock:
            expires = self._windows.get(key)
            if expires is None or now >= expires:
                expires = now + timedelta(seconds=CACHE_AGE[route])
                self._windows[key] = expires
        cache_headers = {
            "Cache-Control": "private" if private else "public",
            "ETag": etag,
            "Expires": http_date(expires),
            "Last-Modified": http_date(last_modified),
        }
        if headers.get("If-None-Match") == etag:
            return Answer(304, None, cache_headers)
        return Answer(200, body, cache_headers)

    # --- Tokens ------------------------------------------------------------------------------

    def structure_market_refusal(
        self, headers: CaseInsensitiveDict[str], structure_id: int
    ) -> Answer | None:
        """None when the token's character may read the structure's market
        (`GET /markets/structures/{id}/`); else ESI's answer: 401 or 403 for the token or
        its scope, 403 "Market access denied" for a structure it cannot dock at."""
        try:
            claims = self._authorise(headers, None, STRUCTURE_MARKETS_SCOPE)
        except _Refused as refused:
            return refused.answer
        character_id = int(str(claims.get("sub", "")).rsplit(":", 1)[-1] or 0)
        with self._lock:
            if (character_id, structure_id) in self.market_denied:
                return error(403, "Market access denied")
        return None

    def _authorise(
        self, headers: CaseInsensitiveDict[str], character_id: int | None, scope: str
    ) -> Mapping[str, Any]:
        """The token's claims, or _Refused with ESI's status: 401 for no, malformed, forged or
        expired tokens; 403 for another character's token or a missing scope."""
        auth = headers.get("Authorization", "")
        kind, _, token = auth.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise _Refused(401, "Authorization header missing or not a Bearer token")
        try:
            claims = self._claims(token.strip())
        except jwt.ExpiredSignatureError:
            raise _Refused(401, "Token is expired") from None
        except (jwt.PyJWTError, ValueError, TypeError):  # forged, malformed, unknown key
            raise _Refused(401, "Invalid token") from None
        if character_id is not None and claims.get("sub") != subject(character_id):
            raise _Refused(403, "Token is not valid for this character")
        granted = claims.get("scp", [])
        if isinstance(granted, str):
            granted = granted.split()
        if scope not in granted:
            raise _Refused(403, "Token not valid for scope")
        return claims

    def _key(self, kid: str | None) -> jwt.PyJWK | None:
        with self._lock:
            key = self._keys.get(kid)
            if key is None and len(self._keys) == 1 and kid is None:
                key = next(iter(self._keys.values()))
        return key

    def _fetch_keys(self, sso_url: str) -> None:
        """Trust the keys and issuer an SSO publishes (its metadata document and JWKS)."""
        try:
            base = sso_url.rstrip("/")
            meta = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=5)
            jwks = requests.get(meta.json().get("jwks_uri") or f"{base}/oauth/jwks", timeout=5)
            self.trust(jwks.json(), issuer=meta.json().get("issuer"))
        except (requests.RequestException, ValueError, jwt.PyJWTError):
            return  # the SSO is not up: the token stays untrusted (401)

    def _claims(self, token: str) -> Mapping[str, Any]:
        if self.verify_token is not None:
            return self.verify_token(token)
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise jwt.InvalidAlgorithmError(f"algorithm {algorithm!r} is not accepted")
        key = self._key(header.get("kid"))
        if key is None and self.sso_url:
            self._fetch_keys(self.sso_url)
            key = self._key(header.get("kid"))
        if key is None:
            raise jwt.InvalidKeyError("no trusted key for this token")
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=self.audience,
            issuer=_issuer_forms(self.issuer),
            leeway=self.leeway,
            options={"require": ["exp", "sub"], "verify_iss": self.issuer is not None},
        )
        return claims


def _issuer_forms(issuer: str | None) -> list[str] | None:
    """EVE writes its issuer both as "login.eveonline.com" and "https://login.eveonline.com"."""
    if issuer is None:
        return None
    host = urlsplit(issuer).netloc or issuer
    return sorted({issuer, host, f"https://{host}"})


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _portrait(character_id: int) -> dict[str, str]:
    base = f"{IMAGE_SERVER}/characters/{character_id}/portrait"
    return {f"px{s}x{s}": f"{base}?size={s}" for s in (64, 128, 256, 512)}


def _transactions(rows: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    """Newest first; with `from_id`, only that transaction and older ones (ESI's paging)."""
    raw = query.get("from_id")
    if raw is not None:
        if not raw.isdigit():
            raise _Refused(400, "from_id must be an integer")
        rows = [r for r in rows if r["transaction_id"] <= int(raw)]
    return rows[:TRANSACTIONS_PER_CALL]


def route_of(path: str) -> tuple[str | None, int]:
    """The character route a normalised path goes to, and its id (None, 0 if none)."""
    for pattern, name in ROUTES:
        match = pattern.match(path)
        if match:
            return name, int(match.group(1))
    return None, 0

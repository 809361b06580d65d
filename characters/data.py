"""Fetching a character's data from ESI and keeping it in the shared store.

One refresh (`refresh_character`) fetches every section ("group") the character has granted
the scopes for, through the project's one ESI client, and stores each under
`char:{character_id}:{group}` in the shared store:

| group     | feature  | ESI routes                                                     |
| --------- | -------- | -------------------------------------------------------------- |
| identity  | (public) | /characters/{id}/, its portrait, corporation and alliance      |
| skills    | fees     | /characters/{id}/skills/                                       |
| standings | fees     | /characters/{id}/standings/                                    |
| assets    | assets   | /assets/ (every page), POST /assets/names/, structure names    |
| wallet    | wallet   | /wallet/, /wallet/journal/ (page 1), /wallet/transactions/     |
| orders    | orders   | /characters/{id}/orders/                                       |
| location  | location | /location/, /ship/ (and the structure docked at)               |
| corp_structures | corporation_structures | /corporations/{id}/structures/ (a Station Manager's) |

Every GET goes through `EsiClient.get_cached`: an answer is reused until ESI's Expires and
revalidated with its ETag afterwards (a 304 costs one token of the route group's bucket
instead of two), and the client pauses for the error limit and each group's token bucket.
Authenticated answers are cached under the character's own scope ("character:<id>"); the
access token is asked for (`characters.tokens.access_token`) only when some answer must come
from ESI, and it is never part of a key, a stored value or a log line.

A group whose scopes the character no longer grants is deleted from the store. A group that
fails keeps its previous data and records the error; ESI being down, in downtime or
rate-limited stops the refresh (the next one is scheduled after the resume time), and so does
`NeedsReauth`. One refresh per character at a time (a store lock).

Stored value of a group: `{"data": ..., "fetched_at": iso, "esi": {"last_modified": iso,
"expires": iso}}` (`esi` describes the ESI answers it was made of: the latest Last-Modified,
the earliest Expires). `char:{id}:status` says how the last refresh went and when the next
is due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from characters.models import Character
from characters.scopes import FEATURES
from characters.tokens import NeedsReauth, TokenUnavailable, access_token
from esi.client import EsiClient, EsiResponse, shared_client
from esi.errors import (
    EsiCircuitOpen,
    EsiDowntime,
    EsiError,
    EsiHttpError,
    EsiInconsistent,
    EsiRateLimited,
)
from market.models import Structure
from market.structures import learn
from profit.engine import type_table
from sde import places
from store import Lock, Store, get_store

log = logging.getLogger(__name__)

STRUCTURES_SCOPE = "esi-universe.read_structures.v1"  # names of structures (assets feature)
MAX_NAME_IDS = 1000  # ESI's limit per POST /assets/names/
RECENT_ROWS = 100  # journal entries and transactions kept
LOCK_TTL = 300.0
MIN_INTERVAL = 60.0  # never refresh a character more often than this
MAX_INTERVAL = 3600.0  # ...nor less often, while it has any feature
RETRY_AFTER_FAILURE = 300.0
# Item categories whose singletons can carry a player-given name (ships, containers,
# deployables, structures...): only those are sent to /assets/names/.
NAMEABLE_CATEGORIES = frozenset({6, 2, 22, 23, 65})

TokenSource = Callable[[], str]

# The fields kept of each row (absent in ESI's answer: None).
JOURNAL_FIELDS = (
    "id",
    "date",
    "ref_type",
    "description",
    "amount",
    "balance",
    "first_party_id",
    "second_party_id",
    "reason",
    "tax",
)
TRANSACTION_FIELDS = (
    "transaction_id",
    "date",
    "type_id",
    "quantity",
    "unit_price",
    "is_buy",
    "is_personal",
    "location_id",
    "client_id",
    "journal_ref_id",
)
ORDER_FIELDS = (
    "order_id",
    "type_id",
    "region_id",
    "location_id",
    "is_buy_order",
    "price",
    "volume_remain",
    "volume_total",
    "min_volume",
    "escrow",
    "range",
    "duration",
    "issued",
    "is_corporation",
)


# A corporation's structures refused for want of the Station_Manager role are asked again
# after this long (each refusal costs one of ESI's errors).
ROLE_RECHECK = timedelta(days=7)


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    feature: str | None  # None: public, always fetched


GROUPS: dict[str, Group] = {
    g.key: g
    for g in (
        Group("identity", "Identity", None),
        Group("skills", "Skills", "fees"),
        Group("standings", "Standings", "fees"),
        Group("assets", "Assets", "assets"),
        Group("wallet", "Wallet", "wallet"),
        Group("orders", "Market orders", "orders"),
        Group("location", "Location and ship", "location"),
        Group("corp_structures", "Corporation structures", "corporation_structures"),
    )
}


class RefreshBusy(Exception):
    """Another worker is refreshing this character right now."""


@dataclass
class Outcome:
    """What one refresh did: groups stored, failed (with the reason), skipped (no scope)."""

    character_id: int
    stored: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the refresh ended early (ESI down, needs re-auth...)
    resume_at: datetime | None = None  # when ESI said calls may resume
    next_at: datetime | None = None


# --- Store keys ------------------------------------------------------------------------------


def group_key(character_id: int, group: str) -> str:
    return f"char:{character_id}:{group}"


def status_key(character_id: int) -> str:
    return f"char:{character_id}:status"


def lock_name(character_id: int) -> str:
    return f"char:{character_id}:refresh"


def load_group(character_id: int, group: str, store: Store | None = None) -> dict[str, Any] | None:
    """The stored group (`{"data", "fetched_at", "esi"}`), or None if never fetched."""
    value = (store or get_store()).get_json(group_key(character_id, group))
    return value if isinstance(value, dict) else None


def load_status(character_id: int, store: Store | None = None) -> dict[str, Any]:
    value = (store or get_store()).get_json(status_key(character_id))
    return value if isinstance(value, dict) else {}


def forget(character_id: int, store: Store | None = None) -> None:
    """Delete everything stored about a character (call it when the character is unlinked)."""
    store = store or get_store()
    store.delete(*(group_key(character_id, g) for g in GROUPS), status_key(character_id))


def granted_groups(character: Character) -> list[str]:
    """The groups the character's granted scopes allow, identity first."""
    granted = character.scope_set
    return [
        key
        for key, group in GROUPS.items()
        if group.feature is None or set(FEATURES[group.feature].scopes) <= granted
    ]


# --- One refresh ------------------------------------------------------------------------------


@dataclass
class _Fetch:
    """The state of one refresh: the client, the character's cache scope, its token (asked
    for once, only when needed) and the ESI times of the answers used."""

    client: EsiClient
    character_id: int
    token_source: TokenSource
    store: Store | None = None  # where learned structure names go (sde.places)
    _token: str | None = None
    last_modified: datetime | None = None
    expires: datetime | None = None

    @property
    def scope(self) -> str:
        return f"character:{self.character_id}"

    def token(self) -> str:
        if self._token is None:
            self._token = self.token_source()
        return self._token

    def reset_times(self) -> None:
        self.last_modified = self.expires = None

    def _note(self, response: EsiResponse) -> EsiResponse:
        if response.last_modified and (
            self.last_modified is None or response.last_modified > self.last_modified
        ):
            self.last_modified = response.last_modified
        if response.expires and (self.expires is None or response.expires < self.expires):
            self.expires = response.expires
        return response

    def public(self, path: str) -> EsiResponse:
        return self._note(self.client.get_cached(path))

    def private(
        self, path: str, params: Mapping[str, Any] | None = None, *, max_age: float | None = None
    ) -> EsiResponse:
        """An authenticated GET through the character's own cache; the token is fetched only
        when the stored answer is not fresh."""
        fresh = self.client.is_fresh(path, params=params, max_age=max_age, cache_scope=self.scope)
        token = None if fresh else self.token()
        try:
            response = self.client.get_cached(
                path, params=params, max_age=max_age, token=token, cache_scope=self.scope
            )
        except EsiHttpError as exc:
            if token is not None or exc.status != 401:
                raise
            # The stored answer expired in between: ask again, with the token this time.
            response = self.client.get_cached(
                path, params=params, max_age=max_age, token=self.token(), cache_scope=self.scope
            )
        return self._note(response)

    def pages(self, path: str) -> tuple[list[Any], bool]:
        """Every page of a paginated route (each cached on its own), and whether all of them
        came from the cache. Pages must share one Last-Modified; if they do not (the data
        changed between two pages), the set is fetched again once without the cache."""
        for attempt in range(2):
            max_age = 0.0 if attempt else None
            first = self.private(path, {"page": 1}, max_age=max_age)
            responses = [first]
            responses += [
                self.private(path, {"page": n}, max_age=max_age) for n in range(2, first.pages + 1)
            ]
            stamps = {r.last_modified for r in responses if r.last_modified}
            if len(stamps) <= 1:
                rows = [row for r in responses for row in (r.data or [])]
                return rows, all(r.from_cache for r in responses)
        raise EsiInconsistent(f"{path}: pages disagree on Last-Modified, twice")


def refresh_character(
    character: Character,
    *,
    client: EsiClient | None = None,
    token_source: TokenSource | None = None,
    store: Store | None = None,
    groups: Iterable[str] | None = None,
    now: Callable[[], datetime] | None = None,
) -> Outcome:
    """Fetch and store the character's granted groups (all, or those of `groups`).

    `token_source` returns an access token (default: `characters.tokens.access_token` for
    this character); it raises `NeedsReauth` when the character must authorise again, which
    stops the refresh. `RefreshBusy` if another refresh of this character is running.
    """
    store = store or get_store()
    clock = now or (lambda: datetime.now(UTC))
    lock = store.lock(lock_name(character.character_id), ttl=LOCK_TTL)
    if not lock.acquire():
        raise RefreshBusy(f"character {character.character_id} is being refreshed")
    try:
        return _refresh(character, client, token_source, store, groups, clock, lock)
    finally:
        lock.release()


def _refresh(
    character: Character,
    client: EsiClient | None,
    token_source: TokenSource | None,
    store: Store,
    groups: Iterable[str] | None,
    clock: Callable[[], datetime],
    lock: Lock,
) -> Outcome:
    cid = character.character_id
    outcome = Outcome(cid)
    started = clock()
    if character.needs_reauth:  # no token to call with; keep what was fetched before
        outcome.stopped = "needs re-authorisation"
        outcome.next_at = _next_refresh(started, [], outcome)
        _write_status(store, character, outcome, started, clock())
        return outcome
    granted = granted_groups(character)
    for key in GROUPS:
        if key not in granted and store.get(group_key(cid, key)) is not None:
            store.delete(group_key(cid, key))
            outcome.removed.append(key)
    only = None if groups is None else set(groups)
    wanted = [g for g in granted if only is None or g in only]
    fetch = _Fetch(
        client=client or shared_client(),
        character_id=cid,
        token_source=token_source or (lambda: access_token(character)),
        store=store,
    )
    expiries: list[datetime] = []
    for key in wanted:
        lock.extend(LOCK_TTL)
        previous = load_group(cid, key, store)
        fetch.reset_times()
        try:
            data = FETCHERS[key](fetch, character, previous["data"] if previous else None)
        except NeedsReauth:
            outcome.stopped = "needs re-authorisation"
            break
        except TokenUnavailable as exc:
            outcome.stopped = f"no access token: {exc}"
            break
        except (EsiDowntime, EsiRateLimited) as exc:
            outcome.stopped, outcome.resume_at = str(exc), exc.resume_at
            break
        except EsiCircuitOpen as exc:
            outcome.stopped, outcome.resume_at = str(exc), exc.retry_at
            break
        except EsiError as exc:
            outcome.failed[key] = str(exc)
            log.warning("character %s: %s failed: %s", cid, key, exc)
            continue
        store.set_json(
            group_key(cid, key),
            {
                "data": data,
                "fetched_at": _iso(clock()),
                "esi": {"last_modified": _iso(fetch.last_modified), "expires": _iso(fetch.expires)},
            },
        )
        outcome.stored.append(key)
        learn_structures(key, data)
        if fetch.expires:
            expiries.append(fetch.expires)
    outcome.next_at = _next_refresh(started, expiries, outcome)
    _write_status(store, character, outcome, started, clock())
    return outcome


def _next_refresh(started: datetime, expiries: list[datetime], outcome: Outcome) -> datetime:
    """After the earliest Expires of what was fetched (within MIN..MAX_INTERVAL), or after a
    failure's resume time / a back-off."""
    if outcome.stopped or outcome.failed:
        after = outcome.resume_at or started + timedelta(seconds=RETRY_AFTER_FAILURE)
        return max(after, started + timedelta(seconds=MIN_INTERVAL))
    earliest = min(expiries, default=started + timedelta(seconds=MAX_INTERVAL))
    low = started + timedelta(seconds=MIN_INTERVAL)
    high = started + timedelta(seconds=MAX_INTERVAL)
    return min(max(earliest, low), high)


def _write_status(
    store: Store, character: Character, outcome: Outcome, started: datetime, ended: datetime
) -> None:
    store.set_json(
        status_key(character.character_id),
        {
            "started_at": _iso(started),
            "finished_at": _iso(ended),
            "stored": outcome.stored,
            "failed": outcome.failed,
            "stopped": outcome.stopped,
            "next_at": _iso(outcome.next_at),
        },
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


# --- The groups -------------------------------------------------------------------------------


def fetch_identity(fetch: _Fetch, character: Character, previous: Any) -> dict[str, Any]:
    cid = character.character_id
    public = fetch.public(f"/characters/{cid}/").data
    portrait = fetch.public(f"/characters/{cid}/portrait/").data or {}
    corporation_id = public.get("corporation_id")
    alliance_id = public.get("alliance_id")
    corporation = fetch.public(f"/corporations/{corporation_id}/").data if corporation_id else {}
    alliance = fetch.public(f"/alliances/{alliance_id}/").data if alliance_id else {}
    _update_character(character, public)
    return {
        "name": public.get("name"),
        "birthday": public.get("birthday"),
        "security_status": public.get("security_status"),
        "corporation_id": corporation_id,
        "corporation_name": (corporation or {}).get("name"),
        "corporation_ticker": (corporation or {}).get("ticker"),
        "alliance_id": alliance_id,
        "alliance_name": (alliance or {}).get("name"),
        "alliance_ticker": (alliance or {}).get("ticker"),
        "portrait": {key: value for key, value in portrait.items() if key.startswith("px")},
    }


def _update_character(character: Character, public: Mapping[str, Any]) -> None:
    """Keep the linked character's name, corporation and alliance as ESI says them now."""
    changes = {
        "name": public.get("name") or character.name,
        "corporation_id": public.get("corporation_id"),
        "alliance_id": public.get("alliance_id"),
    }
    if any(getattr(character, k) != v for k, v in changes.items()):
        Character.objects.filter(pk=character.pk).update(**changes)
        for k, v in changes.items():
            setattr(character, k, v)


def fetch_skills(fetch: _Fetch, character: Character, previous: Any) -> dict[str, Any]:
    body = fetch.private(f"/characters/{character.character_id}/skills/").data or {}
    return {
        "total_sp": body.get("total_sp", 0),
        "unallocated_sp": body.get("unallocated_sp", 0),
        "skills": [
            {
                "skill_id": s["skill_id"],
                "level": s.get("active_skill_level", 0),
                "trained_level": s.get("trained_skill_level", 0),
                "skillpoints": s.get("skillpoints_in_skill", 0),
            }
            for s in body.get("skills", [])
        ],
    }


def fetch_standings(fetch: _Fetch, character: Character, previous: Any) -> list[dict[str, Any]]:
    rows = fetch.private(f"/characters/{character.character_id}/standings/").data or []
    return [
        {"from_id": r["from_id"], "from_type": r["from_type"], "standing": r["standing"]}
        for r in rows
    ]


def fetch_assets(fetch: _Fetch, character: Character, previous: Any) -> dict[str, Any]:
    cid = character.character_id
    items, unchanged = fetch.pages(f"/characters/{cid}/assets/")
    previous = previous or {}
    names: dict[str, str] = dict(previous.get("names", {}))
    if not unchanged or "names" not in previous:
        names = _asset_names(fetch, cid, items)
    structures: dict[str, Any] = {}
    known = previous.get("structures", {})
    for structure_id in sorted(_structure_ids(items)):
        if str(structure_id) in known and known[str(structure_id)] is None:
            # Not visible to this character: asking again would only cost an error (403).
            structures[str(structure_id)] = None
        else:
            structures[str(structure_id)] = _structure(fetch, structure_id)
    return {
        "items": [
            {
                "item_id": a["item_id"],
                "type_id": a["type_id"],
                "quantity": a["quantity"],
                "location_id": a["location_id"],
                "location_type": a["location_type"],
                "location_flag": a["location_flag"],
                "is_singleton": a["is_singleton"],
                "is_blueprint_copy": a.get("is_blueprint_copy", False),
            }
            for a in items
        ],
        "names": names,
        "structures": structures,
    }


def _asset_names(fetch: _Fetch, character_id: int, items: list[dict[str, Any]]) -> dict[str, str]:
    """Player-given names of ships and containers ("None" and the type's own name skipped)."""
    singletons = [a for a in items if a.get("is_singleton")]
    categories = type_table().categories([a["type_id"] for a in singletons])
    nameable = np.isin(categories, list(NAMEABLE_CATEGORIES)).tolist()
    ids = [a["item_id"] for a, named in zip(singletons, nameable, strict=True) if named]
    names: dict[str, str] = {}
    for start in range(0, len(ids), MAX_NAME_IDS):
        chunk = ids[start : start + MAX_NAME_IDS]
        reply = fetch.client.post(
            f"/characters/{character_id}/assets/names/", json_body=chunk, token=fetch.token()
        )
        for row in reply.data or []:
            if row.get("name") and row["name"] != "None":
                names[str(row["item_id"])] = row["name"]
    return names


def _structure_ids(items: list[dict[str, Any]]) -> set[int]:
    """Upwell structures holding items: locations that are neither a station, a system nor
    another of the character's items."""
    item_ids = {a["item_id"] for a in items}
    return {
        a["location_id"]
        for a in items
        if places.is_structure(a["location_id"])
        and a["location_id"] not in item_ids
        and a["location_type"] in ("other", "item")
    }


def structures_in(group: str, data: Any) -> dict[int, dict[str, Any] | None]:
    """The structures a stored group shows: where the assets are and where the character is
    docked (with what ESI told this character of each: name and system, or None), where its
    orders are and its corporation's market structures (nothing told)."""
    if group in ("assets", "location") and isinstance(data, dict):
        return {int(i): found for i, found in (data.get("structures") or {}).items()}
    if group == "orders" and isinstance(data, list):
        return {int(o["location_id"]): None for o in data if places.is_structure(o["location_id"])}
    if group == "corp_structures" and isinstance(data, dict):
        return dict.fromkeys(int(i) for i in data.get("structures") or [])
    return {}


def learn_structures(group: str, data: Any) -> None:
    """Tell the deployment of the structures a member's data shows (docs/structures.md): by
    id only, since ESI told their names and systems to this character alone; a failure
    never fails the refresh."""
    found = structures_in(group, data)
    if not found:
        return
    try:
        learn(dict.fromkeys(found), Structure.Learned.CHARACTER)
    except Exception:
        log.warning("structures of a character's %s not learned", group, exc_info=True)


def _structure(fetch: _Fetch, structure_id: int) -> dict[str, Any] | None:
    """A structure's name and system, or None when the character may not see it (kept with
    this character's data only: ESI tells it to a character with docking access)."""
    try:
        body = fetch.private(f"/universe/structures/{structure_id}/").data or {}
    except EsiHttpError as exc:
        if exc.status in (401, 403, 404):
            return None
        raise
    return {"name": body.get("name"), "solar_system_id": body.get("solar_system_id")}


def fetch_wallet(fetch: _Fetch, character: Character, previous: Any) -> dict[str, Any]:
    cid = character.character_id
    balance = fetch.private(f"/characters/{cid}/wallet/").data
    journal = fetch.private(f"/characters/{cid}/wallet/journal/", {"page": 1}).data or []
    transactions = fetch.private(f"/characters/{cid}/wallet/transactions/").data or []
    journal = sorted(journal, key=lambda r: (r["date"], r["id"]), reverse=True)[:RECENT_ROWS]
    transactions = sorted(
        transactions, key=lambda r: (r["date"], r["transaction_id"]), reverse=True
    )[:RECENT_ROWS]
    return {
        "balance": float(balance or 0.0),
        "journal": [{key: row.get(key) for key in JOURNAL_FIELDS} for row in journal],
        "transactions": [{key: row.get(key) for key in TRANSACTION_FIELDS} for row in transactions],
    }


def fetch_orders(fetch: _Fetch, character: Character, previous: Any) -> list[dict[str, Any]]:
    rows = fetch.private(f"/characters/{character.character_id}/orders/").data or []
    return [
        {key: row.get(key) for key in ORDER_FIELDS}
        for row in sorted(rows, key=lambda o: o["order_id"])
    ]


def fetch_corp_structures(fetch: _Fetch, character: Character, previous: Any) -> dict[str, Any]:
    """The corporation's structures with a market service (ESI answers only a character
    with the Station_Manager role: without it, none, and why). A refusal costs one of ESI's
    errors, so it is asked again only after ROLE_RECHECK."""
    corporation = character.corporation_id
    if not corporation:
        return {"structures": [], "refused": "no corporation known yet"}
    refused_at = (previous or {}).get("refused_at")
    if refused_at and datetime.fromisoformat(refused_at) > fetch.client.now() - ROLE_RECHECK:
        return dict(previous)
    try:
        rows, _ = fetch.pages(f"/corporations/{corporation}/structures/")
    except EsiHttpError as exc:
        if exc.status != 403:
            raise
        return {"structures": [], "refused": str(exc), "refused_at": _iso(fetch.client.now())}
    markets = [
        int(row["structure_id"])
        for row in rows
        if any(s.get("name") == "market" for s in row.get("services") or [])
    ]
    return {"structures": sorted(markets), "refused": None}


def fetch_location(fetch: _Fetch, character: Character, previous: Any) -> dict[str, Any]:
    cid = character.character_id
    location = fetch.private(f"/characters/{cid}/location/").data or {}
    structures: dict[str, Any] = {}
    structure_id = location.get("structure_id")
    if structure_id and STRUCTURES_SCOPE in character.scope_set:
        structures[str(structure_id)] = _structure(fetch, int(structure_id))
    return {
        "location": location,
        "ship": fetch.private(f"/characters/{cid}/ship/").data or {},
        "structures": structures,
    }


FETCHERS: dict[str, Callable[[_Fetch, Character, Any], Any]] = {
    "identity": fetch_identity,
    "skills": fetch_skills,
    "standings": fetch_standings,
    "assets": fetch_assets,
    "wallet": fetch_wallet,
    "orders": fetch_orders,
    "location": fetch_location,
    "corp_structures": fetch_corp_structures,
}

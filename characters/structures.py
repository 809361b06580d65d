"""The pool of members' tokens that reads the shared structures' markets (docs/structures.md).

A member shares a structure (`StructureShare`) with the "structures" feature granted. Every
minute `refresh_due()` (beat: characters.tasks.refresh_shared_structures) refreshes each
shared structure whose book is older than ESI's cache (300 s) with one sharing character's
token: the one used least recently, so the calls spread over the members. A 403 suspends
that character for that structure 12 to 24 h (each 403 costs one of ESI's 100 errors a
minute) and the next one is asked, at most MAX_TRIES a structure a run; a character whose
token is revoked or expired leaves the pool until it logs in again (tokens.NeedsReauth marks
it, and its page says so). A structure no sharing character may read is marked `denied`.
The first refresh also asks ESI the structure's name, system, type and owner with the same
token (`/universe/structures/{id}/`): the member shared it, so its name may be shown.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db.models import F

from characters import tokens
from characters.models import Character, StructureShare
from characters.scopes import has_feature
from esi.client import EsiClient, shared_client
from esi.errors import EsiError
from market.models import Structure
from market.refresh import RefreshBusy
from market.structure_refresh import StructureAccessDenied, refresh_structure
from market.structures import learn, structure_json
from sde.selectors import security_band

log = logging.getLogger(__name__)

BOOK_AGE = timedelta(seconds=300)  # ESI caches a structure's market 300 s
SUSPEND_HOURS = (12.0, 24.0)
MAX_TRIES = 3

TokenFor = Callable[[Character], str]


def due(now: datetime) -> list[Structure]:
    """Shared structures whose book is older than ESI's cache (never read: due)."""
    shared = Structure.objects.filter(shares__isnull=False).exclude(
        market_status=Structure.Status.SUSPENDED
    )
    return [
        s for s in shared.distinct() if s.last_refresh is None or s.last_refresh <= now - BOOK_AGE
    ]


def candidates(structure: Structure, now: datetime) -> list[StructureShare]:
    """Its shares whose character may be asked now, least recently used first."""
    shares = (
        StructureShare.objects.filter(structure=structure, character__needs_reauth=False)
        .select_related("character")
        .order_by(F("last_used_at").asc(nulls_first=True), "shared_at")
    )
    return [
        share
        for share in shares
        if has_feature(share.character, "structures")
        and (share.suspended_until is None or share.suspended_until <= now)
    ]


def refresh_shared(
    structure: Structure,
    *,
    token_for: TokenFor = tokens.access_token,
    client: EsiClient | None = None,
    now: datetime | None = None,
) -> str:
    """Refresh one shared structure through its pool: "published", "no_access", "busy"
    (another worker is at it) or "failed" (ESI failed otherwise: asked again next run)."""
    now = now or datetime.now(UTC)
    client = client or shared_client()
    for share in candidates(structure, now)[:MAX_TRIES]:
        try:
            token = token_for(share.character)
        except (tokens.NeedsReauth, tokens.TokenUnavailable) as exc:
            log.info("structure %s: %s has no usable token (%s)", structure.pk, share, exc)
            continue
        share.last_used_at = now
        share.save(update_fields=["last_used_at"])
        try:
            refresh_structure(structure.structure_id, token, client=client)
        except RefreshBusy:
            return "busy"
        except StructureAccessDenied as exc:
            hours = random.uniform(*SUSPEND_HOURS)
            share.suspended_until = now + timedelta(hours=hours)
            share.last_error = f"ESI refused the market: {exc}"[:300]
            share.save(update_fields=["suspended_until", "last_error"])
            continue
        except EsiError as exc:
            log.warning("structure %s: market not read (%s)", structure.pk, exc)
            return "failed"
        if share.last_error:
            share.last_error = ""
            share.save(update_fields=["last_error"])
        if not structure.name:
            _learn_name(structure.structure_id, token, client)
        return "published"
    Structure.objects.filter(pk=structure.pk).exclude(
        market_status=Structure.Status.SUSPENDED
    ).update(market_status=Structure.Status.DENIED)
    return "no_access"


def _learn_name(structure_id: int, token: str, client: EsiClient) -> None:
    """The shared structure's name, system, type and owner, as ESI tells the member."""
    try:
        body = client.get(f"/universe/structures/{structure_id}/", token=token).data or {}
    except EsiError as exc:
        log.info("structure %s: name not read (%s)", structure_id, exc)
        return
    Structure.objects.filter(pk=structure_id).update(
        name=str(body.get("name") or "")[:200],
        type_id=body.get("type_id"),
        owner_id=body.get("owner_id"),
    )
    system_id = body.get("solar_system_id")
    if system_id:  # places it, keeping where it was learned first
        learn({structure_id: int(system_id)}, Structure.Learned.CHARACTER)


def refresh_due(*, token_for: TokenFor = tokens.access_token) -> dict[int, str]:
    """One run of the pool over every due structure: structure id -> outcome."""
    now = datetime.now(UTC)
    return {s.structure_id: refresh_shared(s, token_for=token_for, now=now) for s in due(now)}


def share_rows(character: Character) -> list[dict[str, object]]:
    """Every known structure and whether this character shares it (the dashboard's panel):
    shared first, then by region and id."""
    mine = {s.structure_id: s for s in StructureShare.objects.filter(character=character)}
    rows = []
    for structure in Structure.objects.all():
        share = mine.get(structure.structure_id)
        row = structure_json(structure)
        band = security_band(row["security"]) if row["security"] is not None else None
        rows.append({**row, "band": band, "share": share})
    rows.sort(key=lambda r: (r["share"] is None, str(r["region_name"] or "~"), r["id"]))
    return rows


def set_shares(character: Character, structure_ids: set[int]) -> None:
    """Share exactly these known structures with this character's token."""
    known = set(
        Structure.objects.filter(structure_id__in=structure_ids).values_list(
            "structure_id", flat=True
        )
    )
    current = set(
        StructureShare.objects.filter(character=character).values_list("structure_id", flat=True)
    )
    added = known - current
    StructureShare.objects.bulk_create(
        [StructureShare(character=character, structure_id=i) for i in sorted(added)]
    )
    removed = current - known
    StructureShare.objects.filter(character=character, structure_id__in=removed).delete()

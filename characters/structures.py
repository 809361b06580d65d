"""The pool of members' tokens that reads the shared structures' markets (docs/structures.md).

A member shares a structure (`StructureShare`) with the "structures" feature granted. Every
minute `refresh_due()` (beat: characters.tasks.refresh_shared_structures) refreshes each
shared structure whose book has passed ESI's Expires (300 s after ESI cached it; never read:
due) with one sharing character's token: the one used least recently, so the calls spread
over the members. A 403 suspends that character for that structure 12 to 24 h and the next
one is asked, at most MAX_TRIES a structure a run; a character whose token is revoked or
expired leaves the pool until it logs in again (tokens.NeedsReauth marks it, and its page
says so). A structure no sharing character may read is marked `denied`.

Each 403 costs one of ESI's 100 errors a minute, shared with every other call of the
deployment, so structure calls have a budget of their own: a run stops after
`ESI_STRUCTURE_REFUSALS_PER_RUN` refusals (one run a minute), and asks nothing while ESI's
error window has `ESI_STRUCTURE_ERROR_FLOOR` errors or fewer left (above the client's own
floor, so the structures stop long before the region books would): the structures left are
"budget" and due again next run.
The first refresh also asks ESI the structure's name, system, type and owner with the same
token (`/universe/structures/{id}/`): the member shared it, so its name may be shown.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F

from characters import data, tokens
from characters.models import Character, StructureShare
from characters.scopes import has_feature
from esi.client import EsiClient, shared_client
from esi.errors import EsiError
from market import publish
from market.models import Structure
from market.refresh import RefreshBusy
from market.structure_refresh import StructureAccessDenied, refresh_structure
from market.structures import forget_known, learn, structure_json
from sde.places import Structure as Learned
from sde.places import structure_place
from sde.selectors import security_band

log = logging.getLogger(__name__)

BOOK_AGE = timedelta(seconds=300)  # ESI caches a structure's market 300 s
SUSPEND_HOURS = (12.0, 24.0)
MAX_TRIES = 3

TokenFor = Callable[[Character], str]


class Budget:
    """What one run may still spend of ESI's error limit on structures."""

    def __init__(self, client: EsiClient) -> None:
        self.client = client
        self.refusals = int(settings.ESI_STRUCTURE_REFUSALS_PER_RUN)

    def allows_a_call(self) -> bool:
        remain = self.client.limits.error_remain()
        floor = int(settings.ESI_STRUCTURE_ERROR_FLOOR)
        return self.refusals > 0 and (remain is None or remain > floor)

    def refused(self) -> None:
        self.refusals -= 1


def due(now: datetime) -> list[Structure]:
    """Shared structures whose book has passed ESI's Expires (never read: due)."""
    shared = Structure.objects.filter(shares__isnull=False).exclude(
        market_status=Structure.Status.SUSPENDED
    )
    return [s for s in shared.distinct() if _expired(s, now)]


def _expired(structure: Structure, now: datetime) -> bool:
    if structure.last_refresh is None:
        return True
    meta = publish.current_meta(structure.structure_id)
    if meta is None or not meta.esi_expires:
        return structure.last_refresh <= now - BOOK_AGE
    return datetime.fromisoformat(meta.esi_expires) <= now


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
    budget: Budget | None = None,
) -> str:
    """Refresh one shared structure through its pool: "published" (or "not_modified": ESI
    confirmed the same book), "no_access", "busy" (another worker is at it), "failed" (ESI
    failed otherwise) or "budget" (the run's error budget is spent); the last three are
    asked again next run."""
    now = now or datetime.now(UTC)
    client = client or shared_client()
    budget = budget or Budget(client)
    for share in candidates(structure, now)[:MAX_TRIES]:
        if not budget.allows_a_call():
            return "budget"
        try:
            token = token_for(share.character)
        except (tokens.NeedsReauth, tokens.TokenUnavailable) as exc:
            log.info("structure %s: %s has no usable token (%s)", structure.pk, share, exc)
            continue
        share.last_used_at = now
        share.save(update_fields=["last_used_at"])
        try:
            result = refresh_structure(structure.structure_id, token, client=client)
        except RefreshBusy:
            return "busy"
        except StructureAccessDenied as exc:
            budget.refused()
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
        return result
    Structure.objects.filter(pk=structure.pk).exclude(
        market_status=Structure.Status.SUSPENDED
    ).update(market_status=Structure.Status.DENIED)
    forget_known()  # an update() sends no signal
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
    forget_known()  # an update() sends no signal
    system_id = body.get("solar_system_id")
    if system_id:  # places it, keeping where it was learned first
        learn({structure_id: int(system_id)}, Structure.Learned.CHARACTER)


def refresh_due(
    *, token_for: TokenFor = tokens.access_token, client: EsiClient | None = None
) -> dict[int, str]:
    """One run of the pool over every due structure, within one error budget: structure
    id -> outcome."""
    now = datetime.now(UTC)
    client = client or shared_client()
    budget = Budget(client)
    return {
        s.structure_id: refresh_shared(
            s, token_for=token_for, client=client, now=now, budget=budget
        )
        for s in due(now)
    }


def share_rows(character: Character) -> list[dict[str, object]]:
    """Every known structure and whether this character shares it (the dashboard's panel):
    shared first, then the ones its own data shows (assets, orders, where it is docked:
    named and placed as ESI told this character, shown to it alone), then by region and id."""
    mine = {s.structure_id: s for s in StructureShare.objects.filter(character=character)}
    told = own_structures(character.character_id)
    rows = []
    for structure in Structure.objects.all():
        share = mine.get(structure.structure_id)
        row = structure_json(structure)
        own = told.get(structure.structure_id)
        if own and not row["name"]:
            system = own.get("solar_system_id")
            learned = Learned(own.get("name") or None, int(system) if system else None)
            place = structure_place(structure.structure_id, learned)
            row.update(
                name=place.name if learned.name else None,
                system_name=place.system_name,
                region_name=place.region_name,
                security=place.security,
            )
        band = security_band(row["security"]) if row["security"] is not None else None
        rows.append({**row, "band": band, "share": share, "yours": structure.structure_id in told})
    rows.sort(
        key=lambda r: (r["share"] is None, not r["yours"], str(r["region_name"] or "~"), r["id"])
    )
    return rows


def own_structures(character_id: int) -> dict[int, dict[str, Any]]:
    """The structures the character's own stored data shows, with what ESI told it of each."""
    found: dict[int, dict[str, Any]] = {}
    for group in ("assets", "location", "orders"):
        stored = data.load_group(character_id, group)
        for structure_id, told in data.structures_in(group, stored and stored["data"]).items():
            if told or structure_id not in found:
                found[structure_id] = told or {}
    return found


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


def release_unshared(structure_ids: Iterable[int]) -> int:
    """Structures of `structure_ids` that no member shares any more are no longer read (nor
    named, nor merged into their region's market): back to "no access". How many."""
    ids = set(structure_ids)
    still = set(
        StructureShare.objects.filter(structure_id__in=ids).values_list("structure_id", flat=True)
    )
    released = (
        Structure.objects.filter(structure_id__in=ids - still)
        .exclude(market_status__in=[Structure.Status.SUSPENDED, Structure.Status.NO_ACCESS])
        .update(market_status=Structure.Status.NO_ACCESS)
    )
    if released:
        forget_known()
    return released


def share_removed(instance: StructureShare, **_: Any) -> None:
    """A receiver of StructureShare's post_delete (unshared, or its character unlinked)."""
    release_unshared([instance.structure_id])

"""Learning of Upwell structures from what ESI shows legitimately, and reading them back.

- `learn(found, source)`: record structures (id -> solar system id or None) learned from a
  source; a structure already known keeps where it was first learned, and gains a system
  it did not have.
- `learn_from_snapshot(snapshot)`: the structures whose ranged bids a region book shows
  (ESI's region book carries no structure sell orders and no bids of range "station"), with
  their systems from those orders; run on every published snapshot (market.tasks).
- `structure_json(structure)`: a structure as the API answers it (`/api/v1/market/structures`).
- `fetch_public_list()`: ESI's public list of structures with a market
  (`GET /universe/structures/?filter=market`; incomplete, esi-issues #1358), recorded as
  learned from it; a beat task runs it every 6 h.
- `known(id)`, `shared_in(region_id)`, `hubs()`: what this process knows of the structures,
  read from the table at most every `MARKET_STRUCTURES_TTL` seconds (at once after a change
  this process made): the name and system every place shows (registered with sde.places at
  start), the shared books a region's market merges (market/books.py), the owner's broker
  fee the fee engine charges and the structures that get boards.

Never enumerate structures with the search endpoint: CCP bans that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from esi.client import EsiClient, shared_client
from market import publish
from market.models import Structure
from market.snapshot import Snapshot
from sde.ids import STRUCTURE_ID_MIN
from sde.places import Structure as Learned
from sde.places import structure_place

log = logging.getLogger(__name__)


def learn(found: Mapping[int, int | None], source: str) -> int:
    """Record the structures in `found` (id -> solar system id, None when unknown); returns
    how many were new."""
    ids = [i for i in found if i >= STRUCTURE_ID_MIN]
    if not ids:
        return 0
    known = {s.structure_id: s for s in Structure.objects.filter(structure_id__in=ids)}
    regions = {i: structure_place(i, None, system_id=found[i]).region_id for i in ids}
    new = [
        Structure(
            structure_id=i,
            solar_system_id=found[i],
            region_id=regions[i],
            learned_from=source,
        )
        for i in ids
        if i not in known
    ]
    Structure.objects.bulk_create(new, ignore_conflicts=True)
    placed = [s for i, s in known.items() if s.solar_system_id is None and found.get(i) is not None]
    for structure in placed:
        structure.solar_system_id = found[structure.structure_id]
        structure.region_id = regions[structure.structure_id]
    Structure.objects.bulk_update(placed, ["solar_system_id", "region_id"])
    forget_known()  # bulk writes send no signal
    return len(new)


def learn_from_published(region_id: int) -> int:
    """`learn_from_snapshot` of the region's current snapshot (after the worker published
    it); never fails the refresh that called it."""
    try:
        snapshot = publish.load(region_id)
        return learn_from_snapshot(snapshot) if snapshot is not None else 0
    except Exception:
        log.warning("structures of region %s not learned", region_id, exc_info=True)
        return 0


def learn_from_snapshot(snapshot: Snapshot) -> int:
    """The structures a region book shows ranged bids of, placed by those orders' systems."""
    locations = snapshot.book["location_id"]
    at_structure = locations >= STRUCTURE_ID_MIN
    if not at_structure.any():
        return 0
    ids, first = np.unique(locations[at_structure], return_index=True)
    systems = snapshot.book["system_id"][at_structure][first]
    return learn(
        {int(i): int(s) for i, s in zip(ids, systems, strict=True)}, Structure.Learned.REGION_BOOK
    )


def fetch_public_list(client: EsiClient | None = None) -> int:
    """ESI's public list of structures with a market, recorded; how many were new."""
    client = client or shared_client()
    ids: Any = client.get_cached("/universe/structures/", params={"filter": "market"}).data
    return learn({int(i): None for i in ids or []}, Structure.Learned.PUBLIC_LIST)


def structure_json(structure: Structure) -> dict[str, Any]:
    """Every known fact of a structure: its name only when a member shared its market (ESI
    tells it only to characters with docking access), its place from the SDE."""
    told = Learned(structure.name, structure.solar_system_id) if structure.name else None
    place = structure_place(structure.structure_id, told, system_id=structure.solar_system_id)
    return {
        "id": structure.structure_id,
        "name": structure.name or None,
        "system_id": place.system_id,
        "system_name": place.system_name,
        "region_id": place.region_id or structure.region_id,
        "region_name": place.region_name,
        "security": place.security,
        "type_id": structure.type_id,
        "owner_id": structure.owner_id,
        "market_status": structure.market_status,
        "last_refresh": structure.last_refresh,
        "order_count": structure.order_count,
        "learned_from": structure.learned_from,
        "learned_at": structure.learned_at,
        "broker_fee": float(structure.broker_fee) if structure.broker_fee is not None else None,
        "is_hub": structure.is_hub,
    }


# --- What this process knows of the structures -------------------------------------------


@dataclass(frozen=True)
class Known:
    """A structure as every answer shows it and every engine reads it."""

    structure_id: int
    name: str | None  # only once a member shared its market (ESI tells it only to them)
    system_id: int | None
    region_id: int | None
    shared: bool  # its whole book is read through a member's access
    broker_fee: float | None  # the owner's rate an operator set (a fraction), else None
    is_hub: bool


_lock = threading.Lock()
_known: dict[int, Known] = {}
_read_at = -float("inf")
_changes = 0  # forget_known() calls: a read that saw one begin under it is not trusted


def _directory() -> dict[int, Known]:
    """Every known structure, read again once `MARKET_STRUCTURES_TTL` seconds have passed (a
    table that cannot be read leaves what was known, and is asked again after as long)."""
    global _known, _read_at
    now = time.monotonic()
    if now - _read_at < settings.MARKET_STRUCTURES_TTL:
        return _known
    with _lock:
        if now - _read_at < settings.MARKET_STRUCTURES_TTL:
            return _known
        changes = _changes
        try:
            rows = Structure.objects.values_list(
                "structure_id",
                "name",
                "solar_system_id",
                "region_id",
                "market_status",
                "broker_fee",
                "is_hub",
            )
            _known = {
                sid: Known(
                    sid,
                    name or None,
                    system,
                    region,
                    status == Structure.Status.SHARED,
                    float(fee) if fee is not None else None,
                    hub,
                )
                for sid, name, system, region, status, fee, hub in rows
            }
        except Exception:  # no database (yet): structures are unnamed until it answers
            log.debug("structures not readable", exc_info=True)
        if changes == _changes:  # else a change came during the read: read again next time
            _read_at = now
        return _known


def forget_known(**_: Any) -> None:
    """Read the table again at the next question (a receiver of Structure's save/delete;
    called after a bulk write or an `update()`, which send no signal)."""
    global _read_at, _changes
    _changes += 1
    _read_at = -float("inf")


def known(structure_id: int) -> Known | None:
    return _directory().get(structure_id)


def learned(structure_id: int) -> Learned | None:
    """What `sde.places.resolve` shows of a structure: its name while a member shares its
    market, and its system."""
    found = known(structure_id)
    if found is None:
        return None
    name = found.name if found.shared else None
    if name is None and found.system_id is None:
        return None
    return Learned(name, found.system_id)


def names() -> dict[int, str]:
    """Every structure whose market members share now, by the name ESI told them."""
    return {k.structure_id: k.name for k in _directory().values() if k.name and k.shared}


def shared_in(region_id: int) -> tuple[int, ...]:
    """The structures of a region whose books members share, in id order."""
    found = (k.structure_id for k in _directory().values() if k.shared and k.region_id == region_id)
    return tuple(sorted(found))


def shared() -> list[Known]:
    """Every structure whose market members share, in id order."""
    return sorted((k for k in _directory().values() if k.shared), key=lambda k: k.structure_id)


def hubs() -> list[Known]:
    """The structures an operator marked as hubs (they get opportunity boards)."""
    return sorted((k for k in _directory().values() if k.is_hub), key=lambda k: k.structure_id)


def fees_version() -> list[list[float]]:
    """Every owner's broker fee an operator set, [id, fee] by id: answers priced with them
    are keyed by it too (a changed fee is a new answer, as a new book is)."""
    known = _directory().values()
    return sorted([k.structure_id, k.broker_fee] for k in known if k.broker_fee is not None)


def owner_broker_fee(structure_id: int) -> float | None:
    """The owner's broker fee an operator set for this structure (a fraction), else None."""
    found = known(structure_id)
    return found.broker_fee if found is not None else None

"""A structure's whole book, read with a member's token and published like a region's.

`refresh_structure(structure_id, token)` fetches `GET /markets/structures/{id}/` (every page,
the same token) as a region book is fetched (`market.refresh.fetch_book`: one Last-Modified
and X-Pages for the set, no order twice, else fetched again; the last book's pages asked
with their ETags, and a book ESI has not changed kept with its new Expires), and publishes
it as a snapshot under the structure's id (`publish.load(structure_id)` reads it, as a
region's; market/books.py merges it into its region's market). A structure's orders
carry no `system_id`: they are given the structure's system (market.models.Structure). The
structure's row records the refresh: `last_refresh`, `order_count`, `market_status` shared.

Who may read a structure is ESI's to say: a 403 (the character cannot dock there, or lost
access) raises `StructureAccessDenied`, publishes nothing and leaves the row as it was; the
caller (the pool of sharing characters, docs/structures.md) suspends that character for that
structure. A structure an operator suspended is never asked for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings

from esi.client import EsiClient, shared_client
from esi.errors import EsiHttpError
from market.models import Structure
from market.refresh import RefreshBusy, fetch_book
from market.snapshot import Arrays, page_columns
from store import get_store
from store.base import Store


class StructureAccessDenied(Exception):
    """ESI refused the token this structure's market (403)."""


class StructureSuspended(Exception):
    """An operator suspended this structure's market."""


def refresh_structure(
    structure_id: int,
    token: str,
    *,
    client: EsiClient | None = None,
    store: Store | None = None,
) -> str:
    """Fetch and publish one structure's book with `token`: "published", or "not_modified"
    when ESI confirmed the book it had (kept, with ESI's new Expires)."""
    structure = Structure.objects.get(structure_id=structure_id)
    if structure.market_status == Structure.Status.SUSPENDED:
        raise StructureSuspended(f"structure {structure_id}: suspended by an operator")
    client = client or shared_client()
    store = store or get_store()
    system_id = structure.solar_system_id or 0

    def columns(page: int, orders: list[dict[str, Any]]) -> Arrays:
        return page_columns(page, orders, system_id)

    lock = store.lock(
        f"market:structure-refresh:{structure_id}", ttl=settings.MARKET_REFRESH_LOCK_TTL
    )
    if not lock.acquire():
        raise RefreshBusy(f"structure {structure_id} is being refreshed")
    try:
        fetched = fetch_book(
            structure_id,
            f"/markets/structures/{structure_id}/",
            {},
            client=client,
            store=store,
            lock=lock,
            token=token,
            transform=columns,
        )
    except EsiHttpError as exc:
        if exc.status == 403:
            raise StructureAccessDenied(str(exc)) from exc
        raise
    finally:
        lock.release()
    meta = fetched.meta
    structure.last_refresh = datetime.fromisoformat(meta.fetched_at)
    structure.order_count = meta.orders
    structure.market_status = Structure.Status.SHARED
    structure.save(update_fields=["last_refresh", "order_count", "market_status"])
    return fetched.result

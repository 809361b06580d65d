"""Daily market history per (region, type), fetched on demand and cached for the day.

ESI refreshes history once a day (its Expires says when), so the client's Expires cache
answers every later request that day without a call. ESI allows at most 300 history
requests a minute; a shared counter keeps every process under that together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from esi.client import EsiClient, shared_client
from esi.errors import EsiRateLimited
from store import get_store

PER_MINUTE = 300


def fetch_history(
    region_id: int, type_id: int, client: EsiClient | None = None
) -> list[dict[str, Any]]:
    client = client or shared_client()
    path = f"/markets/{region_id}/history/"
    params = {"type_id": type_id}
    if not client.is_fresh(path, params=params):
        minute = datetime.now(UTC).strftime("%Y%m%d%H%M")
        if get_store().incr(f"esi:history-calls:{minute}", ttl=120) > PER_MINUTE:
            resume = datetime.now(UTC).replace(second=0, microsecond=0)
            raise EsiRateLimited(
                "market history: 300 requests this minute already", resume_at=resume
            )
    response = client.get_cached(path, params=params)
    return list(response.data or [])

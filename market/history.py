"""Daily market history per (region, type), fetched on demand and cached for the day.

ESI refreshes history once a day (its Expires says when), so the client's Expires cache
answers every later request that day without a call. ESI allows at most 300 history
requests a minute per IP; a shared counter keeps every process under that together.

People opening history pages share that budget with the worker's volume fill
(profit/volumes.py leaves them at least 300 - TASK_CALLS_PER_MINUTE). So that one client
cannot spend it for all, a call made for a client (`for_client`, its rate-limit key) also
counts against that client's share, `RATE_LIMIT_HISTORY_CALLS` a minute; past it the call
is refused with `HistoryShareSpent` before ESI is asked. Answers ESI still has cached cost
nothing, and a store that cannot be reached does not refuse anyone.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from esi.client import EsiClient, shared_client
from esi.errors import EsiRateLimited
from store import get_store

log = logging.getLogger(__name__)

PER_MINUTE = 300


class HistoryShareSpent(Exception):
    """One client has caused its share of this minute's history calls."""

    def __init__(self, share: int, retry_after: int) -> None:
        self.share = share
        self.retry_after = retry_after
        super().__init__(
            f"Too many market history requests: one address may load at most {share} "
            f"histories a minute that are not cached yet (ESI's budget is shared by "
            f"everyone). Try again in {retry_after} s."
        )


def _spend_client_share(client_key: str, now: datetime) -> None:
    share = settings.RATE_LIMIT_HISTORY_CALLS
    key = f"esi:history-calls:{now.strftime('%Y%m%d%H%M')}:client:{client_key}"
    try:
        calls = get_store().incr(key, ttl=120)
    except Exception:
        log.warning("history share store unreachable: letting the call through", exc_info=True)
        return
    if calls > share:
        raise HistoryShareSpent(share, retry_after=max(1, 60 - now.second))


def fetch_history(
    region_id: int,
    type_id: int,
    client: EsiClient | None = None,
    *,
    for_client: str | None = None,
) -> list[dict[str, Any]]:
    client = client or shared_client()
    path = f"/markets/{region_id}/history/"
    params = {"type_id": type_id}
    if not client.is_fresh(path, params=params):
        now = datetime.now(UTC)
        if for_client is not None:
            _spend_client_share(for_client, now)
        minute = now.strftime("%Y%m%d%H%M")
        if get_store().incr(f"esi:history-calls:{minute}", ttl=120) > PER_MINUTE:
            resume = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            raise EsiRateLimited(
                "market history: 300 requests this minute already", resume_at=resume
            )
    response = client.get_cached(path, params=params)
    return list(response.data or [])

"""The ESI client shared by `market` and `characters`: one pooled HTTP session, ESI's caching
headers, both limit schemes and a circuit breaker shared across workers through the store,
retries with backoff, and no calls in the daily downtime. See docs/esi.md.

    from esi import EsiClient, EsiError
    client = EsiClient.from_settings()
    prices = client.get_cached("/markets/prices/").data
"""

from esi.client import EsiClient, EsiResponse, PagedResponse
from esi.errors import (
    EsiBadResponse,
    EsiCircuitOpen,
    EsiDowntime,
    EsiError,
    EsiHttpError,
    EsiInconsistent,
    EsiRateLimited,
    EsiUnavailable,
)

__all__ = [
    "EsiBadResponse",
    "EsiCircuitOpen",
    "EsiClient",
    "EsiDowntime",
    "EsiError",
    "EsiHttpError",
    "EsiInconsistent",
    "EsiRateLimited",
    "EsiResponse",
    "EsiUnavailable",
    "PagedResponse",
]

"""CCP's average and adjusted prices (/markets/prices/), cached until ESI's Expires (hourly)."""

from __future__ import annotations

from typing import Any

from esi.client import EsiClient, shared_client


def fetch_prices(client: EsiClient | None = None) -> dict[int, dict[str, Any]]:
    """Every type's prices by type id; the client asks ESI only when its copy has expired."""
    response = (client or shared_client()).get_cached("/markets/prices/")
    return {
        int(row["type_id"]): {
            "average_price": row.get("average_price"),
            "adjusted_price": row.get("adjusted_price"),
        }
        for row in response.data or []
    }


def type_prices(type_id: int, client: EsiClient | None = None) -> dict[str, Any] | None:
    return fetch_prices(client).get(type_id)

"""Market figures and times as the market pages say them (pure functions).

Prices with two decimals and grouping ("1,234,567.89"), counts grouped ("2,000"), volumes
compact ("172.6M", the exact figure goes in a title), times in UTC, a snapshot's age in words
("3 min old"). static/js/market.js says the same for what it draws live (the history chart's
axes and tooltip, the status page's polled fields).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

NOTHING = "—"
# Largest first: 84748792490 -> "84.7B".
UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def _finite(value: float | int | None) -> bool:
    return value is not None and math.isfinite(value)


def price(value: float | None) -> str:
    """4.2 -> "4.20", 1234567.891 -> "1,234,567.89"."""
    return f"{value:,.2f}" if value is not None and _finite(value) else NOTHING


def isk(value: float | None) -> str:
    """4.2 -> "4.20", 1234567.891 -> "1,234,567.89", 65100000000 -> "65,100,000,000": cents
    only where there are any (EVE's prices of 1,000 ISK and more have none)."""
    text = price(value)
    return text.removesuffix(".00") if text != "-0.00" else "0"


def integer(value: float | None) -> str:
    """2000 -> "2,000"."""
    return f"{value:,.0f}" if value is not None and _finite(value) else NOTHING


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _digits(size: float) -> int:
    """Two decimals under 10, one under 100, none above: three significant figures."""
    return 2 if size < 10 else 1 if size < 100 else 0


def compact(value: float | None) -> str:
    """4.21 -> "4.21", 1500 -> "1.5k", 172553241 -> "172.6M", 84748792490 -> "84.7B"."""
    if value is None or not _finite(value):
        return NOTHING
    size = abs(value)
    for unit, suffix in UNITS:
        if size >= unit:
            scaled = value / unit
            return _trim(f"{scaled:.{_digits(abs(scaled))}f}") + suffix
    return _trim(f"{value:.{_digits(size)}f}")


def plural(count: int, word: str) -> str:
    """(1, "order") -> "1 order", (2000, "order") -> "2,000 orders"."""
    return f"{integer(count)} {word}{'' if count == 1 else 's'}"


def moment(value: str | datetime | None) -> datetime | None:
    """An aware datetime from an ISO 8601 string (naive ones are UTC), or None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def utc(value: str | datetime | None, time_only: bool = False) -> str:
    """ "2026-11-22 03:33:51 UTC", or "03:33:51 UTC" with `time_only`."""
    when = moment(value)
    if when is None:
        return NOTHING
    return f"{when.astimezone(UTC):{'%H:%M:%S' if time_only else '%Y-%m-%d %H:%M:%S'}} UTC"


def age_text(seconds: float | None) -> str:
    """ "42 s old", "3 min old", "2 h 5 min old", "3 d 4 h old"."""
    if seconds is None:
        return NOTHING
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s old"
    if s < 3600:
        return f"{s // 60} min old"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min old"
    return f"{s // 86400} d {s % 86400 // 3600} h old"


def range_text(order_range: str) -> str:
    """An order's range as the game says it: "region", "solar system", "5-jump", "station"."""
    if order_range == "solarsystem":
        return "solar system"
    return f"{order_range}-jump" if order_range.isdigit() else order_range

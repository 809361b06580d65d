"""Reading ESI's response headers: HTTP dates, X-Pages, the error limit and the 2025 token
bucket headers (`X-Ratelimit-Group`, `-Limit` as "<tokens>/<window>", `-Remaining`, `-Used`)
and `Retry-After`. Every reader returns None for a header that is absent or malformed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_WINDOW_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name (plain dicts from the cache included)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def http_date(value: str | None) -> datetime | None:
    """An RFC 7231 date as an aware UTC datetime."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def integer(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_limit(value: str | None) -> tuple[int, float] | None:
    """`X-Ratelimit-Limit` "12000/15m" -> (12000, 900.0). A window without unit is seconds."""
    match = _LIMIT.match(value or "")
    if not match:
        return None
    tokens, amount, unit = match.groups()
    window = float(amount) * _WINDOW_UNITS[(unit or "s").lower()]
    if int(tokens) <= 0 or window <= 0:
        return None
    return int(tokens), window


def retry_after(value: str | None, now: datetime) -> float | None:
    """`Retry-After` in seconds from `now`: delta-seconds or an HTTP date."""
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        moment = http_date(value)
        return None if moment is None else max(0.0, (moment - now).total_seconds())


@dataclass(frozen=True)
class ErrorLimit:
    remain: int
    reset: float  # seconds until the window resets


def error_limit(headers: Mapping[str, str]) -> ErrorLimit | None:
    remain = integer(header(headers, "X-ESI-Error-Limit-Remain"))
    reset = integer(header(headers, "X-ESI-Error-Limit-Reset"))
    if remain is None or reset is None:
        return None
    return ErrorLimit(remain=remain, reset=float(max(reset, 0)))


@dataclass(frozen=True)
class Bucket:
    group: str
    limit: int | None
    window: float | None
    remaining: int | None
    used: int | None


def bucket(headers: Mapping[str, str]) -> Bucket | None:
    group = (header(headers, "X-Ratelimit-Group") or "").strip()
    if not group:
        return None
    parsed = parse_limit(header(headers, "X-Ratelimit-Limit"))
    return Bucket(
        group=group,
        limit=parsed[0] if parsed else None,
        window=parsed[1] if parsed else None,
        remaining=integer(header(headers, "X-Ratelimit-Remaining")),
        used=integer(header(headers, "X-Ratelimit-Used")),
    )

"""What the ESI client raises. Every failure it reports is an `EsiError`; `str()` of one is a
single line fit for a status page, and none of them carries a token or request headers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def _at(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _reason_and_time(
    args: tuple[str | datetime, ...], when: datetime | None, default: str
) -> tuple[str, datetime]:
    """Accept `(when)`, `(reason, when)`, `(when, reason)` or `(reason, when=...)`."""
    reason = default
    for arg in args:
        if isinstance(arg, datetime):
            when = arg
        else:
            reason = str(arg)
    if when is None:
        raise TypeError("a time to resume at is required")
    return reason, when


class EsiError(Exception):
    """Base of every error the ESI client raises."""


class EsiDowntime(EsiError):
    """The call falls in ESI's daily downtime window: nothing was sent."""

    def __init__(self, *args: str | datetime, resume_at: datetime | None = None) -> None:
        self.reason, self.resume_at = _reason_and_time(args, resume_at, "ESI daily downtime")
        super().__init__(f"{self.reason}; calls resume at {_at(self.resume_at)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.resume_at))


class EsiCircuitOpen(EsiError):
    """ESI failed too often in a row: calls fail fast until `retry_at`."""

    def __init__(self, *args: str | datetime, retry_at: datetime | None = None) -> None:
        self.reason, self.retry_at = _reason_and_time(
            args, retry_at, "ESI unreachable, circuit breaker open"
        )
        super().__init__(f"{self.reason}; next try at {_at(self.retry_at)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.retry_at))


class EsiRateLimited(EsiError):
    """The error limit or a token bucket asks for a pause longer than the client may sleep."""

    def __init__(self, *args: str | datetime, resume_at: datetime | None = None) -> None:
        self.reason, self.resume_at = _reason_and_time(args, resume_at, "ESI rate limit")
        super().__init__(f"{self.reason}; calls resume at {_at(self.resume_at)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.resume_at))


class EsiHttpError(EsiError):
    """ESI answered with a status the client does not retry (400, 401, 403, 404, 422, 500...)."""

    def __init__(self, status: int, body: bytes, path: str = "") -> None:
        self.status = status
        self.body = body
        self.path = path
        detail = body[:200].decode("utf-8", "replace").replace("\n", " ").strip()
        where = f" for {path}" if path else ""
        super().__init__(f"ESI answered {status}{where}" + (f": {detail}" if detail else ""))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status, self.body, self.path))


class EsiUnavailable(EsiError):
    """5xx answers, timeouts or connection errors that outlasted the retries."""


class EsiBadResponse(EsiError):
    """ESI answered, but the body or a header could not be understood (e.g. truncated JSON)."""


class EsiInconsistent(EsiError):
    """The pages of a result set disagree (Last-Modified drift, duplicate keys, X-Pages
    changing), still after the allowed refetches."""

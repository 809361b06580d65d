"""ESI's daily downtime window ("HH:MM-HH:MM", UTC): the client sends nothing inside it.

A window may wrap past midnight ("23:50-00:10"). An empty value, "off" or "none" disables it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Downtime:
    start: time | None
    end: time | None

    @classmethod
    def parse(cls, value: str | None) -> Downtime:
        if value is None or value.strip().lower() in ("", "off", "none"):
            return cls(None, None)
        match = _WINDOW.match(value)
        if not match:
            raise ValueError(f"ESI_DOWNTIME must look like 11:00-11:15 (UTC), not {value!r}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"ESI_DOWNTIME has an impossible time: {value!r}")
        start, end = time(h1, m1), time(h2, m2)
        if start == end:
            return cls(None, None)
        return cls(start, end)

    @property
    def enabled(self) -> bool:
        return self.start is not None and self.end is not None

    def _bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """The window that contains `now`, or else the next one to start."""
        assert self.start is not None and self.end is not None
        now = now.astimezone(UTC)
        day = now.date()
        for offset in (-1, 0, 1):
            begin = datetime.combine(day + timedelta(days=offset), self.start, UTC)
            finish = datetime.combine(begin.date(), self.end, UTC)
            if finish <= begin:
                finish += timedelta(days=1)
            if now < finish:
                return begin, finish
        raise AssertionError("unreachable: tomorrow's window always ends after now")

    def resume_at(self, now: datetime) -> datetime | None:
        """When calls may resume if `now` is inside the window; None when outside it."""
        if not self.enabled:
            return None
        begin, finish = self._bounds(now)
        return finish if begin <= now < finish else None

    def describe(self, now: datetime) -> dict[str, object]:
        """For the status page: the window, whether it is on, and when it next starts/ends."""
        if not self.enabled:
            return {"window": None, "active": False, "starts_at": None, "resume_at": None}
        assert self.start is not None and self.end is not None
        begin, finish = self._bounds(now)
        return {
            "window": f"{self.start:%H:%M}-{self.end:%H:%M} UTC",
            "active": begin <= now < finish,
            "starts_at": begin,
            "resume_at": finish,
        }

"""ESI's two limit schemes, with the budget shared by every worker through the store.

The error limit (`X-ESI-Error-Limit-Remain/-Reset`, a 420 on every route past the budget):
every response records what is left; when it falls to the floor, or on a 420, every call in
every process pauses until the window resets.

The token buckets (2025, `X-Ratelimit-Group/-Limit/-Remaining/-Used`, a 429 with
`Retry-After`): each response records its group's bucket, and which group its route belongs
to. Before a call to a route whose group is known, the call pauses while the group's
remaining tokens are below `ratelimit_floor x limit`; the expected wait is the tokens missing
times window/limit (tokens come back as the window slides). A 429 pauses the group for
`Retry-After` seconds.

Pausing sleeps in the calling thread, at most `budget` seconds in all for one call; a longer
pause raises `EsiRateLimited(resume_at)` at once so a Celery task can retry later instead of
holding a worker.

Store keys (all under `esi:limits:`): `error` {remain, reset_at, at}; `group:<name>` {limit,
window, remaining, used, at, paused_until}; `route:<route>` -> group name; `groups` the list
of group names seen (for the status page).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from esi import headers as h
from esi.errors import EsiRateLimited
from esi.state import Clock, to_datetime, update_json, utc_now
from store.base import Store

log = logging.getLogger(__name__)

PREFIX = "esi:limits:"
ERROR_WINDOW = 60.0  # the error limit's window when a 420 does not say when it resets
DEFAULT_RETRY_AFTER = 5.0  # a 429 without Retry-After
SAME_WINDOW = 2.0  # two reset times this close belong to the same error-limit window
_ROUTE_TTL = 86400.0
WRITE_EVERY = 0.25  # seconds between two routine writes of one key by one process
READ_EVERY = 0.05  # seconds a process reuses what it read of the shared budgets
_MAX_WAITS = 100  # re-checks in one wait(); each either sleeps or returns

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def route_of(path: str) -> str:
    """The route a path belongs to: ids become `{id}`, no query, no trailing slash.
    "/markets/10000002/orders/" -> "/markets/{id}/orders"."""
    path = path.split("?", 1)[0]
    return _ID_SEGMENT.sub("/{id}", path).rstrip("/") or "/"


class Limits:
    def __init__(
        self,
        store: Store,
        *,
        error_limit_floor: int,
        ratelimit_floor: float,
        now: Clock | None = None,
    ) -> None:
        self.store = store
        self.error_limit_floor = error_limit_floor
        self.ratelimit_floor = ratelimit_floor
        self.now = now or utc_now
        self._known_groups: set[str] = set()
        self._routes: dict[str, str] = {}
        # Writes of routine readings are coalesced, and reads cached briefly, so a 381-page
        # refresh costs a few store calls a second instead of ~15 per page. Urgent news
        # (a 420, a 429, a budget near its floor) is always written at once.
        self._written: dict[str, float] = {}
        self._read: dict[str, tuple[float, Any]] = {}

    # --- recording ----------------------------------------------------------------------

    def record(self, route: str, status: int, headers: Mapping[str, str]) -> None:
        """Take in what one response says about both budgets (`route`: a path or route)."""
        route = route_of(route)
        now = self.now().timestamp()
        limit = h.error_limit(headers)
        if status == 420:
            reset = limit.reset if limit else ERROR_WINDOW
            self._record_error_limit(0, now + reset, now)
            log.warning("ESI error limit reached (420); pausing every call for %.0f s", reset)
        elif limit is not None:
            self._record_error_limit(limit.remain, now + limit.reset, now)

        found = h.bucket(headers)
        group = found.group if found else self.group_of(route)
        if found is not None:
            self._remember_route(route, found.group)
            self._record_bucket(found, now)
        if status == 429:
            delay = h.retry_after(h.header(headers, "Retry-After"), self.now())
            delay = DEFAULT_RETRY_AFTER if delay is None else delay
            name = group or f"route:{route}"
            self._pause_group(name, now + delay)
            if group is None:
                self._remember_route(route, name)
            log.warning("ESI rate limit (429) on group %s; pausing it for %.1f s", name, delay)

    def _due(self, key: str, urgent: bool) -> bool:
        """Whether to write `key` now: urgent news, or a while since this process did."""
        now = self.now().timestamp()
        if not urgent and now - self._written.get(key, -WRITE_EVERY) < WRITE_EVERY:
            return False
        self._written[key] = now
        return True

    def _update(self, key: str, change: Any, ttl: float | None = None) -> None:
        """Write the shared value, and keep what was written as this process's latest read
        (so its own next call sees it at once, whatever other threads read meanwhile)."""
        new = update_json(self.store, key, change, ttl=ttl)
        self._read[key] = (self.now().timestamp(), new)

    def _get_json(self, key: str) -> Any:
        """The store's value, re-read at most every READ_EVERY seconds by this process."""
        now = self.now().timestamp()
        cached = self._read.get(key)
        if cached is not None and 0 <= now - cached[0] < READ_EVERY:
            return cached[1]
        value = self.store.get_json(key)
        self._read[key] = (now, value)
        return value

    def _record_error_limit(self, remain: int, reset_at: float, now: float) -> None:
        if not self._due(PREFIX + "error", urgent=remain <= 2 * self.error_limit_floor):
            return

        def change(old: Any) -> dict[str, float]:
            same_window = (
                isinstance(old, dict)
                and old.get("reset_at", 0) > now
                and abs(old["reset_at"] - reset_at) <= SAME_WINDOW
            )
            # Responses finish out of order: within one window the lowest count is the truth.
            kept = min(remain, int(old.get("remain", remain))) if same_window else remain
            return {"remain": kept, "reset_at": reset_at, "at": now}

        self._update(PREFIX + "error", change, ttl=max(reset_at - now, 0) + 60)

    def _record_bucket(self, found: h.Bucket, now: float) -> None:
        low = (
            found.limit is not None
            and found.remaining is not None
            and found.remaining < 2 * self.ratelimit_floor * found.limit
        )
        if not self._due(PREFIX + f"group:{found.group}", urgent=low):
            return

        def change(old: Any) -> dict[str, Any]:
            state = dict(old) if isinstance(old, dict) else {}
            if found.limit is not None:
                state["limit"], state["window"] = found.limit, found.window
            if found.remaining is not None:
                state["remaining"] = found.remaining
            if found.used is not None:
                state["used"] = found.used
            state["at"] = now
            state.setdefault("paused_until", None)
            return state

        window = found.window or 900.0
        self._update(PREFIX + f"group:{found.group}", change, ttl=window + 60)
        self._index_group(found.group)

    def _pause_group(self, group: str, until: float) -> None:
        self._due(PREFIX + f"group:{group}", urgent=True)

        def change(old: Any) -> dict[str, Any]:
            state = dict(old) if isinstance(old, dict) else {}
            state["paused_until"] = max(until, state.get("paused_until") or 0.0)
            return state

        ttl = max(until - self.now().timestamp(), 0) + 900
        self._update(PREFIX + f"group:{group}", change, ttl=ttl)
        self._index_group(group)

    def _remember_route(self, route: str, group: str) -> None:
        if self._routes.get(route) != group:
            self.store.set(PREFIX + f"route:{route}", group.encode(), ttl=_ROUTE_TTL)
            self._routes[route] = group

    def _index_group(self, group: str) -> None:
        if group in self._known_groups:
            return

        def change(old: Any) -> list[str]:
            names = list(old) if isinstance(old, list) else []
            return names if group in names else [*names, group]

        update_json(self.store, PREFIX + "groups", change)
        self._known_groups.add(group)

    def group_of(self, route: str) -> str | None:
        route = route_of(route)
        if route in self._routes:
            return self._routes[route]
        raw = self.store.get(PREFIX + f"route:{route}")
        if raw is None:
            return None
        self._routes[route] = raw.decode()
        return self._routes[route]

    # --- deciding -----------------------------------------------------------------------

    def error_remain(self) -> int | None:
        """The errors ESI still allows in its current window (None when none is known or the
        window has reset)."""
        state = self._get_json(PREFIX + "error")
        if not isinstance(state, dict) or state["reset_at"] <= self.now().timestamp():
            return None
        return int(state["remain"])

    def error_limit_resume(self) -> float | None:
        """When the error-limit pause ends (epoch seconds), or None when there is none."""
        state = self._get_json(PREFIX + "error")
        if not isinstance(state, dict):
            return None
        now = self.now().timestamp()
        if state["remain"] <= self.error_limit_floor and state["reset_at"] > now:
            return float(state["reset_at"])
        return None

    def _group_resume(self, state: Mapping[str, Any], now: float) -> float | None:
        resume: float | None = None
        paused = state.get("paused_until")
        if paused and paused >= state.get("at", 0):
            # A 429 is the newest word on this bucket: its Retry-After says when tokens are
            # back, better than an estimate from the remaining count it came with.
            return float(paused) if paused > now else None
        if paused and paused > now:
            resume = float(paused)
        limit, window = state.get("limit"), state.get("window")
        remaining = state.get("remaining")
        if limit and window and remaining is not None:
            floor = self.ratelimit_floor * limit
            if remaining < floor:
                # Tokens come back as the window slides: window/limit seconds each.
                back = float(state["at"]) + (floor - remaining) * window / limit
                if back > now:
                    resume = max(resume or 0.0, back)
        return resume

    def group_resume(self, group: str) -> float | None:
        state = self._get_json(PREFIX + f"group:{group}")
        if not isinstance(state, dict):
            return None
        return self._group_resume(state, self.now().timestamp())

    def resume_at(self, route: str) -> tuple[float, str] | None:
        """When a call to `route` may go (epoch seconds) and why; None when it may go now."""
        found: tuple[float, str] | None = None
        error = self.error_limit_resume()
        if error is not None:
            found = (error, "ESI error limit")
        group = self.group_of(route)
        if group is not None:
            resume = self.group_resume(group)
            if resume is not None and (found is None or resume > found[0]):
                found = (resume, f"ESI rate limit on {group}")
        return found

    def wait(self, route: str, *, budget: float, sleep: Callable[[float], None]) -> float:
        """Sleep until a call to `route` may go; return the seconds slept. Raise
        `EsiRateLimited` when that would take more than `budget` seconds in all."""
        slept = 0.0
        for _ in range(_MAX_WAITS):
            found = self.resume_at(route)
            if found is None:
                return slept
            resume, reason = found
            delay = resume - self.now().timestamp()
            if delay <= 0:
                continue
            if slept + delay > budget:
                resume_at = to_datetime(resume)
                assert resume_at is not None
                raise EsiRateLimited(resume_at, reason)
            log.info("%s: pausing %.2f s", reason, delay)
            sleep(delay)
            slept += delay
        resume_at = to_datetime(self.now().timestamp() + budget)
        assert resume_at is not None
        raise EsiRateLimited(resume_at, "ESI rate limit keeps moving")

    # --- status -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Both budgets as the status page shows them; times are aware UTC datetimes."""
        now = self.now().timestamp()
        error = self.store.get_json(PREFIX + "error")
        groups: dict[str, dict[str, Any]] = {}
        for name in self.store.get_json(PREFIX + "groups", default=[]) or []:
            state = self.store.get_json(PREFIX + f"group:{name}")
            if not isinstance(state, dict):
                continue
            resume = self._group_resume(state, now)
            groups[name] = {
                "limit": state.get("limit"),
                "window": state.get("window"),
                "remaining": state.get("remaining"),
                "used": state.get("used"),
                "paused_until": to_datetime(resume),
            }
        resume = self.error_limit_resume()
        return {
            "error_limit": {
                "remain": error.get("remain") if isinstance(error, dict) else None,
                "reset_at": to_datetime(error["reset_at"]) if isinstance(error, dict) else None,
            },
            "groups": groups,
            "paused_until": to_datetime(resume),
        }

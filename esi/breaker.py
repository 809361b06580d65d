"""The circuit breaker in front of ESI, shared by every worker through the store.

Closed: calls go through; each failed call (5xx, timeout or connection error that outlasted
its retries) adds one to a count of failures in a row, any answer from ESI (2xx, 304, 4xx)
sets it back to zero. At `failures` in a row it opens: calls fail fast with `EsiCircuitOpen`
for `reset` seconds. Then it is half-open: the one caller that takes the store lock
`esi:breaker:probe` sends a probe call; everyone else still fails fast. A good probe closes
the circuit, a failed one opens it for another `reset` seconds.

Store key `esi:breaker`: {state: "closed"|"open", failures, opened_at, retry_at}; half-open is
"open with retry_at passed", so nothing has to flip it when the time comes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from esi.errors import EsiCircuitOpen
from esi.state import Clock, to_datetime, update_json, utc_now
from store.base import Lock, Store

log = logging.getLogger(__name__)

KEY = "esi:breaker"
READ_EVERY = 0.05  # seconds a process reuses what it read of the shared state
PROBE_LOCK = "esi:breaker:probe"

_CLOSED: dict[str, Any] = {"state": "closed", "failures": 0, "opened_at": None, "retry_at": None}


@dataclass
class Permit:
    """Leave to make one call; `probe` holds the probe lock when the circuit is half-open."""

    probe: Lock | None = None


class CircuitBreaker:
    def __init__(
        self,
        store: Store,
        *,
        failures: int,
        reset: float,
        probe_ttl: float = 60.0,
        now: Clock | None = None,
    ) -> None:
        self.store = store
        self.failures = max(1, failures)
        self.reset = reset
        self.probe_ttl = probe_ttl
        self.now = now or utc_now
        self._read: tuple[float, dict[str, Any]] | None = None  # (when, state) last seen

    def _load(self, fresh: bool = False) -> dict[str, Any]:
        """The shared state. While the circuit is closed this process re-reads it at most
        every READ_EVERY seconds (two reads a call cost a 381-page refresh ~760 store round
        trips); any other state is read every time."""
        now = self.now().timestamp()
        if (
            not fresh
            and self._read is not None
            and self._read[1]["state"] == "closed"
            and 0 <= now - self._read[0] < READ_EVERY
        ):
            return self._read[1]
        state = self.store.get_json(KEY)
        state = state if isinstance(state, dict) else dict(_CLOSED)
        self._read = (now, state)
        return state

    def _update(self, change: Any) -> dict[str, Any]:
        state: dict[str, Any] = update_json(self.store, KEY, change)
        self._read = (self.now().timestamp(), state)
        return state

    def allow(self) -> Permit:
        """Leave for one call, or `EsiCircuitOpen` while the circuit is open."""
        state = self._load()
        if state["state"] != "open":
            return Permit()
        now = self.now().timestamp()
        if now < state["retry_at"]:
            raise EsiCircuitOpen(_dt(state["retry_at"]))
        probe = self.store.lock(PROBE_LOCK, ttl=self.probe_ttl)
        if not probe.acquire():
            # Someone else is probing; ask again once their probe has had time to finish.
            raise EsiCircuitOpen(_dt(now + min(self.reset, self.probe_ttl)))
        log.info("ESI circuit half-open: probing")
        return Permit(probe=probe)

    def success(self, permit: Permit) -> None:
        try:
            state = self._load()
            if state["state"] != "closed" or state["failures"]:
                self._update(lambda old: dict(_CLOSED))
                if state["state"] != "closed":
                    log.info("ESI circuit closed")
        finally:
            self._release(permit)

    def failure(self, permit: Permit) -> None:
        now = self.now().timestamp()
        opened = False

        def change(old: Any) -> dict[str, Any]:
            nonlocal opened
            state = dict(old) if isinstance(old, dict) else dict(_CLOSED)
            state["failures"] = int(state.get("failures", 0)) + 1
            reopen = permit.probe is not None
            opened = reopen or (state["state"] == "closed" and state["failures"] >= self.failures)
            if opened:
                state.update(state="open", opened_at=now, retry_at=now + self.reset)
            return state

        try:
            state = self._update(change)
            if opened:
                log.warning(
                    "ESI circuit open after %d failures in a row; next probe in %.0f s",
                    state["failures"],
                    self.reset,
                )
        finally:
            self._release(permit)

    def release(self, permit: Permit) -> None:
        """The call ended without telling anything about ESI's health (e.g. a pause ran out)."""
        self._release(permit)

    @staticmethod
    def _release(permit: Permit) -> None:
        if permit.probe is not None:
            permit.probe.release()
            permit.probe = None

    def state(self) -> dict[str, Any]:
        """For the status page: state closed|open|half_open, failures in a row, and when it
        opened and lets a probe through (aware UTC datetimes, None while closed)."""
        state = self._load(fresh=True)
        name = state["state"]
        if name == "open" and self.now().timestamp() >= state["retry_at"]:
            name = "half_open"
        return {
            "state": name,
            "failures": state["failures"],
            "opened_at": to_datetime(state["opened_at"]),
            "retry_at": to_datetime(state["retry_at"]),
        }

    def reset_state(self) -> None:
        """Close the circuit by hand (an admin action, and tests)."""
        self._read = None
        self.store.delete(KEY)


def _dt(epoch: float) -> datetime:
    moment = to_datetime(epoch)
    assert moment is not None
    return moment

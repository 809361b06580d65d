"""The store interface shared by the Redis and file implementations."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import TracebackType
from typing import Any


class LockHeld(Exception):
    """Someone else holds the lock."""


class Lock(ABC):
    """A named lock. `acquire()` never waits; a holder that dies loses it (Redis: after its
    time to live; files: at once, the kernel drops the lock with the process)."""

    @abstractmethod
    def acquire(self) -> bool: ...

    @abstractmethod
    def release(self) -> None: ...

    @abstractmethod
    def extend(self, ttl: float) -> None:
        """Keep holding it for another `ttl` seconds (long work calls this as it goes)."""

    def __enter__(self) -> Lock:
        if not self.acquire():
            raise LockHeld(str(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class Store(ABC):
    """Bytes values under string keys, with optional expiry in seconds."""

    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    @abstractmethod
    def delete(self, *keys: str) -> None: ...

    @abstractmethod
    def expire(self, key: str, ttl: float) -> None:
        """Let an existing key expire `ttl` seconds from now."""

    @abstractmethod
    def incr(self, key: str, ttl: float, amount: int = 1) -> int:
        """Add `amount` (default one) to a counter and return it; a new counter expires after
        `ttl` seconds."""

    @abstractmethod
    def lock(self, name: str, ttl: float) -> Lock: ...

    @abstractmethod
    def ping(self) -> bool: ...

    # --- Sorted sets (ranked boards): members (strings) with float scores ------------------

    @abstractmethod
    def zadd(self, key: str, members: Mapping[str, float], ttl: float | None = None) -> None:
        """Add members or update their scores; with `ttl`, the whole set expires then."""

    @abstractmethod
    def zrange(
        self, key: str, start: int = 0, stop: int = -1, *, desc: bool = True
    ) -> list[tuple[str, float]]:
        """Members with their scores, ranks `start` to `stop` inclusive (negative counts from
        the end), highest score first (`desc`) or lowest first. Equal scores order by member
        as Redis does: reverse byte order when descending, byte order when ascending."""

    @abstractmethod
    def zcard(self, key: str) -> int:
        """How many members the set has (0 when it does not exist)."""

    @abstractmethod
    def zrem(self, key: str, *members: str) -> None: ...

    def get_json(self, key: str, default: Any = None) -> Any:
        raw = self.get(key)
        return default if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl: float | None = None) -> None:
        self.set(key, json.dumps(value, separators=(",", ":")).encode(), ttl)

"""The store on Redis: plain GET/SET with expiry, and redis-py's own lock (a key with a
random token and a time to live, released only by its holder)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress

import redis
from redis.exceptions import LockError

from store.base import Lock, Store


class RedisLock(Lock):
    def __init__(self, client: redis.Redis, name: str, ttl: float) -> None:
        self._lock = client.lock(name, timeout=ttl, blocking=False)
        self.name = name

    def acquire(self) -> bool:
        return bool(self._lock.acquire(blocking=False))

    def release(self) -> None:
        # If it expired it may belong to someone else now: nothing of ours to release.
        with suppress(LockError):
            self._lock.release()

    def extend(self, ttl: float) -> None:
        self._lock.extend(ttl, replace_ttl=True)

    def __str__(self) -> str:
        return f"lock {self.name}"


class RedisStore(Store):
    def __init__(self, url: str, prefix: str = "evetrade:") -> None:
        # Reconnects by itself after a Redis restart; a call during the restart raises.
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=2,
            socket_timeout=10,
            health_check_interval=15,
            retry_on_timeout=True,
        )
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return self.prefix + key

    def get(self, key: str) -> bytes | None:
        value: bytes | None = self.client.get(self._key(key))  # type: ignore[assignment]
        return value

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.client.set(self._key(key), value, px=None if ttl is None else int(ttl * 1000))

    def delete(self, *keys: str) -> None:
        if keys:
            self.client.delete(*(self._key(k) for k in keys))

    def expire(self, key: str, ttl: float) -> None:
        self.client.pexpire(self._key(key), int(ttl * 1000))

    def incr(self, key: str, ttl: float, amount: int = 1) -> int:
        pipe = self.client.pipeline()
        pipe.incr(self._key(key), amount)
        pipe.pexpire(self._key(key), int(ttl * 1000), nx=True)
        count, _ = pipe.execute()
        return int(count)

    def zadd(self, key: str, members: Mapping[str, float], ttl: float | None = None) -> None:
        if not members:
            return
        pipe = self.client.pipeline()
        pipe.zadd(self._key(key), dict(members))
        if ttl is not None:
            pipe.pexpire(self._key(key), int(ttl * 1000))
        pipe.execute()

    def zrange(
        self, key: str, start: int = 0, stop: int = -1, *, desc: bool = True
    ) -> list[tuple[str, float]]:
        rows = self.client.zrange(self._key(key), start, stop, desc=desc, withscores=True)
        return [(member.decode(), float(score)) for member, score in rows]  # type: ignore[union-attr]

    def zcard(self, key: str) -> int:
        return int(self.client.zcard(self._key(key)))  # type: ignore[arg-type]

    def zrem(self, key: str, *members: str) -> None:
        if members:
            self.client.zrem(self._key(key), *members)

    def lock(self, name: str, ttl: float) -> Lock:
        return RedisLock(self.client, self._key(f"lock:{name}"), ttl)

    def ping(self) -> bool:
        return bool(self.client.ping())

"""The store on local files, for the embedded default (no Redis).

Each key is one file named by the key's hash; a value is written to a temporary file and
renamed over the old one, so readers see the old or the new value, never half of one. The
expiry time is kept in the file's first 8 bytes. Locks are `flock`s on lock files: the kernel
releases them when the holding process exits or is killed. Every process on the machine sees
the same directory, which is all the embedded default needs (one machine).

Counters (`incr`: the rate limits spend one on nearly every request) live apart, in one
SQLite table beside the files: an upsert is a tenth of a millisecond where a locked
rewrite of a file cost close to one, and no lock file is left behind per counter. A counter
is only ever read and changed by `incr`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import sqlite3
import struct
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from store.base import Lock, Store

_EXPIRY = struct.Struct("<d")  # absolute expiry, seconds since the epoch; 0 = never
# Seconds between two sweeps of expired files by one process: a sweep reads the head of
# every file (a few thousand with the shared pages), so it goes by the clock, not by sets.
_SWEEP_SECONDS = 60.0
_COUNTER_SWEEP_EVERY = 1000  # counts between two removals of expired counters
_COUNTERS = """CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL) WITHOUT ROWID"""
# One statement, so one atomic step whichever process runs it: a counter past its expiry
# starts again from `amount`, as a Redis key that expired would.
_INCR = """INSERT INTO counters (key, value, expires) VALUES (:key, :amount, :expires)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN expires <= :now THEN :amount ELSE value + :amount END,
    expires = CASE WHEN expires <= :now THEN :expires ELSE expires END
RETURNING value"""


class FileLock(Lock):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def extend(self, ttl: float) -> None:
        """Nothing to do: a file lock lasts as long as its holder."""

    def __str__(self) -> str:
        return f"lock {self.path.name}"


class FileStore(Store):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.values = root / "values"
        self.locks = root / "locks"
        self.values.mkdir(parents=True, exist_ok=True)
        self.locks.mkdir(parents=True, exist_ok=True)
        # A random start, so the processes of a deployment do not all sweep at once.
        self._swept = time.monotonic() - random.uniform(0, _SWEEP_SECONDS)
        self._counts = 0
        self._local = threading.local()  # a SQLite connection per thread and process

    def _counters(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():  # never one inherited by a fork
            db = sqlite3.connect(self.root / "counters.sqlite3", timeout=5, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # a counter may be lost to a power cut
            db.execute(_COUNTERS)
            self._local.db, self._local.pid = db, os.getpid()
        return db

    def _path(self, key: str) -> Path:
        return self.values / hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> bytes | None:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        (expires,) = _EXPIRY.unpack_from(data)
        if expires and expires <= time.time():
            return None
        return data[_EXPIRY.size :]

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        expires = time.time() + ttl if ttl is not None else 0.0
        fd, tmp = tempfile.mkstemp(dir=self.values, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_EXPIRY.pack(expires))
                fh.write(value)
            os.replace(tmp, self._path(key))
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        now = time.monotonic()
        if now - self._swept >= _SWEEP_SECONDS:
            self._swept = now
            self.sweep()

    def delete(self, *keys: str) -> None:
        for key in keys:
            with suppress(FileNotFoundError):
                self._path(key).unlink()

    def expire(self, key: str, ttl: float) -> None:
        value = self.get(key)
        if value is not None:
            self.set(key, value, ttl)

    @contextmanager
    def _guard(self, kind: str, key: str) -> Iterator[None]:
        """Hold the lock of one key's read-modify-write (a counter, a sorted set)."""
        guard = FileLock(self.locks / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()}")
        while not guard.acquire():
            time.sleep(0.001)
        try:
            yield
        finally:
            guard.release()

    def _expiry(self, key: str) -> float | None:
        """Seconds the key has left (None: it never expires or does not exist)."""
        try:
            with open(self._path(key), "rb") as fh:
                (expires,) = _EXPIRY.unpack(fh.read(_EXPIRY.size))
        except (FileNotFoundError, struct.error):
            return None
        return max(expires - time.time(), 0.001) if expires else None

    def incr(self, key: str, ttl: float, amount: int = 1) -> int:
        db, now = self._counters(), time.time()
        params = {"key": key, "amount": amount, "expires": now + ttl, "now": now}
        (count,) = db.execute(_INCR, params).fetchone()
        self._counts += 1
        if self._counts % _COUNTER_SWEEP_EVERY == 0:
            db.execute("DELETE FROM counters WHERE expires <= ?", (now,))
        return int(count)

    # A sorted set is one value: a JSON object of member -> score.

    def _zset(self, key: str) -> dict[str, float]:
        raw = self.get(key)
        return {} if raw is None else dict(json.loads(raw))

    def zadd(self, key: str, members: Mapping[str, float], ttl: float | None = None) -> None:
        if not members:
            return
        with self._guard("zset", key):
            scores = self._zset(key)
            keep = self._expiry(key) if scores else None
            scores.update({member: float(score) for member, score in members.items()})
            self.set(key, json.dumps(scores).encode(), ttl if ttl is not None else keep)

    def zrange(
        self, key: str, start: int = 0, stop: int = -1, *, desc: bool = True
    ) -> list[tuple[str, float]]:
        ranked = sorted(self._zset(key).items(), key=lambda item: (item[1], item[0]))
        if desc:
            ranked.reverse()
        n = len(ranked)
        start, stop = start + n if start < 0 else start, stop + n if stop < 0 else stop
        start, stop = max(start, 0), min(stop, n - 1)
        return ranked[start : stop + 1] if start <= stop else []

    def zcard(self, key: str) -> int:
        return len(self._zset(key))

    def zrem(self, key: str, *members: str) -> None:
        with self._guard("zset", key):
            scores = self._zset(key)
            if not scores:
                return
            keep = self._expiry(key)
            for member in members:
                scores.pop(member, None)
            if scores:
                self.set(key, json.dumps(scores).encode(), keep)
            else:
                self.delete(key)

    def lock(self, name: str, ttl: float) -> Lock:
        return FileLock(self.locks / hashlib.sha256(name.encode()).hexdigest())

    def ping(self) -> bool:
        return self.values.is_dir()

    def sweep(self) -> int:
        """Remove expired values (and temporary files a killed writer left); return how many."""
        removed, now = 0, time.time()
        for path in self.values.iterdir():
            try:
                with open(path, "rb") as fh:
                    head = fh.read(_EXPIRY.size)
                stale_tmp = path.name.startswith(".tmp-") and path.stat().st_mtime < now - 3600
            except FileNotFoundError:
                continue
            expired = len(head) == _EXPIRY.size and 0 < _EXPIRY.unpack(head)[0] <= now
            if expired or stale_tmp:
                with suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        return removed

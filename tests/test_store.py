"""The shared store, on real Redis and on files: values, expiry, atomic replace, locks."""

import multiprocessing
import os
import signal
import time
import uuid

import pytest

from store.base import LockHeld, Store
from store.file_store import FileStore
from store.redis_store import RedisStore

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["redis", "files"])
def store(request, tmp_path) -> Store:
    if request.param == "redis":
        return RedisStore(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:")
    return FileStore(tmp_path / "store")


def test_values_round_trip_and_delete(store):
    assert store.get("a") is None
    store.set("a", b"\x00\x01binary")
    assert store.get("a") == b"\x00\x01binary"
    store.set("a", b"new")
    assert store.get("a") == b"new"
    store.delete("a", "never-set")
    assert store.get("a") is None


def test_json_helpers(store):
    store.set_json("j", {"region": 10000002, "pages": [1, 2]})
    assert store.get_json("j") == {"region": 10000002, "pages": [1, 2]}
    assert store.get_json("missing", default={}) == {}


def test_values_expire(store):
    store.set("short", b"x", ttl=0.2)
    store.set("long", b"y", ttl=30)
    assert store.get("short") == b"x"
    time.sleep(0.35)
    assert store.get("short") is None
    assert store.get("long") == b"y"
    store.expire("long", 0.1)
    time.sleep(0.25)
    assert store.get("long") is None


def test_a_lock_is_held_once(store):
    first, second = store.lock("region:1", ttl=10), store.lock("region:1", ttl=10)
    assert first.acquire()
    assert not second.acquire()
    with pytest.raises(LockHeld), second:
        pass
    first.release()
    assert second.acquire()
    second.release()


def test_a_redis_lock_expires_when_its_holder_vanishes():
    store = RedisStore(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:")
    assert store.lock("r", ttl=0.3).acquire()  # never released, as if the worker died
    assert not store.lock("r", ttl=0.3).acquire()
    time.sleep(0.45)
    assert store.lock("r", ttl=0.3).acquire()


def _hold_forever(root: str, ready) -> None:
    FileStore(__import__("pathlib").Path(root)).lock("r", ttl=10).acquire()
    ready.set()
    time.sleep(60)


def test_a_file_lock_is_released_when_its_holder_is_killed(tmp_path):
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_forever, args=(str(tmp_path), ready))
    holder.start()
    assert ready.wait(10)
    store = FileStore(tmp_path)
    assert not store.lock("r", ttl=10).acquire()
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(10)
    assert store.lock("r", ttl=10).acquire()


def test_file_store_sweeps_expired_values(tmp_path):
    store = FileStore(tmp_path)
    store.set("gone", b"x", ttl=0.01)
    store.set("kept", b"y")
    time.sleep(0.05)
    assert store.sweep() == 1
    assert store.get("kept") == b"y"


def test_a_set_sweeps_once_a_while(tmp_path, monkeypatch):
    """A set sweeps the expired files when _SWEEP_SECONDS have passed since the last sweep."""
    store = FileStore(tmp_path)
    store._swept = time.monotonic()  # just swept (a new store starts at a random point)
    store.set("gone", b"x", ttl=0.01)
    time.sleep(0.05)
    store.set("another", b"y")  # within the interval: no sweep
    assert len(list(store.values.iterdir())) == 2
    monkeypatch.setattr("store.file_store._SWEEP_SECONDS", 0.0)
    store.set("third", b"z")
    assert sorted(p.name for p in store.values.iterdir()) == sorted(
        store._path(key).name for key in ("another", "third")
    )


def test_counters_count_and_expire(store):
    assert [store.incr("hits", ttl=0.3) for _ in range(3)] == [1, 2, 3]
    time.sleep(0.45)
    assert store.incr("hits", ttl=0.3) == 1


def test_incr_adds_an_amount_in_one_call(store: Store) -> None:
    assert store.incr("counter", ttl=60) == 1
    assert store.incr("counter", ttl=60, amount=5) == 6  # 1 + 5
    assert store.incr("counter", ttl=60) == 7


def _count(root: str, times: int) -> None:
    store = FileStore(__import__("pathlib").Path(root))
    for _ in range(times):
        store.incr("shared", ttl=60)


def test_file_counters_are_shared_by_processes_and_lose_no_count(tmp_path):
    store = FileStore(tmp_path)
    assert store.incr("shared", ttl=60) == 1  # this process's connection exists before the fork
    workers = [
        multiprocessing.get_context("fork").Process(target=_count, args=(str(tmp_path), 200))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert store.incr("shared", ttl=60) == 1 + 4 * 200 + 1


def test_file_counters_forget_expired_ones(tmp_path, monkeypatch):
    monkeypatch.setattr("store.file_store._COUNTER_SWEEP_EVERY", 3)
    store = FileStore(tmp_path)
    store.incr("a", ttl=0.01)
    store.incr("b", ttl=0.01)
    time.sleep(0.05)
    store.incr("c", ttl=60)  # the third count removes the two expired counters
    rows = store._counters().execute("SELECT key FROM counters ORDER BY key").fetchall()
    assert rows == [("c",)]
    assert not list((tmp_path / "locks").iterdir())  # no lock file per counter

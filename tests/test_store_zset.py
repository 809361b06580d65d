"""Sorted sets in the shared store (the opportunity boards' ranking), on real Redis and on
files: both backends must rank, slice, tie-break and expire exactly alike."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid

import pytest

from store.base import Store
from store.file_store import FileStore
from store.redis_store import RedisStore

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["redis", "files"])
def store(request, tmp_path) -> Store:
    if request.param == "redis":
        return RedisStore(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:")
    return FileStore(tmp_path / "store")


def test_members_rank_by_score_highest_first(store):
    store.zadd("board", {"tritanium": 12.5, "pyerite": 40.0, "mexallon": -3.0})
    assert store.zrange("board") == [("pyerite", 40.0), ("tritanium", 12.5), ("mexallon", -3.0)]
    assert store.zrange("board", desc=False) == [
        ("mexallon", -3.0),
        ("tritanium", 12.5),
        ("pyerite", 40.0),
    ]
    assert store.zcard("board") == 3


def test_zadd_updates_scores_and_adds_members(store):
    store.zadd("board", {"a": 1.0, "b": 2.0})
    store.zadd("board", {"a": 5.0, "c": 3.0})
    assert store.zrange("board") == [("a", 5.0), ("c", 3.0), ("b", 2.0)]
    assert store.zcard("board") == 3


@pytest.mark.parametrize(
    ("start", "stop", "expected"),
    [
        (0, 1, ["e", "d"]),
        (1, 3, ["d", "c", "b"]),
        (0, -1, ["e", "d", "c", "b", "a"]),
        (-2, -1, ["b", "a"]),
        (3, 100, ["b", "a"]),
        (5, 9, []),
        (3, 1, []),
        (-100, 0, ["e"]),
    ],
)
def test_ranges_are_inclusive_and_count_from_the_end(store, start, stop, expected):
    store.zadd("board", {name: float(i) for i, name in enumerate("abcde")})
    assert [member for member, _ in store.zrange("board", start, stop)] == expected


def test_equal_scores_order_by_member_as_redis_does(store):
    store.zadd("board", {"b": 1.0, "a": 1.0, "c": 1.0, "z": 0.5})
    assert [m for m, _ in store.zrange("board")] == ["c", "b", "a", "z"]
    assert [m for m, _ in store.zrange("board", desc=False)] == ["z", "a", "b", "c"]


def test_both_backends_agree_on_a_random_board(tmp_path):
    rng = random.Random(7)
    members = {
        f"type:{rng.randrange(10_000)}": float(rng.choice([1, 2, 3, rng.random()]))
        for _ in range(300)
    }
    redis_store = RedisStore(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:")
    file_store = FileStore(tmp_path / "store")
    for store in (redis_store, file_store):
        store.zadd("board", members)
    for start, stop, desc in [(0, -1, True), (0, -1, False), (10, 49, True), (-20, -1, False)]:
        assert redis_store.zrange("board", start, stop, desc=desc) == file_store.zrange(
            "board", start, stop, desc=desc
        )


def test_a_missing_set_is_empty(store):
    assert store.zrange("nothing") == []
    assert store.zcard("nothing") == 0
    store.zadd("nothing", {})
    assert store.zcard("nothing") == 0
    store.zrem("nothing", "a")


def test_zrem_removes_members_and_the_last_one_removes_the_set(store):
    store.zadd("board", {"a": 1.0, "b": 2.0})
    store.zrem("board", "a", "never-there")
    assert store.zrange("board") == [("b", 2.0)]
    store.zrem("board", "b")
    assert store.zcard("board") == 0
    assert store.get("board") is None


def test_a_set_expires_with_its_ttl_and_keeps_it_on_later_adds(store):
    store.zadd("short", {"a": 1.0}, ttl=0.3)
    store.zadd("short", {"b": 2.0})  # no ttl: the set keeps its expiry
    assert store.zcard("short") == 2
    time.sleep(0.45)
    assert store.zcard("short") == 0
    store.zadd("long", {"a": 1.0}, ttl=30)
    store.expire("long", 0.1)
    time.sleep(0.25)
    assert store.zrange("long") == []


def test_concurrent_adds_lose_no_member(store):
    def add(worker: int) -> None:
        for i in range(20):
            store.zadd("board", {f"{worker}:{i}": float(i)})

    threads = [threading.Thread(target=add, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.zcard("board") == 80

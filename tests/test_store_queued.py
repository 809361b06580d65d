"""`store.queued.QueuedOnce`: a task is queued at most once per subject until a worker takes
it, on real Redis and on files."""

import os
import time
import uuid

import pytest

from store.base import Store
from store.file_store import FileStore
from store.queued import QueuedOnce
from store.redis_store import RedisStore

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
FORGE, DOMAIN = 10000002, 10000043


@pytest.fixture(params=["redis", "files"])
def store(request, tmp_path) -> Store:
    if request.param == "redis":
        return RedisStore(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:")
    return FileStore(tmp_path / "store")


def test_a_second_queue_waits_until_the_worker_takes_the_first(store):
    queued = QueuedOnce(key="region:{}:queued".format, ttl=30.0)
    sent: list[int] = []
    assert queued.queue(FORGE, lambda: sent.append(FORGE), store) is True
    assert queued.queue(FORGE, lambda: sent.append(FORGE), store) is False  # one copy only
    assert queued.queue(DOMAIN, lambda: sent.append(DOMAIN), store) is True  # per subject
    assert sent == [FORGE, DOMAIN]
    assert store.get(f"region:{FORGE}:queued") == b"1"  # the keys the tasks always used
    queued.clear(FORGE, store)  # the worker started it
    assert not queued.is_queued(FORGE, store) and queued.is_queued(DOMAIN, store)
    assert queued.queue(FORGE, lambda: sent.append(FORGE), store) is True
    assert sent == [FORGE, DOMAIN, FORGE]


def test_a_lost_message_may_be_queued_again_after_the_ttl(store):
    queued = QueuedOnce(key="region:{}:queued".format, ttl=0.2)
    sent: list[int] = []
    queued.queue(FORGE, lambda: sent.append(1), store)
    assert queued.queue(FORGE, lambda: sent.append(2), store) is False
    time.sleep(0.35)  # no worker ever cleared it
    assert queued.queue(FORGE, lambda: sent.append(3), store) is True
    assert sent == [1, 3]


def test_a_task_marks_its_own_next_run(store):
    queued = QueuedOnce(key="region:{}:queued".format, ttl=30.0)
    queued.mark(FORGE, store)  # a running task queueing itself again, already marked or not
    queued.mark(FORGE, store)
    assert queued.queue(FORGE, lambda: pytest.fail("queued twice"), store) is False

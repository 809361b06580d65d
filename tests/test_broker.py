"""The embedded default's file broker (config/broker.py): a message is in the queue folder
only once it is whole, so a worker polling while a task is queued never reads half of one."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kombu import Connection

from config import broker


@pytest.fixture
def connection(tmp_path: Path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "store_processed": False,
    }
    with Connection("filesystem://", transport=broker.Transport, transport_options=options) as c:
        yield c, folders["queue"]


def test_a_message_is_seen_only_whole(connection, monkeypatch):
    conn, queue = connection
    channel = conn.default_channel
    payload = {"body": "x" * 100_000, "headers": {"task": "market.tasks.refresh_region_task"}}
    seen_while_writing: list[list[str]] = []
    replace = os.replace

    def watched(source, target):
        # the moment before the message enters the queue: a reader looking for this queue's
        # messages finds none, and the file about to be named is already whole
        seen_while_writing.append([n for n in os.listdir(queue) if n.endswith(".celery.msg")])
        assert Path(source).stat().st_size > 100_000
        replace(source, target)

    monkeypatch.setattr(broker.os, "replace", watched)
    channel._put("celery", payload)
    assert seen_while_writing == [[]]
    names = os.listdir(queue)
    assert len(names) == 1 and names[0].endswith(".celery.msg")  # no partial file left
    assert channel._get("celery") == payload


def test_messages_keep_their_order(connection):
    conn, _ = connection
    channel = conn.default_channel
    for number in range(3):
        channel._put("celery", {"n": number})
        time.sleep(0.002)  # kombu orders the queue by the millisecond in the name
    assert [channel._get("celery")["n"] for _ in range(3)] == [0, 1, 2]


def test_a_message_that_is_not_json_is_dropped_and_the_next_one_delivered(connection, caplog):
    from queue import Empty

    conn, queue = connection
    channel = conn.default_channel
    (queue / "0_bad.celery.msg").write_bytes(b"")  # first in the queue, empty
    channel._put("celery", {"n": 1})
    with pytest.raises(Empty):
        channel._get("celery")
    assert "not JSON" in caplog.text
    assert channel._get("celery") == {"n": 1}

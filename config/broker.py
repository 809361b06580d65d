"""The embedded default's file broker: kombu's filesystem transport, with each message written
whole before a worker can see it.

kombu's own `_put` creates the message file under its final name and writes it afterwards; a
worker polling in between moves the empty file away, fails to decode it and stops
("Unrecoverable error: JSONDecodeError"), which stops the whole `make run` (bin/run-all ends
with any of its processes). Here the message is written under a name no reader looks for
and renamed into the queue in one step (a rename within a folder is atomic). A message that
still cannot be decoded (a file written by hand, a disk that filled up) is dropped with an
error in the log rather than stopping the worker.
"""

from __future__ import annotations

import logging
import os
import uuid
from queue import Empty
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.json import dumps

log = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Put `payload` onto `queue`: the name and order are kombu's (milliseconds first)."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        folder = self.data_folder_out
        partial = os.path.join(folder, f".{uuid.uuid4()}.part")  # not "*.{queue}.msg"
        try:
            with open(partial, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(partial, os.path.join(folder, name))
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {name!r} to directory") from exc

    def _get(self, queue: str) -> Any:
        """The next message of `queue` (kombu's); one that is not JSON is dropped, logged."""
        try:
            return super()._get(queue)
        except ValueError as exc:  # JSONDecodeError: the file was taken from the queue
            log.error("file broker: dropped a message of %s that is not JSON: %s", queue, exc)
            raise Empty() from exc


class Transport(filesystem.Transport):
    Channel = Channel

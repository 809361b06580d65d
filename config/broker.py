"""The embedded default's file broker: kombu's filesystem transport, with each message written
whole before a worker can see it.

kombu's own `_put` creates the message file under its final name and writes it afterwards; a
worker polling in between moves the empty file away, fails to decode it and stops
("Unrecoverable error: JSONDecodeError"), which stops the whole `make run` (bin/run-all ends
with any of its processes). Here the message is written under a name no reader looks for
and renamed into the queue in one step (a rename within a folder is atomic).
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.json import dumps


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


class Transport(filesystem.Transport):
    Channel = Channel

"""Queue a task at most once per subject (a region, a character) until a worker starts it.

A marker in the shared store says "a copy is queued": whoever queues first sets it, everyone
else (a second dispatcher, a repeated button press) sees it and does not queue again. The
task clears it when it starts (or finishes), so the next dispatch may queue again. The
marker expires by itself, so a message lost by the broker is queued again after `ttl`
seconds at the latest.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from store.base import Store


@dataclass(frozen=True)
class QueuedOnce:
    """The marker of one kind of task: `key` turns a subject into its store key."""

    key: Callable[..., str]
    ttl: float

    def is_queued(self, subject: Hashable, store: Store) -> bool:
        return store.get(self.key(subject)) is not None

    def queue(self, subject: Hashable, send: Callable[[], object], store: Store) -> bool:
        """Mark the subject queued and `send` the task, unless a copy is queued already
        (False then)."""
        if self.is_queued(subject, store):
            return False
        self.mark(subject, store)
        send()
        return True

    def mark(self, subject: Hashable, store: Store) -> None:
        """Mark the subject queued (again): a running task that queues its own next run."""
        store.set(self.key(subject), b"1", ttl=self.ttl)

    def clear(self, subject: Hashable, store: Store) -> None:
        """It may be queued again: the worker took it or is done with it, or what it should
        do has changed."""
        store.delete(self.key(subject))

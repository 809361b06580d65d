"""Celery tasks of the profit app: the opportunity boards' recompute.

Queued by `market.tasks.refresh_region_task` after a snapshot is published, and by beat
every minute as a safety net (a no-op while the boards match the current snapshots). One
worker computes at a time (a store lock in `profit.boards.recompute`): a copy that finds the
lock taken returns "busy", and the holder rebuilds again if a snapshot changed meanwhile.
"""

from __future__ import annotations

from celery import shared_task

import profit.volume_tasks  # noqa: F401  (Celery's autodiscovery reads tasks.py modules only)
from profit import boards


@shared_task(ignore_result=True)
def recompute_boards() -> str:
    return boards.recompute()

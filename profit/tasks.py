"""Celery tasks of the profit app: the opportunity boards' recompute.

Queued each time the market app publishes a new snapshot (`market.signals.snapshot_published`,
received below), and by beat every minute as a safety net (a no-op while the boards match the
current snapshots). One worker computes at a time (a store lock in `profit.boards.recompute`):
a copy that finds the lock taken returns "busy", and the holder rebuilds again if a snapshot
changed meanwhile.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.dispatch import receiver

import profit.volume_tasks  # noqa: F401  (Celery's autodiscovery reads tasks.py modules only)
from market.signals import snapshot_published
from profit import boards

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def recompute_boards() -> str:
    """Rebuild the boards; "no_sde" (a warning, not a traceback per snapshot published)
    while no SDE is installed: every board needs its names, stations and routes."""
    if not Path(settings.SDE_PATH).is_file():
        log.warning(
            "boards not computed: no SDE at %s (run manage.py sde_install)", settings.SDE_PATH
        )
        return "no_sde"
    return boards.recompute()


@receiver(snapshot_published, dispatch_uid="profit.tasks.boards_follow_snapshots")
def boards_follow_snapshots(sender: Any, **kwargs: Any) -> None:
    """A region has a new snapshot: queue the boards' recompute."""
    recompute_boards.delay()

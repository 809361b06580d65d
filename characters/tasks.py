"""Celery tasks of the characters app: thin and idempotent, one refresh per character at a time.

- `refresh_character_task(character_id)`: one refresh (characters/data.py); a second copy
  finds the character's lock taken and returns "busy". It never retries by itself: a refresh
  that stopped (ESI down, rate-limited, token unavailable, needs re-authorisation) records
  when the next one is due, and the dispatcher queues it then.
- `dispatch_due_characters()`: run by beat every few seconds (setting
  `CELERY_BEAT_SCHEDULE["characters-dispatch-due"]`); queues every character whose next
  refresh time (ESI's earliest Expires of its data, at least a minute, at most an hour
  away; later after a failure) has come. Characters needing re-authorisation are skipped.
- `queue_refresh(character_id)`: queue one now (after the current transaction commits), unless
  it is already queued. Called when a character is authorised (login, link, a feature turned
  on, re-authorisation: `characters.signals.character_authorised`).

A deleted (unlinked) character's stored data is forgotten at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from characters import data, structures
from characters.models import Character
from characters.signals import character_authorised
from store import get_store
from store.queued import QueuedOnce

log = logging.getLogger(__name__)

# A queued refresh that no worker started within this long may be queued again.
QUEUED_TTL = 120.0
QUEUED = QueuedOnce(key="char:{}:queued".format, ttl=QUEUED_TTL)


def queue_refresh(character_id: int) -> bool:
    """Queue a refresh of the character (once the current transaction commits); False when
    one is already queued."""
    send = partial(refresh_character_task.delay, character_id)
    return QUEUED.queue(character_id, partial(transaction.on_commit, send), get_store())


def is_due(character_id: int, now: datetime | None = None) -> bool:
    """Whether the character's next refresh time has come (never refreshed: yes)."""
    next_at = data.load_status(character_id).get("next_at")
    if not next_at:
        return True
    return datetime.fromisoformat(next_at) <= (now or datetime.now(UTC))


@shared_task(ignore_result=True)
def refresh_character_task(character_id: int) -> str:
    """Refresh one character; harmless to repeat."""
    QUEUED.clear(character_id, get_store())
    character = Character.objects.filter(pk=character_id).first()
    if character is None:
        data.forget(character_id)
        return "gone"
    try:
        outcome = data.refresh_character(character)
    except data.RefreshBusy:
        return "busy"
    if outcome.stopped:
        log.info("character %s: refresh stopped: %s", character_id, outcome.stopped)
        return "stopped"
    return "failed" if outcome.failed else "ok"


@shared_task(ignore_result=True)
def dispatch_due_characters() -> list[int]:
    """Queue a refresh for every character that is due and not queued."""
    now = datetime.now(UTC)
    queued = []
    for character_id in Character.objects.filter(needs_reauth=False).values_list(
        "character_id", flat=True
    ):
        if is_due(character_id, now) and queue_refresh(character_id):
            queued.append(character_id)
    return queued


@shared_task(ignore_result=True)
def refresh_shared_structures() -> dict[int, str]:
    """The shared structures' markets, each with one member's token (characters/structures.py)."""
    return structures.refresh_due()


@receiver(character_authorised, dispatch_uid="characters.tasks.refresh_on_authorise")
def refresh_on_authorise(sender: Any, character: Character, **kwargs: Any) -> None:
    """Fresh tokens (login, link, feature turned on): fetch the character's data now."""
    QUEUED.clear(character.character_id, get_store())  # what was granted has changed
    queue_refresh(character.character_id)


@receiver(post_delete, sender=Character, dispatch_uid="characters.tasks.forget_deleted")
def forget_deleted(sender: Any, instance: Character, **kwargs: Any) -> None:
    """An unlinked character's data goes with it."""
    data.forget(instance.character_id)

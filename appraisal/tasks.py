"""The appraisals' housekeeping, run by beat."""

from __future__ import annotations

from celery import shared_task

from appraisal import service


@shared_task
def forget_expired() -> int:
    """Delete the stored appraisals past their expiry (hourly); how many."""
    return service.forget_expired()

"""A task that takes its time, for the shutdown tests: `nap(seconds, name)` writes
`<VAR_DIR>/naps/<name>.started` when it starts and `<name>.done` when it ends. With
`LIFECYCLE_NAP_SECONDS` set (a restart that should drain the queue quickly) it sleeps that
long instead of `seconds`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task
from django.conf import settings


def nap_dir() -> Path:
    folder = Path(settings.VAR_DIR) / "naps"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@shared_task(name="tests.lifecycle.nap")
def nap(seconds: float, name: str) -> None:
    folder = nap_dir()
    (folder / f"{name}.started").touch()
    time.sleep(float(os.environ.get("LIFECYCLE_NAP_SECONDS") or seconds))
    (folder / f"{name}.done").touch()

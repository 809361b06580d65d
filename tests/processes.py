"""Helpers for tests that start the project's own processes (gunicorn, Celery)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from standin.processes import free_port

__all__ = ["BIN", "ROOT", "free_port", "ready", "wait_for"]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's gunicorn and celery


def wait_for(check: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def ready(base_url: str) -> bool:
    return requests.get(base_url + "/health/ready", timeout=5).ok

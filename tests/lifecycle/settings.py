"""The project's settings plus one slow view, for the graceful-shutdown test."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.lifecycle.urls"

# The shutdown tests' slow task (tests/lifecycle/tasks.py), known to the worker.
CELERY_IMPORTS = ["tests.lifecycle.tasks"]

"""Project configuration: settings, URLs, the Celery app, WSGI and gunicorn."""

from .celery import app as celery_app

__all__ = ("celery_app",)

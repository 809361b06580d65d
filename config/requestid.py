"""A request id on every log line: taken from `X-Request-ID` (when it looks like an id) or
made up, returned in the response, and carried into the Celery tasks the request queues
(and the tasks those queue), so one id follows a piece of work across processes."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    return _current.get()


def new_id() -> str:
    return uuid.uuid4().hex


def accepted(value: str | None) -> str:
    """The caller's id if it is a sensible one (no spaces, quotes or control characters:
    it goes into logs as is), else a new one."""
    return value if value and _VALID.match(value) else new_id()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accepted(request.headers.get(HEADER))
        # Not reset on the way out: Django logs a 4xx/5xx ("Not Found: ...") after the
        # middleware chain has returned, and that line must carry the id too. It is cleared
        # when the request is finished (request_finished, below).
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished)
def _request_finished(**_: Any) -> None:
    _current.set(None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (None outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True


# --- Celery: the id travels in the task message's headers ---------------------------------


def attach_to_task(headers: dict[str, Any] | None, **_: Any) -> None:
    """before_task_publish: stamp the queued task with the current id."""
    request_id = _current.get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


def enter_task(task: Any, **_: Any) -> None:
    """task_prerun: the task's log lines carry the id of the request that queued it (or a
    new one for a scheduled task)."""
    request = getattr(task, "request", None)
    given = getattr(request, "request_id", None)
    if given is None and request is not None:
        given = (getattr(request, "headers", None) or {}).get("request_id")
    _current.set(accepted(given))


def leave_task(**_: Any) -> None:
    """task_postrun: no id leaks into the worker's next task."""
    _current.set(None)

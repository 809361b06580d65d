"""Every API error is JSON with a `detail` message; unexpected errors never leak a trace."""

import logging
from typing import Any

from django.db import DatabaseError
from redis.exceptions import RedisError
from rest_framework.response import Response
from rest_framework.views import exception_handler

log = logging.getLogger(__name__)


def flat_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Field errors as one level: a nested object's errors under dotted names
    (`skills.accounting`), as the schema documents them."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for name, value in errors.items():
            flat.update(flat_errors(value, f"{prefix}{name}."))
    elif isinstance(errors, list) and any(isinstance(e, dict | list) for e in errors):
        for index, value in enumerate(errors):
            flat.update(flat_errors(value, f"{prefix}{index}."))
    else:
        messages = errors if isinstance(errors, list) else [errors]
        flat[prefix.rstrip(".") or "non_field_errors"] = [str(m) for m in messages]
    return flat


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is not None:
        if isinstance(response.data, dict) and "detail" not in response.data:
            response.data = {"detail": "Invalid parameters.", "errors": flat_errors(response.data)}
        elif isinstance(response.data, list):
            response.data = {"detail": " ".join(str(e) for e in response.data)}
        return response
    if isinstance(exc, RedisError):
        log.warning("shared store unreachable in %s: %s", context.get("view"), exc)
        return Response({"detail": "The shared store is unavailable; try again shortly."}, 503)
    if isinstance(exc, DatabaseError):
        log.exception("database error in %s", context.get("view"))
        return Response({"detail": "The data store is unavailable; try again shortly."}, 503)
    return None

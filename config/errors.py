"""Error pages: JSON under /api/, a friendly page elsewhere; never a stack trace. And what the
log says about a failed request: its method, path and parameter names, never a secret value.

Django logs each 4xx/5xx answer ("Unauthorized: /accounts/eveonline/login/callback/") with the
request attached, and the JSON log line prints that request with its query string, which for
an SSO callback holds the authorisation code and the state. `HideRequestSecrets` replaces the
attached request by `request_for_log(request)`; `config.metrics` installs it on Django's
loggers that attach one (`hide_request_secrets`).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

# Query parameters whose values never reach a log line (OAuth: code, state and tokens).
SECRET_PARAMETERS = frozenset(
    {"code", "state", "code_verifier", "token", "access_token", "refresh_token", "id_token"}
)
SECRET_WORDS = ("token", "secret", "password", "key")
HIDDEN = "[hidden]"
# Django's loggers whose records carry the request (django.request: every 4xx/5xx answer;
# django.security.csrf: a refused form; django.template, at DEBUG: a missing variable, with
# the whole template context in the exception's text, the request and the session's SSO state
# included).
LOGGERS_WITH_REQUESTS = ("django.request", "django.security.csrf", "django.template")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"Not found: {request.path}"}, status=404)
    return render(request, "404.html", {"path": request.path}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal error; it has been logged."}, status=500)
    # No request context: the context processors may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render())


def is_secret_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_PARAMETERS or any(word in lowered for word in SECRET_WORDS)


def request_for_log(request: HttpRequest) -> str:
    """ "GET /accounts/eveonline/login/callback/?code=[hidden]&state=[hidden]": the method,
    the path and the query with the values of secret parameters hidden."""
    line = f"{request.method} {request.path}"
    query = str(request.META.get("QUERY_STRING", ""))
    if not query:
        return line
    pairs = parse_qsl(query, keep_blank_values=True)
    shown = "&".join(
        f"{name}={HIDDEN if is_secret_parameter(name) else value[:100]}" for name, value in pairs
    )
    return f"{line}?{shown}"


class HideRequestSecrets(logging.Filter):
    """Replaces a record's attached request by `request_for_log(request)`, and drops the
    traceback of a template's missing variable (its text is the whole context).

    Drops Django's line about a 429 as well: the request log (`config.requests`) has one line
    per request with its status and client already, and a client past its allowance can send
    a thousand requests a second, each of which would be written twice."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.request" and getattr(record, "status_code", None) == 429:
            return False
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            record.request = request_for_log(request)
        if record.name == "django.template" and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True


_filter = HideRequestSecrets()


def hide_request_secrets() -> None:
    """Put the filter on Django's loggers that attach the request (twice is harmless)."""
    for name in LOGGERS_WITH_REQUESTS:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)

"""Keeping the service up under abuse: request size limits and per-client rate limits.

- `RequestSizeMiddleware`: a body larger than `MAX_REQUEST_BYTES` (by its Content-Length)
  is refused with 413 before anything reads it. Django's own limits stay in force as well
  (`DATA_UPLOAD_MAX_MEMORY_SIZE`, `DATA_UPLOAD_MAX_NUMBER_FIELDS`).
- `RateLimitMiddleware`: each rule of `RATE_LIMITS` gives a path prefix a number of requests
  per client per window; past it the answer is 429 with `Retry-After` (JSON with a `detail`
  under /api/, a short page elsewhere). The client is the real address behind
  `TRUSTED_PROXIES` proxies (config/clientip.py). Counters live in the shared store, so the
  limit holds across every web instance. A store that cannot be reached lets requests
  through (logged): rate limiting must never become the outage.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from config.clientip import client_ip
from store import get_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    name: str
    prefix: str
    requests: int
    window: int  # seconds


@functools.cache
def parse_rules(spec: tuple[str, ...]) -> tuple[Rule, ...]:
    """`name:prefix:requests/seconds` items, e.g. `api:/api/:120/60`."""
    rules = []
    for item in spec:
        try:
            name, prefix, rate = item.split(":", 2)
            requests, window = rate.split("/", 1)
            rules.append(Rule(name, prefix, int(requests), int(window)))
        except ValueError as exc:
            raise ValueError(
                f"RATE_LIMITS item {item!r}: expected name:prefix:requests/seconds"
            ) from exc
    return tuple(rules)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": message}, status=status)
    html = render_to_string("refused.html", {"status": status, "message": message}, request)
    return HttpResponse(html, status=status)


class RequestSizeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refusal(request, 400, "The Content-Length header is not a number.")
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            return _refusal(
                request,
                413,
                f"The request body is {length:,} bytes; at most {limit:,} bytes are accepted.",
            )
        return self.get_response(request)


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rule = self._rule_for(request.path)
        if rule is not None:
            refused = self._check(request, rule)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def _rule_for(path: str) -> Rule | None:
        if not settings.RATE_LIMIT_ENABLED:
            return None
        for rule in parse_rules(tuple(settings.RATE_LIMITS)):
            if path.startswith(rule.prefix):
                return rule
        return None

    @staticmethod
    def _check(request: HttpRequest, rule: Rule) -> HttpResponse | None:
        now = time.time()
        window = int(now // rule.window)
        key = f"ratelimit:{rule.name}:{client_ip(request)}:{window}"
        try:
            count = get_store().incr(key, ttl=rule.window + 1)
        except Exception:
            log.warning("rate limit store unreachable: letting the request through", exc_info=True)
            return None
        if count <= rule.requests:
            return None
        retry_after = max(1, math.ceil((window + 1) * rule.window - now))
        response = _refusal(
            request,
            429,
            f"Too many requests: at most {rule.requests} every {rule.window} s from one "
            f"address here. Try again in {retry_after} s.",
        )
        response["Retry-After"] = str(retry_after)
        return response

"""Keeping the service up under abuse: request size limits and per-client rate limits.

- `RequestSizeMiddleware`: a body larger than `MAX_REQUEST_BYTES` (by its Content-Length)
  is refused with 413 before anything reads it. Django's own limits stay in force as well
  (`DATA_UPLOAD_MAX_MEMORY_SIZE`, `DATA_UPLOAD_MAX_NUMBER_FIELDS`).
- `RateLimitMiddleware`: each rule of `RATE_LIMITS` is one allowance of tokens per client per
  window, shared by every path prefix it names (the /profit/ pages and /api/v1/profit/ are
  the same work, so they draw on one "profit" allowance). A request costs tokens by the work
  it asks for (`request_cost`, the table in `RATE_LIMIT_COSTS`): a hauling answer over whole
  regions, in list mode or as a CSV of every row costs more than a station-trading page.
  Past the allowance the answer is 429 with `Retry-After` (JSON with a `detail` under /api/,
  a short page elsewhere). The client is the real address behind `TRUSTED_PROXIES` proxies,
  an IPv6 one by its /64 (config/clientip.py). Counters live in the shared store, so the
  limit holds across every web instance. A store that cannot be reached lets requests
  through (logged): rate limiting must never become the outage.
- Failed admin logins (django-axes, settings `AXES_*`): `AdminLoginAttemptsBackend` refuses
  a login while its client or user name is locked out, `admin_lockout` is the answer.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from config.clientip import client_key
from store import get_store

log = logging.getLogger(__name__)

# EVE's region ids (sde/ids.py REGION_IDS: config sits below the apps and imports none).
REGION_IDS = range(10_000_000, 14_000_000)
# The hauling page and its API: the places in `from` and `to` set how much work it is.
HAULING_PATHS = ("/profit/hauling/", "/api/v1/profit/hauling")
# Where a POST appraises a paste (appraisal/): heavier than a page, `appraisal` tokens.
APPRAISAL_PATHS = ("/appraisals/", "/api/v1/appraisals", "/appraisal.json", "/appraisal/")
# A hauling request names 1 to 10 places a side; more is a 400, so count no further.
MAX_PLACES = 20


@dataclass(frozen=True)
class Rule:
    name: str
    prefixes: tuple[str, ...]
    tokens: int
    window: int  # seconds

    def matches(self, path: str) -> bool:
        return path.startswith(self.prefixes)


@functools.cache
def parse_rules(spec: tuple[str, ...]) -> tuple[Rule, ...]:
    """`name:prefix|prefix...:tokens/seconds` items, e.g.
    `profit:/profit/|/api/v1/profit/:120/60`."""
    rules = []
    for item in spec:
        try:
            name, prefixes, rate = item.split(":", 2)
            tokens, window = rate.split("/", 1)
            paths = tuple(p for p in prefixes.split("|") if p)
            if not name or not paths or int(tokens) < 1 or int(window) < 1:
                raise ValueError(item)
            rules.append(Rule(name, paths, int(tokens), int(window)))
        except ValueError as exc:
            raise ValueError(
                f"RATE_LIMITS item {item!r}: expected name:prefix|prefix:tokens/seconds "
                "(tokens and seconds at least 1)"
            ) from exc
    return tuple(rules)


def _cost(name: str) -> int:
    try:
        return int(settings.RATE_LIMIT_COSTS[name])
    except KeyError as exc:
        raise ValueError(f"RATE_LIMIT_COSTS has no {name!r} cost") from exc


def _ids(values: Iterable[str]) -> Iterable[int]:
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part.isascii() and part.isdigit() and len(part) <= 20:
                yield int(part)


def region_places(request: HttpRequest) -> int:
    """How many whole regions a hauling request names in `from` and `to` (at most 20)."""
    ids = _ids([*request.GET.getlist("from"), *request.GET.getlist("to")])
    regions = 0
    for count, place in enumerate(ids):
        if count >= MAX_PLACES:
            break
        regions += place in REGION_IDS
    return regions


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv" or "text/csv" in request.headers.get("Accept", "")


def request_cost(request: HttpRequest) -> int:
    """Tokens a request costs (`RATE_LIMIT_COSTS`): `request` for most; an appraisal (a
    POST) `appraisal`; a hauling answer `hauling`, plus `region` for each whole region among
    its places, plus `list` in list mode; any CSV `csv` more."""
    cost = _cost("request")
    if request.method == "POST" and request.path.startswith(APPRAISAL_PATHS):
        cost = _cost("appraisal")
    if request.path.startswith(HAULING_PATHS):
        cost = _cost("hauling") + _cost("region") * region_places(request)
        if request.GET.get("mode") == "list":
            cost += _cost("list")
    if wants_csv(request):
        cost += _cost("csv")
    return cost


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


def _spend(key: str, cost: int, ttl: int) -> int:
    """Add `cost` to the counter at `key` (one store call) and return it."""
    return get_store().incr(key, ttl=ttl, amount=cost)


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rule = self._rule_for(request.path)
        if rule is None:
            return self.get_response(request)
        cost = min(request_cost(request), rule.tokens)  # the heaviest still fits a window
        now = time.time()
        window = int(now // rule.window)
        key = f"ratelimit:{rule.name}:{client_key(request)}:{window}"
        try:
            used = _spend(key, cost, rule.window + 1)
        except Exception:
            log.warning("rate limit store unreachable: letting the request through", exc_info=True)
            return self.get_response(request)
        if used > rule.tokens:
            retry_after = max(1, math.ceil((window + 1) * rule.window - now))
            response = _refusal(
                request,
                429,
                f"Too many requests: one address may spend {rule.tokens} tokens every "
                f"{rule.window} s on {rule.name} pages and API calls together, and this "
                f"request costs {cost}. Try again in {retry_after} s.",
            )
            response["Retry-After"] = str(retry_after)
        else:
            response = self.get_response(request)
        response["X-RateLimit-Group"] = rule.name
        response["X-RateLimit-Limit"] = f"{rule.tokens}/{rule.window}s"
        response["X-RateLimit-Remaining"] = str(max(0, rule.tokens - used))
        response["X-RateLimit-Cost"] = str(cost)
        return response

    @staticmethod
    def _rule_for(path: str) -> Rule | None:
        if not settings.RATE_LIMIT_ENABLED:
            return None
        for rule in parse_rules(tuple(settings.RATE_LIMITS)):
            if rule.matches(path):
                return rule
        return None


class AdminLoginAttemptsBackend(AxesStandaloneBackend):
    """axes' lockout check, for logins made over the web only. `authenticate()` without a
    request (the test client's `login`, a shell) is no web login: it goes on to the next
    backend instead of failing."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def admin_lockout(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """The answer to an admin login while its client or user name is locked out."""
    cool_off = get_cool_off(request)
    seconds = max(60, int(cool_off.total_seconds())) if cool_off else 3600
    minutes = math.ceil(seconds / 60)
    response = _refusal(
        request,
        429,
        f"Too many failed admin logins from this address or for this user name: admin "
        f"logins are refused until {minutes} minutes have passed without another failed "
        "attempt.",
    )
    response["Retry-After"] = str(seconds)
    return response

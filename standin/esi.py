"""A local ESI stand-in: a real HTTP server that plays ESI's market routes, with faults on demand.

What it is for: the ESI client's and the snapshot code's tests, the ingest benchmark and
offline demos, all of which need ESI's real behaviour (pagination, ETag/304, Expires and
Last-Modified, the error limit and the 2025 token buckets) without the internet, plus the
failures a real client must survive (5xx bursts, 420, 429, hanging or truncated pages, the
cache turning over mid-fetch, duplicate orders, a changing page count, ESI down).

    with EsiStandIn() as esi:
        esi.generate(10000002, 5_000)
        esi.faults.fail_next = 2
        requests.get(f"{esi.base_url}/markets/10000002/orders/", params={"page": 1})

Routes (an optional `/latest`, `/legacy`, `/dev` or `/vN` prefix and the trailing slash are
accepted): `/markets/{region_id}/orders/`, `/markets/{region_id}/history/`,
`/markets/prices/`, `/markets/{region_id}/types/`, `/status/`, `/meta/status`, and the
character routes of `standin/characters.py` (`self.characters`); anything else is a 404 with
an ESI error body. Every answer carries the error-limit headers; the routes ESI
rate-limits (orders, status, meta) carry the `X-Ratelimit-*` headers of their group and the
bucket is enforced (429 with Retry-After when empty).

Order pages are serialised once when a book is set, so serving is cheap: a benchmark measures
the client, not this server. Books whose Expires has passed roll over to a new cache window
with the same Last-Modified and ETags (nothing changed, so a revalidation gets a 304); `touch`
starts a new cache generation.
"""

from __future__ import annotations

import hashlib
import math
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from operator import itemgetter
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import orjson
from requests.structures import CaseInsensitiveDict

from market import generator
from market.plex import PLEX_REGION_ID
from standin import characters as character_routes
from standin.serving import QuietServer, Served

DATA_DIR = Path(__file__).resolve().parent / "data"
JSON_TYPE = "application/json; charset=UTF-8"
STRUCTURE_ID_MIN = 1_000_000_000_000

# Rate-limit groups, as the OpenAPI spec's `x-rate-limit` declares them (checked by the
# contract test): route -> (group, max tokens, window).
RATE_LIMITS: dict[str, tuple[str, int, str]] = {
    "orders": ("market-order", 12_000, "15m"),
    "status": ("status", 600, "15m"),
    "meta_status": ("meta", 150, "15m"),
}
# ...and those of the character routes (standin/characters.py): every bucket enforced.
_BUCKETS = {**RATE_LIMITS, **character_routes.RATE_LIMITS}
# Seconds each route's answers stay fresh (the spec's x-cache-age).
CACHE_AGE = {
    "orders": 300,
    "types": 600,
    "prices": 3600,
    "status": 30,
    "meta_status": 60,
    "public_structures": 3600,
}

ERROR_LIMITED = (
    "This software has exceeded the error limit for ESI. If you are a user, please contact the "
    "maintainer of this software. If you are a developer/maintainer, please make a greater "
    "effort in the future to receive valid responses."
)
FAIL_MESSAGES = {
    500: "Internal server error",
    502: "Bad gateway",
    503: "The datasource tranquility is temporarily unavailable",
    504: "Timeout contacting tranquility",
}

_PREFIX = re.compile(r"^/(?:latest|legacy|dev|v\d+)(?=/)")
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/markets/(\d+)/orders$"), "orders"),
    (re.compile(r"^/markets/(\d+)/history$"), "history"),
    (re.compile(r"^/markets/(\d+)/types$"), "types"),
    (re.compile(r"^/markets/prices$"), "prices"),
    (re.compile(r"^/universe/structures$"), "public_structures"),
    (re.compile(r"^/markets/structures/(\d+)$"), "structure_orders"),
    (re.compile(r"^/status$"), "status"),
    (re.compile(r"^/meta/status$"), "meta_status"),
    *character_routes.ROUTES,  # characters, their corporations and structures
]


# Order ids of a book `add_structure_book` makes: past the generated and hidden ones.
STRUCTURE_BOOK_IDS = 500_000_000_000


@dataclass
class Faults:
    """What goes wrong, and when. Mutable: tests set attributes while the server runs."""

    page_latency: float = 0.0  # seconds slept before answering each orders page
    fail_next: int = 0  # the next N requests (any route) answer fail_status
    fail_status: int = 503
    error_limit_remain: int = 100  # at 0 every request answers 420 until the window resets
    error_limit_window: float = 60.0  # seconds from the window's first error to its reset
    rate_limit_after: int | None = None  # after this many more requests, one 429
    retry_after: int = 1  # the Retry-After of that 429
    hang_pages: set[int] = field(default_factory=set)  # orders pages that hang once
    hang_seconds: float = 5.0
    drift_pages: set[int] = field(default_factory=set)  # pages from the next cache generation
    drift_always: bool = False  # ...every time, not once
    duplicate_orders: bool = False  # the last page repeats an order_id of page 1
    truncate_pages: set[int] = field(default_factory=set)  # bodies cut mid-JSON, once
    truncate_always: bool = False
    x_pages_change: int | None = None  # pages >= 2 report this X-Pages
    unreachable: bool = False  # close every connection without answering
    # Token buckets: None means the spec's size per group; the window is 15 minutes.
    ratelimit_tokens: int | None = None
    ratelimit_window: float = 900.0


@dataclass
class RequestRecord:
    """One request the stand-in received. `status` is 0 until answered, and stays 0 for a
    connection dropped without an answer."""

    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict[str]
    time: float
    status: int = 0
    body: bytes = b""
    answered: float = 0.0  # time.time() when the answer was written (0: never)


@dataclass
class _Reply:
    status: int
    body: bytes | None = None  # None: no body (304)
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False


@dataclass
class _View:
    """One paginated listing: the orders, each page's JSON and ETag."""

    orders: list[dict[str, Any]]
    pages: list[bytes]
    etags: list[str]


@dataclass
class _Book:
    region_id: int
    generation: int
    last_modified: datetime
    expires: datetime
    views: dict[tuple[str, int | None], _View]
    best: dict[int, tuple[float | None, float | None]] | None = None


def http_date(moment: datetime) -> str:
    """RFC 7231 date, e.g. "Sat, 27 Jan 2018 11:05:00 GMT"."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _etag(*parts: object) -> str:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=20).hexdigest()
    return f'"{digest}"'


def _error(status: int, message: str, **headers: str) -> _Reply:
    return _Reply(status, orjson.dumps({"error": message}), dict(headers))


def _paginate(items: list[Any], page_size: int) -> list[bytes]:
    chunks = [items[i : i + page_size] for i in range(0, len(items), page_size)] or [[]]
    return [orjson.dumps(chunk) for chunk in chunks]


def _load_json(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def _downtime_before(moment: datetime) -> datetime:
    """The most recent 11:00 UTC daily downtime before `moment`."""
    mark = moment.replace(hour=11, minute=0, second=0, microsecond=0)
    return mark if mark <= moment else mark - timedelta(days=1)


class _Server(QuietServer):
    request_queue_size = 128


class EsiStandIn(Served):
    """The stand-in server. Start it (or use it as a context manager), then talk to base_url."""

    def __init__(
        self,
        *,
        page_size: int = 1000,
        expires_in: float = 300.0,
        seed: int = 0,
        sample_data: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
    ) -> None:
        self.page_size = page_size
        self.expires_in = expires_in
        self.seed = seed
        self.sample_data = sample_data
        self.host = host
        self.port = port
        self.log_requests = log_requests
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        self.max_logged: int | None = None  # keep only the newest this many (None: all)
        self.base_url = ""
        self.started_at = datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._books: dict[int, _Book] = {}
        # A structure's whole book (GET /markets/structures/{id}/), from the orders given for
        # its region: sells and bids of every range, as ESI's region book never shows them.
        self._structure_books: dict[int, _Book] = {}
        self._structures_of: dict[int, set[int]] = {}  # region -> its structures' books
        self._given: dict[int, list[dict[str, Any]]] = {}  # region -> the orders set, whole
        self._generation = 0
        self._history: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self._history_cache: dict[tuple[Any, ...], bytes] = {}
        self._prices: list[dict[str, Any]] | None = None
        # GET /universe/structures/ (None: the structures with orders in the served books)
        self.public_structures: list[int] | None = None
        self._prices_cache: tuple[int, bytes, datetime] | None = None
        self._error_window_start: float | None = None
        self._buckets: dict[str, tuple[float, int]] = {}  # group -> (window start, used)
        self.characters = character_routes.CharacterRoutes()  # /characters/... routes
        self._meta_status = orjson.dumps(_load_json(DATA_DIR / "meta" / "meta_status.json"))
        self._sample_prices = self._load_sample_prices() if sample_data else {}
        if sample_data:
            for region_id, orders in self._load_sample_orders().items():
                self.set_orders(region_id, orders)

    # --- Lifecycle ---------------------------------------------------------------------------

    server_class = _Server

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    def start(self) -> Self:
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        """Stop serving, and hang up on the clients still connected (their threads end)."""
        self._stopping.set()
        super().stop()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    # --- Data --------------------------------------------------------------------------------

    def set_orders(
        self,
        region_id: int,
        orders: list[dict[str, Any]],
        *,
        last_modified: datetime | None = None,
    ) -> None:
        """Replace a region's book: a new cache generation (Last-Modified, ETags, Expires).

        As ESI's region book, it leaves out structure sell orders and the structure bids of
        range "station" (`generator.region_book_rules`)."""
        ordered = sorted(generator.region_book_rules(orders), key=itemgetter("order_id"))
        with self._lock:
            self._generation += 1
            generation = self._generation
            previous = self._books.get(region_id)
        if last_modified is None:
            moment = datetime.now(UTC).replace(microsecond=0)
            if previous is not None and moment <= previous.last_modified:
                moment = previous.last_modified + timedelta(seconds=1)  # always a new one
        else:
            moment = last_modified.astimezone(UTC).replace(microsecond=0)
        book = _Book(
            region_id=region_id,
            generation=generation,
            last_modified=moment,
            expires=moment + timedelta(seconds=self.expires_in),
            views={},
        )
        book.views[("all", None)] = self._view(book, ("all", None), ordered)
        structure_books = self._structure_books_of(orders, moment)
        with self._lock:
            self._books[region_id] = book
            self._given[region_id] = orders
            for gone in self._structures_of.get(region_id, set()) - set(structure_books):
                self._structure_books.pop(gone, None)
            self._structure_books.update(structure_books)
            self._structures_of[region_id] = set(structure_books)

    def _structure_books_of(
        self, orders: list[dict[str, Any]], moment: datetime
    ) -> dict[int, _Book]:
        """Each structure's book from a region's orders, in ESI's structure-market shape (the
        region book's fields but `system_id`)."""
        at: dict[int, list[dict[str, Any]]] = {}
        for o in orders:
            if o["location_id"] >= STRUCTURE_ID_MIN:
                shown = {k: v for k, v in o.items() if k != "system_id"}
                at.setdefault(o["location_id"], []).append(shown)
        books = {}
        for structure_id, held in at.items():
            book = _Book(
                region_id=structure_id,
                generation=self._generation,
                last_modified=moment,
                expires=moment + timedelta(seconds=self.expires_in),
                views={},
            )
            ordered = sorted(held, key=itemgetter("order_id"))
            book.views[("all", None)] = self._view(book, ("all", None), ordered)
            books[structure_id] = book
        return books

    def structure_orders(self, structure_id: int) -> list[dict[str, Any]]:
        """A structure's whole book as served (sorted by order_id); [] for one never set."""
        with self._lock:
            book = self._structure_books.get(structure_id)
        return list(book.views[("all", None)].orders) if book else []

    def generate(self, region_id: int, n_orders: int, *, seed: int | None = None) -> None:
        """Replace a region's book with `n_orders` generated orders (market/generator.py),
        and its structures' books with them and the orders only those books show."""
        seed = self.seed if seed is None else seed
        orders = generator.generate_orders(region_id, n_orders, seed=seed)
        hidden = generator.hidden_structure_orders(region_id, n_orders, seed=seed)
        self.set_orders(region_id, orders + hidden)

    def add_structure_book(
        self, region_id: int, structure_id: int, system_id: int, n_orders: int, *, seed: int = 0
    ) -> None:
        """Give a structure of the region a whole book of `n_orders` generated orders (a
        Perimeter-size market: the region's generated orders moved there), served at
        `/markets/structures/{id}/`; its ranged bids show in the region book, as ESI's do."""
        moved = [
            {
                **o,
                "order_id": o["order_id"] + STRUCTURE_BOOK_IDS,
                "location_id": structure_id,
                "system_id": system_id,
                # a quarter of the bids reach the whole region; the rest only the structure
                "range": "region" if not o["is_buy_order"] or o["order_id"] % 4 == 0 else "station",
            }
            for o in generator.generate_orders(region_id, n_orders, seed=seed + 1)
        ]
        with self._lock:
            given = list(self._given.get(region_id, []))
        self.set_orders(region_id, given + moved)

    def touch(self, region_id: int) -> None:
        """A new ESI cache generation with the same orders: new Last-Modified, ETags, Expires."""
        with self._lock:
            given = self._given.get(region_id)
        self.set_orders(region_id, given if given is not None else [])

    def orders(self, region_id: int) -> list[dict[str, Any]]:
        """The region's book as served (sorted by order_id); [] for a region never set."""
        with self._lock:
            book = self._books.get(region_id)
        return list(book.views[("all", None)].orders) if book else []

    def x_pages(self, region_id: int) -> int:
        """How many orders pages the region's book has (at least 1)."""
        return max(1, math.ceil(len(self.orders(region_id)) / self.page_size))

    def set_history(self, region_id: int, type_id: int, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._history[(region_id, type_id)] = list(rows)

    def set_prices(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._prices = list(rows)
            self._prices_cache = None

    def _view(
        self, book: _Book, key: tuple[str, int | None], orders: list[dict[str, Any]]
    ) -> _View:
        pages = _paginate(orders, self.page_size)
        etags = [
            _etag(book.region_id, book.generation, book.last_modified, key, i)
            for i in range(len(pages))
        ]
        return _View(orders, pages, etags)

    def _load_sample_orders(self) -> dict[int, list[dict[str, Any]]]:
        books: dict[int, list[dict[str, Any]]] = {}
        for path in sorted((DATA_DIR / "markets_orders").glob("markets_*_orders_*.json")):
            region_id = int(path.name.split("_")[1])
            books.setdefault(region_id, []).extend(_load_json(path))
        return books

    def _load_sample_prices(self) -> dict[int, dict[str, Any]]:
        prices: dict[int, dict[str, Any]] = {}
        for path in sorted((DATA_DIR / "markets_prices").glob("*.json")):
            for row in _load_json(path):
                prices.setdefault(int(row["type_id"]), row)
        return prices

    # --- Request handling --------------------------------------------------------------------

    def _record(
        self, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes = b""
    ) -> RequestRecord:
        parts = urlsplit(target)
        record = RequestRecord(
            method=method,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=CaseInsensitiveDict(dict(headers)),
            time=time.time(),
            body=body,
        )
        with self._lock:
            self.requests.append(record)
            if self.max_logged is not None and len(self.requests) > self.max_logged:
                del self.requests[: len(self.requests) - self.max_logged]
        return record

    def _answer(self, record: RequestRecord) -> _Reply:
        route, match = _route(record.path)
        if record.method != "GET" and route not in character_routes.POST_ROUTES:
            reply = _error(405, "Method not allowed")
        else:
            try:
                reply = self._gate(route) or self._dispatch(route, match, record)
            except _Refused as refused:
                reply = refused.reply
        self._finish(reply, route)
        return reply

    def _gate(self, route: str | None) -> _Reply | None:
        """The answers that come before the route: 420, 429 and injected 5xx."""
        now = time.monotonic()
        with self._lock:
            faults = self.faults
            self._tick_error_window(now)
            if faults.error_limit_remain <= 0:
                if self._error_window_start is None:
                    self._error_window_start = now
                return _error(420, ERROR_LIMITED)
            if faults.rate_limit_after is not None:
                if faults.rate_limit_after <= 0:
                    faults.rate_limit_after = None
                    return _error(
                        429, "Too many requests", **{"Retry-After": str(faults.retry_after)}
                    )
                faults.rate_limit_after -= 1
            if route in _BUCKETS:
                group, limit, _ = _BUCKETS[route]
                start, used = self._bucket(group, now)
                if used >= (faults.ratelimit_tokens or limit):
                    wait = max(1, math.ceil(start + faults.ratelimit_window - now))
                    return _error(429, "Too many requests", **{"Retry-After": str(wait)})
            if faults.fail_next > 0:
                faults.fail_next -= 1
                status = faults.fail_status
                return _error(status, FAIL_MESSAGES.get(status, "Service unavailable"))
        return None

    def _dispatch(
        self, route: str | None, match: re.Match[str] | None, record: RequestRecord
    ) -> _Reply:
        query, headers = record.query, record.headers
        region_id = int(match.group(1)) if match and match.groups() else 0
        if route in character_routes.ROUTE_NAMES:
            found = self.characters.answer(
                route,
                region_id,
                method=record.method,
                query=query,
                headers=headers,
                body=record.body,
            )
            return _Reply(found.status, found.body, found.headers)
        if route == "orders":
            return self._orders(region_id, query, headers)
        if route == "history":
            return self._history_route(region_id, query, headers)
        if route == "types":
            return self._types(region_id, query, headers)
        if route == "prices":
            return self._prices_route(headers)
        if route == "public_structures":
            return self._public_structures(query, headers)
        if route == "structure_orders":
            return self._structure_orders(region_id, query, headers)
        if route == "status":
            return self._status(headers)
        if route == "meta_status":
            return self._fresh_or_304(
                headers, self._meta_status, self.started_at, None, CACHE_AGE["meta_status"]
            )
        return _error(404, "Not found")

    def _finish(self, reply: _Reply, route: str | None) -> None:
        """Charge the error limit and the token bucket, and add the headers every answer has."""
        now = time.monotonic()
        with self._lock:
            faults = self.faults
            if reply.status >= 400 and faults.error_limit_remain > 0:
                if self._error_window_start is None:
                    self._error_window_start = now
                faults.error_limit_remain -= 1
            window = faults.error_limit_window
            if self._error_window_start is None:
                reset = math.ceil(window)
            else:
                reset = max(0, math.ceil(self._error_window_start + window - now))
            reply.headers["X-ESI-Error-Limit-Remain"] = str(max(0, faults.error_limit_remain))
            reply.headers["X-ESI-Error-Limit-Reset"] = str(reset)
            if route in _BUCKETS:
                reply.headers.update(self._charge(route, reply.status, now))
        reply.headers["X-Esi-Request-Id"] = str(uuid.uuid4())
        if reply.body is not None:
            reply.headers.setdefault("Content-Type", JSON_TYPE)

    def _tick_error_window(self, now: float) -> None:
        start = self._error_window_start
        if start is not None and now >= start + self.faults.error_limit_window:
            self._error_window_start = None
            self.faults.error_limit_remain = 100

    def _bucket(self, group: str, now: float) -> tuple[float, int]:
        start, used = self._buckets.get(group, (now, 0))
        if now >= start + self.faults.ratelimit_window:
            start, used = now, 0
        self._buckets[group] = (start, used)
        return start, used

    def _charge(self, route: str, status: int, now: float) -> dict[str, str]:
        group, spec_limit, _ = _BUCKETS[route]
        limit = self.faults.ratelimit_tokens or spec_limit
        cost = 2 if status < 300 else 1 if status < 400 else 5 if status < 500 else 0
        start, used = self._bucket(group, now)
        used = min(limit, used + cost)
        self._buckets[group] = (start, used)
        window = self.faults.ratelimit_window
        label = f"{int(window // 60)}m" if window % 60 == 0 else f"{window:g}s"
        return {
            "X-Ratelimit-Group": group,
            "X-Ratelimit-Limit": f"{limit}/{label}",
            "X-Ratelimit-Remaining": str(limit - used),
            "X-Ratelimit-Used": str(cost),
        }

    # --- Routes ------------------------------------------------------------------------------

    def _book(self, region_id: int) -> _Book | None:
        with self._lock:
            book = self._books.get(region_id)
        if book is None and _is_market_region(region_id):
            self.set_orders(region_id, [])
            with self._lock:
                book = self._books.get(region_id)
        if book is not None:
            self._roll_expiry(book)
        return book

    def _roll_expiry(self, book: _Book) -> None:
        """Past Expires, ESI serves the same data for another cache window."""
        now = datetime.now(UTC)
        if now >= book.expires:
            windows = math.floor((now - book.expires).total_seconds() / self.expires_in) + 1
            with self._lock:
                book.expires += timedelta(seconds=windows * self.expires_in)

    def _orders_view(self, book: _Book, order_type: str, type_id: int | None) -> _View:
        key = (order_type, type_id)
        view = book.views.get(key)
        if view is None:
            everything = book.views[("all", None)].orders
            wanted = [
                o
                for o in everything
                if (type_id is None or o["type_id"] == type_id)
                and (order_type == "all" or o["is_buy_order"] == (order_type == "buy"))
            ]
            view = self._view(book, key, wanted)
            with self._lock:
                if len(book.views) > 256:
                    book.views = {("all", None): book.views[("all", None)]}
                book.views[key] = view
        return view

    def _orders(
        self, region_id: int, query: dict[str, str], headers: CaseInsensitiveDict[str]
    ) -> _Reply:
        book = self._book(region_id)
        if book is None:
            return _error(404, "Region not found")
        order_type = query.get("order_type", "all")
        if order_type not in ("all", "buy", "sell"):
            return _error(400, f"Invalid order_type: {order_type!r} (buy, sell or all)")
        page = _page_param(query)
        type_id = _int_param(query, "type_id")
        view = self._orders_view(book, order_type, type_id)
        if page > len(view.pages):
            return _error(404, "Requested page does not exist!")
        return self._orders_page(book, view, page, headers)

    def _orders_page(
        self, book: _Book, view: _View, page: int, headers: CaseInsensitiveDict[str]
    ) -> _Reply:
        faults = self.faults
        with self._lock:
            hang = page in faults.hang_pages
            faults.hang_pages.discard(page)
            latency = faults.page_latency
            hang_seconds = faults.hang_seconds
        if hang:
            self._stopping.wait(hang_seconds)
        if latency > 0:
            self._stopping.wait(latency)
        body, etag = view.pages[page - 1], view.etags[page - 1]
        last_modified = book.last_modified
        n_pages = len(view.pages)
        with self._lock:
            drift = page in faults.drift_pages
            if drift and not faults.drift_always:
                faults.drift_pages.discard(page)
            duplicate = faults.duplicate_orders and page == n_pages and bool(view.orders)
            x_pages = n_pages
            if faults.x_pages_change is not None and page >= 2:
                x_pages = faults.x_pages_change
        expires = book.expires
        if drift:
            last_modified += timedelta(seconds=max(1.0, self.expires_in))
            expires = last_modified + timedelta(seconds=self.expires_in)
            etag = _etag(etag, "drift", last_modified)
        if duplicate:
            start = (page - 1) * self.page_size
            body = orjson.dumps([*view.orders[start : start + self.page_size], view.orders[0]])
            etag = _etag(etag, "duplicate")
        extra = {"X-Pages": str(x_pages)}
        if headers.get("If-None-Match") == etag:
            return _not_modified(etag, last_modified, expires, extra)
        with self._lock:
            truncate = page in faults.truncate_pages
            if truncate and not faults.truncate_always:
                faults.truncate_pages.discard(page)
        if truncate:
            body = body[: max(1, len(body) // 2)]
        return _Reply(200, body, _cache_headers(etag, last_modified, expires) | extra)

    def _types(
        self, region_id: int, query: dict[str, str], headers: CaseInsensitiveDict[str]
    ) -> _Reply:
        book = self._book(region_id)
        if book is None:
            return _error(404, "Region not found")
        page = _page_param(query)
        type_ids = sorted({o["type_id"] for o in book.views[("all", None)].orders})
        pages = _paginate(type_ids, self.page_size)
        if page > len(pages):
            return _error(404, "Requested page does not exist!")
        reply = self._fresh_or_304(
            headers, pages[page - 1], book.last_modified, None, CACHE_AGE["types"]
        )
        reply.headers["X-Pages"] = str(len(pages))
        return reply

    def _history_route(
        self, region_id: int, query: dict[str, str], headers: CaseInsensitiveDict[str]
    ) -> _Reply:
        type_id = _int_param(query, "type_id")
        if type_id is None:
            return _error(400, "Missing required parameter: type_id")
        with self._lock:
            rows = self._history.get((region_id, type_id))
        book = self._book(region_id)
        if book is None and rows is None:
            return _error(404, "Region not found")
        now = datetime.now(UTC)
        last_modified = _downtime_before(now) + timedelta(minutes=5)
        if last_modified > now:
            last_modified -= timedelta(days=1)
        expires = last_modified + timedelta(days=1)
        if rows is not None:
            body = orjson.dumps(rows)
        else:
            generated = self._generated_history(book, region_id, type_id, last_modified.date())
            if generated is None:
                return _error(404, "Type not found")
            body = generated
        return self._fresh_or_304(headers, body, last_modified, expires, None)

    def _generated_history(
        self, book: _Book | None, region_id: int, type_id: int, today: date
    ) -> bytes | None:
        if not _is_market_type(type_id):
            return None
        generation = book.generation if book else 0
        key = (region_id, type_id, generation, today)
        with self._lock:
            cached = self._history_cache.get(key)
        if cached is not None:
            return cached
        mid = None
        if book is not None:
            bid, ask = self._best(book).get(type_id, (None, None))
            if bid is not None and ask is not None and bid < ask:
                mid = (bid + ask) / 2
            else:
                mid = ask or bid
        rows = generator.generate_history(region_id, type_id, seed=self.seed, today=today, mid=mid)
        body = orjson.dumps(rows)
        with self._lock:
            if len(self._history_cache) > 4096:
                self._history_cache.clear()
            self._history_cache[key] = body
        return body

    def _best(self, book: _Book) -> dict[int, tuple[float | None, float | None]]:
        if book.best is None:
            book.best = generator.best_prices(book.views[("all", None)].orders)
        return book.best

    def _prices_route(self, headers: CaseInsensitiveDict[str]) -> _Reply:
        with self._lock:
            version = sum(b.generation for b in self._books.values()) + len(self._books)
            cached = self._prices_cache
            explicit = self._prices
        if cached is None or cached[0] != version:
            rows = explicit if explicit is not None else self._derived_prices()
            cached = (version, orjson.dumps(rows), datetime.now(UTC).replace(microsecond=0))
            with self._lock:
                self._prices_cache = cached
        _, body, last_modified = cached
        return self._fresh_or_304(headers, body, last_modified, None, CACHE_AGE["prices"])

    def _structure_orders(
        self, structure_id: int, query: dict[str, str], headers: CaseInsensitiveDict[str]
    ) -> _Reply:
        """GET /markets/structures/{id}/: a character with docking access reads its whole
        book, `page_size` orders a page, cached as the region books are (300 s)."""
        refused = self.characters.structure_market_refusal(headers, structure_id)
        if refused is not None:
            return _Reply(refused.status, refused.body or b"", refused.headers)
        with self._lock:
            book = self._structure_books.get(structure_id)
        if book is None:
            return _error(404, "Structure not found")
        view = book.views[("all", None)]
        page = _page_param(query)
        if page > len(view.pages):
            return _error(404, "Requested page does not exist!")
        return self._orders_page(book, view, page, headers)

    def _public_structures(
        self, query: Mapping[str, str], headers: CaseInsensitiveDict[str]
    ) -> _Reply:
        """ESI's public list of structure ids, `filter` market or manufacturing_basic: here
        the structures with orders in the served books, or `public_structures` when set."""
        if query.get("filter", "market") not in ("market", "manufacturing_basic"):
            return _error(400, "Invalid filter")
        with self._lock:
            ids = self.public_structures
            if ids is None:
                ids = sorted(
                    {
                        o["location_id"]
                        for book in self._books.values()
                        for o in book.views[("all", None)].orders
                        if o["location_id"] >= STRUCTURE_ID_MIN
                    }
                )
        body = orjson.dumps(ids)
        return self._fresh_or_304(
            headers, body, self.started_at, None, CACHE_AGE["public_structures"]
        )

    def _derived_prices(self) -> list[dict[str, Any]]:
        """average_price: the mean over regions of each type's mid (best bid and ask);
        adjusted_price: a stable per-type fraction of it. Real sample rows win."""
        with self._lock:
            books = list(self._books.values())
        mids: dict[int, list[float]] = {}
        for book in books:
            for type_id, (bid, ask) in self._best(book).items():
                if bid is not None and ask is not None and bid < ask:
                    mids.setdefault(type_id, []).append((bid + ask) / 2)
                elif ask is not None or bid is not None:
                    mids.setdefault(type_id, []).append(float(ask or bid or 0.0))
        rows: dict[int, dict[str, Any]] = {}
        for type_id, values in mids.items():
            average = round(sum(values) / len(values), 2)
            fraction = 0.8 + 0.25 * (int(_etag(type_id)[1:9], 16) / 0xFFFFFFFF)
            rows[type_id] = {
                "adjusted_price": average * fraction,
                "average_price": average,
                "type_id": type_id,
            }
        rows.update(self._sample_prices)
        return [rows[t] for t in sorted(rows)]

    def _status(self, headers: CaseInsensitiveDict[str]) -> _Reply:
        now = datetime.now(UTC)
        started = _downtime_before(now) + timedelta(minutes=2, seconds=27)
        if started > now:
            started -= timedelta(days=1)
        body = orjson.dumps(
            {
                "players": 23_000,
                "server_version": "3041542",
                "start_time": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        moment = now.replace(microsecond=0)
        return self._fresh_or_304(headers, body, moment, None, CACHE_AGE["status"])

    def _fresh_or_304(
        self,
        headers: CaseInsensitiveDict[str],
        body: bytes,
        last_modified: datetime,
        expires: datetime | None,
        max_age: float | None,
    ) -> _Reply:
        """A 200 with cache headers and a content ETag, or a 304 if If-None-Match matches."""
        etag = _etag(hashlib.blake2b(body, digest_size=20).hexdigest())
        if expires is None:
            expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=max_age or 0)
        if headers.get("If-None-Match") == etag:
            return _not_modified(etag, last_modified, expires, {})
        return _Reply(200, body, _cache_headers(etag, last_modified, expires))


def _cache_headers(etag: str, last_modified: datetime, expires: datetime) -> dict[str, str]:
    return {
        "Cache-Control": "public",
        "ETag": etag,
        "Expires": http_date(expires),
        "Last-Modified": http_date(last_modified),
    }


def _not_modified(
    etag: str, last_modified: datetime, expires: datetime, extra: dict[str, str]
) -> _Reply:
    return _Reply(304, None, _cache_headers(etag, last_modified, expires) | extra)


class _Refused(Exception):
    """A bad request: answer `reply` instead."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _int_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _Refused(_error(400, f"{name} must be an integer, not {raw!r}")) from None


def _page_param(query: dict[str, str]) -> int:
    page = _int_param(query, "page")
    if page is None:
        return 1
    if page < 1:
        raise _Refused(_error(400, "page must be 1 or more"))
    return page


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error Limited" if status == 420 else "Unknown"


def _route(path: str) -> tuple[str | None, re.Match[str] | None]:
    path = _PREFIX.sub("", path).rstrip("/") or "/"
    for pattern, name in _ROUTES:
        match = pattern.match(path)
        if match:
            return name, match
    return None, None


def _is_market_region(region_id: int) -> bool:
    """Known space, or the global PLEX market (19000001)."""
    try:
        return generator.is_market_region(region_id)
    except (OSError, ImportError, RuntimeError):  # no SDE installed: trust the id ranges
        return 10_000_001 <= region_id < 11_000_000 or region_id == PLEX_REGION_ID


def _is_market_type(type_id: int) -> bool:
    try:
        return type_id in generator.market_type_ids()
    except (OSError, ImportError, RuntimeError):
        return 0 < type_id < 100_000_000


def _make_handler(standin: EsiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ESI-stand-in"
        timeout = 30  # an idle keep-alive connection is closed after this long

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with standin._lock:
                standin._connections.add(self.connection)

        def finish(self) -> None:
            with standin._lock:
                standin._connections.discard(self.connection)
            with suppress(OSError):
                super().finish()

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            record = standin._record(self.command, self.path, self.headers.items(), body)
            if standin.faults.unreachable:
                self.close_connection = True
                with suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            reply = standin._answer(record)
            record.status = reply.status
            try:
                self._write(reply)
            except OSError:
                self.close_connection = True
            record.answered = time.time()

        def _write(self, reply: _Reply) -> None:
            """Status line, headers and body in one write (no Nagle/delayed-ACK stall)."""
            self.log_request(reply.status)
            lines = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}"]
            lines.append(f"Server: {self.server_version}")
            lines.append(f"Date: {self.date_time_string()}")
            lines.extend(f"{name}: {value}" for name, value in reply.headers.items())
            body = reply.body if reply.body is not None and self.command != "HEAD" else b""
            if reply.body is not None:
                lines.append(f"Content-Length: {len(reply.body)}")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
            self.wfile.write(head + body)

        def log_message(self, format: str, *args: Any) -> None:
            if standin.log_requests:
                super().log_message(format, *args)

    return Handler

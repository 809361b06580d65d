"""Read pages rendered once per state of what they show, and served from memory with an ETag.

A page view wrapped in `cached_page(*parts)` is answered, for an anonymous GET or HEAD without
a query string or a pending message, from the bytes this process rendered for the same key:

    (the view's name and URL arguments, the template version, each part's fingerprint)

A part is a name an app registers with `register(name, fingerprint)`: a function returning a
small hashable value that changes whenever what the page shows of that app changes (the SDE
file, each tracked market's snapshot generation, source, staleness and displayed age). A part
that is not registered, or whose fingerprint raises (the store unreachable), makes the page
render as usual, uncached: a page is never served from a key that may be wrong.

A few words on a page change with the clock, not with what it shows: a snapshot's age ("42 s
old"). Such a word is a live fragment: an app registers it (`register_live(name, value)`),
and while a cached page renders, `live_mark(name, arg)` writes a mark in its place, which each
answer replaces with the value of the moment (`value(arg)`). The kept page is split at its
marks once, so an answer costs one join.

The ETag is a digest of the key and of the live values an answer carries, so every worker
gives the same one for the same page, and a request whose If-None-Match names it is answered
304 without touching the body. A new
snapshot (or SDE, or deploy with other templates) makes a new key, hence a new ETag and a new
render. Logged-in users, requests with a query string the page reads (the login link
repeats it) and requests with a message to show always get a fresh render: their pages carry
the user's characters, CSRF tokens or one-off messages, which are never cached nor served to
another. A query parameter the page does not read (`cached_page(reads=...)` names those it
does) is answered 301 to the page without it: a `?nocache=17` never costs a render.

`fragment(key, render)` keeps smaller pieces the same way, by a key the caller makes from
what the piece shows (profit/row_html.py's rows, profit/templatetags/kept.py's `{% kept %}`).

A page one process rendered is also offered to the others through the shared store (key
`page:<digest of the key>`, PAGE_SHARED_TTL seconds, with its live marks), so a deployment
renders each page once, not once per process; a store that cannot answer leaves each
process rendering its own. `kept_answer` keeps the JSON API's answers that are the same for
everyone (the searches, a history while ESI's answer is fresh) the same way, per process.

config imports no app: the apps register their parts (sde/views.py, market/views.py,
profit/views.py).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar, cast

import orjson
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
    HttpResponsePermanentRedirect,
    QueryDict,
)
from django.utils.cache import patch_vary_headers

from store import get_store

# Bumped when what a cached page shows changes with nothing in the project's files (a
# library's output, say); a change of templates or code makes new keys by itself.
VERSION = "1"
# Rendered pages kept per process (an item page is about 60 kB).
MAX_BYTES = 64 * 2**20
FRAGMENT_BYTES = 32 * 2**20  # a profit row is 2-4 kB
ANSWER_BYTES = 16 * 2**20  # an item search's answer is about 2 kB
# Pages are also offered to the other processes through the shared store for
# settings.PAGE_SHARED_TTL seconds: a page is rendered once per deployment, not once per
# process (an item page costs 20-30 ms to render).
SHARED_MAX_BYTES = 1 * 2**20
# Accept headers that the API answers with compact JSON (anything else: its browsable page).
PLAIN_JSON = frozenset({"", "*/*", "application/json"})
CACHE_CONTROL = "no-cache"  # a browser may keep the page, and asks with If-None-Match

log = logging.getLogger(__name__)
Fingerprint = Callable[[], Hashable]
T = TypeVar("T")
_parts: dict[str, Fingerprint] = {}
_live: dict[str, Callable[[str], str]] = {}
_marking: ContextVar[bool] = ContextVar("page_cache_marking", default=False)
# A live fragment's mark: control characters no template writes, and that escaping keeps.
MARK = re.compile(rb"\x1e(\w+):([\w.-]*)\x1f")


def register(name: str, fingerprint: Fingerprint) -> None:
    """Name what a page can depend on (an app calls this when it is imported)."""
    _parts[name] = fingerprint


def register_live(name: str, value: Callable[[str], str]) -> None:
    """Name a live fragment: `value(arg)` is its text at the moment of an answer."""
    _live[name] = value


def live_mark(name: str, arg: str) -> str | None:
    """The mark to write in place of a live fragment while a cached page renders; None when
    the page renders for one answer only (write the text itself)."""
    if not _marking.get() or name not in _live:
        return None
    return f"\x1e{name}:{arg}\x1f"


# A kept page: its content type, then its bytes split at the marks (text, (name, arg), text,
# ..., text: texts at even places).
Piece = bytes | tuple[str, str]


def split_marks(body: bytes) -> list[Piece]:
    pieces: list[Piece] = []
    at = 0
    for match in MARK.finditer(body):
        pieces += [body[at : match.start()], (match[1].decode(), match[2].decode())]
        at = match.end()
    pieces.append(body[at:])
    return pieces


def live_values(pieces: list[Piece]) -> list[bytes]:
    """Each mark's text now, in the order of the marks (each distinct mark asked once)."""
    now: dict[tuple[str, str], bytes] = {}
    values = []
    for mark in pieces[1::2]:
        assert isinstance(mark, tuple)
        if mark not in now:
            now[mark] = _live[mark[0]](mark[1]).encode()
        values.append(now[mark])
    return values


def joined(pieces: list[Piece], values: list[bytes]) -> bytes:
    if len(pieces) == 1:
        return pieces[0]  # type: ignore[return-value]
    texts = pieces[0::2]
    out: list[bytes] = [texts[0]]  # type: ignore[list-item]
    for value, text in zip(values, texts[1:], strict=True):
        out += [value, text]  # type: ignore[list-item]
    return b"".join(out)


class Kept:
    """Least recently used values (rendered pages, fragments), bounded by their total size in
    bytes as the caller counts it (thread-safe)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._values: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            self._values.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._values.pop(key, None)
            self._size += size - (old[1] if old is not None else 0)
            self._values[key] = (value, size)
            while self._size > self.max_bytes:
                _, (_, dropped) = self._values.popitem(last=False)
                self._size -= dropped

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._size = 0


kept = Kept(MAX_BYTES)
# Rendered fragments ({% kept %}: profit/templatetags/kept.py), kept apart from the pages.
fragments = Kept(FRAGMENT_BYTES)
# The JSON API's kept answers (`kept_answer`).
answers = Kept(ANSWER_BYTES)


def digest(value: Any) -> bytes:
    """A fragment's key part for what it shows: a digest of `value`'s repr (equal plain data,
    dicts built in the same order, gives equal text; 1.6x faster than sorted JSON on a row;
    anything else only misses)."""
    return hashlib.blake2b(repr(value).encode(), digest_size=16).digest()


def fragment(key: Hashable, render: Callable[[], str]) -> str:
    """The text `render()` gave for `key` in this process (rendered now if not kept). The key
    is the caller's; the template version is added, so a deploy renders afresh."""
    if settings.DEBUG:  # templates may change under a running process
        return render()
    full = (template_version(), key)
    text = fragments.get(full)
    if text is None:
        text = render()
        fragments.put(full, text, len(text))
    return text


def shared(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`'s value for `key`, computed once per deployment: taken from the shared
    store when another process offered it in the last PAGE_SHARED_TTL seconds, else computed
    here and offered. For plain JSON data (dicts, lists, text, numbers) whose key names
    everything it depends on; the template version is added. A store that cannot answer, or
    a value JSON cannot hold, leaves each process computing its own."""
    if settings.PAGE_SHARED_TTL <= 0 or settings.DEBUG:
        return compute()
    name = _shared_key((template_version(), key), "shared")
    stored = _offered(name)
    if stored is not None:
        return cast(T, orjson.loads(stored))
    value = compute()
    with suppress(TypeError):  # not plain JSON data: this process keeps its own
        _offer(name, orjson.dumps(value))
    return value


def forget(setting: str = "", **_: Any) -> None:
    """Drop every kept page (on a settings change: tests; a page may read any setting)."""
    kept.clear()
    fragments.clear()
    answers.clear()
    if setting in ("TEMPLATES", "INSTALLED_APPS", "STATIC_ROOT"):
        template_version.cache_clear()


# The project's packages left out of the code digest: they never render a page.
NOT_RENDERING = frozenset({"tests", "benchmarks", "standin"})


def code_files() -> list[Path]:
    """The project's Python files that can change what a page shows."""
    packages = [
        d
        for d in sorted(Path(settings.BASE_DIR).iterdir())
        if (d / "__init__.py").is_file() and d.name not in NOT_RENDERING
    ]
    return [f for package in packages for f in sorted(package.rglob("*.py"))]


@functools.cache
def template_version() -> str:
    """A digest of every template file, the static files' manifest and the project's code,
    read once per process: a deploy with other templates or code gives other ETags, so a
    browser never keeps an old page, and other keys, so no process takes an old page from
    the shared store."""
    digest = hashlib.blake2b(VERSION.encode(), digest_size=8)
    engines: list[dict[str, Any]] = list(settings.TEMPLATES)
    folders = [Path(d) for engine in engines for d in engine.get("DIRS", [])]
    from django.apps import apps  # the app registry is ready once a view runs

    folders += [Path(app.path) / "templates" for app in apps.get_app_configs()]
    manifest = Path(str(getattr(settings, "STATIC_ROOT", "") or "")) / "staticfiles.json"
    files = [f for folder in folders if folder.is_dir() for f in sorted(folder.rglob("*.html"))]
    for path in [*files, *code_files(), manifest]:
        if path.is_file():
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cacheable(request: HttpRequest, query: bool = False) -> bool:
    """An anonymous GET or HEAD without a message waiting to be shown, and without a query
    string unless the page is keyed by it (`query`)."""
    if request.method not in ("GET", "HEAD"):
        return False
    if request.META.get("QUERY_STRING") and not query:
        return False
    user = getattr(request, "user", None)
    if user is None or user.is_authenticated:
        return False
    return len(get_messages(request)) == 0  # counting does not consume them


def page_key(name: str, kwargs: dict[str, Any], parts: tuple[str, ...]) -> Hashable | None:
    """The page's key, or None when a part is unknown or cannot say its state."""
    if not all(part in _parts for part in parts):
        return None
    try:
        states = tuple(_parts[part]() for part in parts)
    except Exception:  # the store is unreachable, the SDE file is gone: render as usual
        return None
    return (name, tuple(sorted(kwargs.items(), key=str)), template_version(), states)


def etag_of(key: Hashable, values: list[bytes] | None = None) -> str:
    digest = hashlib.blake2b(repr(key).encode(), digest_size=12)
    for value in values or ():
        digest.update(b"\x1f" + value)
    return '"' + digest.hexdigest() + '"'


def _matches(request: HttpRequest, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


def _finish(response: HttpResponseBase, etag: str) -> HttpResponseBase:
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, ("Cookie",))
    return response


def _keepable(request: HttpRequest, response: HttpResponse) -> bool:
    """Only a plain 200 that is the same for everyone is kept: no cookie set, no CSRF token
    asked for (it would be another client's), no session changed; a 404 renders each time."""
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not (session is not None and session.modified)
    )


def _shared_key(key: Hashable, kind: str = "page") -> str:
    return f"{kind}:" + hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()


def _offered(name: str) -> bytes | None:
    """What another process offered under `name` in the shared store; None when nothing
    is, sharing is off (PAGE_SHARED_TTL 0) or the store cannot say (logged)."""
    if settings.PAGE_SHARED_TTL <= 0:
        return None
    try:
        return get_store().get(name)
    except Exception:  # the store unreachable: this process does the work itself
        log.warning("page cache: the shared store is unreachable", exc_info=True)
        return None


def _offer(name: str, value: bytes) -> None:
    """Offer `value` to the other processes for PAGE_SHARED_TTL seconds (new states make new
    names; old values go out of the store by themselves)."""
    ttl = settings.PAGE_SHARED_TTL
    if ttl <= 0:
        return
    try:
        get_store().set(name, value, ttl=ttl)
    except Exception:
        log.warning("page cache: the shared store is unreachable", exc_info=True)


def _shared_page(key: Hashable) -> tuple[bytes, str] | None:
    """The page another process rendered for `key` (its bytes with their marks, its content
    type), from the shared store; None when there is none or the store cannot say."""
    stored = _offered(_shared_key(key))
    if stored is None:
        return None
    content_type, _, body = stored.partition(b"\n")
    return body, content_type.decode()


def _share_page(key: Hashable, body: bytes, content_type: str) -> None:
    """Offer a rendered page to the other processes (not one past SHARED_MAX_BYTES)."""
    if len(body) <= SHARED_MAX_BYTES:
        _offer(_shared_key(key), content_type.encode() + b"\n" + body)


def canonical(request: HttpRequest, reads: tuple[str, ...]) -> HttpResponseBase | None:
    """A 301 to the same page without the query parameters the view does not read (a
    tracking tag, or a parameter added to defeat the cache: each such request would render
    the page anew), else None."""
    if not request.META.get("QUERY_STRING") or request.method not in ("GET", "HEAD"):
        return None
    if all(name in reads for name in request.GET):
        return None
    kept_params = QueryDict(mutable=True)
    for name in reads:
        if name in request.GET:
            kept_params.setlist(name, request.GET.getlist(name))
    target = request.path + (f"?{kept_params.urlencode()}" if kept_params else "")
    return HttpResponsePermanentRedirect(target)


def cached_page(
    *parts: str,
    reads: tuple[str, ...] = (),
    query: bool = False,
    cookies: tuple[str, ...] = (),
    scope: Callable[[HttpRequest], Hashable] | None = None,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., Any]]:
    """Serve the view's page from memory per key (see the module's docstring). `reads`: the
    query parameters the view reads; any other sends the browser to the page without it
    (`canonical`). `query`: the page is an answer to its query string (a form's search),
    kept per query and per the values of the `cookies` it reads, every parameter read.
    `scope(request)`: a key part of this request's own (the state of what this request
    reads of a part that is otherwise too broad); when it raises, the page renders uncached."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponseBase]:
        name = f"{view.__module__}.{view.__qualname__}"

        @functools.wraps(view)
        def serve(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
            redirect = None if query else canonical(request, reads)
            if redirect is not None:
                return redirect
            asked = kwargs
            if query:
                asked = {
                    **kwargs,
                    "?": tuple(sorted((k, tuple(v)) for k, v in request.GET.lists())),
                    "cookies": tuple(request.COOKIES.get(c, "") for c in cookies),
                }
            key = None
            if cacheable(request, query):
                try:
                    asked = {**asked, "scope": scope(request)} if scope is not None else asked
                except Exception:  # the store is unreachable: render as usual
                    log.warning("page cache: no scope for %s", request.path, exc_info=True)
                else:
                    key = page_key(name, asked, parts)
            if key is None:
                return view(request, **kwargs)
            page = kept.get(key)
            if page is None:
                found = _shared_page(key)
                if found is None:
                    marking = _marking.set(True)
                    try:
                        response = view(request, **kwargs)
                    finally:
                        _marking.reset(marking)
                    if not _keepable(request, response):
                        if not response.streaming and MARK.search(response.content):
                            pieces = split_marks(response.content)
                            response.content = joined(pieces, live_values(pieces))
                        return response
                    found = (bytes(response.content), response["Content-Type"])
                    _share_page(key, *found)
                body, content_type = found
                page = (split_marks(body), content_type)
                kept.put(key, page, len(body))
            pieces, content_type = page
            values = live_values(pieces)
            etag = etag_of(key, values)
            if _matches(request, etag):
                return _finish(HttpResponseNotModified(), etag)
            body = joined(pieces, values)
            answer = HttpResponse(body, content_type=content_type)
            answer["Content-Length"] = str(len(body))
            return _finish(answer, etag)

        return serve

    return wrap


def kept_answer(
    api_view: Callable[..., HttpResponseBase],
    *parts: str,
    ttl: Callable[..., float | None] | None = None,
) -> Callable[..., Any]:
    """`api_view` (a DRF view function) with its 200 answers in plain JSON kept per URL and
    query string and the state of `parts`, and served from memory: only for answers that are
    the same whoever asks (no user, no request in them). `ttl(**kwargs)`, asked after the
    view answered, says for how many seconds such an answer stays true (None: not kept);
    without it, until a part changes. A request for another format (the browsable API,
    `?format=`) or another method, and every answer but a plain 200, go through the view
    each time; so do the limits (middleware, before it)."""
    name = f"{api_view.__module__}.{api_view.__qualname__}"

    @functools.wraps(api_view)
    def serve(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        plain = request.META.get("HTTP_ACCEPT", "").strip() in PLAIN_JSON
        query = request.META.get("QUERY_STRING", "")
        key = None
        if request.method == "GET" and plain and "format" not in request.GET:
            key = page_key(name, {**kwargs, "path": request.path, "?": query}, parts)
        found = answers.get(key) if key is not None else None
        if found is not None and time.monotonic() < found[2]:
            body, headers, _ = found
            kept_response = HttpResponse(body)
            for header, value in headers:
                kept_response[header] = value
            patch_vary_headers(kept_response, ("Cookie",))  # as the view's (its session read)
            return kept_response
        response = api_view(request, **kwargs)
        if key is not None and response.status_code == 200 and not response.cookies:
            seconds = ttl(**kwargs) if ttl is not None else math.inf
            if seconds is not None and seconds > 0:
                response.render()  # type: ignore[attr-defined]  # a DRF Response renders late
                body = bytes(response.content)  # type: ignore[attr-defined]
                until = time.monotonic() + seconds
                answers.put(key, (body, tuple(response.items()), until), len(body))
        return response

    return serve


setting_changed.connect(forget)

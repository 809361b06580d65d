"""The read pages served from memory (config/page_cache.py): the item page rendered once per
state of what it shows, its ETag and 304, a new snapshot making a new page, and a logged-in
user never served a page that was rendered for someone else."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from market import item_page, publish, views
from market.refresh import refresh_region
from standin.esi import EsiStandIn
from store import reset_store
from tests.market_env import DOMAIN, FORGE

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

TRITANIUM = 34
ITEM = f"/items/{TRITANIUM}/"


class Clock:
    """The market's clock (snapshot ages, staleness), stopped: a page's age text ("42 s old")
    is part of its key, and a test must not see it move unless it moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    stopped = Clock()

    class Stopped(datetime):
        @classmethod
        def now(cls, tz=None):
            return stopped.now if tz is not None else stopped.now.replace(tzinfo=None)

    monkeypatch.setattr(publish, "datetime", Stopped)
    monkeypatch.setattr(views, "datetime", Stopped)
    return stopped


@pytest.fixture
def books(market: EsiStandIn, clock: Clock) -> EsiStandIn:
    refresh_region(FORGE)
    refresh_region(DOMAIN)
    # Stopped 5 s after the later snapshot was fetched: that one is "5 s old".
    metas = [publish.current_meta(region) for region in (FORGE, DOMAIN)]
    clock.now = max(datetime.fromisoformat(m.fetched_at) for m in metas if m) + timedelta(seconds=5)
    return market


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The type ids whose market panels were rendered, one entry per render."""
    seen: list[int] = []
    real = item_page.panels

    def counted(type_id: int, type_name: str) -> dict:
        seen.append(type_id)
        return real(type_id, type_name)

    monkeypatch.setattr(item_page, "panels", counted)
    return seen


def generations_shown(html: str) -> set[str]:
    return set(re.findall(r'title="Snapshot (\S+) of region', html))


def test_the_item_page_is_rendered_once_and_answers_304_to_its_etag(client, books, renders):
    first = client.get(ITEM)
    assert first.status_code == 200
    etag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{24}"', etag)
    assert first["Cache-Control"] == "no-cache"
    assert "Cookie" in first["Vary"]
    assert generations_shown(first.content.decode()) == {
        publish.current_generation(FORGE),
        publish.current_generation(DOMAIN),
    }

    again = client.get(ITEM)
    assert again.status_code == 200
    assert again["ETag"] == etag
    assert again.content == first.content
    assert renders == [TRITANIUM]  # the second answer came from memory

    unchanged = client.get(ITEM, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == etag
    listed = client.get(ITEM, HTTP_IF_NONE_MATCH=f'"0123", W/{etag}')  # one of several
    assert listed.status_code == 304
    other = client.get(ITEM, HTTP_IF_NONE_MATCH='"0123"')
    assert other.status_code == 200
    assert renders == [TRITANIUM]


def test_a_new_snapshot_makes_a_new_page_and_etag(client, books, renders, monkeypatch):
    # However long a process keeps what it serves, a snapshot it publishes is served at once
    # (the refresh below may take less than SERVED_TTL).
    monkeypatch.setattr(views, "SERVED_TTL", 3600.0)
    first = client.get(ITEM)
    old_forge = publish.current_generation(FORGE)
    assert old_forge in generations_shown(first.content.decode())

    books.generate(FORGE, 2_000, seed=11)  # other orders: the refresh publishes a new generation
    refresh_region(FORGE)
    new_forge = publish.current_generation(FORGE)
    assert new_forge != old_forge

    after = client.get(ITEM, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200  # the old ETag no longer matches
    assert after["ETag"] != first["ETag"]
    shown = generations_shown(after.content.decode())
    assert new_forge in shown and old_forge not in shown
    assert renders == [TRITANIUM, TRITANIUM]
    assert client.get(ITEM).content == after.content
    assert renders == [TRITANIUM, TRITANIUM]


def test_the_snapshots_age_is_written_at_each_answer(client, books, renders, clock):
    """The page writes each snapshot's age ("5 s old", "3 min old"), as of each answer: the
    kept page is not rendered again, but another age is another ETag."""
    first = client.get(ITEM)
    html = first.content.decode()
    assert "5 s old" in html
    assert "\x1e" not in html and "\x1f" not in html  # no mark is left in an answer
    clock.advance(120)
    later = client.get(ITEM, HTTP_IF_NONE_MATCH=first["ETag"])
    assert later.status_code == 200
    assert "2 min old" in later.content.decode() and "5 s old" not in later.content.decode()
    assert later["ETag"] != first["ETag"]
    assert later["Content-Length"] == str(len(later.content))
    clock.advance(30)  # still "2 min old"
    assert client.get(ITEM, HTTP_IF_NONE_MATCH=later["ETag"]).status_code == 304
    assert renders == [TRITANIUM]  # one render: the ages are filled in at each answer


def test_each_page_has_its_own_entry(client, books, renders):
    tritanium = client.get(ITEM)
    pyerite = client.get("/items/35/")
    assert tritanium["ETag"] != pyerite["ETag"]
    assert "<h1>Pyerite</h1>" in pyerite.content.decode()
    assert "<h1>Tritanium</h1>" in client.get(ITEM).content.decode()
    assert renders == [TRITANIUM, 35]


def test_region_system_and_station_pages_are_cached_too(client, books):
    for path in ("/regions/", "/regions/10000002/", "/systems/30000142/", "/stations/60003760/"):
        first = client.get(path)
        assert first.status_code == 200, path
        assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304, path


def test_what_is_not_kept(client, books):
    """A query string the page reads (the login link repeats it) and an unknown id are
    never kept: no ETag, every answer rendered for its request."""
    for _ in range(2):
        with_query = client.get("/?q=tritanium")
        assert with_query.status_code == 200
        assert "ETag" not in with_query
        assert "next=/%3Fq%3Dtritanium" in with_query.content.decode()
    for _ in range(2):
        missing = client.get("/items/999999999/")
        assert missing.status_code == 404
        assert "ETag" not in missing


def test_an_unreachable_store_renders_the_page_uncached(client, books, settings):
    client.get(ITEM)  # kept while the store answered
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    reset_store()
    publish.forget_loaded()
    response = client.get(ITEM)
    assert response.status_code == 200
    assert "ETag" not in response
    assert "market data store cannot be reached" in response.content.decode()


def test_a_logged_in_user_never_gets_a_page_kept_for_someone_else(client, books, renders):
    anonymous = client.get(ITEM)
    assert 'data-action="login"' in anonymous.content.decode()

    users = get_user_model().objects
    alice, bob = Client(), Client()
    alice.force_login(users.create_user("alice-the-trader"))
    bob.force_login(users.create_user("bob-the-hauler"))

    for who, name, other in ((alice, "alice-the-trader", "bob"), (bob, "bob-the-hauler", "alice")):
        for _ in range(2):
            response = who.get(ITEM, HTTP_IF_NONE_MATCH=anonymous["ETag"])
            assert response.status_code == 200  # never a 304 to the anonymous page's ETag
            html = response.content.decode()
            assert name in html
            assert f"{other}-the" not in html
            assert 'data-action="login"' not in html
            assert 'data-action="logout"' in html
            assert "5 s old" in html and "\x1e" not in html
            assert response.get("ETag") != anonymous["ETag"]

    # What the users saw was never kept: the anonymous page is as it was.
    assert renders == [TRITANIUM] + [TRITANIUM] * 4
    later = client.get(ITEM)
    assert later.content == anonymous.content
    assert "alice-the-trader" not in later.content.decode()
    assert renders == [TRITANIUM] * 5


def test_the_home_page_is_kept_until_the_boards_change(client, books):
    from profit import boards

    boards.recompute()
    first = client.get("/")
    assert first.status_code == 200 and first["ETag"]
    assert client.get("/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    version = boards.read_pointer()["version"]
    assert f'data-version="{version}"' in first.content.decode()

    books.generate(FORGE, 2_000, seed=11)
    refresh_region(FORGE)
    boards.recompute()  # a new version of the boards
    assert boards.read_pointer()["version"] != version
    after = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert f'data-version="{boards.read_pointer()["version"]}"' in after.content.decode()
    # A search renders every time (its query string is never a key).
    assert "ETag" not in client.get("/", {"q": "tritanium"})


def test_a_parameter_the_page_does_not_read_sends_to_the_page_without_it(client, books, renders):
    """An unknown parameter would make every request a new render (a cache-busting loop):
    the page answers 301 to itself without it, and the kept page serves the next."""
    assert client.get(ITEM).status_code == 200
    busting = client.get(ITEM, {"nocache": "17"})
    assert busting.status_code == 301
    assert busting["Location"] == ITEM
    assert renders == [TRITANIUM]  # nothing rendered for it
    # a page that reads a parameter keeps it and drops only the others
    search = client.get("/", {"q": "tritanium", "utm_source": "forum"})
    assert search.status_code == 301
    assert search["Location"] == "/?q=tritanium"
    assert client.get("/", {"q": "tritanium"}).status_code == 200
    assert client.get("/regions/", {"kind": "wormhole"}).status_code == 200


# --- Fragments: {% kept %} ------------------------------------------------------------------


def kept_template():
    from django.template import engines

    return engines["django"].from_string(
        "{% load kept %}{% kept row %}{{ row.price }} {{ counter.next }}{% endkept %}"
    )


class Counter:
    """Counts how often the fragment is rendered (each render reads `next` once)."""

    def __init__(self) -> None:
        self.renders = 0

    @property
    def next(self) -> int:
        self.renders += 1
        return self.renders


def test_a_kept_fragment_renders_once_for_the_same_arguments(settings):
    settings.DEBUG = False
    settings.PAGE_SHARED_TTL = 0  # this process's memory alone (the store: the test below)
    template, counter = kept_template(), Counter()
    row = {"type_id": 34, "price": 5.5}
    first = template.render({"row": row, "counter": counter})
    again = template.render({"row": dict(row), "counter": counter})  # equal, not the same dict
    assert first == again == "5.5 1"
    assert counter.renders == 1
    # Another value of an argument (a new snapshot's price) is another fragment.
    assert template.render({"row": {**row, "price": 6.0}, "counter": counter}) == "6.0 2"


def test_no_fragment_is_kept_in_debug_mode(settings):
    settings.DEBUG = True  # templates may change under a running process
    template, counter = kept_template(), Counter()
    for expected in ("5.5 1", "5.5 2"):
        assert template.render({"row": {"price": 5.5}, "counter": counter}) == expected


def test_a_kept_tag_without_arguments_is_refused():
    from django.template import TemplateSyntaxError, engines

    with pytest.raises(TemplateSyntaxError, match="needs the values"):
        engines["django"].from_string("{% load kept %}{% kept %}x{% endkept %}")


def test_a_search_is_answered_from_memory_until_the_sde_changes(client, monkeypatch):
    from config import page_cache
    from sde.api import views as sde_api

    searched: list[str] = []
    search_items = sde_api.search_items
    monkeypatch.setattr(
        sde_api, "search_items", lambda q, limit: searched.append(q) or search_items(q, limit)
    )
    path = "/api/v1/items/search?q=tritan&limit=3"
    first, again = client.get(path), client.get(path)
    assert first.status_code == again.status_code == 200
    assert first.json()["results"][0]["name"] == "Tritanium"
    assert again.content == first.content
    for header in ("Content-Type", "Vary", "Allow"):
        assert again[header] == first[header]
    assert searched == ["tritan"]

    # Another query is another answer; the browsable API and ?format= always ask the view.
    assert client.get("/api/v1/items/search?q=pyer").status_code == 200
    assert client.get(path, HTTP_ACCEPT="text/html")["Content-Type"].startswith("text/html")
    assert client.get(path + "&format=json").content == first.content
    assert searched == ["tritan", "pyer", "tritan", "tritan"]

    # A refusal is never kept: each one says why.
    for _ in range(2):
        refused = client.get("/api/v1/items/search?q=tritan&limit=0")
        assert refused.status_code == 400 and "limit" in refused.json()["errors"]

    # Another SDE installed: the search is asked again.
    monkeypatch.setitem(page_cache._parts, "sde", lambda: ("another SDE",))
    assert client.get(path).content == first.content
    assert searched == ["tritan", "pyer", "tritan", "tritan", "tritan"]


def test_a_page_rendered_by_one_process_is_served_by_the_others(client, books, renders):
    """Another process (here: this one with its memory emptied) finds the page in the shared
    store: the same bytes and ETag, no render; a page the store no longer has is rendered."""
    from config import page_cache

    page_cache.kept.clear()
    first = client.get(ITEM)
    (key,) = list(page_cache.kept._values)
    page_cache.kept.clear()  # as another process, which has rendered nothing
    other = client.get(ITEM)
    assert other.status_code == 200 and other.content == first.content
    assert other["ETag"] == first["ETag"] and other["Content-Type"] == first["Content-Type"]
    assert renders == [TRITANIUM]

    page_cache.kept.clear()
    page_cache.get_store().delete(page_cache._shared_key(key))  # gone from the store
    assert client.get(ITEM).content == first.content
    assert renders == [TRITANIUM, TRITANIUM]


def test_a_market_panel_is_read_once_per_deployment(client, books, monkeypatch):
    """A page rendered by another process than the one that read a market's figures and
    books takes them from the shared store: after one region's new snapshot each item page
    re-renders, and only that region's panel is read again."""
    from config import page_cache

    read: list[int] = []
    readings = item_page._readings
    monkeypatch.setattr(
        item_page,
        "_readings",
        lambda snapshot, *args: read.append(snapshot.meta.region_id) or readings(snapshot, *args),
    )
    page_cache.kept.clear()
    first = client.get(ITEM)
    assert sorted(read) == [FORGE, DOMAIN]

    # Another process: nothing in its memory, and the page itself no longer in the store.
    (key,) = list(page_cache.kept._values)
    page_cache.kept.clear()
    page_cache.get_store().delete(page_cache._shared_key(key))
    monkeypatch.setattr(item_page, "kept_markets", lambda: page_cache.Kept(1 << 20))
    again = client.get(ITEM)
    assert again.content == first.content
    assert sorted(read) == [FORGE, DOMAIN]  # both panels from the store


def test_an_item_pages_sde_part_is_read_and_rendered_once_per_deployment(
    client, books, monkeypatch
):
    """The SDE's part of an item page (its context and kept fragments) is offered through
    the store: a process that never rendered the item reads no SDE table for it."""
    from config import page_cache
    from sde import selectors, views

    read: list[int] = []
    item_detail = selectors.item_detail
    monkeypatch.setattr(
        selectors, "item_detail", lambda type_id: read.append(type_id) or item_detail(type_id)
    )
    page_cache.kept.clear()
    first = client.get(ITEM)  # read here, or taken from an earlier test's
    assert read in ([], [TRITANIUM])
    (key,) = list(page_cache.kept._values)
    for _ in range(2):  # another process: nothing in its memory, the page gone from the store
        page_cache.get_store().delete(page_cache._shared_key(key))
        page_cache.kept.clear()
        page_cache.fragments.clear()
        views.item_context().cache_clear()
        assert client.get(ITEM).content == first.content
    assert read in ([], [TRITANIUM])  # never read again


def test_a_kept_fragment_is_rendered_once_per_deployment():
    import uuid

    from django.template import engines

    from config import page_cache

    class Counted:
        reads = 0

        @property
        def text(self) -> str:
            Counted.reads += 1
            return "<b>bold</b>"

    template = engines["django"].from_string(
        "{% load kept %}{% kept shared tag %}{{ counted.text }}{% endkept %}"
    )
    tag = uuid.uuid4().hex  # a key no earlier run left in the store
    first = template.render({"tag": tag, "counted": Counted()})
    page_cache.fragments.clear()  # as another process
    assert template.render({"tag": tag, "counted": Counted()}) == first
    assert Counted.reads == 1 and first == "&lt;b&gt;bold&lt;/b&gt;"
    # Without `shared`, each process renders its own.
    mine = engines["django"].from_string(
        "{% load kept %}{% kept tag %}{{ counted.text }}{% endkept %}"
    )
    other = uuid.uuid4().hex
    mine.render({"tag": other, "counted": Counted()})
    page_cache.fragments.clear()
    mine.render({"tag": other, "counted": Counted()})
    assert Counted.reads == 3


def test_a_shared_value_is_computed_once(settings):
    import uuid

    from config import page_cache

    key = ("a test's value", uuid.uuid4().hex)
    value = {"rows": [{"price": 5.01, "volume": 2_000_000_000, "best": None}], "html": "<b>"}
    computed: list[int] = []

    def compute() -> dict:
        computed.append(1)
        return value

    assert page_cache.shared(key, compute) == value
    assert page_cache.shared(key, compute) == value and computed == [1]
    # Not plain JSON data: computed by each, never wrong.
    odd = ("another", uuid.uuid4().hex)
    assert [page_cache.shared(odd, lambda: {1, 2}) for _ in range(2)] == [{1, 2}, {1, 2}]
    settings.PAGE_SHARED_TTL = 0
    assert page_cache.shared(key, compute) == value and computed == [1, 1]


def test_a_shared_value_without_a_store_is_computed_here(store_down):
    from config import page_cache

    assert page_cache.shared(("no store",), lambda: [1, 2]) == [1, 2]


def test_pages_are_not_shared_when_the_setting_says_so(client, books, renders, settings):
    from config import page_cache

    settings.PAGE_SHARED_TTL = 0
    first = client.get(ITEM)
    page_cache.kept.clear()  # as another process
    assert client.get(ITEM).content == first.content
    assert renders == [TRITANIUM, TRITANIUM]  # rendered by each


def test_a_deploy_with_other_code_makes_other_keys(tmp_path, monkeypatch):
    """The key's version covers the project's code, not only its templates: a page kept in
    the shared store by the old code is never served by the new."""
    from django.conf import settings

    from config import page_cache

    names = {str(p.relative_to(settings.BASE_DIR)) for p in page_cache.code_files()}
    assert {"profit/row_html.py", "sde/views.py", "config/page_cache.py"} <= names
    assert not any(n.startswith(("tests/", "benchmarks/", "standin/")) for n in names)

    code = tmp_path / "views.py"
    monkeypatch.setattr(page_cache, "code_files", lambda: [code])
    versions = []
    try:
        for text in ("A = 1\n", "A = 2\n"):  # the same templates, a line of code changed
            code.write_text(text)
            page_cache.template_version.cache_clear()
            versions.append(page_cache.template_version())
    finally:
        page_cache.template_version.cache_clear()  # the real files again after the patch
    assert versions[0] != versions[1]


def test_two_kept_tags_of_one_template_keep_their_own_fragments(settings):
    from django.template import engines

    settings.DEBUG = False
    template = engines["django"].from_string(
        "{% load kept %}{% kept a %}first {{ a }}{% endkept %}|{% kept a %}second{% endkept %}"
    )
    assert template.render({"a": 1}) == "first 1|second"


def test_the_item_pages_sde_part_is_read_once_per_item(
    client, books, renders, settings, monkeypatch
):
    """A new render of the page (a new snapshot) reads the market again, not the SDE."""
    from config import page_cache
    from sde import selectors as sde_selectors
    from sde import views as sde_views

    settings.PAGE_SHARED_TTL = 0
    sde_views.item_context().cache_clear()
    read: list[int] = []
    item_detail = sde_selectors.item_detail
    monkeypatch.setattr(
        sde_selectors, "item_detail", lambda type_id: read.append(type_id) or item_detail(type_id)
    )
    first = client.get(ITEM)
    page_cache.kept.clear()  # as after a new snapshot: the page renders again
    again = client.get(ITEM)
    assert again.content == first.content and "<h1>Tritanium</h1>" in again.content.decode()
    assert renders == [TRITANIUM, TRITANIUM] and read == [TRITANIUM]

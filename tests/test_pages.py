"""The server-rendered pages, against the real installed SDE."""

import re
import sqlite3
from contextlib import closing

from django.conf import settings as django_settings
from django.template.loader import render_to_string

from sde.display import description_html, duration, trimmed_number
from sde.install import read_info
from tests.conftest import sde_db

JITA_STATION = "Jita IV - Moon 4 - Caldari Navy Assembly Plant"


def packaged_volume_in_sde(type_id: int) -> float:
    with closing(sqlite3.connect(f"file:{django_settings.SDE_PATH}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT volume FROM invVolumes WHERE typeID = ?", [type_id]).fetchone()
    return row[0]


@sde_db
def test_home_has_the_search_box(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="combobox"' in html
    assert 'data-api="/api/v1/items/search"' in html
    assert "js/search.js" in html


@sde_db
def test_home_lists_matches_without_javascript(client):
    response = client.get("/", {"q": "tritanum"})
    assert response.status_code == 200
    assert response.context["results"][0]["type_id"] == 34
    assert 'href="/items/34/"' in response.content.decode()


@sde_db
def test_home_says_when_nothing_matches(client):
    response = client.get("/", {"q": "zzzzqqqqxxxx"})
    assert response.status_code == 200
    assert "No items match" in response.content.decode()


@sde_db
def test_tritanium_page(client):
    response = client.get("/items/34/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Tritanium</h1>" in html
    assert "Mineral" in html
    assert "Material" in html
    assert "0.01 m³" in html
    assert 'data-market-item="34"' in html
    assert "Market: trade hubs" in html


@sde_db
def test_item_description_is_escaped_and_links_items(client):
    html = client.get("/items/34/").content.decode()
    # Tritanium's description links ores with in-game "showinfo" links.
    assert '<a href="/items/1230/">veldspar</a>' in html
    assert "showinfo" not in html


@sde_db
def test_caracal_shows_packaged_volume_and_blueprint(client):
    response = client.get("/items/621/")
    assert response.status_code == 200
    html = response.content.decode()
    packaged = packaged_volume_in_sde(621)
    assert f"{packaged:,.0f} m³" in html  # 10,000 m³, not the assembled 92,000 m³
    assert "92,000 m³" in html
    assert "Caracal Blueprint" in html
    assert 'href="/items/687/"' in html
    for material_id, name in [(34, "Tritanium"), (35, "Pyerite"), (40, "Megacyte")]:
        assert f'href="/items/{material_id}/"' in html
        assert name in html
    assert "540,000" in html


@sde_db
def test_unknown_item_is_a_friendly_404(client):
    response = client.get("/items/999999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Not found" in html
    assert "/items/999999999/" in html


@sde_db
def test_huge_item_id_is_404_not_500(client):
    response = client.get("/items/99999999999999999999/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


@sde_db
def test_regions_page_puts_known_space_first(client):
    response = client.get("/regions/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The Forge" in html
    assert html.index("Known space") < html.index("Wormhole space")


@sde_db
def test_regions_page_filters_by_kind(client):
    html = client.get("/regions/", {"kind": "wormhole"}).content.decode()
    assert "A-R00001" in html
    assert "The Forge" not in html


@sde_db
def test_the_forge_lists_jita(client):
    response = client.get("/regions/10000002/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>The Forge</h1>" in html
    jita = re.search(r'<a [^>]*href="/systems/30000142/">(.*?)</a>', html, re.S)
    assert jita is not None
    assert ">Jita<" in jita.group(1)
    assert 'class="sec sec-9"' in jita.group(1)  # Jita's 0.9, coloured


@sde_db
def test_jita_shows_neighbours_and_stations(client):
    response = client.get("/systems/30000142/")
    assert response.status_code == 200
    html = response.content.decode()
    for neighbour_id, name in [(30000144, "Perimeter"), (30000140, "Maurasi")]:
        assert f'href="/systems/{neighbour_id}/">{name}</a>' in html
    assert f'href="/stations/60003760/">{JITA_STATION}</a>' in html
    assert 'href="/regions/10000002/">The Forge</a>' in html


@sde_db
def test_station_page(client):
    response = client.get("/stations/60003760/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{JITA_STATION}</h1>" in html
    assert 'href="/systems/30000142/">Jita</a>' in html
    assert "Caldari Navy" in html


@sde_db
def test_unknown_region_system_station_are_404(client):
    for url in ["/regions/1/", "/systems/1/", "/stations/1/"]:
        assert client.get(url).status_code == 404, url


@sde_db
def test_footer_shows_sde_build(client):
    info = read_info(django_settings.SDE_PATH)
    assert info is not None
    html = client.get("/").content.decode()
    assert info.build in html
    assert "registered trademarks of CCP hf" in html


def test_missing_sde_answers_503(client, settings, tmp_path):
    settings.SDE_PATH = tmp_path / "missing.sqlite"
    response = client.get("/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "No SDE" in html
    assert "sde_install" in html
    assert "no SDE installed" in html


def test_description_html_escapes_everything_but_known_tags():
    html = description_html(
        "A <b>bold</b> <script>x</script> <a href=showinfo:34>Trit</a> <url=http://x>y</url>"
        "<br>next & <font color=red>done"
    )
    assert "<script>" not in html
    assert "&lt;" not in html  # tags are dropped, not shown as text
    assert "<strong>bold</strong>" in html
    assert '<a href="/items/34/">Trit</a>' in html
    assert "http://x" not in html
    assert "\nnext &amp; done" in html


def test_description_html_closes_unbalanced_tags():
    assert description_html("<b>open <i>both") == "<strong>open <em>both</em></strong>"
    assert description_html("stray</b></a>") == "stray"


def test_number_and_duration_formats():
    assert trimmed_number(0.01) == "0.01"
    assert trimmed_number(0.0025) == "0.0025"
    assert trimmed_number(92000.0) == "92,000"
    assert trimmed_number(1234.5) == "1,234.5"
    assert duration(12000) == "3h 20m"
    assert duration(45) == "45s"
    assert duration(None) == ""


def test_500_page_needs_no_context():
    html = render_to_string("500.html")
    assert "Something went wrong" in html
    assert "{" not in html
    assert '<link rel="stylesheet" href="/static/css/error.css">' in html  # no inline style

"""Search ranking on the real SDE: what a trader types, and what must come first."""

import pytest

from sde.search import SearchIndex, get_index, search_items


def first(query: str) -> tuple[int, str, str]:
    hit = search_items(query, 10)[0]
    return hit.type_id, hit.type_name, hit.match


@pytest.mark.parametrize(
    ("query", "type_id", "name"),
    [
        ("trit", 34, "Tritanium"),
        ("plex", 44992, "PLEX"),
        ("PLEX", 44992, "PLEX"),
        ("caracal navy", 17634, "Caracal Navy Issue"),
        ("tritanum", 34, "Tritanium"),
        ("Tritanium", 34, "Tritanium"),
        ("  tRiTaNiUm  ", 34, "Tritanium"),
        ("raven", 638, "Raven"),
        ("mexalon", 36, "Mexallon"),
        ("navy caracal", 17634, "Caracal Navy Issue"),
        ("large shield ext", 3839, "Large Shield Extender I"),
    ],
)
def test_it_ranks_the_item_a_trader_means_first(query, type_id, name):
    assert first(query)[:2] == (type_id, name)


def test_it_ranks_exact_then_prefix_then_word_prefix():
    tiers = [hit.match for hit in search_items("raven", 10)]
    assert tiers[0] == "exact"
    assert tiers == sorted(tiers, key=["exact", "prefix", "word_prefix", "substring"].index)


def test_it_labels_typo_matches_as_fuzzy():
    assert first("tritanum")[2] == "fuzzy"
    assert first("trit")[2] == "prefix"


def test_it_only_returns_published_market_items():
    # "Tritanium" also names unpublished or non-market types in the SDE; none may appear.
    index = get_index()
    assert 34 in index.type_ids
    assert 0 not in index.type_ids  # "#System" is not a market item


def test_it_respects_the_limit_and_returns_no_duplicates():
    hits = search_items("shield", 25)
    assert len(hits) == 25
    assert len({hit.type_id for hit in hits}) == 25


def test_it_returns_nothing_for_nonsense_or_blank_queries():
    assert search_items("zzzzqqqxx", 10) == []
    assert search_items("   ", 10) == []
    assert search_items("<script>alert(1)</script>", 10) == []


def test_shorter_names_rank_first_within_a_tier():
    index = SearchIndex.build([(1, "Alpha Beta Gamma"), (2, "Alpha"), (3, "Alpha Beta")])
    assert [hit.type_id for hit in index.search("alp", 3)] == [2, 3, 1]


def test_exact_match_beats_a_shorter_prefix_match():
    index = SearchIndex.build([(1, "Ab"), (2, "Abc"), (3, "Abcd")])
    assert [(h.type_id, h.match) for h in index.search("abc", 3)] == [
        (2, "exact"),
        (3, "prefix"),
        (1, "fuzzy"),
    ]


def test_word_prefix_matches_words_in_any_order():
    index = SearchIndex.build([(1, "Caldari Navy Hookbill"), (2, "Navy Cap Booster")])
    assert [h.type_id for h in index.search("hook cald", 5)] == [1]

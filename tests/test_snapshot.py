"""The snapshot format: columns, sort order, per-type slices, per-station best prices."""

import pytest

from market.snapshot import (
    InvalidOrders,
    Snapshot,
    SnapshotMeta,
    columns_from_pages,
    merge_columns,
    order_dicts,
)

JITA, PERIMETER_STATION = 60003760, 60003757
TRITANIUM, PLEX = 34, 44992


def order(order_id, type_id, price, *, buy=False, location=JITA, volume=100, rng="region"):
    return {
        "duration": 90,
        "is_buy_order": buy,
        "issued": "2025-03-28T15:14:18Z",
        "location_id": location,
        "min_volume": 1,
        "order_id": order_id,
        "price": price,
        "range": rng,
        "system_id": 30000142,
        "type_id": type_id,
        "volume_remain": volume,
        "volume_total": volume * 2,
    }


BOOK = [
    order(1, TRITANIUM, 4.10),
    order(2, TRITANIUM, 3.95, buy=True, rng="station"),
    order(3, TRITANIUM, 4.00, volume=50),
    order(4, TRITANIUM, 3.99, buy=True, volume=7, rng="5"),
    order(5, TRITANIUM, 3.50, location=PERIMETER_STATION),
    order(6, PLEX, 5_000_000.0),
    order(7, TRITANIUM, 3.97, buy=True, location=PERIMETER_STATION, rng="solarsystem"),
]


def meta(**changes):
    values = dict(
        region_id=10000002,
        generation="g1",
        source="esi",
        esi_last_modified="2026-11-22T02:00:00+00:00",
        esi_expires="2026-11-22T02:05:00+00:00",
        fetched_at="2026-11-22T02:00:05+00:00",
        pages=2,
        orders=len(BOOK),
        page_etags=['"a"', '"b"'],
    )
    values.update(changes)
    return SnapshotMeta(**values)


@pytest.fixture
def snapshot():
    return Snapshot.build(meta(), columns_from_pages([(1, BOOK[:4]), (2, BOOK[4:])]))


def test_a_types_book_is_sells_cheapest_first_then_buys_dearest_first(snapshot):
    book = snapshot.orders_of(TRITANIUM)
    sides = list(zip(book["is_buy_order"].tolist(), book["price"].tolist(), strict=True))
    assert sides == [
        (False, 3.50),
        (False, 4.00),
        (False, 4.10),
        (True, 3.99),
        (True, 3.97),
        (True, 3.95),
    ]


def test_type_slices_find_each_type_and_nothing_for_others(snapshot):
    assert snapshot.orders_of(PLEX)["order_id"].tolist() == [6]
    assert len(snapshot.orders_of(35)["order_id"]) == 0
    assert snapshot.has_type(TRITANIUM) and not snapshot.has_type(35)


def test_best_prices_and_depth_per_station(snapshot):
    s = snapshot.stations
    rows = {
        (int(t), int(loc), bool(b)): (float(p), int(v), int(n))
        for t, loc, b, p, v, n in zip(
            s["type_id"],
            s["location_id"],
            s["is_buy_order"],
            s["best_price"],
            s["volume"],
            s["orders"],
            strict=True,
        )
    }
    assert rows[(TRITANIUM, JITA, False)] == (4.00, 150, 2)  # best ask at Jita, not Perimeter's
    assert rows[(TRITANIUM, JITA, True)] == (3.99, 107, 2)
    assert rows[(TRITANIUM, PERIMETER_STATION, False)] == (3.50, 100, 1)
    assert rows[(TRITANIUM, PERIMETER_STATION, True)] == (3.97, 100, 1)
    assert rows[(PLEX, JITA, False)] == (5_000_000.0, 100, 1)
    assert len(rows) == 5


def test_orders_round_trip_to_esi_shape(snapshot):
    book = snapshot.orders_of(TRITANIUM)
    by_id = {o["order_id"]: o for o in order_dicts(book)}
    for original in BOOK:
        if original["type_id"] == TRITANIUM:
            assert by_id[original["order_id"]] == original


def test_bytes_round_trip_keeps_everything(snapshot):
    copy = Snapshot.from_bytes(snapshot.meta, snapshot.to_bytes())
    for part, original in (("book", snapshot.book), ("stations", snapshot.stations)):
        kept = getattr(copy, part)
        assert set(kept) == set(original), part
        for name, values in original.items():
            assert kept[name].dtype == values.dtype, name
            assert kept[name].tolist() == values.tolist(), name
            assert not kept[name].flags.writeable  # views of the blob: a snapshot never changes
    assert copy.orders_of(PLEX)["order_id"].tolist() == [6]


def test_a_blob_written_by_the_earlier_npz_format_still_loads(snapshot):
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(
        buffer,
        **{f"book.{k}": v for k, v in snapshot.book.items()},
        **{f"stations.{k}": v for k, v in snapshot.stations.items()},
    )
    old = Snapshot.from_bytes(snapshot.meta, buffer.getvalue())
    assert old.orders_of(PLEX)["order_id"].tolist() == [6]
    assert old.stations["best_price"].tolist() == snapshot.stations["best_price"].tolist()


def test_page_rows_give_back_one_pages_orders(snapshot):
    assert sorted(snapshot.page_rows(2)["order_id"].tolist()) == [5, 6, 7]
    rebuilt = merge_columns([snapshot.page_rows(1), snapshot.page_rows(2)])
    assert sorted(rebuilt["order_id"].tolist()) == list(range(1, 8))


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ([order(1, TRITANIUM, 4.0), order(1, TRITANIUM, 5.0)], "duplicate"),
        ([order(1, TRITANIUM, 0.0)], "price"),
        ([order(1, TRITANIUM, float("nan"))], "price"),
        ([{**order(1, TRITANIUM, 4.0), "volume_remain": 500}], "volume"),
    ],
)
def test_impossible_books_are_rejected(bad, reason):
    with pytest.raises(InvalidOrders, match=reason):
        Snapshot.build(meta(), columns_from_pages([(1, bad)]))


@pytest.mark.parametrize(
    "broken",
    [
        {k: v for k, v in order(1, TRITANIUM, 4.0).items() if k != "price"},
        {**order(1, TRITANIUM, 4.0), "range": "galaxy"},
        {**order(1, TRITANIUM, 4.0), "issued": "yesterday"},
        {**order(1, TRITANIUM, 4.0), "price": "cheap"},
    ],
)
def test_malformed_orders_fail_cleanly(broken):
    with pytest.raises(InvalidOrders):
        columns_from_pages([(1, [broken])])


def test_an_empty_book_is_a_valid_snapshot():
    empty = Snapshot.build(meta(orders=0), columns_from_pages([(1, [])]))
    assert len(empty.orders_of(TRITANIUM)["order_id"]) == 0
    assert len(empty.stations["type_id"]) == 0
    back = Snapshot.from_bytes(empty.meta, empty.to_bytes())
    assert back.meta.orders == 0 and len(back.book["order_id"]) == 0

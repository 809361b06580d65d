"""A region's market as a trader sees it: its NPC book and the whole books of the structures
in it that members share.

ESI's region book holds no structure sell orders and, of a structure's bids, only those of a
range wider than the structure; a shared structure's whole book is published on its own,
under the structure's id (market/structure_refresh.py). `view(region_id)` is the region's
snapshot with each shared structure's orders in place of what the region book showed of it,
so every reader (item pages, station trading at a structure, hauling by system or region, the
calculator, boards) sees one book per region, structures included.

A region this deployment does not track (a null-sec region, say) has no book of its own
here: the books of its shared structures are its whole market.

A view is built once per process per combination of generations (the region's and each
structure's) and kept, the current and the one before per region; with no structure shared
in a region, the region's snapshot is the view (nothing is built). The view's
`meta.generation` names the combination ("<region generation>+<structure generation>..."):
every cache keyed by a generation follows a structure's new book as it follows a region's.
`parts` holds the meta of each book it was made of, region first, for the `snapshots` blocks
and permalinks that pin each one (`pinned` maps a book's id, region or structure, to a
generation). A structure book not read again for MARKET_STRUCTURE_BOOK_MAX_AGE seconds past
its Expires is no longer merged.

A structure's bid whose range reaches beyond it also sits in the region book; the
structure's own book replaces every order the region book showed at a shared structure, so
no order is counted twice.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings

from market import publish, structures
from market.snapshot import COLUMNS, InvalidOrders, Snapshot, SnapshotMeta
from sde.places import is_structure
from store.base import Store

KEPT_VIEWS = 2  # merged books kept per region and process: the current and the one before
NO_REGION_BOOK = "none"  # the "generation" of a region whose own book is not read here

_lock = threading.Lock()
_views: dict[int, OrderedDict[tuple[str, ...], Snapshot]] = {}


class PinnedGone(LookupError):
    """A pinned generation of a structure's book is no longer kept."""

    def __init__(self, book_id: int, generation: str) -> None:
        super().__init__(f"Snapshot {generation} of structure {book_id} is no longer kept.")
        self.book_id = book_id
        self.generation = generation


def view(
    region_id: int, pinned: Mapping[int, str] | None = None, store: Store | None = None
) -> Snapshot | None:
    """The region's market (its snapshot, or the generation `pinned` names) with the books of
    its shared structures; None when the region has no snapshot (or not that generation).
    A shared structure with no book published yet is left out; one `pinned` to a generation
    no longer kept raises `PinnedGone`."""
    pinned = pinned or {}
    region = publish.load(region_id, pinned.get(region_id), store)
    if region is None and (region_id in settings.MARKET_REGIONS or region_id in pinned):
        return None  # a tracked region's market waits for its own book
    books = []
    for structure_id in structures.shared_in(region_id):
        generation = pinned.get(structure_id)
        book = publish.load(structure_id, generation, store)
        if book is None and generation is not None:
            raise PinnedGone(structure_id, generation)
        if book is not None and (generation is not None or not _abandoned(book.meta)):
            books.append(book)
    if not books:
        return region
    if region is None:  # a region not tracked here: its shared structures are its market
        region = _no_region_book(region_id, books[0].meta)
    key = (region.meta.generation, *(b.meta.generation for b in books))
    with _lock:
        kept = _views.setdefault(region_id, OrderedDict())
        merged = kept.get(key)
        if merged is not None:
            kept.move_to_end(key)
    if merged is None:
        merged = merge(region, books)
        with _lock:
            kept[key] = merged
            while len(kept) > KEPT_VIEWS:
                kept.popitem(last=False)
    # A book confirmed unchanged keeps its generation with a later Expires: the view's metas
    # follow the books' as loaded now.
    merged.meta = replace(region.meta, generation="+".join(key), orders=merged.meta.orders)
    region_part = (region.meta,) if region.meta.generation != NO_REGION_BOOK else ()
    merged.parts = (*region_part, *(b.meta for b in books))
    return merged


def _abandoned(meta: SnapshotMeta) -> bool:
    """A structure book nobody refreshed for MARKET_STRUCTURE_BOOK_MAX_AGE seconds past its
    Expires (every sharing member refused, ESI failing...): no longer merged, so its old
    orders do not stand for the structure's bids the region book shows fresh."""
    if not meta.esi_expires:
        return False
    expires = datetime.fromisoformat(meta.esi_expires).timestamp()
    return time.time() > expires + float(settings.MARKET_STRUCTURE_BOOK_MAX_AGE)


def _no_region_book(region_id: int, like: SnapshotMeta) -> Snapshot:
    """An empty book standing for a region whose own book is not read here."""
    meta = replace(like, region_id=region_id, generation=NO_REGION_BOOK, pages=0, orders=0)
    return Snapshot.build(meta, {name: np.empty(0, dtype) for name, dtype in COLUMNS.items()})


def merge(region: Snapshot, books: list[Snapshot]) -> Snapshot:
    """The region's orders outside the structures of `books`, and all of theirs.

    A structure's book holds only orders at the structure, so once the region's orders there
    are left out no order can be in both; were one anyway (a region book and a structure
    book fetched minutes apart, an order moved...), the structure's copy is kept."""
    at = np.array([b.meta.region_id for b in books], dtype=np.int64)
    outside = ~np.isin(region.book["location_id"], at)
    meta = replace(
        region.meta,
        generation="+".join([region.meta.generation, *(b.meta.generation for b in books)]),
    )
    try:
        return _built(meta, region, outside, books)
    except InvalidOrders:
        theirs = np.concatenate([b.book["order_id"] for b in books])
        return _built(meta, region, outside & ~np.isin(region.book["order_id"], theirs), books)


def _built(
    meta: SnapshotMeta, region: Snapshot, keep: npt.NDArray[np.bool_], books: list[Snapshot]
) -> Snapshot:
    columns = {
        name: np.concatenate([values[keep], *(b.book[name] for b in books)])
        for name, values in region.book.items()
    }
    return Snapshot.build(replace(meta, orders=len(columns["order_id"])), columns)


def freshness(meta: SnapshotMeta) -> dict[str, Any]:
    """`publish.freshness` of one book of a view: a structure's names the structure
    (`structure_id`) and the region it is in."""
    block = publish.freshness(meta)
    if is_structure(meta.region_id):
        found = structures.known(meta.region_id)
        block.update(structure_id=meta.region_id, region_id=found.region_id if found else None)
    return block


def forget_views() -> None:
    with _lock:
        _views.clear()

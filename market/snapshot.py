"""A market snapshot: one region's whole order book at one ESI cache time, as columns.

Orders are held as numpy arrays (one per field), sorted by type, then side (sells before
buys), then price (sells cheapest first, buys dearest first), so one type's book is a
contiguous slice found by binary search. Best bid, best ask, depth and order counts per
(station, type) are computed once, when the snapshot is built. A snapshot serialises to one
bytes blob (the raw arrays behind a small index, read back in place) plus a small JSON
`SnapshotMeta`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

# ESI's order ranges as small integers: a number of jumps, or one of these.
RANGE_STATION, RANGE_SOLARSYSTEM, RANGE_REGION = -1, 0, 32767
RANGE_CODES = {"station": RANGE_STATION, "solarsystem": RANGE_SOLARSYSTEM, "region": RANGE_REGION}
RANGE_CODES.update({str(jumps): jumps for jumps in (1, 2, 3, 4, 5, 10, 20, 30, 40)})
RANGE_NAMES = {code: name for name, code in RANGE_CODES.items()}

COLUMNS: dict[str, npt.DTypeLike] = {
    "order_id": np.int64,
    "type_id": np.int32,
    "location_id": np.int64,
    "system_id": np.int32,
    "is_buy_order": np.bool_,
    "price": np.float64,
    "volume_remain": np.int64,
    "volume_total": np.int64,
    "min_volume": np.int64,
    "duration": np.int16,
    "issued": "datetime64[s]",
    "range": np.int16,
    "page": np.int16,  # the ESI page the order came from (to reuse a page that answered 304)
}

Arrays = dict[str, npt.NDArray[Any]]

_MAGIC = b"EVESNAP1"  # the blob layout of `Snapshot.to_bytes`
_ALIGN = 64


class InvalidOrders(ValueError):
    """The orders cannot make a snapshot (missing field, bad value, duplicate order id)."""


@dataclass(frozen=True)
class SnapshotMeta:
    region_id: int
    generation: str
    source: str  # "esi" or "demo"
    esi_last_modified: str | None  # ISO 8601, UTC
    esi_expires: str | None
    fetched_at: str
    pages: int
    orders: int
    page_etags: list[str | None] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotMeta:
        return cls(**data)


def page_columns(page: int, orders: list[dict[str, Any]], system_id: int | None = None) -> Arrays:
    """One ESI page of order dicts as columns (each order tagged with its page number).
    `system_id`: the system of every order (a structure's book, whose orders carry none)."""
    n = len(orders)
    given = ("issued", "range", "page") + (("system_id",) if system_id is not None else ())
    try:
        columns: Arrays = {
            name: np.fromiter((o[name] for o in orders), dtype=COLUMNS[name], count=n)
            for name in COLUMNS
            if name not in given
        }
        if system_id is not None:
            columns["system_id"] = np.full(n, system_id, dtype=COLUMNS["system_id"])
        # ESI writes "2025-03-28T15:14:18Z": numpy parses it without the zone designator.
        columns["issued"] = np.array([o["issued"][:19] for o in orders], dtype="datetime64[s]")
        columns["range"] = np.fromiter(
            (RANGE_CODES[o["range"]] for o in orders), dtype=np.int16, count=n
        )
    except KeyError as exc:
        raise InvalidOrders(f"an order lacks field or has unknown range {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidOrders(f"an order has a malformed value: {exc}") from exc
    columns["page"] = np.full(n, page, dtype=np.int16)
    return columns


def columns_from_pages(pages: Sequence[tuple[int, list[dict[str, Any]]]]) -> Arrays:
    """ESI order dicts, page by page, as unsorted columns (with each order's page number)."""
    return merge_columns([page_columns(page, rows) for page, rows in pages])


def check_orders(columns: Arrays) -> None:
    """Reject a set no real order book can be: duplicate ids, bad prices or volumes."""
    if has_duplicates(columns["order_id"]):
        raise InvalidOrders("duplicate order ids")
    price = columns["price"]
    if not np.all(np.isfinite(price)) or np.any(price <= 0):
        raise InvalidOrders("an order has a price that is not a positive number")
    if np.any(columns["volume_remain"] < 0) or np.any(
        columns["volume_remain"] > columns["volume_total"]
    ):
        raise InvalidOrders("an order has a remaining volume outside 0..volume_total")
    if np.any(columns["type_id"] <= 0):
        raise InvalidOrders("an order has no type")


def has_duplicates(values: npt.NDArray[Any]) -> bool:
    """Whether any value appears twice (numpy's vectorised sort: 3 ms for 380,000 ids,
    against 73 ms for np.unique and 43 ms for a Python set)."""
    ordered = np.sort(values)
    return bool(np.any(ordered[1:] == ordered[:-1]))


def sort_book(columns: Arrays) -> Arrays:
    """Sorted by type, then sells before buys, sells cheapest first and buys dearest first."""
    is_buy = columns["is_buy_order"]
    price_key = np.where(is_buy, -columns["price"], columns["price"])
    order = np.lexsort((columns["order_id"], price_key, is_buy, columns["type_id"]))
    return {name: values[order] for name, values in columns.items()}


def station_summary(book: Arrays) -> Arrays:
    """Best price, depth (units) and order count per (type, station, side) of a sorted book.

    In a sorted book the first order of each (type, side) run at a station is not always the
    best at that station, so group by (type, station, side) with a stable sort that keeps the
    price order inside each group.
    """
    keys = np.lexsort((book["location_id"], book["is_buy_order"], book["type_id"]))
    # lexsort is stable: within a (type, side, station) group the book's price order remains.
    type_id = book["type_id"][keys]
    is_buy = book["is_buy_order"][keys]
    location = book["location_id"][keys]
    n = len(keys)
    if n == 0:
        empty: Arrays = {
            "type_id": np.empty(0, np.int32),
            "location_id": np.empty(0, np.int64),
            "is_buy_order": np.empty(0, np.bool_),
            "best_price": np.empty(0, np.float64),
            "volume": np.empty(0, np.int64),
            "orders": np.empty(0, np.int64),
        }
        return empty
    boundary = np.ones(n, dtype=bool)
    boundary[1:] = (
        (type_id[1:] != type_id[:-1])
        | (is_buy[1:] != is_buy[:-1])
        | (location[1:] != location[:-1])
    )
    starts = np.flatnonzero(boundary)
    return {
        "type_id": type_id[starts],
        "location_id": location[starts],
        "is_buy_order": is_buy[starts],
        "best_price": book["price"][keys][starts],
        "volume": np.add.reduceat(book["volume_remain"][keys], starts),
        "orders": np.diff(np.append(starts, n)),
    }


class Snapshot:
    """A published, read-only order book of one region."""

    def __init__(self, meta: SnapshotMeta, book: Arrays, stations: Arrays) -> None:
        self.meta = meta
        self.book = book
        self.stations = stations
        self._parts: tuple[SnapshotMeta, ...] | None = None
        self._types, starts = np.unique(book["type_id"], return_index=True)
        self._starts = starts
        self._ends = np.append(starts[1:], len(book["type_id"]))

    @property
    def parts(self) -> tuple[SnapshotMeta, ...]:
        """The meta of each published book this one was made of: itself, unless it is a
        region's market merged with its structures' books (market/books.py)."""
        return self._parts or (self.meta,)

    @parts.setter
    def parts(self, metas: tuple[SnapshotMeta, ...]) -> None:
        self._parts = metas

    @classmethod
    def build(cls, meta: SnapshotMeta, columns: Arrays) -> Snapshot:
        check_orders(columns)
        book = sort_book(columns)
        return cls(meta, book, station_summary(book))

    # --- Serialisation -------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """One blob: a magic, a JSON index (name, dtype, shape, offset of each array), then
        the arrays' raw bytes, each at a 64-byte boundary. No zip container and no checksum
        to compute, and `from_bytes` reads the arrays in place, without copying them."""
        arrays = [(f"book.{k}", v) for k, v in self.book.items()]
        arrays += [(f"stations.{k}", v) for k, v in self.stations.items()]
        index, offset = [], 0
        for name, values in arrays:
            values = np.ascontiguousarray(values)
            index.append([name, values.dtype.str, list(values.shape), offset])
            offset += -(-values.nbytes // _ALIGN) * _ALIGN
        header = orjson.dumps(index)
        head = _MAGIC + len(header).to_bytes(8, "little") + header
        start = -(-len(head) // _ALIGN) * _ALIGN
        pieces: list[bytes | memoryview] = [head, bytes(start - len(head))]
        for _, values in arrays:
            raw = np.ascontiguousarray(values).view(np.uint8).reshape(-1).data
            pieces += [raw, bytes(-raw.nbytes % _ALIGN)]
        return b"".join(pieces)  # one copy of each array

    @classmethod
    def from_bytes(cls, meta: SnapshotMeta, blob: bytes) -> Snapshot:
        """The arrays are read-only views of `blob` (a snapshot is never changed)."""
        if not blob.startswith(_MAGIC):
            return cls._from_npz(meta, blob)  # written by an earlier version
        size = int.from_bytes(blob[len(_MAGIC) : len(_MAGIC) + 8], "little")
        index = orjson.loads(blob[len(_MAGIC) + 8 : len(_MAGIC) + 8 + size])
        start = -(-(len(_MAGIC) + 8 + size) // _ALIGN) * _ALIGN
        parts: dict[str, Arrays] = {"book": {}, "stations": {}}
        for name, dtype, shape, at in index:
            kind, column = name.split(".", 1)
            count = int(np.prod(shape)) if shape else 1
            values = np.frombuffer(blob, dtype=np.dtype(dtype), count=count, offset=start + at)
            parts[kind][column] = values.reshape(shape)
        return cls(meta, parts["book"], parts["stations"])

    @classmethod
    def _from_npz(cls, meta: SnapshotMeta, blob: bytes) -> Snapshot:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            book = {k.removeprefix("book."): data[k] for k in data.files if k.startswith("book.")}
            stations = {
                k.removeprefix("stations."): data[k]
                for k in data.files
                if k.startswith("stations.")
            }
        return cls(meta, book, stations)

    # --- Reads ---------------------------------------------------------------------------

    @property
    def type_ids(self) -> npt.NDArray[np.int32]:
        return self._types

    def has_type(self, type_id: int) -> bool:
        i = int(np.searchsorted(self._types, type_id))
        return i < len(self._types) and int(self._types[i]) == type_id

    def type_slice(self, type_id: int) -> slice:
        """Where one type's orders are in `book` (an empty slice when it has none)."""
        i = int(np.searchsorted(self._types, type_id))
        if i == len(self._types) or int(self._types[i]) != type_id:
            return slice(0, 0)
        return slice(int(self._starts[i]), int(self._ends[i]))

    def orders_of(self, type_id: int) -> Arrays:
        """One type's orders: sells cheapest first, then buys dearest first."""
        where = self.type_slice(type_id)
        return {name: values[where] for name, values in self.book.items()}

    def page_rows(self, page: int) -> Arrays:
        """The orders that came from one ESI page (unsorted columns, ready to rebuild from)."""
        mask = self.book["page"] == page
        return {name: values[mask] for name, values in self.book.items()}

    @cached_property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.book.values()) + sum(
            v.nbytes for v in self.stations.values()
        )


def order_dicts(columns: Arrays, rows: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Columns back to ESI-shaped dicts (for API answers of one type's book)."""
    n = len(columns["order_id"])
    indexes = range(n) if rows is None else rows
    issued = columns["issued"].astype("datetime64[s]").astype(str)
    return [
        {
            "order_id": int(columns["order_id"][i]),
            "type_id": int(columns["type_id"][i]),
            "location_id": int(columns["location_id"][i]),
            "system_id": int(columns["system_id"][i]),
            "is_buy_order": bool(columns["is_buy_order"][i]),
            "price": float(columns["price"][i]),
            "volume_remain": int(columns["volume_remain"][i]),
            "volume_total": int(columns["volume_total"][i]),
            "min_volume": int(columns["min_volume"][i]),
            "duration": int(columns["duration"][i]),
            "issued": f"{issued[i]}Z",
            "range": RANGE_NAMES.get(int(columns["range"][i]), str(int(columns["range"][i]))),
        }
        for i in indexes
    ]


def merge_columns(parts: Sequence[Arrays]) -> Arrays:
    """Concatenate column sets (fresh pages and pages reused from the previous snapshot)."""
    parts = [p for p in parts if len(p["order_id"])] or list(parts[:1])
    if not parts:
        return {name: np.empty(0, dtype=dtype) for name, dtype in COLUMNS.items()}
    return {name: np.concatenate([p[name] for p in parts]) for name in COLUMNS}


def utc_iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None

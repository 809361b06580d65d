"""Shared pieces of the profit engines: SDE facts about types as arrays, sorting of result
columns, segmented array helpers, and the description of the snapshot a figure came from.

The engines (`profit/station.py`, `profit/hauling.py`, `profit/calculator.py`) work on numpy
columns of a market `Snapshot`; everything they need from the SDE per type (name, packaged
volume, market group, group, category) is read once per installed SDE into sorted arrays here,
so a scan never touches the ORM per row. Places and their names are `sde.places`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from market.pricegrid import grid_round, price_below
from market.snapshot import Snapshot
from sde.models import InvGroup, InvMarketGroup, InvType, InvVolume
from sde.selectors import per_installed_sde

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Columns = dict[str, npt.NDArray[Any]]


# --- Types ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeTable:
    """Every SDE type as sorted arrays: what the engines need to know about an item."""

    type_ids: IntArray  # sorted
    names: list[str]
    packaged_volume: FloatArray  # m3: invVolumes when the type has a row there, else invTypes
    volume: FloatArray  # m3 as invTypes has it: an assembled ship's, a container's
    market_group_id: IntArray  # -1 for none
    category_id: IntArray  # -1 for none
    group_id: IntArray  # -1 for none
    group_names: dict[int, str]  # every group's name ("Group <id>" where the SDE has none)

    def index(self, type_ids: npt.ArrayLike) -> tuple[IntArray, BoolArray]:
        """Positions of `type_ids` in the table and whether each was found."""
        wanted = np.asarray(type_ids, dtype=np.int64)
        pos = np.searchsorted(self.type_ids, wanted)
        pos = np.minimum(pos, max(len(self.type_ids) - 1, 0))
        found = self.type_ids[pos] == wanted if len(self.type_ids) else np.zeros(len(wanted), bool)
        return pos.astype(np.int64), found

    def volumes(self, type_ids: npt.ArrayLike) -> FloatArray:
        """Packaged volume (m3) per type; NaN for a type the SDE does not know."""
        pos, found = self.index(type_ids)
        if not len(self.type_ids):
            return np.full(len(pos), np.nan)
        return np.where(found, self.packaged_volume[pos], np.nan)

    def assembled_volumes(self, type_ids: npt.ArrayLike) -> FloatArray:
        """Volume (m3) per type as the SDE gives it, unpackaged; NaN for an unknown type."""
        pos, found = self.index(type_ids)
        if not len(self.type_ids):
            return np.full(len(pos), np.nan)
        return np.where(found, self.volume[pos], np.nan)

    def name(self, type_id: int) -> str:
        pos, found = self.index([type_id])
        return self.names[int(pos[0])] if bool(found[0]) else f"Type {type_id}"

    def group_name(self, type_id: int) -> str | None:
        """The name of the type's group (None for an unknown type or one with no group)."""
        pos, found = self.index([type_id])
        group = int(self.group_id[int(pos[0])]) if bool(found[0]) else -1
        return self.group_names.get(group) if group >= 0 else None

    def categories(self, type_ids: npt.ArrayLike) -> IntArray:
        """The category of each type (-1 for none or an unknown type)."""
        pos, found = self.index(type_ids)
        if not len(self.type_ids):
            return np.full(len(pos), -1, dtype=np.int64)
        return np.where(found, self.category_id[pos], -1)

    def in_market_groups(self, type_ids: npt.ArrayLike, groups: IntArray) -> BoolArray:
        pos, found = self.index(type_ids)
        if not len(self.type_ids):
            return np.zeros(len(pos), dtype=bool)
        return found & np.isin(self.market_group_id[pos], groups)

    def in_category(self, type_ids: npt.ArrayLike, category_id: int) -> BoolArray:
        pos, found = self.index(type_ids)
        if not len(self.type_ids):
            return np.zeros(len(pos), dtype=bool)
        return found & (self.category_id[pos] == category_id)


@per_installed_sde
def type_table() -> TypeTable:
    groups = list(InvGroup.objects.values_list("group_id", "group_name", "category_id"))
    categories = {group_id: category for group_id, _, category in groups}
    packaged = {
        type_id: volume
        for type_id, volume in InvVolume.objects.values_list("type_id", "volume")
        if volume is not None
    }
    rows = sorted(
        InvType.objects.values_list("type_id", "type_name", "volume", "market_group_id", "group_id")
    )
    return TypeTable(
        type_ids=np.array([r[0] for r in rows], dtype=np.int64),
        names=[r[1] or f"Type {r[0]}" for r in rows],
        packaged_volume=np.array(
            [packaged.get(r[0], r[2] if r[2] is not None else np.nan) for r in rows],
            dtype=np.float64,
        ),
        volume=np.array([r[2] if r[2] is not None else np.nan for r in rows], dtype=np.float64),
        market_group_id=np.array([r[3] if r[3] is not None else -1 for r in rows], np.int64),
        category_id=np.array(
            [
                c if (c := categories.get(r[4]) if r[4] is not None else None) is not None else -1
                for r in rows
            ],
            dtype=np.int64,
        ),
        group_id=np.array([r[4] if r[4] is not None else -1 for r in rows], np.int64),
        group_names={group_id: name or f"Group {group_id}" for group_id, name, _ in groups},
    )


@per_installed_sde
def _market_group_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for group_id, parent_id in InvMarketGroup.objects.values_list(
        "market_group_id", "parent_group_id"
    ):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(group_id)
    return children


def market_group_and_descendants(market_group_id: int) -> IntArray:
    """The group and every group below it in invMarketGroups (a market group filter means
    "anything listed under it", e.g. Ships includes Frigates > Standard Frigates > Caldari)."""
    children = _market_group_children()
    found = {market_group_id}
    stack = [market_group_id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return np.array(sorted(found), dtype=np.int64)


def in_item_filters(
    type_ids: npt.ArrayLike, market_group_id: int | None, category_id: int | None
) -> npt.NDArray[np.bool_]:
    """Which types pass a market group filter (the group and every group below it) and a
    category filter (None: no filter)."""
    types = np.asarray(type_ids, dtype=np.int64)
    keep = np.ones(len(types), dtype=bool)
    if market_group_id is not None:
        groups = market_group_and_descendants(market_group_id)
        keep &= type_table().in_market_groups(types, groups)
    if category_id is not None:
        keep &= type_table().in_category(types, category_id)
    return keep


def type_names(type_ids: npt.ArrayLike) -> npt.NDArray[Any]:
    """The SDE name of each type id ("Type <id>" for one the SDE does not know)."""
    table = type_table()
    ids = np.asarray(type_ids, dtype=np.int64)
    pos, found = table.index(ids)
    return np.array(
        [
            table.names[p] if f else f"Type {t}"
            for p, f, t in zip(pos.tolist(), found.tolist(), ids.tolist(), strict=True)
        ],
        dtype=object,
    )


# --- Keyed lookups -------------------------------------------------------------------------

LOCATION_BITS = 44  # location ids are below 2^44 (structures reach about 1.1 x 10^12)


def type_location_keys(type_ids: npt.ArrayLike, location_ids: npt.ArrayLike) -> IntArray:
    """One int64 key per (type, location): type << 44 | location (arrays broadcast)."""
    keys: IntArray = (np.asarray(type_ids, dtype=np.int64) << LOCATION_BITS) | np.asarray(
        location_ids, dtype=np.int64
    )
    return keys


def lookup(
    keys: IntArray, values: npt.NDArray[Any], wanted: npt.ArrayLike, missing: float
) -> FloatArray:
    """The value of each wanted key in sorted `keys` (parallel to `values`), `missing` where
    a key is not there."""
    wanted = np.asarray(wanted, dtype=np.int64)
    if not len(keys):
        return np.full(len(wanted), missing)
    pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found: FloatArray = np.where(keys[pos] == wanted, values[pos], missing)
    return found


# --- Listing prices ------------------------------------------------------------------------

# How a sell order's price was chosen (the `list_price_basis` of rows and listings).
UNDERCUT, HISTORY, UNCHECKED = "undercut", "history", "unchecked"


def listing_prices(best_ask: FloatArray, history_high: FloatArray) -> tuple[FloatArray, Any]:
    """The price of a new sell order under each best ask: one step of EVE's price grid
    under it (UNDERCUT), but never above the median of the daily highest prices of the last
    30 days there, down to the grid (HISTORY), when that history is known (else UNCHECKED).
    NaN where nothing is below the ask (0.01 ISK)."""
    undercut = price_below(best_ask)
    known = ~np.isnan(history_high)
    bound = np.full(len(history_high), np.inf)
    if known.any():
        bound[known] = grid_round(history_high[known], "down")
    capped = bound < undercut
    basis = np.where(capped, HISTORY, UNDERCUT).astype(object)
    basis[~known] = UNCHECKED
    return np.where(capped, bound, undercut), basis


# --- Snapshots -----------------------------------------------------------------------------


def snapshot_ref(snapshot: Snapshot) -> dict[str, Any]:
    """Which snapshot a figure came from: region, generation, ESI's Last-Modified, source."""
    meta = snapshot.meta
    return {
        "region_id": meta.region_id,
        "generation": meta.generation,
        "esi_last_modified": meta.esi_last_modified,
        "source": meta.source,
    }


# --- Segmented arrays ----------------------------------------------------------------------


def group_starts(keys: npt.NDArray[Any]) -> IntArray:
    """Start index of each run of equal values in `keys` (which is grouped already)."""
    n = len(keys)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    boundary = np.ones(n, dtype=bool)
    boundary[1:] = keys[1:] != keys[:-1]
    return np.flatnonzero(boundary).astype(np.int64)


def segment_ids(lengths: IntArray) -> IntArray:
    """For segments of the given lengths laid end to end: the segment of each element."""
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


def ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenated `arange(start, start + length)` for each segment (no Python loop)."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths  # where each segment begins in the output
    return np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, lengths)


def exclusive_cumsum(values: npt.NDArray[Any], segment: IntArray) -> npt.NDArray[Any]:
    """Per element, the sum of the earlier elements of its segment (segments contiguous)."""
    if len(values) == 0:
        return values.copy()
    total = np.cumsum(values)
    before = total - values
    starts = group_starts(segment)
    base = np.repeat(before[starts], np.diff(np.append(starts, len(values))))
    result: npt.NDArray[Any] = before - base
    return result


def cross_join(left: IntArray, right: IntArray) -> tuple[IntArray, IntArray]:
    """Every (i, j) with left[i] == right[j], both inputs sorted ascending: index arrays."""
    lu, l_start, l_count = np.unique(left, return_index=True, return_counts=True)
    ru, r_start, r_count = np.unique(right, return_index=True, return_counts=True)
    common, li, ri = np.intersect1d(lu, ru, assume_unique=True, return_indices=True)
    if not len(common):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    ls, lc, rs, rc = l_start[li], l_count[li], r_start[ri], r_count[ri]
    pairs = lc * rc
    key = segment_ids(pairs)
    within = np.arange(int(pairs.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(pairs) - pairs, pairs
    )
    i = ls[key] + within // rc[key]
    j = rs[key] + within % rc[key]
    return i.astype(np.int64), j.astype(np.int64)


# --- Result rows ---------------------------------------------------------------------------


def rows_from_columns(
    columns: Mapping[str, npt.NDArray[Any]],
    fields: Sequence[str],
    decimals: Mapping[str, int],
    text: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Result columns as JSON-ready dicts with the keys in `fields` order: the fields in
    `decimals` rounded to that many places (NaN becomes None), `text` as str, the rest int."""
    lists: list[list[Any]] = []
    for name in fields:
        values = columns[name]
        if name in decimals:
            rounded = np.round(values.astype(np.float64), decimals[name])
            as_list = rounded.tolist()
            if np.isnan(rounded).any():
                as_list = [None if v != v else v for v in as_list]
        elif name in text:
            as_list = [str(v) for v in values.tolist()]
        else:
            as_list = values.astype(np.int64).tolist()
        lists.append(as_list)
    return [dict(zip(fields, row, strict=True)) for row in zip(*lists, strict=True)]


class LazyRows(Sequence[dict[str, Any]]):
    """Ranked result columns made into rows (`make(columns)`: a list of dicts) only for the
    positions read: a search ranks thousands of rows and an answer shows a page of them
    (`rows[a:b]`; iterating makes them all, a thousand at a time).

    `order`: the rows, as positions in `columns` (the kept columns a ranking came from are
    shared, not copied)."""

    CHUNK = 1000

    def __init__(
        self,
        columns: Mapping[str, npt.NDArray[Any]],
        make: Callable[[dict[str, npt.NDArray[Any]]], list[dict[str, Any]]],
        order: npt.NDArray[np.int64],
    ) -> None:
        self._columns = columns
        self._make_part = make
        self._order = order
        self._n = len(order)

    def head(self, n: int) -> LazyRows:
        """The first `n` rows, made as they are read too."""
        return LazyRows(self._columns, self._make_part, self._order[: max(n, 0)])

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._n)
            rows = self._make(start, max(stop, start))
            return rows[::step] if step != 1 else rows
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError("row index out of range")
        return self._make(index, index + 1)[0]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, self._n, self.CHUNK):
            yield from self._make(start, min(start + self.CHUNK, self._n))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def _make(self, start: int, stop: int) -> list[dict[str, Any]]:
        at = self._order[start:stop]
        return self._make_part({name: values[at] for name, values in self._columns.items()})


# --- Sorting result columns ----------------------------------------------------------------


class UnknownSortField(ValueError):
    """A sort names a field the rows do not have."""


def sort_order(
    columns: Mapping[str, npt.NDArray[Any]],
    sort: str,
    fields: Sequence[str],
    tie_breakers: Sequence[str],
) -> IntArray:
    """Row order for `sort` ("field" ascending, "-field" descending) over result columns.

    Missing values (NaN) sort last either way; ties are broken by `tie_breakers` (ascending;
    "-field": descending, for numbers), so the order never depends on the order the
    snapshot's orders came in.
    """
    name = sort.removeprefix("-")
    if name not in fields or name not in columns:
        raise UnknownSortField(f"Cannot sort by {name!r}; fields: {', '.join(fields)}.")
    descending = sort.startswith("-")
    values = columns[name]
    keys: list[npt.NDArray[Any]] = [
        -np.nan_to_num(columns[t[1:]].astype(np.float64), nan=-np.inf)
        if t.startswith("-")
        else columns[t]
        for t in reversed(tie_breakers)
    ]
    if values.dtype.kind in "OUS":  # text: sort by rank of the value
        _, rank = np.unique(values.astype(str), return_inverse=True)
        keys.append(-rank if descending else rank)
        keys.append(np.zeros(len(values), dtype=bool))
    else:
        numeric = values.astype(np.float64)
        missing = np.isnan(numeric)
        filled = np.where(missing, 0.0, numeric)
        keys.append(-filled if descending else filled)
        keys.append(missing)  # primary: present values first
    return np.lexsort(keys).astype(np.int64)

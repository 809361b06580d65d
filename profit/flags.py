"""Warnings on a profit row: the trades a ranking should not lead with, named, counted, and
one parameter away.

Every row of station trading and hauling carries `flags`, a list of these codes:

- `thin`: the market barely trades it. Station trading: the trader could expect to move
  under one unit a day there (`daily_units` < 1). Hauling, list mode: the destination sells
  under one unit a day. (Instant hauling sells into bids already standing: never thin.)
- `off_history`: its prices are far from what traded there over 30 days: a price outside
  [mid / HISTORY_BAND, mid x HISTORY_BAND], mid being the median of the days' average prices
  (`profit.volumes.history_mid`). Station trading checks the buy order's price (a bid far
  under the market is rarely filled) and the sell order's; hauling the average buy at the
  source and the average sale at the destination.
- `volume_unknown`: the daily volume is not known yet (the history fill has not reached the
  type): its daily figures are blank and it ranks last by them.

`hide` (a parameter of both engines and their endpoints) names the flags whose rows are left
out: by default `thin` and `off_history`; `none` shows everything. Answers count what each
flag hid (`hidden`), so a page can say "12 thin trades hidden" with a link that shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

THIN = "thin"
OFF_HISTORY = "off_history"
VOLUME_UNKNOWN = "volume_unknown"
CODES = (THIN, OFF_HISTORY, VOLUME_UNKNOWN)
BITS = {code: 1 << i for i, code in enumerate(CODES)}
DEFAULT_HIDDEN = frozenset({THIN, OFF_HISTORY})
# A price outside [mid / band, mid x band] is far from what traded.
HISTORY_BAND = 2.0
# Under this many units a day, a market is thin.
THIN_UNITS_PER_DAY = 1.0

TITLES = {
    THIN: "Thin market: under one unit a day would move here",
    OFF_HISTORY: "Prices far from what traded here over 30 days (under half or over twice "
    "the median daily average)",
    VOLUME_UNKNOWN: "Daily volume not known yet: the history fill has not reached this type",
}
LABELS = {THIN: "thin", OFF_HISTORY: "far from history", VOLUME_UNKNOWN: "volume unknown"}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def parse_hide(value: str | Iterable[str] | None) -> frozenset[str]:
    """The flags to hide from "thin,off_history", "none" or "" (nothing), or None (default).
    Raises ValueError naming the codes a user may give."""
    if value is None:
        return DEFAULT_HIDDEN
    parts = value.split(",") if isinstance(value, str) else list(value)
    codes = {p.strip() for p in parts if p.strip()}
    if codes <= {"none"}:
        return frozenset()
    unknown = codes - set(CODES)
    if unknown:
        raise ValueError(
            f"Unknown flag {', '.join(sorted(unknown))}: give any of {', '.join(CODES)}, "
            "or none to show every row."
        )
    return frozenset(codes)


def hide_param(hidden: Iterable[str]) -> str:
    """The `hide` value for these flags (the inverse of parse_hide)."""
    codes = [c for c in CODES if c in set(hidden)]
    return ",".join(codes) or "none"


def off_history(prices: FloatArray, mid: FloatArray) -> npt.NDArray[np.bool_]:
    """Where a price lies outside the band around the history's mid (unknown mid: never)."""
    with np.errstate(invalid="ignore"):
        far = (prices < mid / HISTORY_BAND) | (prices > mid * HISTORY_BAND)
    result: npt.NDArray[np.bool_] = far & ~np.isnan(mid) & ~np.isnan(prices)
    return result


def mask(**conditions: npt.NDArray[np.bool_]) -> IntArray:
    """The flags bitmask of each row from a boolean array per code."""
    n = len(next(iter(conditions.values())))
    bits = np.zeros(n, dtype=np.int64)
    for code, condition in conditions.items():
        bits |= np.where(condition, BITS[code], 0)
    return bits


def hidden_rows(bits: IntArray, hide: frozenset[str]) -> npt.NDArray[np.bool_]:
    """Rows carrying any flag in `hide`."""
    wanted = sum(BITS[code] for code in hide)
    result: npt.NDArray[np.bool_] = (bits & wanted) != 0
    return result


def hidden_counts(bits: IntArray, hide: frozenset[str]) -> dict[str, int]:
    """How many rows each hidden flag left out (a row with two counts under both)."""
    return {code: int(np.count_nonzero(bits & BITS[code])) for code in CODES if code in hide}


def names(bits: int) -> list[str]:
    """A row's flag codes."""
    return [code for code in CODES if bits & BITS[code]]


def explained(hidden: Mapping[str, int]) -> list[dict[str, object]]:
    """The hidden counts as {code, label, count, title} for a page, non-zero only."""
    return [
        {"code": code, "label": LABELS[code], "count": count, "title": TITLES[code]}
        for code, count in hidden.items()
        if count
    ]

"""EVE's price grid: the prices the game accepts for a market order.

Since the Broker Relations update of 2020 an order's price has at most four significant
digits and at most two decimals. In cents (hundredths of an ISK), a price of `d` digits is a
multiple of 10^(d - 4), or of 1 cent under 100 ISK:

    99.99      -> step 0.01          123.4      -> step 0.1
    900,000    -> step 100           1,000,000  -> step 1,000
    999,900 is the last price below 1,000,000; 900,100 the first above 900,000.

An outbid or an undercut is one step of this grid, never a flat 0.01 ISK: `price_above(p)`
is the lowest valid price strictly above `p` (a new buy order over a bid of `p`) and
`price_below(p)` the highest valid price strictly below `p` (a new sell order under an ask
of `p`). Both work on numpy arrays and on single floats, for any positive price (one that
is itself off the grid included). There is no valid price below 0.01: `price_below` gives
NaN there; NaN, an infinite, a negative price or one above 10^15 ISK gives NaN too.
`grid_round` rounds to the nearest valid price in a given direction (the demo market's
prices; never below 0.01).

Everything is computed in whole cents (int64: 10^11 ISK is 10^13 cents), so no float
arithmetic moves a price off the grid.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
SIGNIFICANT_DIGITS = 4
MIN_PRICE = 0.01

# 10^k for k = 0..18: a step in cents is one of these.
_POWERS = 10 ** np.arange(19, dtype=np.int64)


def _cents_step(cents: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The grid step (in cents) of the decade each positive cent amount lies in."""
    digits = np.floor(np.log10(np.maximum(cents, 1))).astype(np.int64) + 1
    # log10 can land a hair under an exact power of ten: correct the digit count.
    digits = np.where(cents >= _POWERS[np.minimum(digits, 18)], digits + 1, digits)
    digits = np.where(cents < _POWERS[np.maximum(digits - 1, 0)], digits - 1, digits)
    step: npt.NDArray[np.int64] = _POWERS[np.maximum(digits - SIGNIFICANT_DIGITS, 0)]
    return step


def _next_up(cents: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The lowest grid price (in cents) strictly above each whole-cent amount."""
    step = _cents_step(cents)
    result: npt.NDArray[np.int64] = (cents // step + 1) * step
    return np.maximum(result, 1)


def _next_down(cents: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The highest grid price (in cents) strictly below each whole-cent amount; 0 if none."""
    below = np.maximum(cents - 1, 0)
    step = _cents_step(below)
    result: npt.NDArray[np.int64] = (below // step) * step
    return result


# Prices this grid answers for: up to 10^15 ISK (far above any order; int64 cents hold it).
MAX_PRICE = 1e15


def _usable(price: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """The prices with the ones there is no answer for (NaN, infinite, negative, above
    MAX_PRICE) replaced by 1 ISK, and which those were (their answer is NaN)."""
    bad = ~np.isfinite(price) | (price < 0) | (price > MAX_PRICE)
    return np.where(bad, 1.0, price), bad


def _above(price: FloatArray) -> FloatArray:
    # From the whole cents under the price, then one correction each way, decided by
    # comparing floats: a price a hair off a grid value (float noise) is treated exactly as
    # the float it is, so the answer is strictly above it and the nearest such.
    price, bad = _usable(price)
    cents = _next_up(np.floor(price * 100.0).astype(np.int64))
    cents = np.where(cents / 100.0 <= price, _next_up(cents), cents)
    lower = _next_down(cents)
    cents = np.where((lower >= 1) & (lower / 100.0 > price), lower, cents)
    return np.where(bad, np.nan, cents / 100.0)


def _below(price: FloatArray) -> FloatArray:
    price, bad = _usable(price)
    cents = _next_down(np.ceil(price * 100.0).astype(np.int64))
    cents = np.where((cents >= 1) & (cents / 100.0 >= price), _next_down(cents), cents)
    upper = _next_up(cents)
    cents = np.where(upper / 100.0 < price, upper, cents)
    return np.where((cents >= 1) & ~bad, cents / 100.0, np.nan)


def _up(price: FloatArray) -> FloatArray:
    below = _below(price)
    start = np.where(np.isnan(below), 0.0, below)  # nothing below: from 0, up to 0.01
    # the lowest valid price strictly above the one below: the price itself, or the next
    return np.where(_usable(price)[1], np.nan, _above(start))


def _down(price: FloatArray) -> FloatArray:
    return _below(_above(price))  # the highest valid price strictly below the one above


@overload
def price_above(price: float) -> float: ...
@overload
def price_above(price: npt.ArrayLike) -> FloatArray: ...
def price_above(price: Any) -> Any:
    """The lowest price the game accepts that is strictly above `price` (an outbid)."""
    return _apply(_above, price)


@overload
def price_below(price: float) -> float: ...
@overload
def price_below(price: npt.ArrayLike) -> FloatArray: ...
def price_below(price: Any) -> Any:
    """The highest price the game accepts that is strictly below `price` (an undercut);
    NaN when there is none (at or below 0.01 ISK)."""
    return _apply(_below, price)


def grid_round(price: npt.ArrayLike, direction: str = "nearest") -> FloatArray:
    """Each price on the grid: itself when valid, else the valid price above (`up`), below
    (`down`) or the nearer of the two (`nearest`); never below 0.01 ISK."""
    values = np.maximum(np.asarray(price, dtype=np.float64), MIN_PRICE)
    up, down = _up(values), _down(values)
    if direction == "up":
        return up
    if direction == "down":
        return down
    if direction != "nearest":
        raise ValueError("direction must be 'up', 'down' or 'nearest'")
    return np.where(up - values < values - down, up, down)


def on_grid(price: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each price is one the game accepts."""
    values = np.asarray(price, dtype=np.float64)
    return (values >= MIN_PRICE) & (grid_round(values, "down") == values)


def _apply(function: Any, price: Any) -> Any:
    values = np.asarray(price, dtype=np.float64)
    result = function(np.atleast_1d(values))
    if values.ndim == 0:
        return float(result[0])
    return result.reshape(values.shape)

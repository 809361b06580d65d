"""EVE's price grid (market/pricegrid.py) against a brute-force list of every valid price.

The reference below writes the grid out from the rule itself (at most 4 significant digits,
at most 2 decimals, at least 0.01 ISK), decade by decade in exact decimals, and answers
"the next valid price above / below" by binary search in that list: nothing of the code
under test is reused.
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.pricegrid import grid_round, on_grid, price_above, price_below


@cache
def reference_grid() -> list[Decimal]:
    """Every valid price from 0.01 to 10^12 ISK, ascending."""
    prices: list[Decimal] = []
    for exponent in range(-2, 12):  # decades [10^e, 10^(e+1))
        step = max(Decimal(10) ** (exponent - 3), Decimal("0.01"))
        low = Decimal(10) ** exponent
        count = int((Decimal(10) ** (exponent + 1) - low) / step)
        prices.extend(low + i * step for i in range(count))
    prices.append(Decimal(10) ** 12)
    return prices


def ref_above(price: float) -> float:
    grid = reference_grid()
    return float(grid[bisect.bisect_right(grid, Decimal(repr(price)))])


def ref_below(price: float) -> float:
    grid = reference_grid()
    i = bisect.bisect_left(grid, Decimal(repr(price)))
    return float(grid[i - 1]) if i > 0 else float("nan")


# The rule's own examples (DESIGN.md, issue 11), worked by hand.
@pytest.mark.parametrize(
    ("price", "above", "below"),
    [
        (900_000.0, 900_100.0, 899_900.0),  # 6 digits: steps of 100
        (1_250_000.0, 1_251_000.0, 1_249_000.0),  # 7 digits: steps of 1,000
        (1_000_000.0, 1_001_000.0, 999_900.0),  # below a power of ten the step is smaller
        (999_900.0, 1_000_000.0, 999_800.0),
        (99.99, 100.0, 99.98),  # under 100 ISK: cents
        (100.0, 100.1, 99.99),  # 100 to 999.9: tenths
        (5.0, 5.01, 4.99),
        (0.01, 0.02, float("nan")),  # nothing is cheaper than 0.01
        (1_234_000.0, 1_235_000.0, 1_233_000.0),
        (1_234_567.0, 1_235_000.0, 1_234_000.0),  # off the grid: the nearest valid each way
        (0.015, 0.02, 0.01),
        (123_456_789_000.0, 123_500_000_000.0, 123_400_000_000.0),
    ],
)
def test_examples(price: float, above: float, below: float) -> None:
    assert price_above(price) == above
    assert price_below(price) == below or (np.isnan(below) and np.isnan(price_below(price)))


def test_no_price_inside_a_one_step_spread() -> None:
    """Bid 1,234,000 and ask 1,235,000: the outbid is the ask, the undercut is the bid."""
    assert price_above(1_234_000.0) == 1_235_000.0
    assert price_below(1_235_000.0) == 1_234_000.0


def test_arrays_keep_their_shape() -> None:
    prices = np.array([[900_000.0, 99.99], [1_000_000.0, 4.07]])
    assert price_above(prices).tolist() == [[900_100.0, 100.0], [1_001_000.0, 4.08]]
    assert price_below(prices).tolist() == [[899_900.0, 99.98], [999_900.0, 4.06]]


def test_grid_round() -> None:
    prices = np.array([4.0749, 2_976_123_456.0, 0.001, 123.456, 99_999.0, 4.07])
    assert grid_round(prices).tolist() == [4.07, 2_976_000_000.0, 0.01, 123.5, 100_000.0, 4.07]
    assert grid_round(prices, "up").tolist() == [
        4.08,
        2_977_000_000.0,
        0.01,
        123.5,
        100_000.0,
        4.07,
    ]
    assert grid_round(prices, "down").tolist() == [
        4.07,
        2_976_000_000.0,
        0.01,
        123.4,
        99_990.0,
        4.07,
    ]
    with pytest.raises(ValueError):
        grid_round(prices, "sideways")


def test_on_grid() -> None:
    assert on_grid([0.01, 99.99, 100.1, 1_249_000.0, 100.15, 1_234_567.0, 0.005]).tolist() == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]


# Prices from 0.01 to 10^11 ISK, spread over every decade, with and without cents.
prices = st.one_of(
    st.floats(min_value=0.01, max_value=1e11, allow_nan=False, allow_infinity=False),
    st.integers(min_value=1, max_value=10**13).map(lambda cents: cents / 100),
    st.builds(
        lambda mantissa, exponent: mantissa * 10.0**exponent,
        st.integers(min_value=1, max_value=9999),
        st.integers(min_value=-2, max_value=7),
    ),
)


@settings(max_examples=600, deadline=None)
@given(prices)
def test_above_is_the_nearest_valid_price_strictly_above(price: float) -> None:
    above = price_above(price)
    assert above > price
    assert bool(on_grid(above))
    assert above == ref_above(price)


@settings(max_examples=600, deadline=None)
@given(prices)
def test_below_is_the_nearest_valid_price_strictly_below(price: float) -> None:
    below = price_below(price)
    expected = ref_below(price)
    if np.isnan(expected):
        assert np.isnan(below)
        return
    assert below < price
    assert bool(on_grid(below))
    assert below == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(prices, min_size=1, max_size=50))
def test_vectorised_equals_one_by_one(values: list[float]) -> None:
    array = np.array(values)
    assert price_above(array).tolist() == [price_above(v) for v in values]
    below = price_below(array)
    for got, value in zip(below.tolist(), values, strict=True):
        one = price_below(value)
        assert got == one or (np.isnan(got) and np.isnan(one))


def test_no_answer_for_what_is_no_price():
    bad = np.array([np.nan, np.inf, -np.inf, -5.0, 1e17])
    assert np.isnan(price_above(bad)).all()
    assert np.isnan(price_below(bad)).all()
    no_price = np.array([np.nan, np.inf, 1e17])
    assert np.isnan(grid_round(no_price, "up")).all()
    assert np.isnan(grid_round(no_price, "down")).all()
    assert grid_round(np.array([-5.0]), "up").tolist() == [0.01]  # never below 0.01
    assert np.isnan(price_above(float("nan")))
    # The rest of an array is answered as usual.
    assert price_above(np.array([np.nan, 900_000.0]))[1] == 900_100.0

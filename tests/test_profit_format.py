"""The number formats of the profit pages (profit/templatetags/profit_format.py).

Every expected string is worked out by hand from the rule in the comment above it, never
copied from the code's output. The rules: docs/profit-pages.md, "Figures".
"""

from __future__ import annotations

import pytest
from django.template import Context, Template

from profit.templatetags.profit_format import (
    amount,
    compact,
    flag_mark,
    isk,
    isk_exact,
    isk_short,
    pct,
    place_short,
    price,
    rate,
    volume,
)

NOTHING = "—"


# A price: grouped, cents only where there are any (EVE prices >= 1,000 never have cents).
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5.37, "5.37"),
        (4.5, "4.50"),  # 4.50 ISK has cents: both digits
        (4.0, "4"),
        (1_234_000.0, "1,234,000"),
        (791_700_000, "791,700,000"),
        (1_234_567.891, "1,234,567.89"),  # a profit after fees: to the cent
        (0.005, "0.01"),  # half a cent rounds up, away from zero
        (-1_520.25, "-1,520.25"),
        (-0.001, "0"),  # no "-0"
        (None, NOTHING),
        ("", NOTHING),
        ("abc", NOTHING),
        (float("nan"), NOTHING),
        (float("inf"), NOTHING),
    ],
)
def test_a_price_has_cents_only_where_it_has_any(value, expected):
    assert price(value) == expected


def test_a_statement_keeps_its_cents():
    # isk: two decimals always, for columns of statements where cents line up.
    assert isk(4) == "4.00"
    assert isk(1_234_567.891) == "1,234,567.89"
    assert isk(None) == NOTHING


# Compact ISK: the exact price under 1,000; whole ISK under 10,000; then four significant
# digits with K, M, B or T and trailing zeros dropped.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5.37, "5.37"),
        (0.03, "0.03"),
        (999.5, "999.50"),
        (1_534.5, "1,535"),  # whole ISK: 1,534.5 rounds half up
        (9_999.4, "9,999"),
        (9_999.6, "10K"),  # 10,000 is already the compact range
        (12_500, "12.5K"),  # 12.50 K, zero dropped
        (28_510.01, "28.51K"),
        (791_700_000, "791.7M"),
        (791_749_999, "791.7M"),  # 791.749999 M to four digits
        (1_240_000_000, "1.24B"),
        (1_243_500_000, "1.244B"),  # 1.2435 B: half rounds up
        (50_700_000_000, "50.7B"),
        (310_600_000_000, "310.6B"),
        (999_950, "1M"),  # 999.95 K to four digits is 1,000 K: one million
        (2_000_000_000_000, "2T"),
        (-12_500, "-12.5K"),
        (None, NOTHING),
    ],
)
def test_compact_isk_has_four_significant_digits_and_a_suffix(value, expected):
    assert isk_short(value) == expected


@pytest.mark.parametrize(
    "value",
    # Every price of EVE's grid keeps all its digits compact (4 significant digits).
    [12_340.0, 123_400.0, 1_234_000.0, 12_340_000.0, 123_400_000.0, 1_234_000_000.0],
)
def test_a_price_from_the_grid_loses_nothing_compact(value):
    text = isk_short(value)
    number, suffix = float(text[:-1]), text[-1]
    assert number * {"K": 1e3, "M": 1e6, "B": 1e9}[suffix] == pytest.approx(value)


def test_the_exact_value_for_a_title():
    assert isk_exact(791_700_000) == "791,700,000 ISK"
    assert isk_exact(5.37) == "5.37 ISK"
    assert isk_exact(None) == ""


# A fee or tax rate: as many decimals as it has, up to a thousandth of a percent.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.03375, "3.375 %"),  # 7.5 % x (1 - 11 % x 5) = 3.375 %
        (0.0145, "1.45 %"),  # 3 % - 0.3 % x 5 - 0.03 % x 1.67 ... a broker fee
        (0.075, "7.5 %"),
        (0.03, "3 %"),
        (0.01, "1 %"),
        (0.0, "0 %"),
        (None, NOTHING),
    ],
)
def test_a_rate_has_the_precision_it_has(value, expected):
    assert rate(value) == expected


def test_a_ratio_has_fixed_digits():
    assert pct(0.1234) == "12.3 %"
    assert pct(0.1234, 2) == "12.34 %"
    assert pct(None) == NOTHING


# A count or volume: whole numbers grouped, one decimal from 1, two significant digits under 1.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, "12"),
        (1_234.5, "1,234.5"),
        (1_234.96, "1,235"),  # 1,235.0: the zero dropped
        (0.01, "0.01"),  # a blueprint's volume, not "0.0"
        (0.0025, "0.0025"),
        (0.25, "0.25"),
        (0.123, "0.12"),
        (5_200_000.0, "5,200,000"),
        (None, NOTHING),
    ],
)
def test_an_amount_is_never_zero_when_it_is_not(value, expected):
    assert amount(value) == expected


def test_a_volume_carries_its_unit():
    assert volume(0.01) == "0.01 m³"
    assert volume(None) == NOTHING


# Compact counts: as amount under 10,000, then four significant digits and a suffix.
@pytest.mark.parametrize(
    ("value", "expected"),
    [(774, "774"), (9_999, "9,999"), (413_200, "413.2K"), (119_000_000, "119M"), (0.03, "0.03")],
)
def test_compact_counts(value, expected):
    assert compact(value) == expected


def test_a_station_name_without_its_facility():
    assert place_short("Jita IV - Moon 4 - Caldari Navy Assembly Plant") == "Jita IV - Moon 4"
    assert place_short("Amarr VIII (Oris) - Emperor Family Academy") == "Amarr VIII (Oris)"
    assert place_short("Jita") == "Jita"
    assert place_short(None) == ""


def test_flag_markers():
    assert flag_mark("thin") == "thin"
    assert flag_mark("off_history") == "hist"
    assert flag_mark("volume_unknown") == "vol?"
    assert flag_mark("something_new") == "something_new"


def test_the_filters_in_a_template():
    template = Template(
        "{% load profit_format %}"
        '<td title="{{ v|isk_exact }}">{{ v|isk_short }}</td> {{ r|rate }} {{ m|volume }}'
    )
    html = template.render(Context({"v": 1_243_500_000, "r": 0.03375, "m": 0.01}))
    assert html == '<td title="1,243,500,000 ISK">1.244B</td> 3.375 % 0.01 m³'

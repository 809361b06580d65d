"""Fees as dated data: hand-computed rates for real situations at real stations, the dated
schedule, skills validation, the statement of rates, and the schedule in the admin."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import import_module
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.apps import apps as global_apps
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.urls import reverse

from profit import fees
from profit.fees import FeeScheduleData, Skills
from profit.models import FeeSchedule
from sde.places import station_owner
from tests.conftest import sde_db

JITA_4_4 = 60003760  # Caldari Navy (corp 1000035), Caldari State (faction 500001)
AMARR_EFA = 60008494  # Emperor Family (1000086), Amarr Empire (500003)
DODIXIE_FNAP = 60011866  # Federation Navy (1000120), Gallente Federation (500004)
CALDARI_STATE, CALDARI_NAVY = 500001, 1000035
STRUCTURE = 1_035_466_617_946  # an Upwell structure id (>= 1e12)
SEEDED_DAY = date(2026, 11, 22)  # a day under today's rules
CURRENT_FROM = date(2025, 3, 12)  # profit/migrations/0003_dated_fee_history.py, patch 22.02
FIRST_FROM = date(2020, 3, 10)  # the first dated row

# CCP's dated history as docs/profit-fees.md tells it (written from the sources, not read
# from the migration): first day, sales tax, NPC broker fee, its lowest rate, the SCC's
# surcharge in structures, relist discount points per Advanced Broker Relations level.
# The migration that seeds the dated schedule (its module name starts with a digit).
DATED_HISTORY = import_module("profit.migrations.0003_dated_fee_history")

HISTORY = [
    (date(2020, 3, 10), 5.0, 5.0, 3.0, 0.0, 5.0),  # Broker Relations update
    (date(2021, 7, 21), 2.5, 2.5, 0.5, 0.0, 6.0),  # Grand Heist tax relief
    (date(2021, 10, 19), 8.0, 3.0, 1.0, 0.0, 6.0),  # after the relief
    (date(2023, 6, 13), 4.0, 3.0, 1.0, 0.5, 6.0),  # Viridian
    (date(2024, 7, 25), 4.5, 3.0, 1.0, 0.5, 6.0),  # patch 22.01
    (date(2025, 3, 12), 7.5, 3.0, 1.0, 0.5, 6.0),  # patch 22.02, today
]

pytestmark = sde_db


@pytest.fixture(autouse=True)
def fresh_schedule_cache():
    """A test that writes rows must not leave its (rolled-back) rows in the process cache."""
    fees.clear_schedule_cache()
    yield
    fees.clear_schedule_cache()


def current() -> FeeScheduleData:
    return fees.schedule_on(SEEDED_DAY)


# --- The seeded schedule -------------------------------------------------------------------


def test_the_migration_seeds_the_current_rates():
    row = FeeSchedule.objects.get(effective_from=CURRENT_FROM)
    assert row.sales_tax == Decimal("7.5")
    assert row.sales_tax_accounting_reduction == Decimal("11")
    assert row.broker_fee == Decimal("3")
    assert row.broker_fee_per_broker_relations == Decimal("0.3")
    assert row.broker_fee_per_faction_standing == Decimal("0.03")
    assert row.broker_fee_per_corp_standing == Decimal("0.02")
    assert row.broker_fee_min_rate == Decimal("1")
    assert row.broker_fee_min_charge == Decimal("100")
    assert row.structure_scc_surcharge == Decimal("0.5")
    assert row.relist_discount == Decimal("50")
    assert row.relist_discount_per_advanced_broker_relations == Decimal("6")
    data = current()
    assert data.sales_tax == pytest.approx(0.075)
    assert data.broker_fee_per_faction_standing == pytest.approx(0.0003)
    assert data.broker_fee_min_charge == 100.0


# --- Sales tax -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accounting", "percent"),
    [
        (0, 7.5),  # 7.5 x (1 - 0)
        (1, 6.675),  # 7.5 x 0.89
        (2, 5.85),  # 7.5 x 0.78
        (3, 5.025),  # 7.5 x 0.67
        (4, 4.2),  # 7.5 x 0.56
        (5, 3.375),  # 7.5 x 0.45
    ],
)
def test_sales_tax_by_accounting_level(accounting, percent):
    rate = fees.sales_tax_rate(Skills(accounting=accounting), SEEDED_DAY)
    assert rate * 100 == pytest.approx(percent, abs=1e-12)


def test_regression_sales_tax_is_shown_at_its_real_value_not_an_old_constant():
    """Other tools hard-code 2 % (2016), 5 % (2019) or 8 % (2021); the schedule says 7.5 %."""
    rate = fees.sales_tax_rate(Skills(), SEEDED_DAY)
    assert rate == pytest.approx(0.075, abs=1e-15)
    assert all(rate != pytest.approx(old) for old in (0.02, 0.05, 0.08))
    statement = fees.rates_used(Skills(), on=SEEDED_DAY)
    assert statement["sales_tax"] == pytest.approx(0.075)
    assert statement["sales_tax_formula"] == "7.5 % x (1 - 11 % x Accounting 0) = 7.5 %"


# --- Broker fee at NPC stations ------------------------------------------------------------


def test_jita_4_4_is_owned_by_the_caldari_navy_of_the_caldari_state():
    owner = station_owner(JITA_4_4)
    assert owner is not None
    assert (owner.corporation_id, owner.corporation_name) == (CALDARI_NAVY, "Caldari Navy")
    assert (owner.faction_id, owner.faction_name) == (CALDARI_STATE, "Caldari State")


@pytest.mark.parametrize(
    ("skills", "percent"),
    [
        (Skills(), 3.0),
        (Skills(broker_relations=1), 2.7),  # 3 - 0.3
        (Skills(broker_relations=5), 1.5),  # 3 - 1.5
        # 3 - 1.5 - 0.03 x 5 - 0.02 x 3 = 3 - 1.5 - 0.15 - 0.06
        (Skills(broker_relations=5, faction_standing=5, corp_standing=3), 1.29),
        # 3 - 1.2 - 0.03 x 2.5 - 0.02 x 7.25 = 3 - 1.2 - 0.075 - 0.145
        (Skills(broker_relations=4, faction_standing=2.5, corp_standing=7.25), 1.58),
        # the best there is: 3 - 1.5 - 0.3 - 0.2, exactly the 1 % floor
        (Skills(broker_relations=5, faction_standing=10, corp_standing=10), 1.0),
        # bad standings raise the fee: 3 + 0.03 x 5 + 0.02 x 10
        (Skills(faction_standing=-5, corp_standing=-10), 3.35),
    ],
)
def test_broker_fee_at_jita_4_4(skills, percent):
    rate = fees.broker_fee_rate(JITA_4_4, skills, SEEDED_DAY)
    assert rate * 100 == pytest.approx(percent, abs=1e-12)


def test_the_one_percent_floor_holds_when_the_reductions_would_go_below_it():
    # A schedule with a 2 % base: 2 - 1.5 - 0.3 - 0.2 = 0 % before the floor.
    cheaper = replace(current(), broker_fee=0.02)
    best = Skills(broker_relations=5, faction_standing=10, corp_standing=10)
    assert fees.broker_fee_rate(JITA_4_4, best, cheaper) == pytest.approx(0.01)
    # 2 - 0.9 = 1.1 %: above the floor, untouched.
    assert fees.broker_fee_rate(JITA_4_4, Skills(broker_relations=3), cheaper) == (
        pytest.approx(0.011)
    )


def test_character_standings_are_looked_up_for_each_station_owner():
    standings = {CALDARI_STATE: 5.0, CALDARI_NAVY: 3.0, 500004: -2.0}
    skills = Skills(broker_relations=5, faction_standing=9, corp_standing=9, standings=standings)
    # Jita: Caldari State 5, Caldari Navy 3 (the two plain numbers are ignored).
    assert fees.broker_fee_rate(JITA_4_4, skills, SEEDED_DAY) == pytest.approx(0.0129)
    # Amarr: no standing toward the Amarr Empire or the Emperor Family: 3 - 1.5.
    assert fees.broker_fee_rate(AMARR_EFA, skills, SEEDED_DAY) == pytest.approx(0.015)
    # Dodixie: Gallente Federation -2, Federation Navy unknown: 3 - 1.5 + 0.06.
    assert fees.broker_fee_rate(DODIXIE_FNAP, skills, SEEDED_DAY) == pytest.approx(0.0156)


def test_vectorised_rates_match_the_scalar_ones():
    skills = Skills(broker_relations=4, standings={CALDARI_STATE: 8.0, 1000086: 6.5})
    ids = np.array([JITA_4_4, AMARR_EFA, STRUCTURE, DODIXIE_FNAP, JITA_4_4], dtype=np.int64)
    rates = fees.broker_fee_rates(ids, skills, SEEDED_DAY, structure_rate=0.02)
    expected = [fees.broker_fee_rate(int(i), skills, SEEDED_DAY, structure_rate=0.02) for i in ids]
    assert rates.tolist() == pytest.approx(expected)
    # 3 - 1.2 - 0.24 at Jita; 3 - 1.2 - 0.13 at Amarr; 2 + 0.5 at the structure; 3 - 1.2.
    assert rates.tolist() == pytest.approx([0.0156, 0.0167, 0.025, 0.018, 0.0156])


def test_a_location_that_takes_no_orders_is_refused():
    with pytest.raises(ValueError, match="neither an NPC station nor an Upwell structure"):
        fees.broker_fee_rate(30000142, Skills(), SEEDED_DAY)  # Jita the system


# --- Upwell structures ---------------------------------------------------------------------


def test_structure_rate_is_the_owner_rate_plus_the_scc_surcharge():
    assert fees.broker_fee_rate(
        STRUCTURE, Skills(), SEEDED_DAY, structure_rate=0.01
    ) == pytest.approx(0.015)
    # Skills and standings do not apply in structures.
    skilled = Skills(broker_relations=5, faction_standing=10, corp_standing=10)
    assert fees.broker_fee_rate(
        STRUCTURE, skilled, SEEDED_DAY, structure_rate=0.0
    ) == pytest.approx(0.005)


def test_structure_owner_rate_defaults_to_the_setting(settings):
    settings.PROFIT_STRUCTURE_BROKER_FEE = 2.0  # percent
    assert fees.broker_fee_rate(STRUCTURE, Skills(), SEEDED_DAY) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="fraction from 0 to 1"):
        fees.broker_fee_rate(STRUCTURE, Skills(), SEEDED_DAY, structure_rate=1.5)


# --- Charges and relisting -----------------------------------------------------------------


def test_broker_charge_has_a_100_isk_minimum():
    assert fees.broker_charge(5_000.0, 0.03, 100.0) == pytest.approx(150.0)
    assert fees.broker_charge(1_000.0, 0.03, 100.0) == 100.0  # 30 ISK, charged 100
    charges = fees.broker_charge(np.array([1_000.0, 3_333.34, 10_000_000.0]), 0.03, 100.0)
    assert charges.tolist() == pytest.approx([100.0, 100.0002, 300_000.0])


@pytest.mark.parametrize(
    ("level", "discount", "cost"),
    [
        # 10,000 units re-priced 6.00 -> 7.00 at a 3 % broker fee:
        # 3 % x 10,000 ISK of rise = 300, plus (1 - discount) x 3 % x 70,000 = (1 - d) x 2,100
        (0, 0.50, 300 + 1_050),
        (1, 0.56, 300 + 924),
        (2, 0.62, 300 + 798),
        (3, 0.68, 300 + 672),
        (4, 0.74, 300 + 546),
        (5, 0.80, 300 + 420),
    ],
)
def test_relist_cost_with_each_advanced_broker_relations_level(level, discount, cost):
    skills = Skills(advanced_broker_relations=level)
    assert fees.relist_discount(skills, SEEDED_DAY) == pytest.approx(discount)
    assert fees.relist_cost(6.0, 7.0, 10_000, 0.03, skills, on=SEEDED_DAY) == pytest.approx(cost)
    assert fees.relist_cost(6.0, 7.0, 10_000, 0.03, discount, on=SEEDED_DAY) == (
        pytest.approx(cost)
    )


def test_relist_cost_of_a_price_cut_and_its_minimum():
    # 7.00 -> 6.00: no rise; (1 - 0.8) x 3 % x 60,000 = 360.
    assert fees.relist_cost(7.0, 6.0, 10_000, 0.03, 0.8, on=SEEDED_DAY) == pytest.approx(360.0)
    # One unit at 10 ISK: 0.15 ISK, charged the 100 ISK minimum.
    assert fees.relist_cost(9.0, 10.0, 1, 0.03, 0.5, on=SEEDED_DAY) == 100.0
    assert fees.relist_cost(9.0, 10.0, 1, 0.03, 0.5, min_charge=0.0) == pytest.approx(0.18)


# --- Rates for a location and the statement ------------------------------------------------


def test_rates_for_names_the_schedule():
    skills = Skills(accounting=5, broker_relations=5, advanced_broker_relations=5)
    rates = fees.rates_for(JITA_4_4, skills, SEEDED_DAY)
    assert rates.sales_tax == pytest.approx(0.03375)
    assert rates.broker_fee == pytest.approx(0.015)
    assert rates.min_broker_fee == 100.0
    assert rates.relist_discount == pytest.approx(0.8)
    assert rates.location_id == JITA_4_4
    assert rates.schedule == "CCP rates of 2025-03 (patch 22.02), sales tax 7.5 % (from 2025-03-12)"


def test_rates_used_states_every_rate_with_its_formula():
    skills = Skills(accounting=5, broker_relations=5, faction_standing=5, corp_standing=3)
    statement = fees.rates_used(
        skills, [JITA_4_4, STRUCTURE, JITA_4_4], SEEDED_DAY, structure_rate=0.01
    )
    assert json.loads(json.dumps(statement)) == statement  # JSON-ready
    assert statement["schedule"]["effective_from"] == "2025-03-12"
    assert statement["skills"]["standings_from"] == "parameters"
    assert statement["sales_tax_formula"] == "7.5 % x (1 - 11 % x Accounting 5) = 3.375 %"
    jita, structure = statement["locations"]  # duplicates stated once
    assert jita["owner"]["corporation_name"] == "Caldari Navy"
    assert jita["owner"]["faction_name"] == "Caldari State"
    assert jita["broker_fee"] == pytest.approx(0.0129)
    assert jita["formula"] == (
        "max(3 % - 0.3 % x Broker Relations 5 - 0.03 % x faction standing 5 - "
        "0.02 % x corporation standing 3, 1 %) = 1.29 %"
    )
    assert structure["formula"] == "owner's rate 1 % + SCC surcharge 0.5 % = 1.5 %"


# --- Dated schedules -----------------------------------------------------------------------


def add_schedule(day: date, **rates: str) -> FeeSchedule:
    current = FeeSchedule.objects.get(effective_from=CURRENT_FROM)
    values = {field: getattr(current, field) for field in DATED_HISTORY.RATE_FIELDS}
    values.update({k: Decimal(v) for k, v in rates.items()})
    return FeeSchedule.objects.create(effective_from=day, name=f"rates of {day}", **values)


def test_a_newer_schedule_takes_over_from_its_effective_date():
    assert fees.schedule_on(date(2030, 1, 1)).sales_tax == pytest.approx(0.075)  # cached now
    add_schedule(date(2030, 1, 1), sales_tax="5", broker_fee="2.5")
    add_schedule(date(2031, 7, 1), sales_tax="4")
    assert fees.sales_tax_rate(Skills(), date(2029, 12, 31)) == pytest.approx(0.075)
    assert fees.sales_tax_rate(Skills(), date(2030, 1, 1)) == pytest.approx(0.05)
    assert fees.broker_fee_rate(JITA_4_4, Skills(), date(2030, 1, 1)) == pytest.approx(0.025)
    assert fees.sales_tax_rate(Skills(), date(2031, 6, 30)) == pytest.approx(0.05)
    assert fees.sales_tax_rate(Skills(), date(2031, 7, 1)) == pytest.approx(0.04)
    assert fees.rates_for(JITA_4_4, Skills(), date(2030, 5, 5)).schedule == (
        "rates of 2030-01-01 (from 2030-01-01)"
    )


def test_a_day_before_the_first_schedule_uses_the_first():
    assert fees.schedule_on(date(2003, 5, 6)).effective_from == FIRST_FROM


def test_today_utc_is_the_default_day(monkeypatch):
    add_schedule(date(2000, 1, 1), sales_tax="2")
    add_schedule(date(2027, 3, 1), sales_tax="6")
    # 23:30 on 28 February in Honolulu is already 1 March in UTC.
    late = datetime(2027, 2, 28, 23, 30, tzinfo=ZoneInfo("Pacific/Honolulu"))
    monkeypatch.setattr(fees.timezone, "now", lambda: late.astimezone(UTC))
    assert fees.schedule_on().sales_tax == pytest.approx(0.06)
    assert fees.schedule_on(late).sales_tax == pytest.approx(0.06)
    monkeypatch.setattr(fees.timezone, "now", lambda: datetime(2027, 2, 28, 12, tzinfo=UTC))
    assert fees.schedule_on().effective_from == CURRENT_FROM
    assert fees.sales_tax_rate(Skills()) == pytest.approx(0.075)


def test_an_edited_row_is_read_again():
    assert current().sales_tax == pytest.approx(0.075)
    row = FeeSchedule.objects.get(effective_from=CURRENT_FROM)
    row.sales_tax = Decimal("7")
    row.save()
    assert current().sales_tax == pytest.approx(0.07)


def test_no_schedule_at_all_is_a_clear_error():
    FeeSchedule.objects.all().delete()
    with pytest.raises(fees.FeeScheduleMissing, match=r"manage\.py migrate"):
        fees.schedule_on()


def test_a_schedule_passed_in_reads_no_database(django_assert_num_queries):
    schedule = current()
    with django_assert_num_queries(0):
        assert fees.sales_tax_rate(Skills(accounting=5), schedule) == pytest.approx(0.03375)


# --- CCP's dated history ------------------------------------------------------------------


def test_every_dated_row_is_seeded_with_its_figures_and_a_source():
    rows = list(FeeSchedule.objects.order_by("effective_from"))
    assert [row.effective_from for row in rows] == [day for day, *_ in HISTORY]
    for row, (_, tax, broker, floor, scc, per_level) in zip(rows, HISTORY, strict=True):
        assert (
            row.sales_tax,
            row.broker_fee,
            row.broker_fee_min_rate,
            row.structure_scc_surcharge,
            row.relist_discount_per_advanced_broker_relations,
        ) == tuple(Decimal(str(v)) for v in (tax, broker, floor, scc, per_level))
        # Unchanged over the whole history.
        assert row.sales_tax_accounting_reduction == Decimal("11")
        assert row.broker_fee_per_broker_relations == Decimal("0.3")
        assert (row.broker_fee_per_faction_standing, row.broker_fee_per_corp_standing) == (
            Decimal("0.03"),
            Decimal("0.02"),
        )
        assert row.broker_fee_min_charge == Decimal("100")
        assert row.relist_discount == Decimal("50")
        assert "http" in row.source  # every row names where its figures come from
    # The two rows no source fully confirms say so.
    unconfirmed = [r.effective_from for r in rows if "UNCONFIRMED" in r.source]
    assert unconfirmed == [date(2023, 6, 13), date(2024, 7, 25)]


def test_the_recording_day_row_is_gone():
    """0002 seeded today's rates on the day they were recorded (2026-11-22); 0003 replaces it
    with the day CCP set them, so no change is announced on a day CCP changed nothing."""
    assert not FeeSchedule.objects.filter(effective_from=date(2026, 11, 22)).exists()


@pytest.mark.parametrize(
    ("day", "row"),
    [
        (date(2019, 12, 31), 0),  # before the first row: the first row
        (date(2020, 3, 10), 0),
        (date(2021, 7, 20), 0),
        (date(2021, 7, 21), 1),
        (date(2021, 10, 18), 1),  # the last day of the relief: 2.5 %
        (date(2021, 10, 19), 2),  # 8 % from this day
        (date(2022, 1, 1), 2),
        (date(2023, 6, 12), 2),
        (date(2023, 6, 13), 3),
        (date(2024, 1, 1), 3),
        (date(2024, 7, 25), 4),
        (date(2025, 3, 11), 4),
        (date(2025, 3, 12), 5),
        (date(2026, 11, 22), 5),
    ],
)
def test_the_schedule_on_a_past_day(day, row):
    first, tax, broker, floor, scc, per_level = HISTORY[row]
    s = fees.schedule_on(day)
    assert s.effective_from == first
    assert s.sales_tax * 100 == pytest.approx(tax)
    assert s.broker_fee * 100 == pytest.approx(broker)
    assert s.broker_fee_min_rate * 100 == pytest.approx(floor)
    assert s.structure_scc_surcharge * 100 == pytest.approx(scc)
    assert s.relist_discount_per_advanced_broker_relations * 100 == pytest.approx(per_level)
    assert s.source  # the row's citation travels with it


def test_today_is_priced_with_the_rates_of_patch_22_02():
    s = fees.schedule_on()
    assert s.effective_from == CURRENT_FROM
    assert s.sales_tax == pytest.approx(0.075)
    assert "22.02" in s.source


@pytest.mark.parametrize(
    ("day", "percent"),
    [
        (date(2020, 6, 1), 2.25),  # 5 x (1 - 0.11 x 5) = 5 x 0.45
        (date(2021, 10, 18), 1.125),  # 2.5 x 0.45
        (date(2021, 10, 19), 3.6),  # 8 x 0.45
        (date(2023, 6, 13), 1.8),  # 4 x 0.45
        (date(2024, 7, 25), 2.025),  # 4.5 x 0.45
        (date(2026, 11, 22), 3.375),  # 7.5 x 0.45
    ],
)
def test_sales_tax_at_accounting_5_on_past_days(day, percent):
    assert fees.sales_tax_rate(Skills(accounting=5), day) * 100 == pytest.approx(percent)


@pytest.mark.parametrize(
    ("day", "skills", "percent"),
    [
        # 5 - 0.3 x 5 - 0.03 x 5 - 0.02 x 3 = 5 - 1.5 - 0.15 - 0.06
        (date(2020, 6, 1), Skills(broker_relations=5, faction_standing=5, corp_standing=3), 3.29),
        # 5 - 1.5 - 0.3 - 0.2: exactly the 3 % floor of the time
        (date(2020, 6, 1), Skills(broker_relations=5, faction_standing=10, corp_standing=10), 3.0),
        # 2.5 - 1.5 - 0.15 - 0.06
        (date(2021, 8, 1), Skills(broker_relations=5, faction_standing=5, corp_standing=3), 0.79),
        # 2.5 - 1.5 - 0.3 - 0.2: the 0.5 % floor of the relief
        (date(2021, 8, 1), Skills(broker_relations=5, faction_standing=10, corp_standing=10), 0.5),
        # 3 - 1.5 - 0.15 - 0.06
        (date(2022, 1, 1), Skills(broker_relations=5, faction_standing=5, corp_standing=3), 1.29),
    ],
)
def test_npc_broker_fee_at_jita_on_past_days(day, skills, percent):
    assert fees.broker_fee_rate(JITA_4_4, skills, day) * 100 == pytest.approx(percent)


def test_relist_discount_on_past_days():
    abr5 = Skills(advanced_broker_relations=5)
    assert fees.relist_discount(abr5, date(2020, 6, 1)) == pytest.approx(0.75)  # 50 + 5 x 5
    assert fees.relist_discount(abr5, date(2021, 8, 1)) == pytest.approx(0.80)  # 50 + 6 x 5


# --- Upwell structures across the history -----------------------------------------------------


@pytest.mark.parametrize(
    ("day", "percent"),
    [
        (date(2026, 11, 22), 1.5),  # owner's 1 % + SCC 0.5 %
        (date(2023, 6, 13), 1.5),  # Viridian: the SCC's 0.5 % on top from this day
        (date(2023, 6, 12), 1.0),  # before: the owner's 1 %, the SCC's share inside it
        (date(2020, 6, 1), 1.0),
    ],
)
def test_structure_broker_fee_is_owner_rate_plus_the_scc_surcharge_of_the_day(day, percent):
    plain = fees.broker_fee_rate(STRUCTURE, Skills(), day, structure_rate=0.01)
    assert plain * 100 == pytest.approx(percent)
    # No skill or standing changes it, not even through a character's standings.
    best = Skills(
        accounting=5,
        broker_relations=5,
        advanced_broker_relations=5,
        faction_standing=10,
        corp_standing=10,
        standings={CALDARI_STATE: 10.0, CALDARI_NAVY: 10.0},
    )
    assert fees.broker_fee_rate(STRUCTURE, best, day, structure_rate=0.01) == plain
    worst = Skills(faction_standing=-10, corp_standing=-10)
    assert fees.broker_fee_rate(STRUCTURE, worst, day, structure_rate=0.01) == plain


def test_structure_fee_has_no_npc_floor_but_the_100_isk_minimum_charge():
    # Owner's 0.2 % + 0.5 % = 0.7 %, below the NPC floor of 1 %, and charged as such.
    rate = fees.broker_fee_rate(STRUCTURE, Skills(), SEEDED_DAY, structure_rate=0.002)
    assert rate == pytest.approx(0.007)
    rates = fees.rates_for(STRUCTURE, Skills(), SEEDED_DAY, structure_rate=0.01)
    assert rates.broker_fee == pytest.approx(0.015)
    assert rates.min_broker_fee == 100.0
    # 5,000 ISK x 1.5 % = 75 ISK, charged 100; 1,000,000 ISK x 1.5 % = 15,000 ISK.
    assert fees.broker_charge(5_000.0, rates.broker_fee, rates.min_broker_fee) == 100.0
    assert fees.broker_charge(1_000_000.0, rates.broker_fee, rates.min_broker_fee) == (
        pytest.approx(15_000.0)
    )


def test_the_statement_gives_a_structure_fee_in_its_two_parts():
    statement = fees.rates_used(
        Skills(broker_relations=5), [STRUCTURE], SEEDED_DAY, structure_rate=0.01
    )
    (structure,) = statement["locations"]
    assert structure == {
        "location_id": STRUCTURE,
        "kind": "structure",
        "broker_fee": pytest.approx(0.015),
        "structure_owner_rate": 0.01,  # kept for the readers written before owner_rate
        "owner_rate": 0.01,
        "owner_rate_from": "parameter",
        "scc_surcharge": pytest.approx(0.005),
        "skills_apply": False,
        "min_charge": 100.0,
        "formula": "owner's rate 1 % + SCC surcharge 0.5 % = 1.5 %",
        "charge_formula": "max(order value x 1.5 %, 100 ISK)",
    }
    assert statement["structure_broker_fee_formula"] == (
        "owner's rate + SCC surcharge 0.5 %; Broker Relations and standings do not apply; "
        "at least 100 ISK per order"
    )
    assert statement["schedule"]["source"].startswith("CCP patch notes Version 22.02")


def test_the_statement_on_a_day_before_viridian(settings):
    settings.PROFIT_STRUCTURE_BROKER_FEE = 2.0  # percent
    statement = fees.rates_used(Skills(), [STRUCTURE, JITA_4_4], date(2022, 1, 1))
    structure, jita = statement["locations"]
    assert structure["owner_rate_from"] == "setting"
    assert structure["scc_surcharge"] == 0.0
    assert structure["formula"] == "owner's rate 2 % + SCC surcharge 0 % = 2 %"
    assert jita["min_rate"] == pytest.approx(0.01)
    assert jita["charge_formula"] == "max(order value x 3 %, 100 ISK)"
    assert statement["sales_tax_formula"] == "8 % x (1 - 11 % x Accounting 0) = 8 %"
    assert statement["schedule"]["effective_from"] == "2021-10-19"


# --- The history migration ------------------------------------------------------------------


def test_the_history_migration_reverses_to_the_recorded_row_and_back():
    migration = DATED_HISTORY
    editor = SimpleNamespace(connection=connection)
    migration.remove_history(global_apps, editor)
    (recorded,) = FeeSchedule.objects.all()
    assert (recorded.effective_from, recorded.sales_tax) == (date(2026, 11, 22), Decimal("7.5"))
    migration.add_history(global_apps, editor)
    assert FeeSchedule.objects.count() == len(HISTORY)
    # A recorded row an admin has since edited is not the seed any more: it stays.
    migration.remove_history(global_apps, editor)
    FeeSchedule.objects.filter(effective_from=date(2026, 11, 22)).update(sales_tax=Decimal("7"))
    migration.add_history(global_apps, editor)
    assert FeeSchedule.objects.count() == len(HISTORY) + 1
    assert fees.sales_tax_rate(Skills(), date(2026, 11, 22)) == pytest.approx(0.07)


# --- Validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("skills", "message"),
    [
        (Skills(accounting=6), "accounting must be a skill level from 0 to 5, not 6"),
        (Skills(broker_relations=-1), "broker_relations must be a skill level from 0 to 5"),
        (Skills(advanced_broker_relations=2.5), "must be a whole number from 0 to 5"),  # type: ignore[arg-type]
        (Skills(accounting=True), "must be a whole number"),
        (Skills(faction_standing=10.5), "faction_standing must be a standing from -10 to 10"),
        (Skills(corp_standing=-11), "corp_standing must be a standing from -10 to 10"),
        (Skills(corp_standing=float("nan")), "corp_standing must be a standing"),
        (Skills(standings={500001: 12.0}), "standing toward 500001 must be a standing"),
    ],
)
def test_skills_out_of_range_are_refused_with_a_message(skills, message):
    with pytest.raises(ValueError, match=message):
        fees.validate_skills(skills)
    with pytest.raises(ValueError, match=message):
        fees.rates_for(JITA_4_4, skills, SEEDED_DAY)


def test_valid_skills_pass_unchanged():
    skills = Skills(5, 5, 5, -10.0, 10, standings={500001: -10.0})
    assert fees.validate_skills(skills) is skills
    assert fees.check_level("accounting", np.int64(3)) == 3
    assert fees.check_standing("corp_standing", 4) == 4.0


# --- Admin ---------------------------------------------------------------------------------


def test_staff_edit_the_schedule_in_the_admin(admin_client):
    listing = admin_client.get(reverse("admin:profit_feeschedule_changelist"))
    assert listing.status_code == 200
    assert b"CCP rates of 2025-03 (patch 22.02), sales tax 7.5 %" in listing.content
    assert b"CCP rates of 2021-10 (after the relief), sales tax 8 %" in listing.content
    form = {
        "effective_from": "2031-01-01",
        "name": "CCP rates of 2031",
        "source": "patch notes",
        "sales_tax": "6",
        "sales_tax_accounting_reduction": "11",
        "broker_fee": "3",
        "broker_fee_per_broker_relations": "0.3",
        "broker_fee_per_faction_standing": "0.03",
        "broker_fee_per_corp_standing": "0.02",
        "broker_fee_min_rate": "1",
        "broker_fee_min_charge": "100",
        "structure_scc_surcharge": "0.5",
        "relist_discount": "50",
        "relist_discount_per_advanced_broker_relations": "6",
    }
    response = admin_client.post(reverse("admin:profit_feeschedule_add"), form)
    assert response.status_code == 302
    assert fees.sales_tax_rate(Skills(), date(2031, 1, 2)) == pytest.approx(0.06)
    bad = admin_client.post(reverse("admin:profit_feeschedule_add"), {**form, "sales_tax": "150"})
    assert bad.status_code == 200  # the form again, with the error
    assert b"less than or equal to 100" in bad.content


def test_the_seed_comes_back_after_a_flush():
    """Tests with transactions flush every table after themselves; the rates must return
    (as content types do) or every later request would have no schedule."""
    FeeSchedule.objects.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert current().sales_tax == pytest.approx(0.075)
    # The whole dated history comes back, not only today's row.
    assert fees.schedule_on(date(2022, 1, 1)).sales_tax == pytest.approx(0.08)
    assert list(
        FeeSchedule.objects.order_by("effective_from").values_list("effective_from", flat=True)
    ) == [day for day, *_ in HISTORY]
    # A schedule that is there is left alone.
    FeeSchedule.objects.exclude(effective_from=CURRENT_FROM).delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert FeeSchedule.objects.count() == 1

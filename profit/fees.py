"""Fees and taxes as dated data: the rates a trade pays, and the skills and standings that
lower them.

The rates themselves are rows of `profit.models.FeeSchedule` (editable in the admin, each
with the day it takes effect); `schedule_on(day)` reads the row in force. Everything else here
is arithmetic over that schedule, a trader's `Skills` and the SDE's station owners: the sales
tax, the broker fee at an NPC station or an Upwell structure (one location or a numpy array
of them), the ISK charged for an order, the cost of relisting, and `rates_used`, the
statement every answer carries so each figure can be checked by hand. Any function taking
`on` accepts a day (default today, UTC) or a `FeeScheduleData` already looked up, in which
case no database is read.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils import timezone

from market import structures
from profit.models import FeeSchedule
from sde.places import (
    STATION_IDS,
    STRUCTURE_ID_MIN,
    is_structure,
    station_owners,
    station_rows,
    station_table,
)


@dataclass(frozen=True)
class Skills:
    """A trader's skill levels (0-5) and unmodified standings (-10..10) toward the station
    owner's faction and corporation."""

    accounting: int = 0
    broker_relations: int = 0
    advanced_broker_relations: int = 0
    faction_standing: float = 0.0
    corp_standing: float = 0.0
    # A logged-in character's NPC standings (faction or corporation id -> standing). When
    # given, the owner of each station is looked up here instead of the two numbers above.
    standings: Mapping[int, float] | None = None


@dataclass(frozen=True)
class Rates:
    """What one location charges one trader: fractions of value, and the ISK floor of a
    broker fee. `schedule` names the fee schedule (its effective date) they came from."""

    sales_tax: float
    broker_fee: float
    min_broker_fee: float
    relist_discount: float
    schedule: str
    location_id: int | None = None


# --- The schedule --------------------------------------------------------------------------


class FeeScheduleMissing(RuntimeError):
    """The app database holds no fee schedule (its data migration has not run)."""


@dataclass(frozen=True)
class FeeScheduleData:
    """One fee schedule row as plain numbers: rates as fractions (0.075 for 7.5 %), the
    minimum broker charge in ISK."""

    effective_from: date
    name: str
    sales_tax: float
    sales_tax_accounting_reduction: float  # of the base tax, per Accounting level
    broker_fee: float
    broker_fee_per_broker_relations: float
    broker_fee_per_faction_standing: float
    broker_fee_per_corp_standing: float
    broker_fee_min_rate: float
    broker_fee_min_charge: float
    structure_scc_surcharge: float
    relist_discount: float
    relist_discount_per_advanced_broker_relations: float
    source: str = ""  # where the row's figures and its date come from

    @property
    def label(self) -> str:
        """How figures name the schedule they were priced with."""
        return f"{self.name} (from {self.effective_from.isoformat()})"

    @classmethod
    def from_row(cls, row: FeeSchedule) -> FeeScheduleData:
        def fraction(percent: Decimal) -> float:
            return float(percent) / 100.0

        return cls(
            effective_from=row.effective_from,
            name=row.name,
            sales_tax=fraction(row.sales_tax),
            sales_tax_accounting_reduction=fraction(row.sales_tax_accounting_reduction),
            broker_fee=fraction(row.broker_fee),
            broker_fee_per_broker_relations=fraction(row.broker_fee_per_broker_relations),
            broker_fee_per_faction_standing=fraction(row.broker_fee_per_faction_standing),
            broker_fee_per_corp_standing=fraction(row.broker_fee_per_corp_standing),
            broker_fee_min_rate=fraction(row.broker_fee_min_rate),
            broker_fee_min_charge=float(row.broker_fee_min_charge),
            structure_scc_surcharge=fraction(row.structure_scc_surcharge),
            relist_discount=fraction(row.relist_discount),
            relist_discount_per_advanced_broker_relations=fraction(
                row.relist_discount_per_advanced_broker_relations
            ),
            source=row.source,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["effective_from"] = self.effective_from.isoformat()
        data["label"] = self.label
        return data


# Rows are read once and kept for SCHEDULE_TTL seconds; saving or deleting a row in this
# process clears them at once (other processes see an admin edit within the TTL).
SCHEDULE_TTL = 60.0
_rows_lock = threading.Lock()
_rows: tuple[float, tuple[FeeScheduleData, ...]] | None = None


def clear_schedule_cache() -> None:
    global _rows
    with _rows_lock:
        _rows = None


def _schedule_saved(**kwargs: object) -> None:
    """A row was saved or deleted: drop this process's cached rows now and again once the
    change is committed."""
    clear_schedule_cache()
    transaction.on_commit(clear_schedule_cache, using=str(kwargs.get("using") or "default"))


def _migrated(**kwargs: object) -> None:
    """`migrate` or `flush` ran (the seed in `profit.models` may have written rows through a
    historical model, which sends no `post_save` for `FeeSchedule`)."""
    clear_schedule_cache()


# The cache lives here, so this module listens for the changes that make it stale (and
# `profit.models` need not import it back).
post_save.connect(_schedule_saved, sender=FeeSchedule, dispatch_uid="profit.fees.saved")
post_delete.connect(_schedule_saved, sender=FeeSchedule, dispatch_uid="profit.fees.deleted")
post_migrate.connect(_migrated, dispatch_uid="profit.fees.migrated")


def _schedules() -> tuple[FeeScheduleData, ...]:
    """Every schedule, oldest first."""
    global _rows
    cached = _rows
    if cached is not None and time.monotonic() - cached[0] < SCHEDULE_TTL:
        return cached[1]
    rows = tuple(
        FeeScheduleData.from_row(row) for row in FeeSchedule.objects.order_by("effective_from")
    )
    if not rows:
        raise FeeScheduleMissing(
            "No fee schedule in the app database: run `manage.py migrate` (it installs the "
            "current rates) or add one in the admin."
        )
    with _rows_lock:
        _rows = (time.monotonic(), rows)
    return rows


def schedule_on(day: date | None = None) -> FeeScheduleData:
    """The schedule in force on `day` (UTC, default today): the newest row that took effect
    on or before it. A day before the first row uses the first row."""
    if day is None:
        day = timezone.now().date()
    elif isinstance(day, datetime):
        day = day.astimezone(UTC).date() if day.tzinfo else day.date()
    rows = _schedules()
    at = bisect.bisect_right([row.effective_from for row in rows], day)
    return rows[max(at - 1, 0)]


When = date | FeeScheduleData | None


def _schedule(on: When) -> FeeScheduleData:
    """`on` is a day, or a schedule already chosen (then no database is read)."""
    return on if isinstance(on, FeeScheduleData) else schedule_on(on)


# --- Skills and standings ------------------------------------------------------------------

SKILL_NAMES = ("accounting", "broker_relations", "advanced_broker_relations")
STANDING_NAMES = ("faction_standing", "corp_standing")


def check_level(name: str, value: object) -> int:
    """A skill level: a whole number 0 to 5 (ValueError with a message otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number from 0 to 5, not {value!r}.")
    if not 0 <= value <= 5:
        raise ValueError(f"{name} must be a skill level from 0 to 5, not {value}.")
    return int(value)


def check_standing(name: str, value: object) -> float:
    """An unmodified NPC standing: a number from -10 to 10 (ValueError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a number from -10 to 10, not {value!r}.")
    number = float(value)
    if not math.isfinite(number) or not -10.0 <= number <= 10.0:
        raise ValueError(f"{name} must be a standing from -10 to 10, not {value}.")
    return number


# The skills that set the fees, by their SDE type id (Advanced Broker Relations has the id
# Margin Trading had before it was renamed).
ACCOUNTING = 16622
BROKER_RELATIONS = 3446
ADVANCED_BROKER_RELATIONS = 16597


def skills_of_character(levels: Mapping[int, int], standings: Mapping[int, float] | None) -> Skills:
    """A character's fee skills from its active levels by skill type id (a skill it has not
    trained is level 0; levels are clamped to 0..5) and its NPC standings by faction or
    corporation id (clamped to -10..10; None when they are not known)."""
    return Skills(
        accounting=max(0, min(5, int(levels.get(ACCOUNTING, 0)))),
        broker_relations=max(0, min(5, int(levels.get(BROKER_RELATIONS, 0)))),
        advanced_broker_relations=max(0, min(5, int(levels.get(ADVANCED_BROKER_RELATIONS, 0)))),
        standings=(
            None
            if standings is None
            else {int(k): max(-10.0, min(10.0, float(v))) for k, v in standings.items()}
        ),
    )


def validate_skills(skills: Skills) -> Skills:
    """The same skills, after checking every level (0..5) and standing (-10..10); raises
    ValueError naming the first bad value (the API answers it with a 400)."""
    for name in SKILL_NAMES:
        check_level(name, getattr(skills, name))
    for name in STANDING_NAMES:
        check_standing(name, getattr(skills, name))
    for owner, standing in (skills.standings or {}).items():
        check_standing(f"standing toward {owner}", standing)
    return skills


# --- Rates ---------------------------------------------------------------------------------


def sales_tax_rate(skills: Skills, on: When = None) -> float:
    """Sales tax paid by the seller, as a fraction of the sale value."""
    s = _schedule(on)
    level = check_level("accounting", skills.accounting)
    return s.sales_tax * (1.0 - s.sales_tax_accounting_reduction * level)


def _owner_rate(structure_id: int, structure_rate: float | None) -> tuple[float, str]:
    """The owner's broker fee at a structure and where it came from: the request's
    `structure_rate`, else the rate an operator set for the structure (admin), else the
    setting PROFIT_STRUCTURE_BROKER_FEE (ESI does not publish owners' rates)."""
    if structure_rate is not None:
        rate, source = float(structure_rate), "parameter"
    elif (operator_rate := structures.owner_broker_fee(structure_id)) is not None:
        rate, source = operator_rate, "operator"
    else:
        rate, source = float(settings.PROFIT_STRUCTURE_BROKER_FEE) / 100.0, "setting"
    if not math.isfinite(rate) or not 0.0 <= rate <= 1.0:
        raise ValueError(f"A structure's broker fee must be a fraction from 0 to 1, not {rate}.")
    return rate, source


def _check_locations(location_ids: npt.NDArray[np.int64]) -> None:
    station = (location_ids >= STATION_IDS.start) & (location_ids < STATION_IDS.stop)
    bad = ~(station | (location_ids >= STRUCTURE_ID_MIN))
    if bad.any():
        raise ValueError(
            f"{int(location_ids[bad][0])} is neither an NPC station nor an Upwell structure: "
            "broker fees are charged where an order is placed."
        )


def _npc_standings(
    location_ids: npt.NDArray[np.int64], skills: Skills
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Standing toward each station owner's faction and corporation."""
    if skills.standings is None:
        return (
            np.full(len(location_ids), float(skills.faction_standing)),
            np.full(len(location_ids), float(skills.corp_standing)),
        )
    _, corporations, factions = station_table()
    at, known = station_rows(location_ids)
    keys = np.array(sorted(skills.standings), dtype=np.int64)
    values = np.array([float(skills.standings[int(k)]) for k in keys], dtype=np.float64)

    def lookup(owners: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """The standing toward each owner (0 for none, or for no owner)."""
        owner = np.where(known, owners[at], 0) if len(owners) else np.zeros(len(at), np.int64)
        if len(keys) == 0:
            return np.zeros(len(owner))
        found = np.minimum(np.searchsorted(keys, owner), len(keys) - 1)
        return np.where((keys[found] == owner) & (owner != 0), values[found], 0.0)

    return lookup(factions), lookup(corporations)


def broker_fee_rates(
    location_ids: npt.ArrayLike,
    skills: Skills,
    on: When = None,
    *,
    structure_rate: float | None = None,
) -> npt.NDArray[np.float64]:
    """Broker fee rate (fraction of the order value) for an order at each location.

    NPC station: base - per level x Broker Relations - per point x standing toward the owner's
    faction and toward the owner corporation (from `skills.standings` when given, else
    `faction_standing` / `corp_standing`), at least the minimum rate. Upwell structure: the
    owner's rate (`structure_rate`, else the one an operator set for the structure, else
    settings.PROFIT_STRUCTURE_BROKER_FEE) plus the SCC
    surcharge of the day (0 before Viridian, 2023-06-13, when the SCC's share was inside the
    owner's rate); no skill, standing or NPC floor applies there. The per-order minimum
    charge applies in both (`broker_charge`)."""
    s = _schedule(on)
    validate_skills(skills)
    ids = np.asarray(location_ids, dtype=np.int64).ravel()
    _check_locations(ids)
    faction, corp = _npc_standings(ids, skills)
    npc = np.maximum(
        s.broker_fee
        - s.broker_fee_per_broker_relations * skills.broker_relations
        - s.broker_fee_per_faction_standing * faction
        - s.broker_fee_per_corp_standing * corp,
        s.broker_fee_min_rate,
    )
    structure = ids >= STRUCTURE_ID_MIN
    if structure.any():  # one owner's rate per structure, however many rows are there
        found, where = np.unique(ids[structure], return_inverse=True)
        owners = np.array([_owner_rate(int(i), structure_rate)[0] for i in found.tolist()])
        npc[structure] = owners[where] + s.structure_scc_surcharge
    return npc


def broker_fee_rate(
    location_id: int,
    skills: Skills,
    on: When = None,
    *,
    structure_rate: float | None = None,
) -> float:
    """Broker fee rate for one order at one location (see `broker_fee_rates`)."""
    rates = broker_fee_rates(np.array([location_id]), skills, on, structure_rate=structure_rate)
    return float(rates[0])


def relist_discount(skills: Skills, on: When = None) -> float:
    """The share of the broker fee not charged again when an order is modified."""
    s = _schedule(on)
    level = check_level("advanced_broker_relations", skills.advanced_broker_relations)
    return min(s.relist_discount + s.relist_discount_per_advanced_broker_relations * level, 1.0)


def rates_for(
    location_id: int,
    skills: Skills,
    on: When = None,
    *,
    structure_rate: float | None = None,
) -> Rates:
    """Everything one trader pays at one location, with the schedule named."""
    s = _schedule(on)
    return Rates(
        sales_tax=sales_tax_rate(skills, s),
        broker_fee=broker_fee_rate(location_id, skills, s, structure_rate=structure_rate),
        min_broker_fee=s.broker_fee_min_charge,
        relist_discount=relist_discount(skills, s),
        schedule=s.label,
        location_id=location_id,
    )


# --- Charges -------------------------------------------------------------------------------


@overload
def broker_charge(value: float, rate: float, min_charge: float) -> float: ...
@overload
def broker_charge(
    value: npt.NDArray[Any], rate: float | npt.NDArray[Any], min_charge: float
) -> npt.NDArray[np.float64]: ...
@overload
def broker_charge(
    value: float | npt.NDArray[Any], rate: npt.NDArray[Any], min_charge: float
) -> npt.NDArray[np.float64]: ...
def broker_charge(value: Any, rate: Any, min_charge: float) -> Any:
    """The broker fee charged for placing an order worth `value` ISK: value x rate, at least
    `min_charge` (numpy arrays in, an array out)."""
    charge = np.maximum(np.multiply(value, rate), min_charge)
    return float(charge) if np.ndim(charge) == 0 else charge


def relist_cost(
    old_price: float,
    new_price: float,
    quantity: int,
    rate: float,
    discount: float | Skills,
    *,
    min_charge: float | None = None,
    on: When = None,
) -> float:
    """What modifying an order's price costs: the broker rate on any rise of the order's
    value, plus (1 - relist discount) x broker rate x its new value, at least the minimum
    charge. `discount` is the relist discount or the skills to work it out from."""
    s = None
    if isinstance(discount, Skills):
        s = _schedule(on)
        discount = relist_discount(discount, s)
    if min_charge is None:
        min_charge = (s or _schedule(on)).broker_fee_min_charge
    old_value = old_price * quantity
    new_value = new_price * quantity
    fee = max(rate * (new_value - old_value), 0.0) + (1.0 - discount) * rate * new_value
    return max(fee, min_charge)


# --- The statement of rates ----------------------------------------------------------------


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.6g} %"


def _charge_formula(rate: float, s: FeeScheduleData) -> str:
    return f"max(order value x {_percent(rate)}, {s.broker_fee_min_charge:,.0f} ISK)"


def _structure_statement(
    location_id: int, rate: float, s: FeeScheduleData, structure_rate: float | None
) -> dict[str, Any]:
    """The broker fee in an Upwell structure, in its two parts: the owner's rate and the
    SCC's surcharge on top (0 before Viridian, when the SCC's share was inside the owner's
    rate); no skill or standing applies, and the per-order minimum charge does."""
    owner_rate, source = _owner_rate(location_id, structure_rate)
    return {
        "location_id": location_id,
        "kind": "structure",
        "broker_fee": rate,
        "structure_owner_rate": owner_rate,
        "owner_rate": owner_rate,
        "owner_rate_from": source,
        "scc_surcharge": s.structure_scc_surcharge,
        "skills_apply": False,
        "min_charge": s.broker_fee_min_charge,
        "formula": (
            f"owner's rate {_percent(owner_rate)} + SCC surcharge "
            f"{_percent(s.structure_scc_surcharge)} = {_percent(rate)}"
        ),
        "charge_formula": _charge_formula(rate, s),
    }


def _location_statements(
    location_ids: list[int], skills: Skills, s: FeeScheduleData, structure_rate: float | None
) -> list[dict[str, Any]]:
    ids = np.array(location_ids, dtype=np.int64)
    rates = broker_fee_rates(ids, skills, s, structure_rate=structure_rate).tolist()
    factions, corps = _npc_standings(ids, skills)
    owners = station_owners(location_ids)
    statements = []
    for location_id, rate, faction, corp, owner in zip(
        location_ids, rates, factions.tolist(), corps.tolist(), owners, strict=True
    ):
        if is_structure(location_id):
            statements.append(_structure_statement(location_id, rate, s, structure_rate))
            continue
        statements.append(
            {
                "location_id": location_id,
                "kind": "station",
                "broker_fee": rate,
                "owner": asdict(owner) if owner else None,
                "faction_standing": faction,
                "corp_standing": corp,
                "skills_apply": True,
                "min_rate": s.broker_fee_min_rate,
                "min_charge": s.broker_fee_min_charge,
                "charge_formula": _charge_formula(rate, s),
                "formula": (
                    f"max({_percent(s.broker_fee)} - "
                    f"{_percent(s.broker_fee_per_broker_relations)} x Broker Relations "
                    f"{skills.broker_relations} - {_percent(s.broker_fee_per_faction_standing)} x "
                    f"faction standing {faction:g} - {_percent(s.broker_fee_per_corp_standing)} "
                    f"x corporation standing {corp:g}, {_percent(s.broker_fee_min_rate)}) = "
                    f"{_percent(rate)}"
                ),
            }
        )
    return statements


def rates_used(
    skills: Skills,
    location_ids: Iterable[int] = (),
    on: When = None,
    *,
    structure_rate: float | None = None,
) -> dict[str, Any]:
    """A JSON-ready statement of every rate an answer used: the schedule and its values, the
    skills and standings, the sales tax, relist discount, minimum charge, and the broker fee
    at each location, each with its formula filled in."""
    s = _schedule(on)
    validate_skills(skills)
    tax = sales_tax_rate(skills, s)
    discount = relist_discount(skills, s)
    return {
        "schedule": s.to_json(),
        "skills": {
            "accounting": skills.accounting,
            "broker_relations": skills.broker_relations,
            "advanced_broker_relations": skills.advanced_broker_relations,
            # a character's standings are per owner: each location below states its own
            "faction_standing": skills.faction_standing if skills.standings is None else None,
            "corp_standing": skills.corp_standing if skills.standings is None else None,
            "standings_from": "character" if skills.standings is not None else "parameters",
        },
        "sales_tax": tax,
        "sales_tax_formula": (
            f"{_percent(s.sales_tax)} x (1 - {_percent(s.sales_tax_accounting_reduction)} x "
            f"Accounting {skills.accounting}) = {_percent(tax)}"
        ),
        "min_broker_fee": s.broker_fee_min_charge,
        "broker_charge_formula": (
            f"max(order value x broker fee, {s.broker_fee_min_charge:,.0f} ISK)"
        ),
        "structure_broker_fee_formula": (
            f"owner's rate + SCC surcharge {_percent(s.structure_scc_surcharge)}; Broker "
            f"Relations and standings do not apply; at least {s.broker_fee_min_charge:,.0f} "
            "ISK per order"
        ),
        "relist_discount": discount,
        "relist_formula": (
            f"broker fee x max(new value - old value, 0) + (1 - {_percent(discount)}) x "
            f"broker fee x new value, at least {s.broker_fee_min_charge:,.0f} ISK; discount "
            f"{_percent(s.relist_discount)} + "
            f"{_percent(s.relist_discount_per_advanced_broker_relations)} x Advanced Broker "
            f"Relations {skills.advanced_broker_relations}"
        ),
        "locations": _location_statements(
            [int(i) for i in dict.fromkeys(int(i) for i in location_ids)],
            skills,
            s,
            structure_rate,
        ),
    }

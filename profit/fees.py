"""Fees and taxes as dated data: the rates a trade pays, and the skills and standings that
lower them. (Contract for the profit engine; the schedule model and lookups live here.)"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Skills:
    """A trader's skill levels (0-5) and unmodified standings (-10..10) toward the station
    owner's faction and corporation."""

    accounting: int = 0
    broker_relations: int = 0
    advanced_broker_relations: int = 0
    faction_standing: float = 0.0
    corp_standing: float = 0.0


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

"""The profit app's own data: the fee schedule, dated, so a CCP change is a data change.

Each `FeeSchedule` row holds every rate of the market's fee rules and the day it takes
effect; the row in force on a day is the newest one whose `effective_from` is on or before it
(`profit.fees.schedule_on`). Rates are stored as percentages, as CCP announces them, and read
by the fee functions as fractions. Staff edit rows in the admin.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import import_module
from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, router
from django.db.models.signals import post_migrate
from django.dispatch import receiver

_PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


def _percent(help_text: str) -> models.DecimalField:
    return models.DecimalField(
        max_digits=9, decimal_places=6, validators=_PERCENT, help_text=help_text
    )


class FeeSchedule(models.Model):
    """The market's fee rules from one day on (until a newer row takes over)."""

    effective_from = models.DateField(
        unique=True, help_text="First day (UTC) these rates apply, until a newer row."
    )
    name = models.CharField(
        max_length=120, help_text="Short label shown beside every figure priced with it."
    )
    source = models.TextField(blank=True, help_text="Where the rates come from (patch notes).")

    sales_tax = _percent("Sales tax with Accounting 0, percent of the sale value (7.5).")
    sales_tax_accounting_reduction = _percent(
        "Percent of the sales tax off per Accounting level (11)."
    )
    broker_fee = _percent("NPC broker fee, no skills or standings, percent (3).")
    broker_fee_per_broker_relations = _percent(
        "Points off the fee per Broker Relations level (0.3)."
    )
    broker_fee_per_faction_standing = _percent(
        "Points off per point of owner faction standing (0.03)."
    )
    broker_fee_per_corp_standing = _percent("Points off per point of owner corp standing (0.02).")
    broker_fee_min_rate = _percent("Lowest NPC broker fee, percent (1).")
    broker_fee_min_charge = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Smallest broker fee charged for one order, ISK (100).",
    )
    structure_scc_surcharge = _percent("Added to a structure owner's broker fee, percent (0.5).")
    relist_discount = _percent("Relist discount with Advanced Broker Relations 0, percent (50).")
    relist_discount_per_advanced_broker_relations = _percent(
        "Points of discount per Advanced Broker Relations (6)."
    )

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = "fee schedule"

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from.isoformat()})"


@receiver(post_migrate)
def _seed_an_empty_schedule(
    app_config: AppConfig, using: str = "default", apps: Any = global_apps, **kwargs: object
) -> None:
    """After `migrate` or a `flush` (which empties every table, as tests with transactions
    do), put CCP's dated fee history back if no schedule is left, as Django does for content
    types. The rows come from the data migration, the one place they are written.
    (`profit.fees` clears its cached rows on the same signal.)"""
    if app_config.label != "profit":
        return
    try:
        model = apps.get_model("profit", "FeeSchedule")
    except LookupError:  # migrated back before the table existed
        return
    if not router.allow_migrate_model(using, model):
        return
    if model.objects.using(using).exists():
        return
    history = import_module("profit.migrations.0003_dated_fee_history").HISTORY
    model.objects.using(using).bulk_create(model(**row) for row in history)

"""The fee rates in force on Tranquility, as the first fee schedule row.

Values (DESIGN.md, "Numbers users trust"; CCP's support article "Broker Fee and Sales Tax"):
sales tax 7.5 %, lowered by 11 % of itself per Accounting level; NPC broker fee 3 %, minus
0.3 point per Broker Relations level, 0.03 point per point of faction standing and 0.02 point
per point of corporation standing toward the station owner, at least 1 % and at least
100 ISK; Upwell structures: the owner's rate plus a 0.5 % SCC surcharge; relist discount 50 %
plus 6 points per Advanced Broker Relations level.

Effective date: 2026-11-22, the day these rates were recorded here, not the day CCP set
them (that day is not recorded). Days before the first row use the first row, so every
snapshot the app can price uses these rates until an admin adds a newer row.
"""

from datetime import date
from decimal import Decimal

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

EFFECTIVE_FROM = date(2026, 11, 22)

CURRENT = {
    "name": "Tranquility rates, sales tax 7.5 %",
    "source": (
        "DESIGN.md 'Numbers users trust' and CCP's support article 'Broker Fee and Sales Tax'; "
        "recorded 2026-11-22 (the day CCP set them is not recorded)."
    ),
    "sales_tax": Decimal("7.5"),
    "sales_tax_accounting_reduction": Decimal("11"),
    "broker_fee": Decimal("3"),
    "broker_fee_per_broker_relations": Decimal("0.3"),
    "broker_fee_per_faction_standing": Decimal("0.03"),
    "broker_fee_per_corp_standing": Decimal("0.02"),
    "broker_fee_min_rate": Decimal("1"),
    "broker_fee_min_charge": Decimal("100"),
    "structure_scc_surcharge": Decimal("0.5"),
    "relist_discount": Decimal("50"),
    "relist_discount_per_advanced_broker_relations": Decimal("6"),
}


def add_current(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    FeeSchedule = apps.get_model("profit", "FeeSchedule")
    FeeSchedule.objects.update_or_create(effective_from=EFFECTIVE_FROM, defaults=CURRENT)


def remove_current(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    FeeSchedule = apps.get_model("profit", "FeeSchedule")
    FeeSchedule.objects.filter(effective_from=EFFECTIVE_FROM).delete()


class Migration(migrations.Migration):
    dependencies = [("profit", "0001_fee_schedule")]

    operations = [migrations.RunPython(add_current, remove_current)]

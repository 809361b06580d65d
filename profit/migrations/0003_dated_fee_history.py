"""CCP's market fees as dated rows, so a past day is priced with the rules of that day.

Each row is the set of rules from its `effective_from` day (UTC) until the next row, and its
`source` says where every figure and the date come from, and what no source confirms
(docs/profit-fees.md has the same history as a table). The rows begin on 2020-03-10, the
first day whose rules the fee functions can express: before it, re-pricing an order was
charged differently (no relist discount), and the 2019 rise of the sales tax to 5 % is not
dated by any source found. A day before 2020-03-10 therefore uses the 2020-03-10 row, as
`profit.fees.schedule_on` does for any day before the first row; the app holds no market
data that old (ESI serves today's orders), so that only matters to a hand-typed date.

Upwell structures: until Viridian (2023-06-13) the structure's owner set the whole broker
fee and the SCC took its share out of it, so a trader paid the owner's rate and nothing more
(`structure_scc_surcharge` 0); from Viridian the SCC's 0.5 % comes on top of the owner's rate.

The row 0002 seeded with the recording day 2026-11-22 held the same figures as the
2025-03-12 row; it is removed here unless an admin has edited it since, so the schedule does
not announce a change on a day CCP changed nothing. Reversing this migration puts it back
and removes the dated rows.
"""

from datetime import date
from decimal import Decimal
from importlib import import_module
from typing import Any

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# Sources, named once (every row's `source` quotes them).
CCP_RELIEF_END = (
    "CCP news 'Restructuring Taxes After Relief' (2021-10-19, "
    "https://www.eveonline.com/news/view/restructuring-taxes-after-relief)"
)
CCP_SUPPORT = (
    "CCP support 'Broker Fee and Sales Tax' "
    "(https://support.eveonline.com/hc/en-us/articles/203218962)"
)
CCP_BROKER_RELATIONS = (
    "CCP dev blog 'Broker Relations' (https://www.eveonline.com/news/view/broker-relations), "
    "reported by MMORPG.com 'EVE Online Brokerage Changes Coming in March 10 Update'"
)
NOSY_2019 = (
    "the 2019 Blackout tax change as quoted by The Nosy Gamer ('The Taxman Cometh', "
    "2019-07-31, and 'The Tax Holiday Is Over In EVE Online', 2021-10-19)"
)
NOSY_VIRIDIAN = (
    "Viridian patch notes as quoted by The Nosy Gamer ('EVE: Viridian Patch Notes - Broker And "
    "Job Fees', June 2023; 'Taxes And Fees In EVE: Viridian', 2023-06-09)"
)
EVE_UNI_LOG = "EVE University wiki 'Trading' change log (https://wiki.eveuniversity.org/Trading)"

_STANDINGS = (
    "Standings: 0.03 point per point of faction standing and 0.02 per point of corporation "
    "standing (CCP's Citadel dev post, reprinted by EVE News24 on 2016-04-26; the same "
    "weights in " + CCP_SUPPORT + ")."
)

# The rules that did not change between rows, in percent (the minimum charge in ISK).
_COMMON: dict[str, Decimal] = {
    "sales_tax_accounting_reduction": Decimal("11"),
    "broker_fee_per_broker_relations": Decimal("0.3"),
    "broker_fee_per_faction_standing": Decimal("0.03"),
    "broker_fee_per_corp_standing": Decimal("0.02"),
    "broker_fee_min_charge": Decimal("100"),
    "relist_discount": Decimal("50"),
}


def _row(effective_from: date, name: str, source: str, **rates: str) -> dict[str, Any]:
    return {
        "effective_from": effective_from,
        "name": name,
        "source": source,
        **_COMMON,
        **{field: Decimal(value) for field, value in rates.items()},
    }


HISTORY: list[dict[str, Any]] = [
    _row(
        date(2020, 3, 10),
        "CCP rates of 2020-03 (Broker Relations update), sales tax 5 %",
        "Sales tax 5 % and NPC broker fee 5 %, Accounting 11 % of the tax per level, Broker "
        "Relations 0.3 point per level: " + NOSY_2019 + "; both 5 % confirmed as the rates "
        "before the July 2021 relief by " + CCP_RELIEF_END + " ('Previously 5.0%'). The day the "
        "2019 change reached Tranquility is not dated by these sources. Lowest NPC broker fee "
        "3 % (same CCP post: 'Previously 3.0%'). Relist discount 50 % + 5 points per Advanced "
        "Broker Relations level (75 % at V) and the 100 ISK minimum for placing and for "
        "modifying an order: " + CCP_BROKER_RELATIONS + ", released 2020-03-10 (the date this "
        "row starts). Structures: the owner set the whole fee (at least 1 % from this update, "
        "same dev blog) and the SCC took half of it, so no surcharge on top (The Nosy Gamer "
        "2023-06-09; no CCP text found). " + _STANDINGS,
        sales_tax="5",
        broker_fee="5",
        broker_fee_min_rate="3",
        structure_scc_surcharge="0",
        relist_discount_per_advanced_broker_relations="5",
    ),
    _row(
        date(2021, 7, 21),
        "CCP rates of 2021-07 (Grand Heist tax relief), sales tax 2.5 %",
        "Sales tax and NPC broker fee each halved to 2.5 %, lowest broker fee 0.5 %: "
        + CCP_RELIEF_END
        + " ('Back in July ... with the Grand Heist release'). Day 2021-07-21 and Advanced "
        "Broker Relations 6 points per level (80 % at V): CCP news 'The Grand Heist Now Live' "
        "(2021-07-21), as cited by " + EVE_UNI_LOG + "; not read here first-hand. Structures "
        "unchanged (owner's fee, SCC share inside it). " + _STANDINGS,
        sales_tax="2.5",
        broker_fee="2.5",
        broker_fee_min_rate="0.5",
        structure_scc_surcharge="0",
        relist_discount_per_advanced_broker_relations="6",
    ),
    _row(
        date(2021, 10, 19),
        "CCP rates of 2021-10 (after the relief), sales tax 8 %",
        "Sales tax 8 % (3.6 % at Accounting V), NPC broker fee 3 %, lowest 1 %: "
        + CCP_RELIEF_END
        + ". Day: the date of that post and of The Nosy Gamer's 'The Tax Holiday Is Over In "
        "EVE Online' (2021-10-19, 'Today CCP ended the tax holiday'); CCP's post itself says "
        "the new rates were 'coming your way soon', so the exact day they reached Tranquility "
        "is not confirmed. Structures unchanged (owner's fee, SCC share inside it). " + _STANDINGS,
        sales_tax="8",
        broker_fee="3",
        broker_fee_min_rate="1",
        structure_scc_surcharge="0",
        relist_discount_per_advanced_broker_relations="6",
    ),
    _row(
        date(2023, 6, 13),
        "CCP rates of 2023-06 (Viridian), sales tax 4 %",
        "Viridian (launched 2023-06-13): 'Reduced Sales Tax for all market transactions by 50% "
        "from 8% to 4%' (temporary), and in Upwell structures the SCC takes a fixed rate on "
        "top of the owner's fee instead of a share of it: " + NOSY_VIRIDIAN + "; the 0.5 % is "
        "from " + CCP_SUPPORT + ". UNCONFIRMED: CCP called the 4 % temporary and patch notes "
        "22.01 say the tax was cut to 4.5 % 'down from 8%', so 8 % returned on a day no source "
        "found dates; this schedule keeps 4 % until the 22.01 row. NPC broker fee unchanged. "
        + _STANDINGS,
        sales_tax="4",
        broker_fee="3",
        broker_fee_min_rate="1",
        structure_scc_surcharge="0.5",
        relist_discount_per_advanced_broker_relations="6",
    ),
    _row(
        date(2024, 7, 25),
        "CCP rates of 2024-07 (patch 22.01), sales tax 4.5 %",
        "CCP patch notes Version 22.01 (https://www.eveonline.com/news/view/"
        "patch-notes-version-22-01): 'Marketplace taxes reduced to 4.5%. Down from 8%.', as "
        "quoted in Slivo-fr/elinor-reloaded pull request #25 (2024-10-18). Day 2024-07-25 from "
        + EVE_UNI_LOG
        + ", not read first-hand. Confirmed in force by 2024-08-04: the Accounting skill's "
        "description in the SDE bundled here (invTypes 16622, from Fuzzwork's invTypes of "
        "2024-08-04) reads 'Sales tax starts at 4.5%.'. UNCONFIRMED: patch notes 22.02 say "
        "the tax rose 'from 4%', not from 4.5 %. Everything else unchanged. " + _STANDINGS,
        sales_tax="4.5",
        broker_fee="3",
        broker_fee_min_rate="1",
        structure_scc_surcharge="0.5",
        relist_discount_per_advanced_broker_relations="6",
    ),
    _row(
        date(2025, 3, 12),
        "CCP rates of 2025-03 (patch 22.02), sales tax 7.5 %",
        "CCP patch notes Version 22.02 of 2025-03-12 (https://www.eveonline.com/news/view/"
        "patch-notes-version-22-02): 'Sales Tax has been increased from 4% to 7.5%', as quoted "
        "by several public trading tools and by " + EVE_UNI_LOG + "; not read first-hand. The "
        "other rules as stated by " + CCP_SUPPORT + ": NPC broker fee 3 % - 0.3 % per Broker "
        "Relations level - standings, at least 1 %; 0.5 % of a structure's fee to the SCC, "
        "Broker Relations not applying there. 100 ISK minimum for placing and for modifying an "
        "order: " + CCP_BROKER_RELATIONS + ". Relist discount 50 % + 6 points per Advanced "
        "Broker Relations level: that skill's description in the bundled SDE. " + _STANDINGS,
        sales_tax="7.5",
        broker_fee="3",
        broker_fee_min_rate="1",
        structure_scc_surcharge="0.5",
        relist_discount_per_advanced_broker_relations="6",
    ),
]

RATE_FIELDS = (
    "sales_tax",
    "sales_tax_accounting_reduction",
    "broker_fee",
    "broker_fee_per_broker_relations",
    "broker_fee_per_faction_standing",
    "broker_fee_per_corp_standing",
    "broker_fee_min_rate",
    "broker_fee_min_charge",
    "structure_scc_surcharge",
    "relist_discount",
    "relist_discount_per_advanced_broker_relations",
)


def _recorded() -> Any:
    """Migration 0002, whose row (the recording day 2026-11-22) this one replaces."""
    return import_module("profit.migrations.0002_current_fee_schedule")


def add_history(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    FeeSchedule = apps.get_model("profit", "FeeSchedule")
    db = schema_editor.connection.alias
    for row in HISTORY:
        values = {k: v for k, v in row.items() if k != "effective_from"}
        FeeSchedule.objects.using(db).update_or_create(
            effective_from=row["effective_from"], defaults=values
        )
    recorded = _recorded()
    unedited = {field: recorded.CURRENT[field] for field in RATE_FIELDS}
    FeeSchedule.objects.using(db).filter(
        effective_from=recorded.EFFECTIVE_FROM, **unedited
    ).delete()


def remove_history(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    FeeSchedule = apps.get_model("profit", "FeeSchedule")
    db = schema_editor.connection.alias
    recorded = _recorded()
    FeeSchedule.objects.using(db).update_or_create(
        effective_from=recorded.EFFECTIVE_FROM, defaults=recorded.CURRENT
    )
    FeeSchedule.objects.using(db).filter(
        effective_from__in=[row["effective_from"] for row in HISTORY]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("profit", "0002_current_fee_schedule")]

    operations = [migrations.RunPython(add_history, remove_history)]

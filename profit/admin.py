"""The fee schedule in the admin: when CCP changes a rate, staff add a row with the day it
takes effect (editing a row changes how past figures are explained; add one instead)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from profit.models import FeeSchedule


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    list_display = (
        "effective_from",
        "name",
        "in_force",
        "sales_tax",
        "broker_fee",
        "broker_fee_min_rate",
        "broker_fee_min_charge",
        "structure_scc_surcharge",
        "relist_discount",
    )
    ordering = ("-effective_from",)
    search_fields = ("name", "source")
    fieldsets = (
        (None, {"fields": ("effective_from", "name", "source")}),
        ("Sales tax (percent)", {"fields": ("sales_tax", "sales_tax_accounting_reduction")}),
        (
            "NPC station broker fee (percent; the minimum charge in ISK)",
            {
                "fields": (
                    "broker_fee",
                    "broker_fee_per_broker_relations",
                    "broker_fee_per_faction_standing",
                    "broker_fee_per_corp_standing",
                    "broker_fee_min_rate",
                    "broker_fee_min_charge",
                )
            },
        ),
        ("Upwell structures (percent)", {"fields": ("structure_scc_surcharge",)}),
        (
            "Relisting (percent)",
            {"fields": ("relist_discount", "relist_discount_per_advanced_broker_relations")},
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[FeeSchedule]:
        current = (
            FeeSchedule.objects.filter(effective_from__lte=timezone.now().date())
            .order_by("-effective_from")
            .values("pk")[:1]
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                current=ExpressionWrapper(Q(pk=Subquery(current)), output_field=BooleanField())
            )
        )

    @admin.display(boolean=True, description="in force today", ordering="current")
    def in_force(self, row: FeeSchedule) -> bool:
        return bool(getattr(row, "current", False))

"""Upwell structures in the admin: what is known of each, its market status, and an
operator's hand on them (add one by id, suspend or resume its market, mark it a hub, set
the owner's broker fee)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from market.models import Structure
from market.structures import forget_known
from sde.places import structure_place


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    list_display = [
        "structure_id",
        "__str__",
        "solar_system_id",
        "region_id",
        "market_status",
        "order_count",
        "last_refresh",
        "learned_from",
        "is_hub",
    ]
    list_filter = ["market_status", "learned_from", "is_hub"]
    search_fields = ["structure_id", "name"]
    readonly_fields = ["learned_at", "last_refresh", "order_count"]
    actions = ["suspend", "resume"]

    def get_readonly_fields(self, request: HttpRequest, obj: Structure | None = None) -> list[str]:
        # An existing structure keeps its id and where it was learned.
        fixed = ["structure_id", "learned_from"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        return {"learned_from": Structure.Learned.OPERATOR}

    def save_model(self, request: HttpRequest, obj: Structure, form: Any, change: bool) -> None:
        """A structure placed in a solar system is in that system's region (the SDE's)."""
        if obj.solar_system_id is not None:
            obj.region_id = structure_place(
                obj.structure_id, None, system_id=obj.solar_system_id
            ).region_id
        super().save_model(request, obj, form, change)

    @admin.action(description="Suspend the market of the selected structures")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Structure]) -> None:
        count = queryset.update(market_status=Structure.Status.SUSPENDED)
        forget_known()  # an update() sends no signal
        self.message_user(request, f"{count} structure(s) suspended.", messages.SUCCESS)

    @admin.action(description="Resume the market of the selected structures")
    def resume(self, request: HttpRequest, queryset: QuerySet[Structure]) -> None:
        count = queryset.filter(market_status=Structure.Status.SUSPENDED).update(
            market_status=Structure.Status.NO_ACCESS
        )
        forget_known()
        self.message_user(
            request,
            f"{count} structure(s) resumed: read again once a member shares them.",
            messages.SUCCESS,
        )

"""Characters in the admin: read-only, and never a token.

`CharacterToken` is not registered at all, and the character page shows only whether a token
is stored and when its access token expires. (allauth's token and app admins are removed in
characters/provider/admin.py.)
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from characters.models import Character


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = ["name", "character_id", "user", "needs_reauth", "added_at", "updated_at"]
    list_filter = ["needs_reauth"]
    search_fields = ["name", "character_id", "user__username"]
    list_select_related = ["user"]
    readonly_fields = [
        "character_id",
        "name",
        "user",
        "corporation_id",
        "alliance_id",
        "scopes",
        "needs_reauth",
        "has_token",
        "access_expires_at",
        "added_at",
        "updated_at",
    ]
    fields = tuple(readonly_fields)

    @admin.display(boolean=True, description="Token stored")
    def has_token(self, obj: Character) -> bool:
        return hasattr(obj, "token")

    @admin.display(description="Access token expires")
    def access_expires_at(self, obj: Character) -> object:
        token = getattr(obj, "token", None)
        return token.access_expires_at if token is not None else None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

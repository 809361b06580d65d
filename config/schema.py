"""The OpenAPI schema class of every API view (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS): in a
module of its own, since DRF imports it while its views module is being imported."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny


class PublicAwareSchema(AutoSchema):
    """No lock on an endpoint anyone may call: only those whose permissions ask for a user
    (the characters API, staff's refresh) name the session login in the schema."""

    def get_auth(self) -> list[dict[str, Any]]:
        permissions = getattr(self.view, "permission_classes", [])
        if all(permission is AllowAny for permission in permissions):
            return []
        auth: list[dict[str, Any]] = super().get_auth()
        return auth

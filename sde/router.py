"""Sends every SDE model to the read-only `sde` database and keeps it out of migrations."""

from typing import Any

from django.db.models import Model

SDE_ALIAS = "sde"


class SdeRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return SDE_ALIAS if model._meta.app_label == "sde" else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return SDE_ALIAS if model._meta.app_label == "sde" else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        in_sde = {obj1._meta.app_label == "sde", obj2._meta.app_label == "sde"}
        return True if in_sde == {True} else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        # Nothing is ever migrated into the SDE, and SDE models never go into `default`.
        return db != SDE_ALIAS and app_label != "sde"

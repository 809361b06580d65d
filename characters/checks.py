"""System checks for the EVE SSO settings (`manage.py check`, `check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from characters import crypto


@register()
def token_keys_valid(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        crypto.encrypt("check")
    except ImproperlyConfigured as exc:
        return [
            Error(str(exc), hint="Generate one with Fernet.generate_key()", id="characters.E001")
        ]
    return []


@register(Tags.security, deploy=True)
def sso_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.EVE_CLIENT_ID:
        return []
    found: list[CheckMessage] = []
    if not [k for k in settings.TOKEN_KEYS if k.strip()]:
        found.append(
            Warning(
                "TOKEN_KEYS is empty: tokens are encrypted with a key derived from SECRET_KEY.",
                hint="Set TOKEN_KEYS to a Fernet key of its own (see docs/sso.md).",
                id="characters.W001",
            )
        )
    if not str(settings.SSO_BASE_URL).startswith("https://"):
        found.append(
            Warning(
                "SSO_BASE_URL is not https: a development stand-in in production?",
                id="characters.W002",
            )
        )
    return found

"""Re-encrypt every stored SSO token with the first key of TOKEN_KEYS.

Rotation: put a new key first in TOKEN_KEYS (keep the old ones after it), restart, run this
command, then remove the old keys. Tokens no configured key opens are reported; their
characters are marked as needing re-authorisation (with --mark-unreadable).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from characters import crypto
from characters.models import CharacterToken
from characters.tokens import mark_needs_reauth


class Command(BaseCommand):
    help = "Re-encrypt every stored SSO token with the newest key of TOKEN_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mark-unreadable",
            action="store_true",
            help="mark characters whose tokens no key opens as needing re-authorisation",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = unreadable = 0
        for pk in CharacterToken.objects.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                token = (
                    CharacterToken.objects.select_for_update()
                    .select_related("character")
                    .filter(pk=pk)
                    .first()
                )
                if token is None:
                    continue  # unlinked meanwhile
                try:
                    token.refresh_token_encrypted = crypto.rotate(token.refresh_token_encrypted)
                    if token.access_token_encrypted:
                        token.access_token_encrypted = crypto.rotate(token.access_token_encrypted)
                except crypto.InvalidToken:
                    unreadable += 1
                    self.stderr.write(f"character {pk}: no configured key opens its tokens")
                    if options["mark_unreadable"]:
                        mark_needs_reauth(token.character)
                    continue
                token.save(update_fields=["refresh_token_encrypted", "access_token_encrypted"])
                rotated += 1
        self.stdout.write(
            f"Re-encrypted the tokens of {rotated} characters ({unreadable} unreadable)."
        )

"""EVE characters linked to user accounts, and their SSO tokens (encrypted at rest).

A `Character` belongs to exactly one user; a user may link several. Linking a character
another user holds moves it to the linking user: the EVE SSO has just proved that whoever is
linking controls the character now (see docs/sso.md). Its `CharacterToken` holds the refresh
token and the current access token, both encrypted with `characters.crypto` (keys from
TOKEN_KEYS); nothing else in the project stores a token.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from characters.scopes import split_scopes


class Character(models.Model):
    character_id = models.BigIntegerField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="eve_characters"
    )
    name = models.CharField(max_length=100)
    corporation_id = models.BigIntegerField(null=True, blank=True)
    alliance_id = models.BigIntegerField(null=True, blank=True)
    # Space-separated ESI scopes the current token grants (the `scp` claim).
    scopes = models.TextField(blank=True, default="")
    # The EVE account's owner hash (the `owner` claim): it changes when the character is
    # sold to another account, whose tokens must not be mixed with the old owner's.
    owner_hash = models.CharField(max_length=100, blank=True, default="")
    # Set when the SSO refused the refresh token (revoked, or the character changed hands):
    # no ESI call is made for it until the user authorises it again.
    needs_reauth = models.BooleanField(default=False)
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.character_id})"

    @property
    def scope_set(self) -> frozenset[str]:
        return split_scopes(self.scopes)


class CharacterToken(models.Model):
    """The character's SSO tokens, Fernet-encrypted (never readable from the database alone).

    The access token is kept (encrypted) with its expiry so that every worker does not refresh
    on every call; `characters.tokens.access_token` is the only reader.
    """

    character = models.OneToOneField(
        Character, on_delete=models.CASCADE, primary_key=True, related_name="token"
    )
    refresh_token_encrypted = models.TextField()
    access_token_encrypted = models.TextField(blank=True, default="")
    access_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"token of {self.character_id}"


class StructureShare(models.Model):
    """A member's choice to let this deployment read one structure's market with its token
    (docs/structures.md): everyone here then sees that market. `suspended_until`: ESI refused
    this character the market (403); another sharing character is asked meanwhile."""

    character = models.ForeignKey(
        Character, on_delete=models.CASCADE, related_name="structure_shares"
    )
    structure = models.ForeignKey(
        "market.Structure", on_delete=models.CASCADE, related_name="shares"
    )
    shared_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    suspended_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["character", "structure"], name="one_share_each")
        ]

    def __str__(self) -> str:
        return f"{self.character} shares {self.structure}"

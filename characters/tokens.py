"""A character's access token, refreshed shortly before it expires.

    from characters.tokens import NeedsReauth, access_token
    try:
        token = access_token(character)      # a valid EVE access token (a JWT)
    except NeedsReauth:
        ...                                   # stop: the user must authorise the character again

One refresh per character at a time across every process (a lock in the shared store; the
others wait for it and reuse the result). When the SSO refuses the refresh token (revoked in
the EVE account, or the character changed hands) the character is marked `needs_reauth`, its
tokens are deleted and `NeedsReauth` is raised; from then on every call raises at once without
contacting the SSO, so a task retrying on a schedule never loops against it. A passing SSO
outage raises `TokenUnavailable` instead and changes nothing.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from characters import crypto, sso
from characters.models import Character, CharacterToken
from characters.scopes import join_scopes
from store import Lock, get_store

# Refresh when the access token has less than this left (EVE's live 20 minutes).
REFRESH_MARGIN = timedelta(seconds=60)
LOCK_TTL = 30.0
LOCK_WAIT = 15.0


class NeedsReauth(Exception):
    """The character has no usable refresh token: its owner must authorise it again."""

    def __init__(self, character_id: int) -> None:
        super().__init__(f"character {character_id} needs re-authorisation")
        self.character_id = character_id


class TokenUnavailable(Exception):
    """No access token right now (the SSO is unreachable or busy); try again later."""


def store_tokens(
    character: Character, *, access_token: str, refresh_token: str, expires_at: datetime
) -> None:
    """Save a freshly issued token pair, encrypted (called by the login flow and refresh)."""
    CharacterToken.objects.update_or_create(
        character=character,
        defaults={
            "refresh_token_encrypted": crypto.encrypt(refresh_token),
            "access_token_encrypted": crypto.encrypt(access_token),
            "access_expires_at": expires_at,
        },
    )


def _usable(token: CharacterToken) -> str | None:
    if not token.access_token_encrypted or token.access_expires_at is None:
        return None
    if token.access_expires_at - timezone.now() <= REFRESH_MARGIN:
        return None
    try:
        return crypto.decrypt(token.access_token_encrypted)
    except crypto.InvalidToken:
        return None


def _load(character_id: int) -> CharacterToken:
    """The token row, fresh from the database; NeedsReauth if there is none or the
    character is marked."""
    token = (
        CharacterToken.objects.select_related("character").filter(character_id=character_id).first()
    )
    if token is None or token.character.needs_reauth:
        raise NeedsReauth(character_id)
    return token


def mark_needs_reauth(character: Character) -> None:
    """Flag the character and forget its tokens (they are useless now)."""
    with transaction.atomic():
        Character.objects.filter(pk=character.pk).update(
            needs_reauth=True, updated_at=timezone.now()
        )
        CharacterToken.objects.filter(character_id=character.pk).delete()
    character.needs_reauth = True


def access_token(character: Character) -> str:
    """A valid access token for the character (see the module docstring)."""
    if character.needs_reauth:
        raise NeedsReauth(character.character_id)
    token = _load(character.character_id)
    usable = _usable(token)
    if usable is not None:
        return usable

    lock = get_store().lock(f"char:{character.character_id}:token-refresh", LOCK_TTL)
    deadline = time.monotonic() + LOCK_WAIT
    while not _acquire(lock):
        # Someone else is refreshing it: wait for their result.
        if time.monotonic() > deadline:
            raise TokenUnavailable(f"token refresh of {character.character_id} is stuck")
        time.sleep(0.1)
        usable = _usable(_load(character.character_id))
        if usable is not None:
            return usable
    try:
        token = _load(character.character_id)  # another process may have just refreshed
        usable = _usable(token)
        if usable is not None:
            return usable
        return _refresh(character, token)
    finally:
        lock.release()


def _acquire(lock: Lock) -> bool:
    try:
        return lock.acquire()
    except (OSError, RedisError) as exc:
        raise TokenUnavailable(f"the shared store is unreachable: {type(exc).__name__}") from None


def _refresh(character: Character, token: CharacterToken) -> str:
    try:
        refresh_token = crypto.decrypt(token.refresh_token_encrypted)
    except crypto.InvalidToken:
        # Encrypted with a key no longer configured: nobody can use it any more.
        mark_needs_reauth(character)
        raise NeedsReauth(character.character_id) from None
    try:
        fresh = sso.refresh(refresh_token)
    except sso.InvalidGrant:
        mark_needs_reauth(character)
        raise NeedsReauth(character.character_id) from None
    except sso.SsoError as exc:
        raise TokenUnavailable(str(exc)) from None
    if fresh.claims.character_id != character.character_id:
        mark_needs_reauth(character)
        raise NeedsReauth(character.character_id)
    if fresh.claims.owner and character.owner_hash and fresh.claims.owner != character.owner_hash:
        # The character was transferred to another EVE account.
        mark_needs_reauth(character)
        raise NeedsReauth(character.character_id)
    store_tokens(
        character,
        access_token=fresh.access_token,
        refresh_token=fresh.refresh_token,
        expires_at=fresh.expires_at,
    )
    scopes = join_scopes(fresh.claims.scopes)
    if scopes != character.scopes:
        character.scopes = scopes
        character.save(update_fields=["scopes", "updated_at"])
    return fresh.access_token

"""Reads of a user's characters, shared by pages and the API.

The selected character's id lives in the session (`SESSION_KEY`); it is only ever trusted
after checking that the character belongs to the logged-in user.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest

from characters.models import Character

SESSION_KEY = "eve_character_id"


def user_characters(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Character]:
    """The user's characters by name (none for an anonymous user)."""
    if not user.is_authenticated:
        return Character.objects.none()
    return Character.objects.filter(user_id=user.pk).order_by("name", "character_id")


def user_character(user: AbstractBaseUser | AnonymousUser, character_id: int) -> Character:
    """One of the user's characters; `Character.DoesNotExist` for anyone else's (callers
    answer 404, never revealing that the id exists)."""
    return user_characters(user).get(character_id=character_id)


def selected_character(request: HttpRequest) -> Character | None:
    """The character chosen in the header switcher, else the user's first, else None."""
    characters = user_characters(request.user)
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        found = characters.filter(character_id=chosen).first()
        if found is not None:
            return found
    return characters.first()

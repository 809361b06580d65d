"""The one way a request reaches a character: one of the logged-in user's own, else 404.

Pages, account actions and the API all ask here, so a character id from a URL or a form is
never used before it was found among the user's characters, and the answer for anyone
else's never says whether the id exists (the API's handler turns the 404 into its JSON
`detail`).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from rest_framework.request import Request

from characters import selectors
from characters.models import Character

NOT_FOUND = "No such character."


def own_character(request: HttpRequest | Request, character_id: int) -> Character:
    """The user's character with this id, else Http404."""
    try:
        return selectors.user_character(request.user, character_id)
    except Character.DoesNotExist:
        raise Http404(NOT_FOUND) from None

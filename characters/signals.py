"""Signals of the characters app.

`character_authorised(sender=Character, character, created)`: sent after a login, a link, a
feature turned on or a re-authorisation stored fresh tokens for `character` (the place to
start fetching its data).
"""

from django.dispatch import Signal

character_authorised = Signal()

"""What the characters app plugs into the apps below it and into Django's signals; connected
once, from `CharactersConfig.ready()` (characters/apps.py).

- The selected character's own skills and standings set the fees of profit requests (a
  skill parameter replaces that one value) and fill the profit forms
  (`profit.params.provide_skills`).
- Importing `characters.tasks` connects its receivers: a character's data is refreshed when
  it is authorised and forgotten when it is unlinked.
- A structure's last share gone (unshared, or its character unlinked), its market is no
  longer read, named or merged (`characters.structures.share_removed`).
"""

from __future__ import annotations

from django.db.models.signals import post_delete

import characters.tasks  # noqa: F401  (connects the refresh and forget receivers)
from characters.fees import character_skills_for_request
from characters.models import StructureShare
from characters.structures import share_removed
from profit.params import provide_skills


def connect() -> None:
    provide_skills(character_skills_for_request)
    post_delete.connect(share_removed, sender=StructureShare)

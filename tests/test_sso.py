"""EVE SSO login through allauth against the SSO stand-in: log in, link, turn a feature on,
switch, unlink, log out; token refresh and revocation."""

from __future__ import annotations

import pytest
from django.test import Client

from characters.models import Character
from tests.sso_env import sso_login

pytestmark = pytest.mark.django_db


def test_login_creates_the_user_and_character(client: Client, sso) -> None:
    where = sso_login(client, sso, 1001)
    assert where == "/"
    character = Character.objects.get(character_id=1001)
    assert character.name == "Bruce Wayne"
    assert character.scopes == ""

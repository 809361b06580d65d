"""Fixtures for the character tests (a plugin: `pytest_plugins = ["tests.characters_env"]`):
a token signer, and the ESI stand-in trusting its key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from standin.esi import EsiStandIn
from tests.characters_tokens import ISSUER, TokenSigner


@pytest.fixture(scope="session")
def signer() -> TokenSigner:
    return TokenSigner()


@pytest.fixture
def esi_characters(signer: TokenSigner) -> Iterator[EsiStandIn]:
    """An ESI stand-in (no market samples) whose character routes trust `signer`."""
    with EsiStandIn(sample_data=False) as server:
        server.characters.trust(signer.jwks(), issuer=ISSUER)
        yield server

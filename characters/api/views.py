"""The characters part of the v1 API: a logged-in user's own characters and their data.

Every endpoint needs a session (anonymous: 403 with a JSON `detail`); a character id that is
not one of the user's own answers 404, whether or not it exists. Each section says when its
data was fetched and from which ESI cache time (`fetched_at`, `esi`), and what a feature the
character has not granted would show (`state: "disabled"`, `feature.grants`).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from characters import data, sections, selectors
from characters.access import own_character
from characters.api import serializers as s
from characters.tasks import queue_refresh
from config.api import ErrorOut, validated

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class CharacterListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="characters_list",
        summary="The logged-in user's characters",
        responses={200: s.CharacterListOut, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        validated(s.CharacterNoParams, request)
        selected = selectors.selected_character(request)
        selected_id = selected.character_id if selected else None
        return Response(
            {
                "selected_id": selected_id,
                "characters": [
                    sections.summary(c, selected=c.character_id == selected_id)
                    for c in selectors.user_characters(request.user)
                ],
            }
        )


class CharacterDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="characters_detail",
        summary="One character: who, which features, the state of each section",
        responses={200: s.CharacterDetailOut, **ERRORS},
    )
    def get(self, request: Request, character_id: int) -> Response:
        validated(s.CharacterNoParams, request)
        character = own_character(request, character_id)
        selected = selectors.selected_character(request)
        states = []
        for group in sections.SECTIONS:
            found = sections.section_state(character, group)
            states.append(
                {key: found[key] for key in ("group", "label", "state", "fetched_at", "feature")}
            )
        return Response(
            {
                **sections.summary(
                    character,
                    selected=selected is not None and selected.pk == character.pk,
                ),
                "identity": sections.section(character, "identity"),
                "sections": states,
            }
        )


class SectionView(APIView):
    """One stored section of one of the user's characters (`group` names it); each section
    is a subclass with its own documented answer."""

    permission_classes = [IsAuthenticated]
    group: str

    def get(self, request: Request, character_id: int) -> Response:
        validated(s.CharacterNoParams, request)
        return Response(sections.section(own_character(request, character_id), self.group))


def _section_schema(group: str, out: type[Serializer], summary: str) -> Any:
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"characters_{group}", summary=summary, responses={200: out, **ERRORS}
        )
    )


@_section_schema(
    "skills", s.SkillsSection, "Skills, trading skills highlighted, and the fees they give"
)
class SkillsView(SectionView):
    group = "skills"


@_section_schema("standings", s.StandingsSection, "NPC standings")
class StandingsView(SectionView):
    group = "standings"


@_section_schema("assets", s.AssetsSection, "Assets by location, valued at the Jita best bid")
class AssetsView(SectionView):
    group = "assets"


@_section_schema("wallet", s.WalletSection, "Wallet balance, transactions and journal")
class WalletView(SectionView):
    group = "wallet"


@_section_schema("orders", s.OrdersSection, "Open market orders, flagged outbid or undercut")
class OrdersView(SectionView):
    group = "orders"


@_section_schema("location", s.LocationSection, "Location and current ship")
class LocationView(SectionView):
    group = "location"


class RefreshView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="characters_refresh",
        summary="Fetch the character's data again now",
        description="Queues a refresh; ESI answers that are still fresh are reused.",
        request=None,
        responses={202: s.CharacterRefreshOut, **ERRORS},
    )
    def post(self, request: Request, character_id: int) -> Response:
        validated(s.CharacterNoParams, request)
        character = own_character(request, character_id)
        if character.needs_reauth:
            return Response(
                {"queued": False, "detail": "This character must be authorised again first."},
                status=status.HTTP_202_ACCEPTED,
            )
        queued = queue_refresh(character.character_id)
        next_at = data.load_status(character.character_id).get("next_at")
        detail = "Refresh queued." if queued else "A refresh is already queued."
        if next_at:
            detail += f" The last one planned the next for {next_at}."
        return Response({"queued": queued, "detail": detail}, status=status.HTTP_202_ACCEPTED)

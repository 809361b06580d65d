"""`POST /api/v1/appraisals` and `GET /api/v1/appraisals/{code}` (docs/appraisal.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal import service
from appraisal.api import serializers as s
from config.api import ErrorOut
from profit.params import skills_from_request

ERRORS = {400: ErrorOut, 404: ErrorOut, 410: ErrorOut, 503: ErrorOut}


class PlainTextParser(BaseParser):
    """A text/plain body: the paste itself (UTF-8), as `{"text": ...}`."""

    media_type = "text/plain"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> dict[str, str]:
        return {"text": stream.read().decode("utf-8", errors="replace")}


class AppraisalUnavailable(APIException):
    def __init__(self, error: service.AppraisalError) -> None:
        super().__init__(str(error))
        self.status_code = error.status
        if error.retry_after is not None:
            self.wait = error.retry_after  # DRF sends it as Retry-After


def options_of(data: dict[str, Any]) -> service.Options:
    return service.Options(
        market=data.get("market"),
        percentage=float(data.get("percentage", 100.0)),
        persist=bool(data.get("persist", True)),
        private=bool(data.get("private", False)),
        expire_days=data.get("expire_days"),
    )


def run(request: Request, data: dict[str, Any], read: Any, raw: str) -> dict[str, Any]:
    """The appraisal of `read` with the request's options and skills (errors as 4xx/503)."""
    skills, source = skills_from_request(request, data)
    try:
        return service.appraise(read, options_of(data), skills, source, raw=raw)
    except service.AppraisalError as exc:
        raise AppraisalUnavailable(exc) from exc


class AppraisalsView(APIView):
    parser_classes = [JSONParser, PlainTextParser]

    @extend_schema(
        operation_id="appraisal_create",
        summary="Appraise a list pasted from the game",
        description=(
            "The text as text/plain (options as query parameters) or JSON {text, market, "
            "percentage, persist, private, expire_days, skills...}. Every line is read by the "
            "format it is in (inventory, contracts, EFT, D-scan, killmails, ...); lines no "
            "format reads come back in `unparsed`. 201 with the code when stored, 200 with "
            "persist=false."
        ),
        parameters=[s.AppraisalOptions],
        request={
            "application/json": s.AppraisalIn,
            "text/plain": OpenApiRequest(str),
        },
        responses={200: s.AppraisalOut, 201: s.AppraisalOut, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        if request.content_type.startswith("text/plain"):
            options = s.AppraisalOptions(data=request.query_params)
            options.is_valid(raise_exception=True)
            data = {**options.validated_data}
            text = str(request.data["text"])
        else:
            body = s.AppraisalIn(data=request.data)
            body.is_valid(raise_exception=True)
            data = dict(body.validated_data)
            text = data["text"]
        if not text.strip():
            raise serializers.ValidationError({"text": ["Paste a list to appraise."]})
        try:
            read = service.read_text(text)
        except service.AppraisalError as exc:
            raise AppraisalUnavailable(exc) from exc
        answer = run(request, data, read, text)
        if answer["code"] is None:
            return Response(answer)
        return Response(answer, status=201, headers={"Location": answer["permalink"]})


class AppraisalView(APIView):
    @extend_schema(
        operation_id="appraisal_read",
        summary="A stored appraisal",
        parameters=[OpenApiParameter("token", str, description="The link token of a private one.")],
        responses={200: s.AppraisalOut, 404: ErrorOut, 410: ErrorOut},
    )
    def get(self, request: Request, code: str) -> Response:
        try:
            answer, _ = service.read(code, request.query_params.get("token"))
        except service.AppraisalError as exc:
            raise AppraisalUnavailable(exc) from exc
        return Response(answer)

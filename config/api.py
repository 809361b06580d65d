"""What every API view shares: strict query-parameter validation and the error shape."""

from __future__ import annotations

import functools
from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

# Built inline because a serializer class cannot declare a field named `errors`.
ErrorOut = inline_serializer(
    "Error",
    {
        "detail": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="for a 400: each bad parameter and what is wrong with it",
        ),
    },
)


@functools.cache
def field_names(params: type[serializers.Serializer]) -> frozenset[str]:
    """A serializer's field names, once per class: an instance deep-copies every field."""
    return frozenset(params().fields)


def validated(params: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The query parameters checked by `params`; unknown ones are a 400 too."""
    unknown = set(request.query_params) - field_names(params) - {"format"}
    if unknown:
        raise serializers.ValidationError(
            {name: ["Unknown parameter."] for name in sorted(unknown)}
        )
    serializer = params(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)

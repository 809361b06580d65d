"""DRF's JSON, written by orjson: the same bytes for the same answer, in a fraction of the time.

`rest_framework.renderers.JSONRenderer` encodes with the standard library's `json` and a
Python `default` for what it cannot write; an API answer of a few hundred rows spent more time
there than in the view (`benchmarks/users.py` profiled with py-spy: 5 % of the web workers'
CPU). This renderer keeps DRF's output: compact, UTF-8, dates and times through DRF's own
encoder (a UTC time ends in "Z"), U+2028 and U+2029 escaped. What orjson cannot write (an
integer past 64 bits) and indented output (the browsable API, `; indent=` in Accept) go to
DRF's renderer. One difference: a NaN is written as null, where DRF's strict mode raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework import renderers
from rest_framework.utils import encoders

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME
_default = encoders.JSONEncoder().default
_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


class JSONRenderer(renderers.JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
            try:
                out = orjson.dumps(data, default=_default, option=_OPTIONS)
            except orjson.JSONEncodeError:
                pass
            else:
                for raw, escaped in _SEPARATORS:
                    if raw in out:
                        out = out.replace(raw, escaped)
                return out
        return super().render(data, accepted_media_type, renderer_context)

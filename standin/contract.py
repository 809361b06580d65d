"""Checks HTTP requests and responses against the official ESI OpenAPI document.

What it is for: keeping the ESI client honest (does it call real routes with declared,
well-typed parameters and the required headers?) and keeping the stand-in honest (do its
answers match the schemas and headers ESI declares?). The document is
`standin/data/esi-openapi-2026-08-04.json`, the unmodified OpenAPI 3.1 file ESI serves at
/meta/openapi.json for compatibility date 2026-08-04. Schemas are JSON Schema 2020-12; `$ref`s
resolve inside the whole document through a `referencing` registry.

    validate_request("GET", "/markets/10000002/orders/", {"order_type": "all", "page": "2"})
    validate_response("GET", "/markets/10000002/orders/", 200, body, headers)

Both raise `ContractError` (an AssertionError, so pytest shows it as a failed check) listing
every problem found. Paths may be full URLs and may carry the legacy `/latest` (or `/vN`)
prefix and a trailing slash. `datasource` (tranquility or singularity) is accepted as the one
legacy query parameter ESI still takes on every route.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parent / "data" / "esi-openapi-2026-08-04.json"
SPEC_URI = "https://esi.evetech.net/meta/openapi.json"
LEGACY_QUERY: dict[str, dict[str, Any]] = {
    "datasource": {"type": "string", "enum": ["tranquility", "singularity"]},
}
_PREFIX = re.compile(r"^/(?:latest|legacy|dev|v\d+)(?=/)")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")

QueryValue = str | int | float | bool | list[str]


class ContractError(AssertionError):
    """A request or response the ESI specification does not allow; `problems` lists why."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{what}: " + "; ".join(problems))


# --- The document --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(SPEC_PATH.read_bytes())
    return document


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(_RFC3339.match(value))

    @checker.checks("date", raises=ValueError)
    def _date(value: object) -> bool:
        return not isinstance(value, str) or bool(date.fromisoformat(value))

    @checker.checks("int32")
    def _int32(value: object) -> bool:
        return not isinstance(value, int) or -(2**31) <= value < 2**31

    @checker.checks("int64")
    def _int64(value: object) -> bool:
        return not isinstance(value, int) or -(2**63) <= value < 2**63

    return checker


FORMATS = _format_checker()


def _pointer(*segments: str) -> str:
    escaped = (s.replace("~", "~0").replace("/", "~1") for s in segments)
    return quote("/" + "/".join(escaped), safe="/~")


def _validator_at(*segments: str) -> Draft202012Validator:
    """A validator for the schema at this place in the document (refs resolve globally)."""
    schema = {"$ref": f"{SPEC_URI}#{_pointer(*segments)}"}
    return Draft202012Validator(schema, registry=_registry(), format_checker=FORMATS)


def _absolute_refs(node: Any) -> Any:
    """A copy of a schema taken out of the document, its local `$ref`s made absolute."""
    if isinstance(node, Mapping):
        return {
            k: f"{SPEC_URI}{v}" if k == "$ref" and v.startswith("#") else _absolute_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(item) for item in node]
    return node


def _validator_for(schema: Mapping[str, Any]) -> Draft202012Validator:
    """A validator for a schema taken out of the document (a parameter's or a header's)."""
    return Draft202012Validator(
        _absolute_refs(schema), registry=_registry(), format_checker=FORMATS
    )


def _deref(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local `$ref` ("#/components/...") to its target."""
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _errors(validator: Draft202012Validator, instance: Any, where: str) -> list[str]:
    found = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.path])
    return [f"{where}{''.join(f'/{p}' for p in e.absolute_path)}: {e.message}" for e in found[:10]]


# --- Operations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str  # lower case, as in the document
    template: str  # e.g. "/markets/{region_id}/orders"
    pattern: re.Pattern[str]
    parameters: tuple[Mapping[str, Any], ...]  # resolved parameter objects
    responses: Mapping[str, Any]
    rate_limit: Mapping[str, Any] | None

    def parameter(self, where: str, name: str) -> Mapping[str, Any] | None:
        folded = name.lower() if where == "header" else name
        for p in self.parameters:
            declared = p["name"].lower() if where == "header" else p["name"]
            if p["in"] == where and declared == folded:
                return p
        return None


@lru_cache(maxsize=1)
def operations() -> tuple[Operation, ...]:
    found = []
    for template, item in spec()["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch", "head", "options"):
                continue
            regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
            found.append(
                Operation(
                    method=method,
                    template=template,
                    pattern=re.compile(f"^{regex}$"),
                    parameters=tuple(_deref(p) for p in [*shared, *op.get("parameters", [])]),
                    responses=op.get("responses", {}),
                    rate_limit=op.get("x-rate-limit"),
                )
            )
    # Literal paths before templated ones ("/markets/prices" is not "/markets/{region_id}").
    return tuple(sorted(found, key=lambda o: (o.template.count("{"), o.template)))


def normalise_path(path: str) -> str:
    """The spec's form of a request path: no host, query, legacy prefix or trailing slash."""
    path = urlsplit(path).path or "/"
    return _PREFIX.sub("", path).rstrip("/") or "/"


def match_operation(method: str, path: str) -> tuple[Operation, dict[str, str]]:
    """The operation a request goes to, and its raw path parameters."""
    wanted = normalise_path(path)
    candidates = [op for op in operations() if op.pattern.match(wanted)]
    if not candidates:
        raise ContractError(f"{method} {path}", [f"no path in the ESI spec matches {wanted!r}"])
    for op in candidates:
        if op.method == method.lower():
            match = op.pattern.match(wanted)
            assert match is not None
            return op, match.groupdict()
    allowed = sorted({op.method.upper() for op in candidates})
    raise ContractError(f"{method} {path}", [f"method not in the spec (allowed: {allowed})"])


# --- Requests ------------------------------------------------------------------------------


def _coerce(raw: Any, schema: Mapping[str, Any]) -> Any:
    """A query, path or header string as the typed value its schema describes."""
    schema = _deref(schema)
    kind = schema.get("type")
    if isinstance(raw, list) and kind != "array":
        raise ValueError(f"given {len(raw)} times")
    if kind == "array":
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return [_coerce(item, schema.get("items", {})) for item in items]
    if not isinstance(raw, str):
        return raw
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            raise ValueError(f"{raw!r} is not an integer")
        return int(raw)
    if kind == "number":
        return float(raw)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError(f"{raw!r} is not true or false")
        return raw == "true"
    return raw


def _check_value(where: str, raw: Any, schema: Mapping[str, Any]) -> list[str]:
    try:
        value = _coerce(raw, schema)
    except ValueError as exc:
        return [f"{where}: {exc}"]
    return _errors(_validator_for(schema), value, where)


def _query_dict(path: str, query: Mapping[str, QueryValue] | str | None) -> dict[str, Any]:
    if query is None:
        query = urlsplit(path).query
    if isinstance(query, str):
        pairs: dict[str, Any] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            pairs[name] = [*pairs[name], value] if name in pairs else value
            if isinstance(pairs[name], list) and len(pairs[name]) == 1:
                pairs[name] = pairs[name][0]
        return pairs
    return {
        k: (str(v).lower() if isinstance(v, bool) else v if isinstance(v, list) else str(v))
        for k, v in query.items()
    }


def validate_request(
    method: str,
    path: str,
    query: Mapping[str, QueryValue] | str | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """Check a request against the spec; return the path template it matched.

    `query` is a mapping (values as sent: strings, or lists for repeated parameters) or a raw
    query string; None takes it from `path`. Path and query parameters must be declared and
    valid (type, enum, minimum, format); required ones must be present. With `headers`, the
    declared header parameters are checked too (X-Compatibility-Date is required by every
    route); other headers (User-Agent, ...) are free.
    """
    op, path_params = match_operation(method, path)
    problems: list[str] = []
    for name, raw in path_params.items():
        param = op.parameter("path", name)
        if param is None:
            problems.append(f"path parameter {name} is not declared")
        else:
            problems += _check_value(f"path parameter {name}", raw, param["schema"])
    given = _query_dict(path, query)
    for name, raw in given.items():
        param = op.parameter("query", name)
        schema = param["schema"] if param else LEGACY_QUERY.get(name)
        if schema is None:
            problems.append(f"query parameter {name!r} is not declared for {op.template}")
        else:
            problems += _check_value(f"query parameter {name}", raw, schema)
    problems += [
        f"required query parameter {p['name']!r} is missing"
        for p in op.parameters
        if p["in"] == "query" and p.get("required") and p["name"] not in given
    ]
    if headers is not None:
        problems += _header_problems(op, headers)
    if problems:
        raise ContractError(f"{method} {path}", problems)
    return op.template


def _header_problems(op: Operation, headers: Mapping[str, str]) -> list[str]:
    folded = {k.lower(): v for k, v in headers.items()}
    problems = []
    for param in op.parameters:
        if param["in"] != "header":
            continue
        value = folded.get(param["name"].lower())
        if value is None:
            if param.get("required"):
                problems.append(f"required header {param['name']} is missing")
            continue
        problems += _check_value(f"header {param['name']}", value, param["schema"])
    return problems


# --- Responses -----------------------------------------------------------------------------


def validate_response(
    method: str,
    path: str,
    status: int,
    body: bytes | str | Any,
    headers: Mapping[str, str],
) -> None:
    """Check a response against the spec: the body against the status's schema (or the
    `default` error schema), the declared response headers (present and well-typed), the
    rate-limit group of rate-limited routes, and RFC 7231 `Expires`/`Last-Modified` dates.

    `body` is the raw bytes or text (parsed here as JSON), or an already parsed value. A 304
    must have no body and carries the 200's validators (ETag) instead.
    """
    op, _ = match_operation(method, path)
    folded = {k.lower(): v for k, v in headers.items()}
    problems: list[str] = []
    if status == 304:
        if body not in (None, b"", ""):
            problems.append("a 304 must have no body")
        if "etag" not in folded:
            problems.append("a 304 must repeat the ETag")
    else:
        key = str(status) if str(status) in op.responses else "default"
        if key not in op.responses:
            problems.append(f"status {status} is not declared for {op.template}")
        else:
            problems += _body_problems(op, key, body, folded)
            if 200 <= status < 300:
                problems += _declared_header_problems(op, key, folded)
    problems += _esi_header_problems(op, folded)
    if problems:
        raise ContractError(f"{method} {path} -> {status}", problems)


def _body_problems(op: Operation, key: str, body: Any, headers: Mapping[str, str]) -> list[str]:
    content = _deref(op.responses[key]).get("content", {})
    if "application/json" not in content:
        return []
    content_type = headers.get("content-type", "")
    problems = []
    if not content_type.startswith("application/json"):
        problems.append(f"Content-Type {content_type!r} is not application/json")
    if isinstance(body, bytes | str):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return [*problems, f"body is not JSON: {exc}"]
    validator = _validator_at(
        "paths", op.template, op.method, "responses", key, "content", "application/json", "schema"
    )
    return problems + _errors(validator, body, "body")


def _declared_header_problems(op: Operation, key: str, headers: Mapping[str, str]) -> list[str]:
    problems = []
    for name, declared in _deref(op.responses[key]).get("headers", {}).items():
        value = headers.get(name.lower())
        if value is None:
            problems.append(f"declared response header {name} is missing")
        else:
            problems += _check_value(f"header {name}", value, _deref(declared)["schema"])
    return problems


def _esi_header_problems(op: Operation, headers: Mapping[str, str]) -> list[str]:
    problems = []
    for name in ("expires", "last-modified"):
        if name in headers and not _is_http_date(headers[name]):
            problems.append(f"{name} {headers[name]!r} is not an RFC 7231 date")
    group = headers.get("x-ratelimit-group")
    if group is not None:
        if op.rate_limit is None:
            problems.append(f"{op.template} has no rate-limit group in the spec")
        elif group != op.rate_limit["group"]:
            problems.append(f"X-Ratelimit-Group {group!r}, spec: {op.rate_limit['group']!r}")
        limit = headers.get("x-ratelimit-limit", "")
        if not re.fullmatch(r"\d+/\d+[smh]", limit):
            problems.append(f"X-Ratelimit-Limit {limit!r} is not '<tokens>/<window>'")
    return problems


def _is_http_date(value: str) -> bool:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return isinstance(moment, datetime) and value.endswith(" GMT")

"""Checking real API answers against the OpenAPI schema drf-spectacular serves (/api/schema/):
`validator(schema, path, method, status).validate(answer)` fails on anything the documented
response does not describe (a missing or extra field, a wrong type, a null not allowed)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator


def json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` as a null alternative, and objects
    closed to properties they do not document."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def validator(schema: dict[str, Any], path: str, method: str, status: str) -> Draft202012Validator:
    """A validator for the JSON body `schema` (the whole OpenAPI document) documents for
    `method` `path` answering `status`, its components closed as `json_schema` does."""
    response = schema["paths"][path][method]["responses"][status]
    root = {
        "components": {"schemas": json_schema(schema["components"]["schemas"])},
        **response["content"]["application/json"]["schema"],
    }
    return Draft202012Validator(root)

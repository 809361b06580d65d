"""The OpenAPI schema is generated without a warning: two serializers with one component
name, for example, silently document one endpoint with the other's shape."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command

from tests.conftest import sde_db

pytestmark = sde_db


def test_the_schema_generates_without_warnings(tmp_path: Path, capsys) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--fail-on-warn", "--validate")
    assert out.stat().st_size > 10_000
    assert "Warning" not in capsys.readouterr().err

"""Puts the installed SDE build into every template (the footer shows it)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from sde.install import read_info
from sde.selectors import per_installed_sde


@per_installed_sde
def _build() -> str | None:
    """Read once per installed file, not on every page (an SQLite open and query)."""
    info = read_info(Path(settings.SDE_PATH))
    return info.build if info else None


def sde_build(request: HttpRequest) -> dict[str, Any]:
    try:
        return {"sde_build": _build()}
    except FileNotFoundError:  # no SDE installed yet: the setup page still renders
        return {"sde_build": None}

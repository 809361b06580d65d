"""Puts the installed SDE build into every template (the footer shows it)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from sde.install import read_info


def sde_build(request: HttpRequest) -> dict[str, Any]:
    info = read_info(Path(settings.SDE_PATH))
    return {"sde_build": info.build if info else None}

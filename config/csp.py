"""Content-Security-Policy (django-csp; the policy is CONTENT_SECURITY_POLICY in settings),
plus the EVE SSO's origin as a form target.

Every page loads its scripts and stylesheets from this site only, with no inline script or
style attribute (checked by tests/test_csp_browser.py in headless Chromium); item icons and
portraits come from CCP's image server. Login and "link a character" are forms whose answer
redirects to the SSO, and browsers hold that redirect to `form-action`, so the SSO's origin
(read from `SSO_BASE_URL` at each request) is added there.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def sso_origin() -> str | None:
    parts = urlsplit(str(getattr(settings, "SSO_BASE_URL", "") or ""))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origin = sso_origin()
        if report_only or origin is None:
            return parts
        update = dict(parts.update or {})
        update["form-action"] = [*update.get("form-action", []), origin]
        return replace(parts, update=update)

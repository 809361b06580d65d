"""Content-Security-Policy (django-csp; the policy is CONTENT_SECURITY_POLICY in settings),
plus the EVE SSO's origin as a form target.

Every page loads its scripts and stylesheets from this site only, with no inline script or
style attribute (checked by tests/test_csp_browser.py in headless Chromium); item icons and
portraits come from CCP's image server. Login and "link a character" are forms whose answer
redirects to the SSO, and browsers hold that redirect to `form-action`, so the SSO's origin
(read from `SSO_BASE_URL` at each request) is added there.
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from urllib.parse import urlsplit

from csp.constants import HEADER
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

# What a view may set to change its own policy (django-csp's decorators); without any of
# these, a response gets the site's policy, built once per settings and SSO origin.
_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt")


def sso_origin() -> str | None:
    parts = urlsplit(str(getattr(settings, "SSO_BASE_URL", "") or ""))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


@functools.lru_cache(maxsize=8)
def _site_policy(directives: str, origin: str | None) -> str:
    update = {"form-action": [origin]} if origin else None
    return build_policy(config=None, update=update)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        """The site's policy, built once (django-csp builds it anew for each response, about
        0.1 ms); responses of views with their own CSP settings, or that asked for a nonce,
        go through django-csp as usual."""
        custom = any(hasattr(response, name) for name in _PER_RESPONSE)
        if custom or getattr(request, "_csp_nonce", None) is not None or HEADER in response:
            return super().process_response(request, response)
        directives = json.dumps(getattr(settings, "CONTENT_SECURITY_POLICY", {}), sort_keys=True)
        response[HEADER] = _site_policy(directives, sso_origin())
        return response

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

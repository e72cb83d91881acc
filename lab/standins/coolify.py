# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the Coolify v4 API (see /work/shared/specs/README.md, section 1).

Configuration::

    {"tokens": [{"token": "1|abc", "abilities": ["root"]}], "version": "4.3.10", "api_enabled": true}

Abilities work as in Coolify's ApiAbility middleware: ``root`` grants everything, otherwise the
route's ability must be listed exactly.
"""

import hmac

from .framework import Response, StandIn, json_response, route

NOT_FOUND = {"message": "Not found.", "docs": "https://coolify.io/docs"}
UNAUTHENTICATED = {"message": "Unauthenticated."}
QUEUE_FULL = "Deployment queue is full. Please wait for existing deployments to complete."


def laravel_text(text, status=200):
    """Laravel answers a plain string with text/html."""
    return Response(status, text, content_type="text/html; charset=UTF-8")


class CoolifyStandIn(StandIn):
    """Coolify: Sanctum Bearer tokens with abilities, Laravel JSON errors."""

    name = "coolify"

    def configure(self, config):
        self.tokens = {}
        for item in config.get("tokens", ()):
            self.tokens[str(item["token"])] = list(item.get("abilities", ["root"]))
        self.version = str(config.get("version", "4.3.10"))
        self.api_enabled = bool(config.get("api_enabled", True))

    def secrets(self):
        return tuple(self.tokens)

    def authorize(self, request, ability):
        """None if the request's token may use ``ability``, else the error Response to send."""
        token = request.bearer_token()
        abilities = None
        if token is not None:
            for known, granted in self.tokens.items():
                if hmac.compare_digest(known.encode("utf-8"), token.encode("utf-8")):
                    abilities = granted
                    break
        if abilities is None:
            return json_response(UNAUTHENTICATED, 401)
        if not self.api_enabled:
            return json_response({"success": True, "message": "API is disabled."}, 403)
        if "root" not in abilities and ability not in abilities:
            return json_response({"message": "Missing required permissions: %s" % ability}, 403)
        return None

    # ------------------------------------------------------------------ error shapes

    def not_found(self, request):
        # Coolify ends routes/api.php with Route::any('/{any}') answering this.
        return json_response(NOT_FOUND, 404)

    def method_not_allowed(self, request, allowed):
        # That catch-all route accepts every method, so a known path with the wrong method
        # lands on it too: Coolify answers 404, not 405.
        return json_response(NOT_FOUND, 404)

    def rate_limited(self, retry_after):
        return json_response({"message": QUEUE_FULL}, 429, {"Retry-After": str(retry_after)})

    def server_error(self, status):
        return json_response({"message": "Server Error"}, status)

    # ------------------------------------------------------------------ API

    @route("GET", r"/api/health")
    @route("GET", r"/api/v1/health")
    def health(self, _request):
        """Health check, no auth."""
        return laravel_text("OK")

    @route("GET", r"/api/v1/version")
    def get_version(self, request):
        """Coolify version as plain text (no leading v)."""
        return self.authorize(request, "read") or laravel_text(self.version)

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the Twilio REST API 2010-04-01 (see /work/shared/specs/README.md, section 3).

Configuration::

    {"accounts": [{"sid": "AC" + 32 hex digits, "auth_token": "...", "friendly_name": "..."}]}

HTTP Basic auth ``AccountSid:AuthToken``; errors use Twilio's
``{"code", "message", "more_info", "status"}`` envelope.
"""

import datetime
import email.utils
import hmac
import http
import re

from .framework import StandIn, json_response, route

ACCOUNT_SID_RE = re.compile(r"^AC[0-9a-f]{32}$")
API_ROOT = "/2010-04-01"


def twilio_error(status, code, message, headers=None):
    """Twilio's error envelope."""
    body = {"code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status}
    return json_response(body, status, headers)


def rfc2822(moment):
    """Twilio's date format, e.g. ``Thu, 30 Jul 2015 23:19:04 +0000``."""
    return email.utils.format_datetime(moment.astimezone(datetime.timezone.utc))


class TwilioStandIn(StandIn):
    """Twilio: accounts with auth tokens; Account fetch."""

    name = "twilio"

    def configure(self, config):
        self.accounts = {}
        created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        for item in config.get("accounts", ()):
            sid = str(item["sid"])
            if not ACCOUNT_SID_RE.match(sid):
                raise ValueError("twilio: account sid %r is not AC followed by 32 lower-case hex digits" % sid)
            self.accounts[sid] = {
                "auth_token": str(item["auth_token"]),
                "friendly_name": item.get("friendly_name", "clawd lab account"),
                "date_created": rfc2822(created),
            }

    def secrets(self):
        return tuple(a["auth_token"] for a in self.accounts.values())

    def authenticate(self, request):
        """The Account SID the request authenticated as, or None."""
        credentials = request.basic_auth()
        if credentials is None:
            return None
        sid, token = credentials
        account = self.accounts.get(sid)
        if account is None or not hmac.compare_digest(account["auth_token"].encode("utf-8"), token.encode("utf-8")):
            return None
        return sid

    # ------------------------------------------------------------------ error shapes

    @staticmethod
    def unauthorized():
        """401 / 20003."""
        return twilio_error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})

    def not_found(self, request):
        # Twilio checks credentials before looking the resource up.
        if request.path.startswith(API_ROOT + "/") and self.authenticate(request) is None:
            return self.unauthorized()
        return twilio_error(404, 20404, "The requested resource %s was not found" % request.raw_path)

    def method_not_allowed(self, request, allowed):
        if self.authenticate(request) is None:
            return self.unauthorized()
        return twilio_error(405, 20004, "Method not allowed", {"Allow": ", ".join(allowed)})

    def rate_limited(self, retry_after):
        return twilio_error(429, 20429, "Too Many Requests", {"Retry-After": str(retry_after)})

    def server_error(self, status):
        if status == 503:
            return twilio_error(503, 20503, "Service Unavailable")
        return twilio_error(status, 20500, "Internal Server Error" if status == 500 else http.HTTPStatus(status).phrase)

    # ------------------------------------------------------------------ API

    @route("GET", API_ROOT + r"/Accounts/(?P<sid>AC[0-9A-Za-z]{32})\.json")
    def fetch_account(self, request):
        """The authenticated account; another account's SID is not found."""
        caller = self.authenticate(request)
        if caller is None:
            return self.unauthorized()
        sid = request.args["sid"]
        if sid != caller:
            return twilio_error(404, 20404, "The requested resource %s was not found" % request.raw_path)
        account = self.accounts[sid]
        return json_response({
            "sid": sid,
            "owner_account_sid": sid,
            "friendly_name": account["friendly_name"],
            "status": "active",
            "type": "Full",
            "date_created": account["date_created"],
            "date_updated": account["date_created"],
            "uri": "%s/Accounts/%s.json" % (API_ROOT, sid),
        })

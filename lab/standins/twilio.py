# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the Twilio REST API 2010-04-01 (see /work/shared/specs/README.md, section 3).

Configuration::

    {"accounts": [{"sid": "AC" + 32 hex digits, "auth_token": "...", "friendly_name": "..."}],
     "api_keys": [{"sid": "SK" + 32 hex digits, "secret": "...", "account_sid": "AC..."}],   # optional
     "ca_file": "/path/ca.pem",        # optional: CA of HTTPS callback targets (the lab CA)
     "hosts_file": "/path/hosts",      # optional: /etc/hosts-format names of callback targets
     "callback_timeout": 10}           # optional: seconds

HTTP Basic auth ``AccountSid:AuthToken`` (or ``SK...:secret`` of an API key); errors use Twilio's
``{"code", "message", "more_info", "status"}`` envelope. Forms come in PascalCase, JSON goes out
in snake_case, dates are RFC 2822.

Numbers: a deterministic pool per country (US, CA, GB) and type (Local, Mobile, TollFree), shared
by the accounts. Buying a number takes it out of the pool, releasing puts it back. The magic test
numbers of the contract behave as documented: ``+15005550006`` can be bought, ``+15005550000`` is
not available (21422), ``+15005550001`` is invalid (21421), area code ``533`` has no numbers
(21452) and area code ``500`` has some.

Errors for parameters: 21421 / 21422 / 21451 / 21452 as in the contract, 21402 for a URL that is
not an absolute http(s) URL, 21403 for a method other than GET or POST, 20001 for any other bad or
missing parameter (``Missing required parameter ...`` / ``Invalid ...``).

``Contains``: 2 to 16 characters; letters are read as phone keypad digits; ``*`` matches one digit,
``%`` any run of digits; a leading ``+`` anchors the pattern at the start of the number, a trailing
``$`` at its end; otherwise the pattern may match anywhere.

Control endpoint ``POST /_lab/twilio/callback`` ``{"phone_number", "kind": "sms"|"voice", "params"}``
calls the number's SMS or voice URL as Twilio would (signed with ``X-Twilio-Signature``) and
answers with the outcome. Only loopback targets are called: the host name is looked up in the
configured ``hosts_file`` (re-read each time) or must be a loopback IP address or ``localhost``.
``GET /_lab/twilio/numbers`` lists every owned number.

Accounts v1 Auth Tokens (``/v1/AuthTokens/...``, served here too; see
/work/shared/specs/twilio_accounts_v1.json): ``POST /v1/AuthTokens/Secondary`` makes a secondary
token (201; a second call replaces it), ``DELETE`` removes it (204; 404 / 20404 when there is
none), ``POST /v1/AuthTokens/Promote`` makes it the primary (200; 404 / 20404 without a
secondary): from then on the old primary answers 401 / 20003 and callbacks are signed with the
new one. Both tokens authenticate until the promotion. Control endpoint ``POST /_lab/twilio/accounts``
``{"sid", "auth_token", "friendly_name"}`` adds an account (or resets its tokens), so that a test
can rotate the tokens of its own account; rotated tokens and added accounts are kept in the state.
"""

import base64
import copy
import datetime
import email.utils
import hashlib
import hmac
import http
import http.client
import ipaddress
import re
import secrets as secrets_module
import socket
import ssl
from urllib.parse import quote, urlencode, urlsplit

from .framework import Response, StandIn, json_response, route

ACCOUNT_SID_RE = re.compile(r"^AC[0-9a-f]{32}$")
API_KEY_SID_RE = re.compile(r"^SK[0-9a-f]{32}$")
NUMBER_SID_RE = r"PN[0-9A-Za-z]{32}"
E164_RE = re.compile(r"^\+[1-9][0-9]{1,14}$")
API_ROOT = "/2010-04-01"
AUTH_TOKENS = "/v1/AuthTokens"
ACCOUNTS_URL = "https://accounts.twilio.com/v1/AuthTokens"
ACCOUNT_PATH = API_ROOT + r"/Accounts/(?P<account>AC[0-9A-Za-z]{32})"
MORE_INFO = "https://www.twilio.com/docs/errors/%d"
TYPES = {"Local": "local", "Mobile": "mobile", "TollFree": "tollfree"}
SEARCH_ONLY_TYPES = ("National", "Voip", "SharedCost", "MachineToMachine")
METHODS = ("GET", "POST")
URL_FIELDS = ("SmsUrl", "SmsFallbackUrl", "VoiceUrl", "VoiceFallbackUrl", "StatusCallback")
METHOD_FIELDS = ("SmsMethod", "SmsFallbackMethod", "VoiceMethod", "VoiceFallbackMethod", "StatusCallbackMethod")
TEXT_FIELDS = ("SmsApplicationSid", "VoiceApplicationSid", "AddressSid", "BundleSid", "IdentitySid",
               "EmergencyAddressSid", "TrunkSid", "ApiVersion")
KEYPAD = {c: d for d, letters in (("2", "ABC"), ("3", "DEF"), ("4", "GHI"), ("5", "JKL"), ("6", "MNO"),
                                  ("7", "PQRS"), ("8", "TUV"), ("9", "WXYZ")) for c in letters}
MAGIC_BUYABLE = "+15005550006"
MAGIC_UNAVAILABLE = "+15005550000"
MAGIC_INVALID = "+15005550001"
MAGIC_NO_NUMBERS_AREA = "533"

# country -> type -> list of (prefix, region, locality, postal code, rate center, lata, count)
_POOL_SPEC = {
    "US": {
        "Local": [("+1415555", "CA", "San Francisco", "94103", "SNFCCNTRL", "722", 60),
                  ("+1212555", "NY", "New York", "10001", "NWYRCYZN01", "132", 60),
                  ("+1720555", "CO", "Denver", "80202", "DENVER", "656", 8),
                  ("+1500555", "", "", "", "", "", 8)],
        "TollFree": [("+1800555", "", "", "", "", "", 6), ("+1888555", "", "", "", "", "", 4)],
    },
    "CA": {
        "Local": [("+1604555", "BC", "Vancouver", "V6B", "VANCOUVER", "888", 6),
                  ("+1416555", "ON", "Toronto", "M5H", "TORONTO", "888", 6)],
        "TollFree": [("+1833555", "", "", "", "", "", 3)],
    },
    "GB": {
        "Local": [("+44203000", "London", "London", "EC1A", "", "", 6),
                  ("+44161400", "Manchester", "Manchester", "M1", "", "", 4)],
        "Mobile": [("+44745000", "", "", "", "", "", 6)],
        "TollFree": [("+44800800", "", "", "", "", "", 3)],
    },
}
_COORDS = {"San Francisco": ("37.77", "-122.42"), "New York": ("40.71", "-74.01"), "Denver": ("39.74", "-104.99"),
           "Vancouver": ("49.28", "-123.12"), "Toronto": ("43.65", "-79.38"), "London": ("51.51", "-0.13"),
           "Manchester": ("53.48", "-2.24")}


class Refused(Exception):
    """A callback target the stand-in will not call (not loopback, unknown name)."""


class ParamError(Exception):
    """A request parameter Twilio would refuse: HTTP status, Twilio code, message."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def twilio_error(status, code, message, headers=None):
    """Twilio's error envelope."""
    body = {"code": code, "message": message, "more_info": MORE_INFO % code, "status": status}
    return json_response(body, status, headers)


def rfc2822(moment):
    """Twilio's date format, e.g. ``Thu, 30 Jul 2015 23:19:04 +0000``."""
    return email.utils.format_datetime(moment.astimezone(datetime.timezone.utc))


def _now():
    return rfc2822(datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0))


def signature(auth_token, url, params=None):
    """``X-Twilio-Signature`` of a request: HMAC-SHA1 (key: the auth token) of the URL followed by the
    POST parameters sorted by name (byte order), each as name + value (multiple values sorted), base64."""
    data = url
    items = params.items() if isinstance(params, dict) else (params or ())
    grouped = {}
    for name, value in items:
        grouped.setdefault(name, []).extend(value if isinstance(value, (list, tuple)) else [value])
    for name in sorted(grouped, key=lambda n: n.encode("utf-8")):
        for value in sorted(grouped[name]):
            data += name + value
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def friendly(number):
    """Twilio's default friendly name: ``(415) 555-0100`` for NANP numbers, else the E.164 number."""
    if number.startswith("+1") and len(number) == 12:
        return "(%s) %s-%s" % (number[2:5], number[5:8], number[8:])
    return number


def build_pool():
    """The deterministic inventory: phone number -> available-number record (with type and country)."""
    pool = {}
    for country, types in _POOL_SPEC.items():
        for kind, blocks in types.items():
            for prefix, region, locality, postal, rate_center, lata, count in blocks:
                for index in range(count):
                    if prefix == "+1500555":
                        # area code 500 of the test credentials, around the magic buyable number
                        number = "+1500555%04d" % (6 + index * 10)
                    else:
                        number = "%s%04d" % (prefix, 100 + index)
                    lat, lon = _COORDS.get(locality, (None, None))
                    pool[number] = {
                        "friendly_name": friendly(number),
                        "phone_number": number,
                        "lata": lata or None,
                        "locality": locality or None,
                        "rate_center": rate_center or None,
                        "latitude": lat,
                        "longitude": lon,
                        "region": region or None,
                        "postal_code": postal or None,
                        "iso_country": country,
                        "address_requirements": "any" if country == "GB" and kind == "Local" else "none",
                        "beta": False,
                        "capabilities": _capabilities(country, kind, index),
                        "_type": kind,
                    }
    return pool


def _capabilities(country, kind, index):
    """Deterministic mix: most numbers do voice+SMS+MMS; some lack MMS, some are voice only."""
    voice, sms, mms = True, True, True
    if kind == "TollFree":
        mms = False
    elif country == "GB" and kind == "Local":
        sms = mms = False
    elif country == "GB":
        mms = False
    elif index % 4 == 3:
        sms = mms = False
    elif index % 4 == 2:
        mms = False
    return {"voice": voice, "sms": sms, "mms": mms, "fax": False}


def contains_regex(pattern):
    """Regex for the ``Contains`` filter (see the module docstring); ParamError when invalid."""
    if not 2 <= len(pattern) <= 16 or not re.match(r"^\+?[0-9A-Za-z*%]+\$?$", pattern):
        raise ParamError(20001, "Invalid Contains pattern: 2 to 16 characters of 0-9, A-Z, a-z and the wildcards * % + $")
    anchored_start = pattern.startswith("+")
    anchored_end = pattern.endswith("$")
    body = pattern.strip("+$")
    parts = []
    for char in body:
        if char == "*":
            parts.append("[0-9]")
        elif char == "%":
            parts.append("[0-9]*")
        elif char.isalpha():
            parts.append(KEYPAD[char.upper()])
        else:
            parts.append(char)
    return re.compile(("^\\+" if anchored_start else "") + "".join(parts) + ("$" if anchored_end else ""))


def _bool_param(params, name):
    """A true/false parameter, or None when absent; ParamError when not a boolean."""
    value = params.get(name)
    if value is None or value == "":
        return None
    text = value.strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ParamError(20001, "Invalid %s: must be true or false" % name)


def _int_param(params, name, default, low, high):
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ParamError(20001, "Invalid %s: must be an integer" % name) from None
    if not low <= number <= high:
        raise ParamError(20001, "Invalid %s: must be between %d and %d" % (name, low, high))
    return number


def _check_url(name, value):
    if value == "":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParamError(21402, "%s is not a valid URL: %s" % (name, value))
    return value


def _check_method(name, value):
    method = value.strip().upper()
    if method not in METHODS:
        raise ParamError(21403, "%s is not valid: %r. Use GET or POST" % (name, value))
    return method


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class TwilioStandIn(StandIn):
    """Twilio: accounts with auth tokens, available and owned numbers, signed webhook callbacks."""

    name = "twilio"
    secret_headers = StandIn.secret_headers + ("x-twilio-signature",)

    def configure(self, config):
        self.accounts = {}
        self.api_keys = {}
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
        self.configured_accounts = copy.deepcopy(self.accounts)
        for item in config.get("api_keys", ()):
            sid = str(item["sid"])
            if not API_KEY_SID_RE.match(sid):
                raise ValueError("twilio: API key sid %r is not SK followed by 32 lower-case hex digits" % sid)
            if item.get("account_sid") not in self.accounts:
                raise ValueError("twilio: API key %s names an account that is not configured" % sid)
            self.api_keys[sid] = {"secret": str(item["secret"]), "account_sid": item["account_sid"]}
        self.ca_file = config.get("ca_file")
        self.hosts_file = config.get("hosts_file")
        self.callback_timeout = float(config.get("callback_timeout", 10))
        self.pool = build_pool()

    def secrets(self):
        tokens = [a["auth_token"] for a in self.accounts.values()] + [a["auth_token"] for a in self.configured_accounts.values()]
        tokens += [a["secondary_auth_token"] for a in self.accounts.values() if a.get("secondary_auth_token")]
        return tuple(tokens) + tuple(k["secret"] for k in self.api_keys.values())

    def reset_state(self):
        self.numbers = {}   # sid -> IncomingPhoneNumber record (snake_case, as answered)
        self.sequence = 0
        self.accounts = copy.deepcopy(self.configured_accounts)

    def export_state(self):
        # Only the accounts whose tokens changed or that a test added: the configuration keeps the others.
        changed = {sid: a for sid, a in self.accounts.items() if a != self.configured_accounts.get(sid)}
        return {"numbers": self.numbers, "sequence": self.sequence, "accounts": changed}

    def import_state(self, data):
        self.numbers = dict(data.get("numbers", {}))
        self.sequence = int(data.get("sequence", 0))
        for sid, account in (data.get("accounts") or {}).items():
            if ACCOUNT_SID_RE.match(sid) and isinstance(account, dict) and account.get("auth_token"):
                self.accounts[sid] = dict(account)

    def authenticate(self, request):
        """The Account SID the request authenticated as, or None."""
        credentials = request.basic_auth()
        if credentials is None:
            return None
        sid, token = credentials
        account = self.accounts.get(sid)
        if account is not None:
            # The primary and, until it is promoted or deleted, the secondary token.
            expected = [account["auth_token"]] + ([account["secondary_auth_token"]] if account.get("secondary_auth_token") else [])
        elif sid in self.api_keys:
            expected = [self.api_keys[sid]["secret"]]
            sid = self.api_keys[sid]["account_sid"]
        else:
            return None
        if not any(hmac.compare_digest(e.encode("utf-8"), token.encode("utf-8")) for e in expected):
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

    def _caller(self, request):
        """(account sid, None) for an authenticated request on its own account, else (None, error response)."""
        caller = self.authenticate(request)
        if caller is None:
            return None, self.unauthorized()
        if request.args.get("account", caller) != caller:
            return None, twilio_error(404, 20404, "The requested resource %s was not found" % request.raw_path)
        return caller, None

    # ------------------------------------------------------------------ API: account

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

    # ------------------------------------------------------------------ Accounts v1: Auth Tokens

    @staticmethod
    def _iso_now():
        return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")

    @route("POST", AUTH_TOKENS + r"/Secondary")
    def create_secondary_token(self, request):
        """CreateSecondaryAuthToken: 201 with the new secondary token (it replaces an earlier one)."""
        caller = self.authenticate(request)
        if caller is None:
            return self.unauthorized()
        account = self.accounts[caller]
        now = self._iso_now()
        account.update({"secondary_auth_token": secrets_module.token_hex(16), "secondary_date_created": now})
        return json_response({"account_sid": caller, "date_created": now, "date_updated": now,
                              "secondary_auth_token": account["secondary_auth_token"], "url": ACCOUNTS_URL + "/Secondary"}, 201)

    @route("DELETE", AUTH_TOKENS + r"/Secondary")
    def delete_secondary_token(self, request):
        """DeleteSecondaryAuthToken: 204; 404 / 20404 when there is none."""
        caller = self.authenticate(request)
        if caller is None:
            return self.unauthorized()
        account = self.accounts[caller]
        if not account.get("secondary_auth_token"):
            return twilio_error(404, 20404, "The requested resource %s was not found" % request.raw_path)
        account.pop("secondary_auth_token", None)
        account.pop("secondary_date_created", None)
        return Response(204, b"")

    @route("POST", AUTH_TOKENS + r"/Promote")
    def promote_secondary_token(self, request):
        """UpdateAuthTokenPromotion: the secondary becomes the primary, the old primary is refused from now on."""
        caller = self.authenticate(request)
        if caller is None:
            return self.unauthorized()
        account = self.accounts[caller]
        if not account.get("secondary_auth_token"):
            return twilio_error(404, 20404, "The requested resource %s was not found" % request.raw_path)
        now = self._iso_now()
        account["auth_token"] = account.pop("secondary_auth_token")
        created = account.pop("secondary_date_created", now)
        return json_response({"account_sid": caller, "auth_token": account["auth_token"], "date_created": created,
                              "date_updated": now, "url": ACCOUNTS_URL + "/Promote"})

    @route("POST", r"/_lab/twilio/accounts")
    def lab_add_account(self, request):
        """Add an account (or reset its tokens) for a test that rotates tokens: {sid, auth_token, friendly_name}."""
        try:
            data = request.json() or {}
        except ValueError:
            data = None
        if not isinstance(data, dict) or not ACCOUNT_SID_RE.match(str(data.get("sid", ""))) or not data.get("auth_token"):
            return json_response({"error": "give sid (AC + 32 lower-case hex digits) and auth_token"}, 400)
        self.accounts[data["sid"]] = {"auth_token": str(data["auth_token"]),
                                      "friendly_name": str(data.get("friendly_name") or "clawd lab account"),
                                      "date_created": _now()}
        return json_response({"sid": data["sid"]}, 201)

    # ------------------------------------------------------------------ API: available numbers

    def _available(self):
        owned = {n["phone_number"] for n in self.numbers.values()}
        return [rec for number, rec in sorted(self.pool.items()) if number not in owned]

    @route("GET", ACCOUNT_PATH + r"/AvailablePhoneNumbers/(?P<country>[A-Za-z]{2})/(?P<kind>[A-Za-z]+)\.json")
    def search_available(self, request):
        """Search the pool of one country and type with Twilio's filters."""
        caller, failure = self._caller(request)
        if failure is not None:
            return failure
        country, kind = request.args["country"], request.args["kind"]
        if country not in _POOL_SPEC or (kind not in _POOL_SPEC[country] and kind not in SEARCH_ONLY_TYPES):
            return twilio_error(404, 20404, "The requested resource %s was not found" % request.raw_path)
        params = request.query
        try:
            found = self._filter_available(country, kind, params)
            page_size = _int_param(params, "PageSize", 50, 1, 1000)
        except ParamError as exc:
            return twilio_error(exc.status, exc.code, exc.message)
        found = found[:page_size]
        uri = "%s/Accounts/%s/AvailablePhoneNumbers/%s/%s.json" % (API_ROOT, caller, country, kind)
        query = ("?" + request.query_string) if request.query_string else ""
        return json_response({
            "available_phone_numbers": [self._available_view(rec) for rec in found],
            "uri": uri + query,
            "first_page_uri": uri + query,
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": page_size,
            "start": 0,
            "end": max(len(found) - 1, 0),
        })

    @staticmethod
    def _available_view(rec):
        view = {k: v for k, v in rec.items() if not k.startswith("_")}
        caps = rec["capabilities"]
        # Live answers have been seen with these keys in this casing (see the contract).
        view["capabilities"] = {"voice": caps["voice"], "SMS": caps["sms"], "MMS": caps["mms"], "fax": caps["fax"]}
        return view

    def _filter_available(self, country, kind, params):
        area_code = params.get("AreaCode")
        if area_code not in (None, "") and not re.match(r"^[0-9]{3}$", area_code):
            raise ParamError(21451, "Invalid area code: %s" % area_code)
        contains = params.get("Contains")
        regex = contains_regex(contains) if contains not in (None, "") else None
        wanted = {cap: _bool_param(params, name) for cap, name in
                  (("sms", "SmsEnabled"), ("mms", "MmsEnabled"), ("voice", "VoiceEnabled"), ("fax", "FaxEnabled"))}
        exclude_all = _bool_param(params, "ExcludeAllAddressRequired")
        exclude_local = _bool_param(params, "ExcludeLocalAddressRequired")
        exclude_foreign = _bool_param(params, "ExcludeForeignAddressRequired")
        beta = _bool_param(params, "Beta")
        _int_param(params, "Distance", 25, 0, 500)
        if params.get("InRateCenter") and not params.get("InLata"):
            raise ParamError(20001, "InRateCenter requires InLata")
        exact = {"region": params.get("InRegion"), "postal_code": params.get("InPostalCode"),
                 "locality": params.get("InLocality"), "rate_center": params.get("InRateCenter"),
                 "lata": params.get("InLata")}
        result = []
        for rec in self._available():
            number = rec["phone_number"]
            if rec["iso_country"] != country or (kind in TYPES and rec["_type"] != kind):
                continue
            if area_code and not (number.startswith("+1") and number[2:5] == area_code):
                continue
            if regex is not None and not regex.search(number if regex.pattern.startswith("^\\+") else number[1:]):
                continue
            if any(value is not None and rec["capabilities"][cap] != value for cap, value in wanted.items()):
                continue
            if any(value and (rec[field] or "").lower() != value.lower() for field, value in exact.items()):
                continue
            requirement = rec["address_requirements"]
            if (exclude_all and requirement == "any") or (exclude_local and requirement == "local") or \
                    (exclude_foreign and requirement == "foreign") or (beta is False and rec["beta"]):
                continue
            result.append(rec)
        return result

    # ------------------------------------------------------------------ API: owned numbers

    def _incoming_uri(self, account, sid=None):
        base = "%s/Accounts/%s/IncomingPhoneNumbers" % (API_ROOT, account)
        return base + ("/%s.json" % sid if sid else ".json")

    def _config_params(self, form, record):
        """Apply the optional configuration keys of a create/update form to ``record``; ParamError when invalid."""
        if "FriendlyName" in form:
            if len(form["FriendlyName"]) > 64:
                raise ParamError(20001, "Invalid FriendlyName: at most 64 characters")
            record["friendly_name"] = form["FriendlyName"]
        for name in URL_FIELDS:
            if name in form:
                record[_snake(name)] = _check_url(name, form[name].strip())
        for name in METHOD_FIELDS:
            if name in form:
                record[_snake(name)] = _check_method(name, form[name])
        for name in TEXT_FIELDS:
            if name in form:
                record[_snake(name)] = form[name] or None
        if "VoiceCallerIdLookup" in form:
            record["voice_caller_id_lookup"] = _bool_param(form, "VoiceCallerIdLookup") or False
        if "VoiceReceiveMode" in form:
            if form["VoiceReceiveMode"] not in ("voice", "fax"):
                raise ParamError(20001, "Invalid VoiceReceiveMode: voice or fax")
            record["voice_receive_mode"] = form["VoiceReceiveMode"]
        if "EmergencyStatus" in form:
            if form["EmergencyStatus"] not in ("Active", "Inactive"):
                raise ParamError(20001, "Invalid EmergencyStatus: Active or Inactive")
            record["emergency_status"] = form["EmergencyStatus"]

    def _new_record(self, account, available):
        self.sequence += 1
        digest = hashlib.sha256(("%s:%s:%d" % (account, available["phone_number"], self.sequence)).encode()).hexdigest()
        sid = "PN" + digest[:32]
        now = _now()
        return {
            "sid": sid, "account_sid": account, "phone_number": available["phone_number"],
            "friendly_name": available["friendly_name"],
            "sms_url": "", "sms_method": "POST", "sms_fallback_url": "", "sms_fallback_method": "POST",
            "sms_application_sid": "",
            "voice_url": None, "voice_method": "POST", "voice_fallback_url": None, "voice_fallback_method": "POST",
            "voice_application_sid": None, "voice_caller_id_lookup": False, "voice_receive_mode": "voice",
            "status_callback": "", "status_callback_method": "POST",
            "capabilities": dict(available["capabilities"]),
            "address_sid": None, "address_requirements": available["address_requirements"],
            "api_version": "2010-04-01", "beta": available["beta"], "bundle_sid": None, "identity_sid": None,
            "trunk_sid": None, "emergency_status": "Inactive", "emergency_address_sid": None,
            "emergency_address_status": "unregistered", "origin": "twilio", "status": "in-use",
            "type": TYPES[available["_type"]], "date_created": now, "date_updated": now,
            "uri": self._incoming_uri(account, sid),
        }

    def _choose(self, form, kind):
        """The available-number record a create form asks for; ParamError when none."""
        number = form.get("PhoneNumber")
        area_code = form.get("AreaCode")
        if number:
            number = number.strip()
            if number == MAGIC_INVALID or not E164_RE.match(number):
                raise ParamError(21421, "PhoneNumber is invalid: %s" % number)
            available = {rec["phone_number"]: rec for rec in self._available()}
            if number == MAGIC_UNAVAILABLE or number not in available or (kind and available[number]["_type"] != kind):
                raise ParamError(21422, "PhoneNumber %s is not available" % number)
            return available[number]
        if kind:
            raise ParamError(20001, "Missing required parameter PhoneNumber in the post body")
        if not area_code:
            raise ParamError(20001, "A PhoneNumber or an AreaCode is required")
        if not re.match(r"^[0-9]{3}$", area_code.strip()):
            raise ParamError(21451, "Invalid area code: %s" % area_code)
        area_code = area_code.strip()
        if area_code != MAGIC_NO_NUMBERS_AREA:
            for rec in self._available():
                if rec["iso_country"] in ("US", "CA") and rec["_type"] == "Local" and rec["phone_number"][2:5] == area_code:
                    return rec
        raise ParamError(21452, "No numbers found in area code %s" % area_code)

    @route("POST", ACCOUNT_PATH + r"/IncomingPhoneNumbers(?:/(?P<kind>Local|Mobile|TollFree))?\.json")
    def create_number(self, request):
        """Buy a number: PhoneNumber or AreaCode, plus configuration. 201."""
        caller, failure = self._caller(request)
        if failure is not None:
            return failure
        form = request.form()
        try:
            available = self._choose(form, request.args.get("kind"))
            record = self._new_record(caller, available)
            self._config_params(form, record)
        except ParamError as exc:
            return twilio_error(exc.status, exc.code, exc.message)
        self.numbers[record["sid"]] = record
        return json_response(record, 201)

    @route("GET", ACCOUNT_PATH + r"/IncomingPhoneNumbers(?:/(?P<kind>Local|Mobile|TollFree))?\.json")
    def list_numbers(self, request):
        """List owned numbers: PhoneNumber (partial, ``*`` any digit), FriendlyName, Beta, Origin; paged."""
        caller, failure = self._caller(request)
        if failure is not None:
            return failure
        params = request.query
        try:
            page_size = _int_param(params, "PageSize", 50, 1, 1000)
            page = _int_param(params, "Page", 0, 0, 10 ** 6)
            beta = _bool_param(params, "Beta")
        except ParamError as exc:
            return twilio_error(exc.status, exc.code, exc.message)
        kind = request.args.get("kind")
        selected = [n for n in self.numbers.values() if n["account_sid"] == caller]
        selected = [n for n in selected if self._matches(n, params, kind, beta)]
        token = params.get("PageToken")
        if token:
            after = token[2:] if token.startswith("PA") else None
            sids = [n["sid"] for n in selected]
            if after not in sids:
                return twilio_error(400, 20001, "Invalid PageToken")
            start = sids.index(after) + 1
        else:
            start = page * page_size
        chunk = selected[start:start + page_size]
        path = self._incoming_uri(caller) if not kind else "%s/Accounts/%s/IncomingPhoneNumbers/%s.json" % (API_ROOT, caller, kind)
        filters = [(k, params[k]) for k in ("PhoneNumber", "FriendlyName", "Beta", "Origin") if params.get(k)]

        def page_uri(number, page_token=None):
            query = filters + [("PageSize", str(page_size)), ("Page", str(number))]
            if page_token:
                query.append(("PageToken", page_token))
            return path + "?" + urlencode(query, quote_via=quote)

        has_next = start + page_size < len(selected)
        return json_response({
            "incoming_phone_numbers": [self._view(n) for n in chunk],
            "page": page,
            "page_size": page_size,
            "start": start,
            "end": start + max(len(chunk) - 1, 0),
            "uri": path + ("?" + request.query_string if request.query_string else ""),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1, "PA" + chunk[-1]["sid"]) if has_next and chunk else None,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        })

    @staticmethod
    def _matches(record, params, kind, beta):
        if kind and record["type"] != TYPES[kind]:
            return False
        wanted = params.get("PhoneNumber")
        if wanted:
            regex = re.escape(wanted).replace(r"\*", "[0-9]")
            if not re.search(regex, record["phone_number"]):
                return False
        if params.get("FriendlyName") and record["friendly_name"] != params["FriendlyName"]:
            return False
        if params.get("Origin") and record["origin"] != params["Origin"]:
            return False
        return beta is None or beta or not record["beta"]

    @staticmethod
    def _view(record):
        return dict(record)

    def _owned(self, request):
        caller, failure = self._caller(request)
        if failure is not None:
            return None, None, failure
        record = self.numbers.get(request.args["sid"])
        if record is None or record["account_sid"] != caller:
            return None, None, twilio_error(404, 20404, "The requested resource %s was not found" % request.raw_path)
        return caller, record, None

    @route("GET", ACCOUNT_PATH + r"/IncomingPhoneNumbers/(?P<sid>" + NUMBER_SID_RE + r")\.json")
    def fetch_number(self, request):
        """One owned number."""
        _caller, record, failure = self._owned(request)
        return failure or json_response(self._view(record))

    @route("POST", ACCOUNT_PATH + r"/IncomingPhoneNumbers/(?P<sid>" + NUMBER_SID_RE + r")\.json")
    def update_number(self, request):
        """Change an owned number's configuration (or move it to another configured account). 200."""
        _caller, record, failure = self._owned(request)
        if failure is not None:
            return failure
        form = request.form()
        changed = dict(record)
        try:
            self._config_params(form, changed)
            if "AccountSid" in form:
                if form["AccountSid"] not in self.accounts:
                    raise ParamError(20001, "Invalid AccountSid: %s" % form["AccountSid"])
                changed["account_sid"] = form["AccountSid"]
                changed["uri"] = self._incoming_uri(changed["account_sid"], changed["sid"])
        except ParamError as exc:
            return twilio_error(exc.status, exc.code, exc.message)
        changed["date_updated"] = _now()
        self.numbers[record["sid"]] = changed
        return json_response(self._view(changed))

    @route("DELETE", ACCOUNT_PATH + r"/IncomingPhoneNumbers/(?P<sid>" + NUMBER_SID_RE + r")\.json")
    def release_number(self, request):
        """Release an owned number: it goes back to the pool. 204."""
        _caller, record, failure = self._owned(request)
        if failure is not None:
            return failure
        del self.numbers[record["sid"]]
        return Response(204, b"")

    # ------------------------------------------------------------------ lab: callbacks

    @route("GET", r"/_lab/twilio/numbers")
    def lab_numbers(self, _request):
        """Every owned number, all accounts."""
        with self.lock:
            return json_response(sorted(self.numbers.values(), key=lambda n: n["phone_number"]))

    @route("POST", r"/_lab/twilio/callback")
    def lab_callback(self, request):
        """Call a number's SMS or voice URL as Twilio does, signed; answer with the outcome."""
        try:
            data = request.json() or {}
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
        except ValueError as exc:
            return json_response({"error": "bad request: %s" % exc}, 400)
        kind = data.get("kind")
        extra = data.get("params") or {}
        if kind not in ("sms", "voice") or not isinstance(extra, dict):
            return json_response({"error": "kind must be sms or voice, params an object"}, 400)
        with self.lock:
            record = next((dict(n) for n in self.numbers.values() if n["phone_number"] == data.get("phone_number")), None)
            if record is None:
                return json_response({"error": "no owned number %s" % data.get("phone_number")}, 404)
            self.sequence += 1
            seq = self.sequence
            token = self.accounts[record["account_sid"]]["auth_token"]
        url = record["%s_url" % kind]
        method = (record["%s_method" % kind] or "POST").upper()
        if not url:
            return json_response({"error": "%s has no %s_url" % (record["phone_number"], kind)}, 409)
        params = self._callback_params(record, kind, seq)
        params.update({str(k): str(v) for k, v in extra.items()})
        try:
            outcome = self.deliver(url, method, params, token)
        except Refused as exc:
            return json_response({"error": str(exc)}, 403)
        except (OSError, http.client.HTTPException) as exc:
            return json_response({"error": "could not deliver the callback to %s: %s" % (url, exc), "url": url}, 502)
        return json_response(outcome)

    @staticmethod
    def _callback_params(record, kind, seq):
        tag = hashlib.sha256(("%s:%d" % (record["sid"], seq)).encode()).hexdigest()[:32]
        common = {"AccountSid": record["account_sid"], "To": record["phone_number"], "From": "+15017122661",
                  "ApiVersion": "2010-04-01", "ToCountry": "US", "FromCountry": "US"}
        if kind == "sms":
            common.update({"MessageSid": "SM" + tag, "SmsSid": "SM" + tag, "SmsMessageSid": "SM" + tag,
                           "Body": "Hello from the lab", "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received"})
        else:
            common.update({"CallSid": "CA" + tag, "CallStatus": "ringing", "Direction": "inbound", "Caller": "+15017122661",
                           "Called": record["phone_number"]})
        return common

    def resolve(self, host):
        """The loopback IP address to connect to for ``host``; Refused when it is not loopback."""
        address = None
        try:
            address = str(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            if host.lower() == "localhost":
                address = "127.0.0.1"
            elif self.hosts_file:
                try:
                    address = _hosts_lookup(self.hosts_file, host)
                except OSError as exc:
                    raise Refused("refusing to call %s: the lab hosts file cannot be read (%s)" % (host, exc.strerror or exc)) from None
        if address is None:
            raise Refused("refusing to call %s: the name is not in the lab hosts file, and only loopback targets are called" % host)
        if not ipaddress.ip_address(address).is_loopback:
            raise Refused("refusing to call %s (%s): only loopback targets are called" % (host, address))
        return address

    def deliver(self, url, method, params, auth_token):
        """Send the signed callback; return {url, method, status, content_type, body, signature}."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused("refusing to call %s: not an http(s) URL" % url)
        address = self.resolve(parts.hostname)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        body = urlencode(sorted(params.items()))
        if method == "GET":
            signed_url = url + ("&" if parts.query else "?") + body
            sig = signature(auth_token, signed_url)
            payload = None
        else:
            signed_url = url
            sig = signature(auth_token, url, params)
            payload = body.encode("utf-8")
        target = urlsplit(signed_url)
        path = (target.path or "/") + ("?" + target.query if target.query else "")
        headers = {"X-Twilio-Signature": sig, "User-Agent": "TwilioProxy/1.1", "Accept": "*/*",
                   "I-Twilio-Idempotency-Token": hashlib.sha256(sig.encode()).hexdigest()[:36]}
        if payload is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
            conn = _PinnedHTTPSConnection(parts.hostname, port, address, context=context, timeout=self.callback_timeout)
        else:
            conn = _PinnedHTTPConnection(parts.hostname, port, address, timeout=self.callback_timeout)
        try:
            conn.request(method, path, body=payload, headers=headers)
            answer = conn.getresponse()
            content = answer.read()
            return {"url": signed_url, "method": method, "status": answer.status,
                    "content_type": answer.getheader("Content-Type"), "body": content.decode("utf-8", "replace"),
                    "signature": sig, "params": params}
        finally:
            conn.close()


def _hosts_lookup(path, name):
    """The first address of ``name`` in an /etc/hosts-format file, or None."""
    wanted = name.lower().rstrip(".")
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 2 and wanted in (f.lower().rstrip(".") for f in fields[1:]):
                return fields[0]
    return None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to ``address`` with the Host header of ``host``."""

    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``address``, with SNI, certificate name and Host header of ``host``."""

    def __init__(self, host, port, address, context, **kwargs):
        super().__init__(host, port, context=context, **kwargs)
        self._address = address
        self._ctx = context

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)

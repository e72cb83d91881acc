# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Client of the Twilio REST API 2010-04-01 for the twilio_number module, and the webhook requests
# Twilio makes to an app (signed with X-Twilio-Signature) for twilio_webhook_probe (private to the
# collection).
#
# The contract is /work/shared/specs/README.md, section 3: Basic auth AccountSid:AuthToken, forms
# in PascalCase, JSON in snake_case, the {"code", "message", "more_info", "status"} error envelope,
# next_page_uri followed verbatim (when relative, or absolute on the API's own origin: the Basic
# credentials never go to another origin), capabilities read case-insensitively.
#
# Retries belong to the Transport: GET and DELETE are repeated after 429/502/503/504 and connection
# errors; an update (POST to a number's SID) sets fields to given values, so it is repeated too;
# buying (POST IncomingPhoneNumbers.json) is NOT repeated after a 5xx or a dropped answer, since
# Twilio may have bought the number already; it is repeated after a 429 (nothing was done).
#
# The pure helpers (managed fields, the comparison, the form, the webhook signature and form,
# the TwiML test) are plain functions of plain data.

import base64
import hashlib
import hmac
import json
import random
import re
import time
import uuid

from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit
from xml.etree import ElementTree

from ansible_collections.clawd.ops.plugins.module_utils._transport import (
    ServiceError,
    Transport,
    TransportError,
    origin,
    origin_text,
    transport_argument_spec,
)

API_VERSION = '2010-04-01'
DEFAULT_API_URL = 'https://api.twilio.com'
BUY_ATTEMPTS = 10  # numbers tried when each was taken meanwhile (21422)
_RANDOM = random.SystemRandom()
E164 = re.compile(r'^\+[1-9][0-9]{1,14}$')
NUMBER_TYPES = {'local': 'Local', 'mobile': 'Mobile', 'toll_free': 'TollFree'}
# Configuration the module manages: snake_case field -> PascalCase form key.
URL_FIELDS = ('sms_url', 'sms_fallback_url', 'voice_url', 'voice_fallback_url', 'status_callback')
METHOD_FIELDS = ('sms_method', 'sms_fallback_method', 'voice_method', 'voice_fallback_method', 'status_callback_method')
MANAGED_FIELDS = ('friendly_name',) + URL_FIELDS + METHOD_FIELDS
# What the module returns of a number.
NUMBER_FIELDS = ('sid', 'account_sid', 'phone_number', 'friendly_name') + URL_FIELDS + METHOD_FIELDS + (
    'capabilities', 'status', 'type', 'address_requirements', 'date_created', 'date_updated', 'uri')


def twilio_argument_spec():
    """The connection options of the Twilio modules (doc fragments clawd.ops.twilio and clawd.ops.transport)."""
    return transport_argument_spec(
        account_sid=dict(type='str', required=True),
        auth_token=dict(type='str', required=True, no_log=True),
        api_url=dict(type='str', default=DEFAULT_API_URL),
    )


class TwilioError(ServiceError):
    """A Twilio call failed; ``message`` reads "Failed to <verb> <thing>: <cause>" and holds no secret.

    ``status`` is the HTTP status (None without an answer), ``code`` (``vendor_code``) Twilio's error code
    and ``more_info`` its documentation link (None when the answer had none).
    """

    def __init__(self, message, status=None, code=None, more_info=None, vendor_message=None):
        super(TwilioError, self).__init__(message, status=status, vendor_code=code, vendor_message=vendor_message)
        self.more_info = more_info

    @property
    def code(self):
        """Twilio's error code, or None."""
        return self.vendor_code


# ---------------------------------------------------------------------------- pure helpers


def pascal(name):
    """``sms_fallback_url`` -> ``SmsFallbackUrl``."""
    return ''.join(part.capitalize() for part in name.split('_'))


def capabilities(value):
    """Capabilities with lower-case keys (available numbers come with ``SMS``/``MMS``), booleans only."""
    if not isinstance(value, dict):
        return {}
    return dict((str(k).lower(), bool(v)) for k, v in value.items())


def normalize_value(field, value):
    """A field's value as compared: methods upper case (unset means POST), unset URLs as ``''``."""
    if field in METHOD_FIELDS:
        return (value or 'POST').upper()
    if field in URL_FIELDS:
        return value or ''
    return '' if value is None else value


def managed_state(number):
    """The managed configuration of a number as Twilio returns it, normalised."""
    return dict((field, normalize_value(field, number.get(field))) for field in MANAGED_FIELDS)


def desired_state(params):
    """The configuration asked for: only the options that are set (unset = not managed)."""
    return dict((field, normalize_value(field, params[field])) for field in MANAGED_FIELDS if params.get(field) is not None)


def config_changes(current, desired):
    """``{field: (current, desired)}`` for every desired field that differs from the number's."""
    now = managed_state(current)
    return dict((field, (now[field], value)) for field, value in desired.items() if now[field] != value)


def to_form(values):
    """A form (PascalCase keys) from snake_case values."""
    return dict((pascal(field), value) for field, value in values.items())


def number_result(number):
    """What the module returns of a number: the documented fields, capabilities lower case."""
    result = dict((field, number.get(field)) for field in NUMBER_FIELDS)
    result['capabilities'] = capabilities(number.get('capabilities'))
    return result


def describe_search(country, area_code=None, contains=None, wanted_capabilities=None, number_type='local'):
    """``US area code 415 containing 555 with sms, voice`` for messages."""
    text = country
    if number_type != 'local':
        text += ' ' + number_type.replace('_', '-')
    if area_code:
        text += ' area code %s' % area_code
    if contains:
        text += ' containing %s' % contains
    wanted = [name for name, value in sorted((wanted_capabilities or {}).items()) if value]
    unwanted = [name for name, value in sorted((wanted_capabilities or {}).items()) if value is False]
    if wanted:
        text += ' with %s' % ', '.join(wanted)
    if unwanted:
        text += ' without %s' % ', '.join(unwanted)
    return text


def error_cause(exc):
    """``(cause, code)``: ``HTTP 400: Twilio error 21452: No numbers found ...`` and 21452 from a TransportError (already redacted)."""
    cause, envelope = _error_envelope(exc)
    return cause, envelope.get('code')


def _error_envelope(exc):
    """The cause of a TransportError and Twilio's error envelope ``{code, message, more_info}`` ({} without one)."""
    body = exc.body
    if exc.status is not None and body:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and 'code' in data and 'message' in data:
            return 'HTTP %d: Twilio error %s: %s' % (exc.status, data['code'], data['message']), data
        return 'HTTP %d: %s' % (exc.status, body[:300].strip() or '(empty body)'), {}
    return str(exc), {}


# ---------------------------------------------------------------------------- webhooks (Twilio -> the app)

WEBHOOK_KINDS = ('voice', 'sms')
# Characters of an app's answer quoted in an error.
ANSWER_EXCERPT = 200


def webhook_signature(auth_token, url, params=None):
    """``X-Twilio-Signature`` of a request Twilio makes to ``url``, as Twilio computes it.

    Base64 of HMAC-SHA1, keyed with the account's auth token, of the full URL followed by every POST
    parameter as name + value, names sorted (byte order), a name's values sorted. ``params``: a dict
    (a value or a list of values per name) or (name, value) pairs; none for a GET, whose parameters are
    in the URL already.
    """
    items = params.items() if isinstance(params, dict) else (params or ())
    grouped = {}
    for name, value in items:
        grouped.setdefault(name, []).extend(value if isinstance(value, (list, tuple)) else [value])
    data = url + ''.join(name + value for name in sorted(grouped, key=lambda n: n.encode('utf-8')) for value in sorted(grouped[name]))
    digest = hmac.new(auth_token.encode('utf-8'), data.encode('utf-8'), hashlib.sha1).digest()
    return base64.b64encode(digest).decode('ascii')


def webhook_params(kind, account_sid, to, from_number, body='', sid_tag=None):
    """The form Twilio sends an app for an incoming call (``voice``) or message (``sms``) to number ``to``."""
    tag = sid_tag or uuid.uuid4().hex
    params = {'AccountSid': account_sid, 'ApiVersion': API_VERSION, 'From': from_number, 'To': to}
    if kind == 'voice':
        params.update({'CallSid': 'CA' + tag, 'CallStatus': 'ringing', 'Direction': 'inbound', 'Caller': from_number, 'Called': to})
    else:
        params.update({'MessageSid': 'SM' + tag, 'SmsSid': 'SM' + tag, 'SmsMessageSid': 'SM' + tag, 'SmsStatus': 'received',
                       'Body': body, 'NumMedia': '0', 'NumSegments': '1'})
    return params


def is_twiml(text):
    """Whether ``text`` is a TwiML document: XML whose root element is ``<Response>``.

    A document type declaration is refused (TwiML has none, and entities could make parsing costly).
    """
    if not isinstance(text, str) or '<!DOCTYPE' in text.upper() or '<!ENTITY' in text.upper():
        return False
    try:
        root = ElementTree.fromstring(text.strip().encode('utf-8'))  # nosec - no DTD (refused above); the operator's own app
    except ElementTree.ParseError:
        return False
    return root.tag == 'Response'


def url_password(url):
    """The password of a URL's ``user:password@``, or None (Twilio sends it as HTTP Basic credentials)."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def signed_url(url):
    """The URL as Twilio signs it: the one it requests, without ``user:password@`` (those go in the Authorization header)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition('@')[2], parts.path, parts.query, ''))


def send_webhook(transport, url, method, params, auth_token):
    """Send ``params`` to ``url`` signed as Twilio does; ``{url, method, status, twiml, elapsed_ms, error}``.

    ``error`` is None when the app answered 200 with TwiML. A POST carries the form; a GET carries the
    parameters in the query string, appended to the URL's own, and the signature covers that whole URL.
    """
    method = method.upper()
    if method == 'GET':
        target = url + ('&' if urlsplit(url).query else '?') + urlencode(sorted(params.items()))
        signature, data = webhook_signature(auth_token, signed_url(target)), None
    else:
        target = url
        signature, data = webhook_signature(auth_token, signed_url(url), params), params
    result = {'url': transport.redact(url), 'method': method, 'status': 0, 'twiml': False, 'elapsed_ms': 0, 'error': None}
    started = time.monotonic()
    try:
        answer = transport.request(method, target, data=data, headers={'X-Twilio-Signature': signature}, expected=None, retry=False)
    except TransportError as exc:
        answer, result['error'] = None, str(exc)
    result['elapsed_ms'] = int((time.monotonic() - started) * 1000)
    if answer is None:
        return result
    result['status'] = answer.status
    result['twiml'] = is_twiml(answer.text)
    if answer.status != 200 or not result['twiml']:
        excerpt = transport.redact(answer.text[:ANSWER_EXCERPT]).strip() or '(empty body)'
        what = 'HTTP %d' % answer.status if answer.status != 200 else 'HTTP 200 without TwiML (XML whose root is <Response>)'
        result['error'] = '%s: %s' % (what, excerpt)
    return result


# ---------------------------------------------------------------------------- client


class TwilioClient(object):
    """The calls twilio_number needs, on one account."""

    def __init__(self, account_sid, auth_token, api_url=DEFAULT_API_URL, timeout=10, retries=3, verify=True, **transport_kwargs):
        self.account_sid = account_sid
        self.api_url = api_url.rstrip('/')
        self.transport = Transport(self.api_url, auth=(account_sid, auth_token), timeout=timeout, retries=retries,
                                   verify=verify, secrets=(auth_token,), user_agent='clawd.ops twilio', **transport_kwargs)
        self.base = '/%s/Accounts/%s' % (API_VERSION, account_sid)

    def _call(self, what, method, path, expected, **kwargs):
        try:
            return self.transport.request(method, path, expected=expected, **kwargs)
        except TransportError as exc:
            cause, envelope = _error_envelope(exc)
            raise TwilioError('Failed to %s: %s' % (what, cause), status=exc.status, code=envelope.get('code'),
                              more_info=envelope.get('more_info'), vendor_message=envelope.get('message'))

    def _json(self, what, response):
        try:
            return response.json()
        except ValueError as exc:
            raise TwilioError('Failed to %s: %s' % (what, exc), status=response.status)

    def list_numbers(self, phone_number=None, friendly_name=None, page_size=50):
        """Every owned number matching the filters, following next_page_uri verbatim."""
        params = {'PageSize': page_size}
        if phone_number:
            params['PhoneNumber'] = phone_number
        if friendly_name:
            params['FriendlyName'] = friendly_name
        what = 'list the numbers of account %s' % self.account_sid
        numbers = []
        path = self.base + '/IncomingPhoneNumbers.json'
        seen = set()
        while path:
            response = self._call(what, 'GET', path, (200,), params=params)
            body = self._json(what, response)
            numbers.extend(body.get('incoming_phone_numbers') or [])
            next_uri = body.get('next_page_uri')
            if not next_uri or next_uri in seen:
                break
            seen.add(next_uri)
            # next_page_uri is relative to the API host and carries every parameter.
            path, params = self._page_url(what, next_uri), None
        return numbers

    def find_number(self, phone_number):
        """The owned number with exactly this E.164 number, or None (the list filter also matches partially)."""
        for number in self.list_numbers(phone_number=phone_number):
            if number.get('phone_number') == phone_number:
                return number
        return None

    def search_available(self, country, number_type='local', area_code=None, contains=None, wanted_capabilities=None, page_size=20):
        """Available numbers matching the criteria (capabilities normalised to lower case)."""
        params = {'PageSize': page_size}
        if area_code:
            params['AreaCode'] = area_code
        if contains:
            params['Contains'] = contains
        for name, value in sorted((wanted_capabilities or {}).items()):
            if value is not None:
                params['%sEnabled' % pascal(name)] = 'true' if value else 'false'
        what = 'search numbers in %s' % describe_search(country, area_code, contains, wanted_capabilities, number_type)
        path = '%s/AvailablePhoneNumbers/%s/%s.json' % (self.base, country, NUMBER_TYPES[number_type])
        body = self._json(what, self._call(what, 'GET', path, (200,), params=params))
        found = body.get('available_phone_numbers') or []
        for item in found:
            item['capabilities'] = capabilities(item.get('capabilities'))
        return found

    def buy(self, what, phone_number=None, area_code=None, config=None):
        """Buy a number (by number or area code) with its configuration; the new number."""
        form = to_form(config or {})
        if phone_number:
            form['PhoneNumber'] = phone_number
        else:
            form['AreaCode'] = area_code
        response = self._call(what, 'POST', self.base + '/IncomingPhoneNumbers.json', (201,), data=form, retry=False)
        return self._json(what, response)

    def buy_matching(self, country, number_type='local', area_code=None, contains=None, wanted_capabilities=None, config=None,
                     dry_run=False):
        """Buy a number matching the criteria, with its configuration; the new number.

        An area code alone (US, CA, local) is left to Twilio to pick in (it answers 21452 when it has none);
        otherwise the first available match is bought; when it was taken meanwhile (21422: other buyers in the account,
        such as a fleet provisioned at once) the search is made again and a random one of the rest is tried, up to
        BUY_ATTEMPTS numbers.
        ``dry_run`` only searches and returns the number that would be bought (with ``config`` applied).
        """
        wanted = wanted_capabilities or {}
        what = 'buy a number in %s' % describe_search(country, area_code, contains, wanted, number_type)
        plain_area_code = area_code and not contains and not wanted and number_type == 'local' and country in ('US', 'CA')
        if plain_area_code and not dry_run:
            return self.buy(what, area_code=area_code, config=config)
        tried = set()
        last = None
        for _attempt in range(BUY_ATTEMPTS):
            candidates = [c for c in self.search_available(country, number_type, area_code, contains, wanted)
                          if c['phone_number'] not in tried]
            if not candidates:
                if last is None:
                    raise TwilioError('Failed to %s: no available number matches' % what)
                break
            if dry_run:
                return dict(config or {}, phone_number=candidates[0]['phone_number'], capabilities=candidates[0]['capabilities'])
            # The first match, as searched; after a loss others race for the same first matches: pick at random.
            candidate = _RANDOM.choice(candidates) if tried else candidates[0]
            tried.add(candidate['phone_number'])
            try:
                return self.buy(what, phone_number=candidate['phone_number'], config=config)
            except TwilioError as exc:
                if exc.code != 21422:
                    raise
                last = exc
        raise TwilioError('Failed to %s: %d matching numbers were taken meanwhile (other buyers in the account?), the last: %s'
                          % (what, len(tried), last.vendor_message or last.message), status=last.status, code=last.code,
                          more_info=last.more_info, vendor_message=last.vendor_message)

    def update(self, number, values):
        """Set configuration values of an owned number; the updated number."""
        what = 'update number %s' % number['phone_number']
        path = '%s/IncomingPhoneNumbers/%s.json' % (self.base, number['sid'])
        return self._json(what, self._call(what, 'POST', path, (200,), data=to_form(values), retry=True))

    def release(self, number):
        """Release an owned number. A 404 (already gone, e.g. a repeat after a lost answer) counts as done."""
        what = 'release number %s' % number['phone_number']
        path = '%s/IncomingPhoneNumbers/%s.json' % (self.base, number['sid'])
        self._call(what, 'DELETE', path, (204, 404))

    def close(self):
        """Close the session."""
        self.transport.close()

    def _page_url(self, what, uri):
        """The URL of a next_page_uri: relative to the API's origin, or absolute on it; another origin is refused."""
        url = urljoin(origin_text(self.api_url) + '/', str(uri))
        if origin(url) != origin(self.api_url):
            raise TwilioError('Failed to %s: the next page is on another origin, %s (the API is %s): not followed, the account\'s '
                              'credentials are never sent to another origin' % (what, origin_text(url), origin_text(self.api_url)))
        return url


# ---------------------------------------------------------------------------- Accounts v1: Auth Tokens

DEFAULT_ACCOUNTS_API_URL = 'https://accounts.twilio.com'


class TwilioAuthTokens(object):
    """Accounts v1 Auth Tokens of one account: a secondary token made, promoted to primary, or deleted.

    Both tokens authenticate until the promotion; after it the old primary answers 401 / 20003. None of these
    calls is repeated after a 5xx or a lost answer (each one changes the account), only after a 429.
    """

    def __init__(self, account_sid, auth_token, accounts_api_url=DEFAULT_ACCOUNTS_API_URL, timeout=10, retries=3, verify=True,
                 **transport_kwargs):
        self.account_sid = account_sid
        self.transport = Transport(accounts_api_url.rstrip('/'), auth=(account_sid, auth_token), timeout=timeout, retries=retries,
                                   verify=verify, secrets=(auth_token,), user_agent='clawd.ops twilio', **transport_kwargs)

    def _call(self, what, method, path, expected):
        try:
            response = self.transport.request(method, path, expected=expected, retry=False)
        except TransportError as exc:
            cause, envelope = _error_envelope(exc)
            raise TwilioError('Failed to %s of account %s: %s' % (what, self.account_sid, cause), status=exc.status,
                              code=envelope.get('code'), more_info=envelope.get('more_info'), vendor_message=envelope.get('message'))
        if method == 'DELETE':
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise TwilioError('Failed to %s of account %s: %s' % (what, self.account_sid, exc), status=response.status)

    def create_secondary(self):
        """POST /v1/AuthTokens/Secondary: the new secondary token (it replaces an earlier one)."""
        body = self._call('create a secondary Auth Token', 'POST', '/v1/AuthTokens/Secondary', (201,))
        token = body.get('secondary_auth_token') if isinstance(body, dict) else None
        if not token:
            raise TwilioError('Failed to create a secondary Auth Token of account %s: the answer holds no token' % self.account_sid)
        return token

    def promote(self):
        """POST /v1/AuthTokens/Promote: True once the secondary is the primary, False when there was no secondary (404)."""
        try:
            self._call('promote the secondary Auth Token', 'POST', '/v1/AuthTokens/Promote', (200,))
        except TwilioError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def delete_secondary(self):
        """DELETE /v1/AuthTokens/Secondary: True when one was deleted, False when there was none (404)."""
        try:
            self._call('delete the secondary Auth Token', 'DELETE', '/v1/AuthTokens/Secondary', (204,))
        except TwilioError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def close(self):
        self.transport.close()

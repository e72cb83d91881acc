# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# HTTP transport under the collection's service clients (Coolify, Telegram, Twilio, app health).
#
# Private to the collection. It owns the session, timeouts, retries and redaction:
#
# * retries 429/502/503/504 and connection errors with urllib3's Retry: jittered exponential
#   backoff with a cap, ``Retry-After`` honoured but capped at ``retry_after_max``;
# * methods outside ``retry_methods`` (POST, PATCH) are retried only when the caller passes
#   ``retry=True``, except after a 429, which is always safe to repeat;
# * an optional ``retry_after_from_body`` hook reads a wait from a 429's body (Telegram's
#   ``parameters.retry_after``), within the same retry budget;
# * every configured secret is replaced by ``***`` in everything the transport produces
#   (error messages, URLs, body excerpts); a Telegram bot token in a URL always is;
# * credentials never go to another origin (scheme, host and port: https -> http on the same host
#   is another origin). A redirect within the origin is followed with them. A redirect of a request
#   that carries credentials (Authorization, a secret header, a configured secret in a header, the
#   URL or a body sent again) to another origin fails naming both origins (``cross_origin_redirects=
#   'fail'``, for API clients: an API that redirects elsewhere is misconfigured), or is followed with
#   every credential header removed (``'strip'``); a secret in the new URL or in a body that a 307/308
#   would send again is never sent on. A request without credentials follows redirects anywhere.
#   With a ``base_url``, a full URL on another origin is refused when the request carries credentials.
#
# The options of doc fragment clawd.ops.transport are written once here: every HTTP module builds
# its spec with ``transport_argument_spec()``, checks requests with ``require_requests(module)`` and
# hands ``transport_options(module.params)`` to its Transport or client. Every service client raises
# a ``ServiceError`` (message, HTTP status, the vendor's own error code) and every HTTP module fails
# through ``fail_with()``: ``msg``, ``status_code`` and, when the vendor gave one, ``vendor_code``.
# A Transport is not meant to be shared between threads.

import base64
import time
import traceback

from urllib.parse import urlsplit, urlunsplit

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
    from urllib3.util.retry import Retry
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.clawd.ops.plugins.module_utils._redact import redact
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg

CROSS_ORIGIN_REDIRECTS = ('fail', 'strip')
# Headers that always count as credentials (names in lower case). Proxy-Authorization is not one:
# it goes to the proxy, and requests sets it afresh for each hop.
CREDENTIAL_HEADERS = ('authorization', 'cookie', 'x-auth-token', 'x-api-key', 'x-telegram-bot-api-secret-token')
MAX_REDIRECTS = 10
_DEFAULT_PORTS = {'http': 80, 'https': 443}
RETRY_STATUSES = (429, 502, 503, 504)
DEFAULT_RETRY_METHODS = ('GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS')
DEFAULT_EXPECTED = (200, 201, 202, 204)
# Characters of a response body quoted in an error message.
EXCERPT_LENGTH = 300


# The options of doc fragment clawd.ops.transport, in the order the fragment lists them.
_TRANSPORT_OPTIONS = (
    ('timeout', dict(type='float', default=10)),
    ('validate_certs', dict(type='bool', default=True)),
    ('ca_path', dict(type='path')),
    ('retries', dict(type='int', default=3)),
)


def transport_argument_spec(**options):
    """An argument spec: the module's own ``options`` and the options of doc fragment clawd.ops.transport."""
    spec = dict(options)
    spec.update((name, dict(option)) for name, option in _TRANSPORT_OPTIONS)
    return spec


def verify_option(params):
    """requests' ``verify`` from validate_certs and ca_path: the CA file to trust, True, or False."""
    return (params.get('ca_path') or True) if params.get('validate_certs', True) else False


def transport_options(params):
    """Keyword arguments for a Transport (or a service client) from a module's transport options."""
    return {'timeout': params['timeout'], 'retries': params['retries'], 'verify': verify_option(params)}


def require_requests(module):
    """Fail the module, saying what installs it, when requests is missing on the host."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_lib_msg('requests'), exception=REQUESTS_IMPORT_ERROR)


class ServiceError(Exception):
    """A call to an outside service failed; the base of every client's error.

    ``message`` never contains a secret. ``status`` is the HTTP status (None when no answer came),
    ``vendor_code`` the service's own error code (Telegram ``error_code``, Twilio ``code``; None when
    it gave none), ``vendor_message`` the service's own words (Telegram ``description``, Twilio and
    Coolify ``message``; None when it gave none).
    """

    def __init__(self, message, status=None, vendor_code=None, vendor_message=None):
        super(ServiceError, self).__init__(message)
        self.message = message
        self.status = status
        self.vendor_code = vendor_code
        self.vendor_message = vendor_message

    def __str__(self):
        return self.message


def failure(exc=None, msg=None, **result):
    """The result an HTTP module fails with: ``result``, ``msg`` (``msg`` or the error's message),
    ``status_code`` (the HTTP status, None without an answer) and ``vendor_code`` when it is known."""
    failed = dict(result)
    failed['msg'] = msg if msg is not None else str(exc)
    status = getattr(exc, 'status', None) if exc is not None else result.get('status_code')
    failed['status_code'] = status if status else None
    code = getattr(exc, 'vendor_code', None) if exc is not None else result.get('vendor_code')
    failed.pop('vendor_code', None)
    if code is not None:
        failed['vendor_code'] = code
    return failed


def fail_with(module, exc=None, msg=None, **result):
    """Fail ``module`` the one way every HTTP module fails (see failure()); the rest of ``result`` is kept."""
    module.fail_json(**failure(exc, msg, **result))


class TransportError(ServiceError):
    """A request failed: no answer, or an answer with an unexpected status.

    ``message`` never contains a configured secret. ``status`` is the HTTP status (None when no
    answer came), ``body`` the redacted response text (None when no answer came).
    """

    def __init__(self, message, status=None, body=None):
        super(TransportError, self).__init__(message, status=status)
        self.body = body


class InvalidJSONError(TransportError, ValueError):
    """TransportResponse.json() found no JSON; a ValueError too, so callers may catch either."""


def origin(url):
    """``(scheme, host, port)`` of a URL, host in lower case and the scheme's default port filled in; None if unreadable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, TypeError, AttributeError):
        return None
    scheme = (parts.scheme or '').lower()
    if not scheme or not parts.hostname:
        return None
    return (scheme, parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme))


def origin_text(url):
    """The origin of a URL as text, ``https://host`` or ``http://host:8080`` (never a path, so never a token in it)."""
    found = origin(url)
    if found is None:
        return '(a URL that cannot be read)'
    scheme, host, port = found
    host = '[%s]' % host if ':' in host else host
    return '%s://%s%s' % (scheme, host, '' if port == _DEFAULT_PORTS.get(scheme) or port is None else ':%d' % port)


class _CrossOriginRedirect(Exception):
    """A redirect that would take credentials to another origin (raised by the session, turned into a TransportError)."""

    def __init__(self, status, source, target):
        super(_CrossOriginRedirect, self).__init__(status, source, target)
        self.status = status
        self.source = source
        self.target = target


def telegram_retry_after(response):
    """``retry_after_from_body`` hook for the Telegram Bot API: ``parameters.retry_after`` of the body, or None."""
    try:
        body = response.json()
    except TransportError:
        return None
    parameters = body.get('parameters') if isinstance(body, dict) else None
    value = parameters.get('retry_after') if isinstance(parameters, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


if HAS_REQUESTS:
    class _CappedRetry(Retry):
        """urllib3 Retry that caps Retry-After and always retries a 429, whatever the method."""

        # Retry.new() rebuilds the object from keyword arguments after every attempt, so these
        # extra settings travel as keyword arguments too (see new()).
        _EXTRA = ('clawd_retry_after_cap', 'clawd_retry_429')

        def __init__(self, *args, **kwargs):
            self.clawd_retry_after_cap = kwargs.pop('clawd_retry_after_cap', None)
            self.clawd_retry_429 = kwargs.pop('clawd_retry_429', True)
            super(_CappedRetry, self).__init__(*args, **kwargs)

        def new(self, **kw):
            for name in self._EXTRA:
                kw.setdefault(name, getattr(self, name))
            return super(_CappedRetry, self).new(**kw)

        def parse_retry_after(self, retry_after):
            seconds = super(_CappedRetry, self).parse_retry_after(retry_after)
            if self.clawd_retry_after_cap is not None:
                seconds = min(seconds, self.clawd_retry_after_cap)
            return seconds

        def is_retry(self, method, status_code, has_retry_after=False):
            if status_code == 429:
                # Retry repeats only methods in allowed_methods, which leaves out POST: after a
                # 502, 503, 504 or a dropped connection the server may have acted, and repeating
                # could act twice. A 429 is different: the server turned the request away without
                # acting on it, so it is always safe to send again, whatever the method. 429 is
                # in status_forcelist unless a body hook reads the wait (Telegram): then only a
                # 429 carrying Retry-After is retried here, the others go back to the Transport.
                return self.clawd_retry_429 and (has_retry_after or 429 in (self.status_forcelist or ()))
            if status_code not in (self.status_forcelist or ()):
                # Only the statuses the Transport was told to retry (urllib3 would also repeat
                # a 413 or 503 that carries Retry-After).
                return False
            return super(_CappedRetry, self).is_retry(method, status_code, has_retry_after)

    class _Session(requests.Session):
        """A Session whose redirects keep credentials within their origin (see Transport._check_redirect)."""

        clawd_check_redirect = None

        def rebuild_auth(self, prepared_request, response):
            if self.clawd_check_redirect is not None:
                self.clawd_check_redirect(prepared_request, response)
            super(_Session, self).rebuild_auth(prepared_request, response)


class TransportResponse:
    """The answer to a request: ``status``, ``headers``, ``text``, ``content``, ``json()``, ``url`` (redacted)."""

    def __init__(self, raw, transport, request_line):
        self.status = raw.status_code
        self.headers = raw.headers
        self.content = raw.content
        self.text = raw.text
        self.url = transport.redact(raw.url)
        self._raw = raw
        self._transport = transport
        self._request_line = request_line

    def json(self):
        """The body parsed as JSON; InvalidJSONError (redacted excerpt) when it is not JSON."""
        try:
            return self._raw.json()
        except ValueError:
            pass
        # Raised outside the except block: the decoder's exception holds the unredacted body.
        excerpt = self._transport.redact(self.text[:EXCERPT_LENGTH])
        raise InvalidJSONError('%s returned HTTP %d with a body that is not JSON: %r' % (self._request_line, self.status, excerpt),
                               status=self.status, body=self._transport.redact(self.text))

    def __repr__(self):
        return '<TransportResponse %d %s>' % (self.status, self.url)


class Transport:
    """One HTTP endpoint (``base_url``) with shared session, retries and redaction.

    ``auth`` is a ``(user, password)`` tuple or a requests auth object; its password and any
    ``Authorization`` header value are secrets automatically, in addition to ``secrets``.
    ``retry_after_from_body(response) -> seconds or None`` is called for a 429 without a usable
    ``Retry-After`` header (see telegram_retry_after). ``timeout`` is seconds or a
    ``(connect, read)`` tuple. ``retries`` counts repeats after the first attempt; ``retry_statuses``
    are the HTTP statuses worth repeating (a health check may want only 429). ``backoff_jitter``
    (seconds of random extra wait) defaults to ``backoff_factor``. ``cross_origin_redirects`` is what
    a redirect to another origin does to a request that carries credentials: ``fail`` (a TransportError
    naming both origins) or ``strip`` (followed without them). ``secret_headers`` names headers that
    are credentials besides Authorization, Cookie, X-Auth-Token, X-Api-Key and X-Telegram-Bot-Api-Secret-Token.
    """

    def __init__(self, base_url, headers=None, auth=None, timeout=10, retries=3, backoff_factor=0.5, backoff_max=10,
                 retry_after_max=30, retry_methods=DEFAULT_RETRY_METHODS, secrets=(), verify=True, user_agent='clawd.ops',
                 retry_after_from_body=None, backoff_jitter=None, retry_statuses=RETRY_STATUSES, cross_origin_redirects='fail',
                 secret_headers=()):
        if not HAS_REQUESTS:
            raise TransportError('the Python library requests is required')
        if cross_origin_redirects not in CROSS_ORIGIN_REDIRECTS:
            raise TransportError('cross_origin_redirects must be one of %s, not %r' % (', '.join(CROSS_ORIGIN_REDIRECTS), cross_origin_redirects))
        self.cross_origin_redirects = cross_origin_redirects
        self.secret_headers = frozenset(CREDENTIAL_HEADERS) | frozenset(str(h).lower() for h in secret_headers)
        self.base_url = base_url.rstrip('/')
        self.timeout = timeout
        self.retries = int(retries)
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max
        self.backoff_jitter = backoff_factor if backoff_jitter is None else backoff_jitter
        self.retry_after_max = retry_after_max
        self.retry_methods = frozenset(m.upper() for m in retry_methods)
        self.retry_after_from_body = retry_after_from_body
        self.retry_statuses = frozenset(int(s) for s in retry_statuses)
        self.verify = verify
        secrets = [str(s) for s in secrets if s]
        if isinstance(auth, (tuple, list)) and len(auth) == 2:
            user, password = auth
            secrets.append(password)
            secrets.append(base64.b64encode(('%s:%s' % (user, password)).encode('utf-8')).decode('ascii'))
            auth = tuple(auth)
        for name, value in (headers or {}).items():
            if name.lower() in ('authorization', 'proxy-authorization', 'x-auth-token', 'x-api-key') and value:
                secrets.append(value)
                secrets.append(value.split(' ', 1)[-1])
        self._secrets = tuple(s for s in secrets if s)

        self._session = _Session()
        self._session.max_redirects = MAX_REDIRECTS
        self._session.clawd_check_redirect = self._check_redirect
        self._session.headers['User-Agent'] = user_agent
        self._session.headers.update(headers or {})
        self._session.auth = auth
        self._adapter = HTTPAdapter(max_retries=self._retry(None, 'GET', self.retries))
        self._session.mount('http://', self._adapter)
        self._session.mount('https://', self._adapter)

    # ------------------------------------------------------------------ public

    def redact(self, text):
        """``text`` with every configured secret replaced by ``***``."""
        return redact(text, self._secrets)

    def request(self, method, path, params=None, json=None, data=None, files=None, headers=None, retry=None,
                expected=DEFAULT_EXPECTED, timeout=None):
        """Send a request to ``base_url`` + ``path`` (or to ``path`` if it is a full URL).

        ``retry``: None follows ``retry_methods``; True also retries this request's method (a POST
        the caller knows to be safe to repeat); False never repeats it except after a 429.
        ``expected``: statuses that count as success (None accepts any status); any other status
        raises TransportError. Returns a TransportResponse.
        """
        method = method.upper()
        url = self._url(path)
        request_line = '%s %s' % (method, self.redact(_without_query(url)))
        failure = None
        try:
            prepared = self._session.prepare_request(requests.Request(
                method, url, params=params, json=json, data=data, files=files, headers=headers))
            settings = self._session.merge_environment_settings(prepared.url, {}, None, self.verify, None)
        except (ValueError, TypeError, requests.exceptions.RequestException) as exc:
            failure = 'could not build the request: %s' % self.redact(str(exc))
        if failure is None and self.base_url and origin(prepared.url) != origin(self.base_url) and self._carries_credentials(prepared):
            failure = ('%s is another origin than %s; credentials are never sent to another origin'
                       % (origin_text(prepared.url), origin_text(self.base_url)))
        if failure is not None:
            raise TransportError('%s failed: %s' % (request_line, failure))

        budget = self.retries
        while True:
            self._adapter.max_retries = self._retry(retry, method, budget)
            try:
                raw = self._session.send(prepared, timeout=self.timeout if timeout is None else timeout, **settings)
            except requests.exceptions.RequestException as exc:
                failure = self._describe(exc, timeout)
            except _CrossOriginRedirect as exc:
                failure = ('HTTP %d redirects to another origin, %s (from %s): not followed, credentials are never sent '
                           'to another origin; use the URL of the service itself' % (exc.status, exc.target, exc.source))
            # Raised outside the except block so that the requests exception, whose text holds
            # the full URL, is not chained to the TransportError.
            if failure is not None:
                raise TransportError('%s failed: %s' % (request_line, failure))
            response = TransportResponse(raw, self, request_line)
            if response.status == 429 and self.retry_after_from_body is not None and 429 in self.retry_statuses:
                budget = _budget_left(raw, budget)
                wait = self._body_retry_after(response)
                if wait is not None and budget > 0:
                    budget -= 1
                    time.sleep(wait)
                    continue
            break

        if expected is not None and response.status not in _statuses(expected):
            body = self.redact(response.text)
            excerpt = body[:EXCERPT_LENGTH] + ('...' if len(body) > EXCERPT_LENGTH else '')
            raise TransportError('%s returned HTTP %d: %s' % (request_line, response.status, excerpt.strip() or '(empty body)'),
                                 status=response.status, body=body)
        return response

    def get(self, path, **kwargs):
        """request('GET', ...)"""
        return self.request('GET', path, **kwargs)

    def post(self, path, **kwargs):
        """request('POST', ...)"""
        return self.request('POST', path, **kwargs)

    def close(self):
        """Close the session's connections."""
        self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return '<Transport %s>' % self.redact(self.base_url)

    # ------------------------------------------------------------------ internals

    def _url(self, path):
        if path.startswith('http://') or path.startswith('https://'):
            return path
        return '%s/%s' % (self.base_url, path.lstrip('/')) if path else self.base_url

    def _retry(self, override, method, budget):
        """The urllib3 Retry for one attempt series with ``budget`` repeats left."""
        methods = set(self.retry_methods)
        if override is True:
            methods.add(method)
        elif override is False:
            methods.discard(method)
        statuses = set(self.retry_statuses)
        if self.retry_after_from_body is not None:
            # A 429 without Retry-After comes back to request(), which asks the body hook.
            statuses.discard(429)
        kwargs = {
            'total': max(budget, 0), 'connect': None, 'read': None, 'status': None, 'other': None,
            # urllib3 reads an empty allowed_methods as "every method": '-' is no method at all.
            'allowed_methods': frozenset(methods) or frozenset(['-']),
            'status_forcelist': frozenset(statuses),
            'backoff_factor': self.backoff_factor,
            'respect_retry_after_header': True,
            'raise_on_status': False,
            'raise_on_redirect': False,
            'clawd_retry_after_cap': self.retry_after_max,
            'clawd_retry_429': 429 in self.retry_statuses,
        }
        try:
            return _CappedRetry(backoff_max=self.backoff_max, backoff_jitter=self.backoff_jitter, **kwargs)
        except TypeError:
            # urllib3 < 2 knows neither argument: its own backoff cap (120 s) applies, without jitter.
            return _CappedRetry(**kwargs)

    def _holds_secret(self, value):
        """Whether a URL, header value or body holds a configured secret or a Telegram bot token."""
        if isinstance(value, bytes):
            value = value.decode('utf-8', 'replace')
        if not isinstance(value, str) or not value:
            return False
        return self.redact(value) != value

    def _credential_headers(self, headers):
        """Names of the headers that are credentials: by name, or because their value holds a secret."""
        return [name for name, value in headers.items()
                if name.lower() in self.secret_headers or self._holds_secret(value)]

    def _carries_credentials(self, prepared):
        return bool(self._credential_headers(prepared.headers)) or self._holds_secret(prepared.url) or self._holds_secret(prepared.body)

    def _check_redirect(self, prepared, response):
        """Called by the session for each redirect hop, before it is sent: keep credentials within their origin."""
        source, target = response.request.url, prepared.url
        if origin(source) == origin(target):
            return
        if not (self._carries_credentials(prepared) or self._holds_secret(source)):
            return
        if self.cross_origin_redirects == 'fail' or self._holds_secret(target) or self._holds_secret(prepared.body):
            # A secret in the URL or in a body sent again (307, 308) cannot be taken out.
            raise _CrossOriginRedirect(response.status_code, origin_text(source), origin_text(target))
        for name in self._credential_headers(prepared.headers):
            del prepared.headers[name]

    def _body_retry_after(self, response):
        try:
            wait = self.retry_after_from_body(response)
            if wait is None:
                return None
            wait = float(wait)
        except (TypeError, ValueError, KeyError, AttributeError, TransportError):
            return None
        return min(max(wait, 0.0), self.retry_after_max)

    def _describe(self, exc, timeout):
        """A short, redacted account of a requests exception (its text holds the full URL)."""
        chain = _exception_chain(exc)
        # After retries, requests wraps a timeout in a ConnectionError: look at the whole chain.
        # urllib3's NewConnectionError (connection refused) is a subclass of ConnectTimeoutError.
        if any(isinstance(e, (requests.exceptions.ConnectTimeout, ConnectTimeoutError)) and not isinstance(e, NewConnectionError)
               for e in chain):
            kind = 'could not connect within the timeout'
        elif any(isinstance(e, (requests.exceptions.Timeout, ReadTimeoutError)) for e in chain):
            kind = 'no answer within %s seconds' % (self.timeout if timeout is None else timeout,)
        elif isinstance(exc, requests.exceptions.SSLError):
            kind = 'TLS error'
        elif isinstance(exc, requests.exceptions.ConnectionError):
            kind = 'connection error'
        else:
            kind = type(exc).__name__
        cause = chain[-1]
        if isinstance(cause, OSError) and cause.strerror:
            text = cause.strerror
        else:
            text = str(cause) or type(cause).__name__
        return '%s (%s)' % (kind, self.redact(text))


def _exception_chain(exc):
    """``exc`` and the exceptions behind it (urllib3 reasons, wrapped arguments, causes), outermost first."""
    chain = [exc]
    current = exc
    while len(chain) < 20:
        inner = getattr(current, 'reason', None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in reversed(getattr(current, 'args', ())) if isinstance(a, BaseException)), None)
        if inner is None:
            inner = current.__cause__ or current.__context__
        if inner is None or any(inner is e for e in chain):
            break
        chain.append(inner)
        current = inner
    return chain


def _budget_left(raw, budget):
    """Repeats left after urllib3's own retries for this response."""
    retries = getattr(raw.raw, 'retries', None)
    total = getattr(retries, 'total', None)
    if isinstance(total, int) and not isinstance(total, bool):
        return max(min(total, budget), 0)
    return budget


def _statuses(expected):
    if isinstance(expected, int):
        return (expected,)
    return tuple(expected)


def _without_query(url):
    """The URL without query, fragment and user:password@."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition('@')[2], parts.path, '', ''))

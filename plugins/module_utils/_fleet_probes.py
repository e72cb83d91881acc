# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The controller's probes of the daily checks, for every host at once, in a bounded pool of threads.

Each probe gives the same result its own module gives as a registered task result (a plain dict,
with ``failed`` and ``msg`` when it failed), so that clawd.ops.check_results judges them unchanged:
``health`` (clawd.ops.app_health), ``bot`` (clawd.ops.telegram_bot_probe), ``webhook``
(clawd.ops.telegram_webhook_info with bot_info false) and ``certificate`` (the fields of
community.crypto.get_certificate that the judgement reads). A probe never raises: whatever goes
wrong is its result's ``msg``. No result holds a token or a secret: the clients redact them.

A probe's ``address`` makes its connections go there instead of to the address its URL's host name
resolves to (as C(curl --resolve) does); the name still goes in SNI, the Host header and the
certificate check. The pinning is per thread, so the probes of different hosts never mix.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import datetime
import random
import socket
import ssl
import threading
import time

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from ansible_collections.clawd.ops.plugins.module_utils._app_health import evaluate_health
from ansible_collections.clawd.ops.plugins.module_utils._telegram import TelegramClient, TelegramError, normalise_info, probe_update, validate_token
from ansible_collections.clawd.ops.plugins.module_utils._transport import Transport, TransportError, verify_option

try:
    from cryptography import x509
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - the controller's ansible-core requires it
    x509 = None
    HAS_CRYPTOGRAPHY = False

PROBES = ('health', 'bot', 'webhook', 'certificate')
HEALTH_ANSWERS = (200, 500, 502, 503, 504)
BOT_CHECK_MODE = 'the probe makes the bot send a message, so it is not sent in check mode'

_pinned = threading.local()
_real_getaddrinfo = socket.getaddrinfo


def _pinned_getaddrinfo(host, *args, **kwargs):
    addresses = getattr(_pinned, 'addresses', None)
    if addresses and isinstance(host, str) and host.lower() in addresses:
        host = addresses[host.lower()]
    return _real_getaddrinfo(host, *args, **kwargs)


@contextlib.contextmanager
def pinned_resolution():
    """While inside, a thread's pin() decides where its host names resolve."""
    socket.getaddrinfo = _pinned_getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = _real_getaddrinfo


@contextlib.contextmanager
def pin(names, address):
    """In this thread, ``names`` resolve to ``address`` (nothing pinned when address is empty)."""
    _pinned.addresses = dict((n.lower(), address) for n in names if n) if address else {}
    try:
        yield
    finally:
        _pinned.addresses = {}


def _hostname(url):
    try:
        return urlsplit(url or '').hostname
    except ValueError:
        return None


def probe_health(spec, timeout=10, clock=time.monotonic):
    """The health endpoint asked once (one retry of a dropped connection), as clawd.ops.app_health with retries 1."""
    transport = Transport('', timeout=timeout, retries=spec.get('retries', 1), verify=verify_option(spec), retry_statuses=(429,),
                          cross_origin_redirects='strip')
    started = clock()
    try:
        answer = transport.request('GET', spec['url'], expected=HEALTH_ANSWERS)
    except TransportError as exc:
        result = evaluate_health(0, None, spec.get('required_checks') or [])
        result['failed_checks'] = ['unreachable: %s' % exc]
        result['elapsed_ms'] = int((clock() - started) * 1000)
    else:
        elapsed_ms = int((clock() - started) * 1000)
        try:
            body = answer.json()
        except ValueError:
            body = None
        result = evaluate_health(answer.status, body, spec.get('required_checks') or [])
        result['elapsed_ms'] = elapsed_ms
    finally:
        transport.close()
    result.update(attempts=1, changed=False)
    if not result['healthy']:
        result.update(failed=True, msg='App at %s is not healthy: %s' % (spec['url'], '; '.join(result['failed_checks'])))
    return result


def probe_bot(spec, timeout=10, check_mode=False, clock=time.monotonic):
    """A /status update POSTed to the bot's webhook with its secret token and timed, as clawd.ops.telegram_bot_probe."""
    if check_mode:
        return dict(changed=False, skipped=True, skip_reason=BOT_CHECK_MODE)
    secret = spec.get('secret_token') or ''
    headers = {'X-Telegram-Bot-Api-Secret-Token': secret} if secret else {}
    message_id = random.randint(100000, 999999999)
    result = dict(changed=True, message_id=message_id, status=0)
    transport = Transport('', timeout=timeout, retries=spec.get('retries', 3), verify=verify_option(spec), secrets=[secret],
                          retry_statuses=(429,), cross_origin_redirects='fail')
    started = clock()
    try:
        update = probe_update(spec.get('text') or '/status', spec.get('chat_id', 1), message_id, time.time())
        answer = transport.request('POST', spec['url'], json=update, headers=headers, expected=None)
        result['status'] = answer.status
    except TransportError as exc:
        result['error'] = str(exc)
    finally:
        transport.close()
    result['elapsed_ms'] = int((clock() - started) * 1000)
    if result['status'] != 200:
        result.setdefault('error', 'the webhook answered HTTP %d' % result['status'])
        result.update(failed=True, msg='Failed to probe the bot at %s: %s' % (spec['url'], result['error']))
    return result


def probe_webhook(spec, timeout=10):
    """The bot's webhook from the Bot API (getWebhookInfo), as clawd.ops.telegram_webhook_info with bot_info false."""
    problem = validate_token(spec.get('bot_token'))
    if problem:
        return dict(changed=False, failed=True, msg='Invalid options: %s' % problem)
    client = TelegramClient(spec['bot_token'], spec.get('api_url') or 'https://api.telegram.org', timeout=timeout,
                            retries=spec.get('retries', 1), verify=verify_option(spec))
    result = dict(changed=False)
    try:
        result['webhook'] = normalise_info(client.get_webhook_info())
    except TelegramError as exc:
        return dict(result, failed=True, msg='Failed to read webhook for %s: %s' % (client.describe_bot(), exc))
    finally:
        client.close()
    result['webhook_set'] = bool(result['webhook']['url'])
    return result


def _name_fields(name):
    fields = {}
    for attribute in name:
        try:
            key = attribute.rfc4514_attribute_name
        except AttributeError:  # pragma: no cover - older cryptography
            key = attribute.oid.dotted_string
        fields[key] = attribute.value
    return fields


def describe_certificate(der, now=None):
    """not_after, not_before (ASN.1 time text, UTC), expired, subject and issuer of a DER certificate."""
    cert = x509.load_der_x509_certificate(der)
    try:
        not_after, not_before = cert.not_valid_after_utc, cert.not_valid_before_utc
    except AttributeError:  # pragma: no cover - cryptography before 42
        not_after = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
        not_before = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc) if now is None else datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    return {
        'not_after': not_after.strftime('%Y%m%d%H%M%SZ'),
        'not_before': not_before.strftime('%Y%m%d%H%M%SZ'),
        'expired': not_after < now,
        'subject': _name_fields(cert.subject),
        'issuer': _name_fields(cert.issuer),
    }


def fetch_certificate(host, port, server_name=None, timeout=10):
    """The DER certificate a TLS server serves for ``server_name``, unverified (its dates are what is judged)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=server_name or None) as tls:
            return tls.getpeercert(binary_form=True)


def probe_certificate(spec, timeout=10, fetch=fetch_certificate, now=None):
    """The served certificate's dates, subject and issuer, as community.crypto.get_certificate returns them."""
    if not HAS_CRYPTOGRAPHY:
        return dict(changed=False, failed=True, msg='the Python library cryptography is needed on the controller to read certificates')
    host, port = spec['host'], int(spec.get('port') or 443)
    try:
        der = fetch(host, port, spec.get('server_name'), timeout)
        if not der:
            raise ValueError('the server sent no certificate')
        result = describe_certificate(der, now)
    except (OSError, ValueError, ssl.SSLError) as exc:
        return dict(changed=False, failed=True, msg='Failed to get cert from %s:%s, error: %s' % (host, port, exc))
    result['changed'] = False
    return result


def _one(host, kind, spec, timeout, check_mode):
    names = [_hostname(spec.get('url')), spec.get('server_name')] if kind != 'webhook' else []
    with pin(names, spec.get('address')):
        try:
            if kind == 'health':
                return probe_health(spec, timeout)
            if kind == 'bot':
                return probe_bot(spec, timeout, check_mode)
            if kind == 'webhook':
                return probe_webhook(spec, timeout)
            return probe_certificate(spec, timeout)
        except (KeyError, TypeError, ValueError) as exc:
            # A spec the module's checks let through (should not happen); the message names no secret.
            return dict(changed=False, failed=True, msg='Failed to run the %s probe of %s: %s %s' % (kind, host, type(exc).__name__, exc))


def run_probes(hosts, workers=16, timeout=10, check_mode=False):
    """``{host: {probe: result}}`` for ``hosts`` = ``{host: {probe: spec}}``, every probe in a pool of ``workers`` threads.

    A probe's spec may carry ``address`` (see pin()); the certificate probe connects to its ``host``.
    """
    jobs = [(host, kind, spec) for host, probes in sorted(hosts.items()) for kind, spec in sorted(probes.items()) if spec is not None]
    results = dict((host, {}) for host in hosts)
    if not jobs:
        return results
    with pinned_resolution():
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
            futures = [(host, kind, pool.submit(_one, host, kind, spec, timeout, check_mode)) for host, kind, spec in jobs]
            for host, kind, future in futures:
                results[host][kind] = future.result()
    return results

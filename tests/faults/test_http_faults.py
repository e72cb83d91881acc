# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every HTTP module against each injected fault: bounded retries or a clear error, never a traceback, never a credential
sent to another origin.

A real threaded HTTP server on 127.0.0.1 plays the service (Coolify, the Telegram Bot API, Twilio, a bot's webhook, an
app's health endpoint) and answers with the fault: the vendor's own 429 (Telegram's ``parameters.retry_after``, Twilio's
code 20429 with Retry-After, Coolify's Retry-After), a 503, an answer slower than the module's timeout, a connection reset,
a 200 whose JSON is cut short, a 307 to another origin. A second server is that other origin: it records every path,
header and body it gets, and the test checks that none holds a credential. Each module's main() runs in-process. The
clock is frozen: ``time.sleep`` only records the wait (Retry-After is checked, never waited for); the slow server is the
only real time, for two modules (SLOW_CASES), 0.2 s per attempt (the modules' timeout).

Each test id reads ``module-fault``. ``test_recovers_after_one_429`` adds the other half of "bounded retries": a single 429
followed by the real answer ends well, after waiting what the vendor asked for.
"""

import base64
import json
import socket
import struct
import threading
import time

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip('requests')

# pylint: disable=wrong-import-position
from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.clawd.ops.plugins.modules import (  # noqa: E402
    app_health, app_watch, coolify_app_env, coolify_deploy, coolify_deploy_info, telegram_bot_probe, telegram_webhook,
    telegram_webhook_info, twilio_number, twilio_webhook_probe,
)

TG_TOKEN = '424242:AAfaultSUITEtelegramTOKEN_0123-xyz'
HOOK_SECRET = 'faultHOOKsecret-777'
COOLIFY_TOKEN = '9|faultSUITEcoolifyTOKEN'
ENV_SECRET = 'faultENVvalue-secret'
TW_SID = 'AC' + 'fa017fa0' * 4
TW_TOKEN = 'faultSUITEtwilioTOKEN-5e5e5e'
URL_PASSWORD = 'faultURLpassword-31'
RETRY_AFTER = 7
RETRIES = 2
TIMEOUT = 0.2
SLOW = 3.0
CREDENTIALS = (TG_TOKEN, HOOK_SECRET, COOLIFY_TOKEN, ENV_SECRET, TW_TOKEN, URL_PASSWORD,
               base64.b64encode(('%s:%s' % (TW_SID, TW_TOKEN)).encode()).decode())
CREDENTIAL_HEADERS = ('authorization', 'x-telegram-bot-api-secret-token', 'x-twilio-signature')

FAULTS = ('429', '5xx', 'slow', 'reset', 'malformed_json', 'redirect')
# The slow server costs real time (the modules' timeout, per attempt): two modules only, one API client and one health check.
SLOW_CASES = ('app_health', 'coolify_deploy')


# ---------------------------------------------------------------------------- the servers


def vendor_429(vendor):
    """(headers, body) of the vendor's own 429."""
    if vendor == 'telegram':
        return {}, {'ok': False, 'error_code': 429, 'description': 'Too Many Requests: retry after %d' % RETRY_AFTER,
                    'parameters': {'retry_after': RETRY_AFTER}}
    if vendor == 'twilio':
        return {'Retry-After': str(RETRY_AFTER)}, {'code': 20429, 'message': 'Too Many Requests',
                                                   'more_info': 'https://www.twilio.com/docs/errors/20429', 'status': 429}
    if vendor == 'coolify':
        return {'Retry-After': str(RETRY_AFTER)}, {'message': 'Too Many Attempts.'}
    return {'Retry-After': str(RETRY_AFTER)}, {'error': 'too many requests'}


class Server(object):
    """A threaded HTTP server on 127.0.0.1 that records each request and answers it with ``fault`` the first ``times`` times
    (None: always), then with ``healthy(method, path)`` -> (status, body). ``fault`` None answers ``healthy`` every time."""

    def __init__(self, vendor, fault=None, times=None, healthy=None, redirect_to=None):
        self.vendor, self.fault, self.times, self.redirect_to = vendor, fault, times, redirect_to
        self.healthy = healthy or (lambda method, path: (200, {'ok': True}))
        self.requests = []
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def handle_any(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length).decode('utf-8', 'replace') if length else ''
                server.requests.append({'method': self.command, 'path': self.path, 'headers': dict(self.headers.items()),
                                        'body': body})
                faulty = server.fault is not None and (server.times is None or len(server.requests) <= server.times)
                if faulty:
                    return server.inject(self)
                status, payload = server.healthy(self.command, self.path)
                return self.answer(status, payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

            def answer(self, status, payload, headers=None, content_type='application/json'):
                if not isinstance(payload, (bytes, str)):
                    payload = json.dumps(payload)
                if isinstance(payload, str):
                    payload = payload.encode('utf-8')
                self.send_response(status)
                self.send_header('Content-Type', content_type)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header('Content-Length', str(len(payload)))
                try:
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (the slow fault): that is the point

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]

    def inject(self, handler):
        fault = self.fault
        if fault == '429':
            headers, body = vendor_429(self.vendor)
            return handler.answer(429, body, headers)
        if fault == '5xx':
            return handler.answer(503, '<html><body><h1>503 Service Unavailable</h1></body></html>', content_type='text/html')
        if fault == 'slow':
            self.released.wait(SLOW)
            return handler.answer(*self.healthy(handler.command, handler.path))
        if fault == 'reset':
            # An RST instead of an answer: linger on, zero seconds, then close.
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            handler.close_connection = True
            handler.connection.close()
            return None
        if fault == 'malformed_json':
            return handler.answer(200, '{"ok": true, "result": {"url": "https://bot.example.com/hook", "pending_update_co')
        if fault == 'redirect':
            # The same path on another origin: a Telegram URL carries its token there.
            return handler.answer(307, b'', {'Location': self.redirect_to + handler.path})
        raise AssertionError('unknown fault %s' % fault)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def everything(self):
        return json.dumps(self.requests)


# ---------------------------------------------------------------------------- the modules


def with_password(url):
    return url.replace('http://', 'http://probe:%s@' % URL_PASSWORD, 1)


class Case(object):
    """How to run one module against a server: its vendor, its arguments, and how many calls a persistent fault stops."""

    def __init__(self, module, vendor, args, healthy=None):
        self.module, self.vendor, self.args, self.healthy = module, vendor, args, healthy

    def arguments(self, url):
        return dict(self.args(url), timeout=TIMEOUT, retries=RETRIES)


def telegram_healthy(method, path):
    if path.endswith('/getMe'):
        return 200, {'ok': True, 'result': {'id': 424242, 'is_bot': True, 'first_name': 'Fault', 'username': 'fault_bot'}}
    if path.endswith('/getWebhookInfo'):
        return 200, {'ok': True, 'result': {'url': '', 'has_custom_certificate': False, 'pending_update_count': 0}}
    return 200, {'ok': True, 'result': True, 'description': 'Webhook was set'}


def twilio_healthy(method, path):
    if 'IncomingPhoneNumbers.json' in path:
        return 200, {'incoming_phone_numbers': [], 'next_page_uri': None}
    if '/twilio/' in path:
        return 200, '<?xml version="1.0" encoding="UTF-8"?><Response><Say>hi</Say></Response>'
    return 200, {}


def coolify_healthy(method, path):
    if path.endswith('/version'):
        return 200, '4.3.10'
    if '/deployments/applications/' in path:
        return 200, {'count': 0, 'deployments': []}
    if path.endswith('/envs'):
        return 200, []
    if path.endswith('/envs/bulk'):
        return 201, [{'uuid': 'env-1', 'key': 'SECRET_KEY', 'is_preview': False}]
    if '/rollback' in path:
        return 200, {'current': None, 'images': []}
    return 200, {'uuid': 'app-uuid-1', 'name': 'web', 'status': 'running:healthy', 'build_pack': 'dockerfile'}


def app_healthy(method, path):
    return 200, {'status': 'ok', 'checks': {'disk': {'status': 'ok'}}, 'version': '1.0.0'}


CASES = {
    'coolify_deploy': Case(coolify_deploy, 'coolify', lambda url: {
        'api_url': url, 'api_token': COOLIFY_TOKEN, 'uuid': 'app-uuid-1', 'wait': False}, coolify_healthy),
    'coolify_deploy_info': Case(coolify_deploy_info, 'coolify', lambda url: {
        'api_url': url, 'api_token': COOLIFY_TOKEN, 'uuid': 'app-uuid-1'}, coolify_healthy),
    'coolify_app_env': Case(coolify_app_env, 'coolify', lambda url: {
        'api_url': url, 'api_token': COOLIFY_TOKEN, 'uuid': 'app-uuid-1', 'env': [{'key': 'SECRET_KEY', 'value': ENV_SECRET}]},
        coolify_healthy),
    'telegram_webhook': Case(telegram_webhook, 'telegram', lambda url: {
        'bot_token': TG_TOKEN, 'api_url': url, 'url': 'https://bot.example.com/hook', 'secret_token': HOOK_SECRET},
        telegram_healthy),
    'telegram_webhook_info': Case(telegram_webhook_info, 'telegram', lambda url: {'bot_token': TG_TOKEN, 'api_url': url},
                                  telegram_healthy),
    'telegram_bot_probe': Case(telegram_bot_probe, 'webhook', lambda url: {'url': url + '/hook', 'secret_token': HOOK_SECRET},
                               lambda method, path: (200, {})),
    'twilio_number': Case(twilio_number, 'twilio', lambda url: {
        'account_sid': TW_SID, 'auth_token': TW_TOKEN, 'api_url': url, 'phone_number': '+15005550006', 'state': 'absent',
        'release': True}, twilio_healthy),
    'twilio_webhook_probe': Case(twilio_webhook_probe, 'webhook', lambda url: {
        'account_sid': TW_SID, 'auth_token': TW_TOKEN, 'phone_number': '+14155550100', 'voice_url': with_password(url) + '/twilio/voice'},
        twilio_healthy),
    'app_health': Case(app_health, 'app', lambda url: {'url': with_password(url) + '/health'}, app_healthy),
    # app_watch's URL carries no password here: app_watch (not in this suite's files) prints it, see
    # test_app_watch_keeps_the_url_password_out_of_its_result below.
    'app_watch': Case(app_watch, 'app', lambda url: {
        'url': url + '/health', 'duration': 0, 'max_health_failures': 1, 'fail_on_breach': True}, app_healthy),
}

# What each fault must end in, when it is not a failure: the module copes (a probe that does not read JSON, a health check
# that follows its endpoint elsewhere without the URL's credentials).
SUCCEEDS = {
    ('telegram_bot_probe', 'malformed_json'),
    ('app_health', 'redirect'),
    ('app_watch', 'redirect'),
}
# What a failure's message must say, by fault (any of these, case-insensitive).
SAYS = {
    '429': ('429',),
    '5xx': ('503',),
    'slow': ('no answer within', 'timed out', 'timeout'),
    'reset': ('connection',),
    'malformed_json': ('json', 'twiml', 'invalid'),
    'redirect': ('another origin',),
}


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(name='results')
def results_fixture(capsys):
    """What the module printed when it exited, read back as Ansible reads it (its no_log values masked by AnsibleModule)."""
    def read():
        printed = capsys.readouterr().out.strip().splitlines()
        assert printed, 'the module printed nothing'
        return json.loads(printed[-1])
    return read


@pytest.fixture(name='sleeps')
def sleeps_fixture(monkeypatch):
    """The frozen clock: every time.sleep (urllib3's Retry-After and backoff, the transport's body wait) only records."""
    waited = []
    monkeypatch.setattr(time, 'sleep', waited.append)
    return waited


@pytest.fixture(name='other_origin')
def other_origin_fixture():
    """Another origin, that answers as a healthy app and records whatever it gets."""
    with Server('app', healthy=app_healthy) as other:
        yield other


def run(case, url, results):
    """Run the module's main() as Ansible would (the real exit_json and fail_json); its exit code and result."""
    with patch_module_args(case.arguments(url)):
        try:
            case.module.main()
        except SystemExit as exit_info:
            return exit_info.code, results()
    raise AssertionError('%s returned from main() without exit_json or fail_json' % case.module.__name__)


def assert_no_credential(text, where):
    for secret in CREDENTIALS:
        assert secret not in text, 'a credential reached %s' % where


# ---------------------------------------------------------------------------- the table


TABLE = [(name, fault) for name in sorted(CASES) for fault in FAULTS if fault != 'slow' or name in SLOW_CASES]


@pytest.mark.parametrize('name, fault', TABLE, ids=['%s-%s' % case for case in TABLE])
def test_module_against_fault(name, fault, results, sleeps, other_origin):
    case = CASES[name]
    with Server(case.vendor, fault, healthy=case.healthy, redirect_to=other_origin.url) as service:
        code, out = run(case, service.url, results)
    text = json.dumps(out, default=str)

    # Never a traceback, never a credential in what the module returns.
    assert 'Traceback' not in text and 'exception' not in out
    assert_no_credential(text, 'the result')
    # Never a credential sent to another origin.
    assert_no_credential(other_origin.everything(), 'the other origin')
    for request in other_origin.requests:
        assert not set(h.lower() for h in request['headers']) & set(CREDENTIAL_HEADERS), request['headers']
    # Bounded: one call's attempts at most (the first call fails and the module stops), waits capped.
    assert 1 <= len(service.requests) <= RETRIES + 1, [r['path'] for r in service.requests]
    assert all(0 <= wait <= 30 for wait in sleeps) and sum(sleeps) <= (RETRIES + 1) * 30

    if (name, fault) in SUCCEEDS:
        assert code == 0 and not out.get('failed'), out.get('msg')
        return
    assert code == 1 and out.get('failed'), 'the module did not fail: %r' % (out,)
    message = out['msg']
    assert isinstance(message, str) and message.strip()
    assert any(word in message.lower() for word in SAYS[fault]), message
    if fault == '429':
        # The vendor's wait was honoured (frozen clock) and the budget spent.
        assert sleeps.count(RETRY_AFTER) == RETRIES and len(service.requests) == RETRIES + 1
    if fault == 'redirect' and case.vendor in ('coolify', 'telegram', 'twilio'):
        # An API client names both origins and sends the other nothing at all.
        assert other_origin.requests == [] and other_origin.url in message and service.url in message


@pytest.mark.parametrize('name', sorted(CASES))
def test_recovers_after_one_429(name, results, sleeps):
    case = CASES[name]
    with Server(case.vendor, '429', times=1, healthy=case.healthy) as service:
        code, out = run(case, service.url, results)
    assert code == 0 and not out.get('failed'), out.get('msg')
    assert RETRY_AFTER in sleeps and len(service.requests) >= 2
    assert service.requests[0]['path'] == service.requests[1]['path']
    assert_no_credential(json.dumps(out, default=str), 'the result')


def test_app_watch_keeps_the_url_password_out_of_its_result(results, sleeps):
    case = Case(app_watch, 'app', lambda url: {
        'url': with_password(url) + '/health', 'duration': 0, 'max_health_failures': 1, 'fail_on_breach': True})
    with Server('app', '5xx') as service:
        code, out = run(case, service.url, results)
    assert code == 1
    assert_no_credential(json.dumps(out), 'the result')

# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, clawd.ops contributors
"""Tests for the lab sample app (lab/app/clawd_sample_app.py), run as a real subprocess."""

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

APP = Path(__file__).resolve().parents[2] / 'lab' / 'app' / 'clawd_sample_app.py'
TOKEN = '123456789:AAFakeTokenForTheLab-do-not-log_xyz'
SECRET = 'webhook-secret-0123456789'
LOG_LINE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z (INFO|WARNING|ERROR) \S.*$')
NOISY_WORDS = re.compile(r'error|unauthorized|rate limit', re.IGNORECASE)
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def http(method, url, body=None, headers=None):
    """Do one request without proxies; return (status, headers, body bytes) also for 4xx/5xx."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header('Content-Type', 'application/json')
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def get_json(url, method='GET', body=None, headers=None):
    """Request and decode a JSON answer."""
    status, _headers, raw = http(method, url, body, headers)
    return status, json.loads(raw)


class AppProcess:
    """The sample app as a subprocess, with stdout/stderr captured in files."""

    def __init__(self, tmp_path, env):
        self.env = env
        index = len(list(tmp_path.glob('app-*.out')))
        self.out_path = tmp_path / f'app-{index}.out'
        self.err_path = tmp_path / f'app-{index}.err'
        listen = env.get('APP_LISTEN', '')
        self.base = f'http://{listen}' if listen else None
        with open(self.out_path, 'wb') as out, open(self.err_path, 'wb') as err:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, str(APP)], env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            )

    @property
    def stdout(self):
        """Everything written to stdout so far."""
        return self.out_path.read_text(encoding='utf-8')

    @property
    def stderr(self):
        """Everything written to stderr so far."""
        return self.err_path.read_text(encoding='utf-8')

    def lines(self):
        """Stdout as a list of lines."""
        return self.stdout.splitlines()

    def wait_for_log(self, text, timeout=5.0):
        """Wait until ``text`` appears on stdout; return the first matching line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines():
                if text in line:
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f'{text!r} not logged (rc={self.proc.poll()}); stdout:\n{self.stdout}\nstderr:\n{self.stderr}')

    def url(self, path):
        """Absolute URL of ``path`` on this app."""
        return self.base + path

    def stop(self, sig=signal.SIGTERM, timeout=3.0):
        """Send ``sig`` and return (exit code, seconds it took)."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - started

    def kill(self):
        """Make sure the process is gone."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture(name='start_app')
def fixture_start_app(tmp_path):
    """Factory: start the app with the given role and env; every process is killed at teardown."""
    processes = []

    def start(role, wait=True, **extra):
        env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'PYTHONUNBUFFERED': '1',
            'APP_ROLE': role,
            'APP_VERSION': '1.4.2-test',
        }
        if role in ('web', 'bot'):
            env['APP_LISTEN'] = f'127.0.0.1:{free_port()}'
        if role == 'web':
            env['APP_DATA_DIRS'] = f'workspace={tmp_path / "data" / "workspace"},config={tmp_path / "data" / "config"}'
        if role == 'bot':
            env['TELEGRAM_BOT_TOKEN'] = TOKEN
        env.update({key: str(value) for key, value in extra.items() if value is not None})
        for key in [key for key, value in extra.items() if value is None]:
            env.pop(key, None)
        app = AppProcess(tmp_path, env)
        processes.append(app)
        if wait:
            app.wait_for_log(' starting: role=')
        return app

    yield start
    for app in processes:
        app.kill()


class FakeTelegram:  # pylint: disable=too-few-public-methods
    """A tiny Bot API stand-in on 127.0.0.1 that records every request."""

    def __init__(self):
        self.requests = []
        self.answer_status = 200
        self.answer_body = {'ok': True, 'result': {'message_id': 1000, 'chat': {'id': 42}, 'text': 'pong'}}
        self.received = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            """Records POSTs, answers with the configured JSON."""

            def do_POST(self):  # pylint: disable=invalid-name
                """Record and answer."""
                raw = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                fake.requests.append({'path': self.path, 'headers': dict(self.headers), 'json': json.loads(raw or b'null')})
                payload = json.dumps(fake.answer_body).encode()
                self.send_response(fake.answer_status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                fake.received.set()

            def log_message(self, format, *args):  # pylint: disable=redefined-builtin
                """Stay quiet."""

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.base = f'http://127.0.0.1:{self.server.server_address[1]}'
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name='telegram')
def fixture_telegram():
    """A running fake Telegram API."""
    fake = FakeTelegram()
    yield fake
    fake.close()


def update(text, chat_id=42, message_id=7):
    """A minimal Telegram Update carrying a text message."""
    return {
        'update_id': 1001,
        'message': {'message_id': message_id, 'date': 1790000000, 'chat': {'id': chat_id, 'type': 'private'}, 'text': text},
    }


def assert_log_format(app):
    """Every stdout line is '<UTC timestamp> <LEVEL> <message>'."""
    lines = app.lines()
    assert lines
    for line in lines:
        assert LOG_LINE.match(line), line


# ---------------------------------------------------------------------------
# web role
# ---------------------------------------------------------------------------

def test_web_health_ok(start_app, tmp_path):
    """All sub-checks ok -> 200, marker files written, startup line logged."""
    app = start_app('web')
    status, body = get_json(app.url('/health'))
    assert status == 200
    assert body['status'] == 'ok'
    assert body['version'] == '1.4.2-test'
    assert body['role'] == 'web'
    assert isinstance(body['uptime_seconds'], int) and body['uptime_seconds'] >= 0
    checks = body['checks']
    assert set(checks) == {'app', 'workspace', 'config', 'disk'}
    assert all(check['status'] == 'ok' for check in checks.values()), checks
    assert checks['workspace']['path'] == str(tmp_path / 'data' / 'workspace')
    assert checks['config']['path'] == str(tmp_path / 'data' / 'config')
    assert 0 < checks['disk']['used_percent'] <= 100
    for name in ('workspace', 'config'):
        marker = json.loads((tmp_path / 'data' / name / '.clawd-app').read_text(encoding='utf-8'))
        assert marker['version'] == '1.4.2-test'
        assert marker['data_dir'] == name
    start_line = app.wait_for_log(' starting: ')
    assert 'INFO' in start_line and 'role=web' in start_line and 'version=1.4.2-test' in start_line
    assert f'listen={app.env["APP_LISTEN"]}' in start_line
    assert_log_format(app)


def test_web_head_index_version_and_errors(start_app):
    """HEAD, /, /version, 404 and 405."""
    app = start_app('web')
    status, headers, raw = http('HEAD', app.url('/health'))
    assert (status, raw) == (200, b'')
    assert int(headers['Content-Length']) > 0
    status, headers, raw = http('HEAD', app.url('/'))
    assert (status, raw) == (200, b'')
    assert headers['Content-Type'].startswith('text/html')

    status, headers, raw = http('GET', app.url('/'))
    assert status == 200
    assert b'clawd sample app' in raw and b'1.4.2-test' in raw

    assert get_json(app.url('/version')) == (200, {'version': '1.4.2-test', 'role': 'web', 'commit': None})
    assert get_json(app.url('/does-not-exist')) == (404, {'error': 'not found'})
    assert get_json(app.url('/health?x=1'))[0] == 200

    status, headers, raw = http('POST', app.url('/health'), body={})
    assert status == 405
    assert headers['Allow'] == 'GET, HEAD'
    assert http('DELETE', app.url('/'))[0] == 405
    assert http('PUT', app.url('/version'), body={})[0] == 405
    assert_log_format(app)


def test_web_unhealthy_release(start_app):
    """APP_UNHEALTHY=1 -> 503 with the app sub-check failed."""
    app = start_app('web', APP_UNHEALTHY='1')
    status, body = get_json(app.url('/health'))
    assert status == 503
    assert body['status'] == 'failing'
    assert body['checks']['app'] == {'status': 'failed', 'reason': 'release marked unhealthy (APP_UNHEALTHY=1)'}
    assert body['checks']['workspace']['status'] == 'ok'
    assert http('HEAD', app.url('/health'))[0] == 503


def test_web_turns_unhealthy_after_boot(start_app):
    """APP_UNHEALTHY_AFTER: healthy at boot (what Docker's health check sees), failing later."""
    app = start_app('web', APP_UNHEALTHY_AFTER='1.5', SOURCE_COMMIT='a' * 40)
    status, body = get_json(app.url('/health'))
    assert (status, body['checks']['app']) == (200, {'status': 'ok'})
    assert get_json(app.url('/version'))[1]['commit'] == 'a' * 40
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, body = get_json(app.url('/health'))
        if status != 200:
            break
        time.sleep(0.2)
    assert status == 503
    assert body['checks']['app'] == {'status': 'failed', 'reason': 'release turned unhealthy after 1.5s (APP_UNHEALTHY_AFTER)'}


def test_web_slow_start(start_app):
    """APP_SLOW_START: port open at once, 503 'starting' first, then 200."""
    app = start_app('web', APP_SLOW_START='1.0')
    started = time.monotonic()
    status, body = get_json(app.url('/health'))
    assert status == 503
    assert body['status'] == 'starting'
    assert body['checks']['app']['status'] == 'starting'
    assert get_json(app.url('/version'))[0] == 200
    while time.monotonic() - started < 5:
        status, body = get_json(app.url('/health'))
        if status == 200:
            break
        assert body['status'] == 'starting'
        time.sleep(0.1)
    assert (status, body['status']) == (200, 'ok')
    assert time.monotonic() - started > 0.5


@pytest.mark.parametrize('case', ['not-a-directory', 'cannot-create', 'removed-after-start', 'read-only'])
def test_web_data_dir_failures(start_app, tmp_path, case):
    """A data dir that is missing, not a directory or not writable fails its own sub-check."""
    good = tmp_path / 'good'
    if case == 'not-a-directory':
        bad = tmp_path / 'plain-file'
        bad.write_text('x', encoding='utf-8')
        expected = 'is not a directory'
    elif case == 'cannot-create':
        (tmp_path / 'blocker').write_text('x', encoding='utf-8')
        bad = tmp_path / 'blocker' / 'config'
        expected = 'does not exist'
    elif case == 'removed-after-start':
        bad = tmp_path / 'removed'
        expected = 'does not exist'
    else:
        if os.geteuid() == 0:
            pytest.skip('root ignores directory permissions')
        bad = tmp_path / 'read-only'
        bad.mkdir()
        bad.chmod(0o555)
        expected = 'is not writable'
    app = start_app('web', APP_DATA_DIRS=f'workspace={good},config={bad}')
    if case == 'removed-after-start':
        assert get_json(app.url('/health'))[0] == 200
        (bad / '.clawd-app').unlink()
        bad.rmdir()
    status, body = get_json(app.url('/health'))
    assert status == 503
    assert body['status'] == 'failing'
    assert body['checks']['workspace']['status'] == 'ok'
    assert body['checks']['config']['status'] == 'failed'
    assert expected in body['checks']['config']['reason']
    assert body['checks']['config']['path'] == str(bad)
    assert body['checks']['app']['status'] == 'ok'


def test_web_disk_threshold(start_app):
    """The disk sub-check fails once usage exceeds APP_DISK_WARN_PERCENT."""
    app = start_app('web', APP_DISK_WARN_PERCENT='0')
    status, body = get_json(app.url('/health'))
    assert status == 503
    disk = body['checks']['disk']
    assert disk['status'] == 'failed'
    assert disk['used_percent'] > 0
    assert 'limit 0%' in disk['reason']


def test_web_bot_subcheck(start_app):
    """APP_BOT_HEALTH_URL adds a 'bot' sub-check that follows the bot's health."""
    bot = start_app('bot')
    web = start_app('web', APP_BOT_HEALTH_URL=bot.url('/health'))
    status, body = get_json(web.url('/health'))
    assert status == 200
    assert body['checks']['bot'] == {'status': 'ok'}

    sick_bot = start_app('bot', TELEGRAM_BOT_TOKEN='')
    web2 = start_app('web', APP_BOT_HEALTH_URL=sick_bot.url('/health'))
    status, body = get_json(web2.url('/health'))
    assert status == 503
    assert body['checks']['bot']['status'] == 'failed'
    assert 'HTTP 503' in body['checks']['bot']['reason']

    web3 = start_app('web', APP_BOT_HEALTH_URL=f'http://127.0.0.1:{free_port()}/health')
    status, body = get_json(web3.url('/health'))
    assert status == 503
    assert 'not reachable' in body['checks']['bot']['reason']


# ---------------------------------------------------------------------------
# configuration errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('listen', ['0.0.0.0:{port}', '192.0.2.10:{port}', '[::]:{port}', 'example.org:{port}'])
def test_non_loopback_listen_refused(start_app, listen):
    """Binding outside loopback needs APP_ALLOW_NON_LOOPBACK=1."""
    app = start_app('web', wait=False, APP_LISTEN=listen.format(port=free_port()))
    assert app.proc.wait(timeout=5) == 2
    assert 'non-loopback' in app.stderr
    assert 'APP_ALLOW_NON_LOOPBACK' in app.stderr


def test_other_loopback_address_allowed(start_app):
    """All of 127.0.0.0/8 counts as loopback."""
    port = free_port()
    app = start_app('web', APP_LISTEN=f'127.0.0.2:{port}')
    assert get_json(f'http://127.0.0.2:{port}/version')[0] == 200
    assert app.proc.poll() is None


@pytest.mark.parametrize('env, message', [
    ({'APP_ROLE': 'frontend'}, 'APP_ROLE must be one of web, bot, backup'),
    ({'APP_ROLE': ''}, 'APP_ROLE must be one of'),
    ({'APP_LOG_ERRORS_PER_MIN': 'lots'}, 'APP_LOG_ERRORS_PER_MIN must be a number'),
    ({'APP_LISTEN': '127.0.0.1'}, 'APP_LISTEN must be host:port'),
])
def test_bad_config_exits_2(start_app, env, message):
    """Invalid configuration -> exit code 2 and a clear message on stderr."""
    env = dict(env)
    app = start_app(env.pop('APP_ROLE', 'web'), wait=False, **env)
    assert app.proc.wait(timeout=5) == 2
    assert message in app.stderr
    assert app.stdout == ''


# ---------------------------------------------------------------------------
# bot role
# ---------------------------------------------------------------------------

def test_bot_health_and_version(start_app):
    """Bot health covers the app and the token."""
    app = start_app('bot')
    status, body = get_json(app.url('/health'))
    assert status == 200
    assert body['role'] == 'bot'
    assert body['checks'] == {'app': {'status': 'ok'}, 'telegram_token': {'status': 'ok'}}
    assert get_json(app.url('/version')) == (200, {'version': '1.4.2-test', 'role': 'bot', 'commit': None})

    no_token = start_app('bot', TELEGRAM_BOT_TOKEN=None)
    status, body = get_json(no_token.url('/health'))
    assert status == 503
    assert body['checks']['telegram_token']['status'] == 'failed'
    assert 'TELEGRAM_BOT_TOKEN' in body['checks']['telegram_token']['reason']


@pytest.mark.parametrize('header', [None, 'wrong-secret', SECRET + 'x'])
def test_bot_webhook_bad_secret(start_app, telegram, header):
    """A missing or wrong secret token -> 401, an 'unauthorized' WARNING and no reply."""
    app = start_app('bot', TELEGRAM_API_BASE=telegram.base, TELEGRAM_WEBHOOK_SECRET=SECRET)
    headers = {} if header is None else {'X-Telegram-Bot-Api-Secret-Token': header}
    status, _body = get_json(app.url('/telegram/webhook'), 'POST', update('/ping'), headers)
    assert status == 401
    line = app.wait_for_log('unauthorized webhook call rejected')
    assert ' WARNING unauthorized webhook call rejected: bad secret token' in line
    assert not telegram.requests
    assert SECRET not in app.stdout + app.stderr


@pytest.mark.parametrize('text', ['/ping', '/ping@clawd_lab_bot'])
def test_bot_ping_sends_pong(start_app, telegram, text):
    """/ping with the right secret -> sendMessage 'pong' to the same chat, then 200 {}."""
    app = start_app('bot', TELEGRAM_API_BASE=telegram.base, TELEGRAM_WEBHOOK_SECRET=SECRET)
    status, body = get_json(app.url('/telegram/webhook'), 'POST', update(text, chat_id=-100777, message_id=55),
                            {'X-Telegram-Bot-Api-Secret-Token': SECRET})
    assert (status, body) == (200, {})
    assert len(telegram.requests) == 1
    call = telegram.requests[0]
    assert call['path'] == f'/bot{TOKEN}/sendMessage'
    assert call['json'] == {'chat_id': -100777, 'text': 'pong', 'reply_to_message_id': 55}
    assert call['headers']['Content-Type'] == 'application/json'
    app.wait_for_log('telegram command /ping answered')
    assert TOKEN not in app.stdout + app.stderr
    assert_log_format(app)


def test_bot_status_reports_version(start_app, telegram):
    """/status replies with status, version and uptime (no secret configured -> no header needed)."""
    app = start_app('bot', TELEGRAM_API_BASE=telegram.base, APP_WEBHOOK_PATH='/hook')
    status, _body = get_json(app.url('/hook'), 'POST', update('/status'))
    assert status == 200
    text = telegram.requests[0]['json']['text']
    assert re.fullmatch(r'status: ok, version 1\.4\.2-test, uptime \d+s', text), text
    assert get_json(app.url('/telegram/webhook'), 'POST', update('/status'))[0] == 404


def test_bot_ignores_other_updates_and_rejects_bad_json(start_app, telegram):
    """Non-command updates are acknowledged without a reply; broken JSON -> 400."""
    app = start_app('bot', TELEGRAM_API_BASE=telegram.base)
    hook = app.url('/telegram/webhook')
    assert get_json(hook, 'POST', update('hello there')) == (200, {})
    assert get_json(hook, 'POST', {'update_id': 5, 'callback_query': {'id': '1'}}) == (200, {})
    assert http('POST', hook, b'{not json')[0] == 400
    assert http('POST', hook, b'[1, 2]')[0] == 400
    assert http('GET', hook)[0] == 405
    assert not telegram.requests


def test_bot_telegram_error_is_logged_without_token(start_app, telegram):
    """Telegram answering 401 -> ERROR line with code and description; the token is never printed."""
    telegram.answer_status = 401
    telegram.answer_body = {'ok': False, 'error_code': 401, 'description': 'Unauthorized'}
    app = start_app('bot', TELEGRAM_API_BASE=telegram.base)
    status, body = get_json(app.url('/telegram/webhook'), 'POST', update('/ping'))
    assert (status, body) == (200, {})
    assert len(telegram.requests) == 1
    line = app.wait_for_log('sendMessage failed')
    assert line.endswith(' ERROR sendMessage failed: HTTP 401 Unauthorized'), line
    app.stop()
    output = app.stdout + app.stderr
    assert TOKEN not in output
    assert TOKEN.split(':', 1)[1] not in output
    assert '/bot' not in output


@pytest.mark.parametrize('api_base', ['http://127.0.0.1:{port}', 'no-scheme-host'])
def test_bot_telegram_unreachable_is_logged_without_token(start_app, api_base):
    """Connection problems are ERRORs too, still without the token."""
    app = start_app('bot', TELEGRAM_API_BASE=api_base.format(port=free_port()))
    assert get_json(app.url('/telegram/webhook'), 'POST', update('/ping')) == (200, {})
    line = app.wait_for_log('sendMessage failed')
    assert ' ERROR sendMessage failed: ' in line
    app.stop()
    assert TOKEN not in app.stdout + app.stderr


# ---------------------------------------------------------------------------
# logs
# ---------------------------------------------------------------------------

def test_log_noise(start_app):
    """High noise rates produce the three kinds of simulated problem lines."""
    app = start_app('web', APP_LOG_ERRORS_PER_MIN='600', APP_LOG_UNAUTHORIZED_PER_MIN='600', APP_LOG_RATELIMIT_PER_MIN='600')
    time.sleep(1.5)
    code, _elapsed = app.stop()
    assert code == 0
    lines = app.lines()
    errors = [line for line in lines if line.endswith(' ERROR upstream request failed: simulated error')]
    unauthorized = [line for line in lines if line.endswith(' WARNING unauthorized request rejected from 127.0.0.1 (simulated)')]
    rate_limited = [line for line in lines if line.endswith(' WARNING rate limit exceeded for api.telegram.org (simulated)')]
    for found in (errors, unauthorized, rate_limited):
        assert 8 <= len(found) <= 20, found
    assert_log_format(app)


def test_normal_run_has_no_noise_words(start_app, telegram):
    """Without noise, a busy but healthy run never logs ERROR / unauthorized / rate limit."""
    bot = start_app('bot', TELEGRAM_API_BASE=telegram.base, TELEGRAM_WEBHOOK_SECRET=SECRET)
    web = start_app('web', APP_BOT_HEALTH_URL=bot.url('/health'))
    for path in ('/health', '/', '/version', '/nope', '/error', '/unauthorized'):
        http('GET', web.url(path))
        http('HEAD', web.url(path))
    http('POST', web.url('/health'), body={})
    hook = bot.url('/telegram/webhook')
    get_json(hook, 'POST', update('/ping'), {'X-Telegram-Bot-Api-Secret-Token': SECRET})
    get_json(hook, 'POST', update('rate limit ERROR unauthorized'), {'X-Telegram-Bot-Api-Secret-Token': SECRET})
    with socket.create_connection(('127.0.0.1', int(web.env['APP_LISTEN'].rsplit(':', 1)[1])), timeout=5) as sock:
        sock.sendall(b'ERROR /unauthorized HTTP/1.1\r\n\r\n')
        sock.recv(4096)
    time.sleep(0.3)
    assert len(telegram.requests) == 1
    for app in (web, bot):
        assert app.stop()[0] == 0
        assert len(app.lines()) >= 5
        assert not NOISY_WORDS.search(app.stdout), app.stdout
        assert app.stderr == ''
        assert_log_format(app)


# ---------------------------------------------------------------------------
# backup role and shutdown
# ---------------------------------------------------------------------------

def test_backup_worker(start_app):
    """The backup worker logs that it is idle and serves only /health when APP_LISTEN is set."""
    app = start_app('backup', APP_LISTEN=f'127.0.0.1:{free_port()}')
    app.wait_for_log('INFO backup worker idle')
    status, body = get_json(app.url('/health'))
    assert status == 200
    assert body['role'] == 'backup'
    assert body['checks'] == {'app': {'status': 'ok'}}
    assert get_json(app.url('/version'))[0] == 404

    quiet = start_app('backup')
    assert 'listen=none' in quiet.wait_for_log(' starting: ')
    quiet.wait_for_log('backup worker idle')


@pytest.mark.parametrize('role', ['web', 'bot', 'backup'])
@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_cleanly(start_app, role, sig):
    """SIGTERM/SIGINT -> exit 0 within 3 s, with a shutdown log line."""
    app = start_app(role)
    if app.base:
        assert http('GET', app.url('/health'))[0] == 200
    code, elapsed = app.stop(sig)
    assert code == 0
    assert elapsed < 3
    app.wait_for_log(f'received {sig.name}, shutting down')
    app.wait_for_log('clawd-sample-app stopped')
    assert app.stderr == ''


# ---------------------------------------------------------------------------
# web role: Twilio webhooks
# ---------------------------------------------------------------------------

TWILIO_TOKEN = 'twilio-auth-token-for-the-sample-app-42'
PUBLIC_URL = 'https://lab1.clawd.test'
SMS_PARAMS = {'AccountSid': 'AC' + '0' * 32, 'From': '+15017122661', 'To': '+14155550100', 'Body': 'hi <there> & you',
              'MessageSid': 'SM' + '1' * 32}


def twilio_sign(token, url, params):
    """X-Twilio-Signature as the contract's example computes it."""
    data = url + ''.join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def post_form(url, params, signature=None):
    """POST a form as Twilio does; return (status, headers, body bytes)."""
    headers = {'Content-Type': 'application/x-www-form-urlencoded'}
    if signature is not None:
        headers['X-Twilio-Signature'] = signature
    return http('POST', url, urlencode(params).encode(), headers)


@pytest.mark.parametrize('public_url', [PUBLIC_URL, PUBLIC_URL + ':443'])
@pytest.mark.parametrize('signed_url', [PUBLIC_URL + '/twilio/sms', PUBLIC_URL + ':443/twilio/sms'])
def test_twilio_sms_with_good_signature_gets_twiml(start_app, public_url, signed_url):
    """Signed on the public URL, with or without :443 on either side -> 200 TwiML <Message>."""
    app = start_app('web', TWILIO_AUTH_TOKEN=TWILIO_TOKEN, APP_PUBLIC_URL=public_url)
    status, headers, body = post_form(app.url('/twilio/sms'), SMS_PARAMS, twilio_sign(TWILIO_TOKEN, signed_url, SMS_PARAMS))
    assert status == 200
    assert headers['Content-Type'].startswith('application/xml')
    text = body.decode()
    assert text.startswith('<?xml') and '<Response><Message>' in text and text.endswith('</Message></Response>')
    assert 'hi &lt;there&gt; &amp; you' in text and '1.4.2-test' in text


def test_twilio_voice_with_query_string_gets_say(start_app):
    """The query string is part of the signed URL; voice answers <Say>."""
    app = start_app('web', TWILIO_AUTH_TOKEN=TWILIO_TOKEN, APP_PUBLIC_URL=PUBLIC_URL + '/')
    params = {'CallSid': 'CA' + '2' * 32, 'CallStatus': 'ringing', 'From': '+15017122661', 'To': '+14155550100'}
    signature = twilio_sign(TWILIO_TOKEN, PUBLIC_URL + '/twilio/voice?tenant=1', params)
    status, _headers, body = post_form(app.url('/twilio/voice?tenant=1'), params, signature)
    assert status == 200 and b'<Response><Say>' in body and b'</Say></Response>' in body
    # the same signature does not fit another query string
    assert post_form(app.url('/twilio/voice?tenant=2'), params, signature)[0] == 403


@pytest.mark.parametrize('case', ['missing', 'other-token', 'other-url', 'tampered-body', 'http-scheme'])
def test_twilio_bad_or_missing_signature_is_403(start_app, case):
    """Anything that does not sign exactly this URL and these parameters with this token -> 403, logged without the token."""
    app = start_app('web', TWILIO_AUTH_TOKEN=TWILIO_TOKEN, APP_PUBLIC_URL=PUBLIC_URL)
    url, params, token = PUBLIC_URL + '/twilio/sms', dict(SMS_PARAMS), TWILIO_TOKEN
    signature = {
        'missing': None,
        'other-token': twilio_sign('another-token', url, params),
        'other-url': twilio_sign(token, PUBLIC_URL + '/twilio/voice', params),
        'tampered-body': twilio_sign(token, url, dict(params, Body='something else')),
        'http-scheme': twilio_sign(token, 'http://lab1.clawd.test/twilio/sms', params),
    }[case]
    status, _headers, body = post_form(app.url('/twilio/sms'), params, signature)
    assert status == 403 and json.loads(body) == {'error': 'invalid Twilio signature'}
    app.wait_for_log('Twilio webhook rejected on /twilio/sms')
    assert TWILIO_TOKEN not in app.stdout


def test_twilio_webhooks_without_token_are_503(start_app):
    """TWILIO_AUTH_TOKEN unset -> 503 saying so, for both endpoints."""
    app = start_app('web', APP_PUBLIC_URL=PUBLIC_URL)
    for path in ('/twilio/sms', '/twilio/voice'):
        status, _headers, body = post_form(app.url(path), SMS_PARAMS, twilio_sign(TWILIO_TOKEN, PUBLIC_URL + path, SMS_PARAMS))
        assert status == 503
        assert 'TWILIO_AUTH_TOKEN is not set' in json.loads(body)['error']
    assert http('GET', app.url('/twilio/sms'))[0] == 405


def test_twilio_token_never_logged(start_app):
    """The token is registered with the log redaction: even a line that would carry it is masked."""
    app = start_app('web', TWILIO_AUTH_TOKEN=TWILIO_TOKEN, APP_PUBLIC_URL=PUBLIC_URL)
    post_form(app.url('/twilio/sms'), SMS_PARAMS, TWILIO_TOKEN)  # a client sending the token as its "signature"
    post_form(app.url('/twilio/sms'), SMS_PARAMS, twilio_sign(TWILIO_TOKEN, PUBLIC_URL + '/twilio/sms', SMS_PARAMS))
    app.wait_for_log('"POST /twilio/sms" 200')
    assert TWILIO_TOKEN not in app.stdout and TWILIO_TOKEN not in app.stderr


def test_twilio_standin_callback_is_accepted_by_the_app(start_app):
    """End to end: the Twilio stand-in signs a callback to the app's public URL; the app validates it."""
    from standins.twilio import TwilioStandIn  # pylint: disable=import-outside-toplevel
    port = free_port()
    public = f'http://127.0.0.1:{port}'
    app = start_app('web', TWILIO_AUTH_TOKEN=TWILIO_TOKEN, APP_PUBLIC_URL=public, APP_LISTEN=f'127.0.0.1:{port}')
    sid = 'AC' + 'ab' * 16
    with TwilioStandIn(config={'accounts': [{'sid': sid, 'auth_token': TWILIO_TOKEN}]}).serve_in_thread() as twilio:
        form = {'PhoneNumber': '+14155550100', 'SmsUrl': public + '/twilio/sms', 'VoiceUrl': public + '/twilio/voice'}
        assert requests.post(f'{twilio.url}/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json', data=form,
                             auth=(sid, TWILIO_TOKEN), timeout=5).status_code == 201
        for kind, verb in (('sms', '<Message>'), ('voice', '<Say>')):
            outcome = requests.post(twilio.url + '/_lab/twilio/callback', timeout=15,
                                    json={'phone_number': '+14155550100', 'kind': kind, 'params': {'Body': 'ping'}}).json()
            assert outcome['status'] == 200, outcome
            assert verb in outcome['body']


def test_web_private_page_needs_the_basic_auth_password(start_app):
    app = start_app('web', BASIC_AUTH_PASS='pass-NEW-0123456789')

    def status(user, password):
        headers = {'Authorization': 'Basic ' + base64.b64encode(f'{user}:{password}'.encode()).decode()} if user else {}
        return http('GET', app.url('/private'), headers=headers)

    code, headers, body = status(None, None)
    assert code == 401 and headers['WWW-Authenticate'] == 'Basic realm="clawd"'
    assert status('admin', 'pass-OLD-0123456789')[0] == 401
    assert status('someone', 'pass-NEW-0123456789')[0] == 401
    code, headers, body = status('admin', 'pass-NEW-0123456789')
    assert code == 200 and b'private' in body
    assert 'pass-NEW-0123456789' not in app.stdout and 'pass-OLD' not in app.stdout
    assert http('GET', start_app('web').url('/private'))[0] == 503


def test_web_upstream_key_check_tells_keys_apart(start_app):
    key = 'sk-ant-NEW-upstream-0123456789'
    app = start_app('web', ANTHROPIC_API_KEY=key)

    def check(candidate):
        return http('POST', app.url('/upstream/check'), headers={'X-Upstream-Key-Sha256': hashlib.sha256(candidate.encode()).hexdigest()})

    code, headers, body = check(key)
    assert code == 200 and json.loads(body) == {'upstream': 'ANTHROPIC_API_KEY', 'match': True}
    code, headers, body = check('sk-ant-OLD-upstream-0123456789')
    assert code == 409 and json.loads(body)['match'] is False
    assert http('POST', start_app('web').url('/upstream/check'))[0] == 503
    assert key not in app.stdout


def test_bot_ignores_blocked_users_and_chats(start_app, telegram):
    app = start_app('bot', TELEGRAM_API_BASE=telegram.base, TELEGRAM_WEBHOOK_SECRET=SECRET, BLOCKED_TELEGRAM_IDS='666, 777')
    headers = {'X-Telegram-Bot-Api-Secret-Token': SECRET}
    for chat_id in (666, 777):
        assert http('POST', app.url('/telegram/webhook'), update('/ping', chat_id=chat_id), headers)[0] == 200
    app.wait_for_log('telegram update from a blocked user or chat ignored')
    assert http('POST', app.url('/telegram/webhook'), update('/ping', chat_id=42), headers)[0] == 200
    app.wait_for_log('telegram command /ping answered in chat 42')
    assert [r['json']['chat_id'] for r in telegram.requests] == [42]

#!/usr/bin/env python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, clawd.ops contributors
"""Sample app for the clawd.ops test lab.

A stdlib-only stand-in for a small self-hosted service with three roles
(``APP_ROLE``): ``web`` (web UI with /health, /version and /), ``bot`` (a
Telegram webhook bot answering /ping and /status) and ``backup`` (an idle
worker).  Everything is configured through environment variables, every log
line goes to stdout as ``<ISO-8601 UTC> <LEVEL> <message>``.

``clawd_sample_app.py migrate`` brings the PostgreSQL database of
``APP_DATABASE_URL`` (``postgresql://user@host:port/db``, trust auth: the
lab's server asks no password) to the release's ``APP_SCHEMA_VERSION``, one
transaction per migration, each recorded in ``schema_version``; a database
newer than the release is left alone.  ``APP_MIGRATION_FAIL=1`` makes the
last migration break half-way (its statements applied, not recorded, exit 1),
as a migration that is not transactional does.  Coolify runs it as the
application's post-deployment command.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import math
import os
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from xml.sax.saxutils import escape as xml_escape
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional

APP_NAME = 'clawd-sample-app'
ROLES = ('web', 'bot', 'backup')
DEFAULT_LISTEN = {'web': '127.0.0.1:8080', 'bot': '127.0.0.1:8081'}
DEFAULT_VERSION = '0.0.0-dev'
DEFAULT_DATA_DIRS = 'workspace=/data/workspace,config=/data/config'
DEFAULT_TELEGRAM_API_BASE = 'https://api.telegram.org'
DEFAULT_WEBHOOK_PATH = '/telegram/webhook'
MARKER_FILE = '.clawd-app'
RESERVED_CHECK_NAMES = ('app', 'disk', 'bot', 'telegram_token')
MAX_BODY_BYTES = 1024 * 1024
BOT_HEALTH_TIMEOUT = 2.0
TELEGRAM_TIMEOUT = 5.0
BACKUP_IDLE_INTERVAL = 60.0

NOISE_LINES = (
    ('APP_LOG_ERRORS_PER_MIN', 'ERROR', 'upstream request failed: simulated error'),
    ('APP_LOG_UNAUTHORIZED_PER_MIN', 'WARNING', 'unauthorized request rejected from 127.0.0.1 (simulated)'),
    ('APP_LOG_RATELIMIT_PER_MIN', 'WARNING', 'rate limit exceeded for api.telegram.org (simulated)'),
)


class ConfigError(Exception):
    """Raised for invalid configuration; the app exits with code 2."""


class Logger:
    """Thread-safe stdout logger that scrubs registered secrets from every line."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: list[str] = []

    def add_secret(self, value: str) -> None:
        """Never let ``value`` reach the log."""
        if value:
            self._secrets.append(value)
            self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Return ``text`` with all registered secrets masked."""
        for secret in self._secrets:
            text = text.replace(secret, '***')
        return text

    def log(self, level: str, message: str) -> None:
        """Write one ``<timestamp> <LEVEL> <message>`` line to stdout and flush it."""
        stamp = datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        message = self.redact(' '.join(str(message).split()))
        with self._lock:
            try:
                sys.stdout.write(f'{stamp} {level} {message}\n')
                sys.stdout.flush()
            except (OSError, ValueError):
                pass

    def info(self, message: str) -> None:
        """Log at INFO."""
        self.log('INFO', message)

    def warning(self, message: str) -> None:
        """Log at WARNING."""
        self.log('WARNING', message)

    def error(self, message: str) -> None:
        """Log at ERROR."""
        self.log('ERROR', message)


LOG = Logger()


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

def _env(name: str, default: str = '') -> str:
    return os.environ.get(name, default).strip()


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f'{name} must be a number, got {raw!r}') from exc
    if value < 0 or not math.isfinite(value):
        raise ConfigError(f'{name} must be a finite number >= 0, got {raw!r}')
    return value


def parse_listen(value: str, allow_non_loopback: bool) -> tuple[str, int]:
    """Parse ``host:port`` (``[v6]:port`` for IPv6) and enforce the loopback-only rule."""
    host, sep, port_text = value.rpartition(':')
    if not sep or not host:
        raise ConfigError(f'APP_LISTEN must be host:port, got {value!r}')
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError as exc:
        raise ConfigError(f'APP_LISTEN port must be a number, got {value!r}') from exc
    if not 0 <= port <= 65535:
        raise ConfigError(f'APP_LISTEN port out of range: {value!r}')
    if host == 'localhost':
        host = '127.0.0.1'
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if allow_non_loopback:
        return host, port
    if address is None or not address.is_loopback:
        raise ConfigError(
            f'refusing to listen on non-loopback address {value!r}: use 127.0.0.0/8 or ::1, '
            'or set APP_ALLOW_NON_LOOPBACK=1 to allow it'
        )
    return host, port


def parse_data_dirs(value: str) -> list[tuple[str, str]]:
    """Parse ``name=path,name=path`` into an ordered list of pairs."""
    result: list[tuple[str, str]] = []
    for item in value.split(','):
        item = item.strip()
        if not item:
            continue
        name, sep, path = item.partition('=')
        name, path = name.strip(), path.strip()
        if not sep or not name or not path:
            raise ConfigError(f'APP_DATA_DIRS entries must be name=path, got {item!r}')
        if not name.replace('_', '').replace('-', '').isalnum():
            raise ConfigError(f'APP_DATA_DIRS name must be alphanumeric (with - or _), got {name!r}')
        if name in RESERVED_CHECK_NAMES or any(name == known for known, _path in result):
            raise ConfigError(f'APP_DATA_DIRS name {name!r} is reserved or used twice')
        result.append((name, path))
    return result


class Config:  # pylint: disable=too-many-instance-attributes,too-few-public-methods
    """All settings, read once from the environment."""

    def __init__(self) -> None:
        self.role = _env('APP_ROLE')
        if self.role not in ROLES:
            raise ConfigError(f'APP_ROLE must be one of {", ".join(ROLES)}, got {self.role!r}')
        self.version = _env('APP_VERSION') or DEFAULT_VERSION
        self.unhealthy = _env('APP_UNHEALTHY') == '1'
        # A release that boots healthy and fails later (what a health check at boot misses).
        self.unhealthy_after = _env_float('APP_UNHEALTHY_AFTER', 0.0)
        self.commit = _env('SOURCE_COMMIT')
        self.slow_start = _env_float('APP_SLOW_START', 0.0)
        self.noise = [(_env_float(var, 0.0), level, text) for var, level, text in NOISE_LINES]
        self.disk_warn_percent = _env_float('APP_DISK_WARN_PERCENT', 90.0)
        self.allow_non_loopback = _env('APP_ALLOW_NON_LOOPBACK') == '1'
        listen = _env('APP_LISTEN') or DEFAULT_LISTEN.get(self.role, '')
        self.listen: Optional[tuple[str, int]] = parse_listen(listen, self.allow_non_loopback) if listen else None
        raw_dirs = os.environ.get('APP_DATA_DIRS')
        self.data_dirs = parse_data_dirs(DEFAULT_DATA_DIRS if raw_dirs is None else raw_dirs)
        self.bot_health_url = _env('APP_BOT_HEALTH_URL')
        self.telegram_api_base = (_env('TELEGRAM_API_BASE') or DEFAULT_TELEGRAM_API_BASE).rstrip('/')
        self.telegram_token = _env('TELEGRAM_BOT_TOKEN')
        self.webhook_secret = _env('TELEGRAM_WEBHOOK_SECRET')
        self.webhook_path = _env('APP_WEBHOOK_PATH') or DEFAULT_WEBHOOK_PATH
        if not self.webhook_path.startswith('/'):
            raise ConfigError(f'APP_WEBHOOK_PATH must start with /, got {self.webhook_path!r}')
        # Twilio webhooks (web role): the auth token signs them, the public URL is what Twilio calls.
        self.twilio_auth_token = _env('TWILIO_AUTH_TOKEN')
        self.public_url = _env('APP_PUBLIC_URL').rstrip('/')
        # A page behind basic auth (web role) and the upstream API key, both rotated by the operator.
        self.basic_auth_user = _env('BASIC_AUTH_USER') or 'admin'
        self.basic_auth_pass = _env('BASIC_AUTH_PASS')
        self.upstream_key = _env('ANTHROPIC_API_KEY')
        # Telegram user or chat ids whose updates the bot ignores (containment of a security incident).
        self.blocked_ids = {part.strip() for part in _env('BLOCKED_TELEGRAM_IDS').split(',') if part.strip()}
        if self.public_url and urlsplit(self.public_url).scheme not in ('http', 'https'):
            raise ConfigError(f'APP_PUBLIC_URL must be an http(s) URL, got {self.public_url!r}')


# ---------------------------------------------------------------------------
# Health
# ---------------------------------------------------------------------------

def _failed(reason: str, **extra) -> dict:
    return {'status': 'failed', 'reason': reason, **extra}


def check_data_dir(path: str) -> dict:
    """A data dir is ok when it exists, is a directory and a file can be created in it."""
    if not os.path.exists(path):
        return _failed(f'{path} does not exist', path=path)
    if not os.path.isdir(path):
        return _failed(f'{path} is not a directory', path=path)
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix='.clawd-probe-'):
            pass
    except OSError as exc:
        return _failed(f'{path} is not writable: {exc.strerror or exc}', path=path)
    return {'status': 'ok', 'path': path}


def check_disk(path: str, warn_percent: float) -> dict:
    """Fail when the filesystem holding ``path`` (or its closest existing parent) is too full."""
    probe = os.path.abspath(path)
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    try:
        usage = shutil.disk_usage(probe)
    except OSError as exc:
        return _failed(f'cannot stat filesystem of {path}: {exc.strerror or exc}', path=path)
    # Same formula as df(1): used / (used + available to unprivileged users).
    denominator = usage.used + usage.free
    used_percent = round(100.0 * usage.used / denominator, 1) if denominator else 0.0
    if used_percent > warn_percent:
        return _failed(f'filesystem of {path} is {used_percent}% used (limit {warn_percent:g}%)', used_percent=used_percent, path=path)
    return {'status': 'ok', 'used_percent': used_percent, 'path': path}


def check_bot(url: str) -> dict:
    """Call the bot's /health and report its state."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=BOT_HEALTH_TIMEOUT) as response:
            response.read(65536)
            return {'status': 'ok'}
    except urllib.error.HTTPError as exc:
        status = ''
        try:
            status = json.loads(exc.read(65536) or b'{}').get('status', '')
        except (ValueError, AttributeError, OSError):
            pass
        finally:
            exc.close()
        detail = f' (status {status})' if status else ''
        return _failed(f'bot health answered HTTP {exc.code}{detail}')
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, 'reason', exc)
        return _failed(f'bot health not reachable: {reason}')


class App:
    """Shared runtime state of one app process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.started = time.monotonic()
        self.stop_event = threading.Event()

    def uptime(self) -> int:
        """Whole seconds since start."""
        return int(time.monotonic() - self.started)

    def starting_remaining(self) -> float:
        """Seconds left in the simulated slow start (0 when done)."""
        return max(0.0, self.config.slow_start - (time.monotonic() - self.started))

    def prepare_data_dirs(self) -> None:
        """Create the data dirs and drop a marker file in each; failures only show up in /health."""
        for name, path in self.config.data_dirs:
            try:
                os.makedirs(path, exist_ok=True)
                marker = {'app': APP_NAME, 'role': self.config.role, 'version': self.config.version, 'data_dir': name}
                with open(os.path.join(path, MARKER_FILE), 'w', encoding='utf-8') as handle:
                    json.dump(marker, handle)
                    handle.write('\n')
            except OSError as exc:
                LOG.warning(f'could not prepare data dir {name} at {path}: {exc.strerror or exc}')

    def health(self) -> tuple[int, dict]:
        """Return (HTTP status, JSON body) of /health."""
        config = self.config
        checks: dict[str, dict] = {}
        remaining = self.starting_remaining()
        if remaining > 0:
            checks['app'] = {'status': 'starting', 'reason': f'slow start, {remaining:.1f}s remaining'}
        elif config.unhealthy:
            checks['app'] = _failed('release marked unhealthy (APP_UNHEALTHY=1)')
        elif 0 < config.unhealthy_after <= time.monotonic() - self.started:
            checks['app'] = _failed(f'release turned unhealthy after {config.unhealthy_after:g}s (APP_UNHEALTHY_AFTER)')
        else:
            checks['app'] = {'status': 'ok'}
        if config.role == 'web':
            for name, path in config.data_dirs:
                checks[name] = check_data_dir(path)
            if config.data_dirs:
                checks['disk'] = check_disk(config.data_dirs[0][1], config.disk_warn_percent)
            if config.bot_health_url:
                checks['bot'] = check_bot(config.bot_health_url)
        elif config.role == 'bot':
            checks['telegram_token'] = {'status': 'ok'} if config.telegram_token else _failed('TELEGRAM_BOT_TOKEN is not set')
        if remaining > 0:
            status = 'starting'
        elif all(check['status'] == 'ok' for check in checks.values()):
            status = 'ok'
        else:
            status = 'failing'
        body = {
            'status': status,
            'version': config.version,
            'role': config.role,
            'uptime_seconds': self.uptime(),
            'checks': checks,
        }
        return (200 if status == 'ok' else 503), body

    # -- Telegram -----------------------------------------------------------

    def telegram_call(self, method: str, payload: dict) -> bool:
        """POST a Bot API method; log failures by method name only (the token lives in the URL)."""
        if not self.config.telegram_token:
            LOG.error(f'{method} failed: TELEGRAM_BOT_TOKEN is not set')
            return False
        url = f'{self.config.telegram_api_base}/bot{self.config.telegram_token}/{method}'
        headers = {'Content-Type': 'application/json', 'User-Agent': f'{APP_NAME}/{self.config.version}'}
        try:
            request = urllib.request.Request(url, data=json.dumps(payload).encode('utf-8'), method='POST', headers=headers)
            with urllib.request.urlopen(request, timeout=TELEGRAM_TIMEOUT) as response:
                code = response.status
                raw = response.read(MAX_BODY_BYTES)
        except urllib.error.HTTPError as exc:
            code = exc.code
            try:
                raw = exc.read(MAX_BODY_BYTES)
            except OSError:
                raw = b''
            finally:
                exc.close()
        except ValueError:
            LOG.error(f'{method} failed: invalid Bot API URL (check TELEGRAM_API_BASE)')
            return False
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, 'reason', None) or exc.__class__.__name__
            LOG.error(f'{method} failed: connection problem: {reason}')
            return False
        try:
            answer = json.loads(raw or b'{}')
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if code == 200 and answer.get('ok') is True:
            return True
        description = str(answer.get('description') or 'no description')[:200]
        LOG.error(f'{method} failed: HTTP {code} {description}')
        return False

    def handle_update(self, update: dict) -> None:
        """Answer /ping and /status, ignore everything else."""
        message = update.get('message')
        if not isinstance(message, dict) or not isinstance(message.get('text'), str):
            LOG.info('telegram update ignored (no text message)')
            return
        words = message['text'].split()
        command = words[0].split('@', 1)[0].lower() if words else ''
        chat = message.get('chat')
        chat_id = chat.get('id') if isinstance(chat, dict) else None
        sender = message.get('from')
        sender_id = sender.get('id') if isinstance(sender, dict) else None
        if {str(chat_id), str(sender_id)} & self.config.blocked_ids:
            LOG.warning('telegram update from a blocked user or chat ignored')
            return
        if command not in ('/ping', '/status') or chat_id is None:
            LOG.info('telegram update ignored (not a known command)')
            return
        if command == '/ping':
            text = 'pong'
        else:
            text = f'status: {self.health()[1]["status"]}, version {self.config.version}, uptime {self.uptime()}s'
        payload = {'chat_id': chat_id, 'text': text}
        if message.get('message_id') is not None:
            payload['reply_to_message_id'] = message['message_id']
        if self.telegram_call('sendMessage', payload):
            LOG.info(f'telegram command {command} answered in chat {chat_id}')


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    """Routes requests for all roles; ``server.app`` holds the state."""

    protocol_version = 'HTTP/1.1'
    _route: str = ''

    @property
    def app(self) -> App:
        """The App served by this handler."""
        return self.server.app  # pylint: disable=no-member

    def routes(self) -> dict[str, dict[str, Callable[[], None]]]:
        """Map path -> method -> handler for the current role."""
        role = self.app.config.role
        routes: dict[str, dict[str, Callable[[], None]]] = {
            '/health': {'GET': self.get_health, 'HEAD': self.get_health},
        }
        if role in ('web', 'bot'):
            routes['/version'] = {'GET': self.get_version, 'HEAD': self.get_version}
        if role == 'web':
            routes['/'] = {'GET': self.get_index, 'HEAD': self.get_index}
            routes['/twilio/sms'] = {'POST': self.post_twilio_sms}
            routes['/twilio/voice'] = {'POST': self.post_twilio_voice}
            routes['/private'] = {'GET': self.get_private}
            routes['/upstream/check'] = {'POST': self.post_upstream_check}
        if role == 'bot':
            routes[self.app.config.webhook_path] = {'POST': self.post_webhook}
        return routes

    # -- plumbing -----------------------------------------------------------

    def parse_request(self) -> bool:
        """Forget the previous request's route on keep-alive connections."""
        self._route = ''
        return super().parse_request()

    def dispatch(self) -> None:
        """Find and run the handler for this request."""
        path = self.path.split('?', 1)[0]
        methods = self.routes().get(path)
        if methods is None:
            self._route = '(unknown path)'
            self.send_json(404, {'error': 'not found'})
            return
        self._route = path
        handler = methods.get(self.command)
        if handler is None:
            self.send_json(405, {'error': 'method not allowed'}, {'Allow': ', '.join(sorted(methods))})
            return
        try:
            handler()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # pylint: disable=broad-exception-caught
            LOG.error(f'internal error on {self.command} {path}: {exc.__class__.__name__}: {exc}')
            self.send_json(500, {'error': 'internal error'})

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch

    def send_body(self, code: int, body: bytes, content_type: str, headers: Optional[dict] = None) -> None:
        """Send a complete response (no body for HEAD)."""
        self.send_response(code)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'no-store')
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def send_json(self, code: int, data: dict, headers: Optional[dict] = None) -> None:
        """Send ``data`` as JSON."""
        self.send_body(code, json.dumps(data).encode('utf-8') + b'\n', 'application/json', headers)

    def version_string(self) -> str:
        """Value of the Server header."""
        return f'{APP_NAME}/{self.app.config.version}'

    def log_request(self, code='-', size='-') -> None:
        """One INFO access line; only known methods and routes are logged verbatim (no client-controlled text)."""
        del size
        request = f'{self.command} {self._route}' if self._route else '(unparsed request)'
        LOG.info(f'{self.client_address[0]} "{request}" {getattr(code, "value", code)}')

    def log_error(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        """Protocol-level problems (bad request line, timeouts) from http.server."""
        if format.startswith('code %d'):
            LOG.warning(f'malformed HTTP request from {self.client_address[0]} answered with {int(args[0])}')
        else:
            LOG.warning(f'http server: {(format % args)[:200]}')

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        """Route anything else http.server wants to say through the logger."""
        LOG.info(f'http server: {(format % args)[:200]}')

    # -- endpoints ----------------------------------------------------------

    def get_health(self) -> None:
        """GET/HEAD /health."""
        code, body = self.app.health()
        self.send_json(code, body)

    def get_version(self) -> None:
        """GET/HEAD /version."""
        self.send_json(200, {'version': self.app.config.version, 'role': self.app.config.role, 'commit': self.app.config.commit or None})

    def get_index(self) -> None:
        """GET/HEAD /: a tiny HTML page."""
        version = self.app.config.version.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
        page = (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>clawd sample app</title></head>\n'
            f'<body><h1>clawd sample app</h1><p>Version {version}</p></body></html>\n'
        )
        self.send_body(200, page.encode('utf-8'), 'text/html; charset=utf-8')

    def get_private(self) -> None:
        """GET /private: a page behind basic auth (BASIC_AUTH_USER, BASIC_AUTH_PASS)."""
        config = self.app.config
        if not config.basic_auth_pass:
            self.send_json(503, {'error': 'basic auth is not configured: BASIC_AUTH_PASS is not set'})
            return
        given = self.headers.get('Authorization', '')
        try:
            decoded = base64.b64decode(given[6:], validate=True).decode('utf-8') if given.startswith('Basic ') else ''
        except ValueError:
            decoded = ''
        expected = f'{config.basic_auth_user}:{config.basic_auth_pass}'
        if not hmac.compare_digest(decoded.encode('utf-8'), expected.encode('utf-8')):
            LOG.warning('unauthorized request to /private rejected: bad basic auth credentials')
            self.send_json(401, {'error': 'authentication required'}, {'WWW-Authenticate': 'Basic realm="clawd"'})
            return
        self.send_body(200, b'<!DOCTYPE html>\n<html><body><h1>clawd private page</h1></body></html>\n', 'text/html; charset=utf-8')

    def post_upstream_check(self) -> None:
        """POST /upstream/check: does the app hold the upstream key whose sha256 is X-Upstream-Key-Sha256? (200, else 409)."""
        key = self.app.config.upstream_key
        if not key:
            self.send_json(503, {'error': 'ANTHROPIC_API_KEY is not set'})
            return
        given = self.headers.get('X-Upstream-Key-Sha256', '').strip().lower()
        match = hmac.compare_digest(given.encode('utf-8'), hashlib.sha256(key.encode('utf-8')).hexdigest().encode('utf-8'))
        self.send_json(200 if match else 409, {'upstream': 'ANTHROPIC_API_KEY', 'match': match})

    def post_webhook(self) -> None:
        """POST <APP_WEBHOOK_PATH>: a Telegram Update."""
        length_text = self.headers.get('Content-Length')
        if length_text is None or not length_text.isdigit():
            self.close_connection = True
            self.send_json(411, {'error': 'content length required'})
            return
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self.send_json(413, {'error': 'payload too large'})
            return
        raw = self.rfile.read(length)
        secret = self.app.config.webhook_secret
        if secret:
            given = self.headers.get('X-Telegram-Bot-Api-Secret-Token', '')
            if not hmac.compare_digest(given.encode('utf-8'), secret.encode('utf-8')):
                LOG.warning('unauthorized webhook call rejected: bad secret token')
                self.send_json(401, {'error': 'bad secret token'})
                return
        try:
            update = json.loads(raw)
        except ValueError:
            update = None
        if not isinstance(update, dict):
            self.send_json(400, {'error': 'body must be a JSON Telegram Update object'})
            return
        self.app.handle_update(update)
        self.send_json(200, {})

    def post_twilio_sms(self) -> None:
        """POST /twilio/sms: a signed Twilio SMS webhook, answered with TwiML <Message>."""
        params = self.twilio_params()
        if params is not None:
            text = f'clawd sample app {self.app.config.version} got your message: {params.get("Body", "")}'
            self.send_twiml(f'<Message>{xml_escape(text[:1600])}</Message>')

    def post_twilio_voice(self) -> None:
        """POST /twilio/voice: a signed Twilio voice webhook, answered with TwiML <Say>."""
        params = self.twilio_params()
        if params is not None:
            self.send_twiml(f'<Say>Hello from clawd sample app version {xml_escape(self.app.config.version)}.</Say>')

    def send_twiml(self, verbs: str) -> None:
        """Answer with a TwiML document."""
        body = f'<?xml version="1.0" encoding="UTF-8"?><Response>{verbs}</Response>'
        self.send_body(200, body.encode('utf-8'), 'application/xml; charset=utf-8')

    def twilio_params(self) -> Optional[dict]:
        """The form parameters of a correctly signed Twilio webhook; None after answering 4xx/5xx."""
        length_text = self.headers.get('Content-Length') or '0'
        if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
            self.close_connection = True
            self.send_json(413, {'error': 'payload too large'})
            return None
        raw = self.rfile.read(int(length_text))
        token = self.app.config.twilio_auth_token
        if not token:
            LOG.warning('Twilio webhook refused: TWILIO_AUTH_TOKEN is not set')
            self.send_json(503, {'error': 'Twilio webhooks are not configured: TWILIO_AUTH_TOKEN is not set'})
            return None
        pairs = parse_qsl(raw.decode('utf-8', 'replace'), keep_blank_values=True)
        given = self.headers.get('X-Twilio-Signature', '')
        if not any(hmac.compare_digest(given.encode('utf-8'), twilio_signature(token, url, pairs).encode('utf-8'))
                   for url in self.public_url_variants()):
            LOG.warning(f'Twilio webhook rejected on {self._route}: {"bad" if given else "missing"} X-Twilio-Signature')
            self.send_json(403, {'error': 'invalid Twilio signature'})
            return None
        return dict(pairs)

    def public_url_variants(self) -> list[str]:
        """The URL Twilio called (APP_PUBLIC_URL + path and query), with and without an explicit default port."""
        base = self.app.config.public_url or f'http://{self.headers.get("Host", "")}'
        parts = urlsplit(base + self.path)
        default = {'https': 443, 'http': 80}.get(parts.scheme)
        host = parts.hostname or ''
        host = f'[{host}]' if ':' in host else host
        netlocs = [parts.netloc]
        if parts.port is None and default:
            netlocs.append(f'{host}:{default}')
        elif parts.port == default:
            netlocs.append(host)
        return [urlunsplit((parts.scheme, netloc, parts.path, parts.query, '')) for netloc in netlocs]


def twilio_signature(token: str, url: str, pairs: list) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL + each POST parameter name and value, sorted by name (values sorted)."""
    data = url + ''.join(name + value for name, value in sorted(pairs, key=lambda p: (p[0].encode('utf-8'), p[1])))
    return base64.b64encode(hmac.new(token.encode('utf-8'), data.encode('utf-8'), hashlib.sha1).digest()).decode('ascii')


class Server(ThreadingHTTPServer):
    """ThreadingHTTPServer with IPv6 support and quiet handling of client disconnects."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        if ':' in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        super().__init__(address, Handler)

    def handle_error(self, request, client_address) -> None:
        """Log unexpected errors instead of printing tracebacks to stderr."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        LOG.error(f'internal error serving {client_address[0]}: {exc.__class__.__name__}: {exc}')


# ---------------------------------------------------------------------------
# Database migrations (``migrate``): a minimal PostgreSQL client (simple query protocol, trust auth)
# ---------------------------------------------------------------------------

MIGRATIONS = {
    1: ('CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL)',),
    2: ('ALTER TABLE notes ADD COLUMN pinned boolean NOT NULL DEFAULT false', 'UPDATE notes SET pinned = true WHERE id = 1'),
    3: ('ALTER TABLE notes RENAME COLUMN body TO text', 'UPDATE notes SET text = upper(text)'),
}


class PgError(Exception):
    """A PostgreSQL error, or a connection that failed."""


class PgConnection:
    """One connection speaking the simple query protocol (v3.0); rows come back as tuples of text or None."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    def connect(cls, url: str, timeout: float = 10.0) -> 'PgConnection':
        parts = urlsplit(url)
        if parts.scheme not in ('postgresql', 'postgres'):
            raise ConfigError('APP_DATABASE_URL must be postgresql://user@host:port/database')
        user = parts.username or 'postgres'
        database = parts.path.lstrip('/') or user
        try:
            sock = socket.create_connection((parts.hostname or '127.0.0.1', parts.port or 5432), timeout)
        except OSError as exc:
            raise PgError(f'cannot connect to {parts.hostname}:{parts.port or 5432}: {exc.strerror or exc}') from exc
        params = b''.join(k + b'\0' + v.encode() + b'\0' for k, v in ((b'user', user), (b'database', database))) + b'\0'
        sock.sendall(struct.pack('!ii', 8 + len(params), 196608) + params)
        conn = cls(sock)
        while True:
            kind, body = conn.read()
            if kind == b'R' and struct.unpack('!i', body[:4])[0] != 0:
                conn.close()
                raise PgError('the server asks for a password; the sample app connects with trust authentication only')
            if kind == b'E':
                conn.close()
                raise PgError(pg_error_text(body))
            if kind == b'Z':
                return conn

    def _recv(self, size: int) -> bytes:
        data = b''
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise PgError('the server closed the connection')
            data += chunk
        return data

    def read(self) -> tuple[bytes, bytes]:
        """One backend message: (type byte, body)."""
        head = self._recv(5)
        return head[:1], self._recv(struct.unpack('!i', head[1:])[0] - 4)

    def query(self, sql: str) -> list:
        """Run ``sql`` (one or more statements, one implicit transaction); the rows of its last result."""
        data = sql.encode() + b'\0'
        self.sock.sendall(b'Q' + struct.pack('!i', 4 + len(data)) + data)
        rows, error = [], None
        while True:
            kind, body = self.read()
            if kind == b'T':
                rows = []
            elif kind == b'D':
                count, pos, row = struct.unpack('!h', body[:2])[0], 2, []
                for _column in range(count):
                    size = struct.unpack('!i', body[pos:pos + 4])[0]
                    pos += 4
                    row.append(None if size < 0 else body[pos:pos + size].decode())
                    pos += max(size, 0)
                rows.append(tuple(row))
            elif kind == b'E':
                error = pg_error_text(body)
            elif kind == b'Z':
                if error:
                    raise PgError(error)
                return rows

    def close(self) -> None:
        try:
            self.sock.sendall(b'X' + struct.pack('!i', 4))
        except OSError:
            pass
        self.sock.close()


def pg_error_text(body: bytes) -> str:
    """``SEVERITY: message`` of an ErrorResponse body."""
    fields = {item[:1]: item[1:].decode(errors='replace') for item in body.split(b'\0') if item}
    return f"{fields.get(b'S', 'ERROR')}: {fields.get(b'M', 'unknown error')}"


def migrate(conn, target: int, fail: bool = False) -> tuple[int, int]:
    """Apply the migrations above the database's schema up to ``target``; returns (schema before, schema after)."""
    conn.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
    current = int(conn.query('SELECT coalesce(max(version), 0) FROM schema_version')[0][0])
    if target not in MIGRATIONS and target != 0:
        raise ConfigError(f'APP_SCHEMA_VERSION {target} is not a schema this app knows (1 to {max(MIGRATIONS)})')
    if current >= target:
        if current > target:
            LOG.warning(f'database schema {current} is newer than this release\'s {target}: nothing to migrate '
                        '(a rollback restores the schema with the data, from the backup taken before the upgrade)')
        else:
            LOG.info(f'database schema {current} is current: nothing to migrate')
        return current, current
    for version in range(current + 1, target + 1):
        if fail and version == target:
            for statement in MIGRATIONS[version]:
                conn.query(statement)
            raise PgError(f'migration {version} failed after its statements ran (APP_MIGRATION_FAIL=1): schema {version} is '
                          f'half applied and not recorded')
        conn.query('BEGIN; ' + '; '.join(MIGRATIONS[version]) + f'; INSERT INTO schema_version (version) VALUES ({version}); COMMIT')
        LOG.info(f'applied migration {version}')
    return current, target


def migrate_main() -> int:
    """``migrate``: bring APP_DATABASE_URL to APP_SCHEMA_VERSION; exit 0, 1 (failed) or 2 (configuration)."""
    url = _env('APP_DATABASE_URL')
    conn = None
    try:
        if not url:
            raise ConfigError('APP_DATABASE_URL is not set: no database to migrate')
        raw = _env('APP_SCHEMA_VERSION') or '0'
        if not raw.isdigit():
            raise ConfigError(f'APP_SCHEMA_VERSION must be a number, got {raw!r}')
        conn = PgConnection.connect(url)
        before, after = migrate(conn, int(raw), fail=_env('APP_MIGRATION_FAIL') == '1')
    except ConfigError as exc:
        sys.stderr.write(f'{APP_NAME}: configuration error: {exc}\n')
        return 2
    except PgError as exc:
        LOG.error(f'migration failed: {exc}')
        return 1
    finally:
        if conn is not None:
            conn.close()
    LOG.info(f'database at schema {after} (was {before})')
    return 0


# ---------------------------------------------------------------------------
# Background threads and main
# ---------------------------------------------------------------------------

def noise_loop(app: App) -> None:
    """Write simulated error/unauthorized/rate-limit lines at the configured rates per minute."""
    sources = [(60.0 / rate, level, text) for rate, level, text in app.config.noise if rate > 0]
    if not sources:
        return
    now = time.monotonic()
    due = [now + interval for interval, _level, _text in sources]
    while not app.stop_event.is_set():
        now = time.monotonic()
        for index, (interval, level, text) in enumerate(sources):
            if now >= due[index]:
                LOG.log(level, text)
                due[index] += interval
                if due[index] < now:
                    due[index] = now + interval
        app.stop_event.wait(max(0.0, min(due) - time.monotonic()))


def backup_loop(app: App) -> None:
    """The backup worker: idle, forever."""
    while not app.stop_event.is_set():
        LOG.info('backup worker idle')
        app.stop_event.wait(BACKUP_IDLE_INTERVAL)


def main() -> int:
    """Run the configured role until SIGTERM/SIGINT (or ``migrate``); return the exit code."""
    if sys.argv[1:2] == ['migrate']:
        return migrate_main()
    try:
        config = Config()
    except ConfigError as exc:
        sys.stderr.write(f'{APP_NAME}: configuration error: {exc}\n')
        return 2
    LOG.add_secret(config.telegram_token)
    LOG.add_secret(config.webhook_secret)
    LOG.add_secret(config.twilio_auth_token)
    LOG.add_secret(config.basic_auth_pass)
    LOG.add_secret(config.upstream_key)
    app = App(config)

    def on_signal(signum, _frame) -> None:
        if not app.stop_event.is_set():
            LOG.info(f'received {signal.Signals(signum).name}, shutting down')
        app.stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if config.role == 'web':
        app.prepare_data_dirs()

    server = None
    listen_text = 'none'
    if config.listen:
        try:
            server = Server(config.listen, app)
        except OSError as exc:
            LOG.error(f'cannot listen on {config.listen[0]}:{config.listen[1]}: {exc.strerror or exc}')
            sys.stderr.write(f'{APP_NAME}: cannot listen on {config.listen[0]}:{config.listen[1]}: {exc}\n')
            return 1
        host, port = server.server_address[:2]
        listen_text = f'[{host}]:{port}' if ':' in host else f'{host}:{port}'

    LOG.info(f'{APP_NAME} starting: role={config.role} version={config.version} listen={listen_text}')
    threads = [threading.Thread(target=noise_loop, args=(app,), name='noise', daemon=True)]
    if server is not None:
        threads.append(threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, name='http', daemon=True))
    if config.role == 'backup':
        threads.append(threading.Thread(target=backup_loop, args=(app,), name='backup', daemon=True))
    for thread in threads:
        thread.start()

    while not app.stop_event.wait(0.5):
        pass
    if server is not None:
        server.shutdown()
        server.server_close()
    LOG.info(f'{APP_NAME} stopped')
    return 0


if __name__ == '__main__':
    sys.exit(main())

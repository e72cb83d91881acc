# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests talk to the lab's HTTP stand-ins and sample app: put the repository's lab/ folder on sys.path, and
start the sample app in-process (fixture ``sample_app``). ``docker_engine``: a Docker Engine API over a Unix socket
that answers container inspection and logs from dicts, as the engine does (chunked, multiplexed frames)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import json
import os
import shutil
import socketserver
import struct
import sys
import tempfile
import threading

from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

LAB = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', 'lab'))
if LAB not in sys.path:
    sys.path.insert(0, LAB)

SAMPLE_APP = os.path.join(LAB, 'app', 'clawd_sample_app.py')
# Settings of the sample app that the environment of the test run must not leak into it.
SAMPLE_APP_ENV = ('APP_ROLE', 'APP_LISTEN', 'APP_DATA_DIRS', 'APP_PUBLIC_URL', 'APP_WEBHOOK_PATH', 'APP_BOT_HEALTH_URL', 'TELEGRAM_API_BASE',
                  'TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET', 'TWILIO_AUTH_TOKEN')


def load_sample_app():
    """The lab's sample app (lab/app/clawd_sample_app.py) as a module."""
    spec = importlib.util.spec_from_file_location('clawd_sample_app', SAMPLE_APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sample_app(monkeypatch):
    """Start the lab's sample app in-process on a loopback port: ``sample_app(role, **environment)`` -> its base URL."""
    app_module = load_sample_app()
    servers = []

    def start(role, **environment):
        for name in SAMPLE_APP_ENV:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv('APP_ROLE', role)
        monkeypatch.setenv('APP_DATA_DIRS', '')
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        server = app_module.Server(('127.0.0.1', 0), app_module.App(app_module.Config()))
        threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
        servers.append(server)
        return 'http://127.0.0.1:%d' % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class FakeEngine(object):
    """What the fake engine holds: containers (name -> inspect JSON), their log lines ((stream, text) pairs), the requests it got."""

    def __init__(self, socket_path):
        self.socket_path = socket_path
        self.docker_host = 'unix://' + socket_path
        self.containers, self.logs, self.requests = {}, {}, []
        self.status = None  # when set, every answer is this status with an engine error message

    def add(self, name, attrs, lines=(), tty=False):
        """A container with its inspect JSON (Config.Tty from tty) and its log lines: text on stdout or (stream, text)."""
        attrs = dict(attrs, Config=dict(attrs.get('Config') or {}, Tty=tty))
        self.containers[name] = attrs
        self.logs[name] = [line if isinstance(line, tuple) else (1, line) for line in lines]


class _EngineHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def address_string(self):
        return 'unix'

    def _send(self, status, body, chunked=False):
        self.send_response(status)
        self.send_header('Content-Type', 'application/json' if status != 200 or not chunked else 'application/vnd.docker.multiplexed-stream')
        if chunked:
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            for start in range(0, len(body), 7):  # small chunks, as a stream is
                piece = body[start:start + 7]
                self.wfile.write(b'%x\r\n%s\r\n' % (len(piece), piece))
            self.wfile.write(b'0\r\n\r\n')
        else:
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self):
        engine = self.server.engine
        parts = urlsplit(self.path)
        engine.requests.append(self.path)
        segments = [unquote(s) for s in parts.path.strip('/').split('/')]
        if engine.status:
            return self._send(engine.status, json.dumps({'message': 'engine says no'}).encode())
        if len(segments) != 3 or segments[0] != 'containers' or segments[2] not in ('json', 'logs'):
            return self._send(404, json.dumps({'message': 'page not found'}).encode())
        name = segments[1]
        if name not in engine.containers:
            return self._send(404, json.dumps({'message': 'No such container: %s' % name}).encode())
        if segments[2] == 'json':
            return self._send(200, json.dumps(engine.containers[name]).encode())
        query = dict((k, v[0]) for k, v in parse_qs(parts.query).items())
        wanted = set(s for s, flag in ((1, 'stdout'), (2, 'stderr')) if query.get(flag) == '1')
        lines = [(stream, text) for stream, text in engine.logs[name] if stream in wanted]
        if engine.containers[name]['Config']['Tty']:
            body = b''.join(line[1].encode() + b'\n' for line in lines)
        else:
            body = b''.join(struct.pack('>BxxxL', stream, len(text) + 1) + text.encode() + b'\n' for stream, text in lines)
        return self._send(200, body, chunked=True)


class _EngineServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def docker_engine():
    """A fake Docker Engine API on a Unix socket (a FakeEngine: add containers, read the requests it got)."""
    folder = tempfile.mkdtemp(prefix='clawd-engine-')  # short: a socket's path has a limit of ~100 bytes
    path = os.path.join(folder, 'docker.sock')
    server = _EngineServer(path, _EngineHandler)
    server.engine = FakeEngine(path)
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
    yield server.engine
    server.shutdown()
    server.server_close()
    shutil.rmtree(folder, ignore_errors=True)

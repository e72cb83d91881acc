# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one fake HTTP server of the plugin tests: an origin on loopback whose answers a test scripts, recording every
request it gets (the app, bot or API under test, or "the other origin" of the redirect tests)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket
import threading

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


#: A payload that makes the origin close the connection without answering.
DROP = object()


class Origin(object):
    """A threaded HTTP server on 127.0.0.1 (ephemeral port) that records each request (method, path, headers, body).

    ``answer(method, path, headers, body) -> (status, headers, body)`` decides the answer; the default answers
    200 with ``{"ok": true}``. A body that is not bytes or text is sent as JSON; a body of ``DROP`` closes the
    connection without an answer. ``record`` keeps each request (a subclass may keep another shape). Use as a
    context manager.
    """

    def __init__(self, answer=None):
        self.requests = []
        self.respond = answer or (lambda method, path, headers, body: (200, {}, {'ok': True}))
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def handle_any(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                origin.record(self.command, self.path, self.headers, body)
                status, headers, payload = origin.respond(self.command, self.path, self.headers, body)
                if payload is DROP:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if not isinstance(payload, (bytes, str)):
                    payload = json.dumps(payload)
                    headers = dict({'Content-Type': 'application/json'}, **headers)
                if isinstance(payload, str):
                    payload = payload.encode('utf-8')
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.origin = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.url = self.origin

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

    def record(self, method, path, headers, body):
        """Keep a request as ``{method, path, headers, body}`` in ``requests``."""
        self.requests.append({'method': method, 'path': path, 'headers': dict(headers.items()),
                              'body': body.decode('utf-8', 'replace')})

    def everything(self):
        """All the text this origin received (paths, headers, bodies)."""
        return json.dumps(self.requests)


def redirect_to(location, status=307):
    """An ``answer`` that redirects every request to ``location`` (a callable of the path, or text)."""
    def answer(method, path, headers, body):
        target = location(path) if callable(location) else location
        return status, {'Location': target}, b''
    return answer

# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The two reads of the Docker Engine API that the daily checks make, with the standard library only.

``EngineReader(docker_host)`` answers ``inspect_container(name)`` and ``logs(name, ...)`` as the Docker SDK's
low-level APIClient does (what ``_containers.DockerSource`` calls), over the engine's Unix socket
(``unix:///var/run/docker.sock``) or plain TCP (``tcp://host:2375``). clawd.ops.host_checks runs on every host
every day: importing the SDK (requests, urllib3, ...) was about a quarter of its CPU on the host, for two GETs.
Modules that do more with the engine (exec, prune, create) use the SDK (``_docker``).

Errors: ``EngineNotFound`` (404: no such container) and ``EngineError`` (any other failure), each naming what
failed. A response body over ``max_bytes`` is an error, whatever the response declares.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket
import struct

from http.client import HTTPConnection, HTTPException
from urllib.parse import quote, urlencode, urlsplit

MAX_BYTES = 256 * 1024 * 1024  # one container's log lines of a day; more is refused, not read
_STREAM_HEADER = struct.Struct('>BxxxL')  # a multiplexed (non-TTY) log frame: stream (0, 1, 2), 3 zero bytes, size


class EngineError(Exception):
    """The engine could not be asked, or answered with an error."""


class EngineNotFound(EngineError):
    """The engine has no such container (404)."""


class _UnixConnection(HTTPConnection):
    """HTTP over a Unix socket (the engine's)."""

    def __init__(self, path, timeout):
        HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def demultiplex(raw):
    """The payload of a multiplexed log stream (stdout and stderr frames, in order); raises EngineError if it is not one."""
    chunks, position = [], 0
    while position < len(raw):
        if position + _STREAM_HEADER.size > len(raw):
            raise EngineError('the log stream ends inside a frame header')
        stream, size = _STREAM_HEADER.unpack_from(raw, position)
        if stream > 2 or raw[position + 1:position + 4] != b'\0\0\0':
            raise EngineError('the log stream is not multiplexed as the container has no TTY')
        position += _STREAM_HEADER.size
        chunks.append(raw[position:position + size])
        position += size
    return b''.join(chunks)


class EngineReader(object):
    """inspect_container() and logs() of one engine, one connection per request (see the module's docstring)."""

    def __init__(self, docker_host, timeout=30, max_bytes=MAX_BYTES):
        parts = urlsplit(docker_host)
        if parts.scheme == 'unix' and parts.path:
            self._connect = lambda: _UnixConnection(parts.path, timeout)
        elif parts.scheme in ('tcp', 'http') and parts.hostname:
            self._connect = lambda: HTTPConnection(parts.hostname, parts.port or 2375, timeout=timeout)
        else:
            raise ValueError('docker_host must be unix:///path/to/docker.sock or tcp://host:port (plain HTTP), not %s' % docker_host)
        self.docker_host = docker_host
        self.max_bytes = max_bytes
        self._tty = {}

    def _get(self, path, query=None):
        url = path + ('?' + urlencode(query) if query else '')
        connection = self._connect()
        try:
            connection.request('GET', url, headers={'Accept': 'application/json'})
            response = connection.getresponse()
            body = response.read(self.max_bytes + 1)
            if len(body) > self.max_bytes:
                raise EngineError('GET %s: the answer is over %d MiB' % (path, self.max_bytes // (1024 * 1024)))
            status, reason = response.status, response.reason
        except (OSError, HTTPException) as exc:
            raise EngineError('cannot ask the Docker engine at %s: %s' % (self.docker_host, str(exc) or exc.__class__.__name__))
        finally:
            connection.close()
        if status == 404:
            raise EngineNotFound('%s: %s' % (path, _message(body)))
        if status >= 400:
            raise EngineError('GET %s: %d %s: %s' % (path, status, reason, _message(body)))
        return body

    def inspect_container(self, name):
        """The engine's JSON of the container (GET /containers/{name}/json)."""
        try:
            attrs = json.loads(self._get('/containers/%s/json' % quote(name, safe='')))
        except ValueError as exc:
            raise EngineError('GET /containers/%s/json: not JSON: %s' % (name, exc))
        if not isinstance(attrs, dict):
            raise EngineError('GET /containers/%s/json: not a JSON object' % name)
        self._tty[name] = bool((attrs.get('Config') or {}).get('Tty'))
        return attrs

    def logs(self, name, stdout=True, stderr=True, timestamps=False, since=None, until=None):
        """The container's log lines as bytes, stdout and stderr in order (GET /containers/{name}/logs)."""
        if name not in self._tty:
            self.inspect_container(name)  # a TTY container's log is one raw stream, any other's is multiplexed
        query = [('stdout', int(stdout)), ('stderr', int(stderr)), ('timestamps', int(timestamps))]
        query += [(key, int(value)) for key, value in (('since', since), ('until', until)) if value is not None]
        raw = self._get('/containers/%s/logs' % quote(name, safe=''), query)
        return raw if self._tty[name] else demultiplex(raw)


def _message(body):
    """The engine's error message from its JSON body ({"message": ...}), else the body's start."""
    try:
        return str(json.loads(body)['message'])
    except (ValueError, KeyError, TypeError):
        return body[:200].decode('utf-8', 'replace').strip() or 'no message'

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_docker_exec: a file streamed into a command's stdin over the engine's hijacked connection, output kept bounded."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import socket
import struct
import threading

import pytest

docker = pytest.importorskip('docker')

from ansible_collections.clawd.ops.plugins.module_utils import _docker_exec  # noqa: E402
from ansible_collections.clawd.ops.plugins.module_utils._docker_exec import DockerExec, ExecError  # noqa: E402


def frame(stream, data):
    return struct.pack('>BxxxL', stream, len(data)) + data


class FakeEngine(object):
    """The low-level API: exec_start(socket=True) hands over one end of a socket pair; a thread plays the command."""

    def __init__(self, exit_code=0, stop_after=None, stderr=b'', chunk=65536, missing=False, drain=True):
        self.exit_code = exit_code
        self.stop_after = stop_after  # the command exits after reading this many bytes (pg_restore --exit-on-error)
        self.stderr = stderr
        self.chunk = chunk
        self.missing = missing
        self.drain = drain  # after the command exits, the engine reads the rest of stdin (else it resets the connection)
        self.received = hashlib.sha256()
        self.size = 0
        self.largest_read = 0
        self.calls = []
        self._thread = None

    def exec_create(self, container, cmd, stdin=False, stdout=True, stderr=True):
        self.calls.append(('exec_create', container, cmd, stdin))
        if self.missing:
            raise docker.errors.NotFound('No such container: %s' % container)
        return {'Id': 'e1'}

    def exec_start(self, exec_id, stream=False, demux=False, socket=False):  # pylint: disable=redefined-outer-name
        self.calls.append(('exec_start', exec_id, stream, demux, socket))
        if not socket:
            return iter([(b'one\n', None), (None, b'warn\n'), (b'two\n', None)])
        ours, theirs = _socketpair()
        self._thread = threading.Thread(target=self._command, args=(theirs,))
        self._thread.start()
        return ours

    def _command(self, sock):
        while self.stop_after is None or self.size < self.stop_after:
            data = sock.recv(self.chunk)
            if not data:
                break
            self.largest_read = max(self.largest_read, len(data))
            self.received.update(data)
            self.size += len(data)
        sock.sendall(frame(1, b'restored\n') + frame(2, self.stderr))
        sock.shutdown(socket.SHUT_WR)
        while self.drain and sock.recv(self.chunk):
            pass
        sock.close()

    def exec_inspect(self, exec_id):
        if self._thread is not None:
            self._thread.join()
        return {'Running': False, 'ExitCode': self.exit_code}


def _socketpair():
    return socket.socketpair()


class Client(object):
    def __init__(self, api):
        self.api = api


def test_a_file_is_streamed_into_stdin_and_the_output_comes_back(tmp_path):
    data = bytes(bytearray(range(256))) * 40000  # ~10 MB
    path = tmp_path / 'app.pgdump'
    path.write_bytes(data)
    engine = FakeEngine(stderr=b'notice\n')
    code, out, err = DockerExec(Client(engine)).run('db', ['pg_restore', '-d', 'app'], stdin_path=str(path))
    assert (code, out, err) == (0, b'restored\n', b'notice\n')
    assert engine.size == len(data) and engine.received.hexdigest() == hashlib.sha256(data).hexdigest()
    assert engine.calls[0] == ('exec_create', 'db', ['pg_restore', '-d', 'app'], True)


def test_a_command_that_stops_reading_gives_its_exit_code_not_a_broken_pipe(tmp_path):
    path = tmp_path / 'app.pgdump'
    path.write_bytes(b'x' * (8 << 20))
    engine = FakeEngine(exit_code=1, stop_after=1 << 20, stderr=b'pg_restore: error: bad')
    code, _out, err = DockerExec(Client(engine)).run('db', ['pg_restore'], stdin_path=str(path))
    assert (code, err) == (1, b'pg_restore: error: bad')


def test_a_reset_connection_after_the_command_stopped_still_gives_the_exit_code(tmp_path):
    path = tmp_path / 'app.pgdump'
    path.write_bytes(b'x' * (8 << 20))
    engine = FakeEngine(exit_code=1, stop_after=1 << 20, drain=False)
    code, _out, _err = DockerExec(Client(engine)).run('db', ['pg_restore'], stdin_path=str(path))
    assert code == 1


def test_the_output_kept_is_its_end():
    assert _docker_exec._tail(b'12345', b'6789abc', 8) == b'56789abc'
    assert _docker_exec._tail(b'12', b'3', 8) == b'123'


def test_without_stdin_the_demuxed_stream_is_read():
    engine = FakeEngine()
    assert DockerExec(Client(engine)).run('db', ['psql']) == (0, b'one\ntwo\n', b'warn\n')
    assert engine.calls[0][3] is False


def test_a_missing_container_is_named():
    with pytest.raises(ExecError, match='no such container db'):
        DockerExec(Client(FakeEngine(missing=True))).run('db', ['psql'])

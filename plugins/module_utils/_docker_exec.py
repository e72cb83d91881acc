# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Commands run inside a container through the Docker Engine API (docker exec), with bounded output.

DockerExec.run starts a command in a container, streams a file into its standard input when one is
given (chunk by chunk, never the whole file in memory: a pg_restore of a large dump) while a thread
reads its output, and returns the exit code with the last bytes of its stdout and stderr. The
engine's hijacked connection is half-closed after the file, which closes the command's stdin.
DockerExec.dump runs _backup_dumps' pg_dump into a file. Unit tests replace DockerExec with a fake
of the same two methods.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket
import threading
import time

from ansible_collections.clawd.ops.plugins.module_utils._backup_dumps import _dump_postgres
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import CHUNK_SIZE
from ansible_collections.clawd.ops.plugins.module_utils._backup_plan import BackupError
from ansible_collections.clawd.ops.plugins.module_utils._docker import DOCKER_ERRORS, DOCKER_NOT_FOUND, docker

OUTPUT_TAIL = 64 << 10  # bytes of a command's stdout and of its stderr kept (the end of each)
EXIT_WAIT = 30  # seconds to wait for the engine to report the exit code once the output ended


class ExecError(Exception):
    """The command could not be run (no such container, engine error); its own failure is an exit code."""


def _tail(kept, data, limit=OUTPUT_TAIL):
    kept = kept + data
    return kept[-limit:] if len(kept) > limit else kept


def _raw_socket(sock):
    """The socket under what exec_start(socket=True) returns (a SocketIO over a unix socket, or a socket)."""
    return getattr(sock, '_sock', sock)


class DockerExec(object):
    """docker exec through a Docker SDK client (client.api is the low-level APIClient)."""

    def __init__(self, client):
        self.client = client
        self.api = client.api

    def dump(self, container, database, user, target):
        """pg_dump --format=custom of database into the file target (created; it must not exist)."""
        try:
            _dump_postgres(self.client, {'container': container, 'database': database, 'user': user}, target)
        except BackupError as exc:
            raise ExecError(str(exc))

    def run(self, container, argv, stdin_path=None):
        """(exit code, stdout tail, stderr tail) of argv run in container, stdin_path streamed into its stdin."""
        try:
            exec_id = self.api.exec_create(container, argv, stdin=stdin_path is not None, stdout=True, stderr=True)
            exec_id = exec_id['Id'] if isinstance(exec_id, dict) else exec_id
            if stdin_path is None:
                out = err = b''
                for chunk_out, chunk_err in self.api.exec_start(exec_id, stream=True, demux=True):
                    out = _tail(out, chunk_out or b'')
                    err = _tail(err, chunk_err or b'')
            else:
                out, err = self._run_with_stdin(exec_id, stdin_path)
            return self._exit_code(exec_id), out, err
        except DOCKER_NOT_FOUND as exc:
            raise ExecError('no such container %s (%s)' % (container, getattr(exc, 'explanation', None) or exc))
        except DOCKER_ERRORS as exc:
            raise ExecError('Docker Engine API error in %s: %s' % (container, exc))

    def _run_with_stdin(self, exec_id, stdin_path):
        sock = self.api.exec_start(exec_id, socket=True)
        raw = _raw_socket(sock)
        raw.settimeout(None)  # a restore may be silent for longer than the client's timeout
        kept = {1: b'', 2: b''}
        failure = []

        def read_output():
            try:
                for stream, data in docker.utils.socket.frames_iter(sock, tty=False):
                    if stream in kept:
                        kept[stream] = _tail(kept[stream], data)
            except Exception as exc:  # pylint: disable=broad-except  # reported after the join
                failure.append(exc)

        reader = threading.Thread(target=read_output)
        reader.daemon = True
        reader.start()
        stopped = False
        try:
            with open(stdin_path, 'rb') as handle:
                for chunk in iter(lambda: handle.read(CHUNK_SIZE), b''):
                    raw.sendall(chunk)
        except (OSError, IOError):
            # The command stopped reading (it exited: its exit code and stderr say why), or the file failed:
            # a file that cannot be read is checked by the caller before the command runs.
            stopped = True
        try:
            raw.shutdown(socket.SHUT_WR)  # the command's stdin ends here
        except (OSError, IOError):
            pass
        reader.join()
        try:
            sock.close()
        except (OSError, IOError):
            pass
        if failure and not stopped:
            # After the command stopped reading, the engine may reset the connection: the exit code still tells.
            raise ExecError('reading the output failed: %s' % failure[0])
        return kept[1], kept[2]

    def _exit_code(self, exec_id):
        deadline = time.time() + EXIT_WAIT
        while True:
            state = self.api.exec_inspect(exec_id)
            if not state.get('Running') or time.time() > deadline:
                return state.get('ExitCode')
            time.sleep(0.1)

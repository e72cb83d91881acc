# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Database dumps for a backup archive: consistent SQLite copies and pg_dump through the Docker Engine API.

PostgreSQL databases are dumped with pg_dump --format=custom inside the container that runs them,
through the Docker Engine API (the Docker SDK for Python); the dump streams into a file beside the
.partial archive, never into memory, and is archived from there.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sqlite3

from ansible_collections.clawd.ops.plugins.module_utils._backup_plan import BackupError, _connect_read_only
# HAS_DOCKER and DOCKER_IMPORT_ERROR are imported from here by the modules that use this file.
from ansible_collections.clawd.ops.plugins.module_utils._docker import (  # pylint: disable=unused-import
    DOCKER_IMPORT_ERROR,
    HAS_DOCKER,
    docker,
)

PGDUMP_MAGIC = b'PGDMP'  # the first bytes of a pg_dump --format=custom archive
STDERR_TAIL = 2048  # bytes of pg_dump's stderr kept for the error message


def _dump_sqlite(source, target):
    """A consistent copy of a live SQLite database with SQLite's online backup API."""
    src = _connect_read_only(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # The copy is a standalone file: no -wal beside it is needed to read it.
            dst.execute('PRAGMA journal_mode=DELETE').fetchone()
        finally:
            dst.close()
    finally:
        src.close()


def _docker_client():
    """A Docker Engine API client from the environment (DOCKER_HOST, else the local socket)."""
    try:
        return docker.from_env(version='auto')
    except docker.errors.DockerException as exc:  # no engine there, or it does not answer
        raise BackupError('connecting to the Docker Engine API failed: %s' % exc)


def _dump_postgres(client, database, target):
    """Stream pg_dump --format=custom, run inside database['container'], into target.

    stdout goes to the file chunk by chunk, never held in memory; the last STDERR_TAIL bytes of
    stderr are kept for the error message. Raises BackupError when the container is missing,
    pg_dump exits non-zero or what it wrote is not a custom-format dump.
    """
    container, name = database['container'], database['database']
    failed = 'pg_dump of %s in %s failed: ' % (name, container)
    cmd = ['pg_dump', '--format=custom', '--no-password', '-U', database['user'], name]
    stderr = b''
    head = b''
    try:
        exec_id = client.api.exec_create(container, cmd, stdout=True, stderr=True)
        exec_id = exec_id['Id'] if isinstance(exec_id, dict) else exec_id
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_CLOEXEC', 0), 0o600)
        with os.fdopen(fd, 'wb') as handle:
            for out, err in client.api.exec_start(exec_id, stream=True, demux=True):
                if out:
                    if len(head) < len(PGDUMP_MAGIC):
                        head += out[:len(PGDUMP_MAGIC) - len(head)]
                    handle.write(out)
                if err:
                    stderr = (stderr + err)[-STDERR_TAIL:]
            handle.flush()
            os.fsync(handle.fileno())
        exit_code = client.api.exec_inspect(exec_id).get('ExitCode')
    except docker.errors.NotFound as exc:
        raise BackupError(failed + 'no such container (%s)' % (getattr(exc, 'explanation', None) or exc))
    except docker.errors.DockerException as exc:
        raise BackupError(failed + 'Docker Engine API error: %s' % exc)
    tail = stderr.decode('utf-8', 'replace').strip()
    if exit_code != 0:
        raise BackupError(failed + 'exit %s: %s' % (exit_code, tail or 'no error output'))
    if head != PGDUMP_MAGIC:
        raise BackupError(failed + 'exit %s: the output is not a custom-format dump (it does not start with PGDMP)%s'
                          % (exit_code, ': ' + tail if tail else ''))

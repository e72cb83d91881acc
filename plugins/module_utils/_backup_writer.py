# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Writing one backup archive (docs/backup-format.md): plan, refuse early, stream, verify, commit.

The archive is streamed in one pass: each file is read once, hashed (sha256) and written to a tar
stream whose compressed bytes are hashed as they are written. Nothing looks complete until the
written archive verified: it is written as <archive>.partial, checked with the reader, and only
then renamed; its manifest and .sha256 follow it (written under .partial names before, renamed
after), so no side file ever names a missing archive. Any failure removes what this run wrote; a
run holds a lock on its archive, and the next run removes what a killed one left.

Source folders are walked with openat() one level at a time, never through a symlink, and each
file is read through the folders that were listed (device and inode checked): a folder swapped for
a symlink while the backup runs is reported, not followed.

PostgreSQL databases are dumped with pg_dump --format=custom inside the container that runs them,
through the Docker Engine API (the Docker SDK for Python); the dump streams into a file beside the
.partial archive, never into memory, and is archived from there.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import contextlib
import datetime
import errno
import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import sqlite3
import stat
import tarfile
import threading
import time
import traceback

try:
    import queue
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not a target
    import Queue as queue  # pylint: disable=import-error
    from urllib import quote

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import (
    CHUNK_SIZE,
    COMPRESSION_SUFFIXES,
    DUMPS_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    HAS_ZSTANDARD,
    ISO_FORMAT,
    MANIFEST_MEMBER,
    SUFFIX_MANIFEST,
    SUFFIX_PARTIAL,
    SUFFIX_SHA256,
    VOLUMES_PREFIX,
    archive_name,
    checksum_path,
    manifest_path,
    member_safety_problem,
    parse_archive_name,
    partial_path,
    sha256_line,
    zstandard,
)
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import verify_archive

try:
    import docker
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    docker = None
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

DEFAULT_LEVELS = {'zstd': 3, 'gzip': 6}
# A folder beside the .partial archive that holds SQLite copies and PostgreSQL dumps while they are archived.
DUMPS_DIR_SUFFIX = '.dumps' + SUFFIX_PARTIAL
PGDUMP_SUFFIX = '.pgdump'
PGDUMP_MAGIC = b'PGDMP'  # the first bytes of a pg_dump --format=custom archive
STDERR_TAIL = 2048  # bytes of pg_dump's stderr kept for the error message
_NAME_CHARS = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-')
_KINDS = (
    (stat.S_ISSOCK, 'socket'),
    (stat.S_ISFIFO, 'fifo'),
    (stat.S_ISCHR, 'character device'),
    (stat.S_ISBLK, 'block device'),
)


class BackupError(Exception):
    """An expected failure: the message says what was wrong (no traceback needed)."""


def _utc_now(now):
    """now (None, epoch seconds or a datetime, naive ones taken as UTC) as a naive UTC datetime."""
    if now is None:
        now = time.time()
    if isinstance(now, (int, float)):
        return datetime.datetime.fromtimestamp(int(now), datetime.timezone.utc).replace(tzinfo=None)
    if now.tzinfo is not None:
        now = now.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=0)


def _check_name(kind, name):
    if not isinstance(name, str) or not name or name in ('.', '..') or not set(name) <= _NAME_CHARS:
        raise BackupError('invalid %s name %r: use letters, digits, ".", "_" and "-"' % (kind, name))


def _kind(mode):
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return 'special file (mode %o)' % stat.S_IFMT(mode)


class _Plan(object):
    """What would be archived: volume entries in archive order, SQLite databases, totals."""

    def __init__(self):
        self.entries = []
        self.sqlite = []
        self.postgres = []
        self.skipped = []
        self.unreadable = []
        self.changed = []  # folders swapped while they were listed (not followed)
        self.raw_bytes = 0
        self.scratch_bytes = 0  # room for the SQLite copy made beside the archive (one at a time)

    def add(self, entry):
        # Names built from folder listings are relative, unique and free of '..': only a symlink's
        # target can make a member unsafe (the reader's own rule decides).
        problem = member_safety_problem(_tarinfo(entry), set()) if entry['type'] == 'symlink' else None
        if problem is not None:
            prefix = 'member %s: ' % entry['member']
            reason = problem[len(prefix):] if problem.startswith(prefix) else problem
            self.skipped.append({'path': entry['path'], 'member': entry['member'], 'reason': reason})
            return False
        self.entries.append(entry)
        if entry['type'] == 'file':
            self.raw_bytes += entry['stat'].st_size
        return True


def _tarinfo(entry, st=None):
    """The tar header of a planned entry (st: a fresher stat of the file, when there is one).

    Mode and owner come from entry['owner_stat'] when set (a SQLite copy keeps its database's).
    """
    st = st or entry['stat']
    owner = entry.get('owner_stat') or st
    info = tarfile.TarInfo(entry['member'])
    info.mode = stat.S_IMODE(owner.st_mode)
    info.uid = owner.st_uid
    info.gid = owner.st_gid
    info.uname = info.gname = ''
    info.mtime = int(st.st_mtime)
    if entry['type'] == 'dir':
        info.type = tarfile.DIRTYPE
    elif entry['type'] == 'symlink':
        info.type = tarfile.SYMTYPE
        info.linkname = entry['target']
    else:
        info.type = tarfile.REGTYPE
        info.size = st.st_size
    return info


_DIR_FLAGS = os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | getattr(os, 'O_CLOEXEC', 0)
_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)


class _Swapped(Exception):
    """A folder on the way to an entry is not the one planned: path is that folder, now says what it is now."""

    def __init__(self, path, now):
        super(_Swapped, self).__init__('the folder %s was swapped (it is now %s)' % (path, now))
        self.path = path
        self.now = now


def _what_is(parent_fd, name):
    """What name is now in the folder parent_fd, for the message about a swapped folder."""
    try:
        mode = os.lstat(name, dir_fd=parent_fd).st_mode
    except OSError:
        return 'gone'
    if stat.S_ISLNK(mode):
        return 'a symlink'
    if stat.S_ISDIR(mode):
        return 'another folder'
    if stat.S_ISREG(mode):
        return 'a file'
    return 'a ' + _kind(mode)


class _DirCursor(object):
    """Opens planned folders one level at a time from the source root (openat with O_NOFOLLOW|O_DIRECTORY).

    Each level must be the folder the plan saw (same device and inode): a folder swapped for a
    symlink or for another folder raises _Swapped, so nothing outside the source is ever listed or
    read through a path. A chain is a tuple of (path, device, inode), the source root first. The
    folders of the last chain stay open: entries come in archive order, so siblings reuse them.
    One cursor per thread.
    """

    def __init__(self):
        self._chain = ()
        self._fds = []

    def open_dir(self, chain):
        """A file descriptor of the last folder of chain (owned by the cursor): raises _Swapped or OSError."""
        keep = 0
        while keep < len(self._fds) and keep < len(chain) and self._chain[keep] == chain[keep]:
            keep += 1
        self._close_from(keep)
        for level in range(keep, len(chain)):
            path, device, inode = chain[level]
            name = os.path.basename(path)
            try:
                if level == 0:
                    fd = os.open(path, _DIR_FLAGS)  # the source root is configured: a symlink there is the operator's
                else:
                    fd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=self._fds[-1])
            except OSError as exc:
                if level and exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _Swapped(path, _what_is(self._fds[-1], name))
                raise
            try:
                st = os.fstat(fd)
            except OSError:
                os.close(fd)
                raise
            if (st.st_dev, st.st_ino) != (device, inode):
                os.close(fd)
                raise _Swapped(path, 'another folder')
            self._fds.append(fd)
            self._chain = chain[:level + 1]
        return self._fds[-1]

    def open_file(self, chain, path):
        """A file descriptor of the file path in the last folder of chain, not following a symlink anywhere."""
        return os.open(os.path.basename(path), _OPEN_FLAGS, dir_fd=self.open_dir(chain))

    def _close_from(self, level):
        while len(self._fds) > level:
            os.close(self._fds.pop())
        self._chain = self._chain[:level]

    def close(self):
        self._close_from(0)


def _swapped_reason(exc):
    return 'not archived: the folder %s was swapped since it was listed (it is now %s); not followed' % (exc.path, exc.now)


def _walk_source(plan, name, root):
    """Plan one source folder, depth first with each folder's entries in sorted order.

    Folders are opened one level at a time without following symlinks (see _DirCursor); each
    entry keeps the chain of folders it was found in, so that it is read through the same ones.
    """
    try:
        root_stat = os.stat(root)
    except OSError as exc:
        raise BackupError('source %s (%s) is missing or unreadable: %s' % (name, root, exc.strerror or exc))
    if not stat.S_ISDIR(root_stat.st_mode):
        raise BackupError('source %s (%s) is not a folder' % (name, root))
    if not os.access(root, os.R_OK | os.X_OK):
        raise BackupError('source %s (%s) is not readable' % (name, root))
    source = {'name': name, 'path': root, 'files': 0, 'bytes': 0}
    cursor = _DirCursor()
    try:
        stack = [(root, VOLUMES_PREFIX + name, root_stat, ())]
        while stack:
            path, member, st, parent = stack.pop()
            mode = st.st_mode
            entry = {'member': member, 'path': path, 'stat': st, 'source': source, 'chain': parent}
            if stat.S_ISDIR(mode):
                entry['type'] = 'dir'
                if not plan.add(entry):
                    continue
                chain = parent + ((path, st.st_dev, st.st_ino),)
                try:
                    with os.scandir(cursor.open_dir(chain)) as listing:
                        children = [(os.path.join(path, child.name), member + '/' + child.name, child.stat(follow_symlinks=False), chain)
                                    for child in listing]
                except _Swapped as exc:
                    plan.changed.append({'path': path, 'member': member,
                                         'reason': 'not listed: the folder %s was swapped since it was seen (it is now %s); not followed'
                                         % (exc.path, exc.now)})
                    continue
                except OSError as exc:
                    plan.unreadable.append('%s (%s)' % (path, exc.strerror or exc))
                    continue
                children.sort(key=lambda child: child[1])
                stack.extend(reversed(children))
            elif stat.S_ISREG(mode):
                entry['type'] = 'file'
                if not os.access(path, os.R_OK):
                    plan.unreadable.append(path)
                else:
                    plan.add(entry)
            elif stat.S_ISLNK(mode):
                entry['type'] = 'symlink'
                try:
                    entry['target'] = os.readlink(os.path.basename(path), dir_fd=cursor.open_dir(parent))
                except _Swapped as exc:
                    plan.changed.append({'path': path, 'member': member, 'reason': _swapped_reason(exc)})
                    continue
                except OSError as exc:
                    plan.unreadable.append('%s (%s)' % (path, exc.strerror or exc))
                    continue
                plan.add(entry)
            else:
                plan.skipped.append({'path': path, 'member': member, 'reason': '%s (only files, folders and symlinks are archived)' % _kind(mode)})
    finally:
        cursor.close()
    return source


def _probe_sqlite(name, path):
    """Refuse early a SQLite database that is missing or that SQLite cannot read."""
    if not os.path.isfile(path):
        raise BackupError('SQLite database %s (%s) is missing or not a file' % (name, path))
    if not os.access(path, os.R_OK):
        raise BackupError('SQLite database %s (%s) is not readable' % (name, path))
    try:
        connection = _connect_read_only(path)
        try:
            connection.execute('PRAGMA schema_version').fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise BackupError('SQLite database %s (%s) cannot be read: %s' % (name, path, exc))
    size = os.path.getsize(path)
    if os.path.isfile(path + '-wal'):
        size += os.path.getsize(path + '-wal')
    return size


def _connect_read_only(path):
    return sqlite3.connect('file:%s?mode=ro' % quote(os.path.abspath(path)), uri=True, timeout=30)


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


def _check_names(sources, sqlite, postgres=()):
    """Refuse bad or repeated names and missing paths before looking at any folder."""
    names = set()
    for source in sources:
        _check_name('source', source.get('name'))
        if source['name'] in names:
            raise BackupError('source name %s is given twice' % source['name'])
        names.add(source['name'])
        if not source.get('path'):
            raise BackupError('source %s has no path' % source['name'])
    dumps = []
    for database in sqlite:
        _check_name('SQLite dump', database.get('name'))
        dump_name = database['name'] if database['name'].endswith('.sqlite3') else database['name'] + '.sqlite3'
        if dump_name in dumps:
            raise BackupError('SQLite dump name %s is given twice' % dump_name)
        dumps.append(dump_name)
        if not database.get('path'):
            raise BackupError('SQLite database %s has no path' % database['name'])
    for database in postgres:
        _check_name('PostgreSQL dump', database.get('name'))
        dump_name = database['name'] + PGDUMP_SUFFIX
        if dump_name in dumps:
            raise BackupError('PostgreSQL dump name %s is given twice' % dump_name)
        dumps.append(dump_name)
        for key in ('container', 'database'):
            if not database.get(key):
                raise BackupError('PostgreSQL dump %s has no %s' % (database['name'], key))
    return dumps


def _plan(sources, sqlite, postgres=()):
    sources = sorted(sources or (), key=lambda item: str(item.get('name')))
    sqlite = list(sqlite or ())
    postgres = list(postgres or ())
    dump_names = _check_names(sources, sqlite, postgres)
    plan = _Plan()
    summaries = [_walk_source(plan, source['name'], source['path']) for source in sources]
    if plan.unreadable:
        shown = ', '.join(plan.unreadable[:5]) + (' and %d more' % (len(plan.unreadable) - 5) if len(plan.unreadable) > 5 else '')
        raise BackupError('cannot read %d item(s) of the sources: %s' % (len(plan.unreadable), shown))
    for database, dump_name in zip(sqlite, dump_names):
        size = _probe_sqlite(database['name'], database['path'])
        plan.raw_bytes += size
        plan.scratch_bytes = max(plan.scratch_bytes, size)
        plan.sqlite.append({'name': dump_name, 'path': database['path'], 'member': DUMPS_PREFIX + dump_name, 'size': size})
    # A PostgreSQL dump's size is known only once pg_dump ran: it is not in the disk check.
    for database, dump_name in zip(postgres, dump_names[len(sqlite):]):
        plan.postgres.append({'name': dump_name, 'container': database['container'], 'database': database['database'],
                              'user': database.get('user') or 'postgres', 'member': DUMPS_PREFIX + dump_name})
    return plan, summaries


def _check_destination(dest_dir):
    if not dest_dir or not os.path.isdir(dest_dir):
        raise BackupError('the destination folder %s does not exist' % dest_dir)
    if not os.access(dest_dir, os.W_OK | os.X_OK):
        raise BackupError('the destination folder %s is not writable' % dest_dir)


def _check_free_name(final):
    for path in (final, partial_path(final)):
        if os.path.lexists(path):
            raise BackupError('%s already exists: another backup run may be writing it' % path)


def _lock(fd):
    """Hold an exclusive lock on an open file: a run holds one on its archive until it committed or gave up.

    A killed run's lock goes with it (the kernel closes its files): what is left unlocked is a leftover.
    """
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _held(path):
    """Whether a live run holds the lock of path (a .partial archive, or an archive it is committing)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, 'O_CLOEXEC', 0) | getattr(os, 'O_NONBLOCK', 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the lock just taken
    return False


_SIDE_PENDING = (SUFFIX_MANIFEST + SUFFIX_PARTIAL, SUFFIX_SHA256 + SUFFIX_PARTIAL)


def _leftover(name):
    """(archive name, kind) when name is something a backup run writes beside an archive, else (None, None)."""
    for suffix, kind in ((DUMPS_DIR_SUFFIX, 'dumps'), (_SIDE_PENDING[0], 'pending'), (_SIDE_PENDING[1], 'pending'),
                         (SUFFIX_PARTIAL, 'partial'), (SUFFIX_MANIFEST, 'side'), (SUFFIX_SHA256, 'side')):
        if name.endswith(suffix):
            archive = name[:-len(suffix)]
            return (archive, kind) if parse_archive_name(archive) else (None, None)
    return None, None


def _clean_leftovers(dest_dir, check_mode=False):
    """Remove what killed runs left in dest_dir; returns the paths (in check mode, those it would remove).

    Left by a killed run: a .partial archive or .dumps.partial folder nobody holds; a manifest or
    .sha256 without its archive (written before the archive by earlier versions). An archive whose
    commit was cut short after its rename gets its side files (written in full before the rename):
    the commit is finished. Only names of this format are touched, never what a live run holds.
    """
    try:
        names = sorted(os.listdir(dest_dir))
    except OSError as exc:
        raise BackupError('cannot list the destination folder %s: %s' % (dest_dir, exc.strerror or exc))
    present = set(names)
    cleaned = []
    for name in names:
        archive, kind = _leftover(name)
        if archive is None or (kind == 'side' and archive in present):
            continue
        base = os.path.join(dest_dir, archive)
        if _held(base) or _held(partial_path(base)):
            continue  # a live run writes or commits it
        path = os.path.join(dest_dir, name)
        cleaned.append(path)
        if check_mode:
            continue
        try:
            final = path[:-len(SUFFIX_PARTIAL)]
            if kind == 'pending' and archive in present and not os.path.lexists(final):
                os.replace(path, final)  # the archive was renamed: finish its commit
            elif os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise BackupError('cannot remove %s, left by a backup run that was killed: %s' % (path, exc.strerror or exc))
    return cleaned


def _check_disk(dest_dir, raw_bytes, scratch_bytes, max_disk_percent):
    usage = shutil.disk_usage(dest_dir)
    capacity = usage.used + usage.free  # what df counts: blocks reserved for root aside
    if capacity <= 0:
        raise BackupError('cannot tell the size of the filesystem of %s' % dest_dir)
    percent = 100.0 * (usage.used + raw_bytes + scratch_bytes) / capacity
    if percent > max_disk_percent:
        raise BackupError(
            'the sources hold %d bytes%s; archiving them could fill the filesystem of %s to %.1f%% (%d of %d bytes used now), '
            'above max_disk_percent=%d (the raw size is the worst case: it assumes no compression at all)'
            % (raw_bytes, ' (and the SQLite copy needs %d more while it is archived)' % scratch_bytes if scratch_bytes else '',
               dest_dir, percent, usage.used, capacity, max_disk_percent))


_OPEN_FLAGS = os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_CLOEXEC', 0)
_READ_AHEAD_MIN = 256 << 10     # files this big are read and hashed ahead, in a thread; smaller ones inline
_BATCH_BYTES = 4 * CHUNK_SIZE    # a read-ahead batch: about this much data...
_BATCH_ITEMS = 512               # ...or this many items, whichever comes first
_QUEUE_DEPTH = 8                 # batches (and compressed chunks) in flight between threads


def _file_items(path, opener=None, chunk_size=CHUNK_SIZE):
    """Read one file once, hashing it: ('gone', why), or ('start', stat), ('data', bytes)..., ('end', sha256, padded, stat).

    opener() opens it (a planned entry is opened through its folders, see _DirCursor); without
    one, path is opened (a copy this run made).

    The size comes from one fstat of the open file and exactly that many bytes are yielded: a file
    that shrinks is padded with zeros (as GNU tar does) so that the tar stream stays whole; a file
    that grows is cut at that size. The 'end' item carries a second fstat to tell it changed.
    """
    try:
        fd = opener() if opener is not None else os.open(path, _OPEN_FLAGS)
    except _Swapped as exc:
        yield ('gone', _swapped_reason(exc))
        return
    except OSError as exc:
        yield ('gone', 'not archived: it could not be opened any more (%s)' % (exc.strerror or exc))
        return
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            yield ('gone', 'not archived: it is now a %s' % _kind(before.st_mode))
            return
        yield ('start', before)
        digest = hashlib.sha256()
        remaining = before.st_size
        padded = 0
        while remaining > 0:
            data = os.read(fd, min(remaining, chunk_size))
            if not data:
                data = b'\0' * min(remaining, chunk_size)
                padded += len(data)
            digest.update(data)
            remaining -= len(data)
            yield ('data', data)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    yield ('end', digest.hexdigest(), padded, after)


def _opener(entry, cursor):
    """How to open a planned file through the folders it was found in (None: a copy this run made, opened by path)."""
    chain = entry.get('chain')
    if not chain:
        return None
    return lambda: cursor.open_file(chain, entry['path'])


def _is_big(entry):
    return entry['type'] == 'file' and entry['stat'].st_size >= _READ_AHEAD_MIN


class _ReadAhead(object):
    """Reads and hashes files in a thread, in archive order, ahead of the tar writer.

    Reading and sha256 release the GIL, so they overlap with building tar headers and compressing.
    Items travel in batches (a few MiB) to keep queue costs low; an exception in the thread is
    handed over and raised by items().
    """

    def __init__(self, entries):
        self._queue = queue.Queue(maxsize=_QUEUE_DEPTH)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(entries,), name='clawd-backup-read-ahead')
        self._thread.daemon = True
        self._thread.start()

    def _put(self, batch):
        while not self._stop.is_set():
            try:
                self._queue.put(batch, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, entries):
        batch = []
        size = 0
        cursor = _DirCursor()  # this thread's own
        try:
            for entry in entries:
                items = _file_items(entry['path'], _opener(entry, cursor))
                try:
                    for item in items:
                        batch.append(item)
                        if item[0] == 'data':
                            size += len(item[1])
                        if size >= _BATCH_BYTES or len(batch) >= _BATCH_ITEMS:
                            if not self._put(batch):
                                return  # the writer stopped
                            batch = []
                            size = 0
                finally:
                    items.close()  # closes the file now, even when the writer stopped midway
            batch.append(('done',))
        except BaseException as exc:  # pylint: disable=broad-except  # handed over to the writer, which raises it
            batch.append(('error', exc))
        finally:
            cursor.close()
        self._put(batch)

    def items(self):
        while True:
            try:
                batch = self._queue.get(timeout=1)
            except queue.Empty:
                if not self._thread.is_alive():
                    raise RuntimeError('the read-ahead thread ended without a word')
                continue
            for item in batch:
                if item[0] == 'error':
                    raise item[1]
                if item[0] == 'done':
                    return
                yield item

    def stop(self):
        self._stop.set()
        self._thread.join(5)


class _ItemReader(object):
    """A file object for tarfile.addfile() over the 'data' items of one file."""

    def __init__(self, items):
        self._items = items
        self._pending = b''

    def read(self, size):
        if not self._pending:
            data = next(self._items)[1]
            if len(data) == size:
                return data
            self._pending = data
        while len(self._pending) < size:
            self._pending += next(self._items)[1]
        data, self._pending = self._pending[:size], self._pending[size:]
        return data


class _Output(object):
    """Where the compressor writes: a thread hashes (sha256) and writes the compressed bytes to the file.

    The whole-archive checksum is known when the stream ends, without reading the file again.
    """

    def __init__(self, raw):
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0
        self._error = None
        self._queue = queue.Queue(maxsize=_QUEUE_DEPTH * 4)
        self._thread = threading.Thread(target=self._run, name='clawd-backup-output')
        self._thread.daemon = True
        self._thread.start()

    def _run(self):
        while True:
            data = self._queue.get()
            if data is None:
                return
            if self._error is None:
                try:
                    self.digest.update(data)
                    self.raw.write(data)
                    self.size += len(data)
                except BaseException as exc:  # pylint: disable=broad-except  # raised by the next write() or by end()
                    self._error = exc

    def write(self, data):
        if self._error is not None:
            raise self._error
        self._queue.put(data if isinstance(data, bytes) else bytes(data))
        return len(data)

    def flush(self):
        """Flushing happens in end(), once every chunk is written."""

    def close(self):
        """The compressor closing its output does not end it: end() does."""

    def end(self):
        """Wait for every chunk to be written; raise what went wrong in the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


class _TarSink(object):
    """Where tarfile writes: the compressor, with the position tarfile asks for."""

    def __init__(self, compressor):
        self.compressor = compressor
        self.offset = 0

    def write(self, data):
        self.compressor.write(data)
        self.offset += len(data)
        return len(data)

    def tell(self):
        return self.offset


def _open_compressor(out, compression, level, threads, mtime):
    if compression == 'zstd':
        # threads=-1: zstandard uses every core; the frame carries a checksum (zstd -t checks it).
        compressor = zstandard.ZstdCompressor(level=level, threads=-1 if threads <= 0 else threads, write_checksum=True)
        return compressor.stream_writer(out)
    return gzip.GzipFile(filename='', mode='wb', compresslevel=level, fileobj=out, mtime=mtime)


class _ArchiveWriter(object):
    """One run of writing: the .partial file, its streams and what was archived."""

    def __init__(self, partial, compression, level, threads, mtime):
        self.partial = partial
        self.files = []
        self.changed = []
        self.bytes = 0
        self.members = 0
        self.read_ahead = None
        self.lock_fd = None
        self.cursor = _DirCursor()
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_CLOEXEC', 0), 0o600)
        try:
            _lock(fd)
            self.lock_fd = os.dup(fd)  # the lock stays on the file (and on the archive it is renamed to) until unlock()
        except BaseException:
            os.close(fd)
            raise
        self.raw = os.fdopen(fd, 'wb')
        self.out = _Output(self.raw)
        self.compressor = _open_compressor(self.out, compression, level, threads, mtime)
        self.tar = tarfile.TarFile(fileobj=_TarSink(self.compressor), mode='w', format=tarfile.PAX_FORMAT, encoding='utf-8')
        self.tar.copybufsize = CHUNK_SIZE

    def add_entries(self, entries, progress):
        """Add planned entries in order.

        Big files are read and hashed ahead by a thread while the small ones before them are
        archived (reading and sha256 release the GIL); small files are read inline, where a
        thread would cost more than it saves.
        """
        big = [_is_big(entry) for entry in entries]
        items = None
        if any(big):
            self.read_ahead = _ReadAhead([entry for entry, ahead in zip(entries, big) if ahead])
            items = self.read_ahead.items()
        for entry, ahead in zip(entries, big):
            progress(entry)
            self.add_entry(entry, items if ahead else None)
        if self.read_ahead is not None:
            self.read_ahead.stop()
            self.read_ahead = None
        self.cursor.close()

    def add_entry(self, entry, items=None):
        """Add one entry; a file's content comes from items (else it is read here)."""
        if entry['type'] != 'file':
            info = _tarinfo(entry)
            self.tar.addfile(info)
            self._record(entry, info)
            return
        if items is None:
            with contextlib.closing(_file_items(entry['path'], _opener(entry, self.cursor))) as inline:  # the file is closed even on failure
                self._add_file(entry, inline)
        else:
            self._add_file(entry, items)

    def _add_file(self, entry, items):
        item = next(items)
        if item[0] == 'gone':
            self.changed.append({'path': entry['path'], 'member': entry['member'], 'reason': item[1]})
            return
        before = item[1]
        info = _tarinfo(entry, before)
        self.tar.addfile(info, _ItemReader(items))
        dummy, sha256, padded, after = next(items)
        if padded:
            self.changed.append({'path': entry['path'], 'member': entry['member'],
                                 'reason': 'shrank while being read: %d missing bytes archived as zeros' % padded})
        elif after.st_size != before.st_size or after.st_mtime_ns != before.st_mtime_ns:
            self.changed.append({'path': entry['path'], 'member': entry['member'],
                                 'reason': 'changed while being read (size %d then %d): the first %d bytes were archived'
                                 % (before.st_size, after.st_size, info.size)})
        self._record(entry, info, sha256)

    def _record(self, entry, info, sha256=None):
        del self.tar.members[:]  # tarfile remembers every member: keep memory flat
        self.members += 1
        if entry['type'] == 'dir':
            self.files.append({'path': info.name, 'type': 'dir', 'mode': '%04o' % info.mode})
        elif entry['type'] == 'symlink':
            self.files.append({'path': info.name, 'type': 'symlink', 'target': info.linkname})
        else:
            self.files.append({'path': info.name, 'type': 'file', 'size': info.size, 'mode': '%04o' % info.mode, 'sha256': sha256})
            self.bytes += info.size
            if entry.get('source') is not None:
                entry['source']['files'] += 1
                entry['source']['bytes'] += info.size

    def add_manifest(self, manifest_bytes, mtime):
        info = tarfile.TarInfo(MANIFEST_MEMBER)
        info.size = len(manifest_bytes)
        info.mode = 0o644
        info.mtime = mtime
        info.uname = info.gname = ''
        self.tar.addfile(info, io.BytesIO(manifest_bytes))
        self.members += 1

    def finish(self):
        """End the tar stream and the compressed frame, and put the bytes on disk."""
        self.tar.close()
        self.compressor.close()
        self.out.end()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        return self.out.digest.hexdigest(), self.out.size

    def unlock(self):
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def abort(self):
        """Stop the threads and close the file after a failure (the first error is the one reported)."""
        if self.read_ahead is not None:
            self.read_ahead.stop()
        self.cursor.close()
        try:
            self.out.end()
        except BaseException:  # pylint: disable=broad-except
            pass
        try:
            self.raw.close()
        except BaseException:  # pylint: disable=broad-except
            pass


def _encode_manifest(manifest):
    """The manifest as UTF-8 JSON: readable (one line per file) and fast to write for many files."""
    def dump(value, ensure_ascii):
        return json.dumps(value, ensure_ascii=ensure_ascii, separators=(', ', ': '))

    def encode(ensure_ascii):
        lines = ['{']
        keys = list(manifest)
        for index, key in enumerate(keys):
            comma = ',' if index < len(keys) - 1 else ''
            value = manifest[key]
            if isinstance(value, list) and value:
                lines.append('  %s: [' % dump(key, ensure_ascii))
                lines.append(',\n'.join('    ' + dump(item, ensure_ascii) for item in value))
                lines.append('  ]' + comma)
            else:
                lines.append('  %s: %s%s' % (dump(key, ensure_ascii), dump(value, ensure_ascii), comma))
        lines.append('}')
        return '\n'.join(lines) + '\n'

    try:
        return encode(False).encode('utf-8')
    except UnicodeEncodeError:  # file names that are not UTF-8: escape them, the JSON stays valid
        return encode(True).encode('ascii')


def _write_side_file(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_CLOEXEC', 0), 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_folder(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path):
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    except OSError:
        pass


class _Run(object):
    """Writing, verifying and committing one archive; abort() removes whatever this run wrote."""

    def __init__(self, dest_dir, final):
        self.dest_dir = dest_dir
        self.final = final
        self.partial = partial_path(final)
        self.dumps_dir = final + DUMPS_DIR_SUFFIX
        self.written = []
        self.writer = None
        self.dumps = []
        self.doing = 'creating %s' % self.partial  # what is being done, for the error message

    def _progress(self, entry):
        self.doing = 'archiving %s' % entry['path']

    def write(self, plan, compression, level, threads, when):
        """Stream the planned entries, then consistent copies of the SQLite databases and the PostgreSQL dumps, into the .partial."""
        self.writer = _ArchiveWriter(self.partial, compression, level, threads, calendar.timegm(when.timetuple()))
        self.written.append(self.partial)
        self.writer.add_entries(plan.entries, self._progress)
        if not plan.sqlite and not plan.postgres:
            return
        os.mkdir(self.dumps_dir, 0o700)
        self.written.append(self.dumps_dir)
        for database in plan.sqlite:
            self.doing = 'copying the SQLite database %s' % database['path']
            copy = os.path.join(self.dumps_dir, database['name'])
            _dump_sqlite(database['path'], copy)
            self.doing = 'archiving the copy of the SQLite database %s' % database['path']
            self.writer.add_entry({'member': database['member'], 'path': copy, 'type': 'file', 'source': None,
                                   'stat': os.stat(copy), 'owner_stat': os.stat(database['path'])})
            os.remove(copy)
            self.dumps.append({'name': database['name'], 'type': 'sqlite', 'source': database['path']})
        client = _docker_client() if plan.postgres else None
        for database in plan.postgres:
            self.doing = 'dumping the PostgreSQL database %s in %s' % (database['database'], database['container'])
            dump = os.path.join(self.dumps_dir, database['name'])
            _dump_postgres(client, database, dump)
            self.doing = 'archiving the dump of the PostgreSQL database %s in %s' % (database['database'], database['container'])
            self.writer.add_entry({'member': database['member'], 'path': dump, 'type': 'file', 'source': None, 'stat': os.stat(dump)})
            os.remove(dump)
            self.dumps.append({'name': database['name'], 'type': 'postgres', 'container': database['container'],
                               'database': database['database']})
        os.rmdir(self.dumps_dir)
        self.written.remove(self.dumps_dir)

    def finish(self, manifest_bytes, mtime):
        self.doing = 'writing %s' % self.partial
        self.writer.add_manifest(manifest_bytes, mtime)
        return self.writer.finish()

    def verify(self, digest):
        """The reader's checks of the .partial; raises unless every one passed."""
        self.doing = 'verifying %s' % self.partial
        report = verify_archive(self.partial, expected_sha256=digest)
        checks = report.get('checks') or []
        failed = [check for check in checks if not check.get('ok')]
        if failed or not checks:
            raise BackupError('the new archive did not verify: %s' % ('; '.join(
                '%s: %s' % (check.get('name'), check.get('reason')) for check in failed) or 'the reader ran no checks'))
        return checks

    def commit(self, manifest_bytes, digest):
        """Side files under .partial names, then the archive's final name, then theirs.

        Whatever the moment a kill comes, no manifest or .sha256 names a missing archive: before
        the archive's rename only .partial files exist; after it, the side files are complete
        under their .partial names and the next run finishes the commit (_clean_leftovers). The
        .sha256, which says "verified", comes last.
        """
        self.doing = 'committing %s' % self.final
        sides = ((manifest_path(self.final), manifest_bytes), (checksum_path(self.final), sha256_line(digest, self.final).encode('utf-8')))
        for path in [self.final] + [path for path, dummy in sides]:
            if os.path.lexists(path):
                raise BackupError('%s already exists' % path)
        for path, data in sides:
            self.written.append(partial_path(path))
            _write_side_file(partial_path(path), data)
        os.replace(self.partial, self.final)
        self.written = []  # committed: from here on, the archive and its side files stay
        for path, dummy in sides:
            os.replace(partial_path(path), path)
        _fsync_folder(self.dest_dir)
        self.unlock()

    def unlock(self):
        if self.writer is not None:
            self.writer.unlock()

    def abort(self):
        if self.writer is not None:
            self.writer.abort()
        for path in reversed(self.written):
            _remove(path)
        self.unlock()


def _check_options(service, sources, sqlite, postgres, compression, level, threads, max_disk_percent):
    if compression not in COMPRESSION_SUFFIXES:
        raise BackupError('unknown compression %r: use zstd or gzip' % (compression,))
    if compression == 'zstd' and not HAS_ZSTANDARD:
        raise BackupError('the zstandard Python library is needed for zstd compression (or use compression=gzip)')
    _check_name('service', service)
    if not sources and not sqlite and not postgres:
        raise BackupError('nothing to back up: give sources, sqlite, postgres or several')
    if postgres and not HAS_DOCKER:
        raise BackupError('the Docker SDK for Python (docker) is needed for postgres dumps')
    if level is not None:
        if compression == 'gzip' and not 0 <= level <= 9:
            raise BackupError('gzip level %d is out of range: use 0 to 9' % level)
        if compression == 'zstd' and not -7 <= level <= 22:
            raise BackupError('zstd level %d is out of range: use -7 to 22' % level)
    if threads < 0:
        raise BackupError('threads cannot be negative (0 uses every core)')
    if not 1 <= max_disk_percent <= 100:
        raise BackupError('max_disk_percent must be between 1 and 100')


def _disk_full(exc, dest_dir, raw_bytes):
    """What to say when exc means the destination's filesystem is full, else None."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, 'EDQUOT', errno.ENOSPC)):
        pass
    elif isinstance(exc, sqlite3.Error) and 'full' in str(exc):
        pass
    else:
        return None
    try:
        usage = shutil.disk_usage(dest_dir)
        space = '%d of %d bytes free' % (usage.free, usage.used + usage.free)
    except OSError:
        space = 'its size is unknown'
    return 'the filesystem of the destination folder %s is full (%s; the sources hold %d bytes)' % (dest_dir, space, raw_bytes)


def create_archive(dest_dir, service, sources, version=None, deployment_id=None, sqlite=(), compression='zstd', level=None, threads=0,
                   max_disk_percent=90, host=None, now=None, check_mode=False, postgres=()):
    """Back up folders, SQLite and PostgreSQL databases into one verified archive in dest_dir.

    sources and sqlite are lists of {'name': ..., 'path': ...}; postgres a list of {'name': ...,
    'container': ..., 'database': ..., 'user': ...} dumped with pg_dump in that container
    through the Docker Engine API (their size is known only once they ran: it is not in the disk
    check). Raises BackupError, before anything
    is written, when the destination is missing or not writable, a source is missing or unreadable,
    or the sources' raw size would fill the destination's filesystem above max_disk_percent.
    In check mode nothing is written: the result says what would be archived.
    """
    started = time.monotonic()
    _check_options(service, sources, sqlite, postgres, compression, level, threads, max_disk_percent)
    level = DEFAULT_LEVELS[compression] if level is None else level
    when = _utc_now(now)
    final = os.path.join(dest_dir, archive_name(service, when, version, compression))
    _check_destination(dest_dir)
    cleaned = _clean_leftovers(dest_dir, check_mode)
    _check_free_name(final)
    plan, summaries = _plan(sources, sqlite, postgres)
    _check_disk(dest_dir, plan.raw_bytes, plan.scratch_bytes, max_disk_percent)
    skipped = [dict(item) for item in plan.skipped]
    if check_mode:
        return {
            'archive': final, 'members': len(plan.entries) + len(plan.sqlite) + len(plan.postgres) + 1, 'bytes': plan.raw_bytes,
            'skipped': skipped, 'changed_during_backup': [dict(item) for item in plan.changed], 'cleaned_up': cleaned,
            'dumps': [{'name': item['name'], 'type': 'sqlite', 'source': item['path']} for item in plan.sqlite]
            + [{'name': item['name'], 'type': 'postgres', 'container': item['container'], 'database': item['database']}
               for item in plan.postgres],
        }

    run = _Run(dest_dir, final)
    try:
        run.write(plan, compression, level, threads, when)
        manifest_bytes = _encode_manifest({
            'format': FORMAT,
            'format_version': FORMAT_VERSION,
            'created_at': when.strftime(ISO_FORMAT),
            'host': host or socket.gethostname(),
            'service': service,
            'app_version': version,
            'deployment_id': deployment_id,
            'compression': compression,
            'sources': summaries,
            'dumps': run.dumps,
            'files': run.writer.files,
            'totals': {'files': sum(1 for item in run.writer.files if item['type'] == 'file'), 'bytes': run.writer.bytes},
        })
        digest, size = run.finish(manifest_bytes, calendar.timegm(when.timetuple()))
        checks = run.verify(digest)
        run.commit(manifest_bytes, digest)
    except BaseException as exc:  # pylint: disable=broad-except  # even KeyboardInterrupt: never leave a partial
        full = _disk_full(exc, dest_dir, plan.raw_bytes)  # measured before abort() frees what this run wrote
        run.abort()
        if full:
            raise BackupError('%s failed: %s (%s)' % (run.doing, full, exc))
        if isinstance(exc, (OSError, sqlite3.Error, tarfile.TarError)) or (HAS_ZSTANDARD and isinstance(exc, zstandard.ZstdError)):
            raise BackupError('%s failed: %s' % (run.doing, exc))
        raise

    writer = run.writer
    duration = time.monotonic() - started
    return {
        'archive': final,
        'sha256': digest,
        'size': size,
        'members': writer.members,
        'bytes': writer.bytes,
        'ratio': round(float(writer.bytes) / size, 3) if size else None,
        'duration': round(duration, 3),
        'throughput_mb_s': round(writer.bytes / 1e6 / duration, 1) if duration > 0 else None,
        'manifest': manifest_path(final),
        'dumps': run.dumps,
        'skipped': skipped,
        'changed_during_backup': plan.changed + writer.changed,
        'cleaned_up': cleaned,
        'verification': checks,
    }

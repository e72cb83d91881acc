# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning one backup archive (docs/backup-format.md): names, the walk of the source folders, refusals.

What backup_archive (through _backup_writer.create_archive) refuses before it writes anything:
bad names, missing or unreadable sources and SQLite databases, a destination that is missing,
not writable or too small. Source folders are walked with openat() one level at a time, never
through a symlink (_DirCursor); each planned entry keeps the chain of folders (device and inode)
it was found in, and the stream reads it through the same ones: a folder swapped for a symlink
or for another folder while the backup runs is reported, never followed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import errno
import os
import shutil
import sqlite3
import stat
import tarfile
import time

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not a target
    from urllib import quote

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import (
    DUMPS_PREFIX,
    VOLUMES_PREFIX,
    member_safety_problem,
    partial_path,
)

PGDUMP_SUFFIX = '.pgdump'
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
# Opening a file to read it: never through a symlink, never blocking on a fifo.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_CLOEXEC', 0)


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

# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Writing one backup archive (docs/backup-format.md): plan, refuse early, stream, verify, commit.

The steps live in their own files: _backup_plan (names, the walk of the sources, refusals),
_backup_dumps (SQLite copies, pg_dump through the Docker Engine API) and _backup_stream (the one
pass that reads, hashes, compresses and writes). This file runs them and commits.

Nothing looks complete until the written archive verified: it is written as <archive>.partial,
checked with the reader, and only then renamed; its manifest and .sha256 follow it (written under
.partial names before, renamed after), so no side file ever names a missing archive. Any failure
removes what this run wrote; a run holds a lock on its archive, and the next run removes what a
killed one left.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import errno
import fcntl
import os
import shutil
import socket
import sqlite3
import tarfile
import time

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import (
    COMPRESSION_SUFFIXES,
    FORMAT,
    FORMAT_VERSION,
    HAS_ZSTANDARD,
    ISO_FORMAT,
    SUFFIX_MANIFEST,
    SUFFIX_PARTIAL,
    SUFFIX_SHA256,
    archive_name,
    checksum_path,
    manifest_path,
    parse_archive_name,
    partial_path,
    sha256_line,
    zstandard,
)
# Names other files import from here (backup_archive, tests, benchmarks) stay importable from here.
from ansible_collections.clawd.ops.plugins.module_utils._backup_dumps import (  # pylint: disable=unused-import
    DOCKER_IMPORT_ERROR,
    HAS_DOCKER,
    docker,
    _docker_client,
    _dump_postgres,
    _dump_sqlite,
)
from ansible_collections.clawd.ops.plugins.module_utils._backup_plan import (  # pylint: disable=unused-import
    BackupError,
    _NOFOLLOW,
    _Plan,
    _check_destination,
    _check_disk,
    _check_free_name,
    _check_name,
    _plan,
    _utc_now,
)
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import verify_archive
from ansible_collections.clawd.ops.plugins.module_utils._backup_stream import _ArchiveWriter, _encode_manifest, _file_items  # pylint: disable=unused-import

DEFAULT_LEVELS = {'zstd': 3, 'gzip': 6}
# A folder beside the .partial archive that holds SQLite copies and PostgreSQL dumps while they are archived.
DUMPS_DIR_SUFFIX = '.dumps' + SUFFIX_PARTIAL


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
        names = os.listdir(dest_dir)
    except OSError as exc:
        raise BackupError('cannot list the destination folder %s: %s' % (dest_dir, exc.strerror or exc))
    # A commit is finished in its own order: the .sha256 before the manifest.
    names.sort(key=lambda name: (name.endswith(_SIDE_PENDING[0]), name))
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
    return sorted(cleaned)


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
        .sha256 ("verified": the deploy gate and retention read it) comes before the manifest,
        which comes last (restore takes an archive whose manifest is there for a whole backup).
        """
        self.doing = 'committing %s' % self.final
        sides = ((checksum_path(self.final), sha256_line(digest, self.final).encode('utf-8')), (manifest_path(self.final), manifest_bytes))
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

# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Streaming one backup archive: each file read once, hashed and written to a compressed tar stream.

The archive is streamed in one pass: each file is read once, hashed (sha256) and written to a tar
stream whose compressed bytes are hashed as they are written (_ArchiveWriter). Big files are read
ahead in a thread; the compressed bytes are hashed and written in another. A planned file is opened
through the folders it was found in (_backup_plan._DirCursor), never through a symlink.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import fcntl
import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
import threading

try:
    import queue
except ImportError:  # pragma: no cover - Python 2 is not a target
    import Queue as queue  # pylint: disable=import-error

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import CHUNK_SIZE, MANIFEST_MEMBER, zstandard
from ansible_collections.clawd.ops.plugins.module_utils._backup_plan import _DirCursor, _Swapped, _kind, _OPEN_FLAGS, _swapped_reason, _tarinfo

_READ_AHEAD_MIN = 256 << 10     # files this big are read and hashed ahead, in a thread; smaller ones inline
_BATCH_BYTES = 4 * CHUNK_SIZE    # a read-ahead batch: about this much data...
_BATCH_ITEMS = 512               # ...or this many items, whichever comes first
_QUEUE_DEPTH = 8                 # batches (and compressed chunks) in flight between threads


def _lock(fd):
    """Hold an exclusive lock on an open file: a run holds one on its archive until it committed or gave up.

    A killed run's lock goes with it (the kernel closes its files): what is left unlocked is a leftover.
    """
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


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

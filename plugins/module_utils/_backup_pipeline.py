# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One streaming pass over a clawd.ops backup archive: read, hash, decompress, parse, in up to three threads.

The archive file is read once, in large chunks. Every compressed byte goes into the whole-file
sha256 (and the S3 ETag parts when asked) and, for zstd, through _backup_tar's frame walk. The
decompressed tar stream is parsed by _backup_tar's _TarHeaders, and member data is hashed straight
from the decompressor's chunks (memoryview slices, no copies). When the host has a second CPU,
reading + whole-file hashing and decompression run in two more threads, handing chunks over small
bounded queues; hashlib, python-zstandard and zlib release the GIL while they work, so the three
stages overlap. _ArchiveReading is one such pass, for verification (_backup_reader) and for both
passes of an extraction (_backup_extract).

Memory stays bounded whatever the archive declares: the read buffers (a few 1 MiB chunks), the
decompressor's window (zstd: at most 128 MiB, python-zstandard's default limit), a special header
of at most 1 MiB (_backup_tar), the manifest member of at most MANIFEST_MAX_BYTES (256 MiB; twice
that for a moment while its pieces are joined; a bigger one is hashed, not kept), and the member
index (about INDEX_MEMBER_COST, 1 KiB, plus the name per member), refused beyond INDEX_MAX_BYTES
(1 GiB): about 2 GiB at the very worst, some MiB for a usual archive.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import tarfile
import threading
import zlib

try:
    import queue
except ImportError:  # pragma: no cover - Python 2 is not supported by this collection
    import Queue as queue  # pylint: disable=import-error

from ansible_collections.clawd.ops.plugins.module_utils import _backup_format
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import (
    CHUNK_SIZE,
    MANIFEST_MEMBER,
    MissingLibraryError,
    detect_compression,
    member_safety_problem,
    normalize_member_name,
    open_compressed_reader,
)
from ansible_collections.clawd.ops.plugins.module_utils._backup_tar import (
    BLOCK,
    NUL_BLOCK,
    BackupReadError,
    _HeaderError,
    _LimitError,
    _member_type,
    _TarFeed,
    _TarHeaders,
    _ZstdFrameWalker,
    printable,
)

try:
    from zstandard import ZstdError
except ImportError:
    class ZstdError(Exception):
        """Stands in for zstandard.ZstdError when zstandard is missing (nothing raises it then)."""

MANIFEST_MAX_BYTES = 256 << 20
INDEX_MAX_BYTES = 1 << 30       # the member index kept for the manifest comparison
INDEX_MEMBER_COST = 1024        # its estimated cost per member, beside the name
LISTED = 5          # problems spelled out in a reason before "and N more"
_THREAD_QUEUE = 8   # chunks in flight between two threads
# The file is read in chunk_size (1 MiB) pieces; decompressed data is taken in smaller ones, which
# are still in the CPU's L2 cache when they are hashed (measured: ~7% less CPU than 1 MiB).
DECOMPRESSED_CHUNK = 256 << 10


class HookAbort(Exception):
    """Raised by a member hook to stop a pass as it is: not a problem of the archive, passed on as raised."""


def _md5():
    try:
        return hashlib.md5(usedforsecurity=False)  # pylint: disable=unexpected-keyword-arg
    except TypeError:  # Python 3.8
        return hashlib.md5()


def _listing(problems, limit=LISTED):
    text = '; '.join(problems[:limit])
    if len(problems) > limit:
        text += '; and %d more' % (len(problems) - limit)
    return text


def _mb(count):
    return '%.1f MB' % (count / 1e6)


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class _WholeFileHash(object):
    """sha256 of the whole archive file, the S3 ETag parts, and the zstd frame walk."""

    def __init__(self, etag_part_size=0, walker=None):
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.walker = walker
        self._part_size = etag_part_size
        self._part = _md5() if etag_part_size else None
        self._part_left = etag_part_size
        self._digests = []

    def update_all(self, chunks):
        for chunk in chunks:
            self.update(chunk)

    def update(self, data):
        self.sha256.update(data)
        self.size += len(data)
        if self.walker is not None:
            self.walker.feed(data)
        if self._part_size:
            view = memoryview(data)
            while len(view):
                if not self._part_left:
                    self._digests.append(self._part.digest())
                    self._part = _md5()
                    self._part_left = self._part_size
                step = min(len(view), self._part_left)
                self._part.update(view[:step])
                self._part_left -= step
                view = view[step:]

    def s3_etag(self):
        """The ETag S3 gives this file uploaded in parts of etag_part_size ("<md5>" for one part)."""
        if not self._part_size:
            return None
        if not self._digests:
            return self._part.hexdigest()
        digests = self._digests + [self._part.digest()]
        combined = _md5()
        combined.update(b''.join(digests))
        return '%s-%d' % (combined.hexdigest(), len(digests))


class _Pipe(object):
    """A bounded hand-over between two threads that the receiving side can abandon.

    put() gives up (returns False) once the pipe is closed, so a producer never blocks on a
    consumer that stopped reading; get() returns (value, error) in the order they were put.
    """

    def __init__(self, size=_THREAD_QUEUE):
        self._queue = queue.Queue(size)
        self.closed = threading.Event()

    def put(self, value, error=None):
        while not self.closed.is_set():
            try:
                self._queue.put((value, error), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def get(self):
        return self._queue.get()

    def close(self):
        self.closed.set()


class _RawReader(object):
    """The archive file as the decompressor reads it: every byte read goes into the whole-file
    hash, in file order, exactly once.

    Threaded, a reader thread reads and hashes ahead; when decompression stops early (corrupt
    data), finish() lets it read and hash on to the end of the file, so the sha256 is always the
    whole file's.
    """

    def __init__(self, fileobj, chunk_size, hasher, threaded):
        self._file = fileobj
        self._chunk_size = chunk_size
        self._hasher = hasher
        self._buf = b''
        self._off = 0
        self._eof = False
        self.error = None
        self._thread = None
        if threaded:
            self._pipe = _Pipe()
            self._thread = threading.Thread(target=self._produce, name='clawd-backup-read')
            self._thread.daemon = True
            self._thread.start()

    def _produce(self):
        try:
            while True:
                data = self._file.read(self._chunk_size)
                if data:
                    self._hasher.update(data)
                if not self._pipe.closed.is_set():
                    self._pipe.put(data)
                if not data:
                    return
        except Exception as exc:  # pylint: disable=broad-except  # handed to the reading thread
            self.error = exc
            self._pipe.put(b'', exc)

    def _next(self):
        if self._thread is None:
            data = self._file.read(self._chunk_size)
            if data:
                self._hasher.update(data)
            return data
        data, error = self._pipe.get()
        if error is not None:
            self._eof = True
            raise error
        return data

    def read(self, size=-1):
        if self._off >= len(self._buf):
            if self._eof:
                return b''
            self._buf, self._off = self._next(), 0
            if not self._buf:
                self._eof = True
                return b''
        if size is None or size < 0 or (self._off == 0 and size >= len(self._buf)):
            data = self._buf[self._off:] if self._off else self._buf
            self._off = len(self._buf)
            return data
        data = self._buf[self._off:self._off + size]
        self._off += len(data)
        return data

    def finish(self):
        """Hash the file to its end, whatever decompression read of it."""
        if self._thread is not None:
            self._pipe.close()
            self._thread.join()
            return
        try:
            while not self._eof:
                data = self._file.read(self._chunk_size)
                if not data:
                    break
                self._hasher.update(data)
        except (OSError, IOError) as exc:
            self.error = exc
        self._eof = True


class _ChunkSource(object):
    """Decompressed chunks in order. Threaded, a decompressor thread works ahead through a small
    pipe (python-zstandard and zlib release the GIL while they work); errors of the decompressor
    arrive in stream order.

    With readinto (zstd), chunks are memoryviews of a few buffers filled again and again: a fresh
    256 KiB bytes object per chunk costs its allocation and page faults (measured: 0.17 of 0.80
    CPU-s decompressing 1 GiB). A chunk's buffer goes back to the pool when the next chunk is asked
    for, so the consumer must not keep a chunk past that (_TarFeed copies what it keeps).
    """

    def __init__(self, read, chunk_size, threaded, readinto=None):
        self._read = read
        self._readinto = readinto
        self._chunk_size = chunk_size
        self.done = False
        self._thread = None
        self._pool = None
        self._held = None   # the buffer of the chunk the consumer holds
        if readinto is not None:
            self._pool = queue.Queue()
            for dummy in range(_THREAD_QUEUE + 2 if threaded else 1):
                self._pool.put(bytearray(chunk_size))
        if threaded:
            self._pipe = _Pipe()
            self._thread = threading.Thread(target=self._produce, name='clawd-backup-decompress')
            self._thread.daemon = True
            self._thread.start()

    def _take(self, closed=None):
        """The next decompressed chunk and its pool buffer (None without a pool, or once closed)."""
        if self._pool is None:
            return self._read(self._chunk_size), None
        while True:
            try:
                buf = self._pool.get(timeout=0.05)
                break
            except queue.Empty:
                if closed is not None and closed.is_set():
                    return b'', None
        try:
            count = self._readinto(buf)
        except Exception:
            self._pool.put(buf)
            raise
        return memoryview(buf)[:count], buf

    def _produce(self):
        while True:
            try:
                data, buf = self._take(self._pipe.closed)
            except Exception as exc:  # pylint: disable=broad-except  # handed to the reading thread
                self._pipe.put((b'', None), exc)
                return
            if not self._pipe.put((data, buf)) or not data:
                return

    def next_chunk(self):
        """The next decompressed chunk; b'' at the end; raises what the decompressor raised."""
        if self._held is not None:
            self._pool.put(self._held)
            self._held = None
        if self.done:
            return b''
        if self._thread is None:
            try:
                data, buf = self._take()
            except Exception:
                self.done = True
                raise
        else:
            (data, buf), error = self._pipe.get()
            if error is not None:
                self.done = True
                raise error
        self._held = buf
        if not data:
            self.done = True
        return data

    def stop(self):
        """Stop decompressing (the thread ends after its current chunk)."""
        self.done = True
        if self._thread is not None:
            self._pipe.close()
            self._thread.join()


class _ArchiveStream(object):
    """An archive opened for one streaming pass: file, whole-file hash, decompressor, tar feed.

    threads (None: when the host has more than one CPU) runs reading + whole-file hashing and
    decompression in two threads, the tar parsing and member hashing staying in the caller's.
    """

    def __init__(self, path, chunk_size=CHUNK_SIZE, threads=None, etag_part_size=0):
        self.path = path
        self._chunk_size = chunk_size
        self._threaded = _cpus() > 1 if threads is None else bool(threads)
        self._file = open(path, 'rb')
        self.head = self._file.read(4)
        self._file.seek(0)
        self.compression = detect_compression(self.head)
        walker = _ZstdFrameWalker() if self.compression == 'zstd' else None
        self.hash = _WholeFileHash(etag_part_size, walker)
        self._raw = None
        self.source = None
        self.feed = None
        self.guard = None  # see _TarFeed

    def start(self):
        """Start decompressing (raises for a file that is neither zstd nor gzip)."""
        if self.compression is None:
            raise BackupReadError('not a zstd or gzip file (it starts with %s)'
                                  % (' '.join('%02x' % c for c in bytearray(self.head)) or 'nothing: it is empty'))
        if self.compression == 'zstd' and not _backup_format.HAS_ZSTANDARD:  # before a thread reads the whole file
            raise MissingLibraryError('zstandard', _backup_format.ZSTANDARD_IMPORT_ERROR)
        self._raw = _RawReader(self._file, self._chunk_size, self.hash, self._threaded)
        stream = open_compressed_reader(self._raw, self.compression, read_size=self._chunk_size)
        # GzipFile.read() drops what it decompressed when it then meets a cut end: read1() hands
        # that over first, so the error names the right member.
        read = stream.read1 if self.compression == 'gzip' else stream.read
        readinto = stream.readinto if self.compression == 'zstd' else None
        self.source = _ChunkSource(read, min(self._chunk_size, DECOMPRESSED_CHUNK), self._threaded, readinto)
        self.feed = _TarFeed(self.source.next_chunk, self.guard)
        return self.feed

    def finish(self):
        """Stop decompressing and hash the rest of the file; returns the whole-file problem or None."""
        self._stop()
        error = None
        if self._raw is None:
            try:
                self.hash.update_all(iter(lambda: self._file.read(self._chunk_size), b''))
            except (OSError, IOError) as exc:
                error = exc
        else:
            error = self._raw.error
        if error is not None:
            return 'cannot read the archive file: %s' % error
        return self.hash.walker.finish() if self.hash.walker is not None else None

    def _stop(self):
        if self.source is not None:
            self.source.stop()
        if self._raw is not None:
            self._raw.finish()

    def close(self):
        self._stop()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _read_error_reason(exc, where):
    """A corrupt-archive exception as one line for the readable check."""
    if isinstance(exc, _HeaderError):
        return '%s (%s)' % (exc, where)
    if isinstance(exc, BackupReadError):
        return str(exc)
    if isinstance(exc, ZstdError):
        return 'zstd data is corrupt %s: %s' % (where, exc)
    if isinstance(exc, EOFError):
        return 'the compressed stream is truncated %s: %s' % (where, exc)
    if isinstance(exc, zlib.error) or type(exc).__name__ == 'BadGzipFile':
        return 'gzip data is corrupt %s: %s' % (where, exc)
    if isinstance(exc, tarfile.TarError):
        return 'tar data is corrupt %s: %s' % (where, exc)
    if isinstance(exc, (OSError, IOError)):
        return 'cannot read the archive %s: %s' % (where, exc)
    return 'cannot read the archive %s: %s: %s' % (where, type(exc).__name__, exc)


def _root_problem(info, name):
    """A member volumes/<name> that is not a folder would be applied to the target folder itself."""
    parts = name.split('/')
    if len(parts) == 2 and parts[0] == 'volumes' and not info.isdir():
        kind = _member_type(info)
        return 'member %s: a %s at the root of a source (only a folder can be restored into a target)' % (
            info.name, kind if kind in ('file', 'symlink') else 'special member')
    return None


class _ArchiveReading(object):
    """One pass over an archive: what was read, what was wrong.

    member_hook(info, problem), when given, sees each member before its data is read, with the
    reason it is unsafe or None; for a file member it may take the data from the feed itself and
    return how many bytes it took (else None).
    """

    def __init__(self, stream, member_hook=None, hash_members=True):
        self.stream = stream
        self._hook = member_hook
        self._hash_members = hash_members
        self._index_bytes = 0
        self.limited = False    # stopped by a cap (_LimitError)
        self.content = 0        # members other than the manifest and the archive's ./ folder
        self.entries = {}       # normalized name -> {'type', 'size', 'mode', 'sha256', 'target'}
        self.order = []
        self.members = 0
        self.bytes = 0
        self.unsafe = []
        self.manifest_bytes = None
        self.after_manifest = None
        self.read_problem = None
        self.whole_file_problem = None
        self._last = None
        self._current = None

    def where(self):
        if self._current is not None:
            return 'in member %s' % self._current
        if self._last is not None:
            return 'after member %s' % self._last
        return 'before the first member'

    def run(self):
        stream = self.stream
        try:
            headers = _TarHeaders(stream.start())
            seen = set()
            while True:
                info = headers.next()
                if info is None:
                    break
                self._member(info, seen)
            self._end_of_archive(headers)
        except (MissingLibraryError, HookAbort):
            raise
        except Exception as exc:  # pylint: disable=broad-except
            # A corrupt archive can make zstandard, gzip, zlib or tarfile raise about anything:
            # whatever it is, it is the readable check failing, never a traceback.
            self.limited = isinstance(exc, _LimitError)
            self.read_problem = _read_error_reason(exc, self.where())
        self.whole_file_problem = stream.finish()

    def _member(self, info, seen):
        feed = self.stream.feed
        name = normalize_member_name(info.name)
        label = printable(info.name)
        self._current = label
        self.members += 1
        self._index_bytes += INDEX_MEMBER_COST + len(info.name) + len(info.linkname)
        if self._index_bytes > INDEX_MAX_BYTES:
            raise BackupReadError('the archive has more members than this reader indexes: %d members and their names take more '
                                  'than %d MiB' % (self.members, INDEX_MAX_BYTES >> 20))
        if self.manifest_bytes is not None and self.after_manifest is None:
            self.after_manifest = label
        problem = member_safety_problem(info, seen) or _root_problem(info, name)
        if problem:
            problem = printable(problem)
            self.unsafe.append({'name': label, 'problem': problem})
        if name and name != MANIFEST_MEMBER:
            self.content += 1
        taken = self._hook(info, problem) if self._hook is not None else None
        entry = {'type': _member_type(info), 'mode': info.mode & 0o7777}
        if info.issym() or info.islnk():
            entry['target'] = info.linkname
        if entry['type'] == 'file':
            size = info.size
            entry['size'] = size
            if taken is not None:
                got = taken
                self.bytes += got
            elif name == MANIFEST_MEMBER and size <= MANIFEST_MAX_BYTES:
                data = feed.read(size)
                got = len(data)
                self.manifest_bytes = data
            else:
                if self._hash_members:
                    digest = hashlib.sha256()
                    got = feed.consume(size, digest.update)
                    entry['sha256'] = digest.hexdigest()
                else:
                    got = feed.consume(size)
                self.bytes += got
            if got < size:
                raise BackupReadError('member %s is truncated: the archive ends after %d of its %d bytes' % (label, got, size))
            padding = -size % BLOCK
            if feed.consume(padding) < padding:
                raise BackupReadError('the archive is truncated in the padding after member %s' % label)
        elif info.type in tarfile.REGULAR_TYPES or info.type not in tarfile.SUPPORTED_TYPES:
            stored = info.size + (-info.size % BLOCK)
            if feed.consume(stored) < stored:
                raise BackupReadError('member %s is truncated' % label)
        if name:  # the archive's own ./ folder is nothing to compare
            if name not in self.entries:
                self.order.append(name)
            self.entries[name] = entry
        self._last = label
        self._current = None

    def _end_of_archive(self, headers):
        """The tar stream must end with two zero blocks, then nothing but zeros."""
        feed = self.stream.feed
        where = 'after member %s' % self._last if self._last else 'before the first member'
        if headers.end != 'marker':
            raise BackupReadError('the archive is truncated %s: the tar stream ends without its end-of-archive marker' % where)
        second = feed.read(BLOCK)
        if len(second) < BLOCK:
            raise BackupReadError('the archive is truncated %s: the end-of-archive marker is cut short' % where)
        if second != NUL_BLOCK:
            raise BackupReadError('tar data is corrupt %s: a lone zero block at byte %d of the tar stream is followed by data'
                                  % (where, headers.end_offset))
        nonzero = [0]

        def check_zeros(piece):
            if bytes(piece).strip(b'\0'):
                nonzero[0] += 1

        while feed.consume(CHUNK_SIZE, check_zeros):
            pass
        if nonzero[0]:
            raise BackupReadError('tar data is corrupt: data follows the end-of-archive marker')

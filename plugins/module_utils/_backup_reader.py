# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading clawd.ops backup archives (docs/backup-format.md): verify one in a single streaming pass,
find the newest in a folder, restore sources from one safely.

The verify pass reads the archive file once, in large chunks. Every compressed byte goes into the
whole-file sha256 (and the S3 ETag parts when asked) and, for zstd, through a walk of the frame
and block headers that tells a complete stream from a cut one. The decompressed tar stream is
parsed by _TarHeaders (tarfile's header rules without its per-member cost), and member data is
hashed straight from the decompressor's chunks (memoryview slices, no copies). When the host has
a second CPU, reading + whole-file hashing and decompression run in two more threads, handing
chunks over small bounded queues; hashlib, python-zstandard and zlib release the GIL while they
work, so the three stages overlap.

Extraction reads the archive twice: once to refuse unsafe members, check the free space and cap
the expansion before anything is written, once to write, each member again checked for safety and
passed through tarfile's data filter (or this module's copy of its rules). The writing pass must
end with the whole-file sha256 the first pass saw; a target whose contents are cleared is emptied
by moving them aside into a holding folder inside it, put back when anything fails.

Memory stays bounded whatever the archive declares: the read buffers (a few 1 MiB chunks), the
decompressor's window (zstd: at most 128 MiB, python-zstandard's default limit), a special header
(pax, GNU long name) of at most SPECIAL_HEADER_MAX (1 MiB, refused beyond), the manifest member of
at most MANIFEST_MAX_BYTES (256 MiB), and the member index (about 1 KiB plus the name per member),
refused beyond INDEX_MAX_BYTES (1 GiB). Negative sizes are refused and the tar feed never moves
backwards, so a hostile header cannot make a pass loop.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import errno
import fnmatch
import hashlib
import json
import os
import random
import re
import shutil
import stat
import struct
import sys
import tarfile
import threading
import time
import zlib

try:
    import queue
except ImportError:  # pragma: no cover - Python 2 is not supported by this collection
    import Queue as queue  # pylint: disable=import-error

from ansible_collections.clawd.ops.plugins.module_utils import _backup_format
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import (
    CHUNK_SIZE,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_MEMBER,
    SIDE_SUFFIXES,
    ZSTD_MAGIC,
    MissingLibraryError,
    checksum_path,
    detect_compression,
    manifest_path,
    member_safety_problem,
    normalize_member_name,
    normalize_sha256,
    open_compressed_reader,
    parse_age,
    parse_archive_name,
    read_sha256_file,
)

try:
    from zstandard import ZstdError
except ImportError:
    class ZstdError(Exception):
        """Stands in for zstandard.ZstdError when zstandard is missing (nothing raises it then)."""

HAS_TAR_FILTERS = hasattr(tarfile, 'data_filter')

BLOCK = 512
NUL_BLOCK = b'\0' * BLOCK
MANIFEST_MAX_BYTES = 256 << 20
SPECIAL_HEADER_MAX = 1 << 20    # a pax header or GNU long name/link: more is refused
SPECIAL_HEADERS_PER_MEMBER = 16
INDEX_MAX_BYTES = 1 << 30       # the member index kept for the manifest comparison
INDEX_MEMBER_COST = 1024        # its estimated cost per member, beside the name
RATIO_FLOOR = 64 << 20          # the expansion ratio is judged past this much tar data
DEFAULT_MAX_RATIO = 250
DEFAULT_SPACE_MARGIN = 64 << 20
HOLDING_PREFIX = '.clawd-restore-held-'
LISTED = 5          # problems spelled out in a reason before "and N more"
SPOT_LISTED = 20    # paths listed in a spot check's report
_THREAD_QUEUE = 8   # chunks in flight between two threads
# The file is read in chunk_size (1 MiB) pieces; decompressed data is taken in smaller ones, which
# are still in the CPU's L2 cache when they are hashed (measured: ~7% less CPU than 1 MiB).
DECOMPRESSED_CHUNK = 256 << 10


class BackupReadError(Exception):
    """The archive cannot be read to the end: truncated, corrupt or not an archive."""


class _HeaderError(BackupReadError):
    """A tar header that cannot be read; the reader adds which member it follows."""


class UnsafeMemberError(BackupReadError):
    """A member that must not be written (outside its target, a device, a hard link...)."""


class _LimitError(BackupReadError):
    """The archive expands beyond a cap (max_total_size, max_ratio)."""


class _WriteError(Exception):
    """Writing a member failed, or the archive changed since it was checked: the targets were touched."""


class BackupExtractError(Exception):
    """Extraction refused or failed; the message says what and whether anything was written.

    changed: whether the targets were touched; states: what each target holds now (after a
    failure that touched them)."""

    def __init__(self, message, changed=False, states=None):
        super(BackupExtractError, self).__init__(printable(message))
        self.changed = changed
        self.states = states or {}


def printable(text):
    """Text safe to hand to Ansible: bytes that are not UTF-8 (kept by surrogateescape) as \\xNN."""
    try:
        text.encode('utf-8')
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode('utf-8', 'surrogateescape')
    except UnicodeEncodeError:
        raw = text.encode('utf-8', 'surrogatepass')
    return raw.decode('utf-8', 'backslashreplace')


def _printable_tree(value):
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return dict((_printable_tree(key), _printable_tree(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_printable_tree(item) for item in value]
    return value


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


def _check(name, ok, reason):
    return {'name': name, 'ok': bool(ok), 'reason': reason}


def _mb(count):
    return '%.1f MB' % (count / 1e6)


def _duration_text(seconds):
    seconds = int(seconds)
    if seconds < 120:
        return '%ds' % seconds
    if seconds < 7200:
        return '%dm' % (seconds // 60)
    if seconds < 172800:
        return '%dh%02dm' % (seconds // 3600, seconds % 3600 // 60)
    return '%dd%02dh' % (seconds // 86400, seconds % 86400 // 3600)


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


class _ZstdFrameWalker(object):
    """Follows zstd frame and block headers through the compressed bytes.

    The decompressor stops quietly where its input stops, so a file cut after the end of the tar
    stream would look complete; the walk knows whether the last frame was complete (last block
    and its checksum). One step per block (128 KiB), nothing per byte.
    """

    def __init__(self):
        self.frames = 0
        self.problem = None
        self._offset = 0
        self._skip = 0
        self._head = b''
        self._need = 4
        self._state = 'magic'
        self._checksum = 0

    def feed(self, data):
        pos = 0
        size = len(data)
        while pos < size and self.problem is None:
            if self._skip:
                step = min(self._skip, size - pos)
                self._skip -= step
                pos += step
                continue
            step = min(self._need - len(self._head), size - pos)
            self._head += bytes(data[pos:pos + step])
            pos += step
            if len(self._head) == self._need:
                self._step(self._offset + pos - self._need)
        self._offset += size

    def _step(self, at):
        head = self._head
        self._head = b''
        if self._state == 'magic':
            magic = int.from_bytes(head, 'little')
            if head == ZSTD_MAGIC:
                self._state, self._need = 'descriptor', 1
            elif 0x184D2A50 <= magic <= 0x184D2A5F:
                self._state, self._need = 'skippable', 4
            else:
                self.problem = 'not a zstd frame at byte %d of the file' % at
        elif self._state == 'skippable':
            self._skip = int.from_bytes(head, 'little')
            self._state, self._need = 'magic', 4
        elif self._state == 'descriptor':
            descriptor = bytearray(head)[0]
            single_segment = (descriptor >> 5) & 1
            self._checksum = (descriptor >> 2) & 1
            if descriptor & 0x08:
                self.problem = 'corrupt zstd frame header at byte %d of the file' % at
            content_size_bytes = ((1 if single_segment else 0), 2, 4, 8)[descriptor >> 6]
            self._skip = (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 3] + content_size_bytes
            self._state, self._need = 'block', 3
        else:
            value = int.from_bytes(head, 'little')
            block_type = (value >> 1) & 3
            if block_type == 3:
                self.problem = 'corrupt zstd block header at byte %d of the file' % at
            self._skip = 1 if block_type == 1 else value >> 3
            if value & 1:
                self._skip += 4 * self._checksum
                self.frames += 1
                self._state, self._need = 'magic', 4

    def finish(self):
        """None when the stream ended after a complete frame, else what is wrong."""
        if self.problem:
            return self.problem
        if self._state != 'magic' or self._skip or self._head:
            return 'the zstd stream ends inside a frame: the file is truncated'
        if not self.frames:
            return 'no zstd frame in the file'
        return None


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
    arrive in stream order."""

    def __init__(self, read, chunk_size, threaded):
        self._read = read
        self._chunk_size = chunk_size
        self.done = False
        self._thread = None
        if threaded:
            self._pipe = _Pipe()
            self._thread = threading.Thread(target=self._produce, name='clawd-backup-decompress')
            self._thread.daemon = True
            self._thread.start()

    def _produce(self):
        while True:
            try:
                data = self._read(self._chunk_size)
            except Exception as exc:  # pylint: disable=broad-except  # handed to the reading thread
                self._pipe.put(b'', exc)
                return
            if not self._pipe.put(data) or not data:
                return

    def next_chunk(self):
        """The next decompressed chunk; b'' at the end; raises what the decompressor raised."""
        if self.done:
            return b''
        if self._thread is None:
            try:
                data = self._read(self._chunk_size)
            except Exception:
                self.done = True
                raise
        else:
            data, error = self._pipe.get()
            if error is not None:
                self.done = True
                raise error
        if not data:
            self.done = True
        return data

    def stop(self):
        """Stop decompressing (the thread ends after its current chunk)."""
        self.done = True
        if self._thread is not None:
            self._pipe.close()
            self._thread.join()


class _TarFeed(object):
    """The decompressed tar stream: a forward-only file for tarfile's header parsing, and a way
    to pass member data (to a hash) in the decompressor's own chunks."""

    def __init__(self, next_chunk, guard=None):
        self._next_chunk = next_chunk
        self._buf = b''
        self._off = 0
        self._pos = 0
        self._delivered = 0
        self.guard = guard  # called with the decompressed bytes so far, after each chunk; raises to stop
        self.eof = False

    def tell(self):
        return self._pos

    def _fill(self):
        while not self.eof:
            chunk = self._next_chunk()
            if not chunk:
                self.eof = True
                break
            self._buf, self._off = chunk, 0
            self._delivered += len(chunk)
            if self.guard is not None:
                self.guard(self._delivered)
            return True
        return False

    def read(self, size=-1):
        if size is None or size < 0:
            raise ValueError('the archive stream reads a given size only')
        avail = len(self._buf) - self._off
        if avail >= size:
            data = self._buf[self._off:self._off + size]
            self._off += size
        else:
            parts = [self._buf[self._off:]]
            got = avail
            self._off = len(self._buf)
            while got < size and self._fill():
                step = min(size - got, len(self._buf))
                parts.append(self._buf[:step])
                self._off = step
                got += step
            data = b''.join(parts)
        self._pos += len(data)
        return data

    def consume(self, size, update=None):
        """Pass size bytes, giving each piece to update without copying; returns the bytes passed."""
        if size < 0:
            raise ValueError('the archive stream cannot move backwards (%d bytes)' % size)
        left = size
        while left:
            avail = len(self._buf) - self._off
            if not avail:
                if not self._fill():
                    break
                avail = len(self._buf)
            step = avail if avail < left else left
            if update is not None:
                if self._off == 0 and step == len(self._buf):
                    update(self._buf)
                else:
                    update(memoryview(self._buf)[self._off:self._off + step])
            self._off += step
            left -= step
        self._pos += size - left
        return size - left

    def seek(self, pos, whence=0):
        if whence == 1:
            pos += self._pos
        elif whence != 0:
            raise OSError('the archive stream cannot seek from its end')
        if pos < self._pos:
            raise OSError('the archive stream cannot seek backwards')
        self.consume(pos - self._pos)
        return self._pos

    def seekable(self):
        return False


_HEADER = struct.Struct('100s8s8s8s12s12s8sc100s8s32s32s8s8s155s12x')
_PAX_RECORD = re.compile(br'([0-9]+) ([^=]+)=')
_PAX_NUMBERS = {'mtime': float, 'uid': int, 'gid': int, 'size': int}
_PAX_TEXT = ('path', 'linkpath', 'uname', 'gname')
_EXTENSION_TYPES = (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)


def _nts(field):
    end = field.find(b'\0')
    if end != -1:
        field = field[:end]
    return field.decode('utf-8', 'surrogateescape')


def _nti(field):
    try:
        return int(field.partition(b'\0')[0], 8)  # octal digits, maybe space-padded: nearly always
    except ValueError:
        pass
    if field[:1] in (b'\x80', b'\xff'):
        number = int.from_bytes(field[1:], 'big')
        return number - 256 ** (len(field) - 1) if field[:1] == b'\xff' else number
    field = field.partition(b'\0')[0].strip()
    return int(field, 8) if field else 0


class _TarHeaders(object):
    """tarfile's header rules (ustar, GNU long names, pax) in a few microseconds per member.

    tarfile.TarFile.next() costs tens of microseconds per member, more than hashing a small file;
    this reads the same headers into the same TarInfo objects (the tests compare the two on GNU
    tar and Python archives) and says how the stream ended, which tarfile keeps to itself.
    end: None while reading, then 'marker' (a zero block), 'eof' or 'short' (cut header).
    """

    def __init__(self, feed):
        self._feed = feed
        self._global = {}
        self._global_bytes = 0
        self._last_offset = -1
        self.end = None
        self.end_offset = None

    def _header(self):
        """(offset, fields, buf) of the next header block; None at the end of the archive."""
        offset = self._feed.tell()
        if offset <= self._last_offset:  # never again: a header read twice is a loop
            raise _HeaderError('tar data is corrupt: the stream went back to byte %d of the tar stream' % offset)
        self._last_offset = offset
        buf = self._feed.read(BLOCK)
        if len(buf) < BLOCK:
            self.end, self.end_offset = ('short' if buf else 'eof'), offset
            return None
        if buf == NUL_BLOCK:
            self.end, self.end_offset = 'marker', offset
            return None
        fields = _HEADER.unpack(buf)
        try:
            stored = _nti(fields[6])
        except ValueError:
            stored = -1
        view = memoryview(buf)
        # Sum of the 512 bytes, the checksum field counted as spaces: adler32's low half is 1 + the
        # byte sum, exact for 256 bytes (at most 65280, below its modulus 65521).
        unsigned = (zlib.adler32(view[:256]) & 0xffff) + (zlib.adler32(view[256:]) & 0xffff) - 2 - sum(view[148:156]) + 256
        if stored != unsigned and stored not in tarfile.calc_chksums(buf):
            raise _HeaderError('tar data is corrupt: bad header checksum at byte %d of the tar stream' % offset)
        return offset, fields, buf

    def _data(self, size, what):
        data = self._feed.read(size + (-size % BLOCK))
        if len(data) < size:
            raise _HeaderError('the archive is truncated in the %s at byte %d of the tar stream' % (what, self._feed.tell()))
        return data[:size]

    def _pax(self, data, records, offset):
        pos = 0
        while True:
            match = _PAX_RECORD.match(data, pos)
            if not match:
                return
            length = int(match.group(1))
            if length <= 0:
                raise _HeaderError('tar data is corrupt: invalid pax record at byte %d of the tar stream' % self._feed.tell())
            keyword = match.group(2).decode('utf-8', 'surrogateescape')
            value = data[match.end(2) + 1:match.start(1) + length - 1].decode('utf-8', 'surrogateescape')
            if keyword == 'size' and value.strip().startswith('-'):
                raise _HeaderError('tar data is corrupt: negative size in a pax record at byte %d of the tar stream' % offset)
            records[keyword] = value
            pos += length

    def next(self):
        """The next member as a tarfile.TarInfo (offset and offset_data set), or None at the end."""
        extensions = []
        first_offset = None
        while True:
            header = self._header()
            if header is None:
                if extensions:
                    self.end = 'short'
                return None
            offset, fields, buf = header
            if first_offset is None:
                first_offset = offset
            kind = fields[7]
            if kind not in _EXTENSION_TYPES:
                break
            try:
                size = _nti(fields[4])
            except ValueError:
                raise _HeaderError('tar data is corrupt: invalid size in the header at byte %d of the tar stream' % offset)
            if size < 0:
                raise _HeaderError('tar data is corrupt: negative size in the header at byte %d of the tar stream' % offset)
            if size > SPECIAL_HEADER_MAX:
                raise _HeaderError('tar data is corrupt: a special header of %d bytes at byte %d of the tar stream (at most %d are read)'
                                   % (size, offset, SPECIAL_HEADER_MAX))
            if len(extensions) >= SPECIAL_HEADERS_PER_MEMBER:
                raise _HeaderError('tar data is corrupt: more than %d special headers in a row at byte %d of the tar stream'
                                   % (SPECIAL_HEADERS_PER_MEMBER, offset))
            data = self._data(size, 'extended header')
            if kind == tarfile.XGLTYPE:
                self._global_bytes += size
                if self._global_bytes > SPECIAL_HEADER_MAX:
                    raise _HeaderError('tar data is corrupt: global pax headers of more than %d bytes in all at byte %d of the tar stream'
                                       % (SPECIAL_HEADER_MAX, offset))
                self._pax(data, self._global, offset)
            elif kind in (tarfile.XHDTYPE, tarfile.SOLARIS_XHDTYPE):
                records = dict(self._global)
                self._pax(data, records, offset)
                extensions.append(('pax', records))
            else:
                extensions.append((kind, _nts(data)))
        info = tarfile.TarInfo()
        try:
            info.mode = _nti(fields[1])
            info.uid = _nti(fields[2])
            info.gid = _nti(fields[3])
            info.size = _nti(fields[4])
            info.mtime = _nti(fields[5])
            if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
                info.devmajor = _nti(fields[12])
                info.devminor = _nti(fields[13])
        except ValueError:
            raise _HeaderError('tar data is corrupt: invalid number in the header at byte %d of the tar stream' % offset)
        if info.size < 0:
            raise _HeaderError('tar data is corrupt: negative size in the header at byte %d of the tar stream' % offset)
        info.type = kind
        info.name = _nts(fields[0])
        info.linkname = _nts(fields[8])
        info.uname = _nts(fields[10])
        info.gname = _nts(fields[11])
        prefix = _nts(fields[14])
        if kind == tarfile.AREGTYPE and info.name.endswith('/'):
            info.type = tarfile.DIRTYPE
        if kind == tarfile.GNUTYPE_SPARSE:
            raise _HeaderError('member %s is a GNU sparse file (old format), which this reader does not read' % info.name)
        if info.type == tarfile.DIRTYPE:
            info.name = info.name.rstrip('/')
        if prefix:
            info.name = prefix + '/' + info.name
        for extension, value in reversed(extensions):
            if extension == tarfile.GNUTYPE_LONGNAME:
                info.name = value.rstrip('/') if info.type == tarfile.DIRTYPE else value
            elif extension == tarfile.GNUTYPE_LONGLINK:
                info.linkname = value
            else:
                self._apply_pax(info, value)
        info.offset = first_offset
        info.offset_data = self._feed.tell()
        return info

    @staticmethod
    def _apply_pax(info, records):
        for keyword, value in records.items():
            if keyword in ('GNU.sparse.name', 'GNU.sparse.size', 'GNU.sparse.realsize', 'GNU.sparse.map', 'GNU.sparse.major'):
                info.sparse = []
                if keyword == 'GNU.sparse.name':
                    info.name = value
            elif keyword in _PAX_NUMBERS:
                try:
                    setattr(info, keyword, _PAX_NUMBERS[keyword](value))
                except ValueError:
                    setattr(info, keyword, 0)
            elif keyword in _PAX_TEXT:
                if keyword == 'path':
                    info.name = value.rstrip('/')
                elif keyword == 'linkpath':
                    info.linkname = value
                else:
                    setattr(info, keyword, value)
        info.pax_headers = records


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
        self.source = _ChunkSource(read, min(self._chunk_size, DECOMPRESSED_CHUNK), self._threaded)
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


def _member_type(info):
    if info.isdir():
        return 'dir'
    if info.issym():
        return 'symlink'
    if info.isreg() and not info.issparse():
        return 'file'
    return 'other'


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
        except (MissingLibraryError, _WriteError):
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


def _compare_manifest(manifest, reading):
    """Problems between the manifest's files list and what the archive holds."""
    problems = []
    files = manifest.get('files')
    if not isinstance(files, list):
        return ['the manifest has no files list']
    listed = {}
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get('path'), str):
            problems.append('the manifest lists an entry without a path: %r' % (entry,))
            continue
        path = normalize_member_name(entry['path'])
        if path in listed:
            problems.append('%s is listed twice in the manifest' % path)
        listed[path] = entry
    for path, entry in listed.items():
        got = reading.entries.get(path)
        if got is None:
            problems.append('%s is in the manifest but not in the archive' % path)
            continue
        kind = entry.get('type', 'file')
        if kind != got['type']:
            problems.append('%s is a %s in the manifest but a %s in the archive' % (path, kind, got['type']))
            continue
        if kind == 'file':
            if entry.get('size') != got['size']:
                problems.append('%s has %s bytes in the manifest but %d in the archive' % (path, entry.get('size'), got['size']))
            elif str(entry.get('sha256', '')).lower() != got.get('sha256'):
                problems.append('%s has sha256 %s in the manifest but its content has %s' % (path, entry.get('sha256'), got.get('sha256')))
        elif kind == 'symlink' and entry.get('target') != got.get('target'):
            problems.append('%s points to %s in the manifest but to %s in the archive' % (path, entry.get('target'), got.get('target')))
        if entry.get('mode') is not None:
            try:
                mode = int(str(entry['mode']), 8) & 0o7777
            except ValueError:
                problems.append('%s has an invalid mode %r in the manifest' % (path, entry['mode']))
            else:
                if kind != 'symlink' and mode != got['mode']:
                    problems.append('%s has mode %04o in the manifest but %04o in the archive' % (path, mode, got['mode']))
    for path in reading.order:
        if path != MANIFEST_MEMBER and path not in listed:
            problems.append('%s is in the archive but not in the manifest' % path)
    return problems


def _manifest_check(reading, path, require_manifest):
    """(check or None, parsed manifest or None)."""
    if reading.manifest_bytes is None:
        if not require_manifest:
            return None, None
        if reading.read_problem:
            return _check('manifest', False, 'no %s read (the archive could not be read to the end)' % MANIFEST_MEMBER), None
        return _check('manifest', False, 'the archive has no %s member' % MANIFEST_MEMBER), None
    try:
        manifest = json.loads(reading.manifest_bytes.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as exc:
        return _check('manifest', False, '%s is not valid JSON: %s' % (MANIFEST_MEMBER, exc)), None
    if not isinstance(manifest, dict):
        return _check('manifest', False, '%s is not a JSON object' % MANIFEST_MEMBER), None
    problems = []
    if manifest.get('format') != FORMAT:
        problems.append('format is %r, not %r' % (manifest.get('format'), FORMAT))
    if manifest.get('format_version') != FORMAT_VERSION:
        problems.append('format_version %r is not the version this reader knows (%d)' % (manifest.get('format_version'), FORMAT_VERSION))
    if reading.after_manifest is not None:
        problems.append('the manifest is not the last member (%s follows it)' % reading.after_manifest)
    problems.extend(_compare_manifest(manifest, reading))
    beside = manifest_path(path)
    if os.path.exists(beside):
        try:
            with open(beside, 'rb') as handle:
                if handle.read(MANIFEST_MAX_BYTES + 1) != reading.manifest_bytes:
                    problems.append('%s differs from the manifest inside the archive' % os.path.basename(beside))
        except (OSError, IOError) as exc:
            problems.append('cannot read %s: %s' % (os.path.basename(beside), exc))
    if problems:
        return _check('manifest', False, _listing(problems)), manifest
    return _check('manifest', True, 'lists the %d members read, sizes and sha256 match' % (len(reading.order) - 1)), manifest


def _manifest_summary(manifest):
    if manifest is None:
        return None
    keys = ('format_version', 'created_at', 'host', 'service', 'app_version', 'deployment_id', 'compression', 'totals')
    summary = dict((key, manifest.get(key)) for key in keys)
    summary['sources'] = [source.get('name') for source in manifest.get('sources') or [] if isinstance(source, dict)]
    summary['dumps'] = [dump.get('name') for dump in manifest.get('dumps') or [] if isinstance(dump, dict)]
    return summary


def _expected_members_check(expected, reading):
    names = set(reading.entries)
    missing = []
    for wanted in expected:
        if wanted.endswith('/'):
            prefix = normalize_member_name(wanted)
            found = prefix in names or any(name.startswith(prefix + '/') for name in names)
        else:
            found = normalize_member_name(wanted) in names
        if not found:
            missing.append(wanted)
    if missing:
        return _check('expected_members', False, 'missing from the archive: %s' % ', '.join(missing))
    return _check('expected_members', True, 'all %d present' % len(expected))


def _file_sha256(path, chunk_size=CHUNK_SIZE):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        while True:
            data = handle.read(chunk_size)
            if not data:
                return digest.hexdigest()
            digest.update(data)


def spot_check_files(manifest, sources, count, seed_hex):
    """Compare count files of the manifest, picked at random seeded by seed_hex, with the live files.

    sources maps a source name to its live folder; only files of those sources are picked.
    Returns sampled, same, different, missing and the paths that differ or are missing.
    """
    candidates = []
    for entry in manifest.get('files') or []:
        if not isinstance(entry, dict) or entry.get('type', 'file') != 'file':
            continue
        parts = normalize_member_name(str(entry.get('path', ''))).split('/', 2)
        if len(parts) == 3 and parts[0] == 'volumes' and parts[1] in sources:
            candidates.append((parts[1], parts[2], entry))
    candidates.sort(key=lambda item: (item[0], item[1]))
    picked = random.Random(int(seed_hex or '0', 16)).sample(candidates, min(count, len(candidates)))
    result = {'sampled': len(picked), 'same': 0, 'different': 0, 'missing': 0, 'different_paths': [], 'missing_paths': []}
    for source, relative, entry in sorted(picked, key=lambda item: (item[0], item[1])):
        live = os.path.join(sources[source], relative)
        label = 'volumes/%s/%s' % (source, relative)
        try:
            info = os.lstat(live)
            same = stat.S_ISREG(info.st_mode) and info.st_size == entry.get('size') and _file_sha256(live) == entry.get('sha256')
        except (OSError, IOError):  # gone, or unreadable: nothing to compare with
            result['missing'] += 1
            if len(result['missing_paths']) < SPOT_LISTED:
                result['missing_paths'].append(label)
            continue
        if same:
            result['same'] += 1
        else:
            result['different'] += 1
            if len(result['different_paths']) < SPOT_LISTED:
                result['different_paths'].append(label)
    return result


def _spot_check(spot, manifest, seed_hex):
    fail = bool(spot.get('fail_on_difference'))
    if manifest is None:
        return _check('spot_check', not fail, 'no manifest to pick files from'), None
    result = spot_check_files(manifest, spot.get('sources') or {}, int(spot.get('count') or 0), seed_hex)
    reason = '%(sampled)d files sampled: %(same)d same as the live files, %(different)d different, %(missing)d missing' % result
    if result['different_paths'] or result['missing_paths']:
        reason += ' (%s)' % ', '.join(result['different_paths'][:LISTED] + result['missing_paths'][:LISTED])
    return _check('spot_check', not (fail and (result['different'] or result['missing'])), reason), result


def _sha256_check(path, actual, expected_sha256, require_checksum):
    if expected_sha256:
        try:
            expected = normalize_sha256(expected_sha256)
        except ValueError as exc:
            return _check('sha256', False, str(exc))
        source = 'given'
    else:
        beside = checksum_path(path)
        if not os.path.exists(beside):
            if require_checksum:
                return _check('sha256', False, 'no checksum given and %s does not exist' % os.path.basename(beside))
            return None
        try:
            expected = read_sha256_file(beside)
        except (OSError, IOError, ValueError) as exc:
            return _check('sha256', False, 'cannot read %s: %s' % (os.path.basename(beside), exc))
        source = os.path.basename(beside)
    if actual != expected:
        return _check('sha256', False, 'expected %s, file has %s' % (expected, actual))
    return _check('sha256', True, 'matches the %s checksum' % source if source == 'given' else 'matches %s' % source)


def _new_report(path):
    return {
        'archive': path, 'ok': False, 'checks': [], 'members': 0, 'bytes': 0, 'archive_bytes': 0,
        'duration': 0.0, 'throughput_mb_s': {'archive': 0.0, 'uncompressed': 0.0}, 'sha256': None,
        's3_etag': None, 'compression': None, 'manifest': None, 'unsafe_members': [], 'created': None,
        'age_seconds': None, 'spot_check': None,
    }


def verify_archive(path, expected_sha256=None, require_manifest=True, expected_members=(), spot_check=None,
                   s3_etag_part_size=0, chunk_size=CHUNK_SIZE, max_age=None, min_size=None, require_checksum=False,
                   threads=None, now=None, allow_empty=False):
    """Verify a backup archive in one pass over the file; never raises for a bad archive.

    Checks run: exists; age (max_age, e.g. 25h, against the time in the archive's name, else its
    mtime); size (min_size bytes); readable (every member read to the end, the compressed stream
    complete); safety (unsafe members); content (only when it fails: the archive holds no file,
    folder or symlink beside its manifest and ./ folder, and allow_empty is false); manifest (present unless require_manifest is false, and
    matching every member's type, size, sha256 and mode); expected_members (paths, or prefixes
    ending in /); sha256 (against expected_sha256, else <archive>.sha256 when it exists, which
    require_checksum makes mandatory); spot_check ({'count': N, 'sources': {name: live folder},
    'fail_on_difference': False}).
    Returns a report: checks (name, ok, reason), ok, members, bytes (uncompressed member data),
    archive_bytes, duration, throughput_mb_s, sha256, s3_etag (with s3_etag_part_size), compression,
    manifest (a summary), unsafe_members, created, age_seconds and spot_check.
    Raises MissingLibraryError for a zstd archive without the zstandard library, ValueError for
    a bad max_age.
    """
    started = time.monotonic()
    report = _new_report(path)
    checks = report['checks']
    max_age_seconds = parse_age(max_age) if max_age not in (None, '') else None
    try:
        info = os.stat(path)
    except OSError as exc:
        missing = exc.errno == errno.ENOENT
        checks.append(_check('exists', False, '%s %s (%s)' % (path, 'does not exist' if missing else 'cannot be read', exc.strerror)))
        report['duration'] = round(time.monotonic() - started, 3)
        return report
    if not stat.S_ISREG(info.st_mode):
        checks.append(_check('exists', False, '%s is not a regular file' % path))
        report['duration'] = round(time.monotonic() - started, 3)
        return report
    checks.append(_check('exists', True, '%s exists' % path))
    report['archive_bytes'] = info.st_size
    named = parse_archive_name(path)
    if named:
        report['created'] = named['created']
    if max_age_seconds is not None:
        made = named['timestamp'] if named else info.st_mtime
        age = (time.time() if now is None else now) - made
        report['age_seconds'] = round(age, 1)
        limit = max_age if isinstance(max_age, str) else '%ss' % max_age
        if age > max_age_seconds:
            checks.append(_check('age', False, 'made %s ago, more than %s' % (_duration_text(age), limit)))
        else:
            checks.append(_check('age', True, 'made %s ago (at most %s)' % (_duration_text(max(age, 0)), limit)))
    if min_size is not None:
        if info.st_size < min_size:
            checks.append(_check('size', False, '%d bytes, less than the minimum %d' % (info.st_size, min_size)))
        else:
            checks.append(_check('size', True, '%d bytes' % info.st_size))

    pass_started = time.monotonic()
    try:
        stream = _ArchiveStream(path, chunk_size=chunk_size, threads=threads, etag_part_size=s3_etag_part_size)
    except (OSError, IOError) as exc:
        checks.append(_check('readable', False, 'cannot open %s: %s' % (path, exc)))
        report['duration'] = round(time.monotonic() - started, 3)
        return report
    with stream:
        report['compression'] = stream.compression
        reading = _ArchiveReading(stream)
        reading.run()
    pass_seconds = max(time.monotonic() - pass_started, 1e-9)

    report['sha256'] = stream.hash.sha256.hexdigest()
    report['s3_etag'] = stream.hash.s3_etag()
    report['members'] = reading.members
    report['bytes'] = reading.bytes
    report['unsafe_members'] = reading.unsafe
    report['throughput_mb_s'] = {
        'archive': round(stream.hash.size / 1e6 / pass_seconds, 1),
        'uncompressed': round(reading.bytes / 1e6 / pass_seconds, 1),
    }
    read_problem = reading.read_problem or reading.whole_file_problem
    if read_problem:
        checks.append(_check('readable', False, read_problem))
    else:
        checks.append(_check('readable', True, '%d members read to the end (%s of data)' % (reading.members, _mb(reading.bytes))))
    if reading.unsafe:
        checks.append(_check('safety', False, _listing([item['problem'] for item in reading.unsafe])))
    else:
        checks.append(_check('safety', True, 'no unsafe member'))
    if not read_problem and not allow_empty and not reading.content:  # a check of its own only when it fails
        checks.append(_check('content', False, 'the archive holds no file, folder or symlink (allow_empty accepts that)'))
    manifest_check, manifest = _manifest_check(reading, path, require_manifest)
    if manifest_check is not None:
        checks.append(manifest_check)
    report['manifest'] = _manifest_summary(manifest)
    if expected_members:
        checks.append(_expected_members_check(list(expected_members), reading))
    sha_check = _sha256_check(path, report['sha256'], expected_sha256, require_checksum)
    if sha_check is not None:
        checks.append(sha_check)
    if spot_check and int(spot_check.get('count') or 0) > 0:
        spot, report['spot_check'] = _spot_check(spot_check, manifest, report['sha256'])
        checks.append(spot)
    report['ok'] = all(check['ok'] for check in checks)
    report['duration'] = round(time.monotonic() - started, 3)
    return _printable_tree(report)


def failure_summary(report):
    """'name: reason; name: reason' for the checks that failed."""
    return '; '.join('%s: %s' % (check['name'], check['reason']) for check in report['checks'] if not check['ok'])


def find_newest(folder, pattern='*.tar.*'):
    """The newest archive in folder matching pattern (by the time in its name, else its mtime),
    ignoring .partial, .sha256 and .manifest.json files; None when there is none.

    An archive whose commit was cut short (its side files still under .partial names beside it,
    finished by the next backup run) is not chosen. An archive removed while looking is left out;
    a folder that cannot be listed or an archive that cannot be read raises BackupReadError.
    """
    best = None
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise BackupReadError('cannot list the folder %s: %s' % (folder, exc.strerror or exc))
    present = set(names)
    for name in names:
        if not fnmatch.fnmatch(name, pattern) or name.endswith(SIDE_SUFFIXES):
            continue
        if _backup_format.partial_path(_backup_format.checksum_path(name)) in present:
            continue  # renamed, its .sha256 not yet: not committed
        full = os.path.join(folder, name)
        try:
            info = os.stat(full)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                continue  # removed since the folder was listed
            raise BackupReadError('cannot read %s: %s' % (full, exc.strerror or exc))
        if not stat.S_ISREG(info.st_mode):
            continue
        named = parse_archive_name(name)
        key = (named['timestamp'] if named else info.st_mtime, info.st_mtime, name)
        if best is None or key > best[0]:
            best = (key, full)
    return best[1] if best else None


# Extraction ----------------------------------------------------------------------------------------

def _copy_member(member, **changes):
    new = copy.copy(member)
    for key, value in changes.items():
        setattr(new, key, value)
    return new


def _inside(path, folder):
    return os.path.commonpath([path, folder]) == folder


def fallback_data_filter(member, dest_path):
    """tarfile.data_filter's documented rules, for Pythons that lack it (Debian bookworm's 3.11.2).

    Refuses absolute names, names or links that land outside dest_path (after following the
    symlinks already on disk), absolute links, devices and fifos; strips setuid, setgid, sticky
    and group/other write bits; makes files owner-readable and -writable, and not executable
    unless the owner may execute; drops directory modes and ownership.
    """
    changes = {}
    name = member.name
    dest_path = os.path.realpath(dest_path)
    if name.startswith(('/', os.sep)):
        name = changes['name'] = member.name.lstrip('/' + os.sep)
    if os.path.isabs(name):
        raise UnsafeMemberError('member %s: absolute path' % member.name)
    target_path = os.path.realpath(os.path.join(dest_path, name))
    if not _inside(target_path, dest_path):
        raise UnsafeMemberError('member %s: would be written outside %s (to %s)' % (member.name, dest_path, target_path))
    mode = member.mode
    if mode is not None:
        mode &= 0o755
        if member.isreg() or member.islnk():
            if not mode & 0o100:
                mode &= ~0o111
            mode |= 0o600
        elif member.isdir() or member.issym():
            mode = None
        else:
            raise UnsafeMemberError('member %s: special file (device or fifo)' % member.name)
        if mode != member.mode:
            changes['mode'] = mode
    changes.update(uid=None, gid=None, uname=None, gname=None)
    if member.islnk() or member.issym():
        if os.path.isabs(member.linkname):
            raise UnsafeMemberError('member %s: link to the absolute path %s' % (member.name, member.linkname))
        if member.issym():
            link_path = os.path.join(dest_path, os.path.dirname(name), member.linkname)
        else:
            link_path = os.path.join(dest_path, member.linkname)
        link_path = os.path.realpath(link_path)
        if not _inside(link_path, dest_path):
            raise UnsafeMemberError('member %s: link to %s leaves %s' % (member.name, member.linkname, dest_path))
    return _copy_member(member, **changes)


def _stdlib_data_filter(member, dest_path):
    try:
        return tarfile.data_filter(member, dest_path)  # pylint: disable=no-member
    except tarfile.FilterError as exc:  # pylint: disable=no-member
        raise UnsafeMemberError('member %s: %s' % (member.name, exc))


def _restore_filter(data_filter):
    """The data filter, then what a restore keeps beyond it: directory modes (without setuid,
    setgid, sticky and group/other write, as tarfile's tar filter does) and, as root, the owner."""
    as_root = hasattr(os, 'geteuid') and os.geteuid() == 0

    def restore(member, dest_path):
        filtered = data_filter(member, dest_path)
        changes = {}
        if member.isdir():
            changes['mode'] = member.mode & 0o755
        if as_root:
            changes.update(uid=member.uid, gid=member.gid, uname='', gname='')
        return _copy_member(filtered, **changes) if changes else filtered

    return restore


def _destination(name, targets):
    """(target key, path inside the target) for a member, or (None, None) when it is not restored."""
    parts = normalize_member_name(name).split('/', 2)
    if parts[0] == 'volumes' and len(parts) > 1 and parts[1] in targets:
        return parts[1], parts[2] if len(parts) > 2 else ''
    if parts[0] == 'dumps' and len(parts) > 1 and 'dumps' in targets:
        return 'dumps', '/'.join(parts[1:])
    return None, None


class _ExpansionGuard(object):
    """Stops a pass once the tar stream grows past max_total_size bytes, or past max_ratio times
    the compressed bytes read (judged beyond RATIO_FLOOR): a decompression bomb."""

    def __init__(self, stream, max_total_size=0, max_ratio=0):
        self._stream = stream
        self._max_total = max_total_size or 0
        self._max_ratio = max_ratio or 0

    def __call__(self, total):
        if self._max_total and total > self._max_total:
            raise _LimitError('the archive holds more than %d bytes of tar data (max_total_size): refused at %s'
                              % (self._max_total, _mb(total)))
        if self._max_ratio and total > RATIO_FLOOR and total > self._max_ratio * max(self._stream.hash.size, 1):
            raise _LimitError('the archive expands to more than %d times its size (max_ratio) after %s of tar data: '
                              'refused as a decompression bomb' % (self._max_ratio, _mb(total)))


def _plan_extraction(path, targets, threads, precheck=None, max_total_size=0, max_ratio=0):
    """Read the whole archive once, refuse unsafe members, count what each target gets.

    precheck(member, folder), a data filter, also runs each member against its target as it is
    on disk now (for restores that do not clear the targets first).
    Returns (plan, skipped members, what was read: sha256 and tar_bytes).
    """
    plan = dict((key, {'path': folder, 'files': 0, 'dirs': 0, 'symlinks': 0, 'bytes': 0, 'removed': 0})
                for key, folder in targets.items())
    present = set()
    refused = []
    skipped = [0]

    def count(info, problem):
        parts = normalize_member_name(info.name).split('/')
        if parts[0] == 'volumes' and len(parts) > 1:
            present.add(parts[1])
        elif parts[0] == 'dumps':
            present.add('dumps')
        key, relative = _destination(info.name, targets)
        if key is None:
            skipped[0] += 1
            return None
        if relative:
            kind = _member_type(info)
            if kind == 'file':
                plan[key]['files'] += 1
                plan[key]['bytes'] += info.size
            elif kind in ('dir', 'symlink'):
                plan[key][kind + 's'] += 1
            if precheck is not None and problem is None:
                try:
                    precheck(_copy_member(info, name=relative), os.path.realpath(targets[key]))
                except UnsafeMemberError as exc:
                    refused.append(printable(str(exc)))
        return None

    try:
        stream = _ArchiveStream(path, threads=threads)
    except (OSError, IOError) as exc:
        raise BackupExtractError('cannot open the archive: %s; nothing was written' % exc)
    with stream:
        stream.guard = _ExpansionGuard(stream, max_total_size, max_ratio)
        reading = _ArchiveReading(stream, member_hook=count, hash_members=False)
        reading.run()
    problem = reading.read_problem or reading.whole_file_problem
    if reading.limited:
        raise BackupExtractError('%s; nothing was written' % problem)
    if problem:
        raise BackupExtractError('cannot read the archive: %s; nothing was written' % problem)
    unsafe = [item['problem'] for item in reading.unsafe] + refused
    if unsafe:
        raise BackupExtractError('the archive has unsafe members: %s; nothing was written' % _listing(unsafe))
    absent = sorted(key for key in targets if key not in present)
    if absent:
        raise BackupExtractError('the archive has no %s to restore (it has: %s); nothing was written'
                                 % (', '.join(absent), ', '.join(sorted(present)) or 'nothing'))
    return plan, skipped[0], {'sha256': stream.hash.sha256.hexdigest(), 'tar_bytes': stream.feed.tell()}


def _target_entries(key, folder):
    """The names in a target folder ([] when it does not exist yet), or a refusal naming it."""
    try:
        if not os.path.lexists(folder):
            return []
        return sorted(os.listdir(folder))
    except (OSError, IOError) as exc:
        raise BackupExtractError('cannot list target %s (%s): %s; nothing was written' % (key, folder, exc))


def _nearest_folder(path):
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _check_space(plan, targets, margin):
    """Refuse, before anything is touched, a restore that would not fit: the data, a block for
    each entry and the margin must fit in the space free to users on each target's file system
    (the current contents are kept aside until the restore is complete, so they free nothing)."""
    groups = {}
    for key in sorted(targets):
        probe = _nearest_folder(targets[key])
        try:
            device = os.stat(probe).st_dev
            space = os.statvfs(probe)
        except (OSError, IOError) as exc:
            raise BackupExtractError('cannot read the free space of target %s (%s): %s; nothing was written' % (key, targets[key], exc))
        group = groups.setdefault(device, {'keys': [], 'space': space, 'bytes': 0, 'entries': 0})
        block = space.f_frsize or space.f_bsize or 4096
        entries = plan[key]['files'] + plan[key]['dirs'] + plan[key]['symlinks']
        group['keys'].append(key)
        group['bytes'] += plan[key]['bytes'] + entries * block
        group['entries'] += entries
    for group in groups.values():
        space = group['space']
        block = space.f_frsize or space.f_bsize or 4096
        free = space.f_bavail * block
        needed = group['bytes'] + margin
        names = ', '.join('%s (%s)' % (key, targets[key]) for key in group['keys'])
        if needed > free:
            raise BackupExtractError('not enough free space for target %s: the restore needs %s (the data, the blocks of %d entries '
                                     'and a margin of %s), %s are free (%d bytes, %d needed); nothing was written'
                                     % (names, _mb(needed), group['entries'], _mb(margin), _mb(free), free, needed))
        if space.f_files and group['entries'] > space.f_favail:
            raise BackupExtractError('not enough free inodes for target %s: the restore makes %d entries, %d are free; nothing was written'
                                     % (names, group['entries'], space.f_favail))


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def _make_room(target_path, member):
    """Remove what is in the way of a member: anything but a folder where a folder goes."""
    if not os.path.lexists(target_path):
        return
    if os.path.isdir(target_path) and not os.path.islink(target_path):
        if not member.isdir():
            shutil.rmtree(target_path)
    else:
        os.unlink(target_path)


def _os_error(exc):
    if getattr(exc, 'strerror', None):
        return '[Errno %s] %s' % (exc.errno, exc.strerror)
    return str(exc)


class _Target(object):
    """One target folder during a restore: what was done to it, and how to undo that."""

    def __init__(self, key, folder, entries):
        self.key = key
        self.folder = folder
        self.entries = entries
        self.created = False
        self.held = None        # the holding folder the previous contents were moved into
        self.moved = 0
        self.written = 0
        self.before = None      # the folder's own stat before the restore

    def prepare(self, clear):
        """Create the folder, or move its contents aside when clearing."""
        if not os.path.isdir(self.folder):
            os.makedirs(self.folder)
            self.created = True
            return
        self.before = os.stat(self.folder)
        if clear and self.entries:
            held = os.path.join(self.folder, HOLDING_PREFIX + '%016x' % random.getrandbits(64))
            os.mkdir(held, 0o700)
            self.held = held
            for name in self.entries:
                os.rename(os.path.join(self.folder, name), os.path.join(held, name))
                self.moved += 1

    def held_name(self):
        return os.path.basename(self.held) if self.held else None

    def drop_held(self):
        if self.held is not None:
            shutil.rmtree(self.held)
            self.held = None

    def undo(self, clear):
        """Put the folder back as it was; returns its state in words."""
        try:
            if self.created:
                shutil.rmtree(self.folder)
                return 'removed (it did not exist before)'
            if not clear:
                if not self.written:
                    return 'not changed'
                return 'partly restored: its contents were kept (clear=false) and %d members were written over them' % self.written
            keep = self.held_name()
            for name in os.listdir(self.folder):
                if name != keep:
                    _remove(os.path.join(self.folder, name))
            if self.held is not None:
                for name in os.listdir(self.held):
                    os.rename(os.path.join(self.held, name), os.path.join(self.folder, name))
                os.rmdir(self.held)
                self.held = None
            if self.before is not None:
                os.chmod(self.folder, stat.S_IMODE(self.before.st_mode))
                if hasattr(os, 'geteuid') and os.geteuid() == 0:
                    os.chown(self.folder, self.before.st_uid, self.before.st_gid)
                os.utime(self.folder, (self.before.st_atime, self.before.st_mtime))
            return 'put back as it was'
        except (OSError, IOError) as exc:
            if self.held is not None:
                return 'partly restored; its previous contents are in %s (putting them back failed: %s)' % (self.held, _os_error(exc))
            return 'partly restored (removing what was written failed: %s)' % _os_error(exc)


class _Writer(object):
    """The writing pass's member hook: checks each member again, then writes it."""

    def __init__(self, targets, restore, stream):
        self._targets = targets     # key -> _Target
        self._real = dict((key, os.path.realpath(target.folder)) for key, target in targets.items())
        self._restore = restore
        self._stream = stream
        self._as_root = hasattr(os, 'geteuid') and os.geteuid() == 0
        self.folders = []

    def member(self, info, problem):
        if problem:
            raise _WriteError('the archive changed after it was checked: %s' % problem)
        key, relative = _destination(info.name, self._targets)
        if key is None:
            return None
        folder = self._real[key]
        try:
            if not relative:
                self.folders.append((self._restore(_copy_member(info, name='.'), folder), folder))
                return None
            if relative.split('/')[0] == self._targets[key].held_name():
                raise UnsafeMemberError('member %s: its name is the holding folder of the restore' % info.name)
            member = self._restore(_copy_member(info, name=relative), folder)
        except UnsafeMemberError as exc:
            raise _WriteError('the archive has an unsafe member: %s' % exc)
        target_path = os.path.join(folder, member.name)
        taken = None
        try:
            parent = os.path.dirname(target_path)
            if not os.path.isdir(parent):
                os.makedirs(parent)
            _make_room(target_path, member)
            if member.isdir():
                if not os.path.isdir(target_path):
                    os.mkdir(target_path, 0o700)
                self.folders.append((member, target_path))
            elif member.issym():
                os.symlink(member.linkname, target_path)
                self._attrs(member, target_path)
            else:
                handle = os.open(target_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o600)
                with os.fdopen(handle, 'wb') as out:
                    taken = self._stream.feed.consume(member.size, out.write)
                self._attrs(member, target_path)
        except (OSError, IOError) as exc:
            raise _WriteError('cannot write %s: %s' % (target_path, _os_error(exc)))
        self._targets[key].written += 1
        return taken

    def _attrs(self, member, target_path):
        if self._as_root and member.uid is not None and member.gid is not None:
            os.lchown(target_path, member.uid, member.gid)
        if not member.issym() and member.mode is not None:
            os.chmod(target_path, member.mode)
        if not member.issym():
            os.utime(target_path, (member.mtime, member.mtime))
        elif os.utime in getattr(os, 'supports_follow_symlinks', ()):
            os.utime(target_path, (member.mtime, member.mtime), follow_symlinks=False)

    def finish(self):
        """Folder modes, owners and times, deepest first (writing into them changed their times)."""
        for member, target_path in sorted(self.folders, key=lambda item: item[1], reverse=True):
            try:
                self._attrs(member, target_path)
            except (OSError, IOError) as exc:
                raise _WriteError('cannot set the mode, owner or time of %s: %s' % (target_path, _os_error(exc)))


def extract_archive(path, targets, clear=True, check_mode=False, data_filter=None, threads=None, expected_sha256=None,
                    max_total_size=0, max_ratio=DEFAULT_MAX_RATIO, space_margin=DEFAULT_SPACE_MARGIN):
    """Restore sources of an archive: volumes/<name>/... into targets[name] (a folder), and
    dumps/... into targets['dumps'] when given. Other members are skipped.

    The whole archive is read first, and before anything is written the restore is refused for
    any unsafe member (member_safety_problem, or a non-folder at a source's root), a sha256 other
    than expected_sha256, tar data beyond max_total_size bytes or max_ratio times the archive's
    size (0: no cap), or too little free space for the data plus space_margin bytes.
    The archive is then read again and written: each member checked again and passed through
    tarfile's data filter (tarfile.data_filter where Python has it, else fallback_data_filter;
    data_filter 'stdlib' or 'fallback' forces one), keeping directory modes and, as root, owners.
    That pass must end with the sha256 the first one saw.
    clear empties each target first (not the folder itself): its contents are moved into a
    holding folder inside it, removed once the restore is complete and put back if it fails.
    In check mode nothing is touched. Returns changed, targets (per target: path, files, dirs,
    symlinks, bytes, removed), skipped_members and filter. Raises BackupExtractError (with
    changed and states, what each target holds, when the targets were touched), MissingLibraryError.
    """
    if data_filter is None:
        data_filter = 'stdlib' if HAS_TAR_FILTERS else 'fallback'
    if data_filter == 'stdlib' and not HAS_TAR_FILTERS:
        raise BackupExtractError('this Python (%s) has no tarfile.data_filter' % '.'.join(str(part) for part in sys.version_info[:3]))
    if data_filter not in ('stdlib', 'fallback'):
        raise ValueError('data_filter must be stdlib or fallback')
    for name, value in (('max_total_size', max_total_size), ('max_ratio', max_ratio), ('space_margin', space_margin)):
        if value is not None and value < 0:
            raise BackupExtractError('%s must be 0 or more, not %d' % (name, value))
    expected = None
    if expected_sha256:
        try:
            expected = normalize_sha256(expected_sha256)
        except ValueError as exc:
            raise BackupExtractError('invalid expected sha256: %s' % exc)
    if not os.path.isfile(path):
        raise BackupExtractError('the archive %s does not exist or is not a file' % path)
    for key, folder in targets.items():
        if os.path.lexists(folder) and not os.path.isdir(folder):
            raise BackupExtractError('target %s (%s) is not a folder; nothing was written' % (key, folder))
    entries = dict((key, _target_entries(key, folder)) for key, folder in targets.items())
    data_filter_function = _stdlib_data_filter if data_filter == 'stdlib' else fallback_data_filter
    restore = _restore_filter(data_filter_function)
    # Cleared targets hold nothing that could redirect a member; kept ones are checked as they are.
    plan, skipped, checked = _plan_extraction(path, targets, threads, precheck=None if clear else restore,
                                              max_total_size=max_total_size, max_ratio=max_ratio)
    if expected is not None and checked['sha256'] != expected:
        raise BackupExtractError('the archive has sha256 %s, not the expected %s; nothing was written' % (checked['sha256'], expected))
    _check_space(plan, targets, space_margin or 0)
    changed = False
    for key in targets:
        if clear:
            plan[key]['removed'] = len(entries[key])
        changed = changed or bool(entries[key] and clear) or any(plan[key][kind] for kind in ('files', 'dirs', 'symlinks'))
    result = {'changed': changed, 'targets': plan, 'skipped_members': skipped, 'filter': data_filter}
    if check_mode:
        return result

    state = dict((key, _Target(key, folder, entries[key])) for key, folder in targets.items())
    try:
        for key in sorted(state):
            try:
                state[key].prepare(clear)
            except (OSError, IOError) as exc:
                raise _WriteError('cannot %s target %s (%s): %s' % ('clear' if clear and not state[key].created else 'create', key,
                                                                    targets[key], _os_error(exc)))
        _write_pass(path, state, restore, threads, checked, max_ratio)
    except Exception as exc:  # pylint: disable=broad-except  # whatever it was, the targets are put back
        states = dict((key, state[key].undo(clear)) for key in sorted(state))
        reason = str(exc) if isinstance(exc, (_WriteError, BackupReadError)) else '%s: %s' % (type(exc).__name__, exc)
        raise BackupExtractError('extraction failed: %s; %s' % (reason, '; '.join('target %s (%s) %s' % (key, targets[key], states[key])
                                                                                  for key in sorted(states))),
                                 changed=True, states=states)
    left = []
    for key in sorted(state):
        try:
            state[key].drop_held()
        except (OSError, IOError) as exc:
            left.append('target %s (%s): the previous contents are still in %s (%s)' % (key, targets[key], state[key].held, _os_error(exc)))
    if left:
        raise BackupExtractError('restored, but removing the previous contents failed: %s' % '; '.join(left), changed=True,
                                 states=dict((key, 'restored') for key in state))
    result['changed'] = True
    return result


def _write_pass(path, state, restore, threads, checked, max_ratio):
    """Read the archive again and write it; it must be the archive the plan read."""
    try:
        stream = _ArchiveStream(path, threads=threads)
    except (OSError, IOError) as exc:
        raise _WriteError('cannot open the archive again: %s' % exc)
    with stream:
        stream.guard = _ExpansionGuard(stream, checked['tar_bytes'], max_ratio)
        writer = _Writer(state, restore, stream)
        reading = _ArchiveReading(stream, member_hook=writer.member, hash_members=False)
        reading.run()
    problem = reading.read_problem or reading.whole_file_problem
    if problem:
        raise _WriteError('the archive changed after it was checked: %s' % problem if reading.limited else
                          'cannot read the archive again: %s' % problem)
    sha256 = stream.hash.sha256.hexdigest()
    if sha256 != checked['sha256']:
        raise _WriteError('the archive changed after it was checked: the file read has sha256 %s, the check read %s'
                          % (sha256, checked['sha256']))
    writer.finish()

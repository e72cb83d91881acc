# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The tar stream of a clawd.ops backup archive, and the zstd frames around it (docs/backup-format.md).

_TarHeaders reads tarfile's header rules (ustar, GNU long names, pax) from _TarFeed, a forward-only
view of the decompressed stream that hands member data over in the decompressor's own chunks;
_ZstdFrameWalker follows the zstd frame and block headers of the compressed bytes to tell a
complete stream from a cut one. Hostile headers are refused, never followed: negative sizes (in
headers and pax records), special headers (pax, GNU long name or link) over SPECIAL_HEADER_MAX
(1 MiB), and anything that would move the feed backwards.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import struct
import tarfile
import zlib

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import ZSTD_MAGIC


BLOCK = 512
NUL_BLOCK = b'\0' * BLOCK
SPECIAL_HEADER_MAX = 1 << 20    # a pax header or GNU long name/link: more is refused
SPECIAL_HEADERS_PER_MEMBER = 16


class BackupReadError(Exception):
    """The archive cannot be read to the end: truncated, corrupt or not an archive."""


class _HeaderError(BackupReadError):
    """A tar header that cannot be read; the reader adds which member it follows."""


class UnsafeMemberError(BackupReadError):
    """A member that must not be written (outside its target, a device, a hard link...)."""


class _LimitError(BackupReadError):
    """The archive expands beyond a cap (max_total_size, max_ratio)."""


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


class _TarFeed(object):
    """The decompressed tar stream: a forward-only file for tarfile's header parsing, and a way
    to pass member data (to a hash) in the decompressor's own chunks.

    A chunk (bytes or a memoryview) is valid until the next one is asked for: read() returns
    copies, consume() hands out pieces that the update callable must not keep."""

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
            # bytes(): a copy when the chunk is a view of a buffer the decompressor fills again (no-op for bytes)
            data = bytes(self._buf[self._off:self._off + size])
            self._off += size
        else:
            parts = [bytes(self._buf[self._off:])]  # copied before the next chunk reuses its buffer
            got = avail
            self._off = len(self._buf)
            while got < size and self._fill():
                step = min(size - got, len(self._buf))
                parts.append(bytes(self._buf[:step]))
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


def _member_type(info):
    if info.isdir():
        return 'dir'
    if info.issym():
        return 'symlink'
    if info.isreg() and not info.issparse():
        return 'file'
    return 'other'

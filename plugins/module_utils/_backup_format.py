# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The clawd.ops backup archive format (docs/backup-format.md): names, constants and checks shared by
the writer (backup_archive) and the reader (backup_verify, backup_extract)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import datetime
import gzip
import os
import posixpath
import re
import time
import traceback

try:
    import zstandard
    HAS_ZSTANDARD = True
    ZSTANDARD_IMPORT_ERROR = None
except ImportError:
    zstandard = None
    HAS_ZSTANDARD = False
    ZSTANDARD_IMPORT_ERROR = traceback.format_exc()

FORMAT = 'clawd.ops/backup'
FORMAT_VERSION = 1
MANIFEST_MEMBER = 'clawd-backup/manifest.json'
VOLUMES_PREFIX = 'volumes/'
DUMPS_PREFIX = 'dumps/'

SUFFIX_ZSTD = '.tar.zst'
SUFFIX_GZIP = '.tar.gz'
SUFFIX_MANIFEST = '.manifest.json'
SUFFIX_SHA256 = '.sha256'
SUFFIX_PARTIAL = '.partial'
COMPRESSION_SUFFIXES = {'zstd': SUFFIX_ZSTD, 'gzip': SUFFIX_GZIP}
# Files beside archives that are never archives themselves.
SIDE_SUFFIXES = (SUFFIX_MANIFEST, SUFFIX_SHA256, SUFFIX_PARTIAL)

ZSTD_MAGIC = b'\x28\xb5\x2f\xfd'
GZIP_MAGIC = b'\x1f\x8b'

TIME_FORMAT = '%Y%m%dT%H%M%SZ'
ISO_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
CHUNK_SIZE = 1 << 20

_VERSION_UNSAFE = re.compile(r'[^A-Za-z0-9._-]')
_ARCHIVE_NAME = re.compile(r'^(?P<service>.+?)-(?P<stamp>[0-9]{8}T[0-9]{6}Z)-(?P<version>[A-Za-z0-9._-]+)$')
_AGE = re.compile(r'^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw]?)\s*$', re.IGNORECASE)
_AGE_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
_SHA256_HEX = re.compile(r'^[0-9a-fA-F]{64}$')
_ANY_SYMLINK = ('symlink',)  # in seen_names once a symlink was seen


class MissingLibraryError(Exception):
    """A Python library needed for this archive is not installed (zstandard for .tar.zst)."""

    def __init__(self, library, import_error=None):
        super(MissingLibraryError, self).__init__('the %s Python library is needed to read this archive' % library)
        self.library = library
        self.import_error = import_error


def sanitize_version(version):
    """The app version as it appears in archive names: characters outside [A-Za-z0-9._-] become _."""
    if version is None or str(version) == '':
        return 'unknown'
    return _VERSION_UNSAFE.sub('_', str(version))


_UTC = datetime.timezone.utc


def _utc_datetime(when_utc):
    if when_utc is None:
        when_utc = time.time()
    if isinstance(when_utc, (int, float)):
        return datetime.datetime.fromtimestamp(int(when_utc), _UTC).replace(tzinfo=None)
    if when_utc.tzinfo is not None:
        when_utc = when_utc.astimezone(_UTC).replace(tzinfo=None)
    return when_utc


def archive_name(service, when_utc=None, version=None, compression='zstd'):
    """The archive's file name: <service>-<YYYYmmddTHHMMSSZ>-<version>.tar.zst (or .tar.gz).

    when_utc is a datetime (naive ones are taken as UTC), epoch seconds, or None for now.
    """
    if compression not in COMPRESSION_SUFFIXES:
        raise ValueError('unknown compression %r: use zstd or gzip' % (compression,))
    if not service or '/' in service:
        raise ValueError('invalid service name %r' % (service,))
    stamp = _utc_datetime(when_utc).strftime(TIME_FORMAT)
    return '%s-%s-%s%s' % (service, stamp, sanitize_version(version), COMPRESSION_SUFFIXES[compression])


def parse_archive_name(name):
    """What an archive's name says, or None when it is not an archive name of this format.

    Returns a dict: service, created (ISO 8601 UTC, for example 2026-11-23T17:50:00Z), timestamp
    (epoch seconds), version and compression (zstd or gzip).
    """
    base = os.path.basename(name)
    for compression, suffix in COMPRESSION_SUFFIXES.items():
        if base.endswith(suffix):
            stem = base[:-len(suffix)]
            break
    else:
        return None
    match = _ARCHIVE_NAME.match(stem)
    if not match:
        return None
    try:
        created = datetime.datetime.strptime(match.group('stamp'), TIME_FORMAT)
    except ValueError:
        return None
    return {
        'service': match.group('service'),
        'created': created.strftime(ISO_FORMAT),
        'timestamp': calendar.timegm(created.timetuple()),
        'version': match.group('version'),
        'compression': compression,
    }


def checksum_path(archive_path):
    return archive_path + SUFFIX_SHA256


def manifest_path(archive_path):
    return archive_path + SUFFIX_MANIFEST


def partial_path(archive_path):
    return archive_path + SUFFIX_PARTIAL


def sha256_line(hexdigest, archive_path):
    """The content of <archive>.sha256, in sha256sum's format."""
    return '%s  %s\n' % (hexdigest, os.path.basename(archive_path))


def read_sha256_file(path):
    """The hex sha256 (lower case) written in a sha256sum-format file; ValueError when malformed."""
    with open(path, 'rb') as handle:
        text = handle.read(4096).decode('utf-8', 'replace')
    fields = text.split()
    if not fields or not _SHA256_HEX.match(fields[0]):
        raise ValueError('%s does not start with a hex sha256' % path)
    return fields[0].lower()


def normalize_sha256(value):
    """An expected sha256 as given by a user: the hex digest alone, or a sha256sum line."""
    fields = str(value).split()
    if not fields or not _SHA256_HEX.match(fields[0]):
        raise ValueError('%r is not a hex sha256' % (value,))
    return fields[0].lower()


def parse_age(value):
    """Seconds in an age such as 25h, 90m, 2d, 1w, 30s or 3600 (plain seconds); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError('invalid age %r: use seconds or a number followed by s, m, h, d or w (for example 25h)' % (value,))
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError('invalid age %r: it cannot be negative' % (value,))
        return value
    match = _AGE.match(str(value))
    if not match:
        raise ValueError('invalid age %r: use seconds or a number followed by s, m, h, d or w (for example 25h)' % (value,))
    seconds = float(match.group(1)) * _AGE_UNITS[match.group(2).lower()]
    return int(seconds) if seconds == int(seconds) else seconds


def detect_compression(head):
    """zstd, gzip or None from the first bytes of a file."""
    if head[:4] == ZSTD_MAGIC or (len(head) >= 4 and head[1:4] == b'\x2a\x4d\x18' and bytearray(head)[0] & 0xf0 == 0x50):
        return 'zstd'  # a zstd frame, or a skippable frame before one
    if head[:2] == GZIP_MAGIC:
        return 'gzip'
    return None


def detect_file_compression(path):
    with open(path, 'rb') as handle:
        return detect_compression(handle.read(4))


def open_compressed_reader(fileobj, compression=None, read_size=CHUNK_SIZE):
    """A readable stream of the tar bytes inside fileobj (compressed with zstd or gzip).

    compression None detects it from the magic bytes (fileobj must then be seekable).
    Raises MissingLibraryError for zstd without the zstandard library and ValueError for a
    file that is neither zstd nor gzip.
    """
    if compression is None:
        start = fileobj.tell()
        head = fileobj.read(4)
        fileobj.seek(start)
        compression = detect_compression(head)
        if compression is None:
            raise ValueError('not a zstd or gzip file (it starts with %s)' % (' '.join('%02x' % c for c in bytearray(head)) or 'nothing'))
    if compression == 'zstd':
        if not HAS_ZSTANDARD:
            raise MissingLibraryError('zstandard', ZSTANDARD_IMPORT_ERROR)
        decompressor = zstandard.ZstdDecompressor()
        try:
            return decompressor.stream_reader(fileobj, read_size=read_size, read_across_frames=True)
        except TypeError:  # zstandard before 0.16 reads one frame only; the writer writes one
            return decompressor.stream_reader(fileobj, read_size=read_size)
    if compression == 'gzip':
        return gzip.GzipFile(fileobj=fileobj, mode='rb')
    raise ValueError('unknown compression %r: use zstd or gzip' % (compression,))


def normalize_member_name(name):
    """A member name without ./ components, repeated or trailing slashes (for comparisons)."""
    if name and name[0] not in './' and name[-1] != '/' and '//' not in name and '/.' not in name:
        return name
    parts = [part for part in name.split('/') if part not in ('', '.')]
    normalized = '/'.join(parts)
    return '/' + normalized if name.startswith('/') else normalized


def source_root(name):
    """The folder a member belongs to: volumes/<source> for volumes, else its first component."""
    parts = normalize_member_name(name).split('/')
    if parts[0] == 'volumes' and len(parts) > 1:
        return 'volumes/' + parts[1]
    return parts[0]


def _member_kind(tarinfo):
    if tarinfo.ischr():
        return 'character device'
    if tarinfo.isblk():
        return 'block device'
    if tarinfo.isfifo():
        return 'fifo'
    if tarinfo.islnk():
        return 'hard link'
    if tarinfo.issparse():
        return 'sparse file'
    if tarinfo.isreg() or tarinfo.isdir() or tarinfo.issym():
        return None
    return 'member of tar type %r' % (tarinfo.type,)


def _link_problem(name, linkname):
    """Why a symlink named name pointing at linkname leaves its source folder, or None."""
    if not linkname:
        return 'symlink with an empty target'
    if linkname.startswith('/'):
        return 'symlink to the absolute path %s' % linkname
    parts = [part for part in linkname.split('/') if part not in ('', '.')]
    seen_normal = False
    for part in parts:
        if part == '..':
            if seen_normal:
                # a/../b resolves through a, which may itself be a symlink: refuse rather than guess
                return "symlink target %s has '..' after a folder name" % linkname
        else:
            seen_normal = True
    root = source_root(name)
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(normalize_member_name(name)), linkname))
    if resolved != root and not resolved.startswith(root + '/'):
        return 'symlink to %s leaves %s/' % (linkname, root)
    return None


def member_safety_problem(tarinfo, seen_names):
    """Why extracting this member would be unsafe, or None when it is safe.

    Unsafe: an absolute name, a '..' component, a name seen before (seen_names, a set the caller
    starts empty for each archive and that this function fills), a name below a symlink member,
    a symlink whose target is absolute or leaves its source folder (volumes/<name>/), hard links,
    devices, fifos and any other special member. The reason names the member and the problem.
    """
    name = tarinfo.name
    normalized = normalize_member_name(name)
    problem = None
    kind = _member_kind(tarinfo)
    if name.startswith('/'):
        problem = 'absolute path'
    elif '..' in name.split('/'):
        problem = "'..' in its path"
    elif not normalized and not (tarinfo.isdir() and name in ('.', './')):  # ./ is where GNU tar -C dir . starts
        problem = 'empty name'
    elif normalized in seen_names:
        problem = 'duplicate name (it is in the archive more than once)'
    elif kind == 'hard link':
        problem = 'hard link to %s (only files, folders and symlinks are allowed)' % tarinfo.linkname
    elif kind is not None:
        problem = '%s (only files, folders and symlinks are allowed)' % kind
    elif tarinfo.issym():
        problem = _link_problem(name, tarinfo.linkname)
    if problem is None and _ANY_SYMLINK in seen_names:
        parent = normalized
        while problem is None:
            cut = parent.rfind('/')
            if cut <= 0:
                break
            parent = parent[:cut]
            if ('symlink', parent) in seen_names:
                problem = 'its path goes through the symlink %s' % parent
    seen_names.add(normalized)
    if tarinfo.issym():
        seen_names.add(('symlink', normalized))
        seen_names.add(_ANY_SYMLINK)
    if problem is None:
        return None
    return 'member %s: %s' % (name, problem)

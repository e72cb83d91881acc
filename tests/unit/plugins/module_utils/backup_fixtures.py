# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes clawd.ops backup archives (docs/backup-format.md) for the tests and the benchmark.

Straight from tarfile and zstandard/gzip, independent of the collection's writer, and able to
write what the writer never would (unsafe members, wrong manifests) so the reader can be tested.
A member is a dict: name, type (file, dir, symlink, hardlink, chr, blk, fifo), data (bytes) or
path (a file to copy), mode, uid, gid, mtime, target (for links).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import stat
import tarfile

import zstandard

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name

MANIFEST_MEMBER = 'clawd-backup/manifest.json'
TYPES = {
    'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE,
    'chr': tarfile.CHRTYPE, 'blk': tarfile.BLKTYPE, 'fifo': tarfile.FIFOTYPE,
}


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def members_from_folder(source, folder):
    """Members for a folder as volumes/<source>/..., in walk order, the folder itself first."""
    members = [_member_from_path('volumes/%s' % source, folder)]
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            full = os.path.join(root, name)
            relative = os.path.relpath(full, folder).replace(os.sep, '/')
            members.append(_member_from_path('volumes/%s/%s' % (source, relative), full))
    return members


def _member_from_path(name, path):
    info = os.lstat(path)
    member = {'name': name, 'mode': stat.S_IMODE(info.st_mode), 'uid': info.st_uid, 'gid': info.st_gid, 'mtime': int(info.st_mtime)}
    if stat.S_ISLNK(info.st_mode):
        member.update(type='symlink', target=os.readlink(path))
    elif stat.S_ISDIR(info.st_mode):
        member.update(type='dir')
    else:
        member.update(type='file', path=path, size=info.st_size)
    return member


def _member_size(member):
    if member.get('type', 'file') != 'file':
        return 0
    if 'data' in member:
        return len(member['data'])
    return member['size'] if 'size' in member else os.path.getsize(member['path'])


def _member_sha256(member):
    if 'data' in member:
        return sha256_bytes(member['data'])
    return file_sha256(member['path'])


def manifest_for(members, service='claudebox', compression='zstd', created_at='2026-11-23T17:50:00Z', app_version='1.0.0'):
    """The manifest the format asks for, listing every member given (in order)."""
    files = []
    sources = {}
    for member in members:
        kind = member.get('type', 'file')
        entry = {'path': member['name'].rstrip('/'), 'type': kind, 'mode': '%04o' % member.get('mode', 0o755 if kind == 'dir' else 0o644)}
        if kind == 'file':
            entry['size'] = _member_size(member)
            entry['sha256'] = _member_sha256(member)
        if kind in ('symlink', 'hardlink'):
            entry['target'] = member['target']
            del entry['mode']
        files.append(entry)
        parts = member['name'].split('/')
        if parts[0] == 'volumes' and len(parts) > 1:
            totals = sources.setdefault(parts[1], {'name': parts[1], 'path': '/srv/%s' % parts[1], 'files': 0, 'bytes': 0})
            if kind == 'file':
                totals['files'] += 1
                totals['bytes'] += entry['size']
    dumps = [{'name': member['name'].split('/', 1)[1], 'type': 'sqlite', 'source': '/data/app.db'}
             for member in members if member['name'].startswith('dumps/')]
    return {
        'format': 'clawd.ops/backup', 'format_version': 1, 'created_at': created_at, 'host': 'lab1', 'service': service,
        'app_version': app_version, 'deployment_id': None, 'compression': compression,
        'sources': list(sources.values()), 'dumps': dumps, 'files': files,
        'totals': {'files': sum(1 for entry in files if entry['type'] == 'file'),
                   'bytes': sum(entry.get('size', 0) for entry in files if entry['type'] == 'file')},
    }


def _tarinfo(member):
    kind = member.get('type', 'file')
    info = tarfile.TarInfo(member['name'])
    info.type = TYPES[kind]
    info.mode = member.get('mode', 0o755 if kind == 'dir' else 0o644)
    info.uid = member.get('uid', 0)
    info.gid = member.get('gid', 0)
    info.uname = info.gname = ''
    info.mtime = member.get('mtime', 1795000000)
    if kind in ('symlink', 'hardlink'):
        info.linkname = member['target']
    if kind in ('chr', 'blk'):
        info.devmajor, info.devminor = member.get('dev', (1, 3))
    info.size = _member_size(member)
    return info


def _add(tar, member):
    info = _tarinfo(member)
    if member.get('type', 'file') != 'file':
        tar.addfile(info)
    elif 'data' in member:
        tar.addfile(info, io.BytesIO(member['data']))
    else:
        with open(member['path'], 'rb') as handle:
            tar.addfile(info, handle)


class _Closing(object):
    """Opens the compressor over a file; closing it finishes the compressed stream, not the file."""

    def __init__(self, handle, compression, level, threads):
        self.handle = handle
        if compression == 'zstd':
            compressor = zstandard.ZstdCompressor(level=level, write_checksum=True, threads=threads)
            self.stream = compressor.stream_writer(handle, closefd=False)
        else:
            self.stream = gzip.GzipFile(fileobj=handle, mode='wb', compresslevel=level if level <= 9 else 6, mtime=0)

    def write(self, data):
        return self.stream.write(data)

    def close(self):
        self.stream.close()


def build_archive(path, members, compression='zstd', manifest='auto', manifest_edit=None, manifest_position=None,
                  level=3, checksum_file=True, manifest_file=True, tar_format=tarfile.PAX_FORMAT, threads=0, service='claudebox'):
    """Write an archive of members at path; return {'path', 'sha256', 'manifest'}.

    manifest: 'auto' (made from members, then passed to manifest_edit to spoil it), a dict (used
    as it is) or None (no manifest member). manifest_position puts the manifest member at that
    index instead of last. checksum_file and manifest_file write <path>.sha256 and
    <path>.manifest.json beside it.
    """
    if manifest == 'auto':
        manifest = manifest_for(members, service=service, compression=compression)
        if manifest_edit is not None:
            manifest_edit(manifest)
    manifest_bytes = None if manifest is None else json.dumps(manifest, indent=1, sort_keys=True).encode('utf-8')
    ordered = list(members)
    if manifest_bytes is not None:
        manifest_member = {'name': MANIFEST_MEMBER, 'type': 'file', 'data': manifest_bytes, 'mode': 0o644}
        ordered.insert(len(ordered) if manifest_position is None else manifest_position, manifest_member)
    with open(path, 'wb') as handle:
        compressed = _Closing(handle, compression, level, threads)
        with tarfile.open(fileobj=compressed, mode='w|', format=tar_format, bufsize=1 << 20) as tar:
            for member in ordered:
                _add(tar, member)
        compressed.close()
    digest = file_sha256(path)
    if checksum_file:
        with open(path + '.sha256', 'w') as handle:
            handle.write('%s  %s\n' % (digest, os.path.basename(path)))
    if manifest_file and manifest_bytes is not None:
        with open(path + '.manifest.json', 'wb') as handle:
            handle.write(manifest_bytes)
    return {'path': path, 'sha256': digest, 'manifest': manifest}


def sample_members():
    """A small source with a nested folder, an executable, a symlink and an empty file, plus a dump."""
    return [
        {'name': 'volumes/workspace', 'type': 'dir', 'mode': 0o755, 'uid': 1000, 'gid': 1000},
        {'name': 'volumes/workspace/notes.txt', 'data': b'hello backups\n' * 100, 'mode': 0o644, 'uid': 1000, 'gid': 1000},
        {'name': 'volumes/workspace/run.sh', 'data': b'#!/bin/sh\necho hi\n', 'mode': 0o755, 'uid': 1000, 'gid': 1000},
        {'name': 'volumes/workspace/empty', 'data': b'', 'mode': 0o600, 'uid': 1000, 'gid': 1000},
        {'name': 'volumes/workspace/sub', 'type': 'dir', 'mode': 0o700, 'uid': 1000, 'gid': 1000},
        {'name': 'volumes/workspace/sub/data.bin', 'data': bytes(range(256)) * 300, 'mode': 0o640, 'uid': 1000, 'gid': 1000},
        {'name': 'volumes/workspace/link', 'type': 'symlink', 'target': 'notes.txt', 'uid': 1000, 'gid': 1000},
        {'name': 'volumes/workspace/sub/up', 'type': 'symlink', 'target': '../run.sh', 'uid': 1000, 'gid': 1000},
        {'name': 'volumes/config', 'type': 'dir', 'mode': 0o755},
        {'name': 'volumes/config/app.toml', 'data': b'[app]\nname = "claudebox"\n', 'mode': 0o644},
        {'name': 'dumps/app.sqlite3', 'data': b'SQLite format 3\0' + b'\1' * 4000, 'mode': 0o600},
    ]


# Hostile archives and a bounded way to read them -------------------------------------------------

def header_block(name, size=0, kind=tarfile.REGTYPE, size_field=None, mode=0o644, name_bytes=None):
    """One ustar header block; size_field (12 bytes) replaces the size as written, checksum fixed."""
    info = tarfile.TarInfo(name)
    info.size, info.type, info.mode, info.mtime = size, kind, mode, 1795000000
    block = bytearray(info.tobuf(tarfile.USTAR_FORMAT, 'utf-8', 'surrogateescape'))
    if name_bytes is not None:
        block[0:100] = name_bytes.ljust(100, b'\0')
    if size_field is not None:
        block[124:136] = size_field
    block[148:156] = b' ' * 8
    block[148:156] = b'%06o\0 ' % sum(block)
    return bytes(block)


def padded(data):
    return data + b'\0' * (-len(data) % 512)


def end_marker():
    return b'\0' * 1024


def compress(path, payload, compression='zstd'):
    """Write payload (a tar stream) compressed to path; returns path."""
    with open(path, 'wb') as handle:
        if compression == 'zstd':
            handle.write(zstandard.ZstdCompressor(write_checksum=True).compress(payload))
        else:
            with gzip.GzipFile(fileobj=handle, mode='wb', mtime=0) as stream:
                stream.write(payload)
    return path


def _vm_size():
    with open('/proc/self/status') as handle:
        for line in handle:
            if line.startswith('VmSize:'):
                return int(line.split()[1]) * 1024
    return 0


def run_bounded(func, args=(), timeout=60, extra_memory=512 << 20):
    """func(*args) in a forked child limited to its current address space + extra_memory, killed
    after timeout seconds: a reader that loops or eats memory fails the test instead of the host.

    Returns ('ok', value) or ('raised', 'Type: message'); raises AssertionError when the child
    did not answer in time or died."""
    import multiprocessing
    import resource
    context = multiprocessing.get_context('fork')
    receive, send = context.Pipe(duplex=False)

    def child():
        try:
            resource.setrlimit(resource.RLIMIT_AS, (_vm_size() + extra_memory, resource.getrlimit(resource.RLIMIT_AS)[1]))
            outcome = ('ok', func(*args))
        except BaseException as exc:  # pylint: disable=broad-except  # handed to the test
            outcome = ('raised', '%s: %s' % (type(exc).__name__, exc))
        send.send(outcome)

    process = context.Process(target=child)
    process.start()
    try:
        if not receive.poll(timeout):
            raise AssertionError('the reader did not finish within %ds (looping or swapping?)' % timeout)
        return receive.recv()
    except EOFError:
        raise AssertionError('the reader process died (exit code %s)' % process.exitcode)
    finally:
        if process.is_alive():
            process.kill()
        process.join()


# Shared by the reader's tests (verification, tar layer, extraction) ---------------------------------

NOW = 1795456200  # 2026-11-23T17:50:00Z
SUFFIX = {'zstd': '.tar.zst', 'gzip': '.tar.gz'}
HAVE_GNU_TAR = shutil.which('tar') is not None and shutil.which('zstd') is not None


def noise(size, seed=7):
    return random.Random(seed).getrandbits(size * 8).to_bytes(size, 'little') if size else b''


def name_for(compression='zstd', when=NOW):
    return archive_name('claudebox', when, '1.0.0', compression)


def make(tmp_path, members=None, compression='zstd', when=NOW, **kwargs):
    return build_archive(str(tmp_path / name_for(compression, when)), sample_members() if members is None else members,
                         compression=compression, **kwargs)


def check(report, name):
    found = [item for item in report['checks'] if item['name'] == name]
    assert len(found) == 1, 'no single %s check in %s' % (name, report['checks'])
    return found[0]


def failed_names(report):
    return [item['name'] for item in report['checks'] if not item['ok']]


def tree(folder):
    """{relative path: (kind, mode, content or link target)} of everything under folder."""
    found = {}
    for root, dirs, files in os.walk(str(folder)):
        for name in dirs + files:
            full = os.path.join(root, name)
            relative = os.path.relpath(full, str(folder))
            info = os.lstat(full)
            if os.path.islink(full):
                found[relative] = ('symlink', None, os.readlink(full))
            elif os.path.isdir(full):
                found[relative] = ('dir', info.st_mode & 0o7777, None)
            else:
                with open(full, 'rb') as handle:
                    found[relative] = ('file', info.st_mode & 0o7777, handle.read())
    return found


UNSAFE = {
    'absolute path': ({'name': '/etc/cron.d/evil', 'data': b'* * * * * root sh\n'}, 'member /etc/cron.d/evil: absolute path'),
    'dot-dot': ({'name': 'volumes/workspace/../../etc/evil', 'data': b'x'}, "member volumes/workspace/../../etc/evil: '..' in its path"),
    'symlink out of its source': ({'name': 'volumes/workspace/out', 'type': 'symlink', 'target': '../config/app.toml'},
                                  'member volumes/workspace/out: symlink to ../config/app.toml leaves volumes/workspace/'),
    'absolute symlink': ({'name': 'volumes/workspace/passwd', 'type': 'symlink', 'target': '/etc/passwd'},
                         'member volumes/workspace/passwd: symlink to the absolute path /etc/passwd'),
    'hard link': ({'name': 'volumes/workspace/hard', 'type': 'hardlink', 'target': 'volumes/workspace/notes.txt'},
                  'member volumes/workspace/hard: hard link to volumes/workspace/notes.txt (only files, folders and symlinks are allowed)'),
    'character device': ({'name': 'volumes/workspace/null', 'type': 'chr'},
                         'member volumes/workspace/null: character device (only files, folders and symlinks are allowed)'),
    'block device': ({'name': 'volumes/workspace/sda', 'type': 'blk'},
                     'member volumes/workspace/sda: block device (only files, folders and symlinks are allowed)'),
    'fifo': ({'name': 'volumes/workspace/pipe', 'type': 'fifo'}, 'member volumes/workspace/pipe: fifo (only files, folders and symlinks are allowed)'),
    'duplicate name': ({'name': 'volumes/workspace/notes.txt', 'data': b'second copy'},
                       'member volumes/workspace/notes.txt: duplicate name (it is in the archive more than once)'),
    'through a symlink': ({'name': 'volumes/workspace/link/x', 'data': b'x'},
                          'member volumes/workspace/link/x: its path goes through the symlink volumes/workspace/link'),
}

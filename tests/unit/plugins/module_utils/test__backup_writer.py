# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing archives on real folders: round trips through the reader and GNU tar, refusals, failures."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import tarfile
import threading
import time

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _backup_dumps, _backup_stream, _backup_writer
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import open_compressed_reader, read_sha256_file
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import verify_archive
from ansible_collections.clawd.ops.plugins.module_utils._backup_writer import BackupError, create_archive

NOW = 1795456200  # 2026-11-23T17:50:00Z
NAME = 'claudebox-20261123T175000Z-1.0.0'
Usage = collections.namedtuple('Usage', 'total used free')

needs_tar = pytest.mark.skipif(shutil.which('tar') is None, reason='GNU tar is not installed')
needs_zstd = pytest.mark.skipif(shutil.which('zstd') is None, reason='the zstd command is not installed')


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def tree(tmp_path):
    """A source folder with every kind of entry; returns (source path, dest path)."""
    src = tmp_path / 'src'
    (src / 'sub' / 'deeper').mkdir(parents=True)
    (src / 'empty').mkdir()
    (src / 'private').mkdir(mode=0o700)
    os.chmod(str(src / 'private'), 0o700)
    (src / 'notes.txt').write_bytes(b'hello notes\n')
    (src / 'sub' / 'data.bin').write_bytes(os.urandom(300000))
    (src / 'sub' / 'deeper' / 'log.txt').write_bytes(b'line\n' * 20000)
    (src / 'run.sh').write_bytes(b'#!/bin/sh\necho hi\n')
    os.chmod(str(src / 'run.sh'), 0o750)
    (src / 'private' / 'key').write_bytes(b'secret')
    os.chmod(str(src / 'private' / 'key'), 0o600)
    os.symlink('notes.txt', str(src / 'link'))
    os.symlink('../notes.txt', str(src / 'sub' / 'uplink'))
    os.symlink('/etc/passwd', str(src / 'abs-link'))
    os.symlink('../../outside', str(src / 'sub' / 'escape'))
    os.mkfifo(str(src / 'fifo'))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(src / 'app.sock'))
    sock.close()
    dest = tmp_path / 'dest'
    dest.mkdir()
    return str(src), str(dest)


def expected_files(src):
    return {
        'volumes/ws': ('dir', 0o755, None),
        'volumes/ws/empty': ('dir', 0o755, None),
        'volumes/ws/link': ('symlink', None, 'notes.txt'),
        'volumes/ws/notes.txt': ('file', 0o644, b'hello notes\n'),
        'volumes/ws/private': ('dir', 0o700, None),
        'volumes/ws/private/key': ('file', 0o600, b'secret'),
        'volumes/ws/run.sh': ('file', 0o750, b'#!/bin/sh\necho hi\n'),
        'volumes/ws/sub': ('dir', 0o755, None),
        'volumes/ws/sub/data.bin': ('file', 0o644, open(os.path.join(src, 'sub', 'data.bin'), 'rb').read()),
        'volumes/ws/sub/deeper': ('dir', 0o755, None),
        'volumes/ws/sub/deeper/log.txt': ('file', 0o644, b'line\n' * 20000),
        'volumes/ws/sub/uplink': ('symlink', None, '../notes.txt'),
    }


def members_of(path):
    """(name, TarInfo, data) of every member, read with the stdlib only."""
    with open(path, 'rb') as handle:
        stream = open_compressed_reader(handle)
        with tarfile.open(fileobj=stream, mode='r|') as tar:
            result = []
            for info in tar:
                data = tar.extractfile(info).read() if info.isreg() else None
                result.append((info.name, info, data))
            return result


def test_zstd_round_trip_verifies_and_matches_the_manifest(tree):
    src, dest = tree
    os.umask(0o022)
    result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', deployment_id='d-42',
                            host='lab1', now=NOW)
    archive = os.path.join(dest, NAME + '.tar.zst')
    assert result['archive'] == archive
    assert sorted(os.listdir(dest)) == sorted([NAME + '.tar.zst', NAME + '.tar.zst.manifest.json', NAME + '.tar.zst.sha256'])
    assert read_sha256_file(archive + '.sha256') == result['sha256'] == sha256(open(archive, 'rb').read())
    assert open(archive + '.sha256').read() == '%s  %s.tar.zst\n' % (result['sha256'], NAME)
    assert result['size'] == os.path.getsize(archive)
    assert all(check['ok'] for check in result['verification'])
    assert [check['name'] for check in result['verification']] == ['exists', 'readable', 'safety', 'manifest', 'sha256']

    report = verify_archive(archive)
    assert report['ok'], report['checks']

    expected = expected_files(src)
    members = members_of(archive)
    names = [name for name, dummy, dummy2 in members]
    assert names[-1] == 'clawd-backup/manifest.json'
    assert names[:-1] == sorted(expected), 'depth first, sorted'
    assert result['members'] == len(members)
    assert result['bytes'] == sum(len(item[2]) for item in expected.values() if item[0] == 'file')
    for name, info, data in members[:-1]:
        kind, mode, content = expected[name]
        assert info.uname == info.gname == ''
        assert info.uid == os.getuid()
        if kind == 'file':
            assert info.isreg() and data == content and info.mode == mode
        elif kind == 'dir':
            assert info.isdir() and info.mode == mode
        else:
            assert info.issym() and info.linkname == content

    manifest_bytes = members[-1][2]
    assert open(archive + '.manifest.json', 'rb').read() == manifest_bytes
    manifest = json.loads(manifest_bytes.decode('utf-8'))
    assert manifest['format'] == 'clawd.ops/backup' and manifest['format_version'] == 1
    assert manifest['created_at'] == '2026-11-23T17:50:00Z'
    assert (manifest['host'], manifest['service'], manifest['app_version'], manifest['deployment_id']) == ('lab1', 'claudebox', '1.0.0', 'd-42')
    assert manifest['compression'] == 'zstd'
    assert manifest['dumps'] == []
    files = [item for item in expected.values() if item[0] == 'file']
    assert manifest['sources'] == [{'name': 'ws', 'path': src, 'files': len(files), 'bytes': result['bytes']}]
    assert manifest['totals'] == {'files': len(files), 'bytes': result['bytes']}
    assert [entry['path'] for entry in manifest['files']] == names[:-1]
    for entry in manifest['files']:
        kind, mode, content = expected[entry['path']]
        assert entry['type'] == kind
        if kind == 'file':
            assert entry == {'path': entry['path'], 'type': 'file', 'size': len(content), 'mode': '%04o' % mode, 'sha256': sha256(content)}
        elif kind == 'dir':
            assert entry == {'path': entry['path'], 'type': 'dir', 'mode': '%04o' % mode}
        else:
            assert entry == {'path': entry['path'], 'type': 'symlink', 'target': content}

    skipped = dict((item['member'], item['reason']) for item in result['skipped'])
    assert sorted(skipped) == ['volumes/ws/abs-link', 'volumes/ws/app.sock', 'volumes/ws/fifo', 'volumes/ws/sub/escape']
    assert skipped['volumes/ws/app.sock'].startswith('socket')
    assert skipped['volumes/ws/fifo'].startswith('fifo')
    assert 'absolute path /etc/passwd' in skipped['volumes/ws/abs-link']
    assert 'leaves volumes/ws/' in skipped['volumes/ws/sub/escape']
    assert result['changed_during_backup'] == []
    assert result['ratio'] == round(float(result['bytes']) / result['size'], 3)
    assert result['manifest'] == archive + '.manifest.json'
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600


@needs_tar
@needs_zstd
def test_gnu_tar_and_zstd_read_the_zstd_archive(tree, tmp_path):
    src, dest = tree
    result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    archive = result['archive']
    subprocess.check_call(['zstd', '-q', '-t', archive])
    listing = subprocess.check_output(['tar', '--zstd', '-tf', archive]).decode().splitlines()
    assert listing[0] == 'volumes/ws/'
    assert listing[-1] == 'clawd-backup/manifest.json'
    assert 'volumes/ws/empty/' in listing and 'volumes/ws/link' in listing
    out = tmp_path / 'out'
    out.mkdir()
    subprocess.check_call(['tar', '--zstd', '-xpf', archive, '-C', str(out)])
    restored = out / 'volumes' / 'ws'
    for name, (kind, mode, content) in expected_files(src).items():
        path = str(out / name)
        if kind == 'file':
            assert open(path, 'rb').read() == content
            assert stat.S_IMODE(os.lstat(path).st_mode) == mode
        elif kind == 'dir':
            assert os.path.isdir(path) and stat.S_IMODE(os.lstat(path).st_mode) == mode
        else:
            assert os.readlink(path) == content
    assert os.listdir(str(restored / 'empty')) == []
    assert not os.path.lexists(str(restored / 'fifo'))


@needs_tar
def test_gzip_archive_extracts_with_gnu_tar(tree, tmp_path):
    src, dest = tree
    result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', compression='gzip', level=1, now=NOW)
    archive = result['archive']
    assert archive.endswith(NAME + '.tar.gz')
    assert all(check['ok'] for check in result['verification'])
    assert verify_archive(archive)['ok']
    subprocess.check_call(['gzip', '-t', archive])
    out = tmp_path / 'out'
    out.mkdir()
    subprocess.check_call(['tar', '-xzf', archive, '-C', str(out)])
    assert (out / 'volumes' / 'ws' / 'sub' / 'deeper' / 'log.txt').read_bytes() == b'line\n' * 20000
    manifest = json.loads((out / 'clawd-backup' / 'manifest.json').read_text())
    assert manifest['compression'] == 'gzip'


def test_zstd_level_and_threads_are_used(tree, monkeypatch):
    src, dest = tree
    seen = []
    real = _backup_writer.zstandard.ZstdCompressor

    def spy(**kwargs):
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(_backup_writer.zstandard, 'ZstdCompressor', spy)
    create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], now=NOW)
    create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], level=19, threads=1, now=NOW + 1)
    assert seen == [dict(level=3, threads=-1, write_checksum=True), dict(level=19, threads=1, write_checksum=True)]


def test_several_sources_sorted_by_name(tmp_path):
    for name in ('b', 'a'):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'file').write_text(name)
    dest = tmp_path / 'dest'
    dest.mkdir()
    result = create_archive(str(dest), 'svc', [{'name': 'zeta', 'path': str(tmp_path / 'b')}, {'name': 'alpha', 'path': str(tmp_path / 'a')}],
                            now=NOW)
    names = [name for name, dummy, dummy2 in members_of(result['archive'])]
    assert names == ['volumes/alpha', 'volumes/alpha/file', 'volumes/zeta', 'volumes/zeta/file', 'clawd-backup/manifest.json']
    assert os.path.basename(result['archive']) == 'svc-20261123T175000Z-unknown.tar.zst'


def test_names_that_are_not_utf8_round_trip(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    with open(os.path.join(str(src).encode(), b'caf\xe9.txt'), 'wb') as handle:
        handle.write(b'latin-1 name')
    (src / 'r\u00e9sum\u00e9.txt').write_text('utf-8 name')
    dest = tmp_path / 'dest'
    dest.mkdir()
    result = create_archive(str(dest), 'svc', [{'name': 'ws', 'path': str(src)}], now=NOW)
    assert verify_archive(result['archive'])['ok']
    names = [name for name, dummy, dummy2 in members_of(result['archive'])]
    assert 'volumes/ws/caf\udce9.txt' in names and 'volumes/ws/r\u00e9sum\u00e9.txt' in names


def listing(path):
    return sorted(os.listdir(path))


@pytest.mark.parametrize('case', ['missing', 'file', 'unwritable'])
def test_refuses_a_bad_destination(tree, tmp_path, monkeypatch, case):
    src, dest = tree
    if case == 'missing':
        target = str(tmp_path / 'nope')
        expected = 'the destination folder %s does not exist' % target
    elif case == 'file':
        target = str(tmp_path / 'a-file')
        open(target, 'w').close()
        expected = 'the destination folder %s does not exist' % target
    else:
        target = dest
        real_access = os.access
        monkeypatch.setattr(_backup_writer.os, 'access', lambda path, mode: False if path == dest else real_access(path, mode))
        expected = 'the destination folder %s is not writable' % dest
    with pytest.raises(BackupError) as error:
        create_archive(target, 'claudebox', [{'name': 'ws', 'path': src}], now=NOW)
    assert str(error.value) == expected
    assert listing(dest) == []


def test_refuses_missing_and_unreadable_sources(tree, tmp_path, monkeypatch):
    src, dest = tree
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': str(tmp_path / 'gone')}], now=NOW)
    assert str(error.value).startswith('source ws (%s) is missing or unreadable: No such file' % (tmp_path / 'gone'))
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': os.path.join(src, 'notes.txt')}], now=NOW)
    assert str(error.value) == 'source ws (%s) is not a folder' % os.path.join(src, 'notes.txt')

    key = os.path.join(src, 'private', 'key')
    real_access = os.access
    monkeypatch.setattr(_backup_writer.os, 'access', lambda path, mode: False if path == key else real_access(path, mode))
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], now=NOW)
    assert str(error.value) == 'cannot read 1 item(s) of the sources: %s' % key
    monkeypatch.setattr(_backup_writer.os, 'access', lambda path, mode: False if path == src else real_access(path, mode))
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], now=NOW)
    assert str(error.value) == 'source ws (%s) is not readable' % src
    assert listing(dest) == []


@pytest.mark.parametrize('sources, sqlite, message', [
    ([], [], 'nothing to back up: give sources, sqlite, postgres or several'),
    ([{'name': '../x', 'path': '/nonexistent'}], [], "invalid source name '../x': use letters, digits, \".\", \"_\" and \"-\""),
    ([{'name': 'a', 'path': '/nonexistent'}, {'name': 'a', 'path': '/nonexistent2'}], [], 'source name a is given twice'),
    ([{'name': 'a', 'path': ''}], [], 'source a has no path'),
    ([], [{'name': 'app', 'path': '/nonexistent/app.db'}], 'SQLite database app (/nonexistent/app.db) is missing or not a file'),
    ([], [{'name': 'app', 'path': '/x.db'}, {'name': 'app.sqlite3', 'path': '/y.db'}], 'SQLite dump name app.sqlite3 is given twice'),
    ([{'name': 'gone', 'path': '/nonexistent'}], [{'name': 'a b', 'path': '/x.db'}],
     "invalid SQLite dump name 'a b': use letters, digits, \".\", \"_\" and \"-\""),
])
def test_refuses_bad_arguments(tmp_path, sources, sqlite, message):
    with pytest.raises(BackupError) as error:
        create_archive(str(tmp_path), 'svc', sources, sqlite=sqlite, now=NOW)
    assert str(error.value) == message
    assert listing(str(tmp_path)) == []


def test_refuses_a_file_that_is_not_a_sqlite_database(tmp_path):
    bogus = tmp_path / 'app.db'
    bogus.write_bytes(b'this is not a database' * 100)
    dest = tmp_path / 'dest'
    dest.mkdir()
    with pytest.raises(BackupError) as error:
        create_archive(str(dest), 'svc', [], sqlite=[{'name': 'app', 'path': str(bogus)}], now=NOW)
    assert str(error.value) == 'SQLite database app (%s) cannot be read: file is not a database' % bogus
    assert listing(str(dest)) == []


def test_refuses_above_the_disk_threshold(tree, monkeypatch):
    src, dest = tree
    raw = sum(len(item[2]) for item in expected_files(src).values() if item[0] == 'file')
    # 1 MB filesystem, 700 kB used: the sources' raw size would take it to 70% + raw.
    monkeypatch.setattr(_backup_writer.shutil, 'disk_usage', lambda path: Usage(1000000, 700000, 300000))
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], max_disk_percent=90, now=NOW)
    percent = 100.0 * (700000 + raw) / 1000000
    assert str(error.value) == (
        'the sources hold %d bytes; archiving them could fill the filesystem of %s to %.1f%% (700000 of 1000000 bytes used now), '
        'above max_disk_percent=90 (the raw size is the worst case: it assumes no compression at all)' % (raw, dest, percent))
    assert listing(dest) == []
    with pytest.raises(BackupError):
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], max_disk_percent=90, now=NOW, check_mode=True)
    # Just below the threshold it goes ahead.
    monkeypatch.setattr(_backup_writer.shutil, 'disk_usage', lambda path: Usage(10 ** 7, 9 * 10 ** 6 - raw, 10 ** 6 + raw))
    create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], max_disk_percent=90, now=NOW)
    assert len(listing(dest)) == 3


def test_refuses_when_the_archive_or_its_partial_exists(tree):
    import fcntl
    src, dest = tree
    partial = os.path.join(dest, NAME + '.tar.zst.partial')
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a live run writes it (a partial nobody holds is a leftover, removed)
        with pytest.raises(BackupError) as error:
            create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    finally:
        os.close(fd)
    assert str(error.value) == '%s already exists: another backup run may be writing it' % partial
    assert listing(dest) == [NAME + '.tar.zst.partial']
    os.remove(partial)
    final = os.path.join(dest, NAME + '.tar.zst')
    open(final, 'w').close()
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    assert str(error.value) == '%s already exists: another backup run may be writing it' % final
    assert listing(dest) == [NAME + '.tar.zst']


def test_check_mode_writes_nothing_and_says_what_would_be_archived(tree):
    src, dest = tree
    result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW, check_mode=True)
    assert listing(dest) == []
    expected = expected_files(src)
    assert result['archive'] == os.path.join(dest, NAME + '.tar.zst')
    assert result['members'] == len(expected) + 1
    assert result['bytes'] == sum(len(item[2]) for item in expected.values() if item[0] == 'file')
    assert len(result['skipped']) == 4
    real = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    assert (real['members'], real['bytes'], real['archive']) == (result['members'], result['bytes'], result['archive'])


class Boom(Exception):
    pass


@pytest.mark.parametrize('error', [OSError(28, 'No space left on device'), KeyboardInterrupt(), Boom('unexpected')])
def test_failure_in_the_middle_leaves_nothing(tree, monkeypatch, error):
    src, dest = tree
    real_add = _backup_writer._ArchiveWriter.add_entry
    added = []

    def add_then_fail(self, entry, items=None):
        if len(added) == 5:
            assert os.path.getsize(self.partial) >= 0
            assert listing(dest) == [NAME + '.tar.zst.partial']
            raise error
        added.append(entry['member'])
        return real_add(self, entry, items)

    monkeypatch.setattr(_backup_writer._ArchiveWriter, 'add_entry', add_then_fail)
    with pytest.raises(type(error) if not isinstance(error, OSError) else BackupError) as raised:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    if isinstance(error, OSError):
        assert str(raised.value).startswith('archiving %s failed: the filesystem of the destination folder %s is full ('
                                            % (os.path.join(src, 'private', 'key'), dest))
        assert str(raised.value).endswith(' bytes) ([Errno 28] No space left on device)')
    assert len(added) == 5
    assert listing(dest) == []
    assert [thread.name for thread in threading.enumerate() if thread.name.startswith('clawd-backup')] == []


def test_failed_verification_leaves_nothing(tree, monkeypatch):
    src, dest = tree
    seen = []

    def failing_verify(path, expected_sha256=None):
        seen.append((path, expected_sha256))
        report = verify_archive(path, expected_sha256=expected_sha256)
        report['checks'].append({'name': 'readable', 'ok': False, 'reason': 'the archive is truncated'})
        return report

    monkeypatch.setattr(_backup_writer, 'verify_archive', failing_verify)
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    assert str(error.value) == 'the new archive did not verify: readable: the archive is truncated'
    assert seen[0][0] == os.path.join(dest, NAME + '.tar.zst.partial') and len(seen[0][1]) == 64
    assert listing(dest) == []


def test_failure_while_writing_the_side_files_leaves_nothing(tree, monkeypatch):
    src, dest = tree
    real_write = _backup_writer._write_side_file

    def write_then_fail(path, data):
        real_write(path, data)
        if '.sha256' in path:
            raise OSError(5, 'Input/output error')

    monkeypatch.setattr(_backup_writer, '_write_side_file', write_then_fail)
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    assert str(error.value) == 'committing %s failed: [Errno 5] Input/output error' % os.path.join(dest, NAME + '.tar.zst')
    assert listing(dest) == []


def test_files_that_change_while_read_keep_the_archive_whole(tmp_path, monkeypatch):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'grows.log').write_bytes(b'a' * 3000000)
    (src / 'shrinks.db').write_bytes(b'b' * 3000000)
    (src / 'steady.txt').write_bytes(b'c' * 1000)
    dest = tmp_path / 'dest'
    dest.mkdir()
    real_items = _backup_stream._file_items

    def meddling_items(path, *args):
        meddled = False
        for item in real_items(path, *args):
            yield item
            if meddled:
                continue
            if item[0] == 'data' and path.endswith('grows.log'):
                with open(path, 'ab') as handle:
                    handle.write(b'A' * 500000)
                meddled = True
            elif item[0] == 'start' and path.endswith('shrinks.db'):
                with open(path, 'r+b') as handle:
                    handle.truncate(2000000)
                meddled = True

    monkeypatch.setattr(_backup_stream, '_file_items', meddling_items)
    result = create_archive(str(dest), 'svc', [{'name': 'ws', 'path': str(src)}], now=NOW)
    changed = dict((item['member'], item['reason']) for item in result['changed_during_backup'])
    assert sorted(changed) == ['volumes/ws/grows.log', 'volumes/ws/shrinks.db']
    assert changed['volumes/ws/grows.log'] == 'changed while being read (size 3000000 then 3500000): the first 3000000 bytes were archived'
    assert changed['volumes/ws/shrinks.db'] == 'shrank while being read: 1000000 missing bytes archived as zeros'
    members = dict((name, data) for name, dummy, data in members_of(result['archive']))
    assert members['volumes/ws/grows.log'] == b'a' * 3000000
    assert members['volumes/ws/shrinks.db'] == b'b' * 2000000 + b'\0' * 1000000
    assert members['volumes/ws/steady.txt'] == b'c' * 1000
    assert verify_archive(result['archive'])['ok']


@pytest.mark.parametrize('size', [11, 3 << 20], ids=['small, read inline', 'big, read ahead'])
def test_a_file_that_vanishes_before_it_is_read_is_reported(tmp_path, monkeypatch, size):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'a.tmp').write_bytes(b'x' * size)
    (src / 'b.txt').write_text('stays')
    dest = tmp_path / 'dest'
    dest.mkdir()
    real_plan = _backup_writer._plan

    def plan_then_remove(*args):
        planned = real_plan(*args)
        os.remove(str(src / 'a.tmp'))
        return planned

    monkeypatch.setattr(_backup_writer, '_plan', plan_then_remove)
    result = create_archive(str(dest), 'svc', [{'name': 'ws', 'path': str(src)}], now=NOW)
    assert result['changed_during_backup'] == [{
        'path': str(src / 'a.tmp'), 'member': 'volumes/ws/a.tmp',
        'reason': 'not archived: it could not be opened any more (No such file or directory)'}]
    assert [name for name, dummy, dummy2 in members_of(result['archive'])] == ['volumes/ws', 'volumes/ws/b.txt', 'clawd-backup/manifest.json']


def test_sqlite_copy_is_consistent_while_another_connection_writes(tmp_path):
    database = str(tmp_path / 'app.db')
    setup = sqlite3.connect(database)
    setup.execute('PRAGMA journal_mode=WAL')
    setup.execute('CREATE TABLE ledger (batch INTEGER, amount INTEGER)')
    setup.commit()
    setup.close()
    stop = threading.Event()
    batches = [0]

    def write():
        # Each transaction moves money between two rows: the sum is always 0, rows come in pairs.
        connection = sqlite3.connect(database, timeout=30)
        while not stop.is_set():
            batch = batches[0] + 1
            with connection:
                connection.execute('INSERT INTO ledger VALUES (?, ?)', (batch, 100))
                connection.execute('INSERT INTO ledger VALUES (?, ?)', (batch, -100))
            batches[0] = batch  # counted once committed: 200 counted are 200 in the database
        connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while batches[0] < 200:
            time.sleep(0.01)
        dest = tmp_path / 'dest'
        dest.mkdir()
        src = tmp_path / 'src'
        src.mkdir()
        (src / 'config.json').write_text('{}')
        before = batches[0]
        result = create_archive(str(dest), 'svc', [{'name': 'config', 'path': str(src)}], sqlite=[{'name': 'app', 'path': database}], now=NOW)
        after = batches[0]
    finally:
        stop.set()
        writer.join()
    assert after > before, 'the app kept writing during the backup'
    members = dict((name, data) for name, dummy, data in members_of(result['archive']))
    assert list(members) == ['volumes/config', 'volumes/config/config.json', 'dumps/app.sqlite3', 'clawd-backup/manifest.json']
    copy = tmp_path / 'copy.sqlite3'
    copy.write_bytes(members['dumps/app.sqlite3'])
    connection = sqlite3.connect(str(copy))
    assert connection.execute('PRAGMA integrity_check').fetchone() == ('ok',)
    assert connection.execute('PRAGMA journal_mode').fetchone() == ('delete',)
    rows, total, groups = connection.execute('SELECT COUNT(*), SUM(amount), COUNT(DISTINCT batch) FROM ledger').fetchone()
    connection.close()
    assert rows >= 400 and rows == 2 * groups and total == 0
    manifest = json.loads(members['clawd-backup/manifest.json'].decode())
    assert manifest['dumps'] == [{'name': 'app.sqlite3', 'type': 'sqlite', 'source': database}]
    assert manifest['files'][-1]['path'] == 'dumps/app.sqlite3'
    assert manifest['files'][-1]['sha256'] == sha256(members['dumps/app.sqlite3'])
    assert manifest['totals']['files'] == 2
    assert listing(str(dest)) == sorted(os.path.basename(result['archive']) + suffix for suffix in ('', '.manifest.json', '.sha256'))


def test_sqlite_only_backup_and_its_temporary_copy_is_gone(tmp_path):
    database = str(tmp_path / 'app.db')
    connection = sqlite3.connect(database)
    connection.execute('CREATE TABLE t (x)')
    connection.execute('INSERT INTO t VALUES (42)')
    connection.commit()
    connection.close()
    os.chmod(database, 0o640)
    dest = tmp_path / 'dest'
    dest.mkdir()
    result = create_archive(str(dest), 'svc', None, sqlite=[{'name': 'app.sqlite3', 'path': database}], now=NOW)
    members = members_of(result['archive'])
    assert [name for name, dummy, dummy2 in members] == ['dumps/app.sqlite3', 'clawd-backup/manifest.json']
    assert members[0][1].mode == 0o640
    assert len(listing(str(dest))) == 3


def test_a_failed_sqlite_copy_leaves_nothing(tmp_path, monkeypatch):
    database = str(tmp_path / 'app.db')
    connection = sqlite3.connect(database)
    connection.execute('CREATE TABLE t (x)')
    connection.commit()
    connection.close()
    dest = tmp_path / 'dest'
    dest.mkdir()

    def broken_dump(source, target):
        open(target, 'wb').write(b'half a copy')
        raise sqlite3.OperationalError('database is locked')

    monkeypatch.setattr(_backup_writer, '_dump_sqlite', broken_dump)
    with pytest.raises(BackupError) as error:
        create_archive(str(dest), 'svc', [], sqlite=[{'name': 'app', 'path': database}], now=NOW)
    assert str(error.value) == 'copying the SQLite database %s failed: database is locked' % database
    assert listing(str(dest)) == []


def test_a_read_error_in_the_read_ahead_thread_fails_cleanly(tree, monkeypatch):
    src, dest = tree
    real_items = _backup_stream._file_items

    def failing_items(path, *args):
        for item in real_items(path, *args):
            if item[0] == 'data' and path.endswith('data.bin'):
                raise OSError(5, 'Input/output error')
            yield item

    monkeypatch.setattr(_backup_stream, '_file_items', failing_items)
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    assert str(error.value) == 'archiving %s failed: [Errno 5] Input/output error' % os.path.join(src, 'sub', 'data.bin')
    assert listing(dest) == []
    assert [thread.name for thread in threading.enumerate() if thread.name.startswith('clawd-backup')] == []


class FullDisk(object):
    """A file that fails like a full disk once some bytes were written."""

    def __init__(self, raw, limit):
        self.raw = raw
        self.limit = limit

    def write(self, data):
        if self.raw.tell() + len(data) > self.limit:
            raise OSError(28, 'No space left on device')
        return self.raw.write(data)

    def __getattr__(self, name):
        return getattr(self.raw, name)


def test_a_full_disk_while_writing_fails_cleanly(tree, monkeypatch):
    src, dest = tree
    real_fdopen = os.fdopen
    monkeypatch.setattr(_backup_writer.os, 'fdopen', lambda fd, mode: FullDisk(real_fdopen(fd, mode), 100000))
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    assert str(error.value).startswith('writing %s failed: the filesystem of the destination folder %s is full ('
                                       % (os.path.join(dest, NAME + '.tar.zst.partial'), dest))
    assert str(error.value).endswith(' bytes) ([Errno 28] No space left on device)')
    assert listing(dest) == []
    assert [thread.name for thread in threading.enumerate() if thread.name.startswith('clawd-backup')] == []


def test_a_big_file_streams_through_the_read_ahead_in_chunks(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    big = os.urandom(1 << 20) * 5 + b'tail'
    (src / 'big.bin').write_bytes(big)
    for index in range(600):  # more items than one read-ahead batch holds
        (src / ('small-%03d.txt' % index)).write_text('small file %d\n' % index)
    dest = tmp_path / 'dest'
    dest.mkdir()
    result = create_archive(str(dest), 'svc', [{'name': 'ws', 'path': str(src)}], now=NOW)
    members = dict((name, data) for name, dummy, data in members_of(result['archive']))
    assert members['volumes/ws/big.bin'] == big
    assert members['volumes/ws/small-599.txt'] == b'small file 599\n'
    assert result['members'] == 603


def test_disk_threshold_counts_room_for_the_sqlite_copy(tmp_path, monkeypatch):
    database = str(tmp_path / 'app.db')
    connection = sqlite3.connect(database)
    connection.execute('CREATE TABLE t (x)')
    connection.executemany('INSERT INTO t VALUES (?)', [('x' * 1000,)] * 100)
    connection.commit()
    connection.close()
    size = os.path.getsize(database)
    dest = tmp_path / 'dest'
    dest.mkdir()
    # The database alone fits under 90%; with its temporary copy beside the archive it does not.
    monkeypatch.setattr(_backup_writer.shutil, 'disk_usage', lambda path: Usage(10 ** 6, 900000 - size - size // 2, 100000 + size + size // 2))
    with pytest.raises(BackupError) as error:
        create_archive(str(dest), 'svc', [], sqlite=[{'name': 'app', 'path': database}], now=NOW)
    assert str(error.value).startswith('the sources hold %d bytes (and the SQLite copy needs %d more while it is archived); ' % (size, size))
    assert listing(str(dest)) == []


@pytest.mark.skipif(not hasattr(os, 'geteuid') or os.geteuid() != 0, reason='changing owners needs root')
def test_owner_uid_and_gid_are_kept_names_are_not(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'owned.txt').write_text('data')
    os.chown(str(src / 'owned.txt'), 1234, 5678)
    os.symlink('owned.txt', str(src / 'link'))
    os.lchown(str(src / 'link'), 4321, 8765)
    dest = tmp_path / 'dest'
    dest.mkdir()
    result = create_archive(str(dest), 'svc', [{'name': 'ws', 'path': str(src)}], now=NOW)
    members = dict((name, info) for name, info, dummy in members_of(result['archive']))
    assert (members['volumes/ws/owned.txt'].uid, members['volumes/ws/owned.txt'].gid) == (1234, 5678)
    assert (members['volumes/ws/link'].uid, members['volumes/ws/link'].gid) == (4321, 8765)
    assert all(info.uname == '' and info.gname == '' for info in members.values())


class FakeDockerApi(object):
    """The three exec calls of the Docker SDK's low-level API: streams given chunks, then an exit code."""

    def __init__(self, chunks, exit_code=0, missing=False):
        self.chunks = chunks
        self.exit_code = exit_code
        self.missing = missing
        self.calls = []

    def exec_create(self, container, cmd, stdout=True, stderr=True):
        self.calls.append(('exec_create', container, cmd, stdout, stderr))
        if self.missing:
            raise _backup_dumps.docker.errors.NotFound('No such container: %s' % container)
        return {'Id': 'exec-1'}

    def exec_start(self, exec_id, stream=False, demux=False):
        self.calls.append(('exec_start', exec_id, stream, demux))
        assert stream and demux
        return iter(self.chunks)

    def exec_inspect(self, exec_id):
        self.calls.append(('exec_inspect', exec_id))
        return {'ExitCode': self.exit_code, 'Running': False}


class FakeDocker(object):
    def __init__(self, *args, **kwargs):
        self.api = FakeDockerApi(*args, **kwargs)


PG = [{'name': 'app', 'container': 'db', 'database': 'appdb', 'user': 'postgres'}]
DUMP = [(b'PGDMP\x01\x0e\x00', None), (None, b'pg_dump: reading schemas\n'), (b'x' * 70000, None), (b'tail', None)]


@pytest.fixture
def fake_docker(monkeypatch):
    """Installs a fake Docker client made from the arguments; returns it."""
    made = []

    def install(*args, **kwargs):
        client = FakeDocker(*args, **kwargs)
        made.append(client)
        monkeypatch.setattr(_backup_writer, '_docker_client', lambda: client)
        return client

    monkeypatch.setattr(_backup_writer, 'HAS_DOCKER', True)
    if _backup_dumps.docker is None:  # the SDK is not installed: its exceptions are all the writer uses of it
        errors = type('errors', (), {'NotFound': type('NotFound', (Exception,), {}), 'DockerException': type('DockerException', (Exception,), {})})
        monkeypatch.setattr(_backup_dumps, 'docker', type('docker', (), {'errors': errors}))
    return install


def test_postgres_dump_is_streamed_archived_and_listed(tree, fake_docker):
    src, dest = tree
    client = fake_docker(DUMP)
    result = create_archive(dest, 'claudebox', [{'name': 'workspace', 'path': src}], postgres=PG, version='1.0.0', now=NOW)
    dump = b''.join(out for out, dummy in DUMP if out)
    members = dict((name, data) for name, dummy, data in members_of(result['archive']))
    assert members['dumps/app.pgdump'] == dump
    names = [name for name, dummy, dummy2 in members_of(result['archive'])]
    assert names[-2:] == ['dumps/app.pgdump', 'clawd-backup/manifest.json']
    manifest = json.loads(members['clawd-backup/manifest.json'])
    assert manifest['dumps'] == [{'name': 'app.pgdump', 'type': 'postgres', 'container': 'db', 'database': 'appdb'}]
    entry = [item for item in manifest['files'] if item['path'] == 'dumps/app.pgdump'][0]
    assert entry['sha256'] == sha256(dump) and entry['size'] == len(dump) and entry['mode'] == '0600'
    assert result['dumps'] == manifest['dumps']
    assert verify_archive(result['archive'])['ok']
    assert client.api.calls[0] == ('exec_create', 'db', ['pg_dump', '--format=custom', '--no-password', '-U', 'postgres', 'appdb'], True, True)
    assert [call[0] for call in client.api.calls] == ['exec_create', 'exec_start', 'exec_inspect']
    assert listing(dest) == sorted(os.path.basename(result['archive']) + suffix for suffix in ('', '.manifest.json', '.sha256'))


def test_postgres_only_backup_with_the_default_user(tmp_path, fake_docker):
    client = fake_docker([(b'PG', None), (b'DMP-rest', None)])  # the magic split over two chunks
    result = create_archive(str(tmp_path), 'svc', [], postgres=[{'name': 'app', 'container': 'db', 'database': 'app'}], now=NOW)
    assert [name for name, dummy, dummy2 in members_of(result['archive'])] == ['dumps/app.pgdump', 'clawd-backup/manifest.json']
    assert client.api.calls[0][2][-3:] == ['-U', 'postgres', 'app']


@pytest.mark.parametrize('chunks, exit_code, missing, message', [
    ([(b'PGDMP partial', None), (None, b'pg_dump: error: connection to server failed\n')], 1, False,
     'pg_dump of appdb in db failed: exit 1: pg_dump: error: connection to server failed'),
    ([(None, b'x' * 5000 + b'the end\n')], 2, False, 'pg_dump of appdb in db failed: exit 2: ' + 'x' * (2048 - 8) + 'the end'),
    ([(b'-- PostgreSQL database dump\n', None)], 0, False,
     'pg_dump of appdb in db failed: exit 0: the output is not a custom-format dump (it does not start with PGDMP)'),
    ([], 0, False, 'pg_dump of appdb in db failed: exit 0: the output is not a custom-format dump (it does not start with PGDMP)'),
    ([], 0, True, 'pg_dump of appdb in db failed: no such container (No such container: db)'),
], ids=['exit 1', 'long stderr, its tail kept', 'plain format', 'empty', 'no container'])
def test_a_failed_postgres_dump_leaves_nothing(tree, fake_docker, chunks, exit_code, missing, message):
    src, dest = tree
    fake_docker(chunks, exit_code=exit_code, missing=missing)
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'workspace', 'path': src}], postgres=PG, version='1.0.0', now=NOW)
    assert str(error.value) == message
    assert listing(dest) == []


def test_check_mode_lists_the_postgres_dumps_and_runs_nothing(tree, fake_docker):
    src, dest = tree
    client = fake_docker(DUMP)
    result = create_archive(dest, 'claudebox', [{'name': 'workspace', 'path': src}], postgres=PG, now=NOW, check_mode=True)
    assert result['dumps'] == [{'name': 'app.pgdump', 'type': 'postgres', 'container': 'db', 'database': 'appdb'}]
    assert result['members'] == len(expected_files(src)) + 2
    assert client.api.calls == []
    assert listing(dest) == []


@pytest.mark.parametrize('postgres, message', [
    ([{'name': 'a/b', 'container': 'db', 'database': 'x'}], "invalid PostgreSQL dump name 'a/b': use letters, digits, \".\", \"_\" and \"-\""),
    (PG + PG, 'PostgreSQL dump name app.pgdump is given twice'),
    ([{'name': 'app', 'container': '', 'database': 'x'}], 'PostgreSQL dump app has no container'),
    ([{'name': 'app', 'container': 'db', 'database': None}], 'PostgreSQL dump app has no database'),
])
def test_refuses_bad_postgres_arguments(tmp_path, fake_docker, postgres, message):
    client = fake_docker(DUMP)
    with pytest.raises(BackupError) as error:
        create_archive(str(tmp_path), 'svc', [], postgres=postgres, now=NOW)
    assert str(error.value) == message
    assert client.api.calls == [] and listing(str(tmp_path)) == []


def test_postgres_needs_the_docker_sdk(tmp_path, monkeypatch):
    monkeypatch.setattr(_backup_writer, 'HAS_DOCKER', False)
    with pytest.raises(BackupError) as error:
        create_archive(str(tmp_path), 'svc', [], postgres=PG, now=NOW)
    assert str(error.value) == 'the Docker SDK for Python (docker) is needed for postgres dumps'


# Issue 11, item 1: a folder swapped for a symlink between planning and reading (or while planning) is never followed.

@pytest.fixture
def swappable(tmp_path):
    """A source with a folder a/ and a host folder outside it holding a file of the same name; returns (src, dest, host, swap).

    swap() does what a container that can write its volume could do: a/ becomes a symlink to the host folder."""
    src = tmp_path / 'src'
    (src / 'a').mkdir(parents=True)
    (src / 'a' / 'config.txt').write_bytes(b'app config\n')
    (src / 'b.txt').write_bytes(b'bee\n')
    host = tmp_path / 'host-etc'
    host.mkdir()
    (host / 'config.txt').write_bytes(b'HOST SECRET\n')
    (host / 'shadow').write_bytes(b'HOST SHADOW\n')
    dest = tmp_path / 'dest'
    dest.mkdir()

    def swap():
        os.rename(str(src / 'a'), str(tmp_path / 'a-moved-away'))
        os.symlink(str(host), str(src / 'a'))

    return str(src), str(dest), str(host), swap


def test_a_folder_swapped_for_a_symlink_after_planning_is_not_followed(swappable, monkeypatch):
    src, dest, host, swap = swappable
    real_plan = _backup_writer._plan

    def plan_then_swap(*args):
        planned = real_plan(*args)
        swap()
        return planned

    monkeypatch.setattr(_backup_writer, '_plan', plan_then_swap)
    result = create_archive(dest, 'svc', [{'name': 'app', 'path': src}], now=NOW)
    members = dict((name, data) for name, dummy, data in members_of(result['archive']))
    assert b'HOST SECRET\n' not in members.values(), 'a host file was archived as %s' % [
        name for name, data in members.items() if data == b'HOST SECRET\n']
    assert 'volumes/app/a/config.txt' not in members
    assert members['volumes/app/b.txt'] == b'bee\n'
    assert result['changed_during_backup'] == [{
        'path': os.path.join(src, 'a', 'config.txt'), 'member': 'volumes/app/a/config.txt',
        'reason': 'not archived: the folder %s was swapped since it was listed (it is now a symlink); not followed'
                  % os.path.join(src, 'a')}]
    assert verify_archive(result['archive'])['ok']


def test_a_folder_swapped_for_a_symlink_while_planning_is_not_listed(swappable, monkeypatch):
    src, dest, host, swap = swappable
    real_add = _backup_writer._Plan.add

    def add_then_swap(self, entry):
        added = real_add(self, entry)
        if entry['member'] == 'volumes/app/a':
            swap()  # after a/ was seen as a folder, before it is listed
        return added

    monkeypatch.setattr(_backup_writer._Plan, 'add', add_then_swap)
    result = create_archive(dest, 'svc', [{'name': 'app', 'path': src}], now=NOW)
    members = dict((name, data) for name, dummy, data in members_of(result['archive']))
    assert [name for name in members if name.startswith('volumes/app/a/')] == []
    assert b'HOST SECRET\n' not in members.values() and b'HOST SHADOW\n' not in members.values()
    assert result['changed_during_backup'] == [{
        'path': os.path.join(src, 'a'), 'member': 'volumes/app/a',
        'reason': 'not listed: the folder %s was swapped since it was seen (it is now a symlink); not followed' % os.path.join(src, 'a')}]


def test_a_folder_replaced_by_another_folder_is_reported(swappable, monkeypatch):
    src, dest, host, swap = swappable
    real_plan = _backup_writer._plan

    def plan_then_replace(*args):
        planned = real_plan(*args)
        os.rename(os.path.join(src, 'a'), os.path.join(src, 'a.old'))
        os.mkdir(os.path.join(src, 'a'))
        with open(os.path.join(src, 'a', 'config.txt'), 'wb') as handle:
            handle.write(b'planted\n')
        return planned

    monkeypatch.setattr(_backup_writer, '_plan', plan_then_replace)
    result = create_archive(dest, 'svc', [{'name': 'app', 'path': src}], now=NOW)
    assert result['changed_during_backup'] == [{
        'path': os.path.join(src, 'a', 'config.txt'), 'member': 'volumes/app/a/config.txt',
        'reason': 'not archived: the folder %s was swapped since it was listed (it is now another folder); not followed'
                  % os.path.join(src, 'a')}]


def test_a_big_file_below_a_swapped_folder_is_not_read_ahead_from_the_host(swappable, monkeypatch):
    src, dest, host, swap = swappable
    with open(os.path.join(src, 'a', 'big.bin'), 'wb') as handle:
        handle.write(b'v' * (3 << 20))
    with open(os.path.join(host, 'big.bin'), 'wb') as handle:
        handle.write(b'H' * (3 << 20))
    real_plan = _backup_writer._plan

    def plan_then_swap(*args):
        planned = real_plan(*args)
        swap()
        return planned

    monkeypatch.setattr(_backup_writer, '_plan', plan_then_swap)
    result = create_archive(dest, 'svc', [{'name': 'app', 'path': src}], now=NOW)
    members = dict((name, data) for name, dummy, data in members_of(result['archive']))
    assert 'volumes/app/a/big.bin' not in members
    assert sorted(item['member'] for item in result['changed_during_backup']) == ['volumes/app/a/big.bin', 'volumes/app/a/config.txt']


# Issue 11, item 8 (writer part): a Docker Engine that cannot be reached is a clear error, not a traceback.

def test_a_docker_engine_that_cannot_be_reached_is_a_clear_error(tree, fake_docker, monkeypatch):
    src, dest = tree
    errors = _backup_dumps.docker.errors

    def from_env(**kwargs):
        raise errors.DockerException('Error while fetching server API version: Connection aborted: No such file or directory')

    monkeypatch.setattr(_backup_dumps, 'docker', type('docker', (), {'errors': errors, 'from_env': staticmethod(from_env)}))
    with pytest.raises(BackupError) as error:
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], postgres=PG, version='1.0.0', now=NOW)
    assert str(error.value) == ('connecting to the Docker Engine API failed: '
                                'Error while fetching server API version: Connection aborted: No such file or directory')
    assert listing(dest) == []


# Issue 11, item 9: kill -9 at commit must not leave side files without their archive; the next run cleans up.

class Killed(BaseException):
    """Stands for kill -9 in-process: nothing of the run's own clean-up runs (see tests/faults for the real signal)."""


def kill_at(monkeypatch, function_name, after_calls):
    """Make _backup_writer.<function_name> "kill" the run after it was called after_calls times, with no clean-up."""
    real = getattr(_backup_writer, function_name) if function_name != 'os.replace' else os.replace
    calls = []

    def killing(*args, **kwargs):
        if len(calls) >= after_calls:
            raise Killed()
        calls.append(args)
        return real(*args, **kwargs)

    if function_name == 'os.replace':
        monkeypatch.setattr(_backup_writer.os, 'replace', killing)
    else:
        monkeypatch.setattr(_backup_writer, function_name, killing)
    # A killed process cleans nothing up; the kernel closes its files, which drops its lock.
    monkeypatch.setattr(_backup_writer._Run, 'abort', lambda self: self.unlock())


def orphan_side_files(dest):
    names = set(os.listdir(dest))
    return sorted(name for name in names for suffix in ('.manifest.json', '.sha256')
                  if name.endswith(suffix) and name[:-len(suffix)] not in names)


@pytest.mark.parametrize('function_name, after_calls', [
    ('_write_side_file', 0), ('_write_side_file', 1), ('os.replace', 0), ('os.replace', 1), ('os.replace', 2)])
def test_a_run_killed_while_committing_leaves_no_side_file_without_its_archive(tree, monkeypatch, function_name, after_calls):
    src, dest = tree
    kill_at(monkeypatch, function_name, after_calls)
    with pytest.raises(Killed):
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    assert orphan_side_files(dest) == []
    monkeypatch.undo()

    result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.1', now=NOW + 3600)
    assert orphan_side_files(dest) == []
    assert [name for name in listing(dest) if name.endswith('.partial')] == []
    for name in listing(dest):
        if name.endswith('.tar.zst'):  # every archive left is whole, with both side files
            assert verify_archive(os.path.join(dest, name), require_checksum=True)['ok'], name
            assert name + '.sha256' in listing(dest) and name + '.manifest.json' in listing(dest)
    assert result['archive'] in [os.path.join(dest, name) for name in listing(dest)]


def test_the_next_run_removes_side_files_left_without_their_archive(tree):
    src, dest = tree
    orphan = os.path.join(dest, 'claudebox-20261122T020000Z-0.9.0.tar.zst')
    for suffix, data in (('.manifest.json', '{}'), ('.sha256', '%s  %s\n' % ('0' * 64, os.path.basename(orphan)))):
        with open(orphan + suffix, 'w') as handle:
            handle.write(data)
    with open(orphan + '.partial', 'w') as handle:
        handle.write('half an archive')
    foreign = os.path.join(dest, 'notes.sha256')  # not named like an archive: not ours to remove
    with open(foreign, 'w') as handle:
        handle.write('x')
    result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    assert listing(dest) == sorted(['notes.sha256'] + [os.path.basename(result['archive']) + suffix for suffix in ('', '.manifest.json', '.sha256')])
    assert result['cleaned_up'] == [orphan + '.manifest.json', orphan + '.partial', orphan + '.sha256']


def test_a_partial_that_a_live_run_holds_is_not_removed(tree):
    src, dest = tree
    import fcntl
    live = os.path.join(dest, 'claudebox-20261123T170000Z-1.0.0.tar.zst.partial')
    fd = os.open(live, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what a run that is still writing holds
        result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
        assert os.path.exists(live)
        assert result['cleaned_up'] == []
    finally:
        os.close(fd)


def test_check_mode_says_which_leftovers_it_would_remove_and_removes_none(tree):
    src, dest = tree
    leftover = os.path.join(dest, 'claudebox-20261122T020000Z-0.9.0.tar.zst')
    for suffix in ('.partial', '.sha256'):
        with open(leftover + suffix, 'w') as handle:
            handle.write('x')
    result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW, check_mode=True)
    assert result['cleaned_up'] == [leftover + '.partial', leftover + '.sha256']
    assert listing(dest) == [os.path.basename(leftover) + '.partial', os.path.basename(leftover) + '.sha256']


def test_a_commit_cut_short_after_the_rename_is_finished_by_the_next_run(tree, monkeypatch):
    src, dest = tree
    kill_at(monkeypatch, 'os.replace', 1)  # the archive renamed, its side files still .partial
    with pytest.raises(Killed):
        create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.0', now=NOW)
    monkeypatch.undo()
    first = os.path.join(dest, NAME + '.tar.zst')
    assert listing(dest) == [NAME + '.tar.zst', NAME + '.tar.zst.manifest.json.partial', NAME + '.tar.zst.sha256.partial']
    result = create_archive(dest, 'claudebox', [{'name': 'ws', 'path': src}], version='1.0.1', now=NOW + 60)
    assert result['cleaned_up'] == [first + '.manifest.json.partial', first + '.sha256.partial']
    assert read_sha256_file(first + '.sha256') == verify_archive(first, require_checksum=True)['sha256']
    with open(first + '.manifest.json', 'rb') as handle:
        assert json.loads(handle.read().decode('utf-8'))['app_version'] == '1.0.0'

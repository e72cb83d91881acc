# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup format's shared helpers: names, ages, checksums, compression, member safety."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import gzip
import io
import tarfile

import pytest
import zstandard

from ansible_collections.clawd.ops.plugins.module_utils import _backup_format
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_MEMBER,
    MissingLibraryError,
    archive_name,
    checksum_path,
    detect_compression,
    manifest_path,
    member_safety_problem,
    normalize_member_name,
    normalize_sha256,
    open_compressed_reader,
    parse_age,
    parse_archive_name,
    partial_path,
    read_sha256_file,
    sanitize_version,
    sha256_line,
    source_root,
)

HEX = 'ab' * 32


def test_constants_match_the_format_document():
    assert FORMAT == 'clawd.ops/backup'
    assert FORMAT_VERSION == 1
    assert MANIFEST_MEMBER == 'clawd-backup/manifest.json'
    assert (_backup_format.SUFFIX_ZSTD, _backup_format.SUFFIX_GZIP) == ('.tar.zst', '.tar.gz')
    assert (_backup_format.SUFFIX_MANIFEST, _backup_format.SUFFIX_SHA256, _backup_format.SUFFIX_PARTIAL) == ('.manifest.json', '.sha256', '.partial')


@pytest.mark.parametrize('version, expected', [
    ('1.0.0', '1.0.0'),
    ('1.0.0-rc_1', '1.0.0-rc_1'),
    ('1.0.0+build/7 é', '1.0.0_build_7__'),
    (None, 'unknown'),
    ('', 'unknown'),
    (42, '42'),
])
def test_sanitize_version(version, expected):
    assert sanitize_version(version) == expected


def test_archive_name_from_naive_aware_and_epoch_times():
    naive = datetime.datetime(2026, 11, 23, 17, 50, 0)
    aware = datetime.datetime(2026, 11, 23, 18, 50, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert archive_name('claudebox', naive, '1.0.0') == 'claudebox-20261123T175000Z-1.0.0.tar.zst'
    assert archive_name('claudebox', aware, '1.0.0') == 'claudebox-20261123T175000Z-1.0.0.tar.zst'
    assert archive_name('claudebox', 1795456200, 'v2/beta', 'gzip') == 'claudebox-20261123T175000Z-v2_beta.tar.gz'
    assert archive_name('claudebox', naive) == 'claudebox-20261123T175000Z-unknown.tar.zst'


def test_archive_name_refuses_unknown_compression_and_bad_service():
    with pytest.raises(ValueError, match='unknown compression'):
        archive_name('claudebox', 0, '1', 'xz')
    with pytest.raises(ValueError, match='invalid service'):
        archive_name('a/b', 0, '1')


@pytest.mark.parametrize('name, expected', [
    ('claudebox-20261123T175000Z-1.0.0.tar.zst',
     {'service': 'claudebox', 'created': '2026-11-23T17:50:00Z', 'timestamp': 1795456200, 'version': '1.0.0', 'compression': 'zstd'}),
    ('/var/backups/lab1-claudebox-20261123T175000Z-1.0.0-rc1.tar.gz',
     {'service': 'lab1-claudebox', 'created': '2026-11-23T17:50:00Z', 'timestamp': 1795456200, 'version': '1.0.0-rc1', 'compression': 'gzip'}),
])
def test_parse_archive_name(name, expected):
    assert parse_archive_name(name) == expected


@pytest.mark.parametrize('name', [
    'claudebox-20261123T175000Z-1.0.0.tar.zst.sha256',
    'claudebox-20261123T175000Z-1.0.0.tar.zst.partial',
    'claudebox-20261123T175000Z-1.0.0.tar.zst.manifest.json',
    'claudebox.tar.zst',
    'claudebox-20261323T175000Z-1.0.0.tar.zst',  # month 13
    'claudebox-20261123-1.0.0.tar.zst',
    'claudebox-20261123T175000Z-1.0.0.tar.xz',
])
def test_parse_archive_name_rejects_other_files(name):
    assert parse_archive_name(name) is None


def test_archive_name_round_trips():
    name = archive_name('my-svc', datetime.datetime(2030, 1, 2, 3, 4, 5), '2.0.0+x', 'gzip')
    parsed = parse_archive_name(name)
    assert (parsed['service'], parsed['created'], parsed['version'], parsed['compression']) == ('my-svc', '2030-01-02T03:04:05Z', '2.0.0_x', 'gzip')


@pytest.mark.parametrize('text, seconds', [
    ('25h', 90000), ('90m', 5400), ('2d', 172800), ('3600', 3600), ('30s', 30), ('1w', 604800),
    (' 1.5h ', 5400), ('0', 0), ('2D', 172800), (7200, 7200), (0.5, 0.5),
])
def test_parse_age(text, seconds):
    assert parse_age(text) == seconds


@pytest.mark.parametrize('text', ['abc', '10x', '', 'h', '-5', '5 hours', True, -3])
def test_parse_age_refuses_with_a_clear_message(text):
    with pytest.raises(ValueError) as error:
        parse_age(text)
    assert 'invalid age' in str(error.value)


def test_side_file_paths_and_checksum_line():
    assert checksum_path('/b/a.tar.zst') == '/b/a.tar.zst.sha256'
    assert manifest_path('/b/a.tar.zst') == '/b/a.tar.zst.manifest.json'
    assert partial_path('/b/a.tar.zst') == '/b/a.tar.zst.partial'
    assert sha256_line(HEX, '/b/a.tar.zst') == '%s  a.tar.zst\n' % HEX


def test_read_sha256_file(tmp_path):
    good = tmp_path / 'a.sha256'
    good.write_text('%s  a.tar.zst\n' % HEX.upper())
    assert read_sha256_file(str(good)) == HEX
    bare = tmp_path / 'b.sha256'
    bare.write_text(HEX)
    assert read_sha256_file(str(bare)) == HEX
    for text in ('', 'not-a-checksum  a.tar.zst\n', HEX[:-1] + '  a\n'):
        bad = tmp_path / 'bad.sha256'
        bad.write_text(text)
        with pytest.raises(ValueError, match='does not start with a hex sha256'):
            read_sha256_file(str(bad))


def test_normalize_sha256():
    assert normalize_sha256(HEX.upper()) == HEX
    assert normalize_sha256('%s  x.tar.zst' % HEX) == HEX
    with pytest.raises(ValueError):
        normalize_sha256('abc')


def test_detect_compression():
    assert detect_compression(b'\x28\xb5\x2f\xfd\x00') == 'zstd'
    assert detect_compression(b'\x1f\x8b\x08\x00') == 'gzip'
    assert detect_compression(b'ustar') is None
    assert detect_compression(b'') is None


@pytest.mark.parametrize('compression', ['zstd', 'gzip'])
def test_open_compressed_reader_detects_and_reads(compression):
    data = b'tar bytes ' * 50000
    if compression == 'zstd':
        packed = zstandard.ZstdCompressor().compress(data)
    else:
        packed = gzip.compress(data)
    for given in (None, compression):
        reader = open_compressed_reader(io.BytesIO(packed), given)
        out = b''.join(iter(lambda: reader.read(65536), b''))
        assert out == data


def test_open_compressed_reader_refuses_other_files():
    with pytest.raises(ValueError, match='not a zstd or gzip file'):
        open_compressed_reader(io.BytesIO(b'plain tar?'))
    with pytest.raises(ValueError, match='unknown compression'):
        open_compressed_reader(io.BytesIO(b''), 'xz')


def test_open_compressed_reader_without_zstandard(monkeypatch):
    monkeypatch.setattr(_backup_format, 'HAS_ZSTANDARD', False)
    with pytest.raises(MissingLibraryError) as error:
        open_compressed_reader(io.BytesIO(zstandard.ZstdCompressor().compress(b'x')))
    assert error.value.library == 'zstandard'
    reader = open_compressed_reader(io.BytesIO(gzip.compress(b'still fine')))
    assert reader.read(100) == b'still fine'


@pytest.mark.parametrize('name, expected', [
    ('volumes/w/a.txt', 'volumes/w/a.txt'),
    ('./volumes/w/a.txt', 'volumes/w/a.txt'),
    ('volumes//w/./a.txt', 'volumes/w/a.txt'),
    ('volumes/w/', 'volumes/w'),
    ('/etc/passwd', '/etc/passwd'),
    ('volumes/w/.hidden', 'volumes/w/.hidden'),
])
def test_normalize_member_name(name, expected):
    assert normalize_member_name(name) == expected


def test_source_root():
    assert source_root('volumes/workspace/a/b') == 'volumes/workspace'
    assert source_root('volumes/workspace') == 'volumes/workspace'
    assert source_root('dumps/app.sqlite3') == 'dumps'


def member(name, kind=tarfile.REGTYPE, linkname=''):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


@pytest.mark.parametrize('info, problem', [
    (member('/etc/cron.d/evil'), 'member /etc/cron.d/evil: absolute path'),
    (member('volumes/w/../../etc/evil'), "member volumes/w/../../etc/evil: '..' in its path"),
    (member('volumes/w/l', tarfile.SYMTYPE, '/etc/passwd'), 'member volumes/w/l: symlink to the absolute path /etc/passwd'),
    (member('volumes/w/l', tarfile.SYMTYPE, '../other/secret'), 'member volumes/w/l: symlink to ../other/secret leaves volumes/w/'),
    (member('volumes/w/sub/l', tarfile.SYMTYPE, '../../../x'), 'member volumes/w/sub/l: symlink to ../../../x leaves volumes/w/'),
    (member('volumes/w/l', tarfile.SYMTYPE, '..'), 'member volumes/w/l: symlink to .. leaves volumes/w/'),
    (member('volumes/w/l', tarfile.SYMTYPE, 'sub/../../x'), "member volumes/w/l: symlink target sub/../../x has '..' after a folder name"),
    (member('volumes/w/l', tarfile.SYMTYPE, ''), 'member volumes/w/l: symlink with an empty target'),
    (member('volumes/w/h', tarfile.LNKTYPE, 'volumes/w/a'), 'member volumes/w/h: hard link to volumes/w/a (only files, folders and symlinks are allowed)'),
    (member('volumes/w/tty', tarfile.CHRTYPE), 'member volumes/w/tty: character device (only files, folders and symlinks are allowed)'),
    (member('volumes/w/sda', tarfile.BLKTYPE), 'member volumes/w/sda: block device (only files, folders and symlinks are allowed)'),
    (member('volumes/w/pipe', tarfile.FIFOTYPE), 'member volumes/w/pipe: fifo (only files, folders and symlinks are allowed)'),
    (member('volumes/w/odd', b'V'), "member volumes/w/odd: member of tar type b'V' (only files, folders and symlinks are allowed)"),
])
def test_member_safety_problem_names_member_and_problem(info, problem):
    assert member_safety_problem(info, set()) == problem


@pytest.mark.parametrize('info', [
    member('volumes/w/a.txt'),
    member('volumes/w', tarfile.DIRTYPE),
    member('volumes/w/sub/l', tarfile.SYMTYPE, '../a.txt'),
    member('volumes/w/sub/l', tarfile.SYMTYPE, '..'),
    member('volumes/w/l', tarfile.SYMTYPE, '.'),
    member('volumes/w/l', tarfile.SYMTYPE, './sub//a.txt'),
    member('dumps/app.sqlite3'),
    member(MANIFEST_MEMBER),
])
def test_member_safety_problem_passes_safe_members(info):
    assert member_safety_problem(info, set()) is None


def test_duplicate_names_are_unsafe_however_spelled():
    seen = set()
    assert member_safety_problem(member('volumes/w/a.txt'), seen) is None
    assert member_safety_problem(member('./volumes/w/a.txt'), seen) == 'member ./volumes/w/a.txt: duplicate name (it is in the archive more than once)'
    assert member_safety_problem(member('volumes/w/d', tarfile.DIRTYPE), seen) is None
    assert member_safety_problem(member('volumes/w/d/', tarfile.DIRTYPE), seen).endswith('duplicate name (it is in the archive more than once)')


def test_members_below_a_symlink_are_unsafe():
    seen = set()
    assert member_safety_problem(member('volumes/w/l', tarfile.SYMTYPE, 'sub'), seen) is None
    assert member_safety_problem(member('volumes/w/l/x/evil'), seen) == 'member volumes/w/l/x/evil: its path goes through the symlink volumes/w/l'
    assert member_safety_problem(member('volumes/w/lx'), seen) is None

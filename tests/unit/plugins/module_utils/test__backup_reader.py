# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verifying backup archives: good ones pass, every kind of damage fails the right check, never a traceback."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tarfile
import time

import pytest
import zstandard

from ansible_collections.clawd.ops.plugins.module_utils import _backup_extract, _backup_format, _backup_pipeline, _backup_tar
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import MissingLibraryError, archive_name
from ansible_collections.clawd.ops.plugins.module_utils._backup_extract import BackupExtractError, extract_archive
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import (
    failure_summary,
    find_newest,
    verify_archive,
)
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.backup_fixtures import (
    build_archive,
    compress,
    end_marker,
    file_sha256,
    header_block,
    manifest_for,
    members_from_folder,
    padded,
    run_bounded,
    sample_members,
)

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


@pytest.fixture(params=[True, False], ids=['threads', 'one-thread'])
def threads(request):
    return request.param


@pytest.mark.parametrize('compression', ['zstd', 'gzip'])
def test_good_archive_verifies(tmp_path, compression, threads):
    built = make(tmp_path, compression=compression)
    report = verify_archive(built['path'], threads=threads, require_checksum=True, min_size=1, max_age='25h', now=NOW + 3600,
                            expected_members=['volumes/workspace/', 'dumps/app.sqlite3'])
    assert report['ok'] is True, failure_summary(report)
    assert [item['name'] for item in report['checks']] == [
        'exists', 'age', 'size', 'readable', 'safety', 'manifest', 'expected_members', 'sha256']
    assert report['members'] == len(sample_members()) + 1
    assert report['bytes'] == sum(len(member.get('data', b'')) for member in sample_members())
    assert report['sha256'] == built['sha256'] == file_sha256(built['path'])
    assert report['archive_bytes'] == os.path.getsize(built['path'])
    assert report['compression'] == compression
    assert report['created'] == '2026-11-23T17:50:00Z'
    assert report['age_seconds'] == 3600
    assert report['unsafe_members'] == []
    assert report['s3_etag'] is None
    assert report['manifest']['service'] == 'claudebox'
    assert report['manifest']['format_version'] == 1
    assert report['manifest']['sources'] == ['workspace', 'config']
    assert report['manifest']['dumps'] == ['app.sqlite3']
    assert set(report['throughput_mb_s']) == {'archive', 'uncompressed'}
    assert check(report, 'sha256')['reason'] == 'matches %s.sha256' % os.path.basename(built['path'])


@pytest.mark.parametrize('chunk_size', [7, 512, 4096, 1 << 20])
def test_chunk_size_does_not_change_the_result(tmp_path, chunk_size, threads):
    members = sample_members() + [{'name': 'volumes/workspace/big.bin', 'data': noise(200000)}]
    built = make(tmp_path, members)
    report = verify_archive(built['path'], chunk_size=chunk_size, threads=threads, s3_etag_part_size=1000)
    assert report['ok'] is True, failure_summary(report)
    assert report['sha256'] == built['sha256']
    assert report['bytes'] == sum(len(member.get('data', b'')) for member in members)


def test_report_of_a_missing_archive(tmp_path):
    report = verify_archive(str(tmp_path / 'nope.tar.zst'))
    assert report['ok'] is False
    assert report['checks'] == [{'name': 'exists', 'ok': False, 'reason': '%s does not exist (No such file or directory)' % (tmp_path / 'nope.tar.zst')}]
    assert report['sha256'] is None


def test_a_folder_is_not_an_archive(tmp_path):
    report = verify_archive(str(tmp_path))
    assert failed_names(report) == ['exists']


@pytest.mark.parametrize('content, reason', [
    (b'', 'not a zstd or gzip file (it starts with nothing: it is empty)'),
    (b'hello, not an archive', 'not a zstd or gzip file (it starts with 68 65 6c 6c)'),
])
def test_files_that_are_not_archives(tmp_path, content, reason):
    path = tmp_path / name_for()
    path.write_bytes(content)
    report = verify_archive(str(path), min_size=1)
    assert check(report, 'readable') == {'name': 'readable', 'ok': False, 'reason': reason}
    assert report['sha256'] == hashlib.sha256(content).hexdigest()
    assert check(report, 'size')['ok'] is (len(content) >= 1)


# Truncation ------------------------------------------------------------------------------------

@pytest.mark.parametrize('compression', ['zstd', 'gzip'])
@pytest.mark.parametrize('cut', ['1 byte', '4 bytes', '12 bytes', '100 bytes', 'half', 'a tenth', 'to 20 bytes'])
def test_truncated_archive_is_never_readable(tmp_path, compression, cut, threads):
    members = sample_members() + [{'name': 'volumes/workspace/big.bin', 'data': noise(300000)}]
    built = make(tmp_path, members, compression=compression, checksum_file=False)
    data = open(built['path'], 'rb').read()
    keep = {'1 byte': len(data) - 1, '4 bytes': len(data) - 4, '12 bytes': len(data) - 12, '100 bytes': len(data) - 100,
            'half': len(data) // 2, 'a tenth': len(data) // 10, 'to 20 bytes': 20}[cut]
    with open(built['path'], 'wb') as handle:
        handle.write(data[:keep])
    report = verify_archive(built['path'], threads=threads)
    assert report['ok'] is False
    readable = check(report, 'readable')
    assert readable['ok'] is False
    assert 'truncated' in readable['reason'] or 'ends inside a frame' in readable['reason']
    assert report['sha256'] == hashlib.sha256(data[:keep]).hexdigest()
    # with the checksum beside it, sha256 fails too
    with open(built['path'] + '.sha256', 'w') as handle:
        handle.write('%s  %s\n' % (built['sha256'], os.path.basename(built['path'])))
    report = verify_archive(built['path'], threads=threads)
    assert check(report, 'sha256') == {'name': 'sha256', 'ok': False, 'reason': 'expected %s, file has %s' % (
        built['sha256'], hashlib.sha256(data[:keep]).hexdigest())}


@pytest.mark.parametrize('compression', ['zstd', 'gzip'])
def test_a_cut_inside_a_member_names_it(tmp_path, compression):
    members = sample_members()[:2] + [{'name': 'volumes/workspace/big.bin', 'data': noise(3 << 20)}] + sample_members()[2:]
    built = make(tmp_path, members, compression=compression)
    data = open(built['path'], 'rb').read()
    with open(built['path'], 'wb') as handle:
        handle.write(data[:len(data) // 2])
    report = verify_archive(built['path'], threads=False, chunk_size=1 << 16)
    reason = check(report, 'readable')['reason']
    assert 'volumes/workspace/big.bin' in reason and 'truncated' in reason
    assert check(report, 'manifest') == {'name': 'manifest', 'ok': False,
                                         'reason': 'no clawd-backup/manifest.json read (the archive could not be read to the end)'}


# Flipped bytes ---------------------------------------------------------------------------------

def decompressed(data, compression):
    """The tar bytes in data, or None when the decoder refuses them."""
    try:
        if compression == 'gzip':
            return gzip.decompress(data)
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True).read()
    except Exception:  # pylint: disable=broad-except
        return None


@pytest.mark.parametrize('compression', ['zstd', 'gzip'])
def test_no_flipped_byte_passes(tmp_path, compression):
    members = sample_members() + [{'name': 'volumes/workspace/big.bin', 'data': noise(20000)}]
    built = make(tmp_path, members, compression=compression)
    data = open(built['path'], 'rb').read()
    tar = decompressed(data, compression)
    positions = sorted(set(list(range(0, len(data), max(1, len(data) // 80))) + [len(data) - 1, len(data) - 5, len(data) // 2]))
    for position in positions:
        spoiled = bytearray(data)
        spoiled[position] ^= 0x01
        with open(built['path'], 'wb') as handle:
            handle.write(spoiled)
        report = verify_archive(built['path'], threads=position % 2 == 0)
        assert report['ok'] is False, 'a flipped byte at %d passed' % position
        assert check(report, 'sha256')['ok'] is False
        # Without the checksum, what the flip changed must show: some flips change nothing (gzip's
        # mtime, bits that deflate or zstd ignore), only sha256 sees those.
        if decompressed(bytes(spoiled), compression) != tar:
            assert set(failed_names(report)) & {'readable', 'manifest', 'safety'}, 'only sha256 saw the flip at %d' % position


# Checksums -------------------------------------------------------------------------------------

def test_wrong_checksum_file_fails(tmp_path):
    built = make(tmp_path)
    with open(built['path'] + '.sha256', 'w') as handle:
        handle.write('%s  %s\n' % ('0' * 64, os.path.basename(built['path'])))
    report = verify_archive(built['path'])
    assert failed_names(report) == ['sha256']
    assert check(report, 'sha256')['reason'] == 'expected %s, file has %s' % ('0' * 64, built['sha256'])
    assert failure_summary(report) == 'sha256: expected %s, file has %s' % ('0' * 64, built['sha256'])


def test_malformed_checksum_file_fails(tmp_path):
    built = make(tmp_path)
    with open(built['path'] + '.sha256', 'w') as handle:
        handle.write('garbage\n')
    report = verify_archive(built['path'])
    assert check(report, 'sha256')['ok'] is False
    assert 'does not start with a hex sha256' in check(report, 'sha256')['reason']


def test_missing_checksum_file_fails_only_when_required(tmp_path):
    built = make(tmp_path, checksum_file=False)
    assert check(verify_archive(built['path'], require_checksum=True), 'sha256') == {
        'name': 'sha256', 'ok': False, 'reason': 'no checksum given and %s.sha256 does not exist' % os.path.basename(built['path'])}
    report = verify_archive(built['path'])
    assert report['ok'] is True
    assert 'sha256' not in [item['name'] for item in report['checks']]


def test_expected_sha256_wins_over_the_file_beside(tmp_path):
    built = make(tmp_path)
    assert check(verify_archive(built['path'], expected_sha256=built['sha256'].upper()), 'sha256')['ok'] is True
    assert check(verify_archive(built['path'], expected_sha256='%s  x.tar.zst' % built['sha256']), 'sha256')['ok'] is True
    wrong = verify_archive(built['path'], expected_sha256='f' * 64)
    assert check(wrong, 'sha256')['reason'] == 'expected %s, file has %s' % ('f' * 64, built['sha256'])
    assert check(verify_archive(built['path'], expected_sha256='nothex'), 'sha256')['ok'] is False


# Manifest --------------------------------------------------------------------------------------

def test_missing_manifest(tmp_path):
    built = make(tmp_path, manifest=None)
    report = verify_archive(built['path'])
    assert failed_names(report) == ['manifest']
    assert check(report, 'manifest')['reason'] == 'the archive has no clawd-backup/manifest.json member'
    relaxed = verify_archive(built['path'], require_manifest=False)
    assert relaxed['ok'] is True
    assert relaxed['manifest'] is None
    assert 'manifest' not in [item['name'] for item in relaxed['checks']]


def spoil(edit):
    def apply(manifest):
        edit({entry['path']: entry for entry in manifest['files']}, manifest)
    return apply


@pytest.mark.parametrize('edit, reason', [
    (lambda files, m: files['volumes/workspace/notes.txt'].update(size=1401),
     'volumes/workspace/notes.txt has 1401 bytes in the manifest but 1400 in the archive'),
    (lambda files, m: files['volumes/workspace/run.sh'].update(sha256='0' * 64),
     'volumes/workspace/run.sh has sha256 %s in the manifest but its content has %s' % ('0' * 64, hashlib.sha256(b'#!/bin/sh\necho hi\n').hexdigest())),
    (lambda files, m: m['files'].append({'path': 'volumes/workspace/ghost.txt', 'type': 'file', 'size': 1, 'sha256': '0' * 64}),
     'volumes/workspace/ghost.txt is in the manifest but not in the archive'),
    (lambda files, m: m['files'].remove(files['volumes/config/app.toml']),
     'volumes/config/app.toml is in the archive but not in the manifest'),
    (lambda files, m: files['volumes/workspace/sub'].update(mode='0755'),
     'volumes/workspace/sub has mode 0755 in the manifest but 0700 in the archive'),
    (lambda files, m: files['volumes/workspace/link'].update(target='run.sh'),
     'volumes/workspace/link points to run.sh in the manifest but to notes.txt in the archive'),
    (lambda files, m: files['volumes/workspace/sub'].update(type='file'),
     'volumes/workspace/sub is a file in the manifest but a dir in the archive'),
    (lambda files, m: m.update(format_version=2), 'format_version 2 is not the version this reader knows (1)'),
    (lambda files, m: m.update(format='other'), "format is 'other', not 'clawd.ops/backup'"),
    (lambda files, m: m.pop('files'), 'the manifest has no files list'),
])
def test_manifest_mismatch_is_named(tmp_path, edit, reason):
    built = make(tmp_path, manifest_edit=spoil(edit))
    report = verify_archive(built['path'])
    assert failed_names(report) == ['manifest']
    assert check(report, 'manifest')['reason'] == reason


def test_manifest_that_is_not_last(tmp_path):
    built = make(tmp_path, manifest_position=3)
    report = verify_archive(built['path'])
    assert check(report, 'manifest')['reason'] == 'the manifest is not the last member (volumes/workspace/empty follows it)'


def test_manifest_that_is_not_json(tmp_path):
    members = sample_members() + [{'name': 'clawd-backup/manifest.json', 'data': b'{"format": '}]
    built = make(tmp_path, members, manifest=None)
    reason = check(verify_archive(built['path']), 'manifest')['reason']
    assert reason.startswith('clawd-backup/manifest.json is not valid JSON: ')


def test_manifest_beside_that_differs(tmp_path):
    built = make(tmp_path)
    with open(built['path'] + '.manifest.json', 'ab') as handle:
        handle.write(b' ')
    report = verify_archive(built['path'])
    assert check(report, 'manifest')['reason'] == '%s.manifest.json differs from the manifest inside the archive' % os.path.basename(built['path'])


def test_many_manifest_problems_are_counted(tmp_path):
    def drop_all(manifest):
        manifest['files'] = []
    built = make(tmp_path, manifest_edit=drop_all)
    reason = check(verify_archive(built['path']), 'manifest')['reason']
    assert reason.count('is in the archive but not in the manifest') == 5
    assert reason.endswith('; and %d more' % (len(sample_members()) - 5))


# Unsafe members --------------------------------------------------------------------------------

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


@pytest.mark.parametrize('kind', sorted(UNSAFE))
def test_unsafe_member_fails_safety_naming_it(tmp_path, kind):
    unsafe, problem = UNSAFE[kind]
    built = make(tmp_path, sample_members() + [unsafe])
    report = verify_archive(built['path'], require_manifest=False)
    assert 'safety' in failed_names(report)
    assert check(report, 'safety')['reason'] == problem
    assert report['unsafe_members'] == [{'name': unsafe['name'], 'problem': problem}]


def test_every_unsafe_member_is_listed(tmp_path):
    built = make(tmp_path, sample_members() + [UNSAFE[kind][0] for kind in sorted(UNSAFE) if kind != 'duplicate name'])
    report = verify_archive(built['path'], require_manifest=False)
    assert len(report['unsafe_members']) == len(UNSAFE) - 1
    assert check(report, 'safety')['reason'].endswith('; and %d more' % (len(UNSAFE) - 1 - 5))


# Age, size, expected members -------------------------------------------------------------------

def test_max_age_counts_from_the_name(tmp_path):
    built = make(tmp_path, when=NOW - 3 * 86400)
    old = verify_archive(built['path'], max_age='25h', now=NOW)
    assert failed_names(old) == ['age']
    assert check(old, 'age')['reason'] == 'made 3d00h ago, more than 25h'
    assert old['age_seconds'] == 3 * 86400
    assert verify_archive(built['path'], max_age='4d', now=NOW)['ok'] is True
    assert verify_archive(built['path'], max_age=4 * 86400, now=NOW)['ok'] is True


def test_max_age_counts_from_mtime_without_a_time_in_the_name(tmp_path):
    built = build_archive(str(tmp_path / 'manual.tar.zst'), sample_members())
    os.utime(built['path'], (NOW - 7200, NOW - 7200))
    assert check(verify_archive(built['path'], max_age='1h', now=NOW), 'age')['reason'] == 'made 2h00m ago, more than 1h'
    assert check(verify_archive(built['path'], max_age='3h', now=NOW), 'age')['ok'] is True


def test_bad_max_age_raises_value_error(tmp_path):
    built = make(tmp_path)
    with pytest.raises(ValueError, match='invalid age'):
        verify_archive(built['path'], max_age='yesterday')


def test_min_size(tmp_path):
    built = make(tmp_path)
    size = os.path.getsize(built['path'])
    report = verify_archive(built['path'], min_size=size + 1)
    assert failed_names(report) == ['size']
    assert check(report, 'size')['reason'] == '%d bytes, less than the minimum %d' % (size, size + 1)
    assert verify_archive(built['path'], min_size=size)['ok'] is True


def test_expected_members(tmp_path):
    built = make(tmp_path)
    good = verify_archive(built['path'], expected_members=['volumes/workspace/', 'volumes/workspace/sub/', 'dumps/app.sqlite3', 'volumes/config'])
    assert check(good, 'expected_members') == {'name': 'expected_members', 'ok': True, 'reason': 'all 4 present'}
    bad = verify_archive(built['path'], expected_members=['volumes/workspace/', 'volumes/data/', 'dumps/db.sqlite3'])
    assert failed_names(bad) == ['expected_members']
    assert check(bad, 'expected_members')['reason'] == 'missing from the archive: volumes/data/, dumps/db.sqlite3'


# Spot check ------------------------------------------------------------------------------------

@pytest.fixture
def live_workspace(tmp_path):
    live = tmp_path / 'live'
    (live / 'sub').mkdir(parents=True)
    for member in sample_members():
        if member['name'].startswith('volumes/workspace/') and member.get('type', 'file') == 'file':
            (live / member['name'][len('volumes/workspace/'):]).write_bytes(member['data'])
    return live


def test_spot_check_counts_same_different_missing(tmp_path, live_workspace):
    built = make(tmp_path)
    spot = {'count': 10, 'sources': {'workspace': str(live_workspace)}}
    same = verify_archive(built['path'], spot_check=spot)
    assert same['spot_check'] == {'sampled': 4, 'same': 4, 'different': 0, 'missing': 0, 'different_paths': [], 'missing_paths': []}
    (live_workspace / 'notes.txt').write_bytes(b'edited after the backup\n')
    (live_workspace / 'run.sh').unlink()
    changed = verify_archive(built['path'], spot_check=spot)
    assert changed['spot_check'] == {'sampled': 4, 'same': 2, 'different': 1, 'missing': 1,
                                     'different_paths': ['volumes/workspace/notes.txt'], 'missing_paths': ['volumes/workspace/run.sh']}
    assert check(changed, 'spot_check')['ok'] is True  # informational by default
    assert check(changed, 'spot_check')['reason'] == ('4 files sampled: 2 same as the live files, 1 different, 1 missing '
                                                      '(volumes/workspace/notes.txt, volumes/workspace/run.sh)')
    strict = verify_archive(built['path'], spot_check=dict(spot, fail_on_difference=True))
    assert failed_names(strict) == ['spot_check']


def test_spot_check_picks_the_same_files_for_the_same_archive(tmp_path, live_workspace):
    built = make(tmp_path)
    spot = {'count': 2, 'sources': {'workspace': str(live_workspace)}}
    for name in ('notes.txt', 'run.sh', 'empty', 'sub/data.bin'):
        (live_workspace / name).write_bytes(b'all different now')
    first = verify_archive(built['path'], spot_check=spot)['spot_check']
    assert first['sampled'] == 2 and first['different'] == 2
    for attempt in range(3):
        assert verify_archive(built['path'], spot_check=spot)['spot_check']['different_paths'] == first['different_paths']


def test_spot_check_without_manifest(tmp_path, live_workspace):
    built = make(tmp_path, manifest=None)
    spot = {'count': 2, 'sources': {'workspace': str(live_workspace)}}
    assert check(verify_archive(built['path'], require_manifest=False, spot_check=spot), 'spot_check') == {
        'name': 'spot_check', 'ok': True, 'reason': 'no manifest to pick files from'}
    assert check(verify_archive(built['path'], require_manifest=False, spot_check=dict(spot, fail_on_difference=True)), 'spot_check')['ok'] is False


# S3 ETag ---------------------------------------------------------------------------------------

def s3_etag_by_hand(data, part_size):
    parts = [data[start:start + part_size] for start in range(0, len(data), part_size)] or [b'']
    if len(parts) == 1:
        return hashlib.md5(parts[0]).hexdigest()
    return '%s-%d' % (hashlib.md5(b''.join(hashlib.md5(part).digest() for part in parts)).hexdigest(), len(parts))


def test_s3_etag_of_one_part(tmp_path):
    built = make(tmp_path)
    data = open(built['path'], 'rb').read()
    report = verify_archive(built['path'], s3_etag_part_size=len(data) + 1)
    assert report['s3_etag'] == hashlib.md5(data).hexdigest()
    assert verify_archive(built['path'], s3_etag_part_size=len(data))['s3_etag'] == hashlib.md5(data).hexdigest()


@pytest.mark.parametrize('chunk_size', [100, 1000, 1 << 20])
def test_s3_etag_of_many_parts(tmp_path, chunk_size):
    members = sample_members() + [{'name': 'volumes/workspace/big.bin', 'data': noise(50000)}]
    built = make(tmp_path, members)
    data = open(built['path'], 'rb').read()
    for part_size in (1000, 4096, len(data) // 3, len(data) // 2):
        report = verify_archive(built['path'], s3_etag_part_size=part_size, chunk_size=chunk_size)
        assert report['s3_etag'] == s3_etag_by_hand(data, part_size)
        assert report['s3_etag'].endswith('-%d' % -(-len(data) // part_size))


def test_s3_etag_when_the_size_is_a_multiple_of_the_part(tmp_path):
    built = make(tmp_path)
    data = open(built['path'], 'rb').read()
    part = len(data) // 4
    with open(built['path'], 'wb') as handle:
        handle.write(data[:part * 4])
    assert verify_archive(built['path'], s3_etag_part_size=part)['s3_etag'] == s3_etag_by_hand(data[:part * 4], part)
    assert verify_archive(built['path'], s3_etag_part_size=part)['s3_etag'].endswith('-4')


# The tar and zstd layers -----------------------------------------------------------------------

def tar_bytes(members, tar_format=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tar_format) as tar:
        for member in members:
            info = tarfile.TarInfo(member['name'])
            info.size = len(member['data'])
            tar.addfile(info, io.BytesIO(member['data']))
    return buf.getvalue()


def write_zstd(path, payload, frames=1):
    compressor = zstandard.ZstdCompressor(write_checksum=True)
    step = -(-len(payload) // frames)
    with open(path, 'wb') as handle:
        for start in range(0, len(payload), step):
            handle.write(compressor.compress(payload[start:start + step]))


SIMPLE = [{'name': 'volumes/w/a.txt', 'data': b'a' * 1000}, {'name': 'volumes/w/b.txt', 'data': b'b' * 3000}]


def test_corrupt_tar_header_is_named(tmp_path):
    payload = bytearray(tar_bytes(SIMPLE, tarfile.USTAR_FORMAT))
    payload[1536 + 10] ^= 0x20  # in the name of the second member's header
    path = str(tmp_path / name_for())
    write_zstd(path, bytes(payload))
    reason = check(verify_archive(path, require_manifest=False), 'readable')['reason']
    assert reason == 'tar data is corrupt: bad header checksum at byte 1536 of the tar stream (after member volumes/w/a.txt)'


def test_data_after_the_end_of_archive_marker(tmp_path):
    path = str(tmp_path / name_for())
    write_zstd(path, tar_bytes(SIMPLE) + b'trailing garbage')
    assert check(verify_archive(path, require_manifest=False), 'readable')['reason'] == 'tar data is corrupt: data follows the end-of-archive marker'


def test_a_lone_zero_block_followed_by_data(tmp_path):
    payload = tar_bytes(SIMPLE[:1])
    end = 512 + 1024
    path = str(tmp_path / name_for())
    write_zstd(path, payload[:end] + b'\0' * 512 + tar_bytes(SIMPLE[1:]))
    reason = check(verify_archive(path, require_manifest=False), 'readable')['reason']
    assert reason == 'tar data is corrupt after member volumes/w/a.txt: a lone zero block at byte 1536 of the tar stream is followed by data'


def test_missing_second_zero_block(tmp_path):
    payload = tar_bytes(SIMPLE)
    end = (512 + 1024) + (512 + 3072) + 512
    path = str(tmp_path / name_for())
    write_zstd(path, payload[:end])
    reason = check(verify_archive(path, require_manifest=False), 'readable')['reason']
    assert reason == 'the archive is truncated after member volumes/w/b.txt: the end-of-archive marker is cut short'


@pytest.mark.parametrize('frames', [1, 2, 5])
def test_several_zstd_frames_are_one_stream(tmp_path, frames):
    path = str(tmp_path / name_for())
    write_zstd(path, tar_bytes(SIMPLE), frames)
    report = verify_archive(path, require_manifest=False)
    assert report['ok'] is True, failure_summary(report)
    assert report['bytes'] == 4000


def test_a_skippable_zstd_frame_is_skipped(tmp_path):
    path = str(tmp_path / name_for())
    write_zstd(path, tar_bytes(SIMPLE))
    with open(path, 'rb') as handle:
        data = handle.read()
    with open(path, 'wb') as handle:
        handle.write(b'\x50\x2a\x4d\x18' + (5).to_bytes(4, 'little') + b'hello' + data)
    report = verify_archive(path, require_manifest=False)
    assert report['ok'] is True, failure_summary(report)


def test_without_zstandard_a_zstd_archive_raises_missing_library(tmp_path, monkeypatch):
    zstd_archive = make(tmp_path)
    gzip_archive = make(tmp_path, compression='gzip')
    monkeypatch.setattr(_backup_format, 'HAS_ZSTANDARD', False)
    with pytest.raises(MissingLibraryError):
        verify_archive(zstd_archive['path'])
    assert verify_archive(gzip_archive['path'])['ok'] is True


def test_unexpected_errors_are_readable_failures_not_tracebacks(tmp_path, monkeypatch):
    built = make(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError('boom')
    monkeypatch.setattr(_backup_pipeline, 'member_safety_problem', broken)
    report = verify_archive(built['path'])
    assert check(report, 'readable')['reason'] == 'cannot read the archive in member volumes/workspace: RuntimeError: boom'
    assert report['sha256'] == built['sha256']


# Header parsing: the same members as tarfile ---------------------------------------------------

def headers_of(payload):
    chunks = iter([payload[start:start + 777] for start in range(0, len(payload), 777)])
    feed = _backup_tar._TarFeed(lambda: next(chunks, b''))
    headers = _backup_tar._TarHeaders(feed)
    found = []
    while True:
        info = headers.next()
        if info is None:
            return found, headers.end
        found.append(info)
        stored = info.size + (-info.size % 512) if info.isreg() else 0
        feed.consume(stored)


def summary(info):
    # Python < 3.11 leaves the / of a GNU long directory name; both read the same member
    name = info.name.rstrip('/') if info.isdir() else info.name
    return (name, info.type, info.size, info.mode, info.uid, info.gid, info.linkname, int(info.mtime), info.uname, info.gname)


TRICKY = [
    {'name': 'volumes/w/' + 'long-folder-name-' * 8 + '/file-with-a-long-name-' * 3, 'data': b'long'},
    {'name': 'volumes/w/ünïcødé €.txt', 'data': 'é'.encode()},
    {'name': 'volumes/w/dir', 'type': tarfile.DIRTYPE},
    {'name': 'volumes/w/link', 'type': tarfile.SYMTYPE, 'linkname': 'target/' + 'x' * 150},
    {'name': 'volumes/w/big-uid', 'data': b'u', 'uid': 3000000, 'gid': 70000, 'uname': 'someone', 'gname': 'group'},
    {'name': 'volumes/w/mtime', 'data': b'm', 'mtime': 1795456200.5},
    {'name': 'volumes/w/empty', 'data': b''},
]


@pytest.mark.parametrize('tar_format', [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT], ids=['pax', 'gnu'])
def test_header_parser_agrees_with_tarfile(tar_format):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tar_format) as tar:
        for spec in TRICKY:
            info = tarfile.TarInfo(spec['name'])
            info.type = spec.get('type', tarfile.REGTYPE)
            info.linkname = spec.get('linkname', '')
            for key in ('uid', 'gid', 'uname', 'gname', 'mtime'):
                if key in spec:
                    setattr(info, key, spec[key])
            data = spec.get('data', b'')
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    payload = buf.getvalue()
    expected = [summary(info) for info in tarfile.open(fileobj=io.BytesIO(payload)).getmembers()]
    found, end = headers_of(payload)
    assert [summary(info) for info in found] == expected
    assert end == 'marker'


@pytest.mark.skipif(not HAVE_GNU_TAR, reason='needs GNU tar and zstd')
@pytest.mark.parametrize('tar_format', ['gnu', 'posix', 'ustar', 'oldgnu'])
def test_header_parser_agrees_with_tarfile_on_gnu_tar_archives(tmp_path, tar_format):
    source = tmp_path / 'src' / 'volumes' / 'w'
    deep = source / ('d' * 60) / ('e' * 60)
    deep.mkdir(parents=True)
    (deep / 'file.txt').write_bytes(b'deep')
    (source / 'plain.txt').write_bytes(b'plain' * 300)
    os.symlink('plain.txt', str(source / 'link'))
    archive = tmp_path / 'gnu.tar'
    names = ['volumes'] if tar_format != 'ustar' else ['volumes/w/plain.txt', 'volumes/w/link']
    subprocess.check_call(['tar', '--format=%s' % tar_format, '-cf', str(archive), '-C', str(tmp_path / 'src')] + names)
    payload = archive.read_bytes()
    expected = [summary(info) for info in tarfile.open(str(archive)).getmembers()]
    found, end = headers_of(payload)
    assert [summary(info) for info in found] == expected
    assert end == 'marker'


# Interop with GNU tar and the zstd CLI -------------------------------------------------------

@pytest.mark.skipif(not HAVE_GNU_TAR, reason='needs GNU tar and zstd')
@pytest.mark.parametrize('compression, flag', [('zstd', '--zstd'), ('gzip', '-z')])
def test_gnu_tar_lists_and_extracts_our_archives(tmp_path, compression, flag):
    built = make(tmp_path, compression=compression)
    listing = subprocess.check_output(['tar', flag, '-tf', built['path']]).decode().split()
    assert listing == [member['name'] + ('/' if member.get('type') == 'dir' else '') for member in sample_members()] + ['clawd-backup/manifest.json']
    out = tmp_path / 'out'
    out.mkdir()
    subprocess.check_call(['tar', flag, '-xf', built['path'], '-C', str(out)])
    assert (out / 'volumes/workspace/notes.txt').read_bytes() == b'hello backups\n' * 100
    assert os.readlink(str(out / 'volumes/workspace/sub/up')) == '../run.sh'
    assert json.loads((out / 'clawd-backup/manifest.json').read_bytes())['service'] == 'claudebox'
    if compression == 'zstd':
        subprocess.check_call(['zstd', '-q', '-t', built['path']])


@pytest.mark.skipif(not HAVE_GNU_TAR, reason='needs GNU tar and zstd')
@pytest.mark.parametrize('tar_format', ['gnu', 'posix'])
def test_archives_made_by_gnu_tar_verify(tmp_path, tar_format):
    root = tmp_path / 'src'
    source = root / 'volumes' / 'workspace'
    (source / 'sub').mkdir(parents=True)
    (source / 'notes.txt').write_bytes(b'notes\n' * 1000)
    (source / 'sub' / ('long-name-' * 12 + '.txt')).write_bytes(noise(5000))
    os.symlink('../notes.txt', str(source / 'sub' / 'link'))
    subprocess.check_call(['tar', '--zstd', '--format=%s' % tar_format, '-cf', str(tmp_path / 'bare.tar.zst'), '-C', str(root), 'volumes/workspace'])
    bare = verify_archive(str(tmp_path / 'bare.tar.zst'), require_manifest=False)
    assert bare['ok'] is True, failure_summary(bare)
    assert bare['members'] == 5
    assert failed_names(verify_archive(str(tmp_path / 'bare.tar.zst'))) == ['manifest']

    manifest = manifest_for(members_from_folder('workspace', str(source)))
    (root / 'clawd-backup').mkdir()
    (root / 'clawd-backup' / 'manifest.json').write_text(json.dumps(manifest))
    plain = tmp_path / 'plain.tar'  # tar cannot append to a compressed archive: append, then compress
    subprocess.check_call(['tar', '--format=%s' % tar_format, '-cf', str(plain), '-C', str(root), 'volumes/workspace'])
    subprocess.check_call(['tar', '--format=%s' % tar_format, '-rf', str(plain), '-C', str(root), 'clawd-backup/manifest.json'])
    subprocess.check_call(['zstd', '-q', str(plain), '-o', str(tmp_path / 'full.tar.zst')])
    full = verify_archive(str(tmp_path / 'full.tar.zst'))
    assert full['ok'] is True, failure_summary(full)
    assert full['bytes'] == 6000 + 5000


# find_newest -----------------------------------------------------------------------------------

def test_find_newest_by_name_then_mtime(tmp_path):
    for when in (NOW - 7200, NOW, NOW - 3600):
        (tmp_path / name_for('zstd', when)).write_bytes(b'x')
    newest = tmp_path / name_for('zstd', NOW)
    os.utime(str(newest), (NOW - 99999, NOW - 99999))  # the name wins over mtime
    for side in ('.sha256', '.manifest.json', '.partial'):
        (tmp_path / (name_for('zstd', NOW + 60) + side)).write_bytes(b'x')
    (tmp_path / 'notes.txt').write_bytes(b'x')
    assert find_newest(str(tmp_path)) == str(newest)
    assert find_newest(str(tmp_path), '*.tar.gz') is None
    (tmp_path / 'manual.tar.gz').write_bytes(b'x')
    os.utime(str(tmp_path / 'manual.tar.gz'), (NOW + 100, NOW + 100))
    assert find_newest(str(tmp_path)) == str(tmp_path / 'manual.tar.gz')
    assert find_newest(str(tmp_path), 'claudebox-*') == str(newest)


def test_find_newest_in_an_empty_folder(tmp_path):
    assert find_newest(str(tmp_path)) is None


def test_verify_is_fast_enough_to_not_be_quadratic(tmp_path):
    members = [{'name': 'volumes/w', 'type': 'dir'}] + [{'name': 'volumes/w/f%05d' % index, 'data': b'%d' % index} for index in range(3000)]
    built = make(tmp_path, members)
    started = time.monotonic()
    report = verify_archive(built['path'])
    assert report['ok'] is True
    assert time.monotonic() - started < 10


# Extraction ------------------------------------------------------------------------------------

FILTERS = [pytest.param('stdlib', marks=pytest.mark.skipif(not _backup_extract.HAS_TAR_FILTERS, reason='this Python has no tarfile.data_filter')),
           'fallback']
AS_ROOT = hasattr(os, 'geteuid') and os.geteuid() == 0


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


@pytest.mark.parametrize('data_filter', FILTERS)
def test_extract_restores_content_modes_symlinks_and_owners(tmp_path, data_filter, threads):
    built = make(tmp_path)
    target = tmp_path / 'restore' / 'workspace'
    dumps = tmp_path / 'restore' / 'dumps'
    result = extract_archive(built['path'], {'workspace': str(target), 'dumps': str(dumps)}, data_filter=data_filter, threads=threads)
    assert result == {
        'changed': True, 'filter': data_filter, 'skipped_members': 3,
        'targets': {
            'workspace': {'path': str(target), 'files': 4, 'dirs': 1, 'symlinks': 2, 'bytes': 1400 + 18 + 76800, 'removed': 0},
            'dumps': {'path': str(dumps), 'files': 1, 'dirs': 0, 'symlinks': 0, 'bytes': 4016, 'removed': 0},
        },
    }
    assert tree(target) == {
        'notes.txt': ('file', 0o644, b'hello backups\n' * 100),
        'run.sh': ('file', 0o755, b'#!/bin/sh\necho hi\n'),
        'empty': ('file', 0o600, b''),
        'sub': ('dir', 0o700, None),
        'sub/data.bin': ('file', 0o640, bytes(range(256)) * 300),
        'link': ('symlink', None, 'notes.txt'),
        'sub/up': ('symlink', None, '../run.sh'),
    }
    assert tree(dumps) == {'app.sqlite3': ('file', 0o600, b'SQLite format 3\0' + b'\1' * 4000)}
    assert os.stat(str(target / 'notes.txt')).st_mtime == 1795000000
    assert os.stat(str(target)).st_mode & 0o7777 == 0o755
    if AS_ROOT:
        assert (os.lstat(str(target / 'sub' / 'data.bin')).st_uid, os.lstat(str(target / 'link')).st_gid, os.stat(str(target)).st_uid) == (1000, 1000, 1000)


@pytest.mark.parametrize('data_filter', FILTERS)
def test_extract_strips_setuid_and_group_other_write(tmp_path, data_filter):
    members = [
        {'name': 'volumes/workspace', 'type': 'dir', 'mode': 0o1777},
        {'name': 'volumes/workspace/suid', 'data': b'x', 'mode': 0o4755},
        {'name': 'volumes/workspace/shared', 'data': b'x', 'mode': 0o666},
        {'name': 'volumes/workspace/noexec', 'data': b'x', 'mode': 0o055},
        {'name': 'volumes/workspace/group-dir', 'type': 'dir', 'mode': 0o2775},
    ]
    built = make(tmp_path, members)
    target = tmp_path / 'restore'
    extract_archive(built['path'], {'workspace': str(target)}, data_filter=data_filter)
    assert {name: mode for name, (_kind, mode, _data) in tree(target).items()} == {
        'suid': 0o755, 'shared': 0o644, 'noexec': 0o644, 'group-dir': 0o755}
    assert os.stat(str(target)).st_mode & 0o7777 == 0o755


def test_extract_clears_the_target_contents_but_keeps_the_folder(tmp_path):
    built = make(tmp_path)
    target = tmp_path / 'mountpoint'
    (target / 'made-after-backup' / 'deep').mkdir(parents=True)
    (target / 'notes.txt').write_bytes(b'newer notes')
    (target / 'stale-link').symlink_to('/etc')
    inode = os.stat(str(target)).st_ino
    result = extract_archive(built['path'], {'workspace': str(target)})
    assert result['targets']['workspace']['removed'] == 3
    assert os.stat(str(target)).st_ino == inode
    assert sorted(tree(target)) == ['empty', 'link', 'notes.txt', 'run.sh', 'sub', 'sub/data.bin', 'sub/up']
    assert (target / 'notes.txt').read_bytes() == b'hello backups\n' * 100


def test_extract_without_clear_keeps_other_files_and_replaces_archived_ones(tmp_path):
    built = make(tmp_path)
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'kept.txt').write_bytes(b'kept')
    (target / 'notes.txt').write_bytes(b'newer notes')
    (target / 'link').write_bytes(b'a file where the archive has a symlink')
    (target / 'sub').mkdir()
    result = extract_archive(built['path'], {'workspace': str(target)}, clear=False)
    assert result['targets']['workspace']['removed'] == 0
    assert (target / 'kept.txt').read_bytes() == b'kept'
    assert (target / 'notes.txt').read_bytes() == b'hello backups\n' * 100
    assert os.readlink(str(target / 'link')) == 'notes.txt'


def test_extract_check_mode_writes_nothing(tmp_path):
    built = make(tmp_path)
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    before = tree(tmp_path)
    result = extract_archive(built['path'], {'workspace': str(target), 'dumps': str(tmp_path / 'not-yet')}, check_mode=True)
    assert result['changed'] is True
    assert result['targets']['workspace'] == {'path': str(target), 'files': 4, 'dirs': 1, 'symlinks': 2, 'bytes': 78218, 'removed': 1}
    assert tree(tmp_path) == before
    assert not (tmp_path / 'not-yet').exists()


def test_extract_refuses_an_unknown_source_before_writing(tmp_path):
    built = make(tmp_path)
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target), 'database': str(tmp_path / 'db')})
    assert str(error.value) == 'the archive has no database to restore (it has: config, dumps, workspace); nothing was written'
    assert tree(target) == {'current.txt': ('file', 0o644, b'current')}
    assert not (tmp_path / 'db').exists()


@pytest.mark.parametrize('data_filter', FILTERS)
@pytest.mark.parametrize('kind', sorted(UNSAFE))
def test_extract_refuses_each_unsafe_member_with_nothing_written(tmp_path, kind, data_filter):
    unsafe, problem = UNSAFE[kind]
    built = make(tmp_path, sample_members() + [unsafe])
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    before = tree(tmp_path)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, data_filter=data_filter)
    assert str(error.value) == 'the archive has unsafe members: %s; nothing was written' % problem
    assert tree(tmp_path) == before


@pytest.mark.parametrize('data_filter', FILTERS)
def test_extract_refuses_to_write_through_a_symlink_on_disk(tmp_path, data_filter):
    """A target kept as it is (clear=false) with a symlink out of it: the filter refuses up front."""
    built = make(tmp_path)
    target = tmp_path / 'restore'
    outside = tmp_path / 'outside'
    outside.mkdir()
    target.mkdir()
    (target / 'sub').symlink_to(str(outside))
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, clear=False, data_filter=data_filter)
    assert str(error.value).startswith('the archive has unsafe members: member sub')
    assert str(error.value).endswith('; nothing was written')
    assert list(outside.iterdir()) == []
    assert sorted(tree(target)) == ['sub']


def test_extract_of_a_truncated_archive_writes_nothing(tmp_path):
    built = make(tmp_path)
    data = open(built['path'], 'rb').read()
    with open(built['path'], 'wb') as handle:
        handle.write(data[:len(data) - 30])
    target = tmp_path / 'restore'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)})
    assert str(error.value).startswith('cannot read the archive: the archive is truncated')
    assert tree(target) == {'current.txt': ('file', 0o644, b'current')}


def test_extract_stdlib_filter_is_refused_where_python_lacks_it(tmp_path, monkeypatch):
    built = make(tmp_path)
    monkeypatch.setattr(_backup_extract, 'HAS_TAR_FILTERS', False)
    with pytest.raises(BackupExtractError, match='has no tarfile.data_filter'):
        extract_archive(built['path'], {'workspace': str(tmp_path / 'x')}, data_filter='stdlib')


def test_extract_uses_the_fallback_where_python_lacks_the_filter(tmp_path, monkeypatch):
    """Debian bookworm's Python 3.11.2: no tarfile.data_filter (the members are written by this module, not tarfile)."""
    built = make(tmp_path)
    monkeypatch.setattr(_backup_extract, 'HAS_TAR_FILTERS', False)
    monkeypatch.delattr(tarfile, 'data_filter', raising=False)
    result = extract_archive(built['path'], {'workspace': str(tmp_path / 'restore')})
    assert result['filter'] == 'fallback'
    assert (tmp_path / 'restore' / 'run.sh').read_bytes() == b'#!/bin/sh\necho hi\n'


_HAS_REAL_FILTERS = _backup_extract.HAS_TAR_FILTERS


def fallback_cases(dest):
    def info(name, kind=tarfile.REGTYPE, mode=0o644, linkname=''):
        member = tarfile.TarInfo(name)
        member.type, member.mode, member.linkname = kind, mode, linkname
        member.uid, member.gid, member.uname, member.gname = 1000, 1000, 'user', 'group'
        return member
    os.symlink('/etc', os.path.join(dest, 'escape'))
    return [
        info('plain.txt'), info('exec', mode=0o4775), info('noexec', mode=0o077), info('dir', tarfile.DIRTYPE, 0o2777),
        info('/abs/path'), info('../up'), info('a/../../up'), info('escape/passwd'),
        info('link', tarfile.SYMTYPE, linkname='plain.txt'), info('link', tarfile.SYMTYPE, linkname='/etc/passwd'),
        info('sub/link', tarfile.SYMTYPE, linkname='../../out'), info('hard', tarfile.LNKTYPE, linkname='plain.txt'),
        info('hard', tarfile.LNKTYPE, linkname='../out'), info('dev', tarfile.CHRTYPE), info('blk', tarfile.BLKTYPE),
        info('fifo', tarfile.FIFOTYPE),
    ]


@pytest.mark.skipif(not _HAS_REAL_FILTERS, reason='compares with tarfile.data_filter')
def test_fallback_filter_follows_tarfile_data_filter(tmp_path):
    for member in fallback_cases(str(tmp_path)):
        try:
            expected = tarfile.data_filter(member, str(tmp_path))  # pylint: disable=no-member
        except tarfile.FilterError:  # pylint: disable=no-member
            expected = 'refused'
        try:
            got = _backup_extract.fallback_data_filter(member, str(tmp_path))
        except _backup_extract.UnsafeMemberError as exc:
            assert str(exc).startswith('member %s: ' % member.name)
            got = 'refused'
        if expected == 'refused' or got == 'refused':
            assert (member.name, got) == (member.name, expected)
        else:
            fields = ('name', 'type', 'mode', 'uid', 'gid', 'uname', 'gname', 'linkname')
            assert [getattr(got, field) for field in fields] == [getattr(expected, field) for field in fields], member.name


# Hostile tar headers (issue 11, item 13): each read runs in a child bounded in time and memory ------

def verify_bounded(path, **kwargs):
    kwargs.setdefault('require_manifest', False)
    outcome = run_bounded(lambda: verify_archive(path, **kwargs))
    assert outcome[0] == 'ok', outcome
    return outcome[1]


def extract_bounded(path, targets, **kwargs):
    def run():
        try:
            return extract_archive(path, targets, **kwargs)
        except BackupExtractError as exc:
            return 'refused: %s' % exc
    outcome = run_bounded(run)
    assert outcome[0] == 'ok', outcome
    return outcome[1]


@pytest.mark.parametrize('size_field', [b'-0000001000\0', b'\xff' * 12], ids=['octal-with-sign', 'base-256'])
def test_a_negative_member_size_is_refused_not_looped_on(tmp_path, size_field):
    payload = header_block('volumes/workspace/a', size_field=size_field) + padded(b'x' * 100) + end_marker()
    path = compress(str(tmp_path / name_for()), payload)
    report = verify_bounded(path)
    assert check(report, 'readable')['reason'].startswith('tar data is corrupt: negative size in the header at byte 0 of the tar stream')
    result = extract_bounded(path, {'workspace': str(tmp_path / 'restore')})
    assert result.startswith('refused: cannot read the archive: tar data is corrupt: negative size')
    assert not (tmp_path / 'restore').exists()


def test_a_negative_size_in_a_pax_record_is_refused(tmp_path):
    record = b'16 size=-100000\n'
    payload = (header_block('pax', size=len(record), kind=tarfile.XHDTYPE) + padded(record)
               + header_block('volumes/workspace/a', size=3) + padded(b'abc') + end_marker())
    path = compress(str(tmp_path / name_for()), payload)
    reason = check(verify_bounded(path), 'readable')['reason']
    assert reason.startswith('tar data is corrupt: negative size in a pax record at byte 0 of the tar stream'), reason


def test_the_feed_never_moves_backwards():
    feed = _backup_tar._TarFeed(iter([b'x' * 1024, b'']).__next__)
    with pytest.raises(ValueError):
        feed.consume(-1)
    with pytest.raises(ValueError):
        feed.read(-1)
    assert feed.tell() == 0


@pytest.mark.parametrize('kind', [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME], ids=['pax', 'gnu-long-name'])
def test_a_special_header_over_1_mib_is_refused(tmp_path, kind):
    size = (1 << 20) + 1
    payload = (header_block('././@LongLink', size=size, kind=kind) + padded(b'\0' * size)
               + header_block('volumes/workspace/a', size=1) + padded(b'a') + end_marker())
    path = compress(str(tmp_path / name_for()), payload)
    reason = check(verify_bounded(path), 'readable')['reason']
    assert reason.startswith('tar data is corrupt: a special header of 1048577 bytes at byte 0 of the tar stream (at most 1048576 are read)'), reason


def test_a_huge_declared_special_header_costs_no_memory(tmp_path):
    """1 GiB declared, 64 MiB there: refused from the header alone, within a small memory bound."""
    size = 64 << 20
    head = header_block('././@PaxHeader', size=1 << 30, kind=tarfile.XHDTYPE)
    path = str(tmp_path / name_for())
    with open(path, 'wb') as handle:
        compressor = zstandard.ZstdCompressor(write_checksum=True).compressobj()
        handle.write(compressor.compress(head))
        for _mib in range(size >> 20):
            handle.write(compressor.compress(b'\0' * (1 << 20)))
        handle.write(compressor.flush())
    outcome = run_bounded(lambda: verify_archive(path, require_manifest=False, threads=False), extra_memory=48 << 20)
    assert outcome[0] == 'ok', outcome
    assert 'a special header of 1073741824 bytes' in check(outcome[1], 'readable')['reason']


def test_names_with_non_utf8_bytes_are_escaped_in_reasons(tmp_path):
    payload = (header_block('x', size=1, name_bytes=b'volumes/workspace/\xff\xfe/../evil') + padded(b'a')
               + header_block('volumes/workspace/ok', size=1) + padded(b'a') + end_marker())
    path = compress(str(tmp_path / name_for()), payload)
    report = verify_bounded(path)
    assert check(report, 'safety')['reason'] == "member volumes/workspace/\\xff\\xfe/../evil: '..' in its path"
    assert report['unsafe_members'][0]['name'] == 'volumes/workspace/\\xff\\xfe/../evil'
    json.dumps(report, ensure_ascii=False).encode('utf-8')  # what Ansible needs of a result: no lone surrogate
    result = extract_bounded(path, {'workspace': str(tmp_path / 'restore')})
    assert result == "refused: the archive has unsafe members: member volumes/workspace/\\xff\\xfe/../evil: '..' in its path; nothing was written"


@pytest.mark.parametrize('data_filter', FILTERS)
def test_a_file_at_a_source_root_is_refused(tmp_path, data_filter):
    members = [{'name': 'volumes/workspace', 'data': b'not a folder', 'mode': 0o600, 'uid': 4242, 'gid': 4242}]
    built = make(tmp_path, members)
    target = tmp_path / 'restore'
    target.mkdir()
    os.chmod(str(target), 0o755)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, data_filter=data_filter)
    assert str(error.value) == ('the archive has unsafe members: member volumes/workspace: a file at the root of a source '
                                '(only a folder can be restored into a target); nothing was written')
    assert os.stat(str(target)).st_mode & 0o7777 == 0o755
    assert os.stat(str(target)).st_uid != 4242
    assert 'safety' in failed_names(verify_archive(built['path']))


# Plain tar archives (issue 11, item 12) -------------------------------------------------------------

def plain_tar(tmp_path, compression='gzip'):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as tar:
        for name, data in [('./', None), ('./volumes/', None), ('./volumes/workspace/', None), ('./volumes/workspace/a.txt', b'abc')]:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE if data is None else tarfile.REGTYPE
            info.mode = 0o755 if data is None else 0o644
            info.size = len(data or b'')
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return compress(str(tmp_path / ('plain' + SUFFIX[compression])), buf.getvalue(), compression)


def test_a_plain_tar_with_a_dot_slash_prefix_verifies_and_restores(tmp_path):
    path = plain_tar(tmp_path)
    report = verify_archive(path, require_manifest=False)
    assert report['ok'] is True, failure_summary(report)
    target = tmp_path / 'restore'
    result = extract_archive(path, {'workspace': str(target)})
    assert result['targets']['workspace']['files'] == 1
    assert (target / 'a.txt').read_bytes() == b'abc'


@pytest.mark.skipif(not HAVE_GNU_TAR, reason='needs GNU tar')
def test_an_archive_made_the_common_way_with_gnu_tar_verifies(tmp_path):
    source = tmp_path / 'src' / 'volumes' / 'workspace'
    source.mkdir(parents=True)
    (source / 'a.txt').write_bytes(b'abc')
    path = str(tmp_path / 'x.tar.gz')
    subprocess.check_call(['tar', '-C', str(tmp_path / 'src'), '-czf', path, '.'])
    report = verify_archive(path, require_manifest=False)
    assert report['ok'] is True, failure_summary(report)


@pytest.mark.parametrize('payload', [end_marker(), header_block('./', kind=tarfile.DIRTYPE) + end_marker()], ids=['no-member', 'only-dot'])
def test_an_empty_archive_is_not_a_good_backup(tmp_path, payload):
    path = compress(str(tmp_path / name_for()), payload)
    report = verify_archive(path, require_manifest=False)
    assert failed_names(report) == ['content']
    assert check(report, 'content')['reason'] == 'the archive holds no file, folder or symlink (allow_empty accepts that)'
    assert verify_archive(path, require_manifest=False, allow_empty=True)['ok'] is True


# Extraction writes what was checked (issue 11, item 2) ------------------------------------------------

def swap_after_plan(monkeypatch, path, replacement):
    """Replace the archive file once the extraction planned from it (someone swapping it)."""
    real = _backup_extract._plan_extraction

    def plan_then_swap(*args, **kwargs):
        planned = real(*args, **kwargs)
        os.replace(replacement, path)
        return planned
    monkeypatch.setattr(_backup_extract, '_plan_extraction', plan_then_swap)


def live_target(tmp_path):
    target = tmp_path / 'live'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    (target / 'folder').mkdir()
    (target / 'folder' / 'deep.txt').write_bytes(b'deep')
    return target


@pytest.mark.parametrize('data_filter', FILTERS)
def test_a_hard_link_swapped_in_after_the_plan_is_refused_and_undone(tmp_path, monkeypatch, data_filter):
    built = make(tmp_path)
    other = tmp_path / 'other'
    other.mkdir()
    swapped = make(other, sample_members()[:-1] + [UNSAFE['hard link'][0]])  # as many members as the original
    target = live_target(tmp_path)
    before = tree(target)
    swap_after_plan(monkeypatch, built['path'], swapped['path'])
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, data_filter=data_filter)
    assert str(error.value).startswith('extraction failed: the archive changed after it was checked: member volumes/workspace/hard: hard link')
    assert str(error.value).endswith('target workspace (%s) put back as it was' % target)
    assert error.value.changed is True
    assert tree(target) == before


def test_other_bytes_swapped_in_after_the_plan_are_undone(tmp_path, monkeypatch):
    built = make(tmp_path)
    other = tmp_path / 'other'
    other.mkdir()
    members = sample_members()
    members[1] = dict(members[1], data=b'swapped notes\n' * 100)
    swapped = make(other, members)
    target = live_target(tmp_path)
    before = tree(target)
    swap_after_plan(monkeypatch, built['path'], swapped['path'])
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target), 'dumps': str(tmp_path / 'dumps')})
    assert str(error.value).startswith('extraction failed: the archive changed after it was checked: the file read has sha256 %s, '
                                       'the check read %s' % (swapped['sha256'], built['sha256']))
    assert 'target workspace (%s) put back as it was' % target in str(error.value)
    assert 'target dumps (%s) removed (it did not exist before)' % (tmp_path / 'dumps') in str(error.value)
    assert error.value.changed is True
    assert tree(target) == before
    assert not (tmp_path / 'dumps').exists()


def test_extract_refuses_an_archive_other_than_the_verified_one(tmp_path):
    built = make(tmp_path)
    target = live_target(tmp_path)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, expected_sha256='0' * 64)
    assert str(error.value) == 'the archive has sha256 %s, not the expected %s; nothing was written' % (built['sha256'], '0' * 64)
    assert extract_archive(built['path'], {'workspace': str(target)}, expected_sha256=built['sha256'])['changed'] is True


# Free space, size caps, and the state after a failure (issue 11, item 6) ------------------------------

def fake_statvfs(monkeypatch, free_bytes, block=4096, inodes=100000):
    def statvfs(path):
        return os.statvfs_result((block, block, 1 << 30, free_bytes // block, free_bytes // block, 1 << 20, inodes, inodes, 0, 255))
    monkeypatch.setattr(os, 'statvfs', statvfs)


def test_extract_refuses_without_room_before_touching_anything(tmp_path, monkeypatch):
    built = make(tmp_path)
    target = live_target(tmp_path)
    before = tree(target)
    fake_statvfs(monkeypatch, 14 * 4096)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, space_margin=0)
    assert str(error.value) == ('not enough free space for target workspace (%s): the restore needs 0.1 MB (the data, '
                                'the blocks of 7 entries and a margin of 0.0 MB), 0.1 MB are free (57344 bytes, 106890 needed); '
                                'nothing was written' % target)
    assert tree(target) == before
    with pytest.raises(BackupExtractError, match='not enough free space'):
        extract_archive(built['path'], {'workspace': str(target)}, check_mode=True, space_margin=0)
    fake_statvfs(monkeypatch, 200000)
    with pytest.raises(BackupExtractError, match='a margin of 1.0 MB'):
        extract_archive(built['path'], {'workspace': str(target)}, space_margin=1000000)
    assert extract_archive(built['path'], {'workspace': str(target)}, space_margin=0)['changed'] is True


def test_extract_refuses_without_enough_inodes(tmp_path, monkeypatch):
    built = make(tmp_path)
    fake_statvfs(monkeypatch, 1 << 30, inodes=3)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(tmp_path / 'restore')})
    assert str(error.value).startswith('not enough free inodes for target workspace (%s): the restore makes 7 entries, 3 are free' % (tmp_path / 'restore'))


def zero_bomb(tmp_path, compression, size=96 << 20):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo('volumes/workspace/zeros')
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    return compress(str(tmp_path / name_for(compression)), buf.getvalue(), compression)


@pytest.mark.parametrize('compression', ['zstd', 'gzip'])
def test_a_decompression_bomb_is_refused_by_the_ratio_cap(tmp_path, compression):
    path = zero_bomb(tmp_path, compression)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(path, {'workspace': str(tmp_path / 'restore')}, max_ratio=100)
    assert str(error.value).startswith('the archive expands to more than 100 times its size (max_ratio) ')
    assert str(error.value).endswith('nothing was written')
    assert not (tmp_path / 'restore').exists()


def test_the_total_size_cap(tmp_path):
    built = make(tmp_path)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(tmp_path / 'restore')}, max_total_size=50000)
    assert str(error.value) == ('the archive holds more than 50000 bytes of tar data (max_total_size): refused at 0.1 MB; '
                                'nothing was written')
    assert not (tmp_path / 'restore').exists()


def test_a_write_failure_puts_the_live_data_back_and_says_so(tmp_path, monkeypatch):
    built = make(tmp_path)
    target = live_target(tmp_path)
    before = tree(target)
    real_open = os.open

    def full_disk(path, flags, *args, **kwargs):
        if str(path).endswith('data.bin') and flags & os.O_CREAT:
            raise OSError(28, 'No space left on device')
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, 'open', full_disk)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)})
    assert str(error.value) == ('extraction failed: cannot write %s: [Errno 28] No space left on device; '
                                'target workspace (%s) put back as it was' % (target / 'sub' / 'data.bin', target))
    assert error.value.changed is True
    assert error.value.states == {'workspace': 'put back as it was'}
    assert tree(target) == before


def test_a_write_failure_without_clear_states_what_was_written(tmp_path, monkeypatch):
    built = make(tmp_path)
    target = live_target(tmp_path)
    real_open = os.open

    def full_disk(path, flags, *args, **kwargs):
        if str(path).endswith('data.bin') and flags & os.O_CREAT:
            raise OSError(28, 'No space left on device')
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, 'open', full_disk)
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)}, clear=False)
    assert error.value.changed is True
    assert error.value.states == {'workspace': 'partly restored: its contents were kept (clear=false) and 4 members were written over them'}


# Folder errors are failures naming the path (issue 11, item 8) ----------------------------------------

@pytest.mark.parametrize('error_number', [13, 2], ids=['permission', 'gone'])
def test_a_target_that_cannot_be_listed_is_named(tmp_path, monkeypatch, error_number):
    built = make(tmp_path)
    target = live_target(tmp_path)
    real_scandir, real_listdir = os.scandir, os.listdir

    def refuse(real):
        def call(path='.'):
            if str(path) == str(target):
                raise OSError(error_number, os.strerror(error_number), str(path))
            return real(path)
        return call
    monkeypatch.setattr(os, 'scandir', refuse(real_scandir))
    monkeypatch.setattr(os, 'listdir', refuse(real_listdir))
    with pytest.raises(BackupExtractError) as error:
        extract_archive(built['path'], {'workspace': str(target)})
    assert str(error.value) == "cannot list target workspace (%s): [Errno %d] %s: '%s'; nothing was written" % (
        target, error_number, os.strerror(error_number), target)

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
import subprocess
import tarfile
import time

import pytest
import zstandard

from ansible_collections.clawd.ops.plugins.module_utils import _backup_format, _backup_pipeline
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import MissingLibraryError
from ansible_collections.clawd.ops.plugins.module_utils._backup_extract import extract_archive
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import failure_summary, find_newest, verify_archive
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.backup_fixtures import (
    HAVE_GNU_TAR,
    NOW,
    SUFFIX,
    UNSAFE,
    build_archive,
    check,
    compress,
    end_marker,
    failed_names,
    file_sha256,
    header_block,
    make,
    manifest_for,
    members_from_folder,
    name_for,
    noise,
    sample_members,
)


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

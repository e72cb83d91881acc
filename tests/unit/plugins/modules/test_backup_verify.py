# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup_verify module: archives written by the tests' own writer, results as Ansible gets them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os


from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _backup_format
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg
from ansible_collections.clawd.ops.plugins.modules import backup_verify
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.backup_fixtures import (
    build_archive,
    compress,
    end_marker,
    header_block,
    padded,
    sample_members,
)

NOW = 1795456200


def run_module(args):
    return run_main(backup_verify.main, args)


def make(folder, when=NOW, compression='zstd', **kwargs):
    return build_archive(str(folder / archive_name('claudebox', when, '1.0.0', compression)), sample_members(), compression=compression, **kwargs)


def test_good_archive_passes_and_changes_nothing(tmp_path, results):
    built = make(tmp_path)
    assert run_module({'path': built['path'], 'expected_members': ['volumes/workspace/', 'dumps/app.sqlite3']}) == 0
    result = results[-1]
    assert result['failed'] is False
    assert result['changed'] is False
    assert result['ok'] is True
    assert result['archive'] == built['path']
    assert result['sha256'] == built['sha256']
    assert result['members'] == 12
    assert [check['name'] for check in result['checks']] == ['exists', 'size', 'readable', 'safety', 'manifest', 'expected_members', 'sha256']
    assert result['manifest']['service'] == 'claudebox'
    assert result['unsafe_members'] == []


def test_check_mode_runs_the_same(tmp_path, results):
    built = make(tmp_path)
    assert run_module({'path': built['path'], '_ansible_check_mode': True}) == 0
    assert results[-1]['changed'] is False
    assert results[-1]['ok'] is True


def test_folder_verifies_its_newest_archive(tmp_path, results):
    make(tmp_path, when=NOW - 86400)
    newest = make(tmp_path, when=NOW)
    make(tmp_path, when=NOW - 3600, compression='gzip')
    (tmp_path / (os.path.basename(newest['path']) + '.partial')).write_bytes(b'unfinished')
    assert run_module({'path': str(tmp_path)}) == 0
    assert results[-1]['archive'] == newest['path']


def test_empty_folder_fails_clearly(tmp_path, results):
    assert run_module({'path': str(tmp_path), 'pattern': '*.tar.zst'}) == 1
    result = results[-1]
    assert result['msg'] == 'Backup verification failed: no archive matching *.tar.zst in %s' % tmp_path
    assert result['checks'] == [{'name': 'exists', 'ok': False, 'reason': 'no archive matching *.tar.zst in %s' % tmp_path}]


def test_wrong_checksum_and_truncation_are_named_in_msg(tmp_path, results):
    built = make(tmp_path)
    data = open(built['path'], 'rb').read()
    with open(built['path'], 'wb') as handle:
        handle.write(data[:-40])
    assert run_module({'path': built['path']}) == 1
    result = results[-1]
    actual = hashlib.sha256(data[:-40]).hexdigest()
    # a small archive is one zstd block: cut, none of it decodes
    assert result['msg'].startswith('Backup %s failed verification: readable: the archive is truncated before the first member: '
                                    'the tar stream ends without its end-of-archive marker; '
                                    'manifest: no clawd-backup/manifest.json read (the archive could not be read to the end)' % built['path'])
    assert result['msg'].endswith('; sha256: expected %s, file has %s' % (built['sha256'], actual))
    assert result['ok'] is False
    assert result['changed'] is False


def test_missing_checksum_file_fails_unless_not_required(tmp_path, results):
    built = make(tmp_path, checksum_file=False)
    assert run_module({'path': built['path']}) == 1
    assert results[-1]['msg'] == 'Backup %s failed verification: sha256: no checksum given and %s.sha256 does not exist' % (
        built['path'], os.path.basename(built['path']))
    assert run_module({'path': built['path'], 'require_checksum': False}) == 0
    assert run_module({'path': built['path'], 'sha256': built['sha256']}) == 0


def test_manifest_options(tmp_path, results):
    built = make(tmp_path, manifest=None)
    assert run_module({'path': built['path']}) == 1
    assert results[-1]['msg'].endswith('manifest: the archive has no clawd-backup/manifest.json member')
    assert run_module({'path': built['path'], 'require_manifest': False}) == 0


def test_max_age_and_min_size(tmp_path, results):
    built = make(tmp_path, when=NOW - 3 * 86400)
    assert run_module({'path': built['path'], 'max_age': '25h'}) == 1
    assert 'age: made ' in results[-1]['msg'] and 'ago, more than 25h' in results[-1]['msg']
    assert run_module({'path': built['path'], 'min_size': 10 ** 9}) == 1
    assert 'size: %d bytes, less than the minimum 1000000000' % os.path.getsize(built['path']) in results[-1]['msg']


def test_invalid_options_fail_before_reading(tmp_path, results):
    built = make(tmp_path)
    assert run_module({'path': built['path'], 'max_age': 'a while'}) == 1
    assert results[-1]['msg'].startswith("Invalid max_age: invalid age 'a while'")
    assert run_module({'path': built['path'], 'spot_check_count': -1}) == 1
    assert results[-1]['msg'] == 'spot_check_count must be 0 or more, not -1'


def test_spot_check_and_s3_etag(tmp_path, results):
    built = make(tmp_path)
    live = tmp_path / 'live'
    live.mkdir()
    (live / 'notes.txt').write_bytes(b'hello backups\n' * 100)
    args = {'path': built['path'], 'spot_check_count': 50, 'spot_check_sources': {'workspace': str(live)}, 's3_etag_part_size': 1 << 30}
    assert run_module(args) == 0
    result = results[-1]
    assert (result['spot_check']['sampled'], result['spot_check']['same'], result['spot_check']['missing']) == (4, 1, 3)
    assert result['s3_etag'] == hashlib.md5(open(built['path'], 'rb').read()).hexdigest()
    assert run_module(dict(args, spot_check_fail=True)) == 1
    assert 'spot_check: 4 files sampled: 1 same as the live files, 0 different, 3 missing' in results[-1]['msg']


def test_zstd_archive_without_zstandard_fails_with_missing_library(tmp_path, results, monkeypatch):
    zstd_archive = make(tmp_path)
    gzip_archive = make(tmp_path, compression='gzip')
    monkeypatch.setattr(_backup_format, 'HAS_ZSTANDARD', False)
    assert run_module({'path': zstd_archive['path']}) == 1
    assert results[-1]['msg'] == missing_lib_msg('zstandard')
    assert run_module({'path': gzip_archive['path']}) == 0


def test_missing_zstandard_names_the_role_that_installs_it(tmp_path, results, monkeypatch):
    # A bare host has none of the libraries: the message must say which role prepares the host.
    zstd_archive = make(tmp_path)
    monkeypatch.setattr(_backup_format, 'HAS_ZSTANDARD', False)
    assert run_module({'path': zstd_archive['path']}) == 1
    msg = results[-1]['msg']
    assert 'zstandard' in msg and 'clawd.ops.server_setup' in msg and 'python3-zstandard' in msg


def test_an_empty_archive_fails_unless_allowed(tmp_path, results):
    path = compress(str(tmp_path / archive_name('claudebox', NOW, '1.0.0', 'zstd')), end_marker())
    args = {'path': path, 'require_manifest': False, 'require_checksum': False}
    assert run_module(args) == 1
    assert results[-1]['msg'] == ('Backup %s failed verification: content: the archive holds no file, folder or symlink '
                                  '(allow_empty accepts that)' % path)
    assert run_module(dict(args, allow_empty=True)) == 0


def test_a_name_that_is_not_utf8_comes_back_escaped(tmp_path, results):
    payload = header_block('x', size=1, name_bytes=b'volumes/w/\xff/../evil') + padded(b'a') + end_marker()
    path = compress(str(tmp_path / archive_name('claudebox', NOW, '1.0.0', 'zstd')), payload)
    assert run_module({'path': path, 'require_manifest': False, 'require_checksum': False}) == 1
    result = results[-1]
    assert "safety: member volumes/w/\\xff/../evil: '..' in its path" in result['msg']
    json.dumps(result, ensure_ascii=False).encode('utf-8')  # no lone surrogate left for Ansible to choke on


def test_a_folder_that_cannot_be_listed_is_a_failure_not_a_traceback(tmp_path, results, monkeypatch):
    real_listdir = os.listdir

    def denied(path='.'):
        if str(path) == str(tmp_path):
            raise OSError(13, 'Permission denied', str(path))
        return real_listdir(path)
    monkeypatch.setattr(os, 'listdir', denied)
    assert run_module({'path': str(tmp_path)}) == 1
    assert results[-1]['msg'] == 'Backup verification failed: cannot list the folder %s: Permission denied' % tmp_path
    assert results[-1]['checks'] == [{'name': 'exists', 'ok': False, 'reason': 'cannot list the folder %s: Permission denied' % tmp_path}]

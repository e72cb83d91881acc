# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup_extract module: restores, check mode, refusals, as Ansible gets them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _backup_format
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg
from ansible_collections.clawd.ops.plugins.modules import backup_extract
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.backup_fixtures import build_archive, sample_members


def run_module(args):
    return run_main(backup_extract.main, args)


def make(folder, members=None, compression='zstd'):
    path = str(folder / archive_name('claudebox', 1795456200, '1.0.0', compression))
    return build_archive(path, sample_members() if members is None else members, compression=compression)


def listing(folder):
    return sorted(os.path.relpath(os.path.join(root, name), str(folder))
                  for root, dirs, files in os.walk(str(folder)) for name in dirs + files)


@pytest.mark.parametrize('compression', ['zstd', 'gzip'])
def test_restores_and_reports_changed(tmp_path, results, compression):
    built = make(tmp_path, compression=compression)
    target = tmp_path / 'workspace'
    target.mkdir()
    (target / 'made-later.txt').write_bytes(b'later')
    assert run_module({'archive': built['path'], 'targets': {'workspace': str(target), 'dumps': str(tmp_path / 'dumps')}}) == 0
    result = results[-1]
    assert result['changed'] is True
    assert result['archive'] == built['path']
    assert result['targets']['workspace'] == {'path': str(target), 'files': 4, 'dirs': 1, 'symlinks': 2, 'bytes': 78218, 'removed': 1}
    assert result['skipped_members'] == 3
    assert listing(target) == ['empty', 'link', 'notes.txt', 'run.sh', 'sub', 'sub/data.bin', 'sub/up']
    assert (tmp_path / 'dumps' / 'app.sqlite3').read_bytes().startswith(b'SQLite format 3')


def test_check_mode_reports_changed_and_writes_nothing(tmp_path, results):
    built = make(tmp_path)
    target = tmp_path / 'workspace'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    assert run_module({'archive': built['path'], 'targets': {'workspace': str(target)}, '_ansible_check_mode': True}) == 0
    assert results[-1]['changed'] is True
    assert results[-1]['targets']['workspace']['removed'] == 1
    assert listing(target) == ['current.txt']


def test_keeps_other_files_without_clear(tmp_path, results):
    built = make(tmp_path)
    target = tmp_path / 'workspace'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    assert run_module({'archive': built['path'], 'targets': {'workspace': str(target)}, 'clear': False}) == 0
    assert 'current.txt' in listing(target) and 'notes.txt' in listing(target)


def test_unsafe_archive_is_refused_with_nothing_written(tmp_path, results):
    built = make(tmp_path, sample_members() + [{'name': 'volumes/workspace/evil', 'type': 'symlink', 'target': '/etc/passwd'}])
    target = tmp_path / 'workspace'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    assert run_module({'archive': built['path'], 'targets': {'workspace': str(target)}}) == 1
    assert results[-1]['msg'] == ('Failed to restore from %s: the archive has unsafe members: member volumes/workspace/evil: '
                                  'symlink to the absolute path /etc/passwd; nothing was written' % built['path'])
    assert results[-1]['changed'] is False
    assert listing(target) == ['current.txt']


def test_unknown_source_and_relative_targets_are_refused(tmp_path, results):
    built = make(tmp_path)
    assert run_module({'archive': built['path'], 'targets': {'database': str(tmp_path / 'db')}}) == 1
    assert results[-1]['msg'] == ('Failed to restore from %s: the archive has no database to restore '
                                  '(it has: config, dumps, workspace); nothing was written' % built['path'])
    assert run_module({'archive': built['path'], 'targets': {'workspace': 'relative/path'}}) == 1
    assert results[-1]['msg'] == "Target workspace must be an absolute path, not 'relative/path'"
    assert run_module({'archive': built['path'], 'targets': {}}) == 1
    assert results[-1]['msg'] == 'targets is empty: name at least one source to restore'
    assert not (tmp_path / 'db').exists()


def test_missing_archive(tmp_path, results):
    assert run_module({'archive': str(tmp_path / 'none.tar.zst'), 'targets': {'workspace': str(tmp_path / 'w')}}) == 1
    assert results[-1]['msg'] == 'Failed to restore from {0}: the archive {0} does not exist or is not a file'.format(tmp_path / 'none.tar.zst')


def test_zstd_archive_without_zstandard(tmp_path, results, monkeypatch):
    built = make(tmp_path)
    monkeypatch.setattr(_backup_format, 'HAS_ZSTANDARD', False)
    assert run_module({'archive': built['path'], 'targets': {'workspace': str(tmp_path / 'w')}}) == 1
    assert results[-1]['msg'] == missing_lib_msg('zstandard')
    assert not (tmp_path / 'w').exists()


def test_caps_and_the_expected_sha256_are_options(tmp_path, results):
    built = make(tmp_path)
    target = tmp_path / 'workspace'
    args = {'archive': built['path'], 'targets': {'workspace': str(target)}}
    assert run_module(dict(args, max_total_size=50000)) == 1
    assert results[-1]['msg'] == ('Failed to restore from %s: the archive holds more than 50000 bytes of tar data (max_total_size): '
                                  'refused at 0.1 MB; nothing was written' % built['path'])
    assert results[-1]['changed'] is False
    assert run_module(dict(args, sha256='0' * 64)) == 1
    assert 'not the expected %s; nothing was written' % ('0' * 64) in results[-1]['msg']
    assert run_module(dict(args, space_margin=1 << 60)) == 1
    assert results[-1]['msg'].startswith('Failed to restore from %s: not enough free space for target workspace' % built['path'])
    assert run_module(dict(args, max_ratio=-1)) == 1
    assert results[-1]['msg'] == 'Failed to restore from %s: max_ratio must be 0 or more, not -1' % built['path']
    assert not target.exists()
    assert run_module(dict(args, sha256=built['sha256'], max_ratio=0, max_total_size=0, space_margin=0)) == 0
    assert results[-1]['changed'] is True


def test_a_failure_after_touching_the_targets_reports_changed_and_their_state(tmp_path, results, monkeypatch):
    built = make(tmp_path)
    target = tmp_path / 'workspace'
    target.mkdir()
    (target / 'current.txt').write_bytes(b'current')
    real_open = os.open

    def full_disk(path, flags, *args, **kwargs):
        if str(path).endswith('data.bin') and flags & os.O_CREAT:
            raise OSError(28, 'No space left on device')
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, 'open', full_disk)
    assert run_module({'archive': built['path'], 'targets': {'workspace': str(target)}}) == 1
    result = results[-1]
    assert result['changed'] is True
    assert result['target_states'] == {'workspace': 'put back as it was'}
    assert result['msg'].endswith('target workspace (%s) put back as it was' % target)
    assert listing(target) == ['current.txt']

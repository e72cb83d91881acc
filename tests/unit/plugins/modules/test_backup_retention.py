# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup_retention module: check mode, diff, warnings and failures around the retention logic."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name
from ansible_collections.clawd.ops.plugins.modules import backup_retention

DAY = 86400


def run_module(args):
    return run_main(backup_retention.main, args)


@pytest.fixture
def folder(tmp_path):
    """Five daily archives, the newest of today; all verified."""
    now = int(time.time())
    paths = []
    for back in range(5):
        when = now - back * DAY
        path = str(tmp_path / archive_name('claudebox', when, '1.0.0'))
        for suffix in ('', '.sha256', '.manifest.json'):
            with open(path + suffix, 'w') as handle:
                handle.write('x')
        paths.append(path)
    return tmp_path, paths


def test_deletes_beyond_the_rules(folder, results):
    tmp_path, paths = folder
    run_module({'path': str(tmp_path), 'keep_last': 2, 'keep_daily': 0, 'keep_weekly': 0})
    result = results[-1]
    assert result['failed'] is False and result['changed'] is True
    assert [item['path'] for item in result['kept']] == paths[:2]
    assert result['kept'][0]['reasons'] == ['newest verified', 'last 1']
    assert result['deleted'] == [path + suffix for path in paths[2:] for suffix in ('.sha256', '.manifest.json', '')]
    assert result['freed_bytes'] == 9
    assert result['newest_verified'] == paths[0]
    assert 'diff' not in result
    assert sorted(os.listdir(str(tmp_path))) == sorted(os.path.basename(path) + suffix for path in paths[:2]
                                                       for suffix in ('', '.sha256', '.manifest.json'))
    run_module({'path': str(tmp_path), 'keep_last': 2, 'keep_daily': 0, 'keep_weekly': 0})
    assert results[-1]['changed'] is False and results[-1]['deleted'] == []


def test_check_mode_and_diff(folder, results):
    tmp_path, paths = folder
    before = sorted(os.listdir(str(tmp_path)))
    run_module({'path': str(tmp_path), 'keep_last': 1, 'keep_daily': 0, 'keep_weekly': 0, '_ansible_check_mode': True, '_ansible_diff': True})
    checked = results[-1]
    assert sorted(os.listdir(str(tmp_path))) == before
    assert checked['changed'] is True
    assert checked['diff']['before'] == ''.join(sorted(os.path.basename(path) + '\n' for path in paths))
    assert checked['diff']['after'] == os.path.basename(paths[0]) + '\n'
    run_module({'path': str(tmp_path), 'keep_last': 1, 'keep_daily': 0, 'keep_weekly': 0, '_ansible_diff': True})
    real = results[-1]
    for key in ('deleted', 'kept', 'freed_bytes', 'newest_verified', 'changed', 'diff'):
        assert checked[key] == real[key], key


def test_newest_failed_warns_and_deletes_nothing(folder, results):
    tmp_path, paths = folder
    os.remove(paths[0] + '.sha256')
    run_module({'path': str(tmp_path), 'keep_last': 0, 'keep_daily': 0, 'keep_weekly': 0})
    result = results[-1]
    assert result['failed'] is False and result['changed'] is False
    assert result['deleted'] == []
    assert result['msg'].startswith('the newest archive %s is not verified' % paths[0])
    assert result['warnings'] == [result['msg']]
    assert result['newest_verified'] == paths[1]


def test_missing_folder_fails_clearly(tmp_path, results):
    run_module({'path': str(tmp_path / 'nope')})
    assert results[-1]['failed'] is True
    assert results[-1]['msg'] == 'Failed to apply retention to %s: the folder %s does not exist' % (tmp_path / 'nope', tmp_path / 'nope')


def test_negative_keep_fails(folder, results):
    tmp_path, dummy = folder
    run_module({'path': str(tmp_path), 'keep_weekly': -1})
    assert results[-1]['failed'] is True
    assert results[-1]['msg'] == 'Failed to apply retention to %s: keep_weekly cannot be negative' % tmp_path


def test_a_folder_that_cannot_be_listed_is_one_clear_line(folder, results, monkeypatch):
    from ansible_collections.clawd.ops.plugins.module_utils import _backup_retention
    tmp_path, paths = folder

    def denied(path):
        raise PermissionError(13, 'Permission denied', path)

    monkeypatch.setattr(_backup_retention.os, 'scandir', denied)
    run_module({'path': str(tmp_path), 'keep_last': 1, 'keep_daily': 0, 'keep_weekly': 0})
    assert results[-1]['failed'] is True
    assert results[-1]['msg'] == 'Failed to apply retention to %s: cannot list the folder %s: Permission denied' % (tmp_path, tmp_path)

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy_lock module: atomic acquire, idempotence, refusals, stale takeover, release, check mode, races."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import multiprocessing
import os
import time

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import deploy_lock


def lock_args(path, run_id='run-A', **kwargs):
    return dict({'path': str(path), 'run_id': run_id, 'owner': 'ops@laptop'}, **kwargs)


def write_lock(path, run_id='run-B', age=60, owner='ci@runner', purpose='rollback'):
    acquired = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() - age))
    content = {'run_id': run_id, 'owner': owner, 'purpose': purpose, 'host': 'vps1', 'acquired_at': acquired}
    path.write_text(json.dumps(content))
    return content


def read(path):
    return json.loads(path.read_text())


def test_acquire_then_idempotent_then_release(tmp_path, results):
    path = tmp_path / 'lib' / 'clawd' / 'deploy.lock'
    assert run_main(deploy_lock.main, lock_args(path, _ansible_diff=True)) == 0
    first = results[-1]
    assert first['changed'] is True and first['acquired'] is True and first['held_by'] == 'ops@laptop'
    content = read(path)
    assert content == first['lock']
    assert set(content) == {'run_id', 'owner', 'purpose', 'host', 'acquired_at'}
    assert content['run_id'] == 'run-A' and content['purpose'] == 'deploy'
    assert first['diff'] == {'before': '', 'after': content}
    run_main(deploy_lock.main, lock_args(path))
    assert results[-1]['changed'] is False and results[-1]['acquired'] is True
    assert read(path) == content  # the second run did not rewrite it
    run_main(deploy_lock.main, lock_args(path, state='absent'))
    assert results[-1]['changed'] is True and results[-1]['acquired'] is False
    assert not path.exists()
    run_main(deploy_lock.main, lock_args(path, state='absent'))
    assert results[-1]['changed'] is False


def test_held_by_another_run_fails_with_the_holder(tmp_path, results):
    path = tmp_path / 'deploy.lock'
    before = write_lock(path, age=125)
    assert run_main(deploy_lock.main, lock_args(path)) == 1
    result = results[-1]
    assert result['msg'] == ('Refusing to deploy: %s is held by ci@runner (run run-B, rollback) since %s, 2m 5s ago; '
                             'it becomes stale after 3600s. Remove it only if that run is dead.' % (path, before['acquired_at']))
    assert result['held_by'] == 'ci@runner' and result['acquired'] is False
    assert read(path) == before


def test_stale_lock_is_taken_over_with_a_warning(tmp_path, results):
    path = tmp_path / 'deploy.lock'
    old = write_lock(path, age=4000)
    run_main(deploy_lock.main, lock_args(path))
    result = results[-1]
    assert result['changed'] is True and result['acquired'] is True
    assert result['stale_taken_over'] == old
    assert read(path)['run_id'] == 'run-A'
    assert len(result['warnings']) == 1
    assert result['warnings'][0].startswith('Took over the stale lock %s of ci@runner (run run-B, rollback) since ' % path)
    assert '1h 6m 40s ago' in result['warnings'][0]


def test_stale_after_is_configurable(tmp_path, results):
    path = tmp_path / 'deploy.lock'
    write_lock(path, age=120)
    assert run_main(deploy_lock.main, lock_args(path, stale_after=60)) == 0
    assert results[-1]['stale_taken_over']['run_id'] == 'run-B'


def test_stale_takeover_loses_to_a_lock_that_changed_meanwhile(tmp_path):
    path = tmp_path / 'deploy.lock'
    write_lock(path, age=4000)
    stale_raw = path.read_bytes()
    write_lock(path, run_id='run-C', age=1)  # someone else took it over first
    assert deploy_lock.replace_if_unchanged(str(path), stale_raw, {'run_id': 'run-A'}) is False
    assert read(path)['run_id'] == 'run-C'
    assert deploy_lock.replace_if_unchanged(str(path), path.read_bytes(), {'run_id': 'run-A'}) is True
    assert read(path)['run_id'] == 'run-A'


@pytest.mark.parametrize('content', ['', 'not json', '{"owner": "x"}', '[1]'])
def test_corrupt_lock_counts_as_held(tmp_path, results, content):
    path = tmp_path / 'deploy.lock'
    path.write_text(content)
    assert run_main(deploy_lock.main, lock_args(path)) == 1
    assert results[-1]['msg'].startswith('Refusing to deploy: %s exists but is not a lock this module wrote' % path)
    assert results[-1]['msg'].endswith('; it counts as held. Remove it only if no run holds it.')
    assert path.read_text() == content
    assert run_main(deploy_lock.main, lock_args(path, state='absent')) == 1
    assert 'use force=true' in results[-1]['msg']
    assert run_main(deploy_lock.main, lock_args(path, state='absent', force=True)) == 0
    assert not path.exists()


def test_release_of_another_runs_lock_warns_and_keeps_it_unless_forced(tmp_path, results):
    path = tmp_path / 'deploy.lock'
    other = write_lock(path)
    run_main(deploy_lock.main, lock_args(path, state='absent'))
    assert results[-1]['changed'] is False
    assert results[-1]['lock'] == other
    assert results[-1]['warnings'] == ['Did not release %s: it is held by ci@runner (run run-B, rollback), not by run run-A.' % path]
    assert read(path) == other
    run_main(deploy_lock.main, lock_args(path, state='absent', force=True))
    assert results[-1]['changed'] is True
    assert results[-1]['warnings'] == ['Removed the lock %s of ci@runner (run run-B, rollback) (force=true).' % path]
    assert not path.exists()


def test_check_mode_writes_nothing(tmp_path, results):
    path = tmp_path / 'sub' / 'deploy.lock'
    run_main(deploy_lock.main, lock_args(path, _ansible_check_mode=True))
    assert results[-1]['changed'] is True and results[-1]['acquired'] is True
    assert not path.parent.exists()
    path.parent.mkdir()
    old = write_lock(path, age=9999)
    run_main(deploy_lock.main, lock_args(path, _ansible_check_mode=True))
    assert results[-1]['stale_taken_over'] == old
    assert results[-1]['warnings'][0].startswith('Would take over the stale lock')
    assert read(path) == old
    mine = write_lock(path, run_id='run-A')
    run_main(deploy_lock.main, lock_args(path, state='absent', _ansible_check_mode=True))
    assert results[-1]['changed'] is True
    assert read(path) == mine


def test_bad_arguments(tmp_path, results):
    assert run_main(deploy_lock.main, lock_args(tmp_path / 'l', run_id=' ')) == 1
    assert results[-1]['msg'] == 'run_id must not be empty'
    assert run_main(deploy_lock.main, lock_args(tmp_path / 'l', stale_after=0)) == 1


def _contender(path, run_id, start, queue):
    start.wait()
    content = {'run_id': run_id, 'owner': run_id, 'purpose': 'deploy', 'host': 'h', 'acquired_at': 'now'}
    queue.put((run_id, deploy_lock.create_lock(path, content)))


def test_racing_runs_exactly_one_wins(tmp_path):
    path = str(tmp_path / 'deploy.lock')
    start, queue = multiprocessing.Event(), multiprocessing.Queue()
    runs = [multiprocessing.Process(target=_contender, args=(path, 'run-%d' % i, start, queue)) for i in range(8)]
    for process in runs:
        process.start()
    start.set()
    outcomes = dict(queue.get(timeout=30) for dummy in runs)
    for process in runs:
        process.join(30)
    winners = [run_id for run_id, won in outcomes.items() if won]
    assert len(winners) == 1
    with open(path) as handle:
        assert json.load(handle)['run_id'] == winners[0]  # complete content, never half-written
    assert [name for name in os.listdir(str(tmp_path)) if name != 'deploy.lock'] == []  # no temp files left

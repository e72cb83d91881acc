# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy_lock module: acquire, lease renewal, refusals naming the holder, takeover after the lease, nesting,
release, check mode. The clock is frozen (``clock``): no assertion depends on how fast the test runs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _lock
from ansible_collections.clawd.ops.plugins.modules import deploy_lock

T0 = 1772446500  # 2026-03-02T10:15:00Z


class Clock(object):
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock(T0)
    monkeypatch.setattr(_lock, 'now', frozen)
    return frozen


def at(seconds):
    return _lock.format_time(seconds)


def lock_args(path, run_id='run-A', **kwargs):
    return dict({'path': str(path), 'run_id': run_id, 'owner': 'ops@laptop'}, **kwargs)


def write_lock(path, run_id='run-B', taken=T0 - 60, hold_for=3600, owner='ci@runner', purpose='rollback', legacy=False):
    if legacy:  # as the module wrote it before locks were leases
        content = {'run_id': run_id, 'owner': owner, 'purpose': purpose, 'host': 'vps1', 'acquired_at': at(taken)}
    else:
        content = {'run_id': run_id, 'owner': owner, 'purpose': purpose, 'host': 'vps1', 'taken_at': at(taken),
                   'renewed_at': at(taken), 'expires_at': at(taken + hold_for)}
    path.write_text(json.dumps(content))
    return content


def read(path):
    return json.loads(path.read_text())


def test_acquire_then_renew_then_release(tmp_path, results, clock):
    path = tmp_path / 'lib' / 'clawd' / 'deploy.lock'
    assert run_main(deploy_lock.main, lock_args(path, hold_for=600, _ansible_diff=True)) == 0
    first = results[-1]
    assert first['changed'] is True and first['acquired'] is True and first['renewed'] is False
    content = read(path)
    assert content == first['lock']
    assert content == {'run_id': 'run-A', 'owner': 'ops@laptop', 'purpose': 'deploy', 'host': content['host'],
                       'taken_at': '2026-03-02T10:15:00Z', 'renewed_at': '2026-03-02T10:15:00Z',
                       'expires_at': '2026-03-02T10:25:00Z'}
    assert first['holder'] == {'run_id': 'run-A', 'owner': 'ops@laptop', 'purpose': 'deploy',
                               'taken_at': '2026-03-02T10:15:00Z', 'expires_at': '2026-03-02T10:25:00Z'}
    assert first['held_by'] == 'ops@laptop'
    assert first['diff'] == {'before': '', 'after': content}

    clock.advance(300)
    run_main(deploy_lock.main, lock_args(path, hold_for=1200))
    renewed = results[-1]
    assert renewed['changed'] is True and renewed['acquired'] is False and renewed['renewed'] is True
    assert read(path) == dict(content, renewed_at='2026-03-02T10:20:00Z', expires_at='2026-03-02T10:40:00Z')
    assert renewed['holder']['taken_at'] == '2026-03-02T10:15:00Z' and renewed['holder']['expires_at'] == '2026-03-02T10:40:00Z'

    run_main(deploy_lock.main, lock_args(path, hold_for=1200))  # the same moment: the lease covers it already
    assert results[-1]['changed'] is False and results[-1]['renewed'] is True and results[-1]['acquired'] is False

    run_main(deploy_lock.main, lock_args(path, state='absent'))
    assert results[-1]['changed'] is True and results[-1]['acquired'] is False and results[-1]['holder'] is None
    assert not path.exists()
    run_main(deploy_lock.main, lock_args(path, state='absent'))
    assert results[-1]['changed'] is False


def test_a_renewal_never_shortens_the_lease(tmp_path, results, clock):
    """A nested role (same run id) renews with its own short hold_for: its caller's long lease stays."""
    path = tmp_path / 'deploy.lock'
    run_main(deploy_lock.main, lock_args(path, hold_for=5000))
    clock.advance(10)
    run_main(deploy_lock.main, lock_args(path, hold_for=60, purpose='backup'))
    assert results[-1]['renewed'] is True and results[-1]['acquired'] is False and results[-1]['changed'] is False
    assert read(path)['expires_at'] == at(T0 + 5000)
    assert read(path)['purpose'] == 'deploy'  # the lock still says what the run is doing as a whole


def test_held_by_another_run_fails_naming_the_holder(tmp_path, results, clock):
    path = tmp_path / 'deploy.lock'
    before = write_lock(path, taken=T0 - 125)
    assert run_main(deploy_lock.main, lock_args(path)) == 1
    result = results[-1]
    assert result['msg'] == ('Refusing to deploy: %s is held by ci@runner (run run-B, rollback) since 2026-03-02T10:12:55Z, '
                             'until 2026-03-02T11:12:55Z (57m 55s from now). The holder renews it while it runs; '
                             'remove it only if that run is dead.' % path)
    assert result['holder'] == {'run_id': 'run-B', 'owner': 'ci@runner', 'purpose': 'rollback',
                                'taken_at': '2026-03-02T10:12:55Z', 'expires_at': '2026-03-02T11:12:55Z'}
    assert result['held_by'] == 'ci@runner' and result['acquired'] is False
    assert read(path) == before


def test_a_live_run_that_renews_is_never_taken_over(tmp_path, results, clock):
    """Issue 11 item 3: a run longer than its first lease renews it and keeps the lock (hold_for's old name too)."""
    path = tmp_path / 'deploy.lock'
    run_main(deploy_lock.main, lock_args(path, run_id='run-B', stale_after=3600))
    for dummy in range(3):  # backup, deployment, watch: each phase renews before it starts
        clock.advance(3000)
        assert run_main(deploy_lock.main, lock_args(path, run_id='run-B', stale_after=3600)) == 0
        clock.advance(700)  # over an hour since it was taken, but within the renewed lease
        assert run_main(deploy_lock.main, lock_args(path)) == 1
        assert 'is held by ops@laptop (run run-B, deploy) since 2026-03-02T10:15:00Z' in results[-1]['msg']
        assert read(path)['run_id'] == 'run-B'


def test_an_expired_lock_is_taken_over_with_a_warning(tmp_path, results, clock):
    path = tmp_path / 'deploy.lock'
    old = write_lock(path, taken=T0 - 4000, hold_for=3600)
    run_main(deploy_lock.main, lock_args(path))
    result = results[-1]
    assert result['changed'] is True and result['acquired'] is True and result['renewed'] is False
    assert result['taken_over'] == dict((key, old[key]) for key in ('run_id', 'owner', 'purpose', 'host', 'taken_at', 'renewed_at', 'expires_at'))
    assert read(path)['run_id'] == 'run-A' and read(path)['taken_at'] == at(T0)
    assert result['warnings'] == ['Took over the lock %s of ci@runner (run run-B, rollback) since 2026-03-02T09:08:20Z: '
                                  'its lease ended at 2026-03-02T10:08:20Z, 6m 40s ago.' % path]


def test_the_lease_is_the_holders_not_the_callers(tmp_path, results, clock):
    """A short hold_for of the caller does not end another run's long lease."""
    path = tmp_path / 'deploy.lock'
    write_lock(path, taken=T0 - 120, hold_for=7200)
    assert run_main(deploy_lock.main, lock_args(path, hold_for=60)) == 1
    assert read(path)['run_id'] == 'run-B'


@pytest.mark.parametrize('age, refused', [(3599, True), (3601, False)])
def test_a_lock_written_before_leases_ends_hold_for_after_it_was_taken(tmp_path, results, clock, age, refused):
    path = tmp_path / 'deploy.lock'
    write_lock(path, taken=T0 - age, legacy=True)
    assert run_main(deploy_lock.main, lock_args(path)) == (1 if refused else 0)
    if refused:
        assert 'since %s, until %s (1s from now)' % (at(T0 - 3599), at(T0 + 1)) in results[-1]['msg']
    else:
        assert results[-1]['taken_over']['run_id'] == 'run-B'


def test_a_nested_role_renews_and_does_not_release_its_callers_lock(tmp_path, results, clock):
    path = tmp_path / 'deploy.lock'
    run_main(deploy_lock.main, lock_args(path, purpose='deploy'))
    assert results[-1]['acquired'] is True
    run_main(deploy_lock.main, lock_args(path, purpose='rollback', hold_for=7200))
    nested = results[-1]
    assert nested['acquired'] is False and nested['renewed'] is True
    assert nested['holder']['purpose'] == 'deploy' and nested['holder']['expires_at'] == at(T0 + 7200)


@pytest.mark.parametrize('content', ['', 'not json', '{"owner": "x"}', '[1]'])
def test_corrupt_lock_counts_as_held(tmp_path, results, clock, content):
    path = tmp_path / 'deploy.lock'
    path.write_text(content)
    assert run_main(deploy_lock.main, lock_args(path)) == 1
    assert results[-1]['msg'].startswith('Refusing to deploy: %s exists but is not a lock this module wrote' % path)
    assert results[-1]['msg'].endswith('; it counts as held. Remove it only if no run holds it.')
    assert results[-1]['holder'] is None and results[-1]['acquired'] is False
    assert path.read_text() == content
    assert run_main(deploy_lock.main, lock_args(path, state='absent')) == 1
    assert 'use force=true' in results[-1]['msg']
    assert run_main(deploy_lock.main, lock_args(path, state='absent', force=True)) == 0
    assert not path.exists()


def test_release_of_another_runs_lock_warns_and_keeps_it_unless_forced(tmp_path, results, clock):
    path = tmp_path / 'deploy.lock'
    other = write_lock(path)
    run_main(deploy_lock.main, lock_args(path, state='absent'))
    assert results[-1]['changed'] is False
    assert results[-1]['lock'] == other and results[-1]['holder']['run_id'] == 'run-B'
    assert results[-1]['warnings'] == ['Did not release %s: it is held by ci@runner (run run-B, rollback), not by run run-A.' % path]
    assert read(path) == other
    run_main(deploy_lock.main, lock_args(path, state='absent', force=True))
    assert results[-1]['changed'] is True
    assert results[-1]['warnings'] == ['Removed the lock %s of ci@runner (run run-B, rollback) (force=true).' % path]
    assert not path.exists()


def test_check_mode_writes_nothing(tmp_path, results, clock):
    path = tmp_path / 'sub' / 'deploy.lock'
    run_main(deploy_lock.main, lock_args(path, _ansible_check_mode=True))
    assert results[-1]['changed'] is True and results[-1]['acquired'] is True
    assert not path.parent.exists()
    path.parent.mkdir()
    old = write_lock(path, taken=T0 - 9999)
    run_main(deploy_lock.main, lock_args(path, _ansible_check_mode=True))
    assert results[-1]['taken_over']['run_id'] == 'run-B'
    assert results[-1]['warnings'][0].startswith('Would take over the lock')
    assert read(path) == old
    mine = write_lock(path, run_id='run-A', taken=T0 - 10)
    run_main(deploy_lock.main, lock_args(path, hold_for=7200, _ansible_check_mode=True))
    assert results[-1]['renewed'] is True and results[-1]['changed'] is True
    assert read(path) == mine
    run_main(deploy_lock.main, lock_args(path, state='absent', _ansible_check_mode=True))
    assert results[-1]['changed'] is True
    assert read(path) == mine


def test_bad_arguments(tmp_path, results, clock):
    assert run_main(deploy_lock.main, lock_args(tmp_path / 'l', run_id=' ')) == 1
    assert results[-1]['msg'] == 'run_id must not be empty'
    assert run_main(deploy_lock.main, lock_args(tmp_path / 'l', hold_for=0)) == 1
    assert results[-1]['msg'] == 'hold_for must be more than 0 seconds, got 0'
    assert run_main(deploy_lock.main, lock_args(tmp_path / 'l', hold_for='an hour')) == 1
    assert 'hold_for' in results[-1]['msg']
    assert not (tmp_path / 'l').exists()

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lock protocol of _lock: atomic create, compare-and-replace, leases, takeover races between processes.

No test depends on the wall clock: leases are judged against a frozen clock, or against times long past."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import multiprocessing
import os

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _lock

T0 = 1772446500  # 2026-03-02T10:15:00Z
LONG_AGO = '2000-01-01T00:00:00Z'


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(_lock, 'now', lambda: T0)


def read(path):
    with open(str(path)) as handle:
        return json.load(handle)


def test_times_and_durations():
    assert _lock.format_time(T0) == '2026-03-02T10:15:00Z'
    assert _lock.parse_time('2026-03-02T10:15:00Z') == T0
    assert _lock.parse_time('yesterday') is None and _lock.parse_time(None) is None
    assert _lock.duration_text(4000) == '1h 6m 40s'
    assert _lock.duration_text(0) == '0s' and _lock.duration_text(-5) == '0s'
    assert _lock.duration_text(90061) == '1d 1h 1m 1s'


def test_acquire_renew_release(tmp_path, frozen):
    path = str(tmp_path / 'deploy.lock')
    taken = _lock.acquire(path, 'run-A', 'ops@laptop', 'deploy', 600, host='vps1')
    assert taken['outcome'] == 'acquired' and taken['changed'] is True and taken['before'] is None
    assert read(path) == taken['lock'] == {
        'run_id': 'run-A', 'owner': 'ops@laptop', 'purpose': 'deploy', 'host': 'vps1',
        'taken_at': '2026-03-02T10:15:00Z', 'renewed_at': '2026-03-02T10:15:00Z', 'expires_at': '2026-03-02T10:25:00Z'}
    renewed = _lock.acquire(path, 'run-A', 'ops@laptop', 'deploy', 1200)
    assert renewed['outcome'] == 'renewed' and read(path)['expires_at'] == '2026-03-02T10:35:00Z'
    with pytest.raises(_lock.LockError) as refused:
        _lock.acquire(path, 'run-B', 'ci@runner', 'backup', 60)
    assert refused.value.holder['run_id'] == 'run-A'
    assert str(refused.value).startswith('Refusing to backup: %s is held by ops@laptop (run run-A, deploy) since '
                                         '2026-03-02T10:15:00Z, until 2026-03-02T10:35:00Z (20m from now).' % path)
    assert _lock.release(path, 'run-B')['outcome'] == 'not_ours' and os.path.exists(path)
    assert _lock.release(path, 'run-A')['outcome'] == 'released' and not os.path.exists(path)
    assert _lock.release(path, 'run-A')['outcome'] == 'free'


def test_a_folder_another_run_creates_meanwhile_is_no_error(tmp_path, frozen, monkeypatch):
    """Runs racing for a lock whose folder does not exist yet: the loser of the folder's creation carries on
    (CI saw "Failed to take the lock ...: File exists" from the six-process race in tests/faults)."""
    folder = tmp_path / 'var' / 'lib' / 'clawd'
    real_makedirs = os.makedirs

    def another_run_was_faster(name, *args, **kwargs):
        real_makedirs(name, *args, **kwargs)  # the other run creates it between our check and our makedirs
        real_makedirs(name, *args, **kwargs)  # and ours then finds it there: EEXIST

    monkeypatch.setattr(_lock.os, 'makedirs', another_run_was_faster)
    taken = _lock.acquire(str(folder / 'deploy.lock'), 'run-A', 'ops@laptop', 'deploy', 600, host='vps1')
    assert taken['outcome'] == 'acquired' and read(folder / 'deploy.lock')['run_id'] == 'run-A'


def test_holder_of():
    assert _lock.holder_of(None) is None
    assert _lock.holder_of({'run_id': 'r', 'owner': 'o', 'purpose': 'p', 'host': 'h', 'taken_at': 't', 'expires_at': 'e'}) == {
        'run_id': 'r', 'owner': 'o', 'purpose': 'p', 'taken_at': 't', 'expires_at': 'e'}


def test_replace_loses_to_a_lock_that_changed_meanwhile(tmp_path):
    path = tmp_path / 'deploy.lock'
    path.write_text(json.dumps({'run_id': 'run-B', 'expires_at': LONG_AGO}))
    stale_raw = path.read_bytes()
    path.write_text(json.dumps({'run_id': 'run-C'}))  # someone else took it over first
    assert _lock.replace_if_unchanged(str(path), stale_raw, {'run_id': 'run-A'}) is False
    assert read(path)['run_id'] == 'run-C'
    assert _lock.replace_if_unchanged(str(path), path.read_bytes(), {'run_id': 'run-A'}) is True
    assert read(path)['run_id'] == 'run-A'
    assert _lock.replace_if_unchanged(str(tmp_path / 'gone'), b'', None) is False


def test_unreadable_lock_counts_as_held(tmp_path):
    path = tmp_path / 'deploy.lock'
    path.mkdir()  # a folder where the lock should be: cannot be read as a file
    raw, content, problem = _lock.read_lock(str(path))
    assert raw == b'' and content is None and problem.startswith('cannot be read')
    with pytest.raises(_lock.LockError, match='exists but cannot be read'):
        _lock.acquire(str(path), 'run-A', 'o', 'deploy', 60)


def _create(path, run_id, start, queue):
    start.wait()
    content = {'run_id': run_id, 'owner': run_id, 'purpose': 'deploy', 'host': 'h', 'taken_at': 'now'}
    queue.put((run_id, _lock.create_lock(path, content)))


def _take(path, run_id, start, queue):
    start.wait()
    try:
        outcome = _lock.acquire(path, run_id, run_id, 'deploy', 600)['outcome']
    except _lock.LockError as exc:
        outcome = 'refused by %s' % exc.holder['run_id']
    queue.put((run_id, outcome))


def _race(target, path, count=8):
    start, queue = multiprocessing.Event(), multiprocessing.Queue()
    runs = [multiprocessing.Process(target=target, args=(path, 'run-%d' % i, start, queue)) for i in range(count)]
    for process in runs:
        process.start()
    start.set()
    outcomes = dict(queue.get(timeout=30) for dummy in runs)
    for process in runs:
        process.join(30)
    return outcomes


def test_racing_creates_exactly_one_wins(tmp_path):
    path = str(tmp_path / 'deploy.lock')
    outcomes = _race(_create, path)
    winners = [run_id for run_id, won in outcomes.items() if won]
    assert len(winners) == 1
    assert read(path)['run_id'] == winners[0]  # complete content, never half-written
    assert os.listdir(str(tmp_path)) == ['deploy.lock']  # no temp files left


def test_racing_takeovers_of_an_expired_lock_exactly_one_wins(tmp_path):
    path = str(tmp_path / 'deploy.lock')
    with open(path, 'w') as handle:
        json.dump({'run_id': 'dead', 'owner': 'x', 'purpose': 'deploy', 'taken_at': LONG_AGO, 'expires_at': LONG_AGO}, handle)
    outcomes = _race(_take, path)
    winners = [run_id for run_id, outcome in outcomes.items() if outcome == 'taken_over']
    assert len(winners) == 1, outcomes
    assert read(path)['run_id'] == winners[0]
    assert sorted(outcome for run_id, outcome in outcomes.items() if run_id != winners[0]) == ['refused by %s' % winners[0]] * 7
    assert os.listdir(str(tmp_path)) == ['deploy.lock']

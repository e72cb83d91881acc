# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release_guard module: a day of the guard with the clock frozen through `now` - armed, a check due, one breach
warns, a healthy check resets, two breaches in a row ask for the rollback until it is recorded; the end by time;
check mode writes nothing; bad input is refused with a reason."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import release_guard

T0 = '2026-12-07T03:00:00Z'


def args(path, **kwargs):
    return dict({'path': str(path)}, **kwargs)


def arm(path, **kwargs):
    return args(path, **dict({'state': 'armed', 'now': T0, 'commit': 'b2', 'previous_commit': 'a1'}, **kwargs))


def read(path):
    return json.loads(path.read_text())


def test_a_guarded_release_warns_once_and_asks_for_the_rollback_after_two_breaches_in_a_row(tmp_path, results):
    path = tmp_path / 'clawd' / 'release_guard.json'
    assert run_main(release_guard.main, arm(path)) == 0
    assert results[-1]['changed'] is True and results[-1]['action'] == 'armed' and read(path)['status'] == 'armed'
    run_main(release_guard.main, arm(path))
    assert results[-1]['changed'] is False

    run_main(release_guard.main, args(path, now='2026-12-07T03:15:00Z'))
    assert results[-1]['action'] == 'check' and results[-1]['since'] == T0 and results[-1]['changed'] is False

    run_main(release_guard.main, args(path, now='2026-12-07T03:15:00Z', check={'breached': 'true', 'reason': 'health: down'}))
    assert results[-1]['action'] == 'warn' and results[-1]['changed'] is True
    assert read(path)['consecutive_breaches'] == 1

    run_main(release_guard.main, args(path, now='2026-12-07T03:30:00Z', check={'breached': False}))
    assert results[-1]['action'] == 'ok' and results[-1]['changed'] is True and read(path)['consecutive_breaches'] == 0

    run_main(release_guard.main, args(path, now='2026-12-07T03:45:00Z', check={'breached': False}))
    assert results[-1]['action'] == 'ok' and results[-1]['changed'] is False
    assert read(path)['checks'] == 3  # a routine check is kept in the history, though it changes nothing

    for minute in ('04:00', '04:15'):
        run_main(release_guard.main, args(path, now='2026-12-07T%s:00Z' % minute, check={'breached': True, 'reason': 'errors'}))
    assert results[-1]['action'] == 'rollback' and results[-1]['rollback_to'] == 'a1'
    assert read(path)['status'] == 'breached'

    run_main(release_guard.main, args(path, now='2026-12-07T04:30:00Z'))  # the rollback has not been recorded yet
    assert results[-1]['action'] == 'rollback'

    run_main(release_guard.main, args(path, state='ended', result='rolled_back', reason='errors', now='2026-12-07T04:20:00Z'))
    assert results[-1]['changed'] is True and results[-1]['action'] == 'ended'
    assert results[-1]['summary']['result'] == 'rolled_back' and results[-1]['summary']['breaches'] == 3
    assert read(path)['status'] == 'rolled_back'
    run_main(release_guard.main, args(path, now='2026-12-07T04:30:00Z'))
    assert results[-1]['action'] == 'none' and results[-1]['changed'] is False


def test_the_guard_ends_by_itself_after_until_with_a_summary(tmp_path, results):
    path = tmp_path / 'release_guard.json'
    run_main(release_guard.main, arm(path, duration=60, interval=10))
    run_main(release_guard.main, args(path, now='2026-12-07T03:00:10Z', check={'breached': False}))
    run_main(release_guard.main, args(path, now=str(1796612460)))  # 2026-12-07T03:01:00Z, as epoch seconds
    ended = results[-1]
    assert ended['changed'] is True and ended['action'] == 'ended'
    assert ended['summary']['result'] == 'expired' and ended['summary']['checks'] == 1
    assert ended['summary']['ended_at'] == '2026-12-07T03:01:00Z'
    assert read(path)['status'] == 'ended'


def test_check_mode_judges_and_writes_nothing(tmp_path, results):
    path = tmp_path / 'release_guard.json'
    run_main(release_guard.main, arm(path, _ansible_check_mode=True))
    assert results[-1]['changed'] is True and not path.exists()
    run_main(release_guard.main, arm(path))
    before = path.read_text()
    run_main(release_guard.main, args(path, now='2026-12-07T03:15:00Z', check={'breached': True, 'reason': 'x'},
                                      _ansible_check_mode=True, _ansible_diff=True))
    assert results[-1]['changed'] is True and results[-1]['action'] == 'warn'
    assert results[-1]['diff']['after']['consecutive_breaches'] == 1 and results[-1]['diff']['before']['consecutive_breaches'] == 0
    assert path.read_text() == before


def test_absent_removes_the_file(tmp_path, results):
    path = tmp_path / 'release_guard.json'
    run_main(release_guard.main, arm(path))
    run_main(release_guard.main, args(path, state='absent'))
    assert results[-1]['changed'] is True and not path.exists()
    run_main(release_guard.main, args(path, state='absent'))
    assert results[-1]['changed'] is False


def test_refusals_say_why(tmp_path, results):
    path = tmp_path / 'release_guard.json'
    assert run_main(release_guard.main, arm(path, previous_commit='b2')) == 1
    assert 'no previous release' in results[-1]['msg']
    assert run_main(release_guard.main, args(path, now='yesterday')) == 1
    assert 'now' in results[-1]['msg'] and 'yesterday' in results[-1]['msg']
    run_main(release_guard.main, arm(path))
    assert run_main(release_guard.main, args(path, now='2026-12-07T03:15:00Z', check={'reason': 'no verdict'})) == 1
    assert 'breached' in results[-1]['msg']
    path.write_text('[]')
    assert run_main(release_guard.main, args(path)) == 1
    assert 'not a release guard' in results[-1]['msg']

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release guard's state machine: arming, a check being due, one breach warns, two consecutive breaches roll back,
a healthy check resets the count, the guard ends by itself after `until` with a summary, a rollback ends it. Every time
is given (the clock is frozen): nothing depends on how fast the test runs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _release_guard as guard_utils

T0 = datetime.datetime(2026, 12, 7, 3, 0, 0, tzinfo=datetime.timezone.utc)


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


def armed(**kwargs):
    options = dict(commit='b2', previous_commit='a1', previous_deployment_uuid='dep-a1', app='app-uuid', release_version='2.0.0',
                   run_id='run-1', duration=86400, interval=900, breaches_to_roll_back=2, history_max=100)
    options.update(kwargs)
    changed, guard = guard_utils.arm(None, T0, **options)
    assert changed is True
    return guard


def test_arming_writes_the_release_its_rollback_target_and_the_window():
    guard = armed()
    assert guard['status'] == 'armed'
    assert guard['commit'] == 'b2' and guard['previous_commit'] == 'a1' and guard['previous_deployment_uuid'] == 'dep-a1'
    assert guard['armed_at'] == '2026-12-07T03:00:00Z'
    assert guard['until'] == '2026-12-08T03:00:00Z'
    assert guard['interval'] == 900 and guard['duration'] == 86400 and guard['breaches_to_roll_back'] == 2
    assert guard['consecutive_breaches'] == 0 and guard['checks'] == 0 and guard['breaches'] == 0
    assert guard['history'] == [] and guard['last_check_at'] is None


def test_arming_the_same_release_again_changes_nothing_and_a_new_release_replaces_the_guard():
    guard = armed()
    changed, again = guard_utils.arm(guard, at(60), commit='b2', previous_commit='a1', duration=86400, interval=900)
    assert changed is False and again == guard
    changed, other = guard_utils.arm(guard, at(60), commit='c3', previous_commit='b2', duration=86400, interval=900)
    assert changed is True and other['commit'] == 'c3' and other['armed_at'] == '2026-12-07T03:01:00Z'


def test_arming_refuses_without_a_commit_or_a_rollback_target_or_with_bad_numbers():
    with pytest.raises(guard_utils.GuardError, match='commit'):
        guard_utils.arm(None, T0, commit='', previous_commit='a1')
    with pytest.raises(guard_utils.GuardError, match='previous release'):
        guard_utils.arm(None, T0, commit='b2', previous_commit='b2')
    with pytest.raises(guard_utils.GuardError, match='interval'):
        guard_utils.arm(None, T0, commit='b2', previous_commit='a1', interval=0)
    with pytest.raises(guard_utils.GuardError, match='breaches_to_roll_back'):
        guard_utils.arm(None, T0, commit='b2', previous_commit='a1', breaches_to_roll_back=0)


def test_nothing_is_due_without_an_armed_guard():
    changed, guard, outcome = guard_utils.step(None, T0)
    assert changed is False and guard is None and outcome['action'] == 'none'
    ended = dict(armed(), status='rolled_back')
    changed, guard, outcome = guard_utils.step(ended, T0)
    assert changed is False and guard == ended and outcome['action'] == 'none'


def test_a_check_is_due_with_the_logs_since_the_last_check_at_most_one_interval_back():
    guard = armed()
    changed, same, outcome = guard_utils.step(guard, at(300))
    assert changed is False and same == guard
    assert outcome['action'] == 'check' and outcome['since'] == '2026-12-07T03:00:00Z'  # armed 5 minutes ago
    changed, guard, outcome = guard_utils.step(guard, at(900), {'breached': False})
    changed, guard, outcome = guard_utils.step(guard, at(4 * 3600))  # the schedule missed runs: one interval back
    assert outcome['since'] == '2026-12-07T06:45:00Z'


def test_one_breach_warns_and_counts_one():
    changed, guard, outcome = guard_utils.step(armed(), at(900), {'breached': True, 'reason': 'health: 1 failed checks in a row'})
    assert changed is True
    assert outcome['action'] == 'warn'
    assert guard['status'] == 'armed' and guard['consecutive_breaches'] == 1 and guard['breaches'] == 1 and guard['checks'] == 1
    assert guard['history'] == [{'at': '2026-12-07T03:15:00Z', 'result': 'breach', 'reason': 'health: 1 failed checks in a row'}]
    assert 'b2' in outcome['message'] and '1 of 2' in outcome['message'] and 'health' in outcome['message']


def test_a_healthy_check_resets_the_count():
    guard = guard_utils.step(armed(), at(900), {'breached': True, 'reason': 'x'})[1]
    changed, guard, outcome = guard_utils.step(guard, at(1800), {'breached': False})
    assert changed is True and outcome['action'] == 'ok'
    assert guard['consecutive_breaches'] == 0 and guard['breaches'] == 1 and guard['checks'] == 2
    changed, guard, outcome = guard_utils.step(guard, at(2700), {'breached': True, 'reason': 'y'})
    assert outcome['action'] == 'warn' and guard['consecutive_breaches'] == 1


def test_a_routine_healthy_check_is_no_change():
    changed, guard, outcome = guard_utils.step(armed(), at(900), {'breached': False})
    assert changed is False and outcome['action'] == 'ok'
    assert guard['checks'] == 1 and guard['last_check_at'] == '2026-12-07T03:15:00Z'


def test_two_consecutive_breaches_call_for_the_rollback_to_the_previous_release():
    guard = guard_utils.step(armed(), at(900), {'breached': True, 'reason': 'first'})[1]
    changed, guard, outcome = guard_utils.step(guard, at(1800), {'breached': True, 'reason': 'errors: 57 lines'})
    assert changed is True and outcome['action'] == 'rollback'
    assert guard['status'] == 'breached' and guard['consecutive_breaches'] == 2
    assert outcome['rollback_to'] == 'a1'
    assert '2 consecutive' in outcome['message'] and 'a1' in outcome['message'] and 'errors: 57 lines' in outcome['message']


def test_a_rollback_still_pending_is_asked_for_again_whatever_the_check_says():
    guard = guard_utils.step(armed(), at(900), {'breached': True, 'reason': 'first'})[1]
    guard = guard_utils.step(guard, at(1800), {'breached': True, 'reason': 'second'})[1]
    changed, guard, outcome = guard_utils.step(guard, at(2700), {'breached': False})
    assert outcome['action'] == 'rollback' and guard['status'] == 'breached'
    changed, guard, outcome = guard_utils.step(guard, at(2 * 86400))  # even past its end
    assert outcome['action'] == 'rollback'


def test_the_rollback_ends_the_guard_with_a_summary():
    guard = guard_utils.step(armed(), at(900), {'breached': True, 'reason': 'first'})[1]
    guard = guard_utils.step(guard, at(1800), {'breached': True, 'reason': 'second'})[1]
    changed, guard, outcome = guard_utils.end(guard, at(1900), 'rolled_back', 'second')
    assert changed is True and guard['status'] == 'rolled_back' and guard['ended_at'] == '2026-12-07T03:31:40Z'
    assert outcome['action'] == 'ended'
    assert outcome['summary'] == {'commit': 'b2', 'previous_commit': 'a1', 'armed_at': '2026-12-07T03:00:00Z',
                                  'until': '2026-12-08T03:00:00Z', 'ended_at': '2026-12-07T03:31:40Z', 'checks': 2,
                                  'breaches': 2, 'result': 'rolled_back', 'reason': 'second'}
    changed, again = guard_utils.end(guard, at(2000), 'rolled_back', 'second')[:2]
    assert changed is False and again == guard


def test_a_healthy_guard_past_until_ends_by_itself_with_a_summary():
    guard = armed(duration=3600, interval=900)
    for minute in (15, 30, 45):
        guard = guard_utils.step(guard, at(minute * 60), {'breached': minute == 30, 'reason': 'blip'})[1]
    changed, guard, outcome = guard_utils.step(guard, at(3600))
    assert changed is True and outcome['action'] == 'ended'
    assert guard['status'] == 'ended' and guard['result'] == 'expired'
    assert outcome['summary']['checks'] == 3 and outcome['summary']['breaches'] == 1 and outcome['summary']['result'] == 'expired'
    assert 'b2' in outcome['message'] and '3 checks' in outcome['message'] and '1 breach' in outcome['message']
    changed, outcome = guard_utils.step(guard, at(3700))[::2]
    assert changed is False and outcome['action'] == 'none'


def test_a_check_result_that_comes_after_until_ends_the_guard_instead_of_counting():
    guard = armed(duration=3600)
    changed, guard, outcome = guard_utils.step(guard, at(3601), {'breached': True, 'reason': 'late'})
    assert outcome['action'] == 'ended' and guard['breaches'] == 0 and guard['checks'] == 0


def test_the_history_is_bounded():
    guard = armed(history_max=3)
    for index in range(1, 6):
        guard = guard_utils.step(guard, at(index * 900), {'breached': False})[1]
    assert len(guard['history']) == 3 and guard['history'][0]['at'] == '2026-12-07T03:45:00Z' and guard['checks'] == 5


def test_a_check_needs_its_verdict():
    with pytest.raises(guard_utils.GuardError, match='breached'):
        guard_utils.step(armed(), at(900), {'reason': 'no verdict'})


def test_the_file_is_written_whole_and_read_back(tmp_path):
    path = str(tmp_path / 'lib' / 'clawd' / 'release_guard.json')
    assert guard_utils.read_guard(path) is None
    guard = armed()
    guard_utils.write_guard(path, guard)
    assert guard_utils.read_guard(path) == guard
    guard_utils.remove_guard(path)
    assert guard_utils.read_guard(path) is None
    (tmp_path / 'bad.json').write_text('{not json')
    with pytest.raises(guard_utils.GuardError, match='bad.json'):
        guard_utils.read_guard(str(tmp_path / 'bad.json'))

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The watch window's pure logic: counting, thresholds, health streaks, container states, breach reasons."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.plugins.module_utils._app_watch import (
    Watch,
    WatchConfigError,
    judge_container,
)

ERR = '2026-03-02T10:15:20Z ERROR upstream request failed: simulated error'
UNAUTH = '2026-03-02T10:15:20Z WARNING unauthorized request rejected from 127.0.0.1 (simulated)'
RATE = '2026-03-02T10:15:20Z WARNING rate limit exceeded for api.telegram.org (simulated)'
RUNNING = {'status': 'running', 'restart_count': 0, 'started_at': 't0', 'health': 'healthy'}


def test_default_patterns_count_each_category():
    watch = Watch()
    new = watch.add_lines('web', [ERR, UNAUTH, RATE, 'INFO all good', 'Traceback (most recent call last):',
                                  'HTTP 401 from upstream', '429 Too Many Requests', 'an errorless line', 'Forbidden'])
    assert new == {'errors': 2, 'unauthorized': 3, 'rate_limit': 2}
    assert watch.counts == new
    assert watch.by_container == {'web': new}


def test_count_threshold_breach_reason():
    watch = Watch(thresholds={'errors': 10})
    watch.add_lines('lab1-claudebox-web', [ERR] * 10)
    assert watch.breach(20) is None  # 10 is allowed, 11 is not
    watch.add_lines('lab1-claudebox-web', [ERR] * 47)
    assert watch.breach(20.2) == ('errors: 57 lines in 20 s (threshold 10) in lab1-claudebox-web; last: ' + ERR)


def test_reason_names_every_container_most_first():
    watch = Watch(thresholds={'errors': 3})
    watch.add_lines('bot', [ERR] * 2)
    watch.add_lines('web', [ERR] * 5)
    assert 'in web (5), bot (2); last: ' in watch.breach(9)


def test_categories_without_threshold_are_only_counted():
    watch = Watch(thresholds={})
    watch.add_lines('web', [ERR] * 500)
    assert watch.breach(10) is None
    assert watch.counts['errors'] == 500


def test_per_minute_thresholds_use_at_least_one_minute():
    watch = Watch(thresholds={}, thresholds_per_minute={'rate_limit': 30})
    watch.add_lines('bot', [RATE] * 30)
    assert watch.breach(5) is None  # 30 lines in 5 s count as 30 per minute, not 360
    watch.add_lines('bot', [RATE])
    assert watch.breach(5).startswith('rate_limit: 31 lines in 5 s, 31 per minute (threshold 30 per minute) in bot')


def test_per_minute_rate_over_longer_windows():
    watch = Watch(thresholds={}, thresholds_per_minute={'rate_limit': 30})
    watch.add_lines('bot', [RATE] * 80)
    assert watch.breach(180) is None  # 26.67 per minute
    assert 'in 120 s, 40 per minute' in watch.breach(120)


def test_health_streak_breaches_only_when_consecutive():
    watch = Watch(max_health_failures=3)
    for healthy in (False, False, True, False, False):
        watch.add_health(healthy, 'answer: HTTP 503', 'https://app/health')
        assert watch.breach(1) is None
    watch.add_health(False, 'answer: HTTP 503; app: release marked unhealthy', 'https://app/health')
    assert watch.breach(1) == ('health: 3 failed checks in a row at https://app/health; '
                               'last: answer: HTTP 503; app: release marked unhealthy')
    assert watch.health_failures == 5


def test_zero_max_health_failures_never_breaches_on_health():
    watch = Watch(max_health_failures=0)
    for dummy in range(10):
        watch.add_health(False, 'unreachable')
    assert watch.breach(1) is None


@pytest.mark.parametrize('state, reason', [
    (None, 'container web is gone'),
    (dict(RUNNING, status='exited', exit_code=137), 'container web is exited (exit code 137)'),
    (dict(RUNNING, status='restarting'), 'container web is restarting (exit code None)'),
    (dict(RUNNING, restart_count=2, started_at='t1'), 'container web restarted (restart count 0 -> 2)'),
    (dict(RUNNING, started_at='t1'), 'container web restarted (started again at t1)'),
    (dict(RUNNING, health='unhealthy', health_log='boom'), 'container web is unhealthy (Docker health check): boom'),
    (dict(RUNNING, health='starting'), None),
    (RUNNING, None),
])
def test_container_states_against_the_baseline(state, reason):
    assert judge_container('web', RUNNING, state) == reason


def test_a_container_problem_is_the_breach_and_sticks():
    watch = Watch()
    assert watch.add_container('web', RUNNING) is None
    watch.add_container('web', dict(RUNNING, restart_count=1, started_at='t1'))
    watch.add_container('web', dict(RUNNING, restart_count=1, started_at='t1'))
    assert watch.breach(3) == 'container web restarted (restart count 0 -> 1)'


def test_breach_reason_and_last_lines_mask_secrets():
    secret = 'tok-' + 'S' * 30
    watch = Watch(thresholds={'errors': 0}, secrets=[secret])
    watch.add_lines('web', ['ERROR bad login for ' + secret])
    assert watch.breach(1).endswith('last: ERROR bad login for ***')
    assert watch.last_lines() == {'errors': 'web: ERROR bad login for ***'}


def test_custom_patterns_and_bad_configuration():
    watch = Watch(patterns={'oom': r'Out of memory'}, thresholds={'oom': 0})
    watch.add_lines('web', ['kernel: Out of memory: killed'])
    assert watch.breach(1).startswith('oom: 1 lines in 1 s (threshold 0) in web')
    with pytest.raises(WatchConfigError, match=r"patterns: bad: '\(' is not a regular expression"):
        Watch(patterns={'bad': '('})
    with pytest.raises(WatchConfigError, match="thresholds: unknown category 'error'"):
        Watch(thresholds={'error': 1})
    with pytest.raises(WatchConfigError, match="thresholds_per_minute: errors: 'many' is not a number"):
        Watch(thresholds_per_minute={'errors': 'many'})
    with pytest.raises(WatchConfigError, match='0 or more'):
        Watch(thresholds={'errors': -1})

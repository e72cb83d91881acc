# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host side of the daily checks: /proc parsers, log counting, container and DNS judgements."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _host_checks as daily

MEMINFO = 'MemTotal:       1000000 kB\nMemFree:         100000 kB\nMemAvailable:    250000 kB\nCached: 1 kB\n'
STAT_A = 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n'
STAT_B = 'cpu  250 0 150 900 0 0 0 0 0 0\n'
T = daily.merge_thresholds({})


def test_meminfo_uses_memavailable():
    assert daily.parse_meminfo(MEMINFO) == {'used_percent': 75.0, 'total_mib': 976, 'available_mib': 244}


def test_meminfo_without_memavailable_falls_back_to_free_buffers_cached():
    assert daily.parse_meminfo('MemTotal: 1000 kB\nMemFree: 500 kB\nBuffers: 100 kB\nCached: 100 kB\n')['used_percent'] == 30.0
    with pytest.raises(ValueError):
        daily.parse_meminfo('nothing here')


def test_cpu_busy_share_between_two_samples():
    # busy grows by 200 jiffies (user 150 + system 50), idle by 100: 200 / 300
    assert daily.cpu_percent(daily.parse_cpu_times(STAT_A), daily.parse_cpu_times(STAT_B)) == 66.7
    assert daily.cpu_percent((5, 10), (5, 10)) == 0.0


def test_read_cpu_samples_twice_with_a_pause():
    samples = iter([STAT_A, STAT_B])
    slept = []
    assert daily.read_cpu(0.25, reader=lambda _p: next(samples), sleep=slept.append) == 66.7
    assert slept == [0.25]


def test_disk_percent_like_df_and_judged_at_the_thresholds():
    assert daily.disk_percent(70, 30) == 70.0
    found = {'/': {'used_percent': 41.2, 'free_gib': 120.0}, '/data': {'used_percent': 80.0, 'free_gib': 2.0}, '/gone': 'cannot stat'}
    result = daily.judge_disks(found, T)
    assert result['status'] == 'critical' and result['value'] == 80.0
    assert result['reason'].startswith('80 % used on /data') and 'critical at 80 %' in result['reason']
    found['/data']['used_percent'] = 70.0
    assert daily.judge_disks(found, T)['status'] == 'warning'
    found['/data']['used_percent'] = 69.9
    assert daily.judge_disks(found, T)['status'] == 'ok'


def test_disk_unknown_when_nothing_could_be_measured():
    result = daily.judge_disks({'/x': 'cannot stat /x: denied'}, T)
    assert result['status'] == 'unknown' and 'denied' in result['reason']


def test_read_disks_measures_the_closest_existing_parent(tmp_path):
    found = daily.read_disks([str(tmp_path / 'not' / 'there')])
    assert 0 <= found[str(tmp_path / 'not' / 'there')]['used_percent'] <= 100


def test_thresholds_merge_and_refuse_nonsense():
    merged = daily.merge_thresholds({'disk': {'warning': '60'}})
    assert merged['disk'] == {'warning': 60.0, 'critical': 80}
    for bad in ({'nope': {'warning': 1}}, {'disk': 5}, {'disk': {'warning': 'x'}}, {'disk': {'alarm': 1}}):
        with pytest.raises(ValueError):
            daily.merge_thresholds(bad)


LINES = {
    'web': ['2026-12-01T07:00:00Z INFO 127.0.0.1 "GET /health" 200',
            '2026-12-01T07:00:01Z INFO 127.0.0.1 "GET /" 500',
            '2026-12-01T07:00:02Z ERROR upstream request failed: simulated error',
            '2026-12-01T07:00:03Z INFO 127.0.0.1 "POST /telegram/webhook" 401',
            '2026-12-01T07:00:04Z WARNING rate limit exceeded for api.telegram.org (token 123:SECRET)'],
    'bot': ['2026-12-01T07:00:05Z ERROR boom', '2026-12-01T07:00:06Z INFO 127.0.0.1 "GET /health" 200'],
}


def test_count_lines_per_category_container_and_access_statistics():
    stats = daily.count_lines(LINES, secrets=['123:SECRET'])
    assert stats['counts'] == {'errors': 2, 'unauthorized': 1, 'rate_limit': 1}
    assert stats['by_container']['web']['errors'] == 1 and stats['by_container']['bot']['errors'] == 1
    assert stats['requests'] == 4 and stats['server_errors'] == 1 and stats['client_errors'] == 1
    assert stats['status_codes'] == {'200': 2, '500': 1, '401': 1}
    assert 'SECRET' not in stats['last']['rate_limit'] and stats['last']['rate_limit'].startswith('web: ')


def test_judge_logs_and_error_rate():
    stats = daily.count_lines(LINES)
    thresholds = daily.merge_thresholds({'logs_errors': {'warning': 2, 'critical': 3}})
    results = dict((r['check'], r) for r in daily.judge_logs(stats, ['logs_errors', 'logs_rate_limit', 'error_rate'], thresholds, 24))
    assert results['logs_errors']['status'] == 'warning' and results['logs_errors']['value'] == 2
    assert '2 errors lines in the last 24 h (bot 1, web 1)' in results['logs_errors']['reason']
    assert results['logs_rate_limit']['status'] == 'ok'
    assert results['error_rate']['value'] == 25.0 and results['error_rate']['status'] == 'critical'
    assert results['error_rate']['details']['requests'] == 4


def test_error_rate_without_requests_is_ok_and_says_so():
    result = daily.judge_logs(daily.count_lines({'web': []}), ['error_rate'], T, 24)[0]
    assert result['status'] == 'ok' and 'no requests' in result['reason']


def running(restarts=0, status='running', health=None):
    return {'status': status, 'restart_count': restarts, 'exit_code': 0, 'health': health}


def test_containers_critical_when_one_is_down_or_missing():
    states = {'web': running(), 'bot': running(status='exited'), 'backup': None}
    result = daily.judge_containers(states, ['containers'], T)[0]
    assert result['status'] == 'critical' and result['value'] == 2
    assert 'bot is exited' in result['reason'] and 'backup does not exist' in result['reason']
    assert daily.judge_containers({'web': running()}, ['containers'], T)[0]['status'] == 'ok'
    assert daily.judge_containers({'web': running(health='unhealthy')}, ['containers'], T)[0]['status'] == 'critical'


def test_restarts_counted_and_restarting_is_critical():
    result = daily.judge_containers({'web': running(2), 'bot': running(1)}, ['container_restarts'], T)[0]
    assert result['value'] == 3 and result['status'] == 'warning'
    result = daily.judge_containers({'web': running(0, status='restarting')}, ['container_restarts'], T)[0]
    assert result['status'] == 'critical' and 'restarting now: web' in result['reason']


def test_dns_failures_critical_wrong_address_warning():
    assert daily.judge_dns({'a.test': ['127.0.1.1']}, ['127.0.1.1'])['status'] == 'ok'
    assert daily.judge_dns({'a.test': ['10.0.0.1']}, ['127.0.1.1'])['status'] == 'warning'
    result = daily.judge_dns({'a.test': 'does not resolve (x)', 'b.test': ['127.0.1.1']})
    assert result['status'] == 'critical' and result['value'] == 1
    assert daily.judge_dns({})['status'] == 'unknown'


def test_resolve_reports_the_error_instead_of_raising():
    def resolver(name, *_args):
        if name == 'bad':
            raise daily.socket.gaierror(-2, 'Name or service not known')
        return [(2, 1, 6, '', ('127.0.0.1', 0)), (2, 1, 6, '', ('127.0.0.1', 0))]
    assert daily.resolve(['good', 'bad'], resolver) == {'good': ['127.0.0.1'], 'bad': 'does not resolve (Name or service not known)'}

# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check_results module: every host's measurements judged at once."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import check_results

HEALTHY = {'healthy': True, 'status': 'ok', 'http_status': 200, 'checks': {'app': {'status': 'ok'}}, 'elapsed_ms': 30}
DISK = {'check': 'disk', 'status': 'ok', 'value': 40, 'unit': '%', 'warning': 70, 'critical': 80, 'reason': '40 %', 'measured_at': 'x'}


def test_hosts_judged_summary_and_problems(results):
    hosts = {
        'lab1': {'host_checks': {'results': [DISK]}, 'health': HEALTHY, 'checks': ['health', 'latency']},
        'lab2': {'host_checks': {'results': [dict(DISK, status='critical', reason='85 % used on /')]},
                 'health': dict(HEALTHY, elapsed_ms=900), 'checks': ['health', 'latency']},
    }
    assert run_main(check_results.main, {'hosts': hosts}) == 0
    out = results[0]
    assert [r['check'] for r in out['results_by_host']['lab1']] == ['disk', 'health', 'latency']
    assert out['summary']['worst'] == 'critical' and out['summary']['failing_hosts'] == ['lab2']
    assert out['problems'] == ['lab2: disk critical: 85 % used on /',
                               'lab2: latency warning: the health endpoint answered in 900 ms (warning at 500 ms, critical at 2000 ms)']


def test_per_host_thresholds_win_over_the_module_ones(results):
    hosts = {'lab1': {'health': dict(HEALTHY, elapsed_ms=300), 'checks': ['latency'], 'thresholds': {'latency': {'warning': 100, 'critical': 200}}},
             'lab2': {'health': dict(HEALTHY, elapsed_ms=300), 'checks': ['latency']}}
    assert run_main(check_results.main, {'hosts': hosts, 'thresholds': {'latency': {'warning': 250, 'critical': 1000}}}) == 0
    assert results[0]['results_by_host']['lab1'][0]['status'] == 'critical'
    assert results[0]['results_by_host']['lab2'][0]['status'] == 'warning'


def test_a_host_that_measured_nothing_is_unknown_everywhere(results):
    assert run_main(check_results.main, {'hosts': {'lab9': {'host_checks_expected': ['disk']}}, 'checks': ['health']}) == 0
    assert [(r['check'], r['status']) for r in results[0]['results_by_host']['lab9']] == [('disk', 'unknown'), ('health', 'unknown')]
    assert results[0]['summary']['worst'] == 'unknown'


def test_bad_input_fails_with_a_message(results):
    assert run_main(check_results.main, {'hosts': {'lab1': 'nope'}}) == 1
    assert results[0]['msg'] == 'Failed to judge the measurements: hosts: the measurements of lab1 are not a dict'
    assert run_main(check_results.main, {'hosts': {'lab1': {'checks': ['disk']}}}) == 1
    assert 'unknown checks disk' in results[1]['msg']

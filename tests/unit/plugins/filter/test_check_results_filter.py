# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check_results filter: the check_results module's judgement, without a module run, with the same results."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible.module_utils import basic

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.filter.check_results import FilterModule, check_results
from ansible_collections.clawd.ops.plugins.module_utils import _checks
from ansible_collections.clawd.ops.plugins.modules import check_results as check_results_module

HEALTHY = {'healthy': True, 'status': 'ok', 'http_status': 200, 'checks': {'app': {'status': 'ok'}}, 'elapsed_ms': 30}
DISK = {'check': 'disk', 'status': 'ok', 'value': 40, 'unit': '%', 'warning': 70, 'critical': 80, 'reason': '40 %', 'measured_at': 'x'}
HOSTS = {
    'lab1': {'host_checks': {'results': [DISK]}, 'health': HEALTHY, 'checks': ['health', 'latency', 'bot_round_trip', 'api_usage'],
             'bot': {'changed': False, 'skipped': True, 'skip_reason': 'not sent in check mode'}},
    'lab2': {'host_checks': {'results': [dict(DISK, status='critical', reason='85 % used on /')]},
             'health': dict(HEALTHY, elapsed_ms=900), 'checks': ['health', 'latency'], 'thresholds': {'latency': {'warning': 100, 'critical': 800}}},
    'lab3': {'checks': ['health', 'backup'], 'host_checks_expected': ['disk']},
}


@pytest.fixture
def results(monkeypatch):
    """What the module exits with."""
    captured = []

    def exit_json(self, **kwargs):
        captured.append(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    return captured


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """measured_at comes from the clock: the module's and the filter's results are compared at one frozen instant."""
    monkeypatch.setattr(_checks, 'utc_stamp', lambda moment=None: '2026-11-24T15:10:00Z')


def test_the_filter_gives_what_the_module_gives(results):
    assert run_main(check_results_module.main, {'hosts': HOSTS, 'thresholds': {'latency': {'warning': 250, 'critical': 1000}}}) == 0
    module = dict(results[0])
    assert module.pop('changed') is False
    assert check_results(HOSTS, thresholds={'latency': {'warning': 250, 'critical': 1000}}) == module
    assert FilterModule().filters()['check_results'] is check_results


@pytest.mark.parametrize('hosts, kwargs, message', [
    ({'lab1': []}, {}, 'Failed to judge the measurements: hosts: the measurements of lab1 are not a dict'),
    ({'lab1': {'checks': ['nope']}}, {}, 'Failed to judge the measurements: hosts.lab1.checks: unknown checks nope'),
    ({}, {'thresholds': {'nope': {}}}, "Failed to judge the measurements: thresholds: 'nope' is not a judged check"),
    ([], {}, 'Failed to judge the measurements: hosts must be a dict of host name to measurements, not list'),
    ({}, {'checks': ['nope']}, 'Failed to judge the measurements: checks must be a list of health'),
])
def test_bad_input_is_named_never_a_traceback(hosts, kwargs, message):
    with pytest.raises(AnsibleFilterError) as error:
        check_results(hosts, **kwargs)
    assert str(error.value).startswith(message)

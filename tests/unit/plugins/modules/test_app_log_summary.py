# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The app_log_summary module with a fake Docker API client (the seam app_log_summary.make_docker_api) and a frozen clock."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.test__log_summary import (
    NOW,
    SAMPLE_ERROR,
    SAMPLE_RATE_LIMIT,
    SAMPLE_TOKEN_REFUSED,
    SAMPLE_UNAUTHORIZED,
    FrozenClock,
    SdkEngine as Engine,
)
from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import app_log_summary

API_KEY = 'sk-live-0123456789abcdef'


@pytest.fixture
def engine(monkeypatch):
    fake = Engine()
    monkeypatch.setattr(app_log_summary, 'make_docker_api', lambda docker_host: fake)
    monkeypatch.setattr(app_log_summary, 'time', FrozenClock())
    fake.add('web', [(NOW - 600 + i, SAMPLE_ERROR) for i in range(20)] + [(NOW - 30, SAMPLE_RATE_LIMIT), (NOW - 20, SAMPLE_UNAUTHORIZED)]
             + [(NOW - 10, 'ERROR call failed: status 401 with api_key=%s' % API_KEY)])
    fake.add('bot', [(NOW - 5, SAMPLE_TOKEN_REFUSED)])
    return fake


def test_the_summary_is_the_same_in_check_mode_and_changes_nothing(engine, results):
    args = {'containers': ['web', 'bot'], 'since': '15m', 'secrets': [API_KEY]}
    assert run_main(app_log_summary.main, args) == 0
    assert run_main(app_log_summary.main, dict(args, _ansible_check_mode=True)) == 0
    real, check = results
    assert real['changed'] is False and check['changed'] is False
    assert real['kinds'] == check['kinds'] and real['total_lines'] == check['total_lines'] == 24
    assert [(kind['kind'], kind['count']) for kind in real['kinds']] == [
        ('error', 20), ('unauthorized_upstream', 2), ('rate_limit', 1), ('unauthorized', 1)]
    assert real['upstream_key_rejected'] is True
    assert real['rate_per_min'] == 1.6    # 24 lines of a kind over 15 minutes
    assert real['since'] == '2026-05-28T20:11:40Z' and real['until'] == '2026-05-28T20:26:40Z'
    assert API_KEY not in json.dumps(results)


def test_a_window_that_cannot_be_read_fails_with_a_message(engine, results):
    assert run_main(app_log_summary.main, {'containers': ['web'], 'since': 'yesterday'}) == 1
    assert results[-1]['msg'].startswith("Failed to summarize the logs: since: 'yesterday' is neither a duration")


def test_an_engine_that_fails_fails_the_task_with_what_was_read(monkeypatch, results):
    monkeypatch.setattr(app_log_summary, 'make_docker_api', lambda docker_host: Engine(broken=True))
    assert run_main(app_log_summary.main, {'containers': ['web'], 'docker_host': 'unix:///run/x.sock'}) == 1
    assert results[-1]['msg'].startswith('Failed to read the logs of web through the Docker Engine API at unix:///run/x.sock: 500')


def test_a_missing_container_is_listed(engine, results):
    assert run_main(app_log_summary.main, {'containers': ['gone', 'bot']}) == 0
    assert results[-1]['missing'] == ['gone'] and results[-1]['per_container']['bot']['found'] is True

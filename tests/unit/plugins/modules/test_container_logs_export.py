# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The container_logs_export module with a fake Docker API client (the seam make_docker_api) and a frozen clock."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.test__log_summary import (
    NOW,
    SAMPLE_ERROR,
    SAMPLE_TOKEN_REFUSED,
    SAMPLE_UNAUTHORIZED,
    TOKEN,
    FrozenClock,
    SdkEngine as Engine,
)
from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import container_logs_export

PASSWORD = 'correct-horse-battery-staple-42'
LONG = 'INFO ' + 'x' * 600


@pytest.fixture
def engine(monkeypatch):
    fake = Engine()
    monkeypatch.setattr(container_logs_export, 'make_docker_api', lambda docker_host: fake)
    monkeypatch.setattr(container_logs_export, 'time', FrozenClock())
    fake.add('web', [(NOW - 90000, 'INFO older than a day')] + [(NOW - 600 + i, SAMPLE_ERROR) for i in range(5)]
             + [(NOW - 20, SAMPLE_UNAUTHORIZED), (NOW - 10, 'INFO login password=%s ok' % PASSWORD), (NOW - 5, LONG)])
    fake.add('bot', [(NOW - 5, SAMPLE_TOKEN_REFUSED + ' calling /bot%s/getMe' % TOKEN)])
    return fake


def read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def test_the_last_day_of_each_container_is_written_masked_with_the_auth_lines_apart(engine, results, tmp_path):
    dest = str(tmp_path / 'logs')
    assert run_main(container_logs_export.main, {'containers': ['web', 'bot', 'gone'], 'dest': dest, 'secrets': [PASSWORD]}) == 0
    result = results[-1]
    assert result['changed'] is True and result['missing'] == ['gone']
    assert result['files'] == [os.path.join(dest, name) for name in ('web.log', 'bot.log', 'auth.log')]
    web = read(os.path.join(dest, 'web.log'))
    assert 'older than a day' not in web and web.count('simulated error') == 5
    assert LONG in web                                  # kept whole, not cut to a quote's 200 characters
    assert result['per_container']['web']['lines'] == 8 and result['lines'] == 9
    auth = read(os.path.join(dest, 'auth.log')).splitlines()
    assert result['auth_lines'] == 2 and len(auth) == 2
    assert auth[0].startswith('web ') and 'unauthorized request rejected' in auth[0] and auth[1].startswith('bot ')
    everything = web + read(os.path.join(dest, 'bot.log')) + '\n'.join(auth) + json.dumps(results)
    assert PASSWORD not in everything and TOKEN not in everything and TOKEN.split(':')[1] not in everything
    assert oct(os.stat(os.path.join(dest, 'web.log')).st_mode & 0o777) == '0o600'
    assert sorted(os.listdir(dest)) == ['auth.log', 'bot.log', 'web.log']   # no temporary file left


def test_check_mode_writes_nothing_and_names_the_files(engine, results, tmp_path):
    dest = str(tmp_path / 'logs')
    assert run_main(container_logs_export.main, {'containers': ['web'], 'dest': dest, '_ansible_check_mode': True}) == 0
    assert results[-1]['files'] == [os.path.join(dest, 'web.log'), os.path.join(dest, 'auth.log')]
    assert not os.path.exists(dest) and engine.streams == []


def test_a_log_bigger_than_the_bounds_is_cut_and_says_so(engine, results, tmp_path):
    dest = str(tmp_path / 'logs')
    assert run_main(container_logs_export.main, {'containers': ['web'], 'dest': dest, 'max_lines': 3}) == 0
    assert results[-1]['per_container']['web']['lines'] == 3
    assert 'max_lines' in results[-1]['cut']['web']
    assert run_main(container_logs_export.main, {'containers': ['web'], 'dest': dest, 'max_bytes': 100}) == 0
    assert 'max_bytes' in results[-1]['cut']['web']


def test_a_bad_window_and_a_failing_engine_fail_with_a_message(monkeypatch, engine, results, tmp_path):
    assert run_main(container_logs_export.main, {'containers': ['web'], 'dest': str(tmp_path), 'since': 'yesterday'}) == 1
    assert results[-1]['msg'].startswith("Failed to export the logs: since: 'yesterday' is neither a duration")
    monkeypatch.setattr(container_logs_export, 'make_docker_api', lambda docker_host: Engine(broken=True))
    assert run_main(container_logs_export.main, {'containers': ['web'], 'dest': str(tmp_path), 'docker_host': 'unix:///run/x.sock'}) == 1
    assert results[-1]['msg'].startswith('Failed to export the logs of web through the Docker Engine API at unix:///run/x.sock: 500')

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""coolify_app_env: the comparison with plain dicts, and the module against the Coolify stand-in."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _coolify_envs as envs
from ansible_collections.clawd.ops.plugins.modules import coolify_app_env

requests = pytest.importorskip('requests')
from standins.coolify import CoolifyStandIn  # noqa: E402 pylint: disable=wrong-import-position,wrong-import-order

ROOT = '7|envROOTtoken0123456789abcdef'
READ_WRITE = '8|envWRITEtoken0123456789abcdef'
APP = 'envappuuid00000000000001'
SECRET = 'bot-token-VALUE-0123456789'
CONFIG = {
    'tokens': [{'token': ROOT, 'abilities': ['root']}, {'token': READ_WRITE, 'abilities': ['read', 'write']}],
    'version': '4.3.10', 'engine': 'simulated', 'simulated_step_seconds': 0.02,
    'applications': [{'uuid': APP, 'name': 'lab1', 'git_branch': 'main', 'services': []}],
    'commits': {'main': [{'sha': '1a' * 20, 'message': 'v1', 'env': {}}]},
}


def test_plan_envs_with_plain_dicts():
    current = [{'uuid': 'u1', 'key': 'A', 'value': '1', 'is_preview': False, 'is_literal': False},
               {'uuid': 'u2', 'key': 'B', 'value': '2', 'is_preview': False},
               {'uuid': 'u3', 'key': 'C', 'is_preview': False},
               {'uuid': 'u4', 'key': 'A', 'value': 'p', 'is_preview': True}]
    desired = [{'key': 'A', 'value': '1', 'is_preview': False, 'is_literal': None},
               {'key': 'B', 'value': '3', 'is_preview': False},
               {'key': ' C ', 'value': 'x', 'is_preview': False},
               {'key': 'NEW KEY', 'value': 'n', 'is_preview': False, 'is_literal': True}]
    plan = envs.plan_envs(current, desired)
    assert plan['unchanged'] == ['A'] and plan['unknown'] == ['C']
    assert plan['update'] == [{'key': 'B', 'value': '3', 'is_preview': False}]
    assert plan['create'] == [{'key': 'NEW_KEY', 'value': 'n', 'is_preview': False, 'is_literal': True}]
    assert [e['key'] for e in envs.plan_envs(current, desired, update='always')['update']] == ['B', 'C']
    flags = envs.plan_envs(current, [{'key': 'A', 'value': '1', 'is_preview': False, 'is_literal': True}])
    assert flags['update'] and not flags['unchanged']
    gone = envs.plan_envs(current, [{'key': 'A', 'is_preview': True}, {'key': 'Z', 'is_preview': False}], state='absent')
    assert gone['delete'] == [{'uuid': 'u4', 'key': 'A', 'is_preview': True}]


@pytest.fixture(name='standin_server', scope='module')
def standin_server_fixture():
    with CoolifyStandIn(config=CONFIG).serve_in_thread() as running:
        yield running


@pytest.fixture(name='standin')
def standin_fixture(standin_server):
    requests.post(standin_server.url + '/_lab/reset', timeout=5).raise_for_status()
    return standin_server


def writes(running):
    log = requests.get(running.url + '/_lab/requests', timeout=5).json()
    return ['%s %s' % (e['method'], e['path'].split('?')[0]) for e in log if e['method'] != 'GET']


def run(running, check_mode=False, **args):
    options = {'api_url': running.url, 'api_token': ROOT, 'uuid': APP}
    options.update(args)
    if check_mode:
        options['_ansible_check_mode'] = True
    return run_main(coolify_app_env.main, options)


def test_present_then_idempotent_with_check_mode_first(standin, results):
    env = [{'key': 'APP_VERSION', 'value': '1.0.0'}, {'key': 'BOT_TOKEN', 'value': SECRET, 'is_literal': True}]
    assert run(standin, check_mode=True, env=env) == 0
    assert (results[-1]['changed'], results[-1]['created']) == (True, ['APP_VERSION', 'BOT_TOKEN'])
    assert writes(standin) == []
    assert run(standin, env=env) == 0
    assert results[-1]['changed'] is True
    assert writes(standin) == ['PATCH /api/v1/applications/%s/envs/bulk' % APP]
    assert run(standin, env=env) == 0
    assert (results[-1]['changed'], results[-1]['unchanged']) == (False, ['APP_VERSION', 'BOT_TOKEN'])
    env[0]['value'] = '1.1.0'
    assert run(standin, env=env) == 0
    assert (results[-1]['changed'], results[-1]['updated']) == (True, ['APP_VERSION'])
    assert SECRET not in json.dumps(results)


def test_values_unreadable_without_read_sensitive(standin, results):
    env = [{'key': 'BOT_TOKEN', 'value': SECRET}]
    assert run(standin, env=env) == 0
    assert run(standin, env=env, api_token=READ_WRITE) == 0
    result = results[-1]
    assert (result['changed'], result['unknown'], result['values_readable']) == (False, ['BOT_TOKEN'], False)
    assert 'Cannot compare the values of BOT_TOKEN of application lab1' in result['warnings'][0]
    assert run(standin, env=env, api_token=READ_WRITE, update='always') == 0
    assert (results[-1]['changed'], results[-1]['updated']) == (True, ['BOT_TOKEN'])


def test_absent_deletes_only_listed_variables(standin, results):
    run(standin, env=[{'key': 'A', 'value': '1'}, {'key': 'B', 'value': '2'}])
    assert run(standin, state='absent', env=[{'key': 'A'}, {'key': 'NOT_THERE'}]) == 0
    assert (results[-1]['changed'], results[-1]['deleted']) == (True, ['A'])
    assert run(standin, state='absent', env=[{'key': 'A'}]) == 0
    assert results[-1]['changed'] is False
    left = requests.get('%s/api/v1/applications/%s/envs' % (standin.url, APP), headers={'Authorization': 'Bearer ' + ROOT}, timeout=5).json()
    assert [e['key'] for e in left] == ['B']


def test_present_needs_values(standin, results):
    assert run(standin, env=[{'key': 'A'}]) == 1
    assert results[-1]['msg'] == 'value is required with state=present (missing for A)'


FP_KEY = 'fingerprint-KEY-0123456789abcdef'


def test_plan_envs_compares_fingerprints_when_values_are_hidden():
    mark = envs.env_fingerprinter(FP_KEY)
    current = [{'uuid': 'u1', 'key': 'A', 'is_preview': False, 'comment': mark('A', 'old')},
               {'uuid': 'u2', 'key': 'B', 'is_preview': False, 'comment': mark('B', 'same')},
               {'uuid': 'u3', 'key': 'C', 'is_preview': False, 'comment': 'set by hand'},
               {'uuid': 'u4', 'key': 'D', 'value': 'seen', 'is_preview': False}]
    desired = [{'key': k, 'value': v, 'is_preview': False} for k, v in (('A', 'new'), ('B', 'same'), ('C', 'x'), ('D', 'seen'))]
    plan = envs.plan_envs(current, desired, fingerprint=mark)
    assert [e['key'] for e in plan['update']] == ['A']
    assert plan['update'][0]['comment'] == mark('A', 'new') != mark('A', 'old')
    assert (plan['unchanged'], plan['unknown']) == (['B', 'D'], ['C'])
    # The mark is keyed: no value can be guessed from it without the key, and it differs per variable.
    assert mark('A', 'same') != mark('B', 'same') and 'same' not in mark('B', 'same')
    assert envs.env_fingerprinter('another key')('B', 'same') != mark('B', 'same')


def test_rotated_value_detected_without_read_sensitive(standin, results):
    env = [{'key': 'BOT_TOKEN', 'value': SECRET}]
    assert run(standin, env=env, api_token=READ_WRITE, fingerprint_key=FP_KEY) == 0
    assert (results[-1]['changed'], results[-1]['created']) == (True, ['BOT_TOKEN'])
    assert run(standin, env=env, api_token=READ_WRITE, fingerprint_key=FP_KEY) == 0
    assert (results[-1]['changed'], results[-1]['unchanged'], results[-1]['unknown']) == (False, ['BOT_TOKEN'], [])
    rotated = [{'key': 'BOT_TOKEN', 'value': SECRET + '-rotated'}]
    assert run(standin, env=rotated, api_token=READ_WRITE, fingerprint_key=FP_KEY, _ansible_check_mode=True) == 0
    assert (results[-1]['changed'], results[-1]['updated']) == (True, ['BOT_TOKEN'])
    assert run(standin, env=rotated, api_token=READ_WRITE, fingerprint_key=FP_KEY) == 0
    assert (results[-1]['changed'], results[-1]['updated'], results[-1]['warnings'] if 'warnings' in results[-1] else []) == (
        True, ['BOT_TOKEN'], [])
    stored = requests.get('%s/api/v1/applications/%s/envs' % (standin.url, APP), headers={'Authorization': 'Bearer ' + ROOT}, timeout=5).json()
    assert [e['value'] for e in stored] == [SECRET + '-rotated']
    assert FP_KEY not in json.dumps(results) and SECRET not in json.dumps(results)

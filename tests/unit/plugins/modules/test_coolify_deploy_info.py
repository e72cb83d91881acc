# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""coolify_deploy_info run in-process against recorded, spec-shaped answers (ScriptedCoolify)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.test__coolify import (
    APP, C2, C3, DEP, TOKEN, ScriptedCoolify, load, standard_app)

from ansible_collections.clawd.ops.plugins.modules import coolify_deploy_info


@pytest.fixture
def scripted():
    server = ScriptedCoolify()
    yield server
    server.close()


def run(server, check_mode=False, **args):
    options = {'api_url': server.url, 'api_token': TOKEN, 'retries': 1}
    options.update(args)
    if check_mode:
        options['_ansible_check_mode'] = True
    return run_main(coolify_deploy_info.main, options)


@pytest.mark.parametrize('check_mode', [False, True])
def test_application_history_and_rollback_images(scripted, results, check_mode):
    standard_app(scripted)
    assert run(scripted, check_mode=check_mode, uuid=APP, take=4) == 0
    result = results[-1]
    assert result['changed'] is False
    assert (result['version'], result['rollback_api'], result['healthy'], result['count']) == ('4.3.10', True, True, 4)
    assert result['application']['name'] == 'web' and 'settings' not in result['application']
    assert [d['status'] for d in result['deployments']] == ['failed', 'finished', 'cancelled-by-user', 'finished']
    assert result['deployments'][1]['duration'] == 42.5
    assert result['last_finished']['commit'] == C2
    assert [i['tag'] for i in result['rollback_images']['images']] == [C3, C2]
    assert scripted.requests[2][2] == {'take': '4', 'skip': '0'}
    assert all(r[0] == 'GET' for r in scripted.requests)


def test_before_43_rollback_images_are_not_asked(scripted, results):
    standard_app(scripted, version='4.0.0-beta.474')
    assert run(scripted, uuid=APP) == 0
    assert results[-1]['rollback_api'] is False
    assert results[-1]['rollback_images'] == {'current': None, 'images': []}
    assert 'GET /applications/%s/rollback-images' % APP not in scripted.calls()


def test_one_deployment_with_its_log_tail(scripted, results):
    scripted.answer('GET', '/version', (200, '4.3.10'))
    scripted.answer('GET', '/deployments/' + DEP, (200, load('deployment_failed')))
    assert run(scripted, deployment_uuid=DEP, logs_tail_lines=1) == 0
    deployment = results[-1]['deployment']
    assert deployment['status'] == 'failed' and 'logs' not in deployment
    assert deployment['logs_tail'] == ['Deployment failed. Removing the new version of your application.']
    assert deployment['logs_available'] is True
    assert 'application' not in results[-1]


def test_deployment_logs_hidden_from_a_read_token(scripted, results):
    scripted.answer('GET', '/version', (200, '4.3.10'))
    hidden = load('deployment_failed')
    del hidden['logs']
    scripted.answer('GET', '/deployments/' + DEP, (200, hidden))
    run(scripted, deployment_uuid=DEP)
    assert (results[-1]['deployment']['logs_tail'], results[-1]['deployment']['logs_available']) == ([], False)


def test_unknown_deployment(scripted, results):
    scripted.answer('GET', '/version', (200, '4.3.10'))
    scripted.answer('GET', '/deployments/nope', (404, {'message': 'Deployment not found.'}))
    assert run(scripted, deployment_uuid='nope') == 1
    assert results[-1]['msg'] == 'Failed to read deployment nope: HTTP 404: Deployment not found.'


def test_wrong_token(scripted, results):
    scripted.answer('GET', '/version', (401, load('unauthenticated')))
    assert run(scripted, uuid=APP, api_token='5|anotherSECRETtoken') == 1
    assert results[-1]['msg'] == 'Failed to read the Coolify version: HTTP 401: Unauthenticated.'
    assert 'anotherSECRETtoken' not in json.dumps(results)


def test_server_errors_are_retried(scripted, results):
    standard_app(scripted)
    scripted.answer('GET', '/version', (503, load('server_error')), (200, '4.3.10'))
    assert run(scripted, uuid=APP) == 0
    assert scripted.calls()[:2] == ['GET /version', 'GET /version']

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""coolify_deploy run in-process against recorded, spec-shaped answers (ScriptedCoolify) and against the Coolify stand-in."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.test__coolify import (
    APP, C1, C2, C3, DEP, TOKEN, ScriptedCoolify, load, standard_app)

from ansible_collections.clawd.ops.plugins.modules import coolify_deploy


@pytest.fixture
def scripted():
    server = ScriptedCoolify()
    yield server
    server.close()


def run(server, check_mode=False, diff=False, **args):
    options = {'api_url': server.url, 'api_token': TOKEN, 'poll_interval': 0.01, 'poll_max_interval': 0.02, 'retries': 1}
    options.update(args)
    if check_mode:
        options['_ansible_check_mode'] = True
    if diff:
        options['_ansible_diff'] = True
    return run_main(coolify_deploy.main, options)


def finished_history():
    history = load('deployments')
    history['deployments'][0]['status'] = 'finished'
    return history


def deploy_script(server, final='deployment_finished', **kwargs):
    standard_app(server, **kwargs)
    server.answer('POST', '/deploy', (200, load('deploy_queued')))
    server.answer('PATCH', '/applications/' + APP, (200, load('patched')))
    server.answer('POST', '/applications/%s/rollback' % APP, (200, load('rollback_queued')))
    server.answer('GET', '/deployments/' + DEP, (200, load('deployment_in_progress')), (200, load(final)))
    rollback = dict(load(final), deployment_uuid='rbk0gc0s0gvgsco4o8k0wgsk', commit=C2, rollback=True)
    server.answer('GET', '/deployments/rbk0gc0s0gvgsco4o8k0wgsk', (200, rollback))
    return server


def test_deploy_waits_until_finished(scripted, results):
    deploy_script(scripted)
    assert run(scripted, uuid=APP) == 0
    result = results[-1]
    assert result['changed'] is True
    assert (result['deployment_uuid'], result['status'], result['commit'], result['duration']) == (DEP, 'finished', C3, 42.5)
    assert result['message'] == 'Deployment %s of application web finished.' % DEP
    assert result['application']['status'] == 'running:healthy'
    assert scripted.writes() == ['POST /deploy']
    assert scripted.calls('GET').count('GET /deployments/' + DEP) == 2
    assert [r[3] for r in scripted.requests if r[0] == 'POST'] == [{'uuid': APP}]


def test_force_is_sent_only_when_true(scripted, results):
    deploy_script(scripted)
    run(scripted, uuid=APP, force=True)
    assert [r[3] for r in scripted.requests if r[0] == 'POST'] == [{'uuid': APP, 'force': True}]


def test_failed_deployment_fails_with_the_log_tail(scripted, results):
    deploy_script(scripted, final='deployment_failed')
    assert run(scripted, uuid=APP, logs_tail_lines=2) == 1
    result = results[-1]
    assert result['msg'] == ('Deployment %s of application web failed: Deployment failed. Removing the new version of your application.' % DEP)
    assert result['logs_tail'] == ['Healthcheck: unhealthy', 'Deployment failed. Removing the new version of your application.']
    assert result['status'] == 'failed'


def test_failed_deployment_without_logs_says_which_token_is_needed(scripted, results):
    deploy_script(scripted)
    failed = load('deployment_failed')
    del failed['logs']
    scripted.answer('GET', '/deployments/' + DEP, (200, failed))
    assert run(scripted, uuid=APP) == 1
    assert results[-1]['msg'].startswith('Deployment %s of application web failed: failed (deployment logs are only returned to a token '
                                         'with the read:sensitive or root ability' % DEP)
    assert results[-1]['logs_tail'] == []


def cancelled_deployment():
    return dict(load('deployment_in_progress'), status='cancelled-by-user')


def test_timeout_cancels_the_deployment_and_keeps_its_uuid(scripted, results):
    """Issue 11 item 4: a deployment still running at the timeout is cancelled, and the failure keeps its uuid."""
    deploy_script(scripted)
    scripted.answer('GET', '/deployments/' + DEP, (200, load('deployment_in_progress')), (200, cancelled_deployment()))
    scripted.answer('POST', '/deployments/%s/cancel' % DEP,
                    (200, {'message': 'Deployment cancelled successfully.', 'deployment_uuid': DEP, 'status': 'cancelled-by-user'}))
    assert run(scripted, uuid=APP, wait_timeout=0) == 1
    result = results[-1]
    assert result['msg'] == ('Timed out after 0 seconds waiting for deployment %s (last status in_progress) of application web; '
                             'cancelled it (%s).' % (DEP, DEP))
    assert (result['deployment_uuid'], result['status'], result['cancelled']) == (DEP, 'cancelled-by-user', [DEP])
    assert scripted.writes() == ['POST /deploy', 'POST /deployments/%s/cancel' % DEP]


def test_timeout_of_a_pinned_commit_cancels_it_and_sets_the_pin_back(scripted, results):
    """Issue 11 item 4: a later deployment in Coolify must not build the cancelled commit the application was pinned to."""
    deploy_script(scripted)
    scripted.answer('GET', '/deployments/' + DEP, (200, load('deployment_in_progress')), (200, cancelled_deployment()))
    scripted.answer('POST', '/deployments/%s/cancel' % DEP,
                    (200, {'message': 'Deployment cancelled successfully.', 'deployment_uuid': DEP, 'status': 'cancelled-by-user'}))
    assert run(scripted, uuid=APP, commit=C1, wait_timeout=0) == 1
    result = results[-1]
    assert result['msg'].endswith('; cancelled it (%s); set git_commit_sha back to HEAD.' % DEP), result['msg']
    assert scripted.writes() == ['PATCH /applications/' + APP, 'POST /deploy', 'POST /deployments/%s/cancel' % DEP,
                                 'PATCH /applications/' + APP]
    assert [r[3] for r in scripted.requests if r[0] == 'PATCH'] == [{'git_commit_sha': C1}, {'git_commit_sha': 'HEAD'}]


def test_timeout_without_cancel_says_it_may_still_go_live(scripted, results):
    deploy_script(scripted)
    scripted.answer('GET', '/deployments/' + DEP, (200, load('deployment_in_progress')))
    assert run(scripted, uuid=APP, wait_timeout=0, cancel_on_timeout=False) == 1
    assert results[-1]['msg'] == ('Timed out after 0 seconds waiting for deployment %s (last status in_progress) of application web; '
                                  'it was not cancelled (cancel_on_timeout=false) and may still go live.' % DEP)
    assert results[-1]['deployment_uuid'] == DEP and results[-1]['cancelled'] == []
    assert scripted.writes() == ['POST /deploy']


def test_a_deployment_that_finished_while_being_cancelled_is_a_success(scripted, results):
    deploy_script(scripted)
    scripted.answer('GET', '/deployments/' + DEP, (200, load('deployment_in_progress')), (200, load('deployment_finished')))
    scripted.answer('POST', '/deployments/%s/cancel' % DEP,
                    (400, {'message': 'Deployment cannot be cancelled. Current status: finished'}))
    assert run(scripted, uuid=APP, wait_timeout=0) == 0
    assert results[-1]['status'] == 'finished' and results[-1]['cancelled'] == []


def test_a_cancel_that_fails_says_the_deployment_may_still_go_live(scripted, results):
    deploy_script(scripted)
    scripted.answer('GET', '/deployments/' + DEP, (200, load('deployment_in_progress')))
    scripted.answer('POST', '/deployments/%s/cancel' % DEP,
                    (403, {'message': 'You do not have permission to cancel this deployment.'}))
    assert run(scripted, uuid=APP, wait_timeout=0) == 1
    result = results[-1]
    assert result['msg'].startswith('Timed out after 0 seconds waiting for deployment %s (last status in_progress) of application web; '
                                    'could not cancel it, so it may still go live: Failed to cancel deployment %s: ' % (DEP, DEP))
    assert 'You do not have permission to cancel this deployment.' in result['msg']
    assert result['deployment_uuid'] == DEP and result['status'] == 'in_progress' and result['cancelled'] == []


def test_losing_track_of_the_deployment_cancels_it_and_keeps_its_uuid(scripted, results):
    """Issue 11 item 4: polling fails (here the deployment cannot be read); the uuid stays in the result."""
    deploy_script(scripted)
    scripted.answer('GET', '/deployments/' + DEP, (404, {'message': 'Deployment not found.'}), (200, cancelled_deployment()))
    scripted.answer('POST', '/deployments/%s/cancel' % DEP,
                    (200, {'message': 'Deployment cancelled successfully.', 'deployment_uuid': DEP, 'status': 'cancelled-by-user'}))
    assert run(scripted, uuid=APP) == 1
    result = results[-1]
    assert result['msg'].startswith('Lost track of deployment %s (last status unknown) of application web: Failed to read deployment %s'
                                    % (DEP, DEP))
    assert result['msg'].endswith('; cancelled it (%s).' % DEP)
    assert (result['deployment_uuid'], result['status'], result['cancelled']) == (DEP, 'cancelled-by-user', [DEP])


def test_no_wait_returns_once_queued(scripted, results):
    deploy_script(scripted)
    run(scripted, uuid=APP, wait=False)
    assert (results[-1]['status'], results[-1]['deployment_uuid']) == ('queued', DEP)
    assert 'GET /deployments/' + DEP not in scripted.calls()


def test_rollback_previous_on_43_uses_the_rollback_endpoint(scripted, results):
    deploy_script(scripted, history=finished_history())
    assert run(scripted, uuid=APP, rollback='previous') == 0
    result = results[-1]
    assert result['would_deploy']['mode'] == 'rollback' and result['would_deploy']['method'] == 'rollback_api'
    assert (result['commit'], result['status']) == (C2, 'finished')
    assert scripted.writes() == ['POST /applications/%s/rollback' % APP]
    assert [r[3] for r in scripted.requests if r[0] == 'POST'] == [{'commit': C2}]


def test_rollback_before_43_patches_the_commit_then_deploys(scripted, results):
    deploy_script(scripted, version='4.2.0', history=finished_history())
    assert run(scripted, uuid=APP, rollback='previous') == 0
    assert scripted.writes() == ['PATCH /applications/' + APP, 'POST /deploy']
    assert [r[3] for r in scripted.requests if r[0] != 'GET'] == [{'git_commit_sha': C2}, {'uuid': APP}]
    assert 'GET /applications/%s/rollback-images' % APP not in scripted.calls()


def test_rollback_to_a_commit_without_image_fails_before_writing(scripted, results):
    deploy_script(scripted, history=finished_history())
    assert run(scripted, uuid=APP, rollback='0123456789abcdef') == 1
    assert results[-1]['msg'].startswith('Failed to roll back application web to 0123456789abcdef: Coolify has no image built from that commit')
    assert scripted.writes() == []


def test_check_mode_reports_the_plan_and_writes_nothing(scripted, results):
    deploy_script(scripted, history=finished_history())
    assert run(scripted, check_mode=True, diff=True, uuid=APP, rollback='previous') == 0
    result = results[-1]
    assert result['changed'] is True
    assert result['would_deploy'] == {'mode': 'rollback', 'commit': C2, 'method': 'rollback_api', 'update': {}, 'applications': ['web']}
    assert result['diff'] == {'before': {'git_commit_sha': 'HEAD'}, 'after': {'git_commit_sha': 'HEAD', 'deploy': C2}}
    assert scripted.writes() == []


def test_check_mode_commit_shows_the_pin_in_the_diff(scripted, results):
    deploy_script(scripted, history=finished_history())
    run(scripted, check_mode=True, diff=True, uuid=APP, commit=C2)
    assert results[-1]['diff'] == {'before': {'git_commit_sha': 'HEAD'}, 'after': {'git_commit_sha': C2, 'deploy': C2}}
    assert scripted.writes() == []


def test_target_already_running_healthy_changes_nothing(scripted, results):
    deploy_script(scripted, history=finished_history())
    assert run(scripted, uuid=APP, rollback=C3) == 0
    result = results[-1]
    assert (result['changed'], result['status'], result['deployment_uuid']) == (False, 'skipped', None)
    assert result['message'] == 'Application web already runs %s (deployment dep3failedxxxxxxxxxxxxxx) and is healthy, nothing to do.' % C3
    assert scripted.writes() == []


def test_redeploy_true_deploys_the_same_target_again(scripted, results):
    deploy_script(scripted, history=finished_history())
    run(scripted, uuid=APP, rollback=C3, redeploy=True)
    assert results[-1]['changed'] is True
    assert scripted.writes() == ['POST /applications/%s/rollback' % APP]


def test_deploy_by_tag_returns_each_deployment(scripted, results):
    scripted.answer('GET', '/applications', (200, [load('application'), load('application_dockerimage')]))
    scripted.answer('POST', '/deploy', (200, load('deploy_by_tag')))
    for uuid in ('tagdep1xxxxxxxxxxxxxxxxx', 'tagdep2xxxxxxxxxxxxxxxxx'):
        scripted.answer('GET', '/deployments/' + uuid, (200, dict(load('deployment_finished'), deployment_uuid=uuid)))
    assert run(scripted, tag='production') == 0
    result = results[-1]
    assert result['deployment_uuid'] == ['tagdep1xxxxxxxxxxxxxxxxx', 'tagdep2xxxxxxxxxxxxxxxxx']
    assert result['would_deploy']['applications'] == ['web', 'bot']
    assert result['status'] == 'finished'
    assert scripted.requests[0][2] == {'tag': 'production'}


@pytest.mark.parametrize('status, fixture, expected', [
    (403, 'missing_deploy', 'Failed to deploy application %s: HTTP 403: Missing required permissions: deploy' % APP),
    (400, 'content_type', 'Failed to deploy application %s: HTTP 400: Invalid request: Content-Type must be application/json.' % APP),
    (503, 'server_error', 'Failed to deploy application %s: HTTP 503: Server Error' % APP),
])
def test_deploy_errors_are_clear(scripted, results, status, fixture, expected):
    deploy_script(scripted)
    scripted.answer('POST', '/deploy', (status, load(fixture)))
    assert run(scripted, uuid=APP) == 1
    assert results[-1]['msg'] == expected
    assert results[-1]['status_code'] == status
    assert scripted.calls('POST') == ['POST /deploy']


def test_unknown_application(scripted, results):
    scripted.answer('GET', '/applications/nope', (404, load('app_not_found')))
    assert run(scripted, uuid='nope') == 1
    assert results[-1]['msg'] == 'Failed to read application nope: HTTP 404: Application not found.'


def test_wrong_token_is_clear_and_never_shown(scripted, results):
    scripted.answer('GET', '/applications/' + APP, (401, load('unauthenticated')))
    assert run(scripted, uuid=APP, api_token='3|wrongTOKENvalue') == 1
    assert results[-1]['msg'] == 'Failed to read application %s: HTTP 401: Unauthenticated.' % APP
    assert 'wrongTOKENvalue' not in json.dumps(results[-1])


def test_queue_full_honours_retry_after(scripted, results):
    deploy_script(scripted)
    scripted.answer('POST', '/deploy', (429, load('queue_full'), {'Retry-After': '1'}), (200, load('deploy_queued')))
    assert run(scripted, uuid=APP) == 0
    assert scripted.calls('POST') == ['POST /deploy', 'POST /deploy']


def test_options_are_checked(scripted, results):
    assert run(scripted, tag='production', commit=C2) == 1
    assert 'uuid' in results[-1]['msg']
    assert run(scripted, uuid=APP, commit=C2, rollback='previous') == 1
    assert 'mutually exclusive' in results[-1]['msg']
    assert scripted.requests == []


# --------------------------------------------------------------------------- against the Coolify stand-in (simulated engine)

requests = pytest.importorskip('requests')
from standins.coolify import CoolifyStandIn  # noqa: E402 pylint: disable=wrong-import-position,wrong-import-order

LAB_TOKEN = '7|standinROOTtoken0123456789abcdef'
READ_ONLY = '8|standinREADtoken0123456789abcdef'
LAB_APP = 'lab1appuuid0000000000001'
V1 = '1a' * 20
V11 = '2b' * 20
V2 = '3c' * 20
STANDIN_CONFIG = {
    'tokens': [{'token': LAB_TOKEN, 'abilities': ['root']}, {'token': READ_ONLY, 'abilities': ['read']}],
    'version': '4.3.10', 'engine': 'simulated', 'simulated_step_seconds': 0.02,
    'applications': [{'uuid': LAB_APP, 'name': 'lab1', 'fqdn': 'https://lab1.clawd.test', 'git_branch': 'main', 'services': []}],
    'commits': {'main': [{'sha': V1, 'message': 'v1', 'env': {'APP_VERSION': '1.0.0'}},
                         {'sha': V11, 'message': 'v1.1', 'env': {'APP_VERSION': '1.1.0'}},
                         {'sha': V2, 'message': 'v2 broken', 'env': {'APP_VERSION': '2.0.0', 'APP_UNHEALTHY': '1'}}]},
}


@pytest.fixture(name='standin_server', scope='module')
def standin_server_fixture():
    with CoolifyStandIn(config=STANDIN_CONFIG).serve_in_thread() as running:
        yield running


@pytest.fixture(name='standin')
def standin_fixture(standin_server):
    lab_call(standin_server, 'POST', 'reset')
    return standin_server


def lab_call(running, method, what):
    answer = requests.request(method, '%s/_lab/%s' % (running.url, what), timeout=5)
    assert answer.status_code < 300, answer.text
    return answer.json()


def lab_requests(running):
    """``METHOD path`` of each API request the stand-in saw."""
    return ['%s %s' % (entry['method'], entry['path'].split('?')[0]) for entry in lab_call(running, 'GET', 'requests')]


def on_standin(running, check_mode=False, **args):
    options = {'api_url': running.url, 'api_token': LAB_TOKEN, 'uuid': LAB_APP, 'poll_interval': 0.02, 'poll_max_interval': 0.1,
               'wait_timeout': 30}
    options.update(args)
    if check_mode:
        options['_ansible_check_mode'] = True
    return run_main(coolify_deploy.main, options)


def test_standin_deploy_commit_then_idempotent(standin, results):
    assert on_standin(standin, commit=V1) == 0
    first = results[-1]
    assert (first['changed'], first['status'], first['commit']) == (True, 'finished', V1)
    assert first['application']['git_commit_sha'] == V1 and first['application']['status'] == 'running:healthy'
    assert first['duration'] is not None and first['duration'] >= 0
    assert on_standin(standin, commit=V1) == 0
    second = results[-1]
    assert (second['changed'], second['status'], second['would_deploy']['mode']) == (False, 'skipped', 'skip')
    assert 'already runs %s' % V1 in second['message']
    assert [c for c in lab_requests(standin) if not c.startswith('GET')] == ['PATCH /api/v1/applications/' + LAB_APP, 'POST /api/v1/deploy']


def test_standin_failed_release_fails_with_logs_then_rollback_previous(standin, results):
    assert on_standin(standin, commit=V1) == 0
    assert on_standin(standin, commit=V11) == 0
    # HEAD is v2, which is unhealthy: the deployment fails and says why.
    assert on_standin(standin, commit='HEAD') == 1
    failed = results[-1]
    assert failed['status'] == 'failed' and failed['commit'] == V2
    assert failed['msg'] == 'Deployment %s of application lab1 failed: New container is not healthy, rolling back to the old container.' % (
        failed['deployment_uuid'])
    assert 'Container claudebox-web is unhealthy.' in failed['logs_tail']
    # v1.1 still runs healthy after the failed v2: rolling back to "previous" (v1.1) has nothing to do.
    assert on_standin(standin, rollback='previous') == 0
    assert (results[-1]['changed'], results[-1]['commit']) == (False, V11)
    # redeploy=True rolls back to it all the same, through the rollback endpoint (its image exists).
    assert on_standin(standin, rollback='previous', redeploy=True) == 0
    assert (results[-1]['changed'], results[-1]['status'], results[-1]['commit']) == (True, 'finished', V11)
    assert results[-1]['would_deploy']['method'] == 'rollback_api'


def test_standin_rollback_previous_uses_the_rollback_endpoint(standin, results):
    assert on_standin(standin, commit=V1) == 0
    assert on_standin(standin, commit=V11) == 0
    before = len(lab_requests(standin))
    assert on_standin(standin, rollback='previous') == 0
    result = results[-1]
    assert (result['changed'], result['status'], result['commit']) == (True, 'finished', V1)
    assert result['would_deploy']['method'] == 'rollback_api'
    writes = [c for c in lab_requests(standin)[before:] if not c.startswith('GET')]
    assert writes == ['POST /api/v1/applications/%s/rollback' % LAB_APP]
    history = requests.get('%s/api/v1/deployments/applications/%s' % (standin.url, LAB_APP),
                           headers={'Authorization': 'Bearer ' + LAB_TOKEN}, timeout=5).json()
    assert history['deployments'][0]['rollback'] is True


def test_standin_check_mode_makes_no_write_call(standin, results):
    assert on_standin(standin, commit=V1) == 0
    assert on_standin(standin, commit=V11) == 0
    before = len(lab_requests(standin))
    for args in ({'rollback': 'previous'}, {'commit': V1}, {'commit': 'HEAD'}, {}):
        assert on_standin(standin, check_mode=True, **args) == 0
        assert results[-1]['changed'] is True
    assert results[-4]['would_deploy'] == {'mode': 'rollback', 'commit': V1, 'method': 'rollback_api', 'update': {}, 'applications': ['lab1']}
    seen = lab_requests(standin)[before:]
    assert seen and all(c.startswith('GET ') for c in seen)


def test_standin_wrong_tokens_are_clear_and_never_shown(standin, results):
    assert on_standin(standin, api_token=READ_ONLY) == 1
    assert results[-1]['msg'] == 'Failed to deploy application %s: HTTP 403: Missing required permissions: deploy' % LAB_APP
    assert on_standin(standin, api_token='9|notAtokenTheStandInKnows') == 1
    assert results[-1]['msg'] == 'Failed to read application %s: HTTP 401: Unauthenticated.' % LAB_APP
    dumped = json.dumps(results)
    for secret in (READ_ONLY, '9|notAtokenTheStandInKnows', 'notAtokenTheStandInKnows', READ_ONLY.split('|')[1]):
        assert secret not in dumped

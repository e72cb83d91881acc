# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coolify client: pure helpers with plain dicts, and the client against recorded, spec-shaped answers.

The answers are JSON files in tests/unit/plugins/modules/fixtures/coolify/, written from
/work/shared/specs/README.md section 1 and coolify-openapi.json, and served by ScriptedCoolify,
a tiny HTTP server on loopback (also used by the coolify_* module tests).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os
import socket

from urllib.parse import parse_qsl, urlsplit

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _coolify as cf
from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import DROP, Origin

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'modules', 'fixtures', 'coolify')
TOKEN = '3|coolifyUNITtokenSECRET0123456789'
APP = 'vgsco4o8k0wgsk4ok0gc0s0g'
C1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
C2 = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890'
C3 = 'c3d4e5f60718293a4b5c6d7e8f90123456789012'
DEP = 'zwkcc8s0g8g04wc8w8so4c44'


def load(name):
    """A recorded answer (a fresh copy each time)."""
    with open(os.path.join(FIXTURES, name + '.json')) as handle:
        return json.load(handle)


class ScriptedCoolify(Origin):
    """An HTTP server on loopback that answers Coolify API paths from a script.

    ``answer(method, path, *answers)``: each answer is ``(status, body[, headers])`` - body a dict or list
    (sent as JSON), a str (sent as text/html), or DROP (the connection is closed without an answer) -
    used in turn, the last one repeating. Every request is kept in ``requests`` as
    ``(method, path, query dict, JSON body or None, headers dict)``. Unscripted paths answer Coolify's 404.
    Serves from creation until ``close()``.
    """

    def __init__(self):
        self.script = {}
        Origin.__init__(self, self.answer_from_script)
        self.__enter__()

    @staticmethod
    def api_path(path):
        path = urlsplit(path).path
        return path[len('/api/v1'):] if path.startswith('/api/v1') else path

    def record(self, method, path, headers, body):
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode('utf-8', 'replace')
        self.requests.append((method, self.api_path(path), dict(parse_qsl(urlsplit(path).query)), parsed, dict(headers)))

    def answer_from_script(self, method, path, headers, body):
        answers = self.script.get((method, self.api_path(path)))
        if not answers:
            answer = (404, {'message': 'Not found.', 'docs': 'https://coolify.io/docs'})
        elif len(answers) > 1:
            answer = answers.pop(0)
        else:
            answer = answers[0]
        status, payload = answer[0], answer[1]
        extra = answer[2] if len(answer) > 2 else {}
        if payload is DROP:
            return status, {}, DROP
        if isinstance(payload, (dict, list)):
            return status, dict({'Content-Type': 'application/json'}, **extra), json.dumps(payload)
        return status, dict({'Content-Type': 'text/html; charset=UTF-8'}, **extra), str(payload)

    def answer(self, method, path, *answers):
        self.script[(method, path)] = list(answers)
        return self

    def calls(self, method=None):
        """``METHOD path`` of each request received, optionally only those of one method."""
        return ['%s %s' % (m, p) for (m, p, _q, _b, _h) in self.requests if method is None or m == method]

    def writes(self):
        return [c for c in self.calls() if not c.startswith('GET ')]

    def close(self):
        self.__exit__(None, None, None)


def standard_app(server, version='4.3.10', app=None, history=None):
    """Script a healthy application with its history, version and rollback images."""
    server.answer('GET', '/version', (200, version))
    server.answer('GET', '/applications/' + APP, (200, app or load('application')))
    server.answer('GET', '/deployments/applications/' + APP, (200, history or load('deployments')))
    server.answer('GET', '/applications/%s/rollback-images' % APP, (200, load('rollback_images')))
    return server


@pytest.fixture
def scripted():
    server = ScriptedCoolify()
    yield server
    server.close()


def client_for(server, **kwargs):
    options = dict(timeout=5, retries=2, backoff_factor=0.01, backoff_max=0.05)
    options.update(kwargs)
    return cf.CoolifyClient(server.url, TOKEN, **options)


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize('url, expected', [
    ('https://coolify.example.com', 'https://coolify.example.com/api/v1'),
    ('https://coolify.example.com/', 'https://coolify.example.com/api/v1'),
    ('https://coolify.example.com/api', 'https://coolify.example.com/api/v1'),
    ('http://127.0.0.1:17001/api/v1/', 'http://127.0.0.1:17001/api/v1'),
])
def test_api_url(url, expected):
    assert cf.api_url(url) == expected


@pytest.mark.parametrize('status, expected', [
    ('running:healthy', ('running', 'healthy')),
    ('running:unhealthy', ('running', 'unhealthy')),
    ('exited', ('exited', 'unknown')),
    ('degraded:unhealthy', ('degraded', 'unhealthy')),
    ('', ('unknown', 'unknown')),
    (None, ('unknown', 'unknown')),
])
def test_parse_status(status, expected):
    assert cf.parse_status(status) == expected
    assert cf.is_healthy(status) is (expected == ('running', 'healthy'))


@pytest.mark.parametrize('version, rollback_api', [
    ('4.3.10', True), ('4.3.0', True), ('v4.4.0', True), ('5.0', True), ('4.4-rc.1', True),
    ('4.3.0-beta.2', False), ('4.2.9', False), ('4.0.0-beta.474', False), ('garbage', False), ('', False),
])
def test_rollback_api_from_version(version, rollback_api):
    assert cf.has_rollback_api(version) is rollback_api


def test_parse_version_orders_prereleases_first():
    assert cf.parse_version('4.0.0-beta.474') < cf.parse_version('4.0.0') < cf.parse_version('4.0.1')
    assert cf.parse_version('nope') is None


@pytest.mark.parametrize('one, other, same', [
    (C1, C1, True), (C1, C1[:7], True), (C1[:7].upper(), C1, True), (C1, C1[:6], False),
    (C1, C2, False), ('HEAD', 'HEAD', True), ('1.4.0', '1.4', False), (None, C1, False),
])
def test_same_commit(one, other, same):
    assert cf.same_commit(one, other) is same


def test_previous_commit_skips_failed_cancelled_and_the_current_commit():
    history = load('deployments')['deployments']  # C3 failed, C2 finished, C1 cancelled, C1 finished
    assert cf.previous_commit(history) == C2
    # The newest finished release C2 is current: previous is C1, whose cancelled run is skipped.
    assert cf.previous_commit(history[1:]) == C1
    assert cf.previous_commit(history, current=C1) == C2
    assert cf.previous_commit(history[1:], current=C2[:8]) == C1


def test_previous_commit_none_without_another_finished_commit():
    history = load('deployments')['deployments']
    assert cf.previous_commit(history[3:]) is None
    assert cf.previous_commit([]) is None
    head = dict(history[1], commit='HEAD')
    assert cf.previous_commit([history[3], head]) is None


def test_newest_finished():
    history = load('deployments')['deployments']
    assert cf.newest_finished(history)['deployment_uuid'] == 'dep2finishedxxxxxxxxxxxx'
    assert cf.newest_finished(history[:1]) is None


def test_logs_tail_orders_entries_drops_hidden_and_splits_lines():
    logs = load('deployment_failed')['logs']
    assert cf.logs_tail(logs, 30) == ['Starting deployment.', 'New container started.', 'Healthcheck: unhealthy',
                                      'Deployment failed. Removing the new version of your application.']
    assert cf.logs_tail(logs, 2) == ['Healthcheck: unhealthy', 'Deployment failed. Removing the new version of your application.']
    assert cf.logs_tail(logs, 0) == []
    assert cf.logs_tail(None) == [] and cf.logs_tail('') == []
    assert cf.logs_tail('plain text\nnot json') == ['plain text', 'not json']


def test_failure_line_prefers_the_last_error_line():
    logs = [{'output': 'Container web is unhealthy.', 'type': 'stderr', 'order': 1},
            {'output': 'rolling back', 'type': 'stderr', 'hidden': True, 'order': 2},
            {'output': 'Deployment failed.', 'type': 'stdout', 'order': 3}]
    assert cf.failure_line(json.dumps(logs)) == 'Container web is unhealthy.'
    assert cf.failure_line(logs[2:]) == 'Deployment failed.'
    assert cf.failure_line(load('deployment_failed')['logs']) == 'Deployment failed. Removing the new version of your application.'
    assert cf.failure_line(None) is None


def test_deployment_duration_and_time_parsing():
    assert cf.deployment_duration(load('deployment_finished')) == 42.5
    assert cf.parse_time('2026-02-01T12:00:00+01:00') == cf.parse_time('2026-02-01T11:00:00Z')
    assert cf.parse_time('2026-02-01 11:00:00') == cf.parse_time('2026-02-01T11:00:00.000000Z')
    assert cf.parse_time('yesterday') is None
    assert cf.deployment_duration({'created_at': '2026-02-01T12:00:00Z'}) is None


def test_poll_intervals_back_off_to_the_maximum():
    waits = cf.poll_intervals(2, 10)
    assert [next(waits) for dummy in range(7)] == [2, 3, 4.5, 6.75, 10, 10, 10]


@pytest.mark.parametrize('status, body, expected', [
    (403, '{"message":"Missing required permissions: deploy"}', 'HTTP 403: Missing required permissions: deploy'),
    (401, '{"message":"Unauthenticated."}', 'HTTP 401: Unauthenticated.'),
    (400, '{"message":"Invalid request.","error":"Content-Type must be application/json."}',
     'HTTP 400: Invalid request: Content-Type must be application/json.'),
    (422, '{"message":"Validation failed.","errors":{"git_commit_sha":["This field is not allowed."]}}',
     'HTTP 422: Validation failed: git_commit_sha: This field is not allowed.'),
    (502, '<html>Bad gateway</html>', 'HTTP 502: <html>Bad gateway</html>'),
    (500, '', 'HTTP 500: (empty body)'),
    (None, None, 'fallback'),
])
def test_error_cause(status, body, expected):
    assert cf.error_cause(status, body, 'fallback') == expected


# --------------------------------------------------------------------------- the client, recorded answers


def test_reads_version_application_history_and_images(scripted):
    standard_app(scripted)
    client = client_for(scripted)
    assert client.version() == '4.3.10'
    assert client.application(APP)['name'] == 'web'
    count, deployments = client.deployments(APP, take=4)
    assert count == 4 and deployments[0]['status'] == 'failed'
    assert client.rollback_images(APP)['images'][1]['tag'] == C2
    method, path, query, _body, headers = scripted.requests[2]
    assert (method, path, query) == ('GET', '/deployments/applications/' + APP, {'take': '4', 'skip': '0'})
    assert headers['Authorization'] == 'Bearer ' + TOKEN


def test_history_as_a_bare_array_is_accepted(scripted):
    scripted.answer('GET', '/deployments/applications/' + APP, (200, load('deployments')['deployments']))
    assert client_for(scripted).deployments(APP)[0] == 4


def test_deploy_posts_json_and_sends_force_only_when_true(scripted):
    scripted.answer('POST', '/deploy', (200, load('deploy_queued')))
    client = client_for(scripted)
    queued = client.deploy(uuid=APP)
    client.deploy(uuid=APP, force=True)
    assert queued == [{'message': 'Application web deployment queued.', 'resource_uuid': APP, 'deployment_uuid': DEP}]
    assert [r[3] for r in scripted.requests] == [{'uuid': APP}, {'uuid': APP, 'force': True}]
    assert all(r[4]['Content-Type'] == 'application/json' for r in scripted.requests)


def test_deploy_by_tag_pairs_details_and_messages(scripted):
    scripted.answer('POST', '/deploy', (200, load('deploy_by_tag')))
    queued = client_for(scripted).deploy(tag='production')
    assert [q['deployment_uuid'] for q in queued] == ['tagdep1xxxxxxxxxxxxxxxxx', 'tagdep2xxxxxxxxxxxxxxxxx']
    assert queued[1]['message'] == 'Application bot deployment queued.'
    assert scripted.requests[0][3] == {'tag': 'production'}


@pytest.mark.parametrize('status, fixture, method, expected', [
    (401, 'unauthenticated', 'version', 'Failed to read the Coolify version: HTTP 401: Unauthenticated.'),
    (403, 'missing_deploy', 'deploy', 'Failed to deploy application %s: HTTP 403: Missing required permissions: deploy' % APP),
    (404, 'app_not_found', 'application', 'Failed to read application %s: HTTP 404: Application not found.' % APP),
    (422, 'validation_failed', 'update', 'Failed to update application web (git_commit_sha): HTTP 422: Validation failed: '
     'git_commit_sha: The git commit sha field format is invalid.'),
    (400, 'content_type', 'deploy', 'Failed to deploy application %s: HTTP 400: Invalid request: Content-Type must be application/json.' % APP),
])
def test_errors_use_the_body_message(scripted, status, fixture, method, expected):
    for verb, path in (('GET', '/version'), ('POST', '/deploy'), ('GET', '/applications/' + APP), ('PATCH', '/applications/' + APP)):
        scripted.answer(verb, path, (status, load(fixture)))
    client = client_for(scripted)
    call = {'version': client.version, 'deploy': lambda: client.deploy(uuid=APP), 'application': lambda: client.application(APP),
            'update': lambda: client.update_application(APP, {'git_commit_sha': 'bad sha'}, name='web')}[method]
    with pytest.raises(cf.CoolifyError) as info:
        call()
    assert str(info.value) == expected
    assert info.value.status == status
    assert TOKEN not in repr(info.value.__dict__)
    assert len(scripted.requests) == 1


def test_429_on_deploy_waits_retry_after_then_deploys_once(scripted, retry_sleeps):
    scripted.answer('POST', '/deploy', (429, load('queue_full'), {'Retry-After': '1'}), (200, load('deploy_queued')))
    queued = client_for(scripted).deploy(uuid=APP)
    assert queued[0]['deployment_uuid'] == DEP
    assert scripted.calls() == ['POST /deploy', 'POST /deploy']
    assert retry_sleeps == [1]


def test_429_retry_after_is_capped(scripted, retry_sleeps):
    # Coolify says 60 s; the transport waits at most retry_after_max.
    scripted.answer('POST', '/deploy', (429, load('queue_full'), {'Retry-After': '60'}), (200, load('deploy_queued')))
    client_for(scripted, retry_after_max=0.5).deploy(uuid=APP)
    assert retry_sleeps == [0.5]
    assert len(scripted.requests) == 2


def test_5xx_is_retried_for_reads(scripted):
    scripted.answer('GET', '/applications/' + APP, (503, load('server_error')), (502, 'Bad gateway'), (200, load('application')))
    assert client_for(scripted).application(APP)['uuid'] == APP
    assert len(scripted.requests) == 3


def test_5xx_on_deploy_is_not_repeated(scripted):
    scripted.answer('POST', '/deploy', (503, load('server_error')), (200, load('deploy_queued')))
    with pytest.raises(cf.CoolifyError) as info:
        client_for(scripted).deploy(uuid=APP)
    assert str(info.value) == 'Failed to deploy application %s: HTTP 503: Server Error' % APP
    assert scripted.calls() == ['POST /deploy']


def test_dropped_answer_on_deploy_is_not_repeated_but_a_read_is(scripted):
    scripted.answer('POST', '/deploy', (200, DROP), (200, load('deploy_queued')))
    scripted.answer('GET', '/applications/' + APP, (200, DROP), (200, load('application')))
    client = client_for(scripted)
    with pytest.raises(cf.CoolifyError) as info:
        client.deploy(uuid=APP)
    assert str(info.value).startswith('Failed to deploy application %s: POST http://127.0.0.1' % APP)
    assert client.application(APP)['name'] == 'web'
    assert scripted.calls() == ['POST /deploy', 'GET /applications/' + APP, 'GET /applications/' + APP]


def test_patch_is_retried_after_5xx(scripted):
    scripted.answer('PATCH', '/applications/' + APP, (502, 'Bad gateway'), (200, load('patched')))
    assert client_for(scripted).update_application(APP, {'git_commit_sha': C2}) == {'uuid': APP}
    assert scripted.calls() == ['PATCH /applications/' + APP] * 2
    assert scripted.requests[1][3] == {'git_commit_sha': C2}


def test_connection_refused_is_a_clear_error():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    client = cf.CoolifyClient('http://127.0.0.1:%d' % port, TOKEN, timeout=2, retries=1, backoff_factor=0.01)
    with pytest.raises(cf.CoolifyError) as info:
        client.version()
    assert str(info.value).startswith('Failed to read the Coolify version: GET http://127.0.0.1:%d/api/v1/version failed: ' % port)
    assert str(info.value).endswith('(Connection refused)')
    assert info.value.status is None


def test_timeout_is_a_clear_error():
    # A server that accepts the connection and never answers.
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(5)
    try:
        client = cf.CoolifyClient('http://127.0.0.1:%d' % listener.getsockname()[1], TOKEN, timeout=0.3, retries=0)
        with pytest.raises(cf.CoolifyError) as info:
            client.application(APP)
        assert 'Failed to read application %s' % APP in str(info.value)
        assert 'no answer within 0.3 seconds' in str(info.value)
    finally:
        listener.close()


def test_malformed_json_is_a_clear_error(scripted):
    scripted.answer('GET', '/applications/' + APP, (200, '{"uuid": "vgsco4'))
    with pytest.raises(cf.CoolifyError) as info:
        client_for(scripted).application(APP)
    assert str(info.value).startswith('Failed to read application %s: GET http://127.0.0.1' % APP)
    assert 'with a body that is not JSON' in str(info.value)


def test_wrong_json_shape_is_a_clear_error(scripted):
    scripted.answer('GET', '/applications/' + APP, (200, ['not', 'an', 'object']))
    with pytest.raises(cf.CoolifyError, match='expected a JSON object'):
        client_for(scripted).application(APP)


def test_wait_for_polls_until_the_end_with_backoff(scripted):
    scripted.answer('GET', '/deployments/' + DEP, (200, load('deployment_in_progress')), (200, load('deployment_in_progress')),
                    (200, load('deployment_finished')))
    sleeps = []
    seen, timed_out = client_for(scripted).wait_for([DEP], 60, 2, 10, sleep=sleeps.append)
    assert timed_out is False
    assert seen[DEP]['status'] == 'finished'
    assert sleeps == [2, 3]


def test_wait_for_times_out_with_the_last_status(scripted):
    scripted.answer('GET', '/deployments/' + DEP, (200, load('deployment_in_progress')))
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    seen, timed_out = client_for(scripted).wait_for([DEP], 10, 2, 10, sleep=sleep, clock=lambda: now[0])
    assert timed_out is True
    assert seen[DEP]['status'] == 'in_progress'
    # Polls at 0, 2, 5, 9.5 and at the deadline (10).
    assert len(scripted.requests) == 5


def test_token_never_in_errors(scripted):
    scripted.answer('GET', '/version', (401, {'message': 'Unauthenticated.', 'echo': TOKEN}))
    with pytest.raises(cf.CoolifyError) as info:
        client_for(scripted).version()
    assert TOKEN not in str(info.value)
    assert TOKEN.split('|')[1] not in str(info.value)


# --------------------------------------------------------------------------- planning


class _Reader(object):
    """Just enough of a client for plan_deploy, answering from fixtures and recording what was asked."""

    def __init__(self, version='4.3.10', history=None, images=None):
        self._version = version
        self._history = history if history is not None else load('deployments')['deployments']
        self._images = images if images is not None else load('rollback_images')['images']
        self.asked = []

    def deployments(self, uuid, take=10, skip=0):
        self.asked.append('deployments')
        return len(self._history), copy.deepcopy(self._history)

    def version(self):
        self.asked.append('version')
        return self._version

    def rollback_images(self, uuid):
        self.asked.append('rollback_images')
        return {'current': None, 'images': self._images}


def finished_history():
    """C3 finished (current), C2 finished, C1 cancelled, C1 finished."""
    history = load('deployments')['deployments']
    history[0]['status'] = 'finished'
    return history


def test_plan_bare_deploy_reads_nothing_more():
    reader = _Reader()
    plan = cf.plan_deploy(reader, load('application'))
    assert plan == {'mode': 'deploy', 'commit': 'HEAD', 'method': 'deploy', 'update': {}, 'applications': ['web']}
    assert reader.asked == []


def test_plan_rollback_previous_on_43_uses_the_rollback_api():
    reader = _Reader(history=finished_history())
    plan = cf.plan_deploy(reader, load('application'), rollback='previous')
    assert (plan['mode'], plan['method'], plan['commit'], plan['update']) == ('rollback', 'rollback_api', C2, {})


def test_plan_rollback_before_43_pins_and_deploys():
    reader = _Reader(version='4.2.1', history=finished_history())
    plan = cf.plan_deploy(reader, load('application'), rollback='previous')
    assert (plan['mode'], plan['method'], plan['update']) == ('rollback', 'deploy', {'git_commit_sha': C2})
    assert 'rollback_images' not in reader.asked


def test_plan_rollback_without_image_fails_clearly():
    reader = _Reader(history=finished_history())
    with pytest.raises(cf.CoolifyError) as info:
        cf.plan_deploy(reader, load('application'), rollback=C1[:8])
    assert str(info.value) == ('Failed to roll back application web to %s: Coolify has no image built from that commit '
                               '(rollback images: %s, %s)' % (C1[:8], C3, C2))


def test_plan_rollback_short_sha_resolves_to_the_image_tag():
    plan = cf.plan_deploy(_Reader(history=finished_history()), load('application'), rollback=C2[:10])
    assert plan['commit'] == C2


def test_plan_skips_when_the_target_already_runs_healthy():
    # C3 failed on top of C2: C2 is what runs, healthy, so rolling back to previous (C2) does nothing.
    plan = cf.plan_deploy(_Reader(), load('application'), rollback='previous')
    assert plan['mode'] == 'skip' and plan['update'] == {}
    assert 'already runs %s (deployment dep2finishedxxxxxxxxxxxx)' % C2 in plan['message']


def test_plan_commit_already_running_pins_without_deploying():
    plan = cf.plan_deploy(_Reader(), load('application'), commit=C2)
    assert (plan['mode'], plan['update']) == ('skip', {'git_commit_sha': C2})


def test_plan_redeploy_or_unhealthy_deploys_again():
    app = load('application')
    assert cf.plan_deploy(_Reader(), app, commit=C2, redeploy=True)['mode'] == 'deploy'
    app['status'] = 'running:unhealthy'
    assert cf.plan_deploy(_Reader(), app, commit=C2)['mode'] == 'deploy'


def test_plan_commit_head_unpins_and_always_deploys():
    app = load('application')
    app['git_commit_sha'] = C2
    plan = cf.plan_deploy(_Reader(), app, commit='HEAD')
    assert (plan['mode'], plan['update']) == ('deploy', {'git_commit_sha': 'HEAD'})


def test_plan_no_previous_commit_fails():
    with pytest.raises(cf.CoolifyError, match='no finished deployment with another commit in its last 20 deployments'):
        cf.plan_deploy(_Reader(history=load('deployments')['deployments'][3:]), load('application'), rollback='previous')


def test_plan_docker_image_app():
    app = load('application_dockerimage')
    plan = cf.plan_deploy(_Reader(), app, docker_tag='1.5.0')
    assert (plan['mode'], plan['update']) == ('deploy', {'docker_registry_image_tag': '1.5.0'})
    rollback = cf.plan_deploy(_Reader(), app, rollback='1.3.9')
    assert (rollback['mode'], rollback['method'], rollback['update']) == ('rollback', 'deploy', {'docker_registry_image_tag': '1.3.9'})
    with pytest.raises(cf.CoolifyError, match='name the image tag'):
        cf.plan_deploy(_Reader(), app, rollback='previous')
    with pytest.raises(cf.CoolifyError, match='docker_tag is for Docker image applications'):
        cf.plan_deploy(_Reader(), load('application'), docker_tag='1.5.0')


def test_cancel_unfinished_cancels_reads_again_and_reports_what_it_could_not(scripted):
    """Issue 11 item 4: a deployment that outlived the wait is cancelled; one that ended meanwhile is read as it ended."""
    other = 'othr0gc0s0gvgsco4o8k0wgs'
    gone = 'gone0gc0s0gvgsco4o8k0wgs'
    scripted.answer('POST', '/deployments/%s/cancel' % DEP, (200, {'message': 'Deployment cancelled successfully.', 'deployment_uuid': DEP}))
    scripted.answer('GET', '/deployments/' + DEP, (200, dict(load('deployment_in_progress'), status='cancelled-by-user')))
    scripted.answer('POST', '/deployments/%s/cancel' % other, (400, {'message': 'Deployment cannot be cancelled. Current status: finished'}))
    scripted.answer('GET', '/deployments/' + other, (200, dict(load('deployment_finished'), deployment_uuid=other)))
    seen = {}
    cancelled, problems = client_for(scripted).cancel_unfinished([DEP, other, gone], seen)
    assert cancelled == [DEP]
    assert seen[DEP]['status'] == 'cancelled-by-user' and seen[other]['status'] == 'finished' and gone not in seen
    assert problems == ['Failed to cancel deployment %s: HTTP 404: Not found.' % gone]
    assert [r[1] for r in scripted.requests if r[0] == 'POST'] == ['/deployments/%s/cancel' % u for u in (DEP, other, gone)]


def test_a_cancel_coolify_took_counts_even_when_the_deployment_cannot_be_read_again(scripted):
    scripted.answer('POST', '/deployments/%s/cancel' % DEP,
                    (200, {'message': 'Deployment cancelled successfully.', 'deployment_uuid': DEP, 'status': 'cancelled-by-user'}))
    scripted.answer('GET', '/deployments/' + DEP, (404, {'message': 'Deployment not found.'}))
    seen = {DEP: load('deployment_in_progress')}
    assert client_for(scripted).cancel_unfinished([DEP], seen) == ([DEP], [])
    assert seen[DEP]['status'] == 'cancelled-by-user' and seen[DEP]['deployment_uuid'] == DEP

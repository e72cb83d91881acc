# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""coolify_application: the comparison with plain dicts, and the module against the Coolify stand-in (simulated engine)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _coolify as cf
from ansible_collections.clawd.ops.plugins.modules import coolify_application

requests = pytest.importorskip('requests')
from standins.coolify import CoolifyStandIn  # noqa: E402 pylint: disable=wrong-import-position,wrong-import-order

ROOT = '7|appROOTtoken0123456789abcdef'
SERVER = 'appserver000000000000001'
SHA = '1a' * 20
CONFIG = {
    'tokens': [{'token': ROOT, 'abilities': ['root']}],
    'version': '4.3.10', 'engine': 'simulated', 'simulated_step_seconds': 0.01,
    'applications': [{'uuid': 'otherapp0000000000000001', 'name': 'other', 'fqdn': 'https://taken.example.com', 'services': []}],
    'servers': [{'uuid': SERVER, 'name': 'tenant-host', 'ip': '127.0.1.9', 'application': {'base_image': 'x', 'services': []}}],
    'commits': {'main': [{'sha': SHA, 'message': 'v1', 'env': {}}]},
}
WANTED = {'server_uuid': SERVER, 'name': 'acme', 'git_repository': 'https://github.com/example/app.git',
          'git_branch': 'main', 'build_pack': 'dockerfile', 'ports_exposes': '8080', 'domains': 'https://acme.example.com',
          'health_check_path': '/health', 'pre_deployment_command': 'true', 'post_deployment_command': 'echo done'}


def want(project, **changes):
    """The module's options for the tenant's application in ``project``, with ``changes``."""
    options = dict(WANTED)
    options.update(changes)
    options['project_uuid'] = project
    return options


def test_normalize_and_drift_with_plain_dicts():
    assert coolify_application.normalize('domains', 'https://B.example.com/, https://a.example.com') == 'https://a.example.com,https://b.example.com'
    for same in ('https://github.com/o/r.git', 'github.com/o/r', 'o/r', 'https://github.com/o/r/'):
        assert coolify_application.normalize('git_repository', same) == 'o/r'
    current = {'fqdn': 'https://acme.example.com', 'git_branch': 'main', 'ports_exposes': '8080', 'health_check_path': '/health'}
    wanted = {'domains': 'https://ACME.example.com/', 'git_branch': 'next', 'ports_exposes': '8080', 'health_check_path': None}
    assert coolify_application.drift(current, wanted) == {'git_branch': ('main', 'next')}


@pytest.fixture(name='standin_server', scope='module')
def standin_server_fixture():
    with CoolifyStandIn(config=CONFIG).serve_in_thread() as running:
        yield running


@pytest.fixture(name='standin')
def standin_fixture(standin_server):
    requests.post(standin_server.url + '/_lab/reset', timeout=5).raise_for_status()
    return standin_server


@pytest.fixture(name='project')
def project_fixture(standin):
    resp = requests.post(standin.url + '/api/v1/projects', json={'name': 'tenant-acme'}, headers={'Authorization': 'Bearer ' + ROOT}, timeout=5)
    return resp.json()['uuid']


def writes(running):
    log = requests.get(running.url + '/_lab/requests', timeout=5).json()
    return ['%s %s' % (e['method'], e['path'].split('?')[0]) for e in log if e['method'] not in ('GET',)]


def clear_log(running):
    requests.delete(running.url + '/_lab/requests', timeout=5)


def run(running, check_mode=False, **args):
    options = {'api_url': running.url, 'api_token': ROOT}
    options.update(args)
    if check_mode:
        options['_ansible_check_mode'] = True
    return run_main(coolify_application.main, options)


def test_create_four_times_check_real_check_real(standin, project, results):
    wanted = want(project)
    clear_log(standin)
    assert run(standin, check_mode=True, **wanted) == 0
    assert (results[-1]['changed'], results[-1]['created'], results[-1]['uuid']) == (True, True, None)
    assert results[-1]['diff']['after']['fqdn'] == 'https://acme.example.com'
    assert writes(standin) == []
    assert run(standin, **wanted) == 0
    created = results[-1]
    assert created['changed'] and created['created'] and created['uuid']
    assert created['application']['health_check_path'] == '/health'
    assert writes(standin) == ['POST /api/v1/applications/public']
    clear_log(standin)
    assert run(standin, check_mode=True, **wanted) == 0
    assert (results[-1]['changed'], results[-1]['uuid']) == (False, created['uuid'])
    assert run(standin, **wanted) == 0
    assert (results[-1]['changed'], results[-1]['changed_fields']) == (False, [])
    assert writes(standin) == []


def test_an_emptied_command_is_cleared_once_then_unchanged(standin, project, results):
    wanted = want(project, post_deployment_command_container='claudebox-web')
    assert run(standin, **wanted) == 0
    wanted.update(post_deployment_command='', post_deployment_command_container='')
    assert run(standin, **wanted) == 0
    assert results[-1]['changed_fields'] == ['post_deployment_command', 'post_deployment_command_container']
    assert results[-1]['application']['post_deployment_command'] is None
    assert run(standin, **wanted) == 0
    assert results[-1]['changed'] is False


@pytest.mark.parametrize('field,value,read', [
    ('domains', 'https://acme2.example.com', 'fqdn'),
    ('git_repository', 'https://github.com/example/other', 'git_repository'),
    ('git_branch', 'release', 'git_branch'),
    ('ports_exposes', '8080,8081', 'ports_exposes'),
    ('health_check_path', '/ready', 'health_check_path'),
    ('pre_deployment_command', 'echo before', 'pre_deployment_command'),
    ('post_deployment_command', 'echo after', 'post_deployment_command'),
    ('pre_deployment_command_container', 'telegram-bot', 'pre_deployment_command_container'),
    ('post_deployment_command_container', 'claudebox-web', 'post_deployment_command_container'),
])
def test_drift_in_each_managed_field_is_patched(standin, project, results, field, value, read):
    wanted = want(project)
    assert run(standin, **wanted) == 0
    clear_log(standin)
    wanted[field] = value
    assert run(standin, check_mode=True, **wanted) == 0
    assert (results[-1]['changed'], results[-1]['changed_fields']) == (True, [field])
    assert results[-1]['diff']['after'][read] == value
    assert writes(standin) == []
    assert run(standin, **wanted) == 0
    assert results[-1]['application'][read] == value
    assert writes(standin) == ['PATCH /api/v1/applications/%s' % results[-1]['uuid']]
    assert run(standin, **wanted) == 0
    assert results[-1]['changed'] is False


def test_taken_domain_fails_with_the_conflict(standin, project, results):
    assert run(standin, **want(project, domains='https://taken.example.com')) == 1
    assert results[-1]['msg'] == ('Failed to create application acme: HTTP 409: Domain conflicts detected. Use force_domain_override=true '
                                  "to proceed.: Domain taken.example.com is already in use by application 'other'")
    assert results[-1]['status_code'] == 409


def test_refused_field_fails_with_the_field_error(standin, project, results):
    assert run(standin, **want(project, ports_exposes='eighty')) == 1
    assert results[-1]['msg'] == ('Failed to create application acme: HTTP 422: Validation failed: '
                                  'ports_exposes: The ports exposes field format is invalid.')


def test_create_needs_server_and_ports(standin, project, results):
    assert run(standin, project_uuid=project, name='acme', git_repository='o/r', git_branch='main', build_pack='dockerfile') == 1
    assert results[-1]['msg'] == 'Failed to create application acme: server_uuid, ports_exposes are needed to create it'


def test_unknown_environment_fails(standin, project, results):
    assert run(standin, **want(project, environment='staging')) == 1
    assert 'project %s has no environment staging' % project in results[-1]['msg']


def test_absent_keeps_volumes_unless_asked_and_is_harmless_twice(standin, project, results, monkeypatch):
    removed = []
    monkeypatch.setattr(standin.standin.engine, 'remove', lambda app, ctx, delete_volumes=False: removed.append(delete_volumes))
    wanted = want(project)
    assert run(standin, **wanted) == 0
    uuid = results[-1]['uuid']
    clear_log(standin)
    assert run(standin, check_mode=True, state='absent', name='acme', project_uuid=project) == 0
    assert (results[-1]['changed'], results[-1]['deleted']) == (True, True)
    assert writes(standin) == []
    assert run(standin, state='absent', uuid=uuid) == 0
    assert (results[-1]['changed'], results[-1]['deleted'], removed) == (True, True, [False])
    assert writes(standin) == ['DELETE /api/v1/applications/%s' % uuid]
    assert run(standin, state='absent', uuid=uuid) == 0
    assert results[-1]['changed'] is False
    assert run(standin, **wanted) == 0
    assert run(standin, state='absent', name='acme', project_uuid=project, delete_volumes=True) == 0
    assert removed == [False, True]


def test_wait_gone_gives_up_after_the_timeout():
    class StillThere:
        def application(self, uuid):
            return {'uuid': uuid}
    clock, waits = iter(range(0, 100, 1)), []
    assert coolify_application.wait_gone(StillThere(), 'u', 3, sleep=waits.append, clock=lambda: next(clock)) is False
    assert waits == [1, 1]


def test_error_cause_names_the_conflicts():
    body = '{"message": "Domain conflicts detected.", "conflicts": [{"domain": "a.example.com", "message": "Domain a.example.com is used"}]}'
    assert cf.error_cause(409, body, 'x') == 'HTTP 409: Domain conflicts detected.: Domain a.example.com is used'

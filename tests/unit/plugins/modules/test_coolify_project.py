# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""coolify_project against the Coolify stand-in: check, real, idempotent check, idempotent real; environments; absent."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import coolify_project

requests = pytest.importorskip('requests')
from standins.coolify import CoolifyStandIn  # noqa: E402 pylint: disable=wrong-import-position,wrong-import-order

ROOT = '7|projROOTtoken0123456789abcdef'
CONFIG = {'tokens': [{'token': ROOT, 'abilities': ['root']}], 'engine': 'simulated', 'applications': []}


@pytest.fixture(name='standin', scope='module')
def standin_fixture():
    with CoolifyStandIn(config=CONFIG).serve_in_thread() as running:
        yield running


def writes(running):
    log = requests.get(running.url + '/_lab/requests', timeout=5).json()
    requests.delete(running.url + '/_lab/requests', timeout=5)
    return ['%s %s' % (e['method'], e['path'].split('?')[0]) for e in log if e['method'] != 'GET']


def run(running, check_mode=False, **args):
    options = {'api_url': running.url, 'api_token': ROOT}
    options.update(args)
    if check_mode:
        options['_ansible_check_mode'] = True
    return run_main(coolify_project.main, options)


def test_project_four_times_then_an_environment_then_absent(standin, results):
    writes(standin)
    assert run(standin, check_mode=True, name='tenant-a') == 0
    assert (results[-1]['changed'], results[-1]['created'], results[-1]['uuid']) == (True, True, None)
    assert writes(standin) == []
    assert run(standin, name='tenant-a', description='Tenant A') == 0
    uuid = results[-1]['uuid']
    assert [e['name'] for e in results[-1]['environments']] == ['production']
    assert writes(standin) == ['POST /api/v1/projects']
    assert run(standin, check_mode=True, name='tenant-a') == 0
    assert (results[-1]['changed'], results[-1]['uuid']) == (False, uuid)
    assert run(standin, name='tenant-a') == 0
    assert results[-1]['changed'] is False
    assert writes(standin) == []
    assert run(standin, name='tenant-a', environments=['production', 'staging']) == 0
    assert (results[-1]['changed'], results[-1]['created_environments']) == (True, ['staging'])
    assert writes(standin) == ['POST /api/v1/projects/%s/environments' % uuid]
    assert run(standin, name='tenant-a', state='absent') == 0
    assert results[-1]['changed'] is True
    assert run(standin, name='tenant-a', state='absent') == 0
    assert results[-1]['changed'] is False


def test_same_name_twice_is_refused(standin, results):
    for _attempt in range(2):
        requests.post(standin.url + '/api/v1/projects', json={'name': 'twin'}, headers={'Authorization': 'Bearer ' + ROOT}, timeout=5)
    assert run(standin, name='twin') == 1
    assert results[-1]['msg'].startswith('Failed to find project twin: 2 projects have that name')

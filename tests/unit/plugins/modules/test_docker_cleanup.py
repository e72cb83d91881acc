# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docker_cleanup's main(), in-process, against a fake engine: check mode plans and removes nothing, a real run removes the plan."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import time
from types import SimpleNamespace

import pytest

from ansible_collections.clawd.ops.plugins.modules import docker_cleanup

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

LABELS = {'owner': 'test'}
# The engine's ages and the module's clock are both this moment: no test depends on the wall clock.
NOW = 1764572400.0  # 2025-12-01T07:00:00Z


def engine_df(now):
    return {
        'Containers': [
            {'Id': 'c1', 'Names': ['/old-job'], 'Image': 'tool', 'ImageID': 'sha256:tool', 'State': 'exited', 'Labels': LABELS,
             'Created': now - 100000, 'SizeRw': 5, 'Mounts': []},
            {'Id': 'c2', 'Names': ['/web'], 'Image': 'app', 'ImageID': 'sha256:app', 'State': 'running', 'Labels': LABELS,
             'Created': now - 100000, 'Mounts': [{'Type': 'volume', 'Name': 'data'}]},
        ],
        'Images': [
            {'Id': 'sha256:app', 'RepoTags': ['app:1'], 'Created': 1, 'Size': 1000, 'SharedSize': 0, 'Labels': LABELS},
            {'Id': 'sha256:dangling', 'RepoTags': ['<none>:<none>'], 'Created': 2, 'Size': 300, 'SharedSize': 100, 'Labels': LABELS},
            {'Id': 'sha256:tool', 'RepoTags': ['tool:1'], 'Created': 4, 'Size': 70, 'SharedSize': 0, 'Labels': LABELS},
            {'Id': 'sha256:foreign', 'RepoTags': ['<none>:<none>'], 'Created': 3, 'Size': 300, 'SharedSize': 0, 'Labels': {}},
        ],
        'Volumes': [{'Name': 'data', 'UsageData': {'Size': 10}}, {'Name': 'old-data', 'UsageData': {'Size': 20}}],
        'BuildCache': [],
    }


class FakeApi(object):
    def __init__(self):
        self.now = NOW
        self.state = engine_df(self.now)
        self.removed = []

    def df(self):
        return copy.deepcopy(self.state)

    def inspect_container(self, ident):
        return {'State': {'FinishedAt': '2020-01-01T00:00:00Z'}}

    def remove_container(self, ident, v=False):
        self.removed.append(ident)
        self.state['Containers'] = [c for c in self.state['Containers'] if c['Id'] != ident]

    def remove_image(self, ident, force=False):
        self.removed.append(ident)
        self.state['Images'] = [i for i in self.state['Images'] if i['Id'] != ident]

    def remove_volume(self, name):
        raise AssertionError('no volume is in the plan')


class FakeClient(object):
    def __init__(self):
        self.api = FakeApi()


@pytest.fixture
def engine(monkeypatch):
    client = FakeClient()
    monkeypatch.setattr(docker_cleanup, 'client_from_env', lambda: client)
    monkeypatch.setattr(docker_cleanup, 'time', SimpleNamespace(time=lambda: NOW, sleep=time.sleep, strptime=time.strptime))
    return client.api


ARGS = {'scope': ['owner=test'], 'container_min_age_hours': 1}


def test_check_mode_shows_the_plan_and_removes_nothing(engine, results):
    assert run_main(docker_cleanup.main, dict(ARGS, _ansible_check_mode=True, _ansible_diff=True)) == 0
    result = results[0]
    assert result['changed'] is True
    assert [item['name'] for item in result['plan']['containers']] == ['old-job']
    assert [item['id'] for item in result['plan']['images']] == ['sha256:dangling']
    assert result['freed_bytes'] == 5 + 200
    assert result['plan']['unused_named_volumes'] == [{'name': 'old-data', 'bytes': 20}]
    assert result['msg'].startswith('would remove 1 container(s), 1 image(s)')
    assert result['diff']['before']['containers'] == ['old-job']
    assert engine.removed == []


def test_real_run_removes_the_plan_then_is_idempotent(engine, results):
    assert run_main(docker_cleanup.main, ARGS) == 0
    assert engine.removed == ['c1', 'sha256:dangling']
    assert results[0]['changed'] is True
    assert results[0]['removed']['containers'] == ['old-job']
    assert run_main(docker_cleanup.main, ARGS) == 0
    assert results[1]['changed'] is False
    assert results[1]['freed_bytes'] == 0
    # the tool image lost its container but has a tag and is no app image: kept unless unused_images
    assert run_main(docker_cleanup.main, dict(ARGS, unused_images=True, _ansible_check_mode=True)) == 0
    assert [item['id'] for item in results[2]['plan']['images']] == ['sha256:tool']
    assert results[2]['plan']['images'][0]['reason'] == 'unused by any container'


def test_a_refused_removal_fails_with_the_cause(engine, results, monkeypatch):
    def refuse(ident, v=False):
        raise RuntimeError('conflict: the container is in use')
    monkeypatch.setattr(engine, 'remove_container', refuse)
    assert run_main(docker_cleanup.main, ARGS) == 1
    assert results[0]['msg'] == 'Failed to clean up Docker: Failed to remove container old-job: conflict: the container is in use'
    assert results[0]['removed']['images'] == ['sha256:dangling']


def test_engine_unreachable_fails_cleanly(monkeypatch, results):
    class Broken(object):
        class api(object):  # pylint: disable=invalid-name
            @staticmethod
            def df():
                raise RuntimeError('connection refused')
    monkeypatch.setattr(docker_cleanup, 'client_from_env', Broken)
    assert run_main(docker_cleanup.main, ARGS) == 1
    assert results[0]['msg'] == 'Failed to plan the Docker cleanup: could not read the disk usage of the Docker engine: connection refused'


def test_negative_keep_is_refused(engine, results):
    assert run_main(docker_cleanup.main, dict(ARGS, keep_app_images=-1)) == 1
    assert 'keep_app_images must be 0 or more' in results[0]['msg']

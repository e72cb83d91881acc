# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The disk_reclaim module on a folder of old logs and archives, with a fake Docker client (the seam make_docker_client).

The real filesystem's free space is what it is, so these tests ask for a target no folder reaches (100 %) or one
every folder has (1 %); the stop at the target is tested on a measured fake disk in test__disk_reclaim.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import docker
import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.test__disk_reclaim import NOW, FakeClient, make_archive, write
from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import disk_reclaim


class FrozenClock(object):
    def time(self):
        return NOW


@pytest.fixture
def host(tmp_path, monkeypatch):
    client = FakeClient()
    monkeypatch.setattr(disk_reclaim, 'make_docker_client', lambda docker_host: client)
    monkeypatch.setattr(disk_reclaim, 'time', FrozenClock())
    client.api.ping = lambda: True
    logs = tmp_path / 'logs'
    old = [write(logs / 'app.log.2.gz', 1000, 30), write(logs / 'app.log.1', 1000, 10)]
    young = write(logs / 'app.log', 1000, 0)
    (tmp_path / 'backups').mkdir()
    archives = [make_archive(tmp_path / 'backups', age, size=1000) for age in (3, 2, 1)]
    args = {'path': str(tmp_path), 'log_paths': [str(logs)], 'backup_dir': str(tmp_path / 'backups'), 'keep_archives': 1,
            'docker_root': str(tmp_path / 'no-docker-here')}
    return {'client': client, 'old': old, 'young': young, 'archives': archives, 'args': args}


def test_check_mode_plans_and_changes_nothing_then_the_run_does_it_then_nothing_is_left(host, results):
    args = dict(host['args'], target_free_percent=100)
    assert run_main(disk_reclaim.main, dict(args, _ansible_check_mode=True)) == 0
    plan = results[-1]
    assert plan['changed'] is True
    assert all(os.path.exists(path) for path in host['old'] + host['archives'])
    assert host['client'].api.calls == []
    assert [(step['step'], step['items_total']) for step in plan['steps']] == [
        ('build_cache', 1), ('dangling_images', 1), ('old_logs', 2), ('old_archives', 2)]
    assert plan['msg'].startswith('build_cache would free 204800 bytes')

    assert run_main(disk_reclaim.main, args) == 0
    done = results[-1]
    assert [step['items'] for step in done['steps']] == [step['items'] for step in plan['steps']]
    assert not any(os.path.exists(path) for path in host['old'] + host['archives'][:2])
    assert os.path.exists(host['young']) and os.path.exists(host['archives'][2])
    assert done['changed'] is True and done['reached_target'] is False and done['errors'] == []

    assert run_main(disk_reclaim.main, args) == 0
    again = results[-1]
    assert again['changed'] is False
    assert [step['skipped_reason'] for step in again['steps']] == ['nothing to remove'] * 4


def test_a_disk_with_enough_free_space_is_left_alone(host, results):
    assert run_main(disk_reclaim.main, dict(host['args'], target_free_percent=0.001)) == 0
    assert results[-1]['changed'] is False and results[-1]['reached_target'] is True
    assert all(os.path.exists(path) for path in host['old'] + host['archives'])


def test_without_an_engine_the_file_steps_still_run(host, results, monkeypatch):
    def refuse(docker_host):
        raise docker.errors.DockerException('Error while fetching server API version: connection refused')
    monkeypatch.setattr(disk_reclaim, 'make_docker_client', refuse)
    assert run_main(disk_reclaim.main, dict(host['args'], target_free_percent=100, steps=['build_cache', 'old_logs'])) == 0
    steps = results[-1]['steps']
    assert steps[0]['skipped_reason'] == ('the Docker engine cannot be reached: Error while fetching server API version: '
                                          'connection refused')
    assert steps[1]['items_total'] == 2


def test_a_failed_removal_fails_the_task_with_the_result(host, results, monkeypatch):
    def refuse(ident, force=False):
        raise docker.errors.APIError('409 Conflict: image is being used')
    host['client'].api.remove_image = refuse
    assert run_main(disk_reclaim.main, dict(host['args'], target_free_percent=100, steps=['dangling_images'])) == 1
    result = results[-1]
    assert result['msg'].startswith('Failed to free space on the filesystem of %s: dangling_images: Failed to remove image '
                                    'sha256:dangling: 409 Conflict' % host['args']['path'])
    assert result['steps'][0]['step'] == 'dangling_images'


@pytest.mark.parametrize('changes, message', [
    ({'steps': ['old_logs', 'old_logs']}, 'steps: each step at most once'),
    ({'steps': ['system_prune']}, 'value of steps must be one or more of'),
    ({'keep_archives': 0}, 'keep_archives must be 1 or more'),
    ({'target_free_percent': 150}, 'target_free_percent must be more than 0 and at most 100'),
    ({'log_max_age_days': -1}, 'log_max_age_days and container_min_age_hours must be 0 or more'),
])
def test_options_that_cannot_be_used(host, results, changes, message):
    assert run_main(disk_reclaim.main, dict(host['args'], **dict({'target_free_percent': 100}, **changes))) == 1
    assert message in results[-1]['msg']

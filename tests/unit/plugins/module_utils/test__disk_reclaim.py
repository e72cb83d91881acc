# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Freeing a full disk in a safe order: the plans of each step and the run, on a measured fake disk and a fake engine."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import os

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _disk_reclaim as dr
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name

NOW = calendar.timegm((2026, 11, 23, 17, 50, 0))   # the frozen clock of these tests
DAY = 86400
KB = 1024


def write(path, size, age_days):
    folder = os.path.dirname(str(path))
    if not os.path.isdir(folder):
        os.makedirs(folder)
    with open(str(path), 'wb') as handle:
        handle.write(b'x' * size)
    when = NOW - age_days * DAY
    os.utime(str(path), (when, when))
    return str(path)


def make_archive(folder, age_days, verified=True, size=40 * KB):
    when = NOW - age_days * DAY
    path = write(os.path.join(str(folder), archive_name('claudebox', when, '1.0.0')), size, age_days)
    with open(path + '.manifest.json', 'w') as handle:
        handle.write('{}')
    if verified:
        with open(path + '.sha256', 'w') as handle:
            handle.write('%s  %s\n' % ('0' * 64, os.path.basename(path)))
    return path


class Disk(object):
    """A disk of `total` bytes whose use is what the files under root allocate plus what the fake engine holds."""

    def __init__(self, root, total, engine=None):
        self.root = str(root)
        self.total = total
        self.engine = engine
        self.measured = 0

    def used(self):
        used = 0
        for folder, dummy, names in os.walk(self.root):
            for name in names:
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    used += os.lstat(path).st_blocks * 512
        return used + (self.engine.held() if self.engine else 0)

    def __call__(self, path):
        self.measured += 1
        free = max(self.total - self.used(), 0)
        return {'bytes': free, 'percent': round(100.0 * free / self.total, 2), 'total': self.total}


class FakeApi(object):
    """The engine's df, and removals that shrink it. prune_builds takes no argument, like the Docker SDK 5.0.3 of Debian."""

    def __init__(self):
        self.images = [{'Id': 'sha256:dangling', 'RepoTags': [], 'Size': 300 * KB, 'SharedSize': 0, 'Created': 1},
                       {'Id': 'sha256:app', 'RepoTags': ['app:1'], 'Size': 500 * KB, 'SharedSize': 0, 'Created': 2}]
        self.containers = [
            {'Id': 'c1', 'Names': ['/claudebox-old'], 'State': 'exited', 'Created': NOW - 3 * DAY, 'ImageID': 'sha256:app',
             'SizeRw': 100 * KB, 'Labels': {}, 'Mounts': [{'Type': 'volume', 'Name': 'workspace'}]},
            {'Id': 'c2', 'Names': ['/someone-else'], 'State': 'exited', 'Created': NOW - 3 * DAY, 'ImageID': 'sha256:app',
             'SizeRw': 100 * KB, 'Labels': {}},
            {'Id': 'c3', 'Names': ['/claudebox-web'], 'State': 'running', 'Created': NOW - 3 * DAY, 'ImageID': 'sha256:app',
             'SizeRw': 0, 'Labels': {}}]
        self.cache = [{'ID': 'b1', 'Size': 200 * KB, 'InUse': False, 'Shared': False, 'LastUsedAt': '2026-11-01T00:00:00Z'}]
        self.volumes = [{'Name': 'workspace', 'UsageData': {'Size': 900 * KB}}, {'Name': 'a' * 64, 'UsageData': {'Size': 50 * KB}}]
        self.calls = []

    def held(self):
        return (sum(image['Size'] for image in self.images) + sum(c['SizeRw'] for c in self.containers)
                + sum(record['Size'] for record in self.cache) + sum(v['UsageData']['Size'] for v in self.volumes))

    def df(self):
        return {'Images': [dict(image) for image in self.images], 'Containers': [dict(c) for c in self.containers],
                'BuildCache': [dict(record) for record in self.cache], 'Volumes': [dict(v) for v in self.volumes]}

    def inspect_container(self, ident):
        return {'State': {'FinishedAt': '2026-11-20T00:00:00Z'}}

    def prune_builds(self):
        self.calls.append('prune_builds')
        freed = sum(record['Size'] for record in self.cache)
        self.cache = []
        return {'SpaceReclaimed': freed}

    def remove_image(self, ident, force=False):
        self.calls.append('remove_image %s' % ident)
        self.images = [image for image in self.images if image['Id'] != ident]

    def remove_container(self, ident, v=False):
        assert v is False, 'a container is removed without its volumes'
        self.calls.append('remove_container %s' % ident)
        self.containers = [c for c in self.containers if c['Id'] != ident]

    def remove_volume(self, name):
        raise AssertionError('a volume was removed: %s' % name)


class FakeClient(object):
    def __init__(self):
        self.api = FakeApi()


@pytest.mark.parametrize('name, rotated', [
    ('app.log.1', True), ('app.log.2.gz', True), ('app.log-20261201', True), ('app.log-20261201.gz', True),
    ('app.log.old', True), ('app.1.log', True), ('syslog.3.xz', True), ('access.log.gz', True),
    ('app.log', False), ('app-web.log', False), ('error_log', False), ('app.log.tmp', False),
])
def test_rotated_names(name, rotated):
    assert dr.is_rotated(name) is rotated


def test_old_logs_rotated_first_oldest_first_never_young_open_or_linked(tmp_path):
    logs = tmp_path / 'logs'
    live_old = write(logs / 'app.log', 10 * KB, 30)
    write(logs / 'today.log', 10 * KB, 0)
    rotated_new = write(logs / 'app.log.1', 10 * KB, 8)
    rotated_old = write(logs / 'sub' / 'app.log.2.gz', 10 * KB, 20)
    held_path = write(logs / 'held.log', 10 * KB, 40)
    os.symlink(live_old, str(logs / 'link.log.1'))
    held = {(os.stat(held_path).st_dev, os.stat(held_path).st_ino)}
    files, notes = dr.plan_logs([str(logs)], 7, NOW, os.stat(str(tmp_path)).st_dev, held)
    assert [item['name'] for item in files] == [rotated_old, rotated_new, live_old]
    assert notes['open'] == 1
    files, notes = dr.plan_logs([str(logs)], 7, NOW, -1, held)
    assert files == [] and notes['other_filesystem'] == 4


def test_archives_beyond_retention_oldest_first_never_the_newest_verified(tmp_path):
    backups = tmp_path / 'backups'
    backups.mkdir()
    oldest = make_archive(backups, 5)
    middle = make_archive(backups, 4)
    verified = make_archive(backups, 3)
    newest = make_archive(backups, 1, verified=False)
    # the newest is not verified: retention deletes nothing, and says why
    items, skipped = dr.plan_archives(str(backups), '*.tar.*', 1, NOW)
    assert items == [] and 'is not verified' in skipped
    os.remove(newest)
    os.remove(newest + '.manifest.json')
    items, skipped = dr.plan_archives(str(backups), '*.tar.*', 1, NOW)
    assert skipped is None
    assert [item['name'] for item in items] == [oldest, middle]
    assert all(item['bytes'] >= 40 * KB for item in items)
    assert verified not in [item['name'] for item in items]
    with pytest.raises(dr.ReclaimError, match='keep_archives must be 1 or more'):
        dr.plan_archives(str(backups), '*.tar.*', 0, NOW)


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MiB disk nearly full: old and young logs, four verified archives, and the fake engine's images and cache."""
    data = tmp_path / 'data'
    write(data / 'logs' / 'app.log.3.gz', 100 * KB, 30)
    write(data / 'logs' / 'app.log.2.gz', 100 * KB, 20)
    write(data / 'logs' / 'app.log', 60 * KB, 0)
    (data / 'backups').mkdir()
    archives = [make_archive(data / 'backups', age) for age in (4, 3, 2, 1)]
    client = FakeClient()
    disk = Disk(data, 3000 * KB, client.api)
    return {'data': str(data), 'disk': disk, 'client': client, 'archives': archives}


def reclaimer(setup, target, check_mode=False, engine=True, **options):
    options = dict({'log_paths': [os.path.join(setup['data'], 'logs')], 'log_max_age_days': 7,
                    'backup_dir': os.path.join(setup['data'], 'backups'), 'keep_archives': 1, 'docker_root': None}, **options)
    return dr.Reclaimer(setup['data'], target, options, NOW, setup['client'] if engine else None, None if engine else 'refused',
                        measure=setup['disk'], held=set(), check_mode=check_mode)


def test_steps_run_in_order_and_stop_at_the_target(full_disk):
    before = full_disk['disk'](full_disk['data'])
    result = reclaimer(full_disk, 30).run(dr.DEFAULT_STEPS)
    steps = dict((record['step'], record) for record in result['steps'])
    assert full_disk['client'].api.calls == ['prune_builds', 'remove_image sha256:dangling']
    assert steps['build_cache']['freed_bytes'] == 200 * KB and steps['build_cache']['skipped_reason'] is None
    assert steps['dangling_images']['items'] == ['sha256:dangling']
    # old_logs stops after the first file that reached the target: the second old log stays
    assert steps['old_logs']['items'] == [os.path.join(full_disk['data'], 'logs', 'app.log.3.gz')]
    assert os.path.exists(os.path.join(full_disk['data'], 'logs', 'app.log.2.gz'))
    assert steps['old_archives']['skipped_reason'] == 'the target was reached before this step'
    assert all(os.path.exists(path) for path in full_disk['archives'])
    assert result['reached_target'] is True and result['changed'] is True
    assert result['free_before'] == before and result['free_after']['percent'] >= 30
    assert result['errors'] == []
    assert 'build_cache freed 204800 bytes' in dr.describe(result, False)


def test_a_high_target_reaches_the_archives_and_keeps_the_newest(full_disk):
    result = reclaimer(full_disk, 90).run(dr.DEFAULT_STEPS)
    steps = dict((record['step'], record) for record in result['steps'])
    assert steps['old_archives']['items'] == full_disk['archives'][:3]
    assert [os.path.exists(path) for path in full_disk['archives']] == [False, False, False, True]
    assert os.path.exists(full_disk['archives'][-1] + '.sha256')
    assert not os.path.exists(full_disk['archives'][0] + '.sha256')
    assert os.path.exists(os.path.join(full_disk['data'], 'logs', 'app.log'))   # written today
    assert result['reached_target'] is False
    assert [v['Name'] for v in full_disk['client'].api.volumes] == ['workspace', 'a' * 64]


def test_check_mode_predicts_and_changes_nothing(full_disk):
    files_before = sorted(os.listdir(os.path.join(full_disk['data'], 'backups')))
    result = reclaimer(full_disk, 30, check_mode=True).run(dr.DEFAULT_STEPS)
    steps = dict((record['step'], record) for record in result['steps'])
    assert full_disk['client'].api.calls == []
    assert sorted(os.listdir(os.path.join(full_disk['data'], 'backups'))) == files_before
    assert os.path.exists(os.path.join(full_disk['data'], 'logs', 'app.log.3.gz'))
    assert steps['build_cache']['estimated_bytes'] == 200 * KB and steps['dangling_images']['estimated_bytes'] == 300 * KB
    assert steps['old_logs']['items'] == [os.path.join(full_disk['data'], 'logs', 'app.log.3.gz')]
    assert steps['old_archives']['skipped_reason'] == 'the target would be reached before this step'
    real = reclaimer(full_disk, 30).run(dr.DEFAULT_STEPS)
    assert [record['items'] for record in real['steps']] == [record['items'] for record in result['steps']]
    assert result['free_after']['bytes'] == pytest.approx(real['free_after']['bytes'], abs=8 * KB)
    assert 'would free' in dr.describe(result, True)


def test_a_disk_at_target_is_left_alone(full_disk):
    result = reclaimer(full_disk, 1).run(dr.DEFAULT_STEPS)
    assert result['changed'] is False and result['reached_target'] is True
    assert all(record['skipped_reason'].startswith('free space ') for record in result['steps'])
    assert full_disk['client'].api.calls == []


def test_stopped_containers_only_when_named_and_without_volumes(full_disk):
    steps = ['stopped_containers']
    result = reclaimer(full_disk, 99).run(steps)
    assert result['steps'][0]['skipped_reason'].startswith('no containers_prefix or containers_scope given')
    result = reclaimer(full_disk, 99, containers_prefix='claudebox-').run(steps)
    assert result['steps'][0]['items'] == ['claudebox-old']
    assert full_disk['client'].api.calls == ['remove_container c1']


def test_docker_steps_are_passed_over_without_an_engine_or_on_another_filesystem(full_disk, tmp_path):
    result = reclaimer(full_disk, 30, engine=False).run(['build_cache', 'old_logs'])
    assert result['steps'][0]['skipped_reason'] == 'the Docker engine cannot be reached: refused'
    assert result['steps'][1]['items_total'] == 2
    other = '/proc'   # a folder on another filesystem than the data
    result = reclaimer(full_disk, 99, docker_root=other).run(['build_cache'])
    assert 'on another filesystem than' in result['steps'][0]['skipped_reason']
    assert full_disk['client'].api.calls == []


def test_options_that_cannot_be_used(full_disk):
    with pytest.raises(dr.ReclaimError, match='unknown step'):
        reclaimer(full_disk, 30).run(['system_prune'])
    with pytest.raises(dr.ReclaimError, match='target_free_percent'):
        reclaimer(full_disk, 0)
    with pytest.raises(dr.ReclaimError, match='cannot read'):
        dr.Reclaimer('/nonexistent/x', 10, {}, NOW)


def test_free_space_of_a_real_filesystem(tmp_path):
    free = dr.free_space(str(tmp_path))
    assert 0 < free['bytes'] <= free['total'] and 0 < free['percent'] <= 100
    with pytest.raises(dr.ReclaimError, match='cannot measure'):
        dr.free_space('/nonexistent/x')


def test_open_files_finds_a_file_this_process_holds(tmp_path):
    path = write(tmp_path / 'held.log', 10, 10)
    with open(path, 'rb'):
        info = os.stat(path)
        assert (info.st_dev, info.st_ino) in dr.open_files()

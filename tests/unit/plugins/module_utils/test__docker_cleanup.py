# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Docker cleanup plan, from plain dicts shaped like the engine's /system/df answer."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _docker_cleanup as dc

NOW = 1800000000.0
HOUR = 3600
SCENARIO = {'owner': 'test'}
UUID = 'a' * 24


def image(ident, tags=(), created=0, size=100, shared=0, labels=None, parent=''):
    return {'Id': 'sha256:' + ident, 'RepoTags': list(tags) or ['<none>:<none>'], 'Created': created, 'Size': size,
            'SharedSize': shared, 'Labels': labels, 'ParentId': parent}


def container(ident, state='exited', image_id='sha256:app', labels=None, created=NOW - 48 * HOUR, finished=None, volumes=(), size=10):
    return {'Id': ident, 'Names': ['/' + ident], 'Image': 'img', 'ImageID': image_id, 'State': state, 'Labels': labels or {},
            'Created': created, 'FinishedAt': finished, 'SizeRw': size,
            'Mounts': [{'Type': 'volume', 'Name': name} for name in volumes]}


OPTIONS = dict(scope=[], keep_marker='clawd.ops.keep', containers=True, container_min_age_hours=24, dangling_images=True,
               app_image_patterns=[UUID], keep_app_images=2, app_images=True, unused_images=False, anonymous_volumes=False,
               build_cache=True, build_cache_min_age_hours=24)


def plan(df, **changes):
    return dc.make_plan(df, NOW, dict(OPTIONS, **changes))


def test_scope_parsing_and_matching():
    parsed = dc.parse_scope(['owner=test', 'scenario'])
    assert parsed == [('owner', 'test'), ('scenario', None)]
    assert dc.labels_match({'owner': 'test', 'scenario': ''}, parsed)
    assert not dc.labels_match({'owner': 'other', 'scenario': 'x'}, parsed)
    assert not dc.labels_match({'owner': 'test'}, parsed)
    assert dc.labels_match(None, [])
    with pytest.raises(dc.CleanupError):
        dc.parse_scope(['=value'])


def test_repository_of_keeps_a_registry_port():
    assert dc.repository_of('app:1.0') == 'app'
    assert dc.repository_of('registry:5000/app:1.0') == 'registry:5000/app'
    assert dc.repository_of('registry:5000/app') == 'registry:5000/app'


def test_stopped_containers_by_age_and_keep_marker_never_running_ones():
    df = {'Containers': [
        container('old'),
        container('young', finished=NOW - 2 * HOUR),
        container('kept', labels={'clawd.ops.keep': 'yes'}),
        container('running', state='running'),
        container('never-started', state='created', created=NOW - 30 * HOUR),
    ]}
    found = plan(df)
    assert [item['name'] for item in found['containers']] == ['old', 'never-started']
    assert found['containers'][0]['bytes'] == 10
    assert 'exited' in found['containers'][0]['reason']
    # age 0 takes the young one too, never the running or the kept one
    assert sorted(item['name'] for item in plan(df, container_min_age_hours=0)['containers']) == ['never-started', 'old', 'young']
    assert plan(df, containers=False)['containers'] == []


def test_the_scope_limits_every_candidate():
    df = {'Containers': [container('mine', labels=SCENARIO), container('theirs')],
          'Images': [image('d1', labels=SCENARIO), image('d2', labels={'owner': 'other'})],
          'Volumes': [{'Name': 'f' * 64, 'Labels': SCENARIO}, {'Name': 'e' * 64, 'Labels': None}]}
    found = plan(df, scope=['owner=test'], anonymous_volumes=True)
    assert [item['name'] for item in found['containers']] == ['mine']
    assert [item['id'] for item in found['images']] == ['sha256:d1']
    assert [item['name'] for item in found['volumes']] == ['f' * 64]


def test_images_of_remaining_containers_and_newest_app_images_are_protected():
    images = [
        image('used', ['%s:%s' % (UUID, '1' * 40)], created=1),
        image('app2', ['%s:%s' % (UUID, '2' * 40)], created=2, size=300, shared=100),
        image('app3', ['%s:%s' % (UUID, '3' * 40)], created=3),
        image('app4', ['%s:%s' % (UUID, '4' * 40)], created=4),
        image('dangling', created=5, size=50, shared=-1),
        image('other', ['postgres:16'], created=6),
        image('gone-with-container', ['tool:1'], created=7),
    ]
    df = {'Images': images, 'Containers': [container('web', state='running', image_id='sha256:used'),
                                           container('old-tool', image_id='sha256:gone-with-container')]}
    found = plan(df)
    removed = dict((item['id'], item) for item in found['images'])
    # app2 is the third newest of the app repository (keep 2), but not used: removed, unique bytes only
    assert sorted(removed) == ['sha256:app2', 'sha256:dangling']
    assert removed['sha256:app2']['bytes'] == 200
    assert removed['sha256:dangling']['bytes'] == 50
    protected = dict((item['id'], item['reasons']) for item in found['protected_images'])
    assert protected['sha256:used'] == ['used by container web']
    assert 'one of the newest 2 images of %s' % UUID in protected['sha256:app4']
    assert 'sha256:app3' in protected
    assert found['freed_bytes'] == 200 + 50 + 10
    # unused tagged images only when asked; the removed container's image is then unused too
    more = dict((item['id'], item['reason']) for item in plan(df, unused_images=True)['images'])
    assert more['sha256:other'] == 'unused by any container'
    assert 'sha256:gone-with-container' in more
    # app images kept when app_images is off, dangling kept when dangling_images is off
    assert [item['id'] for item in plan(df, app_images=False, dangling_images=False)['images']] == []


def test_a_stopped_container_that_stays_protects_its_image():
    df = {'Images': [image('tool', ['tool:1'])],
          'Containers': [container('young-tool', image_id='sha256:tool', finished=NOW - HOUR)]}
    found = plan(df, unused_images=True)
    assert found['images'] == []
    assert found['protected_images'][0]['reasons'] == ['used by container young-tool']


def test_parent_of_an_image_that_stays_is_kept():
    df = {'Images': [image('base'), image('child', ['child:1'], parent='sha256:base')],
          'Containers': [container('c', state='running', image_id='sha256:child')]}
    found = plan(df)
    assert found['images'] == []
    assert ['parent of an image that stays'] in [item['reasons'] for item in found['protected_images']]


def test_named_volumes_are_listed_never_removed():
    df = {'Volumes': [{'Name': 'data', 'UsageData': {'Size': 4096, 'RefCount': 0}},
                      {'Name': 'in-use', 'UsageData': {'Size': 1}},
                      {'Name': 'a' * 64, 'UsageData': {'Size': 7}}],
          'Containers': [container('web', state='running', volumes=['in-use'])]}
    found = plan(df, anonymous_volumes=True)
    assert found['volumes'] == [{'name': 'a' * 64, 'bytes': 7, 'reason': 'anonymous and unused'}]
    assert found['unused_named_volumes'] == [{'name': 'data', 'bytes': 4096}]
    assert plan(df)['volumes'] == []


def test_volumes_of_removed_containers_become_unused():
    df = {'Volumes': [{'Name': 'b' * 64}], 'Containers': [container('old', volumes=['b' * 64])]}
    assert [item['name'] for item in plan(df, anonymous_volumes=True)['volumes']] == ['b' * 64]
    assert plan(df, anonymous_volumes=True, containers=False)['volumes'] == []


def test_build_cache_by_age_and_never_with_a_scope():
    records = [{'ID': 'x', 'Size': 1000, 'InUse': False, 'Shared': False, 'LastUsedAt': '2020-01-01T00:00:00.123456789Z'},
               {'ID': 'y', 'Size': 5, 'InUse': True, 'Shared': False, 'LastUsedAt': None},
               {'ID': 'z', 'Size': 7, 'InUse': False, 'Shared': False, 'LastUsedAt': NOW - HOUR}]
    found = plan({'BuildCache': records})
    assert found['build_cache']['prune'] and found['build_cache']['bytes'] == 1000
    assert found['build_cache']['until'] == '24h'
    assert found['counts']['build_cache_entries'] == 1
    filtered = plan({'BuildCache': records}, scope=['owner=test'])
    assert not filtered['build_cache']['prune'] and filtered['build_cache']['bytes'] == 0
    assert 'not pruned' in filtered['build_cache']['reason']
    assert not plan({'BuildCache': records}, build_cache=False)['build_cache']['prune']


def test_epoch_parses_engine_times():
    assert dc._epoch('1970-01-01T01:00:00Z') == 3600.0
    assert dc._epoch('1970-01-01T02:00:00.5+01:00') == 3600.0
    assert dc._epoch('0001-01-01T00:00:00Z') < 0
    assert dc._epoch('garbage') is None


def test_empty_plan_and_description():
    found = plan({})
    assert dc.plan_is_empty(found)
    assert dc.describe(found, True).startswith('would remove 0 container(s)')


class FakeApi(object):
    def __init__(self, missing=(), refuse=()):
        self.calls = []
        self.missing = missing
        self.refuse = refuse

    def _act(self, what):
        self.calls.append(what)
        if what in self.missing:
            raise dc.docker.errors.NotFound('gone')
        if what in self.refuse:
            raise dc.docker.errors.APIError('conflict: in use')

    def remove_container(self, ident, v=False):
        assert v is False
        self._act(ident)

    def remove_image(self, ident, force=False):
        assert force is False
        self._act(ident)

    def remove_volume(self, name):
        self._act(name)

    def prune_builds(self, filters=None):
        self.calls.append(('prune', filters))
        return {'SpaceReclaimed': 1000}


class FakeClient(object):
    def __init__(self, api):
        self.api = api


def test_execute_removes_exactly_the_plan_and_reports_failures():
    df = {'Containers': [container('old')], 'Images': [image('d'), image('app1', ['%s:1' % UUID, '%s:one' % UUID], created=1),
                                                       image('app2', ['%s:2' % UUID], created=2), image('app3', ['%s:3' % UUID], created=3)],
          'Volumes': [{'Name': 'c' * 64}],
          'BuildCache': [{'Size': 1000, 'LastUsedAt': '2020-01-01T00:00:00Z'}]}
    the_plan = plan(df, anonymous_volumes=True)
    api = FakeApi(missing=('sha256:d',))
    removed, errors = dc.execute(FakeClient(api), the_plan)
    assert errors == []
    assert api.calls == ['old', 'sha256:d', '%s:1' % UUID, '%s:one' % UUID, 'c' * 64, ('prune', {'until': '24h'})]
    assert removed == {'containers': ['old'], 'images': ['sha256:d', '%s:1' % UUID], 'volumes': ['c' * 64], 'build_cache_bytes': 1000}
    api = FakeApi(refuse=('old',))
    removed, errors = dc.execute(FakeClient(api), the_plan)
    assert errors == ['Failed to remove container old: conflict: in use']
    assert removed['containers'] == []


class _BusyEngine:
    """An engine client whose /system/df answers 'already running' a number of times, then its df."""

    def __init__(self, busy, error='500 Server Error: a disk usage operation is already running'):
        self.calls = 0
        self.busy = busy
        self.error = error
        self.api = self

    def df(self):
        self.calls += 1
        if self.calls <= self.busy:
            raise RuntimeError(self.error)
        return {'Images': [], 'Containers': [], 'Volumes': [], 'BuildCache': []}


def test_read_engine_waits_out_another_clients_disk_usage_request(monkeypatch):
    slept = []
    monkeypatch.setattr(dc.time, 'sleep', slept.append)
    engine = _BusyEngine(busy=2)
    assert dc.read_engine(engine)['Images'] == []
    assert engine.calls == 3 and slept == [0.5, 1.0]


def test_read_engine_gives_up_on_a_busy_engine_and_at_once_on_other_errors(monkeypatch):
    slept = []
    monkeypatch.setattr(dc.time, 'sleep', slept.append)
    with pytest.raises(dc.CleanupError, match='already running'):
        dc.read_engine(_BusyEngine(busy=100))
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0]
    slept.clear()
    with pytest.raises(dc.CleanupError, match='could not read the disk usage of the Docker engine: boom'):
        dc.read_engine(_BusyEngine(busy=1, error='boom'))
    assert slept == []

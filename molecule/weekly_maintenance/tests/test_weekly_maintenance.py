# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scenario weekly_maintenance: junk gone, what a rollback needs and the live app untouched, newest verified backup kept."""

import json
import os
import shlex

testinfra_hosts = ['all']  # pylint: disable=invalid-name

NAME = 'molecule-weekly_maintenance'
INVENTORY_NAME = 'clawd-molecule-weekly_maintenance'  # the reports key hosts by inventory name
BACKUPS = '/var/backups/clawd'
STATE = os.environ['CLAWD_STATE']
LAB_DIR = os.path.join(STATE, 'hosts', NAME)
LABEL = 'clawd.molecule.scenario=weekly_maintenance'

# Runs on the lab host (Docker SDK, no docker CLI): prints what the engine has, as JSON.
ENGINE_SCRIPT = '''
import json, docker
c = docker.from_env()
def image_ids():
    return [i.id for i in c.images.list(all=False)]
print(json.dumps({
    "images": image_ids(),
    "tags": sorted(t for i in c.images.list() for t in i.tags),
    "containers": sorted(x.name for x in c.containers.list(all=True)),
    "running_images": sorted(x.attrs["Image"] for x in c.containers.list() if x.name.startswith("%s-")),
    "volumes": sorted(v.name for v in c.volumes.list()),
}))
''' % NAME


def engine(host):
    cmd = host.run('python3 -c %s' % shlex.quote(ENGINE_SCRIPT))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def junk():
    with open(os.path.join(LAB_DIR, 'junk.json'), encoding='utf-8') as handle:
        return json.load(handle)


def test_junk_containers_and_images_are_gone_keepers_stay(host):
    found = engine(host)
    record = junk()
    assert NAME + '-stopped' not in found['containers']
    assert NAME + '-keep' in found['containers']  # stopped, but labelled clawd.ops.keep
    for image_id in record['dangling']:
        assert image_id not in found['images']
    apps = record['app_images']
    assert apps[1] not in found['tags']  # beyond the newest five and used by no container
    assert apps[0] in found['tags']  # the oldest, but the kept container uses it
    for tag in apps[2:]:
        assert tag in found['tags']  # the newest five: what a rollback needs
    assert 'clawd-molecule-weekly-maintenance-junk:latest' in found['tags']  # unused but tagged: only with unused_images


def test_the_running_app_and_its_named_volumes_are_untouched(host):
    found = engine(host)
    assert len(found['running_images']) >= 3
    for image_id in found['running_images']:
        assert image_id in found['images']
    for volume in ('workspace', 'claude-config', 'unused'):
        assert '%s-%s' % (NAME, volume) in found['volumes']


def test_old_logs_are_gone_current_and_recent_ones_stay(host):
    assert not host.file('/var/log/clawd-molecule/app.log.1').exists
    assert not host.file('/var/log/clawd-molecule/app.log.2.gz').exists
    assert host.file('/var/log/clawd-molecule/app.log').exists  # old, but not a rotated log
    assert host.file('/var/log/clawd-molecule/recent.log.1').exists  # rotated, but young


def test_retention_kept_the_newest_verified_backups_only(host):
    names = sorted(f for f in host.file(BACKUPS).listdir() if f.endswith('.tar.zst'))
    assert len(names) == 2, names
    assert all(name.endswith('-1.0.0.tar.zst') for name in names)
    newest = names[-1]
    assert host.file('%s/%s.sha256' % (BACKUPS, newest)).exists
    cmd = host.run('cd %s && sha256sum -c %s.sha256' % (BACKUPS, newest))
    assert cmd.rc == 0, cmd.stderr


def test_one_drill_passed_and_left_nothing_behind(host):
    drills = host.file(BACKUPS + '/drills').listdir()
    assert len(drills) == 1, drills  # the idempotence run found it recent and did not drill again
    record = json.loads(host.file('%s/drills/%s' % (BACKUPS, drills[0])).content_string)
    assert record['healthy'] is True
    found = engine(host)
    assert not [name for name in found['containers'] if 'drill' in name]
    assert not [name for name in found['volumes'] if 'drill' in name]


def test_app_is_still_healthy(host):
    cmd = host.run('curl -sS --cacert %s/tls/ca.crt https://%s.clawd.test/health' % (LAB_DIR, NAME))
    assert cmd.rc == 0, cmd.stderr
    assert json.loads(cmd.stdout)['status'] == 'ok'


def test_weekly_summary_has_the_daily_reports_and_the_maintenance_results():
    with open(os.path.join(LAB_DIR, 'reports', 'latest-weekly.json'), encoding='utf-8') as handle:
        report = json.load(handle)
    assert report['kind'] == 'weekly'
    assert report['weekly']['reports'] == 2
    host_report = report['hosts'][INVENTORY_NAME]
    by_check = dict((item['check'], item) for item in host_report['results'])
    assert set(by_check) >= {'docker_cleanup', 'old_logs', 'backup_retention', 'security_updates', 'reboot', 'restore_drill'}
    assert by_check['security_updates']['status'] == 'unknown'  # off in the lab, and said so
    assert 'maintenance_updates_enabled is false' in by_check['security_updates']['reason']
    assert by_check['restore_drill']['status'] == 'ok'
    assert by_check['reboot']['status'] == 'ok'
    # the idempotence run wrote this one: nothing left to delete
    assert by_check['docker_cleanup']['value'] == 0
    runs = [name for name in os.listdir(os.path.join(LAB_DIR, 'reports')) if name.startswith('weekly-')]
    assert len(runs) == 2, runs  # converge and idempotence; check mode wrote none

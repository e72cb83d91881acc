# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A disk that is really full (a small tmpfs) freed by the disk_reclaim module, run as Ansible runs it, against the real
Docker engine: old logs and stale archives go in order, the newest verified archive stays, a named volume's data stays,
the target is reached and df says so; check mode predicts it and changes nothing.

Docker objects carry the label clawd.test.owner=<test id> and are removed afterwards; no image is pulled or pruned
(the engine is shared: the build cache and dangling image steps are tested on a fake engine in the unit tests)."""

import errno
import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name

from conftest import COLLECTIONS

MB = 1024 * 1024
DAY = 86400
IMAGE = 'clawd-lab-base'


def run_module(name, args, tmp_path, check_mode=False):
    """Run a module of the collection as Ansible does (a separate Python, arguments in a file); its JSON result."""
    path = tmp_path / ('args-%s.json' % uuid.uuid4().hex[:8])
    path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': dict(args, _ansible_check_mode=check_mode)}))
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    done = subprocess.run([sys.executable, '-m', 'ansible_collections.clawd.ops.plugins.modules.%s' % name, str(path)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False, timeout=300)
    assert done.stdout, done.stderr.decode()
    return json.loads(done.stdout)


def write(path, size, age_days):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as handle:
        handle.write(os.urandom(size))
    when = time.time() - age_days * DAY
    os.utime(path, (when, when))
    return path


def make_archive(folder, age_days, verified=True, size=MB):
    when = int(time.time() - age_days * DAY)
    path = write(os.path.join(folder, archive_name('claudebox', when, '1.0.0')), size, age_days)
    with open(path + '.manifest.json', 'w') as handle:
        handle.write('{}')
    if verified:
        with open(path + '.sha256', 'w') as handle:
            handle.write('%s  %s\n' % ('0' * 64, os.path.basename(path)))
    return path


def fill(folder):
    """Write junk until the filesystem is full, for real (ENOSPC)."""
    with open(os.path.join(folder, 'junk'), 'wb') as handle:
        try:
            while True:
                handle.write(b'\0' * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def df_percent(folder):
    info = os.statvfs(folder)
    return 100.0 * info.f_bavail / info.f_blocks


def docker(*args):
    return subprocess.run(['docker'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True,
                          timeout=120).stdout.decode().strip()


@pytest.fixture
def owner():
    """A test id for the Docker objects of one test; they are removed afterwards."""
    ident = 'a2-%s' % uuid.uuid4().hex[:8]
    yield ident
    label = 'label=clawd.test.owner=%s' % ident
    for container in docker('ps', '-aq', '--filter', label).split():
        subprocess.run(['docker', 'rm', '-f', container], check=False, capture_output=True)
    for volume in docker('volume', 'ls', '-q', '--filter', label).split():
        subprocess.run(['docker', 'volume', 'rm', '-f', volume], check=False, capture_output=True)


@pytest.fixture
def full_disk(small_disk, owner):
    """An 8 MB tmpfs at 100 %: old logs (rotated and not, one held open), 4 verified archives, junk; and on the engine a
    stopped container of the app (by name prefix and label) that uses a named volume holding data."""
    disk = str(small_disk('8m'))
    logs = os.path.join(disk, 'logs')
    files = {
        'rotated_old': write(os.path.join(logs, 'app.log.3.gz'), MB, 30),
        'rotated': write(os.path.join(logs, 'app.log.2.gz'), MB, 20),
        'stale': write(os.path.join(logs, 'old-worker.log'), MB, 40),
        'live': write(os.path.join(logs, 'app.log'), MB // 2, 0),
        'held': write(os.path.join(logs, 'held.log'), MB // 4, 50),
    }
    backups = os.path.join(disk, 'backups')
    archives = [make_archive(backups, age) for age in (4, 3, 2, 1)]
    fill(disk)
    volume = docker('volume', 'create', '--label', 'clawd.test.owner=%s' % owner, 'clawd-test-%s-data' % owner)
    mountpoint = docker('volume', 'inspect', '-f', '{{.Mountpoint}}', volume)
    with open(os.path.join(mountpoint, 'keep.db'), 'w') as handle:
        handle.write('the data of the app')
    container = docker('create', '--network', 'none', '--label', 'clawd.test.owner=%s' % owner, '--name',
                       'clawd-test-%s-old' % owner, '-v', '%s:/data' % volume, IMAGE, 'true')
    with open(files['held'], 'rb') as held:
        yield {'disk': disk, 'logs': logs, 'files': files, 'backups': backups, 'archives': archives, 'volume': volume,
               'mountpoint': mountpoint, 'container': container, 'owner': owner, 'held': held}


def args_for(setup, target):
    return {'path': setup['disk'], 'target_free_percent': target, 'steps': ['stopped_containers', 'old_logs', 'old_archives'],
            'containers_prefix': 'clawd-test-%s-' % setup['owner'], 'containers_scope': ['clawd.test.owner=%s' % setup['owner']],
            'container_min_age_hours': 0, 'log_paths': [setup['logs']], 'log_max_age_days': 7, 'backup_dir': setup['backups'],
            'keep_archives': 1, 'docker_root': ''}


def test_a_full_disk_is_freed_in_order_and_keeps_the_newest_backup_and_the_volume(full_disk, tmp_path):
    assert df_percent(full_disk['disk']) < 1
    listing = sorted(os.listdir(full_disk['logs'])) + sorted(os.listdir(full_disk['backups']))
    plan = run_module('disk_reclaim', args_for(full_disk, 50), tmp_path, check_mode=True)
    assert plan['changed'] is True and not plan.get('failed'), plan
    assert sorted(os.listdir(full_disk['logs'])) + sorted(os.listdir(full_disk['backups'])) == listing
    assert docker('ps', '-aq', '--filter', 'id=%s' % full_disk['container'])

    result = run_module('disk_reclaim', args_for(full_disk, 50), tmp_path)
    assert not result.get('failed'), result
    steps = dict((step['step'], step) for step in result['steps'])
    files, archives = full_disk['files'], full_disk['archives']
    # the stopped container went (without its volume), then the rotated logs oldest first, then the stale log, then
    # the oldest archives; the live log, the log held open and the newest verified archive stay
    assert steps['stopped_containers']['items'] == ['clawd-test-%s-old' % full_disk['owner']]
    assert steps['old_logs']['items'] == [files['rotated_old'], files['rotated'], files['stale']]
    assert 'open by a process' in steps['old_logs']['passed_over']
    assert steps['old_archives']['items'] == archives[:1]
    assert [os.path.exists(path) for path in archives] == [False, True, True, True]
    assert os.path.exists(archives[-1] + '.sha256')
    assert os.path.exists(files['live']) and os.path.exists(files['held'])
    assert not docker('ps', '-aq', '--filter', 'id=%s' % full_disk['container'])
    with open(os.path.join(full_disk['mountpoint'], 'keep.db')) as handle:
        assert handle.read() == 'the data of the app'
    # the check mode's plan was this run
    assert [step['items'] for step in plan['steps']] == [step['items'] for step in result['steps']]
    assert result['reached_target'] is True and df_percent(full_disk['disk']) >= 50
    assert result['free_before']['percent'] < 1 and result['free_after']['percent'] >= 50
    assert steps['old_logs']['freed_bytes'] >= 3 * MB

    again = run_module('disk_reclaim', args_for(full_disk, 50), tmp_path)
    assert again['changed'] is False and again['reached_target'] is True


def test_nothing_is_deleted_from_the_backups_when_the_newest_is_not_verified(full_disk, tmp_path):
    os.remove(full_disk['archives'][-1] + '.sha256')
    result = run_module('disk_reclaim', dict(args_for(full_disk, 95), steps=['old_archives']), tmp_path)
    assert result['changed'] is False and result['reached_target'] is False
    assert 'is not verified' in result['steps'][0]['skipped_reason']
    assert all(os.path.exists(path) for path in full_disk['archives'])


def test_docker_steps_are_passed_over_when_docker_keeps_its_data_on_another_filesystem(full_disk, tmp_path):
    if not os.path.isdir('/var/lib/docker'):
        pytest.skip('the engine keeps its data elsewhere')
    args = dict(args_for(full_disk, 50), steps=['build_cache', 'dangling_images', 'stopped_containers'])
    del args['docker_root']
    result = run_module('disk_reclaim', args, tmp_path)
    assert [step['skipped_reason'].split(':')[0] for step in result['steps']] == [
        'Docker keeps its data in /var/lib/docker, on another filesystem than %s' % full_disk['disk']] * 3
    assert docker('ps', '-aq', '--filter', 'id=%s' % full_disk['container'])

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults of a deployment, for real: runs racing for the host's operations lock in separate processes, and a
Coolify slower than the wait (or one that stops answering) while a deployment runs.

The modules run as Ansible runs them: a separate Python process reading its arguments from a file. Nothing here
depends on how fast the machine is: the racers start together on a signal, and the slow Coolify holds its
deployment until it is cancelled (the stand-in's ``/_lab/coolify/slow_deployments``). The role's side of it (the
lock released only after the serving release is checked) is in the Molecule scenario ``deploy``."""

import json
import multiprocessing
import os
import subprocess
import sys
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
LAB = os.path.join(ROOT, 'lab')
if LAB not in sys.path:
    sys.path.insert(0, LAB)

from standins.coolify import CoolifyStandIn  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.clawd.ops.plugins.module_utils import _lock  # noqa: E402  pylint: disable=wrong-import-position

# Runs a module once the go file exists, so that every racer starts at the same moment.
DRIVER = r'''
import importlib, os, sys, time
args, go, module = sys.argv[1:4]
while not os.path.exists(go):
    time.sleep(0.002)
sys.argv = [sys.argv[0], args]
importlib.import_module('ansible_collections.clawd.ops.plugins.modules.' + module).main()
'''


def start_module(tmp_path, name, module, args, go):
    path = tmp_path / ('%s.json' % name)
    path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    # sys.path holds the collections root that conftest.py put there.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.Popen([sys.executable, '-c', DRIVER, str(path), str(go), module], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process, timeout=120):
    out, err = process.communicate(timeout=timeout)
    try:
        return process.returncode, json.loads(out.decode())
    except ValueError:
        raise AssertionError('module printed no JSON (rc %s): %s %s' % (process.returncode, out[-2000:], err[-2000:]))


def run_module(tmp_path, name, module, args):
    go = tmp_path / ('go-%s' % name)
    go.write_text('')
    return finish(start_module(tmp_path, name, module, args, go))


# --------------------------------------------------------------------------- two deploys at once


def test_two_deploys_at_once_one_holds_the_lock_the_others_are_refused_naming_it(tmp_path):
    lock = tmp_path / 'var' / 'lib' / 'clawd' / 'deploy.lock'
    go = tmp_path / 'go'
    racers = [start_module(tmp_path, 'run-%d' % i, 'deploy_lock',
                           {'path': str(lock), 'run_id': 'run-%d' % i, 'owner': 'ops%d@laptop' % i, 'purpose': 'deploy',
                            'hold_for': 3600}, go)
              for i in range(6)]
    go.write_text('')
    outcomes = [finish(process) for process in racers]
    winners = [result for rc, result in outcomes if rc == 0]
    assert len(winners) == 1, outcomes
    winner = winners[0]
    assert winner['acquired'] is True and winner['changed'] is True
    holder = winner['holder']
    with open(str(lock)) as handle:
        assert json.load(handle) == winner['lock']  # one run's whole content, never a mix
    refusal = 'Refusing to deploy: %s is held by %s (run %s, deploy) since %s, until %s' % (
        lock, holder['owner'], holder['run_id'], holder['taken_at'], holder['expires_at'])
    for rc, result in outcomes:
        if result is not winner:
            assert rc == 1 and result['msg'].startswith(refusal), result['msg']
            assert result['holder'] == holder and result['acquired'] is False
    assert os.listdir(str(lock.parent)) == ['deploy.lock']  # no temp file left by a loser

    # The holder renews its lease (acquired: false, so a nested role would not release it), then releases it.
    rc, renewed = run_module(tmp_path, 'renew', 'deploy_lock', {'path': str(lock), 'run_id': holder['run_id'], 'hold_for': 7200})
    assert rc == 0 and renewed['acquired'] is False and renewed['renewed'] is True
    assert renewed['holder']['taken_at'] == holder['taken_at']
    rc, released = run_module(tmp_path, 'release', 'deploy_lock', {'path': str(lock), 'run_id': holder['run_id'], 'state': 'absent'})
    assert rc == 0 and released['changed'] is True and not lock.exists()


def _worker(path, run_id, start, log_path):
    """Take the lock (waiting while another run holds it), write start and end lines, release it."""
    start.wait()
    while True:
        try:
            _lock.acquire(path, run_id, run_id, 'deploy', 600)
            break
        except _lock.LockError:
            time.sleep(0.001)
    for mark in ('start', 'end'):
        with open(log_path, 'a') as handle:
            handle.write('%s %s\n' % (mark, run_id))
            handle.flush()
            os.fsync(handle.fileno())
        time.sleep(0.01)  # widen the window in which another run would interleave, were the lock broken
    assert _lock.release(path, run_id)['outcome'] == 'released'


def test_runs_that_wait_for_the_lock_never_interleave(tmp_path):
    path, log_path = str(tmp_path / 'deploy.lock'), str(tmp_path / 'log')
    start = multiprocessing.Event()
    runs = [multiprocessing.Process(target=_worker, args=(path, 'run-%d' % i, start, log_path)) for i in range(6)]
    for process in runs:
        process.start()
    start.set()
    for process in runs:
        process.join(120)
        assert process.exitcode == 0
    with open(log_path) as handle:
        lines = handle.read().split()
    pairs = list(zip(lines[0::4], lines[1::4], lines[2::4], lines[3::4]))
    assert len(pairs) == 6
    for start_mark, first, end_mark, second in pairs:
        assert (start_mark, end_mark) == ('start', 'end') and first == second, lines
    assert not os.path.exists(path)


# --------------------------------------------------------------------------- a Coolify slower than the wait

TOKEN = '9|faultsROOTtoken0123456789abcdef'
APP = 'faultsappuuid00000000001'
OLD = '4d' * 20
NEW = '5e' * 20
CONFIG = {
    'tokens': [{'token': TOKEN, 'abilities': ['root']}], 'version': '4.3.10', 'engine': 'simulated', 'simulated_step_seconds': 0.01,
    'applications': [{'uuid': APP, 'name': 'faults', 'fqdn': 'https://faults.example', 'git_branch': 'main', 'services': []}],
    'commits': {'main': [{'sha': OLD, 'message': 'old', 'env': {'APP_VERSION': '1.0.0'}},
                         {'sha': NEW, 'message': 'new', 'env': {'APP_VERSION': '2.0.0'}}]},
}


@pytest.fixture(name='coolify')
def coolify_fixture():
    with CoolifyStandIn(config=CONFIG).serve_in_thread() as running:
        yield running


def api(running, method, path, **kwargs):
    answer = requests.request(method, '%s/api/v1/%s' % (running.url, path), headers={'Authorization': 'Bearer ' + TOKEN},
                              timeout=10, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()


def deploy_args(running, **args):
    options = {'api_url': running.url, 'api_token': TOKEN, 'uuid': APP, 'poll_interval': 0.05, 'poll_max_interval': 0.1,
               'retries': 1, 'wait_timeout': 60}
    options.update(args)
    return options


def serving(running):
    """The commit the (simulated) containers run, as Coolify's rollback images say."""
    return api(running, 'GET', 'applications/%s/rollback-images' % APP)['current']


def test_coolify_slower_than_the_wait_the_deployment_is_cancelled_and_the_old_release_serves(tmp_path, coolify):
    rc, first = run_module(tmp_path, 'first', 'coolify_deploy', deploy_args(coolify, commit=OLD))
    assert rc == 0 and first['status'] == 'finished' and serving(coolify) == OLD
    slow = requests.post(coolify.url + '/_lab/coolify/slow_deployments', json={'application': APP, 'seconds': 3600}, timeout=10)
    assert slow.status_code == 200, slow.text

    rc, result = run_module(tmp_path, 'slow', 'coolify_deploy', deploy_args(coolify, commit=NEW, wait_timeout=1))
    assert rc == 1
    uuid = result['deployment_uuid']
    assert uuid and result['cancelled'] == [uuid] and result['status'] == 'cancelled-by-user'
    assert result['msg'] == ('Timed out after 1 seconds waiting for deployment %s (last status in_progress) of application faults; '
                             'cancelled it (%s); set git_commit_sha back to %s.' % (uuid, uuid, OLD))
    coolify.standin.wait_idle()
    assert api(coolify, 'GET', 'deployments/' + uuid)['status'] == 'cancelled-by-user'
    assert serving(coolify) == OLD  # Coolify never swapped in the release nobody verified
    app = api(coolify, 'GET', 'applications/' + APP)
    assert app['status'] == 'running:healthy'
    assert app['git_commit_sha'] == OLD  # no later deployment builds the cancelled commit


def test_coolify_that_stops_answering_while_deploying_the_deployment_is_cancelled_and_its_uuid_kept(tmp_path, coolify):
    rc, first = run_module(tmp_path, 'first', 'coolify_deploy', deploy_args(coolify, commit=OLD))
    assert rc == 0 and serving(coolify) == OLD
    requests.post(coolify.url + '/_lab/coolify/slow_deployments', json={'application': APP, 'seconds': 3600}, timeout=10)
    # Every read of one deployment fails from now on (the cancel and the application's reads still answer).
    fault = requests.post(coolify.url + '/_lab/faults', json={'mode': '5xx', 'status': 503, 'count': 1000,
                                                              'match': r'/api/v1/deployments/[a-z0-9]+$'}, timeout=10)
    assert fault.status_code < 300, fault.text

    rc, result = run_module(tmp_path, 'lost', 'coolify_deploy', deploy_args(coolify, commit=NEW))
    assert rc == 1
    uuid = result['deployment_uuid']
    assert uuid and result['cancelled'] == [uuid] and result['status'] == 'cancelled-by-user'
    assert result['msg'].startswith('Lost track of deployment %s (last status unknown) of application faults: '
                                    'Failed to read deployment %s: HTTP 503' % (uuid, uuid)), result['msg']
    assert result['msg'].endswith('; cancelled it (%s); set git_commit_sha back to %s.' % (uuid, OLD))
    requests.delete(coolify.url + '/_lab/faults', timeout=10)
    coolify.standin.wait_idle()
    assert api(coolify, 'GET', 'deployments/' + uuid)['status'] == 'cancelled-by-user'
    assert serving(coolify) == OLD

#!/usr/bin/env python
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rollback times on a lab host, each against a baseline measured in the same run.

    ./scripts/lab up && .venv/bin/python benchmarks/rollback_bench.py [--host clawd-lab1] [--size 1G]

1. Quick rollback: a release that turns unhealthy 10 s after boot is deployed with playbooks/deploy.yml;
   the watch window sees the failed health checks and rolls back. The deploy role records in the run
   ledger the seconds from the failure to the previous release answering healthy (goal: 30 s or less).
   Baseline: the same swap done by hand - a Coolify redeploy of the good release, timed from the API
   call to /health answering 200.
2. Full rollback with --size of data (default 1 GiB) in the app's workspace volume: a release is deployed
   (the deploy role backs the data up first), then playbooks/rollback.yml -e rollback_mode=full brings
   back the previous release and that backup (goal: 2 minutes or less). Baseline: `zstd -dc | tar -x` of
   the same archive on the host.

Changes the lab host's app (releases, data); run it on a lab you can reset (scripts/lab down).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

from bench_common import REPO, parse_size

BIN = os.path.join(REPO, '.venv', 'bin')
STATE = os.environ.get('CLAWD_STATE', os.path.join(REPO, '.lab'))
LEDGER = os.path.join(STATE, 'ledger.jsonl')


def sh(argv, **kwargs):
    return subprocess.run(argv, cwd=REPO, check=True, capture_output=True, text=True, **kwargs).stdout.strip()


def release(version, *knobs):
    return sh([os.path.join(REPO, 'scripts', 'lab'), 'release', version] + list(knobs)).splitlines()[-1]


def playbook(name, host, extra, env):
    """Run a playbook on one host; wall seconds, exit code and the ledger records of this run."""
    run_id = 'bench-%s' % uuid.uuid4().hex[:10]
    started = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), 'playbooks/%s' % name, '-l', host, '-e', json.dumps(extra)],
                          cwd=REPO, env=dict(env, CLAWD_RUN_ID=run_id), capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    records = []
    if os.path.exists(LEDGER):
        with open(LEDGER, encoding='utf-8') as handle:
            records = [r for r in (json.loads(line) for line in handle if line.strip()) if r.get('run_id') == run_id]
    if proc.returncode not in (0, 2):
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-2000:])
    return seconds, proc.returncode, records


def host_vars(host, env):
    out = sh([os.path.join(BIN, 'ansible-inventory'), '--host', host], env=env)
    return json.loads(out)


def coolify(hostvars, method, path, body=None):
    import requests  # from .venv
    answer = requests.request(method, '%s%s' % (hostvars['clawd_coolify_api_url'], path), json=body, timeout=30,
                              headers={'Authorization': 'Bearer %s' % open(os.path.join(STATE, 'secrets', 'coolify_api_token'),
                                                                           encoding='utf-8').read().strip()})
    answer.raise_for_status()
    return answer.json()


def healthy(hostvars):
    """Whether /health answers 200 through the host's TLS proxy (curl resolves the lab name itself)."""
    fqdn = hostvars['clawd_lab_fqdn']
    proc = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3',
                           '--resolve', '%s:443:%s' % (fqdn, hostvars['clawd_lab_address']), '--cacert', hostvars['clawd_app_ca_path'],
                           'https://%s/health' % fqdn], capture_output=True, text=True, check=False)
    return proc.stdout.strip() == '200'


def baseline_swap(hostvars):
    """A Coolify redeploy of the running release by hand: API call to /health 200."""
    uuid_ = hostvars['clawd_coolify_app_uuid']
    started = time.monotonic()
    dep = coolify(hostvars, 'POST', '/deploy', {'uuid': uuid_})['deployments'][0]['deployment_uuid']
    while coolify(hostvars, 'GET', '/deployments/%s' % dep)['status'] in ('queued', 'in_progress'):
        time.sleep(0.2)
    while not healthy(hostvars):
        time.sleep(0.2)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--host', default='clawd-lab1')
    parser.add_argument('--size', default='1G', help='data in the workspace volume for the full rollback (default 1G)')
    args = parser.parse_args()
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get('PATH', ''), ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    hostvars = host_vars(args.host, env)
    common = {'deploy_window_enabled': False, 'deploy_watch_interval': 1}
    host_resolved = dict(hostvars)
    host_resolved['clawd_app_url'] = 'https://%s' % hostvars['clawd_lab_fqdn']
    host_resolved['clawd_app_ca_path'] = os.path.join(hostvars['clawd_lab_dir'], 'tls', 'ca.crt')
    host_resolved['clawd_coolify_api_url'] = 'http://127.0.0.1:%s/api/v1' % os.environ.get('CLAWD_PORT_COOLIFY', '17001')
    host_resolved['clawd_coolify_app_uuid'] = json.load(open(os.path.join(hostvars['clawd_lab_dir'], 'coolify-app.json'),
                                                             encoding='utf-8'))['uuid']

    stamp = time.strftime('%H%M%S')
    good = release('9.0.%s-good' % stamp)
    seconds, code = playbook('deploy.yml', args.host, dict(common, deploy_commit=good, deploy_watch_seconds=3), env)[:2]
    print('deployed the good release %s in %.1f s (exit %d)' % (good[:8], seconds, code))
    if code:
        return 1

    print('\n== quick rollback: failed health check -> previous release healthy')
    swap = baseline_swap(host_resolved)
    print('baseline, a Coolify redeploy by hand (API call -> /health 200): %.1f s' % swap)
    decaying = release('9.1.%s-decaying' % stamp, 'APP_UNHEALTHY_AFTER=10')
    seconds, code, records = playbook('deploy.yml', args.host, dict(common, deploy_commit=decaying, deploy_watch_seconds=40,
                                                                    deploy_backup_before=False), env)
    record = next((r for r in records if r.get('kind') == 'deploy'), {})
    print('deploy of the decaying release: %.1f s, exit %d, result %s' % (seconds, code, record.get('result')))
    rollback_seconds = record.get('rollback_seconds')
    if record.get('result') != 'rolled_back' or rollback_seconds is None:
        print('the release was not rolled back: %s' % record.get('reason'))
        return 1
    print('failed health check -> previous release healthy: %.1f s (goal <= 30 s); %.2fx the baseline swap'
          % (float(rollback_seconds), float(rollback_seconds) / swap))

    print('\n== full rollback with %s of data' % args.size)
    size = parse_size(args.size)
    volume = sh(['docker', 'volume', 'inspect', '-f', '{{.Mountpoint}}', '%s-workspace' % hostvars['clawd_lab_name']])
    data = os.path.join(volume, 'bench-data')
    os.makedirs(data, exist_ok=True)
    chunk = 64 << 20
    for index in range(max(1, size // chunk)):
        with open(os.path.join(data, 'part-%03d.bin' % index), 'wb') as handle:
            handle.write(os.urandom(chunk // 2) + bytes(chunk // 2))  # half random, half compressible
    newer = release('9.2.%s-newer' % stamp)
    seconds, code, records = playbook('deploy.yml', args.host, dict(common, deploy_commit=newer, deploy_watch_seconds=3), env)
    backup_id = next((r.get('backup_id') for r in records if r.get('kind') == 'deploy'), '')
    print('deployed %s after backing up the data (%s) in %.1f s (exit %d)' % (newer[:8], backup_id, seconds, code))
    if code or not backup_id:
        return 1
    with open(os.path.join(data, 'written-by-newer.txt'), 'w', encoding='utf-8') as handle:
        handle.write('newer data\n')
    seconds, code, records = playbook('rollback.yml', args.host, {'rollback_mode': 'full', 'rollback_to': good}, env)
    record = next((r for r in records if r.get('kind') == 'rollback'), {})
    print('full rollback to %s with %s restored: %.1f s wall (playbook), %s s recorded, exit %d (goal <= 120 s)'
          % (good[:8], record.get('backup_id'), seconds, record.get('duration'), code))
    base = time.monotonic()
    sh(['docker', 'exec', args.host, 'sh', '-c', 'rm -rf /tmp/bench-restore && mkdir /tmp/bench-restore && '
        'zstd -dc /var/backups/clawd/%s | tar -x -C /tmp/bench-restore && rm -rf /tmp/bench-restore' % backup_id])
    raw = time.monotonic() - base
    print('baseline, zstd -dc | tar -x of the same archive on the host: %.1f s; full rollback = %.2fx the baseline'
          % (raw, seconds / raw))
    shutil.rmtree(data, ignore_errors=True)
    return 0 if code == 0 else 1


if __name__ == '__main__':
    sys.exit(main())

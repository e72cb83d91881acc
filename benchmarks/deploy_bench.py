#!/usr/bin/env python
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One deploy of one lab host (gates, backup, deploy, verify, watch), its Ansible overhead apart from its waits.

    ./scripts/lab up && .venv/bin/python benchmarks/deploy_bench.py [--host clawd-lab1] [--watch 20] [--runs 2]

Each run commits a new release to the lab's app repository and deploys it with playbooks/deploy.yml and
ansible.posix.profile_tasks; the tasks' seconds are split into
  waits    - Coolify building and swapping the containers, the app turning healthy, the watch window;
  backup   - the pre-deploy backup and its verification (real work on the host);
  the rest - every other task: gates, lock, reads, verification calls, the ledger: Ansible's overhead;
and Python's start and the play's own bookkeeping (wall minus the sum of the tasks). The baseline, measured in
the same run, is an `ansible -m ping` of the same host: the rest is printed as a multiple of it.
Changes the lab host's release; run it on a lab you can reset (scripts/lab down).
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import re
import statistics
import subprocess
import time

from bench_common import REPO
from rollback_bench import BIN, release

WAITS = ('Deploy the release through Coolify and wait', 'Wait until the app answers healthy', 'Watch health and logs')
BACKUP = ('Take a backup before the release changes', 'Verify the newest backup', 'clawd.ops.backup :')
TASK_LINE = re.compile(r'^(?P<name>.+?) -+ (?P<seconds>[0-9.]+)s$')


def timed(argv, env):
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    return time.monotonic() - started, proc


def split(output):
    """Seconds of the waits, the backup and the rest from profile_tasks' recap."""
    parts = {'waits': 0.0, 'backup': 0.0, 'rest': 0.0}
    recap = output.split('TASKS RECAP', 1)[-1]
    for line in recap.splitlines():
        found = TASK_LINE.match(line.strip())
        if not found:
            continue
        name, seconds = found.group('name'), float(found.group('seconds'))
        if any(w in name for w in WAITS):
            parts['waits'] += seconds
        elif any(b in name for b in BACKUP):
            parts['backup'] += seconds
        else:
            parts['rest'] += seconds
    return parts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--host', default='clawd-lab1')
    parser.add_argument('--watch', type=int, default=20, help='deploy_watch_seconds (default 20)')
    parser.add_argument('--runs', type=int, default=2)
    args = parser.parse_args()
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get('PATH', ''), ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default',
               ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks,clawd.ops.ledger', PROFILE_TASKS_TASK_OUTPUT_LIMIT='all')
    ping = [os.path.join(BIN, 'ansible'), args.host, '-m', 'ansible.builtin.ping']
    rows = []
    for run in range(args.runs):
        ping_seconds, _proc = timed(ping, env)
        commit = release('9.5.%s-%d' % (time.strftime('%H%M%S'), run))
        extra = '{"deploy_commit": "%s", "deploy_watch_seconds": %d, "deploy_window_enabled": false}' % (commit, args.watch)
        wall, proc = timed([os.path.join(BIN, 'ansible-playbook'), 'playbooks/deploy.yml', '-l', args.host, '-e', extra], env)
        if proc.returncode != 0:
            print(proc.stdout[-3000:] + proc.stderr[-2000:])
            return 1
        parts = split(proc.stdout)
        parts.update(wall=wall, ping=ping_seconds, start=wall - parts['waits'] - parts['backup'] - parts['rest'])
        rows.append(parts)
        print('run %d: wall %.1f s = waits %.1f + backup %.1f + other tasks %.1f + start/bookkeeping %.1f; ping %.2f s'
              % (run + 1, wall, parts['waits'], parts['backup'], parts['rest'], parts['start'], ping_seconds))
    median = dict((key, statistics.median(row[key] for row in rows)) for key in rows[0])
    overhead = median['rest'] + median['start']
    print('median: wall %.1f s, waits %.1f s (watch %d s), backup %.1f s, Ansible overhead %.1f s = %.1fx an ansible -m ping (%.2f s)'
          % (median['wall'], median['waits'], args.watch, median['backup'], overhead, overhead / median['ping'], median['ping']))
    print('load average (1, 5, 15 min): %.2f %.2f %.2f' % os.getloadavg())
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

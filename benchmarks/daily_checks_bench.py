#!/usr/bin/env python
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The daily checks on N lab hosts against `ansible -m ping` on the same hosts, in the same run.

    .venv/bin/python benchmarks/daily_checks_bench.py                 # the lab as it runs now
    .venv/bin/python benchmarks/daily_checks_bench.py --lab-up 20     # first `scripts/lab up --hosts 20` (changes the lab!)
    .venv/bin/python benchmarks/daily_checks_bench.py --lab-up 100 --prepared   # hosts from the prepared image

Runs the two commands in turn (ping, checks, ping, checks, ...) after one warm-up pair, and prints
each one's wall time (minimum and median) and the ratio checks / ping pair by pair (median quoted).
The goal (issue 12) is a ratio of 3 or less on 20 hosts, and the same on 100 (issue #6 asked for 4).
The playbook's reports go to a scratch folder; its exit code is printed, not judged (a lab host without a backup fails the run on purpose).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(REPO, '.venv', 'bin')
GOAL = 3  # checks / ping, on 20 and on 100 hosts


def run(argv, env, log):
    """Wall seconds of one run of argv, and its exit code; its output goes to log."""
    started = time.monotonic()
    with open(log, 'ab') as out:
        code = subprocess.call(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    return time.monotonic() - started, code


def count_hosts(inventory, pattern, env):
    out = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', inventory, '--list'], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    groups = json.loads(out)
    return len((groups.get(pattern) or {}).get('hosts', [])) + sum(
        len((groups.get(child) or {}).get('hosts', [])) for child in (groups.get(pattern) or {}).get('children', []))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=5, help='counted pairs (default 5)')
    parser.add_argument('--inventory', default='inventories/lab')
    parser.add_argument('--pattern', default='lab', help='hosts of the ping (the playbook runs on app_hosts, which holds them)')
    parser.add_argument('--lab-up', type=int, metavar='N', help='run `scripts/lab up --hosts N` first (changes the shared lab)')
    parser.add_argument('--prepared', action='store_true',
                        help='with --lab-up: the hosts start from the prepared lab host image (server_setup applied), then '
                             'playbooks/provision.yml runs as deploy on all of them (100 first contacts as root would take an hour)')
    parser.add_argument('--mode', default='daily', choices=['daily', 'quick'], help='daily_checks_mode of the playbook')
    parser.add_argument('-e', '--extra-vars', action='append', default=[], help='more extra vars for the playbook')
    parser.add_argument('--workdir', help='scratch folder for the reports and the logs (default: a new temporary folder)')
    args = parser.parse_args()

    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get('PATH', ''), ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    if args.lab_up:
        subprocess.check_call([os.path.join(REPO, 'scripts', 'lab'), 'up', '--hosts', str(args.lab_up)]
                              + (['--prepared'] if args.prepared else []), cwd=REPO, env=env)
        if args.prepared:
            # server_setup is in the image: provisioning as deploy finds it done and connects the integrations.
            subprocess.check_call([os.path.join(BIN, 'ansible-playbook'), 'playbooks/provision.yml', '-i', args.inventory],
                                  cwd=REPO, env=env)
        else:
            # New lab hosts are bare servers: first contact as root, as on a new VPS.
            subprocess.check_call([os.path.join(REPO, 'scripts', 'lab'), 'provision'], cwd=REPO, env=env)
    workdir = args.workdir or tempfile.mkdtemp(prefix='clawd-daily-bench-')
    os.makedirs(workdir, exist_ok=True)
    hosts = count_hosts(args.inventory, args.pattern, env)
    if hosts == 0:
        sys.exit('No hosts in group %s of %s: bring the lab up first (scripts/lab up --hosts 20)' % (args.pattern, args.inventory))

    ping = [os.path.join(BIN, 'ansible'), args.pattern, '-i', args.inventory, '-m', 'ansible.builtin.ping']
    checks = [os.path.join(BIN, 'ansible-playbook'), 'playbooks/daily_checks.yml', '-i', args.inventory,
              '-e', 'daily_checks_reports_dir=%s' % os.path.join(workdir, 'reports'), '-e', 'daily_checks_mode=%s' % args.mode]
    for extra in args.extra_vars:
        checks += ['-e', extra]
    print('daily checks vs ping on %d hosts, %d counted pairs after one warm-up pair; logs and reports in %s' % (hosts, args.runs, workdir))

    times = {'ping': [], 'checks': []}
    codes = {'ping': set(), 'checks': set()}
    ratios = []
    for index in range(args.runs + 1):
        pair = {}
        for name, argv in (('ping', ping), ('checks', checks)):
            pair[name], code = run(argv, env, os.path.join(workdir, '%s.log' % name))
            codes[name].add(code)
        if index == 0:
            continue  # warm-up: caches, the first fact-free connection, compiled modules
        for name in times:
            times[name].append(pair[name])
        ratios.append(pair['checks'] / pair['ping'])
        print('  pair %d: ping %.2f s, checks %.2f s, ratio %.2f' % (index, pair['ping'], pair['checks'], ratios[-1]))

    for name in ('ping', 'checks'):
        print('%-7s wall s: min %.2f  median %.2f  max %.2f  (exit codes %s)' % (
            name, min(times[name]), statistics.median(times[name]), max(times[name]), sorted(codes[name])))
    ratio = statistics.median(ratios)
    print('ratio checks / ping (median of pairs): %.2f  (min %.2f, max %.2f; goal <= %g: %s)' % (
        ratio, min(ratios), max(ratios), GOAL, 'met' if ratio <= GOAL else 'NOT met'))
    print('load average (1, 5, 15 min): %.2f %.2f %.2f' % os.getloadavg())


if __name__ == '__main__':
    main()

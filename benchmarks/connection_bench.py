# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time per task: the docker connection the lab used to reach its hosts, against SSH as a VPS is reached.

Starts one lab host from the prepared lab host image (a server provisioning already prepared:
the deploy user with the lab operator's key) on a spare loopback address, and runs the same
playbook of N small tasks (command, stat, copy, a clawd.ops module) against it four ways:

  docker        community.docker.docker connection, as root (the lab before: no SSH at all)
  ssh           SSH as deploy, pipelining and ControlPersist (the lab now, and a VPS)
  ssh+become    the same, every task through sudo (what roles do where root is needed)
  ssh-plain     SSH as deploy without pipelining (what an ansible.cfg without it costs)

Each way runs --runs times; it prints the median seconds per task of each way and its ratio to
the docker connection measured in the same run (a baseline, never a fixed number). Needs the
lab's images and key (scripts/lab up has made them):

  .venv/bin/python benchmarks/connection_bench.py [--tasks 30] [--runs 3]
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import REPO

STATE = os.environ.get('CLAWD_STATE', os.path.join(REPO, '.lab'))
KEY = os.path.join(STATE, 'secrets', 'ssh', 'id_ed25519')
SSH_ARGS = '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'

PLAYBOOK = """---
- name: Small tasks, one after the other
  hosts: bench
  gather_facts: false
  tasks:
    - name: Run the tasks
      ansible.builtin.include_tasks: tasks.yml
      loop: "{{{{ range({rounds}) | list }}}}"
"""

TASKS = """---
- name: Run a command
  ansible.builtin.command: "true"
  changed_when: false
- name: Read a file's state
  ansible.builtin.stat:
    path: /etc/hostname
- name: Write a small file
  ansible.builtin.copy:
    dest: /tmp/clawd-bench.txt
    content: "bench\\n"
    mode: "0644"
- name: Run a module of the collection
  clawd.ops.run_ledger_info:
    path: /tmp/clawd-bench-none.jsonl
"""


def ways(name, address):
    common = ['-e', 'ansible_python_interpreter=/usr/bin/python3']
    ssh = common + ['-e', 'ansible_connection=ssh', '-e', 'ansible_host=%s' % address, '-e', 'ansible_user=deploy',
                    '-e', 'ansible_ssh_private_key_file=%s' % KEY, '-e', 'ansible_ssh_common_args="%s"' % SSH_ARGS]
    return [
        ('docker', common + ['-e', 'ansible_connection=community.docker.docker', '-e', 'ansible_host=%s' % name], {}),
        ('ssh', ssh, {'ANSIBLE_PIPELINING': 'true'}),
        ('ssh+become', ssh + ['-e', 'ansible_become=true'], {'ANSIBLE_PIPELINING': 'true'}),
        ('ssh-plain', ssh, {'ANSIBLE_PIPELINING': 'false'}),
    ]


def run(workdir, extra, env_extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'), **env_extra)
    cmd = ['ansible-playbook', '-i', os.path.join(workdir, 'inventory.ini'), os.path.join(workdir, 'bench.yml')] + extra
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        sys.exit('benchmark playbook failed:\n%s\n%s' % (done.stdout[-3000:], done.stderr[-2000:]))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--tasks', type=int, default=40, help='tasks per run (a multiple of 4)')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--address', default='127.0.1.240')
    parser.add_argument('--image', help='a prepared lab host image (default: the one of this lab, made if missing)')
    args = parser.parse_args()
    if not args.image:
        # The prepared image carries this lab's key: ask the lab's own script for its tag.
        args.image = subprocess.run(['bash', '-c', '. scripts/lib.sh && ensure_lab_images >/dev/null && ensure_prepared_host_image'],
                                    cwd=REPO, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    rounds = max(1, args.tasks // 4)
    tasks = rounds * 4 + rounds  # each round is one include too
    name = 'clawd-connection-bench'
    subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)
    subprocess.run(['docker', 'run', '-d', '--name', name, '--network', 'host', '-e', 'CLAWD_LAB_SSH_LISTEN=' + args.address,
                    args.image], check=True, capture_output=True)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            with open(os.path.join(workdir, 'bench.yml'), 'w') as handle:
                handle.write(PLAYBOOK.format(rounds=rounds))
            with open(os.path.join(workdir, 'tasks.yml'), 'w') as handle:
                handle.write(TASKS)
            with open(os.path.join(workdir, 'inventory.ini'), 'w') as handle:
                handle.write('[bench]\nbench\n')
            found = {}
            for way, extra, env_extra in ways(name, args.address):
                run(workdir, extra, env_extra)  # warm-up: connection, host key, interpreter
                found[way] = [run(workdir, extra, env_extra) for attempt in range(args.runs)]
    finally:
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)
    base = statistics.median(found['docker']) / tasks
    print('%d tasks per run, %d runs each (median, whole ansible-playbook run / tasks)' % (tasks, args.runs))
    for way, times in found.items():
        per = statistics.median(times) / tasks
        print('  %-11s %6.0f ms per task  (min %.0f, max %.0f)  %.2fx the docker connection'
              % (way, per * 1000, min(times) / tasks * 1000, max(times) / tasks * 1000, per / base))


if __name__ == '__main__':
    main()

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Waits that last minutes show progress at least every 30 s (issue 17, part 7): the Coolify deployment wait and the watch
window of the deploy role run in the background and are polled; a polled task prints a line at each poll."""

import os
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
# (file, module, its async): the deployment runs in the foreground when the preview found nothing to deploy.
LONG_WAITS = [('roles/deploy/tasks/release.yml', 'clawd.ops.coolify_deploy',
               "{{ (deploy_coolify_timeout | int + 120) if __deploy_preview.changed else 0 }}"),
              ('roles/deploy/tasks/watch.yml', 'clawd.ops.app_watch', "{{ deploy_watch_seconds | int + 120 }}")]


def task_of(path, module):
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        tasks = yaml.safe_load(handle)
    found = [t for t in tasks if module in t]
    assert len(found) == 1, (path, module)
    return found[0]


def test_each_long_wait_is_polled_at_most_every_30_seconds_and_outlives_its_own_timeout():
    with open(os.path.join(ROOT, 'roles/deploy/defaults/main.yml'), encoding='utf-8') as handle:
        defaults = yaml.safe_load(handle)
    assert 0 < defaults['deploy_progress_interval'] <= 30
    for path, module, async_val in LONG_WAITS:
        task = task_of(path, module)
        assert task.get('poll') == "{{ [deploy_progress_interval | int, 30] | min }}", (path, task.get('poll'))
        assert task.get('async') == async_val, (path, task.get('async'))


def test_a_task_whose_async_templates_to_zero_runs_in_the_foreground(tmp_path):
    """A deployment with nothing to deploy runs its module in the foreground: no first poll to wait for."""
    playbook = tmp_path / 'foreground.yml'
    playbook.write_text("""
- name: A wait that is not needed
  hosts: localhost
  gather_facts: false
  vars:
    preview: {changed: false}
  tasks:
    - name: Answer at once
      ansible.builtin.command: "true"
      changed_when: false
      async: "{{ 30 if preview.changed else 0 }}"
      poll: 15
""")
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    result = subprocess.run([os.path.join(BIN, 'ansible-playbook'), str(playbook)], capture_output=True, text=True, env=env,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'ASYNC' not in result.stdout, result.stdout


def test_a_polled_task_prints_its_progress(tmp_path):
    playbook = tmp_path / 'polled.yml'
    playbook.write_text("""
- name: A wait in the background
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait a few seconds, polled every second
      ansible.builtin.command: sleep 3
      changed_when: false
      async: 30
      poll: 1
""")
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    result = subprocess.run([os.path.join(BIN, 'ansible-playbook'), str(playbook)], capture_output=True, text=True, env=env,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count('ASYNC POLL on localhost') >= 1

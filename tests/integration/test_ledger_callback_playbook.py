# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ledger callback in real ansible-playbook runs: one that succeeds, one that fails with a secret around."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
SECRET = 'S3cr3t-Token-Value-9f8e7d'
PLAIN = 'v-unique-777'

OK_PLAYBOOK = """
- name: A run that succeeds
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
    - name: Save the run id the callback exported
      ansible.builtin.copy:
        content: "{{ lookup('ansible.builtin.env', 'CLAWD_RUN_ID') }}"
        dest: "{{ run_id_file }}"
        mode: '0600'
"""

FAIL_PLAYBOOK = """
- name: A run that fails
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Use the deploy version in an argument
      ansible.builtin.debug:
        msg: "deploying {{ deploy_version }}"
    - name: A quiet failure, rescued
      block:
        - name: Use the token quietly
          ansible.builtin.command: "false {{ api_token }}"
          no_log: true
          changed_when: false
      rescue:
        - name: Carry on
          ansible.builtin.debug:
            msg: rescued
    - name: Fail with the token in the message
      ansible.builtin.fail:
        msg: "cannot log in with token {{ api_token }}"
"""


@pytest.fixture
def ansible_env(tmp_path):
    link_root = tmp_path / 'collections' / 'ansible_collections' / 'clawd'
    link_root.mkdir(parents=True)
    os.symlink(ROOT, str(link_root / 'ops'))
    env = dict(os.environ)
    env.update({
        'ANSIBLE_CONFIG': os.path.join(ROOT, 'ansible.cfg'),
        'ANSIBLE_COLLECTIONS_PATH': '%s:%s' % (tmp_path / 'collections', os.path.join(ROOT, '.lab', 'collections')),
        'ANSIBLE_CALLBACKS_ENABLED': 'clawd.ops.ledger',
        'CLAWD_LEDGER_PATH': str(tmp_path / 'state' / 'ledger.jsonl'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'PATH': BIN + os.pathsep + env.get('PATH', ''),
    })
    env.pop('CLAWD_RUN_ID', None)
    return env


def run_playbook(env, tmp_path, text, *args):
    playbook = tmp_path / 'playbook.yml'
    playbook.write_text(text)
    command = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(playbook)] + list(args)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def records(env):
    with open(env['CLAWD_LEDGER_PATH']) as handle:
        text = handle.read()
    return text, [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_successful_and_a_failed_run_are_recorded_without_secrets(ansible_env, tmp_path):
    run_id_file = tmp_path / 'run_id'
    done = run_playbook(ansible_env, tmp_path, OK_PLAYBOOK, '-e', 'run_id_file=%s' % run_id_file, '--tags', 'all')
    assert done.returncode == 0, done.stdout + done.stderr
    assert '[WARNING]: clawd.ops.ledger' not in done.stderr
    text, (first,) = records(ansible_env)
    assert first['kind'] == 'playbook' and first['result'] == 'ok'
    assert first['playbook'] == str(tmp_path / 'playbook.yml')
    assert first['hosts'] == {'localhost': {'ok': 2, 'changed': 1, 'failed': 0, 'unreachable': 0,
                                            'skipped': 0, 'rescued': 0, 'ignored': 0}}
    assert first['run_id'] == run_id_file.read_text()  # what the play saw in CLAWD_RUN_ID
    assert first['extra_var_names'] == ['run_id_file']
    assert first['check_mode'] is False and first['failed_tasks'] == []
    assert oct(os.stat(ansible_env['CLAWD_LEDGER_PATH']).st_mode & 0o777) == '0o600'

    failed = run_playbook(ansible_env, tmp_path, FAIL_PLAYBOOK, '-e', 'api_token=%s' % SECRET,
                          '-e', 'deploy_version=%s' % PLAIN, '--limit', 'localhost')
    assert failed.returncode == 2, failed.stdout + failed.stderr
    text, (first_again, second) = records(ansible_env)
    assert first_again == first
    assert second['result'] == 'failed'
    assert second['run_id'] != first['run_id']
    assert second['limit'] == 'localhost'
    assert second['extra_var_names'] == ['api_token', 'deploy_version']
    stats = second['hosts']['localhost']
    assert (stats['failed'], stats['rescued'], stats['ok']) == (1, 1, 2)
    assert [(t['task'], t['host']) for t in second['failed_tasks']] == [
        ('Use the token quietly', 'localhost'), ('Fail with the token in the message', 'localhost')]
    assert second['failed_tasks'][0]['msg'] == 'the output has been hidden due to no_log: true'
    assert second['failed_tasks'][1]['msg'] == 'cannot log in with token ***'
    assert SECRET not in text
    assert PLAIN not in text  # task arguments and extra var values are never recorded


def test_an_unwritable_ledger_only_warns(ansible_env, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    ansible_env['CLAWD_LEDGER_PATH'] = str(blocker / 'ledger.jsonl')
    done = run_playbook(ansible_env, tmp_path, OK_PLAYBOOK, '-e', 'run_id_file=%s' % (tmp_path / 'run_id'))
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'clawd.ops.ledger: could not write the run ledger (the run goes on)' in done.stdout + done.stderr

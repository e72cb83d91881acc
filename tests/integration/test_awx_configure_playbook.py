# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/awx_configure.yml in real ansible-playbook runs: its syntax, and a check-mode run with no AWX to reach,
which must fail saying so, before any awx.awx task, without printing the token."""

import os
import socket
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
TOKEN = 'awx-T0ken-never-printed-3c2b1a'


def ansible_playbook(*args):
    env = dict(os.environ)
    site = [p for p in sys.path if p.endswith('site-packages')]  # awx.awx, bundled with the ansible package
    env['ANSIBLE_COLLECTIONS_PATH'] = ':'.join([os.path.join(ROOT, '.lab', 'collections')] + site)
    env['ANSIBLE_NOCOLOR'] = '1'
    return subprocess.run([os.path.join(BIN, 'ansible-playbook')] + list(args) + [os.path.join(ROOT, 'playbooks', 'awx_configure.yml')],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_syntax():
    result = ansible_playbook('--syntax-check')
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_mode_without_awx_fails_clearly_before_touching_anything():
    url = 'http://127.0.0.1:%d' % closed_port()
    result = ansible_playbook('--check', '-e', 'awx_config_host=' + url, '-e', 'awx_config_project_scm_url=https://git.example.com/ops.git',
                              '-e', 'awx_config_token=' + TOKEN)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert 'Failed to reach AWX at %s' % url in out
    assert 'Connection refused' in out and 'nothing was changed' in out
    assert 'awx.awx' not in out and 'Create the credential type' not in out
    assert TOKEN not in out


def test_missing_host_or_login_is_named():
    result = ansible_playbook('--check', '-e', 'awx_config_project_scm_url=https://git.example.com/ops.git')
    out = result.stdout + result.stderr
    assert result.returncode == 2
    assert 'awx_config_host' in out

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""app_watch against the real Docker engine: a sample-app container of its own that logs errors, and a quiet one.

Needs a Docker engine and the lab's app image ($CLAWD_IMAGE_APP, else clawd-lab-app:latest); skipped without them.
Containers are named clawdtest-watch-* and removed in a finalizer.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
IMAGE = os.environ.get('CLAWD_IMAGE_APP') or 'clawd-lab-app:latest'

PLAYBOOK = """
- name: Watch a container
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Watch it
      clawd.ops.app_watch:
        containers: ["{{ container }}"]
        duration: "{{ duration }}"
        interval: 2
        thresholds: {errors: 10}
      register: watch
    - name: Save the result
      ansible.builtin.copy:
        content: "{{ watch | to_json }}"
        dest: "{{ out }}"
        mode: '0600'
"""


def _docker(*args):
    return subprocess.run(['docker'] + list(args), capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope='module')
def engine():
    try:
        if _docker('info').returncode != 0:
            pytest.skip('no Docker engine answers')
    except OSError:
        pytest.skip('no docker client')
    if _docker('image', 'inspect', IMAGE).returncode != 0:
        pytest.skip('image %s is not built (scripts/lab up builds it)' % IMAGE)


@pytest.fixture
def container(engine):
    names = []

    def start(**env):
        name = 'clawdtest-watch-%s' % uuid.uuid4().hex[:8]
        args = ['run', '-d', '--name', name, '--network', 'host', '--label', 'clawdtest=watch',
                '-e', 'APP_ROLE=backup', '-e', 'APP_DATA_DIRS=']
        for key, value in env.items():
            args += ['-e', '%s=%s' % (key, value)]
        done = _docker(*(args + [IMAGE]))
        assert done.returncode == 0, done.stderr
        names.append(name)
        return name

    yield start
    for name in names:
        _docker('rm', '-f', name)


def watch(tmp_path, name, duration):
    link_root = tmp_path / 'collections' / 'ansible_collections' / 'clawd'
    link_root.mkdir(parents=True, exist_ok=True)
    if not (link_root / 'ops').exists():
        os.symlink(ROOT, str(link_root / 'ops'))
    playbook = tmp_path / 'watch.yml'
    playbook.write_text(PLAYBOOK)
    out = tmp_path / 'watch.json'
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH='%s:%s' % (tmp_path / 'collections', os.path.join(ROOT, '.lab', 'collections')))
    done = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(playbook),
                           '-e', 'container=%s' % name, '-e', 'duration=%s' % duration, '-e', 'out=%s' % out],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def test_a_noisy_container_breaches_early(container, tmp_path):
    name = container(APP_LOG_ERRORS_PER_MIN='600')
    result = watch(tmp_path, name, 30)
    assert result['breached'] is True, result
    assert result['reason'].startswith('errors: ')
    assert ' (threshold 10) in %s; last: ' % name in result['reason']
    assert 'ERROR upstream request failed: simulated error' in result['reason']
    assert result['elapsed'] < 20
    assert result['counts']['errors'] > 10
    print(result['elapsed'], result['reason'])


def test_a_quiet_container_passes(container, tmp_path):
    name = container()
    result = watch(tmp_path, name, 4)
    assert result['breached'] is False, result
    assert result['counts'] == {'errors': 0, 'unauthorized': 0, 'rate_limit': 0}
    assert len(result['samples']) >= 2

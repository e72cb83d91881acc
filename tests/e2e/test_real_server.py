# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab host is a real server: reached over SSH, root refused once provisioned, nothing of ours preinstalled.

Runs after the lab hosts were provisioned (scripts/test runs the README's commands first, which
provision them as root on first contact).
"""

import os
import subprocess
import time

import pytest

from conftest import STATE, ansible

KEY = os.path.join(STATE, 'secrets', 'ssh', 'id_ed25519')
BARE_IMAGE = os.environ.get('CLAWD_IMAGE_HOST', 'clawd-lab-host:latest')
SPARE_ADDRESS = '127.0.1.241'


def ssh(user, address, command='true'):
    """One SSH login from this machine with the lab operator's key, no shared connection."""
    return subprocess.run(
        ['ssh', '-i', KEY, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'StrictHostKeyChecking=no',
         '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ControlMaster=no', '-o', 'ControlPath=none',
         '%s@%s' % (user, address), command], capture_output=True, text=True, timeout=60, check=False)


def test_provisioned_hosts_refuse_root_and_let_deploy_become_root(hosts):
    for host in hosts:
        root = ssh('root', host.address)
        assert root.returncode == 255 and 'Permission denied' in root.stderr, (host.name, root.stderr)
        deploy = ssh('deploy', host.address, 'id -un; sudo -n id -u')
        assert deploy.returncode == 0 and deploy.stdout.split() == ['deploy', '0'], (host.name, deploy.stdout, deploy.stderr)


@pytest.mark.parametrize('library', ['docker', 'requests', 'zstandard', 'boto3'])
def test_the_bare_host_image_has_none_of_our_python_libraries(library):
    found = subprocess.run(['docker', 'run', '--rm', '--network', 'none', '--entrypoint', 'python3', BARE_IMAGE, '-c', 'import ' + library],
                           capture_output=True, text=True, timeout=120, check=False)
    assert found.returncode == 1 and "No module named '%s'" % library in found.stderr, found.stderr


@pytest.fixture(name='bare_host')
def bare_host_fixture():
    """A new bare lab host on a spare address, root login by the lab operator's key."""
    name = 'clawd-e2e-bare-host'
    with open(KEY + '.pub', encoding='utf-8') as handle:
        key = handle.read().strip()
    subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)
    subprocess.run(['docker', 'run', '-d', '--name', name, '--network', 'host', '-e', 'CLAWD_LAB_SSH_LISTEN=' + SPARE_ADDRESS,
                    '-e', 'CLAWD_LAB_ROOT_KEY=' + key, BARE_IMAGE], check=True, capture_output=True)
    try:
        # boot.sh makes the host keys before sshd starts: seconds at idle, more while the Molecule lanes load
        # the machine (12 s were not enough on CI). Wait for sshd's own "Server listening" line, then log in.
        logs = ''
        for attempt in range(900):  # pylint: disable=unused-variable
            logs = subprocess.run(['docker', 'logs', name], capture_output=True, text=True, check=False).stderr
            if 'Server listening on %s' % SPARE_ADDRESS in logs:
                break
            time.sleep(0.2)
        login = ssh('root', SPARE_ADDRESS)
        if login.returncode != 0:
            pytest.fail('the new bare host does not take root\'s key: %s; its log: %s' % (login.stderr.strip(), logs.strip()))
        yield SPARE_ADDRESS
    finally:
        subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)


def test_a_host_that_was_not_prepared_names_the_missing_library_and_the_role(bare_host):
    result = ansible('ansible', 'all', '-i', bare_host + ',', '-u', 'root', '--private-key', KEY,
                     '-e', 'ansible_python_interpreter=/usr/bin/python3',
                     '-e', 'ansible_ssh_common_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"',
                     '-m', 'clawd.ops.docker_cleanup', '-a', 'dangling_images=true', check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'Failed to import the required Python library (docker)' in result.stdout
    assert 'clawd.ops.server_setup role (playbooks/provision.yml)' in result.stdout

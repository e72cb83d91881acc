# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario provision: what the server_setup role left on a lab host, and what it said it could not run there.

A lab host is a container (no systemd, read-only /proc/sys, no netfilter, no swapon): for those features
the role must write the configuration and report it as configured-not-active, with the reason.
"""

import json
import os
import subprocess

import pytest

testinfra_hosts = ['all']  # pylint: disable=invalid-name

REPORT = '/var/lib/clawd/server_setup_report.json'
KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOe+SQgtn7UkMuVpVPHtON8jvGus8tBqBjSvBRy6Lsu+ molecule-provision@clawd.test'
EXPECTED = {
    'packages': 'applied',
    'timezone': 'applied',
    'ntp': 'configured-not-active',
    'users': 'applied',
    'ssh': 'applied',
    'python': 'applied',
    'firewall': 'configured-not-active',
    'fail2ban': 'configured-not-active',
    'upgrades': 'configured-not-active',
    'logrotate': 'configured-not-active',
    'swap': 'configured-not-active',
    'docker': 'skipped-by-variable',
    'coolify': 'skipped-by-variable',
}


@pytest.fixture(name='report')
def report_fixture(host):
    entries = json.loads(host.file(REPORT).content_string)
    return {entry['feature']: entry for entry in entries}


def test_report_names_every_feature_once_with_its_status(host, report):
    entries = json.loads(host.file(REPORT).content_string)
    assert len(entries) == len(report), 'a feature is reported twice'
    assert {name: entry['status'] for name, entry in report.items()} == EXPECTED
    assert all(entry['reason'].strip() for entry in entries)


@pytest.mark.parametrize('feature, words', [
    ('ntp', ['no systemd', '(container)']),
    ('ssh', ['root login no']),
    ('firewall', ['configured in /etc/ufw but not enabled', 'no netfilter access', '22, 80, 443, 8443']),
    ('fail2ban', ['no systemd', 'no netfilter']),
    ('upgrades', ['no systemd']),
    ('logrotate', ['max-size 20m, max-file 3', 'no systemd']),
    ('swap', ['swapon not permitted', '/proc/sys is read-only']),
    ('docker', ['server_setup_docker_enabled is false']),
    ('coolify', ['server_setup_coolify_enabled is false']),
])
def test_report_says_why(report, feature, words):
    for word in words:
        assert word in report[feature]['reason'], report[feature]


def test_base_and_feature_packages_are_installed(host):
    for name in ('ca-certificates', 'curl', 'sudo', 'logrotate', 'chrony', 'openssh-server', 'ufw', 'fail2ban', 'unattended-upgrades'):
        assert host.package(name).is_installed, name


def test_time_zone_and_ntp_servers(host):
    assert host.file('/etc/timezone').content_string.strip() == 'Europe/Amsterdam'
    assert host.file('/etc/localtime').linked_to == '/usr/share/zoneinfo/Europe/Amsterdam'
    chrony = host.file('/etc/chrony/chrony.conf').content_string
    assert 'pool 0.debian.pool.ntp.org iburst' in chrony
    assert 'server ntp.clawd.test iburst' in chrony
    assert '2.debian.pool.ntp.org' not in chrony


def test_deploy_user_has_its_key_its_groups_and_sudo(host):
    user = host.user('deploy')
    assert user.exists and user.shell == '/bin/bash'
    assert 'docker' in user.groups
    keys = host.file('/home/deploy/.ssh/authorized_keys')
    assert keys.user == 'deploy' and keys.mode == 0o600
    assert keys.content_string.strip().splitlines()[-1] == KEY
    assert len(keys.content_string.strip().splitlines()) == 2  # the lab operator's key, then this one
    sudoers = host.file('/etc/sudoers.d/server_setup_deploy')
    assert sudoers.mode == 0o440
    assert host.run('visudo -cf /etc/sudoers.d/server_setup_deploy').rc == 0
    assert host.run('sudo -l -U deploy').stdout.count('NOPASSWD: ALL') == 1


def test_sshd_effective_configuration_is_hardened(host):
    cmd = host.run('sshd -T -C user=deploy,host=client.clawd.test,addr=192.0.2.1')
    assert cmd.rc == 0, cmd.stderr
    settings = dict(line.split(' ', 1) for line in cmd.stdout.splitlines() if ' ' in line)
    assert settings['permitrootlogin'] == 'no'
    assert settings['passwordauthentication'] == 'no'
    assert settings['kbdinteractiveauthentication'] == 'no'
    assert settings['maxauthtries'] == '3'
    assert settings['x11forwarding'] == 'no'
    assert settings['allowtcpforwarding'] == 'no'


def test_ufw_is_configured_for_docker_but_not_enabled(host):
    default = host.file('/etc/default/ufw').content_string
    assert 'DEFAULT_FORWARD_POLICY="ACCEPT"' in default
    assert 'DEFAULT_INPUT_POLICY="DROP"' in default
    after = host.file('/etc/ufw/after.rules').content_string
    assert '# BEGIN clawd.ops server_setup: ufw and Docker' in after
    assert '-A DOCKER-USER -j ufw-user-forward' in after
    # The container has no netfilter: the role must not have switched ufw on (nor claimed it did).
    assert 'ENABLED=no' in host.file('/etc/ufw/ufw.conf').content_string


def test_nothing_turns_ip_forwarding_off(host):
    cmd = host.run("grep -rhE '^[^#]*(net[./]ipv4[./]ip_forward|net[./]ipv4[./]conf[./]all[./]forwarding)[[:space:]]*=[[:space:]]*0' "
                   '/etc/sysctl.conf /etc/sysctl.d /etc/ufw/sysctl.conf')
    assert cmd.rc == 1, cmd.stdout


def test_fail2ban_jail_is_valid(host):
    jail = host.file('/etc/fail2ban/jail.d/server_setup.local').content_string
    assert '[sshd]' in jail and 'backend = systemd' in jail and 'port = 22' in jail
    cmd = host.run('fail2ban-client --test')
    assert cmd.rc == 0, cmd.stdout + cmd.stderr


def test_unattended_upgrades_take_security_updates_only(host):
    cmd = host.run('apt-config dump Unattended-Upgrade::Origins-Pattern')
    assert cmd.rc == 0
    patterns = [line for line in cmd.stdout.splitlines() if line.startswith('Unattended-Upgrade::Origins-Pattern:: ')]
    assert patterns and all('Security' in line or 'security' in line for line in patterns), patterns
    assert 'APT::Periodic::Unattended-Upgrade "1";' in host.file('/etc/apt/apt.conf.d/20auto-upgrades').content_string


def test_docker_log_rotation_is_merged_into_daemon_json(host):
    daemon = json.loads(host.file('/etc/docker/daemon.json').content_string)
    assert daemon['log-driver'] == 'json-file'
    assert daemon['log-opts'] == {'labels': 'clawd.lab.instance', 'max-size': '20m', 'max-file': '3'}
    # What prepare.yml put there is kept.
    assert daemon['debug'] is False and daemon['features'] == {'buildkit': True}


def test_swap_file_is_formatted_and_in_fstab_but_not_on(host):
    swapfile = host.file('/swapfile')
    assert swapfile.mode == 0o600 and swapfile.size == 16 * 1024 * 1024
    assert host.run('blkid -o value -s TYPE /swapfile').stdout.strip() == 'swap'
    assert any(line.split()[:3] == ['/swapfile', 'none', 'swap'] for line in host.file('/etc/fstab').content_string.splitlines() if line.strip())
    assert 'vm.swappiness=10' in host.file('/etc/sysctl.d/90-server-setup.conf').content_string.replace(' ', '')
    assert '/swapfile' not in host.file('/proc/swaps').content_string


def test_coolify_was_not_installed(host):
    assert not host.file('/root/coolify-install.sh').exists
    assert not host.file('/data/coolify').exists


def ssh_login(user):
    """Log in from the controller as USER with the lab operator's key; the exit code of `true`."""
    key = os.path.join(os.environ['CLAWD_STATE'], 'secrets', 'ssh', 'id_ed25519')
    address = os.environ.get('CLAWD_MOLECULE_ADDRESS', '127.0.1.201')
    return subprocess.run(
        ['ssh', '-i', key, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'StrictHostKeyChecking=no',
         '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ControlMaster=no', '-o', 'ControlPath=none',
         '%s@%s' % (user, address), 'true'], capture_output=True, text=True, timeout=30, check=False)


def test_root_login_is_refused_after_provisioning_and_deploy_gets_in():
    root = ssh_login('root')
    assert root.returncode == 255 and 'Permission denied' in root.stderr, root
    assert ssh_login('deploy').returncode == 0


def test_the_modules_python_libraries_are_installed(host):
    cmd = host.run('/usr/bin/python3 -c "import docker, requests, zstandard, cryptography"')
    assert cmd.rc == 0, cmd.stderr
    cmd = host.run('/opt/clawd/venv/bin/python -c "import boto3, docker; print(boto3.__version__)"')
    assert cmd.rc == 0, cmd.stderr
    assert tuple(int(part) for part in cmd.stdout.strip().split('.')[:2]) >= (1, 34)

# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The monthly security audit's readers: /proc/net, /etc/passwd, sudoers, sshd -T, the bounded walk, apt and debsecan."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import platform
import stat
import subprocess
import sys

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _host_audit as audit

TCP = (
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    '   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n'
    '   1: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1\n'
    '   2: 0100007F:0016 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n'
    '   3: D001017F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1\n'
)
TCP6 = (
    '  sl  local_address                         remote_address                        st tx_queue rx_queue\n'
    '   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000\n'
    '   1: 00000000000000000000000001000000:0CEA 00000000000000000000000000000000:0000 0A 00000000:00000000\n'
)
UDP = (
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n'
    '  1: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5 2 0 0\n'
    '  2: 0100007F:0035 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 6 2 0 0\n'
)


def test_proc_net_keeps_only_listening_tcp_sockets_with_their_addresses():
    assert audit.parse_proc_net(TCP, 'tcp') == [
        {'proto': 'tcp', 'address': '127.0.0.1', 'port': 22},
        {'proto': 'tcp', 'address': '0.0.0.0', 'port': 443},
        {'proto': 'tcp', 'address': '127.1.1.208', 'port': 8080},
    ]


def test_proc_net_reads_ipv6_addresses():
    assert audit.parse_proc_net(TCP6, 'tcp6') == [
        {'proto': 'tcp', 'address': '::', 'port': 22},
        {'proto': 'tcp', 'address': '::1', 'port': 3306},
    ]


def test_proc_net_udp_keeps_unconnected_sockets_only():
    assert audit.parse_proc_net(UDP, 'udp') == [{'proto': 'udp', 'address': '0.0.0.0', 'port': 68}]


def test_exposed_listeners_leave_out_loopback_unless_it_is_the_hosts_own_address():
    found = audit.parse_proc_net(TCP, 'tcp') + audit.parse_proc_net(TCP6, 'tcp6')
    exposed = audit.exposed(found, own_addresses=['127.1.1.208'])
    assert [(item['address'], item['port']) for item in exposed] == [('0.0.0.0', 443), ('127.1.1.208', 8080), ('::', 22)]


def test_unexpected_ports_by_protocol():
    listeners = [{'proto': 'tcp', 'address': '0.0.0.0', 'port': 22}, {'proto': 'tcp', 'address': '0.0.0.0', 'port': 5432},
                 {'proto': 'udp', 'address': '0.0.0.0', 'port': 68}, {'proto': 'tcp', 'address': '::', 'port': 5432}]
    assert audit.unexpected_ports(listeners, ['22/tcp', '443', 68]) == [{'proto': 'tcp', 'port': 5432, 'addresses': ['0.0.0.0', '::']}]


PASSWD = (
    'root:x:0:0:root:/root:/bin/bash\n'
    'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n'
    'deploy:x:1000:1000::/home/deploy:/bin/bash\n'
    'backup2:x:0:0::/root:/bin/sh\n'
    'svc:x:1001:1001::/home/svc:/usr/sbin/nologin\n'
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n'
    'broken line\n'
)


def test_login_users_are_those_with_a_shell_and_uid_0_or_at_least_1000():
    users = audit.login_users(audit.parse_passwd(PASSWD))
    assert [(user['name'], user['uid'], user['shell']) for user in users] == [
        ('root', 0, '/bin/bash'), ('deploy', 1000, '/bin/bash'), ('backup2', 0, '/bin/sh')]


SUDOERS = (
    '# comment\n'
    'Defaults\tenv_reset\n'
    'Defaults:deploy !requiretty\n'
    'Cmnd_Alias SHUTDOWN = /sbin/halt, \\\n'
    '    /sbin/reboot\n'
    'root\tALL=(ALL:ALL) ALL\n'
    '%sudo   ALL=(ALL:ALL) ALL   # admins\n'
    '@includedir /etc/sudoers.d\n'
    '#includedir /etc/sudoers.old\n'
    'ops ALL=(ALL) \\\n'
    '  NOPASSWD: /usr/bin/systemctl\n'
)


def test_sudoers_rules_without_comments_defaults_and_aliases_and_with_continuations():
    rules, includes = audit.parse_sudoers(SUDOERS)
    assert rules == ['root ALL=(ALL:ALL) ALL', '%sudo ALL=(ALL:ALL) ALL', 'ops ALL=(ALL) NOPASSWD: /usr/bin/systemctl']
    assert includes == [('dir', '/etc/sudoers.d'), ('dir', '/etc/sudoers.old')]


def test_read_sudoers_follows_includedir_and_skips_files_sudo_skips(tmp_path):
    folder = tmp_path / 'sudoers.d'
    folder.mkdir()
    (tmp_path / 'sudoers').write_text('root ALL=(ALL:ALL) ALL\n@includedir %s\n' % folder)
    (folder / 'server_setup_deploy').write_text('deploy ALL=(ALL) NOPASSWD: ALL\n')
    (folder / 'extra').write_text('mallory ALL=(ALL) NOPASSWD: ALL\n')
    (folder / 'README.txt').write_text('nobody ALL=(ALL) ALL\n')
    (folder / 'backup~').write_text('nobody ALL=(ALL) ALL\n')
    rules = audit.read_sudoers(str(tmp_path / 'sudoers'))
    assert [(os.path.basename(rule['file']), rule['rule']) for rule in rules] == [
        ('sudoers', 'root ALL=(ALL:ALL) ALL'),
        ('extra', 'mallory ALL=(ALL) NOPASSWD: ALL'),
        ('server_setup_deploy', 'deploy ALL=(ALL) NOPASSWD: ALL'),
    ]


def test_unexpected_sudo_rules_compare_with_whitespace_collapsed():
    rules = [{'file': '/etc/sudoers', 'rule': 'root ALL=(ALL:ALL) ALL'}, {'file': '/etc/sudoers.d/x', 'rule': 'mallory ALL=(ALL) NOPASSWD: ALL'}]
    assert audit.unexpected_sudo_rules(rules, ['root  ALL=(ALL:ALL)   ALL']) == [rules[1]]


SSHD_T = 'port 22\npermitrootlogin without-password\npasswordauthentication no\nx11forwarding yes\nhostkey /a\nhostkey /b\nmaxauthtries 3\n'


def test_sshd_t_keys_lowercase_repeated_keys_joined():
    config = audit.parse_sshd_t(SSHD_T)
    assert config['hostkey'] == '/a /b'
    assert config['permitrootlogin'] == 'without-password'


def test_sshd_drift_against_expected_settings_with_synonyms():
    config = audit.parse_sshd_t(SSHD_T)
    drift = audit.sshd_drift(config, {'PermitRootLogin': 'prohibit-password', 'PasswordAuthentication': False,
                                      'X11Forwarding': 'no', 'MaxAuthTries': 3, 'AllowUsers': 'deploy'})
    assert drift == [{'setting': 'allowusers', 'expected': 'deploy', 'found': None},
                     {'setting': 'x11forwarding', 'expected': 'no', 'found': 'yes'}]


def _clock(values):
    values = list(values)
    return lambda: values.pop(0) if len(values) > 1 else values[0]


def test_walk_finds_setuid_setgid_and_world_writable_and_never_follows_symlinks(tmp_path):
    (tmp_path / 'a').mkdir()
    suid = tmp_path / 'a' / 'suid'
    suid.write_text('x')
    os.chmod(str(suid), 0o4755)
    sgid = tmp_path / 'sgid'
    sgid.write_text('x')
    os.chmod(str(sgid), 0o2755)
    ww = tmp_path / 'ww'
    ww.write_text('x')
    os.chmod(str(ww), 0o666)
    sticky = tmp_path / 'tmp'
    sticky.mkdir()
    os.chmod(str(sticky), 0o1777)
    outside = tmp_path.parent / (tmp_path.name + '-outside')
    outside.mkdir()
    (outside / 'evil').write_text('x')
    os.chmod(str(outside / 'evil'), 0o4777)
    os.symlink(str(outside), str(tmp_path / 'link'))
    found = audit.walk([str(tmp_path)], max_files=100, max_seconds=10, clock=_clock([0.0]))
    assert found['setuid'] == [str(suid)]
    assert found['setgid'] == [str(sgid)]
    assert found['world_writable'] == [str(ww)]
    assert found['truncated'] is None
    assert found['scanned'] == 6  # a, a/suid, sgid, ww, tmp, link (not what it points at)
    assert stat.S_ISDIR(os.lstat(str(sticky)).st_mode)


def test_walk_stops_at_the_file_limit_and_at_the_time_limit(tmp_path):
    for index in range(10):
        (tmp_path / ('f%d' % index)).write_text('x')
    by_count = audit.walk([str(tmp_path)], max_files=3, max_seconds=10, clock=_clock([0.0]))
    assert by_count['scanned'] == 3 and 'file limit' in by_count['truncated']
    by_time = audit.walk([str(tmp_path)], max_files=100, max_seconds=5, clock=_clock([0.0, 1.0, 2.0, 9.0]))
    assert by_time['scanned'] < 10 and 'time limit' in by_time['truncated']


def test_walk_reports_a_missing_path():
    found = audit.walk(['/nonexistent/clawd-audit'], max_files=10, max_seconds=10, clock=_clock([0.0]))
    assert found['missing'] == ['/nonexistent/clawd-audit'] and found['scanned'] == 0


APT = (
    'NOTE: This is only a simulation!\n'
    'Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])\n'
    'Inst tzdata [2024a-0+deb12u1] (2024b-0+deb12u1 Debian:12.8/stable [all])\n'
    'Inst newpkg (1.0 Debian-Security:12/stable-security [amd64])\n'
    'Conf libssl3 (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])\n'
)


def test_apt_simulation_marks_the_security_origin():
    assert audit.parse_apt_simulation(APT) == [
        {'package': 'libssl3', 'installed': '3.0.11-1~deb12u1', 'candidate': '3.0.11-1~deb12u2', 'security': True},
        {'package': 'tzdata', 'installed': '2024a-0+deb12u1', 'candidate': '2024b-0+deb12u1', 'security': False},
        {'package': 'newpkg', 'installed': None, 'candidate': '1.0', 'security': True},
    ]


def test_debsecan_cve_ids_by_package():
    text = 'CVE-2024-0001 libssl3 (fixed, remotely exploitable)\nCVE-2024-0002 libssl3 (fixed)\nTEMP-0000-1 bash\n'
    assert audit.parse_debsecan(text) == {'libssl3': ['CVE-2024-0001', 'CVE-2024-0002']}


# ---------------------------------------------------------------- Python libraries

def test_python_libraries_asks_by_distribution_name_and_reports_by_library_with_the_python_that_ran():
    asked = []

    def version_of(distribution):
        asked.append(distribution)
        return {'docker': '5.0.3', 'boto3': '1.34.2'}.get(distribution)
    found = audit.python_libraries({'docker': 'docker', 'boto3': 'boto3', 'yaml': 'PyYAML'}, version_of)
    assert sorted(asked) == ['PyYAML', 'boto3', 'docker']
    assert found['libraries'] == {'docker': '5.0.3', 'boto3': '1.34.2', 'yaml': None}
    assert found['executable'] == sys.executable and found['version'] == platform.python_version()


def test_the_real_reader_reads_metadata_without_importing_the_libraries():
    before = set(sys.modules)
    found = audit.python_libraries({'pytest': 'pytest', 'clawd_nothing': 'clawd-no-such-distribution', 'zstandard': 'zstandard',
                                    'boto3': 'boto3'})
    assert found['libraries']['pytest'] == pytest.__version__ and found['libraries']['clawd_nothing'] is None
    assert not [name for name in ('zstandard', 'boto3') if name in sys.modules and name not in before]


def test_the_script_for_another_python_prints_one_json_line_that_parses():
    done = subprocess.run([sys.executable, '-I', '-c', audit.PYTHON_VERSIONS_SCRIPT, 'pytest', 'clawd-no-such-distribution'],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    found = audit.parse_python_report(done.stdout, {'pytest': 'pytest', 'nothing': 'clawd-no-such-distribution'})
    assert found['libraries'] == {'pytest': pytest.__version__, 'nothing': None}
    assert found['version'] == platform.python_version()


def test_a_python_report_that_is_not_the_scripts_is_refused():
    for text in ('', 'Traceback (most recent call last):\n', '[1, 2]\n', '{"executable": "x"}\n', '{' * 100000):
        with pytest.raises(ValueError):
            audit.parse_python_report(text, {'docker': 'docker'})

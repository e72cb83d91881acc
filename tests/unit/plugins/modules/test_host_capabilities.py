# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host_capabilities module run in-process against a fake root: /proc, /run and a Docker socket in a temp folder."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import socket
import tempfile
import threading

import pytest

from ansible.module_utils import basic

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import host_capabilities

NO_CAPS = '0000000000000000'
ALL_CAPS = '000001ffffffffff'


class FakeRoot(object):
    """A host's root folder: files written under it, commands answered from a table."""

    def __init__(self, path):
        self.path = path
        self.commands = {}  # name -> exit code; a name not here is not installed
        self.ran = []

    def write(self, name, text=''):
        full = os.path.join(self.path, name.lstrip('/'))
        if not os.path.isdir(os.path.dirname(full)):
            os.makedirs(os.path.dirname(full))
        with open(full, 'w') as handle:
            handle.write(text)

    def mkdir(self, name):
        os.makedirs(os.path.join(self.path, name.lstrip('/')))

    def capabilities(self, cap_eff):
        self.write('/proc/self/status', 'Name:\tpython3\nCapInh:\t0000000000000000\nCapPrm:\t%s\nCapEff:\t%s\n' % (cap_eff, cap_eff))

    def docker(self, status_line):
        """A Docker socket that answers one request with this status line."""
        self.mkdir('/var/run')
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(os.path.join(self.path, 'var/run/docker.sock'))
        server.listen(1)
        requests = []

        def answer():
            connection, _address = server.accept()
            requests.append(connection.recv(1024))
            connection.sendall(status_line + b'\r\nContent-Length: 2\r\n\r\nOK')
            connection.close()
            server.close()

        thread = threading.Thread(target=answer)
        thread.daemon = True
        thread.start()
        return requests


@pytest.fixture
def root(monkeypatch):
    path = tempfile.mkdtemp(prefix='hc', dir='/tmp')  # short: a unix socket path has at most 107 bytes
    fake = FakeRoot(path)
    fake.write('/proc/1/cgroup', '0::/init.scope\n')
    fake.capabilities(NO_CAPS)
    monkeypatch.setattr(host_capabilities, 'ROOT', path)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/sbin/' + name if name in fake.commands else None

    def run_command(self, args, **kwargs):
        fake.ran.append(list(args))
        return fake.commands[os.path.basename(args[0])], '', ''

    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    yield fake
    shutil.rmtree(path)


def caps_of(results):
    assert len(results) == 1 and not results[0]['failed'], results
    assert results[0]['changed'] is False
    facts = results[0]['ansible_facts']['clawd_host_capabilities']
    assert sorted(facts) == sorted(host_capabilities.KEYS)
    return facts


def test_a_bare_container_can_do_nothing(root, results):
    root.write('/.dockerenv')
    assert run_main(host_capabilities.main, {}) == 0
    assert caps_of(results) == dict((key, key == 'container') for key in host_capabilities.KEYS)
    assert root.ran == []


def test_a_full_host_can_do_everything(root, results):
    root.mkdir('/run/systemd/system')
    root.write('/proc/sys/vm/swappiness', '60\n')
    root.capabilities(ALL_CAPS)
    root.commands.update(iptables=0, systemctl=0)
    root.write('/run/sshd.pid', '812\n')
    root.write('/proc/812/comm', 'sshd\n')
    requests = root.docker(b'HTTP/1.1 200 OK')
    assert run_main(host_capabilities.main, {}) == 0
    assert caps_of(results) == dict((key, key != 'container') for key in host_capabilities.KEYS)
    assert root.ran == [['/usr/sbin/iptables', '-w', '5', '-L', '-n'], ['/usr/sbin/systemctl', 'cat', 'docker.service']]
    assert requests[0].startswith(b'GET /_ping HTTP/1.0\r\n')


def test_check_mode_probes_the_same(root, results):
    root.mkdir('/run/systemd/system')
    root.capabilities(ALL_CAPS)
    assert run_main(host_capabilities.main, {'_ansible_check_mode': True}) == 0
    caps = caps_of(results)
    assert caps['systemd'] and caps['netfilter'] and caps['swapon'] and caps['set_clock']


@pytest.mark.parametrize('cgroup, container', [
    ('0::/init.scope\n', False),
    ('0::/system.slice/docker-4f1e.scope\n', True),
    ('12:pids:/docker/4f1e\n', True),
    ('0::/lxc/box\n', True),
    ('11:memory:/kubepods/burstable/pod1\n', True),
    ('0::/system.slice/containerd.service\n', True),
    ('0::/user.slice/session-3.scope\n', False),
])
def test_a_container_is_known_by_the_cgroup_of_process_1(root, cgroup, container):
    root.write('/proc/1/cgroup', cgroup)
    assert host_capabilities.in_container() is container


def test_a_podman_container_is_known_by_its_marker(root):
    root.write('/run/.containerenv')
    assert host_capabilities.in_container() is True


@pytest.mark.parametrize('cap_eff, netfilter, swapon, set_clock', [
    ('0000000000001000', True, False, False),   # CAP_NET_ADMIN (12) only
    ('0000000000200000', False, True, False),   # CAP_SYS_ADMIN (21) only
    ('0000000002000000', False, False, True),   # CAP_SYS_TIME (25) only
    ('00000000a80425fb', False, False, False),  # Docker's default set: none of the three
    (ALL_CAPS, True, True, True),
])
def test_without_iptables_netfilter_is_the_net_admin_capability(root, results, cap_eff, netfilter, swapon, set_clock):
    root.capabilities(cap_eff)
    assert run_main(host_capabilities.main, {}) == 0
    caps = caps_of(results)
    assert (caps['netfilter'], caps['swapon'], caps['set_clock']) == (netfilter, swapon, set_clock)


def test_with_iptables_netfilter_is_whether_it_can_list_the_rules(root, results):
    root.capabilities(ALL_CAPS)
    root.commands.update(iptables=4)
    assert run_main(host_capabilities.main, {}) == 0
    assert caps_of(results)['netfilter'] is False


def test_an_unreadable_status_means_no_capabilities(root):
    os.remove(os.path.join(root.path, 'proc/self/status'))
    assert host_capabilities.effective_capabilities() == 0


def test_the_docker_service_needs_systemd_and_the_unit(root, results):
    root.commands.update(systemctl=0)
    assert run_main(host_capabilities.main, {}) == 0
    assert caps_of(results)['docker_service'] is False  # no systemd: systemctl is not asked
    assert root.ran == []
    root.mkdir('/run/systemd/system')
    root.commands.update(systemctl=1)
    assert run_main(host_capabilities.main, {}) == 0
    assert caps_of(results[1:])['docker_service'] is False


@pytest.mark.parametrize('status_line, answers', [
    (b'HTTP/1.1 200 OK', True),
    (b'HTTP/1.0 200 OK', True),
    (b'HTTP/1.1 500 Internal Server Error', False),
    (b'HTTP/1.1 404 Not Found', False),
    (b'garbage 200 ', False),
])
def test_docker_answers_only_with_200_to_ping(root, status_line, answers):
    requests = root.docker(status_line)
    assert host_capabilities.docker_answers() is answers
    assert requests == [b'GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n']


def test_no_docker_socket_is_no_answer(root):
    assert host_capabilities.docker_answers() is False


def test_a_docker_socket_that_does_not_answer_is_given_5_seconds(root, monkeypatch):
    seen = {}

    class Silent(object):
        def __init__(self, family, kind):
            seen['family'] = family

        def settimeout(self, timeout):
            seen['timeout'] = timeout

        def connect(self, path):
            seen['path'] = path

        def sendall(self, data):
            pass

        def recv(self, size):
            raise socket.timeout('timed out')

        def close(self):
            seen['closed'] = True

    monkeypatch.setattr(host_capabilities.socket, 'socket', Silent)
    assert host_capabilities.docker_answers() is False
    assert seen == {'family': socket.AF_UNIX, 'timeout': 5, 'path': os.path.join(root.path, 'var/run/docker.sock'),
                    'closed': True}


@pytest.mark.parametrize('pid_file, comm, running', [
    ('812\n', 'sshd\n', True),
    ('812', 'sshd-session\n', True),
    ('812\n', 'nginx\n', False),
    ('999\n', None, False),            # the process is gone
    ('812; rm -rf /\n', 'sshd\n', False),
    ('', 'sshd\n', False),
    (None, 'sshd\n', False),           # no pid file
])
def test_sshd_runs_when_the_pid_file_names_an_sshd(root, pid_file, comm, running):
    if pid_file is not None:
        root.write('/run/sshd.pid', pid_file)
    if comm is not None:
        root.write('/proc/812/comm', comm)
    assert host_capabilities.sshd_running() is running


def test_sysctl_is_whether_swappiness_is_writable(root, monkeypatch):
    assert host_capabilities.sysctl_writable() is False
    root.write('/proc/sys/vm/swappiness', '60\n')
    asked = []
    monkeypatch.setattr(host_capabilities.os, 'access', lambda path, mode: asked.append((path, mode)) or False)
    assert host_capabilities.sysctl_writable() is False  # read-only /proc/sys, as in a container
    assert asked == [(os.path.join(root.path, 'proc/sys/vm/swappiness'), os.W_OK)]

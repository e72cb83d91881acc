#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_capabilities
short_description: Find out what a host lets a role do (service manager, kernel settings, netfilter, swap, Docker, sshd)
version_added: 0.1.0
description:
  - Probes the host and returns, as the fact C(clawd_host_capabilities), what it lets a role do. Containers, for example,
    have no systemd, a read-only C(/proc/sys), no netfilter and no permission to switch swap on.
  - The capabilities of the process come from C(CapEff) of C(/proc/self/status), so run it with the privileges the
    tasks that follow will have (usually C(become)).
  - It changes nothing; it runs the same in check mode.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
notes:
  - Needs a Linux C(/proc).
options: {}
'''

EXAMPLES = r'''
- name: Find out what this host can run
  clawd.ops.host_capabilities:
  become: true

- name: Start fail2ban only where it can ban
  ansible.builtin.service:
    name: fail2ban
    state: started
  become: true
  when: ansible_facts.clawd_host_capabilities.systemd and ansible_facts.clawd_host_capabilities.netfilter
'''

RETURN = r'''
ansible_facts:
  description: The facts the module sets.
  returned: always
  type: dict
  contains:
    clawd_host_capabilities:
      description: What the host lets a role do.
      returned: always
      type: dict
      contains:
        container:
          description:
            - Whether the host is a container (C(/.dockerenv), C(/run/.containerenv), or a container runtime in the
              cgroup of process 1).
          type: bool
          sample: false
        systemd:
          description: Whether systemd is the service manager (C(/run/systemd/system) exists).
          type: bool
          sample: true
        sysctl:
          description: Whether kernel settings can be written (C(/proc/sys/vm/swappiness) is writable).
          type: bool
          sample: true
        netfilter:
          description:
            - Whether the firewall can be managed. With C(iptables) installed, whether C(iptables -w 5 -L -n) succeeds;
              without it, whether the process has C(CAP_NET_ADMIN).
          type: bool
          sample: true
        swapon:
          description: Whether swap can be switched on (the process has C(CAP_SYS_ADMIN)).
          type: bool
          sample: true
        set_clock:
          description: Whether the clock can be set (the process has C(CAP_SYS_TIME)).
          type: bool
          sample: true
        docker_answers:
          description:
            - Whether a Docker engine answers C(GET /_ping) with HTTP 200 on C(/var/run/docker.sock) within 5 seconds.
          type: bool
          sample: true
        docker_service:
          description: Whether systemd knows a C(docker.service) unit (always false without systemd).
          type: bool
          sample: true
        sshd_running:
          description: Whether the process named in C(/run/sshd.pid) is an sshd.
          type: bool
          sample: true
'''

import os
import re
import socket

from ansible.module_utils.basic import AnsibleModule

# The host's file system root; the unit tests point it at a fake one.
ROOT = '/'
CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21
CAP_SYS_TIME = 25
CONTAINER_CGROUP = re.compile(r'/(docker|lxc|kubepods|containerd)')
DOCKER_SOCKET = '/var/run/docker.sock'
DOCKER_TIMEOUT = 5
KEYS = ('container', 'systemd', 'sysctl', 'netfilter', 'swapon', 'set_clock', 'docker_answers', 'docker_service',
        'sshd_running')


def host_path(path):
    """An absolute path of the host, under ROOT."""
    return os.path.join(ROOT, path.lstrip('/'))


def read_text(path):
    """The text of a host file, or None when it cannot be read."""
    try:
        with open(host_path(path), 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return None


def effective_capabilities():
    """The effective capability set of this process (CapEff of /proc/self/status) as a number; 0 when unreadable."""
    match = re.search(r'^CapEff:\s*([0-9a-fA-F]+)\s*$', read_text('/proc/self/status') or '', re.MULTILINE)
    return int(match.group(1), 16) if match else 0


def has_capability(capabilities, bit):
    return bool((capabilities >> bit) & 1)


def in_container():
    if os.path.isfile(host_path('/.dockerenv')) or os.path.isfile(host_path('/run/.containerenv')):
        return True
    return bool(CONTAINER_CGROUP.search(read_text('/proc/1/cgroup') or ''))


def has_systemd():
    return os.path.isdir(host_path('/run/systemd/system'))


def sysctl_writable():
    return os.access(host_path('/proc/sys/vm/swappiness'), os.W_OK)


def docker_answers(timeout=DOCKER_TIMEOUT):
    """Whether the engine on the Docker socket answers GET /_ping with HTTP 200 within the timeout."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(host_path(DOCKER_SOCKET))
        sock.sendall(b'GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n')
        answer = b''
        while b'\r\n' not in answer and len(answer) < 1024:
            chunk = sock.recv(1024)
            if not chunk:
                break
            answer += chunk
        status_line = answer.split(b'\r\n')[0].split()
        return len(status_line) >= 2 and status_line[0].startswith(b'HTTP/') and status_line[1] == b'200'
    except (socket.error, socket.timeout, OSError):
        return False
    finally:
        sock.close()


def sshd_running():
    """Whether the process whose pid /run/sshd.pid holds is an sshd."""
    pid = (read_text('/run/sshd.pid') or '').strip()
    if not pid.isdigit():
        return False
    return 'sshd' in (read_text('/proc/%s/comm' % pid) or '')


def probe(succeeds, which):
    """Every capability; ``succeeds(argv)`` says whether a command exits 0, ``which(name)`` finds a command or None."""
    capabilities = effective_capabilities()
    systemd = has_systemd()
    iptables = which('iptables')
    systemctl = which('systemctl')
    return {
        'container': in_container(),
        'systemd': systemd,
        'sysctl': sysctl_writable(),
        'netfilter': succeeds([iptables, '-w', '5', '-L', '-n']) if iptables else has_capability(capabilities, CAP_NET_ADMIN),
        'swapon': has_capability(capabilities, CAP_SYS_ADMIN),
        'set_clock': has_capability(capabilities, CAP_SYS_TIME),
        'docker_answers': docker_answers(),
        'docker_service': bool(systemd and systemctl and succeeds([systemctl, 'cat', 'docker.service'])),
        'sshd_running': sshd_running(),
    }


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)

    def succeeds(argv):
        return module.run_command(argv, environ_update={'LC_ALL': 'C'})[0] == 0

    def which(name):
        return module.get_bin_path(name)

    module.exit_json(changed=False, ansible_facts={'clawd_host_capabilities': probe(succeeds, which)})


if __name__ == '__main__':
    main()

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the tests that run against a lab brought up by `scripts/lab up`; the repository's lab/ folder is put
on sys.path (``import standins``)."""

import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
STATE = os.environ.get('CLAWD_STATE', os.path.join(ROOT, '.lab'))
LAB = os.path.join(ROOT, 'lab')
if LAB not in sys.path:
    sys.path.insert(0, LAB)


def secret(name):
    with open(os.path.join(STATE, 'secrets', name), encoding='utf-8') as handle:
        return handle.read().strip()


class LabHost:
    """One lab host as the labels of its container describe it."""

    def __init__(self, labels):
        self.name = labels['clawd.lab.name']
        self.address = labels['clawd.lab.address']
        self.fqdn = labels['clawd.lab.fqdn']
        self.dir = labels['clawd.lab.dir']
        self.environment = labels['clawd.lab.environment']
        self.container = 'clawd-' + self.name

    def https(self, method, path, body=None, headers=None, ca=True):
        """One HTTPS request to this host's proxy, SNI and Host set to its name, from the controller."""
        context = ssl.create_default_context(cafile=os.path.join(self.dir, 'tls', 'ca.crt') if ca else None)
        raw = socket.create_connection((self.address, 443), timeout=10)
        conn = http.client.HTTPConnection(self.fqdn, 443, timeout=10)
        conn.sock = context.wrap_socket(raw, server_hostname=self.fqdn)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}, Host=self.fqdn))
            answer = conn.getresponse()
            return answer.status, answer.read().decode()
        finally:
            conn.close()


def lab_hosts():
    out = subprocess.run(
        ['docker', 'ps', '--filter', 'label=clawd.lab.role=host', '--format', '{{json .Labels}}', '--no-trunc'],
        check=True, capture_output=True, text=True).stdout
    hosts = []
    for line in out.splitlines():
        labels = dict(pair.split('=', 1) for pair in json.loads(line).split(','))
        hosts.append(LabHost(labels))
    return sorted(hosts, key=lambda h: int(h.address.rsplit('.', 1)[1]))


@pytest.fixture(scope='session')
def hosts():
    found = lab_hosts()
    if not found:
        pytest.fail('no lab host runs: bring the lab up first (scripts/lab up)')
    return found


@pytest.fixture(scope='session')
def telegram():
    """Control endpoints of the Telegram stand-in."""
    base = 'http://127.0.0.1:%s' % os.environ.get('CLAWD_PORT_TELEGRAM', '17002')

    class Control:
        url = base

        @staticmethod
        def get(path):
            with urllib.request.urlopen(base + path, timeout=5) as answer:
                return json.loads(answer.read())

        @staticmethod
        def call(method, path, payload=None):
            data = None if payload is None else json.dumps(payload).encode()
            request = urllib.request.Request(base + path, data=data, method=method, headers={'Content-Type': 'application/json'})
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status

    return Control()


def ansible(*args, check=True):
    """Run an ansible command of the venv from the repository root; return the CompletedProcess."""
    env = dict(os.environ, ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1')
    result = subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, env=env, timeout=600, check=False)
    if check and result.returncode != 0:
        raise AssertionError('%s failed (%d):\n%s\n%s' % (' '.join(args), result.returncode, result.stdout[-4000:], result.stderr[-4000:]))
    return result

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario app_through_proxy: the lab host sees its app healthy through the TLS proxy (testinfra, run inside the host)."""

import json
import os

import pytest

testinfra_hosts = ['all']  # pylint: disable=invalid-name

NAME = 'molecule-app_through_proxy'
FQDN = NAME + '.clawd.test'
ADDRESS = os.environ.get('CLAWD_MOLECULE_ADDRESS', '127.0.1.201')
CA = os.path.join(os.environ['CLAWD_STATE'], 'hosts', NAME, 'tls', 'ca.crt')


def curl(host, *args):
    """Run curl inside the lab host with the lab CA; return (http status, body)."""
    cmd = host.run('curl -sS --cacert %s -o /tmp/body -w "%%{http_code}" ' % CA + ' '.join(args))
    assert cmd.rc == 0, cmd.stderr
    return int(cmd.stdout), host.file('/tmp/body').content_string


def test_name_resolves_to_the_hosts_own_loopback_address(host):
    assert host.addr(FQDN).ip_addresses == [ADDRESS]


def test_app_is_healthy_through_the_tls_proxy(host):
    status, body = curl(host, 'https://%s/health' % FQDN)
    health = json.loads(body)
    assert status == 200
    assert health['status'] == 'ok'
    assert {'app', 'workspace', 'config', 'disk', 'bot'} <= set(health['checks'])
    assert all(check['status'] == 'ok' for check in health['checks'].values())


def test_version_is_the_release_converged(host):
    status, body = curl(host, 'https://%s/version' % FQDN)
    assert status == 200
    assert json.loads(body)['version'] == '1.0.0-molecule'


def test_certificate_is_checked_against_the_lab_ca(host):
    # Without the lab CA, curl must refuse the proxy's certificate: TLS is real.
    cmd = host.run('curl -sS -o /dev/null https://%s/health' % FQDN)
    assert cmd.rc == 60, (cmd.rc, cmd.stderr)


def test_plain_http_redirects_to_https(host):
    status = curl(host, '-o /dev/null http://%s/health' % FQDN)[0]
    assert status == 301


@pytest.mark.parametrize('secret, expected', [('wrong-secret', 401), (None, 401)])
def test_bot_webhook_refuses_a_bad_secret_through_the_proxy(host, secret, expected):
    header = '-H "X-Telegram-Bot-Api-Secret-Token: %s"' % secret if secret else ''
    status = curl(host, '-X POST -H "Content-Type: application/json" %s -d "{}" https://%s/telegram/webhook' % (header, FQDN))[0]
    assert status == expected


def test_lab_host_manages_the_app_containers_through_the_engine_socket(host):
    # The Docker SDK inside the lab host, on the mounted socket, as modules on a VPS would.
    script = (
        "import docker, json; c = docker.from_env(); "
        "print(json.dumps({x.name: [x.status, sorted(m['Name'] for m in x.attrs['Mounts'] if m['Type'] == 'volume')] "
        "for x in c.containers.list(all=True) if x.name.startswith('%s-')}))" % NAME
    )
    cmd = host.run("python3 -c \"%s\"" % script)
    assert cmd.rc == 0, cmd.stderr
    containers = json.loads(cmd.stdout)
    volumes = [NAME + '-claude-config', NAME + '-workspace']
    assert containers == {
        NAME + '-claudebox-web': ['running', volumes],
        NAME + '-telegram-bot': ['running', volumes],
        NAME + '-claude-backup': ['running', volumes],
        NAME + '-proxy': ['running', []],
    }


def test_lab_host_reads_the_app_volumes_at_their_mountpoint(host):
    # As root on a VPS: the volume's Mountpoint holds the app's files (its marker file here).
    script = "import docker; print(docker.from_env().volumes.get('%s-workspace').attrs['Mountpoint'])" % NAME
    cmd = host.run("python3 -c \"%s\"" % script)
    assert cmd.rc == 0, cmd.stderr
    assert host.file(cmd.stdout.strip() + '/.clawd-app').is_file

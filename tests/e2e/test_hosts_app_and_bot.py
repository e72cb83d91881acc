# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The running lab: hosts side by side, the app through real TLS, the bot through the Telegram stand-in."""

import json
import os
import ssl
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, STATE, ansible, secret


def test_every_host_answers_healthy_through_its_own_tls_proxy(hosts):
    for host in hosts:
        status, body = host.https('GET', '/health')
        health = json.loads(body)
        assert status == 200, (host.name, body)
        assert health['status'] == 'ok'
        assert {'app', 'workspace', 'config', 'disk', 'bot'} <= set(health['checks'])


def test_hosts_run_side_by_side_on_their_own_addresses(hosts):
    assert len({h.address for h in hosts}) == len(hosts) >= 2
    first, second = hosts[0], hosts[1]
    # The second host's proxy holds a certificate for its own name only: asking it for the
    # first host's name must fail verification, so the two are really separate.
    second.fqdn, saved = first.fqdn, second.fqdn
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            second.https('GET', '/health')
    finally:
        second.fqdn = saved


def test_proxy_certificate_needs_the_lab_ca(hosts):
    with pytest.raises(ssl.SSLCertVerificationError):
        hosts[0].https('GET', '/health', ca=False)


def test_inventory_lists_the_hosts_in_their_groups(hosts):
    inventory = json.loads(ansible('ansible-inventory', '-i', 'inventories/lab', '--list').stdout)
    assert sorted(inventory['lab']['hosts']) == sorted(h.container for h in hosts)
    assert inventory['staging']['hosts'] == [hosts[0].container]
    assert sorted(inventory['production']['hosts']) == sorted(h.container for h in hosts[1:])
    assert 'lab' in inventory['app_hosts']['children']


def test_bot_answers_ping_through_the_proxy_and_the_telegram_standin(hosts, telegram):
    # The stand-in's sent messages are every test's and every Molecule scenario's (they run at the same time):
    # read the ones sent from here on, never clear them.
    before = len(telegram.get('/_lab/telegram/messages'))
    for index, host in enumerate(hosts):
        chat_id = 4200 + index
        update = {'update_id': 1000 + index, 'message': {
            'message_id': 7 + index, 'date': int(time.time()), 'chat': {'id': chat_id, 'type': 'private'},
            'from': {'id': chat_id, 'is_bot': False, 'first_name': 'Ops'}, 'text': '/ping'}}
        status = host.https('POST', '/telegram/webhook', body=json.dumps(update), headers={
            'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': secret('telegram_webhook_secret')})[0]
        assert status == 200
    messages = telegram.get('/_lab/telegram/messages')[before:]
    replies = {m['chat_id']: m for m in messages}
    for index in range(len(hosts)):
        assert replies[4200 + index]['text'] == 'pong'
        assert replies[4200 + index]['reply_to_message_id'] == 7 + index


def test_bot_refuses_a_wrong_webhook_secret(hosts):
    status = hosts[0].https('POST', '/telegram/webhook', body='{}', headers={
        'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 'not-the-secret'})[0]
    assert status == 401


def test_request_log_of_the_standin_masks_the_token(telegram):
    raw = json.dumps(telegram.get('/_lab/requests'))
    assert 'sendMessage' in raw
    assert secret('telegram_bot_token') not in raw
    assert secret('telegram_bot_token').split(':')[1] not in raw


def test_app_health_module_fails_on_a_wrong_version_and_names_it(hosts):
    host = hosts[0]
    result = ansible('ansible', host.container, '-i', 'inventories/lab', '-m', 'clawd.ops.app_health', '-a',
                     'url=https://%s/health version_url=https://%s/version expected_version=9.9.9 ca_path=%s/tls/ca.crt'
                     % (host.fqdn, host.fqdn, host.dir), check=False)
    assert result.returncode == 2, result.stdout
    assert 'is not healthy: version: expected 9.9.9, app reports ' in result.stdout  # whichever release the suite deployed last


def test_lab_status_reports_every_host_healthy(hosts):
    result = subprocess.run([os.path.join(ROOT, 'scripts', 'lab'), 'status'], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for host in hosts:
        assert 'https://%s: ok, version ' % host.fqdn in result.stdout  # whichever release the suite deployed last


@pytest.fixture
def app_container():
    """Start the app image by hand on a spare loopback address; remove it afterwards."""
    import docker  # pylint: disable=import-outside-toplevel
    client = docker.from_env()
    started = []

    def start(**env):
        image = subprocess.run(['docker', 'inspect', '-f', '{{.Config.Image}}', hosts_web_container()],
                               capture_output=True, text=True, check=True).stdout.strip()
        container = client.containers.run(
            image, detach=True, network_mode='host', name='clawd-e2e-%s' % uuid.uuid4().hex[:8],
            labels={'clawd.lab.instance': os.environ.get('CLAWD_LAB_INSTANCE', 'e2e'), 'clawd.lab.role': 'e2e'},
            environment=dict({'APP_ROLE': 'web', 'APP_LISTEN': '127.0.1.250:8080'}, **env))
        started.append(container)
        return container

    yield start
    for container in started:
        container.remove(force=True)


def hosts_web_container():
    out = subprocess.run(['docker', 'ps', '-q', '--filter', 'label=clawd.app.role=web'], capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    return predicate()


def test_unhealthy_release_knob_makes_docker_mark_it_unhealthy(app_container):
    container = app_container(APP_UNHEALTHY='1', APP_VERSION='6.6.6')

    def health():
        container.reload()
        return container.attrs['State'].get('Health', {}).get('Status') == 'unhealthy'

    assert wait_for(health), container.attrs['State']
    logs = container.logs().decode()
    assert 'version 6.6.6' in logs or '6.6.6' in logs


def test_log_noise_knob_writes_countable_lines(app_container):
    container = app_container(APP_LOG_ERRORS_PER_MIN='600', APP_LOG_UNAUTHORIZED_PER_MIN='600', APP_LOG_RATELIMIT_PER_MIN='600')

    def noisy():
        logs = container.logs().decode()
        return ' ERROR ' in logs and 'unauthorized' in logs and 'rate limit' in logs

    assert wait_for(noisy, timeout=15), container.logs().decode()[-2000:]


def test_state_dir_keeps_secrets_private():
    for name in os.listdir(os.path.join(STATE, 'secrets')):
        assert os.stat(os.path.join(STATE, 'secrets', name)).st_mode & 0o077 == 0, name

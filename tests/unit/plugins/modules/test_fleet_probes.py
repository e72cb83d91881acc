# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fleet_probes run in-process against a local app, bot and Bot API (plain HTTP) and a local TLS server."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import socket
import ssl
import threading

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin
from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _check_results, _fleet_probes
from ansible_collections.clawd.ops.plugins.modules import app_health, fleet_probes, telegram_bot_probe, telegram_webhook_info

SECRET = 'hook-secret-0123456789'
TOKEN = '7100000001:AAsecretpart_0123456789abcdefghij'
NOW = 1795456200


class FakeFleet(Origin):
    """/health, /hook (401 without the secret) and the Bot API's getWebhookInfo for TOKEN; records what came."""

    def __init__(self, barrier=None):
        self.posts, self.hosts = [], []
        self.health = {'status': 'ok', 'version': '1.4.2', 'checks': {'db': {'status': 'ok'}}}
        self.barrier = barrier
        Origin.__init__(self, self.answer_fleet)
        self.port = self.server.server_address[1]

    def answer_fleet(self, method, path, headers, body):
        if method == 'GET':
            self.hosts.append(headers.get('Host'))
            if self.barrier is not None:
                self.barrier.wait()
            return 200, {}, self.health
        if path == '/bot%s/getWebhookInfo' % TOKEN:
            return 200, {}, {'ok': True, 'result': {'url': 'https://app.example.com/hook', 'pending_update_count': 3}}
        if path.startswith('/bot'):
            return 401, {}, {'ok': False, 'error_code': 401, 'description': 'Unauthorized'}
        self.posts.append(json.loads(body or b'{}'))
        if headers.get('X-Telegram-Bot-Api-Secret-Token') != SECRET:
            return 401, {}, {'error': 'bad secret token'}
        return 200, {}, {}


@pytest.fixture
def fleet():
    with FakeFleet() as fake:
        yield fake


def host_probes(fleet, name, **extra):
    probes = {
        'name': name,
        'health': {'url': fleet.url + '/health'},
        'bot': {'url': fleet.url + '/hook', 'secret_token': SECRET, 'chat_id': 77},
        'webhook': {'api_url': fleet.url, 'bot_token': TOKEN},
    }
    probes.update(extra)
    return probes


def test_every_probe_of_every_host_in_one_call(fleet, results):
    assert run_main(fleet_probes.main, {'probes': [host_probes(fleet, 'web1'), host_probes(fleet, 'web2')]}) == 0
    out = results[0]
    assert out['changed'] is True and sorted(out['by_host']) == ['web1', 'web2']
    for name in ('web1', 'web2'):
        found = out['by_host'][name]
        assert sorted(found) == ['bot', 'health', 'webhook']
        assert found['health']['healthy'] is True and found['health']['version'] == '1.4.2'
        assert found['bot']['status'] == 200 and found['bot']['changed'] is True
        assert found['webhook']['webhook']['pending_update_count'] == 3 and found['webhook']['webhook_set'] is True
    assert sorted(p['message']['chat']['id'] for p in fleet.posts) == [77, 77]


def test_the_results_are_those_of_the_single_modules(fleet, results):
    """What check_results judges is the same whether one module per probe ran, or fleet_probes."""
    assert run_main(fleet_probes.main, {'probes': [host_probes(fleet, 'web1')]}) == 0
    assert run_main(app_health.main, {'url': fleet.url + '/health', 'retries': 1}) == 0
    assert run_main(telegram_bot_probe.main, {'url': fleet.url + '/hook', 'secret_token': SECRET, 'chat_id': 77}) == 0
    assert run_main(telegram_webhook_info.main, {'api_url': fleet.url, 'bot_token': TOKEN, 'bot_info': False, 'retries': 1}) == 0
    found, health, bot, webhook = results[0]['by_host']['web1'], results[1], results[2], results[3]
    for mine, theirs in ((found['health'], health), (found['bot'], bot), (found['webhook'], webhook)):
        assert set(mine) | {'failed', 'warnings'} == set(theirs) | {'failed', 'warnings'}
    for key in ('healthy', 'status', 'http_status', 'checks', 'failed_checks', 'version', 'attempts'):
        assert found['health'][key] == health[key]
    assert found['webhook']['webhook'] == webhook['webhook']
    judged = _check_results.judge_host({'health': found['health'], 'bot': found['bot'], 'webhook': found['webhook']}, checks=['health', 'webhook'])
    alone = _check_results.judge_host({'health': health, 'bot': bot, 'webhook': webhook}, checks=['health', 'webhook'])
    assert [(r['status'], r['reason']) for r in judged] == [(r['status'], r['reason']) for r in alone]


def test_the_probes_run_at_the_same_time(results):
    """Four health probes meet at a barrier in the server: run one after the other, the first would wait there alone and fail."""
    barrier = threading.Barrier(4, timeout=5)
    with FakeFleet(barrier) as fake:
        probes = [{'name': 'web%d' % i, 'health': {'url': fake.url + '/health'}} for i in range(4)]
        assert run_main(fleet_probes.main, {'probes': probes, 'workers': 4, 'timeout': 10}) == 0
    assert all(found['health']['healthy'] for found in results[0]['by_host'].values()), results[0]
    assert not barrier.broken


def test_the_pool_is_bounded_by_workers(monkeypatch, fleet, results):
    seen = []
    real = _fleet_probes.ThreadPoolExecutor

    def pool(max_workers):
        seen.append(max_workers)
        return real(max_workers=max_workers)

    monkeypatch.setattr(_fleet_probes, 'ThreadPoolExecutor', pool)
    probes = [{'name': 'web%d' % i, 'health': {'url': fleet.url + '/health'}} for i in range(5)]
    assert run_main(fleet_probes.main, {'probes': probes, 'workers': 2}) == 0
    assert seen == [2] and len(results[0]['by_host']) == 5


def test_no_bot_message_in_check_mode_and_the_reads_still_run(fleet, results):
    assert run_main(fleet_probes.main, {'probes': [host_probes(fleet, 'web1')], '_ansible_check_mode': True}) == 0
    found = results[0]['by_host']['web1']
    assert fleet.posts == [] and results[0]['changed'] is False
    assert found['bot'] == {'changed': False, 'skipped': True, 'skip_reason': _fleet_probes.BOT_CHECK_MODE}
    assert found['health']['healthy'] is True and found['webhook']['webhook_set'] is True
    judged = _check_results.judge_bot(found['bot'])
    assert judged['status'] == 'unknown' and 'not sent in check mode' in judged['reason']


def test_address_pins_the_url_name_for_that_host_only(fleet, results):
    """The URL's name does not resolve; the probe connects to the address and still sends the name."""
    name = 'app.does-not-resolve.invalid'
    probes = [host_probes(fleet, 'web1', address='127.0.0.1', health={'url': 'http://%s:%d/health' % (name, fleet.port)}),
              {'name': 'web2', 'health': {'url': 'http://%s:%d/health' % (name, fleet.port)}}]
    assert run_main(fleet_probes.main, {'probes': probes}) == 0
    by_host = results[0]['by_host']
    assert by_host['web1']['health']['healthy'] is True
    assert by_host['web2']['health']['healthy'] is False and by_host['web2']['health']['http_status'] == 0
    assert by_host['web2']['health']['msg'].startswith('App at http://%s:%d/health is not healthy: unreachable' % (name, fleet.port))
    assert fleet.hosts == ['%s:%d' % (name, fleet.port)]
    assert socket.getaddrinfo is _fleet_probes._real_getaddrinfo


def test_failed_probes_are_results_without_secrets(fleet, results):
    fleet.health = {'status': 'degraded', 'checks': {'db': {'status': 'down', 'reason': 'no connection'}}}
    probes = [host_probes(fleet, 'web1', bot={'url': fleet.url + '/hook', 'secret_token': SECRET + 'x'},
                          webhook={'api_url': fleet.url, 'bot_token': TOKEN + 'x'})]
    assert run_main(fleet_probes.main, {'probes': probes}) == 0
    found = results[0]['by_host']['web1']
    assert found['health']['failed'] is True and found['health']['failed_checks'] == ['db: down (no connection)']
    assert found['bot']['failed'] is True and found['bot']['status'] == 401 and found['bot']['error'] == 'the webhook answered HTTP 401'
    assert found['webhook']['failed'] is True and found['webhook']['msg'] == 'Failed to read webhook for bot 7100000001: HTTP 401: Unauthorized'
    text = json.dumps(results[0])
    assert SECRET not in text and TOKEN not in text and 'AAsecretpart' not in text


def test_an_unreachable_host_does_not_hold_up_the_others(fleet, results):
    with socket.socket() as closed:
        closed.bind(('127.0.0.1', 0))
        port = closed.getsockname()[1]
    probes = [{'name': 'down', 'health': {'url': 'http://127.0.0.1:%d/health' % port, 'retries': 0},
               'certificate': {'host': '127.0.0.1', 'port': port}},
              {'name': 'up', 'health': {'url': fleet.url + '/health'}}]
    assert run_main(fleet_probes.main, {'probes': probes}) == 0
    by_host = results[0]['by_host']
    assert by_host['up']['health']['healthy'] is True
    assert by_host['down']['health']['failed'] is True and by_host['down']['certificate']['failed'] is True
    assert by_host['down']['certificate']['msg'].startswith('Failed to get cert from 127.0.0.1:%d, error: ' % port)
    judged = _check_results.judge_certificate(by_host['down']['certificate'])
    assert judged['status'] == 'unknown' and judged['reason'].startswith('the certificate could not be read: Failed to get cert')


@pytest.mark.parametrize('args, message', [
    ({'probes': [{'name': 'a'}], 'workers': 0}, 'Invalid options: workers must be 1 or more and timeout more than 0'),
    ({'probes': [{'name': 'a'}, {'name': 'a'}]}, 'Invalid options: probes names a twice'),
    ({'probes': [{'name': 'a', 'certificate': {'host': 'x', 'port': 70000}}]}, 'Invalid options: probes a: certificate.port must be from 1 to 65535'),
    ({'probes': [{'name': 'a', 'health': {'url': 'x', 'retries': -1}}]}, 'Invalid options: probes a: health.retries must be 0 or more'),
])
def test_bad_options_fail_with_a_message(args, message, results):
    assert run_main(fleet_probes.main, args) == 1
    assert results[0]['msg'] == message


def test_a_bad_bot_token_is_named_without_printing_it(fleet, results):
    assert run_main(fleet_probes.main, {'probes': [{'name': 'a', 'webhook': {'api_url': fleet.url, 'bot_token': 'not a token'}}]}) == 0
    found = results[0]['by_host']['a']['webhook']
    assert found['failed'] is True and found['msg'].startswith('Invalid options: bot_token does not look like a Telegram bot token')
    assert 'not a token' not in found['msg']


# ---------------------------------------------------------------- the certificate


def make_certificate(not_before, not_after, name='app.example.com'):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Example')])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Example CA')])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(1).not_valid_before(not_before).not_valid_after(not_after).sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.DER), cert.public_bytes(serialization.Encoding.PEM), pem_key


def utc(text):
    return datetime.datetime.strptime(text, '%Y%m%d%H%M%SZ').replace(tzinfo=datetime.timezone.utc)


def test_the_certificate_fields_are_those_get_certificate_returns():
    der, _pem, _key = make_certificate(utc('20261101000000Z'), utc('20270101120000Z'))
    assert _fleet_probes.describe_certificate(der, now=NOW) == {
        'not_after': '20270101120000Z', 'not_before': '20261101000000Z', 'expired': False,
        'subject': {'CN': 'app.example.com', 'O': 'Example'}, 'issuer': {'CN': 'Example CA'},
    }
    assert _fleet_probes.describe_certificate(der, now=NOW + 86400 * 60)['expired'] is True


def test_the_certificate_is_judged_as_before():
    der, _pem, _key = make_certificate(utc('20261101000000Z'), utc('20261201151000Z'))
    found = _fleet_probes.probe_certificate({'host': '203.0.113.1', 'server_name': 'app.example.com'},
                                            fetch=lambda host, port, name, timeout: der, now=NOW)
    judged = _check_results.judge_certificate(found, now=NOW)
    assert judged['status'] == 'warning' and 7 < judged['value'] < 21 and found['changed'] is False
    assert judged['details'] == {'not_after': '20261201151000Z', 'not_before': '20261101000000Z',
                                 'subject': {'CN': 'app.example.com', 'O': 'Example'}, 'issuer': {'CN': 'Example CA'}}


def test_the_certificate_is_read_from_a_tls_server_with_its_server_name(tmp_path, results):
    now = datetime.datetime.now(datetime.timezone.utc)
    _der, pem, key = make_certificate(now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    (tmp_path / 'cert.pem').write_bytes(pem)
    (tmp_path / 'key.pem').write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / 'cert.pem'), str(tmp_path / 'key.pem'))
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def serve():
        conn, _addr = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        assert run_main(fleet_probes.main, {'probes': [{'name': 'web1', 'certificate': {'host': '127.0.0.1', 'port': port,
                                                                                        'server_name': 'app.example.com'}}]}) == 0
    finally:
        thread.join(5)
        listener.close()
    found = results[0]['by_host']['web1']['certificate']
    assert found['subject'] == {'CN': 'app.example.com', 'O': 'Example'} and found['expired'] is False
    assert names == ['app.example.com'] and results[0]['changed'] is False

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Telegram client against the lab stand-in, and the webhook validation and comparison as plain functions."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

requests = pytest.importorskip('requests')

# pylint: disable=wrong-import-position
from standins.telegram import TelegramStandIn  # noqa: E402 (lab/ is put on sys.path by tests/unit/conftest.py)

from ansible_collections.clawd.ops.plugins.module_utils import _telegram  # noqa: E402
from ansible_collections.clawd.ops.plugins.module_utils._telegram import (  # noqa: E402
    DEFAULT_UPDATES,
    TelegramClient,
    TelegramError,
    desired_webhook,
    iso_time,
    normalise_info,
    predict,
    validate_token,
    validate_webhook,
    webhook_changes,
)

TOKEN = '555111:AAclientSECRETtoken_0123-abc'
SECRET = 'clientHOOKsecret_42'
URL = 'https://hook.clawd.test/tg'
FAST = {'backoff_factor': 0.01, 'backoff_max': 0.05, 'timeout': 5}


@pytest.fixture(name='server', scope='module')
def server_fixture():
    config = {'tokens': [{'token': TOKEN, 'username': 'client_bot'}], 'set_webhook_interval': 0}
    with TelegramStandIn(config=config).serve_in_thread() as running:
        yield running


@pytest.fixture(name='tg')
def tg_fixture(server):
    requests.post(server.url + '/_lab/reset', timeout=5).raise_for_status()
    return server


def log(running):
    return requests.get(running.url + '/_lab/requests', timeout=5).json()


def fault(running, **spec):
    requests.post(running.url + '/_lab/faults', json=spec, timeout=5).raise_for_status()


def client(running, token=TOKEN, **kwargs):
    options = dict(FAST)
    options.update(kwargs)
    return TelegramClient(token, running.url, **options)


# --------------------------------------------------------------------------- client


def test_webhook_round_trip(tg):
    c = client(tg)
    assert c.get_me()['username'] == 'client_bot'
    assert c.get_webhook_info() == {'url': '', 'has_custom_certificate': False, 'pending_update_count': 0}
    assert c.set_webhook(URL, max_connections=5, allowed_updates=['message'], secret_token=SECRET) == 'Webhook was set'
    assert c.set_webhook(URL, max_connections=5, secret_token=SECRET) == 'Webhook is already set'
    got = c.get_webhook_info()
    assert got['url'] == URL and got['max_connections'] == 5 and got['allowed_updates'] == ['message']
    assert c.delete_webhook(drop_pending_updates=True) == 'Webhook was deleted'
    assert c.delete_webhook() == 'Webhook is already deleted'
    body = json.loads(log(tg)[2]['body'])
    assert body == {'url': URL, 'max_connections': 5, 'allowed_updates': ['message'], 'secret_token': '***'}
    assert json.loads(log(tg)[-2]['body']) == {'drop_pending_updates': True}


def test_certificate_upload_is_multipart_with_json_array(tg, tmp_path):
    pem = tmp_path / 'hook.pem'
    pem.write_bytes(b'-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
    c = client(tg)
    assert c.set_webhook(URL, certificate=str(pem), allowed_updates=['poll', 'message'], drop_pending_updates=True,
                         secret_token=SECRET) == 'Webhook was set'
    got = c.get_webhook_info()
    assert got['has_custom_certificate'] is True
    assert got['allowed_updates'] == ['message', 'poll']
    entry = log(tg)[0]
    assert entry['headers']['Content-Type'].startswith('multipart/form-data')
    assert 'filename="hook.pem"' in entry['body'] and SECRET not in entry['body']


def test_unreadable_certificate(tg, tmp_path):
    with pytest.raises(TelegramError, match='cannot read the certificate'):
        client(tg).set_webhook(URL, certificate=str(tmp_path / 'missing.pem'))
    assert log(tg) == []


def test_api_error_message_and_status(tg):
    with pytest.raises(TelegramError) as info:
        client(tg).set_webhook('https://hook.clawd.test:8080/x')
    assert str(info.value) == 'HTTP 400: Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443'
    assert info.value.status == 400


def test_bad_token_is_401_and_never_shown(tg):
    wrong = '555111:AAwrongSECRETvalue'
    with pytest.raises(TelegramError) as info:
        client(tg, token=wrong).get_webhook_info()
    assert str(info.value) == 'HTTP 401: Unauthorized'
    assert info.value.status == 401


def test_429_retry_after_from_body_is_honoured(tg, retry_sleeps):
    fault(tg, mode='429', retry_after=1, match='getWebhookInfo')
    assert client(tg).get_webhook_info()['url'] == ''
    assert retry_sleeps == [1]
    assert [e['status'] for e in log(tg)] == [429, 200]


def test_429_on_set_webhook_is_retried(tg):
    fault(tg, mode='429', retry_after=0, match='setWebhook')
    assert client(tg).set_webhook(URL) == 'Webhook was set'
    assert [e['status'] for e in log(tg)] == [429, 200]


@pytest.mark.parametrize('status', [502, 503, 504])
def test_5xx_retried(tg, status):
    fault(tg, mode='5xx', status=status, count=2)
    assert client(tg).set_webhook(URL) == 'Webhook was set'
    assert [e['status'] for e in log(tg)] == [status, status, 200]


def test_5xx_exhausted(tg):
    fault(tg, mode='5xx', status=503, count=10)
    with pytest.raises(TelegramError) as info:
        client(tg, retries=2).get_webhook_info()
    assert 'HTTP 503' in str(info.value) or '503' in str(info.value)
    assert TOKEN not in str(info.value)
    assert len(log(tg)) == 3


def test_timeout_message_has_no_token(tg):
    fault(tg, mode='slow', delay=1.5)
    with pytest.raises(TelegramError) as info:
        client(tg, timeout=0.3, retries=0).get_webhook_info()
    message = str(info.value)
    assert 'no answer within 0.3 seconds' in message
    assert '/bot***/getWebhookInfo' in message
    assert TOKEN not in message and TOKEN.split(':')[1] not in message


def test_connection_refused_message_has_no_token():
    with pytest.raises(TelegramError) as info:
        TelegramClient(TOKEN, 'http://127.0.0.1:9', retries=0, timeout=2).get_me()
    assert 'Connection refused' in str(info.value)
    assert TOKEN not in str(info.value)


def test_body_that_is_not_json(tg):
    requests.post(tg.url + '/_lab/faults', json={'mode': '5xx', 'status': 500}, timeout=5)
    with pytest.raises(TelegramError) as info:
        client(tg).get_me()
    assert str(info.value) == 'HTTP 500: Internal Server Error'


def test_describe_bot():
    c = TelegramClient(TOKEN, 'http://127.0.0.1:9')
    assert c.describe_bot('client_bot') == 'bot @client_bot'
    assert c.describe_bot() == 'bot 555111'


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize('token,good', [(TOKEN, True), ('123:abc', True), ('abc:def', False), ('123456', False), ('', False),
                                        ('123:ab cd', False), (None, False)])
def test_validate_token(token, good):
    message = validate_token(token)
    assert (message is None) is good
    if message and token:
        assert token not in message


@pytest.mark.parametrize('url', ['https://a.example/x', 'https://a.example:443/x', 'https://a.example:80/x', 'https://a.example:88/x',
                                 'https://a.example:8443/x?q=1'])
def test_valid_urls(url):
    assert validate_webhook(url=url) == []


@pytest.mark.parametrize('url,fragment', [('http://a.example/x', 'HTTPS'), ('a.example/x', 'HTTPS'), ('https:///x', 'no host'),
                                          ('https://a.example:8080/x', 'port 8080'), ('https://a.example:99999/x', 'not a valid URL')])
def test_invalid_urls(url, fragment):
    errors = validate_webhook(url=url)
    assert len(errors) == 1 and fragment in errors[0]


@pytest.mark.parametrize('secret,good', [('a', True), ('A-z_0' * 51 + 'x', True), ('', False), ('a' * 257, False), ('a b', False),
                                         ('a+b/c=', False), ('é', False)])
def test_validate_secret(secret, good):
    errors = validate_webhook(secret_token=secret)
    assert (errors == []) is good
    if errors and len(secret) > 1:
        assert secret not in errors[0]


@pytest.mark.parametrize('value,good', [(1, True), (100, True), (40, True), (0, False), (101, False), (-1, False)])
def test_validate_max_connections(value, good):
    assert (validate_webhook(max_connections=value) == []) is good


@pytest.mark.parametrize('value,good', [('203.0.113.10', True), ('127.0.1.1', True), ('::1', False), ('nope', False), ('1.2.3', False)])
def test_validate_ip_address(value, good):
    assert (validate_webhook(ip_address=value) == []) is good


def test_validate_allowed_updates():
    assert validate_webhook(allowed_updates=['message', 'chat_member']) == []
    assert validate_webhook(allowed_updates=[]) == []
    errors = validate_webhook(allowed_updates=['message', 'messages'])
    assert len(errors) == 1 and 'messages' in errors[0]


# --------------------------------------------------------------------------- comparison


def test_iso_time():
    assert iso_time(0) is None
    assert iso_time(None) is None
    assert iso_time(1700000000) == '2023-11-14T22:13:20Z'


def test_normalise_info_fills_defaults():
    assert normalise_info({'url': '', 'has_custom_certificate': False, 'pending_update_count': 0}) == {
        'url': '', 'has_custom_certificate': False, 'pending_update_count': 0, 'ip_address': None, 'max_connections': None,
        'allowed_updates': sorted(DEFAULT_UPDATES), 'last_error_date': None, 'last_error_date_iso': None, 'last_error_message': None,
        'last_synchronization_error_date': None, 'last_synchronization_error_date_iso': None}
    got = normalise_info({'url': URL, 'pending_update_count': 3, 'ip_address': '1.2.3.4', 'allowed_updates': ['poll', 'message'],
                          'last_error_date': 1700000000, 'last_error_message': 'Connection refused'})
    assert got['max_connections'] == 40
    assert got['allowed_updates'] == ['message', 'poll']
    assert got['last_error_date_iso'] == '2023-11-14T22:13:20Z'
    assert got['pending_update_count'] == 3


def test_no_change_when_equal_and_unmanaged_fields_ignored():
    current = normalise_info({'url': URL, 'max_connections': 40, 'ip_address': '1.2.3.4', 'allowed_updates': ['poll', 'message']})
    assert webhook_changes(current, desired_webhook(URL, allowed_updates=['message', 'poll'])) == {}
    assert webhook_changes(current, desired_webhook(URL, max_connections=40, ip_address='1.2.3.4')) == {}


def test_allowed_updates_compared_as_sets_and_default():
    current = normalise_info({'url': URL})
    assert webhook_changes(current, desired_webhook(URL, allowed_updates=[])) == {}
    assert webhook_changes(current, desired_webhook(URL, allowed_updates=list(reversed(DEFAULT_UPDATES)))) == {}
    assert webhook_changes(current, desired_webhook(URL, allowed_updates=['message', 'message'])) == {
        'allowed_updates': (sorted(DEFAULT_UPDATES), ['message'])}


def test_each_field_change():
    current = normalise_info({'url': URL, 'max_connections': 40, 'ip_address': '1.2.3.4'})
    assert webhook_changes(current, desired_webhook(URL + '/x')) == {'url': (URL, URL + '/x')}
    assert webhook_changes(current, desired_webhook(URL, max_connections=41)) == {'max_connections': (40, 41)}
    assert webhook_changes(current, desired_webhook(URL, ip_address='1.2.3.5')) == {'ip_address': ('1.2.3.4', '1.2.3.5')}
    assert webhook_changes(current, desired_webhook(URL, certificate='/c.pem')) == {'has_custom_certificate': (False, True)}
    with_cert = normalise_info({'url': URL, 'has_custom_certificate': True})
    assert webhook_changes(with_cert, desired_webhook(URL)) == {'has_custom_certificate': (True, False)}


def test_creation_and_prediction():
    current = normalise_info({'url': ''})
    changes = webhook_changes(current, desired_webhook(URL, max_connections=10, ip_address='1.2.3.4'))
    assert changes == {'url': ('', URL), 'max_connections': (None, 10), 'ip_address': (None, '1.2.3.4')}
    predicted = predict(current, changes)
    assert (predicted['url'], predicted['max_connections'], predicted['ip_address']) == (URL, 10, '1.2.3.4')
    assert predict(current, webhook_changes(current, desired_webhook(URL)))['max_connections'] == 40


def test_module_utils_has_no_module_logic():
    assert not hasattr(_telegram, 'AnsibleModule')


# ---------------------------------------------------------------------------- redirects: the token stays with the API


@pytest.mark.parametrize('keep_path', [True, False], ids=['token-in-new-path', 'other-path'])
def test_a_redirect_to_another_origin_takes_neither_token_nor_secret(keep_path):
    from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin, redirect_to
    with Origin() as other:
        target = (lambda path: other.url + path) if keep_path else other.url + '/elsewhere'
        with Origin(redirect_to(target, 307)) as api:
            c = TelegramClient(TOKEN, api.url, retries=0, timeout=5)
            with pytest.raises(TelegramError) as info:
                c.set_webhook('https://bot.example.com/hook', secret_token='hookSECRETvalue')
        assert other.requests == []
    message = str(info.value)
    assert 'another origin' in message and api.origin in message and other.origin in message
    assert TOKEN not in message and 'hookSECRETvalue' not in message

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The telegram_webhook module run in-process against the lab's Telegram stand-in."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json

import pytest

requests = pytest.importorskip('requests')

# pylint: disable=wrong-import-position
from standins.telegram import TelegramStandIn  # noqa: E402 (lab/ is put on sys.path by tests/unit/conftest.py)

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main  # noqa: E402
from ansible_collections.clawd.ops.plugins.modules import telegram_webhook  # noqa: E402
from ansible_collections.clawd.ops.plugins.module_utils._telegram import DEFAULT_UPDATES  # noqa: E402

TOKEN = '987654:AAmoduleSECRETtoken_xyz-0123'
SECRET = 'moduleHOOKsecret_A'
SECRET_B = 'moduleHOOKsecret_B'
URL = 'https://lab1.clawd.test/telegram/webhook'


@pytest.fixture(name='server', scope='module')
def server_fixture():
    config = {'tokens': [{'token': TOKEN, 'username': 'module_bot'}], 'set_webhook_interval': 0}
    with TelegramStandIn(config=config).serve_in_thread() as running:
        yield running


@pytest.fixture(name='tg')
def tg_fixture(server):
    requests.post(server.url + '/_lab/reset', timeout=5).raise_for_status()
    return server


def methods(running):
    """Bot API methods the stand-in was asked, in order."""
    return [e['path'].rsplit('/', 1)[-1] for e in requests.get(running.url + '/_lab/requests', timeout=5).json()]


def clear_log(running):
    requests.delete(running.url + '/_lab/requests', timeout=5).raise_for_status()


def webhook_state(running):
    return requests.get(running.url + '/_lab/telegram/webhooks', timeout=5).json().get('987654', {})


def run(running, results, check=False, diff=False, **args):
    params = {'bot_token': TOKEN, 'api_url': running.url, 'timeout': 5}
    params.update(args)
    if check:
        params['_ansible_check_mode'] = True
    if diff:
        params['_ansible_diff'] = True
    run_main(telegram_webhook.main, params)
    result = results[-1]
    assert TOKEN not in json.dumps(result)
    return result


def sha(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


# --------------------------------------------------------------------------- create, no change, change


def test_create_then_no_change_is_one_call(tg, results):
    result = run(tg, results, url=URL, max_connections=10, allowed_updates=['message', 'callback_query'])
    assert result['failed'] is False and result['changed'] is True
    assert result['changes'] == ['allowed_updates', 'max_connections', 'url']
    assert result['webhook']['url'] == URL and result['webhook']['max_connections'] == 10
    assert result['webhook']['allowed_updates'] == ['callback_query', 'message']
    assert methods(tg) == ['getWebhookInfo', 'setWebhook', 'getWebhookInfo']
    clear_log(tg)
    result = run(tg, results, url=URL, max_connections=10, allowed_updates=['callback_query', 'message'])
    assert result['changed'] is False and result['changes'] == []
    assert methods(tg) == ['getWebhookInfo']


def test_no_change_with_secret_on_create_is_one_call(tg, results):
    run(tg, results, url=URL, secret_token=SECRET)
    assert webhook_state(tg)['secret_token_sha256'] == sha(SECRET)
    clear_log(tg)
    result = run(tg, results, url=URL, secret_token=SECRET, update_secret='on_create')
    assert result['changed'] is False
    assert methods(tg) == ['getWebhookInfo']


def test_update_secret_always_resends_and_reports_only_real_changes(tg, results):
    run(tg, results, url=URL, secret_token=SECRET)
    clear_log(tg)
    result = run(tg, results, url=URL, secret_token=SECRET)
    assert result['changed'] is False
    assert methods(tg) == ['getWebhookInfo', 'setWebhook']
    clear_log(tg)
    result = run(tg, results, url=URL, secret_token=SECRET_B, diff=True)
    assert result['changed'] is True and result['changes'] == ['secret_token']
    assert webhook_state(tg)['secret_token_sha256'] == sha(SECRET_B)
    assert 'secret_token' in result['diff']['after'] and SECRET_B not in json.dumps(result)


def test_update_secret_on_create_leaves_a_different_secret(tg, results):
    run(tg, results, url=URL, secret_token=SECRET)
    result = run(tg, results, url=URL, secret_token=SECRET_B, update_secret='on_create')
    assert result['changed'] is False
    assert webhook_state(tg)['secret_token_sha256'] == sha(SECRET)
    # Another change registers the webhook again, with the new secret.
    result = run(tg, results, url=URL, secret_token=SECRET_B, update_secret='on_create', max_connections=12)
    assert result['changed'] is True and result['changes'] == ['max_connections']
    assert webhook_state(tg)['secret_token_sha256'] == sha(SECRET_B)


@pytest.mark.parametrize('change,field', [
    ({'url': URL + '2'}, 'url'),
    ({'max_connections': 99}, 'max_connections'),
    ({'ip_address': '127.0.1.1'}, 'ip_address'),
    ({'allowed_updates': ['message']}, 'allowed_updates'),
    ({'allowed_updates': []}, 'allowed_updates'),
])
def test_change_of_each_field(tg, results, change, field):
    base = {'url': URL, 'max_connections': 40, 'allowed_updates': ['message', 'poll'], 'secret_token': SECRET}
    run(tg, results, **base)
    args = dict(base, **change)
    result = run(tg, results, **args)
    assert result['changed'] is True and result['changes'] == [field]
    for key, value in change.items():
        expected = sorted(value) if key == 'allowed_updates' and value else value
        if key == 'allowed_updates' and not value:
            expected = sorted(telegram_webhook_defaults())
        assert result['webhook'][key] == expected
    # The secret travelled with the re-registration.
    assert webhook_state(tg)['secret_token_sha256'] == sha(SECRET)
    assert run(tg, results, **args)['changed'] is False


def telegram_webhook_defaults():
    return DEFAULT_UPDATES


def test_unmanaged_max_connections_is_kept(tg, results):
    run(tg, results, url=URL, max_connections=7)
    result = run(tg, results, url=URL + '/new')
    assert result['changes'] == ['url']
    assert result['webhook']['max_connections'] == 7


def test_certificate_upload(tg, results, tmp_path):
    pem = tmp_path / 'hook.pem'
    pem.write_bytes(b'-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
    run(tg, results, url=URL)
    result = run(tg, results, url=URL, certificate=str(pem))
    assert result['changed'] is True and result['changes'] == ['has_custom_certificate']
    assert result['webhook']['has_custom_certificate'] is True
    assert run(tg, results, url=URL, certificate=str(pem))['changed'] is False
    result = run(tg, results, url=URL)
    assert result['changed'] is True and result['webhook']['has_custom_certificate'] is False


def test_drop_pending_updates_alone_changes_nothing(tg, results):
    run(tg, results, url=URL)
    clear_log(tg)
    assert run(tg, results, url=URL, drop_pending_updates=True)['changed'] is False
    assert methods(tg) == ['getWebhookInfo']


# --------------------------------------------------------------------------- absent


def test_absent(tg, results):
    run(tg, results, url=URL, secret_token=SECRET)
    clear_log(tg)
    result = run(tg, results, state='absent', drop_pending_updates=True)
    assert result['changed'] is True and result['webhook']['url'] == ''
    assert methods(tg) == ['getWebhookInfo', 'deleteWebhook', 'getWebhookInfo']
    clear_log(tg)
    result = run(tg, results, state='absent')
    assert result['changed'] is False
    assert methods(tg) == ['getWebhookInfo']


# --------------------------------------------------------------------------- check and diff mode


def test_check_mode_writes_nothing(tg, results):
    result = run(tg, results, check=True, url=URL, max_connections=5)
    assert result['changed'] is True and result['changes'] == ['max_connections', 'url']
    assert result['webhook']['url'] == URL and result['webhook']['max_connections'] == 5
    assert methods(tg) == ['getWebhookInfo']
    run(tg, results, url=URL, secret_token=SECRET)
    clear_log(tg)
    assert run(tg, results, check=True, state='absent')['changed'] is True
    assert run(tg, results, check=True, url=URL, secret_token=SECRET_B)['changed'] is False
    assert methods(tg) == ['getWebhookInfo', 'getWebhookInfo']
    assert webhook_state(tg)['url'] == URL and webhook_state(tg)['secret_token_sha256'] == sha(SECRET)


def test_diff(tg, results):
    run(tg, results, url=URL, allowed_updates=['message'])
    result = run(tg, results, diff=True, url=URL + '2', allowed_updates=['poll', 'message'], max_connections=3)
    before, after = result['diff']['before'], result['diff']['after']
    assert before == {'url': URL, 'max_connections': 40, 'ip_address': before['ip_address'], 'allowed_updates': ['message'],
                      'has_custom_certificate': False}
    assert after == dict(before, url=URL + '2', allowed_updates=['message', 'poll'], max_connections=3)
    result = run(tg, results, diff=True, check=True, state='absent')
    assert result['diff']['before']['url'] == URL + '2' and result['diff']['after']['url'] == ''


# --------------------------------------------------------------------------- validation before any call


@pytest.mark.parametrize('args,fragment', [
    ({'bot_token': 'not-a-token', 'url': URL}, 'bot_token does not look like'),
    ({'url': 'http://lab1.clawd.test/hook'}, 'HTTPS'),
    ({'url': 'https://lab1.clawd.test:8080/hook'}, 'port 8080'),
    ({'url': 'https://lab1.clawd.test/hook', 'secret_token': 'has space'}, 'secret_token must be'),
    ({'url': 'https://lab1.clawd.test/hook', 'secret_token': 'x' * 257}, 'secret_token must be'),
    ({'url': 'https://lab1.clawd.test/hook', 'max_connections': 0}, 'max_connections must be from 1 to 100'),
    ({'url': 'https://lab1.clawd.test/hook', 'max_connections': 101}, 'max_connections must be from 1 to 100'),
    ({'url': 'https://lab1.clawd.test/hook', 'ip_address': '999.1.1.1'}, 'ip_address'),
    ({'url': 'https://lab1.clawd.test/hook', 'allowed_updates': ['message', 'mesage']}, 'unknown update types mesage'),
    ({'url': 'https://lab1.clawd.test/hook', 'certificate': '/nonexistent/cert.pem'}, 'cannot be read'),
    ({}, 'url'),
])
def test_validation_errors_before_any_request(tg, results, args, fragment):
    params = {'bot_token': TOKEN, 'api_url': tg.url}
    params.update(args)
    code = run_main(telegram_webhook.main, params)
    assert code == 1
    assert results[-1]['failed'] is True
    assert fragment in results[-1]['msg']
    assert methods(tg) == []


# --------------------------------------------------------------------------- failures and retries


def test_bad_token(tg, results):
    result = run(tg, results, bot_token='987654:AAwrongTOKENvalue', url=URL)
    assert result['failed'] is True
    assert result['msg'] == 'Failed to read webhook for bot 987654: HTTP 401: Unauthorized'
    assert result['status_code'] == 401 and result['vendor_code'] == 401
    assert 'AAwrongTOKENvalue' not in json.dumps(result)


def test_api_refusal_names_the_bot(tg, results, monkeypatch):
    monkeypatch.setattr(telegram_webhook, 'validate_webhook', lambda *args: [])
    result = run(tg, results, url='https://lab1.clawd.test:8080/hook')
    assert result['failed'] is True
    assert result['msg'] == ('Failed to set webhook for bot @module_bot: HTTP 400: Bad Request: bad webhook: '
                             'Webhook can be set up only on ports 80, 88, 443 or 8443')


def test_429_retry_after_is_honoured(tg, results, retry_sleeps):
    requests.post(tg.url + '/_lab/faults', json={'mode': '429', 'retry_after': 1, 'match': 'setWebhook'}, timeout=5)
    result = run(tg, results, url=URL)
    assert result['failed'] is False and result['changed'] is True
    assert retry_sleeps == [1]
    statuses = [e['status'] for e in requests.get(tg.url + '/_lab/requests', timeout=5).json()]
    assert statuses == [200, 429, 200, 200]


def test_flood_limit_of_the_real_api_is_waited_out(results):
    config = {'tokens': [{'token': TOKEN, 'username': 'module_bot'}], 'set_webhook_interval': 1}
    with TelegramStandIn(config=config).serve_in_thread() as running:
        run(running, results, url=URL)
        result = run(running, results, url=URL + '2')
        assert result['failed'] is False and result['webhook']['url'] == URL + '2'


def test_5xx_is_retried(tg, results):
    requests.post(tg.url + '/_lab/faults', json={'mode': '5xx', 'status': 502, 'match': 'getWebhookInfo'}, timeout=5)
    result = run(tg, results, url=URL)
    assert result['failed'] is False
    statuses = [e['status'] for e in requests.get(tg.url + '/_lab/requests', timeout=5).json()]
    assert statuses[:2] == [502, 200]


def test_timeout_message(tg, results):
    requests.post(tg.url + '/_lab/faults', json={'mode': 'slow', 'delay': 1.5}, timeout=5)
    result = run(tg, results, url=URL, timeout=0.4, retries=0)
    assert result['failed'] is True
    assert result['msg'].startswith('Failed to read webhook for bot 987654: POST ')
    assert '/bot***/getWebhookInfo failed: no answer within 0.4 seconds' in result['msg']


def test_bot_info(tg, results):
    run(tg, results, url=URL)
    clear_log(tg)
    result = run(tg, results, url=URL, bot_info=True)
    assert result['bot']['username'] == 'module_bot'
    assert methods(tg) == ['getMe', 'getWebhookInfo']

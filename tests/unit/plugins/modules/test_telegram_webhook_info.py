# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The telegram_webhook_info module run in-process against the lab's Telegram stand-in."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

requests = pytest.importorskip('requests')

# pylint: disable=wrong-import-position
from standins.telegram import TelegramStandIn  # noqa: E402 (lab/ is put on sys.path by tests/unit/conftest.py)

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main  # noqa: E402
from ansible_collections.clawd.ops.plugins.modules import telegram_webhook_info  # noqa: E402

TOKEN = '246810:AAinfoSECRETtoken_abc'
URL = 'https://lab2.clawd.test/telegram/webhook'


@pytest.fixture(name='server', scope='module')
def server_fixture():
    config = {'tokens': [{'token': TOKEN, 'username': 'info_bot'}], 'set_webhook_interval': 0}
    with TelegramStandIn(config=config).serve_in_thread() as running:
        yield running


@pytest.fixture(name='tg')
def tg_fixture(server):
    requests.post(server.url + '/_lab/reset', timeout=5).raise_for_status()
    return server


def log(running):
    return requests.get(running.url + '/_lab/requests', timeout=5).json()


def run(running, results, **args):
    params = {'bot_token': TOKEN, 'api_url': running.url, 'timeout': 5}
    params.update(args)
    run_main(telegram_webhook_info.main, params)
    assert TOKEN not in json.dumps(results[-1])
    return results[-1]


def set_webhook(running, **params):
    params.setdefault('url', URL)
    resp = requests.post('%s/bot%s/setWebhook' % (running.url, TOKEN), json=params, timeout=5)
    assert resp.json()['ok'] is True
    requests.delete(running.url + '/_lab/requests', timeout=5)


def test_no_webhook(tg, results):
    result = run(tg, results)
    assert result['failed'] is False and result['changed'] is False
    assert result['webhook_set'] is False
    assert result['webhook']['url'] == '' and result['webhook']['pending_update_count'] == 0
    assert result['bot']['username'] == 'info_bot'


def test_health_fields(tg, results):
    set_webhook(tg, allowed_updates=['message'], max_connections=5)
    with tg.standin.lock:
        state = tg.standin.webhooks['246810']
        state['pending'] = [{'update_id': 1}, {'update_id': 2}]
        state['last_error_date'] = 1700000000
        state['last_error_message'] = 'Wrong response from the webhook: 401 Unauthorized'
    result = run(tg, results)
    webhook = result['webhook']
    assert result['webhook_set'] is True
    assert webhook['url'] == URL and webhook['max_connections'] == 5 and webhook['allowed_updates'] == ['message']
    assert webhook['pending_update_count'] == 2
    assert webhook['last_error_date'] == 1700000000
    assert webhook['last_error_date_iso'] == '2023-11-14T22:13:20Z'
    assert webhook['last_error_message'] == 'Wrong response from the webhook: 401 Unauthorized'


def test_read_only_in_check_mode_and_one_call_without_bot_info(tg, results):
    set_webhook(tg)
    result = run(tg, results, _ansible_check_mode=True)
    assert result['changed'] is False and result['webhook']['url'] == URL
    assert [e['path'].rsplit('/', 1)[-1] for e in log(tg)] == ['getMe', 'getWebhookInfo']
    requests.delete(tg.url + '/_lab/requests', timeout=5)
    result = run(tg, results, bot_info=False)
    assert 'bot' not in result
    assert [e['path'].rsplit('/', 1)[-1] for e in log(tg)] == ['getWebhookInfo']


def test_bad_token(tg, results):
    result = run(tg, results, bot_token='246810:AAwrongINFOtoken')
    assert result['failed'] is True
    assert result['msg'] == 'Failed to read bot info for bot 246810: HTTP 401: Unauthorized'
    assert 'AAwrongINFOtoken' not in json.dumps(result)


def test_malformed_token_is_refused_before_any_call(tg, results):
    result = run(tg, results, bot_token='nope')
    assert result['failed'] is True and 'bot_token does not look like' in result['msg']
    assert log(tg) == []


def test_webhook_failure_names_the_bot(tg, results):
    requests.post(tg.url + '/_lab/faults', json={'mode': '5xx', 'status': 500, 'match': 'getWebhookInfo'}, timeout=5)
    result = run(tg, results)
    assert result['failed'] is True
    assert result['msg'] == 'Failed to read webhook for bot @info_bot: HTTP 500: Internal Server Error'
    assert result['bot']['username'] == 'info_bot'

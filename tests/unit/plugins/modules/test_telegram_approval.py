# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The telegram_approval module run in-process against the lab's Telegram stand-in; presses come from a thread
that waits for the request to appear (no timing: the module long-polls until the press arrives)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import threading

import pytest

requests = pytest.importorskip('requests')

# pylint: disable=wrong-import-position
from standins.telegram import TelegramStandIn  # noqa: E402 (lab/ is put on sys.path by tests/unit/conftest.py)

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main  # noqa: E402
from ansible_collections.clawd.ops.plugins.modules import telegram_approval  # noqa: E402

TOKEN = '535353:AAapprovalSECRETtoken_q1'
CHAT = -1009876


@pytest.fixture(name='server', scope='module')
def server_fixture():
    config = {'tokens': [{'token': TOKEN, 'username': 'ops_bot'}], 'set_webhook_interval': 0}
    with TelegramStandIn(config=config).serve_in_thread() as running:
        yield running


@pytest.fixture(name='tg')
def tg_fixture(server):
    requests.post(server.url + '/_lab/reset', timeout=5).raise_for_status()
    return server


def presser(tg, presses):
    """Wait for the request's message, then press its buttons as the given (user, choice) in order."""
    def run():
        for _attempt in range(500):
            sent = requests.get(tg.url + '/_lab/telegram/sent', timeout=5).json()
            if sent and sent[-1].get('reply_markup'):
                break
            threading.Event().wait(0.02)
        message = sent[-1]
        buttons = {b['text'].lower(): b['callback_data'] for b in message['reply_markup']['inline_keyboard'][0]}
        for user, choice in presses:
            requests.post(tg.url + '/_lab/telegram/press', timeout=5, json={
                'token_id': 535353, 'chat_id': CHAT, 'message_id': message['message_id'], 'data': buttons[choice], 'user': user})
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def run(tg, results, check=False, **args):
    params = {'bot_token': TOKEN, 'api_url': tg.url, 'chat_id': str(CHAT), 'text': 'Wave 2 of 4: 1 host, commit abc123',
              'approvers': [1001], 'wait_timeout': 60, 'poll_timeout': 30, 'timeout': 45}
    params.update(args)
    if check:
        params['_ansible_check_mode'] = True
    run_main(telegram_approval.main, params)
    result = results[-1]
    assert TOKEN not in json.dumps(result)
    return result


def test_an_approver_approves_and_a_stranger_is_ignored(tg, results):
    thread = presser(tg, [({'id': 2002, 'username': 'mallory'}, 'approve'), ({'id': 1001, 'username': 'alice'}, 'approve')])
    result = run(tg, results)
    thread.join(10)
    assert result['changed'] and result['approved'] and result['decision'] == 'approve'
    assert result['decided_by']['id'] == 1001
    assert result['ignored'] == [{'user_id': 2002, 'username': 'mallory', 'choice': 'approve'}]
    sent = requests.get(tg.url + '/_lab/telegram/sent', timeout=5).json()
    assert sent[-1]['text'].endswith('Approved by @alice (1001).') and 'reply_markup' not in sent[-1]
    answers = requests.get(tg.url + '/_lab/telegram/callback_queries', timeout=5).json()
    assert sorted(a['answer']['text'] for a in answers.values()) == ['Approved.', 'You are not an approver of this request.']
    # The updates read are confirmed: the bot's queue is empty.
    assert requests.post('%s/bot%s/getUpdates' % (tg.url, TOKEN), json={'timeout': 0}, timeout=5).json()['result'] == []


def test_a_reject(tg, results):
    thread = presser(tg, [({'id': 1001}, 'reject')])
    result = run(tg, results, timeout_outcome='approve')
    thread.join(10)
    assert result['changed'] and not result['approved'] and result['decision'] == 'reject'


def test_check_mode_sends_nothing(tg, results):
    result = run(tg, results, check=True)
    assert result['skipped'] and result['approved'] and not result['changed']
    assert requests.get(tg.url + '/_lab/requests', timeout=5).json() == []


def test_a_bot_with_a_webhook_cannot_wait_for_presses(tg, results):
    requests.post('%s/bot%s/setWebhook' % (tg.url, TOKEN), json={'url': 'https://ops.clawd.test/hook'}, timeout=5).raise_for_status()
    result = run(tg, results)
    assert result['failed'] and result['status_code'] == 409
    assert 'the bot has a webhook: an approval bot must have none' in result['msg']
    assert 'bot 535353' in result['msg']


def test_invalid_options_are_refused_before_any_call(tg, results):
    result = run(tg, results, approvers=[], wait_timeout=0)
    assert result['failed']
    assert result['msg'] == 'Invalid approval options: approvers is empty: nobody could approve; wait_timeout must be at least 1 second'
    assert requests.get(tg.url + '/_lab/requests', timeout=5).json() == []

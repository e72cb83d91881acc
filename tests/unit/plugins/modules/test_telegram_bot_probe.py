# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The telegram_bot_probe module against a fake bot (a webhook that checks the secret) and the lab's sample app."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin
from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import telegram_bot_probe

SECRET = 'lab-secret-123'


class FakeBot(Origin):
    """POST /hook records an update and answers it (401 without the secret)."""

    def __init__(self):
        self.updates = []
        Origin.__init__(self, self.answer_update)

    def answer_update(self, method, path, headers, body):
        self.updates.append(json.loads(body))
        if headers.get('X-Telegram-Bot-Api-Secret-Token') != SECRET:
            return 401, {}, {'error': 'bad secret token'}
        return 200, {}, {}


@pytest.fixture
def bot():
    with FakeBot() as fake:
        yield fake


def test_probe_times_the_answer(bot, results):
    args = {'url': bot.url + '/hook', 'secret_token': SECRET, 'chat_id': 77}
    assert run_main(telegram_bot_probe.main, args) == 0
    out = results[0]
    assert out['status'] == 200 and out['changed'] is True and out['elapsed_ms'] >= 0 and 'error' not in out
    sent = bot.updates[0]['message']
    assert sent['text'] == '/status' and sent['chat']['id'] == 77 and sent['message_id'] == out['message_id']
    assert 'confirmed' not in out and 'reply' not in out


def test_the_sample_app_answers_ping_and_refuses_a_wrong_secret(sample_app, results):
    app = sample_app('bot', TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_BOT_TOKEN='123:abc', TELEGRAM_API_BASE='http://127.0.0.1:9')
    assert run_main(telegram_bot_probe.main, {'url': app + '/telegram/webhook', 'secret_token': SECRET, 'text': '/ping'}) == 0
    assert results[-1]['status'] == 200
    assert run_main(telegram_bot_probe.main, {'url': app + '/telegram/webhook', 'secret_token': SECRET + 'x', 'text': '/ping'}) == 1
    assert results[-1]['status'] == 401 and SECRET not in repr(results[-1])


def test_a_wrong_secret_fails_without_printing_it(bot, results):
    assert run_main(telegram_bot_probe.main, {'url': bot.url + '/hook', 'secret_token': 'wrong-secret'}) == 1
    assert results[0]['status'] == 401 and 'HTTP 401' in results[0]['msg'] and 'wrong-secret' not in results[0]['msg']


def test_nothing_sent_in_check_mode(bot, results):
    assert run_main(telegram_bot_probe.main, {'url': bot.url + '/hook', '_ansible_check_mode': True}) == 0
    assert results[0]['skipped'] is True and bot.updates == []


def test_the_secret_never_follows_a_redirect_to_another_origin(results):
    from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin, redirect_to
    with Origin() as other:
        with Origin(redirect_to(other.url + '/hook', 307)) as webhook:
            assert run_main(telegram_bot_probe.main, {'url': webhook.url + '/hook', 'secret_token': SECRET, 'retries': 0}) == 1
        assert webhook.requests[0]['headers']['X-Telegram-Bot-Api-Secret-Token'] == SECRET
        assert other.requests == [] and SECRET not in other.everything()
    out = results[-1]
    assert out['failed'] and 'another origin' in out['msg'] and other.origin in out['msg'] and webhook.origin in out['msg']
    assert out['status'] == 0 and SECRET not in repr(out)


def test_a_redirect_within_the_webhook_origin_is_followed(results):
    from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin

    def answer(method, path, headers, body):
        if path == '/hook':
            return 308, {'Location': '/hook/'}, b''
        return (200 if headers.get('X-Telegram-Bot-Api-Secret-Token') == SECRET else 401), {}, {}

    with Origin(answer) as webhook:
        assert run_main(telegram_bot_probe.main, {'url': webhook.url + '/hook', 'secret_token': SECRET}) == 0
    assert results[-1]['status'] == 200 and [r['path'] for r in webhook.requests] == ['/hook', '/hook/']

# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The telegram_bot_probe module against a fake bot: a webhook that checks the secret and records its reply."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import threading

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import telegram_bot_probe

SECRET = 'lab-secret-123'


class FakeBot(object):
    """POST /hook answers an update (401 without the secret) and 'sends' a reply; GET /messages lists the replies."""

    def __init__(self):
        self.messages = []
        self.reply = True
        self.updates = []
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # pylint: disable=invalid-name
                update = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
                bot.updates.append(update)
                if self.headers.get('X-Telegram-Bot-Api-Secret-Token') != SECRET:
                    return self.answer(401, {'error': 'bad secret token'})
                message = update['message']
                if bot.reply:
                    bot.messages.append({'chat_id': message['chat']['id'], 'text': 'status: ok',
                                         'reply_to_message_id': message['message_id']})
                return self.answer(200, {})

            def do_GET(self):  # pylint: disable=invalid-name
                self.answer(200, bot.messages)

            def answer(self, status, body):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def bot():
    fake = FakeBot()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_probe_times_the_answer_and_confirms_the_reply(bot, results):
    args = {'url': bot.url + '/hook', 'secret_token': SECRET, 'chat_id': 77, 'confirm_url': bot.url + '/messages'}
    assert run_main(telegram_bot_probe.main, args) == 0
    out = results[0]
    assert out['status'] == 200 and out['confirmed'] is True and out['reply'] == 'status: ok'
    assert out['elapsed_ms'] >= 0
    sent = bot.updates[0]['message']
    assert sent['text'] == '/status' and sent['chat']['id'] == 77 and sent['message_id'] == out['message_id']


def test_without_confirm_url_only_the_answer_counts(bot, results):
    assert run_main(telegram_bot_probe.main, {'url': bot.url + '/hook', 'secret_token': SECRET}) == 0
    assert results[0]['confirmed'] is None


def test_a_reply_that_never_comes_fails(bot, results):
    bot.reply = False
    args = {'url': bot.url + '/hook', 'secret_token': SECRET, 'confirm_url': bot.url + '/messages', 'confirm_timeout': 0.3}
    assert run_main(telegram_bot_probe.main, args) == 1
    assert results[0]['confirmed'] is False and 'no reply to message' in results[0]['msg']


def test_a_wrong_secret_fails_without_printing_it(bot, results):
    assert run_main(telegram_bot_probe.main, {'url': bot.url + '/hook', 'secret_token': 'wrong-secret'}) == 1
    assert results[0]['status'] == 401 and 'HTTP 401' in results[0]['msg'] and 'wrong-secret' not in results[0]['msg']


def test_nothing_sent_in_check_mode(bot, results):
    assert run_main(telegram_bot_probe.main, {'url': bot.url + '/hook', '_ansible_check_mode': True}) == 0
    assert results[0]['skipped'] is True and bot.updates == []


def test_find_reply_matches_chat_and_message():
    messages = [{'chat_id': 1, 'reply_to_message_id': 5}, {'chat_id': '2', 'reply_to_message_id': 5, 'text': 'x'}]
    assert telegram_bot_probe.find_reply(messages, 2, 5)['text'] == 'x'
    assert telegram_bot_probe.find_reply(messages, 2, 6) is None
    assert telegram_bot_probe.find_reply({'not': 'a list'}, 2, 5) is None

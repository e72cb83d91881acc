#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: telegram_bot_probe
short_description: Send a bot a command through its webhook, as Telegram would, and time its answer
version_added: 0.2.0
description:
  - POSTs a Telegram Update carrying a message with O(text) (V(/status) by default) from chat O(chat_id) to the bot's webhook O(url),
    with the C(X-Telegram-Bot-Api-Secret-Token) header, and measures how long the webhook takes to answer.
  - The bot sends its reply to the Bot API before it answers the webhook call. In production that reply goes to the real Telegram, to
    chat O(chat_id) (use a chat of the operators), and only the webhook's answer is timed. In the lab, O(confirm_url) names the Telegram
    stand-in's list of sent messages, and the module also confirms that the reply to this very message arrived there.
  - The probe makes the bot send a message, so it does not run in check mode.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: partial
    details: Nothing is sent in check mode; the module returns C(skipped) true and measures nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  url:
    description: The bot's webhook URL, for example V(https://bot.example.com/telegram/webhook).
    type: str
    required: true
  secret_token:
    description: The webhook's secret token, sent as C(X-Telegram-Bot-Api-Secret-Token). Not sent when empty.
    type: str
    default: ''
  text:
    description: The message text.
    type: str
    default: /status
  chat_id:
    description: The chat the message comes from, and where the bot replies.
    type: int
    default: 1
  confirm_url:
    description:
      - A URL answering a JSON list of the messages the bot sent, each with C(chat_id) and C(reply_to_message_id) (the lab Telegram
        stand-in's C(/_lab/telegram/messages)). When set, the reply to the probe must be found there.
    type: str
  confirm_timeout:
    description: Seconds to look for the reply at O(confirm_url).
    type: float
    default: 5
'''

EXAMPLES = r'''
- name: Time the bot's answer to /status
  clawd.ops.telegram_bot_probe:
    url: https://bot.example.com/telegram/webhook
    secret_token: "{{ vault_telegram_webhook_secret }}"
    chat_id: "{{ ops_chat_id }}"
  register: bot_probe

- name: In the lab, also confirm the reply reached the Telegram stand-in
  clawd.ops.telegram_bot_probe:
    url: https://lab1.clawd.test/telegram/webhook
    secret_token: "{{ clawd_telegram_webhook_secret }}"
    ca_path: /srv/clawd-lab/lab1/tls/ca.crt
    confirm_url: http://127.0.0.1:17002/_lab/telegram/messages
'''

RETURN = r'''
status:
  description: HTTP status of the webhook's answer; V(0) when none came.
  returned: unless skipped
  type: int
  sample: 200
elapsed_ms:
  description: Milliseconds the webhook took to answer.
  returned: unless skipped
  type: int
  sample: 84
message_id:
  description: The message id of the probe (the reply refers to it).
  returned: unless skipped
  type: int
confirmed:
  description: Whether the reply was found at O(confirm_url); V(null) when O(confirm_url) is not set.
  returned: unless skipped
  type: bool
reply:
  description: The text of the reply, when it was found.
  returned: when the reply was found
  type: str
  sample: "status: ok, version 1.0.0, uptime 3600s"
error:
  description: Why the probe failed, when it did.
  returned: when the webhook did not answer 200 or the reply was not found
  type: str
'''

import random
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.clawd.ops.plugins.module_utils._transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, Transport, TransportError


def probe_update(text, chat_id, message_id, now):
    """The Update Telegram would POST for a private message."""
    return {
        'update_id': 800000000 + message_id % 100000000,
        'message': {
            'message_id': message_id, 'date': int(now), 'text': text,
            'chat': {'id': chat_id, 'type': 'private'},
            'from': {'id': chat_id, 'is_bot': False, 'first_name': 'clawd.ops daily check'},
        },
    }


def find_reply(messages, chat_id, message_id):
    """The message replying to message_id in chat_id, or None."""
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and str(message.get('chat_id')) == str(chat_id) and message.get('reply_to_message_id') == message_id:
            return message
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            secret_token=dict(type='str', default='', no_log=True),
            text=dict(type='str', default='/status'),
            chat_id=dict(type='int', default=1),
            confirm_url=dict(type='str'),
            confirm_timeout=dict(type='float', default=5),
            timeout=dict(type='float', default=10),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
            retries=dict(type='int', default=3),
        ),
        supports_check_mode=True,
    )
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    p = module.params
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, msg='The probe makes the bot send a message, so it does not run in check mode')

    verify = p['ca_path'] or True if p['validate_certs'] else False
    headers = {'X-Telegram-Bot-Api-Secret-Token': p['secret_token']} if p['secret_token'] else {}
    message_id = random.randint(100000, 999999999)
    result = dict(changed=True, message_id=message_id, confirmed=None, status=0)
    transport = Transport('', timeout=p['timeout'], retries=p['retries'], verify=verify, secrets=[p['secret_token']], retry_statuses=(429,))
    started = time.monotonic()
    try:
        answer = transport.request('POST', p['url'], json=probe_update(p['text'], p['chat_id'], message_id, time.time()), headers=headers,
                                   expected=None)
        result['status'] = answer.status
    except TransportError as exc:
        result['error'] = str(exc)
    result['elapsed_ms'] = int((time.monotonic() - started) * 1000)
    if result['status'] != 200:
        result.setdefault('error', 'the webhook answered HTTP %d' % result['status'])
        module.fail_json(msg='Failed to probe the bot at %s: %s' % (p['url'], result['error']), **result)

    if p['confirm_url']:
        deadline = time.monotonic() + p['confirm_timeout']
        result['confirmed'] = False
        while True:
            try:
                reply = find_reply(transport.request('GET', p['confirm_url'], expected=(200,)).json(), p['chat_id'], message_id)
            except (TransportError, ValueError) as exc:
                result['error'] = 'Failed to read the sent messages: %s' % exc
                reply = None
            if reply is not None:
                result['confirmed'] = True
                result['reply'] = reply.get('text')
                result.pop('error', None)
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if not result['confirmed']:
            result.setdefault('error', 'no reply to message %d in chat %d at %s' % (message_id, p['chat_id'], p['confirm_url']))
            module.fail_json(msg='Failed to confirm the bot\'s reply: %s' % result['error'], **result)
    transport.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()

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
version_added: 0.1.0
description:
  - POSTs a Telegram Update carrying a message with O(text) (V(/status) by default) from chat O(chat_id) to the bot's webhook O(url),
    with the C(X-Telegram-Bot-Api-Secret-Token) header as Telegram sends it, and measures how long the webhook takes to answer.
  - Fails unless the webhook answers HTTP 200. Sent with a wrong O(secret_token), the probe shows whether the webhook refuses what
    does not come from Telegram (RV(status) 401 or 403; the module fails, so use C(failed_when)).
  - The bot sends its reply to the Bot API, to chat O(chat_id) (use a chat of the operators), usually before it answers the webhook
    call. The Bot API gives a bot no way to read the messages it sent, so the reply itself is not confirmed; only the webhook's
    answer is.
  - The probe makes the bot act (and usually send a message), so it does not run in check mode, and it reports C(changed).
  - A redirect within the webhook's origin (scheme, host and port) is followed. A redirect to another origin fails, naming
    both, since the secret token is never sent to another origin (and Telegram would not deliver there either).
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
'''

EXAMPLES = r'''
- name: Time the bot's answer to /status
  clawd.ops.telegram_bot_probe:
    url: https://bot.example.com/telegram/webhook
    secret_token: "{{ vault_telegram_webhook_secret }}"
    chat_id: "{{ ops_chat_id }}"
  register: bot_probe

- name: Check that the webhook refuses an update without the right secret
  clawd.ops.telegram_bot_probe:
    url: https://bot.example.com/telegram/webhook
    secret_token: "{{ vault_telegram_webhook_secret | hash('sha1') }}"
    text: /ping
    chat_id: "{{ ops_chat_id }}"
  register: forged_probe
  failed_when: forged_probe.status not in [401, 403]
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
  description: The message id of the probe (the bot's reply refers to it).
  returned: unless skipped
  type: int
  sample: 482913377
error:
  description: Why the probe failed, when it did.
  returned: when the webhook did not answer 200
  type: str
  sample: "the webhook answered HTTP 401"
'''

import random
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._telegram import probe_update
from ansible_collections.clawd.ops.plugins.module_utils._transport import (
    Transport,
    TransportError,
    fail_with,
    require_requests,
    transport_argument_spec,
    transport_options,
)


def main():
    module = AnsibleModule(
        argument_spec=transport_argument_spec(
            url=dict(type='str', required=True),
            secret_token=dict(type='str', default='', no_log=True),
            text=dict(type='str', default='/status'),
            chat_id=dict(type='int', default=1),
        ),
        supports_check_mode=True,
    )
    require_requests(module)
    p = module.params
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, msg='The probe makes the bot send a message, so it does not run in check mode')

    headers = {'X-Telegram-Bot-Api-Secret-Token': p['secret_token']} if p['secret_token'] else {}
    message_id = random.randint(100000, 999999999)
    result = dict(changed=True, message_id=message_id, status=0)
    # Telegram does not follow a webhook's redirects to another origin, and the secret must not go there.
    transport = Transport('', secrets=[p['secret_token']], retry_statuses=(429,), cross_origin_redirects='fail', **transport_options(p))
    started = time.monotonic()
    try:
        answer = transport.request('POST', p['url'], json=probe_update(p['text'], p['chat_id'], message_id, time.time()), headers=headers,
                                   expected=None)
        result['status'] = answer.status
    except TransportError as exc:
        result['error'] = str(exc)
    finally:
        transport.close()
    result['elapsed_ms'] = int((time.monotonic() - started) * 1000)
    if result['status'] != 200:
        result.setdefault('error', 'the webhook answered HTTP %d' % result['status'])
        fail_with(module, msg='Failed to probe the bot at %s: %s' % (p['url'], result['error']), status_code=result['status'], **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()

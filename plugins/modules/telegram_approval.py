#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: telegram_approval
short_description: Ask for an approval in a Telegram chat with inline buttons and wait for an approver's answer
version_added: 0.1.0
description:
  - Sends O(text) to O(chat_id) with an inline keyboard (Approve / Reject), then long-polls C(getUpdates) for the
    C(callback_query) of a press on that message.
  - Only presses of the Telegram user ids in O(approvers) decide; every other press is answered ("not an approver") and
    listed in RV(ignored). Every press is answered with C(answerCallbackQuery), and the message is edited to say who
    decided (or what the timeout decided), its buttons removed.
  - After O(wait_timeout) seconds without a decision, O(timeout_outcome) decides - V(approve), V(reject), or V(fail) (the
    module fails).
  - The bot must be an operators' bot without a webhook, since Telegram refuses C(getUpdates) while a webhook is set
    (HTTP 409); the module fails saying so. Updates it reads are confirmed (Telegram forgets them).
  - The bot token goes only to the origin of O(api_url), in the URL path, and never appears in messages or results.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: partial
    details: Nothing is sent in check mode; the module returns RV(decision) V(approve) with RV(skipped) true, so a plan runs on.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  bot_token:
    description: The operators' bot token.
    type: str
    required: true
  api_url:
    description: Base URL of the Bot API.
    type: str
    default: https://api.telegram.org
  chat_id:
    description: The operators' chat (an integer id, or V(@channelusername)).
    type: str
    required: true
  text:
    description: 'The question, for example V(Wave 2 of 4: 5 hosts, commit abc123).'
    type: str
    required: true
  approvers:
    description: Telegram user ids whose press decides. Nobody else's does.
    type: list
    elements: int
    required: true
  wait_timeout:
    description: Seconds to wait for a decision (O(timeout) is the time of one HTTP call).
    type: int
    default: 1800
  timeout_outcome:
    description: What happens when nobody decided within O(wait_timeout).
    type: str
    choices: [approve, reject, fail]
    default: fail
  poll_timeout:
    description: Seconds of each C(getUpdates) long poll (Telegram holds the call open until an update arrives).
    type: int
    default: 25
seealso:
  - module: clawd.ops.telegram_webhook
'''

EXAMPLES = r'''
- name: Ask the operators whether wave 2 may start
  clawd.ops.telegram_approval:
    bot_token: "{{ vault_ops_bot_token }}"
    chat_id: "-1001234567890"
    text: "Wave 2 of 4: 5 hosts, commit abc123"
    approvers: [111111111, 222222222]
    wait_timeout: 1800
    timeout_outcome: reject
  register: wave_approval

- name: Stop unless the wave was approved
  ansible.builtin.assert:
    that: wave_approval.approved
    fail_msg: "Wave 2 was {{ wave_approval.decision }}ed"
'''

RETURN = r'''
decision:
  description: V(approve) or V(reject) (V(fail) fails the module).
  returned: always
  type: str
  sample: approve
approved:
  description: Whether the request was approved.
  returned: always
  type: bool
  sample: true
decided_by:
  description: The approver who pressed (id, username, first_name); null when the timeout decided or in check mode.
  returned: always
  type: dict
  sample: {id: 111111111, username: alice, first_name: Alice}
timed_out:
  description: Whether nobody decided within O(wait_timeout).
  returned: always
  type: bool
  sample: false
ignored:
  description: Presses of users not in O(approvers) (user_id, username, choice).
  returned: always
  type: list
  elements: dict
  sample: [{user_id: 333333333, username: mallory, choice: approve}]
message_id:
  description: The request's message in the chat.
  returned: unless skipped
  type: int
  sample: 4711
waited:
  description: Seconds waited for the decision.
  returned: unless skipped
  type: float
  sample: 42.5
skipped:
  description: True in check mode (nothing sent).
  returned: in check mode
  type: bool
  sample: true
'''

import binascii
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._telegram import TelegramClient, TelegramError, telegram_argument_spec, validate_token
from ansible_collections.clawd.ops.plugins.module_utils._telegram_approval import NONCE_LENGTH, OUTCOMES, Approval
from ansible_collections.clawd.ops.plugins.module_utils._transport import fail_with, require_requests, transport_options


def chat(value):
    """An integer chat id as a number; a @channelusername as it is."""
    text = str(value).strip()
    return int(text) if text.lstrip('-').isdigit() else text


def main():
    module = AnsibleModule(
        argument_spec=telegram_argument_spec(
            chat_id=dict(type='str', required=True),
            text=dict(type='str', required=True),
            approvers=dict(type='list', elements='int', required=True),
            wait_timeout=dict(type='int', default=1800),
            timeout_outcome=dict(type='str', choices=list(OUTCOMES), default='fail'),
            poll_timeout=dict(type='int', default=25),
        ),
        supports_check_mode=True,
    )
    require_requests(module)
    p = module.params
    module.no_log_values.add(p['bot_token'])
    errors = [e for e in [validate_token(p['bot_token'])] if e]
    if not p['approvers']:
        errors.append('approvers is empty: nobody could approve')
    if p['wait_timeout'] < 1:
        errors.append('wait_timeout must be at least 1 second')
    if not p['text'].strip():
        errors.append('text is empty')
    if errors:
        module.fail_json(msg='Invalid approval options: %s' % '; '.join(errors))
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, decision='approve', approved=True, decided_by=None, timed_out=False, ignored=[],
                         msg='Nothing is sent in check mode: the approval is assumed')

    client = TelegramClient(p['bot_token'], p['api_url'], **transport_options(p))
    nonce = binascii.hexlify(os.urandom(NONCE_LENGTH // 2)).decode('ascii')
    approval = Approval(client, chat(p['chat_id']), p['text'], p['approvers'], p['wait_timeout'], p['timeout_outcome'], nonce,
                        poll_timeout=p['poll_timeout'])
    result = {}
    try:
        result = approval.run()
    except TelegramError as exc:
        hint = ' (the bot has a webhook: an approval bot must have none)' if exc.status == 409 else ''
        fail_with(module, exc, msg='Failed to ask for approval in chat %s with %s: %s%s' % (p['chat_id'], client.describe_bot(), exc, hint))
    finally:
        client.close()
    if result['decision'] == 'fail':
        module.fail_json(msg='Nobody approved or rejected within %d s in chat %s: failing, as timeout_outcome says' % (p['wait_timeout'], p['chat_id']),
                         changed=True, **result)
    module.exit_json(changed=True, **result)


if __name__ == '__main__':
    main()

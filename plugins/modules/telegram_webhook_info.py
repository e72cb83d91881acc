#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: telegram_webhook_info
short_description: Read a Telegram bot's webhook and its health
version_added: 0.1.0
description:
  - Asks the Bot API for the bot's own details (C(getMe), which also proves the token works) and its
    webhook (C(getWebhookInfo)), that is its URL, pending updates and latest delivery error.
  - For daily checks. Never changes anything.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.telegram
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  bot_info:
    description:
      - Ask for the bot's details (C(getMe)). Turn off to make a single API call.
    type: bool
    default: true
notes:
  - The bot token (in the URL path) goes only to the origin (scheme, host and port) of O(api_url); a redirect to another
    origin fails naming both origins.
seealso:
  - module: clawd.ops.telegram_webhook
'''

EXAMPLES = r'''
- name: Read the bot's webhook
  clawd.ops.telegram_webhook_info:
    bot_token: "{{ vault_telegram_bot_token }}"
  register: telegram_webhook

- name: Complain when updates pile up or deliveries fail
  ansible.builtin.assert:
    that:
      - telegram_webhook.webhook.url != ''
      - telegram_webhook.webhook.pending_update_count < 10
    fail_msg: >-
      Webhook of @{{ telegram_webhook.bot.username }}: {{ telegram_webhook.webhook.pending_update_count }} updates waiting,
      last error {{ telegram_webhook.webhook.last_error_message | default('none', true) }}
      at {{ telegram_webhook.webhook.last_error_date_iso | default('-', true) }}
'''

RETURN = r'''
webhook:
  description: The webhook as Telegram reports it, with every field present (see M(clawd.ops.telegram_webhook) for the fields).
  returned: always
  type: dict
  sample: {"url": "https://bot.example.com/telegram/webhook", "has_custom_certificate": false, "pending_update_count": 3,
           "ip_address": "203.0.113.10", "max_connections": 40, "allowed_updates": ["callback_query", "message"],
           "last_error_date": 1767322800, "last_error_date_iso": "2026-01-02T03:00:00Z",
           "last_error_message": "Wrong response from the webhook: 502 Bad Gateway",
           "last_synchronization_error_date": null, "last_synchronization_error_date_iso": null}
bot:
  description: The bot's User object from C(getMe).
  returned: when O(bot_info=true)
  type: dict
  sample: {"id": 123456789, "is_bot": true, "first_name": "Deploy Bot", "username": "deploy_bot"}
webhook_set:
  description: Whether a webhook URL is set.
  returned: always
  type: bool
  sample: true
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._telegram import TelegramClient, TelegramError, normalise_info, telegram_argument_spec, validate_token
from ansible_collections.clawd.ops.plugins.module_utils._transport import fail_with, require_requests, transport_options


def main():
    module = AnsibleModule(
        argument_spec=telegram_argument_spec(
            bot_info=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    require_requests(module)
    p = module.params
    module.no_log_values.add(p['bot_token'])
    problem = validate_token(p['bot_token'])
    if problem:
        module.fail_json(msg='Invalid options: %s' % problem)

    client = TelegramClient(p['bot_token'], p['api_url'], **transport_options(p))
    result = dict(changed=False)
    action = 'read bot info'
    try:
        if p['bot_info']:
            result['bot'] = client.get_me()
        action = 'read webhook'
        result['webhook'] = normalise_info(client.get_webhook_info())
    except TelegramError as exc:
        username = (result.get('bot') or {}).get('username')
        fail_with(module, exc, msg='Failed to %s for %s: %s' % (action, client.describe_bot(username), exc), **result)
    finally:
        client.close()
    result['webhook_set'] = bool(result['webhook']['url'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()

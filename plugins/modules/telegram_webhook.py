#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: telegram_webhook
short_description: Set or delete a Telegram bot's webhook
version_added: 0.1.0
description:
  - Reads the bot's webhook (C(getWebhookInfo)), compares it with the options and calls C(setWebhook)
    or C(deleteWebhook) only when something differs. When nothing differs it makes one API call
    (two with O(update_secret=always), see there).
  - Returns the webhook's health as Telegram reports it (pending updates, the last delivery error).
  - Every option is checked before any API call, as Telegram would check it.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.telegram
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: partial
    details:
      - Only reads. Telegram never returns the secret token, so with O(update_secret=always) check mode
        cannot tell whether the secret differs and reports no change for it.
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) sets the webhook, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  url:
    description:
      - HTTPS URL Telegram posts the updates to. Required with O(state=present).
      - Telegram delivers only to ports 443, 80, 88 and 8443.
    type: str
  secret_token:
    description:
      - Secret Telegram sends in the C(X-Telegram-Bot-Api-Secret-Token) header of each delivery;
        1 to 256 characters from C(A-Z), C(a-z), C(0-9), C(_) and C(-).
      - When not set, any re-registration of the webhook leaves it without a secret.
    type: str
  update_secret:
    description:
      - Telegram never returns the secret, so it cannot be compared.
      - V(always) sends it again on every run and reports a change only when Telegram answers that the
        webhook changed (C(Webhook was set) rather than C(Webhook is already set)); that costs a second API call.
      - V(on_create) sends it only when the webhook is registered because of another change.
    type: str
    choices: [always, on_create]
    default: always
  allowed_updates:
    description:
      - Update types to receive, compared as a set. V([]) means Telegram's default set (every type but
        C(chat_member), C(message_reaction) and C(message_reaction_count)).
      - When not set, the current subscription is kept.
    type: list
    elements: str
  max_connections:
    description:
      - Most simultaneous HTTPS connections for deliveries, 1 to 100 (Telegram's default is 40).
      - When not set, the current value is kept.
    type: int
  ip_address:
    description:
      - IPv4 address Telegram connects to instead of resolving the URL's host.
      - When not set, it is not compared and a re-registration lets Telegram resolve the host.
    type: str
  certificate:
    description:
      - PEM file of the webhook's self-signed certificate, uploaded with the registration.
      - Telegram reports only whether a certificate was uploaded, so a different certificate is uploaded only
        when the webhook is registered because of another change.
    type: path
  drop_pending_updates:
    description:
      - Drop the updates waiting for delivery when the webhook is set or deleted. On its own it changes nothing.
    type: bool
    default: false
  bot_info:
    description:
      - Also ask for the bot's own details (C(getMe)) and return them as RV(bot). One more API call.
    type: bool
    default: false
notes:
  - The bot token (in the URL path) and O(secret_token) go only to the origin (scheme, host and port) of O(api_url);
    a redirect to another origin fails naming both origins.
seealso:
  - module: clawd.ops.telegram_webhook_info
'''

EXAMPLES = r'''
- name: Point the bot's webhook at the app, with its secret
  clawd.ops.telegram_webhook:
    bot_token: "{{ vault_telegram_bot_token }}"
    url: https://bot.example.com/telegram/webhook
    secret_token: "{{ vault_telegram_webhook_secret }}"
    allowed_updates: [message, callback_query]
    max_connections: 40

- name: Delete the webhook and drop what is waiting
  clawd.ops.telegram_webhook:
    bot_token: "{{ vault_telegram_bot_token }}"
    state: absent
    drop_pending_updates: true
'''

RETURN = r'''
webhook:
  description: The webhook after the run (predicted in check mode), every field present.
  returned: always
  type: dict
  contains:
    url:
      description: The webhook URL; empty when none is set.
      type: str
      returned: always
    has_custom_certificate:
      description: Whether a self-signed certificate was uploaded.
      type: bool
      returned: always
    pending_update_count:
      description: Updates waiting for delivery.
      type: int
      returned: always
    ip_address:
      description: IP address Telegram uses for the webhook; null when none is set.
      type: str
      returned: always
    max_connections:
      description: Connection limit; null when no webhook is set.
      type: int
      returned: always
    allowed_updates:
      description: Subscribed update types, sorted; Telegram's default set when it leaves them out.
      type: list
      returned: always
      elements: str
    last_error_date:
      description: Unix time of the latest delivery error, or null.
      type: int
      returned: always
    last_error_date_iso:
      description: The same time as ISO 8601 text in UTC, or null.
      type: str
      returned: always
      sample: '2026-01-02T03:04:05Z'
    last_error_message:
      description: Text of the latest delivery error, or null.
      type: str
      returned: always
      sample: 'Wrong response from the webhook: 502 Bad Gateway'
    last_synchronization_error_date:
      description: Unix time of the latest synchronisation error inside Telegram, or null.
      type: int
      returned: always
    last_synchronization_error_date_iso:
      description: The same time as ISO 8601 text in UTC, or null.
      type: str
      returned: always
  sample: {"url": "https://bot.example.com/telegram/webhook", "has_custom_certificate": false, "pending_update_count": 0}
changes:
  description: Names of the fields that were (or would be) changed; C(secret_token) when Telegram took a new secret.
  returned: always
  type: list
  elements: str
  sample: [url, allowed_updates]
bot:
  description: The bot's User object from C(getMe).
  returned: when O(bot_info=true)
  type: dict
  sample: {"id": 123456789, "is_bot": true, "first_name": "Deploy Bot", "username": "deploy_bot"}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._telegram import (
    ALREADY_SET,
    TelegramClient,
    TelegramError,
    desired_webhook,
    diff_view,
    normalise_info,
    predict,
    telegram_argument_spec,
    validate_token,
    validate_webhook,
    webhook_changes,
)
from ansible_collections.clawd.ops.plugins.module_utils._transport import fail_with, require_requests, transport_options


def fail(module, client, action, exc, username=None):
    """Fail with "Failed to <action> for bot @name: <cause>", asking getMe for the name when Telegram refused the call.

    Not after 401/404 (getMe would fail the same way) nor when the API is down (no answer, 5xx, 429).
    """
    if username is None and exc.status is not None and 400 <= exc.status < 500 and exc.status not in (401, 404, 429):
        try:
            username = client.get_me().get('username')
        except (TelegramError, AttributeError):
            username = None
    fail_with(module, exc, msg='Failed to %s for %s: %s' % (action, client.describe_bot(username), exc))


def attempt(module, client, action, username, func, *args):
    """``func(*args)``, or fail the module with a message naming ``action`` and the bot."""
    try:
        return func(*args)
    except TelegramError as exc:
        fail(module, client, action, exc, username)
    return None  # not reached: fail_json exits


def ensure_present(module, client, current):
    """Set the webhook if it differs; return the changes ``{field: (current, desired)}``."""
    p = module.params
    desired = desired_webhook(p['url'], p['max_connections'], p['ip_address'], p['allowed_updates'], p['certificate'])
    changes = webhook_changes(current, desired)
    resend_secret = p['secret_token'] is not None and p['update_secret'] == 'always'
    if (not changes and not resend_secret) or module.check_mode:
        return changes
    max_connections = p['max_connections']
    if max_connections is None and current['url']:
        max_connections = current['max_connections']
    description = client.set_webhook(
        p['url'], certificate=p['certificate'], ip_address=p['ip_address'], max_connections=max_connections,
        allowed_updates=p['allowed_updates'], drop_pending_updates=p['drop_pending_updates'], secret_token=p['secret_token'])
    if not changes and description != ALREADY_SET:
        changes['secret_token'] = (None, None)
    return changes


def main():
    module = AnsibleModule(
        argument_spec=telegram_argument_spec(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            url=dict(type='str'),
            secret_token=dict(type='str', no_log=True),
            update_secret=dict(type='str', choices=['always', 'on_create'], default='always', no_log=False),
            allowed_updates=dict(type='list', elements='str'),
            max_connections=dict(type='int'),
            ip_address=dict(type='str'),
            certificate=dict(type='path'),
            drop_pending_updates=dict(type='bool', default=False),
            bot_info=dict(type='bool', default=False),
        ),
        required_if=[('state', 'present', ['url'])],
        supports_check_mode=True,
    )
    require_requests(module)
    p = module.params
    module.no_log_values.add(p['bot_token'])
    if p['secret_token']:
        module.no_log_values.add(p['secret_token'])
    errors = [e for e in [validate_token(p['bot_token'])] if e]
    if p['state'] == 'present':
        errors.extend(validate_webhook(p['url'], p['secret_token'], p['max_connections'], p['ip_address'], p['allowed_updates']))
    if p['certificate'] is not None and p['state'] == 'present':
        try:
            with open(p['certificate'], 'rb'):
                pass
        except (IOError, OSError) as exc:
            errors.append('certificate %s cannot be read: %s' % (p['certificate'], exc.strerror or exc))
    if errors:
        module.fail_json(msg='Invalid webhook options: %s' % '; '.join(errors))

    client = TelegramClient(p['bot_token'], p['api_url'], secrets=[p['secret_token']] if p['secret_token'] else (), **transport_options(p))
    result = dict(changed=False)
    username = None
    if p['bot_info']:
        result['bot'] = attempt(module, client, 'read bot info', None, client.get_me)
        username = result['bot'].get('username')
    current = normalise_info(attempt(module, client, 'read webhook', username, client.get_webhook_info))

    if p['state'] == 'absent':
        changes = {'url': (current['url'], '')} if current['url'] else {}
        predicted = current
        if changes:
            if not module.check_mode:
                attempt(module, client, 'delete webhook', username, client.delete_webhook, p['drop_pending_updates'])
            predicted = normalise_info({'pending_update_count': 0 if p['drop_pending_updates'] else current['pending_update_count'],
                                        'allowed_updates': current['allowed_updates'], 'last_error_date': current['last_error_date'],
                                        'last_error_message': current['last_error_message']})
    else:
        changes = attempt(module, client, 'set webhook', username, ensure_present, module, client, current)
        predicted = predict(current, changes)
    result['changed'] = bool(changes)
    result['changes'] = sorted(changes)
    if module._diff:
        before, after = diff_view(current), diff_view(predicted)
        if 'secret_token' in changes:
            before['secret_token'], after['secret_token'] = '(a different secret)', '(the given secret)'
        result['diff'] = dict(before=before, after=after)
    if changes and not module.check_mode:
        predicted = normalise_info(attempt(module, client, 'read webhook back', username, client.get_webhook_info))
    result['webhook'] = predicted
    client.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: twilio_auth_token
short_description: Rotate a Twilio account's Auth Token in two phases (secondary token, then promotion)
version_added: 0.1.0
description:
  - Calls Twilio's Accounts v1 Auth Tokens API for the account O(account_sid).
  - O(operation=create_secondary) makes a secondary Auth Token (C(POST /v1/AuthTokens/Secondary)) and returns it in
    RV(secondary_auth_token). Both tokens work until the promotion, so the app and the configuration can move to the
    new token first. A second call replaces the secondary token.
  - O(operation=promote) makes the secondary token the primary (C(POST /v1/AuthTokens/Promote)); from then on every
    request with the old primary token fails (HTTP 401, Twilio error 20003) and Twilio signs webhooks with the new one.
    Without a secondary token there is nothing to promote, and nothing changes.
  - O(operation=delete_secondary) deletes the secondary token (C(DELETE /v1/AuthTokens/Secondary)), for example to
    abandon a rotation before the promotion; without one, nothing changes.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.twilio
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: partial
    details: Calls nothing and reports C(changed) as the operation would, but cannot know whether there is a secondary token
      to promote or delete (it says changed), and returns no token.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  operation:
    description:
      - What to do with the account's Auth Tokens.
    type: str
    choices: [create_secondary, promote, delete_secondary]
    required: true
  accounts_api_url:
    description:
      - Base URL of Twilio's Accounts v1 API. Change it only to reach Twilio through a proxy or a test server.
    type: str
    default: https://accounts.twilio.com
notes:
  - RV(secondary_auth_token) is the new secret. Register the result in a task with C(no_log=true) and pass it on only to
    options that are C(no_log) themselves (for example M(clawd.ops.coolify_app_env)'s values).
  - None of the calls is repeated after a server error or a lost answer, as each one changes the account.
'''

EXAMPLES = r'''
- name: Make a secondary Auth Token (the primary keeps working)
  clawd.ops.twilio_auth_token:
    account_sid: "{{ vault_twilio_account_sid }}"
    auth_token: "{{ vault_twilio_auth_token }}"
    operation: create_secondary
  register: new_twilio_token
  no_log: true

- name: Promote it once the app uses it (the old token is refused from now on)
  clawd.ops.twilio_auth_token:
    account_sid: "{{ vault_twilio_account_sid }}"
    auth_token: "{{ new_twilio_token.secondary_auth_token }}"
    operation: promote
'''

RETURN = r'''
operation:
  description: The operation done (or that would be).
  returned: always
  type: str
  sample: promote
secondary_auth_token:
  description: The new secondary Auth Token (a secret); empty in check mode.
  returned: when O(operation=create_secondary)
  type: str
auth_token_promoted:
  description: Whether the secondary token was promoted to primary.
  returned: when O(operation=promote)
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._transport import fail_with, require_requests, transport_options
from ansible_collections.clawd.ops.plugins.module_utils._twilio import (
    DEFAULT_ACCOUNTS_API_URL,
    TwilioAuthTokens,
    TwilioError,
    twilio_argument_spec,
)


def run(module, tokens):
    operation = module.params['operation']
    result = {'operation': operation, 'changed': True}
    if module.check_mode:
        if operation == 'create_secondary':
            result['secondary_auth_token'] = ''
        return result
    if operation == 'create_secondary':
        result['secondary_auth_token'] = tokens.create_secondary()
    elif operation == 'promote':
        result['changed'] = result['auth_token_promoted'] = tokens.promote()
    else:
        result['changed'] = tokens.delete_secondary()
    return result


def main():
    argument_spec = twilio_argument_spec()
    argument_spec.update(
        operation=dict(type='str', required=True, choices=['create_secondary', 'promote', 'delete_secondary']),
        accounts_api_url=dict(type='str', default=DEFAULT_ACCOUNTS_API_URL),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_requests(module)
    params = module.params
    tokens = TwilioAuthTokens(params['account_sid'], params['auth_token'], params['accounts_api_url'], **transport_options(params))
    try:
        result = run(module, tokens)
    except TwilioError as exc:
        fail_with(module, exc)
    finally:
        tokens.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: twilio_number
short_description: Own a Twilio phone number and keep its webhooks configured
version_added: 0.1.0
description:
  - Makes sure a Twilio account owns a phone number, buying it when needed, and that the number's
    friendly name, SMS and voice webhooks and status callback are as given. Drift is fixed; options
    left unset are not managed.
  - The number is named by O(phone_number), or, without it, found by O(friendly_name) among the owned
    numbers. Only when none is found is one bought, found by O(country), O(area_code), O(contains) and
    capabilities. The friendly name is then set on it, so that the next run finds it and buys nothing.
  - Releases a number only with O(state=absent), O(phone_number) and O(release=true) all given.
  - When nothing has to change, one API call is made (the owned numbers listed with the number, or the
    friendly name, as filter).
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.twilio
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads (the owned numbers, and the available ones when a number would be bought) and reports what would change.
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) owns and configures the number; V(absent) releases it (see O(release)).
    type: str
    choices: [present, absent]
    default: present
  phone_number:
    description:
      - The number in E.164 form, for example V(+14155550100). Bought if the account does not own it yet.
      - Required with O(state=absent).
    type: str
  release:
    description:
      - Must be V(true) for O(state=absent) to release O(phone_number). Releasing gives the number back to
        Twilio; it may not be possible to get it again.
    type: bool
    default: false
  country:
    description:
      - ISO country code to search in when a number has to be bought by criteria.
    type: str
    default: US
  number_type:
    description:
      - Kind of number to search for when buying by criteria.
    type: str
    choices: [local, mobile, toll_free]
    default: local
  area_code:
    description:
      - Area code to buy a number in (United States and Canada).
    type: str
  contains:
    description:
      - Pattern the number must contain, as Twilio's C(Contains) search filter (digits, letters, V(*) for any digit).
    type: str
  sms:
    description:
      - When buying by criteria, whether the number must (V(true)) or must not (V(false)) receive SMS.
    type: bool
  voice:
    description:
      - When buying by criteria, whether the number must (V(true)) or must not (V(false)) receive calls.
    type: bool
  mms:
    description:
      - When buying by criteria, whether the number must (V(true)) or must not (V(false)) receive MMS.
    type: bool
  friendly_name:
    description:
      - The number's friendly name (at most 64 characters).
      - Without O(phone_number) it is also the number's identity; the number owned with this friendly name is
        managed, and a number is bought only when none has it. Give each such number a friendly name of its own.
    type: str
  sms_url:
    description: URL Twilio calls when the number receives an SMS. V('') removes it.
    type: str
  sms_method:
    description: HTTP method for O(sms_url).
    type: str
    choices: [GET, POST]
  sms_fallback_url:
    description: URL Twilio calls when O(sms_url) fails. V('') removes it.
    type: str
  sms_fallback_method:
    description: HTTP method for O(sms_fallback_url).
    type: str
    choices: [GET, POST]
  voice_url:
    description: URL Twilio calls when the number receives a call. V('') removes it.
    type: str
  voice_method:
    description: HTTP method for O(voice_url).
    type: str
    choices: [GET, POST]
  voice_fallback_url:
    description: URL Twilio calls when O(voice_url) fails. V('') removes it.
    type: str
  voice_fallback_method:
    description: HTTP method for O(voice_fallback_url).
    type: str
    choices: [GET, POST]
  status_callback:
    description: URL Twilio sends call status changes to. V('') removes it.
    type: str
  status_callback_method:
    description: HTTP method for O(status_callback).
    type: str
    choices: [GET, POST]
notes:
  - Buying a number costs money on a real account. Buying is never repeated after an error whose outcome is unknown
    (a 5xx or a lost answer); run the task again, it finds the number if it was bought.
  - The account's credentials go only to the origin (scheme, host and port) of O(api_url). A redirect to another origin, or a
    C(next_page_uri) on another origin, fails naming both origins.
'''

EXAMPLES = r'''
- name: Own the tenant's number and point its webhooks at the app
  clawd.ops.twilio_number:
    account_sid: "{{ clawd_twilio_account_sid }}"
    auth_token: "{{ vault_twilio_auth_token }}"
    phone_number: "+14155550100"
    friendly_name: clawd tenant1
    sms_url: https://tenant1.example.com/twilio/sms
    voice_url: https://tenant1.example.com/twilio/voice

- name: Buy an SMS-capable number in area code 415 once, known afterwards by its friendly name
  clawd.ops.twilio_number:
    account_sid: "{{ clawd_twilio_account_sid }}"
    auth_token: "{{ vault_twilio_auth_token }}"
    friendly_name: clawd tenant2
    country: US
    area_code: "415"
    sms: true
    sms_url: https://tenant2.example.com/twilio/sms
  register: tenant2_number

- name: Release a number that is no longer used
  clawd.ops.twilio_number:
    account_sid: "{{ clawd_twilio_account_sid }}"
    auth_token: "{{ vault_twilio_auth_token }}"
    phone_number: "+14155550100"
    state: absent
    release: true
'''

RETURN = r'''
action:
  description: What was done (or would be, in check mode) - V(none), V(bought), V(updated) or V(released).
  returned: always
  type: str
  sample: updated
phone_number:
  description: The managed number in E.164 form; null when a number would be bought in check mode and none was found.
  returned: always
  type: str
  sample: "+14155550100"
sid:
  description: The number's SID; null when it is not owned (yet).
  returned: always
  type: str
  sample: PN0123456789abcdef0123456789abcdef
changes:
  description: The configuration fields changed (or to change), each with C(before) and C(after).
  returned: always
  type: dict
  sample: {"sms_url": {"before": "", "after": "https://tenant1.example.com/twilio/sms"}}
number:
  description: The number as Twilio reports it after the run (predicted in check mode); empty after a release.
  returned: always
  type: dict
  sample:
    sid: PN0123456789abcdef0123456789abcdef
    account_sid: AC0123456789abcdef0123456789abcdef
    phone_number: "+14155550100"
    friendly_name: clawd tenant1
    sms_url: https://tenant1.example.com/twilio/sms
    sms_method: POST
    voice_url: https://tenant1.example.com/twilio/voice
    voice_method: POST
    capabilities: {"voice": true, "sms": true, "mms": true, "fax": false}
    status: in-use
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._transport import fail_with, require_requests, transport_options
from ansible_collections.clawd.ops.plugins.module_utils._twilio import (
    E164, METHOD_FIELDS, URL_FIELDS, NUMBER_TYPES, TwilioClient, TwilioError, config_changes, desired_state, managed_state, number_result,
    twilio_argument_spec,
)

CAPABILITIES = ('sms', 'voice', 'mms')


def buy_number(client, params, desired, check_mode):
    """Buy by phone_number or by criteria; the number bought (or predicted in check mode)."""
    if not params['phone_number']:
        wanted = dict((name, params[name]) for name in CAPABILITIES if params[name] is not None)
        return client.buy_matching(params['country'], params['number_type'], params['area_code'], params['contains'], wanted,
                                   config=desired, dry_run=check_mode)
    if check_mode:
        return dict(desired, phone_number=params['phone_number'])
    return client.buy('buy number %s' % params['phone_number'], phone_number=params['phone_number'], config=desired)


def ensure_present(client, params, check_mode):
    desired = desired_state(params)
    if params['phone_number']:
        current = client.find_number(params['phone_number'])
    else:
        owned = client.list_numbers(friendly_name=params['friendly_name'])
        owned = [n for n in owned if n.get('friendly_name') == params['friendly_name']]
        if len(owned) > 1:
            raise TwilioError('Failed to find the number named %r: the account owns %d numbers with that friendly name (%s); '
                              'name one with phone_number' % (params['friendly_name'], len(owned), ', '.join(n['phone_number'] for n in owned)))
        current = owned[0] if owned else None
    if current is None:
        number, action = buy_number(client, params, desired, check_mode), 'bought'
        changes = dict((field, {'before': None, 'after': value}) for field, value in desired.items())
        return number, action, changes, {'state': 'absent'}, dict(desired, state='present', phone_number=number.get('phone_number'))
    changes = config_changes(current, desired)
    before = dict(managed_state(current), state='present', phone_number=current['phone_number'])
    if not changes:
        return current, 'none', {}, before, before
    values = dict((field, new) for field, (_old, new) in changes.items())
    number = dict(current, **values) if check_mode else client.update(current, values)
    after = dict(before, **values)
    return number, 'updated', dict((f, {'before': old, 'after': new}) for f, (old, new) in changes.items()), before, after


def ensure_absent(client, params, check_mode):
    current = client.find_number(params['phone_number'])
    if current is None:
        return {}, 'none', {}, {'state': 'absent'}, {'state': 'absent'}
    if not check_mode:
        client.release(current)
    before = dict(managed_state(current), state='present', phone_number=current['phone_number'])
    return {}, 'released', {}, before, {'state': 'absent', 'phone_number': current['phone_number']}


def check_params(module):
    params = module.params
    if params['phone_number'] is not None and not E164.match(params['phone_number']):
        module.fail_json(msg='phone_number must be in E.164 form (+ and up to 15 digits), for example +14155550100')
    if params['state'] == 'absent':
        if not params['phone_number'] or params['release'] is not True:
            module.fail_json(msg='state=absent releases a number only when phone_number names it and release=true is set; nothing was done')
    elif not params['phone_number'] and not params['friendly_name']:
        module.fail_json(msg='Give phone_number, or friendly_name to find the number by (and to buy one with when none has it), '
                             'so that a second run does not buy a second number')
    if params['friendly_name'] is not None and len(params['friendly_name']) > 64:
        module.fail_json(msg='friendly_name must be at most 64 characters')


def main():
    argument_spec = dict(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        phone_number=dict(type='str'),
        release=dict(type='bool', default=False),
        country=dict(type='str', default='US'),
        number_type=dict(type='str', choices=list(NUMBER_TYPES), default='local'),
        area_code=dict(type='str'),
        contains=dict(type='str'),
        friendly_name=dict(type='str'),
    )
    argument_spec.update(twilio_argument_spec())
    for name in CAPABILITIES:
        argument_spec[name] = dict(type='bool')
    for name in URL_FIELDS:
        argument_spec[name] = dict(type='str')
    for name in METHOD_FIELDS:
        argument_spec[name] = dict(type='str', choices=['GET', 'POST'])
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_requests(module)
    check_params(module)
    params = module.params
    params['country'] = params['country'].upper()

    client = TwilioClient(params['account_sid'], params['auth_token'], params['api_url'], **transport_options(params))
    try:
        if params['state'] == 'absent':
            number, action, changes, before, after = ensure_absent(client, params, module.check_mode)
        else:
            number, action, changes, before, after = ensure_present(client, params, module.check_mode)
    except TwilioError as exc:
        fail_with(module, exc)
    finally:
        client.close()
    result = number_result(number) if number else {}
    module.exit_json(changed=action != 'none', action=action, phone_number=(number or {}).get('phone_number') or params['phone_number'],
                     sid=(number or {}).get('sid'), number=result, changes=changes, diff={'before': before, 'after': after})


if __name__ == '__main__':
    main()

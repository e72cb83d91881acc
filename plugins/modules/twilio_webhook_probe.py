#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: twilio_webhook_probe
short_description: Send an app's Twilio webhooks a signed call and message, as Twilio would, and check the TwiML answers
version_added: 0.1.0
description:
  - Sends the app's voice URL (O(voice_url)) the request Twilio makes for an incoming call to O(phone_number), and its SMS URL
    (O(sms_url)) the request Twilio makes for an incoming message, each signed with the account's auth token exactly as Twilio
    signs it (C(X-Twilio-Signature)), and checks that the app answers HTTP 200 with TwiML (XML whose root element is C(<Response>)).
  - This proves, without a phone, that the app takes Twilio's requests at the URLs the number hands them to and checks their
    signature with the right auth token. Give the URLs the number is configured with (what M(clawd.ops.twilio_number) returns).
  - The requests go from where the module runs straight to the app; Twilio is not asked. The app answers them as it would
    answer Twilio's, but its TwiML comes back to this module, so no call is answered and no SMS is sent by Twilio.
  - Fails when a URL does not answer 200 with TwiML, after trying each of them; the result of each is returned either way.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.twilio
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: partial
    details: Nothing is sent in check mode; the module returns C(skipped) true and checks nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  account_sid:
    description:
      - The Account SID that owns O(phone_number), sent as C(AccountSid) (the app may check it).
    type: str
    required: true
  auth_token:
    description:
      - The account's Auth Token, the key of the signature. Never sent, logged or returned.
    type: str
    required: true
  api_url:
    description:
      - Not used (the module does not call the Twilio API); accepted so that C(module_defaults) for C(group/clawd.ops.twilio) apply.
    type: str
    default: https://api.twilio.com
  phone_number:
    description: The Twilio number, in E.164 form, that the call and the message are to (C(To), C(Called)).
    type: str
    required: true
  voice_url:
    description:
      - The URL Twilio calls when the number receives a call. Not probed when not given; an empty URL fails (the number
        hands calls to nobody).
    type: str
  voice_method:
    description: HTTP method Twilio uses for O(voice_url).
    type: str
    choices: [GET, POST]
    default: POST
  sms_url:
    description:
      - The URL Twilio calls when the number receives an SMS. Not probed when not given; an empty URL fails.
    type: str
  sms_method:
    description: HTTP method Twilio uses for O(sms_url).
    type: str
    choices: [GET, POST]
    default: POST
  from_number:
    description: The caller and sender (C(From), C(Caller)), in E.164 form. The default is Twilio's documented test number.
    type: str
    default: "+15005550006"
  sms_body:
    description: Text of the message (C(Body)).
    type: str
    default: clawd.ops webhook probe
notes:
  - The requests carry the parameters Twilio sends (C(AccountSid), C(ApiVersion), C(From), C(To); C(CallSid), C(CallStatus),
    C(Direction), C(Caller), C(Called) for a call; C(MessageSid), C(SmsSid), C(SmsMessageSid), C(SmsStatus), C(Body),
    C(NumMedia), C(NumSegments) for a message) with new random SIDs. A C(user:password@) in a URL is sent as HTTP Basic
    credentials and left out of the signed URL, as Twilio does.
  - A request is not repeated after an error whose outcome is unknown (a 5xx or a lost answer), only after HTTP 429.
  - A redirect within the URL's origin (scheme, host and port) is followed. A redirect to another origin fails, naming both,
    since the signature and the URL's credentials are never sent to another origin; give the URL the app really answers at.
seealso:
  - module: clawd.ops.twilio_number
'''

EXAMPLES = r'''
- name: Own the number and point its webhooks at the app
  clawd.ops.twilio_number:
    account_sid: "{{ clawd_twilio_account_sid }}"
    auth_token: "{{ vault_twilio_auth_token }}"
    friendly_name: clawd tenant1
    sms_url: https://tenant1.example.com/twilio/sms
    voice_url: https://tenant1.example.com/twilio/voice
  register: tenant1_number

- name: Check that the app answers the number's signed call and message with TwiML
  clawd.ops.twilio_webhook_probe:
    account_sid: "{{ clawd_twilio_account_sid }}"
    auth_token: "{{ vault_twilio_auth_token }}"
    phone_number: "{{ tenant1_number.phone_number }}"
    voice_url: "{{ tenant1_number.number.voice_url }}"
    voice_method: "{{ tenant1_number.number.voice_method }}"
    sms_url: "{{ tenant1_number.number.sms_url }}"
    sms_method: "{{ tenant1_number.number.sms_method }}"
  register: tenant1_webhooks
'''

RETURN = r'''
voice:
  description: What the voice URL answered; returned when O(voice_url) was given and not in check mode.
  returned: when probed
  type: dict
  contains:
    url:
      description: The URL (a password in it masked).
      type: str
      sample: https://tenant1.example.com/twilio/voice
    method:
      description: The HTTP method used.
      type: str
      sample: POST
    status:
      description: HTTP status of the answer; V(0) when none came.
      type: int
      sample: 200
    twiml:
      description: Whether the answer is TwiML (XML whose root element is C(<Response>)).
      type: bool
      sample: true
    elapsed_ms:
      description: Milliseconds the app took to answer.
      type: int
      sample: 42
    error:
      description: Why the URL failed the probe; V(null) when it answered 200 with TwiML.
      type: str
      sample: "HTTP 403: {\"error\": \"invalid Twilio signature\"}"
sms:
  description: What the SMS URL answered, as RV(voice); returned when O(sms_url) was given and not in check mode.
  returned: when probed
  type: dict
skipped:
  description: True in check mode, where nothing is sent.
  returned: in check mode
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._transport import (
    Transport,
    TransportError,
    fail_with,
    require_requests,
    transport_options,
)
from ansible_collections.clawd.ops.plugins.module_utils._twilio import (
    E164, WEBHOOK_KINDS, send_webhook, twilio_argument_spec, url_password, webhook_params,
)

KIND_NAMES = {'voice': 'call', 'sms': 'message'}


def probe(transport, params, kind):
    """Send the signed request of ``kind`` to its URL; the result for that URL."""
    url = params['%s_url' % kind]
    method = params['%s_method' % kind]
    if not url:
        return {'url': '', 'method': method, 'status': 0, 'twiml': False, 'elapsed_ms': 0,
                'error': 'no %s URL: the number hands its %ss to nobody' % (kind, KIND_NAMES[kind])}
    form = webhook_params(kind, params['account_sid'], params['phone_number'], params['from_number'], params['sms_body'])
    return send_webhook(transport, url, method, form, params['auth_token'])


def main():
    argument_spec = twilio_argument_spec()
    argument_spec.update(
        phone_number=dict(type='str', required=True),
        voice_url=dict(type='str'),
        voice_method=dict(type='str', choices=['GET', 'POST'], default='POST'),
        sms_url=dict(type='str'),
        sms_method=dict(type='str', choices=['GET', 'POST'], default='POST'),
        from_number=dict(type='str', default='+15005550006'),
        sms_body=dict(type='str', default='clawd.ops webhook probe'),
    )
    module = AnsibleModule(argument_spec=argument_spec, required_one_of=[('voice_url', 'sms_url')], supports_check_mode=True)
    require_requests(module)
    params = module.params
    for name in ('phone_number', 'from_number'):
        if not E164.match(params[name]):
            module.fail_json(msg='%s must be in E.164 form (+ and up to 15 digits), for example +14155550100' % name)
    passwords = [p for p in (url_password(params[k + '_url'] or '') for k in WEBHOOK_KINDS) if p]
    for password in passwords:
        module.no_log_values.add(password)
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, msg='Nothing is sent in check mode')

    try:
        transport = Transport('', secrets=[params['auth_token']] + passwords, user_agent='clawd.ops twilio_webhook_probe',
                              secret_headers=('X-Twilio-Signature',), cross_origin_redirects='fail', **transport_options(params))
    except TransportError as exc:
        fail_with(module, exc, msg='Failed to prepare the probe: %s' % exc)
    result = {}
    try:
        for kind in WEBHOOK_KINDS:
            if params['%s_url' % kind] is not None:
                result[kind] = probe(transport, params, kind)
    finally:
        transport.close()
    failed = ['signed %s to %s: %s' % (KIND_NAMES[kind], found['url'] or '(no URL)', found['error'])
              for kind, found in result.items() if found['error']]
    if failed:
        status = next(found['status'] for found in result.values() if found['error'])
        fail_with(module, msg='Failed to hand the app the number\'s %s' % '; '.join(failed), status_code=status, changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()

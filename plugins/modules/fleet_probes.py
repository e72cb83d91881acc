#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: fleet_probes
short_description: Probe every host's app, bot, webhook and TLS certificate from the controller at once
version_added: 0.1.0
description:
  - The controller side of the daily checks for a whole fleet in one task (run it once, delegated to V(localhost)). Every probe of
    every host of O(probes) runs at the same time in a pool of at most O(workers) threads, each with its own O(timeout).
  - C(health) asks the app's health endpoint once and times it, as M(clawd.ops.app_health) with O(probes[].health.retries=1) does.
  - C(bot) POSTs a V(/status) update to the bot's webhook with its secret token, as Telegram would, and times the answer, as
    M(clawd.ops.telegram_bot_probe) does. It makes the bot act, so it is not sent in check mode (its result is then C(skipped)).
  - C(webhook) reads the bot's webhook from the Bot API (C(getWebhookInfo)), as M(clawd.ops.telegram_webhook_info) does.
  - C(certificate) reads the certificate a TLS server serves (without trusting it) and returns its dates, subject and issuer, the
    fields of M(community.crypto.get_certificate) that M(clawd.ops.check_results) judges.
  - Each probe's result is what its module returns as a registered task result, C(failed) and C(msg) included when it failed, so
    that M(clawd.ops.check_results) judges them the same way. A probe that fails never fails the task. No result holds a token or a
    secret token.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: partial
    details: Everything but the bot probe runs the same in check mode (they only read); the bot probe is not sent.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  probes:
    description: The probes of each host. A probe left out (or null) is not run.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The host's name (its C(inventory_hostname)); its results are under this key of RV(by_host).
        type: str
        required: true
      address:
        description:
          - Address to connect to for the C(health) and C(bot) probes instead of the one their URLs' host name resolves to (as
            C(curl --resolve) does). The host name is still sent (SNI, Host header) and checked against the certificate.
        type: str
      health:
        description: The health endpoint probe.
        type: dict
        suboptions:
          url:
            description: URL of the health endpoint.
            type: str
            required: true
          required_checks:
            description: Sub-checks that must be present and ok.
            type: list
            elements: str
            default: []
          retries:
            description: Repeats of the request after a dropped connection or a 429.
            type: int
            default: 1
          ca_path:
            description: CA certificates file to trust for the endpoint.
            type: path
          validate_certs:
            description: Whether to validate the endpoint's certificate.
            type: bool
            default: true
      bot:
        description: The bot round trip probe.
        type: dict
        suboptions:
          url:
            description: The bot's webhook URL.
            type: str
            required: true
          secret_token:
            description: The webhook's secret token, sent as C(X-Telegram-Bot-Api-Secret-Token). Not sent when empty.
            type: str
            default: ''
          chat_id:
            description: The chat the message comes from, and where the bot replies.
            type: int
            default: 1
          text:
            description: The message text.
            type: str
            default: /status
          retries:
            description: Repeats of the request after a dropped connection or a 429.
            type: int
            default: 3
          ca_path:
            description: CA certificates file to trust for the webhook.
            type: path
          validate_certs:
            description: Whether to validate the webhook's certificate.
            type: bool
            default: true
      webhook:
        description: The Bot API webhook info probe.
        type: dict
        suboptions:
          bot_token:
            description: The bot's token.
            type: str
            required: true
          api_url:
            description: The Bot API.
            type: str
            default: https://api.telegram.org
          retries:
            description: Repeats of the call after a dropped connection, a 429 or a 502, 503 or 504.
            type: int
            default: 1
      certificate:
        description: The TLS certificate probe.
        type: dict
        suboptions:
          host:
            description: Host name or address to connect to.
            type: str
            required: true
          port:
            description: Port to connect to.
            type: int
            default: 443
          server_name:
            description: Server name to send (SNI).
            type: str
  workers:
    description: Most probes running at the same time.
    type: int
    default: 16
  timeout:
    description: Seconds each request (or TLS handshake) may take.
    type: float
    default: 10
requirements:
  - requests (for the C(health), C(bot) and C(webhook) probes) and cryptography (for the C(certificate) probe) on the controller.
seealso:
  - module: clawd.ops.check_results
  - module: clawd.ops.app_health
  - module: clawd.ops.telegram_bot_probe
  - module: clawd.ops.telegram_webhook_info
'''

EXAMPLES = r'''
- name: Probe every host of the play at once from the controller
  clawd.ops.fleet_probes:
    probes:
      - name: web1
        address: 203.0.113.10
        health: {url: https://app.example.com/health}
        bot: {url: https://app.example.com/telegram/webhook, secret_token: "{{ vault_webhook_secret }}", chat_id: 4242}
        webhook: {bot_token: "{{ vault_bot_token }}"}
        certificate: {host: 203.0.113.10, server_name: app.example.com}
  register: probes
  run_once: true
  delegate_to: localhost
'''

RETURN = r'''
by_host:
  description:
    - By host name, by probe (C(health), C(bot), C(webhook), C(certificate)), the probe's result as its module returns it.
  returned: always
  type: dict
  sample: {"web1": {"health": {"healthy": true, "status": "ok", "http_status": 200, "elapsed_ms": 12, "checks": {}, "failed_checks": [],
                               "version": "1.4.2", "attempts": 1, "changed": false},
                    "certificate": {"not_after": "20270301120000Z", "not_before": "20261201120000Z", "expired": false,
                                    "subject": {"CN": "app.example.com"}, "issuer": {"CN": "Example CA"}, "changed": false}}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._fleet_probes import PROBES, run_probes
from ansible_collections.clawd.ops.plugins.module_utils._telegram import telegram_options
from ansible_collections.clawd.ops.plugins.module_utils._transport import require_requests

TLS_OPTIONS = dict(ca_path=dict(type='path'), validate_certs=dict(type='bool', default=True))


def argument_spec():
    return dict(
        probes=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            address=dict(type='str'),
            health=dict(type='dict', options=dict(
                url=dict(type='str', required=True),
                required_checks=dict(type='list', elements='str', default=[]),
                retries=dict(type='int', default=1),
                **TLS_OPTIONS)),
            bot=dict(type='dict', options=dict(
                url=dict(type='str', required=True),
                secret_token=dict(type='str', default='', no_log=True),
                chat_id=dict(type='int', default=1),
                text=dict(type='str', default='/status'),
                retries=dict(type='int', default=3),
                **TLS_OPTIONS)),
            webhook=dict(type='dict', options=telegram_options(retries=dict(type='int', default=1))),
            certificate=dict(type='dict', options=dict(
                host=dict(type='str', required=True),
                port=dict(type='int', default=443),
                server_name=dict(type='str'))),
        )),
        workers=dict(type='int', default=16),
        timeout=dict(type='float', default=10),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    if p['workers'] < 1 or p['timeout'] <= 0:
        module.fail_json(msg='Invalid options: workers must be 1 or more and timeout more than 0')
    hosts = {}
    for probe in p['probes']:
        if probe['name'] in hosts:
            module.fail_json(msg='Invalid options: probes names %s twice' % probe['name'])
        for kind in ('health', 'bot', 'webhook'):
            spec = probe.get(kind) or {}
            if spec.get('retries', 0) < 0:
                module.fail_json(msg='Invalid options: probes %s: %s.retries must be 0 or more' % (probe['name'], kind))
        if probe['certificate'] and not 0 < probe['certificate']['port'] < 65536:
            module.fail_json(msg='Invalid options: probes %s: certificate.port must be from 1 to 65535' % probe['name'])
        hosts[probe['name']] = dict((kind, dict(probe[kind], address=probe['address'])) for kind in PROBES if probe.get(kind))
        for kind in ('bot', 'webhook'):
            for key in ('secret_token', 'bot_token'):
                if (probe.get(kind) or {}).get(key):
                    module.no_log_values.add(probe[kind][key])
    if any(kind != 'certificate' for probes in hosts.values() for kind in probes):
        require_requests(module)
    results = run_probes(hosts, workers=p['workers'], timeout=p['timeout'], check_mode=module.check_mode)
    changed = any((found.get('bot') or {}).get('changed') for found in results.values())
    module.exit_json(changed=changed, by_host=results)


if __name__ == '__main__':
    main()

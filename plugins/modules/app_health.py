#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: app_health
short_description: Check an app's health endpoint, its sub-checks and its version
version_added: 0.1.0
description:
  - 'Reads a JSON health endpoint that reports an overall status and named sub-checks
    (for example C({"status": "ok", "checks": {"database": {"status": "ok"}}})), optionally
    the app''s version endpoint, and fails unless the app is healthy.'
  - Can wait for the app to become healthy, for use right after a deploy or a restore.
  - Never changes anything.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
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
  url:
    description:
      - URL of the health endpoint, for example V(https://app.example.com/health).
    type: str
    required: true
  version_url:
    description:
      - URL of the version endpoint. It answers JSON with a C(version) key, or the version as plain text.
      - When not set, the version comes from the health answer's C(version) key, if any.
    type: str
  expected_version:
    description:
      - Fail unless the app reports this version.
    type: str
  required_checks:
    description:
      - Sub-checks that must be present and ok.
      - Whatever this lists, every sub-check that the app reports must be ok.
    type: list
    elements: str
    default: []
  wait_timeout:
    description:
      - Seconds to keep asking until the app is healthy (and at O(expected_version)). V(0) asks once.
    type: int
    default: 0
  wait_interval:
    description:
      - Seconds between two asks while waiting.
    type: float
    default: 2
notes:
  - An answer other than 200, a body that is not JSON, a status other than C(ok), C(healthy) or C(pass),
    and a sub-check not ok all make the app unhealthy.
  - A redirect is followed, to another origin too (for example from V(http) to V(https)); the credentials of a
    C(user:password@) in the URL go only to the URL's own origin (scheme, host and port), and never appear in the result.
'''

EXAMPLES = r'''
- name: Check that the app is healthy through its TLS proxy
  clawd.ops.app_health:
    url: https://app.example.com/health
    version_url: https://app.example.com/version

- name: Wait up to two minutes for release 1.4.2 to be healthy, with every sub-check ok
  clawd.ops.app_health:
    url: https://app.example.com/health
    version_url: https://app.example.com/version
    expected_version: 1.4.2
    required_checks: [workspace, config, disk, bot]
    ca_path: /etc/ssl/private-ca.pem
    wait_timeout: 120
'''

RETURN = r'''
healthy:
  description: Whether the app is healthy (and at the expected version, when one was given).
  returned: always
  type: bool
  sample: true
status:
  description: The overall status the app reported, or C(unreachable) when it did not answer.
  returned: always
  type: str
  sample: ok
http_status:
  description: HTTP status of the last health answer; V(0) when none came.
  returned: always
  type: int
  sample: 200
checks:
  description: The sub-checks the app reported, by name.
  returned: always
  type: dict
  sample: {"disk": {"status": "ok", "used_percent": 41.2}, "bot": {"status": "ok"}}
failed_checks:
  description: What is wrong, one line each (failed or missing sub-checks, a wrong version, an unreachable app).
  returned: always
  type: list
  elements: str
  sample: ["app: release marked unhealthy"]
version:
  description: The version the app reported, if any.
  returned: always
  type: str
  sample: 1.4.2
elapsed_ms:
  description: Milliseconds the last health answer took.
  returned: always
  type: int
  sample: 12
attempts:
  description: How many times the health endpoint was asked.
  returned: always
  type: int
  sample: 1
'''

import time


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._app_health import evaluate_health, parse_version, url_password
from ansible_collections.clawd.ops.plugins.module_utils._transport import (
    Transport,
    TransportError,
    fail_with,
    require_requests,
    transport_argument_spec,
    transport_options,
)

HEALTH_ANSWERS = (200, 500, 502, 503, 504)


def ask(transport, url, version_url, params):
    """Ask the health (and version) endpoints once; return the evaluated result."""
    started = time.monotonic()
    try:
        answer = transport.request('GET', url, expected=HEALTH_ANSWERS)
    except TransportError as exc:
        result = evaluate_health(0, None, params['required_checks'])
        result['failed_checks'] = ['unreachable: %s' % exc]
        result['elapsed_ms'] = int((time.monotonic() - started) * 1000)
        return result
    elapsed_ms = int((time.monotonic() - started) * 1000)
    try:
        body = answer.json()
    except ValueError:
        body = None
    result = evaluate_health(answer.status, body, params['required_checks'])
    result['elapsed_ms'] = elapsed_ms
    if version_url:
        try:
            version_answer = transport.request('GET', version_url, expected=(200,))
            result['version'] = parse_version(version_answer.text)
        except TransportError as exc:
            result['failed_checks'].append('version: %s' % exc)
            result['healthy'] = False
    expected = params['expected_version']
    if expected is not None and result['version'] != expected:
        result['failed_checks'].append('version: expected %s, app reports %s' % (expected, result['version'] or 'none'))
        result['healthy'] = False
    return result


def main():
    module = AnsibleModule(
        argument_spec=transport_argument_spec(
            url=dict(type='str', required=True),
            version_url=dict(type='str'),
            expected_version=dict(type='str'),
            required_checks=dict(type='list', elements='str', default=[]),
            wait_timeout=dict(type='int', default=0),
            wait_interval=dict(type='float', default=2),
        ),
        supports_check_mode=True,
    )
    require_requests(module)
    params = module.params
    if params['wait_timeout'] < 0 or params['wait_interval'] <= 0:
        module.fail_json(msg='wait_timeout must be 0 or more and wait_interval more than 0')

    # A password in user:password@ of a URL is a secret: masked in the result (and the invocation), redacted from errors.
    passwords = [p for p in (url_password(params['url']), url_password(params['version_url'])) if p]
    for password in passwords:
        module.no_log_values.add(password)
    # 5xx answers of a health endpoint are answers, not faults to retry: only connection errors
    # and 429 are retried by the transport here; waiting for health is this module's own loop.
    # A health endpoint may redirect to another origin (http to https): followed, without the
    # credentials of the URL's user:password@.
    transport = Transport('', retry_statuses=(429,), cross_origin_redirects='strip', secrets=passwords, **transport_options(params))
    deadline = time.monotonic() + params['wait_timeout']
    attempts = 0
    while True:
        attempts += 1
        result = ask(transport, params['url'], params['version_url'], params)
        if result['healthy'] or time.monotonic() + params['wait_interval'] > deadline:
            break
        time.sleep(params['wait_interval'])
    result['attempts'] = attempts
    result['changed'] = False
    if not result['healthy']:
        fail_with(module, msg='App at %s is not healthy: %s' % (params['url'], '; '.join(result['failed_checks'])),
                  status_code=result['http_status'], **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()

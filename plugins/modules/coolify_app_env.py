#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: coolify_app_env
short_description: Ensure environment variables of a Coolify application are present or absent
version_added: 0.1.0
description:
  - Reads the environment variables of a Coolify v4 application, compares them with O(env), and sends the missing or different
    ones in one bulk update (C(PATCH /applications/{uuid}/envs/bulk), an upsert by key), or deletes them with O(state=absent).
  - Variables not listed in O(env) are left alone.
  - Coolify returns values only to a token with the C(read:sensitive) or C(root) ability, and never for C(is_shown_once) variables.
    When a value cannot be read, it cannot be compared; the module says so in RV(unknown) and a warning, and updates such a
    variable only with O(update=always).
  - With O(fingerprint_key), each variable the module sets carries a keyed hash of its value (HMAC-SHA256 of its name and
    value under O(fingerprint_key)) as its Coolify comment, which Coolify returns to every token. A variable whose value is
    hidden is then compared by that mark, so a rotated secret is sent (and reported changed) even without C(read:sensitive).
    The mark records what this module set last; a value changed by hand in Coolify since then is not seen without C(read:sensitive).
  - Changed variables take effect at the next deployment (see M(clawd.ops.coolify_deploy)).
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - clawd.ops.coolify
  - clawd.ops.transport
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the variables and reports what would change; calls no endpoint that changes anything.
  diff_mode:
    support: full
    details: Shows the variables' keys and flags before and after; values are never shown.
  platform:
    platforms: posix
options:
  uuid:
    description:
      - UUID of the application.
    type: str
    required: true
  env:
    description:
      - The variables to manage.
    type: list
    elements: dict
    required: true
    suboptions:
      key:
        description:
          - Name of the variable (Coolify trims it and turns spaces into underscores).
        type: str
        required: true
      value:
        description:
          - Value of the variable. Required with O(state=present).
        type: str
      is_preview:
        description:
          - Whether this is the variable of preview deployments (a key can exist once for each).
        type: bool
        default: false
      is_literal:
        description:
          - Use the value as is, without expanding references. Not managed when unset.
        type: bool
      is_multiline:
        description:
          - Whether the value spans several lines. Not managed when unset.
        type: bool
      is_shown_once:
        description:
          - Whether Coolify shows the value only once (it is never returned by the API after that). Not managed when unset.
        type: bool
      is_runtime:
        description:
          - Whether the variable is available when the app runs. Not managed when unset.
        type: bool
      is_buildtime:
        description:
          - Whether the variable is available when the app is built. Not managed when unset.
        type: bool
  state:
    description:
      - Whether the variables must be present or absent.
    type: str
    choices: [present, absent]
    default: present
  fingerprint_key:
    description:
      - Key of the hash that marks each variable set (see the description). Keep it with the other secrets, the same for
        every run against the application; without it, hidden values are compared as O(update) says.
      - The module owns the comment of the variables it sets with this option.
    type: str
  update:
    description:
      - V(when_different) sends a variable only when it is missing or differs; a variable whose value cannot be read is left alone.
      - V(always) sends every variable whose value cannot be compared (and the ones that differ or are missing).
    type: str
    choices: [always, when_different]
    default: when_different
'''

EXAMPLES = r'''
- name: Set the app's version and its bot token
  clawd.ops.coolify_app_env:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    uuid: vgsco4o8k0wgsk4ok0gc0s0g
    env:
      - key: APP_VERSION
        value: 1.4.2
      - key: TELEGRAM_BOT_TOKEN
        value: "{{ vault_telegram_bot_token }}"
        is_literal: true

- name: Rotate a secret with a token that cannot read values (the mark tells that it changed)
  clawd.ops.coolify_app_env:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    uuid: vgsco4o8k0wgsk4ok0gc0s0g
    fingerprint_key: "{{ vault_env_fingerprint_key }}"
    env:
      - key: BASIC_AUTH_PASS
        value: "{{ new_basic_auth_pass }}"

- name: Remove a variable
  clawd.ops.coolify_app_env:
    api_url: https://coolify.example.com
    api_token: "{{ vault_coolify_token }}"
    uuid: vgsco4o8k0wgsk4ok0gc0s0g
    state: absent
    env:
      - key: APP_UNHEALTHY
'''

RETURN = r'''
created:
  description: Keys of the variables created (or that would be).
  returned: always
  type: list
  elements: str
  sample: [APP_VERSION]
updated:
  description: Keys of the variables updated (or that would be).
  returned: always
  type: list
  elements: str
deleted:
  description: Keys of the variables deleted (or that would be).
  returned: always
  type: list
  elements: str
unchanged:
  description: Keys of the variables already as wanted.
  returned: always
  type: list
  elements: str
unknown:
  description: Keys of the variables whose value could not be read, so could not be compared, and were left alone.
  returned: always
  type: list
  elements: str
  sample: [TELEGRAM_BOT_TOKEN]
values_readable:
  description: Whether the token could read the variables' values.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils import _coolify as cf
from ansible_collections.clawd.ops.plugins.module_utils import _coolify_envs as envs
from ansible_collections.clawd.ops.plugins.module_utils._transport import require_requests


def _shown(env):
    """A variable as the diff shows it: its flags, never its value (nor the mark of its value)."""
    shown = dict((k, env.get(k)) for k in envs.ENV_FLAGS if env.get(k) is not None)
    if str(shown.get('comment', '')).startswith(envs.FINGERPRINT_PREFIX):
        shown['comment'] = '(fingerprint)'
    return shown


def run(module, client):
    params = module.params
    app = client.application(params['uuid'])
    name = app.get('name') or params['uuid']
    current = client.envs(params['uuid'])
    fingerprint = envs.env_fingerprinter(params['fingerprint_key']) if params['fingerprint_key'] else None
    plan = envs.plan_envs(current, params['env'], params['state'], params['update'], fingerprint=fingerprint)
    result = {
        'changed': bool(plan['create'] or plan['update'] or plan['delete']),
        'created': [e['key'] for e in plan['create']], 'updated': [e['key'] for e in plan['update']],
        'deleted': [e['key'] for e in plan['delete']], 'unchanged': plan['unchanged'], 'unknown': plan['unknown'],
        'values_readable': any('value' in e for e in current) or not current,
    }
    before = dict((e.get('key'), _shown(e)) for e in current if isinstance(e, dict))
    after = dict(before)
    for env in plan['create'] + plan['update']:
        after[env['key']] = dict(before.get(env['key'], {}), **_shown(env))
        after[env['key']]['value'] = '(changed)' if env['key'] in before else '(set)'
    for env in plan['delete']:
        after.pop(env['key'], None)
    result['diff'] = {'before': before, 'after': after}
    if plan['unknown']:
        module.warn('Cannot compare the values of %s of application %s: the token may not read them (it needs read:sensitive or root, '
                    'and is_shown_once values are never returned); left as they are, use update=always to send them anyway.'
                    % (', '.join(plan['unknown']), name))
    if module.check_mode:
        return result
    if plan['create'] or plan['update']:
        client.update_envs(params['uuid'], plan['create'] + plan['update'], name=name)
    for env in plan['delete']:
        client.delete_env(params['uuid'], env['uuid'], key=env['key'], name=name)
    return result


def main():
    argument_spec = cf.coolify_argument_spec()
    argument_spec.update(
        uuid=dict(type='str', required=True),
        env=dict(type='list', elements='dict', required=True, options=dict(
            key=dict(type='str', required=True, no_log=False),
            value=dict(type='str', no_log=True),
            is_preview=dict(type='bool', default=False),
            is_literal=dict(type='bool'),
            is_multiline=dict(type='bool'),
            is_shown_once=dict(type='bool'),
            is_runtime=dict(type='bool'),
            is_buildtime=dict(type='bool'),
        )),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        update=dict(type='str', choices=['always', 'when_different'], default='when_different'),
        fingerprint_key=dict(type='str', no_log=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_requests(module)
    if module.params['state'] == 'present':
        missing = [e['key'] for e in module.params['env'] if e['value'] is None]
        if missing:
            module.fail_json(msg='value is required with state=present (missing for %s)' % ', '.join(missing))
    cf.CoolifyClient.run_module(module, lambda client: run(module, client))


if __name__ == '__main__':
    main()

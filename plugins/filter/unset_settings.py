# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: unset_settings
short_description: The settings a run needs that are empty or not of their form, each with a sentence saying so
version_added: 0.1.0
description:
  - A role's preflight in one task per host instead of one loop item per setting (on 100 hosts that loop cost seconds).
  - A setting applies when its C(needed) is true (default true) and, when it has C(for), one of its C(for) is in O(needs) (when
    O(needs) is given). An applying setting whose value is empty, or does not match its C(pattern) from its start, is returned.
  - Values are only looked at, never returned (some are secrets).
author:
  - clawd.ops team (@clawd-ops)
positional: values
options:
  _input:
    description:
      - The settings, each a dict with C(name) (the role's variable), C(site) (the inventory variable an operator usually sets),
        C(about) (what it is, with an example), and optionally C(pattern) (a regular expression), C(for) (what needs it) and C(needed).
    type: list
    elements: dict
    required: true
  values:
    description: The settings' values, in the order of the settings (for example from the P(ansible.builtin.vars#lookup) lookup).
    type: list
    elements: raw
    required: true
  needs:
    description: What this run does; a setting with C(for) applies only when one of them is here. Not given, every setting applies.
    type: list
    elements: str
  role:
    description: The role named in each message.
    type: str
    default: clawd.ops
  switch:
    description:
      - With O(needs), each message ends with the variables that switch off what needs the setting; C({}) in it is one of C(for).
    type: str
  aliases:
    description: Names used in O(switch) instead of some of C(for).
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Check that the variables this run needs are set
  ansible.builtin.assert:
    that: __unset | length == 0
    fail_msg: "{{ __unset | map(attribute='message') | join(' ') }}"
    quiet: true
  vars:
    __required:
      - {name: app_url, site: clawd_app_url, about: "the app's public URL, e.g. https://app.example.com", pattern: "^https?://[^/]+"}
    __unset: >-
      {{ __required | clawd.ops.unset_settings(query('ansible.builtin.vars', *(__required | map(attribute='name')), default=''),
         role='my_role') }}
'''

RETURN = r'''
_value:
  description: The settings that are not set as they must be, in their order; empty when all are.
  type: list
  elements: dict
  contains:
    name:
      description: The role's variable.
      type: str
    site:
      description: The inventory variable an operator usually sets.
      type: str
    for:
      description: What of O(needs) needs it.
      type: list
      elements: str
    problem:
      description: V(empty) or V(not of that form).
      type: str
    message:
      description: One sentence naming the variable, what it is, and what is wrong (never its value).
      type: str
      sample: "daily_checks needs clawd_app_url (or daily_checks_app_url) for health: the app's public URL; it is empty."
'''

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean


def unset_settings(required, values, needs=None, role='clawd.ops', switch=None, aliases=None):
    """The settings of `required` that apply and are empty or not of their pattern (see DOCUMENTATION)."""
    if not isinstance(required, list) or not isinstance(values, list):
        raise AnsibleFilterError('unset_settings: the settings and their values must be lists')
    if len(required) != len(values):
        raise AnsibleFilterError('unset_settings: %d settings but %d values' % (len(required), len(values)))
    aliases = aliases or {}
    unset = []
    for setting, value in zip(required, values):
        if not isinstance(setting, dict) or not setting.get('name'):
            raise AnsibleFilterError('unset_settings: each setting must be a dict with a name, got %r' % (setting,))
        if not boolean(setting.get('needed', True), strict=False):
            continue
        wanted_by = [what for what in setting.get('for') or [] if needs is None or what in needs]
        if setting.get('for') and needs is not None and not wanted_by:
            continue
        text = str(value) if value else ''  # as `default('', true) | string`: any false value is empty
        if not text:
            problem = 'empty'
        elif not re.match(setting.get('pattern') or '.', text):
            problem = 'not of that form'
        else:
            continue
        name, site = setting['name'], setting.get('site') or setting['name']
        message = '%s needs %s (or %s)%s: %s; it is %s.' % (
            role, site, name, ' for %s' % ', '.join(wanted_by) if wanted_by else '', setting.get('about', ''), problem)
        if switch and wanted_by:
            message += ' Without it, switch %s off.' % ', '.join(switch.replace('{}', aliases.get(w, w)) for w in wanted_by)
        unset.append({'name': name, 'site': site, 'for': wanted_by, 'problem': problem, 'message': message})
    return unset


class FilterModule(object):
    """clawd.ops preflight filter."""

    def filters(self):
        return {'unset_settings': unset_settings}

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: required_settings
short_description: Fail naming the settings a run needs that are unset, else give back what the run works out from them
version_added: 0.1.0
description:
  - Fails, naming every setting that is not set as it must be, when O(unset) is not empty (the list the filter
    P(clawd.ops.unset_settings#filter) gives). The message names settings and what they are, never their values.
  - Else returns O(value) as RV(value), to register; the task's output does not show it at any verbosity unless O(show) is true
    (it often carries a token or a secret). A registered value lives for the run only, unlike a fact, which a fact cache keeps.
  - One task where an M(ansible.builtin.assert) and an M(ansible.builtin.set_fact) were two; every task costs each host of a play
    a worker process on the controller, which is most of a fleet run's time.
  - Runs on the controller only (an action plugin); nothing is sent to the host.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.conn
attributes:
  become:
    support: none
  check_mode:
    support: full
    details: Runs the same in check mode, so that later tasks can use the value.
  connection:
    support: none
  delegation:
    support: none
    details: It runs on the controller whatever C(delegate_to) says; the value is registered for the task's host.
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  unset:
    description:
      - The settings that are not set as they must be, each a dict with a C(message) (as P(clawd.ops.unset_settings#filter)
        returns them) or a message string. Empty, the task succeeds.
    type: list
    elements: raw
    required: true
  value:
    description: What the run works out from the settings, given back as RV(value).
    type: raw
    required: true
  show:
    description: Show RV(value) in the task's output (do not, when it holds a secret).
    type: bool
    default: false
seealso:
  - module: ansible.builtin.assert
  - module: ansible.builtin.set_fact
  - plugin: clawd.ops.unset_settings
    plugin_type: filter
'''

EXAMPLES = r'''
- name: Check the settings the probe needs and keep its specification
  clawd.ops.required_settings:
    unset: >-
      {{ __required | clawd.ops.unset_settings(query('ansible.builtin.vars', *(__required | map(attribute='name')), default=''),
         role='my_role') }}
    value:
      url: "{{ my_role_app_url }}/health"
      token: "{{ my_role_token }}"
  vars:
    __required:
      - {name: my_role_app_url, site: clawd_app_url, about: "the app's public URL, e.g. https://app.example.com", pattern: "^https?://[^/]+"}
      - {name: my_role_token, site: clawd_app_token, about: "the app's API token"}
  register: my_role_probe  # then my_role_probe.value.url
'''

RETURN = r'''
value:
  description: O(value), unchanged (hidden from the output unless O(show) is true).
  returned: success
  type: raw
  sample: {url: https://app.example.com/health, token: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER}
'''

# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: upgrade_rollback_hosts
short_description: The hosts of earlier waves to roll back when a wave of the upgrade breached
version_added: 0.1.0
description:
  - With O(scope=wave) nothing of earlier waves goes back (the breaching wave's own hosts are rolled back by the wave).
  - With O(scope=all) every host of the waves before O(wave) that this run upgraded (O(upgraded)), in plan order; a host
    that already ran the release before this run stays as it is.
author:
  - clawd.ops team (@clawd-ops)
positional: wave, scope, upgraded
options:
  _input:
    description: The waves of the plan, each a list of hosts (see P(clawd.ops.upgrade_waves#filter)).
    type: list
    elements: list
    required: true
  wave:
    description: The wave that breached, counted from 1.
    type: int
    required: true
  scope:
    description: V(wave) or V(all).
    type: str
    required: true
  upgraded:
    description: The hosts this run changed to the release (its deploy records with result V(ok)).
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: Name the hosts of earlier waves to roll back
  ansible.builtin.set_fact:
    rollback_earlier: "{{ plan | clawd.ops.upgrade_rollback_hosts(3, 'all', ['tenant1', 'tenant2']) }}"
'''

RETURN = r'''
_value:
  description: The hosts of earlier waves to roll back, in plan order.
  type: list
  elements: str
  sample: [tenant1, tenant2]
'''

from ansible.errors import AnsibleFilterError


def upgrade_rollback_hosts(waves, wave, scope, upgraded=None):
    """Hosts of the waves before ``wave`` to roll back under ``scope``."""
    waves = [list(w) for w in waves or []]
    try:
        wave = int(wave)
    except (TypeError, ValueError):
        raise AnsibleFilterError('upgrade_rollback_hosts: the wave must be a number, got %r' % (wave,))
    if not 1 <= wave <= len(waves):
        raise AnsibleFilterError('upgrade_rollback_hosts: wave %d is not one of the plan\'s %d waves' % (wave, len(waves)))
    if scope not in ('wave', 'all'):
        raise AnsibleFilterError('upgrade_rollback_hosts: the scope must be wave or all, got %r' % (scope,))
    if scope == 'wave':
        return []
    upgraded = set(upgraded or [])
    return [host for earlier in waves[:wave - 1] for host in earlier if host in upgraded]


class FilterModule(object):
    """clawd.ops upgrade rollback scope filter."""

    def filters(self):
        return {'upgrade_rollback_hosts': upgrade_rollback_hosts}

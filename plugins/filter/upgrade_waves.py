# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: upgrade_waves
short_description: Split hosts into the waves of a play's serial list, as Ansible batches them
version_added: 0.1.0
description:
  - Splits the list of hosts into waves the way Ansible splits a play with C(serial) set to O(waves) - each item a
    number of hosts or a percentage of all hosts (rounded down, at least one), the last item repeated until every
    host is in a wave.
  - Lets a role name the wave it runs in, and a plan in check mode list every wave with its hosts.
author:
  - clawd.ops team (@clawd-ops)
positional: waves
options:
  _input:
    description: The hosts, in play order (for example C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  waves:
    description: The serial list, for example V([1, '5%', '25%', '100%']). Empty means one wave of every host.
    type: list
    elements: raw
    required: true
'''

EXAMPLES = r'''
- name: Show the waves of the upgrade
  ansible.builtin.debug:
    msg: "{{ ansible_play_hosts_all | clawd.ops.upgrade_waves([1, '5%', '25%', '100%']) }}"
'''

RETURN = r'''
_value:
  description: The waves, each a list of hosts.
  type: list
  elements: list
  sample: [[tenant1], [tenant2], [tenant3, tenant4]]
'''

from ansible.errors import AnsibleFilterError


def wave_size(item, total):
    """Hosts in a wave of ``item`` (a number or "N%") out of ``total``, as Ansible's pct_to_int with a minimum of one."""
    text = str(item).strip()
    try:
        if text.endswith('%'):
            return int((int(text[:-1]) / 100.0) * total) or 1
        return int(text)
    except ValueError:
        raise AnsibleFilterError('upgrade_waves: %r is neither a number of hosts nor a percentage' % (item,))


def upgrade_waves(hosts, waves):
    """The hosts split into waves."""
    hosts = list(hosts or [])
    sizes = list(waves or []) or ['100%']
    result = []
    index = 0
    rest = hosts
    while rest:
        size = wave_size(sizes[index], len(hosts))
        if size <= 0:
            result.append(rest)
            break
        result.append(rest[:size])
        rest = rest[size:]
        index = min(index + 1, len(sizes) - 1)
    return result


class FilterModule(object):
    """clawd.ops upgrade waves filter."""

    def filters(self):
        return {'upgrade_waves': upgrade_waves}

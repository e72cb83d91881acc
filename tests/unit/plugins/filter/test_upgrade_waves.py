# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""upgrade_waves splits hosts as Ansible's serial does."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clawd.ops.plugins.filter.upgrade_waves import upgrade_waves

HOSTS = ['h%02d' % i for i in range(1, 21)]


def test_the_default_canary_waves_of_twenty_hosts():
    waves = upgrade_waves(HOSTS, [1, '5%', '25%', '100%'])
    assert [len(w) for w in waves] == [1, 1, 5, 13]
    assert sum(waves, []) == HOSTS


def test_percentages_round_down_but_take_at_least_one_host():
    assert upgrade_waves(['a', 'b', 'c', 'd'], [1, '5%', '25%', '100%']) == [['a'], ['b'], ['c'], ['d']]


def test_the_last_size_repeats():
    assert upgrade_waves(['a', 'b', 'c', 'd', 'e'], [1, 2]) == [['a'], ['b', 'c'], ['d', 'e']]


def test_no_waves_is_one_wave_and_no_hosts_no_wave():
    assert upgrade_waves(['a', 'b'], []) == [['a', 'b']]
    assert upgrade_waves([], [1]) == []


def test_a_bad_size_is_named():
    with pytest.raises(AnsibleFilterError, match="'ten' is neither"):
        upgrade_waves(['a'], ['ten'])

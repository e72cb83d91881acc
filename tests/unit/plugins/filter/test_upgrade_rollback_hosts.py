# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""upgrade_rollback_hosts picks the earlier waves' hosts a breach rolls back (upgrade_rollback_scope)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clawd.ops.plugins.filter.upgrade_rollback_hosts import upgrade_rollback_hosts

PLAN = [['p1'], ['p2'], ['p3', 'p4'], ['p5', 'p6']]


def test_scope_wave_rolls_back_no_host_of_an_earlier_wave():
    assert upgrade_rollback_hosts(PLAN, 3, 'wave', ['p1', 'p2']) == []


def test_scope_all_rolls_back_every_host_of_the_earlier_waves_this_run_upgraded():
    assert upgrade_rollback_hosts(PLAN, 3, 'all', ['p2', 'p1']) == ['p1', 'p2']


def test_scope_all_leaves_hosts_that_ran_the_release_before_and_later_waves():
    assert upgrade_rollback_hosts(PLAN, 4, 'all', ['p1', 'p3', 'p5']) == ['p1', 'p3']


def test_a_breach_in_the_first_wave_has_no_earlier_host():
    assert upgrade_rollback_hosts(PLAN, 1, 'all', ['p1']) == []


@pytest.mark.parametrize('wave,scope,text', [
    (0, 'all', 'wave 0 is not one of the plan'),
    (5, 'all', 'wave 5 is not one of the plan'),
    ('x', 'all', 'the wave must be a number'),
    (2, 'fleet', 'the scope must be wave or all'),
])
def test_bad_arguments_are_named(wave, scope, text):
    with pytest.raises(AnsibleFilterError, match=text):
        upgrade_rollback_hosts(PLAN, wave, scope, [])

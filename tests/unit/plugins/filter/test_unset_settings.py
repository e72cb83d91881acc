# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight filter: which settings apply, empty or malformed ones named with what needs them, values never shown."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clawd.ops.plugins.filter.unset_settings import unset_settings

REQUIRED = [
    {'name': 'daily_checks_app_url', 'site': 'clawd_app_url', 'about': "the app's public URL", 'pattern': '^https?://[^/]+',
     'for': ['health', 'latency']},
    {'name': 'daily_checks_telegram_bot_token', 'site': 'clawd_telegram_bot_token', 'about': "the bot's token",
     'pattern': '^[0-9]+:[A-Za-z0-9_-]+$', 'for': ['webhook']},
    {'name': 'daily_checks_notify_chat_id', 'site': 'daily_checks_notify_chat_id', 'about': 'the chat', 'for': ['notification']},
]


def test_all_set_is_an_empty_list():
    assert unset_settings(REQUIRED, ['https://app.example.com', '123:abc', '42'], needs=['health', 'webhook', 'notification']) == []


def test_an_empty_and_a_malformed_setting_are_named_with_what_needs_them_never_their_value():
    unset = unset_settings(REQUIRED, ['', 'SECRET-not-a-token', ''], needs=['health', 'webhook', 'notification'],
                           role='daily_checks', switch='daily_checks_{}_enabled', aliases={'notification': 'notify'})
    assert [(u['name'], u['problem'], u['for']) for u in unset] == [
        ('daily_checks_app_url', 'empty', ['health']),
        ('daily_checks_telegram_bot_token', 'not of that form', ['webhook']),
        ('daily_checks_notify_chat_id', 'empty', ['notification'])]
    assert unset[0]['message'] == ("daily_checks needs clawd_app_url (or daily_checks_app_url) for health: the app's public URL; "
                                   "it is empty. Without it, switch daily_checks_health_enabled off.")
    assert unset[2]['message'].endswith('switch daily_checks_notify_enabled off.')
    assert not any('SECRET' in repr(u) for u in unset)


def test_a_setting_nothing_in_this_run_needs_is_not_looked_at():
    assert unset_settings(REQUIRED, ['', '', ''], needs=['cpu']) == []
    assert [u['name'] for u in unset_settings(REQUIRED, ['', '', ''], needs=['webhook'])] == ['daily_checks_telegram_bot_token']


def test_needed_false_skips_and_without_needs_every_setting_applies():
    required = [{'name': 'a', 'about': 'A', 'needed': 'False'}, {'name': 'b', 'about': 'B', 'needed': True}, {'name': 'c', 'about': 'C'}]
    unset = unset_settings(required, ['', None, 7], role='integrations')
    assert [u['message'] for u in unset] == ['integrations needs b (or b): B; it is empty.']


def test_a_false_value_is_empty_as_the_roles_default_filter_made_it():
    required = [{'name': 'a', 'about': 'A'}, {'name': 'b', 'about': 'B'}, {'name': 'c', 'about': 'C'}]
    assert [u['problem'] for u in unset_settings(required, [False, 0, []])] == ['empty', 'empty', 'empty']
    assert unset_settings(required, [True, 1, ['x']]) == []


@pytest.mark.parametrize('required, values, message', [
    (REQUIRED, ['x'], 'unset_settings: 3 settings but 1 values'),
    ('not a list', [], 'unset_settings: the settings and their values must be lists'),
    ([{'about': 'no name'}], [''], "unset_settings: each setting must be a dict with a name, got {'about': 'no name'}"),
])
def test_bad_input_is_a_clear_error(required, values, message):
    with pytest.raises(AnsibleFilterError) as info:
        unset_settings(required, values)
    assert str(info.value) == message

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugin clawd.ops.required_settings: a failure names the unset settings, a success hides the value."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.task import Task
from ansible.playbook.play_context import PlayContext

from ansible_collections.clawd.ops.plugins.action.required_settings import ActionModule, unset_message

SECRET = '7100000001:AAsecret-token-value'


def run(args, check_mode=False):
    """The plugin's result for a task with these arguments."""
    task = Task()
    task.args = args
    task.action = 'clawd.ops.required_settings'
    task.check_mode = check_mode
    context = PlayContext()
    context.check_mode = check_mode
    action = ActionModule(task, MagicMock(), context, loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={})


def test_value_is_given_back_whole_and_marked_hidden():
    value = {'measured': {'checks': ['health']}, 'probe': {'webhook': {'bot_token': SECRET}}}
    result = run({'unset': [], 'value': value})
    assert result['value'] == value
    assert result['changed'] is False
    assert not result.get('failed')
    assert result['_ansible_no_log'] is True


def test_show_leaves_the_value_visible():
    result = run({'unset': [], 'value': {'url': 'https://app.example.com'}, 'show': True})
    assert '_ansible_no_log' not in result
    assert result['value'] == {'url': 'https://app.example.com'}


def test_unset_settings_fail_naming_them_and_give_back_nothing():
    unset = [{'name': 'daily_checks_app_url', 'message': 'daily_checks needs clawd_app_url (or daily_checks_app_url): it is empty.'},
             'the bot token is not of that form.']
    result = run({'unset': unset, 'value': {'token': SECRET}})
    assert result['failed'] is True
    assert result['msg'] == 'daily_checks needs clawd_app_url (or daily_checks_app_url): it is empty. the bot token is not of that form.'
    assert 'value' not in result
    assert not result.get('_ansible_no_log')  # the reason is shown: it names settings, never values
    assert SECRET not in repr(result)


def test_check_mode_gives_the_value_too():
    result = run({'unset': [], 'value': [1, 2]}, check_mode=True)
    assert result['value'] == [1, 2]
    assert not result.get('skipped')


def test_a_message_falls_back_to_the_setting_name():
    assert unset_message([{'name': 'app_url'}, {}]) == 'app_url a required setting is not set'


@pytest.mark.parametrize('args', [{'value': 1}, {'unset': [], 'value': 1, 'extra': True}, {'unset': 'x', 'value': 1, 'show': 'maybe'}])
def test_bad_arguments_are_refused(args):
    with pytest.raises(AnsibleActionFail):
        run(args)

# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""clawd.ops.required_settings: fail naming the unset settings, else give back a value without showing it (see its module docs)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = {
    'unset': {'type': 'list', 'elements': 'raw', 'required': True},
    'value': {'type': 'raw', 'required': True},
    'show': {'type': 'bool', 'default': False},
}


def unset_message(unset):
    """The unset settings as one message: each one's own message (else its name), in order; never a value."""
    return ' '.join(str(item.get('message') or item.get('name') or 'a required setting is not set') if isinstance(item, dict)
                    else str(item) for item in unset)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # nothing goes to the host
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if args['unset']:
            result.update(failed=True, msg=unset_message(args['unset']))
            return result
        result.update(changed=False, value=args['value'])
        if not args['show']:
            result['_ansible_no_log'] = True  # censors this result's output, as no_log does; the registered value is whole
        return result

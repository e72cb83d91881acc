#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: maintenance_window
short_description: Mark a host as in a maintenance window, or end the window, so that the daily checks do not alert meanwhile
version_added: 0.1.0
description:
  - Writes (O(state=present)) or removes (O(state=absent)) the maintenance marker of the target host, a JSON file with C(since),
    C(until), C(reason), C(run_id), C(commit) and C(who).
  - While the window is open (C(since) up to C(until)) the daily checks (role clawd.ops.daily_checks) report every check of the host
    that is not ok with the status V(maintenance), which is neither a warning nor critical and sends no notification.
  - The window always ends - C(until) is O(seconds) after the marker is written - so a run that dies before it removes its marker
    never silences the host for good; the daily checks report a marker past its C(until) as a warning.
  - A marker of the same O(run_id), O(reason), O(commit) and O(who) whose window is still open is left as it is (the task is
    idempotent); any other marker is replaced.
  - The file is written atomically (a complete file renamed into place), mode 0644; missing parent folders are created (mode 0755).
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module reads the marker and reports what it would write or remove; it writes nothing.
  diff_mode:
    support: full
    details: The marker before and after.
  platform:
    platforms: posix
options:
  path:
    description: The marker file, for example V(/var/lib/clawd/maintenance.json).
    type: path
    required: true
  state:
    description: V(present) opens the window (writes the marker), V(absent) ends it (removes the marker).
    type: str
    choices: [present, absent]
    default: present
  reason:
    description: Why the host is in maintenance, shown in the daily checks' reports. Required with O(state=present).
    type: str
  seconds:
    description: How long the window lasts from now, at most; the marker's C(until). Cover the worst case of the work it announces.
    type: int
    default: 3600
  run_id:
    description: The run that opens the window.
    type: str
    default: ""
  commit:
    description: The release the maintenance is about, if any.
    type: str
    default: ""
  who:
    description: Who opens the window, free text; V(user@controller) is the habit.
    type: str
    default: ""
seealso:
  - module: clawd.ops.check_results
'''

EXAMPLES = r'''
- name: Mark the host as in maintenance for the upgrade (at most two hours)
  clawd.ops.maintenance_window:
    path: /var/lib/clawd/maintenance.json
    reason: upgrade to 3f2a9c1, wave 2 of 4
    seconds: 7200
    run_id: "{{ upgrade_run_id }}"
    commit: 3f2a9c1
    who: ops@laptop
  become: true

- name: End the maintenance window
  clawd.ops.maintenance_window:
    path: /var/lib/clawd/maintenance.json
    state: absent
  become: true
'''

RETURN = r'''
marker:
  description: The marker after the task (what it would be, in check mode), or null when there is none.
  returned: always
  type: dict
  sample: {"maintenance": true, "since": "2026-12-07T03:00:00Z", "until": "2026-12-07T05:00:00Z", "reason": "upgrade to 3f2a9c1",
           "run_id": "upgrade-20261207T030000Z", "commit": "3f2a9c1", "who": "ops@laptop"}
previous:
  description: The marker before the task, or null when there was none (or it could not be read).
  returned: always
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils import _maintenance


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            reason=dict(type='str'),
            seconds=dict(type='int', default=3600),
            run_id=dict(type='str', default=''),
            commit=dict(type='str', default=''),
            who=dict(type='str', default=''),
        ),
        required_if=[('state', 'present', ['reason'])],
        supports_check_mode=True,
    )
    p = module.params
    path = os.path.abspath(p['path'])
    try:
        if p['state'] == 'present':
            marker = _maintenance.build_marker(p['reason'], p['seconds'], p['run_id'], p['commit'], p['who'])
            outcome = _maintenance.ensure_present(path, marker, check_mode=module.check_mode)
        else:
            outcome = _maintenance.ensure_absent(path, check_mode=module.check_mode)
    except _maintenance.MaintenanceError as exc:
        module.fail_json(msg='Invalid maintenance window for %s: %s' % (path, exc), changed=False, marker=None, previous=None)
    except (IOError, OSError) as exc:
        verb = 'write' if p['state'] == 'present' else 'remove'
        module.fail_json(msg='Failed to %s the maintenance marker %s: %s' % (verb, path, exc.strerror or exc),
                         changed=False, marker=None, previous=None)
    if outcome['problem']:
        module.warn('The maintenance marker %s could not be read (%s); it is %s.'
                    % (path, outcome['problem'], 'replaced' if p['state'] == 'present' else 'removed'))
    result = dict(changed=outcome['changed'], marker=outcome['after'], previous=outcome['before'])
    if module._diff and outcome['changed']:
        result['diff'] = dict(before=outcome['before'] or {}, after=outcome['after'] or {})
    module.exit_json(**result)


if __name__ == '__main__':
    main()

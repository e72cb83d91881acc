#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: release_guard
short_description: Arm, advance and end the release guard of a host (a released commit watched for a day)
version_added: 0.1.0
description:
  - Keeps the release guard of a host in a JSON file on the host (O(path)) - the released commit, the previous release
    to roll back to, when it was armed and until when it watches, its check interval, the count of consecutive
    breaches and a bounded history of its checks - and says what a scheduled round must do (RV(action)).
  - O(state=armed) arms the guard for O(commit) (an active guard of the same commit is left as it is; another commit
    replaces it).
  - O(state=checked) without O(check) says whether a check is due (RV(action=check), with RV(since), the time from which
    the logs are judged - the last check, at most one O(interval) back). With O(check), it records that check's verdict -
    a healthy check resets the count (RV(action=ok)); a breach counts one (RV(action=warn)); O(breaches_to_roll_back)
    consecutive breaches call for the rollback (RV(action=rollback), asked for again by every later round until
    O(state=ended) with O(result=rolled_back) records it). A guard past its end ends by itself (RV(action=ended),
    with RV(summary)); without an armed guard, RV(action=none). C(changed) says whether the guard's state changed (a
    breach counted, the count reset, a rollback called for, the guard ended); a healthy check that changes nothing of it
    is only added to the history and is no change.
  - O(state=ended) ends an active guard with O(result); the file is kept, as the record of what the guard saw.
    O(state=absent) removes the file.
  - The module reads no clock when O(now) is given, so that tests (and a replay) can freeze it.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the guard is judged and RV(action) and RV(guard) say what would be done; the file is not written.
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  path:
    description: The guard's file on the host.
    type: path
    default: /var/lib/clawd/release_guard.json
  state:
    description: What to do with the guard (see the description).
    type: str
    choices: [armed, checked, ended, absent]
    default: checked
  now:
    description: The time of this round (ISO 8601, or seconds since the epoch). Defaults to the current time.
    type: str
  commit:
    description: With O(state=armed), the released commit that the guard watches.
    type: str
  previous_commit:
    description: With O(state=armed), the release to roll back to (the commit that ran before O(commit)).
    type: str
  previous_deployment_uuid:
    description: With O(state=armed), the Coolify deployment of O(previous_commit), for the record.
    type: str
    default: ''
  app:
    description: With O(state=armed), the application (its Coolify uuid), for the record.
    type: str
    default: ''
  release_version:
    description: With O(state=armed), the version of O(commit), for the record.
    type: str
    default: ''
  run_id:
    description: With O(state=armed), the run that released O(commit).
    type: str
    default: ''
  duration:
    description: With O(state=armed), how long the guard watches, in seconds (24 h by default).
    type: float
    default: 86400
  interval:
    description: With O(state=armed), the seconds between two scheduled checks; a check judges the logs of at most the last interval.
    type: float
    default: 900
  breaches_to_roll_back:
    description: With O(state=armed), how many breaches in a row call for the rollback.
    type: int
    default: 2
  history_max:
    description: With O(state=armed), how many checks the history keeps (the newest).
    type: int
    default: 100
  check:
    description:
      - With O(state=checked), the verdict of this round's check, for example the result of M(clawd.ops.app_watch).
      - C(breached) (a boolean) is required; C(reason), one sentence, is kept in the history.
    type: dict
  result:
    description: With O(state=ended), how the guard ended.
    type: str
    choices: [rolled_back, disarmed]
    default: disarmed
  reason:
    description: With O(state=ended), why, in one sentence.
    type: str
    default: ''
seealso:
  - module: clawd.ops.app_watch
'''

EXAMPLES = r'''
- name: Arm the release guard for the release that went live
  clawd.ops.release_guard:
    state: armed
    commit: 3f2a9c1
    previous_commit: 9e8d7c6
    duration: 86400
    interval: 900
  become: true

- name: Ask whether a check of the guarded release is due
  clawd.ops.release_guard:
    state: checked
  register: guard_due
  become: true

- name: Check the release once, judging the logs since the last check
  clawd.ops.app_watch:
    url: https://app.example.com/health
    containers: [claudebox-web, telegram-bot]
    since: "{{ guard_due.since }}"
    duration: 0
    max_health_failures: 1
  register: guard_check
  become: true
  when: guard_due.action == 'check'

- name: Record the check; two breaches in a row call for the rollback
  clawd.ops.release_guard:
    state: checked
    check: {breached: "{{ guard_check.breached }}", reason: "{{ guard_check.reason | default('', true) }}"}
  register: guard_round
  become: true
  when: guard_due.action == 'check'
'''

RETURN = r'''
action:
  description: What the round must do, C(none), C(check), C(ok), C(warn), C(rollback) or C(ended) (see the description); C(armed) or C(absent) for those states.
  returned: always
  type: str
  sample: warn
message:
  description: One sentence saying what happened, for the operators' message.
  returned: always
  type: str
  sample: "Release guard of 3f2a9c1: breach 1 of 2 in a row (a rollback at 2): health: 1 failed checks in a row"
since:
  description: With RV(action=check), the time from which this check judges the logs (UTC, ISO 8601).
  returned: when a check is due
  type: str
  sample: "2026-12-07T03:00:00Z"
rollback_to:
  description: With RV(action=rollback), the commit to roll back to.
  returned: when a rollback is due
  type: str
  sample: 9e8d7c6
summary:
  description: With RV(action=ended), what the guard saw (commit, previous_commit, armed_at, until, ended_at, checks, breaches, result, reason).
  returned: when the guard ended
  type: dict
  sample: {"commit": "3f2a9c1", "checks": 96, "breaches": 1, "result": "expired"}
guard:
  description: The guard as it is after this round (as it would be, in check mode), or null when there is none.
  returned: always
  type: dict
  sample: {"status": "armed", "commit": "3f2a9c1", "previous_commit": "9e8d7c6", "until": "2026-12-08T03:00:00Z", "consecutive_breaches": 1}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils import _release_guard as guard_utils
from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time, utc_now  # utc_now: the test seam, tests freeze it


def run(params, current, now):
    """(changed, guard, outcome) for the requested state."""
    state = params['state']
    if state == 'armed':
        changed, guard = guard_utils.arm(
            current, now, params['commit'], params['previous_commit'], params['previous_deployment_uuid'], params['app'],
            params['release_version'], params['run_id'], params['duration'], params['interval'], params['breaches_to_roll_back'],
            params['history_max'])
        return changed, guard, {'action': 'armed', 'message': 'Release guard of %s armed until %s (a check every %s s).' % (
            guard['commit'], guard['until'], guard['interval'])}
    if state == 'ended':
        return guard_utils.end(current, now, params['result'], params['reason'])
    if state == 'absent':
        return current is not None, None, {'action': 'absent', 'message': 'No release guard is kept.'}
    return guard_utils.step(current, now, params['check'])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/clawd/release_guard.json'),
            state=dict(type='str', choices=['armed', 'checked', 'ended', 'absent'], default='checked'),
            now=dict(type='str'),
            commit=dict(type='str'),
            previous_commit=dict(type='str'),
            previous_deployment_uuid=dict(type='str', default=''),
            app=dict(type='str', default=''),
            release_version=dict(type='str', default=''),
            run_id=dict(type='str', default=''),
            duration=dict(type='float', default=guard_utils.DEFAULT_DURATION),
            interval=dict(type='float', default=guard_utils.DEFAULT_INTERVAL),
            breaches_to_roll_back=dict(type='int', default=guard_utils.DEFAULT_BREACHES),
            history_max=dict(type='int', default=guard_utils.DEFAULT_HISTORY),
            check=dict(type='dict'),
            result=dict(type='str', choices=['rolled_back', 'disarmed'], default='disarmed'),
            reason=dict(type='str', default=''),
        ),
        required_if=[('state', 'armed', ['commit', 'previous_commit'])],
        supports_check_mode=True,
    )
    params = module.params
    try:
        now = parse_time(params['now'], epoch=True, required=True) if params['now'] else utc_now()
    except ValueError as exc:
        module.fail_json(msg='Failed to read the time of this round (now): %s' % exc)
    check = params['check']
    if check is not None:
        params['check'] = dict(check, breached=module.boolean(check.get('breached')) if 'breached' in check else None)
    try:
        current = guard_utils.read_guard(params['path'])
        changed, guard, outcome = run(params, current, now)
        # A routine healthy check is no change of the guard's state, yet its history and count are kept.
        if guard != current and not module.check_mode:
            if guard is None:
                guard_utils.remove_guard(params['path'])
            else:
                guard_utils.write_guard(params['path'], guard)
    except guard_utils.GuardError as exc:
        module.fail_json(msg=str(exc))
    result = dict(outcome, changed=changed, guard=guard)
    if module._diff:
        result['diff'] = {'before': current or {}, 'after': guard or {}}
    module.exit_json(**result)


if __name__ == '__main__':
    main()

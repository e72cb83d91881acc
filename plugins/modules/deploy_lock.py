#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: deploy_lock
short_description: Take, renew or release the operations lock of a host, so that deploys, rollbacks, restores and backups never overlap
version_added: 0.1.0
description:
  - Takes or renews (O(state=present)) or releases (O(state=absent)) the host-wide operations lock, a file on the target
    host that names the run holding it. Deploy, rollback, restore, backup and retention share this one lock.
  - The lock is a lease. It records when it was taken (C(taken_at)), last renewed (C(renewed_at)) and when the lease
    ends (C(expires_at), the renewal plus O(hold_for)).
  - The lock is created atomically (a complete file is hard-linked into place, or created with C(O_EXCL) where links
    do not work), so of two runs that race, exactly one gets it.
  - A lock held by another run fails the task, naming the holder and its lease. Only after its C(expires_at) may another
    run take it over, with a warning naming the old holder.
  - A lock held by the same O(run_id) is renewed; the lease then ends O(hold_for) from now, or later if it already did
    (a renewal never shortens a lease, so a nested role's short renewal keeps its caller's long lease). A live run renews
    its lease before each long phase, with a O(hold_for) that covers that phase's worst case, so it is never taken over.
  - A lock that cannot be read or parsed counts as held by someone; the task fails and says so.
  - Releasing removes the lock only when this run holds it, or with O(force=true). A role that nests inside another one
    (same run id) releases the lock only if its own take had RV(acquired=true).
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module reads the lock and reports whether it would take, renew or release it; it writes nothing.
  diff_mode:
    support: full
    details: The lock content before and after.
  platform:
    platforms: posix
options:
  path:
    description: The lock file, for example V(/var/lib/clawd/deploy.lock). Missing parent folders are created (mode 0755).
    type: path
    required: true
  state:
    description: V(present) takes or renews the lock, V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  run_id:
    description: Identifier of this run, unique per run; the lock belongs to it.
    type: str
    required: true
  owner:
    description: Who holds the lock, free text; V(user@controller) is the habit. Defaults to the remote user and host.
    type: str
  purpose:
    description: Why the lock is held, for example V(deploy), V(rollback), V(restore) or V(backup).
    type: str
    default: deploy
  hold_for:
    description:
      - The lease, in seconds from now; until it ends no other run may take the lock over.
      - Cover the worst case of the phase that follows, and renew before the next one.
      - A lock written before locks were leases (no C(expires_at)) ends this long after it was taken.
    type: int
    default: 3600
    aliases: [stale_after]
  force:
    description:
      - With O(state=absent), remove the lock even when another run holds it, or when it cannot be read.
      - Use it only when that run is known to be dead.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Take the operations lock for the deployment's first phase
  clawd.ops.deploy_lock:
    path: /var/lib/clawd/deploy.lock
    run_id: "{{ deploy_run_id }}"
    owner: "{{ lookup('ansible.builtin.env', 'USER') }}@{{ lookup('ansible.builtin.pipe', 'hostname') }}"
    purpose: deploy
    hold_for: 1800
  register: deploy_lock

- name: Renew the lease before a long phase
  clawd.ops.deploy_lock:
    path: /var/lib/clawd/deploy.lock
    run_id: "{{ deploy_run_id }}"
    purpose: deploy
    hold_for: 2000

- name: Release the lock, only if this role took it
  clawd.ops.deploy_lock:
    path: /var/lib/clawd/deploy.lock
    run_id: "{{ deploy_run_id }}"
    state: absent
  when: deploy_lock.acquired | default(false)
'''

RETURN = r'''
acquired:
  description:
    - Whether this task took the lock (it was free, or another run's lease had ended), or would in check mode.
    - V(false) when this run held it already (then RV(renewed) is V(true)), and always with O(state=absent).
  returned: always
  type: bool
  sample: true
renewed:
  description: Whether this run held the lock already and this task renewed its lease.
  returned: always
  type: bool
  sample: false
holder:
  description: The run that holds the lock after the task (for a refusal, the one that holds it), or null when nobody does.
  returned: always
  type: dict
  contains:
    run_id:
      description: The run id of the holder.
      type: str
    owner:
      description: Who holds it.
      type: str
    purpose:
      description: Why it holds it.
      type: str
    taken_at:
      description: When that run took the lock (UTC).
      type: str
    expires_at:
      description: When its lease ends (UTC).
      type: str
  sample: {"run_id": "0b6f5a8e", "owner": "ops@laptop", "purpose": "deploy", "taken_at": "2026-03-02T10:15:00Z",
           "expires_at": "2026-03-02T11:15:00Z"}
held_by:
  description: The owner of the lock after the task, or null when nobody holds it.
  returned: always
  type: str
  sample: ops@laptop
lock:
  description: The lock's content after the task (what it would be, in check mode), or null when there is no lock.
  returned: always
  type: dict
  sample: {"run_id": "0b6f5a8e", "owner": "ops@laptop", "purpose": "deploy", "host": "vps1", "taken_at": "2026-03-02T10:15:00Z",
           "renewed_at": "2026-03-02T10:15:00Z", "expires_at": "2026-03-02T11:15:00Z"}
taken_over:
  description: The content of the expired lock of another run that was taken over, when one was.
  returned: when an expired lock was taken over
  type: dict
  sample: {"run_id": "77ac1d20", "owner": "ci@runner", "purpose": "deploy", "host": "vps1", "taken_at": "2026-03-01T02:00:00Z",
           "expires_at": "2026-03-01T03:00:00Z"}
'''

import getpass
import os
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils import _lock


def _result(outcome, lock):
    return dict(changed=outcome['changed'], acquired=outcome['outcome'] in ('acquired', 'taken_over'),
                renewed=outcome['outcome'] == 'renewed', holder=_lock.holder_of(lock),
                held_by=lock.get('owner') if lock else None, lock=lock)


def acquire(module, params):
    outcome = _lock.acquire(params['path'], params['run_id'], params['owner'], params['purpose'], params['hold_for'],
                            check_mode=module.check_mode)
    result = _result(outcome, outcome['lock'])
    if outcome['outcome'] == 'taken_over':
        old = outcome['before']
        module.warn('%s the lock %s of %s since %s: its lease ended at %s, %s ago.'
                    % ('Would take over' if module.check_mode else 'Took over', params['path'], _lock.describe(old),
                       old.get('taken_at'), old.get('expires_at'), _lock.duration_text(outcome['expired_for'])))
        result['taken_over'] = old
    if outcome['changed']:
        result['diff'] = dict(before=outcome['before'] or '', after=outcome['lock'])
    return result


def release(module, params):
    outcome = _lock.release(params['path'], params['run_id'], force=params['force'], check_mode=module.check_mode)
    held = outcome['before']
    if outcome['outcome'] == 'not_ours':
        module.warn('Did not release %s: it is held by %s, not by run %s.' % (params['path'], _lock.describe(held), params['run_id']))
    elif outcome['outcome'] == 'forced' and held is not None:
        module.warn('Removed the lock %s of %s (force=true).' % (params['path'], _lock.describe(held)))
    result = _result(outcome, outcome['lock'])
    if outcome['changed']:
        result['diff'] = dict(before=held or {}, after='')
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            run_id=dict(type='str', required=True),
            owner=dict(type='str'),
            purpose=dict(type='str', default='deploy'),
            hold_for=dict(type='int', default=3600, aliases=['stale_after']),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    params['path'] = os.path.abspath(params['path'])
    empty = dict(changed=False, acquired=False, renewed=False, holder=None, held_by=None, lock=None)
    if not params['run_id'].strip():
        module.fail_json(msg='run_id must not be empty', **empty)
    if params['hold_for'] <= 0:
        module.fail_json(msg='hold_for must be more than 0 seconds, got %d' % params['hold_for'], **empty)
    if not params['owner']:
        try:
            params['owner'] = '%s@%s' % (getpass.getuser(), socket.gethostname())
        except Exception:  # pylint: disable=broad-except
            params['owner'] = '%d@%s' % (os.getuid(), socket.gethostname())
    try:
        if params['state'] == 'present':
            result = acquire(module, params)
        else:
            result = release(module, params)
    except _lock.LockError as exc:
        failed = dict(empty)
        failed.update(holder=_lock.holder_of(exc.holder), held_by=exc.holder.get('owner') if exc.holder else None, lock=exc.holder)
        module.fail_json(msg=str(exc), **failed)
    except (IOError, OSError) as exc:
        verb = 'take' if params['state'] == 'present' else 'release'
        module.fail_json(msg='Failed to %s the lock %s: %s' % (verb, params['path'], exc.strerror or exc), **empty)
    diff = result.pop('diff', None)
    if module._diff and diff is not None:
        result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: deploy_lock
short_description: Take or release the deploy lock of a host, so that two deploys or rollbacks never overlap
version_added: 0.1.0
description:
  - Takes (O(state=present)) or releases (O(state=absent)) a lock file on the target host that names the run holding it.
  - The lock is created atomically (a complete file is hard-linked into place, or created with C(O_EXCL) where links
    do not work), so of two runs that race, exactly one gets it.
  - A lock held by another run fails the task, unless it is older than O(stale_after); then it is taken over, with a
    warning naming the old holder. A lock held by the same O(run_id) is kept (no change), so the task is idempotent.
  - A lock that cannot be read or parsed counts as held by someone; the task fails and says so.
  - Releasing removes the lock only when this run holds it, or with O(force=true).
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module reads the lock and reports whether it would take or release it; it writes nothing.
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
    description: V(present) takes the lock, V(absent) releases it.
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
    description: Why the lock is held, for example V(deploy) or V(rollback).
    type: str
    default: deploy
  stale_after:
    description: Seconds after which a lock held by another run counts as abandoned and may be taken over.
    type: int
    default: 3600
  force:
    description:
      - With O(state=absent), remove the lock even when another run holds it, or when it cannot be read.
      - Use it only when that run is known to be dead.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Take the deploy lock
  clawd.ops.deploy_lock:
    path: /var/lib/clawd/deploy.lock
    run_id: "{{ deploy_run_id }}"
    owner: "{{ lookup('ansible.builtin.env', 'USER') }}@{{ lookup('ansible.builtin.pipe', 'hostname') }}"
    purpose: deploy

- name: Release the deploy lock
  clawd.ops.deploy_lock:
    path: /var/lib/clawd/deploy.lock
    run_id: "{{ deploy_run_id }}"
    state: absent
'''

RETURN = r'''
acquired:
  description: Whether this run holds the lock after the task (would hold it, in check mode).
  returned: always
  type: bool
  sample: true
held_by:
  description: The owner of the lock after the task, or null when nobody holds it.
  returned: always
  type: str
  sample: ops@laptop
lock:
  description: The lock's content after the task (what it would be, in check mode), or null when there is no lock.
  returned: always
  type: dict
  sample: {"run_id": "0b6f5a8e", "owner": "ops@laptop", "purpose": "deploy", "host": "vps1", "acquired_at": "2026-03-02T10:15:00Z"}
stale_taken_over:
  description: The content of the stale lock that was taken over, when one was.
  returned: when a stale lock was taken over
  type: dict
  sample: {"run_id": "77ac1d20", "owner": "ci@runner", "purpose": "deploy", "host": "vps1", "acquired_at": "2026-03-01T02:00:00Z"}
'''

import datetime
import fcntl
import getpass
import json
import os
import socket
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule


def _age_text(seconds):
    seconds = int(max(seconds, 0))
    parts = [(seconds // 86400, 'd'), (seconds % 86400 // 3600, 'h'), (seconds % 3600 // 60, 'm'), (seconds % 60, 's')]
    text = ' '.join('%d%s' % (value, unit) for value, unit in parts if value)
    return text or '0s'


def read_lock(path):
    """(raw bytes, content dict or None, problem or None); raw is None when there is no lock."""
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None, None, None
    except OSError as exc:
        return b'', None, 'cannot be read (%s)' % (exc.strerror or exc)
    try:
        content = json.loads(raw.decode('utf-8'))
    except ValueError:
        return raw, None, 'is not a lock this module wrote (not JSON)'
    if not isinstance(content, dict) or not content.get('run_id'):
        return raw, None, 'is not a lock this module wrote (no run_id)'
    return raw, content, None


def lock_age(path, content, now):
    try:
        acquired = datetime.datetime.strptime(content['acquired_at'], '%Y-%m-%dT%H:%M:%SZ')
        return now - acquired.replace(tzinfo=datetime.timezone.utc).timestamp()
    except (KeyError, TypeError, ValueError):
        return now - os.stat(path).st_mtime


def _temp_with(path, content):
    fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path))
    with os.fdopen(fd, 'w') as handle:
        json.dump(content, handle, sort_keys=True)
        handle.write('\n')
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temp, 0o644)
    return temp


def create_lock(path, content):
    """Create the lock atomically with its whole content; False when it already exists."""
    temp = _temp_with(path, content)
    try:
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # a filesystem without hard links: O_EXCL, then write
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, 'w') as handle:
            json.dump(content, handle, sort_keys=True)
            handle.write('\n')
        return True
    finally:
        os.unlink(temp)


def replace_if_unchanged(path, expected_raw, content):
    """Replace (content) or remove (None) the lock only if it is still the file that held expected_raw."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Whoever replaced the file before we got the flock did so on another inode: start over.
        if os.fstat(fd).st_ino != os.stat(path).st_ino:
            return False
        with os.fdopen(os.dup(fd), 'rb') as handle:
            if handle.read() != expected_raw:
                return False
        if content is None:
            os.unlink(path)
        else:
            os.replace(_temp_with(path, content), path)
        return True
    except FileNotFoundError:
        return False
    finally:
        os.close(fd)


def describe(content):
    return '%s (run %s, %s)' % (content.get('owner'), content.get('run_id'), content.get('purpose'))


def acquire(module, params, result):
    path, run_id = params['path'], params['run_id']
    now = time.time()
    mine = {
        'run_id': run_id, 'owner': params['owner'], 'purpose': params['purpose'], 'host': socket.gethostname(),
        'acquired_at': datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
    }
    for dummy in range(5):
        raw, held, problem = read_lock(path)
        if raw is None:
            if not module.check_mode:
                if not os.path.isdir(os.path.dirname(path)):
                    os.makedirs(os.path.dirname(path), 0o755)
                if not create_lock(path, mine):
                    continue  # another run was faster: look again
            return dict(result, changed=True, acquired=True, held_by=mine['owner'], lock=mine, diff=dict(before='', after=mine))
        if problem:
            module.fail_json(msg='Refusing to %s: %s exists but %s; it counts as held. Remove it only if no run holds it.'
                             % (params['purpose'], path, problem), **result)
        if held['run_id'] == run_id:
            return dict(result, acquired=True, held_by=held.get('owner'), lock=held)
        age = lock_age(path, held, now)
        if age < params['stale_after']:
            module.fail_json(msg='Refusing to %s: %s is held by %s since %s, %s ago; it becomes stale after %ds. '
                             'Remove it only if that run is dead.' % (params['purpose'], path, describe(held),
                                                                      held.get('acquired_at'), _age_text(age), params['stale_after']),
                             acquired=False, held_by=held.get('owner'), lock=held)
        if module.check_mode or replace_if_unchanged(path, raw, mine):
            module.warn('%s the stale lock %s of %s since %s, %s ago (stale after %ds).'
                        % ('Would take over' if module.check_mode else 'Took over', path, describe(held),
                           held.get('acquired_at'), _age_text(age), params['stale_after']))
            return dict(result, changed=True, acquired=True, held_by=mine['owner'], lock=mine, stale_taken_over=held,
                        diff=dict(before=held, after=mine))
    module.fail_json(msg='Failed to take the lock %s: it kept changing under us' % path, **result)


def release(module, params, result):
    path, run_id = params['path'], params['run_id']
    for dummy in range(5):
        raw, held, problem = read_lock(path)
        if raw is None:
            return dict(result, acquired=False, held_by=None, lock=None)
        if held is not None and held['run_id'] != run_id and not params['force']:
            module.warn('Did not release %s: it is held by %s, not by run %s.' % (path, describe(held), run_id))
            return dict(result, acquired=False, held_by=held.get('owner'), lock=held)
        if problem and not params['force']:
            module.fail_json(msg='Failed to release the lock %s: it %s; use force=true to remove it anyway' % (path, problem), **result)
        if held is not None and held['run_id'] != run_id:
            module.warn('Removed the lock %s of %s (force=true).' % (path, describe(held)))
        if module.check_mode or replace_if_unchanged(path, raw, None):
            return dict(result, changed=True, acquired=False, held_by=None, lock=None, diff=dict(before=held or {}, after=''))
    module.fail_json(msg='Failed to release the lock %s: it kept changing under us' % path, **result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            run_id=dict(type='str', required=True),
            owner=dict(type='str'),
            purpose=dict(type='str', default='deploy'),
            stale_after=dict(type='int', default=3600),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    params['path'] = os.path.abspath(params['path'])
    if not params['run_id'].strip():
        module.fail_json(msg='run_id must not be empty')
    if params['stale_after'] <= 0:
        module.fail_json(msg='stale_after must be more than 0 seconds')
    if not params['owner']:
        try:
            params['owner'] = '%s@%s' % (getpass.getuser(), socket.gethostname())
        except Exception:  # pylint: disable=broad-except
            params['owner'] = '%d@%s' % (os.getuid(), socket.gethostname())
    result = dict(changed=False, acquired=False, held_by=None, lock=None)
    try:
        if params['state'] == 'present':
            result = acquire(module, params, result)
        else:
            result = release(module, params, result)
    except OSError as exc:
        verb = 'take' if params['state'] == 'present' else 'release'
        module.fail_json(msg='Failed to %s the lock %s: %s' % (verb, params['path'], exc.strerror or exc), **result)
    diff = result.pop('diff', None)
    if module._diff and diff is not None:
        result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()

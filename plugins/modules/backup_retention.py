#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_retention
short_description: Delete old backup archives of a folder by keep-last, daily and weekly rules
version_added: 0.1.0
description:
  - Chooses which archives written by M(clawd.ops.backup_archive) in a folder to delete, like restic's
    C(forget --keep-last --keep-daily --keep-weekly), and deletes them with their C(.sha256) and C(.manifest.json) files.
  - Keeps the newest O(keep_last) archives, plus the newest archive of each of the last O(keep_daily) days and of the last
    O(keep_weekly) ISO weeks that have archives. An archive's time is the UTC time in its name, else its modification time.
  - An archive is verified when its C(.sha256) file exists (M(clawd.ops.backup_archive) writes it only after the archive verified).
    The newest verified archive is never deleted, whatever the keep rules say (even O(keep_last=0)).
  - When the newest archive is not verified (the last backup failed, or the archive came from elsewhere), nothing at all is
    deleted and the module says so in RV(msg) and a warning. Older archives that are not verified follow the keep rules like the others.
  - C(.partial) files (and folders) older than O(stale_partial_hours) are leftovers of killed backup runs and are deleted too;
    younger ones may belong to a backup that is running and are kept.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports exactly the same RV(deleted) and RV(kept) lists, without deleting anything.
  diff_mode:
    support: full
    details: The before and after lists of archive names.
  platform:
    platforms: posix
options:
  path:
    description:
      - The folder that holds the archives.
    type: path
    required: true
  pattern:
    description:
      - Shell pattern of the archives' names. Names ending with C(.sha256), C(.manifest.json) or C(.partial) are never archives.
    type: str
    default: '*.tar.*'
  keep_last:
    description:
      - Keep the newest this many archives.
    type: int
    default: 7
  keep_daily:
    description:
      - Keep the newest archive of each of the last this many days that have archives (UTC days).
    type: int
    default: 7
  keep_weekly:
    description:
      - Keep the newest archive of each of the last this many ISO weeks that have archives.
    type: int
    default: 4
  stale_partial_hours:
    description:
      - C(.partial) files and folders older than this many hours are deleted; younger ones are kept.
    type: int
    default: 24
  verify_newest:
    description:
      - Re-verify the newest archive with the reader of M(clawd.ops.backup_verify) (every member, the manifest and the
        checksum in its C(.sha256) file) before deleting anything; when it fails, nothing is deleted.
    type: bool
    default: false
seealso:
  - module: clawd.ops.backup_archive
  - module: clawd.ops.backup_verify
  - name: restic forget
    description: The keep rules this module follows.
    link: https://restic.readthedocs.io/en/stable/060_forget.html
'''

EXAMPLES = r'''
- name: Keep a week of daily backups and a month of weekly ones
  clawd.ops.backup_retention:
    path: /var/backups/claudebox
    keep_last: 3
    keep_daily: 7
    keep_weekly: 4
  register: retention

- name: Keep the three newest safety copies only, after checking the newest still reads
  clawd.ops.backup_retention:
    path: /var/backups/safety
    pattern: claudebox-safety-*.tar.*
    keep_last: 3
    keep_daily: 0
    keep_weekly: 0
    verify_newest: true
'''

RETURN = r'''
deleted:
  description: Paths deleted (in check mode, that would be deleted), each archive followed by its C(.sha256) and C(.manifest.json).
  returned: always
  type: list
  elements: str
  sample: ["/var/backups/claudebox/claudebox-20261101T020000Z-1.4.0.tar.zst", "/var/backups/claudebox/claudebox-20261101T020000Z-1.4.0.tar.zst.sha256"]
kept:
  description: Archives (and young C(.partial) files) kept, newest first, with the rules that keep them.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path of the archive.
      type: str
    reasons:
      description: Why it is kept, for example C(newest verified), C(last 1), C(daily 2026-11-23) or C(weekly 2026-W47).
      type: list
      elements: str
  sample: [{"path": "/var/backups/claudebox/claudebox-20261123T020000Z-1.4.2.tar.zst", "reasons": ["newest verified", "last 1", "daily 2026-11-23"]}]
freed_bytes:
  description: Bytes deleted (in check mode, that would be).
  returned: always
  type: int
  sample: 104857600
newest_verified:
  description: Path of the newest verified archive, which is never deleted; null when there is none.
  returned: always
  type: str
  sample: /var/backups/claudebox/claudebox-20261123T020000Z-1.4.2.tar.zst
msg:
  description: What was done, or why nothing was deleted.
  returned: always
  type: str
  sample: deleted 6 file(s), 314572800 bytes; kept 9 archive(s)
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._backup_retention import RetentionError, run_retention


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            pattern=dict(type='str', default='*.tar.*'),
            keep_last=dict(type='int', default=7),
            keep_daily=dict(type='int', default=7),
            keep_weekly=dict(type='int', default=4),
            stale_partial_hours=dict(type='int', default=24),
            verify_newest=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        result = run_retention(
            params['path'], params['pattern'], keep_last=params['keep_last'], keep_daily=params['keep_daily'],
            keep_weekly=params['keep_weekly'], stale_partial_hours=params['stale_partial_hours'],
            verify_newest=params['verify_newest'], check_mode=module.check_mode,
        )
    except RetentionError as exc:
        module.fail_json(msg='Failed to apply retention to %s: %s' % (params['path'], exc))
    for warning in result.pop('warnings'):
        module.warn(warning)
    diff = result.pop('diff')
    if module._diff:
        result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_extract
short_description: Restore sources from a clawd.ops backup archive into folders
version_added: 0.1.0
description:
  - Restores the members C(volumes/<name>/...) of a backup archive in the clawd.ops backup format (C(docs/backup-format.md) in the
    collection) into the folder O(targets[<name>]) for each name given, and the members C(dumps/...) into O(targets[dumps]) when given.
    Members of other sources are skipped.
  - Reads the whole archive first and refuses, before writing anything, when any member is unsafe (absolute paths, C(..),
    symlinks leaving their source, hard links, devices, fifos, duplicate names, anything but a folder at C(volumes/<name>)), a
    requested source is not in the archive, the archive is not the one O(sha256) names, it expands beyond O(max_total_size) or
    O(max_ratio), or a target's file system has too little free space (the data, a block per entry and O(space_margin)).
  - Then reads the archive again and writes it, checking every member again and passing it through Python's tarfile C(data)
    extraction filter where Python has it, else through this collection's copy of its rules (Debian bookworm's Python 3.11.2 lacks
    it), keeping file and directory modes (less setuid, setgid, sticky and group/other write) and, when run as root, numeric
    owners. That second pass must end with the whole-file sha256 the first one saw, so the bytes written are the bytes checked.
  - With O(clear=true) a target's current contents are moved into a holding folder inside it (C(.clawd-restore-held-*)), removed
    once the restore is complete, and put back when anything fails (a full disk, an archive changed on disk meanwhile); the
    failure then reports C(changed=true) and each target's state in RV(target_states).
  - Memory stays bounded whatever the archive declares (special tar headers over 1 MiB are refused; see M(clawd.ops.backup_verify)).
author:
  - clawd.ops team (@clawd-ops)
requirements:
  - zstandard (Python library), for C(.tar.zst) archives
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the archive, runs every refusal and reports what would be written and removed, without touching the targets.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  archive:
    description:
      - The archive to restore from.
    type: path
    required: true
  targets:
    description:
      - 'Folder to restore each source into, by source name, for example C({workspace: /var/lib/docker/volumes/app-workspace/_data}).'
      - The key V(dumps) receives the archive's C(dumps/) members (database dumps).
      - Paths must be absolute; missing folders are created.
    type: dict
    required: true
  clear:
    description:
      - Empty each target folder (its contents, not the folder itself, which may be a volume's mountpoint) before restoring,
        so that files made after the backup do not survive the restore.
    type: bool
    default: true
  sha256:
    description:
      - The archive's expected sha256 (hex, or a C(sha256sum) line), for example the one M(clawd.ops.backup_verify) returned;
        the restore is refused, with nothing written, when the file has another.
    type: str
  max_total_size:
    description:
      - Refuse, with nothing written, an archive whose tar data (all members, uncompressed) is larger than this many bytes.
        V(0) sets no fixed cap (the free-space check still applies).
    type: int
    default: 0
  max_ratio:
    description:
      - Refuse, with nothing written, an archive whose tar data grows past this many times the compressed bytes read (judged once
        64 MiB were read), as a decompression bomb does. V(0) sets no cap.
    type: int
    default: 250
  space_margin:
    description:
      - Bytes that must stay free on each target's file system beyond what the restore writes (a block per entry counted on top
        of the data); the restore is refused, with nothing written, otherwise. The current contents stay on disk until the
        restore is complete, so they free nothing.
    type: int
    default: 67108864
notes:
  - Run it only after M(clawd.ops.backup_verify) passed on the archive and a safety copy of the current data was taken, as the
    C(clawd.ops.restore) role does; with O(clear=true) the targets' current contents are gone once this succeeds.
  - Stop the app that uses the targets first.
  - A run killed while it restores (kill -9, a reboot) leaves the previous contents in the holding folder C(.clawd-restore-held-*)
    inside the target; the next restore with O(clear=true) moves that folder aside with the rest and removes it once it succeeds.
seealso:
  - module: clawd.ops.backup_verify
  - module: clawd.ops.backup_archive
'''

EXAMPLES = r'''
- name: Restore the workspace volume and the database dump from the verified archive
  clawd.ops.backup_extract:
    archive: /var/backups/claudebox/claudebox-20261123T175000Z-1.0.0.tar.zst
    targets:
      workspace: /var/lib/docker/volumes/claudebox-workspace/_data
      dumps: /var/lib/claudebox/restore-dumps

- name: See what a restore would write, without writing
  clawd.ops.backup_extract:
    archive: /var/backups/claudebox/claudebox-20261123T175000Z-1.0.0.tar.zst
    targets:
      workspace: /srv/claudebox/workspace
  check_mode: true
'''

RETURN = r'''
archive:
  description: The archive restored from.
  returned: always
  type: str
  sample: /var/backups/claudebox/claudebox-20261123T175000Z-1.0.0.tar.zst
targets:
  description: For each target, its C(path) and what was (in check mode, would be) written - C(files), C(dirs), C(symlinks),
    C(bytes) - and C(removed), the entries cleared from it first.
  returned: always
  type: dict
  sample: {"workspace": {"path": "/srv/claudebox/workspace", "files": 120, "dirs": 14, "symlinks": 2, "bytes": 5242880, "removed": 9}}
skipped_members:
  description: Members not restored (other sources, dumps without a C(dumps) target, the manifest).
  returned: always
  type: int
  sample: 3
target_states:
  description: After a failure that touched the targets, what each target holds now, for example V(put back as it was),
    V(removed (it did not exist before)) or, with O(clear=false), how many members were written over its contents.
  returned: on failure, once the targets were touched
  type: dict
  sample: {"workspace": "put back as it was"}
filter:
  description: The extraction filter used, V(stdlib) (tarfile's data filter) or V(fallback) (this collection's copy of its rules).
  returned: always
  type: str
  sample: stdlib
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import MissingLibraryError
from ansible_collections.clawd.ops.plugins.module_utils._backup_extract import BackupExtractError, extract_archive
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg


def main():
    module = AnsibleModule(
        argument_spec=dict(
            archive=dict(type='path', required=True),
            targets=dict(type='dict', required=True),
            clear=dict(type='bool', default=True),
            sha256=dict(type='str'),
            max_total_size=dict(type='int', default=0),
            max_ratio=dict(type='int', default=250),
            space_margin=dict(type='int', default=67108864),
        ),
        supports_check_mode=True,
    )
    archive = module.params['archive']
    targets = {}
    for name, folder in module.params['targets'].items():
        folder = str(folder or '')
        if not os.path.isabs(folder):
            module.fail_json(msg='Target %s must be an absolute path, not %r' % (name, folder))
        targets[str(name)] = folder
    if not targets:
        module.fail_json(msg='targets is empty: name at least one source to restore')
    try:
        result = extract_archive(archive, targets, clear=module.params['clear'], check_mode=module.check_mode,
                                 expected_sha256=module.params['sha256'], max_total_size=module.params['max_total_size'],
                                 max_ratio=module.params['max_ratio'], space_margin=module.params['space_margin'])
    except MissingLibraryError as exc:
        module.fail_json(msg=missing_lib_msg(exc.library), exception=exc.import_error)
    except BackupExtractError as exc:
        failure = dict(msg='Failed to restore from %s: %s' % (archive, exc), changed=exc.changed, archive=archive)
        if exc.changed:
            failure['target_states'] = exc.states
        module.fail_json(**failure)
    module.exit_json(archive=archive, **result)


if __name__ == '__main__':
    main()

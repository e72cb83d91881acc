#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_archive
short_description: Back up folders, SQLite and PostgreSQL databases into one verified, compressed archive
version_added: 0.1.0
description:
  - Writes one archive in the clawd.ops backup format (C(docs/backup-format.md) in the collection) into O(dest),
    named C(<service>-<YYYYmmddTHHMMSSZ>-<version>.tar.zst) (or C(.tar.gz)), with its C(.manifest.json) and C(.sha256) beside it.
  - Each source folder (for example a Docker volume's mountpoint) is archived as C(volumes/<name>/); each SQLite database is
    copied consistently with SQLite's online backup API, even while the app writes to it, and archived as C(dumps/<name>.sqlite3).
  - Each PostgreSQL database is dumped with C(pg_dump --format=custom) run inside the Docker container that serves it, through the
    Docker Engine API; the dump streams into a file beside the archive (never into memory) and is archived as C(dumps/<name>.pgdump),
    restorable with C(pg_restore).
  - The archive is streamed in one pass, each file read once and hashed as it is read, and compressed with zstd on every core (or gzip).
  - The archive is written as C(<archive>.partial), verified with the same reader as M(clawd.ops.backup_verify), and only then
    renamed; its C(.sha256) and manifest are written under C(.partial) names first and renamed after it, the manifest last.
    A failed or killed run never leaves a file that looks complete, nor a manifest or C(.sha256) without its archive.
  - Each run first removes what killed runs left in O(dest) (C(.partial) files and folders no live run holds, a manifest or
    C(.sha256) without its archive), and finishes the commit of an archive that was renamed but not given its side files;
    see RV(cleaned_up). M(clawd.ops.backup_retention) also deletes old C(.partial) leftovers.
  - Source folders are walked one level at a time without following symlinks, and each file is read through the very folders
    that were listed (device and inode checked), so a folder swapped for a symlink or for another folder while the backup runs
    (by a container that can write its volume) is never followed; what was below it is reported in RV(changed_during_backup).
  - Refuses before writing anything when O(dest) is missing or not writable, a source is missing or unreadable, or the raw size
    of the sources would fill the filesystem of O(dest) above O(max_disk_percent).
author:
  - clawd.ops team (@clawd-ops)
requirements:
  - zstandard (Python library), for O(compression=zstd)
  - docker (the Docker SDK for Python), for O(postgres)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs every refusal, then reports the archive's would-be name, its members, raw size and dumps without writing anything.
      - No C(pg_dump) runs in check mode (and the Docker Engine API is not called), so a missing container or database is not detected.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  dest:
    description:
      - Folder to write the archive in. It must exist.
    type: path
    required: true
  service:
    description:
      - Name of the service backed up; the archive's name starts with it.
      - Letters, digits, V(.), V(_) and V(-) only.
    type: str
    required: true
  sources:
    description:
      - Folders to archive, each as C(volumes/<name>/).
      - Regular files, folders and symlinks that stay inside the folder are archived, with their mode, owner and modification time.
        Sockets, fifos, devices and symlinks that point outside are skipped and reported in RV(skipped).
      - Required unless O(sqlite) or O(postgres) is given.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name of the source in the archive. Letters, digits, V(.), V(_) and V(-) only.
        type: str
        required: true
      path:
        description:
          - The folder, for example a Docker volume's mountpoint.
        type: path
        required: true
  sqlite:
    description:
      - SQLite databases to copy with SQLite's online backup API, each archived as C(dumps/<name>.sqlite3).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the copy in the archive, without C(.sqlite3). Letters, digits, V(.), V(_) and V(-) only.
        type: str
        required: true
      path:
        description:
          - Path of the database file.
        type: path
        required: true
  postgres:
    description:
      - PostgreSQL databases to dump with C(pg_dump --format=custom --no-password -U <user> <database>), run inside their container
        through the Docker Engine API (as the container's default user), each archived as C(dumps/<name>.pgdump).
      - The dump must be allowed without a password (the official postgres image trusts local connections).
        A non-zero exit of C(pg_dump), a missing container or an output that is not a custom-format dump fails the backup, and
        nothing is left behind.
      - The size of a dump is known only once it ran, so it is not counted by O(max_disk_percent); it is written beside the archive
        while it is archived, then removed.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the dump in the archive, without C(.pgdump). Letters, digits, V(.), V(_) and V(-) only.
        type: str
        required: true
      container:
        description:
          - Name or id of the Docker container that runs PostgreSQL (and has C(pg_dump)).
        type: str
        required: true
      database:
        description:
          - The database to dump.
        type: str
        required: true
      user:
        description:
          - The PostgreSQL role C(pg_dump) connects as.
        type: str
        default: postgres
  version:
    description:
      - Version of the app, written in the manifest and in the archive's name (characters outside C([A-Za-z0-9._-]) become V(_)).
      - The name says V(unknown) when not given.
    type: str
  deployment_id:
    description:
      - Identifier of the deployment that runs, written in the manifest.
    type: str
  compression:
    description:
      - V(zstd) is several times faster than gzip, on every core, and compresses as well or better.
    type: str
    choices: [zstd, gzip]
    default: zstd
  level:
    description:
      - Compression level. Defaults to V(3) for zstd (V(-7) to V(22)) and V(6) for gzip (V(0) to V(9)).
    type: int
  threads:
    description:
      - Threads that compress with zstd; V(0) uses every core. gzip uses one.
    type: int
    default: 0
  max_disk_percent:
    description:
      - Refuse when the sources' raw (uncompressed) size added to what the filesystem of O(dest) uses now would exceed this
        percentage of it. The raw size is the worst case, as if nothing compressed. With O(sqlite), the room for the largest
        database's temporary copy (made in O(dest) while it is archived) counts too.
    type: int
    default: 90
notes:
  - Files that change while they are read are archived as read (a file that shrinks is padded with zeros, as GNU tar does, so the
    archive stays whole) and listed in RV(changed_during_backup). Stop the app, or use O(sqlite) for its databases, for a
    consistent copy.
  - The archive, its manifest and its checksum are readable by their owner only (mode V(0600)).
  - The archive lists and extracts with GNU tar (C(tar --zstd -xf), C(tar -xzf)); M(clawd.ops.backup_extract) restores it safely.
seealso:
  - module: clawd.ops.backup_verify
  - module: clawd.ops.backup_extract
  - module: clawd.ops.backup_retention
'''

EXAMPLES = r'''
- name: Back up the app's volumes and its SQLite database
  clawd.ops.backup_archive:
    dest: /var/backups/claudebox
    service: claudebox
    version: 1.4.2
    sources:
      - name: workspace
        path: /var/lib/docker/volumes/claudebox-workspace/_data
      - name: config
        path: /var/lib/docker/volumes/claudebox-config/_data
    sqlite:
      - name: app
        path: /var/lib/docker/volumes/claudebox-data/_data/app.db
  register: backup

- name: Back up a volume and dump the PostgreSQL database of the app's db container
  clawd.ops.backup_archive:
    dest: /var/backups/claudebox
    service: claudebox
    sources:
      - name: workspace
        path: /var/lib/docker/volumes/claudebox-workspace/_data
    postgres:
      - name: app
        container: claudebox-db
        database: app
        user: postgres

- name: Show what was written
  ansible.builtin.debug:
    msg: "{{ backup.archive }}: {{ backup.size }} bytes, {{ backup.throughput_mb_s }} MB/s"

- name: Take a gzip copy of one folder, refusing above 80% disk use
  clawd.ops.backup_archive:
    dest: /var/backups/safety
    service: claudebox-safety
    sources:
      - name: workspace
        path: /srv/workspace
    compression: gzip
    max_disk_percent: 80
'''

RETURN = r'''
archive:
  description: Path of the archive written (in check mode, the one that would be written).
  returned: always
  type: str
  sample: /var/backups/claudebox/claudebox-20261123T175000Z-1.4.2.tar.zst
sha256:
  description: sha256 of the archive file, as in its C(.sha256) file.
  returned: success and not in check mode
  type: str
  sample: 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03
size:
  description: Bytes of the archive file.
  returned: success and not in check mode
  type: int
  sample: 10485760
members:
  description: Members of the archive, the manifest included.
  returned: always
  type: int
  sample: 1234
bytes:
  description: Bytes of data archived, before compression (in check mode, the raw size of the sources).
  returned: always
  type: int
  sample: 34567890
ratio:
  description: RV(bytes) divided by RV(size).
  returned: success and not in check mode
  type: float
  sample: 3.3
duration:
  description: Seconds the backup took, verification included.
  returned: success and not in check mode
  type: float
  sample: 4.2
throughput_mb_s:
  description: RV(bytes) in MB (10^6 bytes) per second of RV(duration).
  returned: success and not in check mode
  type: float
  sample: 410.5
manifest:
  description: Path of the manifest written beside the archive.
  returned: success and not in check mode
  type: str
  sample: /var/backups/claudebox/claudebox-20261123T175000Z-1.4.2.tar.zst.manifest.json
dumps:
  description: The database dumps archived (in check mode, those that would be), as listed in the manifest.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: File name of the dump under C(dumps/) in the archive.
      type: str
    type:
      description: V(sqlite) or V(postgres).
      type: str
    source:
      description: Path of the SQLite database.
      type: str
      returned: when RV(dumps[].type=sqlite)
    container:
      description: The container pg_dump ran in.
      type: str
      returned: when RV(dumps[].type=postgres)
    database:
      description: The PostgreSQL database dumped.
      type: str
      returned: when RV(dumps[].type=postgres)
  sample: [{"name": "app.pgdump", "type": "postgres", "container": "claudebox-db", "database": "app"}]
skipped:
  description: What was not archived and why (sockets, fifos, devices, symlinks that point outside their source).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path on the host.
      type: str
    member:
      description: The member name it would have had.
      type: str
    reason:
      description: Why it was skipped.
      type: str
  sample: [{"path": "/srv/workspace/app.sock", "member": "volumes/workspace/app.sock", "reason": "socket (only files, folders and symlinks are archived)"}]
changed_during_backup:
  description:
    - Files that changed, shrank or vanished while the backup read them, and what was not archived because a folder on its way
      was swapped (for a symlink or another folder) after it was listed; a swapped folder is never followed.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path on the host.
      type: str
    member:
      description: The member name.
      type: str
    reason:
      description: What happened and what was archived.
      type: str
  sample:
    - path: /srv/workspace/log.txt
      member: volumes/workspace/log.txt
      reason: "changed while being read (size 100 then 180): the first 100 bytes were archived"
cleaned_up:
  description:
    - Leftovers of killed runs removed from O(dest) before writing (in check mode, those that would be), and C(.partial) side
      files of an archive whose commit was finished (renamed to their final names).
  returned: always
  type: list
  elements: str
  sample: ["/var/backups/claudebox/claudebox-20261122T020000Z-1.4.1.tar.zst.partial"]
verification:
  description: The checks the reader ran on the new archive before it was renamed, all passed.
  returned: success and not in check mode
  type: list
  elements: dict
  contains:
    name:
      description: The check.
      type: str
    ok:
      description: Whether it passed.
      type: bool
    reason:
      description: What it found.
      type: str
  sample: [{"name": "readable", "ok": true, "reason": "1234 members read to the end (34.6 MB of data)"}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import HAS_ZSTANDARD, ZSTANDARD_IMPORT_ERROR
from ansible_collections.clawd.ops.plugins.module_utils._backup_writer import (
    DOCKER_IMPORT_ERROR,
    HAS_DOCKER,
    BackupError,
    create_archive,
)
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg

WARNED = 10  # files that changed during the backup, one warning each; the rest are counted
NAMED_PATH = dict(name=dict(type='str', required=True), path=dict(type='path', required=True))
POSTGRES = dict(name=dict(type='str', required=True), container=dict(type='str', required=True),
                database=dict(type='str', required=True), user=dict(type='str', default='postgres'))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type='path', required=True),
            service=dict(type='str', required=True),
            sources=dict(type='list', elements='dict', options=NAMED_PATH),
            sqlite=dict(type='list', elements='dict', options=NAMED_PATH, default=[]),
            postgres=dict(type='list', elements='dict', options=POSTGRES, default=[]),
            version=dict(type='str'),
            deployment_id=dict(type='str'),
            compression=dict(type='str', choices=['zstd', 'gzip'], default='zstd'),
            level=dict(type='int'),
            threads=dict(type='int', default=0),
            max_disk_percent=dict(type='int', default=90),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params['sources'] and not params['sqlite'] and not params['postgres']:
        module.fail_json(msg='sources is required unless sqlite or postgres is given')
    if params['postgres'] and not HAS_DOCKER:
        module.fail_json(msg=missing_lib_msg('docker', reason='for postgres'), exception=DOCKER_IMPORT_ERROR)
    if params['compression'] == 'zstd' and not HAS_ZSTANDARD:
        module.fail_json(msg=missing_lib_msg('zstandard', reason='for compression=zstd (or use compression=gzip)'),
                         exception=ZSTANDARD_IMPORT_ERROR)
    try:
        result = create_archive(
            params['dest'], params['service'], params['sources'] or [], version=params['version'] or None,
            deployment_id=params['deployment_id'] or None, sqlite=params['sqlite'], postgres=params['postgres'], compression=params['compression'],
            level=params['level'], threads=params['threads'], max_disk_percent=params['max_disk_percent'],
            check_mode=module.check_mode,
        )
    except BackupError as exc:
        module.fail_json(msg='Failed to back up %s to %s: %s' % (params['service'], params['dest'], exc))
    changed_files = result['changed_during_backup']
    for item in changed_files[:WARNED]:
        module.warn('%s %s' % (item['path'], item['reason']))
    if len(changed_files) > WARNED:
        module.warn('%d more files changed while being read: see changed_during_backup' % (len(changed_files) - WARNED))
    module.exit_json(changed=True, **result)


if __name__ == '__main__':
    main()

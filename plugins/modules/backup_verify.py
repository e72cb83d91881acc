#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: backup_verify
short_description: Verify a clawd.ops backup archive in one streaming pass
version_added: 0.1.0
description:
  - Checks a backup archive in the clawd.ops backup format (C(docs/backup-format.md) in the collection), or the newest one in a
    folder, and fails unless every check passes.
  - Reads the file once, in large chunks; the whole-file sha256 (and S3 ETag), the decompression and every member's sha256 are
    computed in that one pass, in up to three threads.
  - 'Checks: the archive exists; its age (O(max_age)) and size (O(min_size)); it is readable to the end (not truncated, not corrupt);
    no member is unsafe (absolute paths, C(..), symlinks leaving their source, hard links, devices, fifos, duplicate names, anything
    but a folder at C(volumes/<name>)); it holds something (O(allow_empty)); its manifest is present and matches every member''s
    type, size, sha256 and mode; O(expected_members) are there; the sha256 matches O(sha256) or the C(.sha256) file beside the
    archive; optionally a spot check against the live files.'
  - Never changes anything.
  - Reads hostile archives safely - negative sizes and special headers (pax, GNU long names) over 1 MiB are refused - and its
    memory stays bounded whatever the archive declares - a few read buffers, the zstd window (at most 128 MiB), the manifest
    (at most 256 MiB, twice that while it is read) and the member index (about 1 KiB plus the name per member, refused beyond
    1 GiB) - about 2 GiB at the very worst, some MiB for a usual archive.
  - Member names that are not UTF-8 are returned with those bytes escaped (for example C(\xff)).
author:
  - clawd.ops team (@clawd-ops)
requirements:
  - zstandard (Python library), for C(.tar.zst) archives
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description:
      - The archive, or a folder of archives whose newest archive matching O(pattern) is verified (newest by the time in its name,
        else by modification time; C(.partial), C(.sha256) and C(.manifest.json) files are never picked).
    type: path
    required: true
  pattern:
    description: Shell pattern of the archive names to pick from when O(path) is a folder.
    type: str
    default: '*.tar.*'
  max_age:
    description:
      - Fail when the archive is older than this, for example V(25h), V(90m), V(2d), V(1w), V(30s) or V(3600) (seconds), counted
        from the time in the archive's name, or from its modification time when the name has none.
    type: str
  min_size:
    description: Fail when the archive file is smaller than this many bytes.
    type: int
    default: 1
  sha256:
    description: The archive's expected sha256 (hex, or a C(sha256sum) line). When not given, C(<archive>.sha256) beside it is used.
    type: str
  require_checksum:
    description:
      - Fail when O(sha256) is not given and there is no C(<archive>.sha256) beside the archive (the writer writes it only once the
        archive verified, so a missing one marks an unfinished backup).
    type: bool
    default: true
  require_manifest:
    description:
      - Fail when the archive has no C(clawd-backup/manifest.json) member. V(false) suits plain tar archives; a manifest that is there
        is checked either way.
    type: bool
    default: true
  allow_empty:
    description:
      - Accept an archive that holds no file, folder or symlink beside its manifest and its C(./) folder. Off by default, an
        empty archive is no backup.
    type: bool
    default: false
  expected_members:
    description:
      - Member paths that must be in the archive, for example V(dumps/app.sqlite3); a path ending in V(/) asks for that folder with
        anything in it, for example V(volumes/workspace/).
    type: list
    elements: str
    default: []
  spot_check_count:
    description:
      - How many files of the sources named in O(spot_check_sources) to compare (sha256) with the live files, picked at random but
        always the same for the same archive (seeded by its sha256). V(0) skips the spot check.
    type: int
    default: 0
  spot_check_sources:
    description: 'Absolute path of the live folder of each source, by name, for example C({workspace: /var/lib/docker/volumes/app/_data}).'
    type: dict
    default: {}
  spot_check_fail:
    description:
      - Fail when a spot-checked file differs from the live one or is missing. Off by default, since live files change after a
        backup; the counts are reported either way.
    type: bool
    default: false
  s3_etag_part_size:
    description:
      - Also compute the ETag S3 gives this file uploaded in parts of this many bytes (the md5 for a single part, else the md5 of
        the parts' md5s followed by C(-<parts>)), to compare with an uploaded copy. V(0) skips it.
    type: int
    default: 0
notes:
  - A truncated file, a flipped byte, a wrong checksum, a manifest that does not match and each kind of unsafe member make the
    relevant check fail with a reason naming the member; a corrupt archive never raises a traceback.
seealso:
  - module: clawd.ops.backup_archive
  - module: clawd.ops.backup_extract
'''

EXAMPLES = r'''
- name: Verify last night's backup, no older than 25 hours
  clawd.ops.backup_verify:
    path: /var/backups/claudebox
    max_age: 25h
    expected_members: [volumes/workspace/, dumps/app.sqlite3]

- name: Verify a copy fetched back from S3, spot-check 20 files against the live volume
  clawd.ops.backup_verify:
    path: /tmp/restore/claudebox-20261123T175000Z-1.0.0.tar.zst
    sha256: "{{ backup_result.sha256 }}"
    s3_etag_part_size: 8388608
    spot_check_count: 20
    spot_check_sources:
      workspace: /var/lib/docker/volumes/claudebox-workspace/_data
'''

RETURN = r'''
archive:
  description: The archive verified.
  returned: always
  type: str
  sample: /var/backups/claudebox/claudebox-20261123T175000Z-1.0.0.tar.zst
ok: {description: Whether every check passed., returned: always, type: bool}
checks:
  description: Each check run (C(exists), C(age), C(size), C(readable), C(safety), C(content), C(manifest), C(expected_members), C(sha256),
    C(spot_check)), in order, with whether it passed and why; C(content) appears only when it fails.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "readable", "ok": true, "reason": "1204 members read to the end (812.4 MB of data)"}]
members: {description: 'Members read, the manifest included.', returned: always, type: int}
bytes: {description: Bytes of member data read (uncompressed)., returned: always, type: int}
archive_bytes: {description: Size of the archive file., returned: always, type: int}
duration: {description: Seconds the verification took., returned: always, type: float}
throughput_mb_s:
  description: MB (10^6 bytes) per second of the reading pass, of archive file (C(archive)) and of uncompressed data (C(uncompressed)).
  returned: always
  type: dict
  sample: {"archive": 301.2, "uncompressed": 811.7}
sha256: {description: sha256 of the archive file., returned: when the archive exists, type: str}
s3_etag:
  description: The ETag S3 gives the file uploaded in parts of O(s3_etag_part_size) bytes.
  returned: when O(s3_etag_part_size) is more than 0
  type: str
  sample: 6e4b7a3f0d6c1e2b9a8f7e6d5c4b3a29-37
compression: {description: 'The compression, by its magic bytes: V(zstd) or V(gzip).', returned: when the archive exists, type: str}
manifest:
  description: What the manifest says (C(format_version), C(created_at), C(host), C(service), C(app_version), C(deployment_id),
    C(compression), C(totals), and the C(sources) and C(dumps) names).
  returned: when the archive has a manifest
  type: dict
unsafe_members:
  description: The unsafe members, each with its C(name) and the C(problem).
  returned: always
  type: list
  elements: dict
created:
  description: The time in the archive's name (UTC, ISO 8601).
  returned: when the archive's name has one
  type: str
age_seconds: {description: Age of the archive in seconds., returned: when O(max_age) is given, type: float}
spot_check:
  description: The spot check's counts (C(sampled), C(same), C(different), C(missing)) and the C(different_paths) and C(missing_paths).
  returned: when O(spot_check_count) is more than 0
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import MissingLibraryError, parse_age
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import BackupReadError, failure_summary, find_newest, verify_archive
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            pattern=dict(type='str', default='*.tar.*'),
            max_age=dict(type='str'),
            min_size=dict(type='int', default=1),
            sha256=dict(type='str'),
            require_checksum=dict(type='bool', default=True),
            require_manifest=dict(type='bool', default=True),
            allow_empty=dict(type='bool', default=False),
            expected_members=dict(type='list', elements='str', default=[]),
            spot_check_count=dict(type='int', default=0),
            spot_check_sources=dict(type='dict', default={}),
            spot_check_fail=dict(type='bool', default=False),
            s3_etag_part_size=dict(type='int', default=0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        parse_age(params['max_age'] or 0)
    except ValueError as exc:
        module.fail_json(msg='Invalid max_age: %s' % exc)
    for name in ('min_size', 'spot_check_count', 's3_etag_part_size'):
        if params[name] < 0:
            module.fail_json(msg='%s must be 0 or more, not %d' % (name, params[name]))

    reason = None
    try:
        archive = find_newest(params['path'], params['pattern']) if os.path.isdir(params['path']) else params['path']
    except BackupReadError as exc:  # the folder cannot be listed, an archive in it cannot be read
        archive, reason = None, str(exc)
    if archive is None:
        reason = reason or 'no archive matching %s in %s' % (params['pattern'], params['path'])
        module.fail_json(msg='Backup verification failed: %s' % reason, changed=False, archive=None, ok=False,
                         checks=[{'name': 'exists', 'ok': False, 'reason': reason}])

    spot_check = None
    if params['spot_check_count']:
        sources = dict((str(name), str(folder)) for name, folder in params['spot_check_sources'].items())
        spot_check = {'count': params['spot_check_count'], 'sources': sources, 'fail_on_difference': params['spot_check_fail']}
    try:
        report = verify_archive(archive, expected_sha256=params['sha256'], require_checksum=params['require_checksum'],
                                require_manifest=params['require_manifest'], expected_members=params['expected_members'],
                                spot_check=spot_check, s3_etag_part_size=params['s3_etag_part_size'],
                                max_age=params['max_age'] or None, min_size=params['min_size'], allow_empty=params['allow_empty'])
    except MissingLibraryError as exc:
        module.fail_json(msg=missing_lib_msg(exc.library), exception=exc.import_error)

    result = dict(report, changed=False)
    if not report['ok']:
        module.fail_json(msg='Backup %s failed verification: %s' % (archive, failure_summary(report)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()

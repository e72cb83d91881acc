#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: run_ledger_info
short_description: Read records from the run ledger, newest first
version_added: 0.1.0
description:
  - Reads the run ledger written by M(clawd.ops.run_ledger) and the C(clawd.ops.ledger) callback,
    and returns the records that match every filter given, newest first.
  - A full rollback uses it to find the backup that the ledger pairs with a version.
  - A ledger that does not exist yet has no records; lines that are not JSON objects are skipped and counted.
  - With O(s3_url), the records of the S3 copy (see M(clawd.ops.run_ledger)) are read too and merged with the
    file's, each record once, so that a fresh controller (an AWX job's container) finds what earlier runs recorded.
  - 'Meant to run on the controller, with C(delegate_to: localhost).'
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description:
      - The ledger file.
      - Defaults to the E(CLAWD_LEDGER_PATH) environment variable, else C(~/.local/state/clawd-ops/ledger.jsonl).
    type: path
  kind:
    description: Only records of this kind (V(deploy), V(rollback), V(playbook)...).
    type: str
  host:
    description: Only records of this host (a C(playbook) record matches every host in its stats).
    type: str
  app:
    description: Only records of this app.
    type: str
  result:
    description: Only records with this result (V(ok), V(failed), V(rolled_back)...).
    type: str
  commit:
    description: Only records of this commit.
    type: str
  version:
    description: Only records of this version.
    type: str
  run_id:
    description: Only records of this run.
    type: str
  s3_url:
    description:
      - Also read the S3 copy of the ledger, V(s3://bucket) or V(s3://bucket/prefix).
      - Defaults to the E(CLAWD_LEDGER_S3_URL) environment variable; unset, only the file is read.
    type: str
  since:
    description: Only records written at or after this time (ISO 8601, or seconds since the epoch).
    type: str
  last:
    description: At most this many records (the newest ones).
    type: int
seealso:
  - module: clawd.ops.run_ledger
'''

EXAMPLES = r'''
- name: Find the backup taken before version 1.4.1 was deployed on this host
  clawd.ops.run_ledger_info:
    kind: deploy
    host: "{{ inventory_hostname }}"
    version: 1.4.1
    result: ok
    last: 1
  delegate_to: localhost
  register: rollback_ledger

- name: Use its backup
  ansible.builtin.set_fact:
    rollback_backup_id: "{{ rollback_ledger.records[0].backup_id }}"
  when: rollback_ledger.records | length > 0
'''

RETURN = r'''
records:
  description: The matching records, newest first.
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "deploy", "host": "vps1", "version": "1.4.1", "backup_id": "vps1-20260301T101500Z",
            "result": "ok", "ledger_version": 1, "recorded_at": "2026-03-01T10:20:00Z"}]
skipped_lines:
  description: How many lines of the ledger could not be read as records.
  returned: always
  type: int
  sample: 0
path:
  description: The ledger file.
  returned: always
  type: str
  sample: /home/ops/.local/state/clawd-ops/ledger.jsonl
s3_url:
  description: The S3 copy that was read too, or null.
  returned: always
  type: str
  sample: s3://ops-ledger/clawd
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._ledger import S3_ENV, FILTERS, LedgerError, read_records, read_s3_records, resolve_path


def merge(*lists):
    """Records of several copies of the ledger, each once, newest first (a stable sort keeps each copy's order)."""
    seen, merged = set(), []
    for record in (record for records in lists for record in records):
        identity = json.dumps(record, sort_keys=True, default=str)
        if identity not in seen:
            seen.add(identity)
            merged.append(record)
    merged.sort(key=lambda r: str(r.get('recorded_at') or ''), reverse=True)
    return merged


def main():
    spec = dict((name, dict(type='str')) for name in FILTERS)
    spec.update(path=dict(type='path'), since=dict(type='str'), last=dict(type='int'), s3_url=dict(type='str'))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    if params['last'] is not None and params['last'] < 0:
        module.fail_json(msg='last must be 0 or more, got %d' % params['last'])
    path = resolve_path(params['path'])
    filters = dict((name, params[name]) for name in FILTERS if params[name] is not None)
    s3_url = params['s3_url'] if params['s3_url'] is not None else os.environ.get(S3_ENV) or None
    try:
        records, skipped = read_records(path, last=params['last'], since=params['since'], **filters)
        if s3_url:
            more, more_skipped = read_s3_records(s3_url, last=params['last'], since=params['since'], **filters)
            records, skipped = merge(records, more), skipped + more_skipped
            if params['last'] is not None:
                records = records[:max(params['last'], 0)]
    except ValueError as exc:
        module.fail_json(msg='Failed to read the ledger %s: since: %s' % (path, exc))
    except LedgerError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, records=records, skipped_lines=skipped, path=path, s3_url=s3_url)


if __name__ == '__main__':
    main()

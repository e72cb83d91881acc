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
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._ledger import FILTERS, LedgerError, read_records, resolve_path


def main():
    spec = dict((name, dict(type='str')) for name in FILTERS)
    spec.update(path=dict(type='path'), since=dict(type='str'), last=dict(type='int'))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    if params['last'] is not None and params['last'] < 0:
        module.fail_json(msg='last must be 0 or more, got %d' % params['last'])
    path = resolve_path(params['path'])
    filters = dict((name, params[name]) for name in FILTERS if params[name] is not None)
    try:
        records, skipped = read_records(path, last=params['last'], since=params['since'], **filters)
    except ValueError as exc:
        module.fail_json(msg='Failed to read the ledger %s: since: %s' % (path, exc))
    except LedgerError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, records=records, skipped_lines=skipped, path=path)


if __name__ == '__main__':
    main()

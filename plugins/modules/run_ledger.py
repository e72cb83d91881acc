#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: run_ledger
short_description: Append one record to the run ledger (a JSONL file on the controller)
version_added: 0.1.0
description:
  - Appends one JSON object as one line to the run ledger, under an exclusive lock and fsynced,
    so that later runs (a full rollback, the weekly summary) can find what was deployed, where, with which backup.
  - The file is created with mode 0600, its folder with mode 0700.
  - Every record is redacted before it is written, in this order. The value of every key that looks secret
    (its name contains C(token), C(secret), C(password), C(key), C(auth) and the like, at any depth) becomes C(***),
    and each value of O(secrets) is replaced by C(***) wherever it appears.
  - The module adds C(ledger_version) (V(1)), C(recorded_at) (UTC, ISO 8601) and, when given, C(run_id).
  - 'Meant to run on the controller, with C(delegate_to: localhost) (and C(run_once) when one record per run is wanted).'
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; the module returns the record it would write.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description:
      - The ledger file.
      - Defaults to the E(CLAWD_LEDGER_PATH) environment variable of the process running the module,
        else C(~/.local/state/clawd-ops/ledger.jsonl).
    type: path
  record:
    description:
      - What to record, for example C(kind) (V(deploy), V(rollback), V(provision)...), C(host), C(app), C(version),
        C(commit), C(deployment_uuid), C(backup_id), C(gates), C(result), C(reason), C(duration), C(who).
      - C(ledger_version), C(recorded_at) and C(run_id) are set by the module.
    type: dict
    required: true
  run_id:
    description:
      - Identifier of the run this record belongs to, stored as C(run_id).
    type: str
  secrets:
    description:
      - Secret values to mask wherever they appear in the record.
    type: list
    elements: str
    default: []
notes:
  - Task arguments are not secret-proof by themselves; pass anything sensitive in O(secrets) too.
seealso:
  - module: clawd.ops.run_ledger_info
'''

EXAMPLES = r'''
- name: Record the deploy in the run ledger
  clawd.ops.run_ledger:
    run_id: "{{ deploy_run_id }}"
    record:
      kind: deploy
      host: "{{ inventory_hostname }}"
      app: claudebox
      version: 1.4.2
      commit: 3f2c1ab
      deployment_uuid: "{{ deploy_result.deployment_uuid }}"
      backup_id: "{{ backup_result.archive_name }}"
      result: ok
      duration: 312
    secrets:
      - "{{ vault_coolify_token }}"
  delegate_to: localhost
'''

RETURN = r'''
path:
  description: The ledger file.
  returned: always
  type: str
  sample: /home/ops/.local/state/clawd-ops/ledger.jsonl
record:
  description: The record as written (or, in check mode, as it would be written), redacted.
  returned: always
  type: dict
  sample: {"kind": "deploy", "host": "vps1", "version": "1.4.2", "result": "ok", "ledger_version": 1,
           "recorded_at": "2026-03-02T10:15:00Z", "run_id": "0b6f..."}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._ledger import LedgerError, append_record, build_record, resolve_path


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path'),
            record=dict(type='dict', required=True),
            run_id=dict(type='str'),
            secrets=dict(type='list', elements='str', default=[], no_log=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = resolve_path(params['path'])
    record = build_record(params['record'], run_id=params['run_id'], secrets=params['secrets'])
    if not module.check_mode:
        try:
            append_record(path, record)
        except LedgerError as exc:
            module.fail_json(msg='Failed to record the run: %s' % exc, path=path)
    module.exit_json(changed=True, record=record, path=path)


if __name__ == '__main__':
    main()

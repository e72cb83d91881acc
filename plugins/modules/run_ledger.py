#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: run_ledger
short_description: Append one record to the run ledger (a JSONL file on the controller, and one S3 object per record)
version_added: 0.1.0
description:
  - Appends one JSON object as one line to the run ledger, under an exclusive lock and fsynced,
    so that later runs (a full rollback, the weekly summary) can find what was deployed, where, with which backup.
  - The file is created with mode 0600, its folder with mode 0700.
  - Every record is redacted before it is written, in this order. The value of every key that looks secret
    (its name contains C(token), C(secret), C(password), C(key), C(auth) and the like, at any depth) becomes C(***),
    and each value of O(secrets) is replaced by C(***) wherever it appears.
  - The module adds C(ledger_version) (V(1)), C(recorded_at) (UTC, ISO 8601) and, when given, C(run_id).
  - When the C(clawd.ops.ledger) callback runs, it exports who ran the playbook (AWX's job id, job template,
    launching user and schedule from the C(awx_*)/C(tower_*) variables AWX sets, else the controller user)
    in E(CLAWD_RUN_BY); the module adds it to a record that has no C(run_by) of its own.
  - With O(s3_url), the record is also written as one S3 object (boto3; credentials and endpoint from the
    usual C(AWS_*) environment variables, for example E(AWS_ENDPOINT_URL)), so that it outlives the controller.
    A failed S3 copy is a warning (the file copy is written); RV(s3_error) says why.
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
  s3_url:
    description:
      - Where the durable copy goes, V(s3://bucket) or V(s3://bucket/prefix); each record is one object under
        C(<prefix>/<yyyy>/<mm>/<dd>/).
      - Defaults to the E(CLAWD_LEDGER_S3_URL) environment variable of the process running the module; unset, no S3 copy.
    type: str
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

- name: Record it on the controller and as an S3 object that outlives the controller
  clawd.ops.run_ledger:
    s3_url: s3://ops-ledger/clawd
    record:
      kind: rotation
      host: "{{ inventory_hostname }}"
      result: ok
  delegate_to: localhost
  environment:
    AWS_ENDPOINT_URL: https://s3.eu-central-1.amazonaws.com
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
s3_key:
  description: The key of the record's S3 object; null without O(s3_url), in check mode, or when the copy failed.
  returned: always
  type: str
  sample: clawd/2026/03/02/20260302T101500Z-deploy-vps1-5d41402abc4b.json
s3_error:
  description: Why the S3 copy failed.
  returned: when the S3 copy failed
  type: str
  sample: "Failed to write the ledger record to s3://ops-ledger/clawd/...: NoSuchBucket: The specified bucket does not exist"
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._ledger import (
    S3_ENV,
    LedgerError,
    append_record,
    build_record,
    put_s3_record,
    resolve_path,
    run_by_from_environment,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path'),
            record=dict(type='dict', required=True),
            run_id=dict(type='str'),
            secrets=dict(type='list', elements='str', default=[], no_log=True),
            s3_url=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = resolve_path(params['path'])
    s3_url = params['s3_url'] if params['s3_url'] is not None else os.environ.get(S3_ENV) or None
    record = dict(params['record'])
    by = run_by_from_environment()
    if by is not None and 'run_by' not in record:
        record['run_by'] = by
    record = build_record(record, run_id=params['run_id'], secrets=params['secrets'])
    result = dict(changed=True, record=record, path=path, s3_key=None)
    if not module.check_mode:
        try:
            append_record(path, record)
        except LedgerError as exc:
            module.fail_json(msg='Failed to record the run: %s' % exc, path=path)
        if s3_url:
            try:
                result['s3_key'] = put_s3_record(s3_url, record)
            except LedgerError as exc:
                result['s3_error'] = str(exc)
                module.warn('The run is recorded in %s but not in S3: %s' % (path, exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()

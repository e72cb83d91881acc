#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: incident_record
short_description: Open, follow and close an incident whose record lives on the host
version_added: 0.1.0
description:
  - Keeps the record of an incident in a folder on the target host (O(dir)), so that it outlives the controller that opened it
    and the deploy gates of any controller can read it.
  - O(action=open) hands out the id C(INC-YYYYMMDD-NNN) under an exclusive lock on the folder (the NNN counter is per day and
    never repeats, even when records are removed) and writes the record. When an incident of the same O(runbook) is still open
    on the host, it is returned instead (RV(resumed)) and nothing is written.
  - O(action=step) adds an entry to the incident's timeline (what ran, why, its result).
  - O(action=evidence) saves the evidence bundle, one JSON file per item of O(evidence) with every secret redacted (values of
    O(secrets) and keys that look secret), and a C(SHA256SUMS) list of the files.
  - O(action=close) marks the incident C(resolved) (its duration and time to verified recovery are computed) or C(escalated)
    (it stays open, so deploys stay refused, until a later run verifies recovery), and writes the post-incident note as
    Markdown next to the JSON record.
  - O(action=info) reads the incidents still open (C(open) or C(escalated)) and changes nothing.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; O(action=open) returns the id it would hand out (or the open incident it would resume).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  action:
    description: What to do.
    type: str
    choices: [open, step, evidence, close, info]
    required: true
  dir:
    description: The incident folder on the host, created (mode 0700) when missing.
    type: path
    default: /var/lib/clawd/incidents
  id:
    description: The incident, for O(action=step), O(action=evidence) and O(action=close).
    type: str
  runbook:
    description: The runbook that handles the incident (for example V(bot_not_responding)); required with O(action=open).
    type: str
  severity:
    description: Severity from the classification; C(P0) all hosts down or data loss, C(P1) bot or web down, C(P2) slow or intermittent.
    type: str
    choices: [P0, P1, P2, P3]
    default: P1
  host:
    description: The host's name as the inventory knows it.
    type: str
  summary:
    description: One line saying what was detected.
    type: str
    default: ''
  detected_at:
    description: When the fault was first seen (ISO 8601 UTC, C(YYYY-MM-DDTHH:MM:SSZ)); defaults to the opening time.
    type: str
  run_id:
    description: The run that acts on the incident, recorded with it.
    type: str
  who:
    description: Who opened the incident (free text, for example V(user@controller)).
    type: str
  step:
    description: The timeline entry of O(action=step).
    type: dict
    suboptions:
      step:
        description: Name of the step, for example V(restart_container).
        type: str
        required: true
      why:
        description: Why it runs (what the diagnosis pointed to).
        type: str
      result:
        description: Its outcome.
        type: str
        choices: [ok, failed, skipped, planned, info]
        default: info
      detail:
        description: What it did or found.
        type: str
  evidence:
    description: For O(action=evidence), item name (a plain file name without extension) to the data saved as that item.
    type: dict
  secrets:
    description: Values masked wherever they appear in the evidence and the record.
    type: list
    elements: str
    default: []
  status:
    description: For O(action=close), V(resolved) (recovery verified) or V(escalated).
    type: str
    choices: [resolved, escalated]
    default: resolved
  root_cause:
    description: For O(action=close), the root cause as diagnosed.
    type: str
  resolution:
    description: For O(action=close), the step that recovered the service, or what was tried.
    type: str
  escalation:
    description: For O(action=close) with O(status=escalated), C(level) and C(reason) (and anything else worth keeping).
    type: dict
'''

EXAMPLES = r'''
- name: Open the incident (or resume the one still open for this runbook)
  clawd.ops.incident_record:
    action: open
    runbook: bot_not_responding
    severity: P1
    host: "{{ inventory_hostname }}"
    summary: the bot container is exited
  become: true
  register: incident

- name: Record a step in the timeline
  clawd.ops.incident_record:
    action: step
    id: "{{ incident.id }}"
    step: {step: restart_container, why: the bot container is exited, result: ok}
  become: true

- name: Close the incident once recovery is verified
  clawd.ops.incident_record:
    action: close
    id: "{{ incident.id }}"
    status: resolved
    root_cause: the bot container stopped
    resolution: restarted the bot container
  become: true
'''

RETURN = r'''
id:
  description: The incident's id (the one it would get, in check mode).
  returned: with O(action) other than V(info)
  type: str
  sample: INC-20261207-001
resumed:
  description: Whether O(action=open) found an incident of the same runbook still open and returned it.
  returned: with O(action=open)
  type: bool
  sample: false
record:
  description: The incident's record after the task (what it would be, in check mode).
  returned: with O(action) other than V(info)
  type: dict
  sample: {"id": "INC-20261207-001", "severity": "P1", "status": "open", "runbook": "bot_not_responding", "timeline": []}
markdown:
  description: The post-incident note, with O(action=close).
  returned: with O(action=close)
  type: str
  sample: "# Post-incident report: INC-20261207-001"
paths:
  description: The files of the incident on the host (C(record), C(markdown), C(evidence_dir), C(evidence) files).
  returned: with O(action) other than V(info)
  type: dict
  sample: {"record": "/var/lib/clawd/incidents/INC-20261207-001.json"}
open:
  description: The incidents still open (C(open) or C(escalated)) on the host, oldest first.
  returned: with O(action=info)
  type: list
  elements: dict
  sample: [{"id": "INC-20261207-001", "status": "open", "severity": "P1", "runbook": "web_down"}]
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils import _incident


def _paths(store, incident_id, record=None):
    paths = {'record': store.path(incident_id), 'markdown': store.path(incident_id, '.md'), 'evidence_dir': store.evidence_dir(incident_id)}
    if record and record.get('evidence'):
        paths['evidence'] = [os.path.join(record['evidence']['dir'], name) for name in sorted(record['evidence']['files'])]
        paths['evidence'].append(os.path.join(record['evidence']['dir'], 'SHA256SUMS'))
    return paths


def do_open(module, store, p, at):
    if not p['runbook']:
        module.fail_json(msg='runbook is required to open an incident')
    detected = _incident.parse_iso(p['detected_at']) if p['detected_at'] else at
    with store.locked() if not module.check_mode else _nothing():
        current = store.open_incidents(p['runbook']) if os.path.isdir(store.folder) else []
        if current:
            record = current[-1]
            return dict(changed=False, resumed=True, id=record['id'], record=record, paths=_paths(store, record['id'], record))
        incident_id = store.peek(at) if module.check_mode else store.allocate(at)
        record = _incident.new_record(incident_id, p['runbook'], p['host'], p['severity'], p['summary'], at,
                                      detected_at=detected, run_id=p['run_id'], who=p['who'])
        record = _incident.redact(record, p['secrets'])
        if not module.check_mode:
            store.save(record)
    return dict(changed=True, resumed=False, id=incident_id, record=record, paths=_paths(store, incident_id))


class _nothing(object):
    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


def _existing(module, store, p):
    if not p['id']:
        module.fail_json(msg='id is required with action=%s' % p['action'])
    if module.check_mode and not os.path.exists(store.path(p['id'])):
        return None  # opened in this check run: nothing was written
    return store.read(p['id'])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type='str', choices=['open', 'step', 'evidence', 'close', 'info'], required=True),
            dir=dict(type='path', default='/var/lib/clawd/incidents'),
            id=dict(type='str'),
            runbook=dict(type='str'),
            severity=dict(type='str', choices=list(_incident.SEVERITIES), default='P1'),
            host=dict(type='str'),
            summary=dict(type='str', default=''),
            detected_at=dict(type='str'),
            run_id=dict(type='str'),
            who=dict(type='str'),
            step=dict(type='dict', options=dict(
                step=dict(type='str', required=True),
                why=dict(type='str'),
                result=dict(type='str', choices=list(_incident.STEP_RESULTS), default='info'),
                detail=dict(type='str'),
            )),
            evidence=dict(type='dict'),
            secrets=dict(type='list', elements='str', default=[], no_log=True),
            status=dict(type='str', choices=['resolved', 'escalated'], default='resolved'),
            root_cause=dict(type='str'),
            resolution=dict(type='str'),
            escalation=dict(type='dict'),
        ),
        required_if=[('action', 'step', ['id', 'step']), ('action', 'evidence', ['id', 'evidence']), ('action', 'close', ['id'])],
        supports_check_mode=True,
    )
    p = module.params
    store = _incident.IncidentStore(p['dir'])
    at = _incident.now()
    try:
        if p['action'] == 'info':
            module.exit_json(changed=False, open=store.open_incidents())
        if p['action'] == 'open':
            module.exit_json(**do_open(module, store, p, at))
        with store.locked() if not module.check_mode else _nothing():
            record = _existing(module, store, p)
            if record is None:
                module.exit_json(changed=True, id=p['id'], record={}, paths=_paths(store, p['id']),
                                 msg='Incident %s is not written in check mode' % p['id'])
            result = dict(changed=True, id=p['id'])
            if p['action'] == 'step':
                record = _incident.add_step(record, p['step'], at)
            elif p['action'] == 'evidence':
                if module.check_mode:
                    record = dict(record, evidence={'dir': store.evidence_dir(p['id']), 'files': {}})
                else:
                    record = store.save_evidence(record, p['evidence'], p['secrets'])
            else:
                if record.get('status') == 'resolved':
                    module.exit_json(changed=False, id=p['id'], record=record, markdown=_incident.render_markdown(record),
                                     paths=_paths(store, p['id'], record))
                record = _incident.close_record(record, p['status'], at, p['root_cause'], p['resolution'], p['escalation'])
                result['markdown'] = _incident.render_markdown(_incident.redact(record, p['secrets']))
            record = _incident.redact(record, p['secrets'])
            if not module.check_mode:
                store.save(record)
            result.update(record=record, paths=_paths(store, p['id'], record))
            module.exit_json(**result)
    except (_incident.IncidentError, IOError, OSError) as exc:
        module.fail_json(msg='Failed to %s incident %s in %s: %s' % (p['action'], p['id'] or p['runbook'] or '', store.folder, exc))


if __name__ == '__main__':
    main()

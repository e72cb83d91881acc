#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: checks_report
short_description: Write the reports of a daily checks run (JSON, Markdown, HTML) with trends and weekly summaries
version_added: 0.1.0
description:
  - Takes the check results of every host of a run (each with a status V(ok), V(warning), V(critical),
    V(unknown) or V(maintenance), the measured value and the reason) and writes one report folder
    C(<dest>/<kind>-<UTC stamp>/) with C(run.json) (stable schema, for machines), C(run.md) (for a ticket
    or a chat), C(run.html) (one self-contained page for a person), and per host C(hosts/<host>.json) and
    C(hosts/<host>.md). Then replaces C(<dest>/latest-<kind>.json) with the run's JSON.
  - Trends come from the earlier run reports of the same kind in O(dest).
  - Hosts in an open maintenance window (see M(clawd.ops.maintenance_window)) are listed apart, with until when and why,
    and their results held back by the window are not under what needs attention.
  - With O(kind=weekly), adds a summary of the daily reports of the last 7 days in O(dest) per host
    (uptime, requests, security events, issues).
  - Runs on the controller; use it with C(delegate_to=localhost) and C(run_once=true).
  - Never fails because a check is critical; it returns RV(worst) and RV(failing_hosts) so the play can
    fail after the reports are written.
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is written; the module reads earlier reports and returns the paths and Markdown it would write.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  dest:
    description:
      - The reports folder on the controller. Created when missing.
    type: path
    required: true
  kind:
    description:
      - V(daily) for the morning check or the end-of-day report, V(quick) for the afternoon quick check,
        V(weekly) for the weekly summary, V(monthly) for the monthly maintenance (M(clawd.ops.host_audit)'s results).
      - Each kind has its own run folders, trends and C(latest-<kind>.json).
    type: str
    choices: [daily, quick, weekly, monthly]
    default: daily
  results:
    description:
      - The check results by host, each a list of dicts with the keys C(check), C(status), C(value), C(unit),
        C(warning), C(critical), C(reason), C(measured_at) and optionally C(details).
      - A host with an empty list is reported as V(unknown).
      - With O(kind=weekly) it may be empty; the summary then comes from the daily reports.
    type: dict
    default: {}
  formats:
    description:
      - What to write. C(run.json) and C(latest-<kind>.json) are always written, since trends and weekly
        summaries read them; V(json) adds the per-host JSON files.
    type: list
    elements: str
    choices: [json, md, html]
    default: [json, md, html]
  history:
    description:
      - How many earlier run reports of the same kind to read for trends. V(0) shows no trends.
    type: int
    default: 14
  s3_url:
    description:
      - Where the trend history also lives, V(s3://bucket) or V(s3://bucket/prefix), so that it outlives the controller
        (an AWX job's container is gone when the job ends). Each run's C(run.json) is stored as
        C(<prefix>/<kind>-<stamp>/run.json) there, and earlier runs are read from there as well as from O(dest), each once.
      - Defaults to the E(CLAWD_REPORTS_S3_URL) environment variable of the process running the module; unset, only O(dest).
      - boto3 reads the credentials and the endpoint from the usual C(AWS_*) environment variables. S3 trouble is a warning.
    type: str
  title:
    description:
      - Title of the reports. Defaults to C(Daily checks), C(Quick check), C(Weekly summary) or C(Monthly maintenance).
    type: str
  run_id:
    description:
      - An identifier of the run written into the reports (for example the AWX job id). Defaults to the run folder's name.
    type: str
notes:
  - Files are written under temporary names and renamed, and the run folder is built under a hidden name and
    renamed when complete, so a reader never sees half a report.
  - The results should come already redacted; Telegram bot tokens in URLs are masked once more.
  - Every value that comes from the hosts or from earlier reports is escaped in C(run.html) and made inert in the
    Markdown (no link, image, HTML or table break can come from it); a status read back from an earlier report that is
    not V(ok), V(warning), V(critical) or V(unknown) counts as V(unknown).
seealso:
  - module: clawd.ops.app_health
'''

EXAMPLES = r'''
- name: Write the reports of the daily checks on the controller
  clawd.ops.checks_report:
    dest: /var/lib/clawd-ops/reports
    kind: daily
    results: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'daily_checks_results'))) }}"
    run_id: "{{ tower_job_id | default(omit) }}"
  delegate_to: localhost
  run_once: true
  register: daily_checks_report

- name: Fail the run when a check is critical, now that the reports are written
  ansible.builtin.fail:
    msg: "Critical checks on {{ daily_checks_report.failing_hosts | join(', ') }}"
  when: daily_checks_report.worst == 'critical'
  run_once: true

- name: Write the weekly summary from the daily reports of the last 7 days
  clawd.ops.checks_report:
    dest: /var/lib/clawd-ops/reports
    kind: weekly
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
paths:
  description: Where the reports are (or would be, in check mode) written; a format not written is V(null).
  returned: always
  type: dict
  sample:
    dir: /var/lib/clawd-ops/reports/daily-20261201T070000Z
    run_json: /var/lib/clawd-ops/reports/daily-20261201T070000Z/run.json
    run_md: /var/lib/clawd-ops/reports/daily-20261201T070000Z/run.md
    run_html: /var/lib/clawd-ops/reports/daily-20261201T070000Z/run.html
    latest: /var/lib/clawd-ops/reports/latest-daily.json
    hosts: {"web1": {"json": "/var/lib/clawd-ops/reports/daily-20261201T070000Z/hosts/web1.json",
                     "md": "/var/lib/clawd-ops/reports/daily-20261201T070000Z/hosts/web1.md"}}
files:
  description: The files of the run folder, relative to its path (C(dir) in RV(paths)).
  returned: always
  type: list
  elements: str
  sample: [hosts/web1.json, hosts/web1.md, run.html, run.json, run.md]
summary:
  description:
    - Counts of the run. V(ok), V(warning), V(critical), V(unknown) and V(maintenance) count check results; C(host_status)
      is each host's worst status; C(maintenance_hosts) are the hosts in an open maintenance window with nothing else wrong.
  returned: always
  type: dict
  sample: {"hosts": 2, "checks": 34, "ok": 31, "warning": 2, "critical": 1, "unknown": 0, "maintenance": 0, "worst": "critical",
           "failing_hosts": ["web2"], "warning_hosts": ["web1"], "maintenance_hosts": [], "host_status": {"web1": "warning", "web2": "critical"}}
worst:
  description: The worst status of the run (critical > warning > unknown > maintenance > ok).
  returned: always
  type: str
  sample: critical
failing_hosts:
  description: Hosts with at least one critical check.
  returned: always
  type: list
  elements: str
  sample: [web2]
markdown:
  description: The run's Markdown (summary, hosts, what needs attention, trend), for a notification.
  returned: always
  type: str
  sample: "# Daily checks: CRITICAL ..."
run_id:
  description: The run identifier written into the reports.
  returned: always
  type: str
  sample: daily-20261201T070000Z
trend_runs:
  description: How many earlier reports the trends cover.
  returned: always
  type: int
  sample: 14
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._checks import ChecksError
from ansible_collections.clawd.ops.plugins.module_utils._report import FORMATS, KINDS, ReportError
from ansible_collections.clawd.ops.plugins.module_utils._report_files import make_run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type='path', required=True),
            kind=dict(type='str', choices=list(KINDS), default='daily'),
            results=dict(type='dict', default={}),
            formats=dict(type='list', elements='str', choices=list(FORMATS), default=list(FORMATS)),
            history=dict(type='int', default=14),
            title=dict(type='str'),
            run_id=dict(type='str'),
            s3_url=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['history'] < 0:
        module.fail_json(msg='history must be 0 or more, not %d' % params['history'])
    try:
        run = make_run(params['dest'], params['kind'], params['results'], formats=params['formats'], history=params['history'],
                       title=params['title'], run_id=params['run_id'], check_mode=module.check_mode,
                       s3_url=params['s3_url'] if params['s3_url'] is not None else os.environ.get('CLAWD_REPORTS_S3_URL') or None)
    except (ChecksError, ReportError, IOError, OSError) as exc:
        module.fail_json(msg='Failed to write %s checks report in %s: %s' % (params['kind'], params['dest'], exc))
    for problem in run['problems']:
        module.warn('Left out of the trends or of S3: %s' % problem)
    report = run['report']
    module.exit_json(changed=True, paths=run['paths'], files=run['files'], summary=report['summary'],
                     worst=report['summary']['worst'], failing_hosts=report['summary']['failing_hosts'],
                     markdown=run['markdown'], run_id=report['run_id'], trend_runs=report['trends']['runs'])


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: check_results
short_description: Judge what the daily checks measured on every host into check results
version_added: 0.1.0
description:
  - 'Takes, per host, the registered results of the tasks that measured it (M(clawd.ops.host_checks), M(clawd.ops.app_health),
    M(clawd.ops.backup_verify), M(clawd.ops.telegram_webhook_info), M(community.crypto.get_certificate), M(clawd.ops.telegram_bot_probe)),
    or the same results from one M(clawd.ops.host_checks) call with its O(clawd.ops.host_checks#module:backup) and one
    M(clawd.ops.fleet_probes) run for all hosts, and turns them into check results of one shared format, each with a status V(ok),
    V(warning), V(critical) or V(unknown), the measured value and the reason.'
  - The filter P(clawd.ops.check_results#filter) judges the same, with the same result, without a module run.
  - 'Judged here: C(health) (the app''s health and its sub-checks), C(latency) (milliseconds of the health answer), C(backup) (the newest
    archive verified, its age in hours), C(webhook) (updates waiting; a delivery error in the last C(webhook_error_hours) hours is a
    warning; no webhook is critical), C(tls_certificate) (days left; lower is worse), C(bot_round_trip) (seconds the bot took to answer
    /status; no answer, or an answer other than HTTP 200, is critical), C(api_usage) (share of a budget; V(unknown) unless both a budget
    and a usage are given).'
  - A measurement missing (its task skipped or failed without a result) gives an V(unknown) result with the reason; nothing is dropped.
  - 'A host in an open maintenance window (its marker, written by M(clawd.ops.maintenance_window), read by M(clawd.ops.host_checks) or
    M(ansible.builtin.slurp) and given as C(maintenance)) gets a C(maintenance) result first (until when, why, who) and every result
    that is not V(ok) turned into V(maintenance) (the measured status in C(details.status_measured)): neither a warning nor critical,
    and no problem. A marker past its C(until), or one that cannot be read, is ignored and gives a C(maintenance) result V(warning).'
  - Pure computation on the controller; run it once for the whole play (C(run_once) and C(delegate_to) V(localhost)).
author:
  - clawd.ops team (@clawd-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module computes only; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  hosts:
    description:
      - Host name to its measurements, a dict with any of the keys C(host_checks), C(health), C(backup), C(webhook), C(certificate),
        C(bot) (registered results), C(api_usage) and C(api_budget) (numbers), and optionally C(checks) and C(thresholds) for this host.
      - C(maintenance) is the host's maintenance marker as M(ansible.builtin.slurp) registers it (RV(clawd.ops.host_checks#module:maintenance)
        has that shape; a failed read of a missing file means no marker).
      - C(host_checks_expected) lists the host checks to report as V(unknown) when C(host_checks) did not run.
    type: dict
    required: true
  checks:
    description: The judged checks to report, for hosts that do not name their own C(checks).
    type: list
    elements: str
    choices: [health, latency, backup, webhook, tls_certificate, bot_round_trip, api_usage]
    default: [health, latency, backup, webhook, tls_certificate, bot_round_trip, api_usage]
  thresholds:
    description:
      - Check name to C(warning) and C(critical) levels, for hosts that do not give their own, over the defaults C(latency) 500/2000 ms,
        C(backup) 25/49 h, C(webhook) 10/100 updates waiting, C(tls_certificate) 21/7 days, C(bot_round_trip) 2/5 s, C(api_usage) 80/100 %,
        and C(webhook_error_hours) 24.
    type: dict
    default: {}
seealso:
  - module: clawd.ops.host_checks
  - module: clawd.ops.checks_report
'''

EXAMPLES = r'''
- name: Judge every host's measurements at once
  clawd.ops.check_results:
    hosts: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'daily_checks_measured'))) }}"
    thresholds:
      latency: {warning: 500, critical: 2000}
  delegate_to: localhost
  run_once: true
  register: daily_checks_results
'''

RETURN = r'''
results_by_host:
  description: Host name to its list of check results (the host checks first, then the judged ones).
  returned: always
  type: dict
  sample: {"lab1": [{"check": "latency", "status": "ok", "value": 12, "unit": "ms", "warning": 500, "critical": 2000,
           "reason": "the health endpoint answered in 12 ms (warning at 500 ms, critical at 2000 ms)", "measured_at": "2026-12-01T07:00:00Z"}]}
summary:
  description: Counts over all hosts (C(hosts), C(checks), C(ok), C(warning), C(critical), C(unknown)), the C(worst) status, C(failing_hosts).
  returned: always
  type: dict
problems:
  description: 'One line per result that is neither ok nor maintenance, C(<host>: <check> <status>: <reason>), worst first.'
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._checks import ChecksError
from ansible_collections.clawd.ops.plugins.module_utils._check_results import JUDGED_CHECKS, judge_hosts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hosts=dict(type='dict', required=True),
            checks=dict(type='list', elements='str', choices=list(JUDGED_CHECKS), default=list(JUDGED_CHECKS)),
            thresholds=dict(type='dict', default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        judged = judge_hosts(p['hosts'], p['checks'], p['thresholds'])
    except (ChecksError, ValueError, TypeError, KeyError) as exc:
        module.fail_json(msg='Failed to judge the measurements: %s' % exc)
    module.exit_json(changed=False, **judged)


if __name__ == '__main__':
    main()

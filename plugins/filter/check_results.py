# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: check_results
short_description: Judge what the daily checks measured on every host, as the check_results module does, without running a module
version_added: 0.1.0
description:
  - The same judgement as M(clawd.ops.check_results), with the same input and the same result (C(results_by_host), C(summary),
    C(problems)), computed in the controller's own process, so that judging a fleet costs no module run.
  - See M(clawd.ops.check_results) for the measurements of each host and the checks judged.
author:
  - clawd.ops team (@clawd-ops)
options:
  _input:
    description:
      - Host name to its measurements (see the O(clawd.ops.check_results#module:hosts) option of M(clawd.ops.check_results)).
    type: dict
    required: true
  checks:
    description: The judged checks to report, for hosts that do not name their own C(checks).
    type: list
    elements: str
    default: [health, latency, backup, webhook, tls_certificate, bot_round_trip, api_usage]
  thresholds:
    description: Check name to C(warning) and C(critical) levels, for hosts that do not give their own.
    type: dict
    default: {}
seealso:
  - module: clawd.ops.check_results
'''

EXAMPLES = r'''
- name: Judge every host's measurements at once, on the controller
  ansible.builtin.set_fact:
    checks_judged: "{{ measured_by_host | clawd.ops.check_results }}"
  run_once: true
'''

RETURN = r'''
_value:
  description: What M(clawd.ops.check_results) returns, without C(changed).
  type: dict
  contains:
    results_by_host:
      description: Host name to its list of check results (the host checks first, then the judged ones).
      type: dict
    summary:
      description: Counts over all hosts (C(hosts), C(checks), C(ok), C(warning), C(critical), C(unknown)), the C(worst) status, C(failing_hosts).
      type: dict
    problems:
      description: 'One line per result that is neither ok nor maintenance, C(<host>: <check> <status>: <reason>), worst first.'
      type: list
      elements: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.clawd.ops.plugins.module_utils._checks import ChecksError
from ansible_collections.clawd.ops.plugins.module_utils._check_results import JUDGED_CHECKS, judge_hosts


def check_results(hosts, checks=None, thresholds=None):
    """results_by_host, summary and problems of the measurements of every host (as the check_results module returns them)."""
    checks = list(JUDGED_CHECKS) if checks is None else checks
    if not isinstance(checks, (list, tuple)) or any(c not in JUDGED_CHECKS for c in checks):
        raise AnsibleFilterError('Failed to judge the measurements: checks must be a list of %s' % ', '.join(JUDGED_CHECKS))
    if thresholds is not None and not isinstance(thresholds, dict):
        raise AnsibleFilterError('Failed to judge the measurements: thresholds must be a dict')
    try:
        return judge_hosts(dict(hosts) if isinstance(hosts, dict) else hosts, list(checks), dict(thresholds or {}))
    except (ChecksError, ValueError, TypeError, KeyError) as exc:
        raise AnsibleFilterError('Failed to judge the measurements: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'check_results': check_results}

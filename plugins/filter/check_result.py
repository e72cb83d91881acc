# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: check_result
short_description: Build one check result, with every key, from a value and its thresholds or from a status and a reason
version_added: 0.1.0
description:
  - Builds the check result dict the daily checks and the weekly maintenance report, with every key present
    (C(check), C(status), C(value), C(unit), C(warning), C(critical), C(reason), C(measured_at), and C(details) when given).
  - The input is the measured value (V(none) when there is none). The status is decided in one of three ways.
  - With O(cases), the first case whose C(when) holds gives the status and the reason (and the value, if the case has one).
    A case without C(when) always holds, so the last case can be the default.
  - With O(status), that status and O(reason) are taken as they are.
  - Otherwise the value is judged against O(warning) and O(critical) (see O(higher_is_worse)); a value that is not
    a number is V(unknown), with the reason saying so.
author:
  - clawd.ops team (@clawd-ops)
positional: check
options:
  _input:
    description:
      - The measured value of the check, or V(none) when there is none.
      - With O(cases), a case's C(value) replaces it.
    type: raw
    required: true
  check:
    description: Name of the check, for example V(disk) or V(backup_retention).
    type: str
    required: true
  status:
    description:
      - The status, decided by the caller. Cannot be used with O(cases).
    type: str
    choices: [ok, warning, critical, unknown]
  reason:
    description:
      - With O(status), the reason as it is.
      - When the value is judged against thresholds, a C(str.format) template for the reason; it gets C(check), C(status),
        C(value), C(unit), C(warning), C(critical) (the numbers as text), C(value_text) (value and unit), C(thresholds)
        (the thresholds as a phrase) and C(comparison). Without it the reason is C({check} is {value_text} ({thresholds})).
      - Ignored with O(cases), whose cases carry their own reasons.
    type: str
  cases:
    description:
      - Cases tried in order; the first whose C(when) holds decides the result. Cannot be used with O(status).
      - Each case is a dict with C(status) (V(ok), V(warning), V(critical) or V(unknown)), C(reason) (text),
        optionally C(when) (a boolean; a case without it always holds) and optionally C(value) (the result's value
        for this case instead of the input).
      - When no case holds, the filter fails naming the check.
    type: list
    elements: dict
  warning:
    description:
      - Warning threshold. Judged against when neither O(status) nor O(cases) is given; recorded in the result in every case.
    type: raw
  critical:
    description:
      - Critical threshold. Judged against when neither O(status) nor O(cases) is given; recorded in the result in every case.
    type: raw
  higher_is_worse:
    description:
      - When judging, whether a value at or above a threshold reaches it (disk use, latency).
      - With V(false), a value at or below a threshold reaches it (days until a certificate expires).
    type: bool
    default: true
  unit:
    description: Unit of the value and the thresholds, for example V(%), V(B), V(h).
    type: str
    default: ''
  measured_at:
    description: When the value was measured, ISO 8601 in UTC. Defaults to now.
    type: str
  details:
    description: Anything more the result carries, as C(details). Left out of the result when empty.
    type: dict
'''

EXAMPLES = r'''
- name: Judge the age of the newest backup against 26 and 50 hours
  ansible.builtin.set_fact:
    backup_check: >-
      {{ backup_age_hours | clawd.ops.check_result('backup', warning=26, critical=50, unit='h',
         reason='the newest backup is {value_text} old ({thresholds})') }}

- name: A status decided elsewhere, with its reason
  ansible.builtin.set_fact:
    reboot_check: "{{ none | clawd.ops.check_result('reboot', status='ok', reason='no reboot required') }}"

- name: The first case that holds decides; the last one, without when, is the default
  ansible.builtin.set_fact:
    retention_check: "{{ freed_bytes | clawd.ops.check_result('backup_retention', unit='B', cases=retention_cases) }}"
  vars:
    retention_cases:
      - when: "{{ not retention_enabled | bool }}"
        status: unknown
        reason: "backup retention not applied: retention_enabled is false"
      - when: "{{ retention.skipped | default(false) }}"
        status: warning
        reason: "retention skipped: the last backup run failed, so no archive is deleted"
      - status: ok
        reason: "deleted {{ retention.deleted | length }} file(s)"
'''

RETURN = r'''
_value:
  description: The check result.
  type: dict
  contains:
    check:
      description: Name of the check.
      type: str
      sample: backup
    status:
      description: One of V(ok), V(warning), V(critical), V(unknown).
      type: str
      sample: warning
    value:
      description: The value, a number when judged against thresholds; V(none) when there is none.
      type: raw
      sample: 30
    unit:
      description: Unit of the value and the thresholds.
      type: str
      sample: h
    warning:
      description: The warning threshold, or V(none).
      type: raw
      sample: 26
    critical:
      description: The critical threshold, or V(none).
      type: raw
      sample: 50
    reason:
      description: One sentence saying why the status is what it is.
      type: str
      sample: the newest backup is 30 h old (warning at 26 h, critical at 50 h)
    measured_at:
      description: When the value was measured, ISO 8601 in UTC.
      type: str
      sample: '2026-12-01T07:00:00Z'
    details:
      description: Anything more the result carries; only present when O(details) is not empty.
      type: dict
      returned: when O(details) is given and not empty
      sample: {packages: [openssl]}
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.clawd.ops.plugins.module_utils._checks import ChecksError, judge, make_result

CASE_KEYS = ('when', 'status', 'reason', 'value')


def _fail(check, message):
    raise AnsibleFilterError('check_result: check %s: %s' % (check, message))


def _holds(check, index, case):
    if 'when' not in case:
        return True
    try:
        return boolean(case['when'], strict=True)
    except TypeError:
        _fail(check, 'when of case %d is not a boolean: %r' % (index, to_text(case['when'])))


def pick_case(check, cases):
    """The first case whose when holds, as (status, reason, has_value, value); fails naming the check when none does."""
    if isinstance(cases, (dict, str, bytes)) or not hasattr(cases, '__iter__'):
        _fail(check, 'cases must be a list of dicts')
    for index, case in enumerate(cases, 1):
        if not isinstance(case, dict):
            _fail(check, 'case %d is not a dict' % index)
        unknown_keys = sorted(set(case) - set(CASE_KEYS), key=to_text)
        if unknown_keys:
            _fail(check, 'case %d has unknown key(s) %s (use %s)'
                  % (index, ', '.join(to_text(key) for key in unknown_keys), ', '.join(CASE_KEYS)))
        for key in ('status', 'reason'):
            if key not in case:
                _fail(check, 'case %d has no %s' % (index, key))
        if _holds(check, index, case):
            return case['status'], case['reason'], 'value' in case, case.get('value')
    _fail(check, 'none of its %d case(s) holds (end with a case without when as the default)' % len(list(cases)))


def check_result(value, check, status=None, reason=None, cases=None, warning=None, critical=None, higher_is_worse=True,
                 unit='', measured_at=None, details=None):
    """One check result with every key, from a value and thresholds, a status and a reason, or the first case that holds."""
    if not isinstance(check, str) or not check.strip():
        raise AnsibleFilterError('check_result: the check name must be a non-empty string, not %r' % (check,))
    check = to_text(check)
    if details is not None and not isinstance(details, dict):
        _fail(check, 'details must be a dict, not %s' % type(details).__name__)
    if measured_at is not None and not isinstance(measured_at, str):
        _fail(check, 'measured_at must be an ISO 8601 string, not %s' % type(measured_at).__name__)
    unit = to_text(unit or '')
    try:
        if cases is not None:
            if status is not None:
                _fail(check, 'give either status or cases, not both')
            status, reason, has_value, case_value = pick_case(check, cases)
            if has_value:
                value = case_value
        if status is not None:
            if reason is None:
                _fail(check, 'a status needs a reason')
            return make_result(check, to_text(status), to_text(reason), value, unit, warning, critical, measured_at,
                               dict(details) if details else None)
        try:
            higher_is_worse = boolean(higher_is_worse, strict=True)
        except TypeError:
            _fail(check, 'higher_is_worse must be a boolean, not %r' % (higher_is_worse,))
        return judge(check, value, warning, critical, unit, higher_is_worse,
                     to_text(reason) if reason is not None else None, measured_at, dict(details) if details else None)
    except ChecksError as exc:
        raise AnsibleFilterError('check_result: %s' % to_text(exc))


class FilterModule(object):
    """clawd.ops check result filter."""

    def filters(self):
        return {'check_result': check_result}

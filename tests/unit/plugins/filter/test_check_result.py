# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check_result filter: judged values, given statuses, the first case that holds, and bad input named."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clawd.ops.plugins.filter.check_result import FilterModule, check_result
from ansible_collections.clawd.ops.plugins.module_utils import _checks

MOMENT = '2026-12-06T07:00:00Z'
KEYS = ['check', 'critical', 'measured_at', 'reason', 'status', 'unit', 'value', 'warning']


def test_the_filter_is_registered():
    assert FilterModule().filters()['check_result'] is check_result


@pytest.mark.parametrize('hours, status', [(3, 'ok'), (26, 'warning'), (49.5, 'warning'), (50, 'critical'), ('60', 'critical')])
def test_a_value_is_judged_against_its_thresholds(hours, status):
    result = check_result(hours, 'backup', warning=26, critical=50, unit='h', measured_at=MOMENT)
    assert sorted(result) == KEYS
    assert result['status'] == status
    assert result['warning'] == 26 and result['critical'] == 50 and result['unit'] == 'h'
    assert result['reason'].startswith('backup is ') and result['reason'].endswith('(warning at 26 h, critical at 50 h)')


def test_a_judged_reason_is_a_template():
    result = check_result(30, 'backup', warning=26, critical=50, unit='h', measured_at=MOMENT,
                          reason='the newest backup is {value_text} old ({thresholds}): {status}')
    assert result['reason'] == 'the newest backup is 30 h old (warning at 26 h, critical at 50 h): warning'


def test_lower_is_worse():
    assert check_result(5, 'tls_certificate', warning=21, critical=7, higher_is_worse=False)['status'] == 'critical'
    assert check_result(5, 'tls_certificate', warning=21, critical=7, higher_is_worse='no')['status'] == 'critical'


def test_no_value_is_unknown_and_says_so():
    result = check_result(None, 'backup', warning=26, critical=50, unit='h', measured_at=MOMENT)
    assert result['status'] == 'unknown' and result['value'] is None
    assert result['reason'] == 'backup could not be measured (no value; warning at 26 h, critical at 50 h)'


def test_a_given_status_and_reason_are_kept_as_they_are():
    result = check_result(None, 'reboot', status='warning', reason='reboot required, not allowed', measured_at=MOMENT,
                          details={'required': True, 'allowed': False, 'container': False})
    assert result == {
        'check': 'reboot', 'status': 'warning', 'value': None, 'unit': '', 'warning': None, 'critical': None,
        'reason': 'reboot required, not allowed', 'measured_at': MOMENT,
        'details': {'required': True, 'allowed': False, 'container': False},
    }


def test_empty_details_are_left_out():
    assert 'details' not in check_result(3, 'old_logs', status='ok', reason='fine', details={})


def test_measured_at_defaults_to_now(monkeypatch):
    monkeypatch.setattr(_checks, 'utc_stamp', lambda moment=None: '2026-12-06T21:00:00Z')
    assert check_result(1, 'x', status='ok', reason='fine')['measured_at'] == '2026-12-06T21:00:00Z'
    assert check_result(1, 'x', warning=2)['measured_at'] == '2026-12-06T21:00:00Z'


def test_utc_stamp_of_a_fixed_moment():
    moment = datetime.datetime(2026, 12, 6, 22, 30, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert _checks.utc_stamp(moment) == '2026-12-06T21:30:05Z'


CASES = [
    {'when': False, 'status': 'unknown', 'reason': 'not checked: disabled'},
    {'when': 'false', 'status': 'warning', 'reason': 'not applied: locked'},
    {'when': True, 'status': 'critical', 'reason': 'failed: disk full', 'value': None},
    {'status': 'ok', 'reason': 'deleted 3 file(s)'},
]


def test_the_first_case_that_holds_decides():
    result = check_result(1024, 'backup_retention', unit='B', cases=CASES, measured_at=MOMENT)
    assert result['status'] == 'critical' and result['reason'] == 'failed: disk full'
    assert result['value'] is None  # the case's value replaces the input
    assert result['unit'] == 'B' and result['measured_at'] == MOMENT


def test_a_case_without_when_is_the_default_and_keeps_the_input_value():
    result = check_result(1024, 'backup_retention', unit='B', cases=[CASES[0], CASES[3]], measured_at=MOMENT)
    assert result['status'] == 'ok' and result['reason'] == 'deleted 3 file(s)' and result['value'] == 1024


def test_thresholds_are_recorded_but_not_judged_with_a_status():
    result = check_result(99, 'disk', status='ok', reason='checked elsewhere', warning=70, critical=80)
    assert result['status'] == 'ok' and result['warning'] == 70 and result['critical'] == 80


@pytest.mark.parametrize('kwargs, message', [
    (dict(cases=[{'when': False, 'status': 'ok', 'reason': 'x'}]),
     'check_result: check reboot: none of its 1 case(s) holds (end with a case without when as the default)'),
    (dict(cases=[{'when': 'maybe', 'status': 'ok', 'reason': 'x'}]), "check reboot: when of case 1 is not a boolean: 'maybe'"),
    (dict(cases=[{'status': 'ok'}]), 'check reboot: case 1 has no reason'),
    (dict(cases=[{'reason': 'x'}]), 'check reboot: case 1 has no status'),
    (dict(cases=[{'status': 'ok', 'reason': 'x', 'why': 'y'}]), 'check reboot: case 1 has unknown key(s) why'),
    (dict(cases=['ok']), 'check reboot: case 1 is not a dict'),
    (dict(cases={'status': 'ok'}), 'check reboot: cases must be a list of dicts'),
    (dict(cases=[{'status': 'ok', 'reason': 'x'}], status='ok', reason='x'), 'check reboot: give either status or cases, not both'),
    (dict(status='fine', reason='x'), 'status of check reboot must be one of ok, warning, critical, unknown'),
    (dict(cases=[{'status': 'fine', 'reason': 'x'}]), 'status of check reboot must be one of ok, warning, critical, unknown'),
    (dict(status='ok'), 'check reboot: a status needs a reason'),
    (dict(warning='high'), "warning threshold of check reboot is not a number: 'high'"),
    (dict(warning=80, critical=70), 'warning threshold of check reboot (80) is above its critical one (70)'),
    (dict(warning=1, reason='{nope}'), 'reason_fmt of check reboot cannot be filled'),
    (dict(warning=1, higher_is_worse='sometimes'), "check reboot: higher_is_worse must be a boolean, not 'sometimes'"),
    (dict(status='ok', reason='x', details=['a']), 'check reboot: details must be a dict, not list'),
    (dict(status='ok', reason='x', measured_at=3), 'check reboot: measured_at must be an ISO 8601 string, not int'),
])
def test_bad_input_is_named_without_a_traceback(kwargs, message):
    with pytest.raises(AnsibleFilterError) as error:
        check_result(1, 'reboot', **kwargs)
    assert message in str(error.value)


@pytest.mark.parametrize('check', ['', '  ', None, 3])
def test_the_check_needs_a_name(check):
    with pytest.raises(AnsibleFilterError, match='the check name must be a non-empty string'):
        check_result(1, check, status='ok', reason='x')

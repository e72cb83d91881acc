# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Thresholds, statuses and summaries of the daily checks (module_utils/_checks), with plain values."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
from types import SimpleNamespace

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _checks
from ansible_collections.clawd.ops.plugins.module_utils._checks import ChecksError, judge, summarise, worst


@pytest.mark.parametrize('value, expected', [
    (0, 'ok'), (69.99, 'ok'), (70, 'warning'), (70.0, 'warning'), (79.9, 'warning'), (80, 'critical'), (100, 'critical'),
    ('80', 'critical'), (' 41.2 ', 'ok'),
])
def test_higher_is_worse_boundaries(value, expected):
    result = judge('disk', value, 70, 80, unit='%')
    assert result['status'] == expected
    assert result['warning'] == 70 and result['critical'] == 80


@pytest.mark.parametrize('days, expected', [
    (90, 'ok'), (22, 'ok'), (21, 'warning'), (8, 'warning'), (7, 'critical'), (0, 'critical'), (-3, 'critical'),
])
def test_lower_is_worse_certificate_days(days, expected):
    result = judge('tls_certificate', days, 21, 7, unit='days', higher_is_worse=False)
    assert result['status'] == expected
    assert result['value'] == days


@pytest.mark.parametrize('check, warning, critical, value, expected', [
    ('error_rate', 1, 5, 0.99, 'ok'), ('error_rate', 1, 5, 1, 'warning'), ('error_rate', 1, 5, 5, 'critical'),
    ('latency', 500, 2000, 499, 'ok'), ('latency', 500, 2000, 500, 'warning'), ('latency', 500, 2000, 2000, 'critical'),
    ('cpu', 70, 90, 90, 'critical'), ('memory', 80, 95, 94.9, 'warning'),
])
def test_issue_thresholds(check, warning, critical, value, expected):
    assert judge(check, value, warning, critical)['status'] == expected


def test_result_has_every_key_and_a_reason_with_value_and_thresholds():
    moment = '2026-12-01T07:00:00Z'
    result = judge('disk', 41.2, 70, 80, unit='%', measured_at=moment, details={'path': '/var/lib/docker'})
    assert result == {
        'check': 'disk', 'status': 'ok', 'value': 41.2, 'unit': '%', 'warning': 70, 'critical': 80,
        'reason': 'disk is 41.2 % (warning at 70 %, critical at 80 %)', 'measured_at': moment,
        'details': {'path': '/var/lib/docker'},
    }


def test_reason_format_gets_named_fields():
    result = judge('disk', 82.456, 70, 80, unit='%', reason_fmt='{value_text} used on /var/lib/docker ({thresholds}): {status}')
    assert result['reason'] == '82.46 % used on /var/lib/docker (warning at 70 %, critical at 80 %): critical'


def test_reason_format_with_an_unknown_field_is_an_error():
    with pytest.raises(ChecksError, match='reason_fmt of check disk'):
        judge('disk', 1, 70, 80, reason_fmt='{nope}')


class _FrozenDateTime(datetime.datetime):
    """datetime.datetime whose now() is a fixed moment given in another zone (UTC+2), to see the stamp turned to UTC."""
    MOMENT = datetime.datetime(2026, 12, 1, 9, 0, 7, 654321, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))

    @classmethod
    def now(cls, tz=None):
        return cls.MOMENT.astimezone(tz) if tz else cls.MOMENT.replace(tzinfo=None)


def test_measured_at_defaults_to_now_in_utc(monkeypatch):
    monkeypatch.setattr(_checks, 'datetime', SimpleNamespace(datetime=_FrozenDateTime, timezone=datetime.timezone,
                                                             timedelta=datetime.timedelta))
    assert judge('disk', 1, 70, 80)['measured_at'] == '2026-12-01T07:00:07Z'
    assert _checks.utc_stamp() == '2026-12-01T07:00:07Z'


@pytest.mark.parametrize('value', [None, 'n/a', float('nan'), float('inf'), True])
def test_a_value_that_is_not_a_number_is_unknown_with_a_reason(value):
    result = judge('latency', value, 500, 2000, unit='ms')
    assert result['status'] == 'unknown'
    assert result['value'] is None
    assert 'could not be measured' in result['reason']
    assert 'warning at 500 ms' in result['reason']


def test_unknown_helper_keeps_the_reason():
    result = _checks.unknown('bot_round_trip', 'no answer to /status within 5 s', unit='s', warning=2, critical=5)
    assert result['status'] == 'unknown'
    assert result['reason'] == 'no answer to /status within 5 s'
    assert (result['warning'], result['critical'], result['unit']) == (2, 5, 's')


def test_a_missing_threshold_is_not_checked():
    assert judge('api_usage', 99, None, 100)['status'] == 'ok'
    assert judge('api_usage', 100, None, 100)['status'] == 'critical'
    assert judge('api_usage', 1000, 90, None)['status'] == 'warning'
    assert judge('api_usage', 1000, None, None)['reason'] == 'api_usage is 1000 (no thresholds)'


@pytest.mark.parametrize('warning, critical, higher, match', [
    (80, 70, True, 'above its critical'), (7, 21, False, 'below its critical'), ('lots', 80, True, 'warning threshold'),
    (70, 'x', True, 'critical threshold'),
])
def test_thresholds_in_the_wrong_order_or_not_numbers_are_errors(warning, critical, higher, match):
    with pytest.raises(ChecksError, match=match):
        judge('x', 1, warning, critical, higher_is_worse=higher)


def test_equal_thresholds_are_allowed_and_critical_wins():
    assert judge('disk', 80, 80, 80)['status'] == 'critical'


def test_make_result_refuses_an_unknown_status():
    with pytest.raises(ChecksError, match='containers'):
        _checks.make_result('containers', 'fine', 'all up')


@pytest.mark.parametrize('statuses, expected', [
    (['ok', 'ok'], 'ok'),
    (['ok', 'unknown'], 'unknown'),
    (['unknown', 'warning', 'ok'], 'warning'),
    (['warning', 'critical', 'unknown'], 'critical'),
    (['critical', 'ok'], 'critical'),
    ([], 'unknown'),
])
def test_worst_orders_critical_warning_unknown_ok(statuses, expected):
    assert worst(statuses) == expected
    assert worst([{'status': status} for status in statuses]) == expected


def test_worst_refuses_a_status_it_does_not_know():
    with pytest.raises(ChecksError):
        worst(['ok', 'bad'])


def test_summarise_counts_results_and_hosts():
    results = {
        'web1': [judge('disk', 10, 70, 80), judge('cpu', 10, 70, 90)],
        'web2': [judge('disk', 75, 70, 80), _checks.unknown('dns', 'no answer')],
        'web3': [judge('disk', 95, 70, 80), judge('cpu', 72, 70, 90), judge('memory', 10, 80, 95)],
        'web4': [],
    }
    summary = summarise(results)
    assert summary == {
        'hosts': 4, 'checks': 7, 'ok': 3, 'warning': 2, 'critical': 1, 'unknown': 1, 'maintenance': 0, 'worst': 'critical',
        'failing_hosts': ['web3'], 'warning_hosts': ['web2'], 'maintenance_hosts': [],
        'host_status': {'web1': 'ok', 'web2': 'warning', 'web3': 'critical', 'web4': 'unknown'},
    }


def test_summarise_all_ok_and_empty():
    assert summarise({'a': [judge('disk', 1, 70, 80)]})['worst'] == 'ok'
    empty = summarise({})
    assert empty['hosts'] == 0 and empty['worst'] == 'unknown' and empty['failing_hosts'] == []


def test_normalise_results_fills_missing_keys_and_names_a_bad_result():
    clean = _checks.normalise_results({'web1': [{'check': 'dns', 'status': 'critical'}], 'web2': None})
    assert clean['web1'][0]['reason'] == 'no reason given'
    assert clean['web1'][0]['unit'] == '' and clean['web1'][0]['value'] is None
    assert clean['web2'] == []
    with pytest.raises(ChecksError, match='result 2 of host web1'):
        _checks.normalise_results({'web1': [{'check': 'dns', 'status': 'ok'}, {'check': 'disk', 'status': 'red'}]})
    with pytest.raises(ChecksError, match='no check name'):
        _checks.normalise_results({'web1': [{'status': 'ok'}]})
    with pytest.raises(ChecksError, match='not a list'):
        _checks.normalise_results({'web1': 'ok'})


@pytest.mark.parametrize('value, text', [(41.2, '41.2'), (80, '80'), (80.0, '80'), (0.125, '0.12'), (1234.5678, '1234.57'), ('x', 'x')])
def test_format_number(value, text):
    assert _checks.format_number(value) == text

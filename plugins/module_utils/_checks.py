# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Check results of the daily checks: judging a value against thresholds, the worst status, summaries.

Pure functions, no I/O. One check result is a dict::

    {"check": "disk", "status": "ok|warning|critical|unknown|maintenance", "value": 41.2, "unit": "%",
     "warning": 70, "critical": 80, "reason": "...", "measured_at": "2026-12-01T07:00:00Z",
     "details": {...}}

``unknown`` means the value could not be measured; it always carries the reason and is never dropped.
``maintenance`` is what a check that is not ok becomes on a host in an open maintenance window (see
_maintenance): it is neither a warning nor critical, and worse only than ok.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import math

OK = 'ok'
WARNING = 'warning'
CRITICAL = 'critical'
UNKNOWN = 'unknown'
MAINTENANCE = 'maintenance'
# In the order a person reads them, best first (maintenance last: it was added last, and tables keep their columns).
STATUSES = (OK, WARNING, CRITICAL, UNKNOWN, MAINTENANCE)
# How bad each status is: critical > warning > unknown > maintenance > ok.
SEVERITY = {OK: 0, MAINTENANCE: 1, UNKNOWN: 2, WARNING: 3, CRITICAL: 4}

CHECK_NAMES = ('containers', 'container_restarts', 'disk', 'memory', 'cpu', 'logs_errors', 'logs_unauthorized',
               'logs_rate_limit', 'backup', 'bot_round_trip', 'webhook', 'health', 'tls_certificate', 'dns',
               'error_rate', 'latency', 'api_usage')
RESULT_KEYS = ('check', 'status', 'value', 'unit', 'warning', 'critical', 'reason', 'measured_at', 'details')


class ChecksError(ValueError):
    """A check result or a threshold that cannot be used; the message says which and why."""


def utc_stamp(moment=None):
    """ISO 8601 in UTC with a Z, to the second."""
    moment = moment or datetime.datetime.now(datetime.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def to_number(value):
    """A float or int from a number or a numeric string; None when it is none of these (bools are not numbers)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = value
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    if isinstance(number, float):
        if math.isnan(number) or math.isinf(number):
            return None
        if number.is_integer() and not isinstance(value, float):
            number = int(number)
    return number


def format_number(value):
    """A number as a person reads it: 41.2, 80, 0.35, 1234 (at most two decimals, no trailing zeros)."""
    number = to_number(value)
    if number is None:
        return str(value)
    if isinstance(number, int):
        return str(number)
    text = ('%.2f' % number).rstrip('0').rstrip('.')
    return '0' if text == '-0' else text


def with_unit(value, unit=''):
    """'41.2 %', '412 ms', '3' - the value and its unit as the reasons print them."""
    text = format_number(value)
    return '%s %s' % (text, unit) if unit else text


def _thresholds_text(warning, critical, unit):
    parts = []
    if warning is not None:
        parts.append('warning at %s' % with_unit(warning, unit))
    if critical is not None:
        parts.append('critical at %s' % with_unit(critical, unit))
    return ', '.join(parts) if parts else 'no thresholds'


def make_result(check, status, reason, value=None, unit='', warning=None, critical=None, measured_at=None, details=None):
    """A check result with every key present, for checks that decide their status themselves."""
    if status not in SEVERITY:
        raise ChecksError('status of check %s must be one of %s, not %r' % (check, ', '.join(STATUSES), status))
    result = {
        'check': str(check),
        'status': status,
        'value': value,
        'unit': unit or '',
        'warning': warning,
        'critical': critical,
        'reason': str(reason),
        'measured_at': measured_at or utc_stamp(),
    }
    if details:
        result['details'] = details
    return result


def unknown(check, reason, unit='', warning=None, critical=None, measured_at=None, details=None):
    """An ``unknown`` result: the value could not be measured, and here is why."""
    return make_result(check, UNKNOWN, reason, None, unit, warning, critical, measured_at, details)


def judge(check, value, warning, critical, unit='', higher_is_worse=True, reason_fmt=None, measured_at=None, details=None):
    """Judge a measured value against a warning and a critical threshold.

    With ``higher_is_worse`` (disk %, latency), a value at or above ``critical`` is critical, at or above
    ``warning`` is warning. Otherwise (days until a certificate expires) a value at or below ``critical`` is
    critical, at or below ``warning`` is warning. A threshold of None is not checked. A value that is not a
    number (None, NaN, text) is ``unknown``.

    ``reason_fmt`` is a str.format template; it gets check, status, value, unit, warning, critical (the
    numbers as text), value_text (value and unit), thresholds (the thresholds as a phrase) and comparison.
    """
    warning_n = to_number(warning)
    critical_n = to_number(critical)
    if warning is not None and warning_n is None:
        raise ChecksError('warning threshold of check %s is not a number: %r' % (check, warning))
    if critical is not None and critical_n is None:
        raise ChecksError('critical threshold of check %s is not a number: %r' % (check, critical))
    if warning_n is not None and critical_n is not None:
        if higher_is_worse and warning_n > critical_n:
            raise ChecksError('warning threshold of check %s (%s) is above its critical one (%s)'
                              % (check, format_number(warning_n), format_number(critical_n)))
        if not higher_is_worse and warning_n < critical_n:
            raise ChecksError('warning threshold of check %s (%s) is below its critical one (%s), yet lower is worse'
                              % (check, format_number(warning_n), format_number(critical_n)))
    thresholds = _thresholds_text(warning_n, critical_n, unit)
    number = to_number(value)
    if number is None:
        what = 'no value' if value is None else 'not a number: %r' % (value,)
        return unknown(check, '%s could not be measured (%s; %s)' % (check, what, thresholds), unit,
                       warning_n, critical_n, measured_at, details)

    def beyond(limit):
        return limit is not None and (number >= limit if higher_is_worse else number <= limit)

    if beyond(critical_n):
        status = CRITICAL
    elif beyond(warning_n):
        status = WARNING
    else:
        status = OK
    fields = {
        'check': check, 'status': status, 'value': format_number(number), 'unit': unit or '',
        'warning': format_number(warning_n) if warning_n is not None else '',
        'critical': format_number(critical_n) if critical_n is not None else '',
        'value_text': with_unit(number, unit), 'thresholds': thresholds,
        'comparison': 'higher is worse' if higher_is_worse else 'lower is worse',
    }
    if reason_fmt:
        try:
            reason = reason_fmt.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise ChecksError('reason_fmt of check %s cannot be filled: %s' % (check, exc))
    else:
        reason = '%(check)s is %(value_text)s (%(thresholds)s)' % fields
    return make_result(check, status, reason, number, unit, warning_n, critical_n, measured_at, details)


def status_of(item):
    """The status of a result dict or a status string, checked."""
    status = item.get('status') if isinstance(item, dict) else item
    if status not in SEVERITY:
        raise ChecksError('status must be one of %s, not %r' % (', '.join(STATUSES), status))
    return status


def worst(statuses):
    """The worst of these statuses (or results): critical > warning > unknown > maintenance > ok; ``unknown`` when there are none."""
    found = [status_of(item) for item in statuses]
    if not found:
        return UNKNOWN
    return max(found, key=SEVERITY.get)


def normalise_result(result, where='result'):
    """A result dict from a role, checked and with every key present (missing ones None or empty)."""
    if not isinstance(result, dict):
        raise ChecksError('%s is not a dict but %s' % (where, type(result).__name__))
    check = result.get('check')
    if not check or not isinstance(check, str):
        raise ChecksError('%s has no check name' % where)
    try:
        status = status_of(result)
    except ChecksError as exc:
        raise ChecksError('%s (%s): %s' % (where, check, exc))
    clean = dict((key, result.get(key)) for key in RESULT_KEYS if key != 'details')
    clean['status'] = status
    clean['unit'] = clean['unit'] or ''
    if clean['reason'] is None:
        clean['reason'] = 'no reason given' if status != OK else ''
    clean['reason'] = str(clean['reason'])
    if result.get('details') is not None:
        clean['details'] = result['details']
    return clean


def normalise_results(results_by_host):
    """{host: [result, ...]} checked and normalised, hosts sorted; raises ChecksError naming the bad one."""
    if not isinstance(results_by_host, dict):
        raise ChecksError('results must be a dict of host -> list of results')
    clean = {}
    for host in sorted(results_by_host, key=str):
        results = results_by_host[host]
        if results is None:
            results = []
        if isinstance(results, dict) and 'results' in results:
            results = results['results']
        if not isinstance(results, list):
            raise ChecksError('results of host %s are not a list' % host)
        clean[str(host)] = [normalise_result(item, 'result %d of host %s' % (index + 1, host))
                            for index, item in enumerate(results)]
    return clean


def summarise(results_by_host):
    """Counts over a run: {hosts, checks, ok, warning, critical, unknown, maintenance, worst, failing_hosts, warning_hosts,
    maintenance_hosts, host_status}.

    ``ok``/``warning``/``critical``/``unknown``/``maintenance`` count check results; ``host_status`` is each host's worst
    status; ``failing_hosts`` are the hosts with a critical result, ``warning_hosts`` those whose worst is a
    warning, ``maintenance_hosts`` those whose worst is maintenance (in an open maintenance window, nothing else
    wrong). A host without any result is ``unknown``.
    """
    counts = dict((status, 0) for status in STATUSES)
    host_status = {}
    for host in sorted(results_by_host, key=str):
        results = results_by_host[host] or []
        for item in results:
            counts[status_of(item)] += 1
        host_status[str(host)] = worst(results)
    summary = {
        'hosts': len(host_status),
        'checks': sum(counts.values()),
        'worst': worst(host_status.values()) if host_status else UNKNOWN,
        'failing_hosts': [host for host, status in host_status.items() if status == CRITICAL],
        'warning_hosts': [host for host, status in host_status.items() if status == WARNING],
        'maintenance_hosts': [host for host, status in host_status.items() if status == MAINTENANCE],
        'host_status': host_status,
    }
    summary.update(counts)
    return summary

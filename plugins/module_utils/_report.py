# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reports of the daily checks, the model: the JSON document of a run, earlier reports read back, trends, weekly summaries.

The report is split in files of one job each, all used by the checks_report module on the controller:

- _report (this file): the document (schema, summary, trends over earlier run.json, the weekly summary) and
  the plain text of its values, shared by both renderings;
- _report_markdown: the Markdown of a run and of one host;
- _report_html: the HTML page, filled from the markup and CSS in _report_template;
- _report_files: the run folder on disk (planning, atomic writes, make_run).

Layout of a reports folder::

    <dest>/<kind>-<YYYYMMDDTHHMMSSZ>/run.json, run.md, run.html, hosts/<host>.json, hosts/<host>.md
    <dest>/latest-<kind>.json
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import re

from ansible_collections.clawd.ops.plugins.module_utils._checks import (
    CRITICAL, MAINTENANCE, OK, SEVERITY, STATUSES, UNKNOWN, WARNING, format_number, normalise_results, summarise, utc_stamp, with_unit, worst,
)
from ansible_collections.clawd.ops.plugins.module_utils._maintenance import describe as describe_window
from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time
from ansible_collections.clawd.ops.plugins.module_utils._redact import redact

SCHEMA = 'clawd.ops/checks-report'
SCHEMA_VERSION = 1
KINDS = ('daily', 'quick', 'weekly', 'monthly')
FORMATS = ('json', 'md', 'html')
REPORT_KEYS = ('schema', 'schema_version', 'kind', 'run_id', 'title', 'generated_at', 'report_dir',
               'summary', 'hosts', 'trends', 'weekly')
TITLES = {'daily': 'Daily checks', 'quick': 'Quick check', 'weekly': 'Weekly summary', 'monthly': 'Monthly maintenance'}
WEEK_DAYS = 7
MAX_ISSUES_PER_HOST = 50
_UNSAFE_NAME = re.compile(r'[^A-Za-z0-9._-]+|\.{2,}')


class ReportError(Exception):
    """Building or writing a report failed; the message says what and why."""


# ---------------------------------------------------------------- times and names

def utc_now():
    """This moment, in UTC: the one clock the report code reads (a test freezes it by replacing this module's datetime)."""
    return datetime.datetime.now(datetime.timezone.utc)


def folder_stamp(moment):
    """20261201T070000Z: the stamp in a run folder's name."""
    return moment.astimezone(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')


def safe_name(host):
    """A host name usable as a file name: anything but letters, digits, dot, dash and underscore becomes _."""
    return _UNSAFE_NAME.sub('_', str(host)).strip('._') or '_'


def _scrub(value):
    """Every string in value with any Telegram bot token in a URL masked (results come redacted; this is a second belt)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return dict((key, _scrub(item)) for key, item in value.items())
    return value


# ---------------------------------------------------------------- reading earlier reports

def load_reports(dest, kind):
    """Earlier run reports of this kind in dest, oldest first, and the problems met reading them.

    Returns (reports, problems): each report is the parsed run.json; a folder whose run.json cannot be
    read or is not a report of this schema is left out and named in problems.
    """
    reports = []
    problems = []
    if not os.path.isdir(dest):
        return reports, problems
    prefix = kind + '-'
    for name in sorted(os.listdir(dest)):
        path = os.path.join(dest, name, 'run.json')
        if not name.startswith(prefix) or not os.path.isdir(os.path.join(dest, name)):
            continue
        try:
            with open(path, encoding='utf-8') as handle:
                report = json.load(handle)
        except (IOError, OSError, ValueError) as exc:
            problems.append('%s: %s' % (path, exc))
            continue
        if not isinstance(report, dict) or report.get('schema') != SCHEMA or report.get('kind') != kind \
                or parse_time(report.get('generated_at')) is None or not isinstance(report.get('hosts'), dict):
            problems.append('%s: not a %s report of kind %s' % (path, SCHEMA, kind))
            continue
        reports.append(report)
    reports.sort(key=lambda item: (parse_time(item['generated_at']), item.get('run_id') or ''))
    return reports, problems


def _known_status(value):
    """A status read back from an earlier report: one of STATUSES, else unknown (markup, a number, a list...)."""
    return value if isinstance(value, str) and value in SEVERITY else UNKNOWN


def _check_name(value):
    """A check name read back from an earlier report, as text (a list or a number there must not break the trends)."""
    return value if isinstance(value, str) else str(value)


def _host_results(report, host):
    entry = (report.get('hosts') or {}).get(host)
    if not isinstance(entry, dict):
        return None
    results = entry.get('results')
    return results if isinstance(results, list) else []


def _point(report):
    summary = report.get('summary') or {}
    point = {'run_id': report.get('run_id'), 'generated_at': report.get('generated_at'),
             'worst': _known_status(summary.get('worst', UNKNOWN)), 'hosts': _count_of(summary.get('hosts'))}
    for status in STATUSES:
        point[status] = _count_of(summary.get(status))
    return point


def _count_of(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def build_trends(earlier, current):
    """Trends over the earlier reports (oldest first) and the current one (last).

    {runs: how many earlier reports, points: [{run_id, generated_at, worst, hosts, ok, warning, critical,
    unknown}], hosts: {host: [worst status per point, None where the host was absent]},
    values: {host: {check: [value per point, None where not measured]}}} (values only for checks
    measured as a number at least once).
    """
    series = list(earlier) + [current]
    hosts = {}
    values = {}
    for host in sorted(current['hosts']):
        statuses = []
        numbers = {}
        for index, report in enumerate(series):
            results = _host_results(report, host)
            if results is None:
                statuses.append(None)
                continue
            stated = report['hosts'][host].get('worst')
            try:
                statuses.append(_known_status(stated) if stated else worst(results))
            except ValueError:
                statuses.append(UNKNOWN)
            for item in results:
                value = item.get('value') if isinstance(item, dict) else None
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                numbers.setdefault(_check_name(item.get('check')), [None] * len(series))[index] = value
        hosts[host] = statuses
        values[host] = dict((check, numbers[check]) for check in sorted(numbers, key=str))
    return {'runs': len(earlier), 'points': [_point(report) for report in series], 'hosts': hosts, 'values': values}


# ---------------------------------------------------------------- the weekly summary

def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def in_window(reports, now, days=WEEK_DAYS):
    """The reports generated in the `days` days before now (now included)."""
    start = now - datetime.timedelta(days=days)
    return [report for report in reports if start < parse_time(report['generated_at']) <= now]


def build_weekly(daily_reports, now, days=WEEK_DAYS):
    """Summary of the daily reports generated in the `days` days before now, per host and in all.

    Per host: runs (daily reports that list it), uptime_percent (share of its health results that were
    ok; None without any), requests (sum of details.requests over its results), security_events (sum of
    its logs_unauthorized values and of details.security_events), issues (warning and critical results,
    newest first, at most 50 listed; issues_count has them all), warning, critical and worst.
    """
    start = now - datetime.timedelta(days=days)
    used = in_window(daily_reports, now, days)
    per_host = {}
    for report in used:
        for host in sorted(report.get('hosts') or {}):
            results = _host_results(report, host) or []
            entry = per_host.setdefault(host, {'runs': 0, 'health_checks': 0, 'health_ok': 0, 'requests': None,
                                               'security_events': None, 'warning': 0, 'critical': 0, 'issues': [],
                                               'statuses': []})
            entry['runs'] += 1
            for item in results:
                if not isinstance(item, dict):
                    continue
                status = item.get('status')
                entry['statuses'].append(status if status in SEVERITY else UNKNOWN)
                details = item.get('details') if isinstance(item.get('details'), dict) else {}
                # A health check in a maintenance window is planned downtime: it does not count for the uptime.
                if item.get('check') == 'health' and status in SEVERITY and status != MAINTENANCE:
                    entry['health_checks'] += 1
                    entry['health_ok'] += 1 if status == OK else 0
                requests = _number(details.get('requests'))
                if requests is not None:
                    entry['requests'] = (entry['requests'] or 0) + requests
                events = _number(details.get('security_events'))
                if item.get('check') == 'logs_unauthorized' and _number(item.get('value')) is not None:
                    events = (events or 0) + item['value']
                if events is not None:
                    entry['security_events'] = (entry['security_events'] or 0) + events
                if status in (WARNING, CRITICAL):
                    entry[status] += 1
                    entry['issues'].append({'generated_at': report['generated_at'], 'run_id': report.get('run_id'),
                                            'check': _check_name(item.get('check')), 'status': status,
                                            'reason': str(item.get('reason', ''))})
    hosts = {}
    for host in sorted(per_host):
        entry = per_host[host]
        issues = sorted(entry['issues'], key=lambda issue: issue['generated_at'], reverse=True)
        uptime = round(100.0 * entry['health_ok'] / entry['health_checks'], 2) if entry['health_checks'] else None
        hosts[host] = {'runs': entry['runs'], 'uptime_percent': uptime, 'health_checks': entry['health_checks'],
                       'health_ok': entry['health_ok'], 'requests': entry['requests'],
                       'security_events': entry['security_events'], 'warning': entry['warning'],
                       'critical': entry['critical'], 'issues_count': len(issues),
                       'issues': issues[:MAX_ISSUES_PER_HOST], 'worst': worst(entry['statuses'])}
    health_checks = sum(entry['health_checks'] for entry in hosts.values())
    health_ok = sum(entry['health_ok'] for entry in hosts.values())

    def total(key):
        found = [entry[key] for entry in hosts.values() if entry[key] is not None]
        return sum(found) if found else None

    totals = {'runs': len(used), 'uptime_percent': round(100.0 * health_ok / health_checks, 2) if health_checks else None,
              'requests': total('requests'), 'security_events': total('security_events'),
              'issues': sum(entry['issues_count'] for entry in hosts.values())}
    return {'from': utc_stamp(start), 'to': utc_stamp(now), 'days': days, 'reports': len(used),
            'hosts': hosts, 'totals': totals}


# ---------------------------------------------------------------- the report document

def build_report(kind, results_by_host, run_id=None, title=None, now=None, earlier=(), daily_reports=(), report_dir=None):
    """The run report (a dict of the stable schema) from the results of this run.

    kind daily/quick: summary over results_by_host. kind weekly: also a weekly section from daily_reports,
    and the summary and each host's worst cover the week's daily results and the given ones.
    """
    if kind not in KINDS:
        raise ReportError('kind must be one of %s, not %r' % (', '.join(KINDS), kind))
    now = now or utc_now()
    results = _scrub(normalise_results(results_by_host or {}))
    weekly = None
    summary_input = results
    if kind == 'weekly':
        weekly = build_weekly(daily_reports, now)
        summary_input = dict((host, list(items)) for host, items in results.items())
        for report in in_window(daily_reports, now):
            for host in report.get('hosts') or {}:
                summary_input.setdefault(host, []).extend(
                    item for item in (_host_results(report, host) or []) if isinstance(item, dict) and item.get('status') in SEVERITY)
        for host in summary_input:
            results.setdefault(host, [])
    summary = summarise(summary_input)
    report = {
        'schema': SCHEMA,
        'schema_version': SCHEMA_VERSION,
        'kind': kind,
        'run_id': run_id or '%s-%s' % (kind, folder_stamp(now)),
        'title': title or TITLES[kind],
        'generated_at': utc_stamp(now),
        'report_dir': report_dir,
        'summary': summary,
        'hosts': dict((host, {'worst': summary['host_status'][host], 'results': results[host]}) for host in sorted(results)),
        'trends': None,
        'weekly': weekly,
    }
    report['trends'] = build_trends(list(earlier), report)
    return report


# ---------------------------------------------------------------- the text of values (Markdown and HTML escape it each their way)

def _value_text(item):
    if item.get('value') is None:
        return '-'
    if isinstance(item['value'], (int, float)) and not isinstance(item['value'], bool):
        return with_unit(item['value'], item.get('unit') or '')
    return str(item['value'])


def _thresholds(item):
    unit = item.get('unit') or ''
    parts = []
    if item.get('warning') is not None:
        parts.append('warn %s' % with_unit(item['warning'], unit))
    if item.get('critical') is not None:
        parts.append('crit %s' % with_unit(item['critical'], unit))
    return ', '.join(parts) or '-'


def _counts_line(summary):
    line = '%d hosts, %d checks: %d ok, %d warning, %d critical, %d unknown' % (
        summary['hosts'], summary['checks'], summary[OK], summary[WARNING], summary[CRITICAL], summary[UNKNOWN])
    if summary.get(MAINTENANCE):
        line += ', %d in maintenance' % summary[MAINTENANCE]
    return line


def _attention(report):
    """(host, result) of every result that is neither ok nor held back by a maintenance window, worst first."""
    found = []
    for host, entry in sorted(report['hosts'].items()):
        for item in entry['results']:
            if item['status'] not in (OK, MAINTENANCE):
                found.append((host, item))
    found.sort(key=lambda pair: -SEVERITY[pair[1]['status']])
    return found


def _in_maintenance(report):
    """(host, text) of every host in an open maintenance window: until when, why, who, and the checks it held back
    with their measured status (from the host's ``maintenance`` result and the results marked ``maintenance``)."""
    found = []
    for host, entry in sorted(report['hosts'].items()):
        window = [item for item in entry['results'] if item['check'] == 'maintenance' and item['status'] == MAINTENANCE]
        if not window:
            continue
        held = ['%s %s' % (item['check'], (item.get('details') or {}).get('status_measured', item['status']))
                for item in entry['results'] if item['status'] == MAINTENANCE and item['check'] != 'maintenance']
        marker = window[0].get('details') or {}
        found.append((host, 'until %s: %s; held back: %s' % (marker.get('until') or '?', describe_window(marker), ', '.join(held) or 'nothing')))
    return found


def _percent(value):
    return '-' if value is None else '%s %%' % format_number(value)


def _count(value):
    return '-' if value is None else format_number(value)

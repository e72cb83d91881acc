# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reports of the daily checks: the JSON document, its Markdown and HTML renderings, trends, weekly summaries.

Used by the checks_report module on the controller. Layout of a reports folder::

    <dest>/<kind>-<YYYYMMDDTHHMMSSZ>/run.json, run.md, run.html, hosts/<host>.json, hosts/<host>.md
    <dest>/latest-<kind>.json

A run folder is built under a hidden temporary name and renamed when complete, so a reader (the
next run's trends, the weekly summary) never sees half a run; latest-<kind>.json is replaced atomically.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import re
import shutil
import tempfile

from ansible_collections.clawd.ops.plugins.module_utils._checks import (
    CRITICAL,
    OK,
    SEVERITY,
    STATUSES,
    UNKNOWN,
    WARNING,
    format_number,
    normalise_results,
    summarise,
    utc_stamp,
    with_unit,
    worst,
)
from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time
from ansible_collections.clawd.ops.plugins.module_utils._transport import redact

SCHEMA = 'clawd.ops/checks-report'
SCHEMA_VERSION = 1
KINDS = ('daily', 'quick', 'weekly')
FORMATS = ('json', 'md', 'html')
REPORT_KEYS = ('schema', 'schema_version', 'kind', 'run_id', 'title', 'generated_at', 'report_dir',
               'summary', 'hosts', 'trends', 'weekly')
TITLES = {'daily': 'Daily checks', 'quick': 'Quick check', 'weekly': 'Weekly summary'}
WEEK_DAYS = 7
MAX_ISSUES_PER_HOST = 50
COLOURS = {OK: '#1a7f37', WARNING: '#9a6700', CRITICAL: '#c62828', UNKNOWN: '#57606a'}
TINTS = {OK: '#e8f5ec', WARNING: '#fff4d6', CRITICAL: '#fde8e8', UNKNOWN: '#eef0f2'}
_UNSAFE_NAME = re.compile(r'[^A-Za-z0-9._-]+|\.{2,}')


class ReportError(Exception):
    """Building or writing a report failed; the message says what and why."""


# ---------------------------------------------------------------- times and names

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
                if item.get('check') == 'health' and status in SEVERITY:
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
    now = now or datetime.datetime.now(datetime.timezone.utc)
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


# ---------------------------------------------------------------- Markdown

_MD_ESCAPE = re.compile(r'([\\`\[\]|@])')
_MD_AUTOLINK = re.compile(r'(:)(?=//)|(?<=www)(\.)', re.I)


def _md(text):
    """Text from a host or an earlier report, inert in one table cell or line of Markdown.

    One line (whitespace collapsed); backslash, backtick, brackets (links, images, references), pipe (table cells)
    and @ (mail autolinks) escaped with a backslash; & < > as entities (no HTML, no <url> autolink); the : of ://
    and the . of www. escaped so that a renderer that links bare URLs (GitHub's) does not.
    """
    text = '' if text is None else str(text)
    text = text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
    text = _MD_ESCAPE.sub(r'\\\1', text)
    text = _MD_AUTOLINK.sub(lambda match: '\\' + match.group(0), text)
    return ' '.join(text.split())


def _md_code(text):
    """Text shown as a Markdown code span (backticks included): literal inside, so only a backtick could end it early."""
    text = ' '.join(('' if text is None else str(text)).replace('`', "'").split())
    return '`%s`' % (text or ' ')


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
    return '%d hosts, %d checks: %d ok, %d warning, %d critical, %d unknown' % (
        summary['hosts'], summary['checks'], summary[OK], summary[WARNING], summary[CRITICAL], summary[UNKNOWN])


def _attention(report):
    """(host, result) of every result that is not ok, worst first."""
    found = []
    for host, entry in sorted(report['hosts'].items()):
        for item in entry['results']:
            if item['status'] != OK:
                found.append((host, item))
    found.sort(key=lambda pair: -SEVERITY[pair[1]['status']])
    return found


def _trend_line(report):
    points = report['trends']['points']
    if len(points) < 2:
        return 'No earlier %s reports yet: trends start with the next run.' % report['kind']
    shown = points[-8:]
    return 'Overall by run (oldest first): %s.' % ' \u2192 '.join(
        '%s %s' % (_md(str(point.get('generated_at') or '')[:10]), _md(_known_status(point.get('worst')).upper())) for point in shown)


def render_markdown(report):
    """The run's Markdown: summary, hosts table, what needs attention, trend (for a ticket or a chat)."""
    summary = report['summary']
    lines = ['# %s: %s' % (_md(report['title']), summary['worst'].upper()), '',
             '%s. Generated %s, run %s.' % (_counts_line(summary), _md(report['generated_at']), _md_code(report['run_id'])), '']
    if summary['failing_hosts']:
        lines += ['**Critical on:** %s' % ', '.join(_md(host) for host in summary['failing_hosts']), '']
    lines += ['| host | status | ok | warning | critical | unknown |', '|---|---|---|---|---|---|']
    for host, entry in sorted(report['hosts'].items()):
        counts = dict((status, 0) for status in STATUSES)
        for item in entry['results']:
            counts[item['status']] += 1
        lines.append('| %s | **%s** | %d | %d | %d | %d |' % (_md(host), entry['worst'].upper(), counts[OK], counts[WARNING],
                                                              counts[CRITICAL], counts[UNKNOWN]))
    lines.append('')
    attention = _attention(report)
    if attention:
        lines += ['## Needs attention', '']
        lines += ['- **%s** %s %s: %s' % (item['status'].upper(), _md(host), _md_code(item['check']), _md(item['reason']))
                  for host, item in attention]
        lines.append('')
    else:
        lines += ['Every check is ok.', '']
    if report.get('weekly'):
        lines += _weekly_markdown(report['weekly'])
    lines += ['## Trend', '', _trend_line(report), '']
    return '\n'.join(lines)


def _weekly_markdown(weekly):
    totals = weekly['totals']
    lines = ['## Week %s to %s' % (_md(weekly['from'][:10]), _md(weekly['to'][:10])), '',
             '%d daily reports; uptime %s; requests %s; security events %s; %d issues.' % (
                 weekly['reports'], _percent(totals['uptime_percent']), _count(totals['requests']),
                 _count(totals['security_events']), totals['issues']), '',
             '| host | runs | uptime | requests | security events | warning | critical |', '|---|---|---|---|---|---|---|']
    for host, entry in sorted(weekly['hosts'].items()):
        lines.append('| %s | %d | %s | %s | %s | %d | %d |' % (
            _md(host), entry['runs'], _percent(entry['uptime_percent']), _count(entry['requests']),
            _count(entry['security_events']), entry['warning'], entry['critical']))
    lines.append('')
    return lines


def _percent(value):
    return '-' if value is None else '%s %%' % format_number(value)


def _count(value):
    return '-' if value is None else format_number(value)


def render_host_markdown(report, host):
    """One host's Markdown: every check with its status, value, thresholds and reason."""
    entry = report['hosts'][host]
    lines = ['# %s on %s: %s' % (_md(report['title']), _md(host), entry['worst'].upper()), '',
             'Generated %s, run %s.' % (_md(report['generated_at']), _md_code(report['run_id'])), '',
             '| check | status | value | thresholds | reason | measured at |', '|---|---|---|---|---|---|']
    for item in entry['results']:
        lines.append('| %s | **%s** | %s | %s | %s | %s |' % (
            _md(item['check']), item['status'].upper(), _md(_value_text(item)), _md(_thresholds(item)),
            _md(item['reason']), _md(item.get('measured_at') or '')))
    if not entry['results']:
        lines.append('| - | **UNKNOWN** | - | - | no results for this host | - |')
    lines.append('')
    return '\n'.join(lines)


# ---------------------------------------------------------------- HTML

def _h(text):
    """Text escaped for HTML content and attribute values."""
    text = '' if text is None else str(text)
    return (text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
            .replace('"', '&quot;').replace("'", '&#x27;'))


_CSS = '''
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2328;font:15px/1.45 "DejaVu Sans","Liberation Sans",system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:26px}
h2{margin:32px 0 12px;font-size:20px}
h3{margin:0;font-size:16px}
.banner{display:flex;justify-content:space-between;align-items:center;gap:16px;padding:20px 24px;border-radius:12px;color:#fff;background:var(--c)}
.banner .meta{opacity:.92;font-size:13px}
.banner .big{font-size:30px;font-weight:800;letter-spacing:.06em;white-space:nowrap}
.s-ok{--c:#1a7f37;--t:#e8f5ec}.s-warning{--c:#9a6700;--t:#fff4d6}.s-critical{--c:#c62828;--t:#fde8e8}.s-unknown{--c:#57606a;--t:#eef0f2}
.s-none{--c:#d0d7de;--t:#f6f8fa}.s-neutral{--c:#24292f;--t:#f6f8fa}
.badge{display:inline-block;min-width:86px;text-align:center;padding:2px 10px;border-radius:999px;background:var(--c);color:#fff;
font-weight:700;font-size:12px;letter-spacing:.05em;text-transform:uppercase}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;margin-top:16px}
.card{background:#fff;border-radius:10px;padding:12px 16px;border-top:5px solid var(--c);box-shadow:0 1px 2px rgba(0,0,0,.06)}
.card .n{font-size:28px;font-weight:800;color:var(--c)}
.card .l{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:#57606a}
table{width:100%;border-collapse:collapse;background:#fff;border-radius:10px;overflow:hidden;box-shadow:0 1px 2px rgba(0,0,0,.06)}
th,td{padding:8px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#57606a}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.row td:first-child{border-left:5px solid var(--c)}
tr.row.s-ok td{background:#fff}tr.row:not(.s-ok) td{background:var(--t)}
.host{margin-top:18px}
.host summary{cursor:pointer;display:flex;gap:12px;align-items:center;padding:10px 14px;background:#fff;border-radius:10px;
border-left:6px solid var(--c);box-shadow:0 1px 2px rgba(0,0,0,.06);list-style:none}
.host[open] summary{border-radius:10px 10px 0 0}
.reason{max-width:520px;overflow-wrap:anywhere}
.muted{color:#57606a;font-size:13px}
.grid td.cell{text-align:center;padding:6px 4px}
.dot{display:inline-block;width:26px;height:18px;border-radius:4px;background:var(--c);color:#fff;font-size:11px;font-weight:700;line-height:18px}
.spark-cell{white-space:nowrap}.spark-now{font-size:12px;color:#57606a;font-variant-numeric:tabular-nums}
.attention li{margin:6px 0;list-style:none}.attention{padding:12px 16px;margin:0;background:#fff;border-radius:10px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.note{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
footer{margin:32px 0 8px;color:#57606a;font-size:12px}
@media print{body{background:#fff}.host summary{box-shadow:none}}
'''


def _badge(status):
    return '<span class="badge s-%s" data-status="%s">%s</span>' % (status, status, status.upper())


def _sparkline(values, current_status):
    """An inline SVG line of the numbers in values (None = not measured), the last point coloured by status."""
    width, height, pad = 96, 26, 3
    points = [(index, value) for index, value in enumerate(values) if value is not None]
    if not points:
        return '<span class="muted">-</span>'
    low = min(pair[1] for pair in points)
    high = max(pair[1] for pair in points)
    span = (high - low) or 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    coords = ['%.1f,%.1f' % (pad + index * step, height - pad - (value - low) / span * (height - 2 * pad)) for index, value in points]
    last_x, last_y = coords[-1].split(',')
    return ('<svg class="spark" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">'
            '<polyline fill="none" stroke="#57606a" stroke-width="1.5" points="%s"/>'
            '<circle cx="%s" cy="%s" r="3.2" fill="%s"/></svg>') % (
        width, height, width, height, _h('from %s to %s' % (format_number(points[0][1]), format_number(points[-1][1]))),
        ' '.join(coords), last_x, last_y, COLOURS.get(current_status, COLOURS[UNKNOWN]))


def _html_summary(report):
    summary = report['summary']
    cards = [('hosts', summary['hosts'], 'neutral')] + [(status, summary[status], status) for status in (OK, WARNING, CRITICAL, UNKNOWN)]
    cards.append(('failing hosts', len(summary['failing_hosts']), CRITICAL if summary['failing_hosts'] else OK))
    out = ['<section class="cards" aria-label="counts">']
    for label, number, status in cards:
        out.append('<div class="card s-%s" data-count="%s"><div class="n">%d</div><div class="l">%s</div></div>' % (
            status, _h(label), number, _h(label if label in ('hosts', 'failing hosts') else label + ' checks')))
    out.append('</section>')
    if summary['failing_hosts']:
        out.append('<p><strong>Critical on:</strong> %s</p>' % ', '.join(_h(host) for host in summary['failing_hosts']))
    return out


def _html_hosts_table(report):
    out = ['<h2>Hosts</h2>', '<table id="hosts"><thead><tr><th>host</th><th>status</th><th class="num">ok</th>'
           '<th class="num">warning</th><th class="num">critical</th><th class="num">unknown</th><th>needs attention</th></tr></thead><tbody>']
    for host, entry in sorted(report['hosts'].items()):
        counts = dict((status, 0) for status in STATUSES)
        for item in entry['results']:
            counts[item['status']] += 1
        bad = sorted((item for item in entry['results'] if item['status'] != OK), key=lambda item: -SEVERITY[item['status']])
        attention = '; '.join('%s: %s' % (item['check'], item['status']) for item in bad[:4]) or 'nothing'
        if len(bad) > 4:
            attention += '; and %d more' % (len(bad) - 4)
        out.append('<tr class="row s-%s" data-host="%s" data-status="%s"><td><strong>%s</strong></td><td>%s</td>'
                   '<td class="num">%d</td><td class="num">%d</td><td class="num">%d</td><td class="num">%d</td><td>%s</td></tr>' % (
                       entry['worst'], _h(host), entry['worst'], _h(host), _badge(entry['worst']), counts[OK], counts[WARNING],
                       counts[CRITICAL], counts[UNKNOWN], _h(attention)))
    out.append('</tbody></table>')
    return out


def _html_host_details(report):
    out = ['<h2>Checks per host</h2>']
    for host, entry in sorted(report['hosts'].items()):
        opened = ' open' if entry['worst'] != OK else ''
        out.append('<details class="host s-%s" data-host="%s"%s><summary>%s<h3>%s</h3><span class="muted">%d checks</span></summary>' % (
            entry['worst'], _h(host), opened, _badge(entry['worst']), _h(host), len(entry['results'])))
        out.append('<table><thead><tr><th>check</th><th>status</th><th class="num">value</th><th>thresholds</th>'
                   '<th>reason</th><th>measured at</th></tr></thead><tbody>')
        for item in entry['results']:
            out.append('<tr class="row s-%s" data-check="%s"><td>%s</td><td>%s</td><td class="num">%s</td><td>%s</td>'
                       '<td class="reason">%s</td><td class="muted">%s</td></tr>' % (
                           item['status'], _h(item['check']), _h(item['check']), _badge(item['status']), _h(_value_text(item)),
                           _h(_thresholds(item)), _h(item['reason']), _h(item.get('measured_at') or '')))
        if not entry['results']:
            out.append('<tr><td colspan="6" class="muted">No results for this host.</td></tr>')
        out.append('</tbody></table></details>')
    return out


def _html_attention(report):
    attention = _attention(report)
    out = ['<h2>Needs attention</h2>']
    if not attention:
        out.append('<p class="note" id="all-ok">Every check is ok.</p>')
        return out
    out.append('<ul class="attention" id="attention">')
    for host, item in attention:
        out.append('<li data-host="%s" data-check="%s">%s <strong>%s</strong> &middot; %s: %s</li>' % (
            _h(host), _h(item['check']), _badge(item['status']), _h(host), _h(item['check']), _h(item['reason'])))
    out.append('</ul>')
    return out


def _html_trends(report):
    trends = report['trends']
    out = ['<h2>Trends</h2>']
    if trends['runs'] == 0:
        out.append('<p class="note" id="no-trends">No earlier %s reports in this folder yet: trends appear from the next run on.</p>'
                   % _h(report['kind']))
        return out
    points = trends['points']
    out.append('<p class="muted">The last %d runs, oldest first; the last column is this run.</p>' % len(points))
    out.append('<table id="trends" class="grid"><thead><tr><th>host</th>')
    for index, point in enumerate(points):
        label = 'now' if index == len(points) - 1 else str(point.get('generated_at') or '')[5:10]
        out.append('<th class="num" title="%s">%s</th>' % (_h(point.get('generated_at')), _h(label)))
    out.append('</tr></thead><tbody>')
    overall = ''.join('<td class="cell"><span class="dot s-%s" title="%s">%s</span></td>' % (
        _known_status(point.get('worst')), _h('%s: %s' % (point.get('generated_at'), _known_status(point.get('worst')))),
        _h(_known_status(point.get('worst'))[:1].upper())) for point in points)
    out.append('<tr data-trend="overall"><td><strong>all hosts</strong></td>%s</tr>' % overall)
    for host, statuses in sorted(trends['hosts'].items()):
        cells = []
        for point, status in zip(points, statuses):
            status = None if status is None else _known_status(status)
            shown = status or 'none'
            cells.append('<td class="cell"><span class="dot s-%s" title="%s">%s</span></td>' % (
                shown, _h('%s: %s' % (point.get('generated_at'), status or 'not in this run')), _h((status or '-')[:1].upper())))
        out.append('<tr data-trend="%s"><td>%s</td>%s</tr>' % (_h(host), _h(host), ''.join(cells)))
    out.append('</tbody></table>')
    checks = sorted(set(check for values in trends['values'].values() for check, series in values.items()
                        if len([value for value in series if value is not None]) >= 2), key=str)
    if checks:
        out.append('<h3 style="margin-top:18px">Measured values</h3>')
        out.append('<p class="muted">Each line runs from the oldest run to this one; the dot has the colour of this run\'s status.</p>')
        out.append('<table id="values"><thead><tr><th>host</th>%s</tr></thead><tbody>' % ''.join('<th>%s</th>' % _h(check) for check in checks))
        for host, values in sorted(trends['values'].items()):
            current = dict((item['check'], item) for item in report['hosts'].get(host, {}).get('results', []))
            cells = []
            for check in checks:
                series = values.get(check) or []
                known = [value for value in series if value is not None]
                item = current.get(check)
                if len(known) < 2:
                    cells.append('<td class="muted">-</td>')
                    continue
                unit = item.get('unit', '') if item else ''
                cells.append('<td class="spark-cell" data-spark="%s/%s">%s<div class="spark-now">%s</div></td>' % (
                    _h(host), _h(check), _sparkline(series, item['status'] if item else UNKNOWN), _h(with_unit(known[-1], unit))))
            out.append('<tr><td>%s</td>%s</tr>' % (_h(host), ''.join(cells)))
        out.append('</tbody></table>')
    return out


def _html_weekly(weekly):
    totals = weekly['totals']
    headline = '<p>%d daily reports. Uptime <strong>%s</strong>, requests <strong>%s</strong>, security events <strong>%s</strong>, ' \
        '<strong>%d</strong> issues.</p>' % (weekly['reports'], _h(_percent(totals['uptime_percent'])), _h(_count(totals['requests'])),
                                             _h(_count(totals['security_events'])), totals['issues'])
    out = ['<h2>Week %s to %s</h2>' % (_h(weekly['from'][:10]), _h(weekly['to'][:10])), headline,
           '<table id="weekly"><thead><tr><th>host</th><th>worst</th><th class="num">runs</th><th class="num">uptime</th>'
           '<th class="num">requests</th><th class="num">security events</th><th class="num">warning</th><th class="num">critical</th>'
           '<th>latest issues</th></tr></thead><tbody>']
    for host, entry in sorted(weekly['hosts'].items()):
        issues = '<br>'.join('%s %s: %s' % (_h(str(issue['generated_at'])[:10]), _h(issue['check']), _h(issue['status']))
                             for issue in entry['issues'][:5]) or 'none'
        out.append('<tr class="row s-%s" data-weekly="%s"><td>%s</td><td>%s</td><td class="num">%d</td><td class="num">%s</td>'
                   '<td class="num">%s</td><td class="num">%s</td><td class="num">%d</td><td class="num">%d</td><td>%s</td></tr>' % (
                       entry['worst'], _h(host), _h(host), _badge(entry['worst']), entry['runs'], _h(_percent(entry['uptime_percent'])),
                       _h(_count(entry['requests'])), _h(_count(entry['security_events'])), entry['warning'], entry['critical'], issues))
    out.append('</tbody></table>')
    return out


def render_html(report):
    """One self-contained HTML page (inline CSS, no script, no external URL) for a person to read."""
    summary = report['summary']
    status = summary['worst']
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<title>%s: %s</title>' % (_h(report['title']), _h(status.upper())),
           '<style>%s</style></head><body><main>' % _CSS,
           '<header class="banner s-%s" id="overall" data-status="%s"><div><h1>%s</h1><div class="meta">%s &middot; %s &middot; run %s</div>'
           '<div class="meta">%s</div></div><div class="big">%s</div></header>' % (
               status, status, _h(report['title']), _h(report['kind']), _h(report['generated_at']), _h(report['run_id']),
               _h(_counts_line(summary)), _h(status.upper()))]
    out += _html_summary(report)
    out += _html_hosts_table(report)
    out += _html_attention(report)
    if report.get('weekly'):
        out += _html_weekly(report['weekly'])
    out += _html_trends(report)
    out += _html_host_details(report)
    out.append('<footer>%s, schema %s v%d.</footer></main></body></html>' % (_h(report['title']), SCHEMA, SCHEMA_VERSION))
    return '\n'.join(out) + '\n'


# ---------------------------------------------------------------- files

def _dumps(document):
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + '\n'


def host_file_names(hosts):
    """{host: file name stem}, unique even when two host names make the same safe name."""
    names = {}
    for host in sorted(hosts):
        name = safe_name(host)
        while name in names.values():
            name += '_'
        names[host] = name
    return names


def plan_files(report, formats=FORMATS):
    """{relative path: text} of one run folder (run.json always: trends and weekly summaries read it)."""
    files = {'run.json': _dumps(report)}
    if 'md' in formats:
        files['run.md'] = render_markdown(report)
    if 'html' in formats:
        files['run.html'] = render_html(report)
    names = host_file_names(report['hosts'])
    for host in sorted(report['hosts']):
        name = names[host]
        if 'json' in formats:
            host_doc = dict((key, report[key]) for key in ('schema', 'schema_version', 'kind', 'run_id', 'title', 'generated_at'))
            host_doc.update({'host': host, 'worst': report['hosts'][host]['worst'], 'results': report['hosts'][host]['results']})
            files['hosts/%s.json' % name] = _dumps(host_doc)
        if 'md' in formats:
            files['hosts/%s.md' % name] = render_host_markdown(report, host)
    return files


def _write_file(path, text, mode=0o644):
    """Write text to path atomically: a temporary file in the same folder, fsynced, then renamed over path."""
    folder = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def run_folder_name(dest, kind, now):
    """<kind>-<stamp>, with -2, -3... when a run of the same second is already there."""
    base = '%s-%s' % (kind, folder_stamp(now))
    name = base
    number = 1
    while os.path.exists(os.path.join(dest, name)):
        number += 1
        name = '%s-%d' % (base, number)
    return name


def write_run(dest, folder, files, latest_name, latest_text):
    """Write a run folder's files under a hidden temporary folder, rename it to folder, then replace latest.

    Returns the absolute path of the run folder. Nothing is left behind when a write fails.
    """
    os.makedirs(dest, mode=0o755, exist_ok=True)
    final = os.path.join(dest, folder)
    if os.path.exists(final):
        raise ReportError('run folder %s exists already' % final)
    temp = tempfile.mkdtemp(prefix='.%s.' % folder, suffix='.tmp', dir=dest)
    try:
        for relative in sorted(files):
            path = os.path.join(temp, relative)
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path), mode=0o755)
            _write_file(path, files[relative])
        os.chmod(temp, 0o755)
        os.rename(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _write_file(os.path.join(dest, latest_name), latest_text)
    return final


def make_run(dest, kind, results, formats=FORMATS, history=14, title=None, run_id=None, now=None, check_mode=False):
    """Build the run report of this run, with trends from earlier reports in dest, and write it unless check_mode.

    Returns {report, files (relative paths), paths, markdown, problems (earlier reports that could not be read)}.
    """
    if kind not in KINDS:
        raise ReportError('kind must be one of %s, not %r' % (', '.join(KINDS), kind))
    bad = [item for item in formats if item not in FORMATS]
    if bad:
        raise ReportError('formats must be among %s, not %s' % (', '.join(FORMATS), ', '.join(map(str, bad))))
    if history < 0:
        raise ReportError('history must be 0 or more, not %d' % history)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    dest = os.path.abspath(os.path.expanduser(dest))
    earlier, problems = load_reports(dest, kind)
    earlier = earlier[-history:] if history else []
    daily = []
    if kind == 'weekly':
        daily, daily_problems = load_reports(dest, 'daily')
        problems += daily_problems
    folder = run_folder_name(dest, kind, now)
    report = build_report(kind, results, run_id=run_id, title=title, now=now, earlier=earlier, daily_reports=daily,
                          report_dir=folder)
    files = plan_files(report, formats)
    latest_name = 'latest-%s.json' % kind
    run_dir = os.path.join(dest, folder)
    paths = {'dir': run_dir, 'latest': os.path.join(dest, latest_name), 'hosts': {}}
    for name in ('json', 'md', 'html'):
        relative = 'run.%s' % name
        paths['run_%s' % name] = os.path.join(run_dir, relative) if relative in files else None
    for host, stem in host_file_names(report['hosts']).items():
        paths['hosts'][host] = dict((name, os.path.join(run_dir, 'hosts', '%s.%s' % (stem, name))
                                     if 'hosts/%s.%s' % (stem, name) in files else None) for name in ('json', 'md'))
    if not check_mode:
        write_run(dest, folder, files, latest_name, files['run.json'])
    return {'report': report, 'files': sorted(files), 'paths': paths, 'markdown': render_markdown(report), 'problems': problems}

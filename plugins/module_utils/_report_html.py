# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reports of the daily checks: the HTML page of a run (self-contained: inline CSS, no script, no external URL).

The markup and CSS are in _report_template; this file only chooses the fragments and fills them (_fill), where
every value is escaped for HTML unless its placeholder is one of MARKUP_PLACEHOLDERS, which take fragments
filled here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from string import Template

from ansible_collections.clawd.ops.plugins.module_utils import _report_template as page
from ansible_collections.clawd.ops.plugins.module_utils._checks import CRITICAL, MAINTENANCE, OK, SEVERITY, STATUSES, UNKNOWN, WARNING, format_number, with_unit
from ansible_collections.clawd.ops.plugins.module_utils._report import (
    SCHEMA, SCHEMA_VERSION, _attention, _count, _counts_line, _in_maintenance, _known_status, _percent, _thresholds, _value_text,
)

# The colours of the statuses (the template's CSS has them too, in .s-ok, .s-warning...): a sparkline's last dot,
# and what a test reading the page in a browser expects.
COLOURS = {OK: '#1a7f37', WARNING: '#9a6700', CRITICAL: '#c62828', UNKNOWN: '#57606a', MAINTENANCE: '#0969da'}
TINTS = {OK: '#e8f5ec', WARNING: '#fff4d6', CRITICAL: '#fde8e8', UNKNOWN: '#eef0f2', MAINTENANCE: '#ddf4ff'}


def _h(text):
    """Text escaped for HTML content and attribute values."""
    text = '' if text is None else str(text)
    return (text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
            .replace('"', '&quot;').replace("'", '&#x27;'))


def _fill(template, **values):
    """A template of _report_template filled: markup placeholders as given, every other value escaped (_h)."""
    return Template(template).substitute(dict(
        (name, value if name in page.MARKUP_PLACEHOLDERS else _h(value)) for name, value in values.items()))


def _lines(fragments):
    """Fragments each ended by a newline, for a ${rows}-like placeholder that ends a line of its own."""
    return ''.join(fragment + '\n' for fragment in fragments)


def _badge(status):
    return _fill(page.BADGE, status=status, label=status.upper())


def _sparkline(values, current_status):
    """An inline SVG line of the numbers in values (None = not measured), the last point coloured by status."""
    width, height, pad = 96, 26, 3
    points = [(index, value) for index, value in enumerate(values) if value is not None]
    if not points:
        return _fill(page.NO_SPARKLINE)
    low = min(pair[1] for pair in points)
    high = max(pair[1] for pair in points)
    span = (high - low) or 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    coords = ['%.1f,%.1f' % (pad + index * step, height - pad - (value - low) / span * (height - 2 * pad)) for index, value in points]
    last_x, last_y = coords[-1].split(',')
    return _fill(page.SPARKLINE, width=width, height=height,
                 label='from %s to %s' % (format_number(points[0][1]), format_number(points[-1][1])),
                 points=' '.join(coords), x=last_x, y=last_y, colour=COLOURS.get(current_status, COLOURS[UNKNOWN]))


def _html_summary(report):
    summary = report['summary']
    cards = [('hosts', summary['hosts'], 'neutral')] + [(status, summary[status], status) for status in (OK, WARNING, CRITICAL, UNKNOWN)]
    cards.append(('failing hosts', len(summary['failing_hosts']), CRITICAL if summary['failing_hosts'] else OK))
    if summary.get(MAINTENANCE):
        cards.append((MAINTENANCE, summary[MAINTENANCE], MAINTENANCE))
    critical_on = ''
    if summary['failing_hosts']:
        critical_on = _fill(page.CRITICAL_ON, hosts=', '.join(summary['failing_hosts']))
    maintenance = _in_maintenance(report)
    if maintenance:
        critical_on += _fill(page.IN_MAINTENANCE, items=_lines(_fill(page.IN_MAINTENANCE_ITEM, host=host, text=text)
                                                               for host, text in maintenance))
    return _fill(page.SUMMARY, critical_on=critical_on, cards=_lines(
        _fill(page.CARD, status=status, name=label, number='%d' % number,
              label=label if label in ('hosts', 'failing hosts') else label + ' checks')
        for label, number, status in cards))


def _html_hosts_table(report):
    rows = []
    for host, entry in sorted(report['hosts'].items()):
        counts = dict((status, 0) for status in STATUSES)
        for item in entry['results']:
            counts[item['status']] += 1
        bad = sorted((item for item in entry['results'] if item['status'] != OK), key=lambda item: -SEVERITY[item['status']])
        attention = '; '.join('%s: %s' % (item['check'], item['status']) for item in bad[:4]) or 'nothing'
        if len(bad) > 4:
            attention += '; and %d more' % (len(bad) - 4)
        rows.append(_fill(page.HOST_ROW, status=entry['worst'], host=host, badge=_badge(entry['worst']), ok='%d' % counts[OK],
                          warning='%d' % counts[WARNING], critical='%d' % counts[CRITICAL], unknown='%d' % counts[UNKNOWN],
                          attention=attention))
    return _fill(page.HOSTS, rows=_lines(rows))


def _html_host_details(report):
    hosts = []
    for host, entry in sorted(report['hosts'].items()):
        rows = [_fill(page.CHECK_ROW, status=item['status'], check=item['check'], badge=_badge(item['status']),
                      value=_value_text(item), thresholds=_thresholds(item), reason=item['reason'],
                      measured_at=item.get('measured_at') or '')
                for item in entry['results']]
        if not entry['results']:
            rows.append(_fill(page.NO_CHECKS))
        hosts.append(_fill(page.HOST_DETAILS, status=entry['worst'], host=host, open=page.OPEN if entry['worst'] != OK else '',
                           badge=_badge(entry['worst']), checks='%d' % len(entry['results']), rows=_lines(rows)))
    return _fill(page.DETAILS, details=''.join(hosts))


def _html_attention(report):
    attention = _attention(report)
    if not attention:
        return _fill(page.ALL_OK)
    return _fill(page.ATTENTION, items=_lines(
        _fill(page.ATTENTION_ITEM, host=host, check=item['check'], badge=_badge(item['status']), reason=item['reason'])
        for host, item in attention))


def _trend_cell(status, title):
    """One dot of the trends grid; status None: the host was not in that run."""
    return _fill(page.TREND_CELL, status=status or 'none', title=title, letter=(status or '-')[:1].upper())


def _html_values(report):
    """The sparklines of the checks measured as numbers in at least two runs ('' when there are none)."""
    trends = report['trends']
    checks = sorted(set(check for values in trends['values'].values() for check, series in values.items()
                        if len([value for value in series if value is not None]) >= 2), key=str)
    if not checks:
        return ''
    rows = []
    for host, values in sorted(trends['values'].items()):
        current = dict((item['check'], item) for item in report['hosts'].get(host, {}).get('results', []))
        cells = []
        for check in checks:
            series = values.get(check) or []
            known = [value for value in series if value is not None]
            item = current.get(check)
            if len(known) < 2:
                cells.append(_fill(page.VALUE_NONE))
                continue
            unit = item.get('unit', '') if item else ''
            cells.append(_fill(page.VALUE_CELL, host=host, check=check, sparkline=_sparkline(series, item['status'] if item else UNKNOWN),
                               now=with_unit(known[-1], unit)))
        rows.append(_fill(page.VALUE_ROW, host=host, cells=''.join(cells)))
    return _fill(page.VALUES, heads=''.join(_fill(page.VALUE_HEAD, check=check) for check in checks), rows=_lines(rows))


def _html_trends(report):
    trends = report['trends']
    if trends['runs'] == 0:
        return _fill(page.NO_TRENDS, kind=report['kind'])
    points = trends['points']
    heads = []
    for index, point in enumerate(points):
        label = 'now' if index == len(points) - 1 else str(point.get('generated_at') or '')[5:10]
        heads.append(_fill(page.TREND_HEAD, title=point.get('generated_at'), label=label))
    rows = [_fill(page.TREND_OVERALL, cells=''.join(
        _trend_cell(_known_status(point.get('worst')), '%s: %s' % (point.get('generated_at'), _known_status(point.get('worst'))))
        for point in points))]
    for host, statuses in sorted(trends['hosts'].items()):
        cells = []
        for point, status in zip(points, statuses):
            status = None if status is None else _known_status(status)
            cells.append(_trend_cell(status, '%s: %s' % (point.get('generated_at'), status or 'not in this run')))
        rows.append(_fill(page.TREND_ROW, host=host, cells=''.join(cells)))
    return _fill(page.TRENDS, runs='%d' % len(points), heads=_lines(heads), rows=_lines(rows), values=_html_values(report))


def _html_weekly(weekly):
    totals = weekly['totals']
    rows = []
    for host, entry in sorted(weekly['hosts'].items()):
        issues = page.WEEKLY_ISSUE_SEPARATOR.join(
            _fill(page.WEEKLY_ISSUE, date=str(issue['generated_at'])[:10], check=issue['check'], status=issue['status'])
            for issue in entry['issues'][:5]) or _fill(page.WEEKLY_NO_ISSUES)
        rows.append(_fill(page.WEEKLY_ROW, status=entry['worst'], host=host, badge=_badge(entry['worst']), runs='%d' % entry['runs'],
                          uptime=_percent(entry['uptime_percent']), requests=_count(entry['requests']),
                          security_events=_count(entry['security_events']), warning='%d' % entry['warning'],
                          critical='%d' % entry['critical'], issues=issues))
    return _fill(page.WEEKLY, start=weekly['from'][:10], end=weekly['to'][:10], reports='%d' % weekly['reports'],
                 uptime=_percent(totals['uptime_percent']), requests=_count(totals['requests']),
                 security_events=_count(totals['security_events']), issues_count='%d' % totals['issues'], rows=_lines(rows))


def render_html(report):
    """One self-contained HTML page (inline CSS, no script, no external URL) for a person to read."""
    summary = report['summary']
    status = summary['worst']
    sections = [_html_summary(report), _html_hosts_table(report), _html_attention(report)]
    if report.get('weekly'):
        sections.append(_html_weekly(report['weekly']))
    sections += [_html_trends(report), _html_host_details(report)]
    return _fill(page.PAGE, title=report['title'], status=status, status_word=status.upper(), kind=report['kind'],
                 generated_at=report['generated_at'], run_id=report['run_id'], counts=_counts_line(summary),
                 schema=SCHEMA, schema_version='%d' % SCHEMA_VERSION, sections='\n'.join(sections))

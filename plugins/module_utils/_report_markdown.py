# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reports of the daily checks: the Markdown of a run (for a ticket or a chat) and of one host.

Every value from a host or from an earlier report is made inert (_md, _md_code): no link, image, HTML,
autolink or table break can come through.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.clawd.ops.plugins.module_utils._checks import CRITICAL, OK, STATUSES, UNKNOWN, WARNING
from ansible_collections.clawd.ops.plugins.module_utils._report import (
    _attention, _count, _counts_line, _in_maintenance, _known_status, _percent, _thresholds, _value_text,
)

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
    maintenance = _in_maintenance(report)
    if maintenance:
        lines += ['**In maintenance** (no alert for these hosts):', '']
        lines += ['- %s %s' % (_md(host), _md(text)) for host, text in maintenance]
        lines.append('')
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

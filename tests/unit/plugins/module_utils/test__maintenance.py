# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The maintenance marker (module_utils/_maintenance): its format, open/expired/planned windows at a frozen ``now``,
what the daily checks' judgement makes of it (statuses, summary, problems), and the reports that show it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import calendar
import json

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _maintenance as m
from ansible_collections.clawd.ops.plugins.module_utils._check_results import judge_hosts
from ansible_collections.clawd.ops.plugins.module_utils._checks import judge, make_result, summarise
from ansible_collections.clawd.ops.plugins.module_utils._report import build_report
from ansible_collections.clawd.ops.plugins.module_utils._report_html import render_html
from ansible_collections.clawd.ops.plugins.module_utils._report_markdown import render_host_markdown, render_markdown

NOW = calendar.timegm((2026, 12, 7, 3, 30, 0))  # 2026-12-07T03:30:00Z, frozen for every test
MARKER = {'maintenance': True, 'since': '2026-12-07T03:00:00Z', 'until': '2026-12-07T05:00:00Z',
          'reason': 'upgrade to 3f2a9c1, wave 2 of 4', 'run_id': 'upgrade-20261207T030000Z', 'commit': '3f2a9c1', 'who': 'ops@laptop'}


def slurped(marker):
    """What ansible.builtin.slurp registers for a marker file (a dict is written as JSON, text as it is)."""
    raw = json.dumps(marker) if isinstance(marker, dict) else marker
    return {'content': base64.b64encode(raw.encode('utf-8')).decode('ascii'), 'encoding': 'base64',
            'source': '/var/lib/clawd/maintenance.json', 'changed': False}


NOT_FOUND = {'failed': True, 'msg': 'file not found: /var/lib/clawd/maintenance.json', 'changed': False}


def results():
    return [judge('disk', 41, 70, 80, unit='%'), make_result('health', 'critical', 'unreachable: refused'),
            make_result('latency', 'unknown', 'no health answer to time')]


def test_build_marker_always_ends_and_names_who_and_why():
    marker = m.build_marker('upgrade to 3f2a9c1', 7200, 'r1', '3f2a9c1', 'ops@laptop', now=NOW)
    assert marker == {'maintenance': True, 'since': '2026-12-07T03:30:00Z', 'until': '2026-12-07T05:30:00Z',
                      'reason': 'upgrade to 3f2a9c1', 'run_id': 'r1', 'commit': '3f2a9c1', 'who': 'ops@laptop'}
    with pytest.raises(m.MaintenanceError, match='must end'):
        m.build_marker('upgrade', 0, now=NOW)
    with pytest.raises(m.MaintenanceError, match='reason'):
        m.build_marker(' ', 60, now=NOW)


@pytest.mark.parametrize('raw, why', [
    ('not json', 'not JSON'), ('[1]', 'not a JSON object'), ('{"reason": "x"}', 'without an end'),
    ('{"until": "tomorrow"}', 'without an end'), ('{"until": "2026-12-07T05:00:00Z", "since": "noon"}', 'since'),
])
def test_parse_marker_refuses_a_window_without_an_end(raw, why):
    with pytest.raises(m.MaintenanceError, match=why):
        m.parse_marker(raw)


@pytest.mark.parametrize('now, state', [
    (calendar.timegm((2026, 12, 7, 2, 59, 59)), 'planned'), (calendar.timegm((2026, 12, 7, 3, 0, 0)), 'open'),
    (NOW, 'open'), (calendar.timegm((2026, 12, 7, 4, 59, 59)), 'open'), (calendar.timegm((2026, 12, 7, 5, 0, 0)), 'expired'),
])
def test_window_state_at_its_edges(now, state):
    assert m.window_state(MARKER, now) == state


def test_an_open_window_holds_back_what_is_not_ok():
    marked = m.mark_results(results(), slurped(MARKER), now=NOW)
    assert [(r['check'], r['status']) for r in marked] == [
        ('maintenance', 'maintenance'), ('disk', 'ok'), ('health', 'maintenance'), ('latency', 'maintenance')]
    window = marked[0]
    assert window['reason'] == ('in maintenance until 2026-12-07T05:00:00Z: upgrade to 3f2a9c1, wave 2 of 4 (run upgrade-20261207T030000Z, '
                                'commit 3f2a9c1, by ops@laptop); held back: health critical, latency unknown')
    assert window['details']['until'] == '2026-12-07T05:00:00Z' and window['measured_at'] == '2026-12-07T03:30:00Z'
    assert marked[2]['details']['status_measured'] == 'critical'
    assert marked[2]['reason'] == 'in maintenance until 2026-12-07T05:00:00Z (measured critical): unreachable: refused'


def test_an_expired_window_is_ignored_and_a_warning():
    marked = m.mark_results(results(), slurped(MARKER), now=calendar.timegm((2026, 12, 7, 6, 0, 0)))
    assert [(r['check'], r['status']) for r in marked] == [
        ('maintenance', 'warning'), ('disk', 'ok'), ('health', 'critical'), ('latency', 'unknown')]
    assert marked[0]['reason'].startswith('maintenance window expired at 2026-12-07T05:00:00Z: upgrade to 3f2a9c1')


def test_no_marker_changes_nothing_and_a_broken_one_is_a_warning():
    base = results()
    assert m.mark_results(base, NOT_FOUND, now=NOW) == base
    assert m.mark_results(base, {'skipped': True}, now=NOW) == base
    broken = m.mark_results(base, slurped('{"reason": "forever"}'), now=NOW)
    assert broken[0]['status'] == 'warning' and 'without an end' in broken[0]['reason']
    assert [r['status'] for r in broken[1:]] == ['ok', 'critical', 'unknown']
    denied = m.mark_results(base, {'failed': True, 'msg': 'file is not readable: /var/lib/clawd/maintenance.json'}, now=NOW)
    assert denied[0]['status'] == 'warning' and 'not readable' in denied[0]['reason']


def test_planned_window_changes_nothing_but_says_so():
    marked = m.mark_results(results(), slurped(dict(MARKER, since='2026-12-07T04:00:00Z')), now=NOW)
    assert marked[0]['status'] == 'ok' and 'planned from 2026-12-07T04:00:00Z' in marked[0]['reason']
    assert [r['status'] for r in marked[1:]] == ['ok', 'critical', 'unknown']


def judged(maintenance):
    hosts = {'web1': {'checks': ['health'], 'health': {'healthy': False, 'status': 'unreachable', 'http_status': 0,
                                                       'failed_checks': ['unreachable: refused']}, 'maintenance': maintenance},
             'web2': {'checks': ['health'], 'health': {'healthy': True, 'status': 'ok', 'http_status': 200, 'checks': {}}}}
    return judge_hosts(hosts, now=NOW)


def test_judgement_a_host_in_maintenance_is_neither_warning_nor_critical():
    found = judged(slurped(MARKER))
    summary = found['summary']
    assert summary['worst'] == 'maintenance' and summary['failing_hosts'] == [] and summary['warning_hosts'] == []
    assert summary['maintenance_hosts'] == ['web1'] and summary['maintenance'] == 2 and summary['critical'] == 0
    assert found['problems'] == []
    # The role notifies when the worst is warning or critical: a host in maintenance sends nothing.
    assert summary['worst'] not in ('warning', 'critical')


def test_judgement_an_expired_window_alerts_as_before_plus_a_warning():
    found = judge_hosts({'web1': {'checks': ['health'], 'health': {'healthy': False, 'status': 'unreachable', 'http_status': 0,
                                                                   'failed_checks': ['refused']}, 'maintenance': slurped(MARKER)}},
                        now=calendar.timegm((2026, 12, 8, 0, 0, 0)))
    assert found['summary']['worst'] == 'critical' and found['summary']['failing_hosts'] == ['web1']
    assert found['problems'][0].startswith('web1: health critical')
    assert 'web1: maintenance warning: maintenance window expired at 2026-12-07T05:00:00Z' in found['problems'][1]


def test_judgement_without_a_maintenance_key_is_as_before():
    found = judge_hosts({'web1': {'checks': ['health'], 'health': {'healthy': True, 'status': 'ok', 'http_status': 200, 'checks': {}}}},
                        now=NOW)
    assert [r['check'] for r in found['results_by_host']['web1']] == ['health']


def test_summary_counts_maintenance_apart():
    summary = summarise({'a': [make_result('maintenance', 'maintenance', 'until 05:00'), judge('disk', 1, 70, 80)],
                         'b': [judge('disk', 75, 70, 80)], 'c': [make_result('health', 'unknown', 'no answer')]})
    assert summary['maintenance'] == 1 and summary['maintenance_hosts'] == ['a']
    assert summary['host_status'] == {'a': 'maintenance', 'b': 'warning', 'c': 'unknown'} and summary['worst'] == 'warning'
    assert summarise({'a': [make_result('x', 'maintenance', 'r')], 'c': [make_result('y', 'unknown', 'r')]})['worst'] == 'unknown'


def test_reports_show_the_host_in_maintenance_with_until_and_reason():
    found = judged(slurped(MARKER))
    report = build_report('daily', found['results_by_host'], run_id='daily-1', now=None)
    assert report['hosts']['web1']['worst'] == 'maintenance' and report['summary']['maintenance_hosts'] == ['web1']
    markdown = render_markdown(report)
    assert '# Daily checks: MAINTENANCE' in markdown
    assert '**In maintenance** (no alert for these hosts):' in markdown
    assert ('- web1 until 2026-12-07T05:00:00Z: upgrade to 3f2a9c1, wave 2 of 4 (run upgrade-20261207T030000Z, commit 3f2a9c1, '
            'by ops\\@laptop); held back: health critical') in markdown
    assert '## Needs attention' not in markdown and 'Every check is ok.' in markdown
    assert '2 in maintenance' in markdown
    assert '| web1 | **MAINTENANCE** |' in markdown
    assert '| health | **MAINTENANCE** |' in render_host_markdown(report, 'web1')
    html = render_html(report)
    assert 'id="maintenance"' in html and 'data-status="maintenance"' in html and '.s-maintenance{' in html
    assert 'until 2026-12-07T05:00:00Z: upgrade to 3f2a9c1, wave 2 of 4' in html
    assert 'data-count="maintenance"' in html and 'id="all-ok"' in html


def test_reports_of_an_expired_window_show_the_warning():
    found = judge_hosts({'web1': {'checks': [], 'maintenance': slurped(MARKER)}}, now=calendar.timegm((2026, 12, 8, 0, 0, 0)))
    markdown = render_markdown(build_report('daily', found['results_by_host'], run_id='daily-2'))
    assert '# Daily checks: WARNING' in markdown and '**In maintenance**' not in markdown
    assert '- **WARNING** web1 `maintenance`: maintenance window expired at 2026-12-07T05:00:00Z' in markdown


def test_ensure_present_is_idempotent_and_absent_removes(tmp_path):
    path = str(tmp_path / 'clawd' / 'maintenance.json')
    marker = m.build_marker('upgrade to 3f2a9c1', 7200, 'r1', '3f2a9c1', 'ops@laptop', now=NOW)
    assert m.ensure_present(path, marker, check_mode=True, now=NOW)['changed'] is True
    assert not (tmp_path / 'clawd').exists()
    first = m.ensure_present(path, marker, now=NOW)
    assert first['changed'] is True and first['before'] is None and m.read_marker(path) == (marker, None)
    later = m.build_marker('upgrade to 3f2a9c1', 7200, 'r1', '3f2a9c1', 'ops@laptop', now=NOW + 60)
    again = m.ensure_present(path, later, now=NOW + 60)
    assert again['changed'] is False and m.read_marker(path)[0]['since'] == '2026-12-07T03:30:00Z'
    other = m.build_marker('upgrade to 9e8d7c6', 7200, 'r2', '9e8d7c6', 'ops@laptop', now=NOW + 60)
    assert m.ensure_present(path, other, now=NOW + 60)['changed'] is True and m.read_marker(path)[0]['run_id'] == 'r2'
    # The same run's marker whose window has ended is written again.
    assert m.ensure_present(path, other, now=NOW + 8000)['changed'] is True
    assert m.ensure_absent(path, check_mode=True)['changed'] is True and m.read_marker(path)[0] is not None
    gone = m.ensure_absent(path)
    assert gone['changed'] is True and gone['before']['run_id'] == 'r2' and m.read_marker(path) == (None, None)
    assert m.ensure_absent(path)['changed'] is False


def test_read_as_slurp_is_what_the_judgement_reads_from_slurp(tmp_path):
    path = str(tmp_path / 'maintenance.json')
    assert m.read_as_slurp(path) == {}
    assert m.from_slurp(m.read_as_slurp(path)) == (None, None)  # no file: no window
    marker = m.build_marker('upgrade to 3f2a9c1', 7200, 'r1', '3f2a9c1', 'ops@laptop', now=NOW)
    m.ensure_present(path, marker, now=NOW)
    read = m.read_as_slurp(path)
    assert read['source'] == path and m.from_slurp(read) == (marker, None)
    held = m.mark_results([make_result('disk', 'critical', 'full')], read, now=NOW + 60)
    assert [r['status'] for r in held] == ['maintenance', 'maintenance']


def test_read_as_slurp_bounds_what_it_reads_and_names_an_unreadable_marker(tmp_path):
    big = tmp_path / 'big.json'
    big.write_bytes(b'{' + b' ' * (m.MARKER_READ_LIMIT + 10) + b'}')
    read = m.read_as_slurp(str(big))
    assert read['failed'] is True and 'over %d bytes' % m.MARKER_READ_LIMIT in read['msg']
    assert m.mark_results([], read, now=NOW)[0]['status'] == 'warning'
    folder = m.read_as_slurp(str(tmp_path))  # a folder where the file should be
    assert folder['failed'] is True and folder['msg'].startswith('cannot read %s' % tmp_path)

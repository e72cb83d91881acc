# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reports of the daily checks (module_utils/_report): schema, Markdown, HTML, trends, weekly, atomic writes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import re
from types import SimpleNamespace

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _checks, _report, _report_files, _report_html, _report_markdown
from ansible_collections.clawd.ops.plugins.module_utils._checks import judge, make_result, unknown

T0 = datetime.datetime(2026, 12, 1, 7, 0, 0, tzinfo=datetime.timezone.utc)
HOSTILE = '<script>alert("x")</script> | rm -rf & <img src=x onerror=alert(1)>'


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """Every default "now" (a result's measured_at, a report's generated_at) is T0: no test reads the wall clock."""
    class FrozenDateTime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return T0.astimezone(tz) if tz else T0.replace(tzinfo=None)
    fake = SimpleNamespace(datetime=FrozenDateTime, timezone=datetime.timezone, timedelta=datetime.timedelta)
    monkeypatch.setattr(_report, 'datetime', fake)
    monkeypatch.setattr(_checks, 'datetime', fake)


def day(number, hour=7):
    return T0 + datetime.timedelta(days=number, hours=hour - 7)


def results(disk=41.2, health='ok', extra=()):
    items = [
        judge('disk', disk, 70, 80, unit='%', measured_at='2026-12-01T07:00:00Z'),
        judge('latency', 120, 500, 2000, unit='ms', measured_at='2026-12-01T07:00:00Z', details={'requests': 1000}),
        make_result('health', health, 'health endpoint says %s' % health, measured_at='2026-12-01T07:00:00Z'),
    ]
    return items + list(extra)


def three_hosts(offset=0):
    return {
        'web1': results(disk=40 + offset),
        'web2': results(disk=72 + offset),
        'web3': results(disk=85 + offset, health='critical', extra=[unknown('dns', 'no answer from 127.0.0.1')]),
    }


def test_report_has_the_stable_schema():
    report = _report.build_report('daily', three_hosts(), now=T0)
    assert tuple(sorted(report)) == tuple(sorted(_report.REPORT_KEYS))
    assert report['schema'] == 'clawd.ops/checks-report' and report['schema_version'] == 1
    assert report['kind'] == 'daily' and report['generated_at'] == '2026-12-01T07:00:00Z'
    assert report['run_id'] == 'daily-20261201T070000Z'
    assert sorted(report['hosts']) == ['web1', 'web2', 'web3']
    assert sorted(report['hosts']['web1']) == ['results', 'worst']
    assert sorted(report['hosts']['web1']['results'][0]) == sorted(['check', 'status', 'value', 'unit', 'warning', 'critical',
                                                                    'reason', 'measured_at'])
    assert sorted(report['summary']) == sorted(['hosts', 'checks', 'ok', 'warning', 'critical', 'unknown', 'maintenance', 'worst',
                                                'failing_hosts', 'warning_hosts', 'maintenance_hosts', 'host_status'])
    assert sorted(report['trends']) == ['hosts', 'points', 'runs', 'values']
    assert report['weekly'] is None
    assert [report['hosts'][h]['worst'] for h in ('web1', 'web2', 'web3')] == ['ok', 'warning', 'critical']
    assert report['summary']['failing_hosts'] == ['web3']
    json.dumps(report)  # serialisable as it is


def test_unknown_kind_and_bad_results_are_refused():
    with pytest.raises(_report.ReportError, match='kind'):
        _report.build_report('hourly', {})
    with pytest.raises(ValueError, match='host web1'):
        _report.build_report('daily', {'web1': [{'check': 'disk', 'status': 'purple'}]})


def test_markdown_without_history():
    report = _report.build_report('daily', three_hosts(), now=T0)
    text = _report_markdown.render_markdown(report)
    assert text.startswith('# Daily checks: CRITICAL\n')
    assert '3 hosts, 10 checks: 6 ok, 1 warning, 2 critical, 1 unknown' in text
    assert '| web2 | **WARNING** | 2 | 1 | 0 | 0 |' in text
    assert '**Critical on:** web3' in text
    assert '- **CRITICAL** web3 `disk`: disk is 85 % (warning at 70 %, critical at 80 %)' in text
    # worst first in the attention list
    assert text.index('**CRITICAL** web3 `disk`') < text.index('**WARNING** web2') < text.index('**UNKNOWN** web3 `dns`')
    assert 'No earlier daily reports yet' in text


def test_markdown_all_ok_says_so():
    text = _report_markdown.render_markdown(_report.build_report('quick', {'web1': results()}, now=T0))
    assert text.startswith('# Quick check: OK')
    assert 'Every check is ok.' in text
    assert 'Needs attention' not in text


def test_hostile_strings_are_escaped_in_html_and_markdown():
    hostile = {'web1': [make_result('logs_errors', 'warning', HOSTILE)], '<b>evil|host</b>': [judge('disk', 1, 70, 80)]}
    report = _report.build_report('daily', hostile, title='Checks <i>now</i>', run_id='r"1', now=T0)
    page = _report_html.render_html(report)
    assert '<script' not in page and '<img' not in page and '<b>evil' not in page and '<i>now' not in page
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;' in page
    assert '&lt;b&gt;evil|host&lt;/b&gt;' in page
    assert 'r&quot;1' in page
    text = _report_markdown.render_markdown(report)
    assert '<script' not in text and '\\| rm -rf' in text
    for line in text.splitlines():
        if line.startswith('| &lt;b&gt;evil'):
            assert line.count(' | ') == 5  # the pipe in the host name does not add a column


def test_html_is_self_contained_and_shows_statuses():
    page = _report_html.render_html(_report.build_report('daily', three_hosts(), now=T0))
    assert page.startswith('<!DOCTYPE html>')
    assert '<script' not in page.lower()
    assert not re.search(r'(src|href)\s*=', page, re.I)
    assert not re.search(r'https?://', page.replace('http://www.w3.org/2000/svg', ''))
    assert '@import' not in page and 'url(' not in page
    assert re.search(r'<tr class="row s-critical" data-host="web3" data-status="critical">', page)
    assert '.s-critical{--c:#c62828' in page
    assert 'id="no-trends"' in page and 'id="trends"' not in page


def test_trends_from_earlier_reports():
    earlier = []
    for number in range(3):
        earlier.append(_report.build_report('daily', three_hosts(offset=number), now=day(number)))
    current = _report.build_report('daily', dict(three_hosts(offset=3), web4=results()), now=day(3), earlier=earlier)
    trends = current['trends']
    assert trends['runs'] == 3
    assert [point['generated_at'][:10] for point in trends['points']] == ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04']
    assert trends['hosts']['web4'] == [None, None, None, 'ok']
    assert trends['hosts']['web2'] == ['warning'] * 4
    assert trends['values']['web1']['disk'] == [40, 41, 42, 43]
    assert 'dns' not in trends['values']['web3']  # unknown has no value: no series
    page = _report_html.render_html(current)
    assert 'id="trends"' in page and 'id="no-trends"' not in page
    assert page.count('<svg class="spark"') == 6  # disk and latency for web1..web3; web4 has one point only
    assert 'data-spark="web1/disk"' in page and 'data-spark="web4/disk"' not in page
    text = _report_markdown.render_markdown(current)
    assert 'Overall by run (oldest first): 2026-12-01 CRITICAL' in text


def _run(tmp_path, number, kind='daily', hosts=None, **kwargs):
    return _report_files.make_run(str(tmp_path), kind, hosts if hosts is not None else three_hosts(offset=number), now=day(number), **kwargs)


def test_make_run_writes_the_folder_and_latest(tmp_path):
    run = _run(tmp_path, 0)
    folder = tmp_path / 'daily-20261201T070000Z'
    assert run['paths']['dir'] == str(folder)
    assert sorted(os.listdir(str(folder))) == ['hosts', 'run.html', 'run.json', 'run.md']
    assert sorted(os.listdir(str(folder / 'hosts'))) == ['web1.json', 'web1.md', 'web2.json', 'web2.md', 'web3.json', 'web3.md']
    assert run['files'] == sorted(['run.json', 'run.md', 'run.html'] + ['hosts/web%d.%s' % (n, e) for n in (1, 2, 3) for e in ('json', 'md')])
    written = json.loads((folder / 'run.json').read_text())
    assert written == json.loads((tmp_path / 'latest-daily.json').read_text())
    assert written['report_dir'] == 'daily-20261201T070000Z'
    host = json.loads((folder / 'hosts' / 'web3.json').read_text())
    assert host['host'] == 'web3' and host['worst'] == 'critical' and len(host['results']) == 4
    assert (folder / 'run.md').read_text() == run['markdown']
    assert run['paths']['hosts']['web2'] == {'json': str(folder / 'hosts' / 'web2.json'), 'md': str(folder / 'hosts' / 'web2.md')}
    assert not [name for name in os.listdir(str(tmp_path)) if name.startswith('.')]


def test_formats_choose_the_files_but_run_json_is_always_there(tmp_path):
    run = _run(tmp_path, 0, formats=['html'])
    assert run['files'] == ['run.html', 'run.json']
    assert run['paths']['run_md'] is None and run['paths']['hosts']['web1'] == {'json': None, 'md': None}
    with pytest.raises(_report.ReportError, match='formats'):
        _run(tmp_path, 1, formats=['pdf'])


def test_two_runs_in_the_same_second_get_two_folders(tmp_path):
    first = _run(tmp_path, 0)
    second = _run(tmp_path, 0)
    assert os.path.basename(second['paths']['dir']) == 'daily-20261201T070000Z-2'
    assert first['paths']['dir'] != second['paths']['dir']
    assert second['report']['trends']['runs'] == 1


def test_history_limits_and_reads_only_the_same_kind(tmp_path):
    for number in range(5):
        _run(tmp_path, number)
    _run(tmp_path, 5, kind='quick')
    run = _run(tmp_path, 6, history=2)
    assert run['report']['trends']['runs'] == 2
    assert [p['generated_at'][:10] for p in run['report']['trends']['points']] == ['2026-12-04', '2026-12-05', '2026-12-07']
    assert _run(tmp_path, 7, history=0)['report']['trends']['runs'] == 0
    assert _run(tmp_path, 8, kind='quick')['report']['trends']['runs'] == 1


def test_a_broken_earlier_report_is_left_out_and_named(tmp_path):
    _run(tmp_path, 0)
    broken = tmp_path / 'daily-20261202T070000Z'
    broken.mkdir()
    (broken / 'run.json').write_text('{not json')
    other = tmp_path / 'daily-20261203T070000Z'
    other.mkdir()
    (other / 'run.json').write_text(json.dumps({'schema': 'something/else'}))
    run = _run(tmp_path, 3)
    assert run['report']['trends']['runs'] == 1
    assert len(run['problems']) == 2 and 'daily-20261202T070000Z' in run['problems'][0]


def test_check_mode_writes_nothing_but_says_what(tmp_path):
    dest = tmp_path / 'reports'
    run = _report_files.make_run(str(dest), 'daily', three_hosts(), now=T0, check_mode=True)
    assert not dest.exists()
    assert run['paths']['run_html'] == str(dest / 'daily-20261201T070000Z' / 'run.html')
    assert run['markdown'].startswith('# Daily checks: CRITICAL')
    _run(tmp_path, 0)
    before = sorted(os.listdir(str(tmp_path)))
    _report_files.make_run(str(tmp_path), 'daily', three_hosts(), now=day(1), check_mode=True)
    assert sorted(os.listdir(str(tmp_path))) == before


def test_a_failed_write_leaves_no_half_run_and_keeps_latest(tmp_path, monkeypatch):
    _run(tmp_path, 0)
    latest_before = (tmp_path / 'latest-daily.json').read_text()
    real_write = _report_files.write_atomically
    calls = []

    def failing_write(path, text, mode=0o644):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, 'No space left on device')
        real_write(path, text, mode)

    monkeypatch.setattr(_report_files, 'write_atomically', failing_write)
    with pytest.raises(OSError, match='No space'):
        _run(tmp_path, 1)
    assert sorted(os.listdir(str(tmp_path))) == ['daily-20261201T070000Z', 'latest-daily.json']
    assert (tmp_path / 'latest-daily.json').read_text() == latest_before


def test_write_file_replaces_atomically_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / 'latest-daily.json'
    target.write_text('old')

    def broken_replace(src, dst):
        raise OSError('rename failed')

    monkeypatch.setattr(os, 'replace', broken_replace)
    with pytest.raises(OSError, match='rename failed'):
        _report_files.write_atomically(str(target), 'new')
    assert target.read_text() == 'old'
    assert os.listdir(str(tmp_path)) == ['latest-daily.json']
    monkeypatch.undo()
    _report_files.write_atomically(str(target), 'new')
    assert target.read_text() == 'new'
    assert oct(os.stat(str(target)).st_mode & 0o777) == oct(0o644)


def test_host_names_become_safe_unique_file_names(tmp_path):
    hosts = {'../../etc/passwd': results(), 'a/b': results(), 'a_b': results()}
    run = _report_files.make_run(str(tmp_path), 'daily', hosts, now=T0)
    names = sorted(os.listdir(os.path.join(run['paths']['dir'], 'hosts')))
    assert names == ['a_b.json', 'a_b.md', 'a_b_.json', 'a_b_.md', 'etc_passwd.json', 'etc_passwd.md']
    assert not os.path.exists(str(tmp_path / 'etc'))


def test_telegram_tokens_in_urls_are_masked():
    token = '123456789:AAEhBOweik9ai2o8qrBl3aK1234567890ab'
    hosts = {'web1': [make_result('webhook', 'critical', 'last error from https://api.telegram.org/bot%s/getWebhookInfo' % token,
                                  details={'url': 'https://api.telegram.org/bot%s/x' % token})]}
    report = _report.build_report('daily', hosts, now=T0)
    document = json.dumps(report) + _report_html.render_html(report) + _report_markdown.render_markdown(report)
    assert token not in document
    assert '***' in report['hosts']['web1']['results'][0]['reason']


def _daily(tmp_path, when, health_by_host, unauthorized=0):
    hosts = {}
    for host, health in health_by_host.items():
        hosts[host] = [make_result('health', health, 'health %s' % health),
                       judge('logs_unauthorized', unauthorized, 10, 50, unit='lines'),
                       judge('error_rate', 0.5, 1, 5, unit='%', details={'requests': 100})]
    return _report_files.make_run(str(tmp_path), 'daily', hosts, now=when)


def test_weekly_summary_from_the_daily_reports_of_the_last_seven_days(tmp_path):
    _daily(tmp_path, day(-8), {'web1': 'critical', 'web2': 'critical'}, unauthorized=999)  # too old: left out
    for number in range(7):
        _daily(tmp_path, day(number), {'web1': 'ok', 'web2': 'critical' if number in (2, 5) else 'ok'}, unauthorized=number)
    _daily(tmp_path, day(6, hour=18), {'web1': 'ok', 'web3': 'warning'})
    run = _report_files.make_run(str(tmp_path), 'weekly', {}, now=day(7))
    weekly = run['report']['weekly']
    assert weekly['reports'] == 7  # day 0 (exactly 7 days before) is outside; days 1..6 and the evening run of day 6
    assert (weekly['from'], weekly['to']) == ('2026-12-01T07:00:00Z', '2026-12-08T07:00:00Z')
    web1, web2, web3 = weekly['hosts']['web1'], weekly['hosts']['web2'], weekly['hosts']['web3']
    assert web1['runs'] == 7 and web1['uptime_percent'] == 100.0 and web1['issues_count'] == 0 and web1['worst'] == 'ok'
    assert web2['runs'] == 6 and web2['health_checks'] == 6 and web2['health_ok'] == 4
    assert web2['uptime_percent'] == 66.67
    assert web2['critical'] == 2 and web2['worst'] == 'critical'
    assert [issue['generated_at'][:10] for issue in web2['issues']] == ['2026-12-06', '2026-12-03']
    assert web2['security_events'] == sum(range(1, 7))
    assert web2['requests'] == 600
    assert web3['uptime_percent'] == 0.0 and web3['warning'] == 1 and web3['runs'] == 1
    assert weekly['totals']['requests'] == 700 + 600 + 100
    assert weekly['totals']['issues'] == 3
    summary = run['report']['summary']
    assert summary['worst'] == 'critical' and summary['failing_hosts'] == ['web2'] and summary['warning_hosts'] == ['web3']
    assert sorted(run['report']['hosts']) == ['web1', 'web2', 'web3']
    assert os.path.exists(os.path.join(str(tmp_path), 'latest-weekly.json'))
    assert '## Week 2026-12-01 to 2026-12-08' in run['markdown']
    page = open(run['paths']['run_html']).read()
    assert 'id="weekly"' in page and 'data-weekly="web2"' in page and '66.67 %' in page


def test_weekly_without_daily_reports_is_unknown_not_ok(tmp_path):
    run = _report_files.make_run(str(tmp_path), 'weekly', {}, now=T0)
    assert run['report']['weekly']['reports'] == 0
    assert run['report']['summary']['worst'] == 'unknown'
    assert run['report']['weekly']['totals']['uptime_percent'] is None


# ---------------------------------------------------------------- values read back from earlier runs and from hosts

EVIL_LINK = '[click](https://evil.example/p) ![i](https://evil.example/i.png) <https://evil.example/a> ' \
    'https://evil.example/bare www.evil.example me@evil.example &lt;b&gt; `tick` | cell'


class _Tags(object):
    """Every tag and attribute name a page holds (html.parser), to prove nothing injected became markup."""

    def __init__(self, page):
        from html.parser import HTMLParser
        found = self.tags = set()
        attributes = self.attributes = set()

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                found.add(tag)
                attributes.update(name for name, dummy in attrs)
        parser = Parser()
        parser.feed(page)
        parser.close()


def _markdown_tags(text):
    markdown_it = pytest.importorskip('markdown_it')
    return _Tags(markdown_it.MarkdownIt('commonmark', {'html': True}).enable('table').render(text))


def _tamper(path, change):
    with open(path) as handle:
        document = json.load(handle)
    change(document)
    with open(path, 'w') as handle:
        json.dump(document, handle)


def _earlier_with_hostile_values(tmp_path):
    """Two earlier daily runs whose run.json someone (or a bug) filled with markup, a list and a number where statuses go."""
    for number, worst in ((0, '<img src=x onerror=alert(1)>'), (1, 7)):
        run = _run(tmp_path, number, hosts=dict(three_hosts(offset=number), web1=results() + [judge('x', number + 1, 70, 80)]))

        def change(document, worst=worst):
            document['summary']['worst'] = worst
            document['hosts']['web1']['worst'] = '"><script>alert(2)</script>' if number == 0 else ['not', 'a', 'status']
            document['hosts']['web2']['worst'] = {'x': 1}
            for item in document['hosts']['web1']['results']:
                if item['check'] == 'x':
                    item['check'] = '<svg onload=alert(3)>[c](https://evil.example/c)'
            document['hosts']['web3']['results'].append({'check': ['unhashable'], 'status': 'critical', 'value': 3})
        _tamper(run['paths']['run_json'], change)


def test_values_read_back_from_earlier_reports_are_escaped_in_html(tmp_path):
    _earlier_with_hostile_values(tmp_path)
    run = _run(tmp_path, 2)
    assert run['problems'] == [] and run['report']['trends']['runs'] == 2
    assert [point['worst'] for point in run['report']['trends']['points']] == ['unknown', 'unknown', 'critical']
    assert run['report']['trends']['hosts']['web1'][:2] == ['unknown', 'unknown']
    page = open(run['paths']['run_html']).read()
    tags = _Tags(page)
    assert not tags.tags & {'img', 'script', 'a'}, tags.tags
    assert not [name for name in tags.attributes if name.startswith('on')]
    assert '<img' not in page and '<script' not in page and '<svg onload' not in page
    assert '&lt;svg onload=alert(3)&gt;' in page  # the check name read back is shown, as text


def test_values_read_back_from_earlier_reports_are_escaped_in_markdown(tmp_path):
    _earlier_with_hostile_values(tmp_path)
    run = _run(tmp_path, 2)
    text = open(run['paths']['run_md']).read()
    assert 'Overall by run (oldest first): 2026-12-01 UNKNOWN \u2192 2026-12-02 UNKNOWN \u2192 2026-12-03 CRITICAL.' in text
    assert '<img' not in text and '<script' not in text
    tags = _markdown_tags(text)
    assert not tags.tags & {'img', 'script', 'a', 'svg'}, tags.tags


def test_weekly_summary_escapes_what_it_reads_from_daily_reports(tmp_path):
    run = _daily(tmp_path, day(1), {'<b>[h](https://evil.example/h)</b>': 'critical'})

    def change(document):
        for entry in document['hosts'].values():
            for item in entry['results']:
                item['check'] = '<img src=x onerror=alert(4)>'
    _tamper(run['paths']['run_json'], change)
    weekly = _report_files.make_run(str(tmp_path), 'weekly', {}, now=day(2))
    page = open(weekly['paths']['run_html']).read()
    assert not _Tags(page).tags & {'img', 'script', 'a', 'b'}
    assert not _markdown_tags(weekly['markdown']).tags & {'img', 'script', 'a', 'b'}


def test_markdown_neutralises_links_images_html_and_code_spans_from_hosts():
    hosts = {'[h](https://evil.example/h)': [make_result('disk`</code><b>x</b>', 'critical', EVIL_LINK)],
             'web1': [make_result('health', 'warning', EVIL_LINK)]}
    report = _report.build_report('daily', hosts, run_id='r`1 <b>x</b> [r](https://evil.example/r)', now=T0)
    for text in (_report_markdown.render_markdown(report), _report_markdown.render_host_markdown(report, 'web1'),
                 _report_markdown.render_host_markdown(report, '[h](https://evil.example/h)')):
        tags = _markdown_tags(text)
        assert not tags.tags & {'a', 'img', 'b', 'script'}, (tags.tags, text)
        prose = re.sub(r'`[^`]*`', '', text)  # a code span is literal: nothing in it links
        # no bare URL for a renderer that links them (GitHub): the : of :// and the . of www. are escaped
        assert not re.search(r'(?<!\\)://', prose) and 'www.' not in prose
        assert '](' not in prose.replace('\\](', '')
        for line in text.splitlines():
            if line.startswith('| ') and 'evil' in line:
                assert len(re.findall(r'(?<!\\)\|', line)) == line.count(' | ') + 2  # no pipe from a value splits a cell
    text = _report_markdown.render_markdown(report)
    # the readable parts stay readable
    assert 'click' in text and 'cell' in text and 'tick' in text

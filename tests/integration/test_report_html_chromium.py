# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTML run report as a person sees it: rendered by headless Chromium (Debian's `chromium`).

A realistic run (3 hosts: all ok, one warning, one critical, with earlier runs so that trends show) is
written with the collection's own report code; Chromium opens it, and the test reads what is rendered:
the visible text, the computed colours of each status, the counts and the trend. A copy of the page with
a small probe script (the report itself has none) collects these after layout; --dump-dom hands them
back. A screenshot of the report is kept under tests/output/ as a test artifact.

Chromium missing FAILS this test: install Debian's package `chromium`.
"""

import datetime
import json
import os
import re
import shutil
import struct
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUTPUT = os.path.join(ROOT, 'tests', 'output', 'report-chromium')
CHROMIUM_TIMEOUT = 90
HOSTILE = 'no answer to /status within 5 s <script>alert("pwned")</script>'
T0 = datetime.datetime(2026, 12, 1, 7, 0, 0, tzinfo=datetime.timezone.utc)
PROBE = r'''
<script>
(function () {
  function colour(el) { return el ? getComputedStyle(el).backgroundColor : null; }
  function shown(el) { var box = el && el.getBoundingClientRect(); return !!box && box.width > 0 && box.height > 0; }
  var out = {text: document.body.innerText, title: document.title, scripts: document.scripts.length - 1};
  var banner = document.getElementById('overall');
  out.overall = {text: banner.innerText, colour: colour(banner), shown: shown(banner)};
  out.hosts = [].map.call(document.querySelectorAll('#hosts tbody tr'), function (row) {
    var badge = row.querySelector('.badge');
    return {host: row.cells[0].innerText, text: row.innerText, badge: badge.innerText, colour: colour(badge), shown: shown(badge),
            row: colour(row.cells[1])};
  });
  out.cards = [].map.call(document.querySelectorAll('.card'), function (card) {
    return {label: card.querySelector('.l').innerText, number: card.querySelector('.n').innerText,
            colour: getComputedStyle(card.querySelector('.n')).color};
  });
  out.trends = [].map.call(document.querySelectorAll('#trends tbody tr'), function (row) {
    return {name: row.cells[0].innerText, dots: [].map.call(row.querySelectorAll('.dot'), function (dot) {
      return {text: dot.innerText, colour: colour(dot), shown: shown(dot)}; })};
  });
  out.trend_head = [].map.call(document.querySelectorAll('#trends thead th'), function (th) { return th.innerText; });
  out.sparks = [].map.call(document.querySelectorAll('svg.spark'), function (svg) {
    var box = svg.getBoundingClientRect();
    return {width: box.width, height: box.height, dot: svg.querySelector('circle').getAttribute('fill'),
            cell: svg.parentNode.getAttribute('data-spark')};
  });
  out.attention = [].map.call(document.querySelectorAll('#attention li'), function (li) { return li.innerText; });
  var pre = document.createElement('pre');
  pre.id = 'probe-out';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
'''


def _import_report_code(workdir):
    """_checks, _report_files and _report_html from this checkout, as ansible_collections.clawd.ops (a link under workdir when needed)."""
    try:
        import ansible_collections.clawd.ops.plugins.module_utils._report  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        link = os.path.join(workdir, 'collections', 'ansible_collections', 'clawd', 'ops')
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
        sys.path.insert(0, os.path.join(workdir, 'collections'))
    from ansible_collections.clawd.ops.plugins.module_utils import _checks, _report_files, _report_html  # pylint: disable=import-outside-toplevel
    return _checks, _report_files, _report_html


def _chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail('headless Chromium is needed to check the HTML report as a person sees it, and none is installed: '
                'apt-get install --no-install-recommends chromium')
    return None


def _run_chromium(tmp_path, *args):
    profile = tmp_path / ('profile-%d' % len(os.listdir(str(tmp_path))))
    command = [_chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
               '--user-data-dir=%s' % profile, '--window-size=1280,1600'] + list(args)
    done = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT, check=False)
    assert done.returncode == 0, 'chromium failed (%d): %s' % (done.returncode, done.stderr[-2000:])
    return done.stdout


def _rgb(hex_colour):
    value = hex_colour.lstrip('#')
    return 'rgb(%d, %d, %d)' % tuple(int(value[index:index + 2], 16) for index in (0, 2, 4))


def _host_results(checks, host, run):
    """Realistic results: web1 always ok; web2 ok until its latency crept over 500 ms; web3 failing lately."""
    latency = {'web1': 120 + run * 5, 'web2': 380 + run * 40, 'web3': 900 + run * 350}[host]
    disk = {'web1': 41.2, 'web2': 55.0 + run, 'web3': 70.0 + run * 3}[host]
    stamp = checks.utc_stamp(T0 + datetime.timedelta(days=run))
    results = [
        checks.make_result('containers', 'ok', '3 of 3 containers running, none restarting', value=3, measured_at=stamp),
        checks.judge('disk', disk, 70, 80, unit='%', reason_fmt='{value_text} used on /var/lib/docker ({thresholds})', measured_at=stamp),
        checks.judge('latency', latency, 500, 2000, unit='ms', measured_at=stamp),
        checks.judge('error_rate', 0.2 if host != 'web3' else 0.8 + run, 1, 5, unit='%', measured_at=stamp, details={'requests': 14200}),
        checks.judge('tls_certificate', 64 - run, 21, 7, unit='days', higher_is_worse=False, measured_at=stamp),
        checks.make_result('backup', 'ok', 'backup of 02:00 verified, 5 h old', value=5, unit='h', warning=26, critical=48, measured_at=stamp),
    ]
    if host == 'web3' and run >= 3:
        results.append(checks.unknown('bot_round_trip', HOSTILE, unit='s', warning=2, critical=5, measured_at=stamp))
    return results


def _png_size(path):
    with open(path, 'rb') as handle:
        head = handle.read(24)
    assert head[:8] == b'\x89PNG\r\n\x1a\n', 'the screenshot is not a PNG'
    return struct.unpack('>II', head[16:24])


@pytest.fixture(name='report')
def report_fixture(tmp_path):
    checks, report_files, report_code = _import_report_code(str(tmp_path))
    dest = str(tmp_path / 'reports')
    run = None
    for number in range(5):
        results = dict((host, _host_results(checks, host, number)) for host in ('web1', 'web2', 'web3'))
        run = report_files.make_run(dest, 'daily', results, now=T0 + datetime.timedelta(days=number), run_id='nightly-%d' % number)
    return report_code, run


def test_the_html_report_reads_right_in_chromium(tmp_path, report):
    report_code, run = report
    summary = run['report']['summary']
    assert (summary['host_status'], run['report']['trends']['runs']) == ({'web1': 'ok', 'web2': 'warning', 'web3': 'critical'}, 4)
    os.makedirs(OUTPUT, exist_ok=True)
    page = os.path.join(OUTPUT, 'report.html')
    shutil.copyfile(run['paths']['run_html'], page)
    with open(page, encoding='utf-8') as handle:
        html = handle.read()
    probe_page = os.path.join(str(tmp_path), 'probe.html')
    with open(probe_page, 'w', encoding='utf-8') as handle:
        handle.write(html.replace('</body>', PROBE + '</body>'))

    screenshot = os.path.join(OUTPUT, 'report.png')
    if os.path.exists(screenshot):
        os.unlink(screenshot)
    _run_chromium(tmp_path, '--screenshot=%s' % screenshot, 'file://' + page)
    print('screenshot of the report: %s (page: %s)' % (screenshot, page))
    assert _png_size(screenshot) == (1280, 1600)
    assert os.path.getsize(screenshot) > 20000, 'the screenshot looks blank'

    dom = _run_chromium(tmp_path, '--dump-dom', 'file://' + probe_page)
    found = re.search(r'<pre id="probe-out">(.*?)</pre>', dom, re.S)
    assert found, 'the probe did not run: %s' % dom[-500:]
    seen = json.loads(found.group(1).replace('&lt;', '<').replace('&gt;', '>').replace('&quot;', '"').replace('&amp;', '&'))
    colours = dict((status, _rgb(hex_colour)) for status, hex_colour in report_code.COLOURS.items())

    # The banner: the overall status in words and in colour.
    assert seen['overall']['shown'] and 'CRITICAL' in seen['overall']['text']
    assert seen['overall']['colour'] == colours['critical']
    assert seen['title'] == 'Daily checks: CRITICAL'

    # One row per host: its name, its status word, the badge in the status colour, the row tinted.
    rows = dict((row['host'], row) for row in seen['hosts'])
    assert sorted(rows) == ['web1', 'web2', 'web3']
    for host, status in (('web1', 'ok'), ('web2', 'warning'), ('web3', 'critical')):
        assert rows[host]['shown'], host
        assert rows[host]['badge'] == status.upper(), host
        assert rows[host]['colour'] == colours[status], host
    assert rows['web1']['row'] == 'rgb(255, 255, 255)' and rows['web3']['row'] == _rgb(report_code.TINTS['critical'])
    assert 'latency: warning' in rows['web2']['text']

    # The counts a person reads at the top are the run's.
    cards = dict((card['label'].lower(), card) for card in seen['cards'])
    assert cards['hosts']['number'] == '3'
    for status in ('ok', 'warning', 'critical', 'unknown'):
        assert cards['%s checks' % status]['number'] == str(summary[status]), status
    assert cards['failing hosts']['number'] == '1'
    assert cards['critical checks']['colour'] == colours['critical']

    # The trend: five runs, oldest first, the last one now; web2 turned from ok to warning.
    assert seen['trend_head'][-1] == 'NOW' and len(seen['trend_head']) == 6
    trend = dict((row['name'], row['dots']) for row in seen['trends'])
    assert [dot['text'] for dot in trend['web1']] == ['O'] * 5
    web2 = [dot['text'] for dot in trend['web2']]
    assert web2[0] == 'O' and web2[-1] == 'W', web2
    assert trend['web2'][0]['colour'] == colours['ok'] and trend['web2'][-1]['colour'] == colours['warning']
    assert trend['web3'][-1]['colour'] == colours['critical'] and all(dot['shown'] for dot in trend['web3'])
    sparks = dict((spark['cell'], spark) for spark in seen['sparks'])
    assert sparks['web2/latency']['width'] > 50 and sparks['web2/latency']['height'] > 10
    assert sparks['web3/latency']['dot'] == report_code.COLOURS['critical']

    # What needs attention, worst first; the hostile reason shows as text and runs nothing.
    assert seen['attention'][0].startswith('CRITICAL')
    assert any(HOSTILE in line for line in seen['attention'])
    assert seen['scripts'] == 0
    assert '<script>alert("pwned")</script>' in seen['text']
    assert 'web3' in seen['text'] and 'Trends' in seen['text'] and 'Measured values' in seen['text']

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checks_report module: its main() run in-process against a reports folder under tmp_path."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
from types import SimpleNamespace

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _checks, _report
from ansible_collections.clawd.ops.plugins.modules import checks_report

RESULTS = {
    'web1': [{'check': 'disk', 'status': 'ok', 'value': 41.2, 'unit': '%', 'warning': 70, 'critical': 80,
              'reason': '41.2 % used on /var/lib/docker (warning at 70 %, critical at 80 %)', 'measured_at': '2026-12-01T07:00:00Z'}],
    'web2': [{'check': 'backup', 'status': 'critical', 'value': 49, 'unit': 'h', 'warning': 26, 'critical': 48,
              'reason': 'newest backup is 49 h old', 'measured_at': '2026-12-01T07:00:00Z'},
             {'check': 'containers', 'status': 'warning', 'value': 2, 'unit': '', 'warning': None, 'critical': None,
              'reason': 'telegram-bot restarted 2 times', 'measured_at': '2026-12-01T07:00:00Z'}],
}


class _Clock(object):
    """The reports' clock: starts at 2026-12-01T07:00:00Z and moves only when a test moves it."""

    def __init__(self):
        self.moment = datetime.datetime(2026, 12, 1, 7, 0, 0, tzinfo=datetime.timezone.utc)

    def advance(self, **kwargs):
        self.moment += datetime.timedelta(**kwargs)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    frozen = _Clock()

    class FrozenDateTime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return frozen.moment.astimezone(tz) if tz else frozen.moment.replace(tzinfo=None)

    fake = SimpleNamespace(datetime=FrozenDateTime, timezone=datetime.timezone, timedelta=datetime.timedelta)
    monkeypatch.setattr(_report, 'datetime', fake)
    monkeypatch.setattr(_checks, 'datetime', fake)
    return frozen


def run_module(args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    return run_main(checks_report.main, args)


def test_writes_the_reports_and_returns_what_the_play_needs(tmp_path, results):
    assert run_module({'dest': str(tmp_path), 'results': RESULTS, 'run_id': 'awx-42'}) == 0
    result = results[-1]
    assert result['failed'] is False and result['changed'] is True
    assert result['worst'] == 'critical'
    assert result['failing_hosts'] == ['web2']
    assert result['summary']['critical'] == 1 and result['summary']['warning'] == 1 and result['summary']['ok'] == 1
    assert result['run_id'] == 'awx-42'
    assert result['trend_runs'] == 0
    assert result['markdown'].startswith('# Daily checks: CRITICAL')
    paths = result['paths']
    for key in ('run_json', 'run_md', 'run_html', 'latest'):
        assert os.path.isfile(paths[key]), key
    assert os.path.isfile(paths['hosts']['web2']['md'])
    with open(paths['run_json']) as handle:
        document = json.load(handle)
    assert document['run_id'] == 'awx-42' and document['hosts']['web2']['worst'] == 'critical'
    with open(paths['run_md']) as handle:
        assert handle.read() == result['markdown']


def test_a_second_run_has_a_trend(tmp_path, results, clock):
    run_module({'dest': str(tmp_path), 'results': RESULTS, 'kind': 'quick'})
    run_module({'dest': str(tmp_path), 'results': RESULTS, 'kind': 'quick'})  # the same second: a folder of its own
    clock.advance(hours=6)
    run_module({'dest': str(tmp_path), 'results': RESULTS, 'kind': 'quick'})
    assert results[-1]['trend_runs'] == 2
    assert [os.path.basename(result['paths']['dir']) for result in results] == [
        'quick-20261201T070000Z', 'quick-20261201T070000Z-2', 'quick-20261201T130000Z']
    assert results[-1]['markdown'].startswith('# Quick check: CRITICAL')


def test_check_mode_writes_nothing(tmp_path, results):
    dest = tmp_path / 'reports'
    assert run_module({'dest': str(dest), 'results': RESULTS}, check_mode=True) == 0
    result = results[-1]
    assert result['changed'] is True
    assert result['paths']['run_html'].startswith(str(dest))
    assert not dest.exists()


def test_a_bad_result_fails_with_a_message_that_names_it(tmp_path, results):
    bad = {'web1': [{'check': 'disk', 'status': 'fine'}]}
    assert run_module({'dest': str(tmp_path), 'results': bad}) == 1
    result = results[-1]
    assert result['failed'] is True
    assert result['msg'].startswith('Failed to write daily checks report in %s: ' % tmp_path)
    assert 'result 1 of host web1' in result['msg']
    assert os.listdir(str(tmp_path)) == []


def test_an_unwritable_folder_fails_cleanly(tmp_path, results):
    blocker = tmp_path / 'file'
    blocker.write_text('not a folder')
    assert run_module({'dest': str(blocker / 'reports'), 'results': RESULTS}) == 1
    assert results[-1]['msg'].startswith('Failed to write daily checks report in ')
    assert 'Traceback' not in results[-1]['msg']


def test_negative_history_is_refused(tmp_path, results):
    assert run_module({'dest': str(tmp_path), 'results': RESULTS, 'history': -1}) == 1
    assert 'history must be 0 or more' in results[-1]['msg']


def test_a_broken_earlier_report_is_a_warning(tmp_path, results):
    broken = tmp_path / 'daily-20200101T000000Z'
    broken.mkdir()
    (broken / 'run.json').write_text('{')
    assert run_module({'dest': str(tmp_path), 'results': RESULTS}) == 0
    assert results[-1]['trend_runs'] == 0
    assert any('daily-20200101T000000Z' in warning for warning in results[-1]['warnings'])


def test_weekly_without_results_reads_the_daily_reports(tmp_path, results, clock):
    run_module({'dest': str(tmp_path), 'results': RESULTS})
    clock.advance(days=6, hours=23)
    assert run_module({'dest': str(tmp_path), 'kind': 'weekly', 'formats': ['md']}) == 0
    result = results[-1]
    assert result['worst'] == 'critical' and result['failing_hosts'] == ['web2']
    assert '## Week ' in result['markdown']
    assert result['paths']['run_html'] is None and os.path.isfile(result['paths']['run_md'])


def test_trends_outlive_the_controller_through_s3(tmp_path, results, clock, monkeypatch):
    boto3 = pytest.importorskip('boto3')
    moto = pytest.importorskip('moto')
    for name, value in (('AWS_ACCESS_KEY_ID', 'testing'), ('AWS_SECRET_ACCESS_KEY', 'testing'), ('AWS_DEFAULT_REGION', 'us-east-1')):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv('AWS_ENDPOINT_URL', raising=False)
    with moto.mock_aws():
        boto3.client('s3', region_name='us-east-1').create_bucket(Bucket='reports')
        monkeypatch.setenv('CLAWD_REPORTS_S3_URL', 's3://reports/clawd')
        run_module({'dest': str(tmp_path / 'job-1'), 'results': RESULTS})
        clock.advance(hours=24)
        run_module({'dest': str(tmp_path / 'job-2'), 'results': RESULTS})
        assert results[-1]['trend_runs'] == 1 and not results[-1].get('warnings')
        clock.advance(hours=24)
        run_module({'dest': str(tmp_path / 'job-3'), 'results': RESULTS, 's3_url': 's3://missing-bucket'})
    assert results[-1]['trend_runs'] == 0
    assert [w.startswith('Left out of the trends or of S3: ') and 'NoSuchBucket' in w for w in results[-1]['warnings']] == [True, True]

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reports' trend history kept in S3 (issue 17, item 2): a fresh controller (an AWX job) still has its trends."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _report_files
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.test__report import day, three_hosts
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.test__report import frozen_clock as _frozen_clock

# Every default "now" of the reports is the frozen T0 (test__report's autouse fixture, applied here too).
frozen_clock = _frozen_clock

boto3 = pytest.importorskip('boto3')
moto = pytest.importorskip('moto')

URL = 's3://reports/clawd'


@pytest.fixture
def s3(monkeypatch):
    for name, value in (('AWS_ACCESS_KEY_ID', 'testing'), ('AWS_SECRET_ACCESS_KEY', 'testing'), ('AWS_DEFAULT_REGION', 'us-east-1')):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv('AWS_ENDPOINT_URL', raising=False)
    with moto.mock_aws():
        client = boto3.client('s3', region_name='us-east-1')
        client.create_bucket(Bucket='reports')
        yield client


def _fresh_run(tmp_path, number, kind='daily', **kwargs):
    """One run on a controller of its own: an empty reports folder, as in a new AWX job container."""
    dest = tmp_path / ('controller-%s-%d' % (kind, number))
    return _report_files.make_run(str(dest), kind, three_hosts(offset=number), now=day(number), s3_url=URL, **kwargs)


def test_fresh_controllers_share_their_trends_through_s3(tmp_path, s3):
    first = _fresh_run(tmp_path, 0)
    assert first['report']['trends']['runs'] == 0
    keys = [item['Key'] for item in s3.list_objects_v2(Bucket='reports')['Contents']]
    assert keys == ['clawd/daily-20261201T070000Z/run.json']
    stored = json.loads(s3.get_object(Bucket='reports', Key=keys[0])['Body'].read())
    assert stored == first['report']
    assert _fresh_run(tmp_path, 1)['report']['trends']['runs'] == 1
    third = _fresh_run(tmp_path, 2)
    assert third['report']['trends']['runs'] == 2
    assert third['report']['trends']['values']['web1']['disk'] == [40, 41, 42]
    assert third['problems'] == []


def test_a_run_kept_on_disk_and_in_s3_counts_once_and_history_still_limits(tmp_path, s3):
    dest = str(tmp_path / 'controller')
    for number in range(4):
        run = _report_files.make_run(dest, 'daily', three_hosts(offset=number), now=day(number), s3_url=URL)
    assert run['report']['trends']['runs'] == 3
    limited = _report_files.make_run(dest, 'daily', three_hosts(offset=4), now=day(4), s3_url=URL, history=2)
    assert limited['report']['trends']['runs'] == 2


def test_the_weekly_summary_reads_the_daily_reports_from_s3(tmp_path, s3):
    for number in range(3):
        _fresh_run(tmp_path, number)
    weekly = _fresh_run(tmp_path, 3, kind='weekly')
    local = _report_files.make_run(str(tmp_path / 'lonely'), 'weekly', three_hosts(offset=3), now=day(3))
    assert weekly['report'] != local['report']
    assert json.dumps(weekly['report'], sort_keys=True).count('2026-12-0') > json.dumps(local['report'], sort_keys=True).count('2026-12-0')


def test_check_mode_stores_nothing_in_s3(tmp_path, s3):
    _fresh_run(tmp_path, 0, check_mode=True)
    assert s3.list_objects_v2(Bucket='reports').get('KeyCount') == 0


def test_an_unreachable_history_is_a_problem_named_not_a_failed_run(tmp_path, s3):
    dest = tmp_path / 'controller'
    run = _report_files.make_run(str(dest), 'daily', three_hosts(), now=day(0), s3_url='s3://missing-bucket/x')
    assert (dest / 'daily-20261201T070000Z' / 'run.json').exists()
    assert len(run['problems']) == 2 and all('NoSuchBucket' in problem for problem in run['problems'])
    assert run['problems'][0].startswith('earlier reports in s3://missing-bucket/x/')
    assert run['problems'][1].startswith('storing the report in s3://missing-bucket/x/')


def test_a_broken_report_in_s3_is_left_out_and_named(tmp_path, s3):
    s3.put_object(Bucket='reports', Key='clawd/daily-20261130T070000Z/run.json', Body=b'{"schema": "other"}')
    run = _fresh_run(tmp_path, 0)
    assert run['report']['trends']['runs'] == 0
    assert run['problems'] == ['s3://reports/clawd/daily-20261130T070000Z/run.json: not a report of kind daily']

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who ran it (AWX's job variables, else the controller user) and the ledger's S3 copy (one object per record)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json

import pytest

boto3 = pytest.importorskip('boto3')
moto = pytest.importorskip('moto')

from ansible_collections.clawd.ops.plugins.module_utils._ledger import (  # noqa: E402
    LedgerError,
    build_record,
    parse_s3_url,
    put_s3_record,
    read_s3_records,
    run_by,
    run_by_from_environment,
    s3_key,
)

AWX_VARS = {
    'awx_job_id': 42, 'awx_job_template_id': 7, 'awx_job_template_name': 'clawd deploy', 'awx_job_launch_type': 'manual',
    'awx_user_id': 3, 'awx_user_name': 'alice', 'awx_user_email': 'alice@example.org', 'awx_schedule_id': None,
    'awx_project_revision': '3f2c1ab', 'awx_inventory_name': 'production', 'deploy_version': '1.4.2',
}
AT = datetime.datetime(2026, 3, 2, 10, 15, tzinfo=datetime.timezone.utc)


def test_run_by_names_the_awx_job_template_and_user():
    by = run_by(AWX_VARS, user='runner', controller='automation-job-42-abcde')
    assert by['via'] == 'awx'
    assert by['user'] == 'alice'
    assert by['awx'] == {'job_id': 42, 'job_template_id': 7, 'job_template_name': 'clawd deploy', 'job_launch_type': 'manual',
                         'user_id': 3, 'user_name': 'alice', 'project_revision': '3f2c1ab', 'inventory_name': 'production'}
    assert 'user_email' not in by['awx']  # a person's address is not a run's record
    assert by['process_user'] == 'runner' and by['controller'] == 'automation-job-42-abcde'
    assert by['who'] == "alice via AWX job 42 'clawd deploy'"


def test_a_scheduled_job_names_its_schedule_and_tower_names_count_too():
    variables = {'tower_job_id': 43, 'tower_job_template_name': 'clawd backup', 'tower_job_launch_type': 'scheduled',
                 'tower_schedule_id': 9, 'tower_schedule_name': 'nightly backup'}
    by = run_by(variables, user='runner', controller='ee')
    assert by['via'] == 'awx' and by['user'] is None
    assert by['awx']['schedule_name'] == 'nightly backup' and by['awx']['job_id'] == 43
    assert by['who'] == "schedule 'nightly backup' via AWX job 43 'clawd backup'"


def test_without_awx_the_controller_user_ran_it():
    by = run_by({'deploy_version': '1.4.2', 'awx_job_id': ''}, user='ops', controller='laptop')
    assert by == {'via': 'controller', 'user': 'ops', 'process_user': 'ops', 'controller': 'laptop', 'who': 'ops@laptop'}


def test_run_by_travels_through_the_environment():
    by = run_by(AWX_VARS, user='runner', controller='ee')
    assert run_by_from_environment({'CLAWD_RUN_BY': json.dumps(by)}) == by
    assert run_by_from_environment({}) is None
    assert run_by_from_environment({'CLAWD_RUN_BY': 'not json'}) is None


@pytest.mark.parametrize('url, expected', [
    ('s3://ledger', ('ledger', '')),
    ('s3://ledger/', ('ledger', '')),
    ('s3://ledger/clawd/prod', ('ledger', 'clawd/prod/')),
    ('s3://ledger/clawd/', ('ledger', 'clawd/')),
])
def test_s3_urls(url, expected):
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize('url', ['ledger', 'https://ledger/x', 's3://', 's3:///prefix'])
def test_bad_s3_urls_are_refused(url):
    with pytest.raises(LedgerError, match='s3://bucket'):
        parse_s3_url(url)


def test_s3_keys_sort_by_time_and_never_collide():
    record = build_record({'kind': 'deploy', 'host': 'vps1'}, run_id='run-1', now=AT)
    key = s3_key('clawd/', record)
    assert key.startswith('clawd/2026/03/02/20260302T101500Z-deploy-vps1-') and key.endswith('.json')
    assert key != s3_key('clawd/', dict(record, version='2'))
    assert '/' not in s3_key('', build_record({'kind': 'x/y', 'host': '../h'}, now=AT)).split('/', 3)[3]


@pytest.fixture
def s3(monkeypatch):
    for name in ('AWS_ENDPOINT_URL', 'AWS_PROFILE'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'testing')
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'testing')
    monkeypatch.setenv('AWS_DEFAULT_REGION', 'us-east-1')
    with moto.mock_aws():
        client = boto3.client('s3', region_name='us-east-1')
        client.create_bucket(Bucket='ledger')
        yield client


def test_each_record_is_one_s3_object_read_back_newest_first(s3):
    first = build_record({'kind': 'deploy', 'host': 'vps1', 'commit': 'aaa'}, run_id='r1', now=AT)
    second = build_record({'kind': 'rollback', 'host': 'vps1'}, run_id='r2', now=AT + datetime.timedelta(minutes=5))
    other = build_record({'kind': 'deploy', 'host': 'vps2'}, run_id='r3', now=AT + datetime.timedelta(minutes=9))
    keys = [put_s3_record('s3://ledger/clawd', record) for record in (first, second, other)]
    assert all(key.startswith('clawd/2026/03/02/') for key in keys)
    body = s3.get_object(Bucket='ledger', Key=keys[0])
    assert json.loads(body['Body'].read()) == first and body['ContentType'] == 'application/json'
    records, skipped = read_s3_records('s3://ledger/clawd', host='vps1')
    assert records == [second, first] and skipped == 0
    records, skipped = read_s3_records('s3://ledger/clawd', kind='deploy', last=1)
    assert records == [other] and skipped == 0


def test_unreadable_s3_objects_are_counted_not_fatal(s3):
    s3.put_object(Bucket='ledger', Key='clawd/2026/03/02/broken.json', Body=b'{not json')
    put_s3_record('s3://ledger/clawd/', build_record({'kind': 'deploy'}, now=AT))
    records, skipped = read_s3_records('s3://ledger/clawd/')
    assert [r['kind'] for r in records] == ['deploy'] and skipped == 1


def test_a_missing_bucket_fails_with_what_was_done(s3):
    with pytest.raises(LedgerError, match=r'^Failed to write the ledger record to s3://nowhere/clawd/.*NoSuchBucket'):
        put_s3_record('s3://nowhere/clawd', build_record({'kind': 'deploy'}, now=AT))
    with pytest.raises(LedgerError, match=r'^Failed to read the ledger from s3://nowhere/: .*NoSuchBucket'):
        read_s3_records('s3://nowhere')

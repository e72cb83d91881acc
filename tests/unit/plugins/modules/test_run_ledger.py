# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run_ledger module: appends a redacted record, writes nothing in check mode."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import run_ledger

SECRET = 'coolify-S3cr3t-token-value'


def _lines(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle]


def test_appends_a_redacted_record(tmp_path, results):
    path = str(tmp_path / 'ledger.jsonl')
    record = {'kind': 'deploy', 'host': 'vps1', 'version': '1.4.2', 'api_token': SECRET,
              'reason': 'deployed with %s' % SECRET, 'gates': {'health': 'ok'}}
    assert run_main(run_ledger.main, {'path': path, 'record': record, 'run_id': 'run-1', 'secrets': [SECRET]}) == 0
    result = results[-1]
    assert result['changed'] is True and result['path'] == path
    written = _lines(path)
    assert written == [result['record']]
    assert written[0]['api_token'] == '***'
    assert written[0]['reason'] == 'deployed with ***'
    assert written[0]['run_id'] == 'run-1' and written[0]['ledger_version'] == 1
    assert SECRET not in open(path).read()
    run_main(run_ledger.main, {'path': path, 'record': {'kind': 'rollback'}})
    assert [r['kind'] for r in _lines(path)] == ['deploy', 'rollback']


def test_check_mode_writes_nothing_and_returns_the_record(tmp_path, results):
    path = str(tmp_path / 'sub' / 'ledger.jsonl')
    run_main(run_ledger.main, {'path': path, 'record': {'kind': 'deploy', 'password': 'x'}, '_ansible_check_mode': True})
    assert results[-1]['changed'] is True
    assert results[-1]['record']['password'] == '***'
    assert not os.path.exists(os.path.dirname(path))


def test_default_path_from_the_environment(tmp_path, monkeypatch, results):
    path = str(tmp_path / 'env-ledger.jsonl')
    monkeypatch.setenv('CLAWD_LEDGER_PATH', path)
    run_main(run_ledger.main, {'record': {'kind': 'provision'}})
    assert results[-1]['path'] == path
    assert _lines(path)[0]['kind'] == 'provision'


def test_unwritable_ledger_fails_clearly(tmp_path, results):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    assert run_main(run_ledger.main, {'path': str(blocker / 'ledger.jsonl'), 'record': {'kind': 'deploy'}}) == 1
    assert results[-1]['msg'].startswith('Failed to record the run: Failed to open the ledger %s/ledger.jsonl: ' % blocker)


def test_the_run_by_the_callback_exported_is_added(tmp_path, monkeypatch, results):
    path = str(tmp_path / 'ledger.jsonl')
    by = {'via': 'awx', 'user': 'alice', 'who': "alice via AWX job 42 'clawd deploy'", 'awx': {'job_id': 42}}
    monkeypatch.setenv('CLAWD_RUN_BY', json.dumps(by))
    run_main(run_ledger.main, {'path': path, 'record': {'kind': 'deploy', 'who': 'runner@ee'}})
    run_main(run_ledger.main, {'path': path, 'record': {'kind': 'rotation', 'run_by': {'via': 'cron'}}})
    first, second = _lines(path)
    assert first['run_by'] == by and first['who'] == 'runner@ee'
    assert second['run_by'] == {'via': 'cron'}  # a record's own run_by is kept


def _s3(monkeypatch):
    boto3 = pytest.importorskip('boto3')
    moto = pytest.importorskip('moto')
    for name, value in (('AWS_ACCESS_KEY_ID', 'testing'), ('AWS_SECRET_ACCESS_KEY', 'testing'), ('AWS_DEFAULT_REGION', 'us-east-1')):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv('AWS_ENDPOINT_URL', raising=False)
    return boto3, moto


def test_the_record_is_also_an_s3_object(tmp_path, monkeypatch, results):
    boto3, moto = _s3(monkeypatch)
    path = str(tmp_path / 'ledger.jsonl')
    with moto.mock_aws():
        s3 = boto3.client('s3', region_name='us-east-1')
        s3.create_bucket(Bucket='ledger')
        monkeypatch.setenv('CLAWD_LEDGER_S3_URL', 's3://ledger/clawd')
        run_main(run_ledger.main, {'path': path, 'record': {'kind': 'deploy', 'host': 'vps1', 'token': SECRET}, 'secrets': [SECRET]})
        key = results[-1]['s3_key']
        assert key.startswith('clawd/') and '-deploy-vps1-' in key
        body = json.loads(s3.get_object(Bucket='ledger', Key=key)['Body'].read())
        assert body == _lines(path)[0] and body['token'] == '***'
        run_main(run_ledger.main, {'path': path, 'record': {'kind': 'deploy'}, '_ansible_check_mode': True, 's3_url': 's3://ledger/x'})
        assert results[-1]['s3_key'] is None
        assert s3.list_objects_v2(Bucket='ledger', Prefix='x/')['KeyCount'] == 0


def test_a_failed_s3_copy_warns_and_keeps_the_file_copy(tmp_path, monkeypatch, results):
    boto3, moto = _s3(monkeypatch)
    path = str(tmp_path / 'ledger.jsonl')
    with moto.mock_aws():
        assert run_main(run_ledger.main, {'path': path, 'record': {'kind': 'deploy'}, 's3_url': 's3://missing-bucket'}) == 0
    result = results[-1]
    assert result['s3_key'] is None and 'NoSuchBucket' in result['s3_error']
    assert any('not in S3' in warning for warning in result.get('warnings', []))
    assert _lines(path)[0]['kind'] == 'deploy'

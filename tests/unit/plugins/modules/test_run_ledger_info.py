# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run_ledger_info module: filters, newest first, what a full rollback asks."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import run_ledger, run_ledger_info


def _fill(path):
    for record in (
        {'kind': 'deploy', 'host': 'vps1', 'version': '1.4.0', 'commit': 'aaa', 'result': 'ok', 'backup_id': 'b-140'},
        {'kind': 'deploy', 'host': 'vps1', 'version': '1.4.1', 'commit': 'bbb', 'result': 'ok', 'backup_id': 'b-141'},
        {'kind': 'deploy', 'host': 'vps2', 'version': '1.4.1', 'commit': 'bbb', 'result': 'ok', 'backup_id': 'b-141-vps2'},
        {'kind': 'deploy', 'host': 'vps1', 'version': '1.4.2', 'commit': 'ccc', 'result': 'failed', 'backup_id': 'b-142'},
    ):
        run_main(run_ledger.main, {'path': path, 'record': record})


def test_the_backup_paired_with_a_version(tmp_path, results):
    path = str(tmp_path / 'ledger.jsonl')
    _fill(path)
    run_main(run_ledger_info.main, {'path': path, 'kind': 'deploy', 'host': 'vps1', 'version': '1.4.1', 'result': 'ok', 'last': 1})
    result = results[-1]
    assert result['changed'] is False
    assert [r['backup_id'] for r in result['records']] == ['b-141']
    assert result['skipped_lines'] == 0


def test_newest_first_and_filters(tmp_path, results):
    path = str(tmp_path / 'ledger.jsonl')
    _fill(path)
    run_main(run_ledger_info.main, {'path': path, 'host': 'vps1'})
    assert [r['version'] for r in results[-1]['records']] == ['1.4.2', '1.4.1', '1.4.0']
    run_main(run_ledger_info.main, {'path': path, 'commit': 'bbb'})
    assert [r['host'] for r in results[-1]['records']] == ['vps2', 'vps1']
    run_main(run_ledger_info.main, {'path': path, 'result': 'failed'})
    assert [r['version'] for r in results[-1]['records']] == ['1.4.2']
    run_main(run_ledger_info.main, {'path': path, 'since': '2000-01-01T00:00:00Z', 'last': 2})
    assert len(results[-1]['records']) == 2


def test_missing_ledger_has_no_records(tmp_path, results):
    assert run_main(run_ledger_info.main, {'path': str(tmp_path / 'none.jsonl')}) == 0
    assert results[-1]['records'] == []


def test_bad_since_and_last_fail_clearly(tmp_path, results):
    path = str(tmp_path / 'ledger.jsonl')
    assert run_main(run_ledger_info.main, {'path': path, 'since': 'last week'}) == 1
    assert results[-1]['msg'] == "Failed to read the ledger %s: since: 'last week' is neither an ISO 8601 time nor epoch seconds" % path
    assert run_main(run_ledger_info.main, {'path': path, 'last': -1}) == 1
    assert results[-1]['msg'] == 'last must be 0 or more, got -1'


def test_a_fresh_controller_reads_what_earlier_runs_copied_to_s3(tmp_path, monkeypatch, results):
    boto3 = pytest.importorskip('boto3')
    moto = pytest.importorskip('moto')
    for name, value in (('AWS_ACCESS_KEY_ID', 'testing'), ('AWS_SECRET_ACCESS_KEY', 'testing'), ('AWS_DEFAULT_REGION', 'us-east-1')):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv('AWS_ENDPOINT_URL', raising=False)
    with moto.mock_aws():
        boto3.client('s3', region_name='us-east-1').create_bucket(Bucket='ledger')
        monkeypatch.setenv('CLAWD_LEDGER_S3_URL', 's3://ledger/clawd')
        first_controller = str(tmp_path / 'job-1' / 'ledger.jsonl')
        run_main(run_ledger.main, {'path': first_controller, 'record': {'kind': 'deploy', 'host': 'vps1', 'backup_id': 'a.tar.zst'}})
        run_main(run_ledger.main, {'path': first_controller, 'record': {'kind': 'deploy', 'host': 'vps2'}})
        fresh = str(tmp_path / 'job-2' / 'ledger.jsonl')
        run_main(run_ledger_info.main, {'path': fresh, 'kind': 'deploy', 'host': 'vps1'})
        assert [r['backup_id'] for r in results[-1]['records']] == ['a.tar.zst']
        assert results[-1]['s3_url'] == 's3://ledger/clawd'
        # The same records in the file and in S3 are listed once.
        run_main(run_ledger_info.main, {'path': first_controller, 'kind': 'deploy'})
        assert len(results[-1]['records']) == 2
        monkeypatch.delenv('CLAWD_LEDGER_S3_URL')
        run_main(run_ledger_info.main, {'path': fresh})
        assert results[-1]['records'] == [] and results[-1]['s3_url'] is None

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run ledger file: appends under a lock, modes, redaction, reading with filters."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import multiprocessing
import os
import stat

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _ledger
from ansible_collections.clawd.ops.plugins.module_utils._ledger import (
    LedgerError,
    append_record,
    build_record,
    default_path,
    is_secret_key,
    read_records,
    redact_record,
)


def _lines(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_append_creates_private_file_and_folder(tmp_path):
    path = str(tmp_path / 'state' / 'clawd' / 'ledger.jsonl')
    append_record(path, build_record({'kind': 'deploy', 'host': 'vps1'}, run_id='r1'))
    append_record(path, build_record({'kind': 'rollback', 'host': 'vps1'}))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    first, second = _lines(path)
    assert first['kind'] == 'deploy' and first['run_id'] == 'r1' and first['ledger_version'] == 1
    assert second['kind'] == 'rollback' and 'run_id' not in second
    assert datetime.datetime.strptime(first['recorded_at'], '%Y-%m-%dT%H:%M:%SZ')


def test_append_tightens_a_file_left_readable(tmp_path):
    path = tmp_path / 'ledger.jsonl'
    path.write_text('')
    os.chmod(str(path), 0o644)
    append_record(str(path), build_record({'kind': 'deploy'}))
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600


def test_secret_keys_are_spotted():
    for key in ('token', 'api_token', 'X-Auth-Token', 'db.password', 'coolifyToken', 'ssh_key', 'client_secret', 'Authorization', 'auth'):
        assert is_secret_key(key), key
    for key in ('kind', 'host', 'backup_id', 'author', 'monkey', 'version', 'keyboard', 'result'):
        assert not is_secret_key(key), key


def test_redaction_of_keys_and_known_values_at_any_depth():
    record = {
        'kind': 'deploy',
        'token': 'abc',
        'gates': {'coolify': {'api_key': 'k1', 'ok': True}, 'note': 'used S3CRETVALUE to log in'},
        'steps': [{'password': 'p'}, 'url https://api.telegram.org/bot123:ABC-def/getMe', 'S3CRETVALUE'],
        'empty_token': '',
        'duration': 12.5,
    }
    result = redact_record(record, ['S3CRETVALUE'])
    assert result['token'] == '***'
    assert result['gates']['coolify'] == {'api_key': '***', 'ok': True}
    assert result['gates']['note'] == 'used *** to log in'
    assert result['steps'] == [{'password': '***'}, 'url https://api.telegram.org/bot***/getMe', '***']
    assert result['empty_token'] == ''
    assert result['duration'] == 12.5
    assert record['token'] == 'abc'  # the caller's record is not changed


def test_build_record_redacts_and_keeps_its_own_fields(tmp_path):
    record = build_record({'kind': 'deploy', 'reason': 'token S3CRET leaked', 'ledger_version': 7, 'recorded_at': 'x'},
                          run_id='r1', secrets=['S3CRET'])
    assert record['reason'] == 'token *** leaked'
    assert record['ledger_version'] == 1
    assert record['recorded_at'] != 'x'
    path = str(tmp_path / 'l.jsonl')
    append_record(path, record)
    assert 'S3CRET' not in open(path).read()


def test_default_path(monkeypatch):
    assert default_path({'CLAWD_LEDGER_PATH': '/tmp/x.jsonl'}) == '/tmp/x.jsonl'
    monkeypatch.setenv('HOME', '/home/ops')
    assert default_path({}) == '/home/ops/.local/state/clawd-ops/ledger.jsonl'


def _fill(path):
    when = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.timezone.utc)
    rows = [
        {'kind': 'deploy', 'host': 'vps1', 'version': '1.4.0', 'commit': 'aaa', 'result': 'ok', 'backup_id': 'b1'},
        {'kind': 'deploy', 'host': 'vps2', 'version': '1.4.0', 'commit': 'aaa', 'result': 'ok', 'backup_id': 'b2'},
        {'kind': 'deploy', 'host': 'vps1', 'version': '1.4.1', 'commit': 'bbb', 'result': 'failed', 'backup_id': 'b3'},
        {'kind': 'rollback', 'host': 'vps1', 'version': '1.4.0', 'result': 'ok'},
        {'kind': 'playbook', 'hosts': {'vps1': {'ok': 3}, 'vps3': {'ok': 1}}, 'result': 'ok'},
    ]
    for index, row in enumerate(rows):
        append_record(path, build_record(row, now=when + datetime.timedelta(hours=index)))


def test_read_filters_newest_first(tmp_path):
    path = str(tmp_path / 'l.jsonl')
    _fill(path)
    records, skipped = read_records(path, kind='deploy', host='vps1')
    assert [r['version'] for r in records] == ['1.4.1', '1.4.0']
    assert skipped == 0
    assert [r['backup_id'] for r in read_records(path, kind='deploy', version='1.4.0', result='ok', last=1)[0]] == ['b2']
    assert [r['kind'] for r in read_records(path, host='vps3')[0]] == ['playbook']
    assert [r['kind'] for r in read_records(path, since='2026-03-01T12:00:00Z')[0]] == ['playbook', 'rollback', 'deploy']
    epoch = datetime.datetime(2026, 3, 1, 13, 0, tzinfo=datetime.timezone.utc).timestamp()
    assert len(read_records(path, since=str(int(epoch)))[0]) == 2
    assert read_records(path, commit='zzz')[0] == []
    assert read_records(path, last=0)[0] == []


def test_read_missing_ledger_is_empty_and_bad_input_is_refused(tmp_path):
    assert read_records(str(tmp_path / 'none.jsonl')) == ([], 0)
    with pytest.raises(LedgerError, match='Unknown ledger filters: colour'):
        read_records(str(tmp_path / 'none.jsonl'), colour='red')
    with pytest.raises(ValueError, match='yesterday'):
        read_records(str(tmp_path / 'none.jsonl'), since='yesterday')


def test_broken_lines_are_skipped_and_a_torn_line_does_not_swallow_the_next(tmp_path):
    path = str(tmp_path / 'l.jsonl')
    append_record(path, build_record({'kind': 'deploy'}))
    with open(path, 'a') as handle:
        handle.write('[1, 2]\n{"kind": "torn')  # a list, then a writer that died mid-line
    append_record(path, build_record({'kind': 'rollback'}))
    records, skipped = read_records(path)
    assert [r['kind'] for r in records] == ['rollback', 'deploy']
    assert skipped == 2


def test_unwritable_ledger_raises_a_clear_error(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(LedgerError, match='Failed to open the ledger %s/sub/l.jsonl' % blocker):
        append_record(str(blocker / 'sub' / 'l.jsonl'), {'kind': 'x'})


def _writer(path, worker, count):
    for index in range(count):
        append_record(path, build_record({'kind': 'deploy', 'worker': worker, 'index': index, 'padding': 'x' * 5000}))


def test_concurrent_appends_from_processes_never_interleave(tmp_path):
    path = str(tmp_path / 'l.jsonl')
    workers = [multiprocessing.Process(target=_writer, args=(path, worker, 40)) for worker in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    records, skipped = read_records(path)
    assert skipped == 0
    assert len(records) == 160
    for worker in range(4):
        assert sorted(r['index'] for r in records if r['worker'] == worker) == list(range(40))


def test_appends_hold_an_exclusive_lock(tmp_path, monkeypatch):
    calls = []
    real_flock = _ledger.fcntl.flock
    monkeypatch.setattr(_ledger.fcntl, 'flock', lambda fd, op: calls.append(op) or real_flock(fd, op))
    append_record(str(tmp_path / 'l.jsonl'), {'kind': 'x'})
    assert calls == [_ledger.fcntl.LOCK_EX]


def test_a_ledger_folder_another_run_creates_meanwhile_is_no_error(tmp_path, monkeypatch):
    """Runs for several hosts write their first record at once: the loser of the folder's creation carries on."""
    folder = tmp_path / 'state' / 'clawd-ops'
    real_makedirs = os.makedirs

    def another_run_was_faster(name, *args, **kwargs):
        real_makedirs(name, *args, **kwargs)  # the other run creates it between our check and our makedirs
        real_makedirs(name, *args, **kwargs)  # and ours then finds it there: EEXIST

    monkeypatch.setattr(_ledger.os, 'makedirs', another_run_was_faster)
    _ledger.append_record(str(folder / 'ledger.jsonl'), {'kind': 'deploy', 'result': 'ok'})
    with open(str(folder / 'ledger.jsonl')) as handle:
        assert json.loads(handle.readline())['kind'] == 'deploy'

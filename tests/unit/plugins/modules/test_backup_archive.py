# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup_archive module: arguments in, archive (or a clear failure) out."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import os
import sqlite3

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils import _backup_writer
from ansible_collections.clawd.ops.plugins.module_utils._backup_reader import verify_archive
from ansible_collections.clawd.ops.plugins.modules import backup_archive


def run_module(args):
    return run_main(backup_archive.main, args)


@pytest.fixture
def folders(tmp_path):
    src = tmp_path / 'src'
    (src / 'sub').mkdir(parents=True)
    (src / 'sub' / 'a.txt').write_text('alpha\n' * 100)
    database = tmp_path / 'app.db'
    connection = sqlite3.connect(str(database))
    connection.execute('CREATE TABLE t (x)')
    connection.commit()
    connection.close()
    dest = tmp_path / 'dest'
    dest.mkdir()
    return str(src), str(database), str(dest)


def test_writes_a_verified_archive_and_reports_changed(folders, results):
    src, database, dest = folders
    run_module({'dest': dest, 'service': 'claudebox', 'version': '1.4.2', 'deployment_id': 'dep-1',
                'sources': [{'name': 'workspace', 'path': src}], 'sqlite': [{'name': 'app', 'path': database}]})
    result = results[-1]
    assert result['failed'] is False, result
    assert result['changed'] is True
    assert os.path.basename(result['archive']).startswith('claudebox-') and result['archive'].endswith('-1.4.2.tar.zst')
    assert sorted(os.listdir(dest)) == sorted(os.path.basename(result['archive']) + suffix for suffix in ('', '.manifest.json', '.sha256'))
    assert result['members'] == 5  # volumes/workspace, sub, sub/a.txt, dumps/app.sqlite3, manifest
    assert verify_archive(result['archive'])['ok']
    for key in ('sha256', 'size', 'bytes', 'ratio', 'duration', 'throughput_mb_s', 'manifest', 'skipped', 'changed_during_backup', 'verification'):
        assert key in result
    assert result['warnings'] == []


def test_gzip_and_level(folders, results):
    src, dummy, dest = folders
    run_module({'dest': dest, 'service': 'svc', 'sources': [{'name': 'ws', 'path': src}], 'compression': 'gzip', 'level': 9})
    assert results[-1]['failed'] is False
    assert results[-1]['archive'].endswith('-unknown.tar.gz')


def test_check_mode_writes_nothing_and_reports_changed(folders, results):
    src, dummy, dest = folders
    run_module({'dest': dest, 'service': 'svc', 'sources': [{'name': 'ws', 'path': src}], '_ansible_check_mode': True})
    result = results[-1]
    assert result['failed'] is False and result['changed'] is True
    assert result['members'] == 4 and result['bytes'] == 600
    assert os.listdir(dest) == []


def test_expected_failure_is_one_clear_line(folders, results, tmp_path):
    src, dummy, dest = folders
    run_module({'dest': str(tmp_path / 'missing'), 'service': 'svc', 'sources': [{'name': 'ws', 'path': src}]})
    result = results[-1]
    assert result['failed'] is True
    assert result['msg'] == 'Failed to back up svc to %s: the destination folder %s does not exist' % (tmp_path / 'missing', tmp_path / 'missing')
    assert 'exception' not in result


def test_disk_threshold_failure(folders, results, monkeypatch):
    src, dummy, dest = folders
    usage = collections.namedtuple('Usage', 'total used free')
    monkeypatch.setattr(_backup_writer.shutil, 'disk_usage', lambda path: usage(1000, 950, 50))
    run_module({'dest': dest, 'service': 'svc', 'sources': [{'name': 'ws', 'path': src}], 'max_disk_percent': 95})
    assert results[-1]['failed'] is True
    assert results[-1]['msg'].startswith('Failed to back up svc to %s: the sources hold 600 bytes; archiving them could fill' % dest)
    assert 'above max_disk_percent=95' in results[-1]['msg']
    assert os.listdir(dest) == []


def test_sources_or_sqlite_is_required(folders, results):
    dummy, dummy2, dest = folders
    run_module({'dest': dest, 'service': 'svc'})
    assert results[-1]['failed'] is True
    assert results[-1]['msg'] == 'sources is required unless sqlite or postgres is given'


def test_files_that_changed_become_warnings(folders, results, monkeypatch):
    src, dummy, dest = folders
    real_add = _backup_writer._ArchiveWriter.add_entry

    def add_and_report(self, entry, items=None):
        done = real_add(self, entry, items)
        if entry['type'] == 'file':
            self.changed.append({'path': entry['path'], 'member': entry['member'], 'reason': 'changed while being read'})
        return done

    monkeypatch.setattr(_backup_writer._ArchiveWriter, 'add_entry', add_and_report)
    run_module({'dest': dest, 'service': 'svc', 'sources': [{'name': 'ws', 'path': src}]})
    result = results[-1]
    assert result['failed'] is False
    assert result['warnings'] == ['%s changed while being read' % os.path.join(src, 'sub', 'a.txt')]


class FakeDockerApi(object):
    """Streams the given chunks as pg_dump's (stdout, stderr), then exits with exit_code."""

    def __init__(self, chunks, exit_code=0):
        self.chunks = chunks
        self.exit_code = exit_code
        self.calls = []

    def exec_create(self, container, cmd, stdout=True, stderr=True):
        self.calls.append(('exec_create', container, cmd))
        return {'Id': 'exec-1'}

    def exec_start(self, exec_id, stream=False, demux=False):
        self.calls.append(('exec_start', exec_id))
        return iter(self.chunks)

    def exec_inspect(self, exec_id):
        self.calls.append(('exec_inspect', exec_id))
        return {'ExitCode': self.exit_code}


@pytest.fixture
def fake_docker(monkeypatch):
    def install(chunks, exit_code=0):
        client = collections.namedtuple('Client', 'api')(FakeDockerApi(chunks, exit_code))
        monkeypatch.setattr(_backup_writer, '_docker_client', lambda: client)
        return client
    monkeypatch.setattr(_backup_writer, 'HAS_DOCKER', True)
    monkeypatch.setattr(backup_archive, 'HAS_DOCKER', True)
    return install


POSTGRES = [{'name': 'app', 'container': 'claudebox-db', 'database': 'app'}]


def test_postgres_dump_is_archived_and_listed(folders, results, fake_docker):
    src, dummy, dest = folders
    client = fake_docker([(b'PGDMP', None), (b'\x01' * 1000, b'notice\n')])
    run_module({'dest': dest, 'service': 'svc', 'sources': [{'name': 'ws', 'path': src}], 'postgres': POSTGRES})
    result = results[-1]
    assert result['failed'] is False, result
    assert result['dumps'] == [{'name': 'app.pgdump', 'type': 'postgres', 'container': 'claudebox-db', 'database': 'app'}]
    assert result['members'] == 5
    report = verify_archive(result['archive'])
    assert report['ok']
    assert client.api.calls[0] == ('exec_create', 'claudebox-db', ['pg_dump', '--format=custom', '--no-password', '-U', 'postgres', 'app'])


def test_postgres_alone_is_enough(folders, results, fake_docker):
    dummy, dummy2, dest = folders
    fake_docker([(b'PGDMP', None)])
    run_module({'dest': dest, 'service': 'svc', 'postgres': [dict(POSTGRES[0], user='backup')]})
    assert results[-1]['failed'] is False, results[-1]
    assert len(os.listdir(dest)) == 3


def test_a_failed_pg_dump_is_one_clear_line(folders, results, fake_docker):
    src, dummy, dest = folders
    fake_docker([(None, b'pg_dump: error: database "app" does not exist\n')], exit_code=1)
    run_module({'dest': dest, 'service': 'svc', 'sources': [{'name': 'ws', 'path': src}], 'postgres': POSTGRES})
    result = results[-1]
    assert result['failed'] is True
    assert result['msg'] == ('Failed to back up svc to %s: pg_dump of app in claudebox-db failed: exit 1: '
                             'pg_dump: error: database "app" does not exist' % dest)
    assert os.listdir(dest) == []


def test_check_mode_runs_no_pg_dump(folders, results, fake_docker):
    src, dummy, dest = folders
    client = fake_docker([(b'PGDMP', None)])
    run_module({'dest': dest, 'service': 'svc', 'sources': [{'name': 'ws', 'path': src}], 'postgres': POSTGRES, '_ansible_check_mode': True})
    result = results[-1]
    assert result['failed'] is False and result['changed'] is True
    assert result['dumps'] == [{'name': 'app.pgdump', 'type': 'postgres', 'container': 'claudebox-db', 'database': 'app'}]
    assert client.api.calls == [] and os.listdir(dest) == []


def test_postgres_without_the_docker_sdk_names_the_library(folders, results, monkeypatch):
    dummy, dummy2, dest = folders
    monkeypatch.setattr(backup_archive, 'HAS_DOCKER', False)
    run_module({'dest': dest, 'service': 'svc', 'postgres': POSTGRES})
    assert results[-1]['failed'] is True
    assert 'docker' in results[-1]['msg'] and 'for postgres' in results[-1]['msg']
    assert 'clawd.ops.server_setup' in results[-1]['msg'] and 'python3-docker' in results[-1]['msg']


@pytest.mark.skipif(_backup_writer.docker is None, reason='the Docker SDK for Python is not installed')
def test_a_docker_engine_that_cannot_be_reached_is_one_clear_line(folders, results, monkeypatch, tmp_path):
    src, dummy, dest = folders
    monkeypatch.setenv('DOCKER_HOST', 'unix://%s' % (tmp_path / 'no-engine.sock'))
    run_module({'dest': dest, 'service': 'svc', 'sources': [{'name': 'ws', 'path': src}], 'postgres': POSTGRES})
    result = results[-1]
    assert result['failed'] is True
    assert result['msg'].startswith('Failed to back up svc to %s: connecting to the Docker Engine API failed: ' % dest), result['msg']
    assert 'no-engine.sock' in result['msg'] or 'No such file' in result['msg'], result['msg']
    assert os.listdir(dest) == []

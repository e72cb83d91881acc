# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The postgres_restore module: an archive's dumps into their databases (a fake exec), check mode, put-back, drill."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name
from ansible_collections.clawd.ops.plugins.modules import postgres_restore
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.backup_fixtures import build_archive
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.pg_fakes import FakePostgres

DUMP = b'PGDMP the backup of app'


def postgres_dumps(manifest):
    manifest['dumps'] = [{'name': 'app.pgdump', 'type': 'postgres', 'container': 'db', 'database': 'app'}]


def make(folder, dump=DUMP):
    members = [{'name': 'volumes/workspace', 'type': 'dir', 'mode': 0o755},
               {'name': 'volumes/workspace/seed.txt', 'type': 'file', 'data': b'seed', 'mode': 0o644},
               {'name': 'dumps/app.pgdump', 'type': 'file', 'data': dump, 'mode': 0o600}]
    return build_archive(str(folder / archive_name('claudebox', 1795456200, '1.0.0')), members, manifest_edit=postgres_dumps)


@pytest.fixture
def fake(monkeypatch):
    engine = FakePostgres({('db', 'app'): {'content': b'PGDMP live app', 'owner': 'app'}})
    monkeypatch.setattr(postgres_restore, 'make_runner', lambda docker_host: engine)
    return engine


def run_module(args):
    return run_main(postgres_restore.main, args)


def test_restores_the_archives_dump_after_a_safety_dump(tmp_path, results, fake):
    built = make(tmp_path)
    safety = tmp_path / 'safety'
    assert run_module({'archive': built['path'], 'sha256': built['sha256'], 'safety_dir': str(safety),
                       'databases': [{'name': 'app', 'user': 'owner'}, {'name': 'gone', 'container': 'x'}]}) == 0
    result = results[-1]
    assert result['changed'] is True
    assert fake.content('db', 'app') == DUMP
    [db] = result['databases']
    assert (db['container'], db['database'], db['user'], db['dump'], db['state']) == ('db', 'app', 'owner', 'dumps/app.pgdump', 'restored')
    assert result['safety_dumps'] == [db['safety_dump']] and os.path.dirname(db['safety_dump']) == str(safety)
    assert open(db['safety_dump'], 'rb').read() == b'PGDMP live app'
    assert result['not_in_archive'] == ['gone.pgdump']
    assert os.listdir(str(safety)) == [os.path.basename(db['safety_dump'])]  # the extracted dumps are gone


def test_check_mode_plans_and_runs_nothing(tmp_path, results, fake):
    built = make(tmp_path)
    assert run_module({'archive': built['path'], 'safety_dir': str(tmp_path / 'safety'), '_ansible_check_mode': True}) == 0
    result = results[-1]
    assert result['changed'] is True
    assert result['databases'] == [{'name': 'app.pgdump', 'container': 'db', 'database': 'app', 'user': 'postgres', 'dump': 'dumps/app.pgdump',
                                    'safety_dump': None, 'existed': None, 'state': 'would be restored'}]
    assert fake.calls == [] and not os.path.exists(str(tmp_path / 'safety'))


def test_an_archive_without_postgres_dumps_changes_nothing(tmp_path, results, fake):
    built = build_archive(str(tmp_path / archive_name('claudebox', 1795456200, '1.0.0')),
                          [{'name': 'volumes/workspace', 'type': 'dir', 'mode': 0o755}])
    assert run_module({'archive': built['path'], 'safety_dir': str(tmp_path / 'safety')}) == 0
    assert results[-1]['changed'] is False and results[-1]['databases'] == []
    assert fake.calls == []


def test_a_failed_restore_names_the_database_and_keeps_the_safety_dump(tmp_path, results, fake):
    built = make(tmp_path, dump=b'BAD dump')
    assert run_module({'archive': built['path'], 'safety_dir': str(tmp_path / 'safety')}) == 1
    result = results[-1]
    assert result['msg'].startswith('Restore of the database app in db failed: pg_restore of app.pgdump into app in db failed')
    assert result['changed'] is False
    assert fake.content('db', 'app') == b'PGDMP live app'
    assert len(result['safety_dumps']) == 1 and os.path.isfile(result['safety_dumps'][0])


def test_another_sha256_extracts_nothing(tmp_path, results, fake):
    built = make(tmp_path)
    assert run_module({'archive': built['path'], 'sha256': '0' * 64, 'safety_dir': str(tmp_path / 'safety')}) == 1
    assert results[-1]['msg'].startswith('Failed to extract the PostgreSQL dumps of %s: the archive has sha256' % built['path'])
    assert fake.calls == []
    assert os.listdir(str(tmp_path / 'safety')) == []


def test_a_safety_dump_is_put_back_without_an_archive(tmp_path, results, fake):
    dump = tmp_path / 'claudebox-safety-20261207T031500Z-app.pgdump'
    dump.write_bytes(b'PGDMP the safety dump')
    assert run_module({'databases': [{'dump': str(dump), 'container': 'db', 'database': 'app'}]}) == 0
    assert fake.content('db', 'app') == b'PGDMP the safety dump'
    assert results[-1]['safety_dumps'] == []


def test_without_an_archive_each_database_needs_its_dump(results, fake):
    assert run_module({'databases': [{'container': 'db', 'database': 'app'}]}) == 1
    assert results[-1]['msg'] == ('Failed to plan the restore of the PostgreSQL dumps: without archive, each of databases needs dump, '
                                  'container and database; the entry for database app in db lacks dump')


def test_drill_touches_no_live_database(tmp_path, results, fake):
    built = make(tmp_path)
    assert run_module({'archive': built['path'], 'drill': True, 'work_dir': str(tmp_path)}) == 0
    assert results[-1]['changed'] is False
    assert fake.content('db', 'app') == b'PGDMP live app'
    assert fake.names('db') == ['app']

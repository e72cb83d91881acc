# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_pg_restore: which dump goes where, safety dumps first, restore into a scratch database and swap, all or none."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.clawd.ops.plugins.module_utils._pg_restore import (
    PgRestore,
    PgRestoreError,
    plan_databases,
    prune_safety_dumps,
    quote_ident,
    quote_literal,
    read_manifest_dumps,
    scratch_name,
)
from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.pg_fakes import FakePostgres

STAMP = '20261207T031500Z'


def live(content=b'PGDMP live', owner='app'):
    return {'content': content, 'owner': owner}


def dump_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def databases(tmp_path, *names):
    return [{'name': '%s.pgdump' % name, 'container': 'db', 'database': name, 'user': 'postgres',
             'dump': 'dumps/%s.pgdump' % name, 'path': dump_file(tmp_path, '%s.pgdump' % name, b'PGDMP backup of ' + name.encode())}
            for name in names]


def restorer(fake, tmp_path):
    safety = tmp_path / 'safety'
    safety.mkdir(exist_ok=True)
    return PgRestore(fake, safety_dir=str(safety), safety_prefix='claudebox-safety', stamp=STAMP)


def test_quoting_doubles_quotes():
    assert quote_ident('my "db"') == '"my ""db"""'
    assert quote_literal("it's") == "'it''s'"


def test_scratch_name_is_short_and_per_database():
    assert scratch_name('app').startswith('clawd_restore_') and len(scratch_name('x' * 63)) <= 63
    assert scratch_name('app') != scratch_name('app2')


def test_plan_takes_the_manifest_and_the_overrides_by_name():
    manifest = [{'name': 'app.pgdump', 'container': 'pg', 'database': 'app'}, {'name': 'audit.pgdump', 'container': 'pg', 'database': 'audit'}]
    planned, missing = plan_databases(manifest, [{'name': 'app', 'user': 'owner', 'container': 'pg2'}, {'name': 'gone', 'container': 'x'}])
    assert planned == [
        {'name': 'app.pgdump', 'dump': 'dumps/app.pgdump', 'container': 'pg2', 'database': 'app', 'user': 'owner'},
        {'name': 'audit.pgdump', 'dump': 'dumps/audit.pgdump', 'container': 'pg', 'database': 'audit', 'user': 'postgres'},
    ]
    assert missing == ['gone.pgdump']


def test_plan_refuses_a_dump_without_a_container():
    with pytest.raises(PgRestoreError, match='the dump app.pgdump names no container'):
        plan_databases([{'name': 'app.pgdump', 'container': None, 'database': 'app'}])


def test_manifest_dumps_are_the_postgres_ones(tmp_path):
    archive = tmp_path / 'a.tar.zst'
    (tmp_path / 'a.tar.zst.manifest.json').write_text(json.dumps({'dumps': [
        {'name': 'app.sqlite3', 'type': 'sqlite', 'source': '/data/app.db'},
        {'name': 'app.pgdump', 'type': 'postgres', 'container': 'pg', 'database': 'app'}]}))
    assert read_manifest_dumps(str(archive)) == [{'name': 'app.pgdump', 'container': 'pg', 'database': 'app'}]
    with pytest.raises(PgRestoreError, match='cannot read the manifest'):
        read_manifest_dumps(str(tmp_path / 'b.tar.zst'))


def test_restore_takes_safety_dumps_first_then_swaps_each_database_in(tmp_path):
    fake = FakePostgres({('db', 'app'): live(b'PGDMP live app'), ('db', 'audit'): live(b'PGDMP live audit')})
    result = restorer(fake, tmp_path).run(databases(tmp_path, 'app', 'audit'))
    assert fake.content('db', 'app') == b'PGDMP backup of app'
    assert fake.content('db', 'audit') == b'PGDMP backup of audit'
    assert fake.databases[('db', 'app')]['owner'] == 'app'  # the live database's owner is kept
    assert fake.names('db') == ['app', 'audit']  # no scratch database is left
    safety = str(tmp_path / 'safety' / ('claudebox-safety-%s-app.pgdump' % STAMP))
    assert [db['safety_dump'] for db in result] == [safety, safety.replace('-app.', '-audit.')]
    assert open(safety, 'rb').read() == b'PGDMP live app'
    assert [db['state'] for db in result] == ['restored', 'restored']
    # Both safety dumps are taken before either database is touched.
    kinds = [call[0] for call in fake.calls]
    assert kinds.index('pg_restore') > max(i for i, kind in enumerate(kinds) if kind == 'pg_dump')
    restore = [call for call in fake.calls if call[0] == 'pg_restore'][0]
    assert restore[2] == ['pg_restore', '--single-transaction', '--exit-on-error', '--no-password', '-U', 'postgres', '-d', scratch_name('app')]
    assert restore[3].endswith('app.pgdump')


def test_a_database_that_does_not_exist_is_created_without_a_safety_dump(tmp_path):
    fake = FakePostgres()
    result = restorer(fake, tmp_path).run(databases(tmp_path, 'app'))
    assert fake.content('db', 'app') == b'PGDMP backup of app'
    assert result[0]['existed'] is False and result[0]['safety_dump'] is None
    assert not [call for call in fake.calls if call[0] == 'pg_dump']


def test_a_failed_pg_restore_leaves_the_live_database_and_keeps_the_safety_dump(tmp_path):
    fake = FakePostgres({('db', 'app'): live(b'PGDMP live app')})
    dbs = databases(tmp_path, 'app')
    with open(dbs[0]['path'], 'wb') as handle:
        handle.write(b'BAD dump')
    with pytest.raises(PgRestoreError) as error:
        restorer(fake, tmp_path).run(dbs)
    message = str(error.value)
    assert message.startswith('Restore of the database app in db failed: pg_restore of app.pgdump into app in db failed: exit 1: '
                              'pg_restore: error: could not execute query')
    assert 'app in db: not touched (the restore failed before the swap)' in message
    safety = str(tmp_path / 'safety' / ('claudebox-safety-%s-app.pgdump' % STAMP))
    assert ('its safety dump %s is kept (to put it back by hand: docker exec db dropdb -U postgres --force app; docker exec db createdb '
            '-U postgres -T template0 app; docker exec -i db pg_restore --single-transaction --exit-on-error -U postgres -d app < %s)'
            % (safety, safety)) in message
    assert error.value.changed is False
    assert fake.content('db', 'app') == b'PGDMP live app'
    assert fake.names('db') == ['app']  # the scratch database is dropped
    assert os.path.isfile(safety)


def test_a_later_failure_puts_the_databases_already_restored_back(tmp_path):
    fake = FakePostgres({('db', 'app'): live(b'PGDMP live app'), ('db', 'audit'): live(b'PGDMP live audit')})
    dbs = databases(tmp_path, 'app', 'audit')
    with open(dbs[1]['path'], 'wb') as handle:
        handle.write(b'BAD dump')
    with pytest.raises(PgRestoreError) as error:
        restorer(fake, tmp_path).run(dbs)
    assert fake.content('db', 'app') == b'PGDMP live app'
    assert fake.content('db', 'audit') == b'PGDMP live audit'
    assert [db['state'] for db in error.value.databases] == ['put back from its safety dump', 'not touched (the restore failed before the swap)']
    assert 'Restore of the database audit in db failed' in str(error.value)
    assert error.value.changed is True


def test_a_failed_safety_dump_touches_nothing_and_leaves_no_partial_file(tmp_path):
    fake = FakePostgres({('db', 'app'): live()})
    fake.fail['pg_dump'] = (1, 'pg_dump: error: connection refused')
    with pytest.raises(PgRestoreError, match=r'the safety dump of app in db failed \(nothing was restored\): .*connection refused'):
        restorer(fake, tmp_path).run(databases(tmp_path, 'app'))
    assert os.listdir(str(tmp_path / 'safety')) == []
    assert not [call for call in fake.calls if call[0] == 'pg_restore']


def test_a_failed_swap_names_the_database_and_the_restored_copy(tmp_path):
    fake = FakePostgres({('db', 'app'): live()})
    fake.fail['RENAME'] = (1, 'ERROR:  database "app" is being accessed by other users')
    with pytest.raises(PgRestoreError, match='swapping the restored copy \\(database %s\\) in for app in db failed: exit 1: ERROR:  database'
                       % scratch_name('app')):
        restorer(fake, tmp_path).run(databases(tmp_path, 'app'))


def test_a_missing_container_is_an_error_naming_it(tmp_path):
    fake = FakePostgres(containers=())
    with pytest.raises(PgRestoreError, match='psql of app in db could not run: no such container db'):
        restorer(fake, tmp_path).run(databases(tmp_path, 'app'))


def test_a_missing_dump_file_is_refused_before_anything_runs(tmp_path):
    fake = FakePostgres({('db', 'app'): live()})
    dbs = databases(tmp_path, 'app')
    os.remove(dbs[0]['path'])
    with pytest.raises(PgRestoreError, match='is not there; nothing was restored'):
        restorer(fake, tmp_path).run(dbs)
    assert fake.calls == []


def test_drill_restores_into_a_scratch_database_and_drops_it(tmp_path):
    fake = FakePostgres({('db', 'app'): live(b'PGDMP live app')})
    result = PgRestore(fake).drill(databases(tmp_path, 'app'))
    assert fake.content('db', 'app') == b'PGDMP live app'
    assert fake.names('db') == ['app']
    assert result[0]['state'].startswith('restores')
    assert not [call for call in fake.calls if call[0] == 'pg_dump']


def test_drill_fails_naming_the_database(tmp_path):
    fake = FakePostgres()
    dbs = databases(tmp_path, 'app')
    with open(dbs[0]['path'], 'wb') as handle:
        handle.write(b'BAD dump')
    with pytest.raises(PgRestoreError, match='Restore drill of the database app in db failed: pg_restore of app.pgdump'):
        PgRestore(fake).drill(dbs)
    assert fake.names('db') == []


def test_prune_keeps_the_newest_safety_dumps_of_each_database(tmp_path):
    names = ['claudebox-safety-2026120%dT000000Z-app.pgdump' % day for day in range(1, 6)] + [
        'claudebox-safety-20261201T000000Z-audit.pgdump', 'claudebox-safety-20261201T000000Z-x-app.pgdump', 'other.pgdump']
    for name in names:
        (tmp_path / name).write_bytes(b'x')
    removed = prune_safety_dumps(str(tmp_path), 'claudebox-safety', ['app.pgdump', 'audit.pgdump'], 3)
    assert sorted(os.path.basename(path) for path in removed) == names[:2]
    assert sorted(os.listdir(str(tmp_path))) == sorted(names[2:])
    assert prune_safety_dumps(str(tmp_path), 'claudebox-safety', ['app.pgdump'], 0) == []

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sample app's ``migrate``: the migrations it applies against a fake connection, and its exit codes as a subprocess."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / 'lab' / 'app' / 'clawd_sample_app.py'
SPEC = importlib.util.spec_from_file_location('clawd_sample_app', APP)
app = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(app)


class FakeConnection:
    """Records the SQL; answers the schema version query with ``version``; fails a statement containing ``fail_on``."""

    def __init__(self, version, fail_on=None):
        self.version, self.fail_on, self.sql = version, fail_on, []

    def query(self, sql):
        self.sql.append(sql)
        if self.fail_on and self.fail_on in sql:
            raise app.PgError('ERROR: boom')
        if sql.startswith('SELECT coalesce(max(version)'):
            return [(str(self.version),)]
        return []


def test_migrates_each_step_in_its_own_transaction_and_records_it():
    conn = FakeConnection(1)
    assert app.migrate(conn, 3) == (1, 3)
    steps = [s for s in conn.sql if s.startswith('BEGIN')]
    assert len(steps) == 2
    assert steps[0].endswith('INSERT INTO schema_version (version) VALUES (2); COMMIT') and 'ADD COLUMN pinned' in steps[0]
    assert steps[1].endswith('INSERT INTO schema_version (version) VALUES (3); COMMIT')


@pytest.mark.parametrize('current,target', [(2, 2), (3, 1), (2, 0)])
def test_a_current_or_newer_database_is_left_alone(current, target):
    conn = FakeConnection(current)
    assert app.migrate(conn, target) == (current, current)
    assert not any(s.startswith(('BEGIN', 'ALTER', 'UPDATE')) for s in conn.sql)


def test_the_fail_knob_applies_the_last_migration_half_and_does_not_record_it():
    conn = FakeConnection(1)
    with pytest.raises(app.PgError, match='migration 3 failed after its statements ran'):
        app.migrate(conn, 3, fail=True)
    assert [s for s in conn.sql if s.startswith('BEGIN')][0].endswith('VALUES (2); COMMIT')
    assert conn.sql[-2:] == list(app.MIGRATIONS[3])
    assert not any('VALUES (3)' in s for s in conn.sql)


def test_an_unknown_schema_is_a_configuration_error():
    with pytest.raises(app.ConfigError, match='APP_SCHEMA_VERSION 9 is not a schema this app knows'):
        app.migrate(FakeConnection(1), 9)


@pytest.mark.parametrize('env,code,text', [
    ({}, 2, 'APP_DATABASE_URL is not set'),
    ({'APP_DATABASE_URL': 'mysql://db/app'}, 2, 'APP_DATABASE_URL must be postgresql://'),
    ({'APP_DATABASE_URL': 'postgresql://postgres@127.0.0.1:1/app', 'APP_SCHEMA_VERSION': 'two'}, 2, 'must be a number'),
    ({'APP_DATABASE_URL': 'postgresql://postgres@127.0.0.1:1/app', 'APP_SCHEMA_VERSION': '2'}, 1, 'cannot connect to 127.0.0.1:1'),
])
def test_migrate_exit_codes(env, code, text):
    clean = {k: v for k, v in os.environ.items() if not k.startswith('APP_')}
    proc = subprocess.run([sys.executable, str(APP), 'migrate'], env=dict(clean, **env), capture_output=True, text=True, timeout=30,
                          check=False)
    assert proc.returncode == code
    assert text in proc.stdout + proc.stderr

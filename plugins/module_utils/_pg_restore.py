# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Restoring the PostgreSQL dumps of a backup archive (dumps/<name>.pgdump) into their databases.

Every command runs inside the database's container (docker exec, _docker_exec.DockerExec, or a fake
of its run and dump methods in the unit tests). For each database, in order:

1. its safety dump: pg_dump --format=custom of the database as it is now, into the safety folder
   (all of them before any database is touched; a database that does not exist has none);
2. a scratch database (clawd_restore_<hash>, template0, the live one's owner, encoding and locale)
   into which the dump is streamed: pg_restore --single-transaction --exit-on-error, reading stdin;
3. only when that succeeded, the swap: the live database is dropped (WITH (FORCE): PostgreSQL 13 or
   later) and the scratch one renamed to its name.

A failed pg_restore leaves the live database as it was (the scratch one is dropped); when a later
database fails, the databases already swapped are put back from their safety dumps the same way.
Either way the error names the database, says where each one stands and keeps the safety dumps.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os
import shutil
import tempfile

from ansible_collections.clawd.ops.plugins.module_utils._backup_format import DUMPS_PREFIX, manifest_path
from ansible_collections.clawd.ops.plugins.module_utils._backup_plan import PGDUMP_SUFFIX
from ansible_collections.clawd.ops.plugins.module_utils._docker_exec import ExecError

SCRATCH_PREFIX = 'clawd_restore_'
ERROR_TAIL = 600  # characters of a command's stderr quoted in an error


class PgRestoreError(Exception):
    """A restore refused or failed; changed says whether a database was touched, databases where each stands."""

    def __init__(self, message, changed=False, databases=None):
        super(PgRestoreError, self).__init__(message)
        self.changed = changed
        self.databases = databases or []


def quote_ident(name):
    return '"%s"' % name.replace('"', '""')


def quote_literal(text):
    return "'%s'" % text.replace("'", "''")


def scratch_name(database):
    """The scratch database a dump is restored into before the swap (63 bytes at most, PostgreSQL's limit)."""
    return SCRATCH_PREFIX + hashlib.sha256(database.encode('utf-8')).hexdigest()[:16]


def dump_file_name(name):
    return name if name.endswith(PGDUMP_SUFFIX) else name + PGDUMP_SUFFIX


def read_manifest_dumps(archive):
    """The PostgreSQL dumps that the manifest beside the archive lists: [{name, container, database}]."""
    path = manifest_path(archive)
    try:
        with open(path, 'rb') as handle:
            manifest = json.loads(handle.read().decode('utf-8'))
    except (OSError, IOError, ValueError, UnicodeDecodeError) as exc:
        raise PgRestoreError('cannot read the manifest %s: %s' % (path, exc))
    dumps = manifest.get('dumps') if isinstance(manifest, dict) else None
    return [dict((key, item.get(key)) for key in ('name', 'container', 'database'))
            for item in dumps or [] if isinstance(item, dict) and item.get('type') == 'postgres']


def plan_databases(manifest_dumps, overrides=(), default_user='postgres'):
    """Which dump goes into which container and database: the manifest's, each overridable by name.

    overrides: [{name, container, database, user}] (the backup's postgres list), matched by name with
    or without .pgdump; a name the archive lacks is not restored (returned in the second list).
    """
    by_name = dict((dump_file_name(item['name']), item) for item in overrides or () if item.get('name'))
    planned = []
    for dump in manifest_dumps:
        name = dump_file_name(dump['name'])
        override = by_name.pop(name, {})
        entry = {'name': name, 'dump': DUMPS_PREFIX + name,
                 'container': override.get('container') or dump.get('container'),
                 'database': override.get('database') or dump.get('database'),
                 'user': override.get('user') or default_user}
        for key in ('container', 'database'):
            if not entry[key]:
                raise PgRestoreError('the dump %s names no %s: give it in the postgres list' % (name, key))
        planned.append(entry)
    return planned, sorted(by_name)


class PgRestore(object):
    """Restores a list of databases [{name, container, database, user, path}] with one exec (see the module doc)."""

    def __init__(self, runner, safety_dir=None, safety_prefix='postgres-safety', stamp='now'):
        self.runner = runner
        self.safety_dir = safety_dir
        self.safety_prefix = safety_prefix
        self.stamp = stamp

    def _psql(self, db, *statements):
        argv = ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '--no-password', '-U', db['user'], '-d', 'postgres']
        for statement in statements:
            argv += ['-c', statement]
        return self._run(db, argv)

    def _run(self, db, argv, stdin_path=None):
        """(exit code, stdout, stderr text) of argv in the database's container; ExecError as PgRestoreError."""
        try:
            code, out, err = self.runner.run(db['container'], argv, stdin_path=stdin_path)
        except ExecError as exc:
            raise PgRestoreError('%s of %s in %s could not run: %s' % (argv[0], db['database'], db['container'], exc))
        return code, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace').strip()[-ERROR_TAIL:]

    def _fail(self, db, doing, code, err):
        return PgRestoreError('%s %s in %s failed: exit %s: %s' % (doing, db['database'], db['container'], code, err or 'no error output'))

    def current(self, db):
        """The live database's owner, encoding and locale, or None when it does not exist."""
        code, out, err = self._psql(db, "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype "
                                        "FROM pg_database WHERE datname = %s" % quote_literal(db['database']))
        if code != 0:
            raise self._fail(db, 'reading the database', code, err)
        line = out.strip()
        return dict(zip(('owner', 'encoding', 'collate', 'ctype'), line.split('|'))) if line else None

    def safety_dump(self, db):
        target = os.path.join(self.safety_dir, '%s-%s-%s' % (self.safety_prefix, self.stamp, db['name']))
        try:
            self.runner.dump(db['container'], db['database'], db['user'], target)
        except ExecError as exc:
            if os.path.exists(target):
                os.remove(target)
            raise PgRestoreError('the safety dump of %s in %s failed (nothing was restored): %s' % (db['database'], db['container'], exc))
        return target

    def restore_one(self, db, live, swap=True):
        """Restore db['path'] into a scratch database, then swap it in (else drop it); the live one is untouched on failure."""
        scratch = scratch_name(db['database'])
        create = 'CREATE DATABASE %s TEMPLATE template0' % quote_ident(scratch)
        if live:
            create += ' OWNER %s ENCODING %s LC_COLLATE %s LC_CTYPE %s' % (
                quote_ident(live['owner']), quote_literal(live['encoding']), quote_literal(live['collate']), quote_literal(live['ctype']))
        code, _out, err = self._psql(db, 'DROP DATABASE IF EXISTS %s' % quote_ident(scratch), create)
        if code != 0:
            raise self._fail(db, 'creating the scratch database %s for' % scratch, code, err)
        argv = ['pg_restore', '--single-transaction', '--exit-on-error', '--no-password', '-U', db['user'], '-d', scratch]
        code, _out, err = self._run(db, argv, stdin_path=db['path'])
        if code != 0:
            self._psql(db, 'DROP DATABASE IF EXISTS %s' % quote_ident(scratch))
            raise self._fail(db, 'pg_restore of %s into' % os.path.basename(db['path']), code, err)
        if not swap:
            code, _out, err = self._psql(db, 'DROP DATABASE %s' % quote_ident(scratch))
            if code != 0:
                raise self._fail(db, 'dropping the scratch database %s, restored for' % scratch, code, err)
            return
        code, _out, err = self._psql(db, 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % quote_ident(db['database']),
                                     'ALTER DATABASE %s RENAME TO %s' % (quote_ident(scratch), quote_ident(db['database'])))
        if code != 0:
            raise self._fail(db, 'swapping the restored copy (database %s) in for' % scratch, code, err)

    def drill(self, databases):
        """Restore every dump into a scratch database and drop it: no live database is read or touched."""
        states = [dict(db, safety_dump=None, existed=None, state='not tried') for db in databases]
        for db in states:
            try:
                self.restore_one(db, None, swap=False)
            except PgRestoreError as exc:
                db['state'] = 'failed'
                raise PgRestoreError('Restore drill of the database %s in %s failed: %s' % (db['database'], db['container'], exc),
                                     databases=_public(states))
            db['state'] = 'restores (drilled in a scratch database, then dropped)'
        return _public(states)

    def run(self, databases):
        """Restore every database, all or none; returns the list with safety_dump and state of each."""
        for db in databases:
            if not os.path.isfile(db['path']):
                raise PgRestoreError('the dump %s for %s in %s is not there; nothing was restored' % (db['path'], db['database'], db['container']))
        states = [dict(db, safety_dump=None, existed=False, state='not touched') for db in databases]
        for db in states:
            live = self.current(db)
            db['existed'], db['live'] = live is not None, live
            if live is not None and self.safety_dir:
                db['safety_dump'] = self.safety_dump(db)
        for index, db in enumerate(states):
            try:
                self.restore_one(db, db['live'])
                db['state'] = 'restored'
            except PgRestoreError as exc:
                db['state'] = 'not touched (the restore failed before the swap)'
                self._put_back(states[:index])
                raise PgRestoreError('Restore of the database %s in %s failed: %s. %s' % (
                    db['database'], db['container'], exc, self.account(states)), changed=index > 0, databases=_public(states))
        return _public(states)

    def _put_back(self, restored):
        for db in restored:
            if not db['safety_dump']:
                db['state'] = 'restored (it did not exist before, so there is nothing to put back)'
                continue
            try:
                self.restore_one(dict(db, path=db['safety_dump']), db['live'])
                db['state'] = 'put back from its safety dump'
            except PgRestoreError as exc:
                db['state'] = 'restored, and putting it back from its safety dump failed (%s)' % exc

    def account(self, states):
        parts = []
        for db in states:
            part = '%s in %s: %s' % (db['database'], db['container'], db['state'])
            if db['safety_dump'] and not db['state'].startswith('put back'):
                part += '; its safety dump %s is kept (to put it back by hand: %s)' % (db['safety_dump'], hand_put_back(db, db['safety_dump']))
            parts.append(part)
        return 'Databases: ' + '; '.join(parts) + '.'


def hand_put_back(db, path):
    """The shell commands that put a dump back into its database by hand, as this module does (drop, create, restore)."""
    return ('docker exec %(c)s dropdb -U %(u)s --force %(d)s; docker exec %(c)s createdb -U %(u)s -T template0 %(d)s; '
            'docker exec -i %(c)s pg_restore --single-transaction --exit-on-error -U %(u)s -d %(d)s < %(p)s'
            % {'c': db['container'], 'u': db['user'], 'd': db['database'], 'p': path})


def _public(states):
    keys = ('name', 'container', 'database', 'user', 'dump', 'safety_dump', 'existed', 'state')
    return [dict((key, db.get(key)) for key in keys) for db in states]


def prune_safety_dumps(folder, prefix, names, keep):
    """Keep the keep newest safety dumps <prefix>-<stamp>-<name> of each name in folder; returns those removed."""
    removed = []
    if keep <= 0 or not os.path.isdir(folder):
        return removed
    entries = os.listdir(folder)
    for name in names:
        stamps = sorted((entry for entry in entries if entry.startswith(prefix + '-') and entry.endswith('-' + name)
                         and len(entry) == len(prefix) + len(name) + 18), reverse=True)  # -YYYYmmddTHHMMSSZ-
        for entry in stamps[keep:]:
            os.remove(os.path.join(folder, entry))
            removed.append(os.path.join(folder, entry))
    return removed


def extract_dumps(archive, sha256, folder, extract):
    """Extract the archive's dumps/ into a new scratch folder under folder; returns it (remove_tree when done)."""
    scratch = tempfile.mkdtemp(prefix='.pg-restore-', dir=folder)
    try:
        extract(archive, {'dumps': scratch}, clear=True, expected_sha256=sha256)
    except Exception:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return scratch

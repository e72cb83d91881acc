# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake exec into PostgreSQL containers: the run and dump methods of _docker_exec.DockerExec, over a dict of databases.

A database's content is the bytes of the last dump restored into it. It understands what _pg_restore sends:
psql -c with SELECT ... FROM pg_database, CREATE/DROP DATABASE, ALTER DATABASE ... RENAME TO, and pg_restore
-d <db> reading the dump from stdin (a dump that starts with BAD fails, as pg_restore --exit-on-error would).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.clawd.ops.plugins.module_utils._docker_exec import ExecError


def _ident(text):
    return text[1:-1].replace('""', '"')


class FakePostgres(object):

    def __init__(self, databases=None, containers=('db',)):
        # (container, database) -> {'content': bytes, 'owner': str}
        self.databases = dict(((key[0], key[1]), dict(value)) for key, value in (databases or {}).items())
        self.containers = set(containers)
        self.calls = []
        self.fail = {}  # a word of a statement (or 'pg_dump') -> (exit code, stderr)

    def content(self, container, database):
        return self.databases[(container, database)]['content']

    def names(self, container):
        return sorted(name for (where, name) in self.databases if where == container)

    def dump(self, container, database, user, target):
        self.calls.append(('pg_dump', container, database, user))
        if container not in self.containers:
            raise ExecError('pg_dump of %s in %s failed: no such container' % (database, container))
        if 'pg_dump' in self.fail:
            with open(target, 'wb') as handle:
                handle.write(b'PGDMP partial')
            raise ExecError('pg_dump of %s in %s failed: exit 1: %s' % (database, container, self.fail['pg_dump'][1]))
        with open(target, 'wb') as handle:
            handle.write(self.content(container, database))

    def run(self, container, argv, stdin_path=None):
        self.calls.append((argv[0], container, list(argv), stdin_path))
        if container not in self.containers:
            raise ExecError('no such container %s' % container)
        if argv[0] == 'pg_restore':
            with open(stdin_path, 'rb') as handle:
                data = handle.read()
            target = argv[argv.index('-d') + 1]
            if (container, target) not in self.databases:
                return 1, b'', b'pg_restore: error: database "%s" does not exist' % target.encode()
            if data.startswith(b'BAD') or 'pg_restore' in self.fail:
                return 1, b'', b'pg_restore: error: could not execute query: ERROR:  relation "notes" already exists'
            self.databases[(container, target)]['content'] = data
            return 0, b'', b''
        out = []
        statements = [argv[i + 1] for i, arg in enumerate(argv) if arg == '-c']
        for statement in statements:
            for word, failure in self.fail.items():
                if word in statement:
                    return failure[0], b'', failure[1].encode()
            out.append(self._statement(container, statement))
        return 0, ''.join(out).encode(), b''

    def _statement(self, container, sql):
        match = re.match(r"SELECT .* FROM pg_database WHERE datname = '(.*)'$", sql)
        if match:
            db = self.databases.get((container, match.group(1).replace("''", "'")))
            return '%s|UTF8|C.UTF-8|C.UTF-8\n' % db['owner'] if db else ''
        match = re.match(r'DROP DATABASE (IF EXISTS )?("(?:[^"]|"")*")( WITH \(FORCE\))?$', sql)
        if match:
            self.databases.pop((container, _ident(match.group(2))), None)
            return ''
        match = re.match(r'CREATE DATABASE ("(?:[^"]|"")*") TEMPLATE template0(?: OWNER ("(?:[^"]|"")*"))?', sql)
        if match:
            owner = _ident(match.group(2)) if match.group(2) else 'postgres'
            self.databases[(container, _ident(match.group(1)))] = {'content': b'', 'owner': owner}
            return ''
        match = re.match(r'ALTER DATABASE ("(?:[^"]|"")*") RENAME TO ("(?:[^"]|"")*")$', sql)
        if match:
            self.databases[(container, _ident(match.group(2)))] = self.databases.pop((container, _ident(match.group(1))))
            return ''
        raise AssertionError('the fake does not know: %s' % sql)

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: postgres_restore
short_description: Restore the PostgreSQL dumps of a backup archive into their databases, inside their containers
version_added: 0.1.0
description:
  - Restores each C(dumps/<name>.pgdump) (C(pg_dump --format=custom)) of a clawd.ops backup archive into its database, running
    C(pg_restore) inside the container that runs PostgreSQL through the Docker Engine API, the dump streamed into its standard input.
  - Which dump goes where is read from the manifest beside the archive (the backup records each dump's container and database);
    O(databases) overrides them by name and gives the PostgreSQL role to connect as.
  - First takes a safety dump of every database that exists, into O(safety_dir). Then, for each database, restores the dump into
    a scratch database (C(clawd_restore_<hash>), with the live one's owner, encoding and locale) with
    C(pg_restore --single-transaction --exit-on-error), and only then drops the live database (C(WITH (FORCE)), PostgreSQL 13 or
    later) and renames the scratch one in its place, so objects made after the backup (a new column, a new table) are gone.
  - A failed C(pg_restore) leaves the live database as it was; when a later database fails, the ones already restored are put
    back from their safety dumps. The error names the database, says where each one stands and how to put a safety dump back by
    hand; the safety dumps are kept.
  - Without O(archive), restores the dump files that O(databases) names (a safety dump put back), the same way.
  - The dumps are extracted from the archive (checked against O(sha256), see M(clawd.ops.backup_extract)) into a scratch folder
    under O(work_dir), removed at the end. Memory stays bounded, since dumps stream from files to the container and back.
author:
  - clawd.ops team (@clawd-ops)
requirements:
  - docker (the Docker SDK for Python)
  - zstandard (Python library), for C(.tar.zst) archives
  - PostgreSQL 13 or later in the container, with C(psql), C(pg_dump) and C(pg_restore), local connections without password
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the manifest and reports which dump would go into which container and database; runs nothing in the containers.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  archive:
    description:
      - The backup archive whose PostgreSQL dumps to restore; its manifest (C(<archive>.manifest.json)) says which goes where.
      - Without it, every entry of O(databases) names its own O(databases[].dump) file.
    type: path
  sha256:
    description: The archive's expected sha256 (the one verified before); the dumps are extracted only from those bytes.
    type: str
  databases:
    description:
      - With O(archive), overrides of the manifest's dumps by name (the backup's C(postgres) list fits); a name the archive lacks is
        skipped and listed in RV(not_in_archive).
      - Without O(archive), the dump files to restore.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The dump's name in the archive (C(app) or C(app.pgdump)).
        type: str
      container:
        description: The container that runs PostgreSQL.
        type: str
      database:
        description: The database to restore into.
        type: str
      user:
        description: The PostgreSQL role to connect as (a superuser, or the owner that may create databases).
        type: str
        default: postgres
      dump:
        description: Without O(archive), the dump file (C(pg_dump --format=custom)) on the host.
        type: path
  safety_dir:
    description: Folder of the safety dumps taken before anything is restored; without it no safety dump is taken.
    type: path
  safety_prefix:
    description: Start of the safety dumps' names, C(<safety_prefix>-<UTC time>-<name>.pgdump).
    type: str
    default: postgres-safety
  safety_keep:
    description: Safety dumps kept per database in O(safety_dir) after a restore (the newest); V(0) keeps them all.
    type: int
    default: 3
  drill:
    description:
      - Restore each dump into a scratch database and drop it again, proving that it restores; no live database is read or touched
        and no safety dump is taken.
    type: bool
    default: false
  work_dir:
    description: Folder under which the dumps are extracted for the restore; default O(safety_dir), else the archive's folder.
    type: path
  docker_host:
    description: The Docker Engine API, C(unix://) or C(tcp://). Defaults to the environment variable C(DOCKER_HOST) when it is set.
    type: str
    default: unix:///var/run/docker.sock
seealso:
  - module: clawd.ops.backup_archive
  - module: clawd.ops.backup_extract
'''

EXAMPLES = r'''
- name: Restore the databases of a verified archive, with safety dumps first
  clawd.ops.postgres_restore:
    archive: /var/backups/clawd/claudebox-20261123T175000Z-1.0.0.tar.zst
    sha256: "{{ verified.sha256 }}"
    safety_dir: /var/backups/clawd/safety
    databases:
      - name: app
        user: postgres

- name: Put a safety dump back
  clawd.ops.postgres_restore:
    databases:
      - dump: /var/backups/clawd/safety/postgres-safety-20261207T031500Z-app.pgdump
        container: claudebox-postgres
        database: app
'''

RETURN = r'''
databases:
  description: Each database with its C(name), C(container), C(database), C(user), C(safety_dump) (or null), whether it C(existed)
    and its C(state) (V(restored), or in check mode V(would be restored)).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "app.pgdump", "container": "claudebox-postgres", "database": "app", "user": "postgres",
            "safety_dump": "/var/backups/clawd/safety/postgres-safety-20261207T031500Z-app.pgdump", "existed": true, "state": "restored"}]
safety_dumps:
  description: The safety dumps taken.
  returned: always
  type: list
  elements: str
not_in_archive:
  description: Names in O(databases) that the archive has no dump of (not restored).
  returned: with O(archive)
  type: list
  elements: str
pruned:
  description: Older safety dumps removed (O(safety_keep)).
  returned: after a restore with O(safety_dir)
  type: list
  elements: str
'''

import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clawd.ops.plugins.module_utils._backup_extract import BackupExtractError, extract_archive
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import MissingLibraryError
from ansible_collections.clawd.ops.plugins.module_utils._docker import DOCKER_ERRORS, DOCKER_IMPORT_ERROR, HAS_DOCKER, docker, docker_host_option
from ansible_collections.clawd.ops.plugins.module_utils._docker_exec import DockerExec
from ansible_collections.clawd.ops.plugins.module_utils._pg_restore import (
    PgRestore,
    PgRestoreError,
    extract_dumps,
    prune_safety_dumps,
    plan_databases,
    read_manifest_dumps,
)
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg


def make_runner(docker_host):
    """The test seam: tests replace it with a fake exec."""
    return DockerExec(docker.DockerClient(base_url=docker_host, version='auto'))


def _plan(params):
    if params['archive']:
        return plan_databases(read_manifest_dumps(params['archive']), params['databases'])
    planned = []
    for item in params['databases']:
        missing = [key for key in ('dump', 'container', 'database') if not item.get(key)]
        if missing:
            raise PgRestoreError('without archive, each of databases needs dump, container and database; %s lacks %s'
                                 % (item.get('name') or item.get('dump') or 'the entry for database %s in %s' % (item.get('database'), item.get('container')),
                                    ', '.join(missing)))
        planned.append({'name': item.get('name') or os.path.basename(item['dump']), 'dump': item['dump'], 'path': item['dump'],
                        'container': item['container'], 'database': item['database'], 'user': item['user']})
    return planned, []


def main():
    database = dict(name=dict(type='str'), container=dict(type='str'), database=dict(type='str'),
                    user=dict(type='str', default='postgres'), dump=dict(type='path'))
    module = AnsibleModule(
        argument_spec=dict(
            archive=dict(type='path'),
            sha256=dict(type='str'),
            databases=dict(type='list', elements='dict', default=[], options=database),
            safety_dir=dict(type='path'),
            safety_prefix=dict(type='str', default='postgres-safety'),
            safety_keep=dict(type='int', default=3),
            drill=dict(type='bool', default=False),
            work_dir=dict(type='path'),
            docker_host=docker_host_option(),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        planned, not_in_archive = _plan(params)
    except PgRestoreError as exc:
        module.fail_json(msg='Failed to plan the restore of the PostgreSQL dumps: %s' % exc)
    result = dict(not_in_archive=not_in_archive, safety_dumps=[])
    if not planned or module.check_mode:
        state = 'would be drilled' if params['drill'] else 'would be restored'
        result['databases'] = [dict(((key, db.get(key)) for key in ('name', 'container', 'database', 'user', 'dump')),
                                    safety_dump=None, existed=None, state=state) for db in planned]
        module.exit_json(changed=bool(planned) and not params['drill'], **result)
    if not HAS_DOCKER:
        module.fail_json(msg=missing_lib_msg('docker'), exception=DOCKER_IMPORT_ERROR)
    scratch = None
    try:
        if params['safety_dir'] and not os.path.isdir(params['safety_dir']):
            os.makedirs(params['safety_dir'], 0o750)
        if params['archive']:
            work_dir = params['work_dir'] or params['safety_dir'] or os.path.dirname(params['archive'])
            scratch = extract_dumps(params['archive'], params['sha256'], work_dir, extract_archive)
            for db in planned:
                db['path'] = os.path.join(scratch, db['name'])
        restore = PgRestore(make_runner(params['docker_host']), safety_dir=params['safety_dir'], safety_prefix=params['safety_prefix'],
                            stamp=time.strftime('%Y%m%dT%H%M%SZ', time.gmtime()))
        if params['drill']:
            result['databases'] = restore.drill(planned)
        else:
            result['databases'] = restore.run(planned)
            if params['safety_dir']:
                result['pruned'] = prune_safety_dumps(params['safety_dir'], params['safety_prefix'], [db['name'] for db in planned],
                                                      params['safety_keep'])
    except MissingLibraryError as exc:
        module.fail_json(msg=missing_lib_msg(exc.library), exception=exc.import_error)
    except BackupExtractError as exc:
        module.fail_json(msg='Failed to extract the PostgreSQL dumps of %s: %s' % (params['archive'], exc), changed=False)
    except PgRestoreError as exc:
        module.fail_json(msg=str(exc), changed=exc.changed, databases=exc.databases,
                         safety_dumps=[db['safety_dump'] for db in exc.databases if db['safety_dump']])
    except DOCKER_ERRORS as exc:
        module.fail_json(msg='Failed to restore the PostgreSQL dumps: Docker Engine API at %s: %s' % (params['docker_host'], exc))
    except (OSError, IOError) as exc:
        module.fail_json(msg='Failed to restore the PostgreSQL dumps: %s' % exc)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    result['safety_dumps'] = [db['safety_dump'] for db in result['databases'] if db['safety_dump']]
    module.exit_json(changed=not params['drill'], **result)


if __name__ == '__main__':
    main()

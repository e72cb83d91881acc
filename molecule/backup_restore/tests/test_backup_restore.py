# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario backup_restore: what the backup, the restore and the drill left on the lab host."""

import json
import os
import shlex

import boto3

testinfra_hosts = ['all']  # pylint: disable=invalid-name

NAME = 'molecule-backup_restore'
BACKUPS = '/var/backups/clawd'
STATE = os.environ['CLAWD_STATE']


def secret(name):
    with open(os.path.join(STATE, 'secrets', name), encoding='utf-8') as handle:
        return handle.read().strip()


def archives(host, folder=BACKUPS):
    return sorted(f for f in host.file(folder).listdir() if f.endswith(('.tar.zst', '.tar.gz')))


def workspace(host):
    cmd = host.run("python3 -c \"import docker; print(docker.from_env().volumes.get('%s-workspace').attrs['Mountpoint'])\"" % NAME)
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.strip()


def test_one_archive_was_made_and_check_mode_wrote_none(host):
    found = archives(host)
    assert len(found) == 1, found
    assert found[0].startswith('claudebox-') and found[0].endswith('-1.0.0.tar.zst')
    assert not [f for f in host.file(BACKUPS).listdir() if f.endswith('.partial')]


def test_archive_checks_out_with_the_standard_tools(host):
    name = archives(host)[0]
    cmd = host.run('cd %s && sha256sum -c %s.sha256 && tar --zstd -tf %s' % (BACKUPS, name, name))
    assert cmd.rc == 0, cmd.stderr
    assert 'volumes/workspace/seed.txt' in cmd.stdout
    assert 'volumes/workspace/notes/today.md' in cmd.stdout
    assert cmd.stdout.strip().splitlines()[-1] == 'clawd-backup/manifest.json'
    manifest = json.loads(host.file('%s/%s.manifest.json' % (BACKUPS, name)).content_string)
    assert manifest['format'] == 'clawd.ops/backup' and manifest['app_version'] == '1.0.0'


def test_offsite_copy_has_the_archives_size(host):
    name = archives(host)[0]
    s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:%s' % os.environ.get('CLAWD_PORT_S3', '17004'), region_name='us-east-1',
                      aws_access_key_id=secret('s3_access_key'), aws_secret_access_key=secret('s3_secret_key'))
    head = s3.head_object(Bucket='clawd-molecule-backups', Key='clawd-molecule-backup_restore/%s' % name)
    assert head['ContentLength'] == host.file('%s/%s' % (BACKUPS, name)).size


def test_restore_brought_the_data_back(host):
    live = workspace(host)
    assert host.file(live + '/seed.txt').content_string == 'the original data\n'
    assert host.file(live + '/notes/today.md').exists
    assert not host.file(live + '/damage.txt').exists


def test_safety_copy_holds_the_damaged_data(host):
    found = archives(host, BACKUPS + '/safety')
    assert len(found) == 1, found
    cmd = host.run('tar --zstd -xOf %s/safety/%s volumes/workspace/damage.txt' % (BACKUPS, found[0]))
    assert cmd.rc == 0 and cmd.stdout == 'damaged\n'


def test_faults_left_the_data_as_it_was_before_them_and_the_lock_free(host):
    live = workspace(host)
    assert host.file(live + '/fault-marker.txt').content_string == 'live before the faults\n'
    assert not host.file(live + '/fault-immutable.txt').exists
    assert not [f for f in host.file(live).listdir() if f.startswith('.clawd-restore')], host.file(live).listdir()
    assert not host.file('/var/lib/clawd/deploy.lock').exists
    # One safety copy per restore of the faults: the failed health check, the failed extraction, the hand restore.
    assert len(archives(host, BACKUPS + '/safety-faults')) == 3


def test_app_is_healthy_after_the_restore(host):
    cmd = host.run('curl -sS --cacert %s/hosts/%s/tls/ca.crt https://%s.clawd.test/health' % (STATE, NAME, NAME))
    assert cmd.rc == 0, cmd.stderr
    assert json.loads(cmd.stdout)['status'] == 'ok'


def test_drill_passed_and_left_nothing_behind(host):
    drills = host.file(BACKUPS + '/drills').listdir()
    assert len(drills) == 1, drills
    record = json.loads(host.file('%s/drills/%s' % (BACKUPS, drills[0])).content_string)
    assert record['healthy'] is True
    assert record['restored']
    cmd = host.run("python3 -c \"import docker; c = docker.from_env(); "
                   "print(len(c.containers.list(all=True, filters={'label': 'clawd.ops.drill'})), "
                   "len(c.volumes.list(filters={'label': 'clawd.ops.drill'})))\"")
    assert cmd.stdout.split() == ['0', '0']


def test_drill_at_vvvv_passed(host):
    folder = '%s/drills-vvvv-maintenance' % BACKUPS
    drills = host.file(folder).listdir()
    assert len(drills) == 1, drills
    assert json.loads(host.file('%s/%s' % (folder, drills[0])).content_string)['healthy'] is True


# Copies the dump into the PostgreSQL container (the lab host has the Docker SDK, no docker CLI)
# and prints what pg_restore lists and the data it would restore.
PG_RESTORE_SCRIPT = '''
import io, sys, tarfile, docker
data = open(sys.argv[1], 'rb').read()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as tar:
    info = tarfile.TarInfo('app.pgdump')
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
container = docker.from_env().containers.get(sys.argv[2])
assert container.put_archive('/tmp', buf.getvalue())
for cmd in (['pg_restore', '--list', '/tmp/app.pgdump'], ['pg_restore', '--data-only', '-f', '-', '/tmp/app.pgdump']):
    result = container.exec_run(cmd)
    sys.stdout.write(result.output.decode())
    if result.exit_code:
        sys.exit(result.exit_code)
container.exec_run(['rm', '-f', '/tmp/app.pgdump'])
'''


def test_postgres_dump_is_archived_listed_and_restorable(host):
    name = archives(host)[0]
    manifest = json.loads(host.file('%s/%s.manifest.json' % (BACKUPS, name)).content_string)
    assert {'name': 'app.pgdump', 'type': 'postgres', 'container': '%s-postgres' % NAME, 'database': 'app'} in manifest['dumps']
    assert 'dumps/app.pgdump' in [item['path'] for item in manifest['files']]
    dump = '/tmp/molecule-app.pgdump'
    cmd = host.run('tar --zstd -xOf %s/%s dumps/app.pgdump > %s && head -c 5 %s' % (BACKUPS, name, dump, dump))
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout == 'PGDMP'
    cmd = host.run('python3 -c %s %s %s-postgres' % (shlex.quote(PG_RESTORE_SCRIPT), dump, NAME))
    host.run('rm -f %s' % dump)
    assert cmd.rc == 0, cmd.stdout + cmd.stderr
    assert 'TABLE public notes postgres' in cmd.stdout
    assert '1\talpha\n2\tbeta\n3\tgamma\n' in cmd.stdout


# Runs a command in the PostgreSQL container through the Docker SDK (the lab host has no docker CLI);
# a file given as the third argument is copied into the container's /tmp first.
PG_EXEC_SCRIPT = '''
import io, json, os, sys, tarfile, docker
container = docker.from_env().containers.get(sys.argv[1])
if len(sys.argv) > 3:
    data = open(sys.argv[3], 'rb').read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        info = tarfile.TarInfo(os.path.basename(sys.argv[3]))
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert container.put_archive('/tmp', buf.getvalue())
result = container.exec_run(json.loads(sys.argv[2]))
sys.stdout.write(result.output.decode())
sys.exit(result.exit_code)
'''


def pg(host, argv, copy=None):
    cmd = host.run('python3 -c %s %s-postgres %s %s' % (shlex.quote(PG_EXEC_SCRIPT), NAME, shlex.quote(json.dumps(argv)), copy or ''))
    assert cmd.rc == 0, cmd.stdout + cmd.stderr
    return cmd.stdout


def schema(text):
    # pg_dump 15.14 and later fence the script with \restrict and \unrestrict lines holding a random key.
    # The copy kept by prepare is the module's stdout, without the blank lines pg_dump ends with.
    return [line for line in text.strip().splitlines() if not line.startswith(('\\restrict', '\\unrestrict'))]


def test_restore_brought_the_database_back_schema_and_rows(host):
    before = host.file('/var/lib/molecule-schema-before.sql').content_string
    assert 'CREATE TABLE public.notes' in before
    assert schema(pg(host, ['pg_dump', '--schema-only', '-U', 'postgres', 'app'])) == schema(before)
    rows = pg(host, ['psql', '-At', '-U', 'postgres', '-d', 'app', '-c', 'SELECT id, body FROM notes ORDER BY id'])
    assert rows == '1|alpha\n2|beta\n3|gamma\n'
    leftovers = pg(host, ['psql', '-At', '-U', 'postgres', '-c', "SELECT datname FROM pg_database WHERE datname LIKE 'clawd_restore_%'"])
    assert leftovers == ''


def test_postgres_safety_dump_holds_the_migrated_database(host):
    found = [f for f in host.file(BACKUPS + '/safety').listdir() if f.endswith('-app.pgdump')]
    assert len(found) == 1, found
    listing = pg(host, ['pg_restore', '--list', '/tmp/' + found[0]], copy='%s/safety/%s' % (BACKUPS, found[0]))
    assert 'TABLE public schema_version postgres' in listing

# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The monthly security audit's runner: reads the host for each audit check (through _host_audit), judges it
(through _host_audit_judge) and runs the database care. The module only builds its options and calls run_audit.

Its seams: ``run_command(argv) -> (rc, stdout, stderr)``, ``engine()`` (a Docker APIClient, made on first use; None without the SDK),
``read_file(path) -> text``, ``now`` (epoch seconds), ``clock`` (monotonic seconds, for the walk's time limit) and
``version_of(distribution) -> version or None`` (the installed metadata as the module's own Python sees it).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.clawd.ops.plugins.module_utils import _host_audit as read
from ansible_collections.clawd.ops.plugins.module_utils import _host_audit_judge as judge
from ansible_collections.clawd.ops.plugins.module_utils._checks import CRITICAL, OK, UNKNOWN, WARNING, make_result, utc_stamp
from ansible_collections.clawd.ops.plugins.module_utils._requirements import HOST_DISTRIBUTIONS
from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time

AUDIT_CHECKS = ('ports', 'users', 'sudo_rules', 'sshd', 'volume_files', 'security_updates', 'certificate_age', 'credential_age',
                'image_age', 'app_image_age', 'database', 'python_libraries')
PROC_NET = ('tcp', 'tcp6', 'udp', 'udp6')
APT_QUIET = ['-o', 'Acquire::Retries=0', '-o', 'Acquire::http::Timeout=20', '-o', 'Acquire::https::Timeout=20']
VENV_PYTHON_SECONDS = 30  # the virtualenv's Python reads metadata only; a hung one is stopped by timeout(1)
# What psql prints for the size and bloat report: one line per table, fields separated by '|'.
DB_REPORT_SQL = ("SELECT 'database', pg_database_size(current_database()), 0, 0 UNION ALL "
                 "(SELECT relname, pg_total_relation_size(relid), n_live_tup, n_dead_tup FROM pg_stat_user_tables "
                 "ORDER BY n_dead_tup DESC LIMIT 10)")


def read_text(path):
    with open(path, 'r', errors='replace') as handle:
        return handle.read()


class Audit(object):
    """One audit of one host. ``params`` are the module's options (see plugins/modules/host_audit.py)."""

    def __init__(self, params, run_command, engine, now, clock, check_mode=False, read_file=read_text,
                 version_of=read.distribution_version):
        self.params, self.run_command, self._make_engine, self._api = params, run_command, engine, None
        self.version_of = version_of
        self.now, self.clock, self.check_mode, self.read_file = now, clock, check_mode, read_file
        self.at = utc_stamp(parse_time(now, epoch=True))
        self.changed = False

    def run(self):
        results = []
        for check in dict.fromkeys(self.params['checks']):
            try:
                results.append(getattr(self, 'check_' + check)())
            except Exception as exc:  # one check that cannot be read must not hide the others: it is unknown, with why
                results.append(make_result(check, UNKNOWN, 'Failed to audit %s: %s' % (check, exc), measured_at=self.at))
        return results

    # ------------------------------------------------------------ the host's own configuration

    def check_ports(self):
        listeners = []
        for table in PROC_NET:
            try:
                listeners.extend(read.parse_proc_net(self.read_file('/proc/net/' + table), table))
            except (IOError, OSError):
                continue  # no IPv6 on this host
        reachable = read.exposed(listeners, self.params['own_addresses'])
        return judge.ports(read.unexpected_ports(reachable, self.params['expected_ports']), len(reachable), self.at)

    def check_users(self):
        found = read.login_users(read.parse_passwd(self.read_file('/etc/passwd')), self.params['min_uid'])
        return judge.users([dict((key, user[key]) for key in ('name', 'uid', 'shell')) for user in found],
                           self.params['expected_users'], self.at)

    def check_sudo_rules(self):
        rules = read.read_sudoers(self.params['sudoers_path'])
        return judge.sudo_rules(read.unexpected_sudo_rules(rules, self.params['expected_sudo_rules']), len(rules), self.at)

    def check_sshd(self):
        rc, out, err = self.run_command([self.params['sshd_path'], '-T'])
        if rc != 0:
            return judge.sshd(None, self.at, error='%s -T exit %s: %s' % (self.params['sshd_path'], rc, (err or out).strip()[:300]))
        return judge.sshd(read.sshd_drift(read.parse_sshd_t(out), self.params['sshd_expected']), self.at)

    def check_volume_files(self):
        paths = list(self.params['volume_paths'])
        missing = []
        for name in self.params['volumes']:
            path = self._volume_path(name)
            if path:
                paths.append(path)
            else:
                missing.append('volume ' + name)
        found = read.walk(paths, self.params['walk_max_files'], self.params['walk_max_seconds'], self.clock)
        found['missing'] = missing + found['missing']
        return judge.volume_files(found, self.at)

    def _volume_path(self, name):
        engine = self._engine()
        try:
            return engine.inspect_volume(name).get('Mountpoint')
        except Exception:  # a volume that is not there is a finding, not an error
            return None

    # ------------------------------------------------------------ updates, keys, credentials

    def check_security_updates(self):
        refreshed, refresh_error = False, None
        if self.params['updates_refresh'] and not self.check_mode:
            rc, out, err = self.run_command(['apt-get', 'update'] + APT_QUIET)
            problems = [line.strip() for line in (out + '\n' + err).splitlines() if line.startswith(('W:', 'E:', 'Err:'))]
            refreshed = rc == 0 and not problems
            refresh_error = None if refreshed else (problems[0] if problems else 'apt-get update exit %s' % rc)[:300]
        rc, out, err = self.run_command(['apt-get', '-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'])
        if rc != 0:
            return judge.security_updates([], refreshed, refresh_error, None, self.at,
                                          error='apt-get -s dist-upgrade exit %s: %s' % (rc, (err or out).strip()[:300]))
        cves = None
        rc_cve, out_cve, _err = self.run_command(['debsecan', '--only-fixed']) if self.params['debsecan'] else (None, '', '')
        if rc_cve == 0:
            cves = read.parse_debsecan(out_cve)
        return judge.security_updates(read.parse_apt_simulation(out), refreshed, refresh_error, cves, self.at)

    def check_certificate_age(self):
        files = []
        for path in self.params['certificate_files']:
            try:
                entry = {'path': path, 'mtime': os.stat(path).st_mtime}
            except OSError as exc:
                files.append({'path': path, 'error': 'cannot be read (%s)' % (exc.strerror or exc)})
                continue
            not_after = certificate_not_after(path)
            if not_after is not None:
                entry['not_after'] = not_after
            files.append(entry)
        levels = self.params['levels']
        return judge.certificate_ages(files, self.now, levels['certificate_age_warning'], levels['certificate_age_critical'],
                                      levels['certificate_expiry_warning'], levels['certificate_expiry_critical'], self.at)

    def check_credential_age(self):
        levels = self.params['levels']
        return judge.credential_ages(self.params['credential_records'], self.params['credentials'], self.now,
                                     levels['credential_age_warning'], levels['credential_age_critical'], self.at)

    # ------------------------------------------------------------ dependencies

    def _engine(self):
        if self._api is None:
            self._api = self._make_engine() if self._make_engine else None
        if self._api is None:
            raise ValueError('the Docker SDK for Python is not installed on the host')
        return self._api

    def check_image_age(self):
        images = self._engine().images(filters=self.params['image_filters'] or None)
        found = [{'id': item['Id'], 'tags': [tag for tag in item.get('RepoTags') or [] if tag != '<none>:<none>'],
                  'created': item['Created']} for item in images]
        levels = self.params['levels']
        return judge.image_ages('image_age', found, self.now, levels['image_age_warning'], levels['image_age_critical'], self.at)

    def check_app_image_age(self):
        engine, found, missing = self._engine(), {}, []
        for name in self.params['app_containers']:
            try:
                image_id = engine.inspect_container(name)['Image']
            except Exception:  # a missing container is named in the result
                missing.append(name)
                continue
            image = engine.inspect_image(image_id)
            created = parse_time(image.get('Created'))
            found[image_id] = {'id': image_id, 'tags': image.get('RepoTags') or [name],
                               'created': created.timestamp() if created else self.now}
        levels = self.params['levels']
        result = judge.image_ages('app_image_age', list(found.values()), self.now, levels['image_age_warning'],
                                  levels['image_age_critical'], self.at)
        if missing:
            result['reason'] += '; containers not found: %s' % ', '.join(missing)
            result['status'] = UNKNOWN if not found else result['status']
        return result

    def check_python_libraries(self):
        own = read.python_libraries(HOST_DISTRIBUTIONS, self.version_of)
        path = self.params.get('python_venv')
        return judge.python_libraries(own, self._venv_libraries(path) if path else None, self.at)

    def _venv_libraries(self, path):
        python = os.path.join(path, 'bin', 'python')
        if not os.path.isfile(python):
            return {'path': path, 'missing': True}
        names = list(HOST_DISTRIBUTIONS.values())
        rc, out, err = self.run_command(['timeout', str(VENV_PYTHON_SECONDS), python, '-I', '-c', read.PYTHON_VERSIONS_SCRIPT] + names)
        if rc != 0:
            return {'path': path, 'error': '%s exit %s%s: %s' % (python, rc, ' (timed out)' if rc == 124 else '',
                                                                 (err or out or '').strip()[:300])}
        try:
            return dict(read.parse_python_report(out, HOST_DISTRIBUTIONS), path=path)
        except ValueError as exc:
            return {'path': path, 'error': '%s: %s' % (python, exc)}

    # ------------------------------------------------------------ database care

    def check_database(self):
        databases = self.params['databases']
        if not databases:
            return make_result('database', OK, 'no PostgreSQL database configured: nothing to vacuum', measured_at=self.at)
        reports, statuses, notes = [], [], []
        for database in databases:
            report = self._database(database)
            reports.append(report)
            statuses.append(report['status'])
            notes.append('%s: %s' % (database['name'], report['note']))
        status = CRITICAL if CRITICAL in statuses else WARNING if WARNING in statuses else OK
        return make_result('database', status, '; '.join(notes), len(databases), 'databases', measured_at=self.at,
                           details={'databases': reports})

    def _psql(self, database, sql):
        engine = self._engine()
        cmd = ['psql', '-X', '-A', '-t', '-F', '|', '--no-password', '-U', database.get('user') or 'postgres', '-d',
               database['database'], '-c', sql]
        exec_id = engine.exec_create(database['container'], cmd, stdout=True, stderr=True)
        exec_id = exec_id['Id'] if isinstance(exec_id, dict) else exec_id
        out, err = engine.exec_start(exec_id, demux=True)
        code = engine.exec_inspect(exec_id).get('ExitCode')
        if code != 0:
            raise ValueError('psql exit %s: %s' % (code, (err or b'').decode('utf-8', 'replace').strip()[:300]))
        return (out or b'').decode('utf-8', 'replace')

    def _database(self, database):
        report = {'name': database['name'], 'container': database['container'], 'database': database['database']}
        try:
            report.update(parse_db_report(self._psql(database, DB_REPORT_SQL)))
        except Exception as exc:
            return dict(report, status=WARNING, note='size and bloat could not be read (%s)' % exc)
        dead = self.params['levels']['database_dead_ratio_warning']
        bloated = [table['table'] for table in report['tables'] if table['dead_ratio'] >= dead]
        if self.check_mode:
            report.update(status=WARNING if bloated else OK, vacuumed=False)
            return dict(report, note='%d bytes; VACUUM ANALYZE would run (check mode)%s' % (
                report['size_bytes'], '; bloated: ' + ', '.join(bloated) if bloated else ''))
        try:
            self._psql(database, 'VACUUM ANALYZE')
        except Exception as exc:
            return dict(report, status=CRITICAL, vacuumed=False, note='VACUUM ANALYZE failed (%s)' % exc)
        self.changed = True
        return dict(report, status=OK, vacuumed=True, note='%d bytes; VACUUM ANALYZE done%s' % (
            report['size_bytes'], ' (bloated before: %s)' % ', '.join(bloated) if bloated else ''))


def parse_db_report(text):
    """{size_bytes, tables: [{table, bytes, live, dead, dead_ratio (%)}]} from the psql lines of DB_REPORT_SQL."""
    size, tables = None, []
    for line in text.splitlines():
        fields = line.strip().split('|')
        if len(fields) != 4:
            continue
        name, total, live, dead = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
        if name == 'database' and size is None:
            size = total
            continue
        ratio = round(100.0 * dead / (live + dead), 1) if live + dead else 0.0
        tables.append({'table': name, 'bytes': total, 'live': live, 'dead': dead, 'dead_ratio': ratio})
    if size is None:
        raise ValueError('psql printed no database size')
    return {'size_bytes': size, 'tables': tables}


def certificate_not_after(path):
    """A PEM certificate's notAfter in epoch seconds; None for a key, a file that is not PEM, or without cryptography."""
    try:
        from cryptography import x509
        with open(path, 'rb') as handle:
            data = handle.read(1 << 20)
        if b'BEGIN CERTIFICATE' not in data:
            return None
        cert = x509.load_pem_x509_certificate(data)
        moment = getattr(cert, 'not_valid_after_utc', None) or parse_time(cert.not_valid_after.isoformat())
        return moment.timestamp()
    except Exception:  # no cryptography, or not a certificate: the file's age is still judged
        return None

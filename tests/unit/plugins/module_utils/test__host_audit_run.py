# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The monthly audit's runner with a fake host: commands, files and the engine are stand-ins, the clock is frozen."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.clawd.ops.plugins.module_utils import _host_audit_run as run

BOOKWORM = {'docker': '5.0.3', 'requests': '2.28.1+dfsg', 'zstandard': '0.20.0', 'cryptography': '38.0.4'}
NOW = 1796612400.0  # 2026-12-07T03:00:00Z
LEVELS = dict(image_age_warning=90, image_age_critical=365, credential_age_warning=90, credential_age_critical=180,
              certificate_age_warning=365, certificate_age_critical=730, certificate_expiry_warning=21, certificate_expiry_critical=7,
              database_dead_ratio_warning=20)


def params(**over):
    base = dict(checks=list(run.AUDIT_CHECKS), expected_ports=['22', '443'], own_addresses=['127.1.1.208'], expected_users=['deploy'],
                min_uid=1000, sudoers_path='/nonexistent/sudoers', expected_sudo_rules=[], sshd_path='/usr/sbin/sshd',
                sshd_expected={}, volumes=[], volume_paths=[], walk_max_files=100, walk_max_seconds=10, updates_refresh=True,
                debsecan=True, certificate_files=[], credentials=[], credential_records=[], app_containers=[], image_filters={},
                databases=[], levels=dict(LEVELS), python_venv='')
    base.update(over)
    return base


class Commands(object):
    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, argv):
        self.calls.append(argv)
        for prefix, answer in self.answers:
            if argv[:len(prefix)] == prefix:
                return answer
        return 127, '', '%s is not installed' % argv[0]


class Engine(object):
    def __init__(self, images=(), volumes=None, exec_answers=()):
        self._images, self.volumes, self.exec_answers, self.execs = list(images), volumes or {}, list(exec_answers), []

    def images(self, filters=None):
        return self._images

    def inspect_volume(self, name):
        if name not in self.volumes:
            raise KeyError(name)
        return {'Mountpoint': self.volumes[name]}

    def exec_create(self, container, cmd, stdout=True, stderr=True):
        self.execs.append((container, cmd))
        return {'Id': 'exec%d' % len(self.execs)}

    def exec_start(self, exec_id, demux=True):
        self.code, out = self.exec_answers.pop(0)
        return out.encode(), b'psql: error' if self.code else None

    def exec_inspect(self, exec_id):
        return {'ExitCode': self.code}


def audit(checks, commands=None, engine=None, check_mode=False, files=None, version_of=None, **over):
    files = files or {}

    def read_file(path):
        if path not in files:
            raise IOError(2, 'No such file', path)
        return files[path]
    return run.Audit(params(checks=checks, **over), commands or Commands([]), (lambda: engine) if engine else None, NOW,
                     lambda: 0.0, check_mode=check_mode, read_file=read_file,
                     version_of=version_of or BOOKWORM.get)


def test_a_check_that_raises_is_unknown_with_the_reason_and_the_others_still_run():
    results = audit(['users', 'ports'], files={'/proc/net/tcp': 'h\n 0: 00000000:1538 00000000:0000 0A x\n'}).run()
    assert [(item['check'], item['status']) for item in results] == [('users', 'unknown'), ('ports', 'critical')]
    assert 'Failed to audit users' in results[0]['reason']


def test_security_updates_lists_not_refreshed_in_the_lab_is_a_warning_and_check_mode_never_refreshes():
    apt_sim = (0, 'Inst libssl3 [1] (2 Debian-Security:12/stable-security [amd64])\n', '')
    commands = Commands([(['apt-get', 'update'], (0, 'Err:1 http://deb.debian.org bookworm InRelease\n', 'W: Failed to fetch')),
                         (['apt-get', '-s'], apt_sim)])
    result = audit(['security_updates'], commands).run()[0]
    assert result['status'] == 'warning' and 'could not refresh' in result['reason'] and 'CVE ids unknown' in result['reason']
    assert result['details']['packages'] == [{'package': 'libssl3', 'candidate': '2', 'cves': 'unknown'}]
    quiet = Commands([(['apt-get', '-s'], (0, '', ''))])
    checked = audit(['security_updates'], quiet, check_mode=True).run()[0]
    assert [call[:2] for call in quiet.calls] == [['apt-get', '-s'], ['debsecan', '--only-fixed']]
    assert checked['status'] == 'ok'


def test_sshd_t_failure_is_unknown():
    result = audit(['sshd'], Commands([(['/usr/sbin/sshd'], (1, '', 'no hostkeys available'))])).run()[0]
    assert result['status'] == 'unknown' and 'no hostkeys' in result['reason']


def test_volume_files_walks_the_volumes_mountpoints_and_names_a_missing_volume(tmp_path):
    suid = tmp_path / 'suid'
    suid.write_text('x')
    os.chmod(str(suid), 0o4755)
    engine = Engine(volumes={'workspace': str(tmp_path)})
    result = audit(['volume_files'], engine=engine, volumes=['workspace', 'gone']).run()[0]
    assert result['status'] == 'critical' and str(suid) in result['reason'] and 'volume gone' in result['reason']


def test_image_age_from_the_engines_created_epoch():
    engine = Engine(images=[{'Id': 'sha256:old', 'RepoTags': ['old:1'], 'Created': NOW - 400 * 86400},
                            {'Id': 'sha256:new', 'RepoTags': None, 'Created': NOW}])
    result = audit(['image_age'], engine=engine).run()[0]
    assert result['status'] == 'critical' and result['details']['old'] == [{'id': 'sha256:old', 'tags': ['old:1'], 'age_days': 400}]


def test_database_none_configured_is_ok_and_nothing_runs():
    assert audit(['database']).run()[0]['reason'].startswith('no PostgreSQL database configured')


DB = {'name': 'app', 'container': 'pg', 'database': 'app'}
REPORT = 'database|9000|0|0\nmessages|4000|60|40\nusers|1000|10|0\n'


def test_database_size_bloat_and_vacuum_analyze():
    engine = Engine(exec_answers=[(0, REPORT), (0, 'VACUUM')])
    the_audit = audit(['database'], engine=engine, databases=[DB])
    result = the_audit.run()[0]
    assert result['status'] == 'ok' and the_audit.changed
    assert engine.execs[1][1][-1] == 'VACUUM ANALYZE' and engine.execs[1][0] == 'pg'
    report = result['details']['databases'][0]
    assert report['size_bytes'] == 9000
    assert report['tables'][0] == {'table': 'messages', 'bytes': 4000, 'live': 60, 'dead': 40, 'dead_ratio': 40.0}
    assert 'bloated before: messages' in result['reason']


def test_database_check_mode_reports_without_vacuum():
    engine = Engine(exec_answers=[(0, REPORT)])
    the_audit = audit(['database'], engine=engine, databases=[DB], check_mode=True)
    result = the_audit.run()[0]
    assert len(engine.execs) == 1 and not the_audit.changed
    assert result['status'] == 'warning' and 'would run' in result['reason']


def test_database_vacuum_failure_is_critical():
    engine = Engine(exec_answers=[(0, REPORT), (1, '')])
    assert audit(['database'], engine=engine, databases=[DB]).run()[0]['status'] == 'critical'


def test_db_report_without_a_size_line_is_refused():
    with pytest.raises(ValueError):
        run.parse_db_report('nothing\n')


def venv_answer(boto3='1.35.10'):
    return (0, json.dumps({'executable': '/venv/bin/python', 'version': '3.11.2', 'libraries': dict(BOOKWORM, boto3=boto3)}) + '\n', '')


def test_python_libraries_is_audited_and_reads_the_virtualenv_with_a_bounded_run_of_its_python(tmp_path):
    assert 'python_libraries' in run.AUDIT_CHECKS
    python = tmp_path / 'bin' / 'python'
    python.parent.mkdir()
    python.write_text('')
    commands = Commands([(['timeout'], venv_answer())])
    the_audit = audit(['python_libraries'], commands, python_venv=str(tmp_path), check_mode=True)
    result = the_audit.run()[0]
    assert result['status'] == 'ok', result['reason']
    assert not the_audit.changed
    argv = commands.calls[0]
    assert argv[:3] == ['timeout', '30', str(python)] and argv[3:5] == ['-I', '-c']
    assert sorted(argv[6:]) == ['boto3', 'cryptography', 'docker', 'requests', 'zstandard']
    assert result['details']['venv']['libraries']['boto3'] == '1.35.10'


def test_python_libraries_without_the_virtualenv_boto3_is_critical_and_nothing_runs(tmp_path):
    commands = Commands([])
    result = audit(['python_libraries'], commands, python_venv=str(tmp_path / 'gone')).run()[0]
    assert result['status'] == 'critical' and 'boto3 missing: no virtualenv' in result['reason'] and commands.calls == []


def test_python_libraries_a_virtualenv_python_that_fails_is_unknown_with_why(tmp_path):
    (tmp_path / 'bin').mkdir()
    (tmp_path / 'bin' / 'python').write_text('')
    commands = Commands([(['timeout'], (124, '', ''))])
    result = audit(['python_libraries'], commands, python_venv=str(tmp_path)).run()[0]
    assert result['status'] == 'unknown' and 'exit 124' in result['reason']
    garbled = audit(['python_libraries'], Commands([(['timeout'], (0, 'hello\n', ''))]), python_venv=str(tmp_path)).run()[0]
    assert garbled['status'] == 'unknown'


def test_python_libraries_of_the_modules_own_python_come_from_the_injected_reader():
    result = audit(['python_libraries'], version_of={'docker': '4.4.4', 'boto3': '1.34.1'}.get).run()[0]
    assert result['status'] == 'critical'
    assert 'docker 4.4.4 is older than 5.0' in result['reason'] and 'requests missing' in result['reason']

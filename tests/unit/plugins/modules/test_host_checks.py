# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host_checks module run in-process, against a fake Docker Engine API on a Unix socket (conftest's docker_engine)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import pytest

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import host_checks


def attrs(status='running', restarts=0):
    return {'RestartCount': restarts, 'State': {'Status': status, 'ExitCode': 0 if status == 'running' else 137, 'StartedAt': 'x'}}


@pytest.fixture
def engine(docker_engine):
    """The fake engine (conftest) with a running web and a bot restarted twice, and their log lines."""
    docker_engine.add('web', attrs(), ['1 INFO 127.0.0.1 "GET /health" 200', '2 ERROR boom token 123:SECRET', '3 INFO 127.0.0.1 "GET /" 503'])
    docker_engine.add('bot', attrs(restarts=2))
    return docker_engine


def by_check(result):
    return dict((r['check'], r) for r in result['results'])


def test_every_check_in_one_call(engine, results):
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'containers': ['web', 'bot'], 'cpu_sample_seconds': 0.05, 'dns_names': ['localhost'],
                                       'secrets': ['123:SECRET']}) == 0
    found = by_check(results[0])
    assert [r['check'] for r in results[0]['results']] == list(host_checks.daily.HOST_CHECKS)
    assert found['containers']['status'] == 'ok'
    assert found['container_restarts']['value'] == 2 and found['container_restarts']['status'] == 'warning'
    assert found['logs_errors']['value'] == 1 and 'SECRET' not in found['logs_errors']['details']['last_line']
    assert found['error_rate']['value'] == 50.0 and found['error_rate']['status'] == 'critical'
    assert results[0]['requests'] == {'total': 2, 'client_errors': 0, 'server_errors': 1}
    assert found['dns']['status'] == 'ok'
    for check in ('disk', 'memory', 'cpu'):
        assert found[check]['status'] in ('ok', 'warning', 'critical') and found[check]['unit'] == '%'
    assert results[0]['changed'] is False


def test_a_stopped_and_a_missing_container_are_critical(engine, results):
    engine.add('bot', attrs(status='exited'))
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': ['containers'], 'containers': ['web', 'bot', 'backup']}) == 0
    result = results[0]['results'][0]
    assert result['status'] == 'critical' and result['value'] == 2
    assert 'bot is exited (exit code 137)' in result['reason'] and 'backup does not exist' in result['reason']


def test_thresholds_turn_the_disk_critical(engine, results):
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': ['disk'], 'thresholds': {'disk': {'warning': 0, 'critical': 0}}}) == 0
    assert results[0]['results'][0]['status'] == 'critical'


def test_engine_unreachable_makes_docker_checks_unknown(tmp_path, results):
    nowhere = 'unix://%s' % (tmp_path / 'docker.sock')
    assert run_main(host_checks.main, {'docker_host': nowhere, 'checks': ['containers', 'logs_errors', 'memory'], 'containers': ['web']}) == 0
    found = by_check(results[0])
    assert found['containers']['status'] == 'unknown' and 'cannot ask the Docker engine at %s' % nowhere in found['containers']['reason']
    assert found['logs_errors']['status'] == 'unknown'
    assert found['memory']['status'] != 'unknown'


def test_an_engine_error_makes_docker_checks_unknown_naming_it(engine, results):
    engine.status = 500
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': ['containers'], 'containers': ['web']}) == 0
    assert results[0]['results'][0]['status'] == 'unknown' and 'engine says no' in results[0]['results'][0]['reason']


def test_a_docker_host_that_is_not_a_socket_or_plain_tcp_fails_naming_it(results):
    assert run_main(host_checks.main, {'docker_host': 'https://engine.example.com', 'checks': ['containers']}) == 1
    assert results[0]['msg'].startswith('Invalid options: docker_host must be')


def test_bad_thresholds_and_patterns_fail_with_a_message(engine, results):
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'thresholds': {'disk': {'warning': 'lots'}}}) == 1
    assert results[0]['msg'].startswith('Invalid options: thresholds: disk.warning')
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'patterns': {'errors': '('}}) == 1
    assert 'not a regular expression' in results[1]['msg']


# ---------------------------------------------------------------- the backup, verified in the same call


def backup_archive(folder, when, compression='gzip'):
    from ansible_collections.clawd.ops.plugins.module_utils._backup_format import archive_name
    from ansible_collections.clawd.ops.tests.unit.plugins.module_utils.backup_fixtures import build_archive, sample_members
    return build_archive(str(folder / archive_name('claudebox', when, '1.0.0', compression)), sample_members(), compression=compression)


def test_the_backup_is_verified_in_the_same_call_as_backup_verify_does(tmp_path, engine, results):
    from ansible_collections.clawd.ops.plugins.modules import backup_verify
    backup_archive(tmp_path, 1795456200 - 86400)
    newest = backup_archive(tmp_path, 1795456200)
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': ['memory'], 'backup': {'path': str(tmp_path), 'max_age': '176400'}}) == 0
    assert run_main(backup_verify.main, {'path': str(tmp_path), 'max_age': '176400'}) in (0, 1)
    merged, alone = results[0], results[1]
    assert merged['failed'] is False and [r['check'] for r in merged['results']] == ['memory']
    backup = merged['backup']
    assert backup['archive'] == newest['path'] and backup['created'] == alone['created']
    assert [(c['name'], c['ok']) for c in backup['checks']] == [(c['name'], c['ok']) for c in alone['checks']]
    left_out = set(alone) - set(backup)
    assert left_out <= {'manifest', 'unsafe_members', 'spot_check', 'warnings'}, left_out
    assert alone['failed'] == backup.get('failed', False) and alone.get('msg') == backup.get('msg')


def test_a_missing_backup_is_a_result_not_a_failure_of_the_module(tmp_path, engine, results):
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': [], 'backup': {'path': str(tmp_path), 'pattern': '*.tar.zst'}}) == 0
    backup = results[0]['backup']
    assert backup['failed'] is True and backup['archive'] is None
    assert backup['msg'] == 'Backup verification failed: no archive matching *.tar.zst in %s' % tmp_path
    assert backup['checks'] == [{'name': 'exists', 'ok': False, 'reason': 'no archive matching *.tar.zst in %s' % tmp_path}]


def test_the_backup_runs_the_same_in_check_mode(tmp_path, engine, results):
    backup_archive(tmp_path, 1795456200)
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': [], 'backup': {'path': str(tmp_path)}, '_ansible_check_mode': True}) == 0
    assert results[0]['backup']['ok'] is True and results[0]['changed'] is False


def test_a_bad_backup_max_age_fails_with_a_message(tmp_path, engine, results):
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': [], 'backup': {'path': str(tmp_path), 'max_age': 'soon'}}) == 1
    assert results[0]['msg'].startswith('Invalid options: backup.max_age:')


def test_without_the_backup_option_there_is_no_backup_key(engine, results):
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': ['memory']}) == 0
    assert 'backup' not in results[0]


def test_the_maintenance_marker_is_read_in_the_same_call(tmp_path, engine, results):
    marker = tmp_path / 'maintenance.json'
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': [], 'maintenance_path': str(marker)}) == 0
    assert results[-1]['maintenance'] == {}  # no file: no window
    marker.write_text('{"maintenance": true}')
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': [], 'maintenance_path': str(marker), '_ansible_check_mode': True}) == 0
    read = results[-1]['maintenance']
    assert read['source'] == str(marker) and base64.b64decode(read['content']) == b'{"maintenance": true}'
    assert run_main(host_checks.main, {'docker_host': engine.docker_host, 'checks': ['memory']}) == 0 and 'maintenance' not in results[-1]

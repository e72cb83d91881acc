# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The standard-library reader of the Docker Engine API, against a fake engine on a Unix socket (conftest's docker_engine)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import struct
import subprocess
import sys

import pytest

from ansible_collections.clawd.ops.plugins.module_utils._containers import DockerSource
from ansible_collections.clawd.ops.plugins.module_utils._docker_engine import EngineError, EngineNotFound, EngineReader, demultiplex


def running(restarts=0):
    return {'RestartCount': restarts, 'State': {'Status': 'running', 'ExitCode': 0, 'StartedAt': '2026-12-08T01:00:00Z'}}


def test_inspect_returns_the_engines_json(docker_engine):
    docker_engine.add('web', running(restarts=2))
    attrs = EngineReader(docker_engine.docker_host).inspect_container('web')
    assert attrs['RestartCount'] == 2 and attrs['State']['Status'] == 'running'


def test_logs_of_a_container_without_tty_are_demultiplexed_stdout_and_stderr_in_order(docker_engine):
    docker_engine.add('web', running(), ['GET /health 200', (2, 'ERROR boom'), 'GET / 503'])
    reader = EngineReader(docker_engine.docker_host)
    assert reader.logs('web', stdout=True, stderr=True, timestamps=True, since=1796690000) == b'GET /health 200\nERROR boom\nGET / 503\n'
    assert reader.logs('web', stdout=False, stderr=True) == b'ERROR boom\n'
    logs_request = [r for r in docker_engine.requests if '/logs' in r][0]
    assert 'timestamps=1' in logs_request and 'since=1796690000' in logs_request and 'until' not in logs_request


def test_logs_of_a_tty_container_are_its_raw_stream(docker_engine):
    docker_engine.add('shell', running(), ['\x01\x00\x00\x00 looks like a frame header, is not one'], tty=True)
    assert EngineReader(docker_engine.docker_host).logs('shell') == b'\x01\x00\x00\x00 looks like a frame header, is not one\n'


def test_a_missing_container_is_not_found_with_the_engines_message(docker_engine):
    reader = EngineReader(docker_engine.docker_host)
    with pytest.raises(EngineNotFound, match='No such container: ghost'):
        reader.inspect_container('ghost')
    with pytest.raises(EngineNotFound):
        reader.logs('ghost')


def test_an_engine_error_names_the_request_and_the_status(docker_engine):
    docker_engine.status = 500
    with pytest.raises(EngineError, match=r'GET /containers/web/json: 500 .*engine says no') as caught:
        EngineReader(docker_engine.docker_host).inspect_container('web')
    assert not isinstance(caught.value, EngineNotFound)


def test_an_engine_that_does_not_answer_is_an_error_naming_it(tmp_path):
    host = 'unix://%s' % (tmp_path / 'nothing.sock')
    with pytest.raises(EngineError, match='cannot ask the Docker engine at %s' % host):
        EngineReader(host).inspect_container('web')


def test_an_answer_over_the_limit_is_refused_not_read(docker_engine):
    docker_engine.add('web', running(), ['x' * 1000] * 20)
    with pytest.raises(EngineError, match='over 0 MiB'):
        EngineReader(docker_engine.docker_host, max_bytes=4096).logs('web')


def test_only_a_unix_socket_or_plain_tcp_is_taken():
    EngineReader('tcp://127.0.0.1:2375')
    for host in ('https://engine.example.com', 'unix://', 'ssh://root@host', 'var/run/docker.sock'):
        with pytest.raises(ValueError, match='docker_host must be'):
            EngineReader(host)


@pytest.mark.parametrize('raw, message', [
    (struct.pack('>BxxxL', 1, 5) + b'ab', None),  # a short last frame: what came is kept
    (b'\x01\x00\x00', 'ends inside a frame header'),
    (b'\x07\x00\x00\x00\x00\x00\x00\x01x', 'not multiplexed'),
    (b'\x01\x00\x01\x00\x00\x00\x00\x01x', 'not multiplexed'),
])
def test_a_broken_stream_is_an_error_not_garbage(raw, message):
    if message is None:
        assert demultiplex(raw) == b'ab'
    else:
        with pytest.raises(EngineError, match=message):
            demultiplex(raw)


def test_docker_source_reads_states_and_new_lines_through_the_reader(docker_engine):
    docker_engine.add('web', running(), ['2026-12-08T01:00:01.000000001Z GET /health 200'])
    source = DockerSource(EngineReader(docker_engine.docker_host), since=1796690000, not_found=(EngineNotFound,))
    assert source.states(['web', 'ghost'])['ghost'] is None
    assert source.lines_by_container(['web', 'ghost']) == {'web': ['GET /health 200']}
    assert docker_engine.requests.count('/containers/web/json') == 1  # the logs call reuses what inspect found (no TTY)


def test_host_checks_imports_neither_the_docker_sdk_nor_requests():
    # host_checks runs on every host every day: those imports were a quarter of its CPU there.
    code = ('import sys; from ansible_collections.clawd.ops.plugins.modules import host_checks; '
            'print(sorted(m for m in ("docker", "requests", "urllib3") if m in sys.modules))')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    found = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=False, env=env)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == '[]'

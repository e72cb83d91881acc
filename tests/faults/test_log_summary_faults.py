# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app_log_summary module, run as Ansible runs it, against real containers of the real Docker engine: the lines of the
sample app's noise told apart, a token in a line masked, a 10 MB line, binary junk and a flood of lines read within
bounds, and a container that the kernel's OOM killer really killed.

Containers are made from the local base image (no pull), carry the label clawd.test.owner=<test id> and are removed
afterwards. Each test waits for its containers to exit (docker wait), never for a time."""

import json
import subprocess
import uuid

import pytest

from test_disk_reclaim_faults import docker, run_module

IMAGE = 'clawd-lab-base'
TOKEN = '987654321:AAFakeTokenForTheFaultTestsOnly_0123456'

NOISE = r'''
import sys
out = sys.stdout
for i in range(20):
    out.write('2026-12-06T00:00:00Z ERROR upstream request failed: simulated error\n')
for i in range(5):
    out.write('2026-12-06T00:00:00Z WARNING unauthorized request rejected from 127.0.0.1 (simulated)\n')
for i in range(7):
    out.write('2026-12-06T00:00:00Z WARNING rate limit exceeded for api.telegram.org (simulated)\n')
for i in range(3):
    out.write('2026-12-06T00:00:00Z ERROR getMe failed: HTTP 401 Unauthorized (POST /bot%s/getMe)\n')
out.write('2026-12-06T00:00:00Z ERROR ' + 'y' * (10 * 1024 * 1024) + '\n')
out.flush()
sys.stdout.buffer.write(bytes(range(256)) * 4096 + b'\n')
out.write('2026-12-06T00:00:00Z INFO done\n')
''' % TOKEN


@pytest.fixture
def owner():
    ident = 'a2-%s' % uuid.uuid4().hex[:8]
    yield ident
    for container in docker('ps', '-aq', '--filter', 'label=clawd.test.owner=%s' % ident).split():
        subprocess.run(['docker', 'rm', '-f', container], check=False, capture_output=True)


def run_container(owner, name, command, *options):
    """A container of the base image that runs command to its end; its name."""
    full = 'clawd-test-%s-%s' % (owner, name)
    docker('run', '-d', '--network', 'none', '--label', 'clawd.test.owner=%s' % owner, '--name', full, *options, IMAGE, *command)
    docker('wait', full)
    return full


def test_the_kinds_of_a_real_log_with_a_huge_line_and_junk_within_bounds(owner, tmp_path):
    noisy = run_container(owner, 'noisy', ['python3', '-c', NOISE])
    result = run_module('app_log_summary', {'containers': [noisy], 'since': '1h'}, tmp_path)
    assert not result.get('failed'), result
    counts = dict((kind['kind'], kind['count']) for kind in result['kinds'])
    # the 10 MB line is an ERROR line too (Docker stores it in pieces of 16 KiB; only the first piece is judged whole)
    assert counts['rate_limit'] == 7 and counts['unauthorized'] == 5 and counts['unauthorized_upstream'] == 3
    assert counts['error'] >= 21
    assert result['upstream_key_rejected'] is True
    assert TOKEN.split(':')[1] not in json.dumps(result)
    assert result['per_container'][noisy]['status'] == 'exited'
    assert result['truncated'] is False

    cut = run_module('app_log_summary', {'containers': [noisy], 'since': '1h', 'max_bytes': 1024 * 1024}, tmp_path)
    assert cut['truncated'] is True and cut['cut'][noisy].startswith('read ')
    assert cut['per_container'][noisy]['kinds']['rate_limit'] == 7


def test_a_flood_of_lines_is_read_to_max_lines_the_newest(owner, tmp_path):
    flood = run_container(owner, 'flood', ['python3', '-c',
                                           "import sys\nfor i in range(30000): sys.stdout.write('ERROR line %d\\n' % i)\n"
                                           "sys.stdout.write('INFO the last line\\n')"])
    result = run_module('app_log_summary', {'containers': [flood], 'max_lines': 1000}, tmp_path)
    assert result['total_lines'] == 1000 and result['error_lines'] == 999
    assert result['cut'] == {flood: 'the newest 1000 lines (max_lines) were read; older lines of the window were not'}
    assert result['kinds'][0]['example'] == 'ERROR line 29999'


def test_a_container_the_oom_killer_killed(owner, tmp_path):
    oom = run_container(owner, 'oom', ['python3', '-c', "print('INFO allocating', flush=True); a = bytearray(256 * 1024 * 1024)"],
                        '--memory', '16m', '--memory-swap', '16m')
    if docker('inspect', '-f', '{{.State.OOMKilled}}', oom) != 'true':
        pytest.skip('this engine does not report OOM kills')
    quiet = run_container(owner, 'quiet', ['true'])
    result = run_module('app_log_summary', {'containers': [oom, quiet]}, tmp_path)
    assert result['oom_killed'] == [oom]
    assert result['per_container'][oom]['exit_code'] == 137 and result['per_container'][oom]['oom_killed'] is True

# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""clawd-schedule (roles/schedule/files/clawd_schedule.py) on its own: a run logged and its failure sent, the lock,
pause and resume, the rotation of the logs, list; the bot token never in what it writes. The clock is frozen."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import fcntl
import importlib.util
import json
import os
import sys
import threading

from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

PROGRAM = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'schedule', 'files', 'clawd_schedule.py'))
TOKEN = '123456:AAsecret-token-never-written'


@pytest.fixture
def program(monkeypatch):
    spec = importlib.util.spec_from_file_location('clawd_schedule', PROGRAM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ticks = iter(range(10000))
    monkeypatch.setattr(module, 'now', lambda: datetime.datetime(2026, 12, 6, 7, 30, tzinfo=datetime.timezone.utc)
                        + datetime.timedelta(seconds=next(ticks)))
    return module


@pytest.fixture
def telegram():
    """A Bot API sendMessage on loopback that records what it is sent and answers with `status`."""
    state = {'sent': [], 'status': 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # pylint: disable=invalid-name
            length = int(self.headers['Content-Length'])
            state['sent'].append((self.path, parse_qs(self.rfile.read(length).decode())))
            self.send_response(state['status'])
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args):  # pylint: disable=arguments-differ
            pass

    server = HTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state['base'] = 'http://127.0.0.1:%d' % server.server_address[1]
    yield state
    server.shutdown()
    server.server_close()


def configure(tmp_path, telegram, command, keep=3):
    notify = tmp_path / 'notify.json'
    notify.write_text(json.dumps({'telegram_api_base': telegram['base'], 'telegram_bot_token': TOKEN, 'telegram_chat_id': '-100'}))
    return {
        'log_dir': str(tmp_path / 'log'), 'log_keep': keep, 'state_dir': str(tmp_path / 'state'), 'notify_file': str(notify),
        'notify_tail_lines': 5,
        'runbooks': {
            'daily_checks': {'command': command, 'environment': {'CLAWD_X': 'y'}, 'chdir': '', 'schedule': '30 7 * * *', 'paused': False},
            'weekly': {'command': ['true'], 'environment': {}, 'chdir': '', 'schedule': '0 3 * * 0', 'paused': True},
        },
    }


def written(tmp_path):
    return ''.join(p.read_text() for p in tmp_path.rglob('*') if p.is_file() and p.name != 'notify.json')


def test_a_failed_run_is_logged_and_sent_without_the_token(program, telegram, tmp_path):
    config = configure(tmp_path, telegram, [sys.executable, '-c', 'import os; print("checking", os.environ["CLAWD_X"]); raise SystemExit(2)'])
    assert program.run(config, 'daily_checks') == 2
    logs = sorted((tmp_path / 'log' / 'daily_checks').glob('run-*.log'))
    assert [p.name for p in logs] == ['run-20261206T073000.000000Z.log']
    assert 'checking y' in logs[0].read_text()
    assert json.loads((tmp_path / 'state' / 'daily_checks.last.json').read_text())['rc'] == 2
    (path, form), = telegram['sent']
    assert path == '/bot%s/sendMessage' % TOKEN
    assert form['chat_id'] == ['-100']
    assert form['text'][0].startswith('clawd.ops: the scheduled run of daily_checks on ')
    assert 'failed (exit 2).' in form['text'][0] and 'checking y' in form['text'][0]
    assert 'notified: the failure was sent to Telegram chat -100' in written(tmp_path)
    assert TOKEN not in written(tmp_path)


def test_a_successful_run_sends_nothing(program, telegram, tmp_path):
    assert program.run(configure(tmp_path, telegram, ['true']), 'daily_checks') == 0
    assert telegram['sent'] == []


def test_a_refused_message_is_journaled_without_the_token(program, telegram, tmp_path):
    telegram['status'] = 401
    program.run(configure(tmp_path, telegram, ['false']), 'daily_checks')
    assert 'notify failed: Telegram sendMessage: 401' in written(tmp_path)
    assert TOKEN not in written(tmp_path)


def test_a_command_that_cannot_start_fails_the_run(program, telegram, tmp_path):
    assert program.run(configure(tmp_path, telegram, ['/nonexistent/ansible-playbook']), 'daily_checks') == 127
    assert 'Failed to start /nonexistent/ansible-playbook: No such file or directory' in written(tmp_path)


def test_one_run_at_a_time(program, telegram, tmp_path):
    config = configure(tmp_path, telegram, ['false'])
    os.makedirs(config['state_dir'])
    with open(os.path.join(config['state_dir'], 'daily_checks.lock'), 'a') as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert program.run(config, 'daily_checks') == 0
    assert 'skipped: the previous run still holds the lock' in written(tmp_path)
    assert not list((tmp_path / 'log' / 'daily_checks').glob('run-*.log'))
    assert telegram['sent'] == []


def test_pause_and_resume(program, telegram, tmp_path):
    config = configure(tmp_path, telegram, ['false'])
    os.makedirs(config['state_dir'])
    assert program.pause(config, 'daily_checks', True) == 0
    assert program.run(config, 'daily_checks') == 0
    assert 'skipped: paused' in written(tmp_path) and telegram['sent'] == []
    assert program.pause(config, 'daily_checks', False) == 0
    assert program.run(config, 'daily_checks') == 1
    assert program.pause(config, 'nope', True) == 2


def test_only_the_newest_logs_are_kept(program, telegram, tmp_path):
    config = configure(tmp_path, telegram, ['true'], keep=2)
    for _run in range(4):
        program.run(config, 'daily_checks')
    names = sorted(p.name for p in (tmp_path / 'log' / 'daily_checks').glob('run-*.log'))
    assert names == ['run-20261206T073008.000000Z.log', 'run-20261206T073012.000000Z.log']  # 4 clock reads a run


def test_list(program, telegram, tmp_path, capsys):
    config = configure(tmp_path, telegram, ['false'])
    program.run(config, 'daily_checks')
    capsys.readouterr()
    assert program.listing(config) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows['daily_checks'].split()[6:] == ['active', '2026-12-06T07:30:00+00:00', 'exit', '1']
    assert rows['weekly'].split()[6:] == ['paused', '-']


def test_an_unknown_runbook_is_named(program, telegram, tmp_path, capsys):
    assert program.run(configure(tmp_path, telegram, ['true']), 'nope') == 2
    assert 'No runbook nope is scheduled (known: daily_checks, weekly)' in capsys.readouterr().err
